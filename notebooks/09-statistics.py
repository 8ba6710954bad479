# %% [markdown]
# # How solid are the pages' numbers: do their sums add up, and can any be pooled?
#
# Re-derived arithmetic wherever a page gives the parts of a number, confidence intervals for every
# proportion a page gives with counts, and random-effects pooling where two or more comparable
# estimates with denominators exist. (What the primary studies report, pooled, is notebook 10.)
#
# **Reads** the data tables in `data/` (claims, sources, references, the two audits).
# **Writes** `figures/09-proportions-with-counts`, `figures/09-forest-<group>` (one per pooled group),
# `tables/09-rederived-arithmetic`, `tables/09-pooling-refusals`, `tables/09-pooled-estimates`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=09-statistics P="NAME=VALUE ...")
data_dir = "data"  # the folder of the data tables; a relative path is relative to the project folder
claims_path = None  # None: the claims of data_dir; or another claims file
output_dir = None  # None: a folder of its own under build/runs/; make passes its staging folder
fig_format = "png"  # png | svg | pdf
ci_method = "wilson"  # wilson | clopper-pearson | jeffreys | agresti-coull | wald
ci_level = 0.95
pooling_method = "REML"  # REML | DL | PM

# %%
from fbss_evidence import arithmetic, notebook, synthesis
from fbss_evidence.plotting.forest import forest_plot, interval_forest

run = notebook.start("09-statistics", globals())
claims = run.claims
print(f"{len(claims)} claims from {claims['source_id'].nunique()} pages")

# %% [markdown]
# ## Recompute each number a page gives the parts of

# %%
rederived = arithmetic.rederive(claims)
run.save_table(rederived, "09-rederived-arithmetic")[
    ["claim_id", "page_figure", "parts", "recomputed", "difference", "rounding_tolerance", "agrees"]
]

# %% [markdown]
# ## Draw every proportion the pages give with counts

# %%
counted = synthesis.estimates_with_counts(claims, method=ci_method, level=ci_level)
counted.round(2)

# %% tags=["nbval-ignore-output"]
ax = interval_forest(counted, title="Every proportion stated with its counts")
run.caption(
    ax.figure,
    claims[claims["claim_id"].isin(counted["claim_id"])],
    f"{ci_method} {ci_level:.0%} intervals; not pooled: they measure different things.",
)
run.save_figure(ax.figure, "09-proportions-with-counts")
# %% [markdown]
# ## Pool where two or more comparable estimates exist; say why not elsewhere

# %%
groups, refusals = synthesis.pooling_candidates(claims)
notebook.expect(
    "rate estimates either pooled or refused with a reason",
    sum(len(rows) for rows in groups.values()) + len(refusals),
    int((claims["measure"] == "rate").sum()),
)
run.save_table(refusals, "09-pooling-refusals")["reason_code"].value_counts()

# %%
results = synthesis.pool_groups(
    groups,
    events="numerator",
    totals="denominator",
    labels="pool_label",
    method=pooling_method,
    level=ci_level,
    ci_method=ci_method,
)
pooled = synthesis.pooled_table(results)
run.save_table(pooled, "09-pooled-estimates")

# %% tags=["nbval-ignore-output"]
for group, result in results.items():
    ax = forest_plot(result, title=f"Pooled {group.replace('_', ' ')}")
    run.caption(ax.figure, groups[group])
    run.save_figure(ax.figure, f"09-forest-{group}")

# %% [markdown]
# ## Answer

# %%
from IPython.display import Markdown

disagree = rederived[~rederived["agrees"]]
Markdown(
    f"**{len(rederived)}** numbers can be re-derived from parts the pages give; **{len(disagree)}** disagree beyond "
    f"rounding"
    + (f" ({'; '.join(disagree['page_figure'] + ': ' + disagree['note'])})" if len(disagree) else "")
    + f". **{len(counted)}** proportions come with counts; **{len(groups)}** group(s) have two or more comparable "
    "estimates to pool.\n\n"
    "**Caveats.** Pooling needs comparable estimates with their own denominators. The pages give almost none: most "
    'figures are bare percentages, ranges or "up to" bounds, which carry no sampling error and are refused with '
    "the reason listed above. The statistics are tested against published worked examples "
    "(`tests/reference_values.py`); `10-claims-vs-literature` pools what the primary studies report instead."
)
