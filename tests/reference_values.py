"""Expected numbers for the statistics tests (tests/unit/test_stats.py, test_metaregression.py), each block
with where it comes from.

Numbers computed in the tests themselves (Wilson by formula, Clopper-Pearson by
beta quantiles, statsmodels' combine_effects) are not stored here: only values
that come from outside this repository are.
"""

# ---------------------------------------------------------------------------
# Stijnen, Hamza & Ozdemir (2010). Random effects meta-analysis of event
# outcome in the framework of the generalized linear mixed model with
# applications in sparse data. Statistics in Medicine 29:3046-3067.
# Example: Niel-Weise et al. (2007), 18 RCTs of anti-infective-treated versus
# standard central venous catheters; outcome = catheter-related bloodstream
# infection. Table II (p. 3050), "normal-normal model" = inverse-variance
# random-effects meta-analysis of logit proportions, REML tau^2, 0.5 added to
# the events and non-events of studies with a zero count only.
#
# Data, as distributed with R's metadat package (dataset dat.nielweise2007),
# seen at
#   https://github.com/wviechtb/metadat/blob/master/data-raw/dat.nielweise2007.txt
# (columns: ci/n2i = standard catheter arm, ai/n1i = anti-infective arm).
#
# Results: the paper's Table II values as quoted (with page and table) in
# metafor's own test of this example, which reproduces them with
# rma(measure="PLO", method="REML") and records them to 4 decimals; seen at
#   https://github.com/wviechtb/metafor/blob/master/tests/testthat/test_analysis_example_stijnen2010.r
# (that file points to https://www.metafor-project.org/doku.php/analyses:stijnen2010).
# The paper prints the logit and its SE to 2 decimals, tau^2 to 3 decimals and
# proportions to 3 decimals; metafor's test notes two printed proportions
# that differ from its own by one unit in the last digit ("0.035 in paper",
# "0.056 in paper"). Table II reports no I^2 and no prediction interval.
# ---------------------------------------------------------------------------

NIELWEISE2007_LABELS = (
    "Bach 1996",
    "George 1997",
    "Maki 1997",
    "Raad 1997",
    "Heard 1998",
    "Collin 1999",
    "Hannan 1999",
    "Marik 1999",
    "Pierce 2000",
    "Sheng 2000",
    "Chatzinikolaou 2003",
    "Corral 2003",
    "Brun-Buisson 2004",
    "Leon 2004",
    "Yucel 2004",
    "Moretti 2005",
    "Rupp 2005",
    "Osma 2006",
)
# Standard catheter arm: events (ci) and patients (n2i).
NIELWEISE2007_CONTROL_EVENTS = (3, 3, 9, 7, 6, 4, 3, 2, 19, 2, 7, 1, 5, 11, 0, 1, 3, 1)
NIELWEISE2007_CONTROL_TOTALS = (117, 35, 195, 136, 157, 139, 177, 39, 103, 122, 64, 58, 175, 180, 105, 262, 362, 69)
# Anti-infective catheter arm: events (ai) and patients (n1i).
NIELWEISE2007_TREATED_EVENTS = (0, 1, 2, 0, 5, 1, 1, 1, 1, 1, 0, 0, 3, 6, 0, 0, 1, 4)
NIELWEISE2007_TREATED_TOTALS = (116, 44, 208, 130, 151, 98, 174, 74, 97, 113, 66, 70, 188, 187, 118, 252, 345, 64)

# Table II as printed in the paper (rounded). Proportions are fractions (0-1).
STIJNEN2010_PAPER = {
    "control": {
        "logit": -3.30,
        "se": 0.24,
        "tau2": 0.663,
        "proportion": 0.035,
        "ci_low": 0.023,
        "ci_high": 0.056,
    },
    "treated": {
        "logit": -4.26,
        "se": 0.26,
        "tau2": 0.393,
        "proportion": 0.014,
        "ci_low": 0.008,
        "ci_high": 0.023,
    },
}
# Decimal places the paper prints for each quantity, for rounding tolerances.
STIJNEN2010_PAPER_DECIMALS = {
    "logit": 2,
    "se": 2,
    "tau2": 3,
    "proportion": 3,
    "ci_low": 3,
    "ci_high": 3,
}
# The same quantities to 4 decimals, as metafor's test file records them.
STIJNEN2010_METAFOR_4DP = {
    "control": {
        "logit": -3.3018,
        "se": 0.2378,
        "tau2": 0.6629,
        "proportion": 0.0355,
        "ci_low": 0.0226,
        "ci_high": 0.0554,
    },
    "treated": {
        "logit": -4.2604,
        "se": 0.2589,
        "tau2": 0.3928,
        "proportion": 0.0139,
        "ci_low": 0.0084,
        "ci_high": 0.0229,
    },
}


