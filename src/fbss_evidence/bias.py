"""Risk of bias: each study's overall judgement from its item-by-item appraisal.

data/literature/risk_of_bias.csv answers every item of the tool fit for the study's
design (the JBI checklist for prevalence studies, or RoB 2 for randomised trials),
reconciled from two independent readers (extraction/risk_of_bias/). The overall rules,
written down in docs/literature.md:

- RoB 2: high when any domain is high; some concerns when any domain has some concerns;
  otherwise low (Sterne et al. 2019).
- JBI prevalence: high when the proportion itself is at risk (a "no" on J5 coverage of the
  sample, J6 valid identification of the outcome or J7 standard measurement) or when three
  or more items are "no"; low when no item is "no" and at most two are "unclear"; some
  concerns otherwise.
"""
from __future__ import annotations

import pandas as pd

CORE_JBI_ITEMS = ("J5", "J6", "J7")  # the items whose failure biases the proportion itself
MAX_UNCLEAR_FOR_LOW = 2
MIN_NO_FOR_HIGH = 3


def judge(tool: str, answers: dict[str, str]) -> str:
    """The overall risk of bias of one study from its answers (item -> answer)."""
    values = list(answers.values())
    if tool == "rob2":
        if "high" in values:
            return "high"
        return "some_concerns" if "some_concerns" in values else "low"
    no = [item for item, a in answers.items() if a == "no"]
    if set(no) & set(CORE_JBI_ITEMS) or len(no) >= MIN_NO_FOR_HIGH:
        return "high"
    if not no and values.count("unclear") <= MAX_UNCLEAR_FOR_LOW:
        return "low"
    return "some_concerns"


def overall(risk_of_bias: pd.DataFrame) -> pd.DataFrame:
    """One row per study: its tool, overall risk of bias, and the items answered no / high."""
    rows = []
    for (study_id, tool), part in risk_of_bias.groupby(["study_id", "tool"], sort=True):
        answers = dict(zip(part["item"], part["answer"]))
        against = [i for i, a in answers.items() if a in ("no", "high")]
        rows.append(dict(study_id=study_id, tool=tool, risk_of_bias=judge(tool, answers),
                         items_against=", ".join(sorted(against))))
    return pd.DataFrame(rows, columns=["study_id", "tool", "risk_of_bias", "items_against"])


def agreement(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Cohen's kappa and the share agreed, per tool, between the two readers' item-by-item answers."""
    from statsmodels.stats.inter_rater import cohens_kappa

    both = first.merge(second, on=["study_id", "item"], suffixes=("_1", "_2"), validate="one_to_one")
    both = both[both["tool_1"].isin(["jbi_prevalence", "rob2"])]
    rows = []  # none without the readers' files
    for tool, part in both.groupby("tool_1", sort=True):
        answers = sorted(set(part["answer_1"]) | set(part["answer_2"]))
        table = pd.crosstab(pd.Categorical(part["answer_1"], answers), pd.Categorical(part["answer_2"], answers),
                            dropna=False)
        agreed = part["answer_1"] == part["answer_2"]
        rows.append(dict(tool=tool, studies=part["study_id"].nunique(), answers=len(part), agreed=int(agreed.sum()),
                         agreement=100 * float(agreed.mean()), kappa=cohens_kappa(table.to_numpy()).kappa))
    return pd.DataFrame(rows, columns=["tool", "studies", "answers", "agreed", "agreement", "kappa"])


def readers(folder) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two readers' own answers (extraction/risk_of_bias/r1.csv and r2.csv under `folder`)."""
    from pathlib import Path

    empty = pd.DataFrame(columns=["study_id", "tool", "item", "answer"])  # a data folder without them
    return tuple(pd.read_csv(path, dtype=str, keep_default_na=False) if (path := Path(folder) / f"{r}.csv").is_file()
                 else empty for r in ("r1", "r2"))
