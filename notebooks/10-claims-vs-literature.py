# %% [markdown]
# # What do the primary studies report, and where do the pages' claims fall?
#
# For one clinical question (the `question` parameter; `make` runs it for every question of
# `data/questions.csv`): what was searched and found, which study results
# can be pooled and why the others cannot, the random-effects estimate of each comparable group
# with its prediction interval, and every claim the pages make on the question set beside it.
#
# **Reads** the data tables in `data/` (questions, studies, results, claim_questions and the
# claims with their sources and audit). **Writes** `figures/10-<question>`,
# `tables/10-<question>-results`, `tables/10-<question>-pooled`, `tables/10-<question>-claims`,
# `tables/10-<question>-sensitivity`.

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
from IPython.display import Markdown
from fbss_evidence import literature, notebook
from fbss_evidence.plotting import literature as evidence_plots

run = notebook.start("10-claims-vs-literature", globals())
q = literature.question(run.data, question)
Markdown(f"**Question.** {q['question']}  \n**Population.** {q['population']}  \n**Outcome.** {q['outcome']}  \n"
         f"**Follow-up.** {q['followup']}  \n**Grouped by.** {q['pool_by'].replace('_', ' ')}")

# %% [markdown]
# ## What was searched, and what was found

# %%
literature.prisma_counts(run.data, question)

# %% [markdown]
# ## Decide which results can be pooled, and say why not for the others

# %%
result = literature.synthesise(run.data, question, method=pooling_method, level=ci_level, ci_method=ci_method,
                               hartung_knapp=hartung_knapp, include_derived_counts=include_derived_counts,
                               min_studies=min_studies)
pooled_ids = {i for rows in result.pooled_rows.values() for i in rows["result_id"]}
notebook.expect("results either pooled or refused with a reason",
                len(pooled_ids) + int(result.rows["reason_code"].notna().sum()), len(result.rows))

# %%
run.save_table(result.rows[["result_id", "study", "design", "group", "arm", "timepoint_text", "percent", "pool_events",
                            "pool_n", "count_note", "ci_low", "ci_high", "reason_code", "reason", "url_seen"]],
               f"10-{question}-results")[["study", "group", "percent", "pool_events", "pool_n", "reason_code"]]

# %% [markdown]
# ## Pool each comparable group

# %%
run.save_table(result.table(), f"10-{question}-pooled").round(2)

# %% [markdown]
# ## Check how much each study moves the estimate, and whether designs differ

# %%
import pandas as pd

sensitivity = pd.concat([table.assign(group=group) for group, table in result.leave_one_out.items()]
                        + [pd.DataFrame(columns=["group"])], ignore_index=True)
run.save_table(sensitivity, f"10-{question}-sensitivity").round(2)

# %%
result.subgroups.round(2)

# %% [markdown]
# ## Set the pages' claims beside the evidence

# %%
claims = literature.linked_claims(run.claims, run.data.links, question)
placed = literature.place_claims(result, claims)
run.save_table(placed, f"10-{question}-claims")[["claim_id", "value_text", "basis", "group", "placement", "vs_ci"]]

# %% tags=["nbval-ignore-output"]
drawn = claims.assign(group=placed["group"].to_numpy()) if len(claims) else claims.assign(group=[])
ax = evidence_plots.evidence_forest(result, drawn, title=f"{q['label']}: the studies and the pages' claims")
run.caption(ax.figure, claims if len(claims) else None,
            f"Studies: {', '.join(sorted(set(result.rows['study'])))} (data/results.csv, each with the URL read). "
            f"Pooled: random effects, {pooling_method}{', Hartung-Knapp' if hartung_knapp else ''}, logit scale; "
            f"study intervals {ci_method} {ci_level:.0%}.")
run.save_figure(ax.figure, f"10-{question}");

# %% [markdown]
# ## Answer

# %%
headline = result.pooled.get(q["headline_group"]) if isinstance(q["headline_group"], str) else None
comparable = placed[placed["placement"] != "not_comparable"]
lines = []
for group, pooled in result.pooled.items():
    pi = f", prediction interval {pooled.pi_low:.1f}-{pooled.pi_high:.1f}%" if pooled.k >= 3 else ""
    lines.append(f"- **{group}**: {pooled.estimate:.1f}% (95% CI {pooled.ci_low:.1f}-{pooled.ci_high:.1f}%{pi}; "
                 f"k = {pooled.k}, I\u00b2 = {pooled.i2:.0f}%)")
claims_text = "; ".join(f'"{r.value_text}" ({r.source}): {literature.PLACEMENTS[r.placement]}, {r.vs_ci} the '
                        "confidence interval" for r in comparable.itertuples()) or "no page claims a comparable figure"
refused = result.rows["reason_code"].value_counts()
Markdown(
    f"**{result.rows['study'].nunique()}** studies report **{len(result.rows)}** results on this question; "
    f"**{len(pooled_ids)}** are pooled in **{len(result.pooled)}** group(s).\n\n"
    + ("\n".join(lines) + "\n\n" if lines else f"Nothing is pooled: {q['notes'] or 'too few comparable studies'}\n\n")
    + f"**The pages' claims:** {claims_text}.\n\n"
    f"**Caveats.** Figures come from abstracts (a few from full texts), read on the page each row names; this is "
    f"not a full systematic review (one search tool, one session; see `data/literature/`). Results left out: "
    + (", ".join(f"{n} {code.replace('_', ' ')}" for code, n in refused.items()) or "none") + ". "
    + (f"Derived counts (from a percent and n, or a Kaplan-Meier estimate) are pooled; "
       "`include_derived_counts=False` leaves them out. " if include_derived_counts else "")
    + (q["notes"] if isinstance(q["notes"], str) else ""))