# ---------------------------------------------------------------------------
# Viechtbauer (2005). Bias and efficiency of meta-analytic variance estimators
# in the random-effects model. J Educ Behav Stat 30:261-293. Examples 1 and 2
# (data: yi, vi as printed in the paper), tau^2 and I^2 for DL and REML on
# pages 271 and 272, as metafor's test of this example records them (4 decimals),
# seen at
#   https://github.com/wviechtb/metafor/blob/master/tests/testthat/test_analysis_example_viechtbauer2005.r
# metafor's I^2 = 100 tau^2 / (tau^2 + s^2), s^2 the "typical" within-study
# variance; this checks that our I^2 follows that convention.
# ---------------------------------------------------------------------------

VIECHTBAUER2005 = {
    "example1": {
        "yi": (-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232),
        "vi": (0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040),
        "DL": {"tau2": 0.2768, "I2": 80.4447},
        "REML": {"tau2": 0.2232, "I2": 76.8399},
    },
    "example2": {
        "yi": (
            0.100,
            -0.162,
            -0.090,
            -0.049,
            -0.046,
            -0.010,
            -0.431,
            -0.261,
            0.134,
            0.019,
            0.175,
            0.056,
            0.045,
            0.103,
            0.121,
            -0.482,
            0.290,
            0.342,
        ),
        "vi": (
            0.016,
            0.015,
            0.050,
            0.050,
            0.032,
            0.052,
            0.036,
            0.024,
            0.034,
            0.033,
            0.031,
            0.034,
            0.039,
            0.167,
            0.134,
            0.096,
            0.016,
            0.035,
        ),
        "DL": {"tau2": 0.0126, "I2": 27.5275},
        "REML": {"tau2": 0.0157, "I2": 32.0203},
    },
}

# ---------------------------------------------------------------------------
# Raudenbush (2009). Analyzing effect sizes: random-effects models. In Cooper,
# Hedges & Valentine (eds), The Handbook of Research Synthesis and Meta-Analysis,
# 2nd ed., pp. 295-315. Table 16.3 (p. 309): the teacher-expectancy data of
# Raudenbush (1985), 19 studies; tau^2, mu, SE and 95% CI by estimator, with the
# usual z-based CI and with the Knapp & Hartung method. Values as metafor's test
# of this example records them (4 decimals), seen at
#   https://github.com/wviechtb/metafor/blob/master/tests/testthat/test_analysis_example_raudenbush2009.r
# Data (yi, vi) as distributed in metadat (dat.raudenbush1985), seen at
#   https://github.com/wviechtb/metadat/blob/master/data-raw/dat.raudenbush1985.txt
# ---------------------------------------------------------------------------

RAUDENBUSH1985 = {
    "yi": (
        0.03,
        0.12,
        -0.14,
        1.18,
        0.26,
        -0.06,
        -0.02,
        -0.32,
        0.27,
        0.80,
        0.54,
        0.18,
        -0.02,
        0.23,
        -0.18,
        -0.06,
        0.30,
        0.07,
        -0.07,
    ),
    "vi": (
        0.0156,
        0.0216,
        0.0279,
        0.1391,
        0.1362,
        0.0106,
        0.0106,
        0.0484,
        0.0269,
        0.0630,
        0.0912,
        0.0497,
        0.0835,
        0.0841,
        0.0253,
        0.0279,
        0.0193,
        0.0088,
        0.0303,
    ),
}
RAUDENBUSH2009_TABLE_16_3 = {
    "z": {
        "REML": {"tau2": 0.0188, "estimate": 0.0837, "se": 0.0516, "ci_low": -0.0175, "ci_high": 0.1849},
        "DL": {"tau2": 0.0259, "estimate": 0.0893, "se": 0.0558, "ci_low": -0.0200, "ci_high": 0.1987},
    },
    "knha": {
        "REML": {"tau2": 0.0188, "estimate": 0.0837, "se": 0.0616, "ci_low": -0.0457, "ci_high": 0.2131},
        "DL": {"tau2": 0.0259, "estimate": 0.0893, "se": 0.0636, "ci_low": -0.0442, "ci_high": 0.2229},
    },
}

