"""The bad-input corpus of every table, derived from schema.py rather than written case by case.

For each table that schema.TABLES declares, a copy of data/ gets one break per rule the schema
states for it, each in a cell of its own, and `load_dataset` must refuse the copy with every
break named at its file, line and column and with the rule it breaks:

- every count (a `whole` number column) given a fraction, and every number column infinity;
- every required column left empty;
- every column check (vocabulary, form, minimum, range) given a value outside it;
- the table's declared primary key (or columns unique together) given again on a new last row;
- every declared foreign key pointed at a row that does not exist.

A new table, column or key in schema.py is covered here without a new test. The hand-written
corpora (test_validate*.py) keep the exact messages of the rules that span columns and tables.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_validate_literature import _rows, _write

from fbss_evidence import config, schema
from fbss_evidence.dataset import DataPaths, load_dataset
from fbss_evidence.problems import InputError

# schema name -> its file under data/ (config names the citation audit "audit").
FILES = {("citation_audit" if name == "audit" else name): file for name, file in config.TABLE_FILES.items()}
GONE = "gone-row-x"  # a well-formed id that names no row of any table


def test_every_table_has_a_file():
    assert set(FILES) == set(schema.TABLES)


@dataclass(frozen=True)
class Break:
    row: int  # 0-based data row
    column: str
    value: str
    message: str  # a part of the expected message


def _record_lines(path: Path) -> list[int]:
    """The line each data record starts on (a quoted cell may span lines)."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        starts, end = [], reader.line_num
        for _ in reader:
            starts.append(end + 1)
            end = reader.line_num
        return starts


def _key(name: str) -> tuple[str, ...]:
    """The columns that identify a row: the primary key, or the columns declared unique together."""
    return schema.TABLES[name].metadata["primary_key"] or schema.TABLES[name].metadata["unique"]


def check_breaks(check) -> list[tuple[str, str]]:
    """(a value that breaks it, a part of the message) for one of the schema's column checks."""
    stats = check.statistics or {}
    if check.name == "isin":
        return [("not-in-the-list", "'not-in-the-list' is not allowed; use one of: ")]
    if check.name == "str_matches":
        return [("Not The Form!", "'Not The Form!' has the wrong form (expected ")]
    if check.name == "str_length":
        return []  # an empty cell: the required-cell break
    if check.name == "greater_than_or_equal_to":
        low = stats["min_value"]
        return [(f"{low - 1:g}", "is negative" if low == 0 else f"is below the minimum {low:g}")]
    if check.name == "greater_than":
        return [(f"{stats['min_value']:g}", f"must be greater than {stats['min_value']:g}")]
    if check.name == "in_range":
        low, high = stats["min_value"], stats["max_value"]
        return [(f"{low - 1:g}", f"is outside {low:g}-{high:g}"), (f"{high + 1:g}", f"is outside {low:g}-{high:g}")]
    raise AssertionError(f"a check this corpus does not know how to break: {check.name}")


def breaks(name: str, rows: list[dict[str, str]]) -> tuple[list[Break], int | None]:
    """The breaks of one table, spread over its rows, and the row whose key is repeated (None when the
    table declares no key)."""
    table_schema = schema.TABLES[name]
    wanted: list[tuple[str, str, str, bool]] = []  # column, value, message, needs a filled cell
    for column_name, column in table_schema.columns.items():
        if str(column.dtype) == "float64":
            wanted.append((column_name, "inf", "is not a finite number", False))
            if (column.metadata or {}).get("whole"):
                wanted.append((column_name, "2.5", f"is not a whole number: {column_name} counts", False))
        if not column.nullable:
            wanted.append((column_name, "", "must not be empty", False))
        for check in column.checks:
            wanted += [(column_name, value, message, False) for value, message in check_breaks(check)]
    for column_name, other, other_column in table_schema.metadata["foreign_keys"]:
        wanted.append(
            (
                column_name,
                GONE,
                f"'{GONE}' is not a known {other_column} (see data/{FILES[other]}): a row may only "
                "point at one that exists",
                True,
            )
        )
    key = _key(name)
    # The row whose key is repeated is kept whole: the last with its key filled in.
    keep = max((i for i, r in enumerate(rows) if all(r[c] for c in key)), default=None) if key else None
    usable = [i for i in range(len(rows)) if i != keep]
    assert usable, f"{name} needs rows to break"
    out, used = [], {}  # (row, column) broken; breaks per row
    for column_name, value, message, filled in wanted:
        # One break per cell, spread over the rows (a row left all empty would be a blank line); a
        # broken key needs a filled cell.
        candidates = [i for i in usable if (i, column_name) not in used and (not filled or rows[i][column_name])]
        assert candidates, f"no row of {name} left to break {column_name}"
        row = min(candidates, key=lambda i: (sum(r == i for r, _ in used), i))
        used[(row, column_name)] = True
        out.append(Break(row, column_name, value, message))
    return out, keep


