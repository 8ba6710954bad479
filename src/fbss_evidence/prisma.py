"""PRISMA 2020 flow counts of the literature search, from the search log, the screening log and the results.

What the logs record: every query with the records it returned and the records opened and read
(search_log.csv), every record read and left out with its reason (screening.csv), and the studies whose
results were extracted (results.csv). Records are counted per query: a record returned by two queries, and
read twice, counts twice (the log keeps no record of duplicates), so records and studies are different
units and the flow never subtracts one from the other. Records logged as not found in the stored copies
are reports not retrieved, apart from the exclusions. Studies added by the reference-review pass (their
results extracted once and re-read by a second reviewer, `extracted_by` verified) are identified by other
methods: the published reviews' lists and looking again for records once not found.
"""
from __future__ import annotations

import pandas as pd

FLOW_COLUMNS = ["question_id", "queries", "identified", "not_read", "read", "excluded", "not_retrieved",
                "included_studies", "included_results", "other_methods_studies"]
NOT_RETRIEVED = "not_found_in_stored_copies"


def flow(search_log: pd.DataFrame, screening: pd.DataFrame, results: pd.DataFrame,
         question_id: str | None = None) -> dict:
    """The flow of one question, or of the whole search when question_id is None."""
    def mine(frame):
        return frame if question_id is None else frame[frame["question_id"] == question_id]

    log, out, included = mine(search_log), mine(screening), mine(results)
    identified = int(log["results_returned"].sum())
    read = int(log["records_read"].sum())
    counts = dict(question_id=question_id or "all questions", queries=len(log), identified=identified,
                  not_read=identified - read, read=read, excluded=int((out["reason"] != NOT_RETRIEVED).sum()),
                  not_retrieved=int((out["reason"] == NOT_RETRIEVED).sum()),
                  included_studies=int(included["study_id"].nunique()), included_results=len(included))
    if "extracted_by" in included.columns:
        added = included.groupby("study_id")["extracted_by"].agg(lambda e: (e == "verified").all())
        counts["other_methods_studies"] = int(added.sum())
    return counts


def flows(search_log: pd.DataFrame, screening: pd.DataFrame, results: pd.DataFrame,
          question_ids) -> pd.DataFrame:
    """One row per question and a last row for the whole search."""
    rows = [flow(search_log, screening, results, q) for q in question_ids]
    rows.append(flow(search_log, screening, results))
    return pd.DataFrame(rows, columns=FLOW_COLUMNS)


def exclusion_reasons(screening: pd.DataFrame, question_id: str | None = None) -> pd.Series:
    """Records excluded, by reason, most frequent first (reports not retrieved are counted apart)."""
    out = screening if question_id is None else screening[screening["question_id"] == question_id]
    out = out[out["reason"] != NOT_RETRIEVED]
    return out["reason"].value_counts().sort_index().sort_values(ascending=False, kind="stable")
