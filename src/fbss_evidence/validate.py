"""The rules of the data tables: every problem at once, each located.

Column rules come from schema.py (pandera) and are checked column by column; the rules
that involve several columns, other tables or the source texts are the functions
below. Each works on whole columns, and work that needs Python per cell (reading a
number out of "nearly one in four", finding a quote in a page) is done once per
distinct value, so a file that repeats its values costs little. Nothing here reads
files: dataset.py does, and calls these checks.
"""
from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pandera.errors
import pandera.pandas as pa

from . import schema, vocab
from .csvfile import CsvTable
from .numbers import TOLERANCE, numbers_in
from .problems import Problem

# -- cells -----------------------------------------------------------------------

def clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells stripped of surrounding space; empty ones missing (NaN)."""
    out = {}
    for name in frame.columns:
        col = frame[name].str.strip()
        out[name] = col.mask(col == "")
    return pd.DataFrame(out, index=frame.index)


def drop_empty_rows(table: CsvTable, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose every cell is empty (`,,,`) are blank lines too: dropped from both."""
    if frame.empty or frame.shape[1] == 0:
        return frame
    candidates = np.flatnonzero(frame.iloc[:, 0].isna().to_numpy())
    for name in frame.columns[1:]:
        if not len(candidates):
            return frame
        candidates = candidates[frame[name].iloc[candidates].isna().to_numpy()]
    drop = np.zeros(len(frame), dtype=bool)
    drop[candidates] = True
    table.drop_rows(drop)
    return frame[~drop].reset_index(drop=True)


def per_distinct(frame: pd.DataFrame, columns: list[str], fn: Callable) -> np.ndarray:
    """fn(*values) for each row, called once per distinct combination of `columns`."""
    if frame.empty:
        return np.zeros(0, dtype=object)
    groups = frame.groupby(columns, sort=False, dropna=False).ngroup().to_numpy()
    _, first = np.unique(groups, return_index=True)
    values = zip(*(frame[c].iloc[first].tolist() for c in columns))
    results = np.empty(len(first), dtype=object)
    results[:] = [fn(*row) for row in values]
    return results[groups]


def member(values: pd.Series, known) -> np.ndarray:
    """Whether each cell is one of `known` (False for a missing cell); one set lookup per distinct value."""
    known = known if isinstance(known, (set, frozenset, dict)) else set(known)
    codes, uniques = pd.factorize(values)
    found = np.fromiter((u in known for u in uniques.tolist()), dtype=bool, count=len(uniques))
    return np.append(found, False)[codes]


def lookup(values: pd.Series, mapping: dict) -> pd.Series:
    """mapping[cell] for each cell (NaN where missing or unknown); one lookup per distinct value."""
    codes, uniques = pd.factorize(values)
    found = np.empty(len(uniques) + 1, dtype=object)
    found[:-1] = [mapping.get(u, np.nan) for u in uniques.tolist()]
    found[-1] = np.nan
    return pd.Series(found[codes], index=values.index, dtype=object)


def parse_numbers(table: CsvTable, frame: pd.DataFrame, columns) -> list[Problem]:
    """Turn text columns into floats in place; a cell that is not a number, or not a finite one, is a
    problem. An infinite number is reported here and then read as missing, so that no rule that computes
    with it fails on it (a rule about a missing value may still name the cell)."""
    problems = []
    for col in columns:
        raw = frame[col]
        codes, uniques = pd.factorize(raw)  # missing cells: code -1
        parsed_uniques = pd.to_numeric(pd.Series(np.asarray(uniques, dtype=object)), errors="coerce").to_numpy(float)
        parsed = np.where(codes >= 0, parsed_uniques[np.maximum(codes, 0)] if len(uniques) else np.nan, np.nan)
        bad = (codes >= 0) & np.isnan(parsed)
        for i in np.flatnonzero(bad):
            text = raw.iloc[i]
            hint = ""
            if "," in text:
                hint = " (use a point for decimals and no thousands separator, e.g. 71.2 or 77682)"
            elif text.endswith("%"):
                hint = " (write the number without the % sign; the unit column says percent)"
            problems.append(table.problem(i, col, f"'{text}' is not a number{hint}"))
        infinite = np.isinf(parsed)
        for i in np.flatnonzero(infinite):
            problems.append(table.problem(i, col, f"'{raw.iloc[i]}' is not a finite number: every number is finite"))
        parsed[infinite] = np.nan
        frame[col] = parsed
    return problems


