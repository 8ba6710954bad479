"""Two runs of the same notebooks give byte-identical figures and tables.

01-evidence-map and 09-statistics are each run twice, into two different
FBSS_OUTPUT_ROOT folders and with different PYTHONHASHSEEDs (so that any
output depending on set or dict ordering of strings would show up), and every
published file is compared by sha256.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fbss_evidence import config

NOTEBOOKS = ("01-evidence-map", "09-statistics")


def _run(notebook: str, root: Path, seed: str) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "fbss_build.run", str(config.NOTEBOOKS / f"{notebook}.ipynb"),
            "--output", str(root / "build" / f"{notebook}.ipynb")]
    env = {**os.environ, "FBSS_OUTPUT_ROOT": str(root), "PYTHONHASHSEED": seed}
    return subprocess.run(args, capture_output=True, text=True, encoding="utf-8", timeout=600, env=env)


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in ("figures", "tables") for p in sorted((root / folder).iterdir())}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    jobs = [(nb, root, seed) for root, seed in ((first, "1"), (second, "2")) for nb in NOTEBOOKS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        procs = list(pool.map(lambda job: _run(*job), jobs))
    for (nb, root, _), proc in zip(jobs, procs):
        assert proc.returncode == 0, f"{nb} into {root}:\n{proc.stderr}"
    return first, second


def test_both_runs_publish_the_same_files(two_runs):
    first, second = two_runs
    names = set(_digests(first))
    assert names == set(_digests(second))
    prefixes = {Path(n).name.split("-")[0] for n in names}
    assert prefixes == {"01", "09"}
    assert {n for n in names if n.startswith("figures/")} >= {
        "figures/01-evidence-map-topics.png", "figures/01-evidence-map-basis.png",
        "figures/09-proportions-with-counts.png"}
    assert {n for n in names if n.startswith("tables/")} >= {
        "tables/01-recurring-findings.csv", "tables/09-rederived-arithmetic.csv"}


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_figures_and_tables_are_byte_identical(two_runs, notebook):
    first, second = two_runs
    a = {k: v for k, v in _digests(first).items() if Path(k).name.startswith(notebook[:3])}
    b = {k: v for k, v in _digests(second).items() if Path(k).name.startswith(notebook[:3])}
    assert a, f"{notebook} published nothing"
    differing = sorted(k for k in a if a[k] != b.get(k))
    assert differing == [], f"differ between two runs: {differing}"


def test_manifests_are_identical(two_runs):
    first, second = two_runs
    for notebook in NOTEBOOKS:
        manifest = Path("build") / f"{notebook}.outputs"
        assert (first / manifest).read_bytes() == (second / manifest).read_bytes()
