"""Expected numbers for tests/test_stats.py, each block with where it comes from.

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
    "Bach 1996", "George 1997", "Maki 1997", "Raad 1997", "Heard 1998",
    "Collin 1999", "Hannan 1999", "Marik 1999", "Pierce 2000", "Sheng 2000",
    "Chatzinikolaou 2003", "Corral 2003", "Brun-Buisson 2004", "Leon 2004",
    "Yucel 2004", "Moretti 2005", "Rupp 2005", "Osma 2006",
)
# Standard catheter arm: events (ci) and patients (n2i).
NIELWEISE2007_CONTROL_EVENTS = (3, 3, 9, 7, 6, 4, 3, 2, 19, 2, 7, 1, 5, 11, 0, 1, 3, 1)
NIELWEISE2007_CONTROL_TOTALS = (117, 35, 195, 136, 157, 139, 177, 39, 103, 122, 64, 58,
                                175, 180, 105, 262, 362, 69)
# Anti-infective catheter arm: events (ai) and patients (n1i).
NIELWEISE2007_TREATED_EVENTS = (0, 1, 2, 0, 5, 1, 1, 1, 1, 1, 0, 0, 3, 6, 0, 0, 1, 4)
NIELWEISE2007_TREATED_TOTALS = (116, 44, 208, 130, 151, 98, 174, 74, 97, 113, 66, 70,
                                188, 187, 118, 252, 345, 64)

# Table II as printed in the paper (rounded). Proportions are fractions (0-1).
STIJNEN2010_PAPER = {
    "control": {
        "logit": -3.30, "se": 0.24, "tau2": 0.663,
        "proportion": 0.035, "ci_low": 0.023, "ci_high": 0.056,
    },
    "treated": {
        "logit": -4.26, "se": 0.26, "tau2": 0.393,
        "proportion": 0.014, "ci_low": 0.008, "ci_high": 0.023,
    },
}
# Decimal places the paper prints for each quantity, for rounding tolerances.
STIJNEN2010_PAPER_DECIMALS = {
    "logit": 2, "se": 2, "tau2": 3, "proportion": 3, "ci_low": 3, "ci_high": 3,
}
# The same quantities to 4 decimals, as metafor's test file records them.
STIJNEN2010_METAFOR_4DP = {
    "control": {
        "logit": -3.3018, "se": 0.2378, "tau2": 0.6629,
        "proportion": 0.0355, "ci_low": 0.0226, "ci_high": 0.0554,
    },
    "treated": {
        "logit": -4.2604, "se": 0.2589, "tau2": 0.3928,
        "proportion": 0.0139, "ci_low": 0.0084, "ci_high": 0.0229,
    },
}
