"""The PRISMA 2020 flow diagram of the literature search (prisma.flow computes the counts)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

GID_BOX = "prisma-box"
GID_ARROW = "prisma-arrow"
_MAIN_X, _SIDE_X, _WIDTH = 0.27, 0.76, 0.44


def _box(ax: Axes, x: float, y: float, text: str) -> None:
    ax.text(x, y, text, ha="center", va="center", fontsize=9, wrap=True, gid=GID_BOX,
            bbox=dict(boxstyle="round,pad=0.5", facecolor="white", edgecolor="0.3"))


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float]) -> None:
    arrow = ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="->", color="0.3"))
    arrow.set_gid(GID_ARROW)


def flow_diagram(flow: dict, reasons: pd.Series, *, title: str, ax: Axes | None = None) -> Axes:
    """Identification, screening and inclusion as boxes with arrows, the exclusions by reason beside them.

    `flow`: prisma.flow(...); `reasons`: prisma.exclusion_reasons(...)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9.5, 7.5))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    _box(ax, _MAIN_X, 0.88, f"Records identified\nby {flow['queries']:,} logged queries\n(n = {flow['identified']:,})")
    _box(ax, _SIDE_X, 0.88, f"Records not opened\n(returned but not read)\n(n = {flow['not_read']:,})")
    _box(ax, _MAIN_X, 0.62, f"Records read and screened\n(n = {flow['read']:,}; counted per query)")
    listed = "\n".join(f"{reason.replace('_', ' ')}: {n}" for reason, n in reasons.items())
    _box(ax, _SIDE_X, 0.55, f"Records excluded, with reasons\n(n = {flow['excluded']:,})\n{listed}")
    _box(ax, _SIDE_X, 0.20, f"Reports not retrieved\n(not found in the stored copies)\n(n = {flow['not_retrieved']:,})")
    other = flow.get("other_methods_studies")
    included = (f"Studies included\n(n = {flow['included_studies']:,}),\nreporting {flow['included_results']:,} results"
                + (f"\nof which {other:,} identified by other\nmethods (published reviews' lists,\nrecords looked "
                   "for again)" if other else ""))
    _box(ax, _MAIN_X, 0.16, included)
    _arrow(ax, (_MAIN_X, 0.81), (_MAIN_X, 0.67))
    _arrow(ax, (_MAIN_X + 0.17, 0.88), (_SIDE_X - 0.17, 0.88))
    _arrow(ax, (_MAIN_X + 0.19, 0.62), (_SIDE_X - 0.17, 0.58))
    _arrow(ax, (_MAIN_X + 0.12, 0.58), (_SIDE_X - 0.17, 0.22))
    _arrow(ax, (_MAIN_X, 0.57), (_MAIN_X, 0.26))
    for y, stage in ((0.88, "Identification"), (0.6, "Screening"), (0.16, "Included")):
        ax.text(0.0, y, stage, rotation=90, ha="right", va="center", fontsize=9, fontweight="bold", color="0.3")
    ax.set_title(title)
    return ax
