"""Adding a page: its text copied into data/sources/ unchanged, its sources.csv row with the hash
(and its label, author and address), a candidate sheet listing every number on it, and a candidate
file for each other table a new page touches, each in that table's columns, for an analyst to edit
and append (docs/adding-a-source.md):

    build/candidates/<id>.csv                      every number: sentence, guesses, what accounts for it
    build/candidates/<id>-claims.csv               a ready claim row for each number that may be a claim
    build/candidates/<id>-number_exclusions.csv    a row for each number with a suggested exclusion
    build/candidates/<id>-references.csv           a row for each line of the page's reference list
    build/candidates/<id>-citation_audit.csv       a row for each footnoted candidate claim
    build/candidates/<id>-statement_audit.csv      a row for each footnote that closes no candidate claim
    build/candidates/<id>-claim_questions.csv      a link for each claim of the page that a question's topic
                                                   calls for (once its claims are in data/claims.csv)

Nothing is written unless every check passes first, and a failure while writing takes back what
was written, so a half-added source never looks added.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, ledger, schema, validate
from .outputs import atomic_path, write_text
from .problems import InputError, Problem, display_path

# A heading that starts a reference list: "References", "Sources:", "References for this article".
_REFERENCES_HEADING = re.compile(r"^\s*(?:references|sources|bibliography|citations|works cited)\b.{0,60}$",
                                 re.IGNORECASE)
# A line that looks like a reference: numbered ("1.", "[2]", "3)"), or with a year and a volume or pages.
_REFERENCE_LINE = re.compile(r"^\s*(?:\d{1,3}[.)]|\[\d{1,3}\])\s|\b(?:19|20)\d\d\b.*\d+\s*[:(]\s*\d")

COMMAND = "fbss-new-source"  # how a problem with the command's own arguments is located


# The tables a new page touches, besides sources.csv, each with a candidate file beside the sheet.
CANDIDATE_TABLES = {
    "claims": schema.CLAIMS,
    "number_exclusions": schema.NUMBER_EXCLUSIONS,
    "references": schema.REFERENCES,
    "citation_audit": schema.CITATION_AUDIT,
    "statement_audit": schema.STATEMENT_AUDIT,
    "claim_questions": schema.CLAIM_QUESTIONS,
}
NOT_READ_YET = "The study's abstract has not been read yet."  # verdict not_found until it has


@dataclass(frozen=True)
class NewSource:
    source_id: str
    text_file: Path
    sources_csv: Path
    sheet: Path
    candidates: pd.DataFrame
    references_guess: tuple[int, int] | None
    files: dict[str, Path]  # table -> its candidate file
    tables: dict[str, pd.DataFrame]  # table -> its candidate rows


def reference_list_guess(text: str) -> tuple[int, int] | None:
    """(first, last) line of what looks like the page's reference list: from the line after a
    'References' heading to the last line after it that looks like a reference (a footer after the
    list is left out). A guess for the analyst, never applied silently."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _REFERENCES_HEADING.match(line):
            refs = [j for j in range(i + 1, len(lines)) if _REFERENCE_LINE.search(lines[j])]
            if refs:
                return i + 2, refs[-1] + 1
    return None


def _page_text(page: Path) -> str:
    """The page as the validator will read it; a clear error if it cannot be."""
    name = display_path(page)
    if not page.is_file():
        raise InputError([Problem(name, 0, "-", "no such file")])
    raw = page.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        raise InputError([Problem(name, line, f"column {column}",
                                  f"not UTF-8 (byte 0x{raw[err.start]:02x}); save the page as UTF-8 text")])
    if not text.strip():
        raise InputError([Problem(name, 0, "-", "the page is empty")])
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _csv_line(values: list) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return buf.getvalue()


