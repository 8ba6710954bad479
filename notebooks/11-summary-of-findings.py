# %% [markdown]
# # What does the literature say on each question the pages speak to?
#
# The summary of findings across every question of `data/questions.csv`: for each pooled group the
# number of studies and patients, the pooled share with its confidence and prediction intervals,
# I², and a GRADE-style certainty with the reason for each downgrade, from the results that answer
# the question directly (the primary analysis) and beside them with the indirect ones (the
# sensitivity analysis); the overview chart with the pages' claims as markers; what the studies say
# next to each of the pages' headline numbers; and how far the evidence can be trusted: the search's
# flow (PRISMA 2020), the two readers' agreement on eligibility and risk of bias, each study's risk of
# bias, and each estimate beside the published systematic reviews.
#
# **Reads** the data tables in `data/` and the readers' own files in `data/literature/extraction/`.
# **Writes** `figures/11-overview`, `figures/11-prisma`, `figures/11-published-reviews`,
# `tables/11-summary-of-findings`, `tables/11-headline-claims`, `tables/11-prisma`,
# `tables/11-eligibility-agreement`, `tables/11-risk-of-bias`, `tables/11-risk-of-bias-agreement`,
# `tables/11-published-reviews`, `tables/11-search-recall`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=11-summary-of-findings P="NAME=VALUE ...")
data_dir = "data"  # the folder of the data tables; a relative path is relative to the project folder
claims_path = None  # None: the claims of data_dir; or another claims file
output_dir = None  # None: a folder of its own under build/runs/; make passes its staging folder
fig_format = "png"  # png | svg | pdf
pooling_method = "REML"  # REML | DL | PM
hartung_knapp = False  # Hartung-Knapp confidence intervals
ci_level = 0.95
include_derived_counts = True  # pool counts derived from a printed percent and n (and Kaplan-Meier estimates)
min_studies = 2  # the fewest comparable studies that are pooled

# %%
import pandas as pd
from IPython.display import Markdown

from fbss_evidence import bias, config, eligibility, literature, notebook, prisma, reviews
from fbss_evidence.plotting import literature as evidence_plots
from fbss_evidence.plotting import prisma as prisma_plots

run = notebook.start("11-summary-of-findings", globals())
options = dict(
    method=pooling_method,
    level=ci_level,
    hartung_knapp=hartung_knapp,
    include_derived_counts=include_derived_counts,
    min_studies=min_studies,
)
syntheses = [literature.synthesise(run.data, q, **options) for q in run.data.questions["question_id"]]
with_indirect = [
    literature.synthesise(run.data, q, analysis="sensitivity", **options) for q in run.data.questions["question_id"]
]


def placed(results):
    return {
        s.question["question_id"]: literature.place_claims(
            s, literature.linked_claims(run.claims, run.data.links, s.question["question_id"])
        )
        for s in results
    }


placements = placed(syntheses)
print(
    f"{len(syntheses)} questions; {sum(len(s.pooled) for s in syntheses)} pooled groups in the primary analysis, "
    f"{sum(len(s.pooled) for s in with_indirect)} with the indirect results"
)

# %% [markdown]
# ## Summarise the findings, with their certainty

# %%
sof = pd.concat(
    [
        literature.summary_of_findings(syntheses, placements).assign(analysis="primary"),
        literature.summary_of_findings(with_indirect, placed(with_indirect)).assign(analysis="sensitivity"),
    ],
    ignore_index=True,
)
notebook.expect("questions in the summary", sof["question_id"].nunique(), len(run.data.questions))
run.save_table(sof, "11-summary-of-findings")[
    ["analysis", "label", "group", "k", "total_n", "pooled", "ci_low", "ci_high", "i2", "certainty"]
].round(1)

# %% [markdown]
# ## Draw each question's headline estimate with the pages' claims

# %% tags=["nbval-ignore-output"]
overview = literature.overview_rows(syntheses)
drawn = literature.comparable_claims(run.claims, run.data.links, overview)
ax = evidence_plots.overview(overview, drawn, title="What the studies report, and what the pages claim")
run.caption(
    ax.figure,
    drawn,
    f"Pooled: random effects ({pooling_method}), logit scale, 95% CI; prediction "
    "intervals need 3 studies. Studies: data/results.csv; grey: not pooled (definitions differ or too few).",
)
run.save_figure(ax.figure, "11-overview")
# %% [markdown]
# ## Set each of the pages' headline numbers beside the evidence

# %%
headline = literature.headline_claims(
    placements, run.claims, dict(zip(run.data.questions["question_id"], run.data.questions["label"]))
)
run.save_table(headline, "11-headline-claims")[["value_text", "source", "question", "evidence", "placement"]]

# %% [markdown]
# ## Trace the search: what was found, read, left out and included (PRISMA 2020)

