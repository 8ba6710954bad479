"""The columns of every data table and their column-level rules, in one place (pandera).

Each table is a pandera DataFrameSchema whose columns carry a title-free description
and their checks (vocabulary, pattern, bounds). The validator applies them, the
Frictionless `datapackage.json` and `docs/data-dictionary.md` are generated from them
(`make datapackage`; tests keep both in step). Rules that involve several columns
or other tables live in validate.py; the keys that tie tables together are declared
here, in each schema's metadata, so that they are stated once too.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import vocab

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
PMID = r"^\d{1,9}$"
PMCID = r"^PMC\d+$"
DOI = r"^10\.\d{4,9}/\S+$"
URL = r"^https?://\S+$"
SHA256 = r"^[0-9a-f]{64}$"

# pandas' text dtype (pyarrow-backed, NaN for a missing cell): what the reader returns.
TEXT = pd.StringDtype(na_value=np.nan)


def text(description: str, *checks: pa.Check, required: bool = True, unique: bool = False) -> pa.Column:
    """A text column; `required` means every cell must be filled in."""
    return pa.Column(TEXT, checks=list(checks), nullable=not required, unique=unique,
                     description=description)


def number(description: str, *checks: pa.Check, required: bool = False, whole: bool = False) -> pa.Column:
    """A numeric column, parsed from text by the validator (float, NaN when empty)."""
    return pa.Column(float, checks=list(checks), nullable=not required, description=description,
                     metadata={"whole": whole})


def one_of(values) -> pa.Check:
    return pa.Check.isin(list(values))


def slug() -> pa.Check:
    return pa.Check.str_matches(SLUG)


def pattern(regex: str) -> pa.Check:
    return pa.Check.str_matches(regex)


def table(name: str, description: str, columns: dict, *, primary_key: tuple[str, ...] = (),
          unique: tuple[str, ...] = (), foreign_keys: tuple[tuple[str, str, str], ...] = ()) -> pa.DataFrameSchema:
    """A table: its columns (in file order) and keys.

    unique: columns whose values, where all are filled, occur together once (a key that some rows
    leave empty, which a Table Schema primary key may not). foreign_keys: (column, other table, its
    column): each filled cell of `column` must be a value of the other table's column.
    """
    return pa.DataFrameSchema(columns, strict=False, name=name, description=description,
                              metadata={"primary_key": primary_key, "unique": unique, "foreign_keys": foreign_keys})


SOURCES = table("sources", "One row per clinic web page: its text file and the SHA-256 that proves it unchanged.", {
    "source_id": text("The page: a lowercase slug.", slug(), unique=True),
    "label": text("A short name for charts and tables."),
    "file": text("The page's text, relative to the folder of sources.csv (sources/<source_id>.txt)."),
    "title": text("The page's title as retrieved."),
    "publisher": text("Who publishes the page."),
    "author": text("The author the page names.", required=False),
    "url": text("The page's address, where it was read (empty for the first five pages: not recorded).",
                pattern(URL), required=False),
    "sha256": text("SHA-256 of the text file; a changed file fails validation.", pattern(SHA256)),
    "description": text("What the page is about.", required=False),
    "original_file": text("The file name the page was retrieved as.", required=False),
    "references_first_line": number("The first line of the page's own reference list (bibliographic data, "
                                    "outside the number and footnote ledgers); empty when it has none.",
                                    pa.Check.ge(1), whole=True),
    "references_last_line": number("The last line of that list.", pa.Check.ge(1), whole=True),
}, primary_key=("source_id",))

CLAIMS = table("claims", "One row per number a page asserts, with its verbatim quote.", {
    "claim_id": text("`<source_id>-NN`, numbered in page order.", slug(), unique=True),
    "source_id": text("The page that makes the claim.", slug()),
    "quote": text("The shortest verbatim span of the page that contains the number and makes the claim "
                  "understandable; found verbatim in the page's text.", pa.Check.str_length(min_value=1)),
    "value_text": text("The number exactly as printed (`20-40%`, `nearly one in four`); a substring of quote.",
                       pa.Check.str_length(min_value=1)),
    "value": number("The number (percent as 26.8; 'one in four' as 25); empty for a range."),
    "value_low": number("The lower end of a range."),
    "value_high": number("The upper end of a range."),
    "bound": text("exact, approx ('about'), upper ('up to'), lower ('more than') or range.",
                  one_of(vocab.BOUNDS)),
    "unit": text("What the number counts; percent lies in 0-100.", one_of(vocab.UNITS)),
    "measure": text("What kind of number it is; comparison charts draw rates.", one_of(vocab.MEASURES)),
    "numerator": number("Patients with the outcome, where the page gives both counts.", pa.Check.ge(0), whole=True),
    "denominator": number("Patients in the group, where the page gives both counts.", pa.Check.gt(0), whole=True),
    "topic": text("The subject of the claim.", one_of(vocab.TOPICS)),
    "intervention": text("What was done.", required=False),
    "outcome": text("What the number measures.", pa.Check.str_length(min_value=1)),
    "population": text("Who.", required=False),
    "timepoint": text("When.", required=False),
    "basis": text("What the number rests on: a cited study, the clinic's own experience, or nothing.",
                  one_of(vocab.BASES)),
    "ref_id": text("For a cited claim: the page's own reference the footnote points at.", slug(), required=False),
    "footnote": text("The footnote marker as printed: `(27)`, `3`.", required=False),
    "finding_id": text("Rows stating the same finding, on one page or across pages, share it.", slug()),
    "whole_id": text("Percentages that are mutually exclusive shares of one whole share it.", slug(),
                     required=False),
    "base_claim_id": text("The count claim of the same page this number is based on.", slug(), required=False),
    "notes": text("Anything odd: wrong footnotes, hypothetical numbers, borderline inclusions.", required=False),
}, primary_key=("claim_id",), foreign_keys=(("source_id", "sources", "source_id"),
                                            ("ref_id", "references", "ref_id"),
                                            ("base_claim_id", "claims", "claim_id")))

REFERENCES = table("references", "One row per reference a page prints, pointing at the study it was found to be.", {
    "ref_id": text("`<source_id>-r<N>`.", slug(), unique=True),
    "source_id": text("The page whose reference list it is in.", slug()),
    "ref_number": text("The number the page gives it."),
    "citation_as_printed": text("The reference exactly as the page prints it.", pa.Check.str_length(min_value=1)),
    "study_id": text("The study it was found to be (two references may name one study); see studies.csv.", slug()),
    "lookup_notes": text("How the reference was matched to the study, and what differs.", required=False),
}, primary_key=("ref_id",), foreign_keys=(("source_id", "sources", "source_id"), ("study_id", "studies", "study_id")))

STUDIES = table("studies", "Each study once: the pages' cited studies and the primary studies of the literature "
                "layer, with the identifiers actually seen.", {
    "study_id": text("`<surname>-<year>` (a descriptive slug when no page showed the authors).", slug(), unique=True),
    "first_author": text("First author, as the study's record shows it.", required=False),
    "year": text("Year of publication.", pattern(r"^\d{4}$"), required=False),
    "title": text("The study's title.", required=False),
    "journal": text("Journal, volume and pages.", required=False),
    "pmid": text("PubMed id, only where one was displayed on a page seen.", pattern(PMID), required=False),
    "pmcid": text("PubMed Central id, only where displayed.", pattern(PMCID), required=False),
    "doi": text("DOI, only where displayed.", pattern(DOI), required=False),
    "design": text("The study's design as its abstract describes it.", one_of(vocab.STUDY_DESIGNS), required=False),
    "setting": text("Country, centres or data source.", required=False),
    "n_enrolled": number("Patients (or devices) enrolled, as stated.", pa.Check.ge(0), whole=True),
    "cohort_id": text("Studies reporting the same patients share it; a pooled estimate counts a cohort once.", slug()),
    "url_seen": text("The page actually read.", required=False),
    "lookup_status": text("found (abstract read), citation_only, not_found, or unidentified (its abstract read, but no "
                          "page seen showed its authors, journal and year).", one_of(vocab.LOOKUP_STATUSES)),
    "notes": text("Anything a reader should know about the record.", required=False),
}, primary_key=("study_id",))

CITATION_AUDIT = table("citation_audit", "One row per cited claim: what the study reports, and a verdict.", {
    "claim_id": text("The cited claim.", slug(), unique=True),
    "ref_id": text("The reference it cites (must be the claim's).", slug()),
    "study_reports": text("What the study's abstract reports on this point, paraphrased.", required=False),
    "study_figure": text("The study's own figure, where it gives one.", required=False),
    "study_population": text("Who the study's figure is about.", required=False),
    "verdict": text("Does the study say what the page claims (the verdicts: docs/methods.md).", one_of(vocab.VERDICTS)),
    "explanation": text("Why the verdict.", pa.Check.str_length(min_value=1)),
    "url_seen": text("The page actually read.", required=False),
    "pmid": text("PubMed id (must be the study's).", pattern(PMID), required=False),
    "doi": text("DOI (must be the study's).", pattern(DOI), required=False),
}, primary_key=("claim_id",), foreign_keys=(("claim_id", "claims", "claim_id"),
                                            ("ref_id", "references", "ref_id")))

STATEMENT_AUDIT = table("statement_audit", "Footnoted statements without a number, each checked against the "
                        "study its footnote names.", {
    "source_id": text("The page.", slug()),
    "ref_id": text("The reference the statement's footnote points at.", slug()),
    "quote": text("The statement, verbatim.", pa.Check.str_length(min_value=1)),
    "verdict": text("As in the citation audit.", one_of(vocab.VERDICTS)),
    "explanation": text("Why the verdict.", pa.Check.str_length(min_value=1)),
    "url_seen": text("The page actually read.", required=False),
    "pmid": text("PubMed id.", pattern(PMID), required=False),
    "doi": text("DOI.", pattern(DOI), required=False),
    "footnote_line": number("For a statement its footnote covers without closing it: the line of the page where "
                            "that footnote's marker is printed (empty when the marker closes the statement).",
                            pa.Check.ge(1), whole=True),
}, primary_key=("source_id", "ref_id", "quote"), foreign_keys=(("source_id", "sources", "source_id"),
                                                                  ("ref_id", "references", "ref_id")))


QUESTIONS = table("questions", "The clinical questions the pages' claims speak to, each with its population, "
                  "outcome and follow-up.", {
    "question_id": text("The question: a slug.", slug(), unique=True),
    "label": text("A short name for charts."),
    "question": text("The question in full."),
    "population": text("Who (an eligibility criterion)."),
    "intervention": text("The exposure or intervention (an eligibility criterion); an arm-by-arm question "
                         "judges each arm against its own group."),
    "outcome": text("What the proportion counts, numerator and denominator (an eligibility criterion)."),
    "followup": text("When (an eligibility criterion)."),
    "pool_by": text("How results are grouped before pooling (timepoint_group, arm, population_subgroup, all), "
                    "or not_pooled when definitions differ too much.", one_of(vocab.POOL_BY)),
    "grows_with_time": text("yes when the outcome is cumulative (it can only grow with follow-up): its results "
                            "are also drawn as one curve against time (metaregression.time_curve).",
                            one_of(vocab.YES_NO)),
    "headline_group": text("The group the summary of findings leads with.", required=False),
    "indirectness": text("Whether the evidence answers the question only indirectly (GRADE).",
                         one_of(vocab.INDIRECTNESS)),
    "notes": text("Why not pooled, or what differs between studies.", required=False),
}, primary_key=("question_id",))

CLAIM_QUESTIONS = table("claim_questions", "Which claims speak to which question, and whether each can be set "
                        "beside the pooled evidence.", {
    "claim_id": text("The claim.", slug()),
    "question_id": text("The question it speaks to.", slug()),
    "compare_with": text("The result group to compare with (a follow-up, an arm); empty: the headline group.",
                         required=False),
    "comparable": text("yes: the claim states the question's proportion; no: it speaks to the question but is "
                       "another kind of number.", one_of(vocab.YES_NO)),
    "note": text("What the claim says, or why it is not comparable.", pa.Check.str_length(min_value=1)),
}, primary_key=("claim_id", "question_id"), foreign_keys=(("claim_id", "claims", "claim_id"),
                                                          ("question_id", "questions", "question_id")))

RESULTS = table("results", "One row per number a study reports for a question, with where it was read.", {
    "result_id": text("`<study_id>--<question_id>--<k>`.", pa.Check.str_matches(r"^[a-z0-9-]+$"), unique=True),
    "study_id": text("The study.", slug()),
    "question_id": text("The question.", slug()),
    "arm": text("The arm or group (all, scs, cmm, 2nd operation, prp ...)."),
    "population_subgroup": text("all, or who the figure is about (preoperative opioid users ...).", required=False),
    "outcome_definition": text("What the study counted, paraphrased.", pa.Check.str_length(min_value=1)),
    "timepoint_text": text("The follow-up as the study gives it.", required=False),
    "timepoint_months": number("The follow-up in months (a stated time, a range's midpoint, or a mean).",
                               pa.Check.ge(0)),
    "timepoint_group": text("The follow-up group for subgroups (2y, 5y, end-of-follow-up ...).", required=False),
    "events": number("Patients with the outcome (stated or derived: see count_basis).", pa.Check.ge(0), whole=True),
    "n": number("Patients the figure is a share of.", pa.Check.gt(0), whole=True),
    "percent": number("The share, in percent, as printed.", pa.Check.in_range(0, 100), required=True),
    "ci_low": number("Lower end of its printed confidence interval (percent).", pa.Check.in_range(0, 100)),
    "ci_high": number("Upper end of its printed confidence interval (percent).", pa.Check.in_range(0, 100)),
    "count_basis": text("How the count was obtained: stated, derived_from_percent, percent_only, percent_with_ci, "
                        "kaplan_meier.", one_of(vocab.COUNT_BASES)),
    "source_location": text("abstract or full_text.", one_of(vocab.SOURCE_LOCATIONS)),
    "url_seen": text("The page where the figure was read.", pattern(URL)),
    "pmid": text("PubMed id, where shown.", pattern(PMID), required=False),
    "doi": text("DOI, where shown.", pattern(DOI), required=False),
    "flags": text("`;`-separated: percent_counts_disagree, indirect_population, ...", required=False),
    "extracted_by": text("both (two independent extractions agreed or were reconciled), e1, e2 or third_read.",
                         one_of(vocab.EXTRACTORS)),
    "notes": text("How the figure was read or derived.", required=False),
}, primary_key=("result_id",), foreign_keys=(("study_id", "studies", "study_id"),
                                             ("question_id", "questions", "question_id")))

SEARCH_LOG = table("search_log", "Every query of the literature search, per question (a log: the same query "
                   "may be run again, so it has no key).", {
    "question_id": text("The question.", slug()),
    "query": text("The query as typed.", pa.Check.str_length(min_value=1)),
    "corpus": text("Where it was searched."),
    "results_returned": number("Records the query returned.", pa.Check.ge(0), whole=True),
    "records_read": number("Records opened and read.", pa.Check.ge(0), whole=True),
    "included": text("The study_ids included from this query (`;`-separated).", required=False),
    "extractor": text("Who searched.", one_of(vocab.SEARCH_EXTRACTORS)),
    "notes": text("What was found.", required=False),
}, foreign_keys=(("question_id", "questions", "question_id"),))

SCREENING = table("screening", "Every record looked at and not included, and why (once per question).", {
    "question_id": text("The question.", slug()),
    "record": text("The record (author, year, title or identifier).", pa.Check.str_length(min_value=1)),
    "url_seen": text("Where it was seen.", required=False),
    "reason": text("Why it was excluded.", one_of(vocab.SCREENING_REASONS)),
    "extractor": text("Who screened it.", one_of(vocab.SEARCH_EXTRACTORS)),
    "notes": text("More on the reason.", required=False),
}, primary_key=("question_id", "record"), foreign_keys=(("question_id", "questions", "question_id"),))

ELIGIBILITY = table("eligibility", "Each result judged against its question's criteria and its group, one row "
                    "per criterion, reconciled from two independent readers (extraction/eligibility/).", {
    "result_id": text("The result.", pa.Check.str_matches(r"^[a-z0-9-]+$")),
    "criterion": text("population, intervention, outcome or followup.", one_of(vocab.CRITERIA)),
    "judgement": text("matches; indirect (a subgroup, a wider or different population, a neighbouring "
                      "outcome, a follow-up outside the group's window); does_not_match.", one_of(vocab.JUDGEMENTS)),
    "reason": text("The fact that decides it.", pa.Check.str_length(min_value=1)),
    "decided_by": text("agreed (both readers), or the ruling that decided (E1 ...: extraction/eligibility/"
                       "rulings.md).", pattern(vocab.DECIDED_BY_PATTERN)),
}, primary_key=("result_id", "criterion"), foreign_keys=(("result_id", "results", "result_id"),))

RISK_OF_BIAS = table("risk_of_bias", "Each study's risk of bias, item by item, with the tool fit for its design "
                     "(JBI prevalence checklist or RoB 2), reconciled from two independent readers.", {
    "study_id": text("The study.", slug()),
    "tool": text("jbi_prevalence (Munn et al. 2015) or rob2 (Sterne et al. 2019).", one_of(vocab.ROB_TOOLS)),
    "item": text("J1-J9 or D1-D5 (docs/literature.md lists them).",
                 one_of(sorted({i for items in vocab.ROB_ITEMS.values() for i in items}))),
    "answer": text("yes, no, unclear, not_applicable (JBI); low, some_concerns, high (RoB 2).",
                   one_of(sorted({a for answers in vocab.ROB_ANSWERS.values() for a in answers}))),
    "quote": text("The words of the abstract that support the answer, verbatim.", required=False),
    "decided_by": text("agreed, or the ruling that decided (extraction/risk_of_bias/rulings.md).",
                       pattern(vocab.DECIDED_BY_PATTERN)),
}, primary_key=("study_id", "item"), foreign_keys=(("study_id", "studies", "study_id"),))

REVIEWS = table("reviews", "Published systematic reviews on each question, and their own pooled figure, to set "
                "beside this project's estimate.", {
    "review_id": text("`<surname>-<year>-review` (suffix -a, -b for a second figure).", slug(), unique=True),
    "question_id": text("The question.", slug()),
    "citation": text("First author, year, journal.", pa.Check.str_length(min_value=1)),
    "pmid": text("PubMed id, where shown.", pattern(PMID), required=False),
    "doi": text("DOI, where shown.", pattern(DOI), required=False),
    "url_seen": text("The page read.", pattern(URL)),
    "pooled_outcome": text("What the review pooled.", required=False),
    "compare_group": text("The group of this project's question its figure is set beside; empty when it gives "
                          "no share to compare (an odds ratio, ranges only).", required=False),
    "population": text("Who.", required=False),
    "followup": text("When.", required=False),
    "k": number("Studies pooled.", pa.Check.ge(1), whole=True),
    "n_patients": number("Patients pooled.", pa.Check.ge(1), whole=True),
    "estimate": number("Its pooled share, percent.", pa.Check.in_range(0, 100)),
    "ci_low": number("Lower end of its interval, percent.", pa.Check.in_range(0, 100)),
    "ci_high": number("Upper end of its interval, percent.", pa.Check.in_range(0, 100)),
    "arithmetic_note": text("Where the review's own numbers do not add up.", required=False),
    "difference_reason": text("Why its figure differs from this project's, where it does.", required=False),
}, primary_key=("review_id",), foreign_keys=(("question_id", "questions", "question_id"),))

REFERENCE_REVIEWS = table("reference_reviews", "The primary studies each reference review includes, and where each "
                          "stands here: the measure of the search's sensitivity (a listed study once per review; "
                          "a review whose list was not visible has a row without a study).", {
    "review_id": text("The review (reviews.csv).", slug()),
    "question_id": text("The question.", slug()),
    "included_study": text("The included study as the review names it (author year); empty when the review's "
                           "list was not visible in the stored copies.", required=False),
    "study_id": text("The study here, when studies.csv has it.", slug(), required=False),
    "status": text("in_studies, in_screening, new_result, new_excluded, not_found or not_listed.",
                   one_of(vocab.REVIEW_STUDY_STATUSES)),
    "note": text("Where it was seen, or why it is out.", required=False),
}, unique=("review_id", "included_study"),
   foreign_keys=(("review_id", "reviews", "review_id"), ("question_id", "questions", "question_id"),
                 ("study_id", "studies", "study_id")))


NUMBER_EXCLUSIONS = table("number_exclusions", "Every number on a page that is not a claim, by position, with "
                          "the reason (the number ledger: src/fbss_evidence/ledger.py).", {
    "source_id": text("The page.", slug()),
    "line": number("The line of the page's text the number is on.", pa.Check.ge(1), required=True, whole=True),
    "column": number("Its column (1 = the first character of the line).", pa.Check.ge(1), required=True,
                     whole=True),
    "text": text("The number exactly as printed there.", pa.Check.str_length(min_value=1)),
    "reason": text("Why it is not a claim.", one_of(vocab.EXCLUSION_REASONS)),
    "note": text("Anything more.", required=False),
}, primary_key=("source_id", "line", "column"), foreign_keys=(("source_id", "sources", "source_id"),))


# Every table, by name: the rules that hold for all of them (keys, counts, references) read it.
TABLES = {s.name: s for s in (SOURCES, CLAIMS, REFERENCES, STUDIES, CITATION_AUDIT, STATEMENT_AUDIT, QUESTIONS,
                              CLAIM_QUESTIONS, RESULTS, SEARCH_LOG, SCREENING, ELIGIBILITY, RISK_OF_BIAS, REVIEWS,
                              REFERENCE_REVIEWS, NUMBER_EXCLUSIONS)}


def columns(schema: pa.DataFrameSchema) -> tuple[str, ...]:
    """Every column of the table, in file order: each must be in the file's header."""
    return tuple(schema.columns)


def numeric_columns(schema: pa.DataFrameSchema) -> tuple[str, ...]:
    """The columns the validator parses from text into numbers."""
    return tuple(name for name, col in schema.columns.items() if str(col.dtype) == "float64")


def allowed_values(schema: pa.DataFrameSchema, column: str) -> tuple[str, ...]:
    """The vocabulary of a column, from its isin check (empty when it has none)."""
    for check in schema.columns[column].checks:
        values = (check.statistics or {}).get("allowed_values")
        if values is not None:
            return tuple(values)
    return ()
