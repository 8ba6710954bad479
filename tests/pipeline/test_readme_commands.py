"""The README's example commands, run as a reader runs them in a copy of the project, leave nothing behind:
nothing new that git sees outside build/ (which it ignores), and no empty folder in build/runs/."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from fbss_build import bench
from fbss_evidence import config

README = (config.ROOT / "README.md").read_text(encoding="utf-8")
GIT = shutil.which("git")


def readme_commands() -> list[str]:
    """The commands the README gives for rerunning a notebook (make run, plain papermill), and make validate."""
    commands = re.findall(r"^make run .*$", README, re.MULTILINE)
    papermill = re.search(r"`(\.venv/bin/papermill [^`]*)`", README)
    assert len(commands) == 2 and papermill, "the README's examples changed: update this test"
    return [*commands, " ".join(papermill.group(1).split()), "make validate"]


def git(folder, *args) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.skipif(GIT is None, reason="git is not installed")
def test_the_readme_s_examples_leave_nothing_behind_in_the_project(tmp_path):
    scratch = bench.Scratch(config.ROOT, parent=tmp_path)
    shutil.rmtree(scratch.work)
    git(scratch.dir, "init", "-q")
    git(scratch.dir, "add", "-A")
    git(scratch.dir, "commit", "-qm", "the project as committed")
    for command in readme_commands():
        env = {k: v for k, v in scratch.env.items() if k != "FBSS_OUTPUT_ROOT"}  # as a reader runs it
        proc = subprocess.run(
            command, shell=True, cwd=scratch.dir, env=env, capture_output=True, text=True, timeout=900
        )
        assert proc.returncode == 0, f"{command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert git(scratch.dir, "status", "--porcelain", "--untracked-files=all") == ""
    runs = scratch.dir / "build" / "runs"
    assert sorted(p.name for p in runs.iterdir()) == [
        "07-compare-topic--ci_method=clopper-pearson--topic=opioids",
        "09-statistics--pooling_method=PM",
        "10-claims-vs-literature--hartung_knapp=True--pooling_method=DL--question=prp-lbp-success",
    ]
    assert all(any(folder.iterdir()) for folder in runs.iterdir())
    assert (scratch.dir / "build" / "out.ipynb").is_file()
