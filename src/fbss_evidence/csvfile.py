"""Reading a hand-edited CSV file fast, and saying on which line each problem is.

The cells are parsed by pandas with its pyarrow engine (multi-threaded C++), every
cell as text. That parser is lenient where a hand-edited file needs strictness (text
after a closing quote), and it does not say on which line a row starts. So:

* before parsing, one numpy pass finds every quote character and checks the quoting
  the way RFC 4180 and Python's strict csv module define it;
* the line each row starts on is worked out only when a problem needs it (`scan`, one
  vectorised pass over the bytes), so a valid file pays nothing for it;
* a file the fast parser refuses (a row with too many or too few fields, a line of
  spaces) is scanned first, and its problems are located, never a traceback.

UTF-8 with or without a byte-order mark and LF, CRLF or CR line ends are accepted.
"""
from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .problems import InputError, Problem, display_path

# A claim's quote is a sentence or two; anything this long is a pasting accident.
MAX_FIELD_CHARS = 20_000
QUOTE_HINT = "(a quote character inside a field must be doubled)"

_QUOTE, _COMMA, _LF, _CR = (ord(c) for c in '",\n\r')
_BLANK_BYTES = frozenset(b" \t,")  # a line of empty cells (",,,") is blank too


class CsvTable:
    """The cells of a CSV file as text (NaN-free: "" when empty), and the line each row starts on.

    The lines are worked out on first use (see the module's docstring)."""

    def __init__(self, path: Path, header: list[str], frame: pd.DataFrame, structure: Structure | None = None):
        self.path = path
        self.header = header
        self.frame = frame
        self._structure = structure  # known already when the file was scanned before parsing
        self._keep: np.ndarray | None = None  # rows kept by drop_rows

    @property
    def name(self) -> str:
        return display_path(self.path)

    @property
    def lines(self) -> np.ndarray:
        """lines[i]: the CSV line frame row i starts on."""
        if self._structure is None:
            self._structure = scan(self.path.read_bytes(), self.name, parsed_empty_cells=True)
        lines = self._structure.lines
        if len(lines) != len(self.frame) + (0 if self._keep is None else int((~self._keep).sum())):
            raise RuntimeError(f"internal error: {self.name} has {len(lines)} records but {len(self.frame)} rows")
        return lines if self._keep is None else lines[self._keep]

    def drop_rows(self, drop: np.ndarray) -> None:
        """Forget the rows where `drop` is True (their lines too)."""
        keep = ~np.asarray(drop, dtype=bool)
        self.frame = self.frame[keep].reset_index(drop=True)
        if self._keep is None:
            self._keep = keep
        else:
            self._keep[self._keep] = keep

    def problem(self, row: int | None, column: str, message: str) -> Problem:
        line = 0 if row is None else int(self.lines[row])
        return Problem(self.name, line, column, message)


@dataclass
class Structure:
    """What `scan` found: the header, the data records' spans and lines, and problems."""

    header: list[str]
    starts: np.ndarray  # byte offset of each data record
    ends: np.ndarray  # byte offset just past each data record (line end excluded)
    lines: np.ndarray  # line each data record starts on
    problems: list[Problem]


def _line_of(offsets: np.ndarray, line_ends: np.ndarray) -> np.ndarray:
    """1-based line number of each byte offset."""
    return np.searchsorted(line_ends, offsets, side="left") + 1


