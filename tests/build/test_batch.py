"""The queue and the warm-kernel batch of fbss_build.run.

A notebook run in a kernel that has already run other notebooks must publish
the same bytes, and show the same outputs, as one run in a new kernel; a
failing run must not stop the rest of the queue; a killed batch leaves its
unfinished runs queued.

The fresh and the warm runs are also the project's reproducibility test: two runs
into different folders, under different PYTHONHASHSEEDs (so that any output
depending on the order of a set or dict of strings would show), must publish
byte-identical figures, tables and manifests.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from test_run import MAYBE_FAIL, WRITE_OUTPUTS, write_notebook

from fbss_build import run
from fbss_evidence import config
from fbss_evidence.notebook import FIGURE_MARK

pytestmark = pytest.mark.slow  # starts kernels or fuzzes

# Run in a used kernel after 01-evidence-map (sorted order: 01, 02, 09).
COMPARED = ("02-failure-rates", "09-statistics")


def _env(root: Path, seed: str = "0") -> dict:
    return {**os.environ, "FBSS_OUTPUT_ROOT": str(root), "PYTHONIOENCODING": "utf-8", "PYTHONHASHSEED": seed}


def _cli(root: Path, *args: str, timeout: int = 600, seed: str = "0") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fbss_build.run", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env=_env(root, seed),
    )


def _published(root: Path, prefix: str) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in ("figures", "tables")
        for p in sorted((root / folder).glob(f"{prefix}*"))
    }


def _output(o) -> str:
    """One output as a reader sees it: its text, or its image (by digest) and the file it shows."""
    data = o.get("data", {})
    if "image/png" in data:
        return f"image {hashlib.sha256(data['image/png'].encode()).hexdigest()} {o.metadata.get(FIGURE_MARK)}"
    return o.get("text") or data.get("text/markdown") or data.get("text/plain")


def _shown(path: Path) -> list[tuple]:
    """What a reader sees of an executed notebook: each code cell's count and every output, charts included."""
    nb = nbformat.read(path, as_version=4)
    return [
        (cell.execution_count, [_output(o) for o in cell.outputs])
        for cell in nb.cells
        if cell.cell_type == "code" and "injected-parameters" not in cell.metadata.get("tags", [])
    ]


@pytest.fixture(scope="module")
def fresh_and_warm(tmp_path_factory):
    fresh, warm = tmp_path_factory.mktemp("fresh"), tmp_path_factory.mktemp("warm")
    for name in COMPARED:  # each in a kernel of its own
        proc = _cli(
            fresh, str(config.NOTEBOOKS / f"{name}.ipynb"), "--output", str(fresh / "build" / f"{name}.ipynb"), seed="1"
        )
        assert proc.returncode == 0, proc.stderr
    queue = warm / "build" / "queue"
    for name in ("01-evidence-map", *COMPARED):
        proc = _cli(
            warm,
            str(config.NOTEBOOKS / f"{name}.ipynb"),
            "--output",
            str(warm / "build" / f"{name}.ipynb"),
            "--queue",
            str(queue),
        )
        assert proc.returncode == 0, proc.stderr
    proc = _cli(warm, "--run-queue", str(queue), "--jobs", "1", seed="2")
    assert proc.returncode == 0, proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.startswith("run ")]) == 3
    return fresh, warm


@pytest.mark.parametrize("name", COMPARED)
def test_a_used_kernel_publishes_the_same_bytes_as_a_new_one(fresh_and_warm, name):
    fresh, warm = fresh_and_warm
    published = _published(fresh, name[:3])
    assert published, f"{name} published nothing"
    assert _published(warm, name[:3]) == published


@pytest.mark.parametrize("name", COMPARED)
def test_the_manifests_list_the_same_files(fresh_and_warm, name):
    fresh, warm = fresh_and_warm
    manifest = Path("build") / f"{name}.outputs"
    assert (fresh / manifest).read_bytes() == (warm / manifest).read_bytes()
    listed = (fresh / manifest).read_text().split()
    assert any(m.startswith("figures/") for m in listed) and any(m.startswith("tables/") for m in listed)


@pytest.mark.parametrize("name", COMPARED)
def test_a_used_kernel_shows_the_same_outputs_numbered_from_one(fresh_and_warm, name):
    fresh, warm = fresh_and_warm
    shown = _shown(warm / "build" / f"{name}.ipynb")
    assert shown == _shown(fresh / "build" / f"{name}.ipynb")
    assert shown[0][0] == 1  # the parameters cell, as in a new kernel


