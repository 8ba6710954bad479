"""`make bench`: how long the build takes, measured against what it must at least cost.

    python -m fbss_build.bench [--sizes 1e3,1e4,1e5,1e6] [--skip test,scaling] [--keep]

Measured in one run, on this machine, in a scratch copy of the project (the
real build/, figures/ and tables/ are never touched; .venv is shared through a
symlink and must be up to date):

floor
    One Python process that imports the stack once and executes, in-process,
    every notebook run that `make` performs (the NOTEBOOKS of the Makefile, and
    07 and 10 once per topic and question of the data), with the parameters the runner
    passes, writing the same figures and tables. Like make, it validates the data
    once (the first notebook stores the checked tables, the others read them).
    The cheapest way to produce make's outputs with this code; the other timings
    are given as multiples of it.
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
    On synthetic data folders whose claims file grows (real rows copied with
    unique claim_ids and values varied within validity; a citation audit row for
    every cited claim; every other table real): a plain `pandas.read_csv` of the
    claims and audit files (the baseline of the validation goal, same run),
    fbss-validate of the folder, and 07-compare-topic through
    `python -m fbss_build.run`, with wall time and peak memory (max RSS of the
    process tree), and the growth exponent (slope of log time against log n
    from 1e4 up).
startup
    `python -X importtime -c "import papermill"`: total import time, and
    whether rfc3987_syntax (1.3 s to import) is installed or imported.

The result is printed as a table and written to build/bench.json.
"""
from __future__ import annotations

import argparse
import contextlib
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
GOAL_FULL_OVER_LIMIT = 1.5  # make from clean, and after one claim edit, against the limit
GOAL_NOOP_S = 0.5
GOAL_SCALING_S = 60.0
GOAL_SCALING_BYTES = 4 * 1024**3
GOAL_EXPONENT = 1.0
GOAL_TEST_OVER_LIMIT = 10.0  # make test, everything included
EXPONENT_SLACK = 0.15  # timing noise on a shared machine; "no faster than linear" = slope <= 1.15
NOTEBOOK_TOUCHED = "02-failure-rates"  # one notebook run depends on it
GENERIC = "07-compare-topic"
LITERATURE = "10-claims-vs-literature"
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
    """Every notebook run `make` performs, in the Makefile's order: its NOTEBOOKS, then the topics and
    questions it reads from the data beside it (fbss_evidence.runs, as the Makefile does)."""
    from fbss_evidence import runs as lists

    makefile = Path(makefile)
    data = makefile.parent / "data"
    runs = [NotebookRun(nb, nb) for nb in make_variable(makefile.read_text(), "NOTEBOOKS")]
    runs += [NotebookRun(f"{GENERIC}--{topic}", GENERIC, {"topic": topic})
             for topic in lists.topics(data / "claims.csv")]
    runs += [NotebookRun(f"{LITERATURE}--{question}", LITERATURE, {"question": question})
             for question in lists.questions(data)]
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
    # IPython.display is the real one (0.1 s to import): Markdown objects are built, never rendered.
    output_dir.mkdir(parents=True, exist_ok=True)
    seconds = {}
    for run in makefile_runs(repo / "Makefile"):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # what a kernel would send to the notebook
            execute_in_process(repo / "notebooks" / f"{run.notebook}.ipynb",
                               {**run.parameters, "output_dir": str(output_dir)})
        seconds[run.name] = time.perf_counter() - start
    return seconds


# -- synthetic claims -----------------------------------------------------------

# The rounding tolerance of numbers.states_value is 0.051: a value moved by at most
# this much is still stated by its value_text.
VALUE_JITTER = 0.05
_JITTER_STEPS = 10_001


