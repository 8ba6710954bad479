"""Validate once: a validated dataset is kept until one of its inputs or the code changes.

`make` validates the data, then runs many notebooks on it; without this, every
notebook would read and check the same files again (35 s for a million claims).
fbss-validate --cache DIR validates and then stores the checked tables under a
key made of every input file's path, inode, size, modification and change
times, the text of every module of the package, and the Python, pandas, numpy
and pandera versions. A notebook finds them there, or validates (and stores)
itself. Editing a file changes its change time (which no tool can set back), so
an edit always gives another key. Only the project writes these files, into its
own build folder, so unpickling them is safe.
"""
from __future__ import annotations

import csv
import hashlib
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from . import validate
from .outputs import atomic_path

# Every module of the package: a list of "the modules that check" would go stale.
_PACKAGE = Path(__file__).parent
_CODE = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(_PACKAGE.rglob("*.py")))).hexdigest()
KEEP = 4  # stored datasets kept per folder (the newest)


def _stat(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"


def _versions() -> list[str]:
    import pandera

    return [sys.version, pd.__version__, np.__version__, pandera.__version__]


def _source_texts(sources: Path) -> list[Path]:
    """The text files sources.csv names (unreadable rows are validation's business)."""
    try:
        with open(sources, encoding="utf-8-sig", newline="") as f:
            return sorted({sources.parent / row["file"] for row in csv.DictReader(f) if row.get("file")})
    except (OSError, UnicodeDecodeError, csv.Error, KeyError, TypeError):
        return []


def key(claims: Path, sources: Path, references: Path, audit: Path | None) -> str:
    """What the validated tables depend on, hashed."""
    parts = [*_versions(), _CODE]
    for path in (claims, sources, references, audit, *_source_texts(Path(sources))):
        parts.append("none" if path is None else _stat(Path(path)) if Path(path).exists() else f"{path}:missing")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _pack(frame: pd.DataFrame | None):
    """A frame as columns; a text column as its distinct values and one code per row.

    Pickling a million rows of repeated text cell by cell takes seconds; the
    distinct values and an integer array take a fraction of that.
    """
    if frame is None:
        return None
    columns = {}
    for name in frame.columns:
        col = frame[name]
        if col.dtype == object:
            codes, uniques = pd.factorize(col, use_na_sentinel=True)
            columns[name] = ("text", codes.astype(np.int32), np.asarray(uniques, dtype=object))
        else:
            columns[name] = ("array", col.to_numpy(), col.dtype)
    return frame.index, columns


def _unpack(packed) -> pd.DataFrame | None:
    if packed is None:
        return None
    index, columns = packed
    data = {}
    for name, (kind, *rest) in columns.items():
        if kind == "text":
            codes, uniques = rest
            table = np.empty(len(uniques) + 1, dtype=object)  # the last entry, None, for code -1
            table[:-1] = uniques
            data[name] = pd.Series(table[codes], index=index, dtype=object)
        else:
            values, dtype = rest
            data[name] = pd.Series(values, index=index, dtype=dtype)
    return pd.DataFrame(data, index=index)


_TABLES = ("sources", "claims", "references", "audit")


def load(claims: Path, sources: Path, references: Path, audit: Path | None,
         cache: Path | None) -> validate.Dataset:
    """The validated dataset: from `cache` when these inputs were validated before, else checked now
    (raising InputError as validate.load_dataset does) and stored there."""
    if cache is None:
        return validate.load_dataset(claims, sources, references, audit)
    stored = Path(cache) / f"{key(claims, sources, references, audit)}.pickle"
    try:
        with open(stored, "rb") as f:
            packed = pickle.load(f)
        return validate.Dataset(**{name: _unpack(packed[name]) for name in _TABLES})
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, KeyError, TypeError,
            ValueError):
        pass
    data = validate.load_dataset(claims, sources, references, audit)
    store(data, claims, sources, references, audit, cache)
    return data


def store(data: validate.Dataset, claims: Path, sources: Path, references: Path, audit: Path | None,
          cache: Path) -> None:
    """Keep the checked tables for the notebooks; a failure to store costs time, never a result."""
    stored = Path(cache) / f"{key(claims, sources, references, audit)}.pickle"
    try:
        with atomic_path(stored) as tmp, open(tmp, "wb") as f:
            pickle.dump({name: _pack(getattr(data, name)) for name in _TABLES}, f,
                        protocol=pickle.HIGHEST_PROTOCOL)
        older = sorted(Path(cache).glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)[KEEP:]
        for path in older:
            path.unlink(missing_ok=True)
    except OSError as err:
        print(f"warning: could not store the validated tables in {cache} ({err.strerror or err}); "
              "each notebook will validate the data again", file=sys.stderr)


def default_cache() -> Path:
    from . import config

    return config.BUILD / "validated"
