"""The routes an analyst takes, as the README gives them: plain papermill from the project folder, and
make lab (its options, and as root)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fbss_evidence import config

PAPERMILL = Path(sys.executable).parent / "papermill"


def papermill(tmp_path, notebook: str, *params: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PAPERMILL), f"notebooks/{notebook}.ipynb", str(tmp_path / "out.ipynb"), *params],
                          cwd=config.ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "FBSS_OUTPUT_ROOT": str(tmp_path)})


def test_plain_papermill_from_the_project_folder_runs_into_a_folder_named_by_its_parameters(tmp_path):
    proc = papermill(tmp_path, "09-statistics", "-p", "pooling_method", "PM")
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = tmp_path / "build" / "runs" / "09-statistics--pooling_method=PM"
    # The same layout as make run: the figures and tables side by side, nothing in the published folders.
    assert (run / "09-proportions-with-counts.png").is_file() and (run / "09-pooled-estimates.csv").is_file()
    assert not (tmp_path / "figures").exists() and not (tmp_path / "tables").exists()


def test_plain_papermill_refuses_a_misspelled_parameter_naming_it(tmp_path):
    proc = papermill(tmp_path, "02-failure-rates", "-p", "ci_levl", "0.9")
    assert proc.returncode != 0
    assert "ci_levl" in proc.stderr and "ci_level" in proc.stderr
    assert not (tmp_path / "build" / "runs").exists() or not any((tmp_path / "build" / "runs").iterdir())


def test_make_lab_takes_its_options_and_allows_root_only_for_root():
    proc = subprocess.run(["make", "-n", "lab", "LAB=--port=9999 --ip=0.0.0.0 --no-browser"], cwd=config.ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    command = next(line for line in proc.stdout.splitlines() if "jupyter lab" in line)
    assert "--notebook-dir=. --port=9999 --ip=0.0.0.0 --no-browser" in command
    assert ("--allow-root" in command) == (os.geteuid() == 0)