def column_problems(table: CsvTable, frame: pd.DataFrame, table_schema: pa.DataFrameSchema) -> list[Problem]:
    """The schema's column rules (pandera), each failing cell located; duplicates of unique columns."""
    problems = []
    try:
        table_schema.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as err:
        for case in err.failure_cases.itertuples():
            if str(case.check) == "field_uniqueness":
                continue  # reported below, naming the first line
            problems.append(_describe(table, table_schema, case))
    for name, column in table_schema.columns.items():
        if column.unique and name in frame.columns:
            problems += duplicates(table, frame, name)
    problems += number_problems(table, frame, table_schema)
    for key in (list(table_schema.metadata["primary_key"]), list(table_schema.metadata["unique"])):
        if len(key) > 1 and set(key) <= set(frame.columns):  # a one-column key is a unique column, checked above
            problems += primary_key_problems(table, frame, key)
    return problems


def number_problems(table: CsvTable, frame: pd.DataFrame, table_schema: pa.DataFrameSchema) -> list[Problem]:
    """The rule every count keeps: a whole number, where the schema says the column counts (people,
    events, studies, lines). (That every number is finite: parse_numbers.)"""
    out = []
    for name, column in table_schema.columns.items():
        if str(column.dtype) != "float64" or name not in frame.columns:
            continue
        values = frame[name]
        if (column.metadata or {}).get("whole"):
            out += _flag(table, frame, np.isfinite(values) & (values % 1 != 0), name,
                         lambda r, name=name: f"{r[name]:g} is not a whole number: {name} counts")
    return out


def primary_key_problems(table: CsvTable, frame: pd.DataFrame, key: list[str]) -> list[Problem]:
    repeated = frame.duplicated(subset=key, keep="first") & frame[key].notna().all(axis=1)
    return _flag(table, frame, repeated, key[-1], lambda r: f"the key ({', '.join(key)}) = "
                 f"({', '.join(str(r[k]) for k in key)}) is already on an earlier row: each must be unique")


def _describe(table: CsvTable, table_schema, case) -> Problem:
    check = str(case.check)
    value = case.failure_case
    row = None if pd.isna(case.index) else int(case.index)
    column = case.column if isinstance(case.column, str) else "-"
    if check == "not_nullable":
        message = "must not be empty"
    elif check.startswith("isin"):
        message = f"'{value}' is not allowed; use one of: {', '.join(schema.allowed_values(table_schema, column))}"
    elif check.startswith("str_matches") and isinstance(value, str):
        message = f"'{value}' has the wrong form (expected {check.removeprefix('str_matches')})"
    elif check.startswith("greater_than_or_equal_to"):
        minimum = float(check[check.index("(") + 1:check.rindex(")")]) if "(" in check else 0.0
        message = f"{value:g} is negative" if minimum == 0 else f"{value:g} is below the minimum {minimum:g}"
    elif check.startswith("greater_than"):
        message = f"{value:g} must be greater than 0"
    elif check.startswith("in_range"):
        low, high = check[check.index("(") + 1:check.rindex(")")].split(",")
        message = f"{value:g} is outside {float(low):g}-{float(high):g}, the range of {column}"
    elif check.startswith("str_length"):
        message = "must not be empty"
    elif check == "column_in_dataframe":
        message = "required column is missing"
    else:
        message = f"fails {check}: {value!r}"
    return table.problem(row, column, message)


def duplicates(table: CsvTable, frame: pd.DataFrame, column: str) -> list[Problem]:
    values = frame[column]
    again = np.flatnonzero((values.notna() & values.duplicated(keep="first")).to_numpy())
    if not len(again):
        return []
    first_row = {}
    for i in np.flatnonzero(values.isin(set(values.iloc[again])).to_numpy()):
        first_row.setdefault(values.iloc[i], i)
    return [table.problem(i, column, f"'{values.iloc[i]}' is used again "
                          f"(first on line {table.lines[first_row[values.iloc[i]]]}): each {column} is unique")
            for i in again]


def unknown_keys(table: CsvTable, frame: pd.DataFrame, column: str, known, what: str) -> list[Problem]:
    values = frame[column]
    bad = values.notna().to_numpy() & ~member(values, known)
    return [table.problem(i, column, f"'{values.iloc[i]}' is not a known {what}")
            for i in np.flatnonzero(bad)]


def _flag(table: CsvTable, frame: pd.DataFrame, mask, column: str, message: Callable) -> list[Problem]:
    mask = np.asarray(pd.Series(mask).fillna(False), dtype=bool)
    return [table.problem(i, column, message(frame.iloc[i])) for i in np.flatnonzero(mask)]


# -- references and studies -----------------------------------------------------------

def study_problems(table: CsvTable, frame: pd.DataFrame) -> list[Problem]:
    """An identifier needs the page it was seen on."""
    seen = frame["pmid"].notna() | frame["doi"].notna() | frame["pmcid"].notna()
    return _flag(table, frame, seen & frame["url_seen"].isna(), "url_seen",
                 lambda r: "a PMID, PMCID or DOI needs the URL it was seen at")


