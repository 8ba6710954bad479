"""Project-level promises: the environment files agree, raw data is unchanged, the real data validates."""

import hashlib
import re
import tomllib

import pandas as pd
import pytest

from fbss_evidence import config
from fbss_evidence.dataset import load_dataset


def _names(requirements):
    return {re.split(r"[<>=\[; ]", r.strip(), maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_environment_yml_lists_the_same_packages_as_pyproject():
    project = tomllib.loads((config.ROOT / "pyproject.toml").read_text())["project"]
    conda = (config.ROOT / "environment.yml").read_text().split("dependencies:", 1)[1]
    listed = {
        line.strip()[2:]
        for line in conda.splitlines()
        if line.strip().startswith("- ") and not line.strip().startswith(("- pip", "- python", "- -e"))
    }
    assert _names(listed) == _names(project["dependencies"])


def test_lock_pins_every_direct_dependency_and_leaves_out_the_slow_iri_parser():
    project = tomllib.loads((config.ROOT / "pyproject.toml").read_text())["project"]
    pinned = {
        line.split("==")[0].lower().replace("_", "-")
        for line in (config.ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert _names(project["dependencies"]) <= pinned
    assert "rfc3987-syntax" not in pinned and "lark" not in pinned


@pytest.mark.parametrize("row", pd.read_csv(config.SOURCES_CSV).to_dict("records"), ids=lambda r: r["source_id"])
def test_source_documents_match_their_recorded_hash(row):
    digest = hashlib.sha256((config.DATA / row["file"]).read_bytes()).hexdigest()
    assert digest == row["sha256"], f"{row['file']} was edited; raw data must stay as retrieved"


def test_the_real_dataset_validates():
    data = load_dataset()
    assert len(data.claims) > 100
    assert set(data.claims["source_id"]) == set(data.sources["source_id"])


def test_every_cited_claim_has_an_audit_row():
    data = load_dataset()
    cited = set(data.claims.loc[data.claims["basis"] == "cited_study", "claim_id"])
    assert cited == set(data.audit["claim_id"])


def test_ci_calls_exactly_the_readme_test_command():
    run = (config.ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", run, re.M)
    assert "make test" in (config.ROOT / "README.md").read_text()


NOTEBOOK_FILES = sorted((config.ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_each_notebook_and_its_percent_script_hold_the_same_cells(notebook):
    import jupytext

    def cells(path):
        nb = jupytext.read(path)
        return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]

    script = notebook.with_suffix(".py")
    assert script.exists(), f"{script.name} is missing: run `jupytext --sync {notebook}`"
    assert cells(script) == cells(notebook), f"out of step: run `jupytext --sync {notebook.relative_to(config.ROOT)}`"
