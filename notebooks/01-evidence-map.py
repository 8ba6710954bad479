# %% [markdown]
# # How much does each page claim, about what, and on what basis?
#
# The evidence map of the five clinic pages: their quantitative claims by topic and by basis
# (a cited study, the clinic's own experience, or nothing), and the findings that recur within
# or across pages.
#
# **Reads** the data tables in `data/` (claims, sources, references, the two audits).
# **Writes** `figures/01-evidence-map-topics`, `figures/01-evidence-map-basis`,
# `tables/01-claims-by-page-and-topic`, `tables/01-claims-by-page-and-basis`, `tables/01-recurring-findings`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=01-evidence-map P="NAME=VALUE ...")
data_dir = "data"  # the folder of the data tables; a relative path is relative to the project folder
claims_path = None  # None: the claims of data_dir; or another claims file
output_dir = None  # None: a folder of its own under build/runs/; make passes its staging folder
fig_format = "png"  # png | svg | pdf

# %%
from fbss_evidence import evidence, notebook
from fbss_evidence.plotting import charts, style

run = notebook.start("01-evidence-map", globals())
claims = run.claims
print(f"{len(claims)} claims from {claims['source_id'].nunique()} pages")

# %% [markdown]
# ## Count the claims of each page by topic
#
# Every claim is counted once; a sentence repeated on a page counts each time it is printed.

# %%
by_topic = evidence.claims_by(claims, "source", "topic")
notebook.expect("claims counted in the page-by-topic table", int(by_topic.to_numpy().sum()), len(claims))

# %%
by_topic

# %% tags=["nbval-ignore-output"]
ax = charts.count_heatmap(
    by_topic.loc[:, by_topic.sum() > 0], title="Quantitative claims per page and topic", xlabel="Topic", ylabel="Page"
)
run.caption(ax.figure, claims)
run.save_figure(ax.figure, "01-evidence-map-topics")
# %% [markdown]
# ## Split each page's claims by basis

# %%
by_basis = evidence.claims_by(claims, "source", "basis")
by_basis

# %% tags=["nbval-ignore-output"]
ax = charts.stacked_shares(
    by_basis.rename(columns=lambda b: style.BASIS_STYLE[b][2]),
    title="What each page's numbers rest on",
    colours={v[2]: v[0] for v in style.BASIS_STYLE.values()},
)
run.caption(ax.figure, claims, "Numbers in bars are counts of claims.")
run.save_figure(ax.figure, "01-evidence-map-basis")
# %% [markdown]
# ## Find the findings stated more than once

# %%
recurring = evidence.recurring_findings(claims)
run.save_table(by_topic.reset_index(), "01-claims-by-page-and-topic")
run.save_table(by_basis.reset_index(), "01-claims-by-page-and-basis")
run.save_table(recurring, "01-recurring-findings")[["finding_id", "statements", "pages", "sources", "numbers"]]

# %% [markdown]
# ## Answer

# %%
from IPython.display import Markdown


def share(basis):
    return 100 * (claims["basis"] == basis).mean()


across = recurring[recurring["pages"] > 1]
background = (claims["topic"] == "background").sum()
Markdown(
    f"The pages make **{len(claims)}** quantitative claims. "
    f"**{share('cited_study'):.0f}%** are attributed to a cited study, **{share('clinic_experience'):.0f}%** to the "
    f"clinics' own experience and **{share('uncited'):.0f}%** to nothing. **{len(recurring)}** findings are stated "
    f"more than once; {len(across)} of them on more than one page ({', '.join(across['finding_id'])}).\n\n"
    f'**Caveats.** "Cited study" means the page attaches a footnote or names a study, not that the study says '
    f"it: see `08-citation-audit`. The counts include {background} numbers from off-topic teaser paragraphs "
    f"(topic *background*) and borderline numbers such as thresholds and study sizes (see the `measure` column)."
)
