"""Meta-regression with random effects at two levels, and time curves of outcomes that grow with follow-up.

`multilevel` fits y_ij = x_ij b + u_i + e_ij + sampling error, with u_i ~ N(0, sigma2_group) shared by
the estimates of group i (a study, or a cohort), e_ij ~ N(0, sigma2_estimate) one per estimate, and the
sampling variances v_ij known: metafor's `rma.mv(yi, vi, mods, random = ~ 1 | group/estimate)`. The two
variance components are estimated by REML (default) or ML; b by generalised least squares given them.

`time_curve` uses it for one question whose results are reported at different follow-up times (a
cumulative share of patients: reoperation, explant, adjacent-segment surgery). The choices, and what a
reader should know about them:

* The logit of the share is regressed on log(years of follow-up). Cumulative shares rise fast early and
  slowly later; on log time the logit rises about linearly, and the curve cannot leave 0-100%.
* A random effect per study (cohort_id, so that results of one cohort from several papers count as one
  study) as well as one per estimate: several timepoints of one cohort are correlated (the same patients
  carry their differences, of case mix and of how the outcome was counted, to every timepoint), and
  treating them as independent studies would overstate how much is known.
* The correlation of sampling errors within a cohort is ignored: the count at 10 years includes the
  patients counted at 5, so the sampling errors of one cohort's timepoints are positively correlated,
  but the papers do not give what that covariance needs. The cohort's random effect absorbs part of it;
  the confidence band may still be somewhat too narrow where one large cohort gives many timepoints.
* Counts derived from a Kaplan-Meier estimate and the number at the start (count_basis kaplan_meier)
  overstate precision, as in the pooled estimates; and a crude share over a variable follow-up, placed at
  its mean, sits below the cumulative share at that time.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg, optimize, special
from scipy import stats as sps

from . import eligibility, stats

METHODS = ("REML", "ML")


@dataclass(frozen=True, eq=False)
class MultilevelFit:
    """A multilevel meta-regression. Coefficients on the scale of y; `sigma2` is (group, estimate), in
    metafor's order; a two-level fit (no groups) has sigma2_group NaN."""

    method: str
    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    vcov: np.ndarray
    sigma2_group: float
    sigma2_estimate: float
    loglik: float
    k: int
    n_groups: int
    converged: bool

    @property
    def sigma2(self) -> tuple[float, float]:
        return self.sigma2_group, self.sigma2_estimate

    def predict(self, x_new, level: float = 0.95) -> pd.DataFrame:
        """The fitted value of each row of `x_new` (rows of the design matrix, intercept included), with its
        standard error, confidence interval and prediction interval (z, as metafor's predict(): the
        interval for the true value of a new estimate, fit +/- z sqrt(se^2 + sigma2_group + sigma2_estimate))."""
        x = np.atleast_2d(np.asarray(x_new, dtype=float))
        if x.shape[1] != len(self.coef):
            raise ValueError(f"x_new needs {len(self.coef)} columns ({', '.join(self.names)}), got {x.shape[1]}")
        fit = x @ self.coef
        se = np.sqrt(np.einsum("ij,jk,ik->i", x, self.vcov, x))
        crit = sps.norm.ppf((1.0 + stats._check_level(level)) / 2.0)
        spread = np.sqrt(se ** 2 + np.nansum(self.sigma2))
        return pd.DataFrame({"fit": fit, "se": se, "ci_low": fit - crit * se, "ci_high": fit + crit * se,
                             "pi_low": fit - crit * spread, "pi_high": fit + crit * spread})


