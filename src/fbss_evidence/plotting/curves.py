"""Shares that grow with follow-up: the fitted time curve, the studies' own points and the pages' claims.

Draws what fbss_evidence.metaregression.time_curve computed; nothing is recomputed here except marker
sizes.
"""
from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from . import literature
from .literature import claim_handles, draw_claim
from .style import POOLED_COLOUR, STUDY_COLOUR

GID_CURVE = "time-curve"
GID_EXTRAPOLATED = "time-curve-extrapolated"
GID_BAND = "time-curve-band"
GID_STUDY_POINTS = "time-curve-study-points"
GID_STUDY_LINE = "time-curve-study-line"
GID_STUDY_LABEL = "time-curve-study-label"
GID_CLAIM = literature.GID_CLAIM
_MIN_AREA, _MAX_AREA = 12.0, 160.0
_YEAR_TICKS = (0.25, 0.5, 1, 2, 3, 5, 10, 15, 20, 30)
def _areas(n: pd.Series, largest: float) -> np.ndarray:
    """Marker areas (points^2) proportional to n, the largest study getting the largest."""
    return _MIN_AREA + (_MAX_AREA - _MIN_AREA) * n.to_numpy(float) / largest


def _legend(rows: pd.DataFrame, claims: pd.DataFrame, extrapolated: bool, level: float) -> list:
    handles = [Line2D([], [], color=POOLED_COLOUR, linewidth=2, label="fitted share (logit on log years)"),
               Patch(color=POOLED_COLOUR, alpha=0.25, label=f"{level:.0%} confidence band")]
    if extrapolated:
        handles.append(Line2D([], [], color=POOLED_COLOUR, linestyle="--", label="beyond the studies' follow-up"))
    handles.append(Line2D([], [], color=STUDY_COLOUR, marker="s", label="a study's results (area: n)"))
    return handles + claim_handles(claims, share_axis="y")


def time_curve_chart(curve: pd.DataFrame, rows: pd.DataFrame, claims: pd.DataFrame, *, title: str,
                     level: float = 0.95, ax: Axes | None = None) -> Axes:
    """The fitted share against follow-up with its confidence band over the follow-up the studies span (a
    dashed line beyond it), each study's results as squares joined by a line (area by n; a study with
    several results named at its last), and the pages' claims at their timepoints (markers coded by basis,
    as on the forest charts; a claim with no timepoint is not drawn).

    `curve` and `rows`: a metaregression.TimeCurve's `curve` and `rows`; `claims`: value, value_low,
    value_high, bound, basis and timepoint_years.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.5))
    inside = curve[~curve["extrapolated"].astype(bool)]
    if inside.empty:
        raise ValueError("no point of the curve lies within the studies' follow-up")
    band = ax.fill_between(inside["years"], inside["ci_low"], inside["ci_high"], color=POOLED_COLOUR, alpha=0.25,
                           linewidth=0, zorder=1)
    band.set_gid(GID_BAND)
    (line,) = ax.plot(inside["years"], inside["percent"], color=POOLED_COLOUR, linewidth=2, zorder=2)
    line.set_gid(GID_CURVE)
    outside = curve["extrapolated"].astype(bool).to_numpy()
    for part in (curve[outside & (curve["years"] < inside["years"].min())],
                 curve[outside & (curve["years"] > inside["years"].max())]):
        if len(part):
            edge = inside.iloc[[-1 if part["years"].min() > inside["years"].max() else 0]]
            joined = pd.concat([part, edge]).sort_values("years")
            (dashed,) = ax.plot(joined["years"], joined["percent"], color=POOLED_COLOUR, linewidth=1.5,
                                linestyle="--", zorder=2)
            dashed.set_gid(GID_EXTRAPOLATED)

    largest = float(rows["pool_n"].max()) if len(rows) else 1.0
    for _, study in rows.sort_values("years").groupby("cohort_id", sort=False):
        (joined,) = ax.plot(study["years"], study["percent"], color=STUDY_COLOUR, linewidth=1, alpha=0.7, zorder=3)
        joined.set_gid(GID_STUDY_LINE)
        points = ax.scatter(study["years"], study["percent"], s=_areas(study["pool_n"], largest), marker="s",
                            color=STUDY_COLOUR, edgecolors="white", linewidths=0.6, zorder=4)
        points.set_gid(GID_STUDY_POINTS)
        if len(study) > 1:  # a line is named at its end; a single point would crowd them
            last = study.iloc[-1]
            label = ax.annotate(textwrap.shorten(str(last["study"]), 28, placeholder="..."),
                                (last["years"], last["percent"]), xytext=(6, 0), textcoords="offset points",
                                fontsize=7, color="0.3", va="center")
            label.set_gid(GID_STUDY_LABEL)

    drawn = claims[claims["timepoint_years"].notna()] if len(claims) else claims
    for _, claim in drawn.iterrows():
        draw_claim(ax, claim, float(claim["timepoint_years"]), share_axis="y", zorder=5)

    ax.set_xscale("log")
    low = min(curve["years"].min(), drawn["timepoint_years"].min() if len(drawn) else np.inf)
    high = max(curve["years"].max(), drawn["timepoint_years"].max() if len(drawn) else -np.inf)
    ax.set_xlim(low / 1.15, high * 1.15)
    ax.xaxis.set_major_locator(FixedLocator([t for t in _YEAR_TICKS if low / 1.15 <= t <= high * 1.15]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda t, _: f"{t:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    values = [inside["ci_high"].max(), curve["percent"].max(), rows["percent"].max() if len(rows) else 0.0]
    if len(drawn):
        values.append(np.nanmax(drawn[["value", "value_high"]].to_numpy(float)))
    ax.set_ylim(0, min(100.0, 1.12 * float(np.nanmax(values))))
    ax.set_xlabel("Follow-up (years)")
    ax.set_ylabel("Share of patients (%)")
    ax.set_title(title)
    ax.legend(handles=_legend(rows, drawn, bool(outside.any()), level), loc="upper left", bbox_to_anchor=(1.01, 1.0),
              fontsize=8, frameon=False)
    return ax
