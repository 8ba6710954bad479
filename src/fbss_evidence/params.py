"""Every notebook parameter the project knows, and its check: a wrong value stops the run.

A notebook declares its parameters in its `parameters` cell; this registry says
what each one may be. A name that is neither declared by the notebook nor known
here is a misspelling and stops the run with the nearest known name.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import config, vocab
from .stats import CI_METHODS, POOLING_METHODS

GROUPINGS = ("source_id", "basis", "intervention", "finding_id")


class ParameterError(ValueError):
    """A notebook parameter is unknown or out of range."""


@dataclass(frozen=True)
class Parameter:
    description: str
    check: Callable[[str, object], None]


def _one_of(allowed) -> Callable:
    def check(name, value):
        if value not in allowed:
            raise ParameterError(f"parameter {name}={value!r} is not allowed; use one of: "
                                 + ", ".join(map(str, allowed)))
    return check


def _folder(name, value):
    if not isinstance(value, (str, Path)) or not str(value) or not (config.resolve(value) / "sources.csv").is_file():
        raise ParameterError(f"parameter {name}={value!r}: not a data folder (no sources.csv in it; a relative "
                             f"path is relative to the project folder, {config.ROOT})")


def _file(name, value):
    if value is None:
        return
    if not isinstance(value, (str, Path)) or not str(value) or not config.resolve(value).is_file():
        raise ParameterError(f"parameter {name}={value!r}: no such file (a relative path is relative to "
                             f"the project folder, {config.ROOT})")


def _output_dir(name, value):
    if value is None:
        return
    if not isinstance(value, (str, Path)) or not str(value):
        raise ParameterError(f"parameter output_dir={value!r} must be a folder path, or None for a folder "
                             "of its own under build/runs/")
    folder = config.resolve(value).resolve()
    for published in (config.FIGURES, config.TABLES):
        if folder == published.resolve() or published.resolve() in folder.parents:
            raise ParameterError(f"parameter output_dir={value!r}: {published.name}/ holds the outputs of "
                                 "make's default runs; leave output_dir as None (a folder under build/runs/)")
    if folder == config.DATA.resolve() or config.DATA.resolve() in folder.parents:
        raise ParameterError(f"parameter output_dir={value!r}: data/ holds the curated tables, which no run "
                             "writes to; leave output_dir as None (a folder under build/runs/)")


def _level(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.5 <= value < 1:
        raise ParameterError(f"parameter {name}={value!r} must be a number in [0.5, 1), e.g. 0.95")


def _flag(name, value):
    if not isinstance(value, bool):
        raise ParameterError(f"parameter {name}={value!r} must be True or False")


def _count(minimum: int) -> Callable:
    def check(name, value):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ParameterError(f"parameter {name}={value!r} must be a whole number of at least {minimum}")
    return check


def _slug(name, value):
    if not isinstance(value, str) or not value:
        raise ParameterError(f"parameter {name}={value!r} must be a non-empty text")


def _url(name, value):
    if not isinstance(value, str) or not re.match(r"^https?://\S+$", value):
        raise ParameterError(f"parameter {name}={value!r} must be an http(s) address")


def _date(name, value):
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", value):
        raise ParameterError(f"parameter {name}={value!r} must be a date as YYYY-MM-DD")


PARAMETERS: dict[str, Parameter] = {
    "data_dir": Parameter("the folder of the data tables (data/, or a copy of it)", _folder),
    "claims_path": Parameter("another claims file (None: the claims of data_dir)", _file),
    "output_dir": Parameter("where figures and tables go (None: a folder of its own under build/runs/)",
                            _output_dir),
    "fig_format": Parameter("png, svg or pdf", _one_of(vocab.FIGURE_FORMATS)),
    "ci_method": Parameter("the confidence-interval method", _one_of(tuple(CI_METHODS))),
    "ci_level": Parameter("the confidence level, in [0.5, 1)", _level),
    "topic": Parameter("a topic of the claims vocabulary", _one_of(vocab.TOPICS)),
    "group_by": Parameter("how 07 groups the rates", _one_of(GROUPINGS)),
    "pooling_method": Parameter("the tau-squared estimator", _one_of(POOLING_METHODS)),
    "include_clinic_experience": Parameter("draw the clinics' own-experience numbers too", _flag),
    "question": Parameter("a question_id of data/questions.csv (checked against the data once it is loaded)", _slug),
    "hartung_knapp": Parameter("Hartung-Knapp confidence intervals for the pooled estimates", _flag),
    "include_derived_counts": Parameter("pool counts derived from a printed percent and n (and Kaplan-Meier "
                                        "estimates)", _flag),
    "min_studies": Parameter("the fewest comparable studies that are pooled", _count(2)),
    "site_url": Parameter("where the report is published (the ClaimReview records' url)", _url),
    "date_published": Parameter("the ClaimReview records' datePublished, YYYY-MM-DD", _date),
}


def closest(name: str, known) -> str | None:
    match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return match[0] if match else None


def check_parameters(values: dict, declared=None) -> dict:
    """Check each value; a name not declared by the notebook (or, without `declared`, not known
    to the project) stops the run with the nearest declared name. Returns `values`."""
    allowed = set(PARAMETERS) if declared is None else set(declared)
    for name, value in values.items():
        if name not in allowed or name not in PARAMETERS:
            hint = closest(name, allowed)
            raise ParameterError(f"unknown parameter {name!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                                 + f"; this notebook takes: {', '.join(sorted(allowed))}")
        PARAMETERS[name].check(name, value)
    return values
