"""The claims joined with what is known of their sources and cited studies.

Everything a notebook compares is derived here from the validated tables, so
that a notebook cell only calls, shows and saves.
"""
from __future__ import annotations

import re
import textwrap

import pandas as pd

from . import stats, vocab
from .dataset import Dataset
from .numbers import months

# Evidence grade: the design behind a claim, strongest first. A cited study whose
# design could not be established is "cited, design unknown".
GRADES = vocab.STUDY_DESIGNS + ("cited, design unknown", "clinic experience", "no source")

# How a claim's citation fared in the audit, for the per-page shares.
AUDIT_CATEGORIES = {
    "supported": "supported",
    "contradicted": "contradicted",
    "figure_differs": "figure differs",
    "population_differs": "population or context differs",
    "misattributed": "misattributed",
    "not_in_abstract": "unverifiable",
    "not_found": "unverifiable",
}
AUDIT_ORDER = ("supported", "population or context differs", "figure differs", "contradicted", "misattributed",
               "unverifiable", "clinic experience", "uncited")


def study_label(ref: pd.Series) -> str:
    """'Klessinger 2012' from a reference row."""
    # A missing author may be None or NaN (which is truthy), depending on how the frame was built.
    first = next((v for v in (ref.get("first_author"), ref.get("citation_as_printed"), ref.get("study_id"))
                  if isinstance(v, str) and v.strip()), "?")
    # The surname is everything before the initials: "De Andres J, ..." -> "De Andres",
    # "Klessinger S. Long-term ..." -> "Klessinger", "Mugabure Bujedo B" -> "Mugabure Bujedo".
    match = re.match(r"\s*(.+?)\s+[A-Z]{1,3}[.,\s]", first + " ")
    author = match.group(1) if match else first.split()[0].rstrip(",.;")
    year = ref.get("year")
    return f"{author} {int(year)}" if pd.notna(year) and str(year).strip() else author


def _label(study: pd.Series) -> str:
    """A study's label: 'Ghiselli 2004'; else its journal and year ('Neuromodulation 2021'); else, for a
    study no page showed the authors of, 'Unidentified: <what it is>' (validation allows no other case)."""
    if isinstance(study.get("first_author"), str) and study["first_author"].strip():
        return study_label(study)
    journal, year = study.get("journal"), study.get("year")
    if isinstance(journal, str) and journal.strip() and pd.notna(year):
        return f"{re.split(r'[0-9;(.]', journal, maxsplit=1)[0].strip()} {int(year)}"
    if study.get("lookup_status") == "unidentified":
        title = str(study.get("title") or "").replace("(title not displayed)", "").strip()
        return "Unidentified: " + (textwrap.shorten(title, 48, placeholder="...") or "authors not shown")
    return study["study_id"]


def canonical_link(pmid, doi, url) -> str:
    """The link a reader follows: the PubMed page for a PMID, otherwise doi.org for a DOI, otherwise the
    page read (url_seen stays the provenance of what was read)."""
    if isinstance(pmid, str) and pmid:
        return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
    if isinstance(doi, str) and doi:
        return f"https://doi.org/{doi}"
    return url if isinstance(url, str) else ""


def studies_labelled(studies: pd.DataFrame) -> pd.DataFrame:
    """The studies with a `study` label ('Klessinger 2012') for charts and tables, and their canonical `link`."""
    labelled = studies.copy()
    labelled["year"] = pd.to_numeric(labelled["year"], errors="coerce")
    labelled["study"] = [_label(row) for _, row in labelled.iterrows()]
    # Two studies with one label ('Atlas 2005') become 'Atlas 2005a' and 'Atlas 2005b', in study_id order.
    shared = labelled["study"].duplicated(keep=False)
    if shared.any():
        order = labelled[shared].sort_values("study_id").groupby("study", sort=False).cumcount()
        labelled.loc[order.index, "study"] = labelled.loc[order.index, "study"] + order.map(lambda i: "abcdefgh"[i])
    missing = pd.Series([None] * len(labelled), index=labelled.index)
    labelled["link"] = [canonical_link(p, d, u) for p, d, u in
                        zip(*(labelled.get(c, missing) for c in ("pmid", "doi", "url_seen")))]
    return labelled


