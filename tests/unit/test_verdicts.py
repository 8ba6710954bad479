"""The verdict rules (docs/methods.md, "Verdicts"): the evidence verdict for every kind of claim, the claim
verdict for every combination of its inputs, the reasons, the scorecards and the ClaimReview export."""

from __future__ import annotations

import itertools
import json
import math
from types import SimpleNamespace

import jsonschema
import pandas as pd
import pytest

from fbss_evidence import claimreview, verdicts, vocab


def pooled(low, high, estimate=None, pi=(math.nan, math.nan), studies=()):
    return SimpleNamespace(
        ci_low=low,
        ci_high=high,
        estimate=estimate if estimate is not None else (low + high) / 2,
        pi_low=pi[0],
        pi_high=pi[1],
        studies=pd.DataFrame({"proportion": list(studies)}),
    )


def claim(value=None, bound="exact", low=None, high=None):
    return dict(value=value, bound=bound, value_low=low, value_high=high)


@pytest.mark.parametrize(
    "the_claim, evidence, verdict, gap",
    [
        (claim(20), pooled(10, 30), "consistent", 0),
        (claim(35), pooled(10, 30), "higher_than_evidence", 5),
        (claim(4), pooled(10, 30), "lower_than_evidence", 6),
        (claim(32, "approx"), pooled(10, 30), "consistent", 0),  # about 32: 28.8-35.2 meets 30
        (claim(40, "approx"), pooled(10, 30), "higher_than_evidence", 6),  # about 40: from 36
        (claim(bound="range", low=25, high=40), pooled(10, 30), "consistent", 0),
        (claim(bound="range", low=31, high=40), pooled(10, 30), "higher_than_evidence", 1),
        (claim(40, "upper"), pooled(10, 30, studies=(12, 45)), "consistent", 0),  # up to 40: a study reaches 45
        (claim(50, "upper"), pooled(10, 30, studies=(12, 45)), "higher_than_evidence", 5),
        (claim(50, "upper"), pooled(10, 30, pi=(1, 80)), "higher_than_evidence", 20),  # never the prediction interval
        (claim(5, "upper"), pooled(10, 30), "lower_than_evidence", 5),
        (claim(20, "lower"), pooled(10, 30), "consistent", 0),
        (claim(35, "lower"), pooled(10, 30), "higher_than_evidence", 5),
        (claim(5, "lower"), pooled(10, 30), "consistent", 0),
    ],
)
def test_the_evidence_verdict_reads_each_kind_of_claim_by_what_it_means(the_claim, evidence, verdict, gap):
    found = verdicts.evidence_verdict(the_claim, evidence)
    assert found["evidence_verdict"] == verdict and found["gap"] == pytest.approx(gap)


def test_an_interval_wider_than_the_threshold_is_too_uncertain_to_judge():
    t = verdicts.WIDTH_THRESHOLD
    assert (
        verdicts.evidence_verdict(claim(90), pooled(10, 10 + t + 0.1))["evidence_verdict"] == "evidence_too_uncertain"
    )
    assert verdicts.evidence_verdict(claim(90), pooled(10, 10 + t))["evidence_verdict"] == "higher_than_evidence"
    assert verdicts.evidence_verdict(claim(20), None)["evidence_verdict"] == "no_comparable_evidence"


def test_no_verdict_reads_consistent_against_an_interval_wider_than_the_threshold():
    for low, width in itertools.product(range(0, 60, 7), range(0, 60, 3)):
        for value in range(0, 101, 5):
            found = verdicts.evidence_verdict(claim(value), pooled(low, min(100, low + width)))
            if found["evidence_verdict"] == "consistent":
                assert found["width"] <= verdicts.WIDTH_THRESHOLD


def test_robustness_says_when_the_verdict_depends_on_the_method():
    steady = verdicts.robustness(claim(20), {"REML": pooled(10, 30), "DL": pooled(12, 28)})
    assert not steady["depends_on_method"] and steady["by_method"] == "REML: consistent; DL: consistent"
    shaky = verdicts.robustness(claim(29), {"REML": pooled(10, 28), "HK": pooled(10, 35)})
    assert shaky["depends_on_method"]


AUDITS = (None, *vocab.VERDICTS)
EVIDENCE = tuple(verdicts.EVIDENCE_VERDICTS)


def expected(basis, audit, agrees, evidence):
    """The rules of docs/methods.md, written out once more as a table a reader can check."""
    if audit in ("misattributed", "population_differs"):
        return "misattributed"
    if audit in ("contradicted", "figure_differs") or agrees is False:
        return "contradicted"
    if evidence == "higher_than_evidence":
        return "overstated"
    if evidence == "lower_than_evidence":
        return "understated"
    if evidence == "consistent" or audit == "supported":
        return "supported"
    if basis == "clinic_experience" or audit == "not_found":
        return "not_checkable"
    return "unsupported"


