"""The pages' claims drawn against the primary studies: one question's forest, and the overview.

Both draw what fbss_evidence.literature computed; nothing is recomputed here except
marker sizes and positions.
"""
from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from . import forest
from .style import BASIS_STYLE, POOLED_COLOUR, STUDY_COLOUR

GID_STUDY = "study"
GID_STUDY_NOT_POOLED = "study-not-pooled"
GID_STUDY_CI = "study-ci"
GID_DIAMOND = forest.GID_DIAMOND
GID_SENSITIVITY = "sensitivity-diamond"
GID_PREDICTION = forest.GID_PREDICTION
GID_CLAIM = "claim"
GID_COUNTS = "counts"
LABEL_WIDTH = 60
_MIN_AREA, _MAX_AREA = 14.0, 170.0


def _area(weight: float, heaviest: float) -> float:
    return _MIN_AREA + (_MAX_AREA - _MIN_AREA) * weight / heaviest if heaviest > 0 else _MIN_AREA


def _counts_text(row) -> str:
    if pd.isna(row["pool_n"]):
        return f"{row['percent']:g}%, n not given"
    mark = "" if row["count_note"] == "stated" else " (derived)"
    return f"{int(row['pool_events']):,}/{int(row['pool_n']):,}{mark}"


# A one-sided bound points along the share axis: "up to" towards less, "more than" towards more.
BOUND_MARKERS = {"x": {"upper": "<", "lower": ">"}, "y": {"upper": "v", "lower": "^"}}


def draw_claim(ax: Axes, claim, at: float, *, share_axis: str = "x", zorder: int = 4) -> None:
    """The one way a page's claim is drawn, on every chart that sets claims beside evidence: a marker
    coded by basis (filled when exact, hollow for 'about' and bounds, a triangle pointing along the share
    axis for a one-sided bound), a thick bar for a range. The share is on `share_axis`; `at` is the
    other coordinate (a row, or a follow-up time)."""
    colour, marker, _ = BASIS_STYLE[claim["basis"]]

    def xy(shares):
        return (shares, [at] * len(shares)) if share_axis == "x" else ([at] * len(shares), shares)

    if claim["bound"] == "range":
        (line,) = ax.plot(*xy([claim["value_low"], claim["value_high"]]), color=colour, linewidth=6,
                          solid_capstyle="butt", zorder=zorder)
        line.set_gid(GID_CLAIM)
        return
    face = colour if claim["bound"] == "exact" else "white"
    shape = BOUND_MARKERS[share_axis].get(claim["bound"], marker)
    (point,) = ax.plot(*xy([claim["value"]]), marker=shape, markersize=9, color=colour, markerfacecolor=face,
                       markeredgewidth=1.8, linestyle="none", zorder=zorder)
    point.set_gid(GID_CLAIM)


