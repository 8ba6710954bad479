# %% [markdown]
# # Why are spinal cord stimulators removed, and what happens to opioid use after a pump?
#
# The reasons for explanting stimulators as a composition (the share that no stated reason accounts
# for is derived, and labelled so), opioid elimination over time after an intrathecal pump, and the
# treatments those pump patients had failed before.
#
# **Reads** the data tables in `data/` (claims, sources, references, the two audits).
# **Writes** `figures/05-scs-explant-reasons`, `figures/05-pump-opioid-elimination`,
# `figures/05-pump-prior-treatments`, `tables/05-scs-explant-reasons`, `tables/05-pump-opioid-elimination`,
# `tables/05-pump-cohort`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=05-implants-scs-pumps P="NAME=VALUE ...")
data_dir = "data"  # the folder of the data tables; a relative path is relative to the project folder
claims_path = None  # None: the claims of data_dir; or another claims file
output_dir = None  # None: a folder of its own under build/runs/; make passes its staging folder
fig_format = "png"  # png | svg | pdf

# %%
from fbss_evidence import arithmetic, evidence, notebook
from fbss_evidence.plotting import charts

run = notebook.start("05-implants-scs-pumps", globals())
claims = run.claims
print(f"{len(claims)} claims from {claims['source_id'].nunique()} pages")

# %% [markdown]
# ## Compose the explant reasons, deriving what they leave unexplained

# %%
reasons = arithmetic.composition(claims, "scs-explant-reasons", prefix="explant reason: ")
notebook.expect("stated and derived shares of all explants (%)", round(reasons["share"].sum(), 6), 100.0)

# %%
run.save_table(reasons, "05-scs-explant-reasons")

# %% tags=["nbval-ignore-output"]
ax = charts.composition_bar(reasons, title="Reasons spinal cord stimulators were explanted")
run.caption(
    ax.figure, claims[claims["claim_id"].isin(reasons["claim_id"])], "Hatched: derived, not stated by the page."
)
run.save_figure(ax.figure, "05-scs-explant-reasons")
# %% [markdown]
# ## Follow opioid elimination after a pump implant

# %%
elimination = evidence.time_course(claims, "idd-opioid-elimination-")
run.save_table(
    elimination[["months", "value", "value_text", "timepoint", "source", "study", "verdict"]],
    "05-pump-opioid-elimination",
)

# %% tags=["nbval-ignore-output"]
ax = charts.time_course(
    elimination,
    title="Patients off all systemic opioids after an intrathecal pump",
    ylabel="Patients off systemic opioids (%)",
)
run.caption(ax.figure, elimination)
run.save_figure(ax.figure, "05-pump-opioid-elimination")
# %% [markdown]
# ## Describe who received the pumps and what they had failed before

# %%
cohort = claims[(claims["topic"] == "intrathecal_pump") & (claims["measure"] == "characteristic")]
run.save_table(
    cohort[["claim_id", "value_text", "value", "unit", "outcome", "study", "verdict"]].reset_index(drop=True),
    "05-pump-cohort",
)

# %% tags=["nbval-ignore-output"]
prior = cohort[cohort["outcome"].str.startswith("prior failed treatment: ")]
ax = charts.share_bars(
    prior.set_index(prior["outcome"].str.removeprefix("prior failed treatment: "))["value"],
    title="Treatments pump patients had failed before the implant",
    xlabel="Patients who had failed the treatment (%)",
)
run.caption(ax.figure, prior, "Treatments overlap: the shares do not add to 100%.")
run.save_figure(ax.figure, "05-pump-prior-treatments")
# %% [markdown]
# ## Answer

# %%
from IPython.display import Markdown

stated = reasons.loc[~reasons["derived"], "share"].sum()
first, last = elimination.iloc[0], elimination.iloc[-1]
study = evidence.claim(claims, first["claim_id"])
explant_verdicts = ", ".join(sorted(set(claims.loc[claims["claim_id"].isin(reasons["claim_id"]), "verdict"].dropna())))
Markdown(
    f"The explant study's stated reasons cover **{stated:.1f}%** of removals; **{100 - stated:.1f}%** is not "
    f"accounted for on the page. Opioid elimination after a pump rises from **{first['value_text']}** at "
    f"{first['timepoint']} to **{last['value_text']}** at {last['timepoint']}.\n\n"
    f"**Caveats.** The pump figures come from one {study['grade']} ({study['study']}); patients still followed at "
    f"the last time point are a selected group. "
    f"The explant shares' audit verdict: {explant_verdicts.replace('_', ' ')}. "
    "`10-claims-vs-literature` sets both beside other cohorts."
)