# %% tags=["nbval-ignore-output"]
search = prisma.flows(run.data.search_log, run.data.screening, run.data.results, run.data.questions["question_id"])
overall = search.iloc[-1].to_dict()
ax = prisma_plots.flow_diagram(
    overall, prisma.exclusion_reasons(run.data.screening), title="The literature search, all questions (PRISMA 2020)"
)
run.caption(
    ax.figure,
    None,
    "Counts from data/literature/search_log.csv (queries of stored copies of PubMed, PMC "
    "and journal pages), data/literature/screening.csv and data/results.csv.",
)
run.save_figure(ax.figure, "11-prisma")
# %%
run.save_table(search, "11-prisma")

# %% [markdown]
# ## Check that two readers judged alike: eligibility and risk of bias
#
# Cohen's kappa between the two readers' own judgements, before the rulings reconciled them.

# %%
extraction = config.resolve(data_dir) / "literature" / "extraction"
run.save_table(
    eligibility.agreement(*eligibility.readers(extraction / "eligibility")), "11-eligibility-agreement"
).round(2)

# %%
run.save_table(bias.agreement(*bias.readers(extraction / "risk_of_bias")), "11-risk-of-bias-agreement").round(2)

# %% [markdown]
# ## Judge each study's risk of bias

# %%
risk = bias.overall(run.data.risk_of_bias)
labels = literature.study_results(run.data).drop_duplicates("study_id").set_index("study_id")
risk = risk.assign(study=risk["study_id"].map(labels["study"]), link=risk["study_id"].map(labels["link"]))
run.save_table(risk, "11-risk-of-bias")["risk_of_bias"].value_counts().rename_axis("risk of bias").to_frame("studies")

# %% [markdown]
# ## Set each estimate beside the published systematic reviews

# %%
compared = reviews.comparison(
    run.data.reviews,
    {s.question["question_id"]: s for s in syntheses},
    {s.question["question_id"]: s for s in with_indirect},
)
run.save_table(compared, "11-published-reviews")[
    ["question_id", "group", "citation", "review_estimate", "analysis", "estimate", "ci_low", "ci_high", "apart"]
].round(1)

# %% tags=["nbval-ignore-output"]
ax = evidence_plots.review_comparison(compared, title="This project's estimates beside the published reviews")
run.caption(
    ax.figure,
    None,
    "Reviews: data/literature/reviews.csv (each with the page read). This project: random "
    f"effects ({pooling_method}), logit scale, 95% CI.",
)
run.save_figure(ax.figure, "11-published-reviews")
# %% [markdown]
# ## Measure the search against the reviews' lists of included studies

# %%
recall = reviews.recall(run.data.reference_reviews, run.data.questions)
run.save_table(recall, "11-search-recall").round(1)

# %% [markdown]
# ## Answer

# %%
primary = sof[(sof["analysis"] == "primary") & (sof["certainty"] != "not pooled")]
by_certainty = primary["certainty"].value_counts()
outside = headline[headline["placement"].isin(["above", "below", "above_ci", "below_ci"])]
kappa = eligibility.agreement(*eligibility.readers(extraction / "eligibility"))["kappa"]
apart = compared[compared["apart"].astype(bool)]
listed = recall[recall["listed"] > 0]
Markdown(
    f"Results that answer a question directly let **{primary['question_id'].nunique()}** of the "
    f"{len(run.data.questions)} questions be pooled, in **{len(primary)}** groups "
    f"({', '.join(f'{n} {c}' for c, n in by_certainty.items())} certainty); with the indirect results too, "
    f"**{sof.loc[(sof['analysis'] == 'sensitivity') & (sof['certainty'] != 'not pooled'), 'question_id'].nunique()}**. "
    f"Of the pages' **{len(headline)}** headline numbers, **{len(outside)}** fall outside the interval of the "
    f"pooled evidence: {'; '.join(outside['value_text'] + ' (' + outside['question'] + ')') or 'none'}.\n\n"
    f"The two readers agreed on eligibility with Cohen's kappa {kappa.min():.2f}-{kappa.max():.2f} across the four "
    f"criteria. Of {len(risk)} studies appraised, **{int((risk['risk_of_bias'] == 'high').sum())}** are at high risk "
    f"of bias and **{int((risk['risk_of_bias'] == 'low').sum())}** at low risk. Of {len(compared)} published review "
    f"figures set beside this project's estimates, **{len(apart)}** lie apart "
    + (
        f"({len(reviews.unexplained(compared))} with no recorded reason under these parameters). "
        if len(reviews.unexplained(compared))
        else "(each with its reason in `tables/11-published-reviews`). "
    )
    + f"Only **{len(listed)}** question(s) had a review whose list of included studies "
    f"the stored copies show, so the search's recall is measured there only "
    f"({', '.join(f'{r.question_id}: {r.found_by_search} of {r.listed}' for r in listed.itertuples()) or 'none'}).\n\n"
    "**Caveats.** Abstracts, not full texts: a structured review with dual extraction, dual eligibility and dual "
    "risk-of-bias judgements, not a full systematic review (see `data/literature/`). Certainty follows GRADE's "
    "domains with this project's rules (docs/literature.md); most questions rest on observational cohorts, and "
    "are downgraded for indirectness because definitions and populations differ."
)
