"""Adding a page: its text copied into data/sources/ unchanged, its sources.csv row with the hash,
and a candidate sheet listing every number on it for an analyst to turn into claims or exclusions.

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

from . import config, ledger, schema
from .outputs import atomic_path, write_text
from .problems import InputError, Problem, display_path

# A heading that starts a reference list: "References", "Sources:", "References for this article".
_REFERENCES_HEADING = re.compile(r"^\s*(?:references|sources|bibliography|citations|works cited)\b.{0,60}$",
                                 re.IGNORECASE)
# A line that looks like a reference: numbered ("1.", "[2]", "3)"), or with a year and a volume or pages.
_REFERENCE_LINE = re.compile(r"^\s*(?:\d{1,3}[.)]|\[\d{1,3}\])\s|\b(?:19|20)\d\d\b.*\d+\s*[:(]\s*\d")

COMMAND = "fbss-new-source"  # how a problem with the command's own arguments is located


@dataclass(frozen=True)
class NewSource:
    source_id: str
    text_file: Path
    sources_csv: Path
    sheet: Path
    candidates: pd.DataFrame
    references_guess: tuple[int, int] | None


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


def candidates(source_id: str, data_dir: Path = config.DATA) -> pd.DataFrame:
    """The candidate sheet of a source already in sources.csv, against the current claims and exclusions
    (`accounted_by` says what already accounts for each number; empty = still to decide)."""
    data_dir = Path(data_dir)
    sources = _read(data_dir / "sources.csv", schema.columns(schema.SOURCES))
    row = sources[sources["source_id"] == source_id]
    if row.empty:
        raise InputError([Problem(display_path(data_dir / "sources.csv"), 0, "source_id",
                                  f"no source '{source_id}' (add it first: make new-source)")])
    row = row.iloc[0]
    text = (data_dir / row["file"]).read_text(encoding="utf-8")
    claims = _read(data_dir / "claims.csv", ("source_id", "claim_id", "quote"))
    exclusions = _exclusions(data_dir)
    first = pd.to_numeric(row.get("references_first_line", ""), errors="coerce")
    last = pd.to_numeric(row.get("references_last_line", ""), errors="coerce")
    return ledger.candidate_sheet(source_id, text, claims, exclusions, first, last)


def write_sheet(sheet: pd.DataFrame, path: Path) -> Path:
    with atomic_path(path) as tmp:
        sheet.to_csv(tmp, index=False, lineterminator="\n")
    return Path(path)


def add_source(page: Path | str, source_id: str, *, title: str, publisher: str, label: str | None = None,
               author: str | None = None, description: str | None = None,
               references: tuple[int, int] | None = None, data_dir: Path | str = config.DATA,
               sheet: Path | str | None = None) -> NewSource:
    """Copy `page` to data/sources/<source_id>.txt byte for byte, add its sources.csv row with the
    SHA-256, and write its candidate sheet (default build/candidates/<source_id>.csv)."""
    page, data_dir = Path(page), Path(data_dir)
    sources_csv = data_dir / "sources.csv"
    target = data_dir / "sources" / f"{source_id}.txt"
    sheet = Path(sheet) if sheet is not None else config.ROOT / "build" / "candidates" / f"{source_id}.csv"
    problems = []
    if not re.match(schema.SLUG, source_id):
        problems.append(Problem(COMMAND, 0, "--id", f"'{source_id}' is not a slug (lowercase letters, digits "
                                "and single hyphens, e.g. clinic-page-name)"))
    for name, value in (("title", title), ("publisher", publisher)):
        if not (value or "").strip():
            problems.append(Problem(COMMAND, 0, f"--{name}", f"the page's {name} is required"))
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
    values = dict(source_id=source_id, label=label or source_id, file=f"sources/{source_id}.txt", title=title,
                  publisher=publisher, author=author, sha256=hashlib.sha256(raw).hexdigest(),
                  description=description, original_file=page.name,
                  references_first_line=references[0] if references else None,
                  references_last_line=references[1] if references else None)
    header = list(sources.columns) if len(sources.columns) else list(schema.columns(schema.SOURCES))
    original = sources_csv.read_bytes() if sources_csv.is_file() else None
    existing = original.decode("utf-8") if original is not None else _csv_line(header)
    if existing and not existing.endswith("\n"):
        existing += "\n"

    # The sheet first, from the page as it will be stored: nothing is written if it cannot be made.
    claims = _read(data_dir / "claims.csv", ("source_id", "claim_id", "quote"))
    sheet_frame = ledger.candidate_sheet(source_id, text, claims, _exclusions(data_dir),
                                         references[0] if references else np.nan,
                                         references[1] if references else np.nan)
    # Write the page (raw bytes), its sources row and its sheet; take back what was written if any fails.
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        tmp.write_bytes(raw)
    try:
        write_text(sources_csv, existing + _csv_line([values.get(col) for col in header]))
        try:
            write_sheet(sheet_frame, sheet)
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
                     None if references else reference_list_guess(text))