def _jittered(value: str, value_text: str, unit: str, i: int) -> str:
    """A value within VALUE_JITTER of the number value_text states nearest to `value`."""
    from fbss_evidence.numbers import numbers_in

    v = float(value)
    stated = min(numbers_in(value_text), key=lambda n: abs(n - v), default=v)
    delta = ((i * 7919) % _JITTER_STEPS - _JITTER_STEPS // 2) / (_JITTER_STEPS // 2) * VALUE_JITTER
    new = stated + delta
    if unit == "percent" and not 0 <= new <= 100:
        new = stated - delta
    return f"{new:.6f}".rstrip("0").rstrip(".")


def synthetic_dataset(n: int, out_dir: Path, data_dir: Path = ROOT / "data") -> dict[str, Path]:
    """A valid data folder (out_dir/data) whose claims file has n rows (the real claims first, then
    copies) and whose citation audit matches; every other table and the pages are the real ones.

    Copies keep their template's source, quote, value_text, topic, basis and
    reference, get a unique claim_id ("syn-<n>") and, where the template has a
    single value, a value moved by less than the rounding tolerance of its
    value_text. Every cited copy gets a citation-audit row copied from its
    template's.
    """
    folder = out_dir / "data"
    shutil.copytree(data_dir, folder, ignore=shutil.ignore_patterns("extraction", "literature", "datapackage.json",
                                                                     "*.md"), dirs_exist_ok=True)
    shutil.copytree(data_dir / "literature", folder / "literature", ignore=shutil.ignore_patterns("extraction"),
                    dirs_exist_ok=True)
    with open(data_dir / "claims.csv", encoding="utf-8", newline="") as f:
        header, *real = list(csv.reader(f))
    with open(data_dir / "citation_audit.csv", encoding="utf-8", newline="") as f:
        audit_header, *audit_rows = list(csv.reader(f))
    col = {name: i for i, name in enumerate(header)}
    audit_of = {row[audit_header.index("claim_id")]: row for row in audit_rows}
    audit_claim = audit_header.index("claim_id")
    width = len(str(max(n, 1)))
    claims_path, audit_path = folder / "claims.csv", folder / "citation_audit.csv"
    with open(claims_path, "w", encoding="utf-8", newline="") as fc, \
            open(audit_path, "w", encoding="utf-8", newline="") as fa:
        claims_out, audit_out = csv.writer(fc, lineterminator="\n"), csv.writer(fa, lineterminator="\n")
        claims_out.writerow(header)
        audit_out.writerow(audit_header)
        kept = {row[col["claim_id"]] for row in real[:n]}
        for i in range(max(n, len(real))):
            # Every real claim is kept (the literature links name them); copies fill the rest up to n.
            template = real[i % len(real)]
            row = list(template)
            if row[col["base_claim_id"]] and row[col["base_claim_id"]] not in kept:
                row[col["base_claim_id"]] = ""  # its base is not among the first n rows
            if i >= len(real):
                row[col["claim_id"]] = f"syn-{i:0{width}d}"
                if row[col["value"]].strip() and not row[col["value_low"]].strip() \
                        and not row[col["value_high"]].strip():
                    row[col["value"]] = _jittered(row[col["value"]], row[col["value_text"]], row[col["unit"]], i)
            claims_out.writerow(row)
            audited = audit_of.get(template[col["claim_id"]])
            if audited is not None:
                audit_row = list(audited)
                audit_row[audit_claim] = row[col["claim_id"]]
                audit_out.writerow(audit_row)
    return {"data": folder, "claims": claims_path, "audit": audit_path}


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


# -- measuring a command ----------------------------------------------------------

@dataclass
class Measured:
    """Wall time, peak memory (largest process of the tree) and outcome of one command."""

    seconds: float
    max_rss_bytes: int
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-lines:])


def measure(cmd: list[str], *, cwd: Path, env: dict, timeout: float | None = None) -> Measured:
    """Run cmd, timing it; max RSS from wait4 covers every descendant it waited for (kernels too)."""
    import signal
    import threading

    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        timed_out = []

        def kill():
            timed_out.append(True)
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group this call started, and only it
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if timer:
                timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    if timed_out:
        text += f"\n[bench] killed after {timeout:.0f} s"
    return Measured(seconds, usage.ru_maxrss * 1024, proc.returncode, text)


