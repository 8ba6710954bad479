"""A killed run leaves nothing that looks finished, and no run writes to data/."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fbss_evidence import config

NOTEBOOK = config.NOTEBOOKS / "01-evidence-map.ipynb"


def _run_in(root: Path) -> subprocess.Popen:
    env = {**os.environ, "FBSS_OUTPUT_ROOT": str(root)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fbss_build.run",
            str(NOTEBOOK),
            "--output",
            str(root / "build" / "01-evidence-map.ipynb"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _data_fingerprint() -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(config.DATA)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(config.DATA.rglob("*"))
        if p.is_file()
    }


def test_sigkill_mid_run_leaves_no_target_and_no_partial_output(tmp_path):
    proc = _run_in(tmp_path)
    # Kill while the notebook's cells run: once its first figure or table is staged,
    # before the rest are written and anything is published.
    deadline = time.monotonic() + 120
    stage = tmp_path / "build" / "stage" / "01-evidence-map"
    while not (stage.exists() and any(stage.iterdir())) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stage.exists() and any(stage.iterdir()), "the notebook never wrote an output"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    # The target make compares against was never written, so a later make reruns the notebook.
    assert not (tmp_path / "build" / "01-evidence-map.ipynb").exists()
    # Nothing was published: published outputs appear only after the whole notebook succeeded.
    for folder in ("figures", "tables"):
        assert not any((tmp_path / folder).glob("*")), f"{folder}/ has output from a killed run"

    # The next run starts clean and completes.
    rerun = _run_in(tmp_path)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    assert (tmp_path / "build" / "01-evidence-map.ipynb").exists()
    assert (tmp_path / "figures" / "01-evidence-map-topics.png").read_bytes()[-8:-4] == b"IEND"


def test_a_run_never_writes_to_data(tmp_path):
    before = _data_fingerprint()
    proc = _run_in(tmp_path)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert _data_fingerprint() == before
