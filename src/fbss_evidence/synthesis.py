"""What may be pooled, decided in one place, and pooling it.

An estimate enters a pooled proportion only when it is a point estimate of a share of
patients with its own numerator and denominator, and only beside comparable estimates.
Every estimate left out gets a reason: a code from REASONS and a sentence. The
refusals are a table (claim_id, group, value_text, reason_code, reason), never strings
to split.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import eligibility, stats

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
    kept = kept.assign(pool_label=[f"{r.source}: {r.study if isinstance(r.study, str) else r.basis}"
                                   for r in kept.itertuples()])
    groups = {}
    for group, rows in kept.groupby(group_by, sort=True):
        if len(rows) >= MIN_GROUP:
            groups[group] = rows
        else:
            refused += [_refusal(row, "alone", group, group_by=group_by) for _, row in rows.iterrows()]
    refusals = pd.DataFrame(refused, columns=REFUSAL_COLUMNS)
    return groups, refusals.sort_values("claim_id", ignore_index=True)


POOLED_COLUMNS = ["group", "k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "method"]


def pool_groups(groups: dict, *, events: str = "pool_events", totals: str = "pool_n", labels: str = "study",
                **options) -> dict:
    """The one pooling track: each group's rows pooled by stats.pool_proportions ({group: PooledProportion}).
    The literature's results (the defaults) and the pages' own counts (events='numerator',
    totals='denominator', labels='pool_label') both pool through it."""
    return {group: stats.pool_proportions(rows[events], rows[totals], rows[labels].tolist(), **options)
            for group, rows in groups.items()}


def pooled_table(results: dict) -> pd.DataFrame:
    """One row per pooled group."""
    return pd.DataFrame([dict(group=g, k=r.k, estimate=r.estimate, ci_low=r.ci_low, ci_high=r.ci_high,
                              pi_low=r.pi_low, pi_high=r.pi_high, tau2=r.tau2, i2=r.i2, method=r.method)
                         for g, r in results.items()], columns=POOLED_COLUMNS)


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


# -- the primary studies' results ------------------------------------------------------

RESULT_REASONS = {
    "not_pooled": "the question is not pooled: {question_notes}",
    "review": "a review's own pooled figure: shown beside its studies, never pooled with them",
    "not_eligible": "does not answer the question: {eligibility_reason}",
    "indirect": "indirect, so in the sensitivity analysis only: {eligibility_reason}",
    "no_counts": "no count and no n: a bare percentage has no sampling error",
    "derived_excluded": "its count would be derived from a percent, and include_derived_counts is False",
    "same_cohort": "the same cohort ({cohort_id}) as {kept}, which stands for it",
    "too_few": "{k} comparable result(s) in group '{group}'; pooling needs at least {min_studies}",
}
GROUP_COLUMNS = ("timepoint_group", "arm", "population_subgroup")
_BASIS_RANK = {"stated": 0, "derived_from_percent": 1, "percent_with_ci": 2, "percent_only": 2, "kaplan_meier": 3}


def _count(row) -> tuple[float, float, str]:
    """(events, n, how) a result can be pooled with, or NaNs; `how` says whether it was derived."""
    basis, n = row["count_basis"], row["n"]
    if basis == "stated":
        return row["events"], n, "stated"
    if basis == "derived_from_percent":
        return row["events"], n, "derived from the printed percent and n (data)"
    if pd.isna(n):
        return np.nan, np.nan, "no n"
    events = round(row["percent"] * n / 100)
    if basis == "kaplan_meier":
        return events, n, "derived now from a Kaplan-Meier estimate and the number at start (overstates precision)"
    return events, n, "derived now from the printed percent and n"


def _nominal_months(group) -> float:
    """The follow-up a group stands for: '5y' -> 60, '6m' -> 6; NaN for other groups."""
    match = re.fullmatch(r"(\d+)([my])", str(group))
    if match is None:
        return np.nan
    return float(match[1]) * (12 if match[2] == "y" else 1)


def complement_successes(rows: pd.DataFrame) -> pd.DataFrame:
    """Results flagged success_not_failure as the share without success (100 - the printed share),
    their counts and interval turned round too; `complemented` says which."""
    rows = rows.copy()
    flip = rows["flags"].astype(object).fillna("").astype(str).str.contains("success_not_failure").to_numpy()
    rows["complemented"] = flip
    if flip.any():
        rows.loc[flip, "percent"] = 100 - rows.loc[flip, "percent"]
        rows.loc[flip, "events"] = rows.loc[flip, "n"] - rows.loc[flip, "events"]
        low, high = rows.loc[flip, "ci_low"].copy(), rows.loc[flip, "ci_high"].copy()
        rows.loc[flip, "ci_low"], rows.loc[flip, "ci_high"] = 100 - high, 100 - low
    return rows


def result_eligibility(results: pd.DataFrame, question, *, include_derived_counts: bool = True,
                       min_studies: int = 2, analysis: str = "primary") -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Every result of one question with the group it belongs to and the count it is pooled with,
    or the reason (code and sentence) it is not; and the rows to pool, by group.

    A result is pooled when the question is pooled, it is a primary study (not a review),
    has a count (stated, or derived from a percent and n when include_derived_counts), is
    its cohort's best result in its group, and its group has at least min_studies such
    results. A cohort's best result: not an as-treated analysis where another exists, then
    stated counts before derived ones, then the follow-up nearest the group's (5y: 60
    months) or, in groups that are not follow-ups, the longest, then the larger n and the
    later study. Eligibility (column `eligibility`, eligibility.overall) decides first: the
    primary analysis takes only results that match the question on every criterion, the
    sensitivity analysis also those that are indirect, and neither one that does not
    match. A result that reports success where the question asks about a
    poor outcome (flag success_not_failure) enters as its complement, which says so.
    """
    rows = results.copy().reset_index(drop=True)
    rows = complement_successes(rows)
    by = question["pool_by"]
    rows["group"] = rows[by].fillna("unspecified") if by in GROUP_COLUMNS else "all"
    counts = [_count(r) for _, r in rows.iterrows()]
    rows["pool_events"] = [c[0] for c in counts]
    rows["pool_n"] = [c[1] for c in counts]
    rows["count_note"] = [c[2] for c in counts]
    rows["printed_ci_low"], rows["printed_ci_high"] = rows["ci_low"], rows["ci_high"]
    rows = rows.drop(columns=["ci_low", "ci_high"])
    rows["reason_code"], rows["reason"] = None, None

    def refuse(mask, code, **extra):
        for i in np.flatnonzero(np.asarray(mask, dtype=bool) & rows["reason_code"].isna().to_numpy()):
            fields = {**rows.iloc[i].to_dict(), **extra}
            rows.loc[i, ["reason_code", "reason"]] = [code, RESULT_REASONS[code].format(**fields)]

    flags = rows["flags"].astype(object).fillna("").astype(str)
    refuse(np.full(len(rows), by == "not_pooled"), "not_pooled", question_notes=question["notes"])
    refuse(rows["design"] == "systematic review", "review")
    refuse(rows["eligibility"] == "does_not_match", "not_eligible")
    refuse(~eligibility.enters(rows["eligibility"], analysis), "indirect")
    refuse(rows["pool_n"].isna(), "no_counts")
    derived = ~rows["count_note"].isin(["stated"])
    refuse(derived & (not include_derived_counts), "derived_excluded")

    eligible = rows["reason_code"].isna()
    nominal = rows["group"].map(_nominal_months)
    distance = (rows["timepoint_months"] - nominal).abs() if by == "timepoint_group" else -rows["timepoint_months"]
    ranked = rows[eligible].assign(
        as_treated=flags.str.contains("as_treated"), rank=rows["count_basis"].map(_BASIS_RANK),
        distance=distance.fillna(np.inf), year_num=pd.to_numeric(rows["year"], errors="coerce"),
    ).sort_values(["group", "cohort_id", "as_treated", "rank", "distance", "pool_n", "year_num"],
                  ascending=[True, True, True, True, True, False, False])
    for (group, cohort), part in ranked.groupby(["group", "cohort_id"], sort=False):
        kept = part.iloc[0]
        for i in part.index[1:]:
            refuse(rows.index == i, "same_cohort", kept=kept["study"])
    groups = {}
    order = sorted(rows["group"].unique(), key=lambda g: (np.nan_to_num(_nominal_months(g), nan=np.inf), str(g)))
    rows = rows.assign(group=pd.Categorical(rows["group"], categories=order, ordered=True)).sort_values(
        "group", kind="stable").assign(group=lambda r: r["group"].astype(str)).reset_index(drop=True)
    for group, part in rows[rows["reason_code"].isna()].groupby("group", sort=False):
        if len(part) >= min_studies:
            groups[group] = part.sort_values(["pool_n"], ascending=False)
        else:
            refuse(rows.index.isin(part.index), "too_few", k=len(part), min_studies=min_studies)
    return rows, groups
