"""What the primary studies report on each question, set beside the pages' claims.

The tables: questions (what is asked), studies (each once), results (each number a
study reports for a question) and claim_questions (which claims speak to which
question). This module joins them, pools each question's comparable results
(synthesis.py decides what may be pooled), places every claim against the pooled
evidence, and grades the certainty of each pooled estimate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import bias, eligibility, evidence, stats, synthesis
from .dataset import Dataset


def study_results(data: Dataset) -> pd.DataFrame:
    """Every result with its study's label ('Ghiselli 2004'), design, setting, cohort, canonical link and
    risk of bias, and its eligibility (eligibility.overall; `matches` for every result when the
    dataset has no eligibility table)."""
    studies = evidence.studies_labelled(data.studies)
    rows = data.results.merge(
        studies[["study_id", "study", "design", "setting", "cohort_id", "year", "link"]],
        on="study_id", how="left", validate="many_to_one")
    if data.eligibility is not None:
        rows = rows.merge(eligibility.overall(data.eligibility), on="result_id", how="left", validate="one_to_one")
    else:
        rows = rows.assign(eligibility="matches", eligibility_reason="")
    risk = bias.overall(data.risk_of_bias) if data.risk_of_bias is not None else pd.DataFrame(
        columns=["study_id", "risk_of_bias"])
    rows = rows.merge(risk[["study_id", "risk_of_bias"]], on="study_id", how="left", validate="many_to_one")
    return rows.assign(risk_of_bias=rows["risk_of_bias"].fillna("not appraised"))


def question(data: Dataset, question_id: str) -> pd.Series:
    found = data.questions[data.questions["question_id"] == question_id]
    if found.empty:
        known = ", ".join(data.questions["question_id"])
        raise KeyError(f"no question {question_id!r}; the questions are: {known}")
    return found.iloc[0]


def linked_claims(claims: pd.DataFrame, links: pd.DataFrame, question_id: str) -> pd.DataFrame:
    """The claims linked to a question (enriched claims), with compare_with, comparable and the link's note."""
    chosen = links[links["question_id"] == question_id]
    return chosen.merge(claims, on="claim_id", how="left", validate="one_to_one").reset_index(drop=True)


# -- pooling one question ----------------------------------------------------------------

@dataclass
class QuestionSynthesis:
    """A question's results: which were pooled, in which groups, and why the rest were not."""

    question: pd.Series
    rows: pd.DataFrame  # every result, with its count for pooling and, if refused, why
    analysis: str = "primary"  # or "sensitivity": with the indirect results too
    pooled: dict[str, stats.PooledProportion] = field(default_factory=dict)  # group -> result
    pooled_rows: dict[str, pd.DataFrame] = field(default_factory=dict)  # group -> the rows pooled
    leave_one_out: dict[str, pd.DataFrame] = field(default_factory=dict)
    subgroups: pd.DataFrame | None = None  # pooled by design within each group

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(self.rows["group"]))

    def table(self) -> pd.DataFrame:
        """One row per pooled group."""
        return pooled_table(self)