# -- claims ------------------------------------------------------------------------------

def value_problems(table: CsvTable, f: pd.DataFrame) -> list[Problem]:
    """Values, ranges, percentages and counts agree with each other."""
    out = []
    is_range = f["bound"] == "range"
    out += _flag(table, f, is_range & (f["value_low"].isna() | f["value_high"].isna()), "value_low",
                 lambda r: "a range needs both value_low and value_high")
    out += _flag(table, f, ~is_range & f["bound"].notna() & f["value"].isna(), "value",
                 lambda r: f"bound '{r.bound}' needs a value")
    out += _flag(table, f, f["value_low"] > f["value_high"], "value_low",
                 lambda r: f"value_low {r.value_low:g} is greater than value_high {r.value_high:g}")
    out += _flag(table, f, f["value"] < f["value_low"], "value",
                 lambda r: f"value {r.value:g} is below value_low {r.value_low:g}")
    out += _flag(table, f, f["value"] > f["value_high"], "value",
                 lambda r: f"value {r.value:g} is above value_high {r.value_high:g}")
    percent = f["unit"].isin(vocab.PERCENT_UNITS)
    for col in ("value", "value_low", "value_high"):
        out += _flag(table, f, percent & ((f[col] < 0) | (f[col] > 100)), col,
                     lambda r, col=col: f"{r[col]:g} is not a percentage between 0 and 100 "
                     "(use unit percent_change for a change)")
    out += _flag(table, f, f["numerator"] > f["denominator"], "numerator",
                 lambda r: f"numerator {r.numerator:g} is greater than denominator {r.denominator:g}")
    out += _flag(table, f, f["numerator"].notna() != f["denominator"].notna(), "denominator",
                 lambda r: "numerator and denominator go together: fill both or neither")
    return out


def base_problems(table: CsvTable, f: pd.DataFrame) -> list[Problem]:
    """base_claim_id names a count of the same page; whole_id shares are single percentages."""
    out = []
    with_base = f["base_claim_id"].notna().to_numpy()
    base = f["base_claim_id"]
    # Only the claims named as a base need looking up (the last of a repeated claim_id).
    is_named = member(f["claim_id"], set(base[with_base].tolist()))
    named = f[is_named].drop_duplicates("claim_id", keep="last")
    source_of = dict(zip(named["claim_id"], named["source_id"]))
    unit_of = dict(zip(named["claim_id"], named["unit"]))
    known = member(base, source_of)
    base_source = lookup(base, source_of)
    base_unit = lookup(base, unit_of)
    other_page = with_base & known & (base_source != f["source_id"]).to_numpy()
    out += _flag(table, f, other_page, "base_claim_id",
                 lambda r: f"'{r.base_claim_id}' is a claim of {source_of[r.base_claim_id]}, not of {r.source_id}")
    out += _flag(table, f, with_base & known & ~other_page & (base_unit != "count").to_numpy(), "base_claim_id",
                 lambda r: f"'{r.base_claim_id}' is not a count (unit {unit_of[r.base_claim_id]})")
    out += _flag(table, f, f["whole_id"].notna() & (f["unit"] != "percent"), "whole_id",
                 lambda r: "only percentages can be shares of a whole")
    # The re-derived arithmetic adds shares up and takes percentages of a base count.
    out += _flag(table, f, f["whole_id"].notna() & (f["bound"] == "range"), "whole_id",
                 lambda r: "a share of a whole needs one value, not a range")
    unusable = (f["bound"] == "range") | (f["value"].notna() & ~(f["value"] > 0))
    out += _flag(table, f, is_named & unusable.to_numpy(), "value",
                 lambda r: f"'{r.claim_id}' is named as a base_claim_id, so it needs one value greater than 0")
    return out


def citation_problems(table: CsvTable, f: pd.DataFrame, references: pd.DataFrame) -> list[Problem]:
    """A cited claim names a reference of its own page; other claims name none."""
    out = []
    ref_source = dict(zip(references["ref_id"], references["source_id"]))
    cited = f["basis"] == "cited_study"
    out += _flag(table, f, cited & f["ref_id"].isna(), "ref_id",
                 lambda r: "basis is cited_study but no ref_id is given")
    out += _flag(table, f, ~cited & f["basis"].notna() & f["ref_id"].notna(), "basis",
                 lambda r: f"'{r.basis}' claim has a ref_id; use basis cited_study or clear ref_id")
    listed_on = lookup(f["ref_id"], ref_source)
    out += _flag(table, f, listed_on.notna() & (listed_on != f["source_id"]), "ref_id",
                 lambda r: f"'{r.ref_id}' is in the reference list of {ref_source[r.ref_id]}, not of {r.source_id}")
    return out


