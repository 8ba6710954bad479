"""The bad-input corpus of the evidence-appraisal tables (eligibility, risk of bias, the published
reviews and their included studies) and of the links and labels a reader sees: each break is refused
with its exact, located message, through `fbss-validate --data <copy of data/>`."""

from __future__ import annotations

import pytest
from test_validate_literature import _rows, _write, mutate, run

from fbss_evidence import validate

RESULT = "adogwa-2019--opioid-use-after-fusion--1"


def test_every_result_is_judged_on_every_criterion(data, capsys):
    path = data / "literature" / "eligibility.csv"
    header, rows = _rows(path)
    _write(path, header, [r for r in rows if not (r["result_id"] == RESULT and r["criterion"] == "outcome")])
    line = next(i for i, r in enumerate(_rows(data / "results.csv")[1]) if r["result_id"] == RESULT) + 2
    assert run(capsys) == [
        f"data/results.csv:{line}: result_id: {RESULT} has no 'outcome' judgement in "
        "data/literature/eligibility.csv: every result is judged on population, intervention, "
        "outcome and followup"
    ]


def test_a_judgement_twice_and_a_judgement_of_a_result_that_is_gone(data, capsys):
    path = data / "literature" / "eligibility.csv"
    header, rows = _rows(path)
    rows.append(dict(rows[0]))
    rows.append(dict(rows[0], result_id="gone-2001--q--1"))
    _write(path, header, rows)
    n = len(rows)
    first = rows[0]
    assert run(capsys) == [
        f"data/literature/eligibility.csv:{n}: criterion: the key (result_id, criterion) = ({first['result_id']}, "
        f"{first['criterion']}) is already on an earlier row: each must be unique",
        f"data/literature/eligibility.csv:{n + 1}: result_id: 'gone-2001--q--1' is not a known result_id (see "
        "data/results.csv): a row may only point at one that exists",
    ]


def test_a_judgement_outside_the_vocabulary(data, capsys):
    line = mutate(data / "literature" / "eligibility.csv", "result_id", RESULT, judgement="partly")
    assert run(capsys) == [
        f"data/literature/eligibility.csv:{line}: judgement: 'partly' is not allowed; use one of: "
        "matches, indirect, does_not_match"
    ]


def test_a_subgroup_never_stands_for_everyone(data, capsys):
    line = mutate(data / "results.csv", "result_id", RESULT, population_subgroup="all")
    assert run(capsys) == [
        f"data/results.csv:{line}: population_subgroup: arm 'women' is a subgroup: it may enter "
        "only a group defined for it (population_subgroup 'women'), never 'all'"
    ]


def test_risk_of_bias_items_answers_and_tools(data, capsys):
    path = data / "literature" / "risk_of_bias.csv"
    header, rows = _rows(path)
    rct = next(i for i, r in enumerate(rows) if r["study_id"] == "north-2005" and r["item"] == "D1")
    cohort = next(i for i, r in enumerate(rows) if r["study_id"] == "weir-2017" and r["item"] == "J9")
    rows[cohort]["answer"] = "low"
    rows = [r for r in rows if not (r["study_id"] == "weir-2017" and r["item"] == "J1")]
    _write(path, header, rows)
    cohort_line = next(i for i, r in enumerate(rows) if r["study_id"] == "weir-2017" and r["item"] == "J9") + 2
    first_weir = next(i for i, r in enumerate(rows) if r["study_id"] == "weir-2017") + 2
    assert sorted(run(capsys)) == sorted(
        [
            f"data/literature/risk_of_bias.csv:{cohort_line}: answer: 'low' is not an answer of jbi_prevalence "
            "(yes, no, unclear, not_applicable)",
            f"data/literature/risk_of_bias.csv:{first_weir}: item: weir-2017 lacks item(s) J1 of jbi_prevalence",
        ]
    )
    del rct


def test_a_randomised_trial_is_appraised_with_rob2(data, capsys):
    line = mutate(data / "studies.csv", "study_id", "weir-2017", design="RCT")
    rows = _rows(data / "literature" / "risk_of_bias.csv")[1]
    first = next(i for i, r in enumerate(rows) if r["study_id"] == "weir-2017") + 2
    assert run(capsys) == [
        f"data/literature/risk_of_bias.csv:{first}: tool: weir-2017 is a randomised trial: appraise it with rob2"
    ]
    del line


