"""Validation of the data tables: every problem at once, each located.

Column-level rules come from schema.py (pandera); the rules pandera cannot
express (several columns, other files, the source texts) are here. The command
line entry point prints `file:line: column: message` for each problem.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.errors
from pandera.engines import pandas_engine

from . import config, schema, vocab
from .csvfile import CsvTable, read_csv_table
from .numbers import numbers_in, states_value
from .problems import InputError, Problem


@dataclass
class Dataset:
    """The validated tables, typed: what the notebooks analyse."""

    sources: pd.DataFrame
    claims: pd.DataFrame
    references: pd.DataFrame
    audit: pd.DataFrame | None


# -- generic helpers ---------------------------------------------------------

def _blank_to_na(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(_blank_column)


def _blank_column(col: pd.Series) -> pd.Series:
    """Cells stripped of surrounding space, empty ones None (col.str.strip().replace("", None))."""
    if col.dtype != object:
        return col
    try:
        cells = [cell.strip() or None for cell in col.tolist()]
    except AttributeError:  # a cell that is not text
        return col.str.strip().replace("", None)
    values = np.fromiter(cells, dtype=object, count=len(cells))
    return pd.Series(values, index=col.index, name=col.name, dtype=object)


def _parse_numbers(table: CsvTable, frame: pd.DataFrame, columns) -> list[Problem]:
    """Turn numeric columns into floats in place; a cell that is not a number is a problem."""
    problems = []
    for col in columns:
        raw = frame[col]
        parsed = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & parsed.isna()
        for i in np.flatnonzero(bad.to_numpy()):
            text = raw.iloc[i]
            hint = ""
            if "," in text:
                hint = " (use a point for decimals and no thousands separator, e.g. 71.2 or 77682)"
            elif text.endswith("%"):
                hint = " (write the number without the % sign; the unit column says percent)"
            problems.append(table.problem(i, col, f"'{text}' is not a number{hint}"))
        frame[col] = parsed.astype(float)
    return problems


def _pandera_problems(table: CsvTable, frame: pd.DataFrame, frame_schema) -> list[Problem]:
    try:
        _skip_passing_text_checks(frame_schema, frame).validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as err:
        return [_describe_failure(table, case) for case in err.failure_cases.itertuples()]
    return []


def _skip_passing_text_checks(frame_schema, frame: pd.DataFrame):
    """The schema without the str dtype checks that `frame` passes, for speed.

    pandera checks a str column of object dtype cell by cell (isinstance(cell, str)
    or missing), a Python call per cell. A non-empty object column whose cells are
    all text or missing passes it, and pandas' infer_dtype finds that out in C.
    """
    if not len(frame):
        return frame_schema  # pandera fails an empty object column as not str
    passing = {
        name: {"dtype": None}
        for name, column in frame_schema.columns.items()
        if isinstance(column.dtype, (pandas_engine.STRING, pandas_engine.NpString))
        and name in frame.columns and frame[name].dtype == object
        and pd.api.types.infer_dtype(frame[name], skipna=True) in ("string", "empty")
    }
    return frame_schema.update_columns(passing) if passing else frame_schema


def _describe_failure(table: CsvTable, case) -> Problem:
    check = str(case.check)
    value = case.failure_case
    row = None if pd.isna(case.index) else int(case.index)
    column = case.column if isinstance(case.column, str) else "-"
    if check == "not_nullable":
        message = "must not be empty"
    elif check.startswith("isin"):
        allowed = {
            "bound": vocab.BOUNDS, "unit": vocab.UNITS, "topic": vocab.TOPICS,
            "basis": vocab.BASES, "measure": vocab.MEASURES, "study_design": vocab.STUDY_DESIGNS,
            "lookup_status": vocab.LOOKUP_STATUSES, "verdict": vocab.VERDICTS,
        }.get(column, ())
        message = f"'{value}' is not allowed; use one of: {', '.join(allowed)}"
    elif check.startswith("str_matches") and value is not None:
        message = f"'{value}' has the wrong form (expected {check.removeprefix('str_matches')})"
    elif check.startswith("greater_than_or_equal_to"):
        message = f"{value:g} is negative"
    elif check.startswith("greater_than"):
        message = f"{value:g} must be greater than 0"
    elif check == "column_in_dataframe":
        message = "required column is missing"
    else:
        message = f"fails {check}: {value!r}"
    return table.problem(row, column, message)


def _duplicates(table: CsvTable, frame: pd.DataFrame, column: str) -> list[Problem]:
    values = frame[column]
    again = np.flatnonzero((values.notna() & values.duplicated(keep="first")).to_numpy())
    if not len(again):
        return []
    cells = values.tolist()
    first = {v: i for i, v in reversed(list(enumerate(cells)))}
    return [
        table.problem(i, column, f"'{cells[i]}' is used again "
                      f"(first on line {table.lines[first[cells[i]]]})")
        for i in again
    ]


def _unknown_keys(table, frame, column, known: set, what: str) -> list[Problem]:
    values = frame[column]
    bad = values.notna() & ~values.isin(known)
    return [table.problem(i, column, f"'{values.iloc[i]}' is not a known {what}")
            for i in np.flatnonzero(bad.to_numpy())]


def _read(path: Path, columns) -> tuple[CsvTable, pd.DataFrame]:
    table = read_csv_table(path, required=columns)
    return table, _blank_to_na(table.frame)  # a new frame: table.frame stays as read


# -- sources -----------------------------------------------------------------

def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_sources(path: Path = config.SOURCES_CSV) -> tuple[pd.DataFrame, dict[str, str], list[Problem]]:
    """The sources table, each source's text, and the problems found (hash mismatches...)."""
    table, frame = _read(path, schema.SOURCE_COLUMNS)
    problems = _duplicates(table, frame, "source_id")
    texts: dict[str, str] = {}
    for i, row in enumerate(frame.itertuples(index=False)):
        if pd.isna(row.file):
            problems.append(table.problem(i, "file", "must not be empty"))
            continue
        doc = path.parent / row.file
        if not doc.is_file():
            problems.append(table.problem(i, "file", f"{row.file} does not exist"))
            continue
        raw = doc.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if digest != row.sha256:
            problems.append(table.problem(
                i, "sha256", f"{row.file} has changed since its hash was recorded "
                f"(recorded {str(row.sha256)[:12]}..., now {digest[:12]}...); "
                "source documents are raw data and must not be edited"))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw[: err.start].count(b"\n") + 1
            problems.append(table.problem(
                i, "file", f"{row.file} is not UTF-8 (byte 0x{raw[err.start]:02x} on line {line})"))
            text = raw.decode("utf-8", errors="replace")
        # As read_text() would: universal newlines.
        texts[row.source_id] = text.replace("\r\n", "\n").replace("\r", "\n")
    return frame, texts, problems


