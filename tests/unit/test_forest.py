"""Tests of the forest plot, through the artists it leaves on the axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

from fbss_evidence.plotting import (
    forest,  # noqa: E402
    style,
)
from fbss_evidence.plotting.forest import forest_plot  # noqa: E402
from fbss_evidence.stats import pool_proportions  # noqa: E402

LABELS = ["Alpha 2001", "Beta 2005", "Gamma 2010", "Delta 2015"]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def result():
    return pool_proportions([12, 25, 18, 3], [100, 150, 120, 90], LABELS, method="REML")


def _by_gid(artists, gid):
    return [a for a in artists if a.get_gid() == gid]


def test_one_square_per_study_sized_by_weight(result):
    ax = forest_plot(result, title="t")
    squares = [line for line in ax.lines if line.get_marker() == "s"]
    assert len(squares) == result.k
    assert len(_by_gid(ax.lines, forest.GID_STUDY_MARKER)) == result.k
    xs = [line.get_xdata()[0] for line in squares]
    assert xs == pytest.approx(result.studies["proportion"].tolist())
    sizes = np.array([line.get_markersize() for line in squares])
    weights = result.studies["weight"].to_numpy()
    assert np.argmax(sizes) == np.argmax(weights)
    assert np.argmin(sizes) == np.argmin(weights)


def test_whiskers_are_the_wilson_intervals(result):
    ax = forest_plot(result, title="t")
    (whiskers,) = _by_gid(ax.collections, forest.GID_STUDY_CI)
    segments = whiskers.get_segments()
    assert len(segments) == result.k
    lows = [seg[:, 0].min() for seg in segments]
    highs = [seg[:, 0].max() for seg in segments]
    assert lows == pytest.approx(result.studies["ci_low"].tolist())
    assert highs == pytest.approx(result.studies["ci_high"].tolist())


def test_diamond_spans_the_pooled_ci(result):
    ax = forest_plot(result, title="t")
    diamonds = [p for p in ax.patches if isinstance(p, Polygon)]
    assert len(diamonds) == 1
    xy = diamonds[0].get_xy()
    assert xy[:, 0].min() == pytest.approx(result.ci_low)
    assert xy[:, 0].max() == pytest.approx(result.ci_high)
    assert diamonds[0].get_gid() == forest.GID_DIAMOND


def test_prediction_interval_drawn_below_the_diamond(result):
    ax = forest_plot(result, title="t")
    (line,) = _by_gid(ax.lines, forest.GID_PREDICTION)
    assert line.get_xdata() == pytest.approx([result.pi_low, result.pi_high])
    diamond_y = ax.patches[0].get_xy()[:, 1]
    # y axis is inverted, so "below" on the page means a larger y value
    assert ax.yaxis_inverted()
    assert line.get_ydata()[0] > diamond_y.max()


def test_no_prediction_interval_for_two_studies():
    two = pool_proportions([12, 25], [100, 150], LABELS[:2])
    ax = forest_plot(two, title="t")
    assert _by_gid(ax.lines, forest.GID_PREDICTION) == []
    assert len([p for p in ax.patches if isinstance(p, Polygon)]) == 1


def test_dashed_line_at_pooled_estimate(result):
    ax = forest_plot(result, title="t")
    (line,) = _by_gid(ax.lines, forest.GID_ESTIMATE_LINE)
    assert line.get_xdata() == pytest.approx([result.estimate, result.estimate])
    assert line.get_linestyle() == "--"


def test_labels_titles_and_axis(result):
    ax = forest_plot(result, title="Pain at 1 year")
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert len(ticks) == result.k + 1
    for label, n, tick in zip(LABELS, result.studies["total"], ticks):
        assert tick.startswith(label) and f"n={int(n)}" in tick
    assert ticks[-1].startswith("Pooled, REML")
    assert ax.get_xlabel() == "Proportion (%)"
    assert ax.get_title() == "Pain at 1 year"
    low, high = ax.get_xlim()
    assert low == 0 and result.pi_high <= high <= 100


def test_the_project_caption_goes_under_the_axes(result):
    ax = forest_plot(result, title="t")
    fig = ax.get_figure()
    style.caption(fig, "Source: four made-up studies.")
    (caption,) = [t for t in fig.texts if t.get_text() == "Source: four made-up studies."]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert caption.get_window_extent(renderer).y1 < ax.get_window_extent(renderer).y0


def test_no_caption_text_when_none_given(result):
    ax = forest_plot(result, title="t")
    assert ax.get_figure().texts == []


def test_draws_on_given_axes_without_new_figures(result):
    fig, (left, right) = plt.subplots(1, 2)
    returned = forest_plot(result, title="t", ax=right)
    assert returned is right
    assert plt.get_fignums() == [fig.number]
    assert not left.lines


def test_colours_come_from_the_colour_blind_palette(result):
    import seaborn as sns

    palette = [tuple(c) for c in sns.color_palette("colorblind")]
    ax = forest_plot(result, title="t")
    square = next(line for line in ax.lines if line.get_marker() == "s")
    assert tuple(matplotlib.colors.to_rgb(square.get_color())) in palette
    diamond_colour = tuple(ax.patches[0].get_facecolor()[:3])
    assert diamond_colour in palette
