"""figures/README.md: every figure in figures/ with a thumbnail, the notebook that draws it and the
question that notebook asks, so the folder reads on a code host. `make` rewrites it whenever a figure
changes (python -m fbss_build.gallery); a test fails when a figure is missing from it or a listed one
does not exist."""
from __future__ import annotations

import html
import re
import sys
from pathlib import Path

from fbss_evidence import config
from fbss_evidence.outputs import write_text

SUFFIXES = (".png", ".svg", ".jpg")  # what a code host shows as an image
INTRO = """# figures/

Written only by `make`, through the notebooks; do not edit by hand. This page is generated too
(`python -m fbss_build.gallery`, run by `make`). Each chart is named after the notebook that draws it
(`01-…` is drawn by `notebooks/01-evidence-map.ipynb`; `07-compare-<topic>` by
`notebooks/07-compare-topic.ipynb` run for that topic). The README's notebook table says what each shows;
`build/<notebook>.outputs` lists exactly what each run wrote.

| figure | drawn by |
|---|---|
"""


def question(notebook: Path) -> str:
    """The first Markdown heading of a notebook (the question it asks), or ''."""
    import nbformat

    text = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "markdown")
    match = re.search(r"^#{1,6}\s+(.+?)\s*$", text, re.MULTILINE)
    return match[1] if match else ""


def cell(text: str) -> str:
    """Text safe in a Markdown table cell: no HTML, no pipe or line break."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def gallery(figures: Path = config.ROOT / "figures", notebooks: Path = config.ROOT / "notebooks") -> str:
    """The page's text: a table row per figure (sorted by name) with its thumbnail linking to the image."""
    rows = []
    for path in sorted(p for p in figures.iterdir() if p.suffix in SUFFIXES):
        drawn_by = sorted(notebooks.glob(f"{path.name[:2]}-*.ipynb"))
        about = f"`{drawn_by[0].stem}`: {cell(question(drawn_by[0]))}" if drawn_by else ""
        rows.append(f"| [![{cell(path.stem)}]({path.name})]({path.name})<br>`{path.name}` | {about} |\n")
    return INTRO + "".join(rows)


def main(argv: list[str] | None = None) -> int:
    target = write_text(config.ROOT / "figures" / "README.md", gallery())
    print(f"wrote {target.relative_to(config.ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
