"""What may be pooled, decided in one place, and pooling it.

An estimate enters a pooled proportion only when it is a point estimate of a share of
patients with its own numerator and denominator, and only beside comparable estimates.
Every estimate left out gets a reason: a code from REASONS and a sentence. The
refusals are a table (claim_id, group, value_text, reason_code, reason), never strings
to split.
"""
from __future__ import annotations

import pandas as pd

from . import stats

MIN_GROUP = 2

# Why an estimate is not pooled: code -> sentence (formatted with the row's fields).
REASONS = {
    "range": "a range is not an estimate",
    "one_sided": "a one-sided ({bound}) bound is not an estimate",
    "not_a_proportion": "unit '{unit}' is not a proportion of patients",
    "no_denominator": "no denominator: a bare percentage has no sampling error",
    "no_numerator": "no numerator: the number of patients with the outcome is not given",
    "impossible_counts": "impossible counts {numerator:g}/{denominator:g}",
    "same_finding": "states the same finding as {kept}, which stands for it",
    "alone": "the only estimate with a denominator in {group_by} '{group}': nothing comparable to pool it with",
}
REFUSAL_COLUMNS = ["claim_id", "group", "value_text", "reason_code", "reason"]


def refusal_code(row) -> str | None:
    """Why one claim row cannot enter a pooled estimate (a REASONS code), or None when it can."""
    if row["bound"] == "range":
        return "range"
    if row["bound"] in ("upper", "lower"):
        return "one_sided"
    if row["unit"] not in stats.PROPORTION_UNITS:
        return "not_a_proportion"
    if pd.isna(row["denominator"]):
        return "no_denominator"
    if pd.isna(row["numerator"]):
        return "no_numerator"
    if not 0 <= row["numerator"] <= row["denominator"] or row["denominator"] <= 0:
        return "impossible_counts"
    return None


def _refusal(row, code: str, group: str, **extra) -> dict:
    fields = {**row.to_dict(), "group": group, **extra}
    return dict(claim_id=row["claim_id"], group=group, value_text=row["value_text"], reason_code=code,
                reason=REASONS[code].format(**fields))


def pooling_candidates(claims: pd.DataFrame, *, group_by: str = "topic") -> tuple[dict, pd.DataFrame]:
    """Groups of poolable rate estimates ({group: rows}), and the refusals table for the rest.

    One estimate per finding: the statement that gives counts, where one does (a
    sentence repeated on two pages is one estimate)."""
    rates = claims[claims["measure"] == "rate"]
    with_counts = rates["numerator"].notna() & rates["denominator"].notna()
    ordered = pd.concat([rates[with_counts], rates[~with_counts]])
    first = ordered.drop_duplicates("finding_id", keep="first")
    kept_id = dict(zip(first["finding_id"], first["claim_id"]))
    refused = [_refusal(row, "same_finding", row[group_by], kept=kept_id[row["finding_id"]])
               for _, row in ordered[ordered.duplicated("finding_id", keep="first")].iterrows()]
    poolable = []
    for _, row in first.iterrows():
        code = refusal_code(row)
        if code is None:
            poolable.append(row)
        else:
            refused.append(_refusal(row, code, row[group_by]))
    kept = pd.DataFrame(poolable, columns=first.columns)
    groups = {}
    for group, rows in kept.groupby(group_by, sort=True):
        if len(rows) >= MIN_GROUP:
            groups[group] = rows
        else:
            refused += [_refusal(row, "alone", group, group_by=group_by) for _, row in rows.iterrows()]
    refusals = pd.DataFrame(refused, columns=REFUSAL_COLUMNS)
    return groups, refusals.sort_values("claim_id", ignore_index=True)


POOLED_COLUMNS = ["group", "k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "method"]


def pool_group(rows: pd.DataFrame, *, method: str = "REML", level: float = 0.95,
               ci_method: str = stats.DEFAULT_CI_METHOD) -> stats.PooledProportion:
    labels = [f"{r.source}: {r.study if isinstance(r.study, str) else r.basis}" for r in rows.itertuples()]
    return stats.pool_proportions(rows["numerator"], rows["denominator"], labels, method=method, level=level,
                                  ci_method=ci_method)


def pool_groups(groups: dict, **options) -> tuple[pd.DataFrame, dict]:
    """Pool each group: (one row per group, {group: PooledProportion})."""
    results = {group: pool_group(rows, **options) for group, rows in groups.items()}
    table = pd.DataFrame([dict(group=g, k=r.k, estimate=r.estimate, ci_low=r.ci_low, ci_high=r.ci_high,
                               pi_low=r.pi_low, pi_high=r.pi_high, tau2=r.tau2, i2=r.i2, method=r.method)
                          for g, r in results.items()], columns=POOLED_COLUMNS)
    return table, results


def estimates_with_counts(claims: pd.DataFrame, *, method: str = "wilson", level: float = 0.95) -> pd.DataFrame:
    """Every distinct proportion a page gives with its counts, with its interval (percent)."""
    counted = claims[claims["numerator"].notna()].drop_duplicates(
        ["source_id", "finding_id", "numerator", "denominator"])
    counted = stats.add_intervals(counted, method=method, level=level)
    return pd.DataFrame({
        "claim_id": counted["claim_id"],
        "label": [f"{r.outcome} [{r.source}]" for r in counted.itertuples()],
        "events": counted["numerator"], "total": counted["denominator"],
        "proportion": 100 * counted["numerator"] / counted["denominator"],
        "ci_low": counted["ci_low"], "ci_high": counted["ci_high"],
    }).reset_index(drop=True)
