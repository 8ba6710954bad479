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