# -- references --------------------------------------------------------------

def check_references(path: Path, source_ids: set[str]) -> tuple[pd.DataFrame, list[Problem]]:
    table, frame = _read(path, schema.REFERENCE_COLUMNS)
    problems = _pandera_problems(table, frame, schema.REFERENCES_SCHEMA)
    problems += _duplicates(table, frame, "ref_id")
    problems += _unknown_keys(table, frame, "source_id", source_ids, "source_id")
    seen = frame["pmid"].notna() | frame["doi"].notna()
    for i in np.flatnonzero((seen & frame["url_seen"].isna()).to_numpy()):
        problems.append(table.problem(i, "url_seen", "a PMID or DOI needs the URL it was seen at"))
    return frame, problems


# -- claims ------------------------------------------------------------------

def check_claims(path: Path, texts: dict[str, str], references: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    table, frame = _read(path, schema.CLAIM_COLUMNS)
    if frame.empty:
        return frame, [Problem(table.name, 1, "-", "file has a header but no claims")]
    problems = _parse_numbers(table, frame, schema.CLAIM_NUMERIC)
    problems += _pandera_problems(table, frame, schema.CLAIMS_SCHEMA)
    problems += _duplicates(table, frame, "claim_id")
    problems += _unknown_keys(table, frame, "source_id", set(texts), "source_id (see data/sources.csv)")
    ref_source = dict(zip(references["ref_id"], references["source_id"]))
    problems += _unknown_keys(table, frame, "ref_id", set(ref_source), "ref_id (see data/references.csv)")
    problems += _value_problems(table, frame)
    problems += _base_problems(table, frame)
    problems += _reference_problems(table, frame, ref_source)
    problems += _quote_problems(table, frame, texts)
    return frame, problems


def _value_problems(table: CsvTable, f: pd.DataFrame) -> list[Problem]:
    out = []

    def flag(mask, column, message):
        for i in np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool)):
            out.append(table.problem(i, column, message(f.iloc[i])))

    is_range = f["bound"] == "range"
    flag(is_range & (f["value_low"].isna() | f["value_high"].isna()), "value_low",
         lambda r: "a range needs both value_low and value_high")
    flag(~is_range & f["bound"].notna() & f["value"].isna(), "value",
         lambda r: f"bound '{r.bound}' needs a value")
    flag(f["value_low"] > f["value_high"], "value_low",
         lambda r: f"value_low {r.value_low:g} is greater than value_high {r.value_high:g}")
    flag(f["value"] < f["value_low"], "value",
         lambda r: f"value {r.value:g} is below value_low {r.value_low:g}")
    flag(f["value"] > f["value_high"], "value",
         lambda r: f"value {r.value:g} is above value_high {r.value_high:g}")
    percent = f["unit"].isin(vocab.PERCENT_UNITS)
    for col in ("value", "value_low", "value_high"):
        flag(percent & ((f[col] < 0) | (f[col] > 100)), col,
             lambda r, col=col: f"{r[col]:g} is not a percentage between 0 and 100 "
             "(use unit percent_change for a change)")
    for col in ("numerator", "denominator"):
        flag(f[col].notna() & (f[col] % 1 != 0), col,
             lambda r, col=col: f"{r[col]:g} is not a whole number of people or events")
    flag(f["numerator"] > f["denominator"], "numerator",
         lambda r: f"numerator {r.numerator:g} is greater than denominator {r.denominator:g}")
    flag(f["numerator"].notna() != f["denominator"].notna(), "denominator",
         lambda r: "numerator and denominator go together: fill both or neither")
    return out


