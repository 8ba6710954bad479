"""What may be pooled, and why the rest is not: fbss_evidence.synthesis."""

from __future__ import annotations

import pandas as pd
import pytest

from fbss_evidence import stats, synthesis

NA = float("nan")


def _rate(
    claim_id, finding, topic="recurrence", *, num=NA, den=NA, value=20.0, bound="exact", value_text="20%", source="Page"
):
    return dict(
        claim_id=claim_id,
        finding_id=finding,
        topic=topic,
        measure="rate",
        numerator=num,
        denominator=den,
        value=value,
        bound=bound,
        unit="percent",
        value_text=value_text,
        source=source,
        source_id="page",
        study="Study 2020",
        basis="cited_study",
        outcome="recurrence",
    )


def _reasons(refusals: pd.DataFrame) -> dict[str, str]:
    return dict(zip(refusals["claim_id"], refusals["reason"]))


def _rows(*rows) -> pd.DataFrame:
    """Rate claims (claim_id, bound, unit, value, numerator, denominator), each its own finding."""
    return pd.DataFrame(
        [
            _rate(cid, cid, bound=bound, value=value, num=num, den=den) | {"unit": unit}
            for cid, bound, unit, value, num, den in rows
        ]
    )


ELIGIBILITY = _rows(
    ("ok-percent", "exact", "percent", 14.4, 69, 479),
    ("ok-count", "approx", "count", 30, 30, 120),
    ("range", "range", "percent", NA, 10, 100),
    ("upper", "upper", "percent", 40, 40, 100),
    ("lower", "lower", "percent", 20, 20, 100),
    ("bare", "exact", "percent", 30, NA, NA),
    ("no-numerator", "exact", "percent", 30, NA, 200),
    ("years", "exact", "years", 5, 5, 10),
    ("impossible", "exact", "percent", 30, 500, 479),
)


def test_every_refusal_has_a_code_and_its_sentence():
    groups, refusals = synthesis.pooling_candidates(ELIGIBILITY)
    assert groups["recurrence"]["claim_id"].tolist() == ["ok-percent", "ok-count"]
    assert list(refusals.columns) == synthesis.REFUSAL_COLUMNS
    got = {r.claim_id: (r.reason_code, r.reason) for r in refusals.itertuples()}
    assert got == {
        "range": ("range", "a range is not an estimate"),
        "upper": ("one_sided", "a one-sided (upper) bound is not an estimate"),
        "lower": ("one_sided", "a one-sided (lower) bound is not an estimate"),
        "bare": ("no_denominator", "no denominator: a bare percentage has no sampling error"),
        "no-numerator": ("no_numerator", "no numerator: the number of patients with the outcome is not given"),
        "years": ("not_a_proportion", "unit 'years' is not a proportion of patients"),
        "impossible": ("impossible_counts", "impossible counts 500/479"),
    }
    assert set(refusals["reason_code"]) <= set(synthesis.REASONS)


def test_the_kept_rows_pool_and_a_refused_row_would_not():
    groups, refusals = synthesis.pooling_candidates(ELIGIBILITY)
    results = synthesis.pool_groups(groups, events="numerator", totals="denominator", labels="pool_label", method="DL")
    table = synthesis.pooled_table(results)
    assert table["k"].tolist() == [2] and list(table.columns) == synthesis.POOLED_COLUMNS
    assert results["recurrence"].k == 2
    with pytest.raises(stats.PoolingRefused, match="no denominator"):
        stats.pool_proportions(ELIGIBILITY["numerator"], ELIGIBILITY["denominator"])


def test_no_rows_no_groups_no_refusals():
    groups, refusals = synthesis.pooling_candidates(ELIGIBILITY.iloc[:0])
    assert groups == {} and refusals.empty and list(refusals.columns) == synthesis.REFUSAL_COLUMNS


def test_two_counted_findings_of_one_topic_are_a_group():
    claims = pd.DataFrame([_rate("a", "f1", num=10, den=100), _rate("b", "f2", num=30, den=120)])
    groups, refusals = synthesis.pooling_candidates(claims)
    assert list(groups) == ["recurrence"]
    assert groups["recurrence"]["claim_id"].tolist() == ["a", "b"]
    assert refusals.empty


def test_a_finding_is_represented_by_its_statement_with_counts():
    # The bare statement comes first in the file; the counted one on another page must
    # still be the one that enters the pool, and the bare one gets its reason.
    claims = pd.DataFrame(
        [_rate("a-bare", "f1"), _rate("b", "f2", num=30, den=120), _rate("c-counted", "f1", num=10, den=100)]
    )
    groups, refusals = synthesis.pooling_candidates(claims)
    assert sorted(groups["recurrence"]["claim_id"]) == ["b", "c-counted"]
    assert _reasons(refusals) == {"a-bare": "states the same finding as c-counted, which stands for it"}


def test_every_estimate_left_out_has_a_reason():
    claims = pd.DataFrame(
        [
            _rate("range", "f1", value=NA, bound="range", value_text="20-40%"),
            _rate("upper", "f2", bound="upper", value_text="up to 20%"),
            _rate("bare", "f3"),
            _rate("alone", "f4", topic="treatment_outcome", num=5, den=50),
        ]
    )
    groups, refusals = synthesis.pooling_candidates(claims)
    assert groups == {}
    reasons = _reasons(refusals)
    assert set(reasons) == {"range", "upper", "bare", "alone"}
    assert reasons["range"] == "a range is not an estimate"
    assert reasons["bare"].startswith("no denominator")
    assert reasons["alone"].startswith("the only estimate with a denominator in topic 'treatment_outcome'")


def test_pooled_study_intervals_use_the_chosen_method():
    rows = pd.DataFrame([_rate("a", "f1", num=3, den=20), _rate("b", "f2", num=9, den=30)])
    for method in ("wilson", "clopper-pearson"):
        result = synthesis.pool_groups(
            {"g": rows}, events="numerator", totals="denominator", labels="claim_id", method="DL", ci_method=method
        )["g"]
        for study, (x, n) in zip(result.studies.itertuples(), [(3, 20), (9, 30)]):
            assert (study.ci_low, study.ci_high) == pytest.approx(stats.proportion_ci(x, n, method=method))
    wilson = synthesis.pool_groups(
        {"g": rows}, events="numerator", totals="denominator", labels="claim_id", ci_method="wilson"
    )["g"].studies["ci_low"]
    exact = synthesis.pool_groups(
        {"g": rows}, events="numerator", totals="denominator", labels="claim_id", ci_method="clopper-pearson"
    )["g"].studies["ci_low"]
    assert not wilson.equals(exact)


def test_estimates_with_counts_lists_each_proportion_once_per_page():
    claims = pd.DataFrame([_rate("a", "f1", num=69, den=479), _rate("a2", "f1", num=69, den=479), _rate("b", "f2")])
    counted = synthesis.estimates_with_counts(claims)
    assert counted["claim_id"].tolist() == ["a"]
    assert counted["proportion"].iloc[0] == pytest.approx(100 * 69 / 479)
    low, high = stats.proportion_ci(69, 479)
    assert (counted["ci_low"].iloc[0], counted["ci_high"].iloc[0]) == pytest.approx((low, high))
