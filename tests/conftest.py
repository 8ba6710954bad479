"""Shared fixtures for the bad-input tests: a scratch claims file next to the real data."""

from __future__ import annotations

import csv
import inspect
import io
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
# The installed command of the environment running the tests (normally .venv/bin).
FBSS_VALIDATE = Path(sys.executable).parent / "fbss-validate"
if not FBSS_VALIDATE.exists():
    FBSS_VALIDATE = REPO / ".venv" / "bin" / "fbss-validate"


@dataclass
class Run:
    """What one run of fbss-validate did."""

    status: int
    out: str
    err: str

    @property
    def problems(self) -> list[str]:
        """The located messages, without the closing 'N problem(s) found.' line."""
        return [line for line in self.err.splitlines() if "problem(s) found." not in line]


class ClaimsWorkspace:
    """A tmp directory (also the working directory) holding a claims file to break.

    The real sources, references and citation audit are used in place (passed
    with --sources/--references/--audit); `copy_sources()` copies the sources
    table and texts when a test needs to change them. Because the working
    directory is the tmp directory, the claims file is reported as `claims.csv`.
    """

    def __init__(self, tmp_path: Path, capsys):
        self.dir = tmp_path
        self.capsys = capsys
        self.path = tmp_path / "claims.csv"
        self.sources = DATA / "sources.csv"
        self.references = DATA / "references.csv"
        text = (DATA / "claims.csv").read_text(encoding="utf-8")
        reader = csv.reader(io.StringIO(text, newline=""))
        self.header: list[str] = next(reader)
        self.records: list[list[str]] = list(reader)

    # -- the real data, as dicts keyed by column ------------------------------
    def rows(self) -> list[dict[str, str]]:
        """Fresh copies of the real claim rows."""
        return [dict(zip(self.header, rec)) for rec in self.records]

    def index(self, claim_id: str) -> int:
        return next(i for i, rec in enumerate(self.records) if rec[0] == claim_id)

    # -- writing ----------------------------------------------------------------
    def to_text(self, rows, header=None, lineterminator="\n") -> str:
        header = list(header or self.header)
        buf = io.StringIO(newline="")
        writer = csv.writer(buf, lineterminator=lineterminator)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(col, "") for col in header] if isinstance(row, dict) else row)
        return buf.getvalue()

    def write(self, rows, header=None) -> Path:
        self.path.write_text(self.to_text(rows, header), encoding="utf-8", newline="")
        return self.path

    def write_bytes(self, data: bytes) -> Path:
        self.path.write_bytes(data)
        return self.path

    def mutate(self, which: str, /, **changes: str) -> int:
        """Write the real claims with row `which` (a claim_id) changed; return its CSV line."""
        rows = self.rows()
        i = self.index(which)
        rows[i].update(changes)
        self.write(rows)
        return i + 2

    def copy_sources(self) -> Path:
        """Copy sources.csv and the source texts into the workspace and use the copies."""
        target = self.dir / "src"
        shutil.copytree(DATA / "sources", target / "sources")
        shutil.copy(DATA / "sources.csv", target / "sources.csv")
        self.sources = target / "sources.csv"
        return target

    # -- running ----------------------------------------------------------------
    # The tables these tests do not break are left out (half a second of reading each run): the
    # literature layer, the statement audit and the number ledger, whose links name claims too.
    LEFT_OUT = (
        "--links",
        "--statements",
        "--questions",
        "--results",
        "--search-log",
        "--screening",
        "--number-exclusions",
    )

    def args(self, audit: bool) -> list[str]:
        return [
            str(self.path.name),
            "--sources",
            str(self.sources),
            "--references",
            str(self.references),
            "--audit",
            str(DATA / "citation_audit.csv") if audit else "none",
            *(arg for option in self.LEFT_OUT for arg in (option, "none")),
        ]

    def run(self, audit: bool = False) -> Run:
        """Run fbss_evidence.validate.main in-process."""
        from fbss_evidence.cli import validate_main as main

        self.capsys.readouterr()
        status = main(self.args(audit))
        captured = self.capsys.readouterr()
        run = Run(status, captured.out, captured.err)
        assert "Traceback" not in run.err + run.out
        return run

    def run_cli(self, audit: bool = False) -> Run:
        """Run the installed fbss-validate command in a subprocess."""
        proc = subprocess.run(
            [str(FBSS_VALIDATE), *self.args(audit)],
            cwd=self.dir,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )
        run = Run(proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in run.err + run.out
        return run


WHOLE_DATA_FIXTURES = {"data", "claims", "real", "real_rederived", "real_verdicts"}


def pytest_collection_modifyitems(items):
    """A test that starts processes is slow: everything under tests/pipeline/ (notebooks, make, a server)
    and a test that runs the installed fbss-validate. The pipeline and build modules share expensive
    module fixtures (runs, a lab server), so under pytest-xdist (--dist loadgroup) each of those modules
    stays on one worker, as do the tests of a module that share a module-scoped fixture; other unit tests
    spread one by one. A test that validates or analyses the whole of
    data/ or a copy (the fixtures in WHOLE_DATA_FIXTURES: the located-error corpora, the real data
    enriched and judged) is marked whole_data: make test runs it, the inner loop (make test-fast) leaves
    it out."""
    for item in items:
        if WHOLE_DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.whole_data)
        parts = Path(str(item.path)).parts
        # Slow = starts processes: everything in pipeline/, and a test that runs the installed fbss-validate.
        function = getattr(item, "function", None)
        if "pipeline" in parts or (function is not None and "run_cli(" in inspect.getsource(function)):
            item.add_marker(pytest.mark.slow)
        # A module-scoped fixture (the real data, enriched and judged) is built once per worker that needs it.
        info = getattr(item, "_fixtureinfo", None)
        shares_module = info is not None and any(d[-1].scope == "module" for d in info.name2fixturedefs.values() if d)
        if "pipeline" in parts or "build" in parts or shares_module:
            item.add_marker(pytest.mark.xdist_group(Path(str(item.path)).stem))