def enrich(data: Dataset) -> pd.DataFrame:
    """One row per claim with source label, cited study, design, evidence grade and audit verdict."""
    studies = studies_labelled(data.studies)
    refs = data.references.merge(
        studies[["study_id", "study", "design", "pmid", "doi", "lookup_status"]].rename(
            columns={"design": "study_design"}), on="study_id", how="left", validate="many_to_one")
    claims = data.claims.merge(
        refs[["ref_id", "study_id", "study", "study_design", "pmid", "doi", "lookup_status"]],
        on="ref_id", how="left", validate="many_to_one")
    claims = claims.merge(data.sources[["source_id", "label"]].rename(columns={"label": "source"}),
                          on="source_id", how="left", validate="many_to_one")
    if data.audit is not None:
        claims = claims.merge(data.audit[["claim_id", "verdict", "study_figure"]],
                              on="claim_id", how="left", validate="one_to_one")
    else:
        claims["verdict"] = pd.NA
        claims["study_figure"] = pd.NA
    claims["grade"] = [evidence_grade(b, d) for b, d in zip(claims["basis"], claims["study_design"])]
    claims["audit_category"] = [audit_category(b, v) for b, v in zip(claims["basis"], claims["verdict"])]
    return claims


def enrich_statements(data: Dataset) -> pd.DataFrame:
    """One row per audited statement without a number, with its source label, the study its footnote
    names and the audit category of its verdict."""
    studies = studies_labelled(data.studies)[["study_id", "study"]]
    refs = data.references[["ref_id", "ref_number", "study_id"]].merge(studies, on="study_id", how="left",
                                                                       validate="many_to_one")
    out = (data.statements.merge(refs, on="ref_id", how="left", validate="many_to_one")
           .merge(data.sources[["source_id", "label"]].rename(columns={"label": "source"}), on="source_id",
                  how="left", validate="many_to_one"))
    out["audit_category"] = [audit_category("cited_study", v) for v in out["verdict"]]
    return out


def evidence_grade(basis: str, design) -> str:
    if basis == "clinic_experience":
        return "clinic experience"
    if basis == "uncited":
        return "no source"
    return design if isinstance(design, str) and design else "cited, design unknown"


def audit_category(basis: str, verdict) -> str:
    if basis == "clinic_experience":
        return "clinic experience"
    if basis == "uncited":
        return "uncited"
    return AUDIT_CATEGORIES.get(verdict, "unverifiable")


def claims_by(claims: pd.DataFrame, rows: str, columns: str) -> pd.DataFrame:
    """A count table (rows x columns) with every category of the vocabulary, in order."""
    order = {"topic": vocab.TOPICS, "basis": vocab.BASES, "audit_category": AUDIT_ORDER}
    table = pd.crosstab(claims[rows], claims[columns])
    if columns in order:
        table = table.reindex(columns=list(order[columns]), fill_value=0)
    if rows in order:
        table = table.reindex(list(order[rows]), fill_value=0)
    return table


def recurring_findings(claims: pd.DataFrame) -> pd.DataFrame:
    """Findings stated more than once, within a page or across pages."""
    grouped = claims.groupby("finding_id", sort=True).agg(
        statements=("claim_id", "size"),
        pages=("source_id", "nunique"),
        sources=("source", lambda s: "; ".join(sorted(set(s)))),
        numbers=("value_text", lambda s: "; ".join(dict.fromkeys(s))),
        topic=("topic", "first"),
    )
    recurring = grouped[grouped["statements"] > 1].reset_index()
    return recurring.sort_values(["pages", "statements", "finding_id"],
                                 ascending=[False, False, True], ignore_index=True)


def select(claims: pd.DataFrame, topics=None, *, measure: str | tuple | None = "rate",
           intervention: str | None = None, include_clinic_experience: bool = True) -> pd.DataFrame:
    """Claims of the given topics (all when None), measure and intervention (a case-insensitive
    word of its name: 'fusion' matches 'lumbar fusion', not 'infusion'), optionally without the
    clinics' own experience."""
    chosen = claims
    if topics is not None:
        topics = [topics] if isinstance(topics, str) else list(topics)
        chosen = chosen[chosen["topic"].isin(topics)]
    if measure is not None:
        chosen = chosen[chosen["measure"].isin([measure] if isinstance(measure, str) else list(measure))]
    if intervention is not None:
        # A whole word: 'fusion' must not match 'infusion'.
        word = rf"(?<![a-z]){re.escape(intervention)}(?![a-z])"
        chosen = chosen[chosen["intervention"].fillna("").str.contains(word, case=False, regex=True)]
    if not include_clinic_experience:
        chosen = chosen[chosen["basis"] != "clinic_experience"]
    return chosen.reset_index(drop=True)


def distinct_statements(claims: pd.DataFrame) -> pd.DataFrame:
    """One row per finding and page: a sentence repeated on one page is one estimate."""
    keys = ["source_id", "finding_id", "value", "value_low", "value_high", "bound"]
    return claims.drop_duplicates(subset=keys, keep="first").reset_index(drop=True)