def synthesise(data: Dataset, question_id: str, *, method: str = "REML", level: float = 0.95,
               ci_method: str = stats.DEFAULT_CI_METHOD, hartung_knapp: bool = False,
               include_derived_counts: bool = True, min_studies: int = 2,
               analysis: str = "primary") -> QuestionSynthesis:
    """Pool each group of a question's comparable results (see synthesis.result_eligibility): in the
    primary analysis only the results that match the question on every criterion, in the sensitivity
    analysis the indirect ones too."""
    q = question(data, question_id)
    results = study_results(data)
    results = results[results["question_id"] == question_id]
    rows, groups = synthesis.result_eligibility(results, q, include_derived_counts=include_derived_counts,
                                                min_studies=min_studies, analysis=analysis)
    rows = stats.add_intervals(rows.rename(columns={"pool_events": "numerator", "pool_n": "denominator"}),
                               method=ci_method, level=level).rename(
        columns={"numerator": "pool_events", "denominator": "pool_n"})
    # A printed interval stands where there are no counts to compute one from.
    printed = rows["ci_low"].isna() & rows["printed_ci_low"].notna()
    rows.loc[printed, ["ci_low", "ci_high"]] = rows.loc[printed, ["printed_ci_low", "printed_ci_high"]].to_numpy()
    result = QuestionSynthesis(q, rows, analysis)
    options = dict(method=method, level=level, ci_method=ci_method, hartung_knapp=hartung_knapp)
    result.pooled = synthesis.pool_groups(groups, **options)
    for group, pooled in groups.items():
        result.pooled_rows[group] = pooled
        if len(pooled) >= 3:
            result.leave_one_out[group] = stats.leave_one_out(pooled["pool_events"], pooled["pool_n"],
                                                              pooled["study"].tolist(), **options)
    result.subgroups = design_subgroups(groups, **options)
    return result


POOLED_COLUMNS = ["question_id", "analysis", "group", "k", "total_n", "estimate", "ci_low", "ci_high", "pi_low",
                  "pi_high",
                  "tau2", "i2", "q", "q_pvalue", "method", "hartung_knapp", "studies"]


def pooled_table(result: QuestionSynthesis) -> pd.DataFrame:
    rows = []
    for group, r in result.pooled.items():
        rows.append(dict(question_id=result.question["question_id"], analysis=result.analysis, group=group, k=r.k,
                         total_n=int(r.studies["total"].sum()), estimate=r.estimate, ci_low=r.ci_low,
                         ci_high=r.ci_high, pi_low=r.pi_low, pi_high=r.pi_high, tau2=r.tau2, i2=r.i2, q=r.q,
                         q_pvalue=r.q_pvalue, method=r.method, hartung_knapp=r.hartung_knapp,
                         studies="; ".join(r.studies["label"])))
    return pd.DataFrame(rows, columns=POOLED_COLUMNS)


def design_subgroups(groups: dict[str, pd.DataFrame], **options) -> pd.DataFrame:
    """Within each group that mixes designs, the pooled estimate of each design with 2 or more studies."""
    rows = []
    for group, pooled in groups.items():
        if pooled["design"].nunique() < 2:
            continue
        for design, part in pooled.groupby("design", sort=True):
            if len(part) >= 2:
                r = stats.pool_proportions(part["pool_events"], part["pool_n"], part["study"].tolist(), **options)
                rows.append(dict(group=group, design=design, k=r.k, estimate=r.estimate, ci_low=r.ci_low,
                                 ci_high=r.ci_high, i2=r.i2))
            else:
                rows.append(dict(group=group, design=design, k=len(part), estimate=np.nan, ci_low=np.nan,
                                 ci_high=np.nan, i2=np.nan))
    return pd.DataFrame(rows, columns=["group", "design", "k", "estimate", "ci_low", "ci_high", "i2"])


# -- claims against the evidence ------------------------------------------------------------

PLACEMENTS = {
    "inside": "inside the prediction interval",
    "above": "above the prediction interval",
    "below": "below the prediction interval",
    "inside_ci": "inside the confidence interval (a prediction interval needs 3 studies)",
    "above_ci": "above the confidence interval (a prediction interval needs 3 studies)",
    "below_ci": "below the confidence interval (a prediction interval needs 3 studies)",
    "overlaps": "a range that overlaps the prediction interval",
    "not_comparable": "not comparable",
}
PLACEMENT_COLUMNS = ["claim_id", "source", "value_text", "basis", "study", "study_figure", "group", "pooled",
                     "ci_low", "ci_high", "pi_low", "pi_high", "placement", "vs_ci", "why"]


