"""Run notebooks with papermill, and publish their figures and tables together.

    python -m fbss_build.run NOTEBOOK --output OUT [-p name value ...]        # run one, publish it
    python -m fbss_build.run NOTEBOOK --output OUT [-p ...] --queue QUEUE     # queue it
    python -m fbss_build.run --run-queue QUEUE [--jobs N]                     # run the queue
    python -m fbss_build.run --adhoc NOTEBOOK [-p name value ...] [--set "name=value ..."]  # make run

Each run writes into a private staging folder. A batch publishes only when every run
in it succeeded: the staged figures and tables of all its runs are moved into
figures/ and tables/ (one rename each), then each run's executed notebook into
build/, last. So the published outputs always come from one state of the data, and
`make` never sees a target newer than a failed or killed run. Before moving anything
the batch writes the list of moves (build/publish.journal); a runner killed while
publishing is finished by the next one, so the outputs are never left mixed. A failed
run keeps its executed copy as build/<name>.failed.ipynb; the other runs of the batch
still run (to report every failure), and nothing is published.

`make` queues every out-of-date run (one small file each), then runs the queue in one
go: N workers (one per core by default), each keeping one kernel warm across its
notebooks, so the analysis stack is imported once per worker rather than once per
notebook. Before each notebook the kernel is reset (kernel.py).

Runs clean up after themselves, even when killed. Each kernel has a folder of its own,
build/tmp/<pid>-<n>/ (<pid>: the runner process that started it), holding its sockets,
its connection file and its temporary files (the kernel's TMPDIR and JUPYTER_RUNTIME_DIR),
removed when the kernel stops. SIGTERM (make stopping a recipe), SIGINT (Ctrl-C) or SIGHUP
make a runner process stop its workers, shut its kernels down and remove their folders,
then end by that signal; the run it was on stays queued. Kernels and workers die with the
process that started them, even when it is killed with SIGKILL (on Linux), and the next
runner removes the folders of processes that are dead.

An ad-hoc run (`make run`) never publishes: it writes the executed notebook, figures
and tables into a folder of its own, build/runs/<run name>/ (fbss_evidence.runs: the
same name papermill and JupyterLab give a run), replaced whole when the run succeeds;
or, given output_dir, into that folder, whose other files it leaves alone.
"""
from __future__ import annotations

import argparse
import ast
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fbss_evidence import config
from fbss_evidence.outputs import atomic_path, write_text
from fbss_evidence.vocab import FIGURE_FORMATS

KERNEL = "fbss-evidence"
TABLE_SUFFIXES = (".csv", ".md", ".jsonld")  # .jsonld: the ClaimReview export
JOURNAL = "publish.journal"


