"""Evidence-map, composition, time-course and audit charts."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .style import PALETTE


def count_heatmap(table: pd.DataFrame, *, title: str, xlabel: str, ylabel: str, ax=None):
    """Counts of claims as an annotated heatmap (a colour-blind-safe sequential map)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.62 * table.shape[1], 1.4 + 0.5 * table.shape[0]))
    sns.heatmap(table, annot=True, fmt="d", cmap="cividis_r", cbar_kws={"label": "claims (count)"},
                linewidths=0.5, linecolor="white", ax=ax)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_xticklabels([str(c).replace("_", " ") for c in table.columns], rotation=40, ha="right")
    return ax


def stacked_shares(table: pd.DataFrame, *, title: str, xlabel: str = "Share of claims (%)",
                   colours: dict | None = None, ax=None):
    """Each row of `table` (counts) as a 100% horizontal stacked bar, with counts in the bars."""
    shares = table.div(table.sum(axis=1), axis=0).mul(100).fillna(0)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 1.2 + 0.55 * len(table)))
    left = np.zeros(len(table))
    ys = np.arange(len(table))[::-1]
    for i, column in enumerate(table.columns):
        colour = (colours or {}).get(column, PALETTE[i % len(PALETTE)])
        bars = ax.barh(ys, shares[column], left=left, color=colour, label=column, height=0.6,
                       edgecolor="white")
        for bar, count in zip(bars, table[column]):
            if count and bar.get_width() >= 6:
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2,
                        str(int(count)), ha="center", va="center", fontsize=8, color="black")
        left += shares[column].to_numpy()
    ax.set_yticks(ys, labels=list(table.index))
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.grid(axis="y", visible=False)
    return ax


def composition_bar(parts: pd.DataFrame, *, title: str, xlabel: str = "Share of explanted devices (%)",
                    ax=None):
    """Shares of one whole as a single stacked bar; rows with derived=True are hatched.

    `parts` has columns label, share (%), derived (bool).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 2.6))
    left = 0.0
    for i, row in enumerate(parts.itertuples(index=False)):
        colour = "0.85" if row.derived else PALETTE[i % len(PALETTE)]
        ax.barh(0, row.share, left=left, color=colour, edgecolor="0.3", hatch="//" if row.derived else None,
                height=0.5, label=row.label, gid="derived" if row.derived else "stated")
        ax.text(left + row.share / 2, 0, f"{row.share:.1f}%", ha="center", va="center", fontsize=9)
        left += row.share
    ax.set_xlim(0, 100)
    ax.set_yticks([])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=len(parts), fontsize=8,
              frameon=False)
    return ax


def time_course(points: pd.DataFrame, *, title: str, ylabel: str, ax=None):
    """A share measured at several times (columns months, value, label) as a line with points."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    ax.plot(points["months"], points["value"], marker="o", color=PALETTE[0], gid="course")
    for row in points.itertuples(index=False):
        ax.annotate(f"{row.value:g}%\n{row.label}", (row.months, row.value), textcoords="offset points",
                    xytext=(0, -30), ha="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xticks(points["months"], labels=[str(m) for m in points["months"]])
    ax.set_ylim(0, 100)
    ax.set_xlabel("Months after implant (log scale)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def share_bars(shares: pd.Series, *, title: str, xlabel: str, ax=None):
    """Shares (%) of patients as horizontal bars, first at the top (shares that may overlap)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 1.2 + 0.4 * len(shares)))
    ax.barh(list(shares.index)[::-1], list(shares.to_numpy())[::-1], color=PALETTE[0], gid="share")
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    return ax
