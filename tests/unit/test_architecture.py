"""The two wings: the analysis package (fbss_evidence, what notebooks import) never imports the build
wing (fbss_build) or the notebook machinery, and no module imports itself round a circle."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
NOTEBOOK_MACHINERY = {"papermill", "nbclient", "jupyter_client", "nbconvert", "fbss_build"}


def module_name(path: Path, src: Path = SRC) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, src: Path = SRC) -> set[str]:
    """Every module a file imports, anywhere in it (a function-level import counts too), resolved."""
    name = module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            # "from . import ledger" imports the module base.ledger.
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def graph(src: Path = SRC) -> dict[str, set[str]]:
    modules = {module_name(p, src): p for p in src.rglob("*.py")}
    return {name: {m for m in imports(path, src) if m in modules and m != name} for name, path in modules.items()}


def cycle(g: dict[str, set[str]]) -> list[str] | None:
    """An import circle of the graph, or None."""
    # A package imports its __init__ implicitly; only module-to-module edges matter here.
    edges = {name: {m for m in deps if not name.startswith(m + ".")} for name, deps in g.items()}
    try:
        list(graphlib.TopologicalSorter(edges).static_order())
    except graphlib.CycleError as err:
        return err.args[1]
    return None


def test_the_graph_is_read_from_the_sources():
    g = graph()
    assert {"fbss_evidence.dataset", "fbss_evidence.ledger", "fbss_build.run"} <= set(g)
    assert "fbss_evidence.ledger" in g["fbss_evidence.dataset"]  # a function-level "from . import ledger"
    assert "fbss_evidence.config" in g["fbss_build.run"]


@pytest.mark.parametrize("path", sorted((SRC / "fbss_evidence").rglob("*.py")), ids=lambda p: p.name)
def test_the_analysis_package_never_imports_the_build_wing_or_notebook_machinery(path):
    top_level = {m.split(".")[0] for m in imports(path)}
    assert not top_level & NOTEBOOK_MACHINERY, f"{path.relative_to(SRC)} imports {top_level & NOTEBOOK_MACHINERY}"


def test_no_import_cycle():
    found = cycle(graph())
    assert found is None, f"import cycle: {' -> '.join(found)}"


def test_a_cycle_hidden_in_a_function_would_be_found(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def late():\n    from .a import thing\n")
    (package / "c.py").write_text("import pkg.a\n")
    g = graph(tmp_path)
    assert "pkg.b" in g["pkg.a"] and "pkg.a" in g["pkg.b"] and "pkg.a" in g["pkg.c"]
    assert set(cycle(g)) >= {"pkg.a", "pkg.b"}
    (package / "b.py").write_text("def late():\n    pass\n")
    assert cycle(graph(tmp_path)) is None


def test_git_ignores_no_file_of_the_project():
    # A pattern meant for the top-level build/ folder once matched tests/build/ too, and a new test module
    # there never reached the repository (CI never ran it). Only outputs and caches may be ignored.
    import shutil
    import subprocess

    root = SRC.parent
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(
        [
            "git",
            "ls-files",
            "--others",
            "--ignored",
            "--exclude-standard",
            "--",
            "src",
            "tests",
            "notebooks",
            "data",
            "docs",
            "tools",
            ".ci",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    caches = ("__pycache__", ".hypothesis", ".pytest_cache", ".ipynb_checkpoints", ".egg-info")
    assert [p for p in ignored if not any(c in p for c in caches)] == []