# -- the scratch copy ------------------------------------------------------------

# Not copied anywhere in the tree; the project's own outputs (build/ and the venv) only at its top, so that
# tests/build/ is copied and `make test` in the copy runs every test CI runs.
_NOT_COPIED = {".git", ".hypothesis", "__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".bench"}
_NOT_COPIED_AT_TOP = {".venv", "build"}


class Scratch:
    """A copy of the project in a temporary folder, sharing .venv (symlink), with its own outputs."""

    def __init__(self, root: Path, parent: Path | None = None):
        self.root = Path(root).resolve()
        self.dir = Path(tempfile.mkdtemp(prefix="fbss-bench-", dir=parent)).resolve()
        shutil.copytree(self.root, self.dir, symlinks=True, dirs_exist_ok=True,
                        ignore=lambda folder, names: [
                            n for n in names
                            if n in _NOT_COPIED or (n in _NOT_COPIED_AT_TOP and Path(folder) == self.root)])
        (self.dir / ".venv").symlink_to((self.root / ".venv").resolve())
        self.work = self.dir / ".bench"
        self.work.mkdir()
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "FBSS_OUTPUT_ROOT")}
        # The copy's package, not the editable install of the original, and its outputs.
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(self.dir / "src")] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
        self.env["FBSS_OUTPUT_ROOT"] = str(self.dir)
        self.env.pop("MPLBACKEND", None)  # kernels use the inline backend, as under make

    @property
    def python(self) -> str:
        return str(self.dir / ".venv" / "bin" / "python")

    def run(self, cmd: list[str], timeout: float | None = None, **env) -> Measured:
        return measure(cmd, cwd=self.dir, env={**self.env, **env}, timeout=timeout)

    def make(self, *targets: str, timeout: float | None = 3600) -> Measured:
        return self.run([shutil.which("make") or "make", *targets], timeout=timeout)

    def check(self) -> None:
        """Refuse to measure with an out-of-date environment or the wrong package."""
        stamp = self.make("-q", ".venv/.installed")
        if not stamp.ok:
            raise SystemExit("bench: the environment is out of date; run `make env` first "
                             "(the benchmark never installs anything)")
        probe = self.run([self.python, "-c", "from fbss_evidence import config; print(config.ROOT)"])
        if Path(probe.output.strip().splitlines()[-1]).resolve() != self.dir:
            raise SystemExit(f"bench: the copy imports fbss_evidence from {probe.output.strip()}, "
                             f"not from {self.dir}/src")

    def outputs(self) -> set[str]:
        return {f"{p.parent.name}/{p.name}" for folder in ("figures", "tables")
                for p in (self.dir / folder).glob("*") if p.is_file()}

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def edit_one_value(claims: Path) -> str:
    """Change one claim's value to another its value_text still states (within rounding)."""
    from fbss_evidence.numbers import states_value

    raw = claims.read_bytes().decode("utf-8")
    ending = "\r\n" if "\r\n" in raw else "\n"
    rows = list(csv.reader(io.StringIO(raw, newline="")))
    out = io.StringIO()
    csv.writer(out, lineterminator=ending).writerows(rows)
    if out.getvalue() != raw:
        raise RuntimeError(f"{claims} does not survive a csv round trip; cannot edit one value")
    col = {name: i for i, name in enumerate(rows[0])}
    for row in rows[1:]:
        if row[col["bound"]] in ("exact", "approx") and row[col["unit"]] == "percent" \
                and row[col["value"]] and not row[col["value_low"]] and not row[col["value_high"]]:
            old = float(row[col["value"]])
            new = round(old + (0.05 if old <= 99 else -0.05), 2)
            if states_value(row[col["value_text"]], new):
                row[col["value"]] = f"{new:g}"
                out = io.StringIO()
                csv.writer(out, lineterminator=ending).writerows(rows)
                claims.write_bytes(out.getvalue().encode("utf-8"))
                return (f"{row[col['claim_id']]}: value {old:g} -> {new:g} "
                        f"(value_text '{row[col['value_text']]}')")
    raise RuntimeError(f"{claims}: no claim whose value can change and stay valid")


