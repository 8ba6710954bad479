"""The dataset: where its tables are, and reading them into one validated whole.

`load_dataset(paths)` reads every table, applies the column rules of schema.py and
the rules of validate.py, and returns the typed tables; or raises InputError listing
every problem, each as `file:line: column: message`. The notebooks, the command line
and the report all load the data through it, so they all see the same rules.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from . import config, schema, validate
from .csvfile import CsvTable, read_csv_table
from .problems import InputError, Problem


@dataclass(frozen=True)
class DataPaths:
    """The file of each table. By default the files of data/; `in_folder` takes another folder
    with the same file names (a copy of data/ to try changes on), and any one file can be
    given on its own. A table given as None is skipped, with the rules that need it."""

    sources: Path | None
    claims: Path | None
    references: Path | None
    studies: Path | None
    audit: Path | None
    statement_audit: Path | None
    questions: Path | None
    claim_questions: Path | None
    results: Path | None
    search_log: Path | None
    screening: Path | None
    number_exclusions: Path | None
    eligibility: Path | None = None
    risk_of_bias: Path | None = None
    reviews: Path | None = None
    reference_reviews: Path | None = None

    @classmethod
    def in_folder(cls, folder: Path | str = config.DATA, **files) -> DataPaths:
        folder = config.resolve(folder)
        paths = {name: folder / file for name, file in config.TABLE_FILES.items()}
        paths.update({name: (None if path is None else config.resolve(path)) for name, path in files.items()})
        return cls(**paths)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def with_(self, **changes) -> DataPaths:
        return replace(self, **changes)

    def files(self) -> list[Path]:
        """Every file the dataset reads (the tables given; not the source texts)."""
        return [getattr(self, name) for name in self.names() if getattr(self, name) is not None]


@dataclass
class Dataset:
    """The validated tables: what the notebooks analyse."""

    sources: pd.DataFrame
    texts: dict[str, str]  # source_id -> the page's text
    claims: pd.DataFrame
    references: pd.DataFrame
    studies: pd.DataFrame | None = None
    audit: pd.DataFrame | None = None
    statements: pd.DataFrame | None = None
    questions: pd.DataFrame | None = None
    links: pd.DataFrame | None = None  # claim_questions
    results: pd.DataFrame | None = None
    search_log: pd.DataFrame | None = None
    screening: pd.DataFrame | None = None
    exclusions: pd.DataFrame | None = None  # number_exclusions
    eligibility: pd.DataFrame | None = None
    risk_of_bias: pd.DataFrame | None = None
    reviews: pd.DataFrame | None = None
    reference_reviews: pd.DataFrame | None = None
    warnings: list[Problem] = field(default_factory=list)  # located, but no reason to stop (fbss-validate prints them)


class _Reader:
    """Reads tables and collects their problems, so that every problem is reported at once."""

    def __init__(self):
        self.problems: list[Problem] = []
        self.note = ""
        self.read: dict[str, tuple[CsvTable, pd.DataFrame]] = {}  # by schema name: for the foreign keys

    def table(self, path: Path | None, table_schema) -> tuple[CsvTable, pd.DataFrame] | tuple[None, None]:
        if path is None:
            return None, None
        try:
            table = read_csv_table(path, required=schema.columns(table_schema))
        except InputError as err:
            self.problems += err.problems
            return None, None
        frame = validate.drop_empty_rows(table, validate.clean(table.frame))
        self.problems += validate.parse_numbers(table, frame, schema.numeric_columns(table_schema))
        self.problems += validate.column_problems(table, frame, table_schema)
        self.read[table_schema.name] = (table, frame)
        return table, frame


def load_sources(path: Path, reader: _Reader) -> tuple[pd.DataFrame, dict[str, str]]:
    """The sources table and each page's text, checked against its recorded SHA-256."""
    table, frame = reader.table(path, schema.SOURCES)
    if table is None:  # the other tables are still read, so that every problem is reported at once
        reader.note = "The quotes and the ledgers are checked against the pages once sources.csv can be read."
        return pd.DataFrame(columns=list(schema.columns(schema.SOURCES))), {}
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
        reader.problems += reference_lines_problems(table, i, row, len(texts[row.source_id].splitlines()))
    return frame, texts


