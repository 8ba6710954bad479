"""fbss_evidence.literature and the study-result rules of fbss_evidence.synthesis: what is pooled, where
each claim falls, how certain each estimate is. Small made-up tables, then the real data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fbss_evidence import literature, stats, synthesis
from fbss_evidence.dataset import Dataset, load_dataset

NA = np.nan


def _result(
    rid,
    study,
    *,
    group="5y",
    events=NA,
    n=NA,
    percent=None,
    basis="stated",
    flags="",
    question="q",
    months=60.0,
    arm="all",
    subgroup="all",
):
    if percent is None:
        percent = round(100 * events / n, 1)
    return dict(
        result_id=f"{study}--{question}--{rid}",
        study_id=study,
        question_id=question,
        arm=arm,
        population_subgroup=subgroup,
        outcome_definition="reoperation",
        timepoint_text="t",
        timepoint_months=months,
        timepoint_group=group,
        events=events,
        n=n,
        percent=percent,
        ci_low=NA,
        ci_high=NA,
        count_basis=basis,
        source_location="abstract",
        url_seen="https://x.org/a",
        pmid=NA,
        doi=NA,
        flags=flags or NA,
        extracted_by="both",
        notes=NA,
    )


def _study(study_id, design="retrospective cohort", cohort=None, year=None, author=None):
    return dict(
        study_id=study_id,
        first_author=author or study_id.split("-")[0].title(),
        year=year or study_id[-4:],
        title="t",
        journal="j",
        pmid=NA,
        pmcid=NA,
        doi=NA,
        design=design,
        setting=NA,
        n_enrolled=NA,
        cohort_id=cohort or study_id,
        url_seen="https://x.org/s",
        lookup_status="found",
        notes=NA,
    )


def _question(pool_by="timepoint_group", headline="5y", indirectness="none", notes=NA):
    return dict(
        question_id="q",
        label="Q",
        question="?",
        population="p",
        outcome="o",
        followup="f",
        pool_by=pool_by,
        headline_group=headline,
        indirectness=indirectness,
        notes=notes,
    )


def _appraisal(study_id, answer="yes") -> list[dict]:
    """A JBI prevalence appraisal of one study, every item answered `answer`."""
    return [
        dict(study_id=study_id, tool="jbi_prevalence", item=f"J{i}", answer=answer, quote=NA, decided_by="agreed")
        for i in range(1, 10)
    ]


def _data(results, studies, question=None, links=None, claims=None, eligibility=None, risk_of_bias=None) -> Dataset:
    return Dataset(
        sources=pd.DataFrame(),
        texts={},
        claims=claims if claims is not None else pd.DataFrame(),
        references=pd.DataFrame(),
        studies=pd.DataFrame(studies),
        questions=pd.DataFrame([question or _question()]),
        links=links if links is not None else pd.DataFrame(columns=["claim_id", "question_id"]),
        results=pd.DataFrame(results),
        eligibility=eligibility,
        risk_of_bias=pd.DataFrame(risk_of_bias) if risk_of_bias is not None else None,
    )


STUDIES = [
    _study("alpha-2001"),
    _study("beta-2002"),
    _study("gamma-2003"),
    _study("delta-2004", design="systematic review"),
    _study("eps-2005", cohort="alpha-2001", year="2005"),
]


def _reasons(result) -> dict:
    return {r.study_id + ":" + r.result_id.split("--")[-1]: r.reason_code for r in result.rows.itertuples()}


def test_three_counted_studies_are_pooled_and_the_pool_is_the_stats_pool():
    data = _data(
        [
            _result(1, "alpha-2001", events=10, n=100),
            _result(1, "beta-2002", events=30, n=120),
            _result(1, "gamma-2003", events=5, n=80),
        ],
        STUDIES,
    )
    result = literature.synthesise(data, "q", method="DL")
    assert list(result.pooled) == ["5y"]
    direct = stats.pool_proportions([10, 30, 5], [100, 120, 80], method="DL")
    pooled = result.pooled["5y"]
    assert sorted(pooled.studies["total"]) == [80, 100, 120]
    assert pooled.estimate == pytest.approx(direct.estimate) and pooled.i2 == pytest.approx(direct.i2)
    assert result.rows["reason_code"].isna().all()
    assert set(result.leave_one_out["5y"]["left_out"]) == {"Alpha 2001", "Beta 2002", "Gamma 2003"}


def test_every_result_left_out_has_its_reason():
    data = _data(
        [
            _result(1, "alpha-2001", events=10, n=100),
            _result(1, "beta-2002", events=30, n=120),
            _result(2, "beta-2002", percent=20.0),  # no n: no counts
            _result(1, "delta-2004", events=50, n=400),  # a review
            _result(1, "eps-2005", events=12, n=90),  # alpha's cohort again
            _result(1, "gamma-2003", group="10y", events=9, n=60, months=120),  # alone in its group
        ],
        STUDIES,
    )
    result = literature.synthesise(data, "q")
    assert _reasons(result) == {
        "alpha-2001:1": None,
        "beta-2002:1": None,
        "beta-2002:2": "no_counts",
        "delta-2004:1": "review",
        "eps-2005:1": "same_cohort",
        "gamma-2003:1": "too_few",
    }
    assert (
        result.rows.set_index("study_id").loc["eps-2005", "reason"]
        == "the same cohort (alpha-2001) as Alpha 2001, which stands for it"
    )
    assert set(result.rows["reason_code"].dropna()) <= set(synthesis.RESULT_REASONS)


def test_derived_counts_enter_only_when_asked_and_say_so():
    rows = [
        _result(1, "alpha-2001", percent=10.0, n=200, basis="kaplan_meier"),
        _result(1, "beta-2002", events=24, n=120, basis="derived_from_percent", percent=20.0),
        _result(1, "gamma-2003", events=5, n=80),
    ]
    with_derived = literature.synthesise(_data(rows, STUDIES), "q")
    assert with_derived.pooled["5y"].k == 3
    note = with_derived.rows.set_index("study_id")["count_note"]
    assert "Kaplan-Meier" in note["alpha-2001"] and "overstates precision" in note["alpha-2001"]
    assert with_derived.rows.set_index("study_id").loc["alpha-2001", "pool_events"] == 20
    without = literature.synthesise(_data(rows, STUDIES), "q", include_derived_counts=False)
    assert _reasons(without) == {
        "alpha-2001:1": "derived_excluded",
        "beta-2002:1": "derived_excluded",
        "gamma-2003:1": "too_few",
    }
    assert without.pooled == {}


def test_a_cohort_is_represented_by_its_stated_result_nearest_the_group_time():
    rows = [
        _result(1, "alpha-2001", percent=12.0, n=1000, basis="kaplan_meier", months=48),
        _result(2, "alpha-2001", percent=13.0, n=1000, basis="kaplan_meier", months=60),
        _result(3, "beta-2002", events=10, n=100, months=60),
        _result(4, "beta-2002", percent=11.0, n=100, basis="kaplan_meier", months=60),
    ]
    result = literature.synthesise(_data(rows, STUDIES), "q")
    kept = set(result.pooled_rows["5y"]["result_id"])
    assert kept == {"alpha-2001--q--2", "beta-2002--q--3"}


def test_an_as_treated_analysis_gives_way_to_the_randomised_one():
    rows = [
        _result(1, "alpha-2001", events=17, n=46, flags="crossover"),
        _result(2, "alpha-2001", events=34, n=72, flags="as_treated;crossover"),
        _result(1, "beta-2002", events=9, n=19),
    ]
    result = literature.synthesise(_data(rows, STUDIES), "q")
    assert set(result.pooled_rows["5y"]["result_id"]) == {"alpha-2001--q--1", "beta-2002--q--1"}


def test_a_success_share_enters_as_its_complement_and_is_marked():
    rows = [
        _result(1, "alpha-2001", events=70, n=100, flags="success_not_failure"),
        _result(1, "beta-2002", events=30, n=120),
    ]
    result = literature.synthesise(_data(rows, STUDIES), "q")
    alpha = result.rows.set_index("study_id").loc["alpha-2001"]
    assert alpha["percent"] == pytest.approx(30) and alpha["pool_events"] == 30 and alpha["complemented"]


def test_a_question_that_is_not_pooled_refuses_everything_with_its_own_reason():
    question = _question(pool_by="not_pooled", headline=NA, notes="definitions differ")
    rows = [_result(1, "alpha-2001", events=10, n=100), _result(1, "beta-2002", events=30, n=120)]
    result = literature.synthesise(_data(rows, STUDIES, question), "q")
    assert result.pooled == {}
    assert set(result.rows["reason"]) == {"the question is not pooled: definitions differ"}


def _claims(*specs):
    rows = []
    for cid, value, bound, compare, comparable in specs:
        low, high = value if bound == "range" else (NA, NA)
        rows.append(
            dict(
                claim_id=cid,
                question_id="q",
                compare_with=compare,
                comparable=comparable,
                note="n",
                value=NA if bound == "range" else value,
                value_low=low,
                value_high=high,
                bound=bound,
                value_text=str(value),
                basis="cited_study",
                source="Page",
                study="S 2000",
                study_figure=NA,
            )
        )
    return pd.DataFrame(rows)


def test_claims_fall_inside_above_or_below_the_prediction_interval():
    rows = [
        _result(i, s, events=e, n=100)
        for i, (s, e) in enumerate([("alpha-2001", 10), ("beta-2002", 14), ("gamma-2003", 20)], start=1)
    ]
    result = literature.synthesise(_data(rows, STUDIES), "q", method="DL")
    pooled = result.pooled["5y"]
    assert math.isfinite(pooled.pi_low)
    claims = _claims(
        ("inside", pooled.estimate, "exact", NA, "yes"),
        ("above", pooled.pi_high + 1, "exact", NA, "yes"),
        ("below", max(pooled.pi_low - 0.5, 0), "upper", NA, "yes"),
        ("range", (pooled.pi_low - 1, pooled.pi_high + 1), "range", NA, "yes"),
        ("other", 3, "exact", NA, "no"),
    )
    placed = literature.place_claims(result, claims).set_index("claim_id")
    assert placed["placement"].to_dict() == {
        "inside": "inside",
        "above": "above",
        "below": "below",
        "range": "overlaps",
        "other": "not_comparable",
    }
    assert placed.loc["inside", "vs_ci"] == "inside" and placed.loc["above", "vs_ci"] == "above"
    assert placed.loc["other", "why"] == "n"


def test_with_two_studies_a_claim_is_set_against_the_confidence_interval():
    rows = [_result(1, "alpha-2001", events=10, n=100), _result(1, "beta-2002", events=14, n=100)]
    result = literature.synthesise(_data(rows, STUDIES), "q")
    high = result.pooled["5y"].ci_high
    placed = literature.place_claims(result, _claims(("c", high + 5, "exact", NA, "yes")))
    assert placed["placement"].tolist() == ["above_ci"]


def test_a_claim_of_a_group_with_nothing_pooled_says_where_the_studies_lie():
    rows = [_result(1, "alpha-2001", events=10, n=100), _result(1, "beta-2002", percent=30.0)]
    result = literature.synthesise(_data(rows, STUDIES), "q")
    placed = literature.place_claims(result, _claims(("c", 50, "exact", NA, "yes")))
    assert placed["placement"].tolist() == ["not_comparable"]
    assert "nothing pooled in 5y" in placed["why"].iloc[0]
    assert "outside the range of the studies' figures (10-30%)" in placed["why"].iloc[0]


def test_studies_that_agree_on_one_figure_are_no_range():
    rows = [_result(1, "alpha-2001", percent=30.0), _result(1, "beta-2002", percent=30.0)]
    result = literature.synthesise(_data(rows, STUDIES), "q")
    placed = literature.place_claims(result, _claims(("c", 30, "exact", NA, "yes"), ("d", 50, "exact", NA, "yes")))
    assert "The claim lies at the studies' figure (30%)." in placed["why"].iloc[0]
    assert "The claim lies away from the studies' figure (30%)." in placed["why"].iloc[1]
    assert "30-30%" not in " ".join(placed["why"])


def test_certainty_starts_high_and_each_downgrade_says_why():
    consistent = [
        _result(i, s, events=e, n=n)
        for i, (s, e, n) in enumerate(
            [("alpha-2001", 100, 1000), ("beta-2002", 101, 1000), ("gamma-2003", 99, 1000)], start=1
        )
    ]
    low_risk = [a for s in ("alpha-2001", "beta-2002", "gamma-2003") for a in _appraisal(s)]
    result = literature.synthesise(_data(consistent, STUDIES, risk_of_bias=low_risk), "q")
    assert literature.certainty(result, "5y")["certainty"] == "high"
    scattered = [
        _result(i, s, events=e, n=n)
        for i, (s, e, n) in enumerate([("alpha-2001", 5, 40), ("beta-2002", 20, 40), ("gamma-2003", 35, 40)], start=1)
    ]
    # Two of the three at high risk of bias (a "no" on every item), the third low: most of the weight is high.
    risky = _appraisal("alpha-2001", "no") + _appraisal("beta-2002", "no") + _appraisal("gamma-2003")
    result = literature.synthesise(
        _data(scattered, STUDIES, _question(indirectness="serious", notes="definitions differ"), risk_of_bias=risky),
        "q",
    )
    grade = literature.certainty(result, "5y")
    assert grade["certainty"] == "very low"
    assert grade["risk_of_bias_downgrade"] == 2 and grade["inconsistency_downgrade"] == 2
    assert grade["imprecision_downgrade"] == 1 and grade["indirectness_downgrade"] == 1
    assert "I\u00b2" in grade["reasons"] and "high risk of bias" in grade["reasons"]
    assert "definitions differ" in grade["reasons"]


def test_a_study_not_appraised_counts_as_high_risk():
    consistent = [
        _result(i, s, events=e, n=n)
        for i, (s, e, n) in enumerate(
            [("alpha-2001", 100, 1000), ("beta-2002", 101, 1000), ("gamma-2003", 99, 1000)], start=1
        )
    ]
    grade = literature.certainty(literature.synthesise(_data(consistent, STUDIES), "q"), "5y")
    assert grade["risk_of_bias_downgrade"] == 2 and "not appraised" in grade["reasons"]


def test_studies_with_some_concerns_lower_the_certainty_by_one():
    consistent = [
        _result(i, s, events=e, n=n)
        for i, (s, e, n) in enumerate(
            [("alpha-2001", 100, 1000), ("beta-2002", 101, 1000), ("gamma-2003", 99, 1000)], start=1
        )
    ]
    # Two of three with an unclear answer on three items: some concerns (bias.judge), the third low.
    concerns = [
        dict(a, answer="unclear") if a["item"] in ("J2", "J4", "J5") else a
        for s in ("alpha-2001", "beta-2002")
        for a in _appraisal(s)
    ] + _appraisal("gamma-2003")
    grade = literature.certainty(literature.synthesise(_data(consistent, STUDIES, risk_of_bias=concerns), "q"), "5y")
    assert grade["risk_of_bias_downgrade"] == 1 and "some concerns" in grade["reasons"]


def _judged(result_ids, judgement="matches", criterion="population") -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(
                result_id=r,
                criterion=c,
                judgement=judgement if c == criterion else "matches",
                reason="r",
                decided_by="agreed",
            )
            for r in result_ids
            for c in ("population", "intervention", "outcome", "followup")
        ]
    )


def test_the_primary_analysis_pools_only_results_that_match_every_criterion():
    rows = [
        _result(i, s, events=e, n=100)
        for i, (s, e) in enumerate([("alpha-2001", 10), ("beta-2002", 12), ("gamma-2003", 40)], start=1)
    ]
    ids = [r["result_id"] for r in rows]
    judged = pd.concat([_judged(ids[:2]), _judged(ids[2:], "indirect")], ignore_index=True)
    primary = literature.synthesise(_data(rows, STUDIES, eligibility=judged), "q")
    sensitivity = literature.synthesise(_data(rows, STUDIES, eligibility=judged), "q", analysis="sensitivity")
    assert primary.pooled["5y"].k == 2 and sensitivity.pooled["5y"].k == 3
    refused = primary.rows.set_index("result_id").loc[ids[2]]
    assert refused["reason_code"] == "indirect" and "population indirect: r" in refused["reason"]
    assert primary.table()["analysis"].tolist() == ["primary"]
    assert literature.certainty(sensitivity, "5y")["indirectness_downgrade"] == 1


def test_a_result_that_does_not_match_is_in_neither_analysis():
    rows = [
        _result(i, s, events=e, n=100)
        for i, (s, e) in enumerate([("alpha-2001", 10), ("beta-2002", 12), ("gamma-2003", 40)], start=1)
    ]
    ids = [r["result_id"] for r in rows]
    judged = pd.concat([_judged(ids[:2]), _judged(ids[2:], "does_not_match", "outcome")], ignore_index=True)
    sensitivity = literature.synthesise(_data(rows, STUDIES, eligibility=judged), "q", analysis="sensitivity")
    assert sensitivity.pooled["5y"].k == 2
    assert sensitivity.rows.set_index("result_id").loc[ids[2], "reason_code"] == "not_eligible"


def test_summary_of_findings_has_a_row_per_pooled_group_and_per_unpooled_question():
    rows = [
        _result(1, "alpha-2001", events=10, n=100),
        _result(1, "beta-2002", events=14, n=100),
        _result(2, "alpha-2001", events=20, n=100, group="10y", months=120),
        _result(2, "beta-2002", events=24, n=100, group="10y", months=120),
    ]
    pooled = literature.synthesise(_data(rows, STUDIES), "q")
    unpooled = literature.synthesise(
        _data(rows, STUDIES, _question(pool_by="not_pooled", headline=NA, notes="too different")), "q"
    )
    table = literature.summary_of_findings([pooled, unpooled], {})
    assert list(table.columns) == literature.SOF_COLUMNS
    assert table["group"].tolist() == ["5y", "10y", ""]
    assert table["certainty"].iloc[2] == "not pooled" and table["reasons"].iloc[2] == "too different"
    assert table["pooled"].iloc[0] == round(pooled.pooled["5y"].estimate, 1)


# -- the real data --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real():
    return load_dataset()


def test_every_question_has_results_and_every_result_is_pooled_or_refused(real):
    for question_id in real.questions["question_id"]:
        result = literature.synthesise(real, question_id)
        assert len(result.rows), question_id
        pooled = {i for rows in result.pooled_rows.values() for i in rows["result_id"]}
        refused = set(result.rows.loc[result.rows["reason_code"].notna(), "result_id"])
        assert pooled | refused == set(result.rows["result_id"]) and not pooled & refused


def test_the_literature_meets_its_targets(real):
    # The targets: 30 results from 20 studies; 4 questions pooled from 2 or more (better 3) studies.
    assert len(real.results) >= 30 and real.results["study_id"].nunique() >= 20
    pooled = [q for q in real.questions["question_id"] if literature.synthesise(real, q).pooled]
    assert len(pooled) >= 4
    # Since eligibility is judged per criterion, the primary analysis pools only direct evidence; the
    # sensitivity analysis (with the indirect results) keeps the earlier target of 3 studies for 4 questions.
    with_indirect = [literature.synthesise(real, q, analysis="sensitivity") for q in real.questions["question_id"]]
    three = [s for s in with_indirect if s.pooled and max(r.k for r in s.pooled.values()) >= 3]
    assert len(three) >= 4


def test_the_pages_headline_numbers_each_have_their_evidence(real):
    from fbss_evidence import evidence

    claims = evidence.enrich(real)
    placements = {
        q: literature.place_claims(literature.synthesise(real, q), literature.linked_claims(claims, real.links, q))
        for q in real.questions["question_id"]
    }
    headline = literature.headline_claims(placements, claims)
    # 20-40% fail, PRP 71.2%, the explant reasons, opioid elimination after a pump, repeat operations, 91% on opioids
    for claim_id in (
        "centeno-schultz-fbss-01",
        "caring-prolotherapy-fbss-46",
        "caring-prolotherapy-fbss-19",
        "caring-prolotherapy-fbss-35",
        "centeno-schultz-fbss-17",
        "centeno-schultz-fbss-15",
    ):
        assert claim_id in set(headline["claim_id"]), claim_id
    assert headline["evidence"].notna().all() and (headline["evidence"] != "").all()