# -- the measurements ---------------------------------------------------------------

def measure_startup(python: str, env: dict, cwd: Path) -> dict:
    """Import cost of what each notebook run and the nbval session start with."""
    import importlib.util

    result: dict = {"rfc3987_syntax_installed": importlib.util.find_spec("rfc3987_syntax") is not None}
    for module in ("papermill", "nbval.plugin"):
        run = measure([python, "-X", "importtime", "-c", f"import {module}"], cwd=cwd, env=env)
        total, modules = None, {}
        for line in run.output.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
            if m:
                modules[m.group(4)] = int(m.group(2))
                if m.group(3) == " " and m.group(4) == module:
                    total = int(m.group(2))
        result[module] = {
            "import_s": (total or 0) / 1e6,
            "rfc3987_syntax_import_s": modules.get("rfc3987_syntax", 0) / 1e6,
            "wall_s": run.seconds,
        }
    return result


def run_floor(scratch: Scratch, repeat: int = 2) -> tuple[Measured, dict, set[str]]:
    """The floor in a child process (interpreter start and imports included); best of `repeat`."""
    best = None
    for _ in range(repeat):
        out = scratch.work / "floor"
        shutil.rmtree(out, ignore_errors=True)
        # Like make from clean, each floor run validates the data once (then reads it stored).
        shutil.rmtree(scratch.dir / "build" / "validated", ignore_errors=True)
        run = scratch.run([scratch.python, "-m", "fbss_build.bench", "--floor-run", str(scratch.dir), str(out)],
                          timeout=3600)
        if not run.ok:
            raise RuntimeError(f"the floor failed:\n{run.tail(30)}")
        if best is None or run.seconds < best[0].seconds:
            from fbss_build.run import TABLE_SUFFIXES  # in this process only; the floor's child imports its own

            files = {f"{'tables' if p.suffix in TABLE_SUFFIXES else 'figures'}/{p.name}" for p in out.iterdir()}
            best = (run, json.loads(run.output.strip().splitlines()[-1]), files)
    return best


# A plain read of the same files, for the validation goal: pandas' default reader, no checks.
_PLAIN_READ = "import sys, pandas as pd\nfor path in sys.argv[1:]:\n    pd.read_csv(path)\n"


