"""`make bench`: how long the build takes, measured against what it must at least cost.

    python -m fbss_evidence.bench [--sizes 1e3,1e4,1e5,1e6] [--skip test,scaling] [--keep]

Measured in one run, on this machine, in a scratch copy of the project (the
real build/, figures/ and tables/ are never touched; .venv is shared through a
symlink and must be up to date):

floor
    One Python process that imports the stack once and executes, in-process,
    every notebook run that `make` performs (the NOTEBOOKS of the Makefile, and
    07-compare-topic once per TOPICS entry), with the parameters the runner
    passes, writing the same figures and tables. The cheapest way to produce
    make's outputs with this code; the other timings are given as multiples of it.
full
    `make` from clean (no build/, figures/, tables/; environment present).
noop
    `make` again, nothing to do (median of three).
incremental_claim (= incremental)
    `make` after changing one claim's value in data/claims.csv (a value within
    the rounding tolerance of its value_text, so the data stay valid).
incremental_notebook
    `make` after touching one notebook.
test
    `make test`.
scaling
    fbss-validate, and 07-compare-topic through `python -m fbss_evidence.run`,
    on synthetic claims files of growing size (real rows copied with unique
    claim_ids and values varied within validity; a citation audit row for every
    cited claim), with wall time and peak memory (max RSS of the process tree),
    and the growth exponent (slope of log time against log n from 1e4 up).
startup
    `python -X importtime -c "import papermill"`: total import time, and
    whether rfc3987_syntax (1.3 s to import) is installed or imported.

The result is printed as a table and written to build/bench.json.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

# Keep this module's imports light: the floor is measured in a child process
# running this module, and must pay for importing the analysis stack itself.

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)
# Goals of the issue.
GOAL_FULL_OVER_FLOOR = 2.0
GOAL_NOOP_S = 0.5
GOAL_SCALING_S = 60.0
GOAL_SCALING_BYTES = 4 * 1024**3
GOAL_EXPONENT = 1.0
EXPONENT_SLACK = 0.15  # timing noise on a shared machine; "no faster than linear" = slope <= 1.15
NOTEBOOK_TOUCHED = "02-failure-rates"  # one notebook run depends on it
GENERIC = "07-compare-topic"
SCALING_TIMEOUT_S = 1800


# -- what make runs ----------------------------------------------------------

def make_variable(makefile_text: str, name: str) -> list[str]:
    """The words of a `NAME := ...` assignment (with backslash continuations) in a Makefile."""
    text = re.sub(r"\\\n", " ", makefile_text)
    match = re.search(rf"^{re.escape(name)}\s*:?=(.*)$", text, re.MULTILINE)
    if match is None:
        raise ValueError(f"the Makefile assigns no {name}")
    return match.group(1).split("#", 1)[0].split()


@dataclass(frozen=True)
class NotebookRun:
    """One notebook execution of `make`: build/<name>.ipynb from notebooks/<notebook>.ipynb."""

    name: str
    notebook: str
    parameters: dict = field(default_factory=dict, hash=False)


def makefile_runs(makefile: Path) -> list[NotebookRun]:
    """Every notebook run `make` performs, in the Makefile's order."""
    text = Path(makefile).read_text()
    runs = [NotebookRun(nb, nb) for nb in make_variable(text, "NOTEBOOKS")]
    runs += [NotebookRun(f"{GENERIC}--{topic}", GENERIC, {"topic": topic})
             for topic in make_variable(text, "TOPICS")]
    return runs


# -- the floor: every run in one process --------------------------------------

_MAGIC = re.compile(r"^\s*[%!]")


def code_cells(notebook: dict) -> list[tuple[str, bool]]:
    """(source, is the parameters cell) of each code cell, IPython-only lines (%magic, !shell) removed."""
    cells = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        source = "\n".join("pass" if _MAGIC.match(line) else line for line in source.splitlines())
        cells.append((source, "parameters" in cell.get("metadata", {}).get("tags", [])))
    return cells


def _install_display_shim() -> None:
    """A minimal IPython.display: notebooks build Markdown objects that nobody renders here."""
    import types

    if "IPython.display" in sys.modules:
        return

    class _Shown:
        def __init__(self, *args, **kwargs):
            self.data = args[0] if args else None

    shim = types.ModuleType("IPython.display")
    shim.Markdown = shim.HTML = shim.Image = shim.Latex = shim.JSON = _Shown
    shim.display = lambda *args, **kwargs: None
    package = sys.modules.get("IPython") or types.ModuleType("IPython")
    package.display = shim
    package.__path__ = getattr(package, "__path__", [])
    sys.modules.setdefault("IPython", package)
    sys.modules["IPython.display"] = shim


