"""The verdicts as schema.org ClaimReview records (JSON-LD), the format fact-checkers publish.

Each record reviews one claim: `claimReviewed` is the page's verbatim quote, `itemReviewed` a Claim
with the page's publisher (and its address where the sources table records one), `reviewRating` the
verdict (its label as `alternateName`, a number from 1 to 5 with its scale, and the reason as
`ratingExplanation`), `url` the claim's anchor on the published report, `datePublished` and `author`.
docs/methods.md says how to publish the file.
"""
from __future__ import annotations

import json

import pandas as pd

from . import verdicts as rules

CONTEXT = "https://schema.org"
REQUIRED = ("@type", "claimReviewed", "itemReviewed", "reviewRating", "url", "datePublished", "author")


def records(table: pd.DataFrame, sources: pd.DataFrame, *, site_url: str, date_published: str,
            author: str = "fbss-evidence") -> list[dict]:
    """One ClaimReview per row of verdicts.claim_verdicts(...)."""
    pages = sources.set_index("source_id")
    base = site_url.rstrip("/") + "/"
    out = []
    for row in table.itertuples(index=False):
        page = pages.loc[row.source_id]
        appearance = {"@type": "CreativeWork", "headline": page["title"]}
        if isinstance(page.get("url"), str) and page["url"]:
            appearance["url"] = page["url"]
        out.append({
            "@type": "ClaimReview",
            "url": f"{base}verdicts.html#{row.claim_id}",
            "datePublished": date_published,
            "author": {"@type": "Organization", "name": author},
            "claimReviewed": row.quote,
            "itemReviewed": {"@type": "Claim",
                             "author": {"@type": "Organization", "name": page["publisher"]},
                             "appearance": appearance},
            "reviewRating": {"@type": "Rating", "alternateName": row.verdict.replace("_", " "),
                             "ratingValue": rules.RATING[row.verdict], "bestRating": rules.BEST_RATING,
                             "worstRating": rules.WORST_RATING, "ratingExplanation": row.reason},
        })
    return out


def dumps(reviews: list[dict]) -> str:
    """The records as one JSON-LD document (a @graph under the schema.org context), stable byte for byte."""
    return json.dumps({"@context": CONTEXT, "@graph": reviews}, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
