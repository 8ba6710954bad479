"""fbss_evidence.plotting.literature, tested through its artists: one square per study result (filled when
pooled, hollow when not), a diamond and a prediction line per pooled group, one marker per comparable claim."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from test_literature import STUDIES, _data, _result  # noqa: E402

from fbss_evidence import literature  # noqa: E402
from fbss_evidence.plotting import literature as plots  # noqa: E402


def _gid(artists, gid):
    return [a for a in artists if a.get_gid() == gid]


@pytest.fixture
def result():
    rows = [
        _result(1, "alpha-2001", events=10, n=100),
        _result(1, "beta-2002", events=14, n=100),
        _result(1, "gamma-2003", events=20, n=100),
        _result(2, "beta-2002", percent=30.0),
        _result(3, "alpha-2001", group="10y", events=30, n=100, months=120),
    ]
    return literature.synthesise(_data(rows, STUDIES), "q", method="DL")


def _claims(result):
    rows = [
        dict(
            claim_id="c1",
            question_id="q",
            compare_with=np.nan,
            comparable="yes",
            note="n",
            value=25.0,
            value_low=np.nan,
            value_high=np.nan,
            bound="exact",
            value_text="25%",
            basis="cited_study",
            source="Page",
            study="S 2000",
            study_figure="12%",
        ),
        dict(
            claim_id="c2",
            question_id="q",
            compare_with=np.nan,
            comparable="yes",
            note="n",
            value=np.nan,
            value_low=20.0,
            value_high=40.0,
            bound="range",
            value_text="20-40%",
            basis="uncited",
            source="Page",
            study=np.nan,
            study_figure=np.nan,
        ),
        dict(
            claim_id="c3",
            question_id="q",
            compare_with=np.nan,
            comparable="no",
            note="a count",
            value=69.0,
            value_low=np.nan,
            value_high=np.nan,
            bound="exact",
            value_text="69",
            basis="cited_study",
            source="Page",
            study=np.nan,
            study_figure=np.nan,
        ),
    ]
    claims = pd.DataFrame(rows)
    return claims.assign(group=literature.place_claims(result, claims)["group"].to_numpy())


def test_evidence_forest_draws_each_result_each_pool_and_each_comparable_claim(result):
    ax = plots.evidence_forest(result, _claims(result), title="Q")
    pooled = _gid(ax.lines, plots.GID_STUDY)
    assert len(pooled) == 3  # the three counted 5y results
    assert sorted(m.get_xdata()[0] for m in pooled) == pytest.approx([10, 14, 20])
    assert len(_gid(ax.lines, plots.GID_STUDY_NOT_POOLED)) == 2  # no counts; alone in 10y
    (diamond,) = _gid(ax.patches, plots.GID_DIAMOND)
    xs = diamond.get_xy()[:, 0]
    pool = result.pooled["5y"]
    assert min(xs) == pytest.approx(pool.ci_low) and max(xs) == pytest.approx(pool.ci_high)
    (pi,) = _gid(ax.lines, plots.GID_PREDICTION)
    assert list(pi.get_xdata()) == pytest.approx([pool.pi_low, pool.pi_high])
    claims = _gid(ax.lines, plots.GID_CLAIM)
    assert len(claims) == 2  # the count (comparable = no) is not drawn
    assert sorted(tuple(c.get_xdata()) for c in claims) == [(20.0, 40.0), (25.0,)]
    texts = [t.get_text() for t in ax.texts]
    assert "10/100" in texts and "30%, n not given" in texts and "cited study: 12%" in texts
    assert ax.get_xlabel() == "Share of patients (%)" and ax.get_title() == "Q"


def test_overview_draws_a_diamond_per_pooled_question_and_a_band_otherwise(result):
    table = pd.DataFrame(
        [
            dict(
                question_id="q",
                label="Q",
                group="5y",
                pooled=20.0,
                ci_low=15.0,
                ci_high=25.0,
                pi_low=5.0,
                pi_high=50.0,
                study_low=10.0,
                study_high=30.0,
            ),
            dict(
                question_id="r",
                label="R",
                group="all",
                pooled=np.nan,
                ci_low=np.nan,
                ci_high=np.nan,
                pi_low=np.nan,
                pi_high=np.nan,
                study_low=12.0,
                study_high=40.0,
            ),
        ]
    )
    claims = pd.DataFrame(
        [
            dict(
                question_id="q",
                value=60.0,
                value_low=np.nan,
                value_high=np.nan,
                bound="upper",
                basis="clinic_experience",
            )
        ]
    )
    ax = plots.overview(table, claims, title="All")
    assert len(_gid(ax.patches, plots.GID_DIAMOND)) == 1
    assert len(_gid(ax.patches, "study-range")) == 1
    (claim,) = _gid(ax.lines, plots.GID_CLAIM)
    assert claim.get_xdata()[0] == 60.0 and claim.get_marker() == "<"
    labels = [h.get_label() for h in ax.get_legend().legend_handles]
    assert "page claim: clinic's own experience" in labels and "upper bound ('up to')" in labels