def place_claims(result: QuestionSynthesis, claims: pd.DataFrame) -> pd.DataFrame:
    """Where each linked claim falls against the pooled evidence of its group, or why it cannot be set there."""
    q = result.question
    rows = []
    for _, c in claims.iterrows():
        group = c["compare_with"] if isinstance(c.get("compare_with"), str) else q["headline_group"]
        group = group if isinstance(group, str) and group else "all"
        base = dict(claim_id=c["claim_id"], source=c.get("source"), value_text=c["value_text"], basis=c["basis"],
                    study=c.get("study"), study_figure=c.get("study_figure"), group=group)
        pooled = result.pooled.get(group)
        if c["comparable"] != "yes":
            rows.append(base | dict(placement="not_comparable", why=c["note"]))
        elif q["pool_by"] == "not_pooled":
            rows.append(base | dict(placement="not_comparable",
                                    why=f"not pooled: {q['notes']} " + _within_range(c, result.rows)))
        elif pooled is None:
            studies = result.rows[result.rows["group"] == group]
            why = (f"nothing pooled in {group} (fewer than the minimum number of comparable studies); "
                   + _within_range(c, studies)) if len(studies) else f"no study reports {group}"
            rows.append(base | dict(placement="not_comparable", why=why.strip()))
        else:
            placement = _placement(c, pooled)
            rows.append(base | dict(pooled=pooled.estimate, ci_low=pooled.ci_low, ci_high=pooled.ci_high,
                                    pi_low=pooled.pi_low, pi_high=pooled.pi_high, placement=placement,
                                    vs_ci=_against(c, pooled.ci_low, pooled.ci_high), why=PLACEMENTS[placement]))
    return pd.DataFrame(rows, columns=PLACEMENT_COLUMNS)


def _claim_span(claim) -> tuple[float, float]:
    if claim["bound"] == "range":
        return float(claim["value_low"]), float(claim["value_high"])
    return float(claim["value"]), float(claim["value"])


def _placement(claim, pooled: stats.PooledProportion) -> str:
    low, high = _claim_span(claim)
    has_pi = math.isfinite(pooled.pi_low)
    lo, hi = (pooled.pi_low, pooled.pi_high) if has_pi else (pooled.ci_low, pooled.ci_high)
    suffix = "" if has_pi else "_ci"
    if low > hi:
        return "above" + suffix
    if high < lo:
        return "below" + suffix
    if low < lo or high > hi:
        return "overlaps" if has_pi else "inside_ci"
    return "inside" + suffix


def _against(claim, low: float, high: float) -> str:
    """Where a claim lies against an interval: above, below, inside, or overlapping (a range)."""
    lo, hi = _claim_span(claim)
    if lo > high:
        return "above"
    if hi < low:
        return "below"
    return "inside" if low <= lo and hi <= high else "overlaps"


def _within_range(claim, studies: pd.DataFrame) -> str:
    if studies.empty:
        return ""
    low, high = _claim_span(claim)
    lo, hi = studies["percent"].min(), studies["percent"].max()
    where = "within" if lo <= low and high <= hi else "outside"
    if f"{lo:g}" == f"{hi:g}":  # one figure, or several equal ones: no range to state
        return f"The claim lies {'at' if where == 'within' else 'away from'} the studies' figure ({lo:g}%)."
    return f"The claim lies {where} the range of the studies' figures ({lo:g}-{hi:g}%)."


# -- certainty ------------------------------------------------------------------------------------

CERTAINTY = ("high", "moderate", "low", "very low")
WEAK_DESIGNS = ("case series", "retrospective chart review", "case report", "other")


