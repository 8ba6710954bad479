"""fbss_evidence.notebook.start: parameters read from the notebook itself, misspellings refused on every
route (papermill's injected cell, an edited parameters cell), runs kept apart from the published outputs."""

from __future__ import annotations

import pytest

from fbss_evidence import config, notebook
from fbss_evidence.params import ParameterError

NAME = "02-failure-rates"


def _namespace(**overrides) -> dict:
    """A kernel's namespace after the parameters cell (and papermill's injected cell, if any) ran."""
    values = dict(notebook.declared_parameters(NAME))
    cells = []
    if overrides:
        values.update(overrides)
        cells.append("# Parameters\n" + "\n".join(f"{k} = {v!r}" for k, v in overrides.items()))
    return {**values, "In": ["", "# Parameters (papermill ...)\nci_level = 0.95", *cells]}


def test_the_parameters_are_the_notebook_s_own_cell():
    declared = notebook.declared_parameters(NAME)
    assert declared["ci_method"] == "wilson" and declared["output_dir"] is None
    assert set(declared) == {
        "data_dir",
        "claims_path",
        "output_dir",
        "fig_format",
        "ci_method",
        "ci_level",
        "include_clinic_experience",
    }


def test_a_misspelled_parameter_injected_by_papermill_is_refused(tmp_path):
    namespace = _namespace(ci_levl=0.9)
    with pytest.raises(ParameterError, match=r"unknown parameter 'ci_levl' \(did you mean 'ci_level'\?\)"):
        notebook.start(NAME, namespace)


def test_a_parameter_of_another_notebook_is_refused():
    with pytest.raises(ParameterError, match="unknown parameter 'topic'"):
        notebook.start(NAME, _namespace(topic="opioids"))


def test_a_bad_value_is_refused_before_any_data_is_read():
    with pytest.raises(ParameterError, match="parameter ci_level=1.5 must be a number"):
        notebook.start(NAME, _namespace(ci_level=1.5))


def test_the_published_folders_are_never_a_run_s_output_dir():
    with pytest.raises(ParameterError, match="figures/ holds the outputs of make's default runs"):
        notebook.start(NAME, _namespace(output_dir="figures"))


def test_a_run_without_output_dir_writes_to_a_folder_named_by_its_parameters(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "BUILD", tmp_path / "build")
    run = notebook.start(NAME, _namespace(ci_method="clopper-pearson", ci_level=0.9))
    assert run.output_dir == tmp_path / "build" / "runs" / "02-failure-rates--ci_level=0.9--ci_method=clopper-pearson"
    assert len(run.claims) == len(run.data.claims)
    assert not run.output_dir.exists()  # made by the first figure or table saved
    run.save_table(run.claims.head(1)[["claim_id"]], "t")
    assert (run.output_dir / "t.csv").is_file()
    default = notebook.start(NAME, _namespace())
    assert default.output_dir == tmp_path / "build" / "runs" / "02-failure-rates"


def test_a_run_stopped_by_its_parameters_or_data_leaves_no_folder(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "BUILD", tmp_path / "build")
    with pytest.raises(ParameterError):
        notebook.start(NAME, _namespace(ci_level=1.5))
    values = dict(notebook.declared_parameters("10-claims-vs-literature"), question="no-such-question")
    with pytest.raises(ParameterError):
        notebook.start("10-claims-vs-literature", {**values, "In": []})
    # No run folder; only the validated data, kept by content for the next run (dataset.load_validated).
    assert not (tmp_path / "build" / "runs").exists()
    assert [p.name for p in (tmp_path / "build").iterdir()] == ["validated"]


def test_parameters_too_long_for_a_folder_name_are_refused_with_advice(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "BUILD", tmp_path / "build")
    claims = tmp_path / ("c" * 250 + ".csv")
    claims.write_text("")
    with pytest.raises(ParameterError, match="more than a folder name may have .255.: give output_dir"):
        notebook.start(NAME, _namespace(claims_path=str(claims)))


def test_an_unknown_question_names_the_questions_of_the_data(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "BUILD", tmp_path / "build")
    values = dict(notebook.declared_parameters("10-claims-vs-literature"), question="no-such-question")
    with pytest.raises(ParameterError, match="question='no-such-question' is not a question of the data; use one of"):
        notebook.start("10-claims-vs-literature", {**values, "In": []})


def test_expect_shows_the_number_or_stops():
    assert notebook.expect("rows", 3, 3) == "rows: 3 (as expected)"
    with pytest.raises(AssertionError, match="rows: expected 3, got 4"):
        notebook.expect("rows", 4, 3)
