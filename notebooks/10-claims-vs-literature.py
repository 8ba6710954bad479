# %% [markdown]
# # What do the primary studies report, and where do the pages' claims fall?
#
# For one clinical question (the `question` parameter; `make` runs every question of
# `data/questions.csv`): what was searched and found, which study results answer the question
# directly (judged on population, intervention, outcome and follow-up by two readers), the
# random-effects estimate of each group from those results (the primary analysis) beside the
# estimate that also takes the indirect ones (the sensitivity analysis), and every claim the pages
# make on the question set beside it.
#
# **Reads** the data tables in `data/` (questions, studies, results, eligibility, risk of bias, the
# search and screening logs, the published reviews, claim_questions and the claims with their sources
# and audit). **Writes** `figures/10-<question>`, `figures/10-<question>-prisma`,
# `tables/10-<question>-results`, `tables/10-<question>-pooled`, `tables/10-<question>-claims`,
# `tables/10-<question>-leave-one-out`, `tables/10-<question>-reviews`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=10-claims-vs-literature P="question=prp-lbp-success ...")
data_dir = "data"  # the folder of the data tables; a relative path is relative to the project folder
claims_path = None  # None: the claims of data_dir; or another claims file
output_dir = None  # None: a folder of its own under build/runs/; make passes its staging folder
fig_format = "png"  # png | svg | pdf
question = "reoperation-after-discectomy"  # a question_id of data/questions.csv
pooling_method = "REML"  # REML | DL | PM
hartung_knapp = False  # Hartung-Knapp confidence intervals
ci_method = "wilson"  # for each study's interval: wilson | clopper-pearson | jeffreys | agresti-coull | wald
ci_level = 0.95
include_derived_counts = True  # pool counts derived from a printed percent and n (and Kaplan-Meier estimates)
min_studies = 2  # the fewest comparable studies that are pooled

# %%
import pandas as pd
from IPython.display import Markdown

from fbss_evidence import literature, notebook, prisma, reviews
from fbss_evidence.plotting import literature as evidence_plots
from fbss_evidence.plotting import prisma as prisma_plots

run = notebook.start("10-claims-vs-literature", globals())
q = literature.question(run.data, question)
Markdown(
    f"**Question.** {q['question']}  \n**Population.** {q['population']}  \n"
    f"**Intervention.** {q['intervention']}  \n**Outcome.** {q['outcome']}  \n"
    f"**Follow-up.** {q['followup']}  \n**Grouped by.** {q['pool_by'].replace('_', ' ')}"
)

# %% [markdown]
# ## What was searched, and what was found

# %% tags=["nbval-ignore-output"]
flow = prisma.flow(run.data.search_log, run.data.screening, run.data.results, question)
ax = prisma_plots.flow_diagram(
    flow,
    prisma.exclusion_reasons(run.data.screening, question),
    title=f"{q['label']}: the literature search (PRISMA 2020)",
)
run.caption(
    ax.figure,
    None,
    "Counts from data/literature/search_log.csv (queries of stored copies of PubMed, PMC "
    "and journal pages), data/literature/screening.csv and data/results.csv.",
)
run.save_figure(ax.figure, f"10-{question}-prisma")
# %%
pd.Series(flow).to_frame("records")

# %% [markdown]
# ## Decide which results can be pooled, and say why not for the others
#
# The primary analysis pools only results that match the question on every criterion; the
# sensitivity analysis adds those judged indirect (a subgroup, a wider population, a neighbouring
# outcome, another follow-up). Each result's judgement and its reason are in the results table.

# %%
options = dict(
    method=pooling_method,
    level=ci_level,
    ci_method=ci_method,
    hartung_knapp=hartung_knapp,
    include_derived_counts=include_derived_counts,
    min_studies=min_studies,
)
result = literature.synthesise(run.data, question, **options)
with_indirect = literature.synthesise(run.data, question, analysis="sensitivity", **options)
pooled_ids = {i for rows in result.pooled_rows.values() for i in rows["result_id"]}
notebook.expect(
    "results either pooled or refused with a reason",
    len(pooled_ids) + int(result.rows["reason_code"].notna().sum()),
    len(result.rows),
)

# %%
run.save_table(
    result.rows[
        [
            "result_id",
            "study",
            "design",
            "group",
            "arm",
            "timepoint_text",
            "percent",
            "pool_events",
            "pool_n",
            "count_note",
            "ci_low",
            "ci_high",
            "eligibility",
            "eligibility_reason",
            "risk_of_bias",
            "reason_code",
            "reason",
            "link",
            "url_seen",
        ]
    ],
    f"10-{question}-results",
)[["study", "group", "percent", "pool_n", "eligibility", "reason_code"]]

# %% [markdown]
# ## Pool each comparable group, with and without the indirect results

# %%
run.save_table(pd.concat([result.table(), with_indirect.table()], ignore_index=True), f"10-{question}-pooled")[
    ["analysis", "group", "k", "total_n", "estimate", "ci_low", "ci_high", "i2"]
].round(1)

# %% [markdown]
# ## Check how much each study moves the estimate, and whether designs differ

# %%
leave_one_out = pd.concat(
    [table.assign(group=group) for group, table in result.leave_one_out.items()] + [pd.DataFrame(columns=["group"])],
    ignore_index=True,
)
run.save_table(leave_one_out, f"10-{question}-leave-one-out").round(2)

# %%
result.subgroups.round(2)

# %% [markdown]
# ## Set the estimate beside the published systematic reviews

