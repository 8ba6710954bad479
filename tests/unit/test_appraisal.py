"""The appraisal helpers: eligibility's overall judgement and the readers' kappa, risk of bias's overall
rules and kappa, the reviews' comparison and the search's recall, and the PRISMA flow's counts."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from fbss_evidence import bias, eligibility, prisma, reviews


def judged(rows):
    return pd.DataFrame(
        [dict(result_id=r, criterion=c, judgement=j, reason=f"{c} reason", decided_by="agreed") for r, c, j in rows]
    )


def test_the_overall_judgement_is_the_worst_criterion_with_its_reasons():
    table = judged(
        [
            ("a", "population", "matches"),
            ("a", "outcome", "matches"),
            ("b", "population", "indirect"),
            ("b", "outcome", "matches"),
            ("c", "population", "indirect"),
            ("c", "outcome", "does_not_match"),
        ]
    )
    found = eligibility.overall(table).set_index("result_id")
    assert found["eligibility"].to_dict() == {"a": "matches", "b": "indirect", "c": "does_not_match"}
    assert found.loc["b", "eligibility_reason"] == "population indirect: population reason"
    assert pd.isna(found.loc["a", "eligibility_reason"])


def test_the_overall_judgement_when_everything_matches():
    found = eligibility.overall(judged([("a", "population", "matches"), ("a", "outcome", "matches")]))
    assert found["eligibility"].tolist() == ["matches"]


def test_which_analysis_a_judgement_enters():
    judgements = pd.Series(["matches", "indirect", "does_not_match"])
    assert eligibility.enters(judgements, "primary").tolist() == [True, False, False]
    assert eligibility.enters(judgements, "sensitivity").tolist() == [True, True, False]
    with pytest.raises(ValueError):
        eligibility.enters(judgements, "both")


def wide(rows):
    return pd.DataFrame(rows, columns=["result_id", "population", "intervention", "outcome", "followup"])


def test_kappa_is_one_for_perfect_agreement_and_counts_what_was_agreed():
    first = wide(
        [
            ("a", "matches", "matches", "indirect", "indirect"),
            ("b", "indirect", "matches", "matches", "matches"),
            ("c", "matches", "does_not_match", "matches", "matches"),
        ]
    )
    table = eligibility.agreement(first, first).set_index("criterion")
    assert (table["kappa"] == 1).all() and (table["agreed"] == 3).all()
    second = first.assign(population=["indirect", "indirect", "matches"])
    table = eligibility.agreement(first, second).set_index("criterion")
    assert table.loc["population", "agreed"] == 2 and table.loc["population", "kappa"] < 1
    one_category = eligibility.agreement(first.assign(outcome="matches"), first.assign(outcome="matches"))
    assert math.isnan(one_category.set_index("criterion").loc["outcome", "kappa"])  # undefined, not 1


def test_kappa_by_hand():
    # 10 items: both say yes 4, both no 4, 1 yes/no, 1 no/yes: po = 0.8, pe = 0.5, kappa = 0.6.
    first = pd.DataFrame(
        dict(study_id=[f"s{i}" for i in range(10)], item="J1", tool_1="jbi_prevalence", answer=["yes"] * 5 + ["no"] * 5)
    )
    rows1 = first.rename(columns={"tool_1": "tool"})
    rows2 = rows1.assign(answer=["yes"] * 4 + ["no"] + ["yes"] + ["no"] * 4)
    table = bias.agreement(rows1, rows2)
    assert table["kappa"].iloc[0] == pytest.approx(0.6) and table["agreed"].iloc[0] == 8


@pytest.mark.parametrize(
    "tool, answers, expected",
    [
        ("rob2", ["low"] * 5, "low"),
        ("rob2", ["low"] * 4 + ["some_concerns"], "some_concerns"),
        ("rob2", ["low"] * 4 + ["high"], "high"),
        ("jbi_prevalence", ["yes"] * 9, "low"),
        ("jbi_prevalence", ["yes"] * 7 + ["unclear"] * 2, "low"),
        ("jbi_prevalence", ["yes"] * 6 + ["unclear"] * 3, "some_concerns"),
        ("jbi_prevalence", ["yes"] * 8 + ["no"], "some_concerns"),  # a 'no' on J9, not a core item
        ("jbi_prevalence", ["yes"] * 4 + ["no"] + ["yes"] * 4, "high"),  # a 'no' on J5
        ("jbi_prevalence", ["no"] * 3 + ["yes"] * 6, "high"),  # three 'no's
    ],
)
def test_the_overall_risk_of_bias_rules(tool, answers, expected):
    items = [f"D{i}" for i in range(1, 6)] if tool == "rob2" else [f"J{i}" for i in range(1, 10)]
    assert bias.judge(tool, dict(zip(items, answers))) == expected


def pooled(low, estimate, high):
    return SimpleNamespace(ci_low=low, estimate=estimate, ci_high=high, pi_low=math.nan, pi_high=math.nan)


def test_reviews_beside_the_estimate_and_when_they_lie_apart():
    table = pd.DataFrame(
        [
            dict(
                review_id="r1",
                question_id="q",
                citation="A 2020, J",
                pmid="123",
                doi=None,
                url_seen="https://x.org",
                compare_group="5y",
                followup="",
                k=5,
                n_patients=100,
                estimate=8.0,
                ci_low=6.0,
                ci_high=10.0,
                difference_reason="crude shares",
                arithmetic_note=None,
            ),
            dict(
                review_id="r2",
                question_id="q",
                citation="B 2021, J",
                pmid=None,
                doi="10.1000/x",
                url_seen="https://y.org",
                compare_group="all",
                followup="",
                k=None,
                n_patients=None,
                estimate=30.0,
                ci_low=None,
                ci_high=None,
                difference_reason=None,
                arithmetic_note=None,
            ),
            dict(
                review_id="r3",
                question_id="q",
                citation="C 2022, J",
                pmid=None,
                doi=None,
                url_seen="https://z.org",
                compare_group=None,
                followup="",
                k=None,
                n_patients=None,
                estimate=12.0,
                ci_low=None,
                ci_high=None,
                difference_reason=None,
                arithmetic_note=None,
            ),
        ]
    )
    primary = {"q": SimpleNamespace(pooled={"5y": pooled(12.0, 15.0, 18.0)})}
    sensitivity = {"q": SimpleNamespace(pooled={"5y": pooled(12.0, 15.0, 18.0), "all": pooled(25.0, 32.0, 40.0)})}
    found = reviews.comparison(table, primary, sensitivity).set_index("review_id")
    assert list(found.index) == ["r1", "r2"]  # r3 names no group to compare with
    assert found.loc["r1", "analysis"] == "primary" and found.loc["r1", "apart"]
    assert found.loc["r2", "analysis"] == "sensitivity" and not found.loc["r2", "apart"]
    assert found.loc["r1", "link"] == "https://pubmed.ncbi.nlm.nih.gov/123/"
    assert found.loc["r2", "link"] == "https://doi.org/10.1000/x"
    assert reviews.unexplained(found.reset_index()).empty
    assert len(reviews.unexplained(found.reset_index().assign(difference_reason=None))) == 1


def test_apart_means_no_overlap():
    assert reviews.apart((1, 2), (3, 4)) and reviews.apart((3, 4), (1, 2))
    assert not reviews.apart((1, 3), (3, 4)) and not reviews.apart((2, 2), (1, 3))


def test_recall_counts_the_reviews_listed_studies_the_search_had_found():
    ref = pd.DataFrame(
        [
            dict(review_id="r", question_id="q", included_study="A 2001", status="in_studies"),
            dict(review_id="r", question_id="q", included_study="B 2002", status="in_screening"),
            dict(review_id="r", question_id="q", included_study="C 2003", status="new_result"),
            dict(review_id="r", question_id="q", included_study="D 2004", status="not_found"),
            dict(review_id="s", question_id="q", included_study=None, status="not_listed"),
        ]
    )
    found = reviews.recall(ref, pd.DataFrame(dict(question_id=["q", "other"]))).set_index("question_id")
    assert found.loc[
        "q", ["reviews", "reviews_with_a_list", "listed", "found_by_search", "added", "not_found"]
    ].tolist() == [2, 1, 4, 2, 1, 1]
    assert found.loc["q", "recall"] == 50 and math.isnan(found.loc["other", "recall"])


def test_the_flow_counts_queries_records_exclusions_and_studies():
    log = pd.DataFrame(dict(question_id=["q", "q", "p"], results_returned=[8, 8, 5], records_read=[8, 3, 5]))
    screening = pd.DataFrame(dict(question_id=["q", "q", "p"], reason=["other", "not_found_in_stored_copies", "other"]))
    results = pd.DataFrame(dict(question_id=["q", "q", "p"], study_id=["a", "a", "b"]))
    flow = prisma.flow(log, screening, results, "q")
    assert flow == dict(
        question_id="q",
        queries=2,
        identified=16,
        not_read=5,
        read=11,
        excluded=1,
        not_retrieved=1,
        included_studies=1,
        included_results=2,
    )
    assert prisma.flow(log, screening, results)["included_studies"] == 2
