"""Tests of fbss_evidence.metaregression: the multilevel model against metafor's published example, its
likelihood against one written out here, and the time curve's choice of results and its curve."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import reference_values as ref
from scipy import optimize, special
from scipy import stats as sps
from test_literature import NA, _data, _judged, _question, _result, _study

from fbss_evidence import literature, metaregression, stats
from fbss_evidence.metaregression import multilevel

DAT = pd.DataFrame(ref.KONSTANTOPOULOS2011)
YEAR = pd.DataFrame({"intrcpt": 1.0, "year": DAT["year"] - DAT["year"].mean()})
RESULTS = ref.KONSTANTOPOULOS2011_RESULTS
MODELS = {  # reference block -> the same model here
    "ml_year": dict(X=YEAR, groups=DAT["district"], method="ML"),
    "ml": dict(groups=DAT["district"], method="ML"),
    "reml": dict(groups=DAT["district"], method="REML"),
    "reml_digits": dict(groups=DAT["district"], method="REML"),
    "two_level": dict(method="REML"),
    "two_level_year": dict(X=YEAR, method="REML"),
}
HALF_UNIT = 0.5e-4  # half a unit in the 4th decimal, as metafor records the values


def _fit(name):
    return multilevel(DAT["yi"], DAT["vi"], **MODELS[name])


def _sigma2(fit):
    return fit.sigma2 if not math.isnan(fit.sigma2_group) else (fit.sigma2_estimate,)


# ---------------------------------------------------------------------------
# Konstantopoulos (2011), as metafor's test records it
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ml_year", "ml", "reml", "two_level", "two_level_year"])
def test_multilevel_reproduces_metafor_konstantopoulos2011(name):
    # metafor's tolerance is .01 relative; every value here agrees to half a unit in its 4th decimal.
    fit, expected = _fit(name), RESULTS[name]
    assert fit.converged
    assert fit.coef == pytest.approx(expected["coef"], abs=HALF_UNIT)
    assert fit.se == pytest.approx(expected["se"], abs=HALF_UNIT)
    assert _sigma2(fit) == pytest.approx(expected["sigma2"], abs=HALF_UNIT)
    if "loglik" in expected:
        assert fit.loglik == pytest.approx(expected["loglik"], abs=HALF_UNIT)
    if "icc" in expected:
        assert fit.sigma2_group / sum(fit.sigma2) == pytest.approx(expected["icc"], abs=HALF_UNIT)
        assert sum(fit.sigma2) == pytest.approx(expected["sigma2_total"], abs=HALF_UNIT)
    if "pi" in expected:
        band = fit.predict([1.0])
        assert (band["pi_low"][0], band["pi_high"][0]) == pytest.approx(expected["pi"], abs=HALF_UNIT)


def test_multilevel_reml_matches_metafor_to_its_7_digits():
    fit, expected = _fit("reml_digits"), RESULTS["reml_digits"]
    assert fit.coef == pytest.approx(expected["coef"], rel=1e-6)
    assert fit.se == pytest.approx(expected["se"], rel=1e-6)
    assert fit.sigma2 == pytest.approx(expected["sigma2"], rel=1e-6)


def test_two_level_reml_is_the_random_effects_model_of_stats():
    fit = _fit("two_level")
    re = stats.random_effects(DAT["yi"], DAT["vi"], method="REML")
    assert fit.sigma2_estimate == pytest.approx(re.tau2, rel=1e-6)
    assert fit.coef[0] == pytest.approx(re.estimate, rel=1e-8)
    assert fit.se[0] == pytest.approx(re.se, rel=1e-6)
    assert math.isnan(fit.sigma2_group)


# ---------------------------------------------------------------------------
# The likelihood, written out independently
# ---------------------------------------------------------------------------


def _covariance(sigma2_group, sigma2_estimate, groups, v):
    same = (np.asarray(groups)[:, None] == np.asarray(groups)[None, :]).astype(float)
    return np.diag(np.asarray(v) + sigma2_estimate) + sigma2_group * same


def _written_out(s2, X, reml):
    """The (restricted) log-likelihood by scipy's multivariate normal density, b by GLS."""
    y = DAT["yi"].to_numpy()
    V = _covariance(s2[0], s2[1], DAT["district"], DAT["vi"])
    Vi = np.linalg.inv(V)
    b = np.linalg.solve(X.T @ Vi @ X, X.T @ Vi @ y)
    ll = sps.multivariate_normal(X @ b, V).logpdf(y)
    if reml:  # Harville (1974): + p/2 log(2 pi) + 1/2 log|X'X| - 1/2 log|X'V^-1 X|
        ll += (
            X.shape[1] / 2 * math.log(2 * math.pi)
            + 0.5 * np.linalg.slogdet(X.T @ X)[1]
            - 0.5 * np.linalg.slogdet(X.T @ Vi @ X)[1]
        )
    return ll, b