@pytest.mark.parametrize("name", sorted(schema.TABLES))
def test_every_rule_of_the_schema_is_refused_and_located(name, data):
    path = data / FILES[name]
    header, rows = _rows(path)
    table_breaks, repeated_row = breaks(name, rows)
    for b in table_breaks:
        rows[b.row][b.column] = b.value
    if repeated_row is not None:
        rows.append(dict(rows[repeated_row]))
    _write(path, header, rows)
    lines = _record_lines(path)

    with pytest.raises(InputError) as refused:  # and nothing else: no traceback
        load_dataset(DataPaths.in_folder(data))
    problems = refused.value.problems
    file = f"data/{FILES[name]}"
    for b in table_breaks:
        line = lines[b.row]
        assert any(
            p.file == file and p.line == line and p.column == b.column and b.message in p.message for p in problems
        ), f"{file}:{line}: {b.column} = {b.value!r} was not refused with '{b.message}'"
    if repeated_row is not None:
        line, columns = lines[-1], _key(name)
        repeated = (
            f"is used again (first on line {lines[repeated_row]}): each {columns[0]} is unique"
            if len(columns) == 1
            else "is already on an earlier row: each must be unique"
        )
        assert any(
            p.file == file and p.line == line and p.column == columns[-1] and repeated in p.message for p in problems
        ), f"{file}:{line}: the repeated key ({', '.join(columns)}) was not refused"
    for p in problems:  # every problem, the knock-on ones too, is located in a real line and column
        assert Path(p.file).exists(), p
        if p.file == file:
            assert 1 <= p.line <= lines[-1] and (p.column in header or p.column == "-"), p


def _without_column(text: str, column: str) -> str:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    at = rows[0].index(column)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([r[:at] + r[at + 1 :] for r in rows])
    return out.getvalue()


FILE_BREAKS = {
    # name: (how the file's text is broken, the line and column of the problem, a part of its message)
    "a required column missing": (
        lambda text, name: _without_column(text, next(iter(schema.TABLES[name].columns))),
        lambda name: (1, next(iter(schema.TABLES[name].columns))),
        "required column is missing",
    ),
    "a stray quote": (
        lambda text, name: text.replace("\n", '\nx"y', 1),
        lambda name: (2, "-"),
        "malformed CSV",
    ),
    "a row with a field too many": (
        lambda text, name: _extra_field(text),
        lambda name: (2, "-"),
        "fields but the header has",
    ),
}


def _extra_field(text: str) -> str:
    header, first, rest = text.split("\n", 2)
    return f"{header}\n{first},extra\n{rest}"


@pytest.mark.parametrize("how", sorted(FILE_BREAKS))
def test_every_file_that_cannot_be_read_is_refused_and_located(how, data):
    # Every table broken the same way at once: a table that cannot be read never hides another's problem.
    broken, where, message = FILE_BREAKS[how]
    for name in schema.TABLES:
        path = data / FILES[name]
        path.write_text(broken(path.read_text(encoding="utf-8"), name), encoding="utf-8")
    with pytest.raises(InputError) as refused:
        load_dataset(DataPaths.in_folder(data))
    problems = refused.value.problems
    for name in schema.TABLES:
        line, column = where(name)
        assert any(
            p.file == f"data/{FILES[name]}" and p.line == line and p.column == column and message in p.message
            for p in problems
        ), f"data/{FILES[name]}: {how} was not refused at line {line}, column {column}"
