"""Re-deriving a page's numbers from the parts it gives.

Wherever a page states the parts of a number (69 of 479 and "about 15%";
77,682 to 210,407 and "170.9%"; shares of one whole), recompute the number and
say whether the page's figure agrees within its own rounding.
"""
from __future__ import annotations

import re

import pandas as pd

COLUMNS = ["check", "claim_id", "source_id", "page_figure", "parts", "recomputed",
           "difference", "rounding_tolerance", "agrees", "note"]


def rounding_tolerance(value_text: str, bound: str) -> float:
    """Half a unit of the last digit printed ('26.8%' -> 0.05, '15%' -> 0.5).

    Figures the page calls approximate ('about', 'nearly') get a full unit.
    """
    numbers = re.findall(r"\d+(?:\.(\d+))?", value_text.replace(",", ""))
    decimals = max((len(frac) for frac in numbers), default=0) if numbers else 0
    half_unit = 0.5 * 10 ** (-decimals)
    return 2 * half_unit if bound == "approx" else half_unit


def _row(check, claim, parts, recomputed, note=""):
    page = claim["value"]
    tolerance = rounding_tolerance(claim["value_text"], claim["bound"])
    difference = page - recomputed
    return dict(check=check, claim_id=claim["claim_id"], source_id=claim["source_id"],
                page_figure=claim["value_text"], parts=parts, recomputed=round(recomputed, 3),
                difference=round(difference, 3), rounding_tolerance=tolerance,
                agrees=bool(abs(difference) <= tolerance + 1e-9), note=note)


def _share(check: str, claim, counts, where: str = "") -> dict:
    """The claim's percentage against numerator/denominator of `counts` (a claim row)."""
    return _row(check, claim, f"{counts['numerator']:g} of {counts['denominator']:g}{where}",
                100 * counts["numerator"] / counts["denominator"])


def share_from_counts(claims: pd.DataFrame) -> list[dict]:
    """A percentage stated beside its own numerator and denominator."""
    chosen = claims[(claims["unit"] == "percent") & claims["numerator"].notna()]
    return [_share("share from the page's counts", c, c) for _, c in chosen.iterrows()]


def share_beside_counts(claims: pd.DataFrame) -> list[dict]:
    """A percentage whose counts the page gives in another statement of the same finding."""
    rows = []
    counted = claims[(claims["unit"] == "count") & claims["numerator"].notna()]
    for _, counts in counted.iterrows():
        siblings = claims[(claims["finding_id"] == counts["finding_id"])
                          & (claims["source_id"] == counts["source_id"])
                          & (claims["unit"] == "percent") & claims["numerator"].isna()]
        rows += [_share("share from counts in the same finding", c, counts, f" ({counts['claim_id']})")
                 for _, c in siblings.iterrows()]
    return rows


def count_from_share(claims: pd.DataFrame) -> list[dict]:
    """A percentage of a group whose size the page states: is the implied count whole?"""
    rows = []
    by_id = claims.set_index("claim_id")
    chosen = claims[(claims["unit"] == "percent") & claims["base_claim_id"].notna()]
    for _, c in chosen.iterrows():
        base = by_id.loc[c["base_claim_id"]]["value"]
        implied = c["value"] * base / 100
        nearest = max(round(implied), 0)
        recomputed = 100 * nearest / base
        rows.append(_row("share of a stated group", c, f"{c['value']:g}% of {base:g}", recomputed,
                         note=f"{c['value']:g}% of {base:g} is {implied:.2f} people; the nearest whole "
                              f"count, {nearest}, would be {recomputed:.1f}%"))
    return rows


def percent_change(claims: pd.DataFrame) -> list[dict]:
    """A stated percentage change between two stated counts."""
    rows = []
    by_id = claims.set_index("claim_id")
    for _, c in claims[(claims["unit"] == "percent_change") & claims["base_claim_id"].notna()].iterrows():
        start = by_id.loc[c["base_claim_id"]]
        ends = claims[(claims["base_claim_id"] == c["base_claim_id"]) & (claims["unit"] == "count")]
        for _, end in ends.iterrows():
            recomputed = 100 * (end["value"] - start["value"]) / start["value"]
            rows.append(_row("percent change from the page's counts", c,
                             f"{start['value_text']} to {end['value_text']}", recomputed))
    return rows


def parts_of_whole(claims: pd.DataFrame) -> list[dict]:
    """Mutually exclusive shares of one whole may add up to at most 100%."""
    rows = []
    for whole, parts in claims[claims["whole_id"].notna()].groupby("whole_id", sort=True):
        total = parts["value"].sum()
        tolerance = sum(rounding_tolerance(t, b) for t, b in zip(parts["value_text"], parts["bound"]))
        rows.append(dict(
            check="shares of one whole", claim_id="; ".join(parts["claim_id"]),
            source_id=parts["source_id"].iloc[0], page_figure=" + ".join(parts["value_text"]),
            parts=whole, recomputed=round(total, 3), difference=round(max(total - 100, 0), 3),
            rounding_tolerance=tolerance, agrees=bool(total <= 100 + tolerance + 1e-9),
            note=f"{100 - total:.1f}% not accounted for by the stated shares" if total < 100 else ""))
    return rows


def rederive(claims: pd.DataFrame) -> pd.DataFrame:
    """Every re-derivation the claims allow, one row each."""
    rows = (share_from_counts(claims) + share_beside_counts(claims) + count_from_share(claims)
             + percent_change(claims) + parts_of_whole(claims))
    return pd.DataFrame(rows, columns=COLUMNS)


def remainder(claims: pd.DataFrame, whole_id: str) -> float:
    """The share of a whole that its stated parts leave unexplained (derived, not stated).

    Raises ValueError when no claim has this whole_id (a renamed id must not turn
    into a 100% "unexplained" share) or when a part has no single value.
    """
    parts = claims.loc[claims["whole_id"] == whole_id, "value"]
    if parts.empty:
        raise ValueError(f"no claim has whole_id '{whole_id}'")
    if parts.isna().any():
        raise ValueError(f"a share of '{whole_id}' has no single value")
    return max(100.0 - float(parts.sum()), 0.0)


def composition(claims: pd.DataFrame, whole_id: str, *, prefix: str = "") -> pd.DataFrame:
    """The stated shares of one whole (label, share, derived=False) and the share they leave
    unexplained (derived=True): what a composition chart draws."""
    parts = claims[claims["whole_id"] == whole_id]
    table = pd.DataFrame({"label": parts["outcome"].str.removeprefix(prefix), "share": parts["value"],
                          "derived": False, "claim_id": parts["claim_id"]})
    rest = remainder(claims, whole_id)
    table.loc[len(table)] = ["other or not stated (derived: 100% minus the stated shares)", rest, True, ""]
    return table.reset_index(drop=True)