@pytest.mark.parametrize(
    "basis, audit, agrees, evidence", list(itertools.product(vocab.BASES, AUDITS, (None, True, False), EVIDENCE))
)
def test_every_combination_has_its_claim_verdict(basis, audit, agrees, evidence):
    found = verdicts.claim_verdict(basis, audit, agrees, evidence)
    assert found in verdicts.CLAIM_VERDICTS and found == expected(basis, audit, agrees, evidence)


def test_the_docs_define_every_verdict():
    from fbss_evidence import config

    text = (config.ROOT / "docs" / "methods.md").read_text(encoding="utf-8")
    for label in (*verdicts.CLAIM_VERDICTS, *verdicts.EVIDENCE_VERDICTS):
        assert f"`{label}`" in text, label
    assert f"{verdicts.WIDTH_THRESHOLD:g} percentage points" in text


# -- the real claims ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_verdicts():
    from fbss_evidence import evidence
    from fbss_evidence.dataset import load_dataset

    data = load_dataset()
    return data, verdicts.claim_verdicts(data, evidence.enrich(data))


def test_every_claim_has_one_verdict_and_a_reason(real_verdicts):
    data, found = real_verdicts
    assert len(found) == len(data.claims) and found["claim_id"].is_unique
    assert found["verdict"].isin(list(verdicts.CLAIM_VERDICTS)).all()
    assert found["reason"].str.len().gt(20).all()
    assert found["reason"].apply(lambda r: "nan" not in r.split()).all()


def test_the_91_percent_is_set_beside_preoperative_users(real_verdicts):
    _, found = real_verdicts
    row = found.set_index("claim_id").loc["centeno-schultz-fbss-15"]
    assert row["group"] == "preoperative opioid users"
    assert row["verdict"] == "misattributed"


def test_scorecards_count_every_claim_once(real_verdicts):
    data, found = real_verdicts
    cards = verdicts.scorecard(found)
    assert cards["claims"].sum() == len(data.claims)
    assert list(cards.columns) == ["page", *verdicts.CLAIM_VERDICTS, "claims"]


# A JSON Schema of what a ClaimReview record must carry (schema.org ClaimReview, as fact-checkers
# publish it): the properties the export promises, with their types.
CLAIM_REVIEW_SCHEMA = {
    "type": "object",
    "required": ["@context", "@graph"],
    "properties": {
        "@context": {"const": "https://schema.org"},
        "@graph": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": list(claimreview.REQUIRED),
                "properties": {
                    "@type": {"const": "ClaimReview"},
                    "url": {"type": "string", "pattern": "^https?://"},
                    "datePublished": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                    "author": {"type": "object", "required": ["@type", "name"]},
                    "claimReviewed": {"type": "string", "minLength": 1},
                    "itemReviewed": {
                        "type": "object",
                        "required": ["@type", "author"],
                        "properties": {
                            "@type": {"const": "Claim"},
                            "author": {"type": "object", "required": ["@type", "name"]},
                        },
                    },
                    "reviewRating": {
                        "type": "object",
                        "required": ["@type", "alternateName", "ratingValue", "bestRating", "worstRating"],
                        "properties": {"ratingValue": {"type": "integer", "minimum": 1, "maximum": 5}},
                    },
                },
            },
        },
    },
}


def test_the_claim_reviews_carry_every_required_property_and_parse(real_verdicts):
    data, found = real_verdicts
    text = claimreview.dumps(
        claimreview.records(found, data.sources, site_url="https://x.example/report", date_published="2026-12-07")
    )
    document = json.loads(text)
    jsonschema.validate(document, CLAIM_REVIEW_SCHEMA)
    quotes = dict(zip(data.claims["claim_id"], data.claims["quote"]))
    for record, claim_id in zip(document["@graph"], found["claim_id"]):
        assert record["claimReviewed"] == quotes[claim_id]  # the verbatim quote
        assert record["url"] == f"https://x.example/report/verdicts.html#{claim_id}"
    assert text == claimreview.dumps(
        claimreview.records(found, data.sources, site_url="https://x.example/report", date_published="2026-12-07")
    )


def test_a_page_address_reaches_the_claim_when_the_sources_table_has_one(real_verdicts):
    data, found = real_verdicts
    sources = data.sources.assign(url="https://clinic.example/page")
    record = claimreview.records(found.head(1), sources, site_url="https://x.example", date_published="2026-12-07")[0]
    assert record["itemReviewed"]["appearance"]["url"] == "https://clinic.example/page"
