"""fbss_build.run: parameter parsing, staging, publishing and failed runs.

The tests that execute a notebook use a tiny notebook written into tmp_path and
run `python -m fbss_build.run` in a subprocess with FBSS_OUTPUT_ROOT set to
a scratch folder, so the project's own figures/, tables/ and build/ are never
touched. The others call the runner in-process with the config paths
redirected and (where noted) papermill replaced by a fake.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from fbss_build import run
from fbss_evidence import config
from fbss_evidence.notebook import FIGURE_MARK

KERNEL = "fbss-evidence"

PARAMETERS = 'output_dir = "x"\nlabel = "plain"\nfail = False\nextra = True'
WRITE_OUTPUTS = """\
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from fbss_evidence.outputs import save_table
from fbss_evidence.notebook import show_figure
from fbss_evidence.plotting import style

fig, ax = plt.subplots(figsize=(3, 2))
ax.plot([0, 1], [0, 2 if fail else 1])
style.save_figure(fig, output_dir, "t-fig", "png")
show_figure(fig, "t-fig.png")
save_table(pd.DataFrame({"label": [label], "type": [type(label).__name__]}), output_dir, "t-label")
if extra:
    save_table(pd.DataFrame({"x": [1]}), output_dir, "t-extra")
"""
MAYBE_FAIL = 'if fail:\n    raise RuntimeError("boom in cell two")\nprint("done")'


def write_notebook(path: Path, *cells: str, parameters: str = PARAMETERS) -> Path:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": f"Python ({KERNEL})", "language": "python"}
    params = new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, *(new_code_cell(c) for c in cells)]
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebook(tmp_path) -> Path:
    return write_notebook(tmp_path / "t.ipynb", WRITE_OUTPUTS, MAYBE_FAIL)


@pytest.fixture
def root(tmp_path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    return out


def run_cli(root: Path, notebook: Path, *params: tuple[str, str]) -> subprocess.CompletedProcess:
    args = [
        sys.executable,
        "-m",
        "fbss_build.run",
        str(notebook),
        "--output",
        str(root / "build" / f"{notebook.stem}.ipynb"),
    ]
    for name, value in params:
        args += ["-p", name, value]
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        env={**os.environ, "FBSS_OUTPUT_ROOT": str(root), "PYTHONIOENCODING": "utf-8"},
    )


def snapshot(root: Path) -> dict[str, str]:
    """sha256 of every file under figures/, tables/ and build/ (the executed notebooks aside)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def seed(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@pytest.fixture
def redirected(tmp_path, monkeypatch) -> Path:
    """config paths pointing at a scratch output root, as FBSS_OUTPUT_ROOT would."""
    out = tmp_path / "redirected"
    monkeypatch.setattr(config, "OUTPUT_ROOT", out)
    monkeypatch.setattr(config, "FIGURES", out / "figures")
    monkeypatch.setattr(config, "TABLES", out / "tables")
    monkeypatch.setattr(config, "BUILD", out / "build")
    return out


# -- parse_value ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0.9", 0.9),
        ("3", 3),
        ("-1", -1),
        ("True", True),
        ("False", False),
        ("None", None),
        ("'svg'", "svg"),
        ('"DL"', "DL"),
        ("svg", "svg"),
        ("clopper-pearson", "clopper-pearson"),
        ("", ""),
        ("1e3", 1000.0),
    ],
)
def test_parse_value_literals(text, expected):
    value = run.parse_value(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('x')",
        "1; import os",
        "open('/etc/passwd').read()",
        "[1, 2]",
        "{'a': 1}",
        "(1,)",
        "{1}",
        "1+2j",
        "b'bytes'",
        "lambda: 0",
        "a\"b'c",
        "line one\nline two",
        "x\"; __import__('os').system('touch pwned'); y=\"",
        "'''",
        "-" * 3000 + "1",  # RecursionError inside literal_eval
        "-" * 10000 + "1",  # MemoryError from the parser
        "(" * 500 + ")" * 500,
    ],
)
def test_parse_value_keeps_hostile_strings_as_the_same_string(text):
    value = run.parse_value(text)
    assert type(value) is str
    assert value == text


