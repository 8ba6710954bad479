"""A verdict for every claim: where it falls against the evidence that matches it, and one label that
combines everything the project knows about it, with a one-sentence reason made from the data.

Two layers, each with its rules written down in docs/methods.md ("Verdicts") and tested case by case:

1. **The evidence verdict** (`evidence_verdict`): the claim against the pooled estimate (primary
   analysis) of the group its link names (claim_questions.compare_with: population, arm or follow-up),
   read by what the claim means: an exact figure, "about" a figure, a range, "up to" or "more than".
2. **The claim verdict** (`claim_verdict`): its basis, the citation audit's verdict, the page's own
   arithmetic and the evidence verdict, combined into one label a reader understands.
"""
from __future__ import annotations

import math

import pandas as pd

from . import stats

# A confidence interval wider than this (percentage points) spans outcomes from uncommon to common:
# a claim is not judged against it, whichever side it falls.
WIDTH_THRESHOLD = 30.0
# "About X" is read as X give or take a tenth of X, at least one point.
APPROX_SHARE, APPROX_MIN = 0.10, 1.0

EVIDENCE_VERDICTS = {
    "consistent": "within the confidence interval of the matching evidence (a range: overlapping it)",
    "higher_than_evidence": "above the confidence interval of the matching evidence",
    "lower_than_evidence": "below the confidence interval of the matching evidence",
    "evidence_too_uncertain": f"the matching evidence's confidence interval is wider than {WIDTH_THRESHOLD:g} points",
    "no_comparable_evidence": "nothing pooled for the group the claim speaks to",
    "not_comparable": "linked to a question, but not the share it asks (another treatment, outcome or count): "
                      "the link's note says why",
    "not_a_literature_question": "the claim is not a share the studies measure (a count, a protocol, the "
                                 "clinic's own experience) or speaks to no question",
}

CLAIM_VERDICTS = {
    "supported": "the cited study says it, or the matching evidence agrees",
    "overstated": "higher than the matching evidence shows",
    "understated": "lower than the matching evidence shows",
    "misattributed": "the footnote points at a study that does not report it, or reports it for another "
                     "population than the page names",
    "contradicted": "the cited study, or the page's own numbers, say otherwise",
    "unsupported": "no source that shows it, and no evidence that could confirm it",
    "not_checkable": "rests on the clinic's own experience or a study that could not be read, and no "
                     "evidence could confirm it",
}
# For the ClaimReview export: 1 (false) to 5 (true), as fact-checkers' ratings run.
RATING = {"supported": 5, "not_checkable": 3, "unsupported": 2, "overstated": 2, "understated": 2,
          "misattributed": 2, "contradicted": 1}
WORST_RATING, BEST_RATING = 1, 5


# -- the evidence verdict ---------------------------------------------------------------------------

def claim_span(claim) -> tuple[float, float]:
    """The values a claim asserts: a point, 'about' a point widened by the approximation rule, a range."""
    if claim["bound"] == "range":
        return float(claim["value_low"]), float(claim["value_high"])
    value = float(claim["value"])
    if claim["bound"] == "approx":
        slack = max(APPROX_MIN, APPROX_SHARE * value)
        return max(0.0, value - slack), min(100.0, value + slack)
    return value, value


def position(claim, pooled) -> str:
    """Where the claim lies against the confidence interval, whatever the verdict: inside, overlapping
    (a range or 'about'), above or below."""
    lo, hi = claim_span(claim)
    if lo > pooled.ci_high:
        return "above the CI"
    if hi < pooled.ci_low:
        return "below the CI"
    return "inside the CI" if pooled.ci_low <= lo and hi <= pooled.ci_high else "overlapping the CI"


def _highest_study(pooled) -> float:
    studies = getattr(pooled, "studies", None)
    return float(studies["proportion"].max()) if studies is not None and len(studies) else -math.inf


def evidence_verdict(claim, pooled) -> dict:
    """The claim against one pooled estimate (stats.PooledProportion, or None): the verdict, the gap in
    points when it lies outside, the interval's width.

    An exact, 'about' or range claim is consistent when it meets the confidence interval. 'Up to X'
    claims the highest share: it is too high when X exceeds both the CI and the highest share a single
    pooled study reports, too low when X is below the CI. 'More than X' is too high when X lies above
    the CI, else consistent. `position` says where the claim lies against the CI in every case, so a
    verdict withheld for a wide interval still shows the direction."""
    if pooled is None:
        return dict(evidence_verdict="no_comparable_evidence", gap=math.nan, width=math.nan, position="")
    low, high, width = pooled.ci_low, pooled.ci_high, pooled.ci_high - pooled.ci_low
    where = position(claim, pooled)
    if width > WIDTH_THRESHOLD:
        return dict(evidence_verdict="evidence_too_uncertain", gap=math.nan, width=width, position=where)
    lo, hi = claim_span(claim)
    top = max(high, _highest_study(pooled))
    if claim["bound"] == "upper":
        above, below = lo - top, low - hi
    elif claim["bound"] == "lower":
        above, below = lo - high, -math.inf
    else:
        above, below = lo - high, low - hi
    if above > 0:
        return dict(evidence_verdict="higher_than_evidence", gap=above, width=width, position=where)
    if below > 0:
        return dict(evidence_verdict="lower_than_evidence", gap=below, width=width, position=where)
    return dict(evidence_verdict="consistent", gap=0.0, width=width, position=where)