def quote_problems(table: CsvTable, f: pd.DataFrame, texts: dict[str, str]) -> list[Problem]:
    """Quotes are verbatim in their page; value_text is in the quote and states the values.

    Each distinct (page, quote) is looked up once, and each distinct (text, number)
    pair is read once.
    """
    out: list[tuple[int, int, Problem]] = []  # (row, order within the row, problem)
    known_source = member(f["source_id"], texts) & f["quote"].notna().to_numpy()
    in_page = np.ones(len(f), dtype=bool)
    in_page[known_source] = per_distinct(f[known_source], ["source_id", "quote"],
                                         lambda s, q: q in texts[s]).astype(bool)
    for i in np.flatnonzero(~in_page):
        out.append((i, 0, table.problem(i, "quote", f"not found verbatim in the source text of "
                                        f"{f['source_id'].iloc[i]} (copy it exactly, including punctuation "
                                        "and spacing)")))
    has_text = known_source & f["value_text"].notna().to_numpy()
    in_quote = np.ones(len(f), dtype=bool)
    in_quote[has_text] = per_distinct(f[has_text], ["value_text", "quote"], lambda v, q: v in q).astype(bool)
    for i in np.flatnonzero(~in_quote):
        out.append((i, 1, table.problem(i, "value_text", f"'{f['value_text'].iloc[i]}' does not appear in the quote")))
    checked = has_text & in_quote
    for order, (col, text_col) in enumerate([("value", "value_text"), ("value_low", "value_text"),
                                             ("value_high", "value_text"), ("numerator", "quote"),
                                             ("denominator", "quote")], start=2):
        counts = text_col == "quote"
        rows = checked & f[col].notna().to_numpy()
        stated = np.ones(len(f), dtype=bool)
        stated[rows] = _stated(f[text_col][rows], f[col][rows].to_numpy(float), counts)
        for i in np.flatnonzero(~stated):
            x = f[col].iloc[i]
            if counts:
                message = f"{x:g} does not appear in the quote"
            else:
                vtext = f["value_text"].iloc[i]
                said = ", ".join(f"{m:g}" for m in sorted(numbers_in(vtext))) or "no number"
                message = f"{x:g} is not stated by value_text '{vtext}' (it states {said})"
            out.append((i, order, table.problem(i, col, message)))
    out.sort(key=lambda item: item[:2])
    return [problem for _, _, problem in out]


def _stated(texts: pd.Series, values: np.ndarray, counts: bool) -> np.ndarray:
    """states_value(text, value) for each row, as arrays: each distinct text's numbers are read once,
    then every value is compared with its text's numbers at once."""
    codes, uniques = pd.factorize(texts)
    numbers = [sorted(numbers_in(u, counts)) for u in uniques.tolist()]
    table = np.full((len(numbers), max(map(len, numbers), default=0) or 1), np.nan)
    for k, found in enumerate(numbers):
        table[k, : len(found)] = found
    with np.errstate(invalid="ignore"):  # inf - inf: not stated, as in states_value
        return (np.abs(table[codes] - values[:, None]) <= TOLERANCE).any(axis=1)


# -- citation audit ----------------------------------------------------------------------------

def audit_problems(table: CsvTable, frame: pd.DataFrame, claims: pd.DataFrame,
                   references: pd.DataFrame, studies: pd.DataFrame) -> list[Problem]:
    """Audit rows name a claim and the reference that claim cites, with the identifiers of the study
    that reference is; a verdict about what a study says needs the study to have been found."""
    cites = claims[["claim_id", "ref_id"]].drop_duplicates("claim_id", keep="last").rename(
        columns={"ref_id": "cites"})
    joined = frame[["claim_id", "ref_id"]].merge(cites, on="claim_id", how="left", indicator="claim_known",
                                                 validate="many_to_one")
    # An unknown claim_id or ref_id is reported once, by reference_problems.
    claim_known = (joined["claim_known"] == "both").to_numpy()
    ref_known = joined["ref_id"].isna().to_numpy() | member(joined["ref_id"], set(references["ref_id"].dropna()))
    out = _flag(table, joined, claim_known & ref_known & (joined["cites"].fillna("") != joined["ref_id"]).to_numpy(),
                "ref_id", lambda r: f"claim {r.claim_id} cites {r.cites}, not {r.ref_id}")
    out += study_identity_problems(table, frame, references, studies)
    return sorted(out, key=lambda p: p.line)


