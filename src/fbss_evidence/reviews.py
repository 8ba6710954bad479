"""Published systematic reviews beside this project's estimates, and the search's recall against them.

data/literature/reviews.csv holds each review's own pooled figure and the group of this
project's question it is set beside (`compare_group`); reference_reviews.csv lists the
primary studies each review includes, where the stored copies show the list, and where
each stands here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import evidence

COMPARISON_COLUMNS = ["question_id", "review_id", "citation", "link", "followup", "k", "n_patients",
                      "review_estimate", "review_ci_low", "review_ci_high", "group", "analysis", "estimate",
                      "ci_low", "ci_high", "pi_low", "pi_high", "apart", "difference_reason", "arithmetic_note"]


def _interval(estimate, low, high) -> tuple[float, float]:
    """An interval, or the point itself when none was printed."""
    return (low, high) if pd.notna(low) and pd.notna(high) else (estimate, estimate)


def apart(first: tuple[float, float], second: tuple[float, float]) -> bool:
    """True when two intervals (low, high) do not overlap."""
    return first[1] < second[0] or second[1] < first[0]


def comparison(reviews: pd.DataFrame, primary: dict, sensitivity: dict) -> pd.DataFrame:
    """Each review's pooled share beside this project's estimate of the same group: the primary analysis
    where it pooled the group, else the sensitivity analysis (which says so). `primary` and
    `sensitivity`: question_id -> literature.QuestionSynthesis. `apart`: the two confidence intervals
    (a review's point where it printed none) do not overlap."""
    rows = []
    for r in reviews[reviews["estimate"].notna() & reviews["compare_group"].notna()].itertuples(index=False):
        base = dict(question_id=r.question_id, review_id=r.review_id, citation=r.citation,
                    link=evidence.canonical_link(r.pmid, r.doi, r.url_seen), followup=r.followup, k=r.k,
                    n_patients=r.n_patients, review_estimate=r.estimate, review_ci_low=r.ci_low,
                    review_ci_high=r.ci_high, group=r.compare_group, difference_reason=r.difference_reason,
                    arithmetic_note=r.arithmetic_note)
        pooled, analysis = None, ""
        for name, syntheses in (("primary", primary), ("sensitivity", sensitivity)):
            found = syntheses.get(r.question_id)
            if found is not None and isinstance(r.compare_group, str) and r.compare_group in found.pooled:
                pooled, analysis = found.pooled[r.compare_group], name
                break
        if pooled is not None:
            theirs = _interval(r.estimate, r.ci_low, r.ci_high)
            base |= dict(analysis=analysis, estimate=pooled.estimate, ci_low=pooled.ci_low, ci_high=pooled.ci_high,
                         pi_low=pooled.pi_low, pi_high=pooled.pi_high,
                         apart=apart(theirs, (pooled.ci_low, pooled.ci_high)))
        else:
            base |= dict(analysis="nothing pooled", apart=False)
        rows.append(base)
    table = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    for column in ("k", "n_patients"):
        table[column] = table[column].astype("Int64")
    return table


def unexplained(table: pd.DataFrame) -> pd.DataFrame:
    """The comparisons whose intervals lie apart with no reason given: each needs one."""
    return table[table["apart"].astype(bool) & table["difference_reason"].isna()]


RECALL_COLUMNS = ["question_id", "reviews", "reviews_with_a_list", "listed", "found_by_search", "added",
                  "not_found", "recall"]


def recall(reference_reviews: pd.DataFrame, questions: pd.DataFrame) -> pd.DataFrame:
    """Per question: the studies the reviews list (where a list was visible), how many the search had
    found (in studies or screening before the reviews were read), how many the review pass added, how
    many could not be found; recall = found by the search / listed (NaN when no list was visible)."""
    rows = []
    for question_id in questions["question_id"]:
        mine = reference_reviews[reference_reviews["question_id"] == question_id]
        listed = mine[mine["status"] != "not_listed"].drop_duplicates(["included_study"])
        found = int(listed["status"].isin(["in_studies", "in_screening"]).sum())
        rows.append(dict(question_id=question_id, reviews=int(mine["review_id"].nunique()),
                         reviews_with_a_list=int(listed["review_id"].nunique()), listed=len(listed),
                         found_by_search=found,
                         added=int(listed["status"].isin(["new_result", "new_excluded"]).sum()),
                         not_found=int((listed["status"] == "not_found").sum()),
                         recall=100 * found / len(listed) if len(listed) else np.nan))
    return pd.DataFrame(rows, columns=RECALL_COLUMNS)

