# %% [markdown]
# # Is each claim right?
#
# One verdict for every claim on the five pages, with the chain of evidence behind it: what the claim
# rests on (a cited study, the clinic's own experience, or nothing), what the cited study's abstract
# says (the citation audit), whether the page's own numbers give it, and where it falls against the
# pooled evidence of the group that matches its population, outcome and follow-up (the primary
# analysis), and whether that depends on the pooling method. Then a scorecard per page, and the
# verdicts as schema.org ClaimReview records, the format fact-checkers publish.
#
# **Reads** the data tables in `data/`. **Writes** `figures/12-scorecards`, `tables/12-claim-verdicts`,
# `tables/12-scorecards`, `tables/12-method-dependence`, `tables/12-claim-reviews.jsonld`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=12-claim-verdicts P="NAME=VALUE ...")
data_dir = "data"  # the folder of the data tables; a relative path is relative to the project folder
claims_path = None  # None: the claims of data_dir; or another claims file
output_dir = None  # None: a folder of its own under build/runs/; make passes its staging folder
fig_format = "png"  # png | svg | pdf
ci_level = 0.95
include_derived_counts = True  # pool counts derived from a printed percent and n (and Kaplan-Meier estimates)
min_studies = 2  # the fewest comparable studies that are pooled
site_url = "https://fbss-evidence.example/report/"  # where the report is published (each review's url)
date_published = "2026-12-07"  # the ClaimReview records' datePublished

# %%
from IPython.display import Markdown

from fbss_evidence import claimreview, notebook, verdicts
from fbss_evidence.plotting import scorecard as scorecard_plots

run = notebook.start("12-claim-verdicts", globals())

# %% [markdown]
# ## Judge every claim

# %%
table = verdicts.claim_verdicts(
    run.data, run.claims, level=ci_level, include_derived_counts=include_derived_counts, min_studies=min_studies
)
notebook.expect("claims with a verdict and a reason", int(table["reason"].str.len().gt(0).sum()), len(run.claims))
run.save_table(table, "12-claim-verdicts")["verdict"].value_counts().to_frame("claims")

# %% [markdown]
# ## Score each page

# %%
cards = run.save_table(verdicts.scorecard(table), "12-scorecards")
cards

# %% tags=["nbval-ignore-output"]
ax = scorecard_plots.scorecards(cards, title="How the pages' claims fare")
run.caption(ax.figure, run.claims, "Verdicts: tables/12-claim-verdicts (rules: docs/methods.md, 'Verdicts').")
run.save_figure(ax.figure, "12-scorecards")
# %% [markdown]
# ## Check whether a verdict depends on the pooling method

# %%
placed = table[table["question_id"].notna()]
run.save_table(
    placed[["claim_id", "value_text", "question_id", "group", "evidence_verdict", "by_method", "depends_on_method"]],
    "12-method-dependence",
)[["value_text", "group", "evidence_verdict", "depends_on_method"]]

# %% [markdown]
# ## Publish the verdicts as ClaimReview records

# %%
reviews = claimreview.records(table, run.data.sources, site_url=site_url, date_published=date_published)
run.save_text(claimreview.dumps(reviews), "12-claim-reviews.jsonld")
notebook.expect("ClaimReview records", len(reviews), len(table))

# %% [markdown]
# ## Answer

# %%
counts = table["verdict"].value_counts()
worst = cards.assign(share=(cards["overstated"] + cards["misattributed"] + cards["contradicted"]) / cards["claims"])
worst = worst.sort_values("share", ascending=False).iloc[0]
dependent = placed[placed["depends_on_method"]]
Markdown(
    f"Of the pages' **{len(table)}** claims, **{counts.get('supported', 0)}** are supported, "
    f"**{counts.get('overstated', 0)}** overstated, **{counts.get('understated', 0)}** understated, "
    f"**{counts.get('misattributed', 0)}** misattributed, **{counts.get('contradicted', 0)}** contradicted, "
    f"**{counts.get('unsupported', 0)}** unsupported and **{counts.get('not_checkable', 0)}** not checkable. "
    f"The page with the largest share of claims that are overstated, misattributed or contradicted is "
    f"**{worst['page']}** ({worst['share']:.0%} of its {int(worst['claims'])} claims). "
    f"**{int(placed['pooled'].notna().sum())}** claims could be set beside pooled evidence that matches them "
    f"(of {len(placed)} linked to a question); "
    + (
        f"the verdict of {len(dependent)} depends on the pooling method ({', '.join(dependent['value_text'])})."
        if len(dependent)
        else "no verdict depends on the pooling method."
    )
    + "\n\n**Caveats.** A verdict rests on abstracts, and on pooled evidence only where results answer the "
    f"question directly; where the matching evidence's interval is wider than {verdicts.WIDTH_THRESHOLD:g} points "
    "the claim is not judged against it. 'Supported' means the cited study or the evidence agrees, not that the "
    "claim is proven; 'not checkable' and 'unsupported' say what is missing, not that the claim is wrong."
)
