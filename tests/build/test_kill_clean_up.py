"""Runs clean up after themselves, even when killed.

Each kernel of fbss_build.run has a folder of its own, build/tmp/<pid>-<n>/ (its sockets, its
connection file, and its TMPDIR and JUPYTER_RUNTIME_DIR). A runner stopped by a signal shuts its
kernels down and removes their folders; a runner killed with SIGKILL takes its kernels along (they
die with it) and the next runner removes its folders. The runs here get a private TMPDIR and runtime
folder, so that what they leave can be seen whatever else uses the system's temporary folder.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from test_run import write_notebook

from fbss_build import run
from fbss_evidence import config

# Each run marks that it is under way (a file named after its kernel's pid, holding the kernel's
# temporary folder), then waits for as long as the file `hold` is there (five minutes at most).
WAITS = """\
import os, pathlib, tempfile, time
pathlib.Path(marks, str(os.getpid())).write_text(tempfile.gettempdir())
deadline = time.monotonic() + 300
while os.path.exists(hold) and time.monotonic() < deadline:
    time.sleep(0.1)
"""


def _setting(tmp_path: Path) -> tuple[Path, Path, dict]:
    """A notebook that waits, an output root, and the environment of a run with private temporary folders."""
    notebook = write_notebook(tmp_path / "w.ipynb", WAITS, parameters='output_dir = "x"\nmarks = "."\nhold = ""')
    root = tmp_path / "o"  # short: the kernels' sockets live under it
    for folder in ("tmp", "runtime", "marks"):
        (tmp_path / folder).mkdir()
    (tmp_path / "hold").touch()
    env = {
        **os.environ,
        "FBSS_OUTPUT_ROOT": str(root),
        "TMPDIR": str(tmp_path / "tmp"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "PYTHONIOENCODING": "utf-8",
    }
    return notebook, root, env


def _queue(notebook: Path, root: Path, tmp_path: Path) -> Path:
    queue = root / "build" / "queue"
    for name in ("a", "b"):
        parameters = {"marks": str(tmp_path / "marks"), "hold": str(tmp_path / "hold")}
        run.enqueue(queue, notebook, root / "build" / f"{name}.ipynb", parameters)
    return queue


@pytest.fixture
def started(tmp_path):
    """Whatever a failing test leaves running is stopped: the runners it started and their kernels."""
    runners: list[subprocess.Popen] = []
    yield runners
    (tmp_path / "hold").unlink(missing_ok=True)  # the kernels' notebooks end
    for runner in runners:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.communicate(timeout=60)


def _start(queue: Path, env: dict, marks: Path, runs: int, started: list) -> subprocess.Popen:
    """A runner on `queue`, in a process group of its own, once `runs` kernels are inside their notebook."""
    runner = subprocess.Popen(
        [sys.executable, "-m", "fbss_build.run", "--run-queue", str(queue), "--jobs", str(runs)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    started.append(runner)
    deadline = time.monotonic() + 180
    while len(list(marks.iterdir())) < runs and runner.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(list(marks.iterdir())) == runs, runner.communicate(timeout=60)[1] if runner.poll() is not None else ""
    return runner


def _kernels(marks: Path) -> list[psutil.Process]:
    found = []
    for mark in marks.iterdir():
        try:
            found.append(psutil.Process(int(mark.name)))
        except psutil.NoSuchProcess:
            pass
    return found


def _left(tmp_path: Path, root: Path) -> dict[str, list[str]]:
    """What is left in the private temporary and runtime folders, and in build/tmp."""
    return {
        name: sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.is_dir() else []
        for name, folder in (
            ("TMPDIR", tmp_path / "tmp"),
            ("runtime", tmp_path / "runtime"),
            ("build/tmp", root / "build" / "tmp"),
        )
    }


NOTHING = {"TMPDIR": [], "runtime": [], "build/tmp": []}


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_runner_stopped_by_a_signal_leaves_nothing_and_no_kernel(tmp_path, started, signum):
    notebook, root, env = _setting(tmp_path)
    marks = tmp_path / "marks"
    queue = _queue(notebook, root, tmp_path)
    runner = _start(queue, env, marks, 2, started)  # the runner's own kernel and its worker's
    kernels = _kernels(marks)
    assert len(kernels) == 2
    for mark in marks.iterdir():  # each kernel's temporary folder is its own kernel folder's
        own = Path(mark.read_text()).parent
        assert own.parent in (root / "build" / run.KERNEL_HOME, tmp_path / "tmp") and own.name != "tmp"
    if signum == signal.SIGTERM:
        runner.send_signal(signum)  # as make stops a recipe
    else:
        os.killpg(runner.pid, signum)  # Ctrl-C reaches the whole foreground group
    _, err = runner.communicate(timeout=120)
    assert runner.returncode == -signum, err  # ends by the signal, as if it had not caught it
    assert f"stopped by {signum.name}" in err and "Traceback" not in err
    _, alive = psutil.wait_procs(kernels, timeout=10)
    assert alive == [], "a kernel outlived its runner"
    assert _left(tmp_path, root) == NOTHING
    # Neither run finished: both stay queued for the next runner, and nothing is published or staged.
    assert sorted(p.name.split(".")[0] for p in queue.iterdir() if p.name != ".lock") == ["a", "b"]
    assert not (root / "build" / "a.ipynb").exists() and list((root / "build" / "stage").iterdir()) == []


@pytest.mark.slow
def test_after_a_sigkill_the_kernels_die_and_the_next_run_sweeps_what_was_left(tmp_path, started):
    notebook, root, env = _setting(tmp_path)
    marks = tmp_path / "marks"
    queue = _queue(notebook, root, tmp_path)
    runner = _start(queue, env, marks, 2, started)
    kernels = _kernels(marks)
    os.killpg(runner.pid, signal.SIGKILL)  # the runner and its worker; the kernels have sessions of their own
    runner.communicate(timeout=60)
    _, alive = psutil.wait_procs(kernels, timeout=10)
    assert alive == [], "a kernel outlived its runner"
    assert _left(tmp_path, root) != NOTHING  # no handler ran: the kernels' folders stay, for now
    # The next runner removes the folders of the killed one (its processes are dead), runs the killed
    # runs again, and leaves nothing of its own either.
    (tmp_path / "hold").unlink()
    again = subprocess.run(
        [sys.executable, "-m", "fbss_build.run", "--run-queue", str(queue), "--jobs", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert (root / "build" / "a.ipynb").exists() and (root / "build" / "b.ipynb").exists()
    assert _left(tmp_path, root) == NOTHING


# -- the sweep and the kernel's folder (no kernel) --------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


@pytest.fixture
def build(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(config, "BUILD", tmp_path / "build")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    return tmp_path / "build"


def test_the_sweep_removes_only_the_folders_of_dead_processes_that_nobody_holds(build, tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    home = build / run.KERNEL_HOME
    for name in (f"{dead}-1", f"{dead}-2", f"{alive}-1", f"{os.getpid()}-1", "notes"):
        (home / name).mkdir(parents=True)
    (tmp_path / "tmp" / f"fbss-kernel-{dead}-1").mkdir()  # a folder whose build path was too long for sockets
    (tmp_path / "tmp" / "someone-else").mkdir()
    with open(home / f"{dead}-2" / ".lock", "w") as lock:  # held: a live owner, seen from another pid namespace
        fcntl.flock(lock, fcntl.LOCK_EX)
        swept = run.sweep()
    assert sorted(p.name for p in swept) == sorted([f"fbss-kernel-{dead}-1", f"{dead}-1"])
    assert sorted(p.name for p in home.iterdir()) == sorted([f"{dead}-2", f"{alive}-1", f"{os.getpid()}-1", "notes"])
    assert [p.name for p in (tmp_path / "tmp").iterdir()] == ["someone-else"]


def test_a_kernel_folder_is_in_build_tmp_or_where_a_socket_path_fits(build, tmp_path, monkeypatch):
    folder, lock = run._kernel_folder()
    lock.close()
    assert folder.parent == build / run.KERNEL_HOME and folder.name.startswith(f"{os.getpid()}-")
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "tmp"]
    deep = build / ("d" * 80)
    monkeypatch.setattr(config, "BUILD", deep)
    folder, lock = run._kernel_folder()
    lock.close()
    assert folder.parent == tmp_path / "tmp" and folder.name.startswith(f"fbss-kernel-{os.getpid()}-")
    assert not deep.exists()


def test_the_kernel_gets_its_folder_as_temporary_and_runtime_folder_and_an_absolute_pythonpath(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(["src", "/elsewhere/lib"]))
    env = run._kernel_env(tmp_path / "k")
    assert env["TMPDIR"] == env["JUPYTER_RUNTIME_DIR"] == str(tmp_path / "k" / "tmp")
    # The kernel starts in the notebook's folder: a relative entry would name another folder there.
    assert env["PYTHONPATH"].split(os.pathsep) == [str(tmp_path / "src"), "/elsewhere/lib"]
