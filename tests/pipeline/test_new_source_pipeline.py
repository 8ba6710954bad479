"""A new page, end to end, as docs/adding-a-source.md tells it (tests/new_source_guide.py follows the guide on
the fixture page in a copy of the data): its claims made from the candidate files, one linked to a question,
and notebooks 10 (for that question) and 11 run on that data show the new claim."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import new_source_guide as guide
import pandas as pd

from fbss_evidence import config


def make_run(tmp_path, notebook: str, parameters: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "fbss_build.run", "--adhoc", notebook, "--set", parameters],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=config.ROOT,
        env={**os.environ, "FBSS_OUTPUT_ROOT": str(tmp_path / "out")},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_a_new_page_reaches_notebook_10_for_its_question_and_notebook_11(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(config.DATA, data, ignore=shutil.ignore_patterns("extraction"))
    guide.follow_the_guide(data, tmp_path / "candidates")
    ten, eleven = tmp_path / "ten", tmp_path / "eleven"
    make_run(tmp_path, "10-claims-vs-literature", f"question={guide.QUESTION} data_dir={data} output_dir={ten}")
    make_run(tmp_path, "11-summary-of-findings", f"data_dir={data} output_dir={eleven}")
    placed = pd.read_csv(ten / f"10-{guide.QUESTION}-claims.csv").set_index("claim_id")
    assert placed.loc[guide.LINKED, ["value_text", "source"]].tolist() == ["20-40%", "Harbour Spine"]
    headline = pd.read_csv(eleven / "11-headline-claims.csv").set_index("claim_id")
    assert headline.loc[guide.LINKED, ["value_text", "source"]].tolist() == ["20-40%", "Harbour Spine"]
    # The executed notebooks say so too.
    assert guide.LINKED in (ten / "10-claims-vs-literature.ipynb").read_text(encoding="utf-8")
    assert not (tmp_path / "out" / "build" / "runs").exists()
