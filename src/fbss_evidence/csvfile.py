"""Reading a hand-edited CSV file without losing track of its line numbers.

Spreadsheets and editors save CSV in many ways; this reader accepts UTF-8 with
or without a byte-order mark and LF or CRLF line ends, and turns everything else
(other encodings, broken quoting, ragged rows) into located problems instead of
tracebacks.
"""
from __future__ import annotations

import codecs
import csv
import gc
import io
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .problems import InputError, Problem, display_path

# A claim's quote is a sentence or two; anything this long is a pasting accident.
MAX_FIELD_CHARS = 20_000
csv.field_size_limit(64 * 1024 * 1024)


@dataclass
class CsvTable:
    """The cells of a CSV file as strings, with the file line each row starts on."""

    path: Path
    frame: pd.DataFrame  # every cell a str ("" when empty)
    lines: list[int]  # lines[i] is the CSV line of frame row i

    @property
    def name(self) -> str:
        return display_path(self.path)

    def problem(self, row: int | None, column: str, message: str) -> Problem:
        line = 0 if row is None else self.lines[row]
        return Problem(self.name, line, column, message)


def _decode(path: Path, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        bad = raw[err.start : err.start + 1].hex()
        raise InputError([Problem(display_path(path), line, "-",
                                  f"byte 0x{bad} is not UTF-8; save the file as UTF-8 "
                                  "(most spreadsheets: 'CSV UTF-8')")]) from None
    return text.removeprefix("\ufeff")


def read_csv_table(path: Path | str, required: tuple[str, ...] = ()) -> CsvTable:
    """Read `path` into a CsvTable, raising InputError with every located problem."""
    path = Path(path)
    name = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError([Problem(name, 0, "-", f"cannot read file: {err.strerror}")]) from None
    text = _decode(path, raw)
    if not text or text.isspace():
        raise InputError([Problem(name, 1, "-", "file is empty; expected a header row")])
    bom = raw.startswith(codecs.BOM_UTF8)  # _decode dropped it from text
    del text  # the lines are decoded again as they are read: no copy of the whole file

    # The lines io.StringIO(text, newline="") would give (ends untranslated: \n, \r\n or \r).
    source = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline="")
    if bom:
        source = itertools.chain([next(source).removeprefix("\ufeff")], source)
    reader = csv.reader(source, strict=True)
    problems: list[Problem] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    long_rows: list[int] = []  # rows with more characters in all than one field may have
    ragged: list[tuple[int, int]] = []  # (line, fields) of rows whose width is not the header's
    header: list[str] | None = None
    width = 0
    start = 1  # the line the next record starts on
    collecting = gc.isenabled()
    gc.disable()  # a million new lists would set off a full collection again and again
    try:
        for record in reader:
            if header is None:
                header = [h.strip() for h in record]
                width = len(header)
            else:
                joined = "".join(record)
                if joined and not joined.isspace():  # else a blank line
                    if len(record) != width:
                        ragged.append((start, len(record)))
                    if len(joined) > MAX_FIELD_CHARS:
                        long_rows.append(len(rows))
                    rows.append(record)
                    lines.append(start)
            start = reader.line_num + 1
    except csv.Error as err:
        problems.append(Problem(name, start, "-", f"malformed CSV: {err} "
                                "(a quote character inside a field must be doubled)"))
    finally:
        if collecting:
            gc.enable()
    del reader, source, raw

    if header is None:  # the header row itself is malformed
        raise InputError(problems or [Problem(name, 1, "-", "no header row")])
    problems += _header_problems(name, header, required)
    problems += [Problem(name, line, "-", f"row has {fields} fields but the header has {width}")
                 for line, fields in ragged]
    if problems:
        raise InputError(problems)

    # Only a row whose fields add up to more than the limit can hold a field over it.
    long_cells = [
        Problem(name, lines[i], col, f"field is {len(v):,} characters long; the limit is "
                f"{MAX_FIELD_CHARS:,} (was something pasted by mistake?)")
        for j, col in enumerate(header)
        for i in long_rows
        if len(v := rows[i][j]) > MAX_FIELD_CHARS
    ]
    if long_cells:
        raise InputError(long_cells)
    if rows:
        # The frame pd.DataFrame(rows, columns=header, dtype=object) would be, built faster.
        cells = np.array(rows, dtype=object)
        del rows
        frame = pd.DataFrame(cells, columns=header, dtype=object, copy=False)
    else:
        frame = pd.DataFrame(columns=header, dtype=object)
    return CsvTable(path, frame, lines)


def _header_problems(name: str, header: list[str], required: tuple[str, ...]) -> list[Problem]:
    problems = []
    seen = set()
    if "" in header:
        problems.append(Problem(name, 1, "-", "header has an empty column name"))
    for col in header:
        if col in seen and col != "":
            problems.append(Problem(name, 1, col, "column appears twice in the header"))
        seen.add(col)
    for col in required:
        if col not in seen:
            hint = _closest(col, header)
            extra = f" (is '{hint}' a misspelling of it?)" if hint else ""
            problems.append(Problem(name, 1, col, f"required column is missing{extra}"))
    return problems


def _closest(wanted: str, header: list[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(wanted, [h for h in header if h], n=1, cutoff=0.75)
    return matches[0] if matches else None