def run_scaling(scratch: Scratch, sizes, timeout: float = SCALING_TIMEOUT_S) -> list[dict]:
    rows = []
    notebook = scratch.dir / "notebooks" / f"{GENERIC}.ipynb"
    for n in sizes:
        folder = scratch.work / f"scaling-{n}"
        paths = synthetic_dataset(n, folder, scratch.dir / "data")
        # The baseline of the validation goal, measured here, on the same files, just before.
        plain = scratch.run([scratch.python, "-c", _PLAIN_READ, str(paths["claims"]), str(paths["audit"])],
                            timeout=timeout)
        # As in make: the notebook reads what fbss-validate checked (build/validated/ of the same output root).
        validate = scratch.run([str(scratch.dir / ".venv" / "bin" / "fbss-validate"), "--data", str(paths["data"])],
                               timeout=timeout, FBSS_OUTPUT_ROOT=str(folder / "out"))
        run = scratch.run([scratch.python, "-m", "fbss_build.run", str(notebook),
                           "--output", str(folder / "out" / "build" / f"{GENERIC}.ipynb"),
                           "-p", "data_dir", str(paths["data"])],
                          timeout=timeout, FBSS_OUTPUT_ROOT=str(folder / "out"))
        row = {"n": n, "claims_bytes": paths["claims"].stat().st_size,
               "audit_bytes": paths["audit"].stat().st_size}
        for key, m in (("read_csv", plain), ("validate", validate), ("notebook", run)):
            row.update({f"{key}_s": m.seconds, f"{key}_max_rss_bytes": m.max_rss_bytes,
                        f"{key}_returncode": m.returncode})
            if not m.ok:
                row[f"{key}_error"] = m.tail(8)
        rows.append(row)
        print(f"bench: scaling n={n:,}: read_csv {plain.seconds:.1f} s; validate {validate.seconds:.1f} s "
              f"({validate.max_rss_bytes / 2**20:,.0f} MiB, rc {validate.returncode}); notebook "
              f"{run.seconds:.1f} s ({run.max_rss_bytes / 2**20:,.0f} MiB, rc {run.returncode})",
              file=sys.stderr, flush=True)
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def benchmark(root: Path, sizes, skip: set[str], keep: bool = False) -> dict:
    def say(text):
        print(f"bench: {text}", file=sys.stderr, flush=True)

    result: dict = {
        "machine": {"cpus": os.cpu_count(), "load_average_before": os.getloadavg(),
                    "python": sys.version.split()[0], "platform": sys.platform},
        "runs": [r.name for r in makefile_runs(root / "Makefile")],
    }
    scratch = Scratch(root)
    say(f"scratch copy {scratch.dir}")
    try:
        scratch.check()
        if "startup" not in skip:
            result["startup"] = measure_startup(scratch.python, scratch.env, scratch.dir)
        clean = scratch.make("clean")
        if not clean.ok:
            raise RuntimeError(f"make clean failed in the copy:\n{clean.tail()}")
        before = scratch.outputs()
        floor_files: set[str] = set()
        if "floor" not in skip:
            say("floor (every run in one process) ...")
            floor_run, per_run, floor_files = run_floor(scratch)
            result["floor_s"] = floor_run.seconds
            result["floor_max_rss_bytes"] = floor_run.max_rss_bytes
            result["floor_runs_s"] = per_run
            say(f"floor {floor_run.seconds:.1f} s")
        if "full" not in skip:
            say("make from clean ...")
            full = scratch.make()
            result["full_s"], result["full_returncode"] = full.seconds, full.returncode
            if not full.ok:
                result["full_error"] = full.tail()
            made = scratch.outputs() - before
            result["outputs"] = len(made)
            if floor_files:
                result["floor_outputs_match"] = made == floor_files
                result["outputs_only_made_by_make"] = sorted(made - floor_files)
                result["outputs_only_made_by_floor"] = sorted(floor_files - made)
            say(f"full {full.seconds:.1f} s")
            noops = [scratch.make() for _ in range(3)]
            result["noop_runs_s"] = [m.seconds for m in noops]
            result["noop_s"] = statistics.median(result["noop_runs_s"])
            result["noop_did_nothing"] = scratch.make("-q").ok
            say(f"no-op {result['noop_s']:.3f} s")
            result["incremental_claim_edit"] = edit_one_value(scratch.dir / "data" / "claims.csv")
            claim = scratch.make()
            result["incremental_claim_s"] = result["incremental_s"] = claim.seconds
            result["incremental_claim_returncode"] = claim.returncode
            say(f"incremental after a claim's value changed {claim.seconds:.1f} s")
            touched = scratch.dir / "notebooks" / f"{NOTEBOOK_TOUCHED}.ipynb"
            os.utime(touched)
            result["incremental_notebook_touched"] = str(touched.relative_to(scratch.dir))
            notebook = scratch.make()
            result["incremental_notebook_s"] = notebook.seconds
            result["incremental_notebook_returncode"] = notebook.returncode
            say(f"incremental after touching a notebook {notebook.seconds:.1f} s")
        if "test" not in skip:
            say("make test ...")
            test = scratch.make("test", timeout=7200)
            result["test_s"], result["test_returncode"] = test.seconds, test.returncode
            result["test_summary"] = [line for line in test.output.splitlines()
                                      if re.search(r"\d+ (passed|failed|error)", line)]
            result["test_failures"] = [line for line in test.output.splitlines()
                                       if line.startswith(("FAILED ", "ERROR "))]
            if not test.ok:
                result["test_output_tail"] = test.tail(60)
            say(f"test {test.seconds:.1f} s (rc {test.returncode})")
        if "scaling" not in skip and sizes:
            say(f"scaling {', '.join(f'{n:,}' for n in sizes)} ...")
            rows = run_scaling(scratch, sizes)
            result["scaling"] = rows
            result["growth_exponent"] = {
                key: growth_exponent([r["n"] for r in rows],
                                     [r[f"{key}_s"] if r[f"{key}_returncode"] == 0 else None for r in rows])
                for key in ("validate", "notebook")}
    finally:
        result["machine"]["load_average_after"] = os.getloadavg()
        if keep:
            result["scratch"] = str(scratch.dir)
        else:
            scratch.remove()
    if "floor_s" in result:
        # The limit: one process, the data loaded and validated once, every output written (the floor run).
        result["limit_s"] = result["floor_s"]
    result["ratios_to_floor"] = {
        key.removesuffix("_s"): result[key] / result["floor_s"]
        for key in ("full_s", "noop_s", "incremental_claim_s", "incremental_notebook_s", "test_s")
        if key in result and result.get("floor_s")}
    result["goals"] = goals(result)
    return result