# ---------------------------------------------------------------------------
# Stijnen, Hamza & Ozdemir (2010), Table II (p. 3050), "binomial-normal model":
# the same Niel-Weise et al. (2007) arms (NIELWEISE2007_* above), fitted as a
# generalised linear mixed model, events_i ~ Binomial(n_i, p_i), logit(p_i) =
# mu + u_i, u_i ~ N(0, tau^2), by maximum likelihood. The R calls and values as
# metafor's test of this example records them (4 decimals; tolerance .01
# relative, metafor's tests/testthat/settings.r), in
#   https://github.com/wviechtb/metafor/blob/master/tests/testthat/test_analysis_example_stijnen2010.r
# test "results for the binomial-normal normal are correct (measure=='PLO')"
# (read from the repository at commit 71ae8f5ac9befeacc6654ead1b03ff05c065d54d):
#   res <- rma.glmm(measure="PLO", xi=ci, ni=n2i, data=dat.nielweise2007)   # control
#   res <- rma.glmm(measure="PLO", xi=ai, ni=n1i, data=dat.nielweise2007)   # treated
#   coef(res); se(res); res$tau2; predict(res, transf=transf.ilogit)
# rma.glmm fits this with lme4::glmer(..., nAGQ=7): adaptive Gauss-Hermite
# quadrature with 7 nodes per study. Proportions are fractions (0-1).
# ---------------------------------------------------------------------------

STIJNEN2010_GLMM_METAFOR_4DP = {
    "control": {
        "logit": -3.4964,
        "se": 0.2570,
        "tau2": 0.8124,
        "proportion": 0.0294,
        "ci_low": 0.0180,
        "ci_high": 0.0478,
    },
    "treated": {
        "logit": -4.8121,
        "se": 0.3555,
        "tau2": 0.8265,
        "proportion": 0.0081,
        "ci_low": 0.0040,
        "ci_high": 0.0161,
    },
}
# The number of adaptive quadrature nodes behind those values (rma.glmm's nAGQ default).
STIJNEN2010_GLMM_METAFOR_NODES = 7

# ---------------------------------------------------------------------------
# Konstantopoulos (2011). Fixed effects and variance components estimation in
# three-level meta-analysis. Research Synthesis Methods 2:61-76. 56 studies of
# a modified school calendar in 11 school districts (standardised mean
# differences yi, sampling variances vi); studies nested in districts.
#
# Data as distributed in metadat (dataset dat.konstantopoulos2011), read from
#   https://github.com/wviechtb/metadat/blob/master/data-raw/dat.konstantopoulos2011.txt
# (repository at commit 0cb96ce4ff16586a9dbc8a9b0f9bc617538d2738).
#
# Results as metafor's test of this example records them, in
#   https://github.com/wviechtb/metafor/blob/master/tests/testthat/test_analysis_example_konstantopoulos2011.r
# (repository at commit 71ae8f5ac9befeacc6654ead1b03ff05c065d54d), each with
# its test_that() title. Tolerance there: .01 relative (settings.r). Values are
# rounded to 4 decimals, except those of the "restart" test (7-8 digits).
# ---------------------------------------------------------------------------

