"""Runs clean up after themselves.

Each kernel of fbss_build.run has a folder of its own, build/tmp/<pid>-<n>/ (its sockets, its
connection file, and its TMPDIR and JUPYTER_RUNTIME_DIR), removed when the kernel stops; the next
runner removes the folders of runner processes that are gone.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from fbss_build import run
from fbss_evidence import config

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
