"""Which claims can be pooled, and pooling them.

A claim can enter a pooled estimate only when it is a rate with its own
numerator and denominator; estimates are comparable only within one topic and
only from different findings (a sentence repeated on two pages is one estimate).
"""
from __future__ import annotations

import pandas as pd

from . import stats

MIN_GROUP = 2


def pooling_candidates(claims: pd.DataFrame, *, group_by: str = "topic") -> tuple[dict, pd.DataFrame]:
    """Groups of poolable estimates, and one refusal reason per estimate left out.

    Returns ({group: rows}, refusals) where refusals has claim_id, group, value_text, reason.
    """
    rates = claims[claims["measure"] == "rate"]
    # One estimate per finding: the statement that gives counts, where one does.
    with_counts = rates["numerator"].notna() & rates["denominator"].notna()
    ordered = pd.concat([rates[with_counts], rates[~with_counts]])
    first = ordered.drop_duplicates("finding_id", keep="first")
    kept_id = dict(zip(first["finding_id"], first["claim_id"]))
    refused = [dict(claim_id=row["claim_id"], group=row[group_by], value_text=row["value_text"],
                    reason=f"states the same finding as {kept_id[row['finding_id']]}, which stands for it")
               for _, row in ordered[ordered.duplicated("finding_id", keep="first")].iterrows()]
    rates = first
    kept, reasons = stats.poolable(rates)
    for reason in reasons:
        claim_id, _, why = reason.partition(": ")
        row = rates.loc[rates["claim_id"] == claim_id].iloc[0]
        refused.append(dict(claim_id=claim_id, group=row[group_by], value_text=row["value_text"],
                            reason=why))
    groups = {}
    for group, rows in kept.groupby(group_by, sort=True):
        if len(rows) >= MIN_GROUP:
            groups[group] = rows
        else:
            for _, row in rows.iterrows():
                refused.append(dict(claim_id=row["claim_id"], group=group, value_text=row["value_text"],
                                    reason=f"the only estimate with a denominator in {group_by} "
                                           f"'{group}': nothing comparable to pool it with"))
    refusals = pd.DataFrame(refused, columns=["claim_id", "group", "value_text", "reason"])
    return groups, refusals.sort_values("claim_id", ignore_index=True)


def pool_group(rows: pd.DataFrame, *, method: str = "REML", level: float = 0.95,
               ci_method: str = stats.DEFAULT_CI_METHOD) -> stats.PooledProportion:
    labels = [f"{r.source}: {r.study if isinstance(r.study, str) else r.basis}" for r in rows.itertuples()]
    return stats.pool_proportions(rows["numerator"], rows["denominator"], labels, method=method, level=level,
                                  ci_method=ci_method)


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
