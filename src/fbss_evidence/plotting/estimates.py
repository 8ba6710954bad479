"""The comparison chart: every estimate of a kind on one axis, drawn so that
points, ranges and one-sided bounds cannot be mistaken for one another and the
basis of each number (cited study, clinic experience, nothing) is visible."""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .style import BASIS_STYLE

BAND_ALPHA = 0.28
LABEL_WIDTH = 70  # characters per line of a row label
# A chart draws at most this many rows (the first, in the order given); its title says
# how many more there were. Beyond it a chart is unreadable, and too tall to save.
MAX_ROWS = 100


def chart_height(n_rows: int) -> float:
    """Figure height (inches) for a chart of n_rows claims, of which at most MAX_ROWS are drawn."""
    return max(2.5, 0.55 * min(n_rows, MAX_ROWS) + 1.6)


def estimates_chart(claims: pd.DataFrame, *, labels: pd.Series | list[str], title: str,
                    xlabel: str = "Share of patients (%)", xmax: float | None = 100,
                    ax=None):
    """One row per claim (top to bottom in the order given).

    exact: filled marker; approx: hollow marker; range: a bar from low to high;
    upper ("up to"): a faded band from 0 ending in a bracket; lower ("more than"):
    a faded band from the value onwards. A confidence interval, where the claim
    has a numerator and denominator (columns ci_low/ci_high), is a black whisker.

    Only the first MAX_ROWS claims are drawn; the title then says how many were
    not, and a figure made taller than chart_height() for all of them is shrunk.
    Labels past the first MAX_ROWS are then ignored (they may be left out).
    """
    total = len(claims)
    if total > MAX_ROWS:
        claims = claims.iloc[:MAX_ROWS]
        labels = list(labels)[:MAX_ROWS]
        title = (f"{title}\n(the first {MAX_ROWS:,} of {total:,} estimates are drawn; "
                 f"{total - MAX_ROWS:,} are not: see the table)")
        if ax is not None and ax.figure.get_size_inches()[1] > chart_height(total):
            ax.figure.set_size_inches(ax.figure.get_size_inches()[0], chart_height(total))
    if ax is None:
        _, ax = plt.subplots(figsize=(9, chart_height(total)))
    n = len(claims)
    ys = np.arange(n)[::-1]
    largest = np.nanmax(claims[["value", "value_high"]].to_numpy(dtype=float), initial=0)
    # Never drop a point off the chart: widen the axis past xmax when a value exceeds it.
    upper_limit = max(largest * 1.1 if xmax is None else max(xmax, largest * 1.05), 1)
    for y, (_, row) in zip(ys, claims.iterrows()):
        colour, marker, _ = BASIS_STYLE[row["basis"]]
        bound = row["bound"]
        if bound == "range":
            ax.plot([row["value_low"], row["value_high"]], [y, y], color=colour, linewidth=6,
                    solid_capstyle="butt", gid="range")
        elif bound == "upper":
            ax.barh(y, row["value"], left=0, height=0.5, color=colour, alpha=BAND_ALPHA,
                    gid="upper-band")
            ax.plot([row["value"]], [y], marker="|", markersize=16, markeredgewidth=2.5,
                    color=colour, linestyle="none", gid="upper")
        elif bound == "lower":
            ax.barh(y, upper_limit - row["value"], left=row["value"], height=0.5, color=colour,
                    alpha=BAND_ALPHA, gid="lower-band")
            ax.plot([row["value"]], [y], marker="|", markersize=16, markeredgewidth=2.5,
                    color=colour, linestyle="none", gid="lower")
        else:
            face = colour if bound == "exact" else "white"
            ax.plot([row["value"]], [y], marker=marker, markersize=8, color=colour,
                    markerfacecolor=face, markeredgewidth=1.8, linestyle="none", gid=bound)
        if "ci_low" in row and pd.notna(row.get("ci_low")):
            # The interval comes from the page's counts and is drawn where it lies, even
            # where the page's own percentage falls outside it (that mismatch is the point).
            half = (row["ci_high"] - row["ci_low"]) / 2
            ax.errorbar(row["ci_low"] + half, y, xerr=half, fmt="none", ecolor="black",
                        elinewidth=1.2, capsize=4, gid="ci")
    ax.set_yticks(ys, labels=[textwrap.fill(str(label), LABEL_WIDTH) for label in labels])
    ax.set_ylim(-0.8, n - 0.2)
    ax.set_xlim(0, upper_limit)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    ax.legend(handles=legend_handles(claims), loc="upper left", bbox_to_anchor=(1.01, 1.0),
              fontsize=8, frameon=False)
    return ax


def legend_handles(claims: pd.DataFrame) -> list:
    """Legend entries for the bases and the kinds of number present in the chart."""
    handles = []
    for basis in BASIS_STYLE:
        if (claims["basis"] == basis).any():
            colour, marker, label = BASIS_STYLE[basis]
            handles.append(Patch(color=colour, label=label))
    grey = "0.35"
    kinds = {
        "exact": Line2D([], [], marker="o", color=grey, linestyle="none", label="stated value"),
        "approx": Line2D([], [], marker="o", color=grey, markerfacecolor="white", linestyle="none",
                         label="approximate ('about', 'nearly')"),
        "range": Line2D([], [], color=grey, linewidth=6, label="range ('20-40%')"),
        "upper": Patch(color=grey, alpha=BAND_ALPHA + 0.2, label="upper bound ('up to'), band from 0"),
        "lower": Patch(color=grey, alpha=BAND_ALPHA + 0.2, label="lower bound ('more than')"),
    }
    handles += [h for bound, h in kinds.items() if (claims["bound"] == bound).any()]
    if "ci_low" in claims and claims["ci_low"].notna().any():
        handles.append(Line2D([], [], color="black", marker="|", markersize=10, linestyle="-",
                              label="confidence interval (page's own counts)"))
    return handles