@pytest.mark.parametrize("name", COMPARED)
def test_a_used_kernel_shows_every_figure_it_writes(fresh_and_warm, name):
    for root in fresh_and_warm:
        listed = (root / "build" / f"{name}.outputs").read_text().split()
        figures = {Path(m).name for m in listed if m.startswith("figures/")}
        shown = [
            line.split()[-1]
            for _, outputs in _shown(root / "build" / f"{name}.ipynb")
            for line in outputs
            if line and line.startswith("image ")
        ]
        assert figures and sorted(shown) == sorted(figures), root.name


def _left(queue: Path) -> list[str]:
    """What the queue still holds (its lock file aside)."""
    return sorted(p.name for p in queue.iterdir() if p.name != ".lock")


def test_the_batch_empties_its_queue(fresh_and_warm):
    _, warm = fresh_and_warm
    assert _left(warm / "build" / "queue") == []


# -- the queue itself (no kernel) ---------------------------------------------------------------


def test_enqueue_records_the_run_and_its_parameters(tmp_path):
    job = run.enqueue(tmp_path / "q", Path("/nb/07.ipynb"), Path("/b/07--x.ipynb"), {"topic": "x", "ci_level": 0.9})
    assert job.name == "07--x.json"
    assert json.loads(job.read_text()) == {
        "notebook": "/nb/07.ipynb",
        "output": "/b/07--x.ipynb",
        "parameters": {"topic": "x", "ci_level": 0.9},
    }
    assert [p.name for p in (tmp_path / "q").iterdir()] == ["07--x.json"]  # no temporary left


def test_queueing_a_run_removes_its_old_executed_notebook(tmp_path):
    old = tmp_path / "build" / "02.ipynb"
    old.parent.mkdir()
    old.write_text("the last run")
    run.enqueue(tmp_path / "q", Path("/nb/02.ipynb"), old, {})
    assert not old.exists()


def test_the_cli_queues_instead_of_running(tmp_path):
    proc = _cli(
        tmp_path,
        str(config.NOTEBOOKS / "07-compare-topic.ipynb"),
        "--output",
        str(tmp_path / "build" / "07-compare-topic--opioids.ipynb"),
        "--queue",
        str(tmp_path / "q"),
        "-p",
        "topic",
        "opioids",
        "-p",
        "ci_level",
        "0.9",
    )
    assert proc.returncode == 0, proc.stderr
    job = json.loads((tmp_path / "q" / "07-compare-topic--opioids.json").read_text())
    assert job["parameters"] == {"topic": "opioids", "ci_level": 0.9}
    assert not (tmp_path / "build").exists()  # nothing ran


def test_a_claimed_run_is_not_claimed_twice(tmp_path):
    for name in ("a", "b"):
        run.enqueue(tmp_path, Path("/nb.ipynb"), Path(f"/{name}.ipynb"), {})
    first, second = run._claim(tmp_path), run._claim(tmp_path)
    assert {first.stem, second.stem} == {"a", "b"}
    assert run._claim(tmp_path) is None


def test_an_empty_or_missing_queue_runs_nothing(tmp_path):
    assert run.run_queue(tmp_path / "missing") == 0
    (tmp_path / "empty").mkdir()
    assert run.run_queue(tmp_path / "empty") == 0


def test_runs_left_claimed_by_a_killed_batch_are_queued_again(tmp_path, monkeypatch):
    job = run.enqueue(tmp_path, Path("/nb.ipynb"), Path("/a.ipynb"), {})
    os.rename(job, tmp_path / "a.running-12345")
    seen = []
    monkeypatch.setattr(run, "work", lambda queue: seen.append(_left(queue)) or 0)
    assert run.run_queue(tmp_path, jobs=1) == 0
    assert seen == [["a.json"]]


def test_a_failing_run_does_not_stop_the_others_and_the_batch_publishes_nothing(tmp_path):
    notebook = write_notebook(tmp_path / "t.ipynb", WRITE_OUTPUTS, MAYBE_FAIL)
    root, queue = tmp_path / "out", tmp_path / "out" / "build" / "queue"
    (root / "figures").mkdir(parents=True)
    (root / "figures" / "t-fig.png").write_bytes(b"published by the last good batch")
    run.enqueue(queue, notebook, root / "build" / "a-fails.ipynb", {"fail": True})
    run.enqueue(queue, notebook, root / "build" / "b-works.ipynb", {"label": "second"})
    proc = _cli(root, "--run-queue", str(queue), "--jobs", "1")
    assert proc.returncode == 1
    assert "boom in cell two" in proc.stderr and "none of this batch is published" in proc.stderr
    assert "b-works.ipynb" in proc.stderr  # it ran
    assert (root / "build" / "a-fails.failed.ipynb").exists() and not (root / "build" / "a-fails.ipynb").exists()
    # The run that worked is not published either: the outputs stay from one state of the data.
    assert not (root / "build" / "b-works.ipynb").exists()
    assert (root / "figures" / "t-fig.png").read_bytes() == b"published by the last good batch"
    assert not list((root / "build" / "stage").glob("*"))
    assert _left(queue) == []