def study_identity_problems(table: CsvTable, frame: pd.DataFrame, references: pd.DataFrame,
                            studies: pd.DataFrame) -> list[Problem]:
    """An audit row (of a claim or of a statement) carries the identifiers of the study its reference
    is, and a verdict about what a study says needs the study to have been found."""
    refs = (references.drop_duplicates("ref_id")[["ref_id", "study_id"]]
            .merge(studies.drop_duplicates("study_id")[["study_id", "pmid", "doi", "lookup_status"]],
                   on="study_id", how="left")
            .drop(columns="study_id").rename(columns={"pmid": "ref_pmid", "doi": "ref_doi"}))
    joined = frame[["ref_id", "pmid", "doi", "verdict"]].merge(refs, on="ref_id", how="left", indicator="ref_known",
                                                               validate="many_to_one")
    # A reference whose study is unknown is reported with the references; nothing to compare here.
    ref_known = ((joined["ref_known"] == "both") & joined["lookup_status"].notna()).to_numpy()
    out = []
    for col in ("pmid", "doi"):
        recorded = joined[f"ref_{col}"]
        out += _flag(table, joined, ref_known & (joined[col].notna() & (joined[col] != recorded.fillna(""))).to_numpy(),
                     col, lambda r, col=col: f"{r[col]} is not the {col} that studies.csv records for the study of "
                     f"{r.ref_id} ({r[f'ref_{col}'] if isinstance(r[f'ref_{col}'], str) else 'none'})")
    verdict_on_study = (joined["verdict"].notna() & (joined["verdict"] != "not_found")).to_numpy()
    out += _flag(table, joined, ref_known & verdict_on_study & (joined["lookup_status"] != "found").to_numpy(),
                 "verdict", lambda r: f"'{r.verdict}' says what the study reports, but studies.csv records "
                 f"the study of {r.ref_id} as {r.lookup_status}")
    return out


def missing_audit_rows(claims_table: CsvTable, claims: pd.DataFrame, audit: pd.DataFrame) -> list[Problem]:
    """Every cited claim has its row in the citation audit."""
    audited = claims[["claim_id"]].merge(audit[["claim_id"]].dropna().drop_duplicates(), on="claim_id",
                                         how="left", indicator=True)["_merge"] == "both"
    cited = ((claims["basis"] == "cited_study") & claims["claim_id"].notna()).to_numpy()
    return _flag(claims_table, claims, cited & ~audited.to_numpy(),
                 "claim_id", lambda r: f"cites {r.ref_id} but has no row in the citation audit "
                 "(add one to citation_audit.csv once the study's abstract has been read)")


def statement_problems(table: CsvTable, frame: pd.DataFrame, texts: dict[str, str],
                       references: pd.DataFrame, studies: pd.DataFrame | None = None) -> list[Problem]:
    """Audited statements are verbatim in their page and name a reference of that page, with the
    identifiers of its study."""
    ref_source = dict(zip(references["ref_id"], references["source_id"]))
    out = []
    listed_on = lookup(frame["ref_id"], ref_source)
    out += _flag(table, frame, listed_on.notna() & (listed_on != frame["source_id"]), "ref_id",
                 lambda r: f"'{r.ref_id}' is in the reference list of {ref_source[r.ref_id]}, not of {r.source_id}")
    known = frame["source_id"].isin(texts) & frame["quote"].notna()
    verbatim = np.array([q in texts[s] if k else True for s, q, k in
                         zip(frame["source_id"], frame["quote"], known)], dtype=bool)
    out += _flag(table, frame, ~verbatim, "quote",
                 lambda r: f"not found verbatim in the source text of {r.source_id}")
    if studies is not None:
        out += study_identity_problems(table, frame, references, studies)
    return out


# -- the literature layer ------------------------------------------------------------

def _tokens(value) -> list[str]:
    return [t.strip() for t in str(value).split(";") if t.strip()] if isinstance(value, str) else []


