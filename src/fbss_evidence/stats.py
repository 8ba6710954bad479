"""Confidence intervals and random-effects pooling of proportions.

Everything here is arithmetic on counts; drawing lives in `plotting/`. Results
are reported in percent (0-100) because that is the unit the claims use.

Two choices are made on purpose and are easy to get wrong by accident:

* The default interval is Wilson's score interval. statsmodels' own default for
  `proportion_confint` is the Wald ("normal") interval, which collapses to zero
  width at 0 or n events and undercovers for small n, so this module always
  passes `method=` explicitly and offers Wald only when it is asked for by name.
* Proportions are pooled on the logit scale with a random-effects model,
  because clinic pages quote results from different populations and a common
  true proportion is not a credible assumption.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy import optimize, special
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

# User-facing interval names -> statsmodels `proportion_confint` methods.
CI_METHODS: Mapping[str, str] = MappingProxyType({
    "wilson": "wilson",
    "clopper-pearson": "beta",
    "jeffreys": "jeffreys",
    "agresti-coull": "agresti_coull",
    "wald": "normal",
})
DEFAULT_CI_METHOD = "wilson"

# Estimators of the between-study variance tau^2 that `pool_proportions` offers.
POOLING_METHODS = ("REML", "DL", "PM")

# Added to events and non-events of a study with 0 or n events, whose logit and
# logit variance would otherwise be infinite.
CONTINUITY_CORRECTION = 0.5

# Claim units whose numerator/denominator is a number of patients out of a total.
PROPORTION_UNITS = ("percent", "count")

_REML_TOLERANCE = 1e-10
_MAX_ITERATIONS = 1000


class PoolingRefused(ValueError):
    """The numbers asked for cannot honestly be pooled; the message says why."""


# --------------------------------------------------------------------------
# Confidence intervals for single proportions
# --------------------------------------------------------------------------

def _statsmodels_method(method: str) -> str:
    """Translate a user-facing interval name, refusing unknown names loudly.

    A silent fallback would hide a typo behind statsmodels' Wald default.
    """
    try:
        return CI_METHODS[method]
    except (KeyError, TypeError):
        allowed = ", ".join(repr(name) for name in CI_METHODS)
        raise ValueError(
            f"unknown interval method {method!r}; allowed: {allowed}") from None


def _check_level(level: float) -> float:
    """Return the confidence level as a float strictly between 0 and 1.

    A level of 95 (percent) instead of 0.95 is the likely mistake, so the
    message says which scale is expected.
    """
    if isinstance(level, bool) or not isinstance(level, (int, float, np.floating)):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    level = float(level)
    if not 0.0 < level < 1.0:
        raise ValueError(
            f"level must be in (0, 1) exclusive, e.g. 0.95 for 95%; got {level!r}")
    return level


def _check_counts(successes: np.ndarray, n: np.ndarray) -> None:
    """Refuse counts that cannot describe a proportion (n <= 0, x < 0 or x > n)."""
    if not (np.all(np.isfinite(successes)) and np.all(np.isfinite(n))):
        raise ValueError("successes and n must be finite numbers")
    if np.any(n <= 0):
        raise ValueError("n must be greater than 0")
    if np.any(successes < 0) or np.any(successes > n):
        raise ValueError("successes must satisfy 0 <= successes <= n")


def _intervals(successes: np.ndarray, n: np.ndarray, method: str,
               level: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised interval in percent; the one place statsmodels is called."""
    low, high = proportion_confint(
        successes, n, alpha=1.0 - level, method=_statsmodels_method(method))
    return np.asarray(low, dtype=float) * 100.0, np.asarray(high, dtype=float) * 100.0


def proportion_ci(successes: float, n: float, *, method: str = DEFAULT_CI_METHOD,
                  level: float = 0.95) -> tuple[float, float]:
    """Two-sided confidence interval for `successes` out of `n`, in percent.

    `method` is one of `CI_METHODS`; Wilson is the default because it keeps
    sensible coverage for small n and proportions near 0 or 100%.
    """
    _statsmodels_method(method)
    level = _check_level(level)
    x = np.asarray([successes], dtype=float)
    total = np.asarray([n], dtype=float)
    _check_counts(x, total)
    low, high = _intervals(x, total, method, level)
    return float(low[0]), float(high[0])


