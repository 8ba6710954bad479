# %% [markdown]
# # What results do the pages claim for the treatments they discuss?
#
# PRP, steroid injection, the clinics' prolotherapy figures, spinal cord stimulation and intrathecal pumps
# on one chart. The basis is encoded in colour and marker shape, so that a clinic's own experience
# cannot be mistaken for a trial result.
#
# **Reads** the data tables in `data/` (claims, sources, references, the two audits).
# **Writes** `figures/04-treatments-compared`, `tables/04-treatments-compared`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=04-treatments-compared P="NAME=VALUE ...")
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

run = notebook.start("04-treatments-compared", globals())
claims = run.claims
print(f"{len(claims)} claims from {claims['source_id'].nunique()} pages")

# %% [markdown]
# ## Select the estimates, with intervals where the page gives counts
#
# A finding stated twice on one page is one estimate.

# %%
rates = evidence.comparison(
    claims,
    ["treatment_outcome", "spinal_cord_stimulation", "intrathecal_pump"],
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
    title="Treatment results claimed by the pages, by basis",
    xlabel="Share of patients (%)",
)
run.caption(ax.figure, rates, f"Intervals: {ci_method}, {ci_level:.0%}.")
run.save_figure(ax.figure, "04-treatments-compared")
# %% [markdown]
# ## Tabulate them with population, time and evidence

# %%
run.save_table(evidence.estimates_table(rates), "04-treatments-compared")

# %% [markdown]
# ## Answer

# %%
from IPython.display import Markdown

clinic = rates[rates["basis"] == "clinic_experience"]
prp = evidence.claim(claims, "caring-prolotherapy-fbss-46")
Markdown(
    f"The best-looking numbers are the least supported: {', '.join(clinic['value_text'].map(repr)) or 'none'} "
    f"{'rests' if len(clinic) == 1 else 'rest'} on the clinics' own unmeasured experience, "
    f"and PRP's {prp['value_text']} "
    f"on a {prp['grade']} ({prp['study']}) of {prp['population']}. {evidence.describe_estimates(rates)}\n\n"
    "**Caveats.** These rates measure different things (response to an injection, satisfaction, reasons for "
    "removing a stimulator, opioid elimination after a pump); they sit side by side to show what is claimed and on "
    "what basis, not to rank treatments. The clinic-experience rows (diamonds) have no counts, no definition of "
    "success and no follow-up; `include_clinic_experience=False` drops them."
)
