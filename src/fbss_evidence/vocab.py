"""Controlled vocabularies of the claims, references and audit tables.

Adding a value here is the one place to widen a vocabulary; the README's schema
table lists them.
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

LOOKUP_STATUSES = ("found", "citation_only", "not_found")

VERDICTS = (
    "supported",
    "figure_differs",
    "population_differs",
    "misattributed",
    "not_in_abstract",
    "not_found",
)

# The formats a notebook may save its figures in (parameter fig_format).
FIGURE_FORMATS = ("png", "svg", "pdf")
