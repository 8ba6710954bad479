"""Run one notebook with papermill and publish its figures and tables.

    python -m fbss_evidence.run notebooks/01-evidence-map.ipynb --output build/01-evidence-map.ipynb [-p name value ...]

The notebook writes into a private staging folder. Only when every cell has
succeeded are its files moved into figures/ and tables/ (one rename each), and
the executed notebook moved to --output last, so `make` never sees a target
newer than a failed or killed run. A failed run keeps its executed copy as
build/<name>.failed.ipynb and leaves the published outputs untouched.
"""
from __future__ import annotations

import argparse
import ast
import logging
import os
import shutil
import sys
from pathlib import Path

from . import config
from .plotting.style import FIGURE_FORMATS

KERNEL = "fbss-evidence"
TABLE_SUFFIXES = (".csv", ".md")


def parse_value(text: str):
    """A -p value as Python data (number, bool, None, string); never evaluated as code."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, RecursionError, MemoryError):  # deep nesting: "-" * 10000 + "1"
        return text
    return value if isinstance(value, (int, float, bool, type(None), str)) else text


def declared_parameters(notebook: Path) -> set[str]:
    import papermill

    return set(papermill.inspect_notebook(str(notebook)))


def destination(path: Path) -> Path:
    if path.suffix.lstrip(".") in FIGURE_FORMATS:
        return config.FIGURES / path.name
    if path.suffix in TABLE_SUFFIXES:
        return config.TABLES / path.name
    raise RuntimeError(f"notebook wrote {path.name}, which is neither a figure nor a table")


def publish(stage: Path, manifest: Path) -> list[Path]:
    """Move staged outputs into place; drop outputs the previous run made but this one did not."""
    previous = set(manifest.read_text().split()) if manifest.exists() else set()
    published = []
    # Every destination first, so that one stray file publishes nothing rather than a part.
    moves = [(staged, destination(staged)) for staged in sorted(stage.iterdir())]
    for staged, target in moves:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        published.append(target)
    current = {str(p.relative_to(config.OUTPUT_ROOT)) for p in published}
    for stale in previous - current:
        (config.OUTPUT_ROOT / stale).unlink(missing_ok=True)
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text("\n".join(sorted(current)) + "\n")
    os.replace(tmp, manifest)
    return published


def run(notebook: Path, output: Path, parameters: dict) -> int:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    unknown = set(parameters) - declared_parameters(notebook)
    if unknown:
        print(f"{notebook}: unknown parameter(s) {', '.join(sorted(unknown))}; the notebook declares "
              f"{', '.join(sorted(declared_parameters(notebook)))}", file=sys.stderr)
        return 2
    name = output.name.removesuffix(".ipynb")
    stage = config.BUILD / "stage" / name
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    partial = output.with_name(f"{name}.partial.ipynb")
    failed = output.with_name(f"{name}.failed.ipynb")
    output.parent.mkdir(parents=True, exist_ok=True)
    logging.getLogger("papermill").setLevel(logging.WARNING)
    try:
        papermill.execute_notebook(
            str(notebook), str(partial),
            parameters={**parameters, "output_dir": str(stage)},
            kernel_name=KERNEL, cwd=str(notebook.parent),
            progress_bar=False, log_output=False,
        )
    except PapermillExecutionError as err:
        os.replace(partial, failed)
        shutil.rmtree(stage, ignore_errors=True)
        print(f"{notebook}: cell {err.cell_index} (In [{err.exec_count}]) failed: {err.ename}: "
              f"{err.evalue}\n  executed copy with the error: {failed}\n"
              "  published figures and tables were left as they were.", file=sys.stderr)
        return 1
    try:
        publish(stage, config.BUILD / f"{name}.outputs")
    except RuntimeError as err:
        os.replace(partial, failed)
        shutil.rmtree(stage, ignore_errors=True)
        print(f"{notebook}: {err}; nothing was published\n  executed copy: {failed}", file=sys.stderr)
        return 1
    shutil.rmtree(stage, ignore_errors=True)
    failed.unlink(missing_ok=True)
    os.replace(partial, output)
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
        # A per-topic run of the generic notebook refreshes the notebook itself.
        target = config.NOTEBOOKS / (path.name.split("--")[0].removesuffix(".ipynb") + ".ipynb")
        stat = target.stat()
        nbformat.write(nb, target)
        # Only outputs changed, not code: keep the mtime so make does not rerun everything.
        os.utime(target, (stat.st_atime, stat.st_mtime))
        print(f"refreshed {target.relative_to(config.ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fbss_evidence.run", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--output", type=Path)
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"))
    parser.add_argument("--refresh", action="store_true",
                        help="copy executed notebooks' outputs back into notebooks/")
    args = parser.parse_args(argv)
    if args.refresh:
        return refresh(args.notebooks)
    if len(args.notebooks) != 1 or args.output is None:
        parser.error("give one notebook and --output")
    params = {name: parse_value(value) for name, value in args.parameter}
    return run(args.notebooks[0].resolve(), args.output.resolve(), params)


if __name__ == "__main__":
    raise SystemExit(main())