def goals(result: dict) -> dict:
    out = {}
    limit = result.get("limit_s") or result.get("floor_s")
    for key, name in (("full_s", "full"), ("incremental_claim_s", "claim_edit")):
        if key in result and limit:
            ratio = result[key] / limit
            out[f"{name}_within_1.5x_limit"] = {"value": ratio, "goal": GOAL_FULL_OVER_LIMIT,
                                                "met": ratio <= GOAL_FULL_OVER_LIMIT}
    if "noop_s" in result:
        out["noop_under_0.5_s"] = {"value": result["noop_s"], "goal": GOAL_NOOP_S,
                                   "met": result["noop_s"] < GOAL_NOOP_S}
    if "test_s" in result and limit:
        ratio = result["test_s"] / limit
        out["test_within_10x_limit"] = {"value": ratio, "goal": GOAL_TEST_OVER_LIMIT,
                                        "met": result.get("test_returncode") == 0 and ratio <= GOAL_TEST_OVER_LIMIT}
    big = [r for r in result.get("scaling", []) if r["n"] == 1_000_000]
    if big:
        r = big[0]
        ok = r["validate_returncode"] == 0 and r["notebook_returncode"] == 0
        total = r["validate_s"] + r["notebook_s"]
        peak = max(r["validate_max_rss_bytes"], r["notebook_max_rss_bytes"])
        out["1e6_validate_plus_notebook_under_60_s"] = {"value": total, "goal": GOAL_SCALING_S,
                                                        "met": ok and total < GOAL_SCALING_S}
        out["1e6_under_4_GiB"] = {"value": peak, "goal": GOAL_SCALING_BYTES,
                                  "met": ok and peak < GOAL_SCALING_BYTES}
    for key, slope in result.get("growth_exponent", {}).items():
        if slope is not None:
            out[f"{key}_no_faster_than_linear"] = {
                "value": slope, "goal": GOAL_EXPONENT,
                "met": slope <= GOAL_EXPONENT + EXPONENT_SLACK}
    startup = result.get("startup")
    if startup:
        out["no_rfc3987_syntax_at_startup"] = {
            "value": startup["rfc3987_syntax_installed"], "goal": False,
            "met": not startup["rfc3987_syntax_installed"]}
    return out


