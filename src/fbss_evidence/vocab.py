"""Controlled vocabularies of the claims, references and audit tables.

Adding a value here is the one place to widen a vocabulary; `make datapackage` writes it
into docs/data-dictionary.md, and tests/unit/test_docs.py keeps the tables of meanings in
docs/ and data/README.md in step.
"""

TOPICS = (
    "failure_persistent_pain",
    "failure_cause",
    "recurrence",
    "reoperation_revision",
    "risk_factor",
    "treatment_outcome",
    "spinal_cord_stimulation",
    "intrathecal_pump",
    "opioids",
    "muscle_degeneration",
    "imaging_diagnosis",
    "surgical_volume",
    "adjacent_segment",
    "treatment_protocol",
    "background",
)

# What kind of number a claim is; comparison charts draw rates only.
MEASURES = (
    "rate",            # share of a group with an outcome (failure, success, recurrence, explant reason)
    "characteristic",  # describes who was studied (68% women, 86% had prior surgery)
    "threshold",       # defines an outcome or risk ("at least 50%", "more than 5 years")
    "count",           # people, studies, surgeries, centres
    "change",          # a relative change ("increased by 170.9%")
    "duration",        # follow-up, time to an event, time window
    "frequency",       # sessions per week or month
    "dose",
    "date",
    "other",           # hypothetical or anatomical numbers
)

BASES = ("cited_study", "clinic_experience", "uncited")

BOUNDS = ("exact", "approx", "upper", "lower", "range")

UNITS = (
    "percent",
    "percent_change",
    "count",
    "per_day",
    "per_week",
    "per_month",
    "years",
    "months",
    "weeks",
    "days",
    "hours",
    "minutes",
    "mg_per_day",
    "calendar_year",
)

# Units whose values are shares of a whole and so must lie in 0-100.
PERCENT_UNITS = ("percent",)

STUDY_DESIGNS = (
    "systematic review",
    "RCT",
    "prospective cohort",
    "retrospective cohort",
    "retrospective chart review",
    "registry/database study",
    "cross-sectional",
    "case series",
    "case report",
    "narrative review",
    "biomechanical model",
    "letter",
    "textbook",
    "other",
)

# unidentified: its abstract read, but no page showed its authors, journal and year.
LOOKUP_STATUSES = ("found", "citation_only", "not_found", "unidentified")

# -- the literature layer --------------------------------------------------------

# How a result's count was obtained.
COUNT_BASES = (
    "stated",                # events and n printed by the study
    "derived_from_percent",  # events = round(percent x n / 100), both printed
    "percent_only",          # a percent without counts
    "percent_with_ci",       # a percent with its confidence interval, no counts
    "kaplan_meier",          # a cumulative (time-to-event) estimate at a stated time
)
SOURCE_LOCATIONS = ("abstract", "full_text")
RESULT_FLAGS = (
    "percent_counts_disagree",  # the printed percent is not events/n within rounding
    "page_figures_disagree",    # two figures of the same page contradict each other
    "denominator_unclear",
    "indirect_population",      # the population is not quite the question's
    "indirect_outcome",         # the outcome is not quite the question's
    "as_treated",
    "crossover",
    "success_not_failure",      # a share with a good outcome, where the question asks about a poor one
)
EXTRACTORS = ("both", "e1", "e2", "third_read", "verified")  # verified: one extraction, re-read by a second reviewer
SCREENING_REASONS = (
    "wrong_population", "wrong_outcome", "wrong_intervention", "no_extractable_figure",
    "duplicate_cohort", "review_not_primary", "abstract_without_results",
    "not_found_in_stored_copies", "secondary_only", "other",
)
SEARCH_EXTRACTORS = ("e1", "e2", "both", "supp", "third_read", "reviews")  # reviews: the reference-review pass
# How a question's results are grouped before pooling: by follow-up, by arm, by population,
# all together, or not pooled at all (definitions too different).
POOL_BY = ("timepoint_group", "arm", "population_subgroup", "all", "not_pooled")
INDIRECTNESS = ("none", "serious")
YES_NO = ("yes", "no")

VERDICTS = (
    "supported",
    "contradicted",  # the study reports the opposite of what the page says it found
    "figure_differs",
    "population_differs",
    "misattributed",
    "not_in_abstract",
    "not_found",
)

# The formats a notebook may save its figures in (parameter fig_format).
FIGURE_FORMATS = ("png", "svg", "pdf")

# Why a number on a page is not a claim (data/number_exclusions.csv).
EXCLUSION_REASONS = (
    "footnote_marker",      # a marker the ledger's rule cannot see ("ABOUT 15% 4")
    "phone_or_address",     # phone, fax, street number, postcode, "911"
    "spinal_level",         # L4-L5, S1, "L 4/5"
    "bibliographic",        # a year, volume or page of a citation in the text ("a 2015 study")
    "ordinal_or_article",   # a number word that counts nothing: "the first", "one of", "no one", "once it heals"
    "descriptive_count",    # a count of things, not of patients or outcomes: "two vertebrae", "three groups"
    "vague_quantifier",     # "all of these", "every day"
    "restated_elsewhere",   # the same number in a heading or caption repeating a claimed sentence
    "date_or_name",         # a calendar date, a product or programme name ("Regenexx SD")
    "list_numbering",       # "1." of a numbered list
    "page_furniture",       # navigation, forms and related-article links: "First Name", "9 Ways to ..."
    "hypothetical",         # an illustration, not a claim about patients
    "other",                # say why in the note
)

# Eligibility of a result for its question and group (data/literature/eligibility.csv).
CRITERIA = ("population", "intervention", "outcome", "followup")
JUDGEMENTS = ("matches", "indirect", "does_not_match")
# How a reconciled judgement was reached: both readers agreed, or a written ruling decided.
DECIDED_BY_PATTERN = r"^(agreed|E\d+|R\d+)$"

# Risk of bias (data/literature/risk_of_bias.csv): the tool fit for the design and its items.
ROB_TOOLS = ("jbi_prevalence", "rob2")
ROB_ITEMS = {"jbi_prevalence": tuple(f"J{i}" for i in range(1, 10)), "rob2": tuple(f"D{i}" for i in range(1, 6))}
ROB_ANSWERS = {"jbi_prevalence": ("yes", "no", "unclear", "not_applicable"), "rob2": ("low", "some_concerns", "high")}
ROB_OVERALL = ("low", "some_concerns", "high")
REVIEW_STUDY_STATUSES = ("in_studies", "in_screening", "new_result", "new_excluded", "not_found", "not_listed")