# %%
compared = reviews.comparison(
    run.data.reviews[run.data.reviews["question_id"] == question], {question: result}, {question: with_indirect}
)
run.save_table(compared, f"10-{question}-reviews")[
    [
        "citation",
        "group",
        "review_estimate",
        "review_ci_low",
        "review_ci_high",
        "analysis",
        "estimate",
        "ci_low",
        "ci_high",
        "apart",
    ]
].round(1)

# %% [markdown]
# ## Set the pages' claims beside the evidence

# %%
claims = literature.linked_claims(run.claims, run.data.links, question)
placed = literature.place_claims(result, claims)
run.save_table(placed, f"10-{question}-claims")[["claim_id", "value_text", "basis", "group", "placement", "vs_ci"]]

# %% tags=["nbval-ignore-output"]
drawn = claims.assign(group=placed["group"].to_numpy()) if len(claims) else claims.assign(group=[])
ax = evidence_plots.evidence_forest(
    result, drawn, sensitivity=with_indirect, title=f"{q['label']}: the studies and the pages' claims"
)
run.caption(
    ax.figure,
    claims if len(claims) else None,
    f"Studies: {', '.join(sorted(set(result.rows['study'])))} (data/results.csv, each with the URL read). "
    f"Pooled: random effects, {pooling_method}{', Hartung-Knapp' if hartung_knapp else ''}, logit scale; "
    f"study intervals {ci_method} {ci_level:.0%}.",
)
run.save_figure(ax.figure, f"10-{question}")
# %% [markdown]
# ## Draw outcomes that grow with time as one curve
#
# Where the outcome is cumulative (reoperation, explant, adjacent-segment surgery), every timepoint of
# every study enters one meta-regression of the logit share on log years, with a random effect per
# cohort (docs/literature.md, "Outcomes that grow with time"): from the direct results if they allow a
# fit, else from the sensitivity analysis with the indirect ones, which the title then says.

# %% tags=["nbval-ignore-output"]
from fbss_evidence import metaregression
from fbss_evidence.plotting import curves

curve, label, refused = None, "", []
if q["grows_with_time"] == "yes":
    curve, label, refused = metaregression.first_curve(
        {"primary": result.rows, "sensitivity": with_indirect.rows}, level=ci_level
    )
print("\n".join(refused))
if curve is not None:
    at_times = metaregression.claim_times(
        claims.assign(group=placed["group"].to_numpy()) if len(claims) else claims.assign(group=[])
    )
    ax = curves.time_curve_chart(
        curve.curve,
        curve.rows,
        at_times[at_times["comparable"] == "yes"] if len(at_times) else at_times,
        title=f"{q['label']} against follow-up ({label})",
        level=ci_level,
    )
    run.caption(
        ax.figure,
        claims if len(claims) else None,
        f"Studies: {', '.join(sorted(set(curve.rows['study'])))} (data/results.csv). Curve: logit share "
        "on log years, random effects per cohort and per result (REML); band: "
        f"{ci_level:.0%} confidence. " + " ".join(curve.notes),
    )
    run.save_figure(ax.figure, f"10-{question}-curve")

# %%
if curve is not None:
    run.save_table(metaregression.fit_table(curve), f"10-{question}-curve").round(4)

# %% [markdown]
# ## Answer

# %%
headline = result.pooled.get(q["headline_group"]) if isinstance(q["headline_group"], str) else None
comparable = placed[placed["placement"] != "not_comparable"]
lines = []
for group, pooled in result.pooled.items():
    pi = f", prediction interval {pooled.pi_low:.1f}-{pooled.pi_high:.1f}%" if pooled.k >= 3 else ""
    lines.append(
        f"- **{group}**: {pooled.estimate:.1f}% (95% CI {pooled.ci_low:.1f}-{pooled.ci_high:.1f}%{pi}; "
        f"k = {pooled.k}, I\u00b2 = {pooled.i2:.0f}%)"
    )
for group, pooled in with_indirect.pooled.items():
    if group not in result.pooled or pooled.k != result.pooled[group].k:
        lines.append(
            f"- {group}, sensitivity analysis with the indirect results: {pooled.estimate:.1f}% "
            f"(95% CI {pooled.ci_low:.1f}-{pooled.ci_high:.1f}%; k = {pooled.k}); not the answer, "
            "as its results do not all answer the question"
        )
claims_text = (
    "; ".join(
        f'"{r.value_text}" ({r.source}): {literature.PLACEMENTS[r.placement]}, {r.vs_ci} the confidence interval'
        for r in comparable.itertuples()
    )
    or "no page claims a comparable figure"
)
refused = result.rows["reason_code"].value_counts()
Markdown(
    f"**{result.rows['study'].nunique()}** studies report **{len(result.rows)}** results on this question; "
    f"**{len(pooled_ids)}** answer it directly and are pooled in **{len(result.pooled)}** group(s) "
    f"(the primary analysis).\n\n"
    + ("\n".join(lines) + "\n\n" if lines else f"Nothing is pooled: {q['notes'] or 'too few comparable studies'}\n\n")
    + f"**The pages' claims:** {claims_text}.\n\n"
    f"**Caveats.** Figures come from abstracts (a few from full texts), read on the page each row names; this is "
    f"a structured review of abstracts, not a full systematic review (see `data/literature/`). Results left out "
    f"of the primary analysis: "
    + (", ".join(f"{n} {code.replace('_', ' ')}" for code, n in refused.items()) or "none")
    + ". "
    + (
        "Derived counts (from a percent and n, or a Kaplan-Meier estimate) are pooled; "
        "`include_derived_counts=False` leaves them out. "
        if include_derived_counts
        else ""
    )
    + (q["notes"] if isinstance(q["notes"], str) else "")
)
