"""docs/adding-a-source.md, followed step by step on the fixture page (tests/fixtures/new-source/) in a copy of
the data: what an analyst does, with the fixture's truth (expected.csv, claims.csv) as the analyst's reading.
Used by tests/unit/test_new_source.py (the data) and tests/pipeline/test_new_source_pipeline.py (the notebooks)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from fbss_evidence.cli import candidates_main, new_source_main

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "new-source"
PAGE = FIXTURE / "page.txt"
ID = "harbour-spine"
QUESTION = "fbss-after-lumbar-surgery"
LINKED = f"{ID}-01"  # the claim the analyst links to QUESTION: "Between 20-40% of patients ... still have pain"
NEW_SOURCE = [
    "--id",
    ID,
    "--title",
    "Life After Back Surgery",
    "--publisher",
    "Harbour Spine Clinic (synthetic)",
    "--label",
    "Harbour Spine",
    "--author",
    "A. Writer",
    "--url",
    "https://example.org/life-after-surgery",
    "--references",
    "16-17",
]


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, lineterminator="\n")


def append(candidate: Path, table: Path) -> None:
    """`tail -n +2 candidate >> table`: the rows under the header, as the guide appends them."""
    rows = candidate.read_text(encoding="utf-8").split("\n", 1)[1]
    text = table.read_text(encoding="utf-8")
    table.write_text(text + ("" if text.endswith("\n") else "\n") + rows, encoding="utf-8")


def append_rows(table: Path, rows: list[dict]) -> None:
    header = next(csv.reader(io.StringIO(table.read_text(encoding="utf-8"))))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[row.get(col, "") for col in header] for row in rows])
    text = table.read_text(encoding="utf-8")
    table.write_text(text + ("" if text.endswith("\n") else "\n") + out.getvalue(), encoding="utf-8")


def add_the_page(data: Path, candidates: Path) -> int:
    """Step 1: make new-source."""
    return new_source_main([str(PAGE), *NEW_SOURCE, "--data", str(data), "--sheet", str(candidates / f"{ID}.csv")])


def decide_every_number(data: Path, candidates: Path) -> dict[str, str]:
    """Step 2: edit the candidate files as the analyst reads the page, and append them. Returns, for each
    candidate claim kept, the claim_id it was given."""
    truth = read(FIXTURE / "expected.csv").set_index(["line", "column"])["decision"]
    mine = read(FIXTURE / "claims.csv").set_index("claim_id")
    files = {
        name: candidates / f"{ID}-{name}.csv"
        for name in ("claims", "number_exclusions", "references", "citation_audit", "statement_audit")
    }

    # claims: keep the rows that are claims (the analyst's value_text is the candidate's), fill what the
    # candidate could not know, and number them
    claims = read(files["claims"])
    by_text = {text: claim_id for claim_id, text in mine["value_text"].items()}
    starts = {row.claim_id: by_text[row.value_text] for row in claims.itertuples() if row.value_text in by_text}
    sheet = read(candidates / f"{ID}.csv").set_index(["line", "column"])
    kept = claims[claims["claim_id"].isin(starts)].copy()
    kept["claim_id"] = kept["claim_id"].map(starts)
    for column in (
        "measure",
        "topic",
        "intervention",
        "outcome",
        "population",
        "timepoint",
        "basis",
        "ref_id",
        "finding_id",
        "notes",
    ):
        kept[column] = kept["claim_id"].map(mine[column])
    write(kept, files["claims"])

    # exclusions: keep the suggestions the reading agrees with, add the numbers the reading excludes
    suggested = read(files["number_exclusions"])
    agreed = suggested[
        [truth.get((ln, c)) == r for ln, c, r in zip(suggested["line"], suggested["column"], suggested["reason"])]
    ]
    reasons = set(truth) - {"footnote marker"} - {d for d in truth if d.startswith(ID)}
    more = [
        dict(source_id=ID, line=line, column=column, text=sheet.loc[(line, column), "text"], reason=reason)
        for (line, column), reason in truth.items()
        if reason in reasons and (line, column) not in set(zip(agreed["line"], agreed["column"]))
    ]
    write(pd.concat([agreed, pd.DataFrame(more)], ignore_index=True).fillna(""), files["number_exclusions"])

    # references: each names the study it is; the studies are new (not found until looked up)
    references = read(files["references"])
    references["study_id"] = [f"{ID}-study-{n}" for n in references["ref_number"]]
    write(references, files["references"])
    append_rows(
        data / "studies.csv", [dict(study_id=s, cohort_id=s, lookup_status="not_found") for s in references["study_id"]]
    )

    # citation audit: a row for each cited claim kept (not_found until the abstract is read)
    audit = read(files["citation_audit"])
    audit = audit[audit["claim_id"].isin(starts)].assign(claim_id=lambda f: f["claim_id"].map(starts))
    write(audit, files["citation_audit"])

    for name, path in files.items():
        append(path, data / f"{name}.csv")
    return starts


def link_to_a_question(data: Path, candidates: Path) -> pd.DataFrame:
    """Step 3: make candidates again; keep the suggested link of LINKED to QUESTION, with a note, and append it.
    Returns every link suggested."""
    assert candidates_main([ID, "--data", str(data), "--sheet", str(candidates / f"{ID}.csv")]) == 0
    path = candidates / f"{ID}-claim_questions.csv"
    suggested = read(path)
    kept = suggested[(suggested["claim_id"] == LINKED) & (suggested["question_id"] == QUESTION)].assign(
        note="Pain persisting after back surgery: a range (synthetic page)."
    )
    write(kept, path)
    append(path, data / "claim_questions.csv")
    return suggested


def follow_the_guide(data: Path, candidates: Path) -> pd.DataFrame:
    """Every step, in a copy of the data; returns the links step 3 was offered."""
    assert add_the_page(data, candidates) == 0
    decide_every_number(data, candidates)
    return link_to_a_question(data, candidates)
