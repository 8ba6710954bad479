"""The Makefile as a file graph: what `make` would rerun, asked with `make -q` and `make -n`.

The project is mimicked in a temporary folder (empty files with staged mtimes:
inputs oldest, then the environment stamp, the validation stamp and the executed
notebooks), so no notebook runs and nothing is installed.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys

import pytest

from fbss_build import bench
from fbss_evidence import config
from fbss_evidence import runs as runs_module

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _touch(path, mtime):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    os.utime(path, (mtime, mtime))


@pytest.fixture
def built(tmp_path):
    """A mimic of a fully built project: every run done, each having published one figure, the gallery written."""
    shutil.copy(config.ROOT / "Makefile", tmp_path / "Makefile")
    t = 1_700_000_000
    for name in (
        "requirements.lock",
        "pyproject.toml",
        "src/fbss_evidence/module.py",
        "src/fbss_build/run.py",
        "src/fbss_build/gallery.py",
        *(f"data/{file}" for file in config.TABLE_FILES.values()),
        "data/sources/page.txt",
    ):
        _touch(tmp_path / name, t)
    # What make reads the topics and questions with, and what it reads them from: the real ones.
    for name in (
        *(f"src/fbss_evidence/{m}.py" for m in ("__init__", "config", "vocab", "runs")),
        "data/questions.csv",
        "data/claims.csv",
    ):
        shutil.copy(config.ROOT / name, tmp_path / name)
        os.utime(tmp_path / name, (t, t))
    runs = bench.makefile_runs(tmp_path / "Makefile")
    for run in runs:
        _touch(tmp_path / "notebooks" / f"{run.notebook}.ipynb", t)
    _touch(tmp_path / ".venv" / ".installed", t + 10)
    _touch(tmp_path / "build" / "validated.stamp", t + 20)
    for run in runs:
        figure = f"figures/{run.name}.png"
        _touch(tmp_path / figure, t + 30)
        (tmp_path / "build" / f"{run.name}.outputs").write_text(figure + "\n")
        _touch(tmp_path / "build" / f"{run.name}.ipynb", t + 30)
    _touch(tmp_path / "build" / "notebooks.stamp", t + 40)
    _touch(tmp_path / "figures" / "README.md", t + 50)  # the figure gallery, written after the runs
    _make(tmp_path, "-q")  # records which data the build uses (build/data-choice) ...
    os.utime(tmp_path / "build" / "data-choice", (t, t))  # ... as the real build did, long ago
    return tmp_path, runs


def _make(folder, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k != "MFLAGS"}
    return subprocess.run(
        [MAKE, "--no-print-directory", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=60
    )


def _reruns(folder) -> list[str]:
    """The notebook runs `make -n` would queue; and if it queues any, it also runs the queue."""
    out = _make(folder, "-n").stdout
    queued = [
        line.split("--output build/")[1].split(".ipynb")[0]
        for line in out.splitlines()
        if "fbss_build.run" in line and "--queue build/queue" in line
    ]
    assert ("--run-queue build/queue" in out) == bool(queued)
    return queued


def test_a_built_project_is_up_to_date(built):
    folder, _ = built
    assert _make(folder, "-q").returncode == 0
    assert _reruns(folder) == []


def test_a_deleted_figure_reruns_only_the_run_that_published_it(built):
    folder, _ = built
    (folder / "figures" / "02-failure-rates.png").unlink()
    assert _make(folder, "-q").returncode == 1
    assert _reruns(folder) == ["02-failure-rates"]


def test_a_deleted_output_of_one_topic_reruns_only_that_topic(built):
    folder, runs = built
    topic_run = next(r.name for r in runs if r.parameters)
    (folder / "figures" / f"{topic_run}.png").unlink()
    assert _reruns(folder) == [topic_run]


def test_touching_a_notebook_reruns_only_its_runs(built):
    folder, runs = built
    os.utime(folder / "notebooks" / "07-compare-topic.ipynb")
    assert sorted(_reruns(folder)) == sorted(r.name for r in runs if r.notebook == "07-compare-topic")


def test_editing_the_build_wing_neither_revalidates_nor_reruns_anything(built):
    folder, _ = built
    os.utime(folder / "src" / "fbss_build" / "run.py")
    assert "fbss-validate" not in _make(folder, "-n").stdout
    assert _reruns(folder) == []
    os.utime(folder / "src" / "fbss_evidence" / "module.py")  # the analysis package: everything again
    assert "fbss-validate" in _make(folder, "-n").stdout


def test_changing_the_claims_revalidates_and_reruns_everything(built):
    folder, runs = built
    os.utime(folder / "data" / "claims.csv")
    out = _make(folder, "-n").stdout
    assert "fbss-validate  --data data" in out
    assert sorted(_reruns(folder)) == sorted(r.name for r in runs)


def test_another_claims_file_reaches_validation_and_every_run_and_switching_back_reruns_again(built):
    folder, runs = built
    other = folder / "elsewhere" / "claims.csv"
    _touch(other, 1_600_000_000)
    shutil.copy(folder / "data" / "claims.csv", other)  # the same claims: the same topics
    os.utime(other, (1_600_000_000, 1_600_000_000))  # older than everything built: its mtime alone changes nothing
    out = _make(folder, f"CLAIMS={other}", "-n").stdout
    assert f"fbss-validate {other} --data data" in out
    assert sorted(_reruns_with(folder, f"CLAIMS={other}")) == sorted(r.name for r in runs)
    assert f"-p claims_path {other}" in _make(folder, f"CLAIMS={other}", "-n").stdout
    _make(folder, f"CLAIMS={other}", "-q")  # the choice is recorded when make reads the Makefile
    assert sorted(_reruns(folder)) == sorted(r.name for r in runs)  # back to data/: everything again


def test_another_data_folder_reaches_every_run(built):
    folder, runs = built
    shutil.copytree(folder / "data", folder / "trial")
    out = _make(folder, "DATA_DIR=trial", "-n").stdout
    assert "fbss-validate  --data trial" in out and f"-p data_dir {folder / 'trial'}" in out
    assert sorted(_reruns_with(folder, "DATA_DIR=trial")) == sorted(r.name for r in runs)


def _reruns_with(folder, *args) -> list[str]:
    out = _make(folder, *args, "-n").stdout
    return [
        line.split("--output build/")[1].split(".ipynb")[0]
        for line in out.splitlines()
        if "fbss_build.run" in line and "--queue build/queue" in line
    ]


def test_a_real_make_runs_the_queue_it_filled(built):
    # make looks at a target again after its rule ran: queueing must leave the target
    # changed (removed), or make would skip the batch. The batch then fails here, as
    # the mimic's notebooks are empty files, but it must have been started.
    folder, _ = built
    os.utime(folder / "notebooks" / "02-failure-rates.ipynb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k != "MFLAGS"}
    proc = subprocess.run(
        [MAKE, "--no-print-directory", f"RUN={sys.executable} -m fbss_build.run"],
        cwd=folder,
        env={**env, "FBSS_OUTPUT_ROOT": str(folder)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "--run-queue build/queue" in proc.stdout, proc.stdout + proc.stderr
    assert not (folder / "build" / "02-failure-rates.ipynb").exists()
    assert (folder / "build" / "01-evidence-map.ipynb").exists()  # not queued, not touched


def test_the_topics_and_questions_are_read_from_the_data(built):
    folder, runs = built
    queued = {
        line.split(" -p ")[-1]
        for line in _make(folder, "-n", "-B").stdout.splitlines()
        if "--queue build/queue" in line and (" -p topic " in line or " -p question " in line)
    }
    assert queued == {f"topic {t}" for t in runs_module.topics()} | {f"question {q}" for q in runs_module.questions()}


def test_a_new_question_row_is_enough_for_notebook_10_to_run_for_it(built):
    folder, runs = built
    with open(folder / "data" / "questions.csv", "a", encoding="utf-8") as f:
        f.write("new-question,New,A new question?,who,what,when,all,,none,\n")
    assert _make(folder, "-q").returncode == 1
    out = _make(folder, "-n").stdout
    assert "--output build/10-claims-vs-literature--new-question.ipynb" in out and "-p question new-question" in out
    assert "QUESTIONS := " in (folder / "build" / "runs.mk").read_text()


def test_a_topic_some_claim_first_gives_a_rate_on_gets_its_run(built):
    folder, _ = built
    claims = folder / "data" / "claims.csv"
    text = claims.read_text(encoding="utf-8")
    header, first = text.split("\n")[:2]
    assert "surgical_volume" not in runs_module.topics(claims)
    row = dict(zip(header.split(","), next(csv.reader([first]))))
    row.update(claim_id="new-claim", topic="surgical_volume", measure="rate")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row.values())
    claims.write_text(text + out.getvalue(), encoding="utf-8")
    assert "--output build/07-compare-topic--surgical_volume.ipynb" in _make(folder, "-n").stdout


def test_another_data_folder_gives_its_own_questions(built):
    folder, _ = built
    shutil.copytree(folder / "data", folder / "trial")
    (folder / "trial" / "questions.csv").write_text("question_id,label\nonly-this-one,x\n", encoding="utf-8")
    out = _make(folder, "DATA_DIR=trial", "-n").stdout
    assert "-p question only-this-one" in out and "-p question prp-lbp-success" not in out


def test_a_changed_figure_rewrites_the_gallery_and_nothing_else(built):
    folder, _ = built
    _touch(folder / "figures" / "02-failure-rates.png", 1_700_000_100)
    out = _make(folder, "-n").stdout
    assert "fbss_build.gallery" in out
    assert _reruns(folder) == []


def test_make_test_installs_chromium_from_debian_only_when_it_is_missing(built, tmp_path):
    folder, _ = built
    present = tmp_path / "chromium"
    present.touch()
    assert "apt-get" not in _make(folder, "-n", "test", f"CHROMIUM={present}").stdout
    out = _make(folder, "-n", "test", f"CHROMIUM={tmp_path / 'missing' / 'chromium'}").stdout
    assert "apt-get update" in out and "apt-get install -y -q --no-install-recommends chromium" in out
    assert out.index("apt-get install") < out.index("-m pytest")  # before the tests, which need it