def evidence_forest(result, claims: pd.DataFrame, *, title: str, sensitivity=None, ax: Axes | None = None) -> Axes:
    """One question: every study result (pooled ones as squares sized by weight, the others hollow),
    the random-effects diamond and prediction interval of each pooled group (the primary analysis),
    the sensitivity analysis's estimate as a hollow diamond where it differs (`sensitivity`: the
    synthesis with the indirect results too), and the pages' comparable claims of that group as markers
    coded by basis, with the cited study's own figure beside them.

    `claims`: the linked claims (literature.linked_claims) with a `group` column (literature.place_claims).
    """
    rows = result.rows
    blocks = []
    extra = {} if sensitivity is None else {
        g: p for g, p in sensitivity.pooled.items()
        if g not in result.pooled or p.k != result.pooled[g].k}
    for group in result.groups:
        studies = rows[rows["group"] == group]
        here = claims[(claims["group"] == group) & (claims["comparable"] == "yes")] if len(claims) else claims
        blocks.append((group, studies, here))
    n_rows = sum(len(s) + len(c) + 2 + (group in result.pooled) + (group in extra) for group, s, c in blocks)
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 1.6 + 0.36 * max(n_rows, 3)))
    labels, y = [], 0.0
    ticks = []
    right = blended_transform_factory(ax.transAxes, ax.transData)
    for group, studies, here in blocks:
        kind = {"timepoint_group": "follow-up", "population_subgroup": "population"}.get(
            result.question["pool_by"], result.question["pool_by"])
        header = f"{kind}: {group}" if group != "all" else "all studies"
        ax.text(-0.01, y, header, transform=right, ha="right", va="center", fontweight="bold", fontsize=9)
        y += 1
        pooled = result.pooled.get(group)
        heaviest = float(pooled.studies["weight"].max()) if pooled is not None else 0.0
        weight_of = dict(zip(pooled.studies["label"], pooled.studies["weight"])) if pooled is not None else {}
        in_pool = set(result.pooled_rows[group]["result_id"]) if group in result.pooled_rows else set()
        for _, row in studies.iterrows():
            pooled_here = row["result_id"] in in_pool
            if pd.notna(row["ci_low"]):
                whisker = ax.hlines(y, row["ci_low"], row["ci_high"], colors=[STUDY_COLOUR if pooled_here else "0.55"],
                                    linewidth=1.2)
                whisker.set_gid(GID_STUDY_CI)
            if pooled_here:
                size = math.sqrt(_area(weight_of.get(row["study"], 0.0), heaviest))
                (m,) = ax.plot([row["percent"] if pd.isna(row["pool_n"]) else 100 * row["pool_events"] / row["pool_n"]],
                               [y], marker="s", markersize=size, color=STUDY_COLOUR, linestyle="none", zorder=3)
                m.set_gid(GID_STUDY)
            else:
                (m,) = ax.plot([row["percent"]], [y], marker="s", markersize=6, color="0.45",
                               markerfacecolor="white", linestyle="none", zorder=3)
                m.set_gid(GID_STUDY_NOT_POOLED)
            text = ax.text(1.01, y, _counts_text(row), transform=right, ha="left", va="center", fontsize=8)
            text.set_gid(GID_COUNTS)
            label = f"{row['study']} ({row['design'] if isinstance(row['design'], str) else 'design unknown'})"
            if not pooled_here:
                label += f" - not pooled: {str(row['reason_code']).replace('_', ' ')}"
            elif row.get("eligibility") == "indirect":
                label += " - indirect"
            if row.get("complemented"):
                label += " [100% - success]"
            ticks.append(y)
            labels.append(textwrap.shorten(label, LABEL_WIDTH + 12, placeholder="..."))
            y += 1
        if pooled is not None:
            h = 0.35
            forest.diamond(ax, pooled.ci_low, pooled.estimate, pooled.ci_high, y, half_height=h)
            forest.prediction_line(ax, pooled.pi_low, pooled.pi_high, y + h + 0.15)
            method = pooled.method + (", HK" if pooled.hartung_knapp else "")
            ax.text(1.01, y, f"{pooled.estimate:.1f}% ({pooled.ci_low:.1f}-{pooled.ci_high:.1f})",
                    transform=right, ha="left", va="center", fontsize=8, fontweight="bold")
            ticks.append(y)
            labels.append(f"Pooled, {method} (k={pooled.k}; I\u00b2={pooled.i2:.0f}%)")
            y += 1
        if group in extra:
            other = extra[group]
            forest.diamond(ax, other.ci_low, other.estimate, other.ci_high, y, hollow=True, half_height=0.3,
                           gid=GID_SENSITIVITY)
            ax.text(1.01, y, f"{other.estimate:.1f}% ({other.ci_low:.1f}-{other.ci_high:.1f})",
                    transform=right, ha="left", va="center", fontsize=8)
            ticks.append(y)
            labels.append(f"Sensitivity, with indirect results (k={other.k}; I\u00b2={other.i2:.0f}%)")
            y += 1
        for _, claim in here.iterrows():
            draw_claim(ax, claim, y)
            figure = claim.get("study_figure")
            beside = f"cited study: {figure}" if isinstance(figure, str) and figure else \
                {"cited_study": "cited study: no figure", "clinic_experience": "no study",
                 "uncited": "no source"}[claim["basis"]]
            ax.text(1.01, y, textwrap.shorten(beside, 40, placeholder="..."), transform=right, ha="left",
                    va="center", fontsize=8, color="0.3")
            ticks.append(y)
            labels.append(textwrap.shorten(f"Page: {claim['source']} \u2014 {claim['value_text']}",
                                           LABEL_WIDTH + 12, placeholder="..."))
            y += 1
        y += 0.6
    ax.text(1.01, -1.0, "events / n", transform=right, ha="left", va="center", fontsize=8, fontweight="bold")
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_ylim(y - 0.4, -1.0)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of patients (%)")
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    ax.legend(handles=_legend(claims, bool(extra)), loc="upper left", bbox_to_anchor=(1.22, 1.0), fontsize=8,
              frameon=False)
    return ax


def _legend(claims: pd.DataFrame, sensitivity: bool = False) -> list:
    handles = [Line2D([], [], marker="s", color=STUDY_COLOUR, linestyle="none", label="study (area: weight)"),
               Line2D([], [], marker="s", color="0.45", markerfacecolor="white", linestyle="none",
                      label="study not pooled (why: see the table)"),
               Patch(color=POOLED_COLOUR, label="pooled estimate (primary), 95% CI"),
               Line2D([], [], color=POOLED_COLOUR, label="prediction interval")]
    if sensitivity:
        handles.append(Patch(facecolor="white", edgecolor=POOLED_COLOUR, label="sensitivity: with indirect results"))
    drawn = claims[claims["comparable"] == "yes"] if len(claims) else claims
    return handles + claim_handles(drawn)