def _row_names(claims: pd.DataFrame, mask: np.ndarray) -> str:
    """Name offending rows by claim_id when there is one, else by index."""
    ids = claims["claim_id"] if "claim_id" in claims.columns else claims.index.to_series()
    return ", ".join(str(v) for v in ids[mask].tolist()[:10])


def add_intervals(claims: pd.DataFrame, *, method: str = DEFAULT_CI_METHOD,
                  level: float = 0.95) -> pd.DataFrame:
    """Return a copy of `claims` with ci_low, ci_high (percent) and ci_method.

    Only rows with both a numerator and a denominator get an interval: a bare
    percentage carries no sample size and so no sampling error. Other rows get
    NaN (and no ci_method). Impossible counts raise ValueError naming the rows
    rather than being skipped, since they point at a data-entry error.
    The computation is one vectorised statsmodels call, so it scales to
    millions of rows.
    """
    _statsmodels_method(method)
    level = _check_level(level)
    missing = [c for c in ("numerator", "denominator") if c not in claims.columns]
    if missing:
        raise ValueError(f"claims lack column(s): {', '.join(missing)}")

    out = claims.copy()
    numerator = pd.to_numeric(out["numerator"], errors="coerce").to_numpy(dtype=float)
    denominator = pd.to_numeric(out["denominator"], errors="coerce").to_numpy(dtype=float)
    has_counts = ~np.isnan(numerator) & ~np.isnan(denominator)

    bad = has_counts & ((denominator <= 0) | (numerator < 0) | (numerator > denominator)
                        | np.isinf(numerator) | np.isinf(denominator))
    if bad.any():
        raise ValueError(
            "impossible counts (need 0 <= numerator <= denominator, denominator > 0) "
            f"in rows: {_row_names(claims, bad)}")

    low = np.full(len(out), np.nan)
    high = np.full(len(out), np.nan)
    if has_counts.any():
        low[has_counts], high[has_counts] = _intervals(
            numerator[has_counts], denominator[has_counts], method, level)
    out["ci_low"] = low
    out["ci_high"] = high
    out["ci_method"] = pd.Series(
        np.where(has_counts, method, None), index=out.index, dtype=object)
    return out


# --------------------------------------------------------------------------
# Random-effects pooling on the logit scale
# --------------------------------------------------------------------------

