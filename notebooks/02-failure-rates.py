# %% [markdown]
# # How often does back surgery "fail"?
#
# Every failure, persistent-pain, recurrence and dissatisfaction estimate on the pages, on one axis:
# points, ranges and one-sided bounds drawn differently, with a confidence interval where the page
# gives a numerator and denominator.
#
# **Reads** the data tables in `data/` (claims, sources, references, the two audits).
# **Writes** `figures/02-failure-rates`, `tables/02-failure-rates`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=02-failure-rates P="NAME=VALUE ...")
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

run = notebook.start("02-failure-rates", globals())
claims = run.claims
print(f"{len(claims)} claims from {claims['source_id'].nunique()} pages")

# %% [markdown]
# ## Select the estimates, with intervals where the page gives counts
#
# A finding stated twice on one page is one estimate.

# %%
rates = evidence.comparison(
    claims,
    ["failure_persistent_pain", "recurrence"],
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
    title='How often back surgery "fails", as the pages state it',
    xlabel="Share of patients (%)",
)
run.caption(ax.figure, rates, f"Intervals: {ci_method}, {ci_level:.0%}.")
run.save_figure(ax.figure, "02-failure-rates")
# %% [markdown]
# ## Tabulate them with population, time and evidence

# %%
run.save_table(evidence.estimates_table(rates), "02-failure-rates")

# %% [markdown]
# ## Answer

# %%
from IPython.display import Markdown

lowest, highest = evidence.extremes(rates)
counted = rates[rates["ci_low"].notna()]
bounds = rates[rates["bound"].isin(["upper", "range"])]
Markdown(
    f'The pages put failure after back surgery anywhere from "{lowest}" to "{highest}". '
    f'{len(bounds)} of the {len(rates)} estimates are ranges or "up to" bounds, quoted from reviews rather than '
    f"measured. {evidence.describe_estimates(rates)}\n\n"
    f"**Caveats.** Only "
    f"{', '.join(counted['value_text'] + ' (' + counted['outcome'] + ')') or 'no estimate'} comes with "
    "counts, so only it has an interval. The populations differ (discectomy, decompression, fusion), so these are "
    "not estimates of one quantity; `10-claims-vs-literature` sets them beside the primary studies, and "
    "`08-citation-audit` says what the cited studies report."
)
