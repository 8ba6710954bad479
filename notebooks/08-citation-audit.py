# %% [markdown]
# # Do the cited studies say what the pages claim?
#
# For every claim that cites a reference, the audit compares the page's number with what the study's
# abstract reports. Per page: the share of claims supported, differing in population or context, giving
# another figure, misattributed, unverifiable, from clinic experience or uncited; then the discrepancies,
# the evidence grade of every claim, and every footnoted statement that carries no number.
#
# **Reads** the data tables in `data/` (claims, sources, references, the two audits).
# **Writes** `figures/08-citation-audit`, `tables/08-audit-by-page`, `tables/08-discrepancies`,
# `figures/08-statement-audit`, `tables/08-evidence-grades`, `tables/08-statement-audit`.

# %% tags=["parameters"]
# Parameters (papermill -p NAME VALUE, or: make run NB=08-citation-audit P="NAME=VALUE ...")
data_dir = "data"  # the folder of the data tables; a relative path is relative to the project folder
claims_path = None  # None: the claims of data_dir; or another claims file
output_dir = None  # None: a folder of its own under build/runs/; make passes its staging folder
fig_format = "png"  # png | svg | pdf

# %%
from fbss_evidence import evidence, notebook
from fbss_evidence.plotting import charts

run = notebook.start("08-citation-audit", globals())
claims = run.claims
cited = claims[claims["basis"] == "cited_study"]
notebook.expect("cited claims without an audit verdict", int(cited["verdict"].isna().sum()), 0)

# %% [markdown]
# ## Share of each page's claims in each audit category

# %%
by_page = evidence.claims_by(claims, "source", "audit_category")
run.save_table(by_page.reset_index(), "08-audit-by-page")

# %% tags=["nbval-ignore-output"]
ax = charts.stacked_shares(by_page, title="How each page's numbers fare against their sources")
run.caption(ax.figure, claims, "Verdicts from abstracts only; numbers in bars are counts of claims.")
run.save_figure(ax.figure, "08-citation-audit")
# %% [markdown]
# ## List the discrepancies: the page's number against the study's

# %%
wrong = claims[claims["verdict"].isin(["figure_differs", "population_differs", "contradicted", "misattributed"])]
discrepancies = wrong[["claim_id", "source", "value_text", "study", "study_figure", "verdict"]].merge(
    run.data.audit[["claim_id", "explanation"]], on="claim_id", how="left", validate="one_to_one"
)
run.save_table(discrepancies, "08-discrepancies")

# %% [markdown]
# ## Grade each claim by the design behind it

# %%
grades = evidence.claims_by(claims, "grade", "source").reindex(
    [g for g in evidence.GRADES if g in set(claims["grade"])]
)
run.save_table(grades.reset_index(), "08-evidence-grades")

# %% [markdown]
# ## Check the cited statements that carry no number
#
# Every footnote marker on a page closes a claim or a statement; validation refuses a page with a marker that
# neither accounts for (the footnote ledger). The footnoted sentences that state no number ("Spinal cord
# stimulation can be an efficient alternative ...") were each checked against the study the footnote names,
# with the same verdicts.

# %%
statements = evidence.enrich_statements(run.data)
statement_by_page = evidence.claims_by(statements, "source", "audit_category")
statement_by_page = statement_by_page.loc[:, statement_by_page.sum() > 0]
run.save_table(
    statements[["source_id", "ref_number", "study", "quote", "verdict", "explanation", "url_seen"]],
    "08-statement-audit",
)
statement_by_page

# %% tags=["nbval-ignore-output"]
ax = charts.stacked_shares(
    statement_by_page,
    xlabel="Share of statements (%)",
    title="How each page's footnoted statements without a number fare against their sources",
)
run.caption(
    ax.figure,
    statements,
    "Verdicts from abstracts only; numbers in bars are counts of statements.",
    table="statement_audit",
)
run.save_figure(ax.figure, "08-statement-audit")
# %% [markdown]
# ## Answer

# %%
from IPython.display import Markdown

category = cited["audit_category"].value_counts()
said = statements["audit_category"].value_counts()
contradicted = "; ".join(
    f'{r.source}\'s "{r.quote.rstrip(".")}" ({r.study}, footnote {r.ref_number})'
    for r in statements[statements["verdict"] == "contradicted"].itertuples()
)
Markdown(
    f"Of **{len(cited)}** claims that cite a study, **{category.get('supported', 0)}** are supported by its abstract, "
    f"{category.get('population or context differs', 0)} apply the figure to another population or context, "
    f"{category.get('figure differs', 0)} give a different figure, {category.get('misattributed', 0)} cite the "
    f"wrong paper and **{category.get('unverifiable', 0)}** could not be checked. Of the **{len(statements)}** "
    f"footnoted statements without a number, {said.get('supported', 0)} are supported, "
    f"{said.get('misattributed', 0)} cite the wrong paper, {said.get('unverifiable', 0)} could not be checked "
    f"and **{said.get('contradicted', 0)}** {'says' if said.get('contradicted', 0) == 1 else 'say'} the opposite "
    "of what the study found" + (f": {contradicted}." if contradicted else ".") + "\n\n"
    "**Caveats.** Verdicts rest on abstracts only (read on PubMed, PMC or journal pages, or on other copies where "
    "those were not available; `url_seen` records which): *not in abstract* is not *wrong*. Some stored abstracts "
    "stop before their results, and some studies could not be found at all. Every PMID, DOI and URL in the data is "
    "one actually seen; a field is empty rather than guessed."
)