def certainty(result: QuestionSynthesis, group: str) -> dict:
    """GRADE-style certainty of one pooled estimate: start high, and downgrade, each with its reason,
    for design (risk of bias), inconsistency, imprecision and indirectness. The rules are this project's
    (docs/literature.md), applied the same way to every question."""
    pooled, rows = result.pooled[group], result.pooled_rows[group]
    downgrades = {}
    weights = pooled.studies["weight"].to_numpy()
    high = rows["risk_of_bias"].isin(["high", "not appraised"]).to_numpy()
    concerns = high | (rows["risk_of_bias"] == "some_concerns").to_numpy()
    if weights[high].sum() >= 50:
        downgrades["risk_of_bias"] = (2, f"{weights[high].sum():.0f}% of the weight from studies at high risk of "
                                         "bias (or not appraised)")
    elif weights[concerns].sum() >= 50:
        downgrades["risk_of_bias"] = (1, f"{weights[concerns].sum():.0f}% of the weight from studies at high risk "
                                         "of bias or with some concerns")
    if pooled.i2 >= 75 and math.isfinite(pooled.pi_high) and pooled.pi_high - pooled.pi_low > 30:
        downgrades["inconsistency"] = (2, f"I\u00b2 {pooled.i2:.0f}%; the prediction interval spans "
                                          f"{pooled.pi_high - pooled.pi_low:.0f} percentage points")
    elif pooled.i2 >= 50:
        downgrades["inconsistency"] = (1, f"I\u00b2 {pooled.i2:.0f}%")
    total = int(pooled.studies["total"].sum())
    width = pooled.ci_high - pooled.ci_low
    if total < 100:
        downgrades["imprecision"] = (2, f"{total} patients in all")
    elif total < 400 or width > 20:
        downgrades["imprecision"] = (1, f"{total} patients; confidence interval {width:.0f} points wide")
    indirect = rows["eligibility"] == "indirect"
    if result.question["indirectness"] == "serious" or indirect.any():
        reason = result.question["notes"] if result.question["indirectness"] == "serious" else \
            f"{int(indirect.sum())} result(s) judged indirect"
        downgrades["indirectness"] = (1, reason)
    level = min(sum(n for n, _ in downgrades.values()), len(CERTAINTY) - 1)
    return dict(certainty=CERTAINTY[level],
                **{f"{domain}_downgrade": downgrades.get(domain, (0, ""))[0]
                   for domain in ("risk_of_bias", "inconsistency", "imprecision", "indirectness")},
                reasons="; ".join(f"{d}: {why}" for d, (_, why) in downgrades.items()))


SOF_COLUMNS = ["question_id", "label", "group", "k", "cohorts", "total_n", "pooled", "ci_low", "ci_high",
               "pi_low", "pi_high", "i2", "certainty", "risk_of_bias_downgrade", "inconsistency_downgrade",
               "imprecision_downgrade", "indirectness_downgrade", "reasons", "claims"]