KONSTANTOPOULOS2011 = {
    "district": (
        11,
        11,
        11,
        11,
        12,
        12,
        12,
        12,
        18,
        18,
        18,
        27,
        27,
        27,
        27,
        56,
        56,
        56,
        56,
        58,
        58,
        58,
        58,
        58,
        58,
        58,
        58,
        58,
        58,
        58,
        71,
        71,
        71,
        86,
        86,
        86,
        86,
        86,
        86,
        86,
        86,
        91,
        91,
        91,
        91,
        91,
        91,
        108,
        108,
        108,
        108,
        108,
        644,
        644,
        644,
        644,
    ),
    "study": (
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        9,
        10,
        11,
        12,
        13,
        14,
        15,
        16,
        17,
        18,
        19,
        20,
        21,
        22,
        23,
        24,
        25,
        26,
        27,
        28,
        29,
        30,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        38,
        39,
        40,
        41,
        42,
        43,
        44,
        45,
        46,
        47,
        48,
        49,
        50,
        51,
        52,
        53,
        54,
        55,
        56,
    ),
    "yi": (
        -0.18,
        -0.22,
        0.23,
        -0.30,
        0.13,
        -0.26,
        0.19,
        0.32,
        0.45,
        0.38,
        0.29,
        0.16,
        0.65,
        0.36,
        0.60,
        0.08,
        0.04,
        0.19,
        -0.06,
        -0.18,
        0.00,
        0.00,
        -0.28,
        -0.04,
        -0.30,
        0.07,
        0.00,
        0.05,
        -0.08,
        -0.09,
        0.30,
        0.98,
        1.19,
        -0.07,
        -0.05,
        -0.01,
        0.02,
        -0.03,
        0.00,
        0.01,
        -0.10,
        0.50,
        0.66,
        0.20,
        0.00,
        0.05,
        0.07,
        -0.52,
        0.70,
        -0.03,
        0.27,
        -0.34,
        0.12,
        0.61,
        0.04,
        -0.05,
    ),
    "vi": (
        0.118,
        0.118,
        0.144,
        0.144,
        0.014,
        0.014,
        0.015,
        0.024,
        0.023,
        0.043,
        0.012,
        0.020,
        0.004,
        0.004,
        0.007,
        0.019,
        0.007,
        0.005,
        0.004,
        0.020,
        0.018,
        0.019,
        0.022,
        0.020,
        0.021,
        0.006,
        0.007,
        0.007,
        0.007,
        0.007,
        0.015,
        0.011,
        0.010,
        0.001,
        0.001,
        0.001,
        0.001,
        0.001,
        0.001,
        0.001,
        0.001,
        0.010,
        0.011,
        0.010,
        0.009,
        0.013,
        0.013,
        0.031,
        0.031,
        0.030,
        0.030,
        0.030,
        0.087,
        0.082,
        0.067,
        0.067,
    ),
    "year": (
        1976,
        1976,
        1976,
        1976,
        1989,
        1989,
        1989,
        1989,
        1994,
        1994,
        1994,
        1976,
        1976,
        1976,
        1976,
        1997,
        1997,
        1997,
        1997,
        1976,
        1976,
        1976,
        1976,
        1976,
        1976,
        1976,
        1976,
        1976,
        1976,
        1976,
        1997,
        1997,
        1997,
        1997,
        1997,
        1997,
        1997,
        1997,
        1997,
        1997,
        1997,
        2000,
        2000,
        2000,
        2000,
        2000,
        2000,
        2000,
        2000,
        2000,
        2000,
        2000,
        1995,
        1995,
        1994,
        1994,
    ),
}

KONSTANTOPOULOS2011_RESULTS = {
    # "results are correct for the three-level mixed-effects model fitted with rma.mv() using ML estimation."
    # rma.mv(yi, vi, mods = ~ I(year-mean(year)), random = ~ 1 | district/study, data=dat, method="ML")
    # (Table 5, p. 71; metafor notes the paper's intercept 0.183 "seems to be a misprint")
    "ml_year": {"coef": (0.1780, 0.0051), "se": (0.0805, 0.0085), "sigma2": (0.0565, 0.0329)},
    # "results are correct for the three-level random-effects model fitted with rma.mv() using ML estimation."
    # rma.mv(yi, vi, random = ~ 1 | district/study, data=dat, method="ML"); predict(res.ml) (Table 5)
    "ml": {"coef": (0.1845,), "se": (0.0805,), "sigma2": (0.0577, 0.0329), "pi": (-0.4262, 0.7951)},
    # "results are correct for the three-level random-effects model fitted with rma.mv() using REML estimation."
    # rma.mv(yi, vi, random = ~ 1 | district/study, data=dat); logLik(res.ml) (not in the paper)
    "reml": {
        "coef": (0.1847,),
        "se": (0.0846,),
        "sigma2": (0.0651, 0.0327),
        "loglik": -7.9587,
        "icc": 0.6653,
        "sigma2_total": 0.0978,
    },
    # "restarting with 'restart=TRUE' works.": the same REML model, to more digits
    "reml_digits": {"coef": (0.1847132,), "se": (0.08455592,), "sigma2": (0.06506194, 0.03273652)},
    # "results are correct for the two-level random-effects model fitted with rma.mv()."
    # rma.mv(yi, vi, random = ~ 1 | study, data=dat) (Table 4, p. 70)
    "two_level": {"coef": (0.1279,), "se": (0.0439,), "sigma2": (0.0884,)},
    # "results are correct for the two-level mixed-effects model fitted with rma()."
    # rma(yi, vi, mods = ~ I(year-mean(year)), data=dat) (REML; Table 4)
    "two_level_year": {"coef": (0.1258, 0.0052), "se": (0.0440, 0.0044), "sigma2": (0.0889,)},
}