@pytest.mark.parametrize("method", ["ML", "REML"])
def test_multilevel_maximises_the_likelihood_written_out(method):
    X = YEAR.to_numpy()
    fit = multilevel(DAT["yi"], DAT["vi"], YEAR, DAT["district"], method=method)
    best = optimize.minimize(
        lambda s: -_written_out(np.abs(s), X, method == "REML")[0],
        x0=[0.1, 0.1],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 5000},
    )
    assert fit.sigma2 == pytest.approx(np.abs(best.x), rel=1e-4)
    ll, b = _written_out(fit.sigma2, X, method == "REML")
    assert fit.loglik == pytest.approx(ll, rel=1e-10)
    assert fit.coef == pytest.approx(b, rel=1e-10)
    Vi = np.linalg.inv(_covariance(*fit.sigma2, DAT["district"], DAT["vi"]))
    assert fit.vcov == pytest.approx(np.linalg.inv(X.T @ Vi @ X), rel=1e-10)
    assert fit.names == ("intrcpt", "year") and fit.k == 56 and fit.n_groups == 11


def test_a_variance_component_at_its_boundary_is_zero():
    # No spread between groups beyond what the estimates show: sigma2_group at 0, the fit still converged.
    y, v = [0.1, 0.12, 0.09, 0.11, 0.1, 0.1], [0.01] * 6
    fit = multilevel(y, v, groups=["a", "a", "b", "b", "c", "c"])
    assert fit.sigma2 == (0.0, 0.0) and fit.converged
    assert fit.coef[0] == pytest.approx(np.mean(y))


def test_predict_gives_the_fit_its_se_and_both_intervals():
    fit = _fit("ml_year")
    x = np.array([[1.0, -5.0], [1.0, 0.0], [1.0, 10.0]])
    band = fit.predict(x, level=0.9)
    assert list(band.columns) == ["fit", "se", "ci_low", "ci_high", "pi_low", "pi_high"]
    assert band["fit"].to_numpy() == pytest.approx(x @ fit.coef)
    se = np.sqrt([row @ fit.vcov @ row for row in x])
    assert band["se"].to_numpy() == pytest.approx(se)
    z = sps.norm.ppf(0.95)
    assert band["ci_high"].to_numpy() == pytest.approx(x @ fit.coef + z * se)
    assert band["pi_low"].to_numpy() == pytest.approx(x @ fit.coef - z * np.sqrt(se**2 + sum(fit.sigma2)))
    with pytest.raises(ValueError, match="2 columns"):
        fit.predict([1.0, 2.0, 3.0])


def test_multilevel_refuses_what_it_cannot_fit():
    with pytest.raises(ValueError, match="REML, ML"):
        multilevel([1, 2, 3], [1, 1, 1], method="DL")
    with pytest.raises(ValueError, match="equal length"):
        multilevel([1, 2, 3], [1, 1])
    with pytest.raises(ValueError, match="positive"):
        multilevel([1, 2, 3], [1, 0, 1])
    with pytest.raises(ValueError, match="design matrix"):
        multilevel([1, 2, 3], [1, 1, 1], X=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="linearly dependent"):
        multilevel([1, 2, 3, 4], [1, 1, 1, 1], X=np.ones((4, 2)))
    with pytest.raises(ValueError, match="variance component"):
        multilevel([1, 2, 3], [1, 1, 1], X=np.column_stack([np.ones(3), [1, 2, 3]]), groups=["a", "a", "b"])
    with pytest.raises(ValueError, match="every estimate's group"):
        multilevel([1, 2, 3, 4], [1, 1, 1, 1], groups=["a", None, "b", "b"])


# ---------------------------------------------------------------------------
# time_curve: which results, and the curve
# ---------------------------------------------------------------------------

