"""The benchmark's helpers (no timing here: `make bench` measures)."""

from __future__ import annotations

import csv
import json
import math
import shutil

import pytest

from fbss_build import bench
from fbss_evidence import config
from fbss_evidence.dataset import DataPaths, load_dataset


def test_makefile_runs_are_the_notebooks_and_one_generic_run_per_topic_and_question_of_the_data():
    from fbss_evidence import runs as lists

    runs = bench.makefile_runs(config.ROOT / "Makefile")
    names = [r.name for r in runs]
    assert len(names) == len(set(names))
    notebooks = bench.make_variable((config.ROOT / "Makefile").read_text(), "NOTEBOOKS")
    topics, questions = lists.topics(), lists.questions()
    assert names == notebooks + [f"07-compare-topic--{t}" for t in topics] + [
        f"10-claims-vs-literature--{q}" for q in questions
    ]
    assert all((config.NOTEBOOKS / f"{r.notebook}.ipynb").is_file() for r in runs)
    assert {r.parameters["topic"] for r in runs if "topic" in r.parameters} == set(topics)
    assert {r.parameters["question"] for r in runs if "question" in r.parameters} == set(questions)


def test_make_variable_joins_continuation_lines_and_drops_comments():
    text = "X := \\\n  a \\\n  b # note\nY = c\n"
    assert bench.make_variable(text, "X") == ["a", "b"]
    assert bench.make_variable(text, "Y") == ["c"]
    with pytest.raises(ValueError):
        bench.make_variable(text, "Z")


def test_code_cells_mark_the_parameters_cell_and_drop_ipython_lines():
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": "# t", "metadata": {}},
            {"cell_type": "code", "source": ["a = 1\n", "%matplotlib inline"], "metadata": {"tags": ["parameters"]}},
            {"cell_type": "code", "source": "!ls\nb = a + 1", "metadata": {}},
        ]
    }
    cells = bench.code_cells(nb)
    assert cells == [("a = 1\npass", True), ("pass\nb = a + 1", False)]
    namespace = {}
    for source, _ in cells:
        exec(source, namespace)
    assert namespace["b"] == 2


@pytest.mark.whole_data  # validates a synthetic copy of data/
@pytest.mark.parametrize("n", [150, 250])
def test_synthetic_dataset_is_valid(tmp_path, n):
    paths = bench.synthetic_dataset(n, tmp_path)
    data = load_dataset(DataPaths.in_folder(paths["data"]))  # every table, both ledgers included
    assert len(data.claims) == n
    assert data.claims["claim_id"].is_unique
    cited = set(data.claims.loc[data.claims["basis"] == "cited_study", "claim_id"])
    assert set(data.audit["claim_id"]) == cited  # one audit row per cited claim


