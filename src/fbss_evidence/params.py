"""Checks for notebook parameters: a wrong value stops the run with a clear message."""
from __future__ import annotations

from pathlib import Path

from . import vocab
from .stats import CI_METHODS

GROUPINGS = ("source_id", "basis", "intervention", "finding_id")


class ParameterError(ValueError):
    """A notebook parameter is unknown or out of range."""


def _one_of(name, value, allowed):
    if value not in allowed:
        raise ParameterError(f"parameter {name}={value!r} is not allowed; use one of: "
                             + ", ".join(map(str, allowed)))


def check_parameters(**params) -> dict:
    """Validate the parameters a notebook received; return them unchanged."""
    for name, value in params.items():
        if name in ("claims_path", "sources_path", "references_path", "audit_path", "statement_audit_path"):
            if not isinstance(value, (str, Path)) or not Path(value).is_file():
                raise ParameterError(f"parameter {name}={value!r}: no such file")
        elif name == "output_dir":
            if not isinstance(value, str) or not value:
                raise ParameterError(f"parameter output_dir={value!r} must be a folder path")
        elif name == "fig_format":
            _one_of(name, value, vocab.FIGURE_FORMATS)
        elif name == "ci_method":
            _one_of(name, value, tuple(CI_METHODS))
        elif name == "ci_level":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.5 <= value < 1:
                raise ParameterError(f"parameter ci_level={value!r} must be a number in [0.5, 1), e.g. 0.95")
        elif name == "topic":
            _one_of(name, value, vocab.TOPICS)
        elif name == "group_by":
            _one_of(name, value, GROUPINGS)
        elif name == "pooling_method":
            _one_of(name, value, ("REML", "DL", "PM"))
        elif name == "include_clinic_experience":
            if not isinstance(value, bool):
                raise ParameterError(f"parameter {name}={value!r} must be True or False")
        else:
            raise ParameterError(f"unknown parameter {name!r}")
    return params