def summary_of_findings(results: list[QuestionSynthesis], placements: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per pooled group of every question (and one per question with nothing pooled)."""
    rows = []
    for result in results:
        q = result.question
        placed = placements.get(q["question_id"], pd.DataFrame(columns=PLACEMENT_COLUMNS))
        comparable = placed[placed["placement"] != "not_comparable"]
        if not result.pooled:
            why = q["notes"] if q["pool_by"] == "not_pooled" else "fewer than the minimum number of comparable studies"
            claims = "; ".join(f"{r.value_text} ({r.source})" for r in placed.itertuples()
                               if str(r.why).startswith(("not pooled", "nothing pooled")))
            rows.append(dict(question_id=q["question_id"], label=q["label"], group="",
                             k=int(result.rows["study"].nunique()), certainty="not pooled", reasons=why,
                             claims=claims))
            continue
        for group, pooled in result.pooled.items():
            grade = certainty(result, group)
            here = comparable[comparable["group"] == group]
            rows.append(dict(question_id=q["question_id"], label=q["label"], group=group, k=pooled.k,
                             cohorts=int(result.pooled_rows[group]["cohort_id"].nunique()),
                             total_n=int(pooled.studies["total"].sum()), pooled=pooled.estimate,
                             ci_low=pooled.ci_low, ci_high=pooled.ci_high, pi_low=pooled.pi_low,
                             pi_high=pooled.pi_high, i2=pooled.i2, **grade,
                             claims="; ".join(f"{r.value_text} ({r.source}): {PLACEMENTS[r.placement]}, "
                                              f"{r.vs_ci} the CI" for r in here.itertuples())))
    table = pd.DataFrame(rows, columns=SOF_COLUMNS)
    # Rounded as the data warrant: shares to a tenth of a percent, I-squared to a whole one.
    table[["pooled", "ci_low", "ci_high", "pi_low", "pi_high"]] = table[
        ["pooled", "ci_low", "ci_high", "pi_low", "pi_high"]].astype(float).round(1)
    table["i2"] = table["i2"].astype(float).round(0)
    return table


# -- across the questions ----------------------------------------------------------------------

OVERVIEW_COLUMNS = ["question_id", "label", "group", "pooled", "ci_low", "ci_high", "pi_low", "pi_high",
                    "study_low", "study_high"]


def _headline(result: QuestionSynthesis) -> str:
    group = result.question["headline_group"]
    if isinstance(group, str) and group in result.pooled:
        return group
    if result.pooled:
        return next(iter(result.pooled))
    return group if isinstance(group, str) and group else "all"


def overview_rows(results: list[QuestionSynthesis]) -> pd.DataFrame:
    """Each question's headline group: its pooled estimate, or the range of its studies' figures."""
    rows = []
    for result in results:
        group = _headline(result)
        pooled = result.pooled.get(group)
        studies = result.rows[result.rows["group"] == group] if group != "all" else result.rows
        if studies.empty:
            studies = result.rows
        base = dict(question_id=result.question["question_id"], label=result.question["label"], group=group,
                    study_low=studies["percent"].min() if len(studies) else np.nan,
                    study_high=studies["percent"].max() if len(studies) else np.nan)
        if pooled is not None:
            base |= dict(pooled=pooled.estimate, ci_low=pooled.ci_low, ci_high=pooled.ci_high,
                         pi_low=pooled.pi_low, pi_high=pooled.pi_high)
        rows.append(base)
    return pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)


def comparable_claims(claims: pd.DataFrame, links: pd.DataFrame, overview: pd.DataFrame) -> pd.DataFrame:
    """The comparable claims that speak to each question's headline group (what the overview draws)."""
    joined = links[links["comparable"] == "yes"].merge(claims, on="claim_id", how="left").merge(
        overview[["question_id", "group"]], on="question_id", how="inner")
    compare = joined["compare_with"].where(joined["compare_with"].notna(), joined["group"])
    drawn = joined[(compare == joined["group"]) | (joined["group"] == "all")]
    return evidence.distinct_statements(drawn).reset_index(drop=True)


HEADLINE_COLUMNS = ["claim_id", "value_text", "source", "basis", "question", "group", "evidence", "placement",
                    "vs_ci", "why"]


def headline_claims(placements: dict[str, pd.DataFrame], claims: pd.DataFrame, labels: dict | None = None
                    ) -> pd.DataFrame:
    """Every comparable claim (one per finding and page), beside what the studies report for its question."""
    rows = []
    finding = dict(zip(claims["claim_id"], claims["finding_id"]))
    seen = set()
    for question_id, placed in placements.items():
        for r in placed.itertuples(index=False):
            key = (finding.get(r.claim_id), r.source, question_id)
            if key in seen:
                continue
            if r.placement == "not_comparable" and not str(r.why).startswith(("not pooled", "nothing pooled")):
                continue  # another kind of number (a count, a threshold): not a headline rate
            seen.add(key)
            if pd.notna(r.pooled):
                pi = f", PI {r.pi_low:.1f}-{r.pi_high:.1f}%" if pd.notna(r.pi_low) else ""
                where = f"pooled {r.pooled:.1f}% (CI {r.ci_low:.1f}-{r.ci_high:.1f}%{pi})"
            else:
                where = r.why
            rows.append(dict(claim_id=r.claim_id, value_text=r.value_text, source=r.source, basis=r.basis,
                             question=(labels or {}).get(question_id, question_id), group=r.group,
                             evidence=where, placement=r.placement, vs_ci=r.vs_ci,
                             why=PLACEMENTS[r.placement] if r.placement != "not_comparable" else r.why))
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)