def scan(raw: bytes, name: str, parsed_empty_cells: bool = False) -> Structure:
    """Check quoting and field counts of a CSV file's bytes; locate every record.

    Blank lines are skipped but counted: empty ones, and (unless `parsed_empty_cells`, for
    a file the fast parser read, which keeps a line of empty cells as a row) lines of
    only spaces, tabs and commas."""
    begin = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    data = np.frombuffer(raw, dtype=np.uint8)
    size = len(raw)
    # Quotes and line ends are few; find them all in one pass.
    where = np.flatnonzero((data == _QUOTE) | (data == _LF) | (data == _CR))
    kinds = data[where]

    # Line ends: LF, and a CR not followed by LF (a CRLF ends its line at the LF).
    is_cr = kinds == _CR
    cr_alone = np.zeros(len(where), dtype=bool)
    if is_cr.any():
        cr_at = where[is_cr]
        nxt = np.minimum(cr_at + 1, size - 1)
        cr_alone[is_cr] = (cr_at + 1 >= size) | (data[nxt] != _LF)
    line_end = (kinds == _LF) | cr_alone
    line_ends = where[line_end]

    # Inside or outside a quoted field: the parity of the quotes before each character.
    is_quote = kinds == _QUOTE
    outside = (np.cumsum(is_quote) - is_quote) % 2 == 0
    quote_at = where[is_quote]
    bad_quotes = _bad_quotes(data, begin, quote_at) if len(quote_at) else []

    # Records end at line ends outside quotes; the last may have no line end.
    terminators = where[line_end & outside]
    starts = np.concatenate([[begin], terminators + 1])
    ends = np.concatenate([terminators, [size]])
    if len(starts) and starts[-1] >= size:  # the file ends with a line end
        starts, ends = starts[:-1], ends[:-1]
    # A CRLF record's content ends before the CR.
    crlf = (ends > starts) & (ends < size)
    crlf[crlf] = data[ends[crlf] - 1] == _CR
    ends = ends - crlf

    # Fields of a record: its commas, less those inside its quoted fields, plus one.
    commas = np.flatnonzero(data == _COMMA)
    fields = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
    if len(quote_at) >= 2:
        opened, closed = quote_at[0::2][: len(quote_at) // 2], quote_at[1::2]
        inside = np.searchsorted(commas, closed) - np.searchsorted(commas, opened)
        record_of = np.searchsorted(starts, opened, side="right") - 1
        fields -= np.bincount(record_of, weights=inside, minlength=len(starts)).astype(np.int64)
    lines = _line_of(starts, line_ends)

    # A broken quote is reported once, at the line its record starts on (as the csv module
    # does); the field count of that record means nothing then.
    problems: list[Problem] = []
    malformed = np.zeros(len(starts), dtype=bool)
    for position, what in bad_quotes:
        record = max(int(np.searchsorted(starts, position, side="right")) - 1, 0)
        if not malformed[record]:
            malformed[record] = True
            problems.append(Problem(name, int(lines[record]), "-", f"malformed CSV: {what} {QUOTE_HINT}"))

    # Blank lines (empty, or only spaces, tabs and commas) are skipped but counted.
    blank = (ends == starts) if parsed_empty_cells else _blank_records(raw, starts, ends)
    if len(starts) == 0 or blank.all():
        raise InputError([Problem(name, 1, "-", "file is empty; expected a header row")])
    first = int(np.flatnonzero(~blank)[0])
    if malformed[first]:
        raise InputError(problems)
    header = _header(raw, int(starts[first]), int(ends[first]), name, int(lines[first]))
    keep = ~blank
    keep[: first + 1] = False
    width = len(header)
    ragged = keep & (fields != width) & ~malformed
    problems += [Problem(name, int(lines[i]), "-", f"row has {int(fields[i])} fields but the header has {width}")
                 for i in np.flatnonzero(ragged)]
    # A record longer than the limit may hold a field over it; parsing it finds out.
    long = keep & ~malformed
    problems += _long_fields(raw, starts[long], ends[long], lines[long], header, name)
    return Structure(header, starts[keep], ends[keep], lines[keep], problems)


def _bad_quotes(data: np.ndarray, begin: int, quote_at: np.ndarray) -> list[tuple[int, str]]:
    """(position, what is wrong) of each quote that RFC 4180 does not allow.

    Counting quotes from the start of the file, an even one opens a quoted field and an
    odd one closes it; a doubled quote inside a field is a closing quote followed at once
    by an opening one. So an opening quote must start a field (after a comma or a line
    end, or right after a closing quote), and a closing quote must end one (before a
    comma, a line end or the end of the file, or right before an opening quote). An odd
    number of quotes leaves the last field open.
    """
    size = len(data)
    opening = np.arange(len(quote_at)) % 2 == 0
    before = data[np.maximum(quote_at - 1, 0)]
    after = data[np.minimum(quote_at + 1, size - 1)]
    separators = (ord(","), ord("\n"), ord("\r"))
    at_start = (quote_at == begin) | np.isin(before, separators)
    at_end = (quote_at + 1 >= size) | np.isin(after, separators)
    prev_is_quote = np.concatenate([[False], np.diff(quote_at) == 1])
    next_is_quote = np.concatenate([np.diff(quote_at) == 1, [False]])
    bad_open = opening & ~at_start & ~prev_is_quote
    bad_close = ~opening & ~at_end & ~next_is_quote
    found = [(int(quote_at[i]), "'\"' inside a field that does not start with a quote" if bad_open[i]
              else "',' expected after '\"'") for i in np.flatnonzero(bad_open | bad_close)]
    if len(quote_at) % 2:
        found.append((int(quote_at[-1]), "unexpected end of data"))
    return sorted(found)


def _blank_records(raw: bytes, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Records with nothing but spaces, tabs and commas (only short ones need a look: a blank
    record longer than 64 bytes would be a row of 64 empty cells)."""
    blank = ends == starts
    short = np.flatnonzero((ends - starts > 0) & (ends - starts <= 64))
    for i in short:
        if set(raw[starts[i]:ends[i]]) <= _BLANK_BYTES:
            blank[i] = True
    return blank


def _header(raw: bytes, start: int, end: int, name: str, line: int) -> list[str]:
    text = raw[start:end].decode("utf-8", errors="replace")
    try:
        return [h.strip() for h in next(csv.reader([text], strict=True))]
    except (csv.Error, StopIteration):
        raise InputError([Problem(name, line, "-", f"malformed CSV: the header row cannot be read {QUOTE_HINT}")]) \
            from None


def _long_fields(raw: bytes, starts, ends, lines, header: list[str], name: str) -> list[Problem]:
    """Fields over MAX_FIELD_CHARS; only a record longer than that can hold one."""
    problems = []
    for i in np.flatnonzero(ends - starts > MAX_FIELD_CHARS):
        record = raw[starts[i]:ends[i]].decode("utf-8", errors="replace")
        limit = csv.field_size_limit(len(record) + 1)
        try:
            cells = next(csv.reader([record], strict=True), [])
        except csv.Error:  # a record with a broken quote is reported as such
            continue
        finally:
            csv.field_size_limit(limit)
        for column, cell in zip(header, cells):
            if len(cell) > MAX_FIELD_CHARS:
                problems.append(Problem(name, int(lines[i]), column, f"field is {len(cell):,} characters long; "
                                        f"the limit is {MAX_FIELD_CHARS:,} (was something pasted by mistake?)"))
    return problems


def _utf8_problem(raw: bytes, name: str) -> Problem | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        bad = raw[err.start: err.start + 1].hex()
        return Problem(name, line, "-", f"byte 0x{bad} is not UTF-8; save the file as UTF-8 "
                       "(most spreadsheets: 'CSV UTF-8')")
    return None


def _parse(raw: bytes, structure: Structure) -> pd.DataFrame:
    """Every cell of the data records as text, parsed by pyarrow."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    header = structure.header
    if not len(structure.starts):
        return pd.DataFrame({h: pd.Series([], dtype="string[pyarrow]") for h in header})
    # Only the data records, one per line, whatever blank lines or line ends the file had.
    first, last = int(structure.starts[0]), int(structure.ends[-1])
    body = raw[first:last]
    if len(structure.starts) > 1 and not _contiguous(raw, structure):
        body = b"\n".join(raw[s:e] for s, e in zip(structure.starts.tolist(), structure.ends.tolist()))
    names = [f"c{i}" for i in range(len(header))]  # the real names may repeat or be empty
    table = pacsv.read_csv(
        pa.py_buffer(body),
        read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    frame.columns = header
    if len(frame) != len(structure.starts):
        raise RuntimeError(f"internal error: the scan found {len(structure.starts)} records, "
                           f"the parser {len(frame)}")
    return frame


def _contiguous(raw: bytes, structure: Structure) -> bool:
    """True when the data records follow one another separated by single LF line ends."""
    gaps = structure.starts[1:] - structure.ends[:-1]
    if not (gaps == 1).all():
        return False
    return bool((np.frombuffer(raw, dtype=np.uint8)[structure.ends[:-1]] == ord("\n")).all())


def read_csv_table(path: Path | str, required: tuple[str, ...] = ()) -> CsvTable:
    """Read `path` into a CsvTable, raising InputError with every located problem."""
    path = Path(path)
    name = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise InputError([Problem(name, 0, "-", f"cannot read file: {err.strerror}")]) from None
    if not raw[:4096].strip(b" \t\r\n\xef\xbb\xbf") and not raw.strip(b" \t\r\n\xef\xbb\xbf"):
        raise InputError([Problem(name, 1, "-", "file is empty; expected a header row")])
    header = _first_line_header(raw)
    quotes = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == _QUOTE)
    begin = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    if header is not None and not (len(quotes) and _bad_quotes(np.frombuffer(raw, dtype=np.uint8), begin, quotes)):
        problems = _header_problems(name, header, required)
        if problems:
            raise InputError(problems)
        try:
            frame = pd.read_csv(io.BytesIO(raw), engine="pyarrow", dtype=str, keep_default_na=False,
                                na_values=[], encoding="utf-8")
        except (ValueError, UnicodeDecodeError):  # pyarrow's errors: a ragged row, bad UTF-8, ...
            pass
        else:
            if frame.shape[1] == len(header):
                frame.columns = header
                _raise_long_fields(CsvTable(path, header, frame))
                return CsvTable(path, header, frame)
    # The slow path: locate what the fast parser refused (or parse what it could not).
    structure = scan(raw, name)
    problems = _header_problems(name, structure.header, required) + structure.problems
    if problems:
        encoding = _utf8_problem(raw, name)  # a wrong encoding explains the rest
        raise InputError([encoding] if encoding else problems)
    try:
        frame = _parse(raw, structure)
    except Exception as err:  # pyarrow says "invalid UTF8" without a place
        encoding = _utf8_problem(raw, name)
        if encoding is None:
            raise InputError([Problem(name, 0, "-", f"cannot parse the file: {err}")]) from None
        raise InputError([encoding]) from None
    return CsvTable(path, structure.header, frame, structure)


def _first_line_header(raw: bytes) -> list[str] | None:
    """The header from the first line, when that line is a whole, quote-free record."""
    end = raw.find(b"\n")
    first = raw[: end if end >= 0 else len(raw)].removeprefix(b"\xef\xbb\xbf").removesuffix(b"\r")
    if b'"' in first or b"\r" in first or not first.strip():
        return None
    try:
        return [h.strip() for h in first.decode("utf-8").split(",")]
    except UnicodeDecodeError:
        return None


def _raise_long_fields(table: CsvTable) -> None:
    """Fields over MAX_FIELD_CHARS, located (measured as bytes first: a character is at least one)."""
    problems = []
    for column in table.header:
        cells = table.frame[column]
        if cells.str.len().max() > MAX_FIELD_CHARS:
            for i in np.flatnonzero((cells.str.len() > MAX_FIELD_CHARS).to_numpy()):
                problems.append(table.problem(i, column, f"field is {len(cells.iloc[i]):,} characters long; "
                                              f"the limit is {MAX_FIELD_CHARS:,} (was something pasted by mistake?)"))
    if problems:
        raise InputError(problems)


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
    matches = difflib.get_close_matches(wanted, [h for h in header if h], n=1, cutoff=0.75)
    return matches[0] if matches else None
