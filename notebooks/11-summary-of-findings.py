# %% [markdown]
# # What does the literature say on each question the pages speak to?
#
# The summary of findings across every question of `data/questions.csv`: for each pooled group the
# number of studies and patients, the pooled share with its confidence and prediction intervals,
# I², and a GRADE-style certainty with the reason for each downgrade; the overview chart with the
# pages' claims as markers; and, next to each of the pages' headline numbers, what the studies say.
#
# **Reads** the data tables in `data/`. **Writes** `figures/11-overview`,
# `tables/11-summary-of-findings`, `tables/11-headline-claims`.

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
from fbss_evidence import literature, notebook
from fbss_evidence.plotting import literature as evidence_plots

run = notebook.start("11-summary-of-findings", globals())
options = dict(method=pooling_method, level=ci_level, hartung_knapp=hartung_knapp,
               include_derived_counts=include_derived_counts, min_studies=min_studies)
syntheses = [literature.synthesise(run.data, q, **options) for q in run.data.questions["question_id"]]
placements = {s.question["question_id"]: literature.place_claims(
    s, literature.linked_claims(run.claims, run.data.links, s.question["question_id"])) for s in syntheses}
print(f"{len(syntheses)} questions; {sum(len(s.pooled) for s in syntheses)} pooled groups")

# %% [markdown]
# ## Summarise the findings, with their certainty

# %%
sof = literature.summary_of_findings(syntheses, placements)
notebook.expect("questions in the summary", sof["question_id"].nunique(), len(run.data.questions))
run.save_table(sof, "11-summary-of-findings")[["label", "group", "k", "total_n", "pooled", "ci_low", "ci_high",
                                               "pi_low", "pi_high", "i2", "certainty"]].round(1)

# %% [markdown]
# ## Draw each question's headline estimate with the pages' claims

# %% tags=["nbval-ignore-output"]
overview = literature.overview_rows(syntheses)
drawn = literature.comparable_claims(run.claims, run.data.links, overview)
ax = evidence_plots.overview(overview, drawn, title="What the studies report, and what the pages claim")
run.caption(ax.figure, drawn, f"Pooled: random effects ({pooling_method}), logit scale, 95% CI; prediction "
            "intervals need 3 studies. Studies: data/results.csv; grey: not pooled (definitions differ or too few).")
run.save_figure(ax.figure, "11-overview");

# %% [markdown]
# ## Set each of the pages' headline numbers beside the evidence

# %%
headline = literature.headline_claims(placements, run.claims, dict(zip(run.data.questions["question_id"], run.data.questions["label"])))
run.save_table(headline, "11-headline-claims")[["value_text", "source", "question", "evidence", "placement"]]

# %% [markdown]
# ## Answer

# %%
pooled = sof[sof["certainty"] != "not pooled"]
by_certainty = pooled["certainty"].value_counts()
outside = headline[headline["placement"].isin(["above", "below", "above_ci", "below_ci"])]
Markdown(
    f"The studies let **{pooled['question_id'].nunique()}** of the {len(run.data.questions)} questions be pooled, in "
    f"**{len(pooled)}** groups ({', '.join(f'{n} {c}' for c, n in by_certainty.items())} certainty). "
    f"Of the pages' **{len(headline)}** headline numbers, **{len(outside)}** fall outside the interval of the "
    f"pooled evidence: {'; '.join(outside['value_text'] + ' (' + outside['question'] + ')') or 'none'}.\n\n"
    "**Caveats.** Abstracts, not full texts; one search tool in one session, with dual extraction but not a full "
    "systematic review (see `data/literature/`). Certainty follows GRADE's domains with this project's rules "
    "(docs/literature.md); most questions start from observational cohorts and are downgraded for indirectness, "
    "because definitions and populations differ.")