@pytest.mark.whole_data  # validates a synthetic copy of data/
def test_synthetic_copies_vary_their_values_within_rounding(tmp_path):
    paths = bench.synthetic_dataset(300, tmp_path)
    with open(paths["claims"], encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    real = list(csv.DictReader(open(config.DATA / "claims.csv", encoding="utf-8", newline="")))
    real, copies = rows[: len(real)], rows[len(real) :]
    assert all(r["claim_id"].startswith("syn-") for r in copies)
    moved = [
        (float(c["value"]), float(r["value"]))
        for c, r in zip(copies, real)
        if c["value"] and not c["value_low"] and c["value"] != r["value"]
    ]
    assert moved
    assert all(abs(a - b) <= bench.VALUE_JITTER + 1e-9 for a, b in moved)


@pytest.mark.whole_data  # validates a synthetic copy of data/
def test_synthetic_dataset_from_edited_claims_is_valid(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(config.DATA, data)
    bench.edit_one_value(data / "claims.csv")  # a value already moved within rounding
    paths = bench.synthetic_dataset(2000, tmp_path / "syn", data)
    load_dataset(DataPaths.in_folder(paths["data"]))


def test_growth_exponent():
    sizes = [1e3, 1e4, 1e5, 1e6]
    assert bench.growth_exponent(sizes, [5, 1, 10, 100]) == pytest.approx(1.0)
    assert bench.growth_exponent(sizes, [1, 2, 200, 20000]) == pytest.approx(2.0)
    assert bench.growth_exponent(sizes, [1, 3, 3, 3]) == pytest.approx(0.0)
    assert bench.growth_exponent(sizes, [1, 1, None, 10]) == pytest.approx(0.5)
    assert bench.growth_exponent([1e3, 1e4], [1, 2]) is None  # one point from 1e4 up
    assert bench.growth_exponent(sizes, [1, 2, 4, 8], from_n=1e3) == pytest.approx(math.log10(2))


@pytest.mark.whole_data  # validates a synthetic copy of data/
def test_edit_one_value_keeps_the_claims_valid(tmp_path):
    claims = tmp_path / "claims.csv"
    claims.write_bytes((config.DATA / "claims.csv").read_bytes())
    note = bench.edit_one_value(claims)
    changed = [
        (a, b)
        for a, b in zip(claims.read_text().splitlines(), (config.DATA / "claims.csv").read_text().splitlines())
        if a != b
    ]
    assert len(changed) == 1 and note.split(":")[0] in changed[0][0]
    load_dataset(DataPaths.in_folder(config.DATA, claims=claims))


def test_goals_and_report_from_a_result():
    result = {
        "machine": {"load_average_before": (1, 1, 1), "load_average_after": (1, 1, 1)},
        "runs": ["a", "b"],
        "floor_s": 10.0,
        "full_s": 25.0,
        "noop_s": 0.1,
        "incremental_claim_s": 25.0,
        "incremental_s": 25.0,
        "incremental_notebook_s": 3.0,
        "test_s": 90.0,
        "test_returncode": 0,
        "scaling": [
            {
                "n": n,
                "read_csv_s": n / 4e4,
                "validate_s": n / 1e4,
                "notebook_s": n / 1e4,
                "validate_returncode": 0,
                "notebook_returncode": 0,
                "validate_max_rss_bytes": 2**20,
                "notebook_max_rss_bytes": 2**20,
            }
            for n in (10_000, 100_000, 1_000_000)
        ],
        "growth_exponent": {"validate": 1.0, "notebook": 1.3},
    }
    g = bench.goals(result)
    assert not g["full_within_1.5x_limit"]["met"] and g["full_within_1.5x_limit"]["value"] == pytest.approx(2.5)
    assert not g["claim_edit_within_1.5x_limit"]["met"] and g["noop_under_0.5_s"]["met"]
    assert not g["1e6_validate_plus_notebook_under_60_s"]["met"] and g["1e6_under_4_GiB"]["met"]
    assert g["validate_no_faster_than_linear"]["met"] and not g["notebook_no_faster_than_linear"]["met"]
    assert g["test_within_10x_limit"]["met"] and g["test_within_10x_limit"]["value"] == pytest.approx(9.0)
    assert not any("read_csv" in key for key in g)  # validating within 3x a plain read is no longer a goal
    text = bench.report({**result, "goals": g})
    assert "2.50x" in text and "MISSED full_within_1.5x_limit" in text
    json.dumps(result)


def test_the_scratch_copy_keeps_every_test_folder_and_leaves_out_the_outputs(tmp_path):
    # The copy once left out every folder named build, tests/build/ included, so `make test` in the
    # copy measured 702 of CI's 819 tests.
    root = tmp_path / "project"
    for path in (
        "tests/build/test_x.py",
        "tests/unit/test_y.py",
        "build/run.ipynb",
        "src/pkg/__pycache__/m.pyc",
        "src/pkg/build/keep.py",
        ".git/HEAD",
        ".venv/bin/python",
    ):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("x")
    scratch = bench.Scratch(root, parent=tmp_path)
    try:
        copied = {
            p.relative_to(scratch.dir).as_posix()
            for p in scratch.dir.rglob("*")
            if p.is_file() and ".venv" not in p.parts
        }
        venv_is_shared = (scratch.dir / ".venv").is_symlink()
    finally:
        scratch.remove()
    assert {"tests/build/test_x.py", "tests/unit/test_y.py", "src/pkg/build/keep.py"} <= copied
    assert not copied & {"build/run.ipynb", "src/pkg/__pycache__/m.pyc", ".git/HEAD"}
    assert venv_is_shared  # the environment is linked, never copied