def execute_in_process(notebook_path: Path, parameters: dict) -> None:
    """Run a notebook's code cells in a fresh namespace, parameters injected after the parameters cell."""
    import matplotlib.pyplot as plt

    notebook = json.loads(Path(notebook_path).read_text(encoding="utf-8"))
    namespace: dict = {"__name__": "__main__"}
    cwd = os.getcwd()
    os.chdir(Path(notebook_path).parent)  # papermill runs the kernel in the notebook's folder
    try:
        for index, (source, is_parameters) in enumerate(code_cells(notebook)):
            exec(compile(source, f"{Path(notebook_path).name}:code-cell-{index}", "exec"), namespace)
            if is_parameters:
                namespace.update(parameters)
    finally:
        os.chdir(cwd)
        plt.close("all")


def floor(repo: Path, output_dir: Path) -> dict[str, float]:
    """Execute every run of `make` in this process; return seconds per run."""
    import warnings

    os.environ["MPLBACKEND"] = "Agg"
    import matplotlib

    matplotlib.use("Agg")
    warnings.filterwarnings("ignore", message=".*non-interactive.*")  # plt.show() under Agg
    _install_display_shim()
    output_dir.mkdir(parents=True, exist_ok=True)
    seconds = {}
    for run in makefile_runs(repo / "Makefile"):
        start = time.perf_counter()
        execute_in_process(repo / "notebooks" / f"{run.notebook}.ipynb",
                           {**run.parameters, "output_dir": str(output_dir)})
        seconds[run.name] = time.perf_counter() - start
    return seconds


# -- synthetic claims -----------------------------------------------------------

# The rounding tolerance of numbers.states_value is 0.051: a value moved by at most
# this much is still stated by its value_text.
VALUE_JITTER = 0.05
_JITTER_STEPS = 10_001


def _jittered(value: str, unit: str, i: int) -> str:
    v = float(value)
    delta = ((i * 7919) % _JITTER_STEPS - _JITTER_STEPS // 2) / (_JITTER_STEPS // 2) * VALUE_JITTER
    new = v + delta
    if unit == "percent" and not 0 <= new <= 100:
        new = v - delta
    return f"{new:.6f}".rstrip("0").rstrip(".")


def synthetic_dataset(n: int, out_dir: Path, data_dir: Path = ROOT / "data") -> dict[str, Path]:
    """A valid claims file of n rows (the real claims first, then copies) and a matching audit.

    Copies keep their template's source, quote, value_text, topic, basis and
    reference, get a unique claim_id ("syn-<n>") and, where the template has a
    single value, a value moved by less than the rounding tolerance of its
    value_text. Every cited copy gets a citation-audit row copied from its
    template's. Sources and references are the real files.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "claims.csv", encoding="utf-8", newline="") as f:
        header, *real = list(csv.reader(f))
    with open(data_dir / "citation_audit.csv", encoding="utf-8", newline="") as f:
        audit_header, *audit_rows = list(csv.reader(f))
    col = {name: i for i, name in enumerate(header)}
    audit_of = {row[audit_header.index("claim_id")]: row for row in audit_rows}
    audit_claim = audit_header.index("claim_id")
    width = len(str(max(n, 1)))
    claims_path, audit_path = out_dir / "claims.csv", out_dir / "citation_audit.csv"
    with open(claims_path, "w", encoding="utf-8", newline="") as fc, \
            open(audit_path, "w", encoding="utf-8", newline="") as fa:
        claims_out, audit_out = csv.writer(fc, lineterminator="\n"), csv.writer(fa, lineterminator="\n")
        claims_out.writerow(header)
        audit_out.writerow(audit_header)
        kept = {row[col["claim_id"]] for row in real[:n]}
        for i in range(n):
            template = real[i % len(real)]
            row = list(template)
            if row[col["base_claim_id"]] and row[col["base_claim_id"]] not in kept:
                row[col["base_claim_id"]] = ""  # its base is not among the first n rows
            if i >= len(real):
                row[col["claim_id"]] = f"syn-{i:0{width}d}"
                if row[col["value"]].strip() and not row[col["value_low"]].strip() \
                        and not row[col["value_high"]].strip():
                    row[col["value"]] = _jittered(row[col["value"]], row[col["unit"]], i)
            claims_out.writerow(row)
            audited = audit_of.get(template[col["claim_id"]])
            if audited is not None:
                audit_row = list(audited)
                audit_row[audit_claim] = row[col["claim_id"]]
                audit_out.writerow(audit_row)
    return {
        "claims": claims_path,
        "audit": audit_path,
        "sources": data_dir / "sources.csv",
        "references": data_dir / "references.csv",
    }


def growth_exponent(sizes, seconds, from_n: float = 1e4) -> float | None:
    """Least-squares slope of log(time) against log(n) over the sizes >= from_n (None if < 2 points)."""
    points = [(math.log(n), math.log(t)) for n, t in zip(sizes, seconds)
              if n >= from_n and t is not None and t > 0]
    if len(points) < 2:
        return None
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in points) / sxx
