"""Per-page scorecards: how many of each page's claims fall under each verdict."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from .style import PALETTE

GID_SEGMENT = "verdict-segment"
# One colour per verdict, from the colour-blind-safe palette: agreement blue, disagreement orange and
# red, doubt greys.
VERDICT_COLOURS = {"supported": PALETTE[0], "understated": PALETTE[9], "overstated": PALETTE[1],
                   "misattributed": PALETTE[4], "contradicted": PALETTE[3], "unsupported": PALETTE[7],
                   "not_checkable": "0.8"}


def scorecards(table: pd.DataFrame, *, title: str, ax: Axes | None = None) -> Axes:
    """One bar per page, split by verdict (claims counted). `table`: verdicts.scorecard(...)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 1.4 + 0.55 * len(table)))
    left = pd.Series(0.0, index=table.index)
    for verdict, colour in VERDICT_COLOURS.items():
        counts = table[verdict].astype(float)
        bars = ax.barh(table["page"], counts, left=left, color=colour, edgecolor="white",
                       label=verdict.replace("_", " "))
        for bar, n in zip(bars.patches, counts):
            bar.set_gid(GID_SEGMENT)
            if n >= 2:
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2, f"{int(n)}",
                        ha="center", va="center", fontsize=8, color="black")
        left += counts
    ax.invert_yaxis()
    ax.set_xlabel("Claims on the page (count)")
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, title="verdict")
    return ax
