"""What every analysis notebook does first, and how it saves what it shows.

A notebook's second cell is

    from fbss_evidence import notebook
    run = notebook.start("02-failure-rates", globals())

`start` reads the notebook's own parameters cell (in notebooks/<name>.ipynb) to learn
which parameters it declares and their defaults, takes their values from the
notebook's namespace (the parameters cell, and the cell papermill injects after it),
checks every value, refuses a parameter the notebook does not declare (a misspelling
on the command line, in papermill or in JupyterLab), sets the chart style, and loads
and validates the data. Figures and tables go to `output_dir`: the staging folder
`make` passes, or, when it is None, a folder of its own under build/runs/ named by the
notebook and the parameters that differ from its defaults (runs.run_name: the same rule
as `make run`), so that no run ever overwrites another or the published figures/ and
tables/. The folder is made by the first figure or table saved, so a run stopped by a
wrong parameter or data leaves nothing behind.
"""
from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import config, evidence, runs
from .dataset import DataPaths, Dataset, load_validated
from .outputs import save_table
from .params import ParameterError, check_parameters
from .plotting import style

PARAMETERS_TAG = "parameters"
INJECTED_MARK = "# Parameters"  # how papermill's injected cell (and ours) begin


def declared_parameters(name: str) -> dict:
    """The parameters (name -> default) that notebooks/<name>.ipynb declares in its parameters cell."""
    return notebook_parameters(config.NOTEBOOKS / f"{name}.ipynb")


def notebook_parameters(path: Path) -> dict:
    """The one reader of a notebook's parameters cell (name -> default), for the notebooks themselves,
    make's runner and `make run`."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ParameterError(f"cannot read the notebook {path}: {err}") from None
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            return assignments(source)
    raise ParameterError(f"{path} has no cell tagged 'parameters'")


def assignments(source: str) -> dict:
    """name -> literal value of each plain assignment in a cell's source."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                found[node.targets[0].id] = None
    return found


def injected_names(namespace: dict) -> set[str]:
    """Names assigned by the parameters cells the kernel has run (papermill's injected cell, or
    the notebook's own parameters cell as edited in JupyterLab)."""
    names: set[str] = set()
    for source in namespace.get("In", []) or []:
        if isinstance(source, str) and source.lstrip().startswith(INJECTED_MARK):
            try:
                names |= set(assignments(source))
            except SyntaxError:
                continue
    return names


FIGURE_MARK = "fbss_figure"  # the display metadata key naming the file a shown figure was written to


def show_figure(fig, filename: str) -> None:
    """Display `fig` once in a notebook (then close it, so the inline backend does not show it again)."""
    from IPython import get_ipython

    if get_ipython() is None:  # plain Python (a script, a unit test): nothing to show on
        return
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig, metadata={FIGURE_MARK: filename})
    plt.close(fig)


@dataclass
class Run:
    """One run of a notebook: its parameters, its data, and where its outputs go."""

    name: str
    params: dict
    output_dir: Path
    data: Dataset
    claims: pd.DataFrame  # every claim, joined with its source, study and audit verdict
    saved: list[Path] = field(default_factory=list)

    @property
    def fig_format(self) -> str:
        return self.params.get("fig_format", "png")

    def save_figure(self, fig, name: str) -> None:
        """Write the figure and show it in the notebook, marked with its file's name (returns nothing, so
        that a cell ending with it shows only the figure; the path is in `saved`).

        Shown here, not left to the inline backend's end-of-cell flush: that flush
        depends on matplotlib's interactive state, which a kernel that has run other
        notebooks may have lost. The runner checks every figure written was shown
        (fbss_build.run.unshown_figures) by this mark.
        """
        path = style.save_figure(fig, self.output_dir, name, self.fig_format)
        self.saved.append(path)
        show_figure(fig, path.name)

    def save_text(self, text: str, filename: str) -> None:
        """Write a data file that is neither a figure nor a table (a JSON-LD export) into the outputs."""
        from .outputs import write_text

        self.saved.append(write_text(self.output_dir / filename, text))

    def save_table(self, frame: pd.DataFrame, name: str) -> pd.DataFrame:
        """Write the table (CSV and Markdown) and return it, to be shown."""
        self.saved += save_table(frame, self.output_dir, name)
        return frame

    def caption(self, fig, rows: pd.DataFrame | None = None, extra: str = "", table: str = "claims") -> None:
        """Put the caption under the figure: the pages and cited studies `rows` (of data/<table>.csv) draw
        on, then `extra`."""
        style.caption(fig, source_note(rows, extra, table) if rows is not None else extra)


def source_note(rows: pd.DataFrame, extra: str = "", table: str = "claims") -> str:
    """Name the pages and cited studies a chart draws on, and the table its rows come from."""
    pages = ", ".join(sorted(set(rows["source"].dropna())))
    studies = sorted(set(rows["study"].dropna())) if "study" in rows else []
    text = f"Pages: {pages}." if pages else ""
    if studies:
        text += f" Cited studies: {', '.join(studies)}."
    text += f" Data: data/{table}.csv (verbatim quotes in data/sources/)."
    return f"{text} {extra}".strip()


def data_paths(values: dict) -> DataPaths:
    """The tables a run reads: those of data_dir, with claims_path instead of its claims when given."""
    claims = values.get("claims_path")
    return DataPaths.in_folder(values.get("data_dir", config.DATA), **({"claims": claims} if claims else {}))


def start(name: str, namespace: dict) -> Run:
    """Check the notebook's parameters, set the style, load and validate the data (see the module)."""
    defaults = declared_parameters(name)
    unknown = injected_names(namespace) - set(defaults)
    if unknown:
        check_parameters({n: namespace.get(n) for n in sorted(unknown)}, declared=defaults)
    missing = [n for n in defaults if n not in namespace]
    if missing:
        raise ParameterError(f"run the parameters cell first (missing: {', '.join(missing)})")
    values = {n: namespace[n] for n in defaults}
    check_parameters(values, declared=defaults)
    try:
        output_dir = config.resolve(values["output_dir"]) if values.get("output_dir") is not None \
            else runs.run_folder(name, values, defaults)
    except runs.RunNameError as err:
        raise ParameterError(str(err)) from None
    style.apply_style()
    data = load_validated(data_paths(values))
    if "question" in values and values["question"] not in set(data.questions["question_id"]):
        raise ParameterError(f"parameter question={values['question']!r} is not a question of the data; use one of: "
                             + ", ".join(data.questions["question_id"]))
    return Run(name, values, output_dir, data, evidence.enrich(data))


def expect(what: str, actual, expected) -> object:
    """A sanity check in sight: show the number, and stop if it is not the one expected."""
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")
    return f"{what}: {actual} (as expected)"
