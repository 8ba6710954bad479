"""fbss_evidence.runs: one name for a run's folder on every route, and the runs make makes, read from the data."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys

import pytest

from fbss_evidence import config, runs, vocab

DEFAULTS = {
    "data_dir": "data",
    "claims_path": None,
    "output_dir": None,
    "fig_format": "png",
    "question": "reoperation-after-discectomy",
    "pooling_method": "REML",
    "hartung_knapp": False,
    "ci_level": 0.95,
}


def name(**values) -> str:
    return runs.run_name("10-claims-vs-literature", {**DEFAULTS, **values}, DEFAULTS)


def test_the_defaults_name_the_notebook_alone():
    assert name() == "10-claims-vs-literature"
    assert name(ci_level=0.95, hartung_knapp=False) == "10-claims-vs-literature"


def test_the_changed_parameters_are_named_in_full_sorted_by_name():
    assert (
        name(question="prp-lbp-success", pooling_method="DL", hartung_knapp=True)
        == "10-claims-vs-literature--hartung_knapp=True--pooling_method=DL--question=prp-lbp-success"
    )


def test_output_dir_is_never_part_of_the_name():
    assert name(output_dir="/tmp/elsewhere") == "10-claims-vs-literature"


@pytest.mark.parametrize("data_dir", ["data", str(config.ROOT / "data"), "./data", "data/", "notebooks/../data"])
def test_the_data_folder_however_written_is_the_default(data_dir):
    # make run passes the absolute path; papermill and JupyterLab keep the default 'data'
    assert name(data_dir=data_dir) == "10-claims-vs-literature"


def test_a_path_is_written_whole_relative_to_the_project_when_inside_it():
    assert name(data_dir="build/trial") == "10-claims-vs-literature--data_dir=build%2Ftrial"
    assert name(data_dir=str(config.ROOT / "build" / "trial")) == "10-claims-vs-literature--data_dir=build%2Ftrial"
    assert name(claims_path="/tmp/x/claims.csv") == "10-claims-vs-literature--claims_path=%2Ftmp%2Fx%2Fclaims.csv"


def test_no_value_is_ever_cut():
    long = "prp-lbp-success-" + "x" * 100
    assert name(question=long, pooling_method="DL", data_dir="/some/where/else/entirely").endswith(f"--question={long}")


@pytest.mark.parametrize(
    "a, b",
    [
        ({"question": "a b"}, {"question": "a_b"}),
        ({"question": "a/b"}, {"question": "a_b"}),
        ({"question": "a=b"}, {"question": "a", "ci_level": "b"}),
        ({"claims_path": "/x/a.csv"}, {"claims_path": "/y/a.csv"}),
        ({"question": "a%2Fb"}, {"question": "a/b"}),
    ],
)
def test_different_values_never_share_a_folder(a, b):
    assert name(**a) != name(**b)


def test_a_name_is_one_folder_name_without_special_characters():
    folder = name(question="../../etc", claims_path="/tmp/a b/c.csv", fig_format="<svg>")
    assert "/" not in folder and " " not in folder and "<" not in folder and not folder.startswith(".")


def test_a_name_longer_than_a_folder_name_may_be_is_refused():
    with pytest.raises(runs.RunNameError, match=r"more than a folder name may have \(255\): give output_dir"):
        name(claims_path="/tmp/" + "c" * 300 + ".csv")


def test_run_folder_is_under_build_runs(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "BUILD", tmp_path)
    assert (
        runs.run_folder("09-statistics", {"pooling_method": "PM"}, {"pooling_method": "REML"})
        == tmp_path / "runs" / "09-statistics--pooling_method=PM"
    )


# -- the runs make makes ---------------------------------------------------------------


def test_the_questions_are_those_of_the_data_in_its_order():
    import pandas as pd

    assert runs.questions() == pd.read_csv(config.DATA / "questions.csv")["question_id"].tolist()


def test_the_topics_are_those_the_claims_give_a_rate_on_in_the_vocabulary_s_order():
    import pandas as pd

    claims = pd.read_csv(config.CLAIMS_CSV)
    rated = set(claims.loc[claims["measure"] == "rate", "topic"])
    assert runs.topics() == [t for t in vocab.TOPICS if t in rated]


def test_a_new_question_row_is_enough(tmp_path):
    shutil.copy(config.DATA / "questions.csv", tmp_path / "questions.csv")
    with open(tmp_path / "questions.csv", "a", encoding="utf-8") as f:
        f.write('new-question,New,"A question, with a comma",who,what,"when,\nand a line break",all,,none,\n')
    assert runs.questions(tmp_path) == runs.questions() + ["new-question"]


def test_missing_files_and_values_that_are_no_slug_give_no_run(tmp_path):
    assert runs.questions(tmp_path) == [] and runs.topics(tmp_path / "claims.csv") == []
    (tmp_path / "questions.csv").write_text("question_id,label\nok-one,x\nnot ok; rm -rf,y\n$(shell x),z\n")
    assert runs.questions(tmp_path) == ["ok-one"]
    (tmp_path / "claims.csv").write_text("claim_id,topic,measure\na,opioids,rate\nb,made up,rate\nc,recurrence,count\n")
    assert runs.topics(tmp_path / "claims.csv") == ["opioids"]


def test_the_make_lists_are_written_by_the_system_python_from_the_package_alone(tmp_path):
    # The Makefile runs the module before the environment exists: the standard library only.
    for module in ("runs", "config", "vocab"):  # it, and what it imports of the package
        tree = ast.parse((config.ROOT / "src" / "fbss_evidence" / f"{module}.py").read_text(encoding="utf-8"))
        imported = {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {
            node.module.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and not node.level
        }
        assert imported <= set(sys.stdlib_module_names) | {"__future__"}, module
    out = tmp_path / "runs.mk"
    python = shutil.which("python3") or sys.executable
    proc = subprocess.run(
        [python, "-S", "-m", "fbss_evidence.runs", "--output", str(out)],
        cwd=config.ROOT,
        env={"PYTHONPATH": str(config.ROOT / "src")},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert f"QUESTIONS := {' '.join(runs.questions())}\n" in text and f"TOPICS := {' '.join(runs.topics())}\n" in text