def _base_problems(table, f) -> list[Problem]:
    """base_claim_id names a count on the same page; whole_id shares are percentages."""
    out = []
    with_base = np.flatnonzero(f["base_claim_id"].notna().to_numpy())
    bases, sources = f["base_claim_id"].to_numpy(dtype=object), f["source_id"].to_numpy(dtype=object)
    # The claims named as bases (the last of a repeated claim_id, as a dict would keep).
    named = np.flatnonzero(f["claim_id"].isin(set(bases[with_base])).to_numpy())
    ids, units = f["claim_id"].to_numpy(dtype=object), f["unit"].to_numpy(dtype=object)
    source_of = dict(zip(ids[named], sources[named]))
    unit_of = dict(zip(ids[named], units[named]))
    for i in with_base:
        base, src = bases[i], sources[i]
        if base not in source_of:
            out.append(table.problem(i, "base_claim_id", f"'{base}' is not a claim_id in this file"))
        elif source_of[base] != src:
            out.append(table.problem(i, "base_claim_id", f"'{base}' is a claim of {source_of[base]}, "
                                     f"not of {src}"))
        elif unit_of[base] != "count":
            out.append(table.problem(i, "base_claim_id", f"'{base}' is not a count (unit {unit_of[base]})"))
    parts = f["whole_id"].notna() & (f["unit"] != "percent")
    for i in np.flatnonzero(parts.to_numpy()):
        out.append(table.problem(i, "whole_id", "only percentages can be shares of a whole"))
    # The re-derived arithmetic adds shares up and takes percentages of a base count.
    for i in np.flatnonzero((f["whole_id"].notna() & (f["bound"] == "range")).to_numpy()):
        out.append(table.problem(i, "whole_id", "a share of a whole needs one value, not a range"))
    # (A missing value is reported by the value rules already; here a range or a value <= 0.)
    unusable = (f["bound"] == "range") | (f["value"].notna() & ~(f["value"] > 0))
    named = f["claim_id"].isin(set(f["base_claim_id"].dropna())) & unusable
    for i in np.flatnonzero(named.to_numpy()):
        out.append(table.problem(i, "value", f"'{f['claim_id'].iloc[i]}' is named as a base_claim_id, "
                                 "so it needs one value greater than 0"))
    return out


