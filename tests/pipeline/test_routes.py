"""The routes an analyst takes, as the README gives them: make run, plain papermill from the project folder,
and make lab (its options, and as root)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from fbss_evidence import config

PAPERMILL = Path(sys.executable).parent / "papermill"


def papermill(tmp_path, notebook: str, *params: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PAPERMILL), f"notebooks/{notebook}.ipynb", str(tmp_path / "out.ipynb"), *params],
        cwd=config.ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "FBSS_OUTPUT_ROOT": str(tmp_path)},
    )


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
    proc = subprocess.run(
        ["make", "-n", "lab", "LAB=--port=9999 --ip=0.0.0.0 --no-browser"],
        cwd=config.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    command = next(line for line in proc.stdout.splitlines() if "jupyter lab" in line)
    assert "--notebook-dir=. --port=9999 --ip=0.0.0.0 --no-browser" in command
    assert ("--allow-root" in command) == (os.geteuid() == 0)


def make_run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    """`make run ...` in the project, its runs redirected to tmp_path (FBSS_OUTPUT_ROOT)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k != "MFLAGS"}
    return subprocess.run(
        ["make", "--no-print-directory", "run", *args],
        cwd=config.ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**env, "FBSS_OUTPUT_ROOT": str(tmp_path)},
    )


def test_make_run_takes_a_tab_completed_path_and_names_the_run_as_papermill_does(tmp_path):
    proc = make_run(tmp_path, "NB=notebooks/09-statistics.ipynb", "P=pooling_method=PM")
    assert proc.returncode == 0, proc.stderr[-2000:]
    # the folder plain papermill gives the same run (test above): make's absolute data folder is the default
    run = tmp_path / "build" / "runs" / "09-statistics--pooling_method=PM"
    assert sorted(p.name for p in run.iterdir() if p.suffix in (".ipynb", ".png")) == [
        "09-proportions-with-counts.png",
        "09-statistics.ipynb",
    ]


def _edit(path: Path, key: str, match: str, column: str, value: str) -> None:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    for row in rows:
        if row[key] == match:
            row[column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def test_make_run_takes_every_parameter_the_readme_documents(tmp_path):
    trial = tmp_path / "trial"
    shutil.copytree(config.DATA, trial, ignore=shutil.ignore_patterns("extraction"))
    _edit(trial / "sources.csv", "source_id", "darrow-muscle-damage", "label", "Trial Darrow")
    claims = tmp_path / "claims.csv"
    shutil.copy(config.CLAIMS_CSV, claims)
    _edit(claims, "claim_id", "darrow-muscle-damage-02", "outcome", "an outcome from another claims file")
    out = tmp_path / "out"
    proc = make_run(
        tmp_path / "root",
        "NB=02-failure-rates",
        f"P=data_dir={trial} claims_path={claims} fig_format=svg output_dir={out} ci_level=0.9",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == [
        "02-failure-rates.csv",
        "02-failure-rates.ipynb",
        "02-failure-rates.md",
        "02-failure-rates.svg",
    ]
    table = pd.read_csv(out / "02-failure-rates.csv")
    assert "Trial Darrow" in set(table["source"])  # data_dir
    assert "an outcome from another claims file" in set(table["outcome"])  # claims_path over data_dir's claims
    assert not (tmp_path / "root" / "build" / "runs").exists()  # output_dir: not a folder under build/runs


def test_make_new_source_passes_the_label_author_address_and_reference_lines():
    proc = subprocess.run(
        [
            "make",
            "-n",
            "new-source",
            "FILE=page.txt",
            "ID=clinic-topic",
            "TITLE=It's a title",
            "PUBLISHER=Clinic",
            "LABEL=Clinic, topic",
            "AUTHOR=A. O'Neil",
            "URL=https://example.org/a?b=1&c=2",
            "REFS=40-52",
        ],
        cwd=config.ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    command = " ".join(proc.stdout.replace("\\\n", " ").split())
    assert (
        "fbss-new-source 'page.txt' --id 'clinic-topic' --title 'It'\\''s a title' --publisher 'Clinic' "
        "--label 'Clinic, topic' --author 'A. O'\\''Neil' --url 'https://example.org/a?b=1&c=2' "
        "--references '40-52' --data data"
    ) in command
