"""The columns of the project's tables and their column-level rules (pandera).

Rules that involve several columns or other files live in validate.py.
"""
from __future__ import annotations

import pandera.pandas as pa

from . import vocab

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

CLAIM_COLUMNS = (
    "claim_id", "source_id", "quote", "value_text", "value", "value_low", "value_high",
    "bound", "unit", "measure", "numerator", "denominator", "topic", "intervention", "outcome",
    "population", "timepoint", "basis", "ref_id", "footnote", "finding_id", "whole_id",
    "base_claim_id", "notes",
)
CLAIM_NUMERIC = ("value", "value_low", "value_high", "numerator", "denominator")
# Columns that may be empty; every other claim column must be filled in.
CLAIM_OPTIONAL = CLAIM_NUMERIC + (
    "intervention", "population", "timepoint", "ref_id", "footnote", "whole_id", "base_claim_id",
    "notes")

SOURCE_COLUMNS = ("source_id", "label", "file", "title", "publisher", "author", "sha256", "description")

REFERENCE_COLUMNS = (
    "ref_id", "source_id", "ref_number", "citation_as_printed", "study_id", "first_author",
    "year", "title", "journal", "pmid", "pmcid", "doi", "study_design", "n_enrolled",
    "n_analysed", "url_seen", "lookup_status", "lookup_notes",
)

AUDIT_COLUMNS = (
    "claim_id", "ref_id", "study_reports", "study_figure", "study_population", "verdict",
    "explanation", "url_seen", "pmid", "doi",
)


def _text(*checks: pa.Check, required: bool = True, unique: bool = False) -> pa.Column:
    return pa.Column(str, checks=list(checks), nullable=not required, unique=unique)


def _number(*checks: pa.Check) -> pa.Column:
    return pa.Column(float, checks=list(checks), nullable=True)


CLAIMS_SCHEMA = pa.DataFrameSchema(
    {
        "claim_id": _text(pa.Check.str_matches(SLUG)),
        "source_id": _text(pa.Check.str_matches(SLUG)),
        "quote": _text(pa.Check.str_length(min_value=1)),
        "value_text": _text(pa.Check.str_length(min_value=1)),
        "value": _number(),
        "value_low": _number(),
        "value_high": _number(),
        "bound": _text(pa.Check.isin(vocab.BOUNDS)),
        "unit": _text(pa.Check.isin(vocab.UNITS)),
        "measure": _text(pa.Check.isin(vocab.MEASURES)),
        "numerator": _number(pa.Check.ge(0)),
        "denominator": _number(pa.Check.gt(0)),
        "topic": _text(pa.Check.isin(vocab.TOPICS)),
        "outcome": _text(pa.Check.str_length(min_value=1)),
        "basis": _text(pa.Check.isin(vocab.BASES)),
        "finding_id": _text(pa.Check.str_matches(SLUG)),
        "whole_id": _text(pa.Check.str_matches(SLUG), required=False),
        "base_claim_id": _text(pa.Check.str_matches(SLUG), required=False),
    },
    strict=False,
    name="claims",
)

REFERENCES_SCHEMA = pa.DataFrameSchema(
    {
        "ref_id": _text(pa.Check.str_matches(SLUG)),
        "source_id": _text(pa.Check.str_matches(SLUG)),
        "citation_as_printed": _text(pa.Check.str_length(min_value=1)),
        "pmid": _text(pa.Check.str_matches(r"^\d{1,9}$"), required=False),
        "pmcid": _text(pa.Check.str_matches(r"^PMC\d+$"), required=False),
        "doi": _text(pa.Check.str_matches(r"^10\.\d{4,9}/\S+$"), required=False),
        "study_design": _text(pa.Check.isin(vocab.STUDY_DESIGNS), required=False),
        "lookup_status": _text(pa.Check.isin(vocab.LOOKUP_STATUSES)),
    },
    strict=False,
    name="references",
)

AUDIT_SCHEMA = pa.DataFrameSchema(
    {
        "claim_id": _text(pa.Check.str_matches(SLUG)),
        "ref_id": _text(pa.Check.str_matches(SLUG)),
        "verdict": _text(pa.Check.isin(vocab.VERDICTS)),
        "explanation": _text(pa.Check.str_length(min_value=1)),
    },
    strict=False,
    name="citation_audit",
)