def _reference_problems(table, f, ref_source: dict[str, str]) -> list[Problem]:
    out = []
    cited = f["basis"] == "cited_study"
    for i in np.flatnonzero((cited & f["ref_id"].isna()).to_numpy()):
        out.append(table.problem(i, "ref_id", "basis is cited_study but no ref_id is given"))
    for i in np.flatnonzero((~cited & f["basis"].notna() & f["ref_id"].notna()).to_numpy()):
        out.append(table.problem(i, "basis", f"'{f['basis'].iloc[i]}' claim has a ref_id; "
                                 "use basis cited_study or clear ref_id"))
    refs, sources = f["ref_id"].tolist(), f["source_id"].tolist()
    for i in np.flatnonzero(f["ref_id"].notna().to_numpy()):
        ref, src = refs[i], sources[i]
        if ref in ref_source and ref_source[ref] != src:
            out.append(table.problem(i, "ref_id", f"'{ref}' is in the reference list of "
                                     f"{ref_source[ref]}, not of {src}"))
    return out


def _quote_problems(table, f, texts: dict[str, str]) -> list[Problem]:
    """Quotes are verbatim in their source; value_text is in the quote and states the values.

    Worked out once per distinct (source, quote, value_text) and, for the numbers,
    with arrays per distinct value_text and quote: a claims file repeats them.
    """
    sources, quotes, vtexts = (f[c].to_numpy(dtype=object) for c in ("source_id", "quote", "value_text"))
    src_code, src_of = _codes(sources)
    quote_code, quote_of = _codes(quotes)
    vtext_code, vtext_of = _codes(vtexts)
    # One code per distinct (source, quote, value_text); -1 (missing) becomes 0.
    triple = ((src_code + 1) * (len(quote_of) + 1) + (quote_code + 1)) * (len(vtext_of) + 1) + (vtext_code + 1)
    triple_code, triples = pd.factorize(triple)
    found: dict[tuple, bool] = {}
    verdicts = np.zeros((len(triples), 3), dtype=np.int8)  # checked, quote missing, value_text state
    for t, key in enumerate(triples.tolist()):
        key, v = divmod(key, len(vtext_of) + 1)
        s, q = divmod(key, len(quote_of) + 1)
        src, quote, vtext = src_of[s - 1], quote_of[q - 1], vtext_of[v - 1]
        if not isinstance(quote, str) or src not in texts:
            continue
        if (src, quote) not in found:
            found[src, quote] = quote in texts[src]
        state = 0 if not isinstance(vtext, str) else 1 if vtext not in quote else 2
        verdicts[t] = (1, not found[src, quote], state)
    row_verdicts = verdicts[triple_code]

    out: list[tuple[int, int, Problem]] = []  # (row, order within the row, problem)
    for i in np.flatnonzero(row_verdicts[:, 1]):
        out.append((i, 0, table.problem(i, "quote", f"not found verbatim in the source text of {sources[i]} "
                                        "(copy it exactly, including punctuation and spacing)")))
    for i in np.flatnonzero(row_verdicts[:, 0] & (row_verdicts[:, 2] == 1)):
        out.append((i, 1, table.problem(i, "value_text", f"'{vtexts[i]}' does not appear in the quote")))
    checked = row_verdicts[:, 0].astype(bool) & (row_verdicts[:, 2] == 2)
    for order, (col, text_code, text_of) in enumerate(
            [(c, vtext_code, vtext_of) for c in ("value", "value_low", "value_high")]
            + [(c, quote_code, quote_of) for c in ("numerator", "denominator")], start=2):
        x = f[col].to_numpy(dtype=float)
        rows = np.flatnonzero(checked & ~np.isnan(x))
        for i in rows[~_stated(text_code[rows], text_of, x[rows], counts=order > 4)]:
            if order <= 4:
                vtext = vtexts[i]
                stated = ", ".join(f"{m:g}" for m in sorted(numbers_in(vtext))) or "no number"
                message = f"{x[i]:g} is not stated by value_text '{vtext}' (it states {stated})"
            else:
                message = f"{x[i]:g} does not appear in the quote"
            out.append((i, order, table.problem(i, col, message)))
    out.sort(key=lambda item: item[:2])
    return [problem for _, _, problem in out]


