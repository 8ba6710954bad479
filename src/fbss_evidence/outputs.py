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


def _inert(v):
    return "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which text cells (and column names, which may come from data) that a
    spreadsheet would evaluate are made inert."""
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
