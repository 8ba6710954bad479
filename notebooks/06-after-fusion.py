# %% [markdown]
# # What happens to muscle, opioid use and function after a lumbar fusion?
#
# Paraspinal muscle damage, opioid use and function after fusion, as the pages state them, with who
# was measured and when.
#
# **Reads** the data tables in `data/` (claims, sources, references, the two audits).
# **Writes** `figures/06-after-fusion`, `tables/06-after-fusion`, `tables/06-muscle-and-dose`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=06-after-fusion P="NAME=VALUE ...")
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

run = notebook.start("06-after-fusion", globals())
claims = run.claims
print(f"{len(claims)} claims from {claims['source_id'].nunique()} pages")

# %% [markdown]
# ## Select the estimates, with intervals where the page gives counts
#
# A finding stated twice on one page is one estimate.

# %%
rates = evidence.comparison(
    claims,
    ["failure_persistent_pain", "opioids", "muscle_degeneration", "adjacent_segment"],
    intervention="fusion",
    measure=("rate", "change"),
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
    title="Function, muscle and opioid use after lumbar fusion, as the pages state it",
    xlabel="Percent of patients, or change in muscle density (%)",
)
run.caption(ax.figure, rates, f"Intervals: {ci_method}, {ci_level:.0%}.")
run.save_figure(ax.figure, "06-after-fusion")
# %% [markdown]
# ## Tabulate them with population, time and evidence

# %%
run.save_table(evidence.estimates_table(rates), "06-after-fusion")

# %% [markdown]
# ## List the muscle and dose figures, with who was measured and when

# %%
fusion = evidence.select(claims, ["muscle_degeneration", "opioids"], measure=None, intervention="fusion")
run.save_table(
    fusion.loc[
        fusion["measure"] != "rate",
        [
            "claim_id",
            "source",
            "value_text",
            "unit",
            "measure",
            "outcome",
            "population",
            "timepoint",
            "study",
            "verdict",
        ],
    ].reset_index(drop=True),
    "06-muscle-and-dose",
)

# %% [markdown]
# ## Answer

# %%
from IPython.display import Markdown

on_opioids, higher_dose = (
    evidence.claim(claims, "centeno-schultz-fbss-15"),
    evidence.claim(claims, "centeno-schultz-fbss-16"),
)
density = evidence.claim(claims, "darrow-muscle-damage-05")
audit = run.data.audit.set_index("claim_id")
Markdown(
    f'"{on_opioids["value_text"]} still on narcotics" and {higher_dose["value_text"]} on higher doses after fusion are '
    f"figures from {on_opioids['study']}, whose audit verdict is *{on_opioids['verdict'].replace('_', ' ')}*: "
    f"{audit.at[on_opioids['claim_id'], 'study_population']}. {evidence.describe_estimates(rates)}\n\n"
    f"**Caveats.** The {density['value_text']} loss of muscle density was, in {density['study']}, "
    f"{audit.at[density['claim_id'], 'study_reports'][0].lower() + audit.at[density['claim_id'], 'study_reports'][1:]} "
    "The function figures are bounds the cited authors quote from earlier literature. `10-claims-vs-literature` "
    "shows what cohorts of fusion patients report on long-term opioid use."
)
