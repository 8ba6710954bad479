"""Writing files so that a failed or killed run never leaves a half-written one, and tables
that are safe to open in a spreadsheet or a Markdown viewer.

`atomic_path` is the one way this project writes a file (figures, tables, executed
notebooks, the report, manifests and queue entries all go through it): the content
goes to a temporary name beside the target and is renamed into place only when it
is complete.
"""
from __future__ import annotations

import contextlib
import html
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where it is used: queueing a run (fbss_build.run) writes files only
    import pandas as pd

# A cell starting with one of these is run as a formula by spreadsheet programs
# (CSV injection); exported text cells get a leading apostrophe instead.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@contextlib.contextmanager
def atomic_path(path: Path | str):
    """Yield a temporary path beside `path`; move it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: Path | str, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return Path(path)


# Characters that reorder the text around them (Unicode bidirectional embeddings, overrides and
# isolates, and the marks): data could use them to make a cell read differently from what it holds.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"),
                              "\ufffd")


def neutral_text(v):
    """Text with every reordering control replaced by U+FFFD, so that it shows as a visible mark."""
    return v.translate(BIDI_CONTROLS) if isinstance(v, str) else v


def _inert(v):
    v = neutral_text(v)
    return "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which text cells (and column names, which may come from data) that a
    spreadsheet would evaluate are made inert."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(_inert)
    out.columns = [_inert(c) for c in out.columns]
    return out


def _markdown_cell(v):
    """Text as Markdown shows it literally: HTML escaped, pipes and line breaks kept inside the cell."""
    if not isinstance(v, str):
        return v
    return html.escape(v, quote=False).replace("|", "\\|").replace("\r\n", " ").replace("\n", " ")


# The Markdown copy of a table is for reading: past this many rows it shows the first
# ones and says where the rest are (tabulate takes seconds per 10,000 rows).
MARKDOWN_MAX_ROWS = 1000


def save_table(frame: pd.DataFrame, output_dir: Path | str, name: str) -> list[Path]:
    """Write a table as CSV (every row, formula-safe) and Markdown (HTML in cells escaped),
    deterministically and atomically."""
    output_dir = Path(output_dir)
    safe = neutralise_formulas(frame)
    csv_path, md_path = output_dir / f"{name}.csv", output_dir / f"{name}.md"
    with atomic_path(csv_path) as tmp:
        safe.to_csv(tmp, index=False, lineterminator="\n", float_format="%.10g")  # counts of millions keep every digit
    shown = safe.head(MARKDOWN_MAX_ROWS)
    shown = shown.map(_markdown_cell).rename(columns=_markdown_cell)
    shown = shown.astype(object).where(shown.notna(), None)  # an empty cell, not "nan"
    text = shown.to_markdown(index=False, floatfmt="g", missingval="") + "\n"
    if len(safe) > len(shown):
        text += (f"\n*The first {len(shown):,} of {len(safe):,} rows; "
                 f"every row is in {csv_path.name}.*\n")
    write_text(md_path, text)
    return [csv_path, md_path]


# -- tables for people: what the report shows ---------------------------------------------------

_RANGE_DASH = "\u2013"


def _is_missing(value) -> bool:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _as_float(value) -> float | None:
    if _is_missing(value) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def readable_number(value, *, percent: bool = False, group_from: int = 10_000) -> str:
    """A number as a person reads it: a percent to one decimal with its sign ('4.6%'), a whole
    number without '.0' (thousands separated from `group_from` on, so a year stays '2016'), any
    other number to three significant digits; missing as ''. Text is returned as it is."""
    number = _as_float(value)
    if number is None:
        return "" if _is_missing(value) else str(value)
    if percent:
        return f"{number:.1f}%"
    if number.is_integer():
        return f"{int(number):,}" if abs(number) >= group_from else str(int(number))
    return f"{number:.3g}"


def readable_range(low, high) -> str:
    """A percent range as 'low–high%' to one decimal, a single value when both ends read the same
    ('68.0%', never '68.0–68.0%'), one end when the other is missing, '' when both are."""
    lo, hi = _as_float(low), _as_float(high)
    if lo is None or hi is None:
        return readable_number(hi if lo is None else lo, percent=True) if (lo, hi) != (None, None) else ""
    lo_text, hi_text = f"{lo:.1f}", f"{hi:.1f}"
    return f"{lo_text}%" if lo_text == hi_text else f"{lo_text}{_RANGE_DASH}{hi_text}%"


def readable_cell(value, group_from: int = 10_000) -> str:
    """Any cell as text: numbers by readable_number, a mapping as 'key: value; ...', a list joined
    by commas, missing as ''; never a Python repr."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {readable_cell(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(readable_cell(v) for v in value)
    if isinstance(value, str):
        return value.strip()
    return readable_number(value, group_from=group_from)


def readable_table(frame: pd.DataFrame, *, percent=(), ranges: dict | None = None, grouped=(),
                   repeated: int = 50) -> tuple[pd.DataFrame, list[str]]:
    """(a table of texts for reading, its notes).

    `percent` names percent columns (one decimal, with '%'); `ranges` maps a new column name to
    the (low, high) columns it replaces, in place of the low one. In a `grouped` column a value
    is shown on the first row of a run of equal values only (a grouped row). A text part (cells split at
    '; ') of at least `repeated` characters that more than one row shows is printed once, as a
    numbered note, and each row says '[n]' instead. Within a column that holds a number of 10,000
    or more, every number from 1,000 on has its thousands separated."""
    import pandas as pd

    ranges = ranges or {}
    out = frame.map(neutral_text)
    for name, (low, high) in ranges.items():
        out.insert(list(out.columns).index(low), name, [readable_range(a, b) for a, b in zip(out[low], out[high])])
        out = out.drop(columns=[low, high])
    cells = {}
    for name in out.columns:
        if name in ranges:
            cells[name] = list(out[name])
        elif name in percent:
            cells[name] = [readable_number(v, percent=True) for v in out[name]]
        else:  # thousands separated throughout a column that has a number of 10,000 or more
            big = pd.to_numeric(out[name], errors="coerce").abs().max() >= 10_000
            cells[name] = [readable_cell(v, 1_000 if big else 10_000) for v in out[name]]
    for name in grouped:
        values = cells[name]
        cells[name] = [v if i == 0 or v != values[i - 1] else "" for i, v in enumerate(values)]
    counts: dict[str, int] = {}
    for values in cells.values():
        for text in values:
            for part in dict.fromkeys(text.split("; ")):
                if len(part) >= repeated:
                    counts[part] = counts.get(part, 0) + 1
    notes = {}
    for name, values in cells.items():
        for i, text in enumerate(values):
            parts = text.split("; ")
            if any(counts.get(p, 0) > 1 for p in parts):
                for j, part in enumerate(parts):
                    if counts.get(part, 0) > 1:
                        notes.setdefault(part, len(notes) + 1)
                        parts[j] = f"[{notes[part]}]"
                values[i] = "; ".join(dict.fromkeys(parts))
    table = pd.DataFrame(cells, columns=list(out.columns), index=range(len(out)), dtype=object)
    return table, [f"[{n}] {text}" for text, n in notes.items()]
