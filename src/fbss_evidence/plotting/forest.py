"""Forest plot of a random-effects pooled proportion.

Draws a `PooledProportion` from `fbss_evidence.stats`; every number shown is
taken from that result, nothing is recomputed here except marker sizes.
Layout, top to bottom: one row per study (square sized by weight, whisker for
its Wilson interval), then the pooled diamond spanning the confidence interval
with the prediction interval as a thin line beneath it.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Polygon

from ..stats import PooledProportion
from .style import POOLED_COLOUR, STUDY_COLOUR

# Square areas (points^2) for the lightest and heaviest study: area, not side,
# follows the weight so that the eye reads weight correctly.
_MIN_AREA = 12.0
_MAX_AREA = 160.0
_DIAMOND_HALF_HEIGHT = 0.35

GID_STUDY_MARKER = "study-marker"
GID_STUDY_CI = "study-ci"
GID_DIAMOND = "pooled-diamond"
GID_PREDICTION = "prediction-interval"
GID_ESTIMATE_LINE = "pooled-estimate-line"


def _marker_areas(weights: np.ndarray) -> np.ndarray:
    """Map weights (%) to square areas, the heaviest study getting the largest."""
    heaviest = float(np.max(weights)) if len(weights) else 0.0
    if heaviest <= 0:
        return np.full(len(weights), _MIN_AREA)
    return _MIN_AREA + (_MAX_AREA - _MIN_AREA) * weights / heaviest


def _study_label(label: str, total: float) -> str:
    """Tick label for a study: its name and sample size."""
    n = int(total) if float(total).is_integer() else total
    return f"{label} (n={n:,})"


def _pooled_label(result: PooledProportion) -> str:
    """Tick label for the pooled row, with the heterogeneity readers look for."""
    return (f"Pooled, {result.method} (k={result.k}; "
            f"I\u00b2={result.i2:.0f}%, \u03c4\u00b2={result.tau2:.2f})")


def _draw_rows(ax: Axes, rows: np.ndarray, proportions, lows, highs, areas,
               colour: tuple[float, float, float]) -> None:
    """One whisker (its interval) and one square (its estimate) per row."""
    whiskers = ax.hlines(rows, lows, highs, colors=[colour], linewidth=1.2)
    whiskers.set_gid(GID_STUDY_CI)
    for row, proportion, area in zip(rows, proportions, areas):
        (marker,) = ax.plot([proportion], [row], linestyle="none", marker="s",
                            markersize=math.sqrt(area), color=colour, zorder=3)
        marker.set_gid(GID_STUDY_MARKER)


def _draw_studies(ax: Axes, result: PooledProportion, rows: np.ndarray,
                  colour: tuple[float, float, float]) -> None:
    """Whiskers for the Wilson intervals and one square per study, its area by weight."""
    studies = result.studies
    _draw_rows(ax, rows, studies["proportion"], studies["ci_low"], studies["ci_high"],
               _marker_areas(studies["weight"].to_numpy(dtype=float)), colour)


def _finish(ax: Axes, title: str) -> Axes:
    ax.set_xlabel("Proportion (%)")
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def diamond(ax: Axes, low: float, estimate: float, high: float, y: float, *, colour=POOLED_COLOUR,
            hollow: bool = False, half_height: float = _DIAMOND_HALF_HEIGHT, gid: str = GID_DIAMOND) -> Polygon:
    """A pooled estimate: a diamond spanning its confidence interval, its widest point at the estimate;
    hollow for an estimate that is not the answer (a sensitivity analysis). Every forest-like chart of
    the project draws its pooled estimates with this."""
    shape = Polygon([(low, y), (estimate, y - half_height), (high, y), (estimate, y + half_height)],
                    closed=True, facecolor="white" if hollow else colour, edgecolor=colour,
                    linewidth=1.5 if hollow else 1.0, zorder=3)
    shape.set_gid(gid)
    ax.add_patch(shape)
    return shape


def prediction_line(ax: Axes, low: float, high: float, y: float, *, colour=POOLED_COLOUR):
    """The prediction interval as a thin line (drawn only when it is finite)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    (line,) = ax.plot([low, high], [y, y], color=colour, linewidth=1.0, solid_capstyle="butt", zorder=2)
    line.set_gid(GID_PREDICTION)
    return line


def _draw_pooled(ax: Axes, result: PooledProportion, row: float,
                 colour: tuple[float, float, float]) -> None:
    """Diamond for the pooled CI, prediction interval below it, dashed estimate."""
    h = _DIAMOND_HALF_HEIGHT
    diamond(ax, result.ci_low, result.estimate, result.ci_high, row, colour=colour)
    # Larger y is lower on the page because the y axis is inverted.
    prediction_line(ax, result.pi_low, result.pi_high, row + h + 0.2, colour=colour)
    estimate_line = ax.axvline(result.estimate, color="0.4", linestyle="--",
                               linewidth=0.8, zorder=1)
    estimate_line.set_gid(GID_ESTIMATE_LINE)


def _x_limits(result: PooledProportion) -> tuple[float, float]:
    """From 0 to a little beyond the widest interval, never past 100%."""
    highs = [result.ci_high, float(result.studies["ci_high"].max())]
    if math.isfinite(result.pi_high):
        highs.append(result.pi_high)
    return 0.0, min(100.0, max(highs) * 1.05 + 1.0)


def forest_plot(result: PooledProportion, *, title: str, ax: Axes | None = None) -> Axes:
    """Draw `result` as a forest plot and return the axes.

    Draws on `ax` when given (so it can sit in a larger figure), otherwise on a
    new figure sized to the number of studies. Does not show or save.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 1.8 + 0.32 * (result.k + 2)))
    study_colour, pooled_colour = STUDY_COLOUR, POOLED_COLOUR
    rows = np.arange(result.k, dtype=float)
    pooled_row = result.k + 0.5

    _draw_studies(ax, result, rows, study_colour)
    _draw_pooled(ax, result, pooled_row, pooled_colour)

    labels = [_study_label(label, total)
              for label, total in zip(result.studies["label"], result.studies["total"])]
    ax.set_yticks(list(rows) + [pooled_row], labels + [_pooled_label(result)])
    ax.set_ylim(pooled_row + 1.2, -0.8)  # inverted: first study at the top
    ax.set_xlim(*_x_limits(result))
    return _finish(ax, title)


def interval_forest(studies, *, title: str, ax: Axes | None = None) -> Axes:
    """Forest-style rows (square + Wilson whisker, labelled with n) with no pooled diamond.

    For estimates that cannot be pooled with anything: `studies` has columns
    label, total, proportion, ci_low, ci_high (percent).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 1.6 + 0.4 * max(len(studies), 1)))
    colour = STUDY_COLOUR
    rows = np.arange(len(studies), dtype=float)
    _draw_rows(ax, rows, studies["proportion"], studies["ci_low"], studies["ci_high"],
               np.full(len(studies), 49.0), colour)
    ax.set_yticks(list(rows), [_study_label(label, total)
                               for label, total in zip(studies["label"], studies["total"])])
    ax.set_ylim(len(studies) - 0.4, -0.8)
    ax.set_xlim(0, 100)
    return _finish(ax, title)