def robustness(claim, pooled_by_method: dict) -> dict:
    """The evidence verdict under each pooling method (method name -> PooledProportion or None), and
    whether it depends on the method."""
    verdicts = {method: evidence_verdict(claim, pooled)["evidence_verdict"]
                for method, pooled in pooled_by_method.items()}
    return dict(by_method="; ".join(f"{m}: {v}" for m, v in verdicts.items()),
                depends_on_method=len(set(verdicts.values())) > 1)


# -- one verdict per claim ----------------------------------------------------------------------------

AUDIT_FOR_STUDY = {"supported"}
AUDIT_AGAINST = {"contradicted", "figure_differs"}
AUDIT_UNREAD = {"not_found"}


def claim_verdict(basis: str, audit, arithmetic_agrees, evidence: str) -> str:
    """One label from what the project knows about a claim (the rules, in order, in docs/methods.md).

    basis: cited_study, clinic_experience or uncited; audit: the citation audit's verdict (None when
    the claim is not cited); arithmetic_agrees: False when the page's own numbers do not give it
    (None when there is nothing to re-derive); evidence: the evidence verdict."""
    if audit in ("misattributed", "population_differs"):
        return "misattributed"
    if audit in AUDIT_AGAINST or arithmetic_agrees is False:
        return "contradicted"
    if evidence == "higher_than_evidence":
        return "overstated"
    if evidence == "lower_than_evidence":
        return "understated"
    if evidence == "consistent" or audit in AUDIT_FOR_STUDY:
        return "supported"
    if basis == "clinic_experience" or audit in AUDIT_UNREAD:
        return "not_checkable"
    return "unsupported"


def reason(row) -> str:
    """One sentence, made from the data, that says why the claim has its verdict."""
    value = f'"{row["value_text"]}"'
    cited = f"the cited study ({row['study']})" if isinstance(row.get("study"), str) else "the cited study"
    evidence = ""
    if isinstance(row.get("group"), str) and pd.notna(row.get("pooled")):
        evidence = (f"the studies of {row['question_label'].lower()} ({row['group']}) pool to {row['pooled']:.1f}% "
                    f"(95% CI {row['ci_low']:.1f}-{row['ci_high']:.1f}%)")
    verdict, ev = row["verdict"], row["evidence_verdict"]
    if verdict == "misattributed":
        also = f"; {evidence}" if evidence else ""
        return f"{value}: {cited} does not report it as the page says ({row['audit_explanation']}){also}."
    if verdict == "contradicted":
        if row.get("arithmetic_agrees") is False:
            return f"{value}: the page's own numbers do not give it ({row['arithmetic_note']})."
        return f"{value}: {cited} reports otherwise ({row['study_figure'] or 'see the citation audit'})."
    if verdict in ("overstated", "understated"):
        side = "above" if verdict == "overstated" else "below"
        return f"{value} lies {row['gap']:.1f} points {side} the evidence: {evidence}."
    if verdict == "supported":
        if ev == "consistent":
            return f"{value} agrees with the evidence: {evidence}."
        return f"{value}: {cited} reports it ({row['study_figure'] or 'as the page says'})."
    why = {"evidence_too_uncertain": f"the evidence is too uncertain to judge it ({evidence}, an interval "
                                     f"{row['width']:.0f} points wide; the claim lies {row['position']})",
           "no_comparable_evidence": "no pooled evidence matches it",
           "not_comparable": f"the studies measure something else ({str(row.get('link_note', '')).rstrip('.')})",
           "not_a_literature_question": "it is not a share the studies measure"}[ev]
    if verdict == "not_checkable":
        source = "the clinic's own experience" if row["basis"] == "clinic_experience" else \
            f"{cited}, which could not be read"
        return f"{value} rests on {source}, and {why}."
    source = {"uncited": "no source", "clinic_experience": "the clinic's own experience"}.get(
        row["basis"], f"{cited}, which does not show it ({str(row['audit']).replace('_', ' ')})")
    return f"{value} rests on {source}, and {why}."


VERDICT_COLUMNS = ["claim_id", "source", "source_id", "value_text", "quote", "basis", "study", "study_link",
                   "audit", "arithmetic_agrees", "question_id", "group", "pooled", "ci_low", "ci_high", "width",
                   "position", "evidence_verdict", "gap", "by_method", "depends_on_method", "verdict", "reason",
                   "figure"]


def scorecard(verdicts: pd.DataFrame) -> pd.DataFrame:
    """For each page, how many of its claims fall under each verdict (columns in CLAIM_VERDICTS order)."""
    table = pd.crosstab(verdicts["source"], pd.Categorical(verdicts["verdict"], categories=list(CLAIM_VERDICTS)),
                        dropna=False)
    table.columns = [str(c) for c in table.columns]
    table.index.name = "page"
    return table.assign(claims=table.sum(axis=1)).reset_index()


