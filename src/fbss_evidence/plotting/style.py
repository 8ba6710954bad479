"""One look for every chart, and saving that gives the same bytes every run."""
from __future__ import annotations

from pathlib import Path

import matplotlib as mpl
import seaborn as sns

from ..outputs import atomic_path
from ..vocab import FIGURE_FORMATS

# Okabe-Ito / seaborn "colorblind": distinguishable with every common colour-vision deficiency.
# The one palette of the project: every chart takes its colours from here.
PALETTE = sns.color_palette("colorblind")
STUDY_COLOUR, POOLED_COLOUR = PALETTE[0], PALETTE[3]
BASIS_STYLE = {
    # basis: (colour, marker, legend label)
    "cited_study": (PALETTE[0], "o", "cited study"),
    "clinic_experience": (PALETTE[3], "D", "clinic's own experience"),
    "uncited": (PALETTE[7], "s", "no source given"),
}

# Metadata that would otherwise embed dates, versions or random ids in the file.
_STABLE_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
}


def apply_style() -> None:
    """Set the project's matplotlib style, and show table cells whole (call once per notebook)."""
    import pandas as pd

    pd.set_option("display.max_colwidth", None)  # a quote cut short with "..." reads as another quote
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    mpl.rcParams.update({
        "svg.hashsalt": "fbss-evidence",  # fixed ids in SVG output
        "svg.fonttype": "none",
        "pdf.fonttype": 42,
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "axes.titleweight": "bold",
        "axes.titlesize": 12,
    })


def caption(fig, text: str) -> None:
    """Put a caption (its sources) under everything already drawn (tick labels, legends).

    The figure is measured first, so the caption never overlaps rotated labels or
    a legend placed below the axes; saving with bbox_inches='tight' keeps it.
    """
    bbox = fig.get_tightbbox(fig.canvas.get_renderer())  # inches
    width, height = fig.get_size_inches()
    fig.text(max(bbox.x0, 0) / width, bbox.y0 / height - 0.1 / height, text, ha="left", va="top",
             fontsize=8, wrap=True, transform=fig.transFigure, color="0.25", gid="caption")


def save_figure(fig, output_dir: Path | str, name: str, fmt: str = "png") -> Path:
    """Write `fig` to output_dir/name.fmt deterministically and atomically."""
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"figure format '{fmt}' is not one of {', '.join(FIGURE_FORMATS)}")
    path = Path(output_dir) / f"{name}.{fmt}"
    # Without a fixed salt, SVG element ids are random unless apply_style() ran first.
    with atomic_path(path) as tmp, mpl.rc_context({"svg.hashsalt": "fbss-evidence"}):
        fig.savefig(tmp, format=fmt, metadata=_STABLE_METADATA[fmt])
    return path
