# %% [markdown]
# # What do the pages claim about one topic?
#
# The generic comparison: every rate of the chosen topic on one axis, grouped as asked, and every
# claim of the topic in a table. `make` runs it once per topic the claims give a rate on.
#
# **Reads** the data tables in `data/` (claims, sources, references, the two audits).
# **Writes** `figures/07-compare-<topic>`, `tables/07-compare-<topic>`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=07-compare-topic P="topic=opioids ...")
data_dir = "data"  # the folder of the data tables; a relative path is relative to the project folder
claims_path = None  # None: the claims of data_dir; or another claims file
output_dir = None  # None: a folder of its own under build/runs/; make passes its staging folder
fig_format = "png"  # png | svg | pdf
ci_method = "wilson"  # wilson | clopper-pearson | jeffreys | agresti-coull | wald
ci_level = 0.95
topic = "failure_persistent_pain"  # one of fbss_evidence.vocab.TOPICS
group_by = "source_id"  # source_id | basis | intervention | finding_id
include_clinic_experience = True

# %%
from fbss_evidence import evidence, notebook, stats
from fbss_evidence.plotting.estimates import estimates_chart

run = notebook.start("07-compare-topic", globals())
claims = run.claims
print(f"{len(claims)} claims from {claims['source_id'].nunique()} pages")

# %% [markdown]
# ## Select the topic's claims and its rates

# %%
chosen = evidence.select(claims, topic, measure=None, include_clinic_experience=include_clinic_experience)
rates = evidence.comparison(claims, topic, clinic_experience=include_clinic_experience, ci=(ci_method, ci_level))
rates = rates.sort_values([group_by, "value_low", "value"], na_position="last", ignore_index=True)
notebook.expect(
    "rates that cannot go on a percent axis (a count without its denominator)", evidence.off_scale(rates), []
)

# %% [markdown]
# ## Draw the rates, grouped

# %% tags=["nbval-ignore-output"]
import matplotlib.pyplot as plt

from fbss_evidence.plotting.estimates import MAX_ROWS, chart_height

fig, ax = plt.subplots(figsize=(9, chart_height(len(rates))))
drawn = rates.head(MAX_ROWS)  # a chart draws at most MAX_ROWS rows; only those need labels
if len(rates):
    labels = [
        f"{g} | {label}" for g, label in zip(drawn[group_by].fillna("-"), drawn.apply(evidence.estimate_label, axis=1))
    ]
    estimates_chart(rates, labels=labels, title=f"Rates the pages give on {topic.replace('_', ' ')}", ax=ax)
else:
    ax.set_axis_off()
    ax.set_title(f"No rates on {topic.replace('_', ' ')}: see the table of its claims")
run.caption(fig, rates if len(rates) else chosen, f"Grouped by {group_by}; intervals: {ci_method}, {ci_level:.0%}.")
run.save_figure(fig, f"07-compare-{topic}")
# %% [markdown]
# ## Tabulate every claim of the topic

# %%
run.save_table(
    evidence.estimates_table(stats.add_intervals(chosen, method=ci_method, level=ci_level)), f"07-compare-{topic}"
)

# %% [markdown]
# ## Answer

# %%
from IPython.display import Markdown

by_basis = chosen["basis"].value_counts()
Markdown(
    f"**{len(chosen)}** claims on *{topic}*, from {chosen['source_id'].nunique()} page(s): "
    f"{by_basis.get('cited_study', 0)} cite a study, {by_basis.get('clinic_experience', 0)} rest on clinic "
    f"experience, {by_basis.get('uncited', 0)} on nothing.\n\n"
    "**Caveats.** Rates within a topic may still measure different outcomes in different populations: read the "
    "table before comparing. `08-citation-audit` says whether the cited studies say what the pages claim."
)
