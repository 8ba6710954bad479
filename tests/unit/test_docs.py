"""The documents state each fact of the code once more only where a reader needs it; these tests keep
those copies in step with the code (the vocabularies, reason codes, notebooks and figures)."""

from __future__ import annotations

import re

import pytest

from fbss_evidence import config, literature, synthesis, vocab

DOCS = config.ROOT / "docs"


def table_keys(text: str, header: str) -> list[str]:
    """The first column (`code` cells) of the Markdown table whose header row starts with `header`."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header} |"))
    keys = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        keys += re.findall(r"`([a-z_]+)`", line.split("|")[1])
    return keys


def test_the_verdict_table_is_the_vocabulary():
    assert table_keys((DOCS / "methods.md").read_text(encoding="utf-8"), "verdict") == list(vocab.VERDICTS)


def test_the_exclusion_reasons_in_the_data_readme_are_the_vocabulary():
    text = (config.DATA / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"a reason from a fixed list \(([^)]*)\)", text).group(1)
    assert re.findall(r"`([a-z_]+)`", listed) == list(vocab.EXCLUSION_REASONS)


def test_the_literature_tables_are_the_codes_of_the_code():
    text = (DOCS / "literature.md").read_text(encoding="utf-8")
    assert table_keys(text, "code") == list(synthesis.RESULT_REASONS)
    assert set(table_keys(text, "placement")) == set(literature.PLACEMENTS)


DOCUMENTS = ["README.md", "data/README.md", *sorted(str(p.relative_to(config.ROOT)) for p in DOCS.glob("*.md"))]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_link_to_a_file_of_the_project_resolves(document):
    path = config.ROOT / document
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text(encoding="utf-8")):
        if "://" in target or target.startswith(("#", "mailto:")):
            continue
        file = target.split("#", 1)[0]
        assert (path.parent / file).exists(), f"{document} links to {target}"


def test_the_readme_lists_every_notebook_with_figures_and_tables_that_exist():
    text = (config.ROOT / "README.md").read_text(encoding="utf-8")
    for notebook in sorted(config.NOTEBOOKS.glob("*.ipynb")):
        assert f"`{notebook.stem}`" in text, notebook.stem
    figures = {p.stem for p in config.ROOT.joinpath("figures").glob("*.png")}
    tables = {p.stem for p in config.ROOT.joinpath("tables").glob("*.csv")}
    rows = [line.split("|") for line in text.split("\n") if re.match(r"\| `\d\d-", line)]
    assert len(rows) == len(list(config.NOTEBOOKS.glob("*.ipynb")))
    for cells in rows:
        for figure in re.findall(r"`(\d\d-[a-z0-9-]+)`", cells[3]):
            assert figure in figures, (cells[1], figure)
        for table in re.findall(r"`(\d\d-[a-z0-9-]+)`", cells[4]):
            assert table in tables, (cells[1], table)