def test_a_review_row_must_point_at_a_question_and_a_review_that_exist(data, capsys):
    line = mutate(data / "literature" / "reviews.csv", "review_id", "burch-2020-review", question_id="no-such-q")
    ref = mutate(
        data / "literature" / "reference_reviews.csv", "review_id", "ling-2021-review", review_id="gone-2020-review"
    )
    assert sorted(run(capsys)) == sorted(
        [
            f"data/literature/reviews.csv:{line}: question_id: 'no-such-q' is not a known question_id (see "
            "data/questions.csv): a row may only point at one that exists",
            f"data/literature/reference_reviews.csv:{ref}: review_id: 'gone-2020-review' is not a known review_id (see "
            "data/literature/reviews.csv): a row may only point at one that exists",
        ]
    )


def test_a_review_count_is_whole(data, capsys):
    line = mutate(data / "literature" / "reviews.csv", "review_id", "burch-2020-review", k="55.5")
    assert run(capsys) == [f"data/literature/reviews.csv:{line}: k: 55.5 is not a whole number: k counts"]


def test_a_count_is_finite_and_a_minimum_of_one_is_not_called_negative(data, capsys):
    infinite = mutate(data / "literature" / "reviews.csv", "review_id", "burch-2020-review", n_patients="inf")
    zero = mutate(data / "literature" / "reviews.csv", "review_id", "kuo-2022-review", k="0")
    assert sorted(run(capsys)) == sorted(
        [
            f"data/literature/reviews.csv:{infinite}: n_patients: 'inf' is not a finite number: every number is finite",
            f"data/literature/reviews.csv:{zero}: k: 0 is below the minimum 1",
        ]
    )


@pytest.mark.parametrize(
    "url, message",
    [
        (
            "https://pubmed.ncbi.nlm.nih.gov./18981888",
            "'pubmed.ncbi.nlm.nih.gov.' is a malformed PubMed or doi.org host",
        ),
        ("https://pubmed.ncbi.nlm.nih.gov/abc/", "a PubMed link must be pubmed.ncbi.nlm.nih.gov/<PMID>/"),
        ("https://doi.org/not-a-doi", "a doi.org link must be doi.org/10.<registrant>/<suffix>"),
    ],
)
def test_malformed_pubmed_and_doi_links_are_refused(data, capsys, url, message):
    line = mutate(data / "results.csv", "result_id", RESULT, url_seen=url)
    problems = run(capsys)
    assert len(problems) == 1 and problems[0].startswith(f"data/results.csv:{line}: url_seen: {message}")


def test_well_formed_links_pass():
    for url in (
        "https://pubmed.ncbi.nlm.nih.gov/18981888/",
        "http://www.pubmed.gov/32569762/",
        "https://www.ncbi.nlm.nih.gov/pubmed/21816683",
        "https://doi.org/10.1097/j.pain.0000000000001202",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC6232722",
        "https://example.org/a ; https://dx.doi.org/10.1097/x",
    ):
        assert validate.url_problem(url) is None, url


def test_a_study_with_results_is_labelled_by_author_and_year_not_by_its_identifier(data, capsys):
    line = mutate(data / "studies.csv", "study_id", "unattributed-pmc6232722", lookup_status="found")
    assert run(capsys) == [
        f"data/studies.csv:{line}: first_author: unattributed-pmc6232722 has results but no first author (nor journal "
        "and year), so its label would be its identifier: give them, or set lookup_status unidentified if no page "
        "shows them"
    ]


def test_a_reviews_listed_study_is_recorded_once(data, capsys):
    path = data / "literature" / "reference_reviews.csv"
    header, rows = _rows(path)
    listed = next(r for r in rows if r["included_study"])
    _write(path, header, [*rows, dict(listed)])
    assert run(capsys) == [
        f"data/literature/reference_reviews.csv:{len(rows) + 2}: included_study: the key (review_id, included_study) = "
        f"({listed['review_id']}, {listed['included_study']}) is already on an earlier row: each must be unique"
    ]


def test_an_audit_row_naming_no_reference_gets_one_message(data, capsys):
    claim = _rows(data / "citation_audit.csv")[1][0]["claim_id"]
    line = mutate(data / "citation_audit.csv", "claim_id", claim, ref_id="gone-r1")
    assert run(capsys) == [
        f"data/citation_audit.csv:{line}: ref_id: 'gone-r1' is not a known ref_id (see data/references.csv): a row "
        "may only point at one that exists"
    ]
