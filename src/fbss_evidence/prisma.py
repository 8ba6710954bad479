"""PRISMA 2020 flow counts of the literature search, from the search log, the screening log and the results.

What the logs record: every query with the records it returned and the records opened and
read (search_log.csv), every record read and left out with its reason (screening.csv), and
the studies whose results were extracted (results.csv). "Not read" is derived: records
returned but never opened, which includes those returned by several queries (the log keeps
no record of duplicates, so they are not counted apart).
"""
from __future__ import annotations

import pandas as pd

FLOW_COLUMNS = ["question_id", "queries", "identified", "not_read", "read", "excluded", "included_studies",
                "included_results"]


def flow(search_log: pd.DataFrame, screening: pd.DataFrame, results: pd.DataFrame,
         question_id: str | None = None) -> dict:
    """The flow of one question, or of the whole search when question_id is None."""
    def mine(frame):
        return frame if question_id is None else frame[frame["question_id"] == question_id]

    log, out, included = mine(search_log), mine(screening), mine(results)
    identified = int(log["results_returned"].sum())
    read = int(log["records_read"].sum())
    return dict(question_id=question_id or "all questions", queries=len(log), identified=identified,
                not_read=identified - read, read=read, excluded=len(out),
                included_studies=int(included["study_id"].nunique()), included_results=len(included))


def flows(search_log: pd.DataFrame, screening: pd.DataFrame, results: pd.DataFrame,
          question_ids) -> pd.DataFrame:
    """One row per question and a last row for the whole search."""
    rows = [flow(search_log, screening, results, q) for q in question_ids]
    rows.append(flow(search_log, screening, results))
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)


def exclusion_reasons(screening: pd.DataFrame, question_id: str | None = None) -> pd.Series:
    """Records excluded, by reason, most frequent first."""
    out = screening if question_id is None else screening[screening["question_id"] == question_id]
    return out["reason"].value_counts().sort_index().sort_values(ascending=False, kind="stable")