# -- the tests leave nothing behind in the project ------------------------------------------


def _project_state(root: Path = REPO) -> tuple[set[str], set[str]] | None:
    """What git sees changed or new in the project (build/ aside: git ignores it), and the empty folders
    of build/runs/; None when the project is not a git checkout."""
    try:
        proc = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode:
        return None
    runs = root / "build" / "runs"
    empty = (
        {str(p.relative_to(root)) for p in runs.iterdir() if p.is_dir() and not any(p.iterdir())}
        if runs.is_dir()
        else set()
    )
    return set(proc.stdout.splitlines()), empty


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller, or a run without xdist
        session.config.stash[_STATE] = _project_state()


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when the tests left something in the project: a file outside build/ that git sees,
    or an empty folder in build/runs/ (each test writes to tmp_path or FBSS_OUTPUT_ROOT)."""
    before = session.config.stash.get(_STATE, None)
    if before is None:
        return
    after = _project_state()
    if after is None:
        return
    left = sorted(after[0] - before[0]) + [f"empty folder {p}" for p in sorted(after[1] - before[1])]
    if left:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = "the tests left these in the project:\n  " + "\n  ".join(left)
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:
            print(message, file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_STATE = pytest.StashKey[tuple | None]()


@pytest.fixture(autouse=True)
def _close_figures():
    """No figure outlives its test (charts are tested through their artists)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def data(tmp_path, monkeypatch) -> Path:
    """A copy of data/ to break (the readers' extraction files left out), in a working folder of its own
    so that files are reported as data/<file>."""
    shutil.copytree(DATA, tmp_path / "data", ignore=shutil.ignore_patterns("extraction"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data"


@pytest.fixture
def claims(tmp_path, monkeypatch, capsys) -> ClaimsWorkspace:
    monkeypatch.chdir(tmp_path)
    return ClaimsWorkspace(tmp_path, capsys)
