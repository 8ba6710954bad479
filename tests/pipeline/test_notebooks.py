"""Every analysis notebook runs through the runner, with its defaults and with other parameters,
into a scratch FBSS_OUTPUT_ROOT; bad parameters stop it, and a batch with a failure publishes nothing.

The runs are queued in three batches (defaults, other parameters, failing parameters), each in
a scratch root of its own and run by one runner in one warm kernel, as `make` runs them: a fresh
kernel per run would prove nothing more (tests/build/test_batch.py checks that a warm kernel gives
the same bytes). A run writes only under its own tmp folder, never into the project's figures/ or
tables/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from fbss_evidence import config, evidence, stats
from fbss_evidence.dataset import load_dataset

QUESTION = "reoperation-after-discectomy"  # the literature notebook's default question

# Files each notebook publishes: (figures, tables), without extensions.
OUTPUTS = {
    "01-evidence-map": (
        ["01-evidence-map-topics", "01-evidence-map-basis"],
        ["01-claims-by-page-and-topic", "01-claims-by-page-and-basis", "01-recurring-findings"],
    ),
    "02-failure-rates": (["02-failure-rates"], ["02-failure-rates"]),
    "03-reoperation-revision": (["03-reoperation-revision"], ["03-reoperation-revision", "03-risk-factors"]),
    "04-treatments-compared": (["04-treatments-compared"], ["04-treatments-compared"]),
    "05-implants-scs-pumps": (
        ["05-scs-explant-reasons", "05-pump-opioid-elimination", "05-pump-prior-treatments"],
        ["05-scs-explant-reasons", "05-pump-opioid-elimination", "05-pump-cohort"],
    ),
    "06-after-fusion": (["06-after-fusion"], ["06-after-fusion", "06-muscle-and-dose"]),
    "07-compare-topic": (["07-compare-{topic}"], ["07-compare-{topic}"]),
    "08-citation-audit": (
        ["08-citation-audit", "08-statement-audit"],
        ["08-audit-by-page", "08-discrepancies", "08-evidence-grades", "08-statement-audit"],
    ),
    "09-statistics": (
        ["09-proportions-with-counts"],
        ["09-rederived-arithmetic", "09-pooling-refusals", "09-pooled-estimates"],
    ),
    "10-claims-vs-literature": (
        ["10-{question}", "10-{question}-prisma"],
        [
            "10-{question}-results",
            "10-{question}-pooled",
            "10-{question}-claims",
            "10-{question}-leave-one-out",
            "10-{question}-reviews",
        ],
    ),
    "11-summary-of-findings": (
        ["11-overview", "11-prisma", "11-published-reviews"],
        [
            "11-summary-of-findings",
            "11-headline-claims",
            "11-prisma",
            "11-eligibility-agreement",
            "11-risk-of-bias",
            "11-risk-of-bias-agreement",
            "11-published-reviews",
            "11-search-recall",
        ],
    ),
    "12-claim-verdicts": (["12-scorecards"], ["12-claim-verdicts", "12-scorecards", "12-method-dependence"]),
}
# Outcomes that grow with time also get a curve (figure and table), when the results allow a fit.
GROWS_WITH_TIME = {"reoperation-after-discectomy", "asd-surgery-after-fusion", "scs-explant-rate"}

MAGIC = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}


@dataclass(frozen=True)
class Case:
    id: str
    notebook: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def param_dict(self) -> dict[str, str]:
        return dict(self.params)

    @property
    def fig_format(self) -> str:
        return self.param_dict.get("fig_format", "png")

    @property
    def topic(self) -> str:
        return self.param_dict.get("topic", "failure_persistent_pain")

    @property
    def question(self) -> str:
        return self.param_dict.get("question", QUESTION)

    @property
    def run_name(self) -> str:
        # As the Makefile names the per-topic and per-question runs of the generic notebooks.
        if self.notebook == "07-compare-topic":
            return f"{self.notebook}--{self.topic}"
        if self.notebook == "10-claims-vs-literature":
            return f"{self.notebook}--{self.question}"
        return self.notebook


DEFAULTS = [Case(f"{name}-defaults", name) for name in OUTPUTS]
OTHERS = [
    Case("01-svg", "01-evidence-map", (("fig_format", "svg"),)),
    Case("02-clopper-pearson-90", "02-failure-rates", (("ci_method", "clopper-pearson"), ("ci_level", "0.9"))),
    Case(
        "03-pdf-no-clinic", "03-reoperation-revision", (("fig_format", "pdf"), ("include_clinic_experience", "False"))
    ),
    Case(
        "04-no-clinic-jeffreys",
        "04-treatments-compared",
        (("include_clinic_experience", "False"), ("ci_method", "jeffreys")),
    ),
    Case("05-pdf", "05-implants-scs-pumps", (("fig_format", "pdf"),)),
    # No claim about fusion carries counts, so 06's intervals (and tables) cannot change.
    Case(
        "06-svg-agresti-coull-99",
        "06-after-fusion",
        (("fig_format", "svg"), ("ci_method", "agresti-coull"), ("ci_level", "0.99")),
    ),
    Case("07-agresti-coull-99", "07-compare-topic", (("ci_method", "agresti-coull"), ("ci_level", "0.99"))),
    Case("07-opioids-by-basis", "07-compare-topic", (("topic", "opioids"), ("group_by", "basis"))),
    Case("08-svg", "08-citation-audit", (("fig_format", "svg"),)),
    Case("09-DL-clopper-pearson", "09-statistics", (("pooling_method", "DL"), ("ci_method", "clopper-pearson"))),
    Case(
        "10-asd-DL-HK-stated-only",
        "10-claims-vs-literature",
        (
            ("question", "asd-surgery-after-fusion"),
            ("pooling_method", "DL"),
            ("hartung_knapp", "True"),
            ("include_derived_counts", "False"),
        ),
    ),
    Case("11-at-least-3", "11-summary-of-findings", (("min_studies", "3"),)),
]
FAILING = [
    Case("07-unknown-topic", "07-compare-topic", (("topic", "no_such_topic"),)),
    Case("02-ci-level-1.5", "02-failure-rates", (("ci_level", "1.5"),)),
    Case("10-unknown-question", "10-claims-vs-literature", (("question", "no-such-question"),)),
]
FAILURE_MESSAGES = {
    "07-unknown-topic": "ParameterError: parameter topic='no_such_topic' is not allowed; use one of: "
    "failure_persistent_pain, ",
    "02-ci-level-1.5": "ParameterError: parameter ci_level=1.5 must be a number in [0.5, 1), e.g. 0.95",
    "10-unknown-question": "ParameterError: parameter question='no-such-question' is not a question of the data; "
    "use one of: fbss-after-lumbar-surgery, ",
}
ALL = {c.id: c for c in DEFAULTS + OTHERS + FAILING}


@dataclass
class Result:
    case: Case
    root: Path
    proc: subprocess.CompletedProcess

    @property
    def figures(self) -> set[str]:
        folder = self.root / "figures"
        return {p.name for p in folder.iterdir()} if folder.exists() else set()

    @property
    def tables(self) -> set[str]:
        folder = self.root / "tables"
        return {p.name for p in folder.iterdir()} if folder.exists() else set()

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.root / "tables" / f"{name}.csv")


def _batch(cases: list[Case], root: Path) -> dict[str, Result]:
    """Queue the cases and run them in one runner with one warm kernel, as make does."""
    env = {**os.environ, "FBSS_OUTPUT_ROOT": str(root), "PYTHONIOENCODING": "utf-8"}
    queue = root / "build" / "queue"
    for case in cases:
        args = [
            sys.executable,
            "-m",
            "fbss_build.run",
            str(config.NOTEBOOKS / f"{case.notebook}.ipynb"),
            "--output",
            str(root / "build" / f"{case.run_name}.ipynb"),
            "--queue",
            str(queue),
        ]
        for name, value in case.params:
            args += ["-p", name, value]
        subprocess.run(args, check=True, env=env, timeout=120)
    proc = subprocess.run(
        [sys.executable, "-m", "fbss_build.run", "--run-queue", str(queue), "--jobs", "1"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=900,
        env=env,
    )
    return {case.id: Result(case, root, proc) for case in cases}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Result]:
    """The three batches, run side by side."""
    batches = {"defaults": DEFAULTS, "others": OTHERS, "failing": FAILING}
    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        futures = [pool.submit(_batch, cases, tmp_path_factory.mktemp(name)) for name, cases in batches.items()]
        return {cid: result for f in futures for cid, result in f.result().items()}


def _expected(case: Case, result: Result) -> tuple[set[str], set[str]]:
    figures, tables = OUTPUTS[case.notebook]
    figs = {f"{f.format(topic=case.topic, question=case.question)}.{case.fig_format}" for f in figures}
    tabs = {f"{t.format(topic=case.topic, question=case.question)}{ext}" for t in tables for ext in (".csv", ".md")}
    if case.notebook == "09-statistics":
        # One forest plot per poolable group, as the pooled table lists them.
        figs |= {f"09-forest-{g}.{case.fig_format}" for g in result.table("09-pooled-estimates")["group"]}
    if case.notebook == "12-claim-verdicts":
        tabs.add("12-claim-reviews.jsonld")
    curve = f"10-{case.question}-curve"
    if case.notebook == "10-claims-vs-literature" and f"{curve}.{case.fig_format}" in _published_by(result)[0]:
        assert case.question in GROWS_WITH_TIME
        figs.add(f"{curve}.{case.fig_format}")
        tabs |= {f"{curve}.csv", f"{curve}.md"}
    return figs, tabs


def _published_by(result: Result) -> tuple[set[str], set[str]]:
    """The figures and tables this case's run published (its manifest), among the batch's."""
    manifest = (result.root / "build" / f"{result.case.run_name}.outputs").read_text().split()
    return (
        {m.split("/", 1)[1] for m in manifest if m.startswith("figures/")},
        {m.split("/", 1)[1] for m in manifest if m.startswith("tables/")},
    )


@pytest.mark.parametrize("case_id", [c.id for c in DEFAULTS + OTHERS])
def test_notebook_runs_and_publishes_its_outputs(results, case_id):
    result = results[case_id]
    case = result.case
    assert result.proc.returncode == 0, result.proc.stderr
    assert "Traceback" not in result.proc.stderr
    figures, tables = _expected(case, result)
    assert _published_by(result) == (figures, tables)
    assert figures <= result.figures and tables <= result.tables
    for name in figures:
        assert (result.root / "figures" / name).read_bytes().startswith(MAGIC[case.fig_format])
    for name in tables:
        assert (result.root / "tables" / name).stat().st_size > 0
    build = result.root / "build"
    assert (build / f"{case.run_name}.ipynb").is_file()
    assert not (build / f"{case.run_name}.failed.ipynb").exists()
    assert list((build / "stage").iterdir()) == []


@pytest.mark.parametrize("case_id", [c.id for c in FAILING])
def test_bad_parameter_fails_with_the_parameter_error(results, case_id):
    result = results[case_id]
    assert result.proc.returncode == 1
    assert FAILURE_MESSAGES[case_id] in result.proc.stderr
    assert "nothing is published" in result.proc.stderr
    assert "none of this batch is published" in result.proc.stderr
    assert result.figures == set() and result.tables == set()
    assert (result.root / "build" / f"{result.case.run_name}.failed.ipynb").is_file()
    assert not (result.root / "build" / f"{result.case.run_name}.ipynb").exists()


def _ci_rows(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["numerator"].notna()]


@pytest.mark.parametrize("case_id", [c.id for c in OTHERS])
def test_non_default_parameters_take_effect(results, case_id):
    result = results[case_id]
    default = results[f"{result.case.notebook}-defaults"]
    assert result.proc.returncode == 0 == default.proc.returncode, result.proc.stderr
    case = result.case
    if case_id in ("02-clopper-pearson-90", "07-agresti-coull-99"):
        name = "07-compare-failure_persistent_pain" if case.notebook == "07-compare-topic" else case.notebook
        params = case.param_dict
        for run, method, level in ((default, "wilson", 0.95), (result, params["ci_method"], float(params["ci_level"]))):
            rows = _ci_rows(run.table(name))
            assert len(rows) >= 1
            for r in rows.itertuples():
                low, high = stats.proportion_ci(r.numerator, r.denominator, method=method, level=level)
                assert (r.ci_low, r.ci_high) == pytest.approx((low, high), rel=1e-5)
        assert not _ci_rows(result.table(name))["ci_low"].equals(_ci_rows(default.table(name))["ci_low"])
    elif case_id == "04-no-clinic-jeffreys":
        name = case.notebook
        mine, theirs = result.table(name), default.table(name)
        n_clinic = (theirs["basis"] == "clinic_experience").sum()
        assert n_clinic > 0  # else leaving clinic experience out could not show
        assert not (mine["basis"] == "clinic_experience").any()
        assert len(mine) == len(theirs) - n_clinic
        assert set(mine["claim_id"]) == set(theirs.loc[theirs["basis"] != "clinic_experience", "claim_id"])
    elif case_id == "03-pdf-no-clinic":
        # No reoperation claim rests on clinic experience, so leaving it out changes no table.
        assert not (default.table(case.notebook)["basis"] == "clinic_experience").any()
        assert {n.rsplit(".", 1)[1] for n in _published_by(result)[0]} == {"pdf"}
        for name in _published_by(result)[1]:
            assert (result.root / "tables" / name).read_bytes() == (default.root / "tables" / name).read_bytes()
    elif case_id == "07-opioids-by-basis":
        table = result.table("07-compare-opioids")
        claims = evidence.enrich(load_dataset())
        opioid_ids = set(claims.loc[claims["topic"] == "opioids", "claim_id"])
        assert set(table["claim_id"]) == opioid_ids
        assert not any("failure_persistent_pain" in name for name in _published_by(result)[0])
    elif case_id in ("01-svg", "08-svg", "06-svg-agresti-coull-99"):
        for name in _published_by(result)[0]:
            assert name.endswith(".svg")
            text = (result.root / "figures" / name).read_text(encoding="utf-8")
            assert "<svg" in text and "<dc:date>" not in text
        # The tables do not depend on the figure format.
        for name in _published_by(result)[1]:
            assert (result.root / "tables" / name).read_bytes() == (default.root / "tables" / name).read_bytes()
    elif case_id == "05-pdf":
        assert {n.rsplit(".", 1)[1] for n in _published_by(result)[0]} == {"pdf"}
        for name in _published_by(result)[1]:
            assert (result.root / "tables" / name).read_bytes() == (default.root / "tables" / name).read_bytes()
    elif case_id == "09-DL-clopper-pearson":
        pooled = result.table("09-pooled-estimates")
        assert (pooled["method"].str.contains("DL|DerSimonian", regex=True)).all()
        for name in ("09-rederived-arithmetic", "09-pooling-refusals"):
            assert result.table(name).equals(default.table(name))
        assert (result.root / "figures" / "09-proportions-with-counts.png").read_bytes() != (
            default.root / "figures" / "09-proportions-with-counts.png"
        ).read_bytes()
    elif case_id == "10-asd-DL-HK-stated-only":
        pooled = result.table("10-asd-surgery-after-fusion-pooled")
        assert set(pooled["method"]) == {"DL"} and pooled["hartung_knapp"].all()
        rows = result.table("10-asd-surgery-after-fusion-results")
        assert (rows["reason_code"] == "derived_excluded").any()
        assert not rows.loc[rows["reason_code"].isna(), "count_note"].str.contains("derived").any()
    elif case_id == "11-at-least-3":
        mine, theirs = result.table("11-summary-of-findings"), default.table("11-summary-of-findings")
        pooled = mine[mine["certainty"] != "not pooled"]
        assert (pooled["k"] >= 3).all()
        assert len(pooled) < len(theirs[theirs["certainty"] != "not pooled"])
    else:  # pragma: no cover - every case above has a check
        pytest.fail(f"no effect check for {case_id}")