def result_problems(table: CsvTable, f: pd.DataFrame) -> list[Problem]:
    """Counts, percents, intervals and their basis agree with each other."""
    out = []
    has_events, has_n = f["events"].notna(), f["n"].notna()
    out += _flag(table, f, f["events"] > f["n"], "events", lambda r: f"events {r.events:g} exceed n {r.n:g}")
    counted = f["count_basis"].isin(["stated", "derived_from_percent"])
    out += _flag(table, f, counted & ~(has_events & has_n), "count_basis",
                 lambda r: f"'{r.count_basis}' needs both events and n")
    out += _flag(table, f, f["count_basis"].isin(["percent_only", "percent_with_ci", "kaplan_meier"]) & has_events,
                 "events", lambda r: f"count_basis '{r.count_basis}' has no event count: leave events empty "
                 "(a count read off a percent is derived_from_percent)")
    out += _flag(table, f, (f["count_basis"] == "percent_with_ci") & (f["ci_low"].isna() | f["ci_high"].isna()),
                 "ci_low", lambda r: "percent_with_ci needs ci_low and ci_high")
    flags = f["flags"].map(_tokens)
    disagree = flags.map(lambda t: "percent_counts_disagree" in t)
    share = 100 * f["events"] / f["n"]
    tolerance = f["percent"].map(_half_unit)
    off = has_events & has_n & ((share - f["percent"]).abs() > tolerance + 1e-9) & ~disagree
    out += _flag(table, f, off, "percent",
                 lambda r: f"{r.percent:g}% is not {r.events:g}/{r.n:g} = {100 * r.events / r.n:.2f}% within rounding "
                 "(flag percent_counts_disagree if the study itself says so)")
    derived = (f["count_basis"] == "derived_from_percent") & has_events & has_n
    out += _flag(table, f, derived & ((f["events"] - f["percent"] * f["n"] / 100).abs() > 1), "events",
                 lambda r: f"a derived count should be round({r.percent:g}% x {r.n:g}) = "
                 f"{round(r.percent * r.n / 100)}, not {r.events:g}")
    outside = (f["ci_low"] > f["percent"]) | (f["ci_high"] < f["percent"])
    page_disagrees = flags.map(lambda t: "page_figures_disagree" in t)
    out += _flag(table, f, outside & ~disagree & ~page_disagrees, "ci_low",
                 lambda r: f"{r.percent:g}% lies outside its interval {r.ci_low:g}-{r.ci_high:g} (flag "
                 "page_figures_disagree if the study prints them so)")
    unknown = flags.map(lambda t: [x for x in t if x not in vocab.RESULT_FLAGS])
    out += _flag(table, f, unknown.map(bool), "flags", lambda r: f"unknown flag(s) {', '.join(unknown[r.name])}; "
                 f"use: {', '.join(vocab.RESULT_FLAGS)}")
    prefix = f["study_id"].fillna("") + "--" + f["question_id"].fillna("") + "--"
    out += _flag(table, f, f["result_id"].notna() & ~pd.Series([r.startswith(p) for r, p in
                                                                zip(f["result_id"].fillna(""), prefix)], index=f.index),
                 "result_id", lambda r: f"'{r.result_id}' should start with '{r.study_id}--{r.question_id}--'")
    return out


def _half_unit(percent: float) -> float:
    """Half a unit of the last printed decimal of a percent (27 -> 0.5, 26.8 -> 0.05)."""
    if pd.isna(percent):
        return 0.0
    text = f"{percent:.10g}"
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10 ** -decimals


def link_problems(table: CsvTable, links: pd.DataFrame, claims: pd.DataFrame, questions: pd.DataFrame,
                  results: pd.DataFrame) -> list[Problem]:
    """A link names a claim and a question; a comparable claim is a percentage of patients; a group to
    compare with is one of the question's result groups."""
    # Only the linked claims matter: a few dozen links against what may be a million claims.
    linked = claims.loc[claims["claim_id"].isin(links["claim_id"].dropna().unique()), ["claim_id", "unit"]]
    out = []  # unknown claims and questions: reference_problems; a link given twice: the primary key
    unit = dict(zip(linked["claim_id"], linked["unit"]))
    out += _flag(table, links, (links["comparable"] == "yes") & links["claim_id"].map(unit).isin(["percent"]).eq(False)
                 & links["claim_id"].isin(unit), "comparable",
                 lambda r: f"{r.claim_id} is not a percentage (unit {unit.get(r.claim_id)}); mark it comparable=no")
    pool_by = dict(zip(questions["question_id"], questions["pool_by"]))
    groups = {q: set(results.loc[results["question_id"] == q, by].dropna().tolist())
              for q, by in pool_by.items() if by in ("timepoint_group", "arm", "population_subgroup")}
    out += _flag(table, links, links["compare_with"].notna() & links.apply(
        lambda r: r["question_id"] in groups and r["compare_with"] not in groups[r["question_id"]], axis=1),
        "compare_with", lambda r: f"'{r.compare_with}' is not among the {pool_by[r.question_id]} values of "
        f"{r.question_id}'s results ({', '.join(sorted(groups[r.question_id])) or 'none yet'})")
    return out


def question_problems(table: CsvTable, questions: pd.DataFrame, results: pd.DataFrame) -> list[Problem]:
    """A pooled question names a headline group that its results have."""
    out = []
    for i, q in enumerate(questions.itertuples(index=False)):
        if q.pool_by in ("timepoint_group", "arm", "population_subgroup"):
            present = set(results.loc[results["question_id"] == q.question_id, q.pool_by].dropna().tolist())
            if not isinstance(q.headline_group, str):
                out.append(table.problem(i, "headline_group", f"pool_by is {q.pool_by}: name the group to lead with"))
            elif present and q.headline_group not in present:
                out.append(table.problem(i, "headline_group", f"'{q.headline_group}' is not among the {q.pool_by} "
                                         f"values of its results ({', '.join(sorted(present))})"))
    return out


