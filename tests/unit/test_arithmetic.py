"""fbss_evidence.arithmetic: re-deriving the pages' numbers from the parts they give."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from fbss_evidence import arithmetic, evidence
from fbss_evidence.dataset import load_dataset

NA = np.nan


def _c(
    claim_id,
    value,
    value_text,
    *,
    unit="percent",
    bound="exact",
    numerator=NA,
    denominator=NA,
    finding_id=None,
    source_id="p1",
    whole_id=None,
    base_claim_id=None,
):
    return dict(
        claim_id=claim_id,
        source_id=source_id,
        value=float(value),
        value_text=value_text,
        bound=bound,
        unit=unit,
        numerator=numerator,
        denominator=denominator,
        finding_id=finding_id or claim_id,
        whole_id=whole_id,
        base_claim_id=base_claim_id,
    )


def frame(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


# -- rounding_tolerance ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, bound, expected",
    [
        ("26.8%", "exact", 0.05),
        ("15%", "exact", 0.5),
        ("170.9%", "exact", 0.05),
        ("0.25 mg", "exact", 0.005),
        ("77,682", "exact", 0.5),  # the thousands separator is not a decimal point
        ("about 15%", "approx", 1.0),  # approximate figures get a full unit
        ("nearly 26.8%", "approx", 0.1),
        ("ABOUT 15%", "approx", 1.0),
        ("Nearly one in three", "approx", 1.0),  # no digits: whole units
        ("up to 25%", "upper", 0.5),
        ("20-40%", "range", 0.5),
        ("43.9% and 20.25%", "exact", 0.005),  # the finest printed digit counts
    ],
)
def test_rounding_tolerance(text, bound, expected):
    assert arithmetic.rounding_tolerance(text, bound) == pytest.approx(expected)


def test_approx_doubles_the_tolerance():
    for text in ("15%", "26.8%", "1.25"):
        assert arithmetic.rounding_tolerance(text, "approx") == pytest.approx(
            2 * arithmetic.rounding_tolerance(text, "exact")
        )


# -- share_from_counts -------------------------------------------------------------------------


def test_share_from_counts_agrees_within_approximate_rounding():
    # 100 * 69 / 479 = 14.405...; "about 15%" may be off by 1 unit: |15 - 14.405| = 0.595 <= 1.0
    (row,) = arithmetic.share_from_counts(
        frame(_c("a", 15, "about 15%", bound="approx", numerator=69, denominator=479))
    )
    assert row["check"] == "share from the page's counts"
    assert row["parts"] == "69 of 479"
    assert row["recomputed"] == 14.405
    assert row["difference"] == 0.595
    assert row["rounding_tolerance"] == 1.0
    assert row["agrees"] is True


def test_share_from_counts_disagrees_when_stated_exactly():
    # "15%" printed exactly allows only 0.5: |15 - 14.405| = 0.595 > 0.5
    (row,) = arithmetic.share_from_counts(frame(_c("a", 15, "15%", numerator=69, denominator=479)))
    assert row["rounding_tolerance"] == 0.5
    assert row["agrees"] is False


def test_share_from_counts_exact_agreement():
    # 100 * 30 / 35 = 85.714...; "85.7%" within 0.05
    (row,) = arithmetic.share_from_counts(frame(_c("a", 85.7, "85.7%", numerator=30, denominator=35)))
    assert row["recomputed"] == 85.714
    assert row["difference"] == -0.014
    assert row["agrees"] is True


def test_share_from_counts_ignores_counts_and_claims_without_numerator():
    rows = arithmetic.share_from_counts(
        frame(_c("a", 30, "30", unit="count", numerator=30, denominator=35), _c("b", 86, "86%"))
    )
    assert rows == []


# -- share_beside_counts -----------------------------------------------------------------------


def test_share_beside_counts_uses_the_count_statement_of_the_same_finding():
    # "Thirty of the 35" and "86%": 100 * 30 / 35 = 85.714, |86 - 85.714| = 0.286 <= 0.5
    claims = frame(
        _c("pct", 86, "86%", finding_id="f"),
        _c("cnt", 30, "Thirty of the 35", unit="count", numerator=30, denominator=35, finding_id="f"),
        _c("other-page", 80, "80%", finding_id="f", source_id="p2"),  # another page: not checked
        _c("other-finding", 50, "50%", finding_id="g"),
    )
    (row,) = arithmetic.share_beside_counts(claims)
    assert row["claim_id"] == "pct"
    assert row["check"] == "share from counts in the same finding"
    assert row["parts"] == "30 of 35 (cnt)"
    assert row["recomputed"] == 85.714
    assert row["agrees"] is True


def test_share_beside_counts_flags_a_wrong_share():
    claims = frame(
        _c("pct", 90, "90%", finding_id="f"),
        _c("cnt", 30, "30 of 35", unit="count", numerator=30, denominator=35, finding_id="f"),
    )
    (row,) = arithmetic.share_beside_counts(claims)
    assert row["difference"] == pytest.approx(4.286)
    assert row["agrees"] is False


# -- count_from_share --------------------------------------------------------------------------


def test_count_from_share_flags_a_share_no_whole_count_gives():
    # 26.8% of 69 = 18.49 people; 18/69 = 26.087%, 19/69 = 27.536%: neither prints as 26.8%
    claims = frame(_c("group", 69, "69", unit="count"), _c("share", 26.8, "26.8%", base_claim_id="group"))
    (row,) = arithmetic.count_from_share(claims)
    assert row["check"] == "share of a stated group"
    assert row["parts"] == "26.8% of 69"
    assert row["recomputed"] == 26.087
    assert row["difference"] == 0.713
    assert row["rounding_tolerance"] == 0.05
    assert row["agrees"] is False
    assert row["note"] == ("26.8% of 69 is 18.49 people; the nearest whole count, 18, would be 26.1%")


def test_count_from_share_accepts_a_possible_share():
    # 26.1% of 69 = 18.009 people; 18/69 = 26.087% -> |26.1 - 26.087| = 0.013 <= 0.05
    claims = frame(_c("group", 69, "69", unit="count"), _c("share", 26.1, "26.1%", base_claim_id="group"))
    (row,) = arithmetic.count_from_share(claims)
    assert row["agrees"] is True


# -- percent_change ----------------------------------------------------------------------------


def _change(stated, text):
    return frame(
        _c("start", 77682, "77,682", unit="count"),
        _c("end", 210407, "210,407", unit="count", base_claim_id="start"),
        _c("change", stated, text, unit="percent_change", base_claim_id="start"),
    )


def test_percent_change_agrees():
    # 100 * (210407 - 77682) / 77682 = 170.857...; |170.9 - 170.857| = 0.043 <= 0.05
    (row,) = arithmetic.percent_change(_change(170.9, "170.9%"))
    assert row["check"] == "percent change from the page's counts"
    assert row["parts"] == "77,682 to 210,407"
    assert row["recomputed"] == 170.857
    assert row["difference"] == 0.043
    assert row["agrees"] is True


def test_percent_change_disagrees():
    # |171.9 - 170.857| = 1.043 > 0.05
    (row,) = arithmetic.percent_change(_change(171.9, "171.9%"))
    assert row["agrees"] is False


# -- parts_of_whole / remainder ------------------------------------------------------------------


def test_parts_of_whole_under_100_leaves_a_remainder():
    claims = frame(_c("a", 43.9, "43.9%", whole_id="w"), _c("b", 20.2, "20.2%", whole_id="w"), _c("c", 5, "5%"))
    (row,) = arithmetic.parts_of_whole(claims)
    assert row["claim_id"] == "a; b"
    assert row["page_figure"] == "43.9% + 20.2%"
    assert row["recomputed"] == pytest.approx(64.1)
    assert row["difference"] == 0
    assert row["rounding_tolerance"] == pytest.approx(0.1)
    assert row["agrees"] is True
    assert row["note"] == "35.9% not accounted for by the stated shares"
    assert arithmetic.remainder(claims, "w") == pytest.approx(35.9)


def test_parts_of_whole_over_100_is_flagged():
    # 60 + 45 = 105 > 100 + (0.5 + 0.5)
    claims = frame(_c("a", 60, "60%", whole_id="w"), _c("b", 45, "45%", whole_id="w"))
    (row,) = arithmetic.parts_of_whole(claims)
    assert row["recomputed"] == 105
    assert row["difference"] == 5
    assert row["rounding_tolerance"] == 1.0
    assert row["agrees"] is False
    assert row["note"] == ""
    assert arithmetic.remainder(claims, "w") == 0.0


def test_parts_of_whole_just_over_100_within_rounding():
    claims = frame(_c("a", 60.5, "60.5%", whole_id="w"), _c("b", 39.6, "39.6%", whole_id="w"))
    (row,) = arithmetic.parts_of_whole(claims)
    assert row["agrees"] is True  # 100.1 <= 100 + 0.05 + 0.05


def test_parts_of_whole_one_row_per_whole_sorted():
    claims = frame(
        _c("x1", 50, "50%", whole_id="z"),
        _c("y1", 10, "10%", whole_id="a"),
        _c("x2", 50, "50%", whole_id="z"),
        _c("y2", 10, "10%", whole_id="a"),
    )
    rows = arithmetic.parts_of_whole(claims)
    assert [r["parts"] for r in rows] == ["a", "z"]
    assert [r["claim_id"] for r in rows] == ["y1; y2", "x1; x2"]


def test_remainder_of_an_unknown_whole_is_an_error_not_everything():
    claims = frame(_c("a", 60, "60%", whole_id="w"))
    with pytest.raises(ValueError, match="no claim has whole_id 'nothing'"):
        arithmetic.remainder(claims, "nothing")


def test_remainder_refuses_a_part_without_a_single_value():
    claims = frame(_c("a", 60, "60%", whole_id="w"), _c("b", float("nan"), "10-20%", whole_id="w"))
    with pytest.raises(ValueError, match="no single value"):
        arithmetic.remainder(claims, "w")


# -- rederive ----------------------------------------------------------------------------------


def test_rederive_empty():
    out = arithmetic.rederive(frame(_c("a", 5, "5%")))
    assert list(out.columns) == arithmetic.COLUMNS
    assert len(out) == 0


@pytest.fixture(scope="module")
def real_rederived():
    return arithmetic.rederive(evidence.enrich(load_dataset())).set_index("claim_id")


def test_real_69_of_479(real_rederived):
    # Caring Medical: "69 of 479 ... ABOUT 15%": 100 * 69 / 479 = 14.405%; 15 - 14.405 = 0.595,
    # within the 1.0 allowed for an approximate whole percentage.
    row = real_rederived.loc["caring-fbss-options-10"]
    assert row["parts"] == "69 of 479"
    assert row["recomputed"] == 14.405
    assert row["difference"] == 0.595
    assert row["rounding_tolerance"] == 1.0
    assert row["agrees"]


def test_real_26_8_percent_of_69(real_rederived):
    # 26.8% of 69 = 18.49 people; 18 / 69 = 26.087%: 26.8 - 26.087 = 0.713 > 0.05 -> disagrees.
    row = real_rederived.loc["caring-fbss-options-07"]
    assert row["parts"] == "26.8% of 69"
    assert row["recomputed"] == 26.087
    assert row["difference"] == 0.713
    assert not row["agrees"]


def test_real_percent_change(real_rederived):
    # (210,407 - 77,682) / 77,682 = 170.857%; 170.9 - 170.857 = 0.043 <= 0.05 -> agrees.
    row = real_rederived.loc["centeno-schultz-fbss-09"]
    assert row["parts"] == "77,682 to 210,407"
    assert row["recomputed"] == 170.857
    assert row["difference"] == 0.043
    assert row["agrees"]


def test_real_30_of_35(real_rederived):
    # 100 * 30 / 35 = 85.714%; 86 - 85.714 = 0.286 <= 0.5 -> agrees.
    row = real_rederived.loc["caring-prolotherapy-fbss-40"]
    assert row["recomputed"] == 85.714
    assert row["agrees"]


def test_real_scs_explant_reasons(real_rederived):
    # 43.9% + 20.2% = 64.1%; 100 - 64.1 = 35.9% of explants unexplained.
    row = real_rederived.loc["caring-prolotherapy-fbss-19; caring-prolotherapy-fbss-20"]
    assert row["recomputed"] == pytest.approx(64.1)
    assert row["note"] == "35.9% not accounted for by the stated shares"
    claims = evidence.enrich(load_dataset())
    assert arithmetic.remainder(claims, "scs-explant-reasons") == pytest.approx(35.9)
    assert math.isclose(arithmetic.remainder(claims, "radiculopathy-diagnosis"), 0.0, abs_tol=1e-9)


def test_real_only_the_26_8_percent_disagrees(real_rederived):
    assert real_rederived.index[~real_rederived["agrees"]].tolist() == ["caring-fbss-options-07"]


@pytest.mark.parametrize("a, b", [("99.9", "0.2"), ("99.4", "0.7"), ("98.9", "1.2")])
def test_parts_of_whole_at_the_edge_of_rounding_is_not_lost_to_float_error(a, b):
    # 99.9 + 0.2 = 100.10000000000001 in binary floating point; 100.1 <= 100 + 0.05 + 0.05.
    claims = frame(_c("a", float(a), f"{a}%", whole_id="w"), _c("b", float(b), f"{b}%", whole_id="w"))
    (row,) = arithmetic.parts_of_whole(claims)
    assert row["recomputed"] == pytest.approx(100.1)
    assert row["agrees"] is True
