"""The dataset: where its tables are, and reading them into one validated whole.

`load_dataset(paths)` reads every table, applies the column rules of schema.py and
the rules of validate.py, and returns the typed tables; or raises InputError listing
every problem, each as `file:line: column: message`. The notebooks, the command line
and the report all load the data through it, so they all see the same rules.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields, replace
from pathlib import Path

import pandas as pd

from . import config, schema, validate
from .csvfile import CsvTable, read_csv_table
from .problems import InputError, Problem


@dataclass(frozen=True)
class DataPaths:
    """The file of each table. A notebook receives each as a parameter `<name>_path`."""

    claims: Path = config.CLAIMS_CSV
    sources: Path = config.SOURCES_CSV
    references: Path = config.REFERENCES_CSV
    audit: Path | None = config.AUDIT_CSV
    statement_audit: Path | None = config.STATEMENT_AUDIT_CSV

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def parameter(cls, name: str) -> str:
        """The notebook parameter that carries a table's path."""
        return f"{name}_path"

    @classmethod
    def from_parameters(cls, params: dict) -> DataPaths:
        """The paths given as notebook parameters; a relative path is relative to the project."""
        given = {name: config.resolve(params[cls.parameter(name)]) for name in cls.names()
                 if params.get(cls.parameter(name)) is not None}
        return cls(**given)

    def with_(self, **changes) -> DataPaths:
        return replace(self, **changes)


@dataclass
class Dataset:
    """The validated tables: what the notebooks analyse."""

    sources: pd.DataFrame
    texts: dict[str, str]  # source_id -> the page's text
    claims: pd.DataFrame
    references: pd.DataFrame
    audit: pd.DataFrame | None
    statements: pd.DataFrame | None


class _Reader:
    """Reads tables and collects their problems, so that every problem is reported at once."""

    def __init__(self):
        self.problems: list[Problem] = []

    def table(self, path: Path, table_schema) -> tuple[CsvTable, pd.DataFrame] | None:
        try:
            table = read_csv_table(path, required=schema.columns(table_schema))
        except InputError as err:
            self.problems += err.problems
            return None
        frame = validate.drop_empty_rows(table, validate.clean(table.frame))
        self.problems += validate.parse_numbers(table, frame, schema.numeric_columns(table_schema))
        self.problems += validate.column_problems(table, frame, table_schema)
        return table, frame


def load_sources(path: Path, reader: _Reader) -> tuple[pd.DataFrame, dict[str, str]]:
    """The sources table and each page's text, checked against its recorded SHA-256."""
    read = reader.table(path, schema.SOURCES)
    if read is None:
        raise InputError(reader.problems)
    table, frame = read
    texts: dict[str, str] = {}
    for i, row in enumerate(frame.itertuples(index=False)):
        if pd.isna(row.file):
            continue  # reported as empty
        doc = path.parent / row.file
        if not doc.is_file():
            reader.problems.append(table.problem(i, "file", f"{row.file} does not exist"))
            continue
        raw = doc.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if digest != row.sha256:
            reader.problems.append(table.problem(
                i, "sha256", f"{row.file} has changed since its hash was recorded "
                f"(recorded {str(row.sha256)[:12]}..., now {digest[:12]}...); "
                "source documents are raw data and must not be edited"))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            reader.problems.append(table.problem(
                i, "file", f"{row.file} is not UTF-8 (byte 0x{raw[err.start]:02x} on line {line})"))
            text = raw.decode("utf-8", errors="replace")
        # As read_text() would: universal newlines.
        texts[row.source_id] = text.replace("\r\n", "\n").replace("\r", "\n")
    return frame, texts


def load_dataset(paths: DataPaths | None = None) -> Dataset:
    """Read and validate every table; raise InputError listing every problem."""
    paths = paths or DataPaths()
    reader = _Reader()
    sources, texts = load_sources(Path(paths.sources), reader)

    references = claims = audit = statements = None
    read = reader.table(Path(paths.references), schema.REFERENCES)
    if read is not None:
        ref_table, references = read
        reader.problems += validate.reference_problems(ref_table, references)
        reader.problems += validate.unknown_keys(ref_table, references, "source_id", set(texts),
                                                 "source_id (see data/sources.csv)")
    read = reader.table(Path(paths.claims), schema.CLAIMS)
    if read is not None:
        claims_table, claims = read
        if claims.empty:
            reader.problems.append(Problem(claims_table.name, 1, "-", "file has a header but no claims"))
        else:
            reader.problems += validate.unknown_keys(claims_table, claims, "source_id", set(texts),
                                                     "source_id (see data/sources.csv)")
            refs = references if references is not None else pd.DataFrame(columns=["ref_id", "source_id"])
            reader.problems += validate.value_problems(claims_table, claims)
            reader.problems += validate.base_problems(claims_table, claims)
            reader.problems += validate.citation_problems(claims_table, claims, refs)
            reader.problems += validate.quote_problems(claims_table, claims, texts)
    if paths.audit is not None and claims is not None and references is not None:
        read = reader.table(Path(paths.audit), schema.CITATION_AUDIT)
        if read is not None:
            audit_table, audit = read
            reader.problems += validate.audit_problems(audit_table, audit, claims, references)
            reader.problems += validate.missing_audit_rows(claims_table, claims, audit)
    if paths.statement_audit is not None and references is not None:
        read = reader.table(Path(paths.statement_audit), schema.STATEMENT_AUDIT)
        if read is not None:
            statement_table, statements = read
            reader.problems += validate.statement_problems(statement_table, statements, texts, references)
    if reader.problems:
        raise InputError(reader.problems)
    return Dataset(sources, texts, claims, references, audit, statements)
