"""Whether each result answers its question: judged per criterion, and what that means for pooling.

data/literature/eligibility.csv holds one reconciled judgement per result and criterion
(population, intervention, outcome, follow-up). A result that matches on every criterion
enters the primary analysis; one that is indirect on any criterion (and does not fail
any) enters only the sensitivity analysis beside it; one that does not match on some
criterion is never pooled. The two readers' own judgements (extraction/eligibility/)
give the agreement before reconciliation, as Cohen's kappa per criterion.
"""
from __future__ import annotations

import pandas as pd
from statsmodels.stats.inter_rater import cohens_kappa

from . import vocab

ANALYSES = ("primary", "sensitivity")


def overall(eligibility: pd.DataFrame) -> pd.DataFrame:
    """One row per result: its overall judgement (the worst of its criteria) and why, criterion by criterion."""
    rank = {j: i for i, j in enumerate(vocab.JUDGEMENTS)}
    worst = eligibility.assign(r=eligibility["judgement"].map(rank)).groupby("result_id", sort=False)["r"].max()
    off = eligibility[eligibility["judgement"] != "matches"]
    why = pd.Series({result_id: "; ".join(f"{c} {j.replace('_', ' ')}: {r}" for c, j, r in
                                          zip(g["criterion"], g["judgement"], g["reason"]))
                     for result_id, g in off.groupby("result_id", sort=False)}, dtype=object)
    return pd.DataFrame({"result_id": worst.index,
                         "eligibility": worst.map(dict(enumerate(vocab.JUDGEMENTS))).to_numpy(),
                         "eligibility_reason": worst.index.map(why).to_numpy()})


def enters(judgement: pd.Series, analysis: str) -> pd.Series:
    """Whether results with this overall judgement enter the primary or the sensitivity analysis."""
    if analysis not in ANALYSES:
        raise ValueError(f"analysis '{analysis}' is not one of {', '.join(ANALYSES)}")
    allowed = ("matches",) if analysis == "primary" else ("matches", "indirect")
    return judgement.isin(allowed)


def agreement(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Cohen's kappa and the share agreed, per criterion, between two readers' wide tables
    (result_id and one column per criterion)."""
    both = first.merge(second, on="result_id", suffixes=("_1", "_2"), validate="one_to_one")
    if both.empty:  # no readers' files: nothing to compare
        return pd.DataFrame(columns=["criterion", "results", "agreed", "agreement", "kappa"])
    rows = []
    for criterion in vocab.CRITERIA:
        a = pd.Categorical(both[f"{criterion}_1"], categories=vocab.JUDGEMENTS)
        b = pd.Categorical(both[f"{criterion}_2"], categories=vocab.JUDGEMENTS)
        table = pd.crosstab(a, b, dropna=False).reindex(index=vocab.JUDGEMENTS, columns=vocab.JUDGEMENTS,
                                                        fill_value=0)
        rows.append(dict(criterion=criterion, results=len(both), agreed=int((a == b).sum()),
                         agreement=100 * float((a == b).mean()), kappa=cohens_kappa(table.to_numpy()).kappa))
    return pd.DataFrame(rows)


def readers(folder) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two readers' own judgements (extraction/eligibility/r1*.csv and r2*.csv under `folder`):
    the first pass and the results added later, each reader's files together."""
    from pathlib import Path

    folder = Path(folder)
    empty = pd.DataFrame(columns=["result_id", *vocab.CRITERIA])  # a data folder without the readers' files
    return tuple(pd.concat([empty, *(pd.read_csv(f, dtype=str, keep_default_na=False)
                                     for f in sorted(folder.glob(f"{reader}*.csv")))], ignore_index=True)
                 for reader in ("r1", "r2"))
