"""What every analysis notebook does first: check parameters, set the style, load the data."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import evidence, validate, validated
from .params import check_parameters
from .plotting import style


def start(**params) -> tuple[pd.DataFrame, validate.Dataset]:
    """Validate the parameters, apply the chart style and return (enriched claims, dataset)."""
    check_parameters(**params)
    style.apply_style()
    Path(params["output_dir"]).mkdir(parents=True, exist_ok=True)
    # Validated once per change of the data: make's validation step stores the tables.
    data = validated.load(
        Path(params["claims_path"]), Path(params["sources_path"]),
        Path(params["references_path"]), Path(params["audit_path"]), validated.default_cache())
    claims = evidence.enrich(data)
    assert len(claims) == len(data.claims), "enrichment must keep one row per claim"
    return claims, data


def caption(claims: pd.DataFrame, extra: str = "") -> str:
    """Name the pages and cited studies a chart draws on."""
    pages = ", ".join(sorted(set(claims["source"])))
    studies = sorted(set(claims["study"].dropna()))
    text = f"Pages: {pages}."
    if studies:
        text += f" Cited studies: {', '.join(studies)}."
    text += " Data: data/claims.csv (verbatim quotes in data/sources/)."
    return f"{text} {extra}".strip()