def logit_and_variance(events: np.ndarray, totals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-study logit of the proportion and its large-sample variance.

    The variance is 1/x + 1/(n - x). Studies with 0 or n events would give an
    infinite logit and variance, so for those studies only, 0.5 is added to the
    events and to the non-events (total + 1); every other study is used as
    observed. This is the same convention as metafor's default
    (`add=1/2, to="only0"`) and meta's `incr=0.5`.
    """
    events = np.asarray(events, dtype=float)
    totals = np.asarray(totals, dtype=float)
    at_edge = (events == 0) | (events == totals)
    correction = np.where(at_edge, CONTINUITY_CORRECTION, 0.0)
    x = events + correction
    non_events = totals - events + correction
    return np.log(x / non_events), 1.0 / x + 1.0 / non_events


def _pooled_mean(y: np.ndarray, w: np.ndarray) -> float:
    """Inverse-variance weighted mean."""
    return float(np.sum(w * y) / np.sum(w))


def cochran_q(y: np.ndarray, v: np.ndarray) -> float:
    """Cochran's Q: weighted squared deviations from the fixed-effect mean."""
    w = 1.0 / v
    return float(np.sum(w * (y - _pooled_mean(y, w)) ** 2))


def tau2_dersimonian_laird(y: np.ndarray, v: np.ndarray) -> float:
    """Method-of-moments tau^2 (DerSimonian & Laird 1986), truncated at 0.

    Closed form and the most widely reported estimator, so results can be
    compared with most published meta-analyses.
    """
    w = 1.0 / v
    c = np.sum(w) - np.sum(w ** 2) / np.sum(w)
    return max(0.0, (cochran_q(y, v) - (len(y) - 1)) / c)


def _generalised_q(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Q computed with random-effects weights 1 / (v + tau^2)."""
    w = 1.0 / (v + tau2)
    return float(np.sum(w * (y - _pooled_mean(y, w)) ** 2))


def tau2_paule_mandel(y: np.ndarray, v: np.ndarray) -> float:
    """Paule-Mandel tau^2: the value at which the generalised Q equals k - 1.

    The generalised Q falls monotonically as tau^2 grows, so the root is found
    by bracketing (Brent's method). When Q at tau^2 = 0 is already at most
    k - 1 there is no excess dispersion and tau^2 is 0.
    """
    df = len(y) - 1
    if _generalised_q(0.0, y, v) <= df:
        return 0.0
    upper = max(float(np.var(y, ddof=1)), float(np.max(v)), 1e-8)
    while _generalised_q(upper, y, v) > df:
        upper *= 2.0
    return float(optimize.brentq(
        lambda t2: _generalised_q(t2, y, v) - df, 0.0, upper, xtol=1e-14, rtol=1e-14))


def restricted_loglik(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Restricted (REML) log-likelihood of tau^2 in the intercept-only model.

    Constant terms are dropped; only differences in tau^2 matter.
    """
    total = v + tau2
    w = 1.0 / total
    mu = _pooled_mean(y, w)
    return float(-0.5 * (np.sum(np.log(total)) + math.log(np.sum(w))
                         + np.sum(w * (y - mu) ** 2)))


def tau2_reml(y: np.ndarray, v: np.ndarray) -> float:
    """Restricted maximum likelihood tau^2, by Fisher scoring.

    REML accounts for estimating the mean, so it is less biased downwards than
    ML; it is metafor's default. Fisher scoring starts from the DL value, halves
    any step that would lower the restricted likelihood or go below zero, and
    stops at the boundary when the score there points to negative tau^2.
    """
    tau2 = tau2_dersimonian_laird(y, v)
    for _ in range(_MAX_ITERATIONS):
        w = 1.0 / (v + tau2)
        sw = np.sum(w)
        resid = y - _pooled_mean(y, w)
        # Score and expected information of the restricted likelihood.
        trace_p = sw - np.sum(w ** 2) / sw
        trace_pp = np.sum(w ** 2) - 2.0 * np.sum(w ** 3) / sw + (np.sum(w ** 2) / sw) ** 2
        score = 0.5 * (np.sum(w ** 2 * resid ** 2) - trace_p)
        step = score / (0.5 * trace_pp)
        if tau2 == 0.0 and step <= 0.0:
            return 0.0
        current = restricted_loglik(tau2, y, v)
        candidate = max(0.0, tau2 + step)
        while (restricted_loglik(candidate, y, v) < current - 1e-12
               and abs(candidate - tau2) > 1e-15):
            candidate = tau2 + (candidate - tau2) / 2.0
        if abs(candidate - tau2) <= _REML_TOLERANCE * max(1.0, tau2):
            return float(candidate)
        tau2 = candidate
    raise RuntimeError("REML estimate of tau^2 did not converge")


_TAU2_ESTIMATORS = {
    "DL": tau2_dersimonian_laird,
    "REML": tau2_reml,
    "PM": tau2_paule_mandel,
}


def _expit_percent(logit: float) -> float:
    """Back-transform a logit to a percentage."""
    return float(special.expit(logit) * 100.0)


def typical_variance(v: np.ndarray) -> float:
    """The "typical" within-study variance s^2 = (k - 1) sum(w) / ((sum w)^2 - sum(w^2)), w = 1/v
    (Higgins & Thompson 2002), which metafor uses to express tau^2 as I^2."""
    w = 1.0 / np.asarray(v, dtype=float)
    return float((len(w) - 1) * np.sum(w) / (np.sum(w) ** 2 - np.sum(w ** 2)))


def i_squared(tau2: float, v: np.ndarray) -> float:
    """I^2 in percent, from tau^2 as metafor reports it: 100 tau^2 / (tau^2 + s^2).

    Derived from the same tau^2 the model uses, so I^2 is 0 exactly when tau^2 is 0
    whatever the estimator (a Q-based I^2 beside a REML tau^2 of 0 would contradict it).
    With DerSimonian-Laird it equals Higgins & Thompson's (Q - df) / Q.
    """
    if tau2 <= 0.0:
        return 0.0
    return 100.0 * tau2 / (tau2 + typical_variance(v))


def prediction_interval(estimate: float, se: float, tau2: float, k: int,
                        level: float) -> tuple[float, float]:
    """Where the true effect of a new, similar study is expected to lie.

    Higgins, Thompson & Spiegelhalter (2009): estimate +/- t_{k-2} *
    sqrt(tau^2 + se^2), with `se` the standard error the confidence interval uses.
    With fewer than three studies there are no degrees of freedom left, so the
    interval is undefined (NaN, NaN). (metafor's predict() uses z, or t_{k-1} with
    Hartung-Knapp; this project follows Higgins et al. and the Cochrane Handbook.)
    """
    if k < 3:
        return math.nan, math.nan
    half = sps.t.ppf((1.0 + level) / 2.0, k - 2) * math.sqrt(tau2 + se ** 2)
    return estimate - half, estimate + half


@dataclass(frozen=True)
class RandomEffects:
    """A random-effects fit on the effect scale it was given (here: logits)."""

    method: str
    hartung_knapp: bool
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    tau2: float
    q: float
    q_pvalue: float
    i2: float
    weights: np.ndarray  # random-effects weights, normalised to 100


def random_effects(y, v, *, method: str = "REML", level: float = 0.95,
                   hartung_knapp: bool = False) -> RandomEffects:
    """Inverse-variance random-effects meta-analysis of effects `y` with variances `v`.

    tau^2 by `method` (REML, DL or PM). The confidence interval uses z, or, with
    `hartung_knapp`, the Hartung-Knapp(-Sidik-Jonkman) standard error
    sqrt(sum w (y - mu)^2 / ((k - 1) sum w)) and t with k - 1 df (as metafor's
    test="knha", without truncation). I^2 follows metafor (from tau^2).
    """
    name = _method_name(method)
    level = _check_level(level)
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    k = len(y)
    tau2 = _TAU2_ESTIMATORS[name](y, v)
    w = 1.0 / (v + tau2)
    mu = _pooled_mean(y, w)
    if hartung_knapp:
        se = math.sqrt(float(np.sum(w * (y - mu) ** 2)) / ((k - 1) * float(np.sum(w))))
        crit = sps.t.ppf((1.0 + level) / 2.0, k - 1)
    else:
        se = math.sqrt(1.0 / np.sum(w))
        crit = sps.norm.ppf((1.0 + level) / 2.0)
    pi_low, pi_high = prediction_interval(mu, se, tau2, k, level)
    q = cochran_q(y, v)
    return RandomEffects(method=name, hartung_knapp=hartung_knapp, k=k, estimate=mu, se=se,
                         ci_low=mu - crit * se, ci_high=mu + crit * se, pi_low=pi_low, pi_high=pi_high,
                         tau2=tau2, q=q, q_pvalue=float(sps.chi2.sf(q, k - 1)), i2=i_squared(tau2, v),
                         weights=w / w.sum() * 100.0)


@dataclass(frozen=True, eq=False)
class PooledProportion:
    """A random-effects pooled proportion; proportions in percent.

    `estimate`, `ci_*` and `pi_*` are back-transformed from the logit scale;
    `logit_estimate`, `se` and `tau2` stay on the logit scale. `studies` has
    one row per study with its Wilson interval and random-effects weight (%).
    """

    method: str
    k: int
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    logit_estimate: float
    se: float
    tau2: float
    q: float
    q_df: int
    q_pvalue: float
    i2: float
    studies: pd.DataFrame
    level: float = 0.95
    hartung_knapp: bool = False


def _pooling_input(events, totals, labels) -> tuple[np.ndarray, np.ndarray, list]:
    """Counts as arrays, checked (_check_pooling_input), and one label per study."""
    x, n = np.asarray(events, dtype=float), np.asarray(totals, dtype=float)
    _check_pooling_input(x, n)
    if labels is None:
        labels = [f"Study {i}" for i in range(1, len(x) + 1)]
    elif len(labels) != len(x):
        raise ValueError("labels must have one entry per study")
    return x, n, labels


def _check_pooling_input(events: np.ndarray, totals: np.ndarray) -> None:
    """Refuse what cannot be pooled, saying why.

    Missing denominators and fewer than two studies are refusals
    (`PoolingRefused`); impossible counts are plain data errors (ValueError).
    """
    if events.shape != totals.shape or events.ndim != 1:
        raise ValueError("events and totals must be one-dimensional and of equal length")
    if np.isnan(totals).any():
        raise PoolingRefused(
            "cannot pool: some rows have no denominator; a bare percentage has "
            "no sampling error")
    if np.isnan(events).any():
        raise PoolingRefused("cannot pool: some rows have a denominator but no event count")
    if len(events) < 2:
        raise PoolingRefused(
            f"cannot pool: {len(events)} estimate(s); pooling needs at least 2")
    if not (np.all(np.isfinite(events)) and np.all(np.isfinite(totals))):
        raise ValueError("events and totals must be finite")
    if np.any(totals <= 0) or np.any(events < 0) or np.any(events > totals):
        raise ValueError("each study needs 0 <= events <= total and total > 0")


def _method_name(method: str) -> str:
    """Normalise the tau^2 estimator name, refusing unknown ones."""
    name = str(method).upper()
    if name not in _TAU2_ESTIMATORS:
        raise ValueError(
            f"unknown pooling method {method!r}; allowed: {', '.join(POOLING_METHODS)}")
    return name


def _study_table(labels: Sequence[str], events: np.ndarray, totals: np.ndarray,
                 y: np.ndarray, v: np.ndarray, weights: np.ndarray,
                 level: float, ci_method: str = DEFAULT_CI_METHOD) -> pd.DataFrame:
    """Per-study rows for tables and forest plots."""
    low, high = _intervals(events, totals, ci_method, level)
    return pd.DataFrame({
        "label": [str(label) for label in labels],
        "events": events,
        "total": totals,
        "proportion": events / totals * 100.0,
        "ci_low": low,
        "ci_high": high,
        "logit": y,
        "variance": v,
        "weight": weights / weights.sum() * 100.0,
    })


def pool_proportions(events: Sequence[float] | np.ndarray | pd.Series,
                     totals: Sequence[float] | np.ndarray | pd.Series,
                     labels: Sequence[str] | None = None, *, method: str = "REML",
                     level: float = 0.95, ci_method: str = DEFAULT_CI_METHOD,
                     hartung_knapp: bool = False) -> PooledProportion:
    """Random-effects meta-analysis of proportions on the logit scale (see `random_effects`).

    Studies with 0 or n events get a 0.5 continuity correction (see
    `logit_and_variance`); the per-study proportions and intervals in `studies`
    (method `ci_method`, Wilson by default) use the uncorrected counts. The
    prediction interval uses t with k - 2 df.

    Raises `PoolingRefused` for fewer than two studies or rows without a
    denominator.
    """
    _method_name(method)
    level = _check_level(level)
    x, n, labels = _pooling_input(events, totals, labels)
    k = len(x)
    y, v = logit_and_variance(x, n)
    fit = random_effects(y, v, method=method, level=level, hartung_knapp=hartung_knapp)
    return PooledProportion(
        method=fit.method,
        k=k,
        estimate=_expit_percent(fit.estimate),
        ci_low=_expit_percent(fit.ci_low),
        ci_high=_expit_percent(fit.ci_high),
        pi_low=_expit_percent(fit.pi_low),
        pi_high=_expit_percent(fit.pi_high),
        logit_estimate=fit.estimate,
        se=fit.se,
        tau2=fit.tau2,
        q=fit.q,
        q_df=k - 1,
        q_pvalue=fit.q_pvalue,
        i2=fit.i2,
        studies=_study_table(labels, x, n, y, v, 1.0 / (v + fit.tau2), level, ci_method),
        level=level,
        hartung_knapp=hartung_knapp,
    )


LEAVE_ONE_OUT_COLUMNS = ["left_out", "k", "estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2"]


def leave_one_out(events, totals, labels: Sequence[str], **options) -> pd.DataFrame:
    """The pooled proportion with each study left out in turn (needs at least 3 studies)."""
    x, n = np.asarray(events, dtype=float), np.asarray(totals, dtype=float)
    rows = []
    for i, label in enumerate(labels):
        keep = np.arange(len(x)) != i
        r = pool_proportions(x[keep], n[keep], [lab for j, lab in enumerate(labels) if j != i], **options)
        rows.append(dict(left_out=label, k=r.k, estimate=r.estimate, ci_low=r.ci_low, ci_high=r.ci_high,
                         pi_low=r.pi_low, pi_high=r.pi_high, tau2=r.tau2, i2=r.i2))
    return pd.DataFrame(rows, columns=LEAVE_ONE_OUT_COLUMNS)


# --------------------------------------------------------------------------
# Binomial-normal (GLMM) random-effects model
# --------------------------------------------------------------------------

# Adaptive Gauss-Hermite nodes per study. metafor's rma.glmm (through lme4's glmer) uses 7, which leaves
# tau^2 of a sparse example 0.14% from the integral's; with 21 the fit is within 1e-5 (relative) of the
# fit with 61 (test_glmm_default_quadrature_is_stable).
GLMM_QUADRATURE_NODES = 21


def _binomial_loglik(events: np.ndarray, totals: np.ndarray, eta: np.ndarray) -> np.ndarray:
    """log Binomial(events | totals, expit(eta)), with the binomial coefficient, elementwise."""
    log_choose = (special.gammaln(totals + 1) - special.gammaln(events + 1)
                  - special.gammaln(totals - events + 1))
    return log_choose + events * eta - totals * np.logaddexp(0.0, eta)


def glmm_study_loglik(mu: float, tau2: float, events, totals,
                      nodes: int = GLMM_QUADRATURE_NODES) -> np.ndarray:
    """Each study's marginal log-likelihood log of the integral of Binomial(x | n, expit(mu + u)) N(u; 0, tau^2) du.

    Adaptive Gauss-Hermite quadrature: the integrand of each study is centred at its mode
    (Newton's method; the log-integrand is concave) and scaled by its curvature there, so few
    nodes integrate it closely even for a study with 0 events and a large tau^2.
    """
    x, n = np.asarray(events, dtype=float), np.asarray(totals, dtype=float)
    if tau2 <= 0.0:
        return _binomial_loglik(x, n, np.full_like(x, mu))
    xs, ns = x[:, None], n[:, None]  # one row per study; columns: points u of its integrand

    def log_integrand(u: np.ndarray) -> np.ndarray:
        return _binomial_loglik(xs, ns, mu + u) - u ** 2 / (2.0 * tau2)

    # The mode of each study's integrand: start at the normal-normal model's posterior mean, then
    # Newton steps, each halved while it would lower the integrand (a long step can overshoot).
    y, v = logit_and_variance(xs, ns)
    u = (y - mu) * tau2 / (tau2 + v)
    for _ in range(100):
        p = special.expit(mu + u)
        step = (xs - ns * p - u / tau2) / (ns * p * (1.0 - p) + 1.0 / tau2)
        for _ in range(60):
            worse = log_integrand(u + step) < log_integrand(u)
            if not worse.any():
                break
            step = np.where(worse, step / 2.0, step)
        u = u + step
        if np.max(np.abs(step)) < 1e-12:
            break
    p = special.expit(mu + u)
    scale = math.sqrt(2.0) / np.sqrt(ns * p * (1.0 - p) + 1.0 / tau2)
    t, w = np.polynomial.hermite.hermgauss(nodes)
    # The integral of f(u) du = scale * sum_j w_j exp(t_j^2) f(mode + scale t_j); N(u; 0, tau^2) carries
    # the constant 1 / sqrt(2 pi tau^2).
    log_sum = special.logsumexp(log_integrand(u + scale * t) + t ** 2, b=w, axis=1)
    return log_sum + np.log(scale[:, 0]) - 0.5 * math.log(2.0 * math.pi * tau2)


def _hessian(f, point: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of a smooth scalar function."""
    d = len(point)
    h = np.zeros((d, d))
    for i in range(d):
        for j in range(i, d):
            ei, ej = np.eye(d)[i] * step, np.eye(d)[j] * step
            h[i, j] = h[j, i] = (f(point + ei + ej) - f(point + ei - ej)
                                 - f(point - ei + ej) + f(point - ei - ej)) / (4.0 * step ** 2)
    return h


def _gradient(f, point: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Central-difference gradient."""
    return np.array([(f(point + e) - f(point - e)) / (2.0 * step) for e in np.eye(len(point)) * step])


def _newton_polish(f, point: np.ndarray, iterations: int = 10) -> tuple[float, float]:
    """A few Newton steps from the quasi-Newton optimum of f(mu, tau), whose finite-difference gradients
    leave it some 1e-5 short, kept only while they lower f; an optimum at tau = 0 is left as it is."""
    point = np.asarray(point, dtype=float)
    if point[1] <= 1e-6:
        return float(point[0]), 0.0
    for _ in range(iterations):
        step = np.linalg.solve(_hessian(f, point), _gradient(f, point))
        candidate = point - step
        if candidate[1] <= 0.0 or f(candidate) > f(point):
            break
        point = candidate
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(point[0]), float(point[1])


def homogeneity_lrt(events: np.ndarray, totals: np.ndarray) -> float:
    """Likelihood-ratio test statistic of one common proportion against one per study (metafor's
    QE.LRT for rma.glmm): -2 (log L of the common proportion - log L of the saturated model)."""
    x, n = np.asarray(events, dtype=float), np.asarray(totals, dtype=float)
    common = special.xlogy(x, x.sum() / n.sum()) + special.xlogy(n - x, 1.0 - x.sum() / n.sum())
    saturated = special.xlogy(x, x / n) + special.xlogy(n - x, 1.0 - x / n)
    return max(0.0, float(-2.0 * np.sum(common - saturated)))


@dataclass(frozen=True)
class GlmmFit:
    """The binomial-normal model fitted by maximum likelihood, on the logit scale."""

    mu: float
    se: float
    tau2: float
    loglik: float
    converged: bool
    nodes: int  # quadrature nodes per study


def glmm_fit(events, totals, *, nodes: int = GLMM_QUADRATURE_NODES) -> GlmmFit:
    """Maximum-likelihood fit of logit(p_i) = mu + u_i, u_i ~ N(0, tau^2), x_i ~ Binomial(n_i, p_i).

    The likelihood is maximised over (mu, tau) with tau >= 0 (L-BFGS-B, from the DerSimonian-Laird
    values of the normal-normal model). The standard error of mu comes from the inverse of the
    observed information of (mu, tau) (numerical Hessian), as lme4's vcov() gives it; at tau = 0 from
    the information of mu alone.
    """
    x, n = np.asarray(events, dtype=float), np.asarray(totals, dtype=float)

    def negative(theta: np.ndarray) -> float:
        return -float(np.sum(glmm_study_loglik(theta[0], theta[1] ** 2, x, n, nodes)))

    y, v = logit_and_variance(x, n)
    start = np.array([_pooled_mean(y, 1.0 / v), math.sqrt(max(tau2_dersimonian_laird(y, v), 0.01))])
    fit = optimize.minimize(negative, start, method="L-BFGS-B", bounds=[(None, None), (0.0, None)],
                            options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 1000})
    mu, tau = _newton_polish(negative, fit.x)
    if tau > 1e-6:
        information = _hessian(negative, np.array([mu, tau]))
        se = math.sqrt(float(np.linalg.inv(information)[0, 0]))
    else:
        tau = 0.0
        se = math.sqrt(1.0 / _hessian(lambda m: negative(np.array([m[0], 0.0])), np.array([mu]))[0, 0])
    # L-BFGS-B can stop with a failed line search right at the optimum; a flat gradient there is convergence.
    flat = tau > 0.0 and float(np.max(np.abs(_gradient(negative, np.array([mu, tau]))))) < 1e-5
    converged = bool(fit.success) or flat
    return GlmmFit(mu=mu, se=se, tau2=tau ** 2, loglik=-negative(np.array([mu, tau])), converged=converged,
                   nodes=nodes)


def glmm_proportions(events: Sequence[float] | np.ndarray | pd.Series,
                     totals: Sequence[float] | np.ndarray | pd.Series,
                     labels: Sequence[str] | None = None, level: float = 0.95, *,
                     ci_method: str = DEFAULT_CI_METHOD,
                     nodes: int = GLMM_QUADRATURE_NODES) -> PooledProportion:
    """Binomial-normal random-effects meta-analysis of proportions (metafor's rma.glmm(measure="PLO")).

    Each study's events are binomial with its own logit, the logits normal around mu with variance
    tau^2; the model is fitted by maximum likelihood with the random effect integrated out (`glmm_fit`).
    Unlike the normal-normal model it needs no continuity correction and no large-sample variance per
    study, so it suits rare events and small studies (Stijnen et al. 2010). The confidence interval is
    Wald's (z), as metafor's; the prediction interval follows the project's convention (Higgins et al.
    2009, t with k - 2 df; see `prediction_interval`). I^2 is metafor's: tau^2 against the typical
    within-study variance of the (continuity-corrected) logits. `q` is the likelihood-ratio test of
    homogeneity (metafor's QE.LRT), not Cochran's Q. The study table's weights are the inverse-variance
    weights 1 / (v + tau^2) of the normal approximation, for display only: the GLMM has no study weights.
    `nodes`: quadrature nodes per study (7 reproduces metafor's own numbers, which use lme4's default).
    """
    level = _check_level(level)
    x, n, labels = _pooling_input(events, totals, labels)
    k = len(x)
    if x.sum() == 0 or x.sum() == n.sum():
        raise PoolingRefused("cannot fit the binomial-normal model: every study has "
                             f"{'no' if x.sum() == 0 else 'all'} events, so its maximum-likelihood mean is infinite")
    fit = glmm_fit(x, n, nodes=nodes)
    if not fit.converged:
        raise RuntimeError("the binomial-normal model did not converge")
    half = sps.norm.ppf((1.0 + level) / 2.0) * fit.se
    pi_low, pi_high = prediction_interval(fit.mu, fit.se, fit.tau2, k, level)
    y, v = logit_and_variance(x, n)
    q = homogeneity_lrt(x, n)
    return PooledProportion(
        method="GLMM", k=k, estimate=_expit_percent(fit.mu),
        ci_low=_expit_percent(fit.mu - half), ci_high=_expit_percent(fit.mu + half),
        pi_low=_expit_percent(pi_low), pi_high=_expit_percent(pi_high),
        logit_estimate=fit.mu, se=fit.se, tau2=fit.tau2, q=q, q_df=k - 1,
        q_pvalue=float(sps.chi2.sf(q, k - 1)), i2=i_squared(fit.tau2, v),
        studies=_study_table(labels, x, n, y, v, 1.0 / (v + fit.tau2), level, ci_method),
        level=level, hartung_knapp=False)
