"""fbss_evidence.evidence: enrichment, grades, audit categories, counts and selections."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fbss_evidence import evidence, vocab
from fbss_evidence.dataset import Dataset, load_dataset

NA = np.nan


def _claim(
    claim_id,
    source_id,
    *,
    basis="cited_study",
    ref_id=None,
    topic="recurrence",
    measure="rate",
    value=10.0,
    value_text="10%",
    bound="exact",
    finding_id=None,
    value_low=NA,
    value_high=NA,
    intervention=None,
    timepoint=None,
    outcome="recurrence",
):
    return dict(
        claim_id=claim_id,
        source_id=source_id,
        value_text=value_text,
        value=value,
        value_low=value_low,
        value_high=value_high,
        bound=bound,
        unit="percent",
        measure=measure,
        numerator=NA,
        denominator=NA,
        topic=topic,
        intervention=intervention,
        outcome=outcome,
        population="adults",
        timepoint=timepoint,
        basis=basis,
        ref_id=ref_id,
        finding_id=finding_id or claim_id,
    )


@pytest.fixture
def small() -> Dataset:
    """Two pages, three references (one of unknown design), five claims."""
    sources = pd.DataFrame({"source_id": ["p1", "p2"], "label": ["Page One", "Page Two"]})
    references = pd.DataFrame(
        {
            "ref_id": ["p1-r1", "p1-r2", "p2-r1"],
            "citation_as_printed": ["Klessinger S. ...", "De Andres J, et al. ...", "Lebow RL. ..."],
            "study_id": ["klessinger-2012", "de-2017", "lebow-x"],
        }
    )
    studies = pd.DataFrame(
        {
            "study_id": ["klessinger-2012", "de-2017", "lebow-x"],
            "first_author": ["Klessinger S", "De Andres J", "Lebow RL"],
            "year": ["2012", "2017", ""],
            "design": ["retrospective cohort", None, "RCT"],
            "pmid": ["111", None, "333"],
            "doi": [None, None, "10.1/x"],
            "lookup_status": ["found", "not_found", "found"],
        }
    )
    claims = pd.DataFrame(
        [
            _claim("p1-01", "p1", ref_id="p1-r1", finding_id="f-shared", value_text="28%", value=28),
            _claim("p1-02", "p1", ref_id="p1-r2", topic="opioids", measure="characteristic"),
            _claim(
                "p1-03",
                "p1",
                basis="clinic_experience",
                value_text="about 90%",
                value=90,
                bound="approx",
                topic="treatment_outcome",
            ),
            _claim(
                "p2-01", "p2", ref_id="p2-r1", finding_id="f-shared", value_text="up to 28%", value=28, bound="upper"
            ),
            _claim(
                "p2-02",
                "p2",
                basis="uncited",
                value_text="20-40%",
                value=NA,
                value_low=20,
                value_high=40,
                bound="range",
            ),
        ]
    )
    audit = pd.DataFrame(
        {
            "claim_id": ["p1-01", "p1-02", "p2-01"],
            "verdict": ["figure_differs", "not_found", "supported"],
            "study_figure": ["31%", None, "28%"],
        }
    )
    return Dataset(sources=sources, texts={}, claims=claims, references=references, studies=studies, audit=audit)


@pytest.fixture(scope="module")
def real():
    data = load_dataset()
    return data, evidence.enrich(data)


# -- enrich ---------------------------------------------------------------------------


def test_enrich_keeps_one_row_per_claim_in_order(small):
    out = evidence.enrich(small)
    assert len(out) == 5
    assert out["claim_id"].tolist() == ["p1-01", "p1-02", "p1-03", "p2-01", "p2-02"]
    for col in ("study", "study_design", "source", "verdict", "study_figure", "grade", "audit_category"):
        assert col in out.columns


def test_enrich_labels_sources_and_studies(small):
    out = evidence.enrich(small).set_index("claim_id")
    assert out.loc["p1-01", "source"] == "Page One"
    assert out.loc["p2-02", "source"] == "Page Two"
    assert out.loc["p1-01", "study"] == "Klessinger 2012"
    # No first author: the surname from the printed citation, initials dropped.
    assert out.loc["p1-02", "study"] == "De Andres 2017"
    # No year: the author alone.
    assert out.loc["p2-01", "study"] == "Lebow"
    assert pd.isna(out.loc["p1-03", "study"])


def test_enrich_grades(small):
    grade = evidence.enrich(small).set_index("claim_id")["grade"]
    assert grade.to_dict() == {
        "p1-01": "retrospective cohort",  # design from the reference
        "p1-02": "cited, design unknown",  # cited, reference has no design
        "p1-03": "clinic experience",
        "p2-01": "RCT",
        "p2-02": "no source",
    }
    assert set(grade) <= set(evidence.GRADES)


def test_enrich_audit_categories(small):
    out = evidence.enrich(small).set_index("claim_id")
    assert out["audit_category"].to_dict() == {
        "p1-01": "figure differs",
        "p1-02": "unverifiable",
        "p1-03": "clinic experience",
        "p2-01": "supported",
        "p2-02": "uncited",
    }
    assert out.loc["p1-01", "study_figure"] == "31%"


def test_enrich_without_audit_marks_every_cited_claim_unverifiable(small):
    small.audit = None
    out = evidence.enrich(small).set_index("claim_id")
    assert out["verdict"].isna().all()
    assert out["audit_category"].to_dict() == {
        "p1-01": "unverifiable",
        "p1-02": "unverifiable",
        "p1-03": "clinic experience",
        "p2-01": "unverifiable",
        "p2-02": "uncited",
    }


def test_enrich_refuses_a_duplicated_reference(small):
    small.references = pd.concat([small.references, small.references.iloc[[0]]], ignore_index=True)
    with pytest.raises(pd.errors.MergeError):
        evidence.enrich(small)


def test_enrich_real_dataset_keeps_one_row_per_claim(real):
    data, claims = real
    assert len(claims) == len(data.claims)
    assert claims["claim_id"].tolist() == data.claims["claim_id"].tolist()
    assert claims["claim_id"].is_unique
    assert set(claims["grade"]) <= set(evidence.GRADES)
    assert set(claims["audit_category"]) <= set(evidence.AUDIT_ORDER)


def test_real_grades_follow_basis(real):
    _, claims = real
    assert (claims.loc[claims["basis"] == "clinic_experience", "grade"] == "clinic experience").all()
    assert (claims.loc[claims["basis"] == "uncited", "grade"] == "no source").all()
    cited = claims[claims["basis"] == "cited_study"]
    assert not cited["grade"].isin(["clinic experience", "no source"]).any()
    # Klessinger 2012 could not be found: its claims are "cited, design unknown".
    kless = claims[claims["study"] == "Klessinger 2012"]
    assert len(kless) > 0
    assert (kless["grade"] == "cited, design unknown").all()
    assert (kless["audit_category"] == "unverifiable").all()


@pytest.mark.parametrize(
    "first_author, citation, year, expected",
    [
        ("Klessinger S", "Klessinger S. Title.", "2012", "Klessinger 2012"),
        ("Mugabure Bujedo B", "x", "2012", "Mugabure Bujedo 2012"),
        (None, "De Andres J, Monsalve V. Title.", "2017", "De Andres 2017"),
        (NA, "Lebow RL, et al.", "2011", "Lebow 2011"),
        ("", "Parker SL, et al.", "2015.0", "Parker 2015"),
        ("Thomson S", "x", None, "Thomson"),
        ("Thomson S", "x", " ", "Thomson"),
        (None, None, None, "?"),
    ],
)
def test_study_label(first_author, citation, year, expected):
    ref = pd.Series(
        {
            "first_author": first_author,
            "citation_as_printed": citation,
            "year": pd.to_numeric(year, errors="coerce") if year and year.strip() else year,
        }
    )
    assert evidence.study_label(ref) == expected


# -- evidence_grade / audit_category -------------------------------------------------------


@pytest.mark.parametrize(
    "basis, design, expected",
    [
        ("clinic_experience", "RCT", "clinic experience"),
        ("uncited", "RCT", "no source"),
        ("cited_study", "case series", "case series"),
        ("cited_study", None, "cited, design unknown"),
        ("cited_study", NA, "cited, design unknown"),
        ("cited_study", "", "cited, design unknown"),
    ],
)
def test_evidence_grade(basis, design, expected):
    assert evidence.evidence_grade(basis, design) == expected


@pytest.mark.parametrize(
    "basis, verdict, expected",
    [
        ("cited_study", "supported", "supported"),
        ("cited_study", "figure_differs", "figure differs"),
        ("cited_study", "population_differs", "population or context differs"),
        ("cited_study", "misattributed", "misattributed"),
        ("cited_study", "not_in_abstract", "unverifiable"),
        ("cited_study", "not_found", "unverifiable"),
        ("cited_study", NA, "unverifiable"),
        ("clinic_experience", "supported", "clinic experience"),
        ("uncited", NA, "uncited"),
    ],
)
def test_audit_category(basis, verdict, expected):
    assert evidence.audit_category(basis, verdict) == expected


# -- claims_by ------------------------------------------------------------------------


def test_claims_by_topic_has_every_topic_in_vocabulary_order_with_zeros(small):
    table = evidence.claims_by(evidence.enrich(small), "source", "topic")
    assert list(table.columns) == list(vocab.TOPICS)
    assert list(table.index) == ["Page One", "Page Two"]
    assert table.loc["Page One", "recurrence"] == 1
    assert table.loc["Page One", "opioids"] == 1
    assert table.loc["Page One", "treatment_outcome"] == 1
    assert table.loc["Page Two", "recurrence"] == 2
    assert table.loc["Page Two", "background"] == 0
    assert table.to_numpy().sum() == 5
    assert table.dtypes.map(pd.api.types.is_integer_dtype).all()


def test_claims_by_reindexes_rows_too(small):
    table = evidence.claims_by(evidence.enrich(small), "audit_category", "source")
    assert list(table.index) == list(evidence.AUDIT_ORDER)
    assert table["Page One"].tolist() == [0, 0, 1, 0, 0, 1, 1, 0]
    assert table["Page Two"].tolist() == [1, 0, 0, 0, 0, 0, 0, 1]


def test_claims_by_basis_order(small):
    table = evidence.claims_by(evidence.enrich(small), "source", "basis")
    assert list(table.columns) == list(vocab.BASES) == ["cited_study", "clinic_experience", "uncited"]
    assert table.loc["Page One"].tolist() == [2, 1, 0]
    assert table.loc["Page Two"].tolist() == [1, 0, 1]


def test_claims_by_real_dataset_counts_every_claim_once(real):
    _, claims = real
    for columns in ("topic", "basis", "audit_category"):
        table = evidence.claims_by(claims, "source", columns)
        assert table.to_numpy().sum() == len(claims)
    assert list(evidence.claims_by(claims, "source", "audit_category").columns) == list(evidence.AUDIT_ORDER)


# -- recurring_findings ------------------------------------------------------------------


def test_recurring_findings_across_pages(small):
    rec = evidence.recurring_findings(evidence.enrich(small))
    assert rec["finding_id"].tolist() == ["f-shared"]
    row = rec.iloc[0]
    assert row["statements"] == 2
    assert row["pages"] == 2
    assert row["sources"] == "Page One; Page Two"
    assert row["numbers"] == "28%; up to 28%"
    assert row["topic"] == "recurrence"


def test_recurring_findings_within_a_page_and_ordering():
    claims = pd.DataFrame(
        {
            "claim_id": list("abcdefg"),
            "finding_id": ["one-page", "one-page", "one-page", "two-pages", "two-pages", "single", "zz-one"],
            "source_id": ["p1", "p1", "p1", "p1", "p2", "p1", "p2"],
            "source": ["A", "A", "A", "A", "B", "A", "B"],
            "value_text": ["5", "five", "5", "x", "x", "1", "2"],
            "topic": ["t"] * 7,
        }
    )
    rec = evidence.recurring_findings(claims)
    # Across pages first, then by statements; a finding stated once is not recurring.
    assert rec["finding_id"].tolist() == ["two-pages", "one-page"]
    assert rec["pages"].tolist() == [2, 1]
    assert rec["statements"].tolist() == [2, 3]
    assert rec.loc[1, "numbers"] == "5; five"  # distinct, in order of appearance
    assert rec.loc[0, "numbers"] == "x"


def test_recurring_findings_real_dataset(real):
    _, claims = real
    rec = evidence.recurring_findings(claims).set_index("finding_id")
    assert (rec["statements"] > 1).all()
    assert rec.loc["recurrence-up-to-28-after-discectomy", "pages"] == 2
    assert rec.loc["recurrence-up-to-28-after-discectomy", "statements"] == 6
    assert rec.loc["discectomy-residual-disc-up-to-40", "pages"] == 2
    assert rec.loc["persistent-radicular-pain-69-of-479", "pages"] == 1
    assert rec.loc["persistent-radicular-pain-69-of-479", "statements"] == 3
    assert rec["pages"].is_monotonic_decreasing


# -- select / distinct_statements ----------------------------------------------------------


def test_select_filters_topics_and_measure(small):
    claims = evidence.enrich(small)
    chosen = evidence.select(claims, ["recurrence", "opioids"])
    assert chosen["claim_id"].tolist() == ["p1-01", "p2-01", "p2-02"]  # p1-02 is a characteristic
    assert list(chosen.index) == [0, 1, 2]
    every = evidence.select(claims, ["recurrence", "opioids"], measure=None)
    assert every["claim_id"].tolist() == ["p1-01", "p1-02", "p2-01", "p2-02"]


def test_select_accepts_a_single_topic_string(small):
    chosen = evidence.select(evidence.enrich(small), "treatment_outcome")
    assert chosen["claim_id"].tolist() == ["p1-03"]


def test_select_without_clinic_experience(small):
    claims = evidence.enrich(small)
    topics = ["recurrence", "treatment_outcome"]
    assert "p1-03" in evidence.select(claims, topics)["claim_id"].tolist()
    without = evidence.select(claims, topics, include_clinic_experience=False)
    assert without["claim_id"].tolist() == ["p1-01", "p2-01", "p2-02"]
    assert not (without["basis"] == "clinic_experience").any()


def test_select_real_dataset_drops_only_clinic_rows(real):
    _, claims = real
    topics = ["treatment_outcome", "spinal_cord_stimulation", "intrathecal_pump"]
    with_clinic = evidence.select(claims, topics)
    without = evidence.select(claims, topics, include_clinic_experience=False)
    n_clinic = (with_clinic["basis"] == "clinic_experience").sum()
    assert n_clinic > 0
    assert len(without) == len(with_clinic) - n_clinic
    assert (with_clinic["measure"] == "rate").all()
    assert set(with_clinic["topic"]) <= set(topics)


def test_distinct_statements_drops_a_repeated_sentence_on_one_page():
    base = dict(finding_id="f", value=28.0, value_low=NA, value_high=NA, bound="upper")
    claims = pd.DataFrame(
        [
            dict(claim_id="a", source_id="p1", **base),
            dict(claim_id="b", source_id="p1", **base),  # same page, same numbers: dropped
            dict(claim_id="c", source_id="p2", **base),  # another page: kept
            dict(claim_id="d", source_id="p1", **{**base, "bound": "exact"}),  # different bound: kept
        ]
    )
    out = evidence.distinct_statements(claims)
    assert out["claim_id"].tolist() == ["a", "c", "d"]
    assert list(out.index) == [0, 1, 2]


def test_distinct_statements_treats_missing_values_as_equal():
    claims = pd.DataFrame(
        {
            "claim_id": ["a", "b"],
            "source_id": ["p", "p"],
            "finding_id": ["f", "f"],
            "value": [NA, NA],
            "value_low": [20.0, 20.0],
            "value_high": [40.0, 40.0],
            "bound": ["range", "range"],
        }
    )
    assert evidence.distinct_statements(claims)["claim_id"].tolist() == ["a"]


def test_distinct_statements_real_recurrence(real):
    _, claims = real
    rec = claims[claims["finding_id"] == "recurrence-up-to-28-after-discectomy"]
    out = evidence.distinct_statements(rec)
    assert len(out) < len(rec)
    assert not out.duplicated(["source_id", "finding_id", "value", "value_low", "value_high", "bound"]).any()


# -- estimate_label ------------------------------------------------------------------------


def _row(**kw):
    base = dict(
        outcome="recurrence",
        intervention=None,
        timepoint=None,
        basis="cited_study",
        grade="RCT",
        study="Parker 2015",
        source="Centeno-Schultz",
    )
    return pd.Series({**base, **kw})


def test_estimate_label_cited_with_timepoint_and_intervention():
    label = evidence.estimate_label(
        _row(intervention="lumbar discectomy", timepoint="within 2 years", grade="systematic review")
    )
    assert label == ("lumbar discectomy: recurrence, within 2 years [Centeno-Schultz; Parker 2015, systematic review]")


def test_estimate_label_intervention_already_in_outcome_is_not_repeated():
    label = evidence.estimate_label(_row(outcome="pain after discectomy", intervention="Discectomy"))
    assert label == "pain after discectomy [Centeno-Schultz; Parker 2015, RCT]"


def test_estimate_label_design_unknown():
    label = evidence.estimate_label(
        _row(grade="cited, design unknown", study="Klessinger 2012", source="Caring Medical: options")
    )
    assert label == "recurrence [Caring Medical: options; Klessinger 2012, design unknown]"


@pytest.mark.parametrize("basis, text", [("clinic_experience", "clinic experience"), ("uncited", "no source")])
def test_estimate_label_without_a_study(basis, text):
    label = evidence.estimate_label(_row(basis=basis, study=NA, grade=text, timepoint="1 year"))
    assert label == f"recurrence, 1 year [Centeno-Schultz; {text}]"


def test_estimate_label_real_rows(real):
    _, claims = real
    rows = claims.set_index("claim_id", drop=False)
    assert evidence.estimate_label(rows.loc["darrow-muscle-damage-04"]) == (
        "lumbar fusion: timepoint at which reduced muscle strength and density were previously "
        "observed, 1 year after fusion [Darrow; Froholdt 2011, RCT]"
    )
    assert evidence.estimate_label(rows.loc["caring-fbss-options-05"]) == (
        "microsurgical lumbar disc surgery: persistent radicular pain "
        "[Caring Medical: options; Klessinger 2012, design unknown]"
    )
    labels = claims.apply(evidence.estimate_label, axis=1)
    assert labels.str.contains(r" \[").all()
    assert labels[claims["basis"] == "clinic_experience"].str.endswith("; clinic experience]").all()
    assert labels[claims["basis"] == "uncited"].str.endswith("; no source]").all()


def test_estimates_table_columns(small):
    table = evidence.estimates_table(evidence.enrich(small))
    assert list(table.columns[:4]) == ["claim_id", "source", "value_text", "bound"]
    assert "grade" in table.columns and "verdict" in table.columns
    assert "quote" not in table.columns
    assert len(table) == 5


def test_select_intervention_matches_whole_words_only():
    claims = pd.DataFrame(
        {
            "claim_id": ["a", "b", "c", "d"],
            "topic": ["t"] * 4,
            "measure": ["rate"] * 4,
            "basis": ["uncited"] * 4,
            "intervention": ["lumbar fusion", "intrathecal morphine infusion", "Fusion surgery", None],
        }
    )
    assert evidence.select(claims, intervention="fusion")["claim_id"].tolist() == ["a", "c"]
    assert evidence.select(claims, intervention="infusion")["claim_id"].tolist() == ["b"]


def test_estimates_table_shows_the_share_the_counts_give():
    claims = pd.DataFrame(
        {"claim_id": ["count", "bare"], "value": [69, 15], "numerator": [69, None], "denominator": [479, None]}
    )
    table = evidence.estimates_table(claims)
    assert table["counts_pct"].iloc[0] == pytest.approx(14.405)
    assert pd.isna(table["counts_pct"].iloc[1])
    assert table.columns.tolist() == ["claim_id", "value", "numerator", "denominator", "counts_pct"]


def test_extremes_name_the_lowest_and_highest_stated_numbers():
    claims = pd.DataFrame(
        {
            "value_text": ["20-40%", "up to 25%", "5-36%", "up to 40%"],
            "value": [NA, 25, NA, 40],
            "value_low": [20, NA, 5, NA],
            "value_high": [40, NA, 36, NA],
        }
    )
    assert evidence.extremes(claims) == ("5-36%", "20-40%")
