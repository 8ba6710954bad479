"""The findings in a few plain sentences, every number read from the tables the notebooks wrote
(tables/11-summary-of-findings, 11-headline-claims, 08-audit-by-page): the report opens with them."""
from __future__ import annotations

import pandas as pd

# Where a claim falls against the pooled evidence: outside its interval.
OUTSIDE = frozenset({"above", "below", "above_ci", "below_ci"})
# Audit verdicts that say the cited study says something else than the page.
DIFFERS = ("population or context differs", "figure differs", "contradicted", "misattributed")


def plain_summary(claims: int, sources: int, sof: pd.DataFrame | None = None, headline: pd.DataFrame | None = None,
                  audit: pd.DataFrame | None = None, verdicts: pd.DataFrame | None = None) -> list[str]:
    """One paragraph per table given: how many claims, what could be pooled and how sure it is, how many
    headline numbers fall outside the evidence, what the citation audit found, the claims' verdicts."""
    parts = [f"The {sources} clinic web pages about failed back surgery syndrome in the data make {claims} "
             "quantitative claims. This report sets each beside the evidence."]
    if sof is not None:
        sof = sof[sof["analysis"] == "primary"] if "analysis" in sof.columns else sof
        pooled = sof[sof["certainty"] != "not pooled"]
        levels = ", ".join(f"{n} {c}" for c, n in pooled["certainty"].value_counts().items())
        parts.append(f"For {pooled['question_id'].nunique()} of the {sof['question_id'].nunique()} questions the "
                     f"pages' numbers speak to, the primary studies that answer them directly could be pooled, in "
                     f"{len(pooled)} groups (by "
                     f"follow-up or comparison)" + (f", with {levels} certainty." if levels else "."))
    if headline is not None:
        outside = headline[headline["placement"].isin(OUTSIDE)]
        which = "; ".join(f"{v} ({q})" for v, q in zip(outside["value_text"], outside["question"]))
        parts.append(f"Of the pages' {len(headline)} headline numbers that can be set beside the studies, "
                     f"{len(outside)} fall outside the interval of the pooled evidence"
                     + (f": {which}." if which else "."))
    if audit is not None:
        n = {k: int(v) for k, v in audit.drop(columns="source").sum().items()}
        cited = sum(n.values()) - n.get("clinic experience", 0) - n.get("uncited", 0)
        parts.append(f"Of the {cited} numbers the pages attribute to a study, the study supports "
                     f"{n.get('supported', 0)}; for {sum(n.get(c, 0) for c in DIFFERS)} it says something else "
                     f"(another population, another figure, the opposite, or it is the wrong study) and "
                     f"{n.get('unverifiable', 0)} cannot be checked from the abstract. {n.get('clinic experience', 0)} "
                     f"more rest on the clinic's own experience and {n.get('uncited', 0)} on nothing cited.")
    if verdicts is not None:
        n = verdicts["verdict"].value_counts()
        parts.append(f"Each claim has one verdict: {n.get('supported', 0)} supported, {n.get('overstated', 0)} "
                     f"overstated, {n.get('understated', 0)} understated, {n.get('misattributed', 0)} misattributed, "
                     f"{n.get('contradicted', 0)} contradicted, {n.get('unsupported', 0)} unsupported and "
                     f"{n.get('not_checkable', 0)} not checkable; the scorecards below count them page by page.")
    return parts