CURVE_STUDIES = [
    _study("alpha-2001"),
    _study("beta-2002"),
    _study("gamma-2003"),
    _study("zeta-2006"),
    _study("delta-2004", design="systematic review"),
    _study("eps-2005", cohort="alpha-2001", year="2005"),
]


def _timed(rid, study, events, n, months, group=None, **extra):
    group = group or ("1y" if months <= 18 else "5y" if months <= 84 else "10y")
    return _result(rid, study, events=events, n=n, months=months, group=group, **extra)


def _curve_results():
    return [
        _timed(1, "alpha-2001", 4, 200, 12),
        _timed(2, "alpha-2001", 20, 200, 60),
        _timed(1, "eps-2005", 36, 190, 120),  # alpha's cohort, later paper
        _timed(1, "beta-2002", 2, 150, 12),
        _timed(2, "beta-2002", 12, 150, 60),
        _timed(3, "beta-2002", 25, 150, 120),
        _timed(4, "beta-2002", 13, 150, 60, basis="kaplan_meier", percent=8.0),  # same cohort and time
        _timed(1, "gamma-2003", 0, 80, 24, group="5y"),  # zero events: 0.5 added
        _timed(2, "gamma-2003", 9, 80, 96),
        _timed(1, "zeta-2006", 30, 100, 60),  # judged indirect below
        _timed(1, "delta-2004", 50, 400, 60),  # a review
        _result(5, "beta-2002", percent=10.0, months=60.0),  # no count
        _result(6, "beta-2002", events=5, n=150, months=NA, group="end-of-follow-up"),  # no time
    ]


def _synthesised():
    rows = _curve_results()
    ids = [r["result_id"] for r in rows]
    judged = pd.concat(
        [
            _judged([i for i in ids if "zeta" not in i]),
            _judged([i for i in ids if "zeta" in i], "indirect", "followup"),
        ],
        ignore_index=True,
    )
    return literature.synthesise(_data(rows, CURVE_STUDIES, eligibility=judged), "q").rows


def test_time_curve_uses_each_timed_counted_result_once_and_says_why_the_rest_are_not():
    curve = metaregression.time_curve(_synthesised())
    used = curve.rows
    assert len(used) == 8 and used["cohort_id"].nunique() == 3
    assert sorted(used.loc[used["cohort_id"] == "alpha-2001", "years"]) == [1.0, 5.0, 10.0]
    why = dict(
        zip(
            curve.left_out["result_id"].str.rsplit("--", n=1).str[-1] + ":" + curve.left_out["study"],
            curve.left_out["reason_code"],
        )
    )
    assert why == {
        "4:Beta 2002": "same_time",
        "1:Zeta 2006": "indirect",
        "1:Delta 2004": "review",
        "5:Beta 2002": "no_counts",
        "6:Beta 2002": "no_timepoint",
    }
    kept = used[(used["study"] == "Beta 2002") & (used["years"] == 5.0)]
    assert kept["count_basis"].tolist() == ["stated"]  # stated before Kaplan-Meier at the same time
    same = curve.left_out.set_index("reason_code").loc["same_time", "reason"]
    assert "beta-2002" in same and "Beta 2002" in same
    zero = used[used["pool_events"] == 0].iloc[0]
    assert zero["logit"] == pytest.approx(math.log(0.5 / 80.5)) and zero["variance"] == pytest.approx(
        1 / 0.5 + 1 / 80.5
    )


def test_the_sensitivity_curve_adds_the_indirect_results():
    curve = metaregression.time_curve(_synthesised(), analysis="sensitivity")
    assert len(curve.rows) == 9 and "Zeta 2006" in set(curve.rows["study"])
    assert curve.analysis == "sensitivity"


