"""fbss_evidence.plotting.curves, tested through its artists: the fitted curve and its band, one square per
result used (area by n), one line per study, one marker per claim with a timepoint."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from test_literature import _data  # noqa: E402
from test_metaregression import CURVE_STUDIES, _timed  # noqa: E402

from fbss_evidence import literature, metaregression  # noqa: E402
from fbss_evidence.plotting import curves, style  # noqa: E402


def _gid(artists, gid):
    return [a for a in artists if a.get_gid() == gid]


@pytest.fixture(scope="module")
def fitted():
    rows = [
        _timed(1, "alpha-2001", 4, 200, 12),
        _timed(2, "alpha-2001", 20, 200, 60),
        _timed(1, "eps-2005", 36, 190, 120),
        _timed(1, "beta-2002", 2, 150, 12),
        _timed(2, "beta-2002", 12, 150, 60),
        _timed(3, "beta-2002", 25, 150, 120),
        _timed(1, "gamma-2003", 3, 80, 24, group="5y"),
        _timed(2, "gamma-2003", 9, 80, 96),
        _timed(1, "zeta-2006", 30, 400, 60),
    ]
    return metaregression.time_curve(literature.synthesise(_data(rows, CURVE_STUDIES), "q").rows)


def _claims():
    return pd.DataFrame(
        [
            dict(
                value=20.0, value_low=np.nan, value_high=np.nan, bound="exact", basis="cited_study", timepoint_years=5.0
            ),
            dict(value=np.nan, value_low=10.0, value_high=30.0, bound="range", basis="uncited", timepoint_years=10.0),
            dict(
                value=15.0,
                value_low=np.nan,
                value_high=np.nan,
                bound="upper",
                basis="clinic_experience",
                timepoint_years=2.0,
            ),
            dict(
                value=40.0, value_low=np.nan, value_high=np.nan, bound="exact", basis="uncited", timepoint_years=np.nan
            ),
        ]
    )


def test_one_square_per_result_used_and_one_line_per_study(fitted):
    ax = curves.time_curve_chart(fitted.curve, fitted.rows, _claims(), title="T")
    points = _gid(ax.collections, curves.GID_STUDY_POINTS)
    assert len(points) == fitted.rows["cohort_id"].nunique() == 4
    offsets = np.concatenate([p.get_offsets() for p in points])
    assert len(offsets) == len(fitted.rows) == 9
    expected = np.array(sorted(zip(fitted.rows["years"], fitted.rows["percent"])))
    assert np.array(sorted(map(tuple, offsets))) == pytest.approx(expected)
    lines = _gid(ax.lines, curves.GID_STUDY_LINE)
    assert len(lines) == 4
    alpha = next(
        line
        for line in lines
        if len(line.get_xdata()) == 3 and line.get_xdata()[1] == 5.0 and line.get_ydata()[0] == pytest.approx(2.0)
    )
    assert list(alpha.get_xdata()) == [1.0, 5.0, 10.0]  # one cohort, two papers, one line in time order
    labels = [t.get_text() for t in _gid(ax.texts, curves.GID_STUDY_LABEL)]
    assert len(labels) == 3  # the single-result study is not named


def test_marker_area_follows_n(fitted):
    ax = curves.time_curve_chart(fitted.curve, fitted.rows, _claims(), title="T")
    sizes = {}
    for collection in _gid(ax.collections, curves.GID_STUDY_POINTS):
        for (x, y), s in zip(
            collection.get_offsets(), np.broadcast_to(collection.get_sizes(), len(collection.get_offsets()))
        ):
            sizes[(round(x, 6), round(y, 6))] = s
    n = {(round(r.years, 6), round(r.percent, 6)): r.pool_n for r in fitted.rows.itertuples()}
    largest = max(n, key=n.get)
    smallest = min(n, key=n.get)
    assert sizes[largest] == max(sizes.values()) and sizes[smallest] == min(sizes.values())
    ratio = (sizes[largest] - curves._MIN_AREA) / (sizes[smallest] - curves._MIN_AREA)
    assert ratio == pytest.approx(n[largest] / n[smallest])


def test_the_curve_and_its_band_within_the_follow_up_and_dashed_beyond(fitted):
    ax = curves.time_curve_chart(fitted.curve, fitted.rows, _claims(), title="T")
    inside = fitted.curve[~fitted.curve["extrapolated"]]
    (line,) = _gid(ax.lines, curves.GID_CURVE)
    assert line.get_xdata() == pytest.approx(inside["years"].to_numpy())
    assert line.get_ydata() == pytest.approx(inside["percent"].to_numpy())
    (band,) = _gid(ax.collections, curves.GID_BAND)
    vertices = band.get_paths()[0].vertices
    assert vertices[:, 0].min() == pytest.approx(inside["years"].min())
    assert vertices[:, 0].max() == pytest.approx(inside["years"].max())
    assert vertices[:, 1].min() == pytest.approx(inside["ci_low"].min())
    assert vertices[:, 1].max() == pytest.approx(inside["ci_high"].max())
    dashed = _gid(ax.lines, curves.GID_EXTRAPOLATED)
    assert len(dashed) == 2  # before 1 year and after 10
    assert all(d.get_linestyle() == "--" for d in dashed)
    assert min(d.get_xdata().min() for d in dashed) == pytest.approx(0.25)
    assert max(d.get_xdata().max() for d in dashed) == pytest.approx(15.0)


def test_claims_with_a_timepoint_are_drawn_by_basis_and_bound(fitted):
    ax = curves.time_curve_chart(fitted.curve, fitted.rows, _claims(), title="T")
    claims = _gid(ax.lines, curves.GID_CLAIM)
    assert len(claims) == 3  # the claim without a timepoint is not drawn
    by_x = {float(c.get_xdata()[0]): c for c in claims}
    exact, band, upper = by_x[5.0], by_x[10.0], by_x[2.0]
    colour, marker, _ = style.BASIS_STYLE["cited_study"]
    assert exact.get_marker() == marker and exact.get_ydata()[0] == 20.0
    assert matplotlib.colors.to_rgb(exact.get_markerfacecolor()) == pytest.approx(colour)
    assert list(band.get_ydata()) == [10.0, 30.0] and list(band.get_xdata()) == [10.0, 10.0]
    assert upper.get_marker() == "v"
    assert matplotlib.colors.to_rgb(upper.get_color()) == pytest.approx(style.BASIS_STYLE["clinic_experience"][0])
    labels = [h.get_label() for h in ax.get_legend().legend_handles]
    assert "page claim: cited study" in labels and "upper bound ('up to')" in labels and "range ('20-40%')" in labels
    assert "approximate ('about')" not in labels


def test_axes_log_years_and_share(fitted):
    ax = curves.time_curve_chart(fitted.curve, fitted.rows, _claims(), title="Explants over time")
    assert ax.get_xscale() == "log"
    assert ax.get_xlabel() == "Follow-up (years)" and ax.get_ylabel() == "Share of patients (%)"
    assert ax.get_title() == "Explants over time"
    low, high = ax.get_xlim()
    assert low < 0.25 and high > 15
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= 30
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["0.25", "0.5", "1"]


def test_colours_and_drawing_on_given_axes(fitted):
    fig, (left, right) = plt.subplots(1, 2)
    returned = curves.time_curve_chart(fitted.curve, fitted.rows, _claims().iloc[:0], title="T", ax=right)
    assert returned is right and plt.get_fignums() == [fig.number] and not left.lines
    (line,) = _gid(right.lines, curves.GID_CURVE)
    assert matplotlib.colors.to_rgb(line.get_color()) == pytest.approx(style.POOLED_COLOUR)
    points = _gid(right.collections, curves.GID_STUDY_POINTS)[0]
    assert tuple(points.get_facecolor()[0][:3]) == pytest.approx(style.STUDY_COLOUR)
    assert _gid(right.lines, curves.GID_CLAIM) == []