def parse_value(text: str):
    """A -p value as Python data (number, bool, None, string); never evaluated as code."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, RecursionError, MemoryError):  # deep nesting: "-" * 10000 + "1"
        return text
    return value if isinstance(value, (int, float, bool, type(None), str)) else text


def declared_parameters(notebook: Path) -> set[str]:
    from fbss_evidence.notebook import notebook_parameters

    return set(notebook_parameters(notebook))


def destination(path: Path) -> Path:
    if path.suffix.lstrip(".") in FIGURE_FORMATS:
        return config.FIGURES / path.name
    if path.suffix in TABLE_SUFFIXES:
        return config.TABLES / path.name
    raise RuntimeError(f"notebook wrote {path.name}, which is neither a figure nor a table")


# -- a run, staged, and publishing runs together ---------------------------------------

@dataclass
class Staged:
    """A run that succeeded and waits to be published."""

    name: str
    stage: Path  # its figures and tables
    partial: Path  # its executed notebook
    output: Path  # where the executed notebook goes when published

    def record(self) -> Path:
        return self.stage.with_name(f"{self.name}.staged.json")

    def save(self) -> None:
        write_text(self.record(), json.dumps({k: str(v) for k, v in vars(self).items()}))

    @classmethod
    def load(cls, record: Path) -> Staged:
        data = json.loads(record.read_text())
        return cls(data["name"], Path(data["stage"]), Path(data["partial"]), Path(data["output"]))


def _moves(staged: list[Staged]) -> list[tuple[str, str]]:
    """Every rename publishing these runs makes: outputs first, executed notebooks last."""
    moves = []
    for run_ in staged:
        moves += [(str(f), str(destination(f))) for f in sorted(run_.stage.iterdir())]
    return moves + [(str(r.partial), str(r.output)) for r in staged]


def publish_all(staged: list[Staged]) -> list[Path]:
    """Publish runs together (see the module docstring); a stray file in any stage publishes nothing.
    Returns the published figures and tables."""
    if not staged:
        return []
    moves = _moves(staged)  # raises RuntimeError on a stray file before anything moves
    manifests = {}
    for run_ in staged:
        manifest = config.BUILD / f"{run_.name}.outputs"
        previous = set(manifest.read_text().split()) if manifest.exists() else set()
        current = sorted(str(destination(f).relative_to(config.OUTPUT_ROOT)) for f in run_.stage.iterdir())
        manifests[str(manifest)] = (sorted(previous - set(current)), current)
    journal = config.BUILD / JOURNAL
    write_text(journal, json.dumps({"moves": moves, "manifests": manifests}, sort_keys=True))
    finish_publishing(journal)
    for run_ in staged:
        shutil.rmtree(run_.stage, ignore_errors=True)
        run_.record().unlink(missing_ok=True)
    return [Path(target) for _, target in moves[: len(moves) - len(staged)]]


def finish_publishing(journal: Path) -> None:
    """Carry out (or finish, after a kill) the moves and manifest updates a journal lists."""
    plan = json.loads(journal.read_text())
    for source, target in plan["moves"]:
        if Path(source).exists():
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    for manifest, (stale, current) in plan["manifests"].items():
        for path in stale:
            (config.OUTPUT_ROOT / path).unlink(missing_ok=True)
        write_text(manifest, "\n".join(current) + "\n")
    journal.unlink()


def recover() -> None:
    """A runner killed while publishing left its journal: finish what it started."""
    journal = config.BUILD / JOURNAL
    if journal.exists():
        print(f"{journal}: finishing a publication that was interrupted", file=sys.stderr)
        finish_publishing(journal)


def execute(notebook: Path, output: Path, parameters: dict, km=None, stage: Path | None = None) -> Staged | None:
    """Execute one notebook (in the warm kernel `km`, if given) into a staging folder; None if it
    failed (the failure is reported and the executed copy kept as <output>.failed.ipynb)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    if not known_parameters(notebook, parameters):
        return None
    name = output.name.removesuffix(".ipynb")
    stage = stage or config.BUILD / "stage" / name
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    partial = stage.with_name(f"{stage.name}.partial.ipynb")
    failed = output.with_name(f"{name}.failed.ipynb")
    output.parent.mkdir(parents=True, exist_ok=True)
    logging.getLogger("papermill").setLevel(logging.WARNING)
    own_kernel = None
    nothing = "  nothing is published; the published figures and tables stay as they were."
    try:
        if km is None:  # a single run: a kernel of its own, on private sockets (see _start_kernel)
            km = own_kernel = _start_kernel(notebook.parent)
        papermill.execute_notebook(
            str(notebook), str(partial),
            parameters={**parameters, "output_dir": str(stage)},
            kernel_name=KERNEL, cwd=str(notebook.parent),
            progress_bar=False, log_output=False, km=km,
            # Written once at the end (and on an error), not after every cell: each
            # write is the whole notebook with its images, and nothing reads it sooner.
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as err:
        os.replace(partial, failed)
        shutil.rmtree(stage, ignore_errors=True)
        print(f"{notebook}: cell {err.cell_index} (In [{err.exec_count}]) failed: {err.ename}: "
              f"{err.evalue}\n  executed copy with the error: {failed}\n{nothing}", file=sys.stderr)
        return None
    except Exception as err:  # the kernel died, would not start, or timed out: no cell to blame
        if partial.exists():
            os.replace(partial, failed)
        shutil.rmtree(stage, ignore_errors=True)
        print(f"{notebook}: the run stopped: {type(err).__name__}: {err}\n"
              + (f"  executed copy so far: {failed}\n" if failed.exists() else "") + nothing, file=sys.stderr)
        return None
    except BaseException:  # stopped by a signal: nothing of the run stays
        partial.unlink(missing_ok=True)
        shutil.rmtree(stage, ignore_errors=True)
        raise
    finally:
        if own_kernel is not None:
            _stop_kernel(own_kernel)
    try:
        unshown = unshown_figures(partial, stage)
        if unshown:
            raise RuntimeError(f"it wrote figure(s) it does not show: {', '.join(unshown)} "
                               "(save figures with run.save_figure, which shows them)")
        for f in stage.iterdir():
            destination(f)
    except RuntimeError as err:
        os.replace(partial, failed)
        shutil.rmtree(stage, ignore_errors=True)
        print(f"{notebook}: {err}; nothing was published\n  executed copy: {failed}", file=sys.stderr)
        return None
    failed.unlink(missing_ok=True)
    return Staged(name, stage, partial, output)


def unshown_figures(executed: Path, folder: Path) -> list[str]:
    """The figure files in `folder` that the executed notebook does not display (by the mark
    notebook.show_figure puts on each figure it shows)."""
    import nbformat

    from fbss_evidence.notebook import FIGURE_MARK
    from fbss_evidence.plotting.style import FIGURE_FORMATS

    shown = {o.get("metadata", {}).get(FIGURE_MARK)
             for cell in nbformat.read(executed, as_version=4).cells if cell.cell_type == "code"
             for o in cell.get("outputs", []) if o.get("output_type") == "display_data"}
    return sorted(f.name for f in folder.iterdir() if f.suffix.lstrip(".") in FIGURE_FORMATS and f.name not in shown)


def known_parameters(notebook: Path, parameters: dict) -> bool:
    """True when the notebook declares every parameter given; else say which it does not."""
    unknown = set(parameters) - declared_parameters(notebook)
    if unknown:
        print(f"{notebook}: unknown parameter(s) {', '.join(sorted(unknown))}; the notebook declares "
              f"{', '.join(sorted(declared_parameters(notebook)))}", file=sys.stderr)
    return not unknown


def run(notebook: Path, output: Path, parameters: dict, km=None) -> int:
    """Execute one notebook and publish its outputs; 0 if it succeeded, 2 for an unknown parameter."""
    if not known_parameters(notebook, parameters):
        return 2
    recover()
    staged = execute(notebook, output, parameters, km)
    if staged is None:
        return 1
    publish_all([staged])
    return 0


def find_notebook(given: str) -> Path:
    """The notebook `make run NB=...` names: a name ('07-compare-topic'), a name with .ipynb, a path to it
    (tab completion gives 'notebooks/07-compare-topic.ipynb'), its percent-script twin (.py), or any
    other .ipynb file. ValueError, naming the notebooks there are, if none matches."""
    from fbss_evidence.params import closest

    text = given.strip()
    path = Path(text).expanduser()
    for candidate in (path, config.ROOT / path):
        if candidate.suffix == ".ipynb" and candidate.is_file():
            return candidate.resolve()
        if candidate.suffix == ".py" and candidate.with_suffix(".ipynb").is_file():
            return candidate.with_suffix(".ipynb").resolve()
    stem = path.name.removesuffix(".ipynb").removesuffix(".py")
    if stem and (config.NOTEBOOKS / f"{stem}.ipynb").is_file():
        return (config.NOTEBOOKS / f"{stem}.ipynb").resolve()
    known = sorted(p.stem for p in config.NOTEBOOKS.glob("*.ipynb"))
    hint = closest(stem, known) if stem else None
    raise ValueError(f"no notebook {given!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                     + f"; give a name or a path, one of: {', '.join(known)}")


def assignments(text: str) -> dict:
    """`make run`'s P="name=value ..." as parameters; a value may be quoted ("label='two words'").
    ValueError for a word that is not name=value."""
    import shlex

    values = {}
    for word in shlex.split(text):
        name, equals, value = word.partition("=")
        if not equals or not name.isidentifier():
            raise ValueError(f"{word!r} is not name=value (P=\"name=value name=value ...\")")
        values[name] = parse_value(value)
    return values


def adhoc(notebook: Path, parameters: dict) -> int:
    """`make run`: execute with these parameters into build/runs/<run name>/ (replaced whole when the run
    succeeds), or into output_dir when given (its other files left alone); never published."""
    from fbss_evidence import runs
    from fbss_evidence.notebook import notebook_parameters
    from fbss_evidence.params import PARAMETERS, ParameterError, check_parameters, closest

    name = notebook.name.removesuffix(".ipynb")
    defaults = notebook_parameters(notebook)
    unknown = sorted(set(parameters) - set(defaults))
    for bad in unknown:
        hint = closest(bad, defaults)
        print(f"{notebook.name}: unknown parameter {bad!r}" + (f" (did you mean {hint!r}?)" if hint else "")
              + f"; it takes: {', '.join(sorted(defaults))}", file=sys.stderr)
    if unknown:
        return 2
    values = {**defaults, **parameters}
    try:
        # The project's parameters are checked here, before a kernel starts (the notebook checks them again).
        check_parameters({k: v for k, v in values.items() if k in PARAMETERS}, declared=defaults)
        given = parameters.get("output_dir")  # given for this run (a notebook's own default is make's business)
        folder = config.resolve(given) if given is not None else runs.run_folder(name, values, defaults)
    except (ParameterError, runs.RunNameError) as err:
        print(f"{notebook.name}: {err}", file=sys.stderr)
        return 2
    folder = Path(os.path.abspath(folder))
    stage = folder.with_name(f".{folder.name}.stage")
    staged = execute(notebook, folder.with_name(f"{folder.name}.ipynb"), parameters, stage=stage)
    if staged is None:
        return 1
    os.replace(staged.partial, stage / f"{name}.ipynb")
    if given is not None:  # the analyst's folder: the run's files go in, nothing else is touched
        folder.mkdir(parents=True, exist_ok=True)
        for f in sorted(stage.iterdir()):
            os.replace(f, folder / f.name)
        stage.rmdir()
    else:
        old = folder.with_name(f".{folder.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        os.replace(stage, folder)
        shutil.rmtree(old, ignore_errors=True)
    print(f"{notebook.name}: done; its executed notebook, figures and tables are in {display(folder)}")
    return 0


def display(path: Path) -> str:
    """A path as the analyst would type it: relative to the working folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# -- the queue and the batch ---------------------------------------------------

def enqueue(queue: Path, notebook: Path, output: Path, parameters: dict) -> Path:
    """Record one run in the queue folder (written whole, then renamed into place).

    The run's previous executed notebook is removed: a queued run is out of date, and
    make, which looks again at a target after its rule ran, must see it as changed so
    that it goes on to run the queue. The published figures and tables stay.
    """
    queue.mkdir(parents=True, exist_ok=True)
    job = queue / f"{output.name.removesuffix('.ipynb')}.json"
    write_text(job, json.dumps({"notebook": str(notebook), "output": str(output),
                                "parameters": parameters}, sort_keys=True) + "\n")
    output.unlink(missing_ok=True)
    return job


def _claim(queue: Path) -> Path | None:
    """Take the next queued run for this process (a rename, so two workers never take the same)."""
    for job in sorted(queue.glob("*.json")):
        claimed = job.with_name(f"{job.stem}.running-{os.getpid()}")
        try:
            os.rename(job, claimed)
        except FileNotFoundError:  # another worker took it
            continue
        return claimed
    return None


# -- kernels, each in a folder of its own ----------------------------------------------

KERNEL_HOME = "tmp"  # build/tmp/<pid>-<n>/: the n-th kernel folder of runner process <pid>
SOCKET_PATH_MAX = 100  # a Unix-domain socket's path must fit in 104 bytes (macOS), 108 (Linux)
_kernels: dict = {}  # this process's kernels (their managers), each with its folder and the lock on it
_swept = False


def _owner(folder: Path) -> int | None:
    """The process a kernel folder belongs to, from its name (<pid>-<n>, or fbss-kernel-<pid>-<n>)."""
    pid = folder.name.removeprefix("fbss-kernel-").split("-")[0]
    return int(pid) if pid.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


def sweep() -> list[Path]:
    """Remove the kernel folders of runner processes that are gone, e.g. killed with SIGKILL, which
    no handler sees. A folder goes only when its process is dead and nothing holds the lock on it (a
    live owner always does, so a pid reused, or one seen from another pid namespace, keeps it)."""
    import fcntl
    import tempfile

    gone = []
    for folder in [*(config.BUILD / KERNEL_HOME).glob("*-*"), *Path(tempfile.gettempdir()).glob("fbss-kernel-*-*")]:
        pid = _owner(folder)
        if pid is None or pid == os.getpid() or _alive(pid):
            continue
        try:
            with open(folder / ".lock", "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(folder, ignore_errors=True)
        except BlockingIOError:
            continue
        except FileNotFoundError:  # being removed by another runner
            pass
        gone.append(folder)
    return gone


def _kernel_folder() -> tuple[Path, object]:
    """A new folder for a kernel, locked for as long as this process lives: build/tmp/<pid>-<n>/,
    or, when that path is too long for a socket, <system temporary folder>/fbss-kernel-<pid>-<n>/."""
    import fcntl
    import tempfile

    global _swept
    if not _swept:
        sweep()
        _swept = True
    home, prefix = config.BUILD / KERNEL_HOME, f"{os.getpid()}-"
    if len(os.fsencode(home / f"{prefix}99" / "k-99")) > SOCKET_PATH_MAX:
        home, prefix = Path(tempfile.gettempdir()), f"fbss-kernel-{os.getpid()}-"
    home.mkdir(parents=True, exist_ok=True)
    n = len(_kernels)
    while True:
        n += 1
        folder = home / f"{prefix}{n}"
        try:
            folder.mkdir(mode=0o700)
            break
        except FileExistsError:  # the folder of a process that had this pid (or has it, seen from elsewhere)
            continue
    lock = open(folder / ".lock", "w")  # not inherited by the kernel: locked by this process alone
    fcntl.flock(lock, fcntl.LOCK_EX)
    (folder / "tmp").mkdir()
    return folder, lock


def _kernel_env(folder: Path) -> dict:
    """The kernel's environment: this one, with its temporary files (TMPDIR, which tempfile, ipykernel and
    matplotlib follow) and Jupyter's runtime files (JUPYTER_RUNTIME_DIR) in its folder, and PYTHONPATH
    made absolute, as the kernel starts in the notebook's folder (PYTHONPATH=src names the project's)."""
    env = {**os.environ, "TMPDIR": str(folder / "tmp"), "JUPYTER_RUNTIME_DIR": str(folder / "tmp")}
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(entry) if entry else entry for entry in env["PYTHONPATH"].split(os.pathsep))
    return env


def _dies_with_this_process(signum: int) -> dict:
    """Popen arguments that send a child `signum` when this process dies, even by SIGKILL (Linux's
    PR_SET_PDEATHSIG). Elsewhere a kernel still ends within a second (ipykernel watches its parent)."""
    if not sys.platform.startswith("linux"):
        return {}
    import ctypes

    prctl, parent, signum = ctypes.CDLL(None, use_errno=True).prctl, os.getpid(), int(signum)

    def tie() -> None:  # in the child, before it runs its program
        prctl(1, signum)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # this process died before that
            os._exit(1)

    return {"preexec_fn": tie}


def _start_kernel(cwd: Path):
    """A kernel on Unix-domain sockets in a folder of its own (_kernel_folder), also its temporary folder.

    Over TCP, the client picks free ports and the kernel binds them later; kernels
    started at the same moment by other processes can take the same port first
    ("Address already in use"). Socket files in a folder of its own cannot collide.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    folder, lock = _kernel_folder()
    km = AsyncKernelManager(kernel_name=KERNEL, transport="ipc", ip=str(folder / "k"),
                            connection_file=str(folder / "connection.json"))
    _kernels[km] = (folder, lock)
    try:
        run_sync(km.start_kernel)(cwd=str(cwd), env=_kernel_env(folder), **_dies_with_this_process(signal.SIGKILL))
    except BaseException:
        _stop_kernel(km)
        raise
    return km


def _reset_kernel(km, cwd: Path) -> None:
    """Run kernel.reset() in the kernel, through a client of its own.

    A new client each time: papermill's run leaves the event loop of this thread
    replaced, and a client made before it would never see its reply. Only the
    shell channel is used: the request waits in the socket until it connects, and
    its reply says whether the reset worked.
    """
    from jupyter_core.utils import run_sync

    kc = km.client()
    kc.start_channels(iopub=False, stdin=False, hb=False, control=False)
    try:
        code = f"import fbss_build.kernel as _k; _k.reset({str(cwd)!r})"
        msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        while True:
            reply = run_sync(kc.get_shell_msg)(timeout=120)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
    finally:
        kc.stop_channels()
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"could not reset the kernel: {reply['content'].get('evalue')}")