def test_two_workers_share_the_queue(tmp_path):
    notebook = write_notebook(tmp_path / "t.ipynb", WRITE_OUTPUTS, MAYBE_FAIL)
    root, queue = tmp_path / "out", tmp_path / "out" / "build" / "queue"
    for name in ("a", "b", "c"):
        run.enqueue(queue, notebook, root / "build" / f"{name}.ipynb", {"label": name})
    proc = _cli(root, "--run-queue", str(queue), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (root / "build").glob("*.ipynb")) == ["a.ipynb", "b.ipynb", "c.ipynb"]
    assert _left(queue) == []


def test_a_corrupt_queue_file_is_named_and_set_aside(tmp_path):
    notebook = write_notebook(tmp_path / "t.ipynb", WRITE_OUTPUTS, MAYBE_FAIL)
    root, queue = tmp_path / "out", tmp_path / "out" / "build" / "queue"
    run.enqueue(queue, notebook, root / "build" / "b-works.ipynb", {})
    (queue / "a-broken.json").write_text('{"notebook": ')
    proc = _cli(root, "--run-queue", str(queue), "--jobs", "1")
    assert proc.returncode == 1
    assert "a-broken.running-" in proc.stderr and "not a queued run (JSONDecodeError" in proc.stderr
    assert "Traceback" not in proc.stderr
    # The queue went on (the good run ran), but a batch with a failure publishes none of its runs.
    assert "none of this batch is published" in proc.stderr
    assert not (root / "build" / "b-works.ipynb").exists()
    assert _left(queue) == []


def test_a_kernel_that_will_not_start_fails_its_run_and_the_queue_goes_on(tmp_path, monkeypatch, capsys):
    from jupyter_client.kernelspec import NoSuchKernel

    def no_kernel(cwd):
        raise NoSuchKernel("fbss-evidence")

    monkeypatch.setattr(run, "_start_kernel", no_kernel)
    for name in ("a", "b"):
        run.enqueue(tmp_path, Path("/nb/t.ipynb"), tmp_path / f"{name}.ipynb", {})
    assert run.work(tmp_path) == 1
    err = capsys.readouterr().err
    assert err.count("could not be started or reset: NoSuchKernel") == 2
    assert _left(tmp_path) == []


def test_a_second_runner_waits_for_the_first_one(tmp_path):
    import fcntl

    notebook = write_notebook(tmp_path / "t.ipynb", WRITE_OUTPUTS, MAYBE_FAIL)
    root, queue = tmp_path / "out", tmp_path / "out" / "build" / "queue"
    run.enqueue(queue, notebook, root / "build" / "a.ipynb", {})
    with open(queue / ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as a runner still at work would
        waiting = subprocess.Popen(
            [sys.executable, "-m", "fbss_build.run", "--run-queue", str(queue)],
            env=_env(root),
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        assert waiting.poll() is None, "it ran while the queue was locked"
        assert not (root / "build" / "a.ipynb").exists()
    _, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert "another runner is still working on this queue" in err
    assert (root / "build" / "a.ipynb").exists()


def test_stopping_the_runner_stops_its_workers(tmp_path):
    import psutil

    notebook = write_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)", parameters='output_dir = "x"')
    root, queue = tmp_path / "out", tmp_path / "out" / "build" / "queue"
    for name in ("a", "b"):
        run.enqueue(queue, notebook, root / "build" / f"{name}.ipynb", {})
    runner = subprocess.Popen(
        [sys.executable, "-m", "fbss_build.run", "--run-queue", str(queue), "--jobs", "2"],
        env=_env(root),
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while len(list(queue.glob("*.running-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(list(queue.glob("*.running-*"))) == 2, "both workers should have taken a run"
    workers = [p for p in psutil.Process(runner.pid).children() if "--work" in " ".join(p.cmdline())]
    assert len(workers) == 1
    runner.terminate()  # what make does to a recipe it stops
    runner.wait(timeout=60)
    gone, alive = psutil.wait_procs(workers, timeout=60)
    assert alive == []
    assert not (root / "build" / "a.ipynb").exists() and not (root / "build" / "b.ipynb").exists()