def reference_lines_problems(table: CsvTable, i: int, row, lines: int) -> list[Problem]:
    """The page's reference list, which both ledgers skip: both ends or neither, within the page, in order."""
    first, last = getattr(row, "references_first_line", np.nan), getattr(row, "references_last_line", np.nan)
    if pd.isna(first) and pd.isna(last):
        return []
    if pd.isna(first) or pd.isna(last):
        return [table.problem(i, "references_first_line" if pd.isna(first) else "references_last_line",
                              "give both ends of the reference list, or neither")]
    if not 1 <= first <= last <= lines:
        return [table.problem(i, "references_first_line", f"lines {first:g}-{last:g} are not a range within "
                              f"the page's {lines} lines ({row.file})")]
    return []


def load_dataset(paths: DataPaths | None = None) -> Dataset:
    """Read and validate every table; raise InputError listing every problem."""
    paths = paths or DataPaths.in_folder()
    r = _Reader()
    sources, texts = load_sources(Path(paths.sources), r)

    studies_table, studies = r.table(paths.studies, schema.STUDIES)
    if studies is not None:
        r.problems += validate.study_problems(studies_table, studies)
        r.problems += validate.url_problems(studies_table, studies)
    ref_table, references = r.table(paths.references, schema.REFERENCES)
    claims_table, claims = r.table(paths.claims, schema.CLAIMS)
    if claims is not None:
        if claims.empty:
            r.problems.append(Problem(claims_table.name, 1, "-", "file has a header but no claims"))
        else:
            refs = references if references is not None else pd.DataFrame(columns=["ref_id", "source_id"])
            r.problems += validate.value_problems(claims_table, claims)
            r.problems += validate.base_problems(claims_table, claims)
            r.problems += validate.citation_problems(claims_table, claims, refs)
            r.problems += validate.quote_problems(claims_table, claims, texts)
    audit_table, audit = r.table(paths.audit, schema.CITATION_AUDIT)
    if audit is not None and claims is not None and references is not None and studies is not None:
        r.problems += validate.audit_problems(audit_table, audit, claims, references, studies)
        r.problems += validate.missing_audit_rows(claims_table, claims, audit)
    statement_table, statements = r.table(paths.statement_audit, schema.STATEMENT_AUDIT)
    if statements is not None and references is not None:
        r.problems += validate.statement_problems(statement_table, statements, texts, references, studies)

    questions_table, questions = r.table(paths.questions, schema.QUESTIONS)
    results_table, results = r.table(paths.results, schema.RESULTS)
    if results is not None:
        r.problems += validate.result_problems(results_table, results)
        r.problems += validate.url_problems(results_table, results)
        if studies is not None:
            r.problems += validate.study_label_problems(studies_table, studies, results)
        if questions is not None:
            r.problems += validate.question_problems(questions_table, questions, results)
    links_table, links = r.table(paths.claim_questions, schema.CLAIM_QUESTIONS)
    if links is not None and claims is not None and questions is not None and results is not None:
        r.problems += validate.link_problems(links_table, links, claims, questions, results)
    warnings = validate.unlinked_warnings(claims_table, claims, links) if links is not None and claims is not None \
        else []
    _, search_log = r.table(paths.search_log, schema.SEARCH_LOG)
    _, screening = r.table(paths.screening, schema.SCREENING)
    checked = {}
    for name, table_schema in (("eligibility", schema.ELIGIBILITY), ("risk_of_bias", schema.RISK_OF_BIAS),
                               ("reviews", schema.REVIEWS), ("reference_reviews", schema.REFERENCE_REVIEWS)):
        table, frame = r.table(getattr(paths, name), table_schema)
        checked[name] = frame
        if frame is not None:
            if name == "eligibility" and results is not None:
                r.problems += validate.eligibility_problems(table, frame, results_table, results, questions)
            r.problems += validate.url_problems(table, frame)
            if name == "risk_of_bias":
                r.problems += validate.risk_of_bias_problems(table, frame, studies)
    exclusions_table, exclusions = r.table(paths.number_exclusions, schema.NUMBER_EXCLUSIONS)
    # Every table's foreign keys at once, as schema.py declares them.
    r.problems += validate.reference_problems(r.read)
    ledgers = exclusions is not None and claims is not None and statements is not None and references is not None
    if ledgers and not r.problems:
        # The ledgers need every other table right: they run once the rest is valid.
        r.problems += ledger_problems(Path(paths.sources), sources, texts, claims, statements, references,
                                      exclusions_table, exclusions, statement_table)
    elif ledgers:
        r.note = r.note or "The number and footnote ledgers run once these are fixed."
    if r.problems:
        raise InputError(r.problems, r.note)
    return Dataset(sources, texts, claims, references, studies, audit, statements, questions, links, results,
                   search_log, screening, exclusions, warnings=warnings, **checked)