def extremes(claims: pd.DataFrame) -> tuple[str, str]:
    """The value_text of the claim stating the lowest number and of the one stating the highest.

    A range counts by its ends (5-36% is low at 5 and high at 36); ties go to the first.
    """
    low = claims["value_low"].fillna(claims["value"])
    high = claims["value_high"].fillna(claims["value"])
    return claims.loc[low.idxmin(), "value_text"], claims.loc[high.idxmax(), "value_text"]


def estimate_label(row: pd.Series) -> str:
    """The chart label of a claim: what, when, on which page, from which evidence."""
    what = row["outcome"]
    if isinstance(row.get("intervention"), str) and row["intervention"].lower() not in what.lower():
        what = f"{row['intervention']}: {what}"
    if isinstance(row.get("timepoint"), str):
        what = f"{what}, {row['timepoint']}"
    if row["basis"] == "cited_study":
        grade = row.get("grade", "")
        grade = "design unknown" if grade == "cited, design unknown" else grade
        evidence_text = f"{row.get('study', '?')}, {grade}" if grade else row.get("study", "?")
    else:
        evidence_text = {"clinic_experience": "clinic experience", "uncited": "no source"}[row["basis"]]
    return f"{what} [{row['source']}; {evidence_text}]"


def estimates_table(claims: pd.DataFrame) -> pd.DataFrame:
    """The columns a reader needs beside a comparison chart."""
    cols = ["claim_id", "source", "value_text", "bound", "value", "value_low", "value_high",
            "numerator", "denominator", "counts_pct", "ci_low", "ci_high", "outcome", "population",
            "timepoint", "basis", "study", "grade", "verdict"]
    if {"numerator", "denominator"} <= set(claims.columns):
        # The share the page's counts give, which the interval is about (beside a count
        # row's value, 69, an interval of 11.5-17.8% would otherwise read as about 69).
        counts = claims.assign(counts_pct=(100 * pd.to_numeric(claims["numerator"], errors="coerce")
                                           / pd.to_numeric(claims["denominator"], errors="coerce")).round(3))
    else:
        counts = claims
    return counts[[c for c in cols if c in counts.columns]].reset_index(drop=True)


def comparison(claims: pd.DataFrame, topics, *, intervention: str | None = None, measure="rate",
               clinic_experience: bool = True, ci: tuple[str, float] = (stats.DEFAULT_CI_METHOD, 0.95)
               ) -> pd.DataFrame:
    """The estimates a comparison chart draws: the chosen claims, one per statement of a finding on a
    page, with an interval (ci = (method, level)) where the page gives counts, sorted by topic,
    outcome and page."""
    chosen = select(claims, topics, measure=measure, intervention=intervention,
                    include_clinic_experience=clinic_experience)
    rates = stats.add_intervals(distinct_statements(chosen), method=ci[0], level=ci[1])
    return rates.sort_values(["topic", "outcome", "source"], ignore_index=True)


def describe_estimates(rates: pd.DataFrame) -> str:
    """One sentence: how many estimates a chart draws, on what basis, and how many have counts."""
    by_basis = rates["basis"].value_counts()
    return (f"The chart draws **{len(rates)}** estimates: {by_basis.get('cited_study', 0)} attributed to a "
            f"cited study, {by_basis.get('clinic_experience', 0)} from clinic experience, "
            f"{by_basis.get('uncited', 0)} with no source; {int(rates['ci_low'].notna().sum())} have the counts "
            "needed for a confidence interval.")


def time_course(claims: pd.DataFrame, finding_prefix: str) -> pd.DataFrame:
    """The claims of one finding stated at several times, with the time in months read from
    their timepoint ("1 year post-implant" -> 12), earliest first."""
    course = claims[claims["finding_id"].str.startswith(finding_prefix)].copy()
    course["months"] = course["timepoint"].map(months)
    if course["months"].isna().any():
        missing = ", ".join(course.loc[course["months"].isna(), "claim_id"])
        raise ValueError(f"no time in months can be read from the timepoint of {missing}")
    course["label"] = course["timepoint"]
    return course.sort_values("months", ignore_index=True)


def claim(claims: pd.DataFrame, claim_id: str) -> pd.Series:
    """One claim by its id (KeyError naming it when it is not there)."""
    found = claims[claims["claim_id"] == claim_id]
    if found.empty:
        raise KeyError(f"no claim {claim_id!r}")
    return found.iloc[0]


def off_scale(rates: pd.DataFrame) -> list[str]:
    """Rates that cannot be drawn on a percent axis: a count without its denominator."""
    bad = (rates["measure"] == "rate") & (rates["unit"] != "percent") & rates["denominator"].isna()
    return rates.loc[bad, "claim_id"].tolist()