# -- every claim ----------------------------------------------------------------------------------------

METHODS = {"REML": dict(method="REML"), "DL": dict(method="DL"), "PM": dict(method="PM"),
           "REML, Hartung-Knapp": dict(method="REML", hartung_knapp=True)}


def _arithmetic(claims: pd.DataFrame) -> pd.DataFrame:
    """Per claim: whether every re-derivation of its figure from the page's own numbers agrees."""
    from . import arithmetic

    checks = arithmetic.rederive(claims)
    if checks.empty:
        return pd.DataFrame(columns=["claim_id", "arithmetic_agrees", "arithmetic_note"])
    grouped = checks.groupby("claim_id", sort=False)
    return pd.DataFrame({"arithmetic_agrees": grouped["agrees"].all(),
                         "arithmetic_note": grouped["note"].agg(lambda n: "; ".join(x for x in n if x))}
                        ).reset_index()


def claim_verdicts(data, claims: pd.DataFrame, *, level: float = 0.95, include_derived_counts: bool = True,
                   min_studies: int = 2, extra_methods: dict | None = None) -> pd.DataFrame:
    """Every claim with its evidence verdict (primary analysis, REML, against the group its link names),
    that verdict under the other pooling methods (METHODS, the binomial-normal model, and `extra_methods`:
    name -> function (events, totals, labels, level=) -> PooledProportion), its claim verdict
    and reason. `claims`: the enriched claims (evidence.enrich)."""
    from . import evidence, literature

    studies = evidence.studies_labelled(data.studies).set_index("study_id")
    links = data.links.sort_values("comparable", ascending=False, kind="stable").drop_duplicates("claim_id")
    questions = data.questions.set_index("question_id")
    fits = {}
    options = dict(level=level, include_derived_counts=include_derived_counts, min_studies=min_studies)
    for question_id in links.loc[links["comparable"] == "yes", "question_id"].unique():
        fits[question_id] = {name: literature.synthesise(data, question_id, **options, **how)
                             for name, how in METHODS.items()}
    rows = claims.merge(_arithmetic(claims), on="claim_id", how="left")
    audit = data.audit.set_index("claim_id") if data.audit is not None else pd.DataFrame()
    out = []
    for claim in rows.to_dict("records"):
        link = links[links["claim_id"] == claim["claim_id"]]
        row = dict(claim, audit=claim.get("verdict") if claim["basis"] == "cited_study" else None,
                   audit_explanation=audit["explanation"].get(claim["claim_id"], "") if len(audit) else "",
                   study_link=studies["link"].get(claim.get("study_id"), "") if isinstance(claim.get("study_id"), str)
                   else "", arithmetic_agrees=None if pd.isna(claim.get("arithmetic_agrees")) else
                   bool(claim["arithmetic_agrees"]), question_id=None, group=None, pooled=math.nan,
                   ci_low=math.nan, ci_high=math.nan, width=math.nan, gap=math.nan, position="", by_method="",
                   depends_on_method=False, figure="", link_note="")
        if link.empty or claim["unit"] != "percent":
            row["evidence_verdict"] = "not_a_literature_question"
        elif link.iloc[0]["comparable"] != "yes":
            row |= dict(evidence_verdict="not_comparable", question_id=link.iloc[0]["question_id"],
                        link_note=link.iloc[0]["note"], figure=f"figures/10-{link.iloc[0]['question_id']}.png")
        else:
            q = link.iloc[0]
            question = questions.loc[q["question_id"]]
            group = q["compare_with"] if isinstance(q["compare_with"], str) else question["headline_group"]
            group = group if isinstance(group, str) and group else "all"
            by_method = {name: fit.pooled.get(group) for name, fit in fits[q["question_id"]].items()}
            for name, fit_group in {"binomial-normal": stats.glmm_proportions, **(extra_methods or {})}.items():
                pooled_rows = fits[q["question_id"]]["REML"].pooled_rows.get(group)
                try:
                    by_method[name] = None if pooled_rows is None else fit_group(
                        pooled_rows["pool_events"], pooled_rows["pool_n"], pooled_rows["study"].tolist(),
                        level=level)
                except stats.PoolingRefused:
                    by_method[name] = None
            primary = by_method["REML"]
            row |= dict(question_id=q["question_id"], question_label=question["label"], group=group,
                        figure=f"figures/10-{q['question_id']}.png", **evidence_verdict(claim, primary),
                        **robustness(claim, by_method))
            if primary is not None:
                row |= dict(pooled=primary.estimate, ci_low=primary.ci_low, ci_high=primary.ci_high)
        row["verdict"] = claim_verdict(claim["basis"], row["audit"], row["arithmetic_agrees"], row["evidence_verdict"])
        row["reason"] = reason(row)
        out.append(row)
    return pd.DataFrame(out)[VERDICT_COLUMNS]