# -- the report ------------------------------------------------------------------------

def report(result: dict) -> str:
    floor_s = result.get("floor_s")
    lines = [f"{'measurement':<34}{'seconds':>10}{'x floor':>9}  note", "-" * 78]

    def row(label, key, note=""):
        if key in result:
            ratio = f"{result[key] / floor_s:8.2f}x" if floor_s else ""
            lines.append(f"{label:<34}{result[key]:>10.2f}{ratio:>9}  {note}")

    row("floor (one process, all runs)", "floor_s", f"{len(result.get('runs', []))} notebook runs")
    row("full (make from clean)", "full_s",
        "outputs match the floor's" if result.get("floor_outputs_match") else
        "OUTPUTS DIFFER from the floor's" if "floor_outputs_match" in result else "")
    row("no-op (make again, median of 3)", "noop_s")
    row("incremental: one claim's value", "incremental_claim_s", result.get("incremental_claim_edit", ""))
    row("incremental: one notebook touched", "incremental_notebook_s",
        result.get("incremental_notebook_touched", ""))
    row("make test", "test_s", "; ".join(result.get("test_summary", []))[:60])
    if result.get("scaling"):
        lines += ["", f"{'claims':>10}{'read_csv s':>12}{'validate s':>12}{'x read':>8}{'MiB':>8}{'notebook s':>12}"
                      f"{'MiB':>8}  (07 via the runner)"]
        for r in result["scaling"]:
            read = r.get("read_csv_s")
            lines.append(
                f"{r['n']:>10,}{read if read else float('nan'):>12.2f}{r['validate_s']:>12.2f}"
                f"{r['validate_s'] / read if read else float('nan'):>8.2f}{r['validate_max_rss_bytes'] / 2**20:>8,.0f}"
                f"{r['notebook_s']:>12.2f}{r['notebook_max_rss_bytes'] / 2**20:>8,.0f}"
                + ("" if r["validate_returncode"] == r["notebook_returncode"] == 0 else "  FAILED"))
        slopes = result.get("growth_exponent", {})
        lines.append("growth exponent from 1e4 (slope of log time on log n): " + ", ".join(
            f"{k} {v:.2f}" if v is not None else f"{k} -" for k, v in slopes.items()))
    if result.get("startup"):
        s = result["startup"]
        lines += ["", "start-up: rfc3987_syntax installed: " + str(s["rfc3987_syntax_installed"]) + "; " + ", ".join(
            f"import {m} {s[m]['import_s']:.2f} s (rfc3987_syntax {s[m]['rfc3987_syntax_import_s'] * 1000:.1f} ms)"
            for m in ("papermill", "nbval.plugin") if m in s)]
    if result.get("goals"):
        lines += ["", "goals:"]
        for name, g in result["goals"].items():
            value = g["value"]
            shown = f"{value:.3g}" if isinstance(value, float) else str(value)
            lines.append(f"  {'met   ' if g['met'] else 'MISSED'} {name}: {shown} (goal {g['goal']})")
    lines.append(f"load average before/after: {result['machine']['load_average_before']} / "
                 f"{result['machine'].get('load_average_after')}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fbss_build.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(str(n) for n in DEFAULT_SIZES),
                        help="claims-file sizes for the scaling runs, e.g. 1e3,1e4 ('' for none)")
    parser.add_argument("--skip", default="", help="comma-separated: startup,floor,full,test,scaling")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy")
    parser.add_argument("--json", type=Path, default=None, help="where to write the result (build/bench.json)")
    parser.add_argument("--floor-run", nargs=2, type=Path, metavar=("REPO", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_run:
        repo, out = args.floor_run
        print(json.dumps(floor(repo.resolve(), out.resolve())))
        return 0
    from fbss_evidence import config

    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    result = benchmark(config.ROOT, sizes, skip, keep=args.keep)
    path = args.json or config.BUILD / "bench.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(report(result))
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