def _design(X, k: int) -> tuple[np.ndarray, tuple[str, ...]]:
    if X is None:
        return np.ones((k, 1)), ("intrcpt",)
    names = tuple(str(c) for c in X.columns) if isinstance(X, pd.DataFrame) else None
    matrix = np.asarray(X, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != k:
        raise ValueError(f"X must be a design matrix of {k} rows (with its intercept column), got shape "
                         f"{matrix.shape}")
    if np.linalg.matrix_rank(matrix) < matrix.shape[1]:
        raise ValueError("the columns of X are linearly dependent")
    return matrix, names or tuple(f"x{j}" for j in range(matrix.shape[1]))


class _Likelihood:
    """The (restricted) log-likelihood of the variance components and its gradient, b profiled out."""

    def __init__(self, y, v, X, same_group, reml: bool):
        self.y, self.v, self.X, self.reml = y, v, X, reml
        self.parts = [same_group, np.eye(len(y))]  # dV / d sigma2_group, dV / d sigma2_estimate
        k, p = X.shape
        self.constant = -0.5 * (k - p if reml else k) * math.log(2.0 * math.pi)
        if reml:  # metafor's full REML likelihood (REMLf = TRUE) has + 1/2 log|X'X|
            self.constant += 0.5 * np.linalg.slogdet(X.T @ X)[1]

    def solve(self, sigma2):
        V = np.diag(self.v) + sum(s * part for s, part in zip(sigma2, self.parts))
        factor = linalg.cho_factor(V)
        vinv_x = linalg.cho_solve(factor, self.X)
        information = self.X.T @ vinv_x
        b = np.linalg.solve(information, vinv_x.T @ self.y)
        resid = self.y - self.X @ b
        vinv_r = linalg.cho_solve(factor, resid)
        return factor, vinv_x, information, b, resid, vinv_r

    def __call__(self, sigma2) -> tuple[float, np.ndarray]:
        factor, vinv_x, information, _, resid, vinv_r = self.solve(sigma2)
        ll = self.constant - 0.5 * (2.0 * np.sum(np.log(np.diag(factor[0]))) + resid @ vinv_r)
        vinv = linalg.cho_solve(factor, np.eye(len(self.y)))
        P = vinv
        if self.reml:
            ll -= 0.5 * np.linalg.slogdet(information)[1]
            P = vinv - vinv_x @ np.linalg.solve(information, vinv_x.T)
        gradient = np.array([0.5 * (vinv_r @ part @ vinv_r - np.sum(P * part)) for part in self.parts])
        return float(ll), gradient


def multilevel(y, v, X=None, groups: Sequence | None = None, method: str = "REML") -> MultilevelFit:
    """Fit y = X b + u_group + e_estimate + sampling error, v the known sampling variances.

    metafor: `rma.mv(y, v, mods = X, random = ~ 1 | group/estimate, method = method)`. `X` is the whole
    design matrix, its intercept column included (None: intercept only; a DataFrame names the
    coefficients). `groups` labels each estimate's group; None fits the two-level model (one random effect
    per estimate: `rma.mv(y, v, random = ~ 1 | estimate)`, the same as `rma(y, v)`).

    The variance components maximise the restricted (REML) or full (ML) log-likelihood, with b profiled
    out (L-BFGS-B on sigma2 >= 0, with the analytic gradient); `vcov` is (X' V^-1 X)^-1 at the estimates,
    and `loglik` is the log-likelihood at the optimum with all constants, as metafor's logLik() gives it.
    """
    name = str(method).upper()
    if name not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    if y.ndim != 1 or y.shape != v.shape:
        raise ValueError("y and v must be one-dimensional and of equal length")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise ValueError("y must be finite and v finite and positive")
    k = len(y)
    X, names = _design(X, k)
    if groups is None:
        same_group, n_groups = np.zeros((k, k)), k
    else:
        labels = pd.Series(list(groups), dtype=object)
        if len(labels) != k or labels.isna().any():
            raise ValueError("groups must give every estimate's group")
        codes = pd.factorize(labels)[0]
        same_group, n_groups = (codes[:, None] == codes[None, :]).astype(float), int(codes.max()) + 1
    free = 1 if groups is None else 2
    if k - X.shape[1] < free:
        raise ValueError(f"{k} estimates cannot give {X.shape[1]} coefficient(s) and {free} variance component(s)")

    likelihood = _Likelihood(y, v, X, same_group, reml=name == "REML")

    def negative(theta):
        sigma2 = (theta[0] if groups is not None else 0.0, theta[-1])
        ll, gradient = likelihood(sigma2)
        return -ll, -(gradient if groups is not None else gradient[1:])

    spread = max(float(np.var(y, ddof=1) - np.mean(v)), 0.01)
    start = np.full(free, spread / free)
    fit = optimize.minimize(negative, start, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * free,
                            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
    sigma2 = (float(fit.x[0]) if groups is not None else math.nan, float(fit.x[-1]))
    _, _, information, b, _, _ = likelihood.solve((np.nan_to_num(sigma2[0]), sigma2[1]))
    vcov = np.linalg.inv(information)
    _, gradient = negative(fit.x)
    # L-BFGS-B may stop on a failed line search at the optimum; a flat projected gradient is convergence.
    flat = np.all((np.abs(gradient) < 1e-6) | ((fit.x == 0.0) & (gradient > 0)))
    return MultilevelFit(method=name, names=names, coef=b, se=np.sqrt(np.diag(vcov)), vcov=vcov,
                         sigma2_group=sigma2[0], sigma2_estimate=sigma2[1], loglik=-float(fit.fun), k=k,
                         n_groups=n_groups, converged=bool(fit.success or flat))


# -- time curves ---------------------------------------------------------------------------------

# Why a result of the question is not on its time curve: code -> sentence (formatted with the row's fields).
CURVE_REASONS = {
    "other_group": "group '{group}', not the one drawn ('{chosen}')",
    "review": "a review's own pooled figure, not a cohort",
    "not_eligible": "does not answer the question: {eligibility_reason}",
    "indirect": "indirect, so on the sensitivity curve only: {eligibility_reason}",
    "no_timepoint": "follow-up time not known",
    "crude_share": "a crude share over variable follow-up (end-of-follow-up), not a cumulative share at a time: "
                   "placed at its mean it would sit below the curve",
    "no_counts": "no count and no n: a bare percentage has no sampling error",
    "same_time": "the same cohort ({cohort_id}) at the same follow-up as {kept}, which stands for it",
}
DEFAULT_GRID_YEARS = np.geomspace(0.25, 15.0, 81)
CURVE_ROW_COLUMNS = ["result_id", "study", "cohort_id", "design", "eligibility", "count_basis", "count_note",
                     "timepoint_months", "years", "pool_events", "pool_n", "percent", "logit", "variance"]
LEFT_OUT_COLUMNS = ["result_id", "study", "cohort_id", "timepoint_months", "reason_code", "reason"]
CURVE_COLUMNS = ["years", "logit", "percent", "ci_low", "ci_high", "extrapolated"]
_BASIS_RANK = {"stated": 0, "derived_from_percent": 1, "percent_with_ci": 2, "percent_only": 2, "kaplan_meier": 3}


@dataclass(eq=False)
class TimeCurve:
    """A question's shares against follow-up: the fit (logit share on log years), the results it used,
    those it left out and why, and the fitted curve in percent over a grid of follow-up times."""

    fit: MultilevelFit
    rows: pd.DataFrame  # CURVE_ROW_COLUMNS, one per result used
    left_out: pd.DataFrame  # LEFT_OUT_COLUMNS
    curve: pd.DataFrame  # CURVE_COLUMNS; `extrapolated` outside the follow-up the results span
    level: float = 0.95
    analysis: str = "primary"
    group: str | None = None
    notes: list[str] = field(default_factory=list)


def _time_groups(rows: pd.DataFrame) -> bool:
    """Whether the rows' groups are follow-up windows (the question is pooled by timepoint group)."""
    return bool((rows["group"].astype(str) == rows["timepoint_group"].fillna("unspecified").astype(str)).all())


def curve_rows(rows: pd.DataFrame, *, analysis: str = "primary", group: str | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The results a time curve uses (with years, logit and variance) and those it leaves out, with why.

    `rows`: literature.synthesise(...).rows of one question. Used: a primary study's result (not a
    review) that matches the question (primary analysis; the sensitivity analysis adds the indirect ones),
    at a known follow-up time and not a crude share over variable follow-up (group end-of-follow-up),
    with a count (pool_events / pool_n, complemented where the study reports
    success). Where one cohort gives several results at the same follow-up, one stands for it: a result
    that matches before an indirect one, then stated counts before derived ones, then the larger n and the
    later study. A question pooled by arm or population subgroup needs `group`: its groups are different
    quantities, not follow-up windows.
    """
    if analysis not in eligibility.ANALYSES:
        raise ValueError(f"analysis '{analysis}' is not one of {', '.join(eligibility.ANALYSES)}")
    rows = rows.reset_index(drop=True)
    if group is None and not _time_groups(rows) and rows["group"].nunique() > 1:
        raise ValueError("these results fall in groups that are not follow-up windows ("
                         f"{', '.join(map(str, dict.fromkeys(rows['group'])))}); pass group= to draw one")
    reason = pd.Series([None] * len(rows), dtype=object)

    def leave_out(mask, code, **extra):
        for i in np.flatnonzero(np.asarray(mask, dtype=bool) & reason.isna().to_numpy()):
            fields = {**rows.iloc[i].to_dict(), "chosen": group, **extra}
            reason[i] = (code, CURVE_REASONS[code].format(**fields))

    if group is not None:
        leave_out(rows["group"].astype(str) != str(group), "other_group")
    leave_out(rows["design"] == "systematic review", "review")
    leave_out(rows["eligibility"] == "does_not_match", "not_eligible")
    leave_out(~eligibility.enters(rows["eligibility"], analysis), "indirect")
    leave_out(rows["timepoint_months"].isna() | ~(rows["timepoint_months"] > 0), "no_timepoint")
    leave_out(rows["timepoint_group"] == "end-of-follow-up", "crude_share")
    leave_out(rows["pool_n"].isna() | rows["pool_events"].isna(), "no_counts")
    candidates = rows[reason.isna()].assign(
        indirect=lambda r: r["eligibility"] != "matches", rank=lambda r: r["count_basis"].map(_BASIS_RANK).fillna(9),
        year_num=lambda r: pd.to_numeric(r["year"], errors="coerce"),
    ).sort_values(["cohort_id", "timepoint_months", "indirect", "rank", "pool_n", "year_num"],
                  ascending=[True, True, True, True, False, False])
    for _, part in candidates.groupby(["cohort_id", "timepoint_months"], sort=False):
        for i in part.index[1:]:
            leave_out(rows.index == i, "same_time", kept=part.iloc[0]["study"])

    used = rows[reason.isna()].copy()
    y, v = stats.logit_and_variance(used["pool_events"].to_numpy(float), used["pool_n"].to_numpy(float))
    used = used.assign(years=used["timepoint_months"] / 12.0, percent=100.0 * used["pool_events"] / used["pool_n"],
                       logit=y, variance=v)
    used = used.sort_values(["cohort_id", "years"]).reset_index(drop=True)
    gone = rows[reason.notna()].assign(reason_code=[r[0] for r in reason.dropna()],
                                       reason=[r[1] for r in reason.dropna()])
    return used[CURVE_ROW_COLUMNS], gone[LEFT_OUT_COLUMNS].reset_index(drop=True)


def time_curve(rows: pd.DataFrame, *, analysis: str = "primary", group: str | None = None,
               grid_years: Sequence[float] | np.ndarray = DEFAULT_GRID_YEARS, level: float = 0.95) -> TimeCurve:
    """The share of patients against follow-up for one question: logit(share) = b0 + b1 log(years), with a
    random effect per cohort and one per result, fitted by REML (`multilevel`), on the results
    `curve_rows` keeps. The curve is the fitted share (percent) with its confidence band over
    `grid_years`; `extrapolated` marks the times outside the follow-up the results span.

    Refuses (stats.PoolingRefused) fewer than 2 cohorts, fewer than 2 distinct follow-up times or fewer
    than 4 results: below that the slope and the two variance components cannot all be estimated.
    """
    level = stats._check_level(level)
    used, left_out = curve_rows(rows, analysis=analysis, group=group)
    cohorts, times = used["cohort_id"].nunique(), used["years"].nunique()
    if cohorts < 2 or times < 2 or len(used) < 4:
        raise stats.PoolingRefused(
            f"cannot fit a time curve: {len(used)} result(s) from {cohorts} cohort(s) at {times} follow-up "
            "time(s); it needs at least 4 results, 2 cohorts and 2 times")
    X = pd.DataFrame({"intrcpt": 1.0, "log_years": np.log(used["years"].to_numpy(float))})
    fit = multilevel(used["logit"], used["variance"], X, groups=used["cohort_id"], method="REML")
    if not fit.converged:
        raise RuntimeError("the time curve's model did not converge")
    years = np.asarray(grid_years, dtype=float)
    band = fit.predict(np.column_stack([np.ones_like(years), np.log(years)]), level=level)
    curve = pd.DataFrame({"years": years, "logit": band["fit"], "percent": 100.0 * special.expit(band["fit"]),
                          "ci_low": 100.0 * special.expit(band["ci_low"]),
                          "ci_high": 100.0 * special.expit(band["ci_high"]),
                          "extrapolated": (years < used["years"].min()) | (years > used["years"].max())})
    notes = []
    if (used["count_basis"] == "kaplan_meier").any():
        notes.append(f"{int((used['count_basis'] == 'kaplan_meier').sum())} result(s) are Kaplan-Meier "
                     "estimates turned into counts with the number at the start, which overstates precision")
    return TimeCurve(fit=fit, rows=used, left_out=left_out, curve=curve[CURVE_COLUMNS], level=level,
                     analysis=analysis, group=group, notes=notes)


def claim_times(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims (with the `group` each is compared with) at the follow-up their group stands for, in
    years ('5y' -> 5); a claim whose group is no follow-up ('end-of-follow-up') gets none."""
    from .synthesis import _nominal_months

    return claims.assign(timepoint_years=claims["group"].map(_nominal_months) / 12.0)


def fit_table(curve: TimeCurve) -> pd.DataFrame:
    """A time curve's model as a table: each coefficient (logit scale) with its standard error, then the two
    variance components, the number of results and cohorts, and the analysis it was fitted on."""
    fit = curve.fit
    rows = [dict(term=name, estimate=b, se=se) for name, b, se in zip(fit.names, fit.coef, fit.se)]
    rows += [dict(term="sigma2 between cohorts", estimate=fit.sigma2_group, se=math.nan),
             dict(term="sigma2 between results of a cohort", estimate=fit.sigma2_estimate, se=math.nan)]
    return pd.DataFrame(rows).assign(results=fit.k, cohorts=fit.n_groups, analysis=curve.analysis)


CURVE_ANALYSES = (("primary", "direct results"), ("sensitivity", "with the indirect results"))


def first_curve(rows_by_analysis: dict, *, level: float = 0.95) -> tuple[TimeCurve | None, str, list[str]]:
    """The time curve from the direct results when they allow a fit, else from the sensitivity analysis:
    (the curve or None, which results it rests on, why each analysis tried before could not be fitted).
    `rows_by_analysis`: analysis name -> literature.synthesise(...).rows of that analysis."""
    refused = []
    for analysis, label in CURVE_ANALYSES:
        try:
            return time_curve(rows_by_analysis[analysis], analysis=analysis, level=level), label, refused
        except stats.PoolingRefused as err:
            refused.append(f"{label}: {err}")
    return None, "", refused
