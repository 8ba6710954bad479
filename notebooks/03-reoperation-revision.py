# %% [markdown]
# # How well do repeat operations do, and what do the pages say raises the risk?
#
# Success after the second, third and fourth surgery and adjacent-segment disease, as the pages
# state them, and the risk factors the pages name.
#
# **Reads** the data tables in `data/` (claims, sources, references, the two audits).
# **Writes** `figures/03-reoperation-revision`, `tables/03-reoperation-revision`, `tables/03-risk-factors`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=03-reoperation-revision P="NAME=VALUE ...")
data_dir = "data"  # the folder of the data tables; a relative path is relative to the project folder
claims_path = None  # None: the claims of data_dir; or another claims file
output_dir = None  # None: a folder of its own under build/runs/; make passes its staging folder
fig_format = "png"  # png | svg | pdf
ci_method = "wilson"  # wilson | clopper-pearson | jeffreys | agresti-coull | wald
ci_level = 0.95
include_clinic_experience = True

# %%
from fbss_evidence import evidence, notebook
from fbss_evidence.plotting.estimates import estimates_chart

run = notebook.start("03-reoperation-revision", globals())
claims = run.claims
print(f"{len(claims)} claims from {claims['source_id'].nunique()} pages")

# %% [markdown]
# ## Select the estimates, with intervals where the page gives counts
#
# A finding stated twice on one page is one estimate.

# %%
rates = evidence.comparison(
    claims,
    ["reoperation_revision", "adjacent_segment"],
    intervention=None,
    measure="rate",
    clinic_experience=include_clinic_experience,
    ci=(ci_method, ci_level),
)
notebook.expect(
    "rates that cannot go on a percent axis (a count without its denominator)", evidence.off_scale(rates), []
)

# %%
rates[["claim_id", "value_text", "bound", "ci_low", "ci_high", "basis"]]

# %% [markdown]
# ## Draw every estimate on one axis

# %% tags=["nbval-ignore-output"]
ax = estimates_chart(
    rates,
    labels=rates.apply(evidence.estimate_label, axis=1),
    title="Success of repeat surgery and adjacent-segment disease, as the pages state it",
    xlabel="Share of patients (%)",
)
run.caption(ax.figure, rates, f"Intervals: {ci_method}, {ci_level:.0%}.")
run.save_figure(ax.figure, "03-reoperation-revision")
# %% [markdown]
# ## Tabulate them with population, time and evidence

# %%
run.save_table(evidence.estimates_table(rates), "03-reoperation-revision")

# %% [markdown]
# ## List the risk factors the pages name

# %%
risk = claims[claims["topic"] == "risk_factor"]
run.save_table(
    risk[["claim_id", "source", "value_text", "unit", "outcome", "population", "study", "verdict"]].reset_index(
        drop=True
    ),
    "03-risk-factors",
)

# %% [markdown]
# ## Answer

# %%
from IPython.display import Markdown

sequence = rates[rates["finding_id"].str.startswith("success-after-")].sort_values("value", ascending=False)
asd = rates[rates["topic"] == "adjacent_segment"]
Markdown(
    f"One page gives success falling with each repeat operation ({', '.join(sequence['value_text'])} after the "
    f"{', '.join(sequence['population'].str.extract(r'(second|third|fourth)')[0].fillna('?'))} operation), "
    f"citing {', '.join(sorted(set(sequence['study'].dropna())))} ({', '.join(sorted(set(sequence['grade'])))}). "
    f"{evidence.describe_estimates(rates)}\n\n"
    f"**Caveats.** The sequence comes from a narrative review, not a cohort that counted patients; the "
    f"adjacent-segment figure ({', '.join(asd['value_text'])}) is footnoted to a study whose abstract "
    f"{'gives other figures' if (asd['verdict'] == 'figure_differs').any() else 'was checked'} "
    "(see `08-citation-audit`). "
    "The risk factors come from a study of complications and readmission after revision fusion, not of the need "
    "for revision. `10-claims-vs-literature` shows what cohorts report on both questions."
)