def _codes(values: np.ndarray) -> tuple[np.ndarray, list]:
    """Codes of the distinct values (-1 for a missing one) and the values, missing last: of[-1] is None."""
    codes, uniques = pd.factorize(values)
    return codes.astype(np.int64), list(uniques) + [None]


_TOLERANCE = inspect.signature(states_value).parameters["tolerance"].default


def _stated(codes: np.ndarray, texts: list, values: np.ndarray, chunk: int = 100_000,
            counts: bool = False) -> np.ndarray:
    """states_value(texts[code], value) for each pair, as arrays (codes index `texts`)."""
    used, where = np.unique(codes, return_inverse=True)
    numbers = [sorted(numbers_in(texts[c], counts)) for c in used]
    stated = np.full((len(used), max(map(len, numbers), default=0) or 1), np.nan)
    for k, found in enumerate(numbers):
        stated[k, : len(found)] = found
    ok = np.zeros(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):  # inf - inf: not stated, as in states_value
        for lo in range(0, len(values), chunk):
            part = slice(lo, lo + chunk)
            ok[part] = (np.abs(stated[where[part]] - values[part, None]) <= _TOLERANCE).any(axis=1)
    return ok


# -- citation audit ----------------------------------------------------------

def check_audit(path: Path, claims: pd.DataFrame,
                references: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    table, frame = _read(path, schema.AUDIT_COLUMNS)
    problems = _pandera_problems(table, frame, schema.AUDIT_SCHEMA)
    problems += _duplicates(table, frame, "claim_id")
    claim_ref = dict(zip(claims["claim_id"].tolist(), claims["ref_id"].tolist()))
    problems += _unknown_keys(table, frame, "claim_id", set(claim_ref), "claim_id")
    for i, (cid, ref) in enumerate(zip(frame["claim_id"].tolist(), frame["ref_id"].tolist())):
        if cid in claim_ref and claim_ref[cid] != ref:
            problems.append(table.problem(i, "ref_id", f"claim {cid} cites {claim_ref[cid]}, not {ref}"))
    if references is not None:
        problems += _audit_against_references(table, frame, references)
    return frame, problems


def _audit_against_references(table, frame, references) -> list[Problem]:
    """The audit repeats the study's identifiers: they must be the reference's; and a verdict
    about what a study says needs the study to have been found. (Vectorised: an audit may
    have as many rows as the claims.)"""
    out = []
    study = frame[["ref_id"]].merge(references.drop_duplicates("ref_id")[["ref_id", "pmid", "doi", "lookup_status"]],
                                    on="ref_id", how="left", validate="many_to_one", indicator=True)
    known = (study["_merge"] == "both").to_numpy()
    for col in ("pmid", "doi"):
        given, recorded = frame[col].to_numpy(dtype=object), study[col].to_numpy(dtype=object)
        differs = known & frame[col].notna().to_numpy() & (given != recorded)
        for i in np.flatnonzero(differs):
            shown = recorded[i] if isinstance(recorded[i], str) else "none"
            out.append((i, table.problem(i, col, f"{given[i]} is not the {col} that references.csv records "
                                         f"for {frame['ref_id'].iloc[i]} ({shown})")))
    verdicts, status = frame["verdict"].to_numpy(dtype=object), study["lookup_status"].to_numpy(dtype=object)
    unfound = known & frame["verdict"].notna().to_numpy() & (verdicts != "not_found") & (status != "found")
    for i in np.flatnonzero(unfound):
        out.append((i, table.problem(i, "verdict", f"'{verdicts[i]}' says what the study reports, but "
                                     f"references.csv records {frame['ref_id'].iloc[i]} as {status[i]}")))
    return [problem for _, problem in sorted(out, key=lambda item: item[0])]


# -- everything --------------------------------------------------------------

def load_dataset(
    claims: Path = config.CLAIMS_CSV,
    sources: Path = config.SOURCES_CSV,
    references: Path = config.REFERENCES_CSV,
    audit: Path | None = config.AUDIT_CSV,
) -> Dataset:
    """Read and validate every table; raise InputError listing every problem."""
    collecting = gc.isenabled()
    gc.disable()  # millions of new cells, no cycles: full collections would rescan them all
    try:
        return _load_dataset(claims, sources, references, audit)
    finally:
        if collecting:
            gc.enable()


def _load_dataset(claims: Path, sources: Path, references: Path, audit: Path | None) -> Dataset:
    problems: list[Problem] = []

    def attempt(fn, *args):
        try:
            frame, found = fn(*args)
        except InputError as err:
            problems.extend(err.problems)
            return None
        problems.extend(found)
        return frame

    try:
        source_frame, texts, found = load_sources(sources)
        problems.extend(found)
    except InputError as err:
        raise InputError(err.problems) from None
    ref_frame = attempt(check_references, references, set(texts))
    claim_frame = attempt(check_claims, claims, texts,
                          ref_frame if ref_frame is not None else pd.DataFrame(columns=["ref_id", "source_id"]))
    audit_frame = None
    if audit is not None and claim_frame is not None:
        audit_frame = attempt(check_audit, audit, claim_frame, ref_frame)
    if problems:
        raise InputError(problems)
    return Dataset(source_frame, claim_frame, ref_frame, audit_frame)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="fbss-validate",
        description="Validate the claims dataset and the tables it refers to.")
    parser.add_argument("claims", nargs="?", type=Path, default=config.CLAIMS_CSV)
    parser.add_argument("--sources", type=Path, default=config.SOURCES_CSV)
    parser.add_argument("--references", type=Path, default=config.REFERENCES_CSV)
    parser.add_argument("--audit", type=Path, default=config.AUDIT_CSV,
                        help="citation audit table ('none' to skip)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="store the validated tables here for the notebooks (make: build/validated)")
    args = parser.parse_args(argv)
    audit = None if str(args.audit) == "none" else args.audit
    try:
        # Always checked here (this is the validator); --cache only keeps the result.
        data = load_dataset(args.claims, args.sources, args.references, audit)
        if args.cache is not None:
            from . import validated

            validated.store(data, args.claims, args.sources, args.references, audit, args.cache)
    except InputError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print(f"{len(err.problems)} problem(s) found.", file=sys.stderr)
        return 1
    print(f"{args.claims}: {len(data.claims)} claims from {data.claims['source_id'].nunique()} "
          f"sources valid; {len(data.references)} references"
          + (f", {len(data.audit)} audit rows" if data.audit is not None else "") + ".")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