def _read(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    if path.is_file():
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.DataFrame(columns=list(columns))


def _exclusions(data_dir: Path) -> pd.DataFrame:
    exclusions = _read(data_dir / "number_exclusions.csv", schema.columns(schema.NUMBER_EXCLUSIONS))
    # A malformed line or column matches nothing here; validation reports it with its place.
    return exclusions.assign(line=pd.to_numeric(exclusions["line"], errors="coerce"),
                             column=pd.to_numeric(exclusions["column"], errors="coerce")).dropna(
                                 subset=["line", "column"])


def _source_row(source_id: str, data_dir: Path):
    sources = _read(data_dir / "sources.csv", schema.columns(schema.SOURCES))
    row = sources[sources["source_id"] == source_id]
    if row.empty:
        raise InputError([Problem(display_path(data_dir / "sources.csv"), 0, "source_id",
                                  f"no source '{source_id}' (add it first: make new-source)")])
    return row.iloc[0]


def candidates(source_id: str, data_dir: Path = config.DATA) -> pd.DataFrame:
    """The candidate sheet of a source already in sources.csv, against the current claims and exclusions
    (`accounted_by` says what already accounts for each number; empty = still to decide)."""
    return candidate_files(source_id, data_dir)[0]


def candidate_files(source_id: str, data_dir: Path = config.DATA) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The sheet and the candidate rows of every table (CANDIDATE_TABLES) of a source already in sources.csv,
    against what the data already holds."""
    data_dir = Path(data_dir)
    row = _source_row(source_id, data_dir)
    text = (data_dir / row["file"]).read_text(encoding="utf-8").replace("\r\n", "\n").replace("\r", "\n")
    first = pd.to_numeric(row.get("references_first_line", ""), errors="coerce")
    last = pd.to_numeric(row.get("references_last_line", ""), errors="coerce")
    return _candidates(source_id, text, data_dir, first, last)


def _candidates(source_id: str, text: str, data_dir: Path, first: float, last: float
                ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    claims = _read(data_dir / "claims.csv", schema.columns(schema.CLAIMS))
    exclusions = _exclusions(data_dir)
    sheet = ledger.candidate_sheet(source_id, text, claims, exclusions, first, last)
    refs = (int(first), int(last)) if pd.notna(first) and pd.notna(last) else reference_list_guess(text)
    tables = {
        "claims": _claim_rows(source_id, text, claims, exclusions, first, last),
        "number_exclusions": _exclusion_rows(sheet),
        "references": _reference_rows(source_id, text, refs, data_dir),
    }
    tables["citation_audit"] = _audit_rows(tables["claims"])
    tables["statement_audit"] = _statement_rows(source_id, text, tables["claims"], claims, data_dir, exclusions,
                                                first, last)
    tables["claim_questions"] = _link_rows(source_id, claims, data_dir)
    return sheet, {name: frame.reindex(columns=list(schema.columns(CANDIDATE_TABLES[name])), fill_value="")
                   for name, frame in tables.items()}


def _claim_rows(source_id, text, claims, exclusions, first, last) -> pd.DataFrame:
    """A claims.csv row for each candidate claim, numbered after the page's claims so far."""
    found = ledger.claim_candidates(source_id, text, claims, exclusions, first, last)
    taken = claims.loc[claims["source_id"] == source_id, "claim_id"].str.extract(
        rf"^{re.escape(source_id)}-(\d+)$")[0].dropna().astype(int)
    start = int(taken.max()) + 1 if len(taken) else 1
    width = max(2, len(str(start + len(found))))
    cited = found["reference"].str.fullmatch(r"\d+")
    return found.assign(
        claim_id=[f"{source_id}-{n:0{width}d}" for n in range(start, start + len(found))], source_id=source_id,
        basis=cited.map({True: "cited_study", False: ""}),
        ref_id=[f"{source_id}-r{r}" if c else "" for r, c in zip(found["reference"], cited)])


def _exclusion_rows(sheet: pd.DataFrame) -> pd.DataFrame:
    todo = sheet[(sheet["accounted_by"] == "") & (sheet["suggested_exclusion"] != "")]
    return todo.rename(columns={"suggested_exclusion": "reason"})


_NUMBERED = re.compile(r"^\s*(?:\[(\d{1,3})\]|(\d{1,3})[.)])\s*(.*)$")


def _reference_rows(source_id: str, text: str, lines: tuple[int, int] | None, data_dir: Path) -> pd.DataFrame:
    """A references.csv row for each reference of the page's reference list (its lines given, or guessed),
    numbered as printed ('1.', '[2]', '3)'; in a numbered list a line without a number continues the one
    before) or in order; study_id left for the analyst."""
    if lines is None:
        return pd.DataFrame()
    known = set(_read(data_dir / "references.csv", schema.columns(schema.REFERENCES))["ref_id"])
    listed = [line for line in text.splitlines()[lines[0] - 1: lines[1]] if line.strip()]
    numbered = any(_NUMBERED.match(line) for line in listed)
    rows: list[dict] = []
    for line in listed:
        match = _NUMBERED.match(line)
        if numbered and not match and rows:
            rows[-1]["citation_as_printed"] += " " + line.strip()
            continue
        number = int(match[1] or match[2]) if match else len(rows) + 1
        rows.append(dict(ref_id=f"{source_id}-r{number}", source_id=source_id, ref_number=str(number),
                         citation_as_printed=(match[3] if match else line).strip()))
    return pd.DataFrame([row for row in rows if row["ref_id"] not in known])


def _audit_rows(claims: pd.DataFrame) -> pd.DataFrame:
    cited = claims[claims["ref_id"] != ""]
    return pd.DataFrame({"claim_id": cited["claim_id"], "ref_id": cited["ref_id"], "verdict": "not_found",
                         "explanation": NOT_READ_YET})


def _statement_rows(source_id, text, candidate_claims, claims, data_dir, exclusions, first, last) -> pd.DataFrame:
    statements = _read(data_dir / "statement_audit.csv", schema.columns(schema.STATEMENT_AUDIT))
    references = _read(data_dir / "references.csv", schema.columns(schema.REFERENCES))
    found = ledger.statement_candidates(source_id, text, set(candidate_claims["marker_start"].tolist()),
                                        claims.replace("", np.nan), statements.replace("", np.nan),
                                        references, exclusions, first, last)
    return pd.DataFrame({"source_id": source_id, "ref_id": [f"{source_id}-r{m}" for m in found["marker"]],
                         "quote": found["quote"], "verdict": "not_found", "explanation": NOT_READ_YET})


def _link_rows(source_id: str, claims: pd.DataFrame, data_dir: Path) -> pd.DataFrame:
    """A claim_questions.csv row for each claim of the page that gives a rate on a topic of a question and is
    linked to none (validate.unlinked_claims: what validation warns about); the note is the analyst's."""
    links = _read(data_dir / "claim_questions.csv", schema.columns(schema.CLAIM_QUESTIONS))
    claims = claims.replace("", np.nan).reset_index(drop=True)
    found = validate.unlinked_claims(claims, links.replace("", np.nan))
    found = found[(claims.loc[found.index, "source_id"] == source_id).to_numpy()]
    rows = [dict(claim_id=claims.at[i, "claim_id"], question_id=q,
                 comparable="yes" if claims.at[i, "unit"] == "percent" else "no")
            for i, questions in found.items() for q in questions]
    return pd.DataFrame(rows)


def candidate_paths(sheet: Path) -> dict[str, Path]:
    """Where the candidate file of each table goes: beside the sheet, named <sheet>-<table>.csv."""
    sheet = Path(sheet)
    return {name: sheet.with_name(f"{sheet.stem}-{name}.csv") for name in CANDIDATE_TABLES}


def write_candidates(sheet_frame: pd.DataFrame, tables: dict[str, pd.DataFrame], sheet: Path) -> dict[str, Path]:
    """Write the sheet and every table's candidate file; if any write fails, remove what this wrote."""
    written = []
    try:
        written.append(write_sheet(sheet_frame, sheet))
        for name, path in candidate_paths(sheet).items():
            written.append(write_sheet(tables[name], path))
    except BaseException:
        for path in written:
            Path(path).unlink(missing_ok=True)
        raise
    return candidate_paths(sheet)


def write_sheet(sheet: pd.DataFrame, path: Path) -> Path:
    with atomic_path(path) as tmp:
        sheet.to_csv(tmp, index=False, lineterminator="\n")
    return Path(path)


def add_source(page: Path | str, source_id: str, *, title: str, publisher: str, label: str | None = None,
               author: str | None = None, url: str | None = None, description: str | None = None,
               references: tuple[int, int] | None = None, data_dir: Path | str = config.DATA,
               sheet: Path | str | None = None) -> NewSource:
    """Copy `page` to data/sources/<source_id>.txt byte for byte, add its sources.csv row with the
    SHA-256, label, author and address, and write its candidate sheet (default
    build/candidates/<source_id>.csv) and the candidate file of every other table beside it."""
    page, data_dir = Path(page), Path(data_dir)
    sources_csv = data_dir / "sources.csv"
    target = data_dir / "sources" / f"{source_id}.txt"
    sheet = Path(sheet) if sheet is not None else config.BUILD / "candidates" / f"{source_id}.csv"
    problems = []
    if not re.match(schema.SLUG, source_id):
        problems.append(Problem(COMMAND, 0, "--id", f"'{source_id}' is not a slug (lowercase letters, digits "
                                "and single hyphens, e.g. clinic-page-name)"))
    for name, value in (("title", title), ("publisher", publisher)):
        if not (value or "").strip():
            problems.append(Problem(COMMAND, 0, f"--{name}", f"the page's {name} is required"))
    if label is not None and not label.strip():
        problems.append(Problem(COMMAND, 0, "--label", "the label is empty (leave it out to use the id)"))
    if url and not re.match(schema.URL, url):
        problems.append(Problem(COMMAND, 0, "--url", f"'{url}' is not a web address (http:// or https://, "
                                "no spaces)"))
    sources = _read(sources_csv, schema.columns(schema.SOURCES))
    if source_id in set(sources["source_id"]):
        line = int(sources.index[sources["source_id"] == source_id][0]) + 2
        problems.append(Problem(display_path(sources_csv), line, "source_id", f"'{source_id}' is already a source"))
    if target.exists():
        problems.append(Problem(display_path(target), 0, "-", "already exists; raw pages are never overwritten"))
    if problems:
        raise InputError(problems)
    text = _page_text(page)
    raw = page.read_bytes()
    lines = len(text.splitlines())
    if references is not None and not (1 <= references[0] <= references[1] <= lines):
        raise InputError([Problem(COMMAND, 0, "--references", f"lines {references[0]}-{references[1]} are not "
                                  f"within the page's {lines} lines")])
    values = dict(source_id=source_id, label=(label or source_id).strip(), file=f"sources/{source_id}.txt",
                  title=title, publisher=publisher, author=author, url=url, sha256=hashlib.sha256(raw).hexdigest(),
                  description=description, original_file=page.name,
                  references_first_line=references[0] if references else None,
                  references_last_line=references[1] if references else None)
    header = list(sources.columns) if len(sources.columns) else list(schema.columns(schema.SOURCES))
    original = sources_csv.read_bytes() if sources_csv.is_file() else None
    existing = original.decode("utf-8") if original is not None else _csv_line(header)
    if existing and not existing.endswith("\n"):
        existing += "\n"

    # The candidates first, from the page as it will be stored: nothing is written if they cannot be made.
    sheet_frame, tables = _candidates(source_id, text, data_dir, references[0] if references else np.nan,
                                      references[1] if references else np.nan)
    # Write the page (raw bytes), its sources row and its sheet; take back what was written if any fails.
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.write_bytes(raw)
    try:
        write_text(sources_csv, existing + _csv_line([values.get(col) for col in header]))
        try:
            files = write_candidates(sheet_frame, tables, sheet)
        except BaseException:
            if original is None:
                sources_csv.unlink()
            else:
                with atomic_path(sources_csv) as tmp:
                    tmp.write_bytes(original)
            raise
    except BaseException:
        target.unlink()
        raise
    return NewSource(source_id, target, sources_csv, sheet, sheet_frame,
                     None if references else reference_list_guess(text), files, tables)