def test_parse_value_executes_nothing(tmp_path):
    sentinel = tmp_path / "pwned"
    code = f"__import__('pathlib').Path({str(sentinel)!r}).touch()"
    assert run.parse_value(code) == code
    assert run.parse_value(f"[{code}]") == f"[{code}]"
    assert not sentinel.exists()


# -- the command line -------------------------------------------------------------------------


def test_unknown_parameter_exits_2_with_the_declared_names(notebook, redirected, capsys):
    status = run.main(
        [str(notebook), "--output", str(redirected / "build" / "t.ipynb"), "-p", "colour", "red", "-p", "label", "x"]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert err.strip() == (
        f"{notebook}: unknown parameter(s) colour; the notebook declares extra, fail, label, output_dir"
    )
    assert not redirected.exists()  # nothing staged, nothing published


def test_main_needs_one_notebook_and_an_output(notebook, capsys):
    with pytest.raises(SystemExit) as info:
        run.main([str(notebook)])
    assert info.value.code == 2
    assert "give one notebook and --output" in capsys.readouterr().err


# -- destination / publish (no kernel) ------------------------------------------------------------


@pytest.mark.parametrize(
    "name, folder",
    [("a.png", "figures"), ("a.svg", "figures"), ("a.pdf", "figures"), ("a.csv", "tables"), ("a.md", "tables")],
)
def test_destination(redirected, name, folder):
    assert run.destination(Path("stage") / name) == redirected / folder / name


@pytest.mark.parametrize("name", ["notes.txt", "a.jpg", "subfolder", "a.png.tmp"])
def test_destination_refuses_other_files(redirected, name):
    with pytest.raises(RuntimeError, match=re.escape(f"notebook wrote {name}, which is neither a figure nor a table")):
        run.destination(Path("stage") / name)


# -- run() with papermill replaced (no kernel) ------------------------------------------------------


def _fake_papermill(monkeypatch, files: dict[str, bytes], error=None, shown=None):
    """papermill writing `files`, and an executed notebook that displays `shown` (by default every
    .png of `files`), each marked as notebook.show_figure marks it."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    calls = []
    shown = [f for f in files if f.endswith((".png", ".svg", ".pdf"))] if shown is None else shown

    def execute_notebook(input_path, output_path, parameters, **kwargs):
        calls.append(dict(parameters=parameters, **kwargs))
        seed(Path(parameters["output_dir"]), files)
        cell = new_code_cell("run.save_figure(...)")
        cell.outputs = [
            nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="}, metadata={FIGURE_MARK: name})
            for name in shown
        ]
        nb = new_notebook()
        nb.cells = [cell]
        nbformat.write(nb, output_path)
        if error:
            raise PapermillExecutionError(4, 5, "raise x", "ValueError", error, [])

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    return calls


def test_run_passes_parameters_and_the_stage_folder(notebook, redirected, monkeypatch):
    calls = _fake_papermill(monkeypatch, {"t-fig.svg": b"<svg/>"})
    output = redirected / "build" / "t.ipynb"
    assert run.run(notebook, output, {"label": "a\nb", "output_dir": "ignored"}) == 0
    (call,) = calls
    assert call["parameters"] == {"label": "a\nb", "output_dir": str(redirected / "build" / "stage" / "t")}
    assert call["kernel_name"] == "fbss-evidence"
    assert call["cwd"] == str(notebook.parent)
    assert "run.save_figure(...)" in output.read_text()
    assert (redirected / "figures" / "t-fig.svg").read_bytes() == b"<svg/>"
    assert not (redirected / "build" / "t.partial.ipynb").exists()


def test_run_failure_reports_cell_and_keeps_failed_copy(notebook, redirected, monkeypatch, capsys):
    seed(redirected, {"figures/t-fig.png": b"published", "build/t.failed.ipynb": b"stale"})
    _fake_papermill(monkeypatch, {"t-fig.png": b"half"}, error="bad value")
    output = redirected / "build" / "t.ipynb"
    assert run.run(notebook, output, {}) == 1
    err = capsys.readouterr().err
    assert "cell 4 (In [5]) failed: ValueError: bad value" in err
    assert str(redirected / "build" / "t.failed.ipynb") in err
    assert (redirected / "figures" / "t-fig.png").read_bytes() == b"published"
    assert "run.save_figure(...)" in (redirected / "build" / "t.failed.ipynb").read_text()
    assert not output.exists()
    assert not (redirected / "build" / "stage" / "t").exists()


def test_a_dead_kernel_is_reported_and_loses_nothing(notebook, redirected, monkeypatch, capsys):
    import papermill

    seed(redirected, {"figures/t-fig.png": b"published", "build/t.ipynb": b"the last good run"})

    def execute_notebook(input_path, output_path, parameters, **kwargs):
        seed(Path(parameters["output_dir"]), {"t-fig.png": b"half"})
        Path(output_path).write_text("executed so far")
        raise RuntimeError("Kernel died before replying to execute_request")

    monkeypatch.setattr(papermill, "execute_notebook", execute_notebook)
    output = redirected / "build" / "t.ipynb"
    assert run.run(notebook, output, {}) == 1
    err = capsys.readouterr().err
    assert "the run stopped: RuntimeError: Kernel died before replying" in err
    assert str(redirected / "build" / "t.failed.ipynb") in err
    assert (redirected / "figures" / "t-fig.png").read_bytes() == b"published"
    assert output.read_text() == "the last good run"
    assert (redirected / "build" / "t.failed.ipynb").read_text() == "executed so far"
    assert not (redirected / "build" / "t.partial.ipynb").exists()
    assert not (redirected / "build" / "stage" / "t").exists()


def test_run_with_a_stray_output_fails_and_publishes_nothing(notebook, redirected, monkeypatch, capsys):
    seed(redirected, {"figures/t-fig.png": b"published"})
    _fake_papermill(monkeypatch, {"t-fig.png": b"new", "t-notes.txt": b"?"})
    output = redirected / "build" / "t.ipynb"
    assert run.run(notebook, output, {}) == 1
    err = capsys.readouterr().err
    assert "notebook wrote t-notes.txt, which is neither a figure nor a table" in err
    assert (redirected / "figures" / "t-fig.png").read_bytes() == b"published"
    assert (redirected / "build" / "t.failed.ipynb").exists()
    assert not output.exists()
    assert not (redirected / "build" / "t.partial.ipynb").exists()


def test_a_run_that_writes_a_figure_it_does_not_show_fails_and_publishes_nothing(
    notebook, redirected, monkeypatch, capsys
):
    seed(redirected, {"figures/t-fig.png": b"published"})
    _fake_papermill(monkeypatch, {"t-fig.png": b"new", "t-other.png": b"new"}, shown=["t-other.png"])
    assert run.run(notebook, redirected / "build" / "t.ipynb", {}) == 1
    assert "wrote figure(s) it does not show: t-fig.png" in capsys.readouterr().err
    assert (redirected / "figures" / "t-fig.png").read_bytes() == b"published"
    assert not (redirected / "figures" / "t-other.png").exists()
    assert (redirected / "build" / "t.failed.ipynb").exists()


def test_unshown_figures_reads_the_marks_of_displayed_figures(tmp_path):
    folder = tmp_path / "stage"
    seed(folder, {"a.png": b"", "b.svg": b"", "c.csv": b""})
    executed = tmp_path / "x.ipynb"
    cell = new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": ""}, metadata={FIGURE_MARK: "a.png"})]
    nb = new_notebook()
    nb.cells = [cell]
    nbformat.write(nb, executed)
    assert run.unshown_figures(executed, folder) == ["b.svg"]


# -- real kernel runs ---------------------------------------------------------------------------


@pytest.mark.slow
def test_successful_run_publishes_and_removes_stale_outputs(notebook, root):
    seed(
        root,
        {
            "figures/t-old.png": b"from the previous run",
            "tables/t-old.csv": b"from the previous run",
            "tables/other.csv": b"another notebook's table",
            "build/t.outputs": b"figures/t-old.png\ntables/t-old.csv\ntables/t-label.csv\n",
            "build/t.failed.ipynb": b"an earlier failure",
        },
    )
    proc = run_cli(root, notebook)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (root / "figures").iterdir()) == ["t-fig.png"]
    assert sorted(p.name for p in (root / "tables").iterdir()) == [
        "other.csv",
        "t-extra.csv",
        "t-extra.md",
        "t-label.csv",
        "t-label.md",
    ]
    assert (root / "figures" / "t-fig.png").read_bytes().startswith(b"\x89PNG")
    assert (root / "tables" / "other.csv").read_bytes() == b"another notebook's table"
    assert (root / "build" / "t.outputs").read_text().split() == [
        "figures/t-fig.png",
        "tables/t-extra.csv",
        "tables/t-extra.md",
        "tables/t-label.csv",
        "tables/t-label.md",
    ]
    executed = nbformat.read(root / "build" / "t.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == "done\n"
    assert not (root / "build" / "t.failed.ipynb").exists()
    assert not (root / "build" / "t.partial.ipynb").exists()
    assert list((root / "build" / "stage").iterdir()) == []
    label = pd.read_csv(root / "tables" / "t-label.csv", keep_default_na=False)
    assert label.to_dict("records") == [{"label": "plain", "type": "str"}]


@pytest.mark.slow
def test_failed_run_leaves_published_outputs_and_keeps_the_failed_copy(notebook, root):
    seed(
        root,
        {
            "figures/t-fig.png": b"published figure",
            "tables/t-label.csv": b"published table",
            "tables/t-extra.csv": b"published table",
            "build/t.outputs": b"figures/t-fig.png\ntables/t-extra.csv\ntables/t-label.csv\n",
            "build/t.ipynb": b"the last good run",
        },
    )
    before = snapshot(root)
    proc = run_cli(root, notebook, ("fail", "True"), ("extra", "False"))
    assert proc.returncode == 1
    failed_path = root / "build" / "t.failed.ipynb"
    match = re.search(r"cell (\d+) \(In \[(\d+)\]\) failed: RuntimeError: boom in cell two", proc.stderr)
    assert match, proc.stderr
    assert f"executed copy with the error: {failed_path}" in proc.stderr
    assert "nothing is published; the published figures and tables stay as they were" in proc.stderr
    assert "Traceback" not in proc.stderr

    after = snapshot(root)
    assert after.pop("build/t.failed.ipynb")
    assert after == before  # byte-identical, manifest and last good notebook included
    assert list((root / "build" / "stage").iterdir()) == []

    failed = nbformat.read(failed_path, as_version=4)
    errors = [
        (c.execution_count, o)
        for c in failed.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o["output_type"] == "error"
    ]
    assert len(errors) == 1
    count, error = errors[0]
    assert (error["ename"], error["evalue"]) == ("RuntimeError", "boom in cell two")
    assert count == int(match.group(2))  # the message names the cell that failed


HOSTILE = (
    "x\"; __import__('pathlib').Path(r'SENTINEL').touch(); y=\"\n"
    "second line with 'single' and \"double\" quotes, a backslash \\ and \\n, "
    "''' and \"\"\" and {braces} and é"
)


@pytest.mark.slow
def test_hostile_parameter_reaches_the_notebook_as_the_same_string(notebook, root, tmp_path):
    sentinel = tmp_path / "pwned"
    value = HOSTILE.replace("SENTINEL", str(sentinel))
    assert run.parse_value(value) == value
    proc = run_cli(root, notebook, ("label", value))
    assert proc.returncode == 0, proc.stderr
    back = pd.read_csv(root / "tables" / "t-label.csv", keep_default_na=False)
    assert back.loc[0, "type"] == "str"
    assert back.loc[0, "label"] == value
    assert not sentinel.exists()
    assert not (notebook.parent / "pwned").exists()


# -- publishing runs together -------------------------------------------------------------------


def _staged(redirected: Path, name: str, files: dict[str, bytes]) -> run.Staged:
    stage = redirected / "build" / "stage" / name
    seed(stage, files)
    partial = stage.with_name(f"{name}.partial.ipynb")
    partial.write_text(f"executed {name}")
    return run.Staged(name, stage, partial, redirected / "build" / f"{name}.ipynb")


def test_publish_all_moves_every_run_then_the_executed_notebooks(redirected):
    a = _staged(redirected, "a", {"a-fig.png": b"A", "a-tab.csv": b"a"})
    b = _staged(redirected, "b", {"b-tab.md": b"b"})
    published = run.publish_all([a, b])
    assert sorted(p.name for p in published) == ["a-fig.png", "a-tab.csv", "b-tab.md"]
    assert (redirected / "build" / "a.ipynb").read_text() == "executed a"
    assert (redirected / "build" / "b.outputs").read_text() == "tables/b-tab.md\n"
    assert not (redirected / "build" / run.JOURNAL).exists()
    assert not a.stage.exists() and not b.stage.exists()


def test_a_stray_file_in_one_run_publishes_none_of_the_batch(redirected):
    a = _staged(redirected, "a", {"a-fig.png": b"A"})
    b = _staged(redirected, "b", {"b-notes.txt": b"?"})
    with pytest.raises(RuntimeError, match="b-notes.txt"):
        run.publish_all([a, b])
    assert not (redirected / "figures").exists() and not (redirected / "build" / "a.ipynb").exists()


def test_a_publication_killed_half_way_is_finished_by_the_next_runner(redirected, monkeypatch):
    a = _staged(redirected, "a", {"a-fig.png": b"A"})
    b = _staged(redirected, "b", {"b-fig.png": b"B"})
    real_replace, calls = os.replace, []

    def dies_after_two_moves(src, dst):
        calls.append(src)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")  # as SIGKILL would stop it, between two renames
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", dies_after_two_moves)
    with pytest.raises(KeyboardInterrupt):
        run.publish_all([a, b])
    monkeypatch.setattr(os, "replace", real_replace)
    journal = redirected / "build" / run.JOURNAL
    assert journal.exists()  # the figures are out, the executed notebooks not yet
    run.recover()
    assert not journal.exists()
    assert (redirected / "figures" / "b-fig.png").read_bytes() == b"B"
    assert (redirected / "build" / "a.ipynb").exists() and (redirected / "build" / "b.ipynb").exists()


@pytest.mark.slow
def test_adhoc_runs_go_to_a_folder_of_their_own_never_to_the_published_ones(notebook, root):
    args = [sys.executable, "-m", "fbss_build.run", "--adhoc", str(notebook), "-p", "label", "other"]
    env = {**os.environ, "FBSS_OUTPUT_ROOT": str(root), "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(args, capture_output=True, text=True, encoding="utf-8", timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    folder = root / "build" / "runs" / "t--label=other"
    assert sorted(p.name for p in folder.iterdir()) == [
        "t-extra.csv",
        "t-extra.md",
        "t-fig.png",
        "t-label.csv",
        "t-label.md",
        "t.ipynb",
    ]
    assert not (root / "figures").exists() and not (root / "tables").exists()
    misspelled = subprocess.run([*args[:5], "-p", "lable", "x"], capture_output=True, text=True, timeout=120, env=env)
    assert misspelled.returncode == 2
    assert "unknown parameter 'lable' (did you mean 'label'?)" in misspelled.stderr


# -- make run: the notebook named every way, its parameters, output_dir -------------------------


@pytest.mark.parametrize(
    "given",
    [
        "07-compare-topic",
        "07-compare-topic.ipynb",
        "notebooks/07-compare-topic.ipynb",
        "./notebooks/07-compare-topic.ipynb",
        "notebooks/07-compare-topic.py",
        str(config.NOTEBOOKS / "07-compare-topic.ipynb"),
    ],
)
def test_make_run_takes_a_name_a_name_with_ipynb_or_a_path(given, monkeypatch):
    monkeypatch.chdir(config.ROOT)
    assert run.find_notebook(given) == (config.NOTEBOOKS / "07-compare-topic.ipynb").resolve()


def test_a_notebook_path_works_from_another_folder_too(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert run.find_notebook("notebooks/09-statistics.ipynb") == (config.NOTEBOOKS / "09-statistics.ipynb").resolve()


def test_an_unknown_notebook_is_named_with_the_nearest_and_the_list():
    with pytest.raises(
        ValueError,
        match=r"no notebook '07-compre' \(did you mean '07-compare-topic'\?\); give a "
        r"name or a path, one of: 01-evidence-map, ",
    ):
        run.find_notebook("07-compre")


def test_make_run_parameters_are_name_value_pairs_read_as_data():
    assert run.assignments("topic=opioids ci_level=0.9 hartung_knapp=True label='two words' x=a=b") == {
        "topic": "opioids",
        "ci_level": 0.9,
        "hartung_knapp": True,
        "label": "two words",
        "x": "a=b",
    }
    assert run.assignments("") == {}
    with pytest.raises(ValueError, match="'topic' is not name=value"):
        run.assignments("topic")


def test_main_reports_a_bad_notebook_or_parameter_without_a_traceback(capsys):
    assert run.main(["--adhoc", "no-such-notebook", "--set", "topic=x"]) == 2
    assert run.main(["--adhoc", "07-compare-topic", "--set", "topic"]) == 2
    err = capsys.readouterr().err
    assert "make run: no notebook 'no-such-notebook'" in err and "make run: 'topic' is not name=value" in err
    assert "Traceback" not in err


def test_a_bad_value_is_refused_before_a_kernel_starts(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(config, "BUILD", tmp_path / "build")
    monkeypatch.setattr(run, "execute", lambda *a, **k: pytest.fail("a kernel was started"))
    notebook = config.NOTEBOOKS / "07-compare-topic.ipynb"
    assert run.adhoc(notebook, {"ci_level": 3}) == 2
    assert run.adhoc(notebook, {"output_dir": "figures"}) == 2
    assert run.adhoc(notebook, {"output_dir": "data/runs"}) == 2
    err = capsys.readouterr().err
    assert "parameter ci_level=3 must be a number in [0.5, 1)" in err
    assert "figures/ holds the outputs of make's default runs" in err and "data/ holds the curated tables" in err
    assert not (tmp_path / "build").exists()


@pytest.mark.slow
def test_adhoc_output_dir_takes_the_run_and_keeps_the_folder_s_other_files(notebook, root, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    env = {**os.environ, "FBSS_OUTPUT_ROOT": str(root), "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "fbss_build.run", "--adhoc", str(notebook), "--set", f"label=other output_dir={mine}"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in mine.iterdir()) == [
        "keep.txt",
        "t-extra.csv",
        "t-extra.md",
        "t-fig.png",
        "t-label.csv",
        "t-label.md",
        "t.ipynb",
    ]
    assert pd.read_csv(mine / "t-label.csv")["label"].tolist() == ["other"]
    assert not (root / "build" / "runs").exists() and not list(tmp_path.glob(".mine*"))


def test_queueing_a_run_imports_no_analysis_stack():
    # make queues every out-of-date run with one process each: were queueing to import
    # pandas (0.6 s), a build of 31 runs would spend some 19 s before its first notebook.
    probe = "import sys, fbss_build.run; print(sorted({'pandas', 'numpy', 'matplotlib'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_stop_signal_the_caller_ignores_stays_ignored(monkeypatch):
    # nohup and background jobs ignore SIGHUP and SIGINT on purpose: the runner must not undo that.
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set from the main thread")
    seen = {}
    monkeypatch.setattr(
        run,
        "_main",
        lambda argv: seen.update(hup=signal.getsignal(signal.SIGHUP), term=signal.getsignal(signal.SIGTERM)),
    )
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        run.main([])
        after = signal.getsignal(signal.SIGHUP)
    finally:
        signal.signal(signal.SIGHUP, before)
    assert seen == {"hup": signal.SIG_IGN, "term": run._stop}
    assert after is signal.SIG_IGN
