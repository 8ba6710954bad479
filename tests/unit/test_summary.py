"""fbss_evidence.summary: the report's opening sentences, every number read from the tables."""

from __future__ import annotations

import pandas as pd

from fbss_evidence.summary import plain_summary

SOF = pd.DataFrame({"question_id": ["a", "a", "b", "c"], "certainty": ["low", "very low", "very low", "not pooled"]})
HEADLINE = pd.DataFrame(
    {
        "value_text": ["30%", "up to 40%", "9%"],
        "question": ["A", "B", "A"],
        "placement": ["above", "not_comparable", "inside"],
    }
)
AUDIT = pd.DataFrame(
    {
        "source": ["P", "Q"],
        "supported": [3, 1],
        "figure differs": [1, 0],
        "misattributed": [0, 2],
        "unverifiable": [2, 2],
        "clinic experience": [5, 0],
        "uncited": [1, 1],
    }
)


def test_without_tables_only_the_counts_of_claims_and_pages():
    assert plain_summary(106, 5) == [
        "The 5 clinic web pages about failed back surgery syndrome in the data make 106 "
        "quantitative claims. This report sets each beside the evidence."
    ]


def test_every_number_comes_from_the_tables():
    _, pooled, headline, audit = plain_summary(10, 2, SOF, HEADLINE, AUDIT)
    assert pooled == (
        "For 2 of the 3 questions the pages' numbers speak to, the primary studies that answer them "
        "directly could be pooled, in 3 groups (by follow-up or comparison), with 2 very low, 1 low "
        "certainty."
    )
    assert headline == (
        "Of the pages' 3 headline numbers that can be set beside the studies, 1 fall outside the "
        "interval of the pooled evidence: 30% (A)."
    )
    assert audit.startswith(
        "Of the 11 numbers the pages attribute to a study, the study supports 4; for 3 it says something else"
    )
    assert audit.endswith(
        "and 4 cannot be checked from the abstract. 5 more rest on the clinic's own experience and 2 on nothing cited."
    )


def test_a_change_in_a_table_changes_the_summary():
    changed = HEADLINE.assign(placement="inside")
    assert "0 fall outside the interval of the pooled evidence." in plain_summary(1, 1, headline=changed)[1]


def test_only_the_primary_analysis_counts_and_the_verdicts_are_counted():
    both = pd.concat([SOF.assign(analysis="primary"), SOF.assign(analysis="sensitivity", certainty="low")])
    verdicts = pd.DataFrame({"verdict": ["supported", "supported", "overstated", "not_checkable"]})
    _, pooled, verdict = plain_summary(10, 2, both, verdicts=verdicts)
    assert "in 3 groups" in pooled
    assert verdict.startswith("Each claim has one verdict: 2 supported, 1 overstated, 0 understated")
    assert "1 not checkable" in verdict
