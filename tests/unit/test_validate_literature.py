"""The bad-input corpus of the literature tables (results, studies, questions, claim_questions, the
search log and screening) and of the references' link to the studies: each break is refused with its
exact, located message, through `fbss-validate --data <copy of data/>`."""

from __future__ import annotations

import csv
import io

import pytest

from fbss_evidence import vocab
from fbss_evidence.cli import validate_main


def _rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def _write(path, header, rows):
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def mutate(path, key: str, value: str, **changes) -> int:
    """Change the row whose column `key` is `value`; return its CSV line."""
    header, rows = _rows(path)
    i = next(i for i, r in enumerate(rows) if r[key] == value)
    rows[i].update(changes)
    _write(path, header, rows)
    return i + 2


def run(capsys) -> list[str]:
    status = validate_main(["--data", "data"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    problems = [line for line in err.splitlines() if "problem(s) found." not in line and ": warning: " not in line]
    assert (status == 1) == bool(problems)
    return problems


def test_the_real_tables_are_valid(data, capsys):
    assert run(capsys) == []


RESULT = "zhang-2022--prp-lbp-success--1"  # 22 of 31 (71%), stated
RESULT_CASES = {
    "more events than patients": (
        dict(events="40"),
        [
            "events: events 40 exceed n 31",
            "percent: 71% is not 40/31 = 129.03% within rounding "
            "(flag percent_counts_disagree if the study itself says so)",
        ],
    ),
    "percent not the counts": (
        dict(percent="80"),
        [
            "percent: 80% is not 22/31 = 70.97% within rounding (flag "
            "percent_counts_disagree if the study itself says so)"
        ],
    ),
    "stated without n": (dict(n=""), ["count_basis: 'stated' needs both events and n"]),
    "a count with a percent-only basis": (
        dict(count_basis="percent_only"),
        [
            "events: count_basis 'percent_only' has no event count: leave events empty (a count read off a percent "
            "is derived_from_percent)"
        ],
    ),
    "unknown basis": (
        dict(count_basis="guessed"),
        [f"count_basis: 'guessed' is not allowed; use one of: {', '.join(vocab.COUNT_BASES)}"],
    ),
    "no url": (dict(url_seen=""), ["url_seen: must not be empty"]),
    "not a url": (
        dict(url_seen="pubmed 12345"),
        ["url_seen: 'pubmed 12345' has the wrong form (expected ('^https?://\\S+$'))"],
    ),
    "unknown study": (
        dict(study_id="nobody-1999"),
        [
            "study_id: 'nobody-1999' is not a known study_id (see data/studies.csv): a row may only point at one "
            "that exists",
            "result_id: 'zhang-2022--prp-lbp-success--1' should start with 'nobody-1999--prp-lbp-success--'",
        ],
    ),
    "unknown flag": (
        dict(flags="looks_odd"),
        [f"flags: unknown flag(s) looks_odd; use: {', '.join(vocab.RESULT_FLAGS)}"],
    ),
    "percent over 100": (
        dict(percent="171"),
        [
            "percent: 171 is outside 0-100, the range of percent",
            "percent: 171% is not 22/31 = 70.97% within rounding (flag percent_counts_disagree if the study itself "
            "says so)",
        ],
    ),
}


@pytest.mark.parametrize("changes, expected", RESULT_CASES.values(), ids=RESULT_CASES.keys())
def test_bad_result(data, capsys, changes, expected):
    line = mutate(data / "results.csv", "result_id", RESULT, **changes)
    assert run(capsys) == sorted(f"data/results.csv:{line}: {message}" for message in expected)


def test_a_derived_count_must_be_the_rounded_share(data, capsys):
    line = mutate(data / "results.csv", "result_id", "inoue-2017--fbss-after-lumbar-surgery--1", events="400")
    assert run(capsys) == sorted(
        [
            f"data/results.csv:{line}: percent: 20.6% is not 400/1842 = 21.72% within rounding (flag "
            "percent_counts_disagree if the study itself says so)",
            f"data/results.csv:{line}: events: a derived count should be round(20.6% x 1842) = 379, not 400",
        ]
    )


def test_a_flagged_disagreement_is_data_not_an_error(data, capsys):
    mutate(data / "results.csv", "result_id", RESULT, percent="80", flags="percent_counts_disagree")
    assert run(capsys) == []


def test_a_study_used_twice_and_an_id_without_its_page(data, capsys):
    header, rows = _rows(data / "studies.csv")
    rows.append(dict(rows[-1]))
    _write(data / "studies.csv", header, rows)
    line = mutate(data / "studies.csv", "study_id", "hussein-2016", url_seen="")
    assert run(capsys) == [
        f"data/studies.csv:{line}: url_seen: a PMID, PMCID or DOI needs the URL it was seen at",
        f"data/studies.csv:{len(rows) + 1}: study_id: '{rows[-1]['study_id']}' is used again (first on line "
        f"{len(rows)}): each study_id is unique",
    ]


def test_a_reference_must_name_a_known_study(data, capsys):
    line = mutate(data / "references.csv", "ref_id", "darrow-muscle-damage-r1", study_id="ohtori-2099")
    assert run(capsys) == [
        f"data/references.csv:{line}: study_id: 'ohtori-2099' is not a known study_id (see data/studies.csv): "
        "a row may only point at one that exists"
    ]


def test_claim_links(data, capsys):
    unknown = mutate(
        data / "claim_questions.csv", "claim_id", "caring-prolotherapy-fbss-46", claim_id="caring-prolotherapy-fbss-99"
    )
    group = mutate(data / "claim_questions.csv", "claim_id", "caring-prolotherapy-fbss-35", compare_with="7y")
    count = mutate(data / "claim_questions.csv", "claim_id", "caring-fbss-options-05", comparable="yes")
    assert run(capsys) == [
        f"data/claim_questions.csv:{count}: comparable: caring-fbss-options-05 is not a percentage (unit count); "
        "mark it comparable=no",
        f"data/claim_questions.csv:{unknown}: claim_id: 'caring-prolotherapy-fbss-99' is not a known claim_id "
        "(see data/claims.csv): a row may only point at one that exists",
        f"data/claim_questions.csv:{group}: compare_with: '7y' is not among the timepoint_group values of "
        "idd-off-systemic-opioids's results (1m, 1y, 5y)",
    ]


def test_a_question_leads_with_a_group_its_results_have(data, capsys):
    line = mutate(data / "questions.csv", "question_id", "prp-lbp-success", headline_group="placebo")
    problems = run(capsys)
    assert problems == [
        f"data/questions.csv:{line}: headline_group: 'placebo' is not among the arm values of its "
        "results (LA/corticosteroid (comparator), methylprednisolone + lidocaine (comparator), prp, "
        "saline + cefazolin (control))"
    ] or problems[0].startswith(f"data/questions.csv:{line}: headline_group: 'placebo' is not among the arm values")


def test_search_log_and_screening_name_known_questions_and_reasons(data, capsys):
    log = mutate(data / "literature" / "search_log.csv", "question_id", "prp-lbp-success", question_id="prp")
    screen = mutate(data / "literature" / "screening.csv", "question_id", "prp-lbp-success", reason="boring")
    problems = run(capsys)
    assert (
        f"data/literature/search_log.csv:{log}: question_id: 'prp' is not a known question_id (see "
        "data/questions.csv): a row may only point at one that exists" in problems
    )
    assert (
        f"data/literature/screening.csv:{screen}: reason: 'boring' is not allowed; use one of: "
        f"{', '.join(vocab.SCREENING_REASONS)}" in problems
    )


# -- a claim a question should hear about: a warning, not a failure ---------------------------


def warnings(capsys) -> list[str]:
    status = validate_main(["--data", "data"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return [line for line in captured.err.splitlines() if ": warning: " in line]


def test_a_rate_on_a_question_s_topic_without_a_link_is_a_located_warning_not_a_failure(data, capsys):
    header, rows = _rows(data / "claim_questions.csv")
    _write(data / "claim_questions.csv", header, [r for r in rows if r["claim_id"] != "darrow-muscle-damage-01"])
    line = mutate(data / "claims.csv", "claim_id", "darrow-muscle-damage-01")  # unchanged: its line
    assert (
        f"data/claims.csv:{line}: claim_id: warning: darrow-muscle-damage-01 gives a rate on "
        "failure_persistent_pain, a topic of question fbss-after-lumbar-surgery, and has no row in "
        "claim_questions.csv (link it, comparable yes or no, so that notebooks 10 and 11 show it)"
    ) in warnings(capsys)


def test_only_rates_on_a_linked_topic_are_warned_about(data, capsys):
    import pandas as pd

    claims = pd.read_csv(data / "claims.csv").set_index("claim_id")
    links = pd.read_csv(data / "claim_questions.csv")
    topics = set(claims.loc[links["claim_id"], "topic"])
    warned = {line.split("warning: ")[1].split()[0] for line in warnings(capsys)}
    unlinked = claims.drop(index=links["claim_id"])
    assert warned == set(unlinked[(unlinked["measure"] == "rate") & unlinked["topic"].isin(topics)].index)


def test_many_warnings_are_cut_short_with_how_many_more(data):
    from fbss_evidence import schema, validate
    from fbss_evidence.csvfile import read_csv_table

    table = read_csv_table(data / "claims.csv", required=schema.columns(schema.CLAIMS))
    claims = validate.clean(table.frame)
    links = validate.clean(read_csv_table(data / "claim_questions.csv").frame).head(1)  # one link: few topics
    found = validate.unlinked_claims(claims, links)
    assert len(found) > 2
    out = validate.unlinked_warnings(table, claims, links, limit=2)
    assert len(out) == 3 and out[-1].message == f"warning: and {len(found) - 2} more claims like these"