def claim_handles(claims: pd.DataFrame, share_axis: str = "x") -> list:
    """Legend entries for the claims drawn (draw_claim): their basis (colour) and kind of number (shape)."""
    handles = [Line2D([], [], marker=marker, color=colour, linestyle="none", label=f"page claim: {label}")
               for basis, (colour, marker, label) in BASIS_STYLE.items()
               if len(claims) and (claims["basis"] == basis).any()]
    grey = "0.35"
    kinds = {"approx": Line2D([], [], marker="o", color=grey, markerfacecolor="white", linestyle="none",
                              label="approximate ('about')"),
             "upper": Line2D([], [], marker=BOUND_MARKERS[share_axis]["upper"], color=grey, markerfacecolor="white",
                             linestyle="none", label="upper bound ('up to')"),
             "lower": Line2D([], [], marker=BOUND_MARKERS[share_axis]["lower"], color=grey, markerfacecolor="white",
                             linestyle="none", label="lower bound ('more than')"),
             "range": Line2D([], [], color=grey, linewidth=6, label="range ('20-40%')")}
    return handles + [h for bound, h in kinds.items() if len(claims) and (claims["bound"] == bound).any()]


def overview(table: pd.DataFrame, claims: pd.DataFrame, *, title: str, ax: Axes | None = None) -> Axes:
    """One row per question's headline group: the pooled estimate (diamond, CI) and prediction interval,
    or the range of the study figures where nothing is pooled (grey band); the pages' claims as markers.

    `table`: question_id, label, group, pooled, ci_low, ci_high, pi_low, pi_high, study_low, study_high;
    `claims`: question_id, value, value_low, value_high, bound, basis (the comparable claims)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 1.6 + 0.6 * len(table)))
    for y, row in enumerate(table.itertuples(index=False)):
        if pd.notna(row.pooled):
            forest.diamond(ax, row.ci_low, row.pooled, row.ci_high, y, half_height=0.3)
            forest.prediction_line(ax, row.pi_low, row.pi_high, y)
        elif pd.notna(row.study_low):
            band = ax.barh(y, row.study_high - row.study_low, left=row.study_low, height=0.4, color="0.85",
                           zorder=1)
            band.patches[0].set_gid("study-range")
        for _, claim in claims[claims["question_id"] == row.question_id].iterrows():
            draw_claim(ax, claim, y)
    labels = [f"{r.label}" + (f" ({r.group})" if isinstance(r.group, str) and r.group not in ("", "all") else "")
              for r in table.itertuples(index=False)]
    ax.set_yticks(range(len(table)), [textwrap.fill(label, 40) for label in labels], fontsize=8)
    ax.set_ylim(len(table) - 0.4, -0.6)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of patients (%)")
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    handles = [Patch(color=POOLED_COLOUR, label="pooled estimate, 95% CI"),
               Line2D([], [], color=POOLED_COLOUR, label="prediction interval"),
               Patch(color="0.85", label="range of the studies (not pooled)")]
    handles += claim_handles(claims)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return ax


GID_REVIEW = "review-figure"


def review_comparison(table: pd.DataFrame, *, title: str, ax: Axes | None = None) -> Axes:
    """Each published review's pooled share (hollow circle, its interval where printed) beside this
    project's estimate of the same group (diamond over its confidence interval; hollow for the
    sensitivity analysis), one row per review figure. `table`: reviews.comparison(...)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 1.6 + 0.45 * max(len(table), 2)))
    labels = []
    for y, row in enumerate(table.itertuples(index=False)):
        if pd.notna(row.estimate):
            hollow = row.analysis == "sensitivity"
            forest.diamond(ax, row.ci_low, row.estimate, row.ci_high, y - 0.12, hollow=hollow, half_height=0.22,
                           gid=GID_SENSITIVITY if hollow else GID_DIAMOND)
        if pd.notna(row.review_ci_low):
            ax.hlines(y + 0.15, row.review_ci_low, row.review_ci_high, colors=[STUDY_COLOUR], linewidth=1.2)
        (point,) = ax.plot([row.review_estimate], [y + 0.15], marker="o", markersize=7, color=STUDY_COLOUR,
                           markerfacecolor="white", markeredgewidth=1.6, linestyle="none", zorder=4)
        point.set_gid(GID_REVIEW)
        mark = " *" if row.apart else ""
        review = row.citation.split(",")[0]
        follow = f", {row.followup}" if isinstance(row.followup, str) and row.followup else ""
        labels.append(textwrap.shorten(f"{row.question_id}, {row.group}: {review}{follow}", 75, placeholder="...")
                      + mark)
    ax.set_yticks(range(len(table)), labels, fontsize=8)
    ax.set_ylim(len(table) - 0.4, -0.6)
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of patients (%)")
    ax.set_title(title)
    ax.grid(axis="y", visible=False)
    handles = [Line2D([], [], marker="o", color=STUDY_COLOUR, markerfacecolor="white", linestyle="none",
                      label="published review's pooled figure (its CI where printed)"),
               Patch(color=POOLED_COLOUR, label="this project: primary analysis, 95% CI"),
               Patch(facecolor="white", edgecolor=POOLED_COLOUR, label="this project: sensitivity analysis"),
               Line2D([], [], linestyle="none", label="* the two intervals do not overlap (reason in the table)")]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    return ax