# -- keys, eligibility and risk of bias --------------------------------------------------

def reference_problems(tables: dict[str, tuple[CsvTable, pd.DataFrame]]) -> list[Problem]:
    """Every foreign key that schema.py declares, for every table at once: each filled cell names a row
    of the other table that exists. `tables` maps a schema's name to its table as read; a table that
    could not be read is reported where it is read, and keys into it wait until it can."""
    out = []
    for name, (table, frame) in tables.items():
        for column, other, other_column in schema.TABLES[name].metadata["foreign_keys"]:
            if other not in tables or column not in frame.columns:
                continue
            other_table, other_frame = tables[other]
            out += unknown_keys(table, frame, column, other_frame[other_column].dropna().unique(),
                                f"{other_column} (see {other_table.name}): a row may only point at one that exists")
    return out


def eligibility_problems(table: CsvTable, f: pd.DataFrame, results_table: CsvTable, results: pd.DataFrame,
                         questions: pd.DataFrame | None) -> list[Problem]:
    """Every result judged on every criterion; a subgroup never stands for everyone."""
    out = []
    judged = set(zip(f["result_id"], f["criterion"]))
    for criterion in vocab.CRITERIA:
        missing = ~results["result_id"].map(lambda rid: (rid, criterion) in judged)
        out += _flag(results_table, results, missing, "result_id",
                     lambda r: f"{r.result_id} has no '{criterion}' judgement in {table.name}: every result is "
                     "judged on population, intervention, outcome and followup")
    if questions is not None:
        # In a question pooled by population subgroup, a row whose arm names a subgroup (one sex, one
        # insurer) and whose population_subgroup is 'all' would enter the group that stands for everyone.
        pool_by = questions.drop_duplicates("question_id").set_index("question_id")["pool_by"]
        by_subgroup = results["question_id"].map(pool_by) == "population_subgroup"
        whole = results["population_subgroup"].fillna("all").eq("all")
        subgroup_arm = ~results["arm"].isin(["all"]) & ~results["arm"].eq(results["population_subgroup"])
        out += _flag(results_table, results, by_subgroup & whole & subgroup_arm & ~results["arm"].eq("fusion"),
                     "population_subgroup", lambda r: f"arm '{r.arm}' is a subgroup: it may enter only a group "
                     f"defined for it (population_subgroup '{r.arm}'), never 'all'")
    return out


def risk_of_bias_problems(table: CsvTable, f: pd.DataFrame, studies: pd.DataFrame | None) -> list[Problem]:
    """Each study appraised with one tool, on every item of that tool, with that tool's answers. A row
    whose tool or study is missing, or whose tool is unknown, is reported by the column rules and skipped
    here (an unknown study: reference_problems)."""
    out = []
    known = (f["tool"].isin(vocab.ROB_ITEMS) & f["study_id"].notna()).to_numpy()
    items = f["tool"].map(vocab.ROB_ITEMS)
    out += _flag(table, f, [k and item not in allowed for k, item, allowed in zip(known, f["item"], items)], "item",
                 lambda r: f"{r.item} is not an item of {r.tool} (its items: {', '.join(vocab.ROB_ITEMS[r.tool])})")
    answers = f["tool"].map(vocab.ROB_ANSWERS)
    out += _flag(table, f, [k and a not in allowed for k, a, allowed in zip(known, f["answer"], answers)], "answer",
                 lambda r: f"'{r.answer}' is not an answer of {r.tool} ({', '.join(vocab.ROB_ANSWERS[r.tool])})")
    tools = f[known].groupby("study_id")["tool"].nunique()
    out += _flag(table, f, f["study_id"].map(tools) > 1, "tool",
                 lambda r: f"{r.study_id} is appraised with more than one tool: use the one fit for its design")
    first = ~f.duplicated("study_id") & known
    have = f[known].groupby("study_id")["item"].agg(lambda v: set(v.dropna()))
    lacking = np.array([k and bool(set(vocab.ROB_ITEMS[t]) - have[s])
                        for k, s, t in zip(known, f["study_id"], f["tool"])], dtype=bool)
    out += _flag(table, f, first.to_numpy() & lacking,
                 "item", lambda r: f"{r.study_id} lacks item(s) "
                 f"{', '.join(sorted(set(vocab.ROB_ITEMS[r.tool]) - have[r.study_id]))} of {r.tool}")
    if studies is not None:
        design = f["study_id"].map(studies.drop_duplicates("study_id").set_index("study_id")["design"])
        out += _flag(table, f, first & (design == "RCT") & (f["tool"] != "rob2"), "tool",
                     lambda r: f"{r.study_id} is a randomised trial: appraise it with rob2")
    return out


# -- links a reader follows ------------------------------------------------------------

