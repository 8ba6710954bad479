"""figures/README.md lists every figure in figures/ with a thumbnail, and nothing else (fbss_build.gallery)."""

from __future__ import annotations

import re

import nbformat
from nbformat.v4 import new_markdown_cell, new_notebook

from fbss_build import gallery
from fbss_evidence import config

FIGURES = config.ROOT / "figures"
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")


def listed(text: str) -> list[str]:
    return IMAGE.findall(text)


def test_the_committed_page_lists_every_figure_and_only_existing_ones():
    page = (FIGURES / "README.md").read_text(encoding="utf-8")
    shown = listed(page)
    figures = sorted(p.name for p in FIGURES.iterdir() if p.suffix in gallery.SUFFIXES)
    assert figures, "no figure in figures/"
    missing = sorted(set(figures) - set(shown))
    assert not missing, f"figures/README.md does not list {missing}: run make (or python -m fbss_build.gallery)"
    gone = sorted(name for name in shown if not (FIGURES / name).is_file())
    assert not gone, f"figures/README.md lists figures that do not exist: {gone}"
    assert all("/" not in name for name in shown)  # links relative to figures/


def test_the_committed_page_is_what_make_writes():
    assert (FIGURES / "README.md").read_text(encoding="utf-8") == gallery.gallery(), "run make to rewrite it"


def test_the_page_follows_the_folder(tmp_path):
    figures, notebooks = tmp_path / "figures", tmp_path / "notebooks"
    figures.mkdir()
    notebooks.mkdir()
    nbformat.write(
        new_notebook(cells=[new_markdown_cell("# How often? <b>|</b>\n\ntext")]), notebooks / "02-failure-rates.ipynb"
    )
    for name in ("02-failure-rates.png", "02-other.svg", "99-orphan.png", "notes.txt"):
        (figures / name).write_bytes(b"x")
    page = gallery.gallery(figures, notebooks)
    assert listed(page) == ["02-failure-rates.png", "02-other.svg", "99-orphan.png"]
    assert "`02-failure-rates`: How often? &lt;b&gt;\\|&lt;/b&gt; |" in page  # the question, as text in its cell
    (figures / "02-other.svg").unlink()
    assert listed(gallery.gallery(figures, notebooks)) == ["02-failure-rates.png", "99-orphan.png"]
