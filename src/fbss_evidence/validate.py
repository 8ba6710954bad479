"""Validation of the data tables: every problem at once, each located.

Column-level rules come from schema.py (pandera); the rules pandera cannot
express (several columns, other files, the source texts) are here. The command
line entry point prints `file:line: column: message` for each problem.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.errors

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
    return frame.apply(lambda col: col.str.strip().replace("", None) if col.dtype == object else col)


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
        frame_schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as err:
        return [_describe_failure(table, case) for case in err.failure_cases.itertuples()]
    return []


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
    dup = values.notna() & values.duplicated(keep="first")
    first = {v: i for i, v in reversed(list(enumerate(values)))}
    return [
        table.problem(i, column, f"'{values.iloc[i]}' is used again "
                      f"(first on line {table.lines[first[values.iloc[i]]]})")
        for i in np.flatnonzero(dup.to_numpy())
    ]


def _unknown_keys(table, frame, column, known: set, what: str) -> list[Problem]:
    values = frame[column]
    bad = values.notna() & ~values.isin(known)
    return [table.problem(i, column, f"'{values.iloc[i]}' is not a known {what}")
            for i in np.flatnonzero(bad.to_numpy())]


def _read(path: Path, columns) -> tuple[CsvTable, pd.DataFrame]:
    table = read_csv_table(path, required=columns)
    return table, _blank_to_na(table.frame.copy())


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
    source_of = dict(zip(f["claim_id"], f["source_id"]))
    unit_of = dict(zip(f["claim_id"], f["unit"]))
    for i in np.flatnonzero(f["base_claim_id"].notna().to_numpy()):
        base, src = f["base_claim_id"].iloc[i], f["source_id"].iloc[i]
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
    return out


def _reference_problems(table, f, ref_source: dict[str, str]) -> list[Problem]:
    out = []
    cited = f["basis"] == "cited_study"
    for i in np.flatnonzero((cited & f["ref_id"].isna()).to_numpy()):
        out.append(table.problem(i, "ref_id", "basis is cited_study but no ref_id is given"))
    for i in np.flatnonzero((~cited & f["basis"].notna() & f["ref_id"].notna()).to_numpy()):
        out.append(table.problem(i, "basis", f"'{f['basis'].iloc[i]}' claim has a ref_id; "
                                 "use basis cited_study or clear ref_id"))
    for i in np.flatnonzero(f["ref_id"].notna().to_numpy()):
        ref, src = f["ref_id"].iloc[i], f["source_id"].iloc[i]
        if ref in ref_source and ref_source[ref] != src:
            out.append(table.problem(i, "ref_id", f"'{ref}' is in the reference list of "
                                     f"{ref_source[ref]}, not of {src}"))
    return out


def _quote_problems(table, f, texts: dict[str, str]) -> list[Problem]:
    out = []
    found: dict[tuple[str, str], bool] = {}
    for i, (src, quote, vtext) in enumerate(zip(f["source_id"], f["quote"], f["value_text"])):
        if not isinstance(quote, str) or src not in texts:
            continue
        key = (src, quote)
        if key not in found:
            found[key] = quote in texts[src]
        if not found[key]:
            out.append(table.problem(i, "quote", f"not found verbatim in the source text of {src} "
                                     "(copy it exactly, including punctuation and spacing)"))
        if not isinstance(vtext, str):
            continue
        if vtext not in quote:
            out.append(table.problem(i, "value_text", f"'{vtext}' does not appear in the quote"))
            continue
        row = f.iloc[i]
        for col in ("value", "value_low", "value_high"):
            if pd.notna(row[col]) and not states_value(vtext, row[col]):
                stated = ", ".join(f"{n:g}" for n in sorted(numbers_in(vtext))) or "no number"
                out.append(table.problem(i, col, f"{row[col]:g} is not stated by value_text "
                                         f"'{vtext}' (it states {stated})"))
        for col in ("numerator", "denominator"):
            if pd.notna(row[col]) and not states_value(quote, row[col]):
                out.append(table.problem(i, col, f"{row[col]:g} does not appear in the quote"))
    return out


# -- citation audit ----------------------------------------------------------

def check_audit(path: Path, claims: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    table, frame = _read(path, schema.AUDIT_COLUMNS)
    problems = _pandera_problems(table, frame, schema.AUDIT_SCHEMA)
    problems += _duplicates(table, frame, "claim_id")
    claim_ref = dict(zip(claims["claim_id"], claims["ref_id"]))
    problems += _unknown_keys(table, frame, "claim_id", set(claim_ref), "claim_id")
    for i, (cid, ref) in enumerate(zip(frame["claim_id"], frame["ref_id"])):
        if cid in claim_ref and claim_ref[cid] != ref:
            problems.append(table.problem(i, "ref_id", f"claim {cid} cites {claim_ref[cid]}, not {ref}"))
    return frame, problems


# -- everything --------------------------------------------------------------

def load_dataset(
    claims: Path = config.CLAIMS_CSV,
    sources: Path = config.SOURCES_CSV,
    references: Path = config.REFERENCES_CSV,
    audit: Path | None = config.AUDIT_CSV,
) -> Dataset:
    """Read and validate every table; raise InputError listing every problem."""
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
        audit_frame = attempt(check_audit, audit, claim_frame)
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
    args = parser.parse_args(argv)
    audit = None if str(args.audit) == "none" else args.audit
    try:
        data = load_dataset(args.claims, args.sources, args.references, audit)
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