_PUBMED_HOSTS = ("pubmed.ncbi.nlm.nih.gov", "www.ncbi.nlm.nih.gov", "pubmed.gov", "www.pubmed.gov")
_DOI_HOSTS = ("doi.org", "dx.doi.org")
_URL = re.compile(r"https?://([^/\s?#]+)([^\s]*)")


def url_problem(text) -> str | None:
    """What is wrong with a PubMed or doi.org link in `text` (one or more URLs), or None."""
    if not isinstance(text, str):
        return None
    for host, path in _URL.findall(text):
        name = host.lower()
        if ("pubmed" in name or name.endswith("ncbi.nlm.nih.gov.") or "doi.org" in name) and \
                name not in _PUBMED_HOSTS + _DOI_HOSTS and not name.endswith(("laibokeji.com",)):
            return f"'{host}' is a malformed PubMed or doi.org host (use {_PUBMED_HOSTS[0]} or doi.org)"
        if name in _PUBMED_HOSTS and "/pubmed" not in path and not re.match(r"^/\d{1,9}/?(\?.*)?$", path):
            return f"a PubMed link must be {_PUBMED_HOSTS[0]}/<PMID>/, not '{host}{path}'"
        if name in _DOI_HOSTS and not re.match(r"^/10\.\d{4,9}/\S+$", path):
            return f"a doi.org link must be doi.org/10.<registrant>/<suffix>, not '{host}{path}'"
    return None


def url_problems(table: CsvTable, f: pd.DataFrame, columns=("url_seen",)) -> list[Problem]:
    out = []
    for column in columns:
        if column in f.columns:
            found = f[column].map(url_problem)
            out += [table.problem(i, column, found.iloc[i]) for i in np.flatnonzero(found.notna().to_numpy())]
    return out


def study_label_problems(table: CsvTable, f: pd.DataFrame, results: pd.DataFrame | None) -> list[Problem]:
    """A study with results is labelled by its first author and year (or its journal and year); one whose
    authors, journal and year no page showed is declared `unidentified`, so that its label says so."""
    if results is None:
        return []
    used = f["study_id"].isin(set(results["study_id"]))
    named = f["first_author"].notna() | (f["journal"].notna() & f["year"].notna())
    return _flag(table, f, used & ~named & (f["lookup_status"] != "unidentified"), "first_author",
                 lambda r: f"{r.study_id} has results but no first author (nor journal and year), so its label "
                 "would be its identifier: give them, or set lookup_status unidentified if no page shows them")


# -- claims a question should hear about (warnings: validation still passes) -------------------

def question_topics(claims: pd.DataFrame, links: pd.DataFrame) -> dict[str, list[str]]:
    """Each question's topics: the topics of the claims claim_questions.csv links to it."""
    linked = links[["claim_id", "question_id"]].dropna().merge(
        claims[["claim_id", "topic"]].dropna().drop_duplicates("claim_id"), on="claim_id")
    return {q: sorted(set(t)) for q, t in linked.groupby("question_id", sort=True)["topic"]}


def unlinked_claims(claims: pd.DataFrame, links: pd.DataFrame) -> pd.Series:
    """For each claim that gives a rate (measure rate) on a topic of some question (question_topics) and has
    no row in claim_questions.csv: the questions of its topic, by the claim's row; the others are left out."""
    by_topic: dict[str, list[str]] = {}
    for question, topics in question_topics(claims, links).items():
        for topic in topics:
            by_topic.setdefault(topic, []).append(question)
    candidate = ((claims["measure"] == "rate") & member(claims["topic"], by_topic)
                 & ~member(claims["claim_id"], set(links["claim_id"].dropna().tolist()))).to_numpy()
    return claims.loc[candidate, "topic"].map(by_topic)


def unlinked_warnings(table: CsvTable, claims: pd.DataFrame, links: pd.DataFrame, limit: int = 20) -> list[Problem]:
    """A warning, located in the claims file, for each claim of unlinked_claims (at most `limit`, then how
    many more): without a claim_questions.csv row, notebooks 10 and 11 never show it."""
    found = unlinked_claims(claims, links)
    rows = [claims.index.get_loc(i) for i in found.index[:limit]]
    out = [table.problem(i, "claim_id", f"warning: {claims['claim_id'].iloc[i]} gives a rate on "
                         f"{claims['topic'].iloc[i]}, a topic of question{'s' * (len(found.iloc[k]) > 1)} "
                         f"{', '.join(found.iloc[k])}, and has no row "
                         "in claim_questions.csv (link it, comparable yes or no, so that notebooks 10 and 11 show it)")
           for k, i in enumerate(rows)]
    if len(found) > limit:
        out.append(Problem(table.name, 0, "claim_id", f"warning: and {len(found) - limit} more claims like these"))
    return out
