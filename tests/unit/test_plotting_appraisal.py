"""The appraisal charts, tested through their artists: the PRISMA flow, the reviews beside the estimates,
the scorecards, and the one diamond primitive every forest-like chart uses."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from fbss_evidence import verdicts
from fbss_evidence.plotting import forest, literature, prisma, scorecard


def _gids(ax, gid):
    return [a for a in ax.findobj() if getattr(a, "get_gid", lambda: None)() == gid]


def test_the_flow_diagram_has_its_boxes_and_arrows_and_never_subtracts_studies_from_records():
    flow = dict(
        queries=3,
        identified=30,
        not_read=10,
        read=20,
        excluded=8,
        not_retrieved=2,
        included_studies=4,
        included_results=6,
        other_methods_studies=1,
    )
    ax = prisma.flow_diagram(flow, pd.Series({"wrong_population": 5, "other": 3}), title="t")
    texts = [t.get_text() for t in _gids(ax, prisma.GID_BOX)]
    assert len(texts) == 6 and len(_gids(ax, prisma.GID_ARROW)) == 5
    assert any("(n = 30)" in t for t in texts) and any("wrong population: 5" in t for t in texts)
    assert any("not retrieved" in t and "(n = 2)" in t for t in texts)
    assert any("(n = 4)" in t and "1 identified by other" in t for t in texts)
    assert not any("derived" in t for t in texts)


def test_a_hollow_diamond_is_white_inside_and_keeps_its_gid():
    _, ax = plt.subplots()
    solid = forest.diamond(ax, 10, 20, 30, 0)
    hollow = forest.diamond(ax, 10, 20, 30, 1, hollow=True, gid="other")
    assert solid.get_facecolor()[:3] != (1.0, 1.0, 1.0) and hollow.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    assert [p[0] for p in solid.get_xy()[:4]] == [10, 20, 30, 20] and hollow.get_gid() == "other"
    assert forest.prediction_line(ax, float("nan"), 3, 0) is None


def test_the_review_comparison_draws_each_review_and_each_estimate():
    table = pd.DataFrame(
        [
            dict(
                question_id="q",
                group="5y",
                citation="A 2020, J",
                followup="5 y",
                review_estimate=8.0,
                review_ci_low=6.0,
                review_ci_high=10.0,
                analysis="primary",
                estimate=15.0,
                ci_low=12.0,
                ci_high=18.0,
                apart=True,
            ),
            dict(
                question_id="q",
                group="all",
                citation="B 2021, J",
                followup="",
                review_estimate=30.0,
                review_ci_low=float("nan"),
                review_ci_high=float("nan"),
                analysis="sensitivity",
                estimate=35.0,
                ci_low=25.0,
                ci_high=45.0,
                apart=False,
            ),
        ]
    )
    ax = literature.review_comparison(table, title="t")
    assert len(_gids(ax, literature.GID_REVIEW)) == 2
    assert len(_gids(ax, literature.GID_DIAMOND)) == 1 and len(_gids(ax, literature.GID_SENSITIVITY)) == 1
    assert ax.get_yticklabels()[0].get_text().endswith("*")


def test_scorecards_stack_one_segment_per_page_and_verdict():
    rows = pd.DataFrame(dict(source=["P1", "P1", "P2"], verdict=["supported", "overstated", "unsupported"]))
    table = verdicts.scorecard(rows)
    ax = scorecard.scorecards(table, title="t")
    segments = _gids(ax, scorecard.GID_SEGMENT)
    assert len(segments) == 2 * len(verdicts.CLAIM_VERDICTS)
    assert sum(s.get_width() for s in segments) == 3