def ledger_problems(sources_csv: Path, sources: pd.DataFrame, texts: dict[str, str], claims: pd.DataFrame,
                    statements: pd.DataFrame, references: pd.DataFrame, exclusions_table: CsvTable,
                    exclusions: pd.DataFrame, statement_table: CsvTable | None = None) -> list[Problem]:
    """Every number and every footnote marker of every page accounted for; every exclusion names a number;
    every statement-audit row accounts for a marker (when its table is given). A problem in a page is
    located in its text file, by line and column."""
    from . import ledger
    from .problems import display_path

    problems = []
    used = set()
    recorded = ledger.recorded_numbers_by_page(claims)
    for source in sources.itertuples(index=False):
        if source.source_id not in texts:
            continue
        text, name = texts[source.source_id], display_path(sources_csv.parent / source.file)
        numbers = ledger.number_ledger(source.source_id, text, claims, exclusions, source.references_first_line,
                                       source.references_last_line, recorded.get(source.source_id, {}))
        for row in numbers.itertuples():
            if row.how == "exclusion":
                used.add((source.source_id, row.line, row.column, row.text))
            elif not isinstance(row.accounted_by, str):
                problems.append(Problem(name, row.line, f"column {row.column}",
                                        f"the number '{row.text}' is recorded by no claim and has no row in "
                                        "number_exclusions.csv (a claim whose quote contains it and records it "
                                        "as its value or in what it measures, or an exclusion with its reason)"))
        markers = ledger.footnote_ledger(source.source_id, text, claims, statements, references, exclusions,
                                         source.references_first_line, source.references_last_line)
        for row in markers[markers["accounted_by"].isna()].itertuples():
            problems.append(Problem(name, row.line, f"column {row.column}",
                                    f"footnote {row.marker} marks a statement that neither a claim citing that "
                                    "reference nor a statement_audit.csv row accounts for"))
        if statement_table is not None:
            for i, column, message in ledger.unmarked_statements(
                    source.source_id, text, statements, references, exclusions, source.references_first_line,
                    source.references_last_line):
                problems.append(statement_table.problem(i, column, message))
    for i, row in enumerate(exclusions.itertuples(index=False)):
        if (row.source_id, row.line, row.column, row.text) not in used:
            problems.append(exclusions_table.problem(i, "text", f"no number '{row.text}' at line {row.line:g}, column "
                                                     f"{row.column:g} of {row.source_id} needs excluding (it is "
                                                     "not there, a claim records it, it is a footnote marker, or "
                                                     "it lies in the page's reference list)"))
    return problems


# -- validate once per build ------------------------------------------------------------------

def content_key(paths: DataPaths) -> str:
    """A digest of everything validation depends on: the bytes of every table and page, the analysis
    package's code and the versions of the libraries that check it. Equal keys, equal verdicts."""
    import importlib.metadata

    digest = hashlib.sha256()
    files = sorted(set(paths.files()))
    if paths.sources is not None:
        files += sorted(Path(paths.sources).parent.joinpath("sources").glob("*"))
    for file in files:
        digest.update(str(file).encode() + b"\0")
        digest.update(Path(file).read_bytes() if Path(file).is_file() else b"missing")
    for module in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(module.read_bytes())
    for library in ("pandas", "pandera", "numpy", "pyarrow"):
        digest.update(importlib.metadata.version(library).encode())
    return digest.hexdigest()


def load_validated(paths: DataPaths | None = None, cache: Path | None = None) -> Dataset:
    """load_dataset, once per content: the checked tables are kept in build/validated/<key>.pickle
    (content_key), so that make's runs, after `fbss-validate` has checked the data, read them back
    instead of checking again; a run on data that changed since (papermill, JupyterLab) validates anew.
    Nothing is kept for data that fails."""
    import pickle

    from .outputs import atomic_path

    paths = paths or DataPaths.in_folder()
    folder = cache or config.BUILD / "validated"
    stored = folder / f"{content_key(paths)}.pickle"
    if stored.is_file():
        try:
            return pickle.loads(stored.read_bytes())
        except Exception:  # a damaged or foreign file: validate again and replace it
            stored.unlink(missing_ok=True)
    data = load_dataset(paths)
    try:
        for old in folder.glob("*.pickle"):  # one entry per folder: the data of the last build
            old.unlink(missing_ok=True)
        with atomic_path(stored) as tmp:
            Path(tmp).write_bytes(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass  # a read-only build folder: the data were checked, only the shortcut is lost
    return data
