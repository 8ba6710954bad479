"""Writing outputs so that a failed or killed run never leaves a half-written file."""
from __future__ import annotations

import contextlib
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


# The Markdown copy of a table is for reading: past this many rows it shows the first
# ones and says where the rest are (tabulate takes seconds per 10,000 rows).
MARKDOWN_MAX_ROWS = 1000


def save_table(frame: pd.DataFrame, output_dir: Path | str, name: str) -> list[Path]:
    """Write a table as CSV (every row, formula-safe) and Markdown, deterministically and atomically."""
    output_dir = Path(output_dir)
    safe = neutralise_formulas(frame)
    csv_path, md_path = output_dir / f"{name}.csv", output_dir / f"{name}.md"
    with atomic_path(csv_path) as tmp:
        safe.to_csv(tmp, index=False, lineterminator="\n", float_format="%.10g")  # counts of millions keep every digit
    shown = safe.head(MARKDOWN_MAX_ROWS)
    text = shown.to_markdown(index=False, floatfmt="g") + "\n"
    if len(safe) > len(shown):
        text += (f"\n*The first {len(shown):,} of {len(safe):,} rows; "
                 f"every row is in {csv_path.name}.*\n")
    with atomic_path(md_path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return [csv_path, md_path]
