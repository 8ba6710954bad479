"""The charts, tested through the artists they leave on the axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from fbss_evidence.plotting import charts, forest  # noqa: E402
from fbss_evidence.plotting.estimates import BAND_ALPHA, estimates_chart, legend_handles  # noqa: E402
from fbss_evidence.plotting.style import BASIS_STYLE, PALETTE  # noqa: E402

NA = np.nan


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _gid(artists, gid):
    return [a for a in artists if a.get_gid() == gid]


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _estimates(rows):
    cols = ["basis", "bound", "value", "value_low", "value_high", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols)


@pytest.fixture
def every_kind():
    # Top to bottom: exact with CI, approx, range, upper, lower.
    return _estimates(
        [
            ("cited_study", "exact", 14.4, NA, NA, 11.5, 17.9),
            ("clinic_experience", "approx", 90, NA, NA, NA, NA),
            ("uncited", "range", NA, 20, 40, NA, NA),
            ("cited_study", "upper", 25, NA, NA, NA, NA),
            ("cited_study", "lower", 60, NA, NA, NA, NA),
        ]
    )


LABELS = ["exact one", "approx one", "range one", "upper one", "lower one"]


# -- estimates_chart --------------------------------------------------------------------------


def test_exact_is_a_filled_marker(every_kind):
    ax = estimates_chart(every_kind, labels=LABELS, title="t")
    (point,) = _gid(ax.lines, "exact")
    assert point.get_xdata().tolist() == [14.4]
    assert point.get_ydata().tolist() == [4]  # first row at the top
    colour = BASIS_STYLE["cited_study"][0]
    assert point.get_marker() == "o"
    assert to_rgba(point.get_markerfacecolor()) == to_rgba(colour)
    assert point.get_linestyle() == "None"


def test_approx_is_a_hollow_marker(every_kind):
    ax = estimates_chart(every_kind, labels=LABELS, title="t")
    (point,) = _gid(ax.lines, "approx")
    assert point.get_xdata().tolist() == [90]
    assert point.get_ydata().tolist() == [3]
    assert point.get_marker() == BASIS_STYLE["clinic_experience"][1] == "D"
    assert to_rgba(point.get_markerfacecolor()) == to_rgba("white")
    assert to_rgba(point.get_markeredgecolor()) == to_rgba(BASIS_STYLE["clinic_experience"][0])


def test_range_is_a_thick_line_from_low_to_high(every_kind):
    ax = estimates_chart(every_kind, labels=LABELS, title="t")
    (line,) = _gid(ax.lines, "range")
    assert line.get_xdata().tolist() == [20, 40]
    assert line.get_ydata().tolist() == [2, 2]
    assert line.get_linewidth() == 6
    assert to_rgba(line.get_color()) == to_rgba(BASIS_STYLE["uncited"][0])
    assert not _gid(ax.patches, "range")


def test_upper_bound_is_a_band_from_zero_with_a_bracket(every_kind):
    ax = estimates_chart(every_kind, labels=LABELS, title="t")
    (band,) = _gid(ax.patches, "upper-band")
    assert band.get_x() == 0
    assert band.get_width() == pytest.approx(25)
    assert band.get_y() + band.get_height() / 2 == pytest.approx(1)
    assert band.get_alpha() == BAND_ALPHA
    (bracket,) = _gid(ax.lines, "upper")
    assert bracket.get_xdata().tolist() == [25]
    assert bracket.get_marker() == "|"


def test_lower_bound_is_a_band_from_the_value_to_the_axis_end(every_kind):
    ax = estimates_chart(every_kind, labels=LABELS, title="t")
    (band,) = _gid(ax.patches, "lower-band")
    assert band.get_x() == pytest.approx(60)
    assert band.get_x() + band.get_width() == pytest.approx(100)
    assert band.get_y() + band.get_height() / 2 == pytest.approx(0)
    (bracket,) = _gid(ax.lines, "lower")
    assert bracket.get_xdata().tolist() == [60]


def test_lower_band_reaches_a_computed_axis_end(every_kind):
    ax = estimates_chart(every_kind, labels=LABELS, title="t", xmax=None)
    # xmax=None: 1.1 x the largest value or upper end = 1.1 * 90 = 99
    assert ax.get_xlim() == pytest.approx((0, 99))
    (band,) = _gid(ax.patches, "lower-band")
    assert band.get_x() + band.get_width() == pytest.approx(99)


def test_ci_whisker_spans_the_interval(every_kind):
    ax = estimates_chart(every_kind, labels=LABELS, title="t")
    (whisker,) = _gid(ax.collections, "ci")
    (segment,) = whisker.get_segments()
    assert segment[:, 0].tolist() == pytest.approx([11.5, 17.9])
    assert segment[:, 1].tolist() == [4, 4]
    assert to_rgba(whisker.get_color()[0]) == to_rgba("black")


def test_ci_whisker_is_drawn_where_it_lies_when_the_page_figure_is_outside_it(every_kind):
    # A page saying 26.8% of patients whose own counts give 11.5-17.9%: the whisker must
    # not stretch to the page's figure.
    claims = every_kind.copy()
    row = claims.index[claims["ci_low"].notna()][0]
    claims.loc[row, "value"] = 26.8
    ax = estimates_chart(claims, labels=LABELS, title="t")
    (whisker,) = _gid(ax.collections, "ci")
    (segment,) = whisker.get_segments()
    assert segment[:, 0].tolist() == pytest.approx([11.5, 17.9])


def test_no_whisker_without_counts(every_kind):
    ax = estimates_chart(every_kind.drop(columns=["ci_low", "ci_high"]), labels=LABELS, title="t")
    assert _gid(ax.collections, "ci") == []
    assert "confidence interval (page's own counts)" not in _legend_texts(ax)


def test_legend_lists_bases_and_every_kind_present(every_kind):
    ax = estimates_chart(every_kind, labels=LABELS, title="t")
    assert _legend_texts(ax) == [
        "cited study",
        "clinic's own experience",
        "no source given",
        "stated value",
        "approximate ('about', 'nearly')",
        "range ('20-40%')",
        "upper bound ('up to'), band from 0",
        "lower bound ('more than')",
        "confidence interval (page's own counts)",
    ]


def test_legend_lists_only_kinds_present():
    claims = _estimates([("cited_study", "exact", 10, NA, NA, NA, NA), ("uncited", "range", NA, 5, 15, NA, NA)])
    ax = estimates_chart(claims, labels=["a", "b"], title="t")
    assert _legend_texts(ax) == ["cited study", "no source given", "stated value", "range ('20-40%')"]
    assert _gid(ax.lines, "approx") == []
    assert _gid(ax.patches, "upper-band") == _gid(ax.patches, "lower-band") == []


def test_legend_handles_approx_marker_is_hollow():
    claims = _estimates([("cited_study", "approx", 10, NA, NA, NA, NA)])
    (basis, approx) = legend_handles(claims)
    assert basis.get_label() == "cited study"
    assert approx.get_markerfacecolor() == "white"


def test_y_tick_labels_top_to_bottom_in_the_order_given(every_kind):
    ax = estimates_chart(every_kind, labels=LABELS, title="Chart title", xlabel="x axis")
    ticks = dict(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels())))
    assert [ticks[y] for y in sorted(ticks, reverse=True)] == LABELS
    assert ax.get_title() == "Chart title"
    assert ax.get_xlabel() == "x axis"
    assert ax.get_xlim() == (0, 100)
    assert ax.get_ylim() == pytest.approx((-0.8, 4.8))


def test_labels_may_be_a_series(every_kind):
    ax = estimates_chart(every_kind, labels=pd.Series(LABELS, index=range(10, 15)), title="t")
    assert [t.get_text() for t in ax.get_yticklabels()] == LABELS


def test_draws_on_the_given_axes():
    fig, ax = plt.subplots()
    out = estimates_chart(_estimates([("cited_study", "exact", 10, NA, NA, NA, NA)]), labels=["a"], title="t", ax=ax)
    assert out is ax
    assert plt.get_fignums() == [fig.number]


# -- count_heatmap --------------------------------------------------------------------------


@pytest.fixture
def counts():
    return pd.DataFrame(
        [[3, 0, 1], [0, 12, 5]], index=["Page A", "Page B"], columns=["recurrence", "opioids", "background"]
    )


def test_heatmap_annotations_are_the_counts(counts):
    ax = charts.count_heatmap(counts, title="T", xlabel="Topic", ylabel="Page")
    cells = {(round(t.get_position()[1] - 0.5), round(t.get_position()[0] - 0.5)): t.get_text() for t in ax.texts}
    assert cells == {(r, c): str(counts.iat[r, c]) for r in range(2) for c in range(3)}


def test_heatmap_labels_and_colour_bar(counts):
    ax = charts.count_heatmap(counts, title="T", xlabel="Topic", ylabel="Page")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["recurrence", "opioids", "background"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Page A", "Page B"]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("T", "Topic", "Page")
    colour_bar = [a for a in ax.figure.axes if a is not ax]
    assert [a.get_ylabel() for a in colour_bar] == ["claims (count)"]
    assert all(t.get_horizontalalignment() == "right" for t in ax.get_xticklabels())


# -- stacked_shares ------------------------------------------------------------------------


def _bars_by_row(ax):
    rows = {}
    for patch in ax.patches:
        rows.setdefault(round(patch.get_y() + patch.get_height() / 2, 6), []).append(patch)
    return rows


def test_stacked_shares_rows_add_to_100(counts):
    ax = charts.stacked_shares(counts, title="S")
    rows = _bars_by_row(ax)
    assert len(rows) == 2
    for patches in rows.values():
        assert sum(p.get_width() for p in patches) == pytest.approx(100)
    top = sorted(rows[max(rows)], key=lambda p: p.get_x())
    # Page A: 3, 0, 1 of 4 -> 75%, 0%, 25%, stacked left to right.
    assert [p.get_width() for p in top] == pytest.approx([75, 0, 25])
    assert [p.get_x() for p in top] == pytest.approx([0, 75, 75])


def test_stacked_shares_counts_in_bars_and_legend(counts):
    ax = charts.stacked_shares(counts, title="S")
    # Counts shown in segments at least 6% wide; zero counts never shown.
    assert sorted(t.get_text() for t in ax.texts) == sorted(["3", "1", "12", "5"])
    assert _legend_texts(ax) == ["recurrence", "opioids", "background"]
    ticks = dict(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels())))
    assert [ticks[y] for y in sorted(ticks, reverse=True)] == ["Page A", "Page B"]
    assert ax.get_xlim() == (0, 100)


def test_stacked_shares_uses_given_colours(counts):
    ax = charts.stacked_shares(counts, title="S", colours={"opioids": "black"})
    by_colour = {}
    for p in ax.patches:
        by_colour.setdefault(p.get_facecolor(), []).append(p)
    assert len(by_colour[to_rgba("black")]) == 2
    assert len(by_colour[to_rgba(PALETTE[0])]) == 2


def test_stacked_shares_small_segment_has_no_count():
    table = pd.DataFrame([[1, 99]], index=["p"], columns=["a", "b"])
    ax = charts.stacked_shares(table, title="S")
    assert [t.get_text() for t in ax.texts] == ["99"]  # 1% is too narrow for a label


# -- composition_bar -----------------------------------------------------------------------


@pytest.fixture
def parts():
    return pd.DataFrame(
        {
            "label": ["loss of effect", "infection", "other (derived)"],
            "share": [43.9, 20.2, 35.9],
            "derived": [False, False, True],
        }
    )


def test_composition_bar_hatches_only_the_derived_part(parts):
    ax = charts.composition_bar(parts, title="C")
    (derived,) = _gid(ax.patches, "derived")
    stated = _gid(ax.patches, "stated")
    assert len(stated) == 2
    assert derived.get_hatch() == "//"
    assert all(p.get_hatch() is None for p in stated)
    assert derived.get_x() == pytest.approx(64.1)
    assert derived.get_width() == pytest.approx(35.9)
    assert to_rgba(derived.get_facecolor()) == to_rgba("0.85")


def test_composition_bar_segments_are_consecutive(parts):
    ax = charts.composition_bar(parts, title="C")
    patches = sorted(ax.patches, key=lambda p: p.get_x())
    assert [p.get_x() for p in patches] == pytest.approx([0, 43.9, 64.1])
    assert sum(p.get_width() for p in patches) == pytest.approx(100)
    assert [t.get_text() for t in ax.texts] == ["43.9%", "20.2%", "35.9%"]
    assert _legend_texts(ax) == ["loss of effect", "infection", "other (derived)"]


# -- time_course ----------------------------------------------------------------------------


def test_time_course_points_and_labels():
    points = pd.DataFrame(
        {"months": [1, 12, 60], "value": [40.0, 60.5, 81.0], "label": ["1 month", "1 year", "5 years"]}
    )
    ax = charts.time_course(points, title="TC", ylabel="Off opioids (%)")
    (line,) = _gid(ax.lines, "course")
    assert line.get_xdata().tolist() == [1, 12, 60]
    assert line.get_ydata().tolist() == [40.0, 60.5, 81.0]
    assert line.get_marker() == "o"
    assert [t.get_text() for t in ax.texts] == ["40%\n1 month", "60.5%\n1 year", "81%\n5 years"]
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "12", "60"]
    assert ax.get_ylim() == (0, 100)
    assert ax.get_ylabel() == "Off opioids (%)"


# -- interval_forest ------------------------------------------------------------------------


@pytest.fixture
def studies():
    return pd.DataFrame(
        {
            "label": ["A [p1]", "B [p2]", "C [p3]"],
            "total": [479, 35, 1200.0],
            "proportion": [14.405, 85.714, 50.0],
            "ci_low": [11.5, 70.6, 47.2],
            "ci_high": [17.9, 93.7, 52.8],
        }
    )


def test_interval_forest_one_marker_per_row(studies):
    ax = forest.interval_forest(studies, title="F")
    markers = _gid(ax.lines, forest.GID_STUDY_MARKER)
    assert len(markers) == len(studies) == 3
    assert [m.get_xdata()[0] for m in markers] == pytest.approx(studies["proportion"].tolist())
    assert [m.get_ydata()[0] for m in markers] == [0, 1, 2]
    assert _gid(ax.patches, forest.GID_DIAMOND) == []


def test_interval_forest_whiskers_and_labels(studies):
    ax = forest.interval_forest(studies, title="F")
    (whiskers,) = _gid(ax.collections, forest.GID_STUDY_CI)
    segments = whiskers.get_segments()
    assert [s[:, 0].min() for s in segments] == pytest.approx(studies["ci_low"].tolist())
    assert [s[:, 0].max() for s in segments] == pytest.approx(studies["ci_high"].tolist())
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A [p1] (n=479)", "B [p2] (n=35)", "C [p3] (n=1,200)"]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # first row at the top


def test_interval_forest_empty():
    empty = pd.DataFrame(columns=["label", "total", "proportion", "ci_low", "ci_high"])
    ax = forest.interval_forest(empty, title="F")
    assert _gid(ax.lines, forest.GID_STUDY_MARKER) == []