def _stop_kernel(km) -> None:
    """Shut the kernel down and remove its folder."""
    from jupyter_core.utils import run_sync

    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    finally:
        folder, lock = _kernels.pop(km, (None, None))
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
            lock.close()


def stop_kernels() -> None:
    """Shut down every kernel this process still has (whatever ended its work) and remove their folders."""
    for km in list(_kernels):
        try:
            _stop_kernel(km)
        except Exception as err:  # the others still go
            print(f"could not shut a kernel down: {type(err).__name__}: {err}", file=sys.stderr)


def _run_job(claimed: Path, kernel):
    """Run one claimed job; return (kernel to use next, failed). Any error is reported, never raised."""
    from jupyter_core.utils import run_sync

    try:
        job = json.loads(claimed.read_text(encoding="utf-8"))
        notebook, output, parameters = Path(job["notebook"]), Path(job["output"]), dict(job["parameters"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        print(f"{claimed}: not a queued run ({type(err).__name__}: {err}); removed from the queue",
              file=sys.stderr)
        return kernel, True
    print(f"run {notebook.name} -> {output}" + "".join(f" -p {k} {v}" for k, v in parameters.items()),
          file=sys.stderr, flush=True)
    try:
        if kernel is None or not run_sync(kernel.is_alive)():
            if kernel is not None:  # the last notebook killed it
                _stop_kernel(kernel)
            kernel = None
            kernel = _start_kernel(notebook.parent)
        _reset_kernel(kernel, notebook.parent)
    except Exception as err:  # no kernel to run it in: the run fails, the queue goes on
        print(f"{notebook}: the kernel '{KERNEL}' could not be started or reset: {type(err).__name__}: {err}\n"
              "  nothing is published; the published figures and tables stay as they were.", file=sys.stderr)
        if kernel is not None:
            _stop_kernel(kernel)
        return None, True
    try:
        staged = execute(notebook, output, parameters, km=kernel)
        if staged is not None:
            staged.save()  # the batch's lead publishes it with the others
        return kernel, staged is None
    except Exception as err:  # e.g. an unreadable notebook, or a full disk while publishing
        print(f"{notebook}: the run stopped: {type(err).__name__}: {err}\n"
              "  nothing is published; the run stays out of date.", file=sys.stderr)
        return kernel, True


def work(queue: Path) -> int:
    """Run queued jobs until the queue is empty, in one kernel kept warm between them."""
    kernel, failures = None, 0
    try:
        while (claimed := _claim(queue)) is not None:
            kernel, failed = _run_job(claimed, kernel)
            claimed.unlink(missing_ok=True)  # left claimed when stopped: the next runner queues it again
            failures += failed
    finally:
        stop_kernels()
    return 1 if failures else 0


def _cores() -> int:
    """The cores this process may use (a container's share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_queue(queue: Path, jobs: int | None = None) -> int:
    """Run every queued job with `jobs` workers (default: one per core); non-zero if any failed.

    The queue is locked for as long as any of its workers runs (the worker processes
    hold the lock too), so a second runner, say after make was killed and started again,
    waits for the first one's workers instead of running the same notebook twice.
    """
    import fcntl

    if not queue.is_dir():
        return 0
    with open(queue / ".lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"{queue}: another runner is still working on this queue; waiting for it", file=sys.stderr)
            fcntl.flock(lock, fcntl.LOCK_EX)
        for stale in queue.glob("*.running-*"):  # left by a killed batch: queue it again
            os.replace(stale, stale.with_name(stale.name.split(".running-")[0] + ".json"))
        recover()
        sweep()  # kernel folders of runners killed earlier, even when there is nothing to run
        stage = config.BUILD / "stage"
        for leftover in stage.glob("*.staged.json"):  # staged by a batch that never published: void
            Staged.load(leftover).partial.unlink(missing_ok=True)
            leftover.unlink(missing_ok=True)
        queued = len(list(queue.glob("*.json")))
        if queued == 0:
            return 0
        workers = max(1, min(jobs or _cores(), queued))
        spawned: list[subprocess.Popen] = []
        try:
            # A worker process gets SIGTERM when this process dies, even by SIGKILL (on Linux), and stops.
            for _ in range(workers - 1):  # one at a time, so that a signal never loses one already started
                spawned.append(subprocess.Popen([sys.executable, "-m", "fbss_build.run", "--work", str(queue)],
                                                pass_fds=(lock.fileno(),), **_dies_with_this_process(signal.SIGTERM)))
            status = work(queue)
            for worker in spawned:
                status = max(status, 1 if worker.wait() else 0)
        finally:  # also when stopped by a signal (main): take the worker processes along
            for worker in spawned:
                if worker.poll() is None:
                    worker.terminate()
            for worker in spawned:
                try:
                    worker.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            sweep()  # the folders of worker processes that were killed
        # Still holding the lock: publish this batch, all of it or none of it.
        staged = [Staged.load(record) for record in sorted(stage.glob("*.staged.json"))]
        if status:
            for run_ in staged:
                shutil.rmtree(run_.stage, ignore_errors=True)
                run_.partial.unlink(missing_ok=True)
                run_.record().unlink(missing_ok=True)
            print(f"{queue}: some notebook runs failed (see above), so none of this batch is published "
                  "(the published figures and tables all stay from one state of the data); the failed runs and "
                  f"the {len(staged)} that succeeded stay out of date", file=sys.stderr)
            return status
        try:
            publish_all(staged)
        except RuntimeError as err:
            print(f"{queue}: {err}; nothing was published", file=sys.stderr)
            return 1
    return 0


def refresh(executed: list[Path]) -> int:
    """Store the outputs of default runs in notebooks/ (code cells unchanged)."""
    import nbformat

    for path in executed:
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
        nb.metadata.pop("papermill", None)
        for cell in nb.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
            if not cell.metadata.get("tags", True):  # papermill adds an empty list to every cell
                cell.metadata.pop("tags")
        # A per-topic run of the generic notebook refreshes the notebook itself.
        target = config.NOTEBOOKS / (path.name.split("--")[0].removesuffix(".ipynb") + ".ipynb")
        stat = target.stat()
        with atomic_path(target) as tmp:  # a kill mid-write leaves the committed notebook whole
            nbformat.write(nb, tmp)
        # Only outputs changed, not code: keep the mtime so make does not rerun everything.
        os.utime(target, (stat.st_atime, stat.st_mtime))
        print(f"refreshed {target.relative_to(config.ROOT)}")
    return 0


class Stopped(SystemExit):
    """A runner process told to stop by a signal (SIGTERM, SIGINT, SIGHUP); its status is 128 + the signal."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _stop(signum, frame):
    for each in STOP_SIGNALS:  # a second signal (Ctrl-C twice, make's SIGTERM after it) waits for the clean-up
        signal.signal(each, signal.SIG_IGN)
    raise Stopped(signum)


def main(argv: list[str] | None = None) -> int:
    """The command line. A signal that stops a runner process (make stops a recipe with SIGTERM; Ctrl-C;
    a closed terminal) first stops its workers, shuts its kernels down and removes their folders (the
    run it was on stays queued for the next runner); then the process ends by that signal, as if it had
    not caught it."""
    import threading

    if threading.current_thread() is not threading.main_thread():  # signals go to the main thread only
        return _main(argv)
    # A signal the caller chose to ignore (nohup, a background job's SIGINT) stays ignored.
    previous = {each: signal.signal(each, _stop) for each in STOP_SIGNALS
                if signal.getsignal(each) is not signal.SIG_IGN}
    try:
        return _main(argv)
    except Stopped as stop:
        stop_kernels()
        print(f"stopped by {signal.Signals(stop.signum).name}: nothing of the unfinished runs is published",
              file=sys.stderr)
        signal.signal(stop.signum, signal.SIG_DFL)
        os.kill(os.getpid(), stop.signum)
        return stop.code
    finally:
        stop_kernels()
        for each, handler in previous.items():
            signal.signal(each, handler)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fbss_build.run", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--output", type=Path)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"))
    parser.add_argument("--queue", type=Path, help="queue the run in this folder instead of running it")
    parser.add_argument("--run-queue", type=Path, metavar="QUEUE", help="run every run queued in this folder")
    parser.add_argument("--jobs", type=int, default=None, help="workers for --run-queue (default: one per core)")
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)  # one worker of --run-queue
    parser.add_argument("--refresh", action="store_true",
                        help="copy executed notebooks' outputs back into notebooks/")
    parser.add_argument("--adhoc", action="store_true",
                        help="run one notebook into build/runs/<notebook>--<parameters>/ (make run)")
    parser.add_argument("--set", default="", metavar='"NAME=VALUE ..."',
                        help="with --adhoc: parameters as make run's P gives them (after any -p)")
    args = parser.parse_args(argv)
    if args.refresh:
        return refresh(args.notebooks)
    if args.adhoc:
        if len(args.notebooks) != 1:
            parser.error("give one notebook")
        try:
            notebook = find_notebook(str(args.notebooks[0]))
            parameters = {name: parse_value(value) for name, value in args.parameter} | assignments(args.set)
        except ValueError as err:
            print(f"make run: {err}", file=sys.stderr)
            return 2
        return adhoc(notebook, parameters)
    if args.run_queue:
        return run_queue(args.run_queue.resolve(), args.jobs)
    if args.work:
        return work(args.work.resolve())
    if len(args.notebooks) != 1 or args.output is None:
        parser.error("give one notebook and --output")
    params = {name: parse_value(value) for name, value in args.parameter}
    if args.queue:
        enqueue(args.queue.resolve(), args.notebooks[0].resolve(), args.output.resolve(), params)
        return 0
    return run(args.notebooks[0].resolve(), args.output.resolve(), params)


if __name__ == "__main__":
    raise SystemExit(main())
