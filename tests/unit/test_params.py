"""fbss_evidence.params.check_parameters: every wrong value stops with a clear message."""

from __future__ import annotations

import re

import pytest

from fbss_evidence import config, vocab
from fbss_evidence.params import GROUPINGS, ParameterError, check_parameters

GOOD = dict(
    data_dir="data",
    claims_path=str(config.CLAIMS_CSV),
    output_dir="build/runs/x",
    fig_format="png",
    ci_method="wilson",
    ci_level=0.95,
    topic="opioids",
    group_by="basis",
    pooling_method="REML",
    include_clinic_experience=True,
    question="prp-lbp-success",
    hartung_knapp=True,
    include_derived_counts=False,
    min_studies=3,
)


def test_good_parameters_are_returned_unchanged():
    assert check_parameters(GOOD) == GOOD


def test_no_parameters():
    assert check_parameters({}) == {}


def test_parameter_error_is_a_value_error():
    assert issubclass(ParameterError, ValueError)


@pytest.mark.parametrize(
    "name, value",
    [
        ("fig_format", "svg"),
        ("fig_format", "pdf"),
        ("ci_method", "clopper-pearson"),
        ("ci_method", "jeffreys"),
        ("ci_method", "agresti-coull"),
        ("ci_method", "wald"),
        ("ci_level", 0.5),
        ("ci_level", 0.9),
        ("ci_level", 0.999),
        ("pooling_method", "DL"),
        ("pooling_method", "PM"),
        ("include_clinic_experience", False),
        *[("group_by", g) for g in GROUPINGS],
        *[("topic", t) for t in vocab.TOPICS],
    ],
)
def test_allowed_values(name, value):
    assert check_parameters({name: value}) == {name: value}


def _raises(message: str, **params):
    with pytest.raises(ParameterError, match=re.escape(message)) as info:
        check_parameters(params)
    return str(info.value)


def test_unknown_name_lists_what_is_known():
    msg = _raises("unknown parameter 'colour'; this notebook takes: ", colour="red")
    assert "ci_level" in msg and "claims_path" in msg


def test_a_misspelling_names_the_parameter_meant():
    _raises("unknown parameter 'ci_levels' (did you mean 'ci_level'?)", **GOOD, ci_levels=0.9)


def test_a_parameter_the_notebook_does_not_declare_is_unknown():
    with pytest.raises(ParameterError, match=re.escape("unknown parameter 'topic'; this notebook takes: ci_level")):
        check_parameters({"topic": "opioids"}, declared={"ci_level": 0.95})


def test_bad_fig_format():
    msg = _raises("parameter fig_format='jpg' is not allowed; use one of: png, svg, pdf", fig_format="jpg")
    assert msg == "parameter fig_format='jpg' is not allowed; use one of: png, svg, pdf"


def test_fig_format_is_case_sensitive():
    _raises("parameter fig_format='PNG' is not allowed", fig_format="PNG")


def test_bogus_ci_method():
    msg = _raises("parameter ci_method='bogus' is not allowed; use one of: ", ci_method="bogus")
    assert msg.endswith("wilson, clopper-pearson, jeffreys, agresti-coull, wald")


@pytest.mark.parametrize(
    "value, shown",
    [
        (0.3, "0.3"),
        (1.0, "1.0"),
        (1, "1"),
        (1.5, "1.5"),
        (0.0, "0.0"),
        (-0.95, "-0.95"),
        (True, "True"),
        (False, "False"),
        ("0.95", "'0.95'"),
        (None, "None"),
        (float("nan"), "nan"),
        (float("inf"), "inf"),
    ],
)
def test_bad_ci_level(value, shown):
    msg = _raises(f"parameter ci_level={shown} must be a number in [0.5, 1), e.g. 0.95", ci_level=value)
    assert msg == f"parameter ci_level={shown} must be a number in [0.5, 1), e.g. 0.95"


def test_unknown_topic():
    msg = _raises("parameter topic='surgery' is not allowed; use one of: failure_persistent_pain, ", topic="surgery")
    assert msg.endswith(", ".join(vocab.TOPICS))


def test_topic_with_spaces_instead_of_underscores():
    _raises("parameter topic='failure persistent pain' is not allowed", topic="failure persistent pain")


def test_bad_group_by():
    msg = _raises(
        "parameter group_by='topic' is not allowed; use one of: source_id, basis, intervention, finding_id",
        group_by="topic",
    )
    assert msg == ("parameter group_by='topic' is not allowed; use one of: source_id, basis, intervention, finding_id")


@pytest.mark.parametrize("value", ["reml", "FE", ""])
def test_bad_pooling_method(value):
    msg = _raises(f"parameter pooling_method={value!r} is not allowed; use one of: REML, DL, PM", pooling_method=value)
    assert msg == f"parameter pooling_method={value!r} is not allowed; use one of: REML, DL, PM"


@pytest.mark.parametrize("value", ["False", "True", 0, 1, None, "no"])
def test_include_clinic_experience_must_be_a_bool(value):
    msg = _raises(
        f"parameter include_clinic_experience={value!r} must be True or False", include_clinic_experience=value
    )
    assert msg == f"parameter include_clinic_experience={value!r} must be True or False"


def test_missing_claims_file(tmp_path):
    missing = str(tmp_path / "nope.csv")
    msg = _raises(
        f"parameter claims_path={missing!r}: no such file (a relative path is relative to the project folder",
        claims_path=missing,
    )
    assert msg.endswith(f"{config.ROOT})")


def test_claims_path_none_means_the_claims_of_the_data_folder():
    assert check_parameters({"claims_path": None}) == {"claims_path": None}


@pytest.mark.parametrize("folder", ["nowhere", "notebooks"])
def test_data_dir_must_hold_the_tables(folder):
    _raises(f"parameter data_dir={folder!r}: not a data folder (no sources.csv in it", data_dir=folder)


@pytest.mark.parametrize("value", [1, 0, -2, 2.5, True, "3"])
def test_min_studies_is_a_whole_number_of_at_least_two(value):
    _raises(f"parameter min_studies={value!r} must be a whole number of at least 2", min_studies=value)


def test_a_relative_path_is_relative_to_the_project():
    assert check_parameters({"claims_path": "data/claims.csv"})


def test_a_folder_is_not_a_claims_file(tmp_path):
    _raises(f"parameter claims_path={str(tmp_path)!r}: no such file", claims_path=str(tmp_path))


@pytest.mark.parametrize("value", [5, ""])
def test_a_non_path_claims_file_is_a_parameter_error(value):
    # Not a TypeError from pathlib: the same clear message as a missing file.
    _raises(f"parameter claims_path={value!r}: no such file", claims_path=value)


@pytest.mark.parametrize("value", ["", 3])
def test_bad_output_dir(value):
    _raises(f"parameter output_dir={value!r} must be a folder path, or None", output_dir=value)


def test_output_dir_none_means_a_folder_of_its_own():
    assert check_parameters({"output_dir": None}) == {"output_dir": None}


@pytest.mark.parametrize("folder", ["figures", "tables", "tables/sub", str(config.FIGURES)])
def test_output_dir_never_the_published_folders(folder):
    _raises(f"parameter output_dir={folder!r}: ", output_dir=folder)


def test_the_first_bad_parameter_is_reported():
    with pytest.raises(ParameterError, match="fig_format='gif'"):
        check_parameters({"fig_format": "gif", "ci_level": 2})