def test_time_curve_is_the_multilevel_fit_on_log_years_and_its_curve_in_percent():
    curve = metaregression.time_curve(_synthesised(), grid_years=[0.5, 1.0, 5.0, 10.0, 20.0])
    used = curve.rows
    y, v = stats.logit_and_variance(used["pool_events"].to_numpy(float), used["pool_n"].to_numpy(float))
    X = np.column_stack([np.ones(len(used)), np.log(used["timepoint_months"] / 12)])
    direct = multilevel(y, v, X, used["cohort_id"], method="REML")
    assert curve.fit.method == "REML" and curve.fit.names == ("intrcpt", "log_years")
    assert curve.fit.coef == pytest.approx(direct.coef) and curve.fit.sigma2 == pytest.approx(direct.sigma2)
    band = direct.predict(np.column_stack([np.ones(5), np.log([0.5, 1.0, 5.0, 10.0, 20.0])]))
    assert curve.curve["percent"].to_numpy() == pytest.approx(special.expit(band["fit"]) * 100)
    assert curve.curve["ci_low"].to_numpy() == pytest.approx(special.expit(band["ci_low"]) * 100)
    assert curve.curve["ci_high"].to_numpy() == pytest.approx(special.expit(band["ci_high"]) * 100)
    assert curve.curve["extrapolated"].tolist() == [True, False, False, False, True]
    assert curve.fit.coef[1] > 0  # the share grows with time here
    assert (np.diff(curve.curve["percent"]) > 0).all()


def test_the_default_grid_runs_from_three_months_to_fifteen_years():
    curve = metaregression.time_curve(_synthesised())
    assert curve.curve["years"].iloc[0] == pytest.approx(0.25) and curve.curve["years"].iloc[-1] == pytest.approx(15)
    assert (curve.curve["ci_low"] < curve.curve["percent"]).all()
    assert (curve.curve["percent"] < curve.curve["ci_high"]).all()


def test_kaplan_meier_counts_are_noted():
    rows = [
        _timed(1, "alpha-2001", 4, 200, 12, basis="kaplan_meier", percent=2.0),
        _timed(2, "alpha-2001", 20, 200, 60),
        _timed(1, "beta-2002", 2, 150, 12),
        _timed(2, "beta-2002", 12, 150, 60),
    ]
    curve = metaregression.time_curve(literature.synthesise(_data(rows, CURVE_STUDIES), "q").rows)
    assert curve.notes and "Kaplan-Meier" in curve.notes[0]


def test_a_question_pooled_by_arm_needs_its_group():
    rows = [
        _timed(i, s, e, 100, m, arm=arm)
        for i, (s, e, m, arm) in enumerate(
            [
                ("alpha-2001", 5, 12, "a"),
                ("alpha-2001", 9, 60, "a"),
                ("beta-2002", 4, 12, "a"),
                ("beta-2002", 8, 60, "a"),
                ("gamma-2003", 30, 24, "b"),
            ],
            start=1,
        )
    ]
    synthesised = literature.synthesise(_data(rows, CURVE_STUDIES, _question(pool_by="arm", headline="a")), "q").rows
    with pytest.raises(ValueError, match="pass group="):
        metaregression.time_curve(synthesised)
    curve = metaregression.time_curve(synthesised, group="a")
    assert len(curve.rows) == 4 and curve.group == "a"
    assert curve.left_out["reason_code"].tolist() == ["other_group"]


def test_time_curve_refuses_too_little_to_fit():
    one_cohort = [_timed(i, "alpha-2001", e, 200, m) for i, (e, m) in enumerate([(4, 12), (20, 60), (30, 120)], 1)]
    with pytest.raises(stats.PoolingRefused, match="1 cohort"):
        metaregression.time_curve(literature.synthesise(_data(one_cohort, CURVE_STUDIES), "q").rows)
    one_time = [_timed(1, s, 10, 100, 60) for s in ("alpha-2001", "beta-2002", "gamma-2003", "zeta-2006")]
    with pytest.raises(stats.PoolingRefused, match="1 follow-up time"):
        metaregression.time_curve(literature.synthesise(_data(one_time, CURVE_STUDIES), "q").rows)
    with pytest.raises(ValueError, match="analysis"):
        metaregression.time_curve(_synthesised(), analysis="both")


def test_the_first_curve_that_can_be_fitted_and_why_the_ones_before_could_not():
    rows = _synthesised()
    curve, label, refused = metaregression.first_curve({"primary": rows.head(2), "sensitivity": rows})
    assert curve.analysis == "sensitivity" and label == "with the indirect results"
    assert len(refused) == 1 and refused[0].startswith("direct results: cannot fit a time curve")
    curve, label, refused = metaregression.first_curve({"primary": rows, "sensitivity": rows})
    assert curve.analysis == "primary" and label == "direct results" and refused == []
    assert metaregression.first_curve({"primary": rows.head(1), "sensitivity": rows.head(1)})[0] is None
