"""A new page in one command (fbss-new-source), tested on a page the project has never seen:
tests/fixtures/new-source/ (its README says what is in it)."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import new_source_guide as guide
import pandas as pd
import pytest

from fbss_evidence import new_source, schema
from fbss_evidence.cli import candidates_main, new_source_main, validate_main

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "new-source"
PAGE = FIXTURE / "page.txt"
ID = "harbour-spine"


def add(data, *extra, page=PAGE, source_id=ID):
    return new_source_main(
        [
            str(page),
            "--id",
            source_id,
            "--title",
            "Life After Back Surgery",
            "--publisher",
            "Harbour Spine Clinic (synthetic)",
            "--references",
            "16-17",
            "--data",
            str(data),
            "--sheet",
            str(data.parent / "sheet.csv"),
            *extra,
        ]
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def append_rows(path: Path, rows: list[dict]):
    header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    text = path.read_text(encoding="utf-8")
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([[row.get(col, "") for col in header] for row in rows])
    path.write_text(text + ("" if text.endswith("\n") else "\n") + out.getvalue(), encoding="utf-8")


def test_the_page_is_copied_unchanged_and_its_row_added_with_its_hash(data, capsys):
    before = (data / "sources.csv").read_bytes()
    assert add(data) == 0
    copied = data / "sources" / f"{ID}.txt"
    assert copied.read_bytes() == PAGE.read_bytes()
    after = (data / "sources.csv").read_bytes()
    assert after.startswith(before)  # the existing rows untouched
    row = pd.read_csv(data / "sources.csv", dtype=str).set_index("source_id").loc[ID]
    assert row["sha256"] == hashlib.sha256(PAGE.read_bytes()).hexdigest()
    assert (row["file"], row["original_file"]) == (f"sources/{ID}.txt", "page.txt")
    assert (row["references_first_line"], row["references_last_line"]) == ("16", "17")
    out = capsys.readouterr().out
    assert "22 numbers, 20 still to decide" in out and "make candidates ID=harbour-spine" in out


def test_the_candidate_sheet_matches_the_pages_known_numbers(data):
    assert add(data) == 0
    sheet = pd.read_csv(data.parent / "sheet.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(FIXTURE / "expected.csv", dtype=str, keep_default_na=False)
    # Every number of the page's body, and nothing else (the reference list is outside).
    assert sheet[["line", "column", "text"]].values.tolist() == truth[["line", "column", "text"]].values.tolist()
    merged = sheet.merge(truth, on=["line", "column", "text"], suffixes=("", "_true"))
    guessed = merged[merged["guessed_value_true"] != ""]
    for col in ("guessed_value", "guessed_unit", "guessed_bound"):
        assert guessed[col].tolist() == guessed[f"{col}_true"].tolist(), col
    assert merged["nearest_footnote"].tolist() == merged["nearest_footnote_true"].tolist()
    # A suggestion never hides a claim's own number, and the patterns it knows are recognised.
    claims = merged["decision"].str.startswith(ID)
    assert (merged.loc[claims & (merged["guessed_value_true"] != ""), "suggested_exclusion"] == "").all()
    known = merged["decision"].isin(["phone_or_address", "spinal_level", "date_or_name", "list_numbering"])
    assert merged.loc[known, "suggested_exclusion"].tolist() == merged.loc[known, "decision"].tolist()
    assert set(merged.loc[merged["decision"] == "footnote marker", "accounted_by"]) == {"footnote marker"}
    # Each claim's numbers share one sentence: the verbatim quote to start from.
    for claim_id, rows in merged[claims].groupby("decision"):
        assert rows["sentence"].nunique() == 1, claim_id
        assert rows["sentence"].iloc[0] in PAGE.read_text(encoding="utf-8")


def test_round_trip_page_to_sheet_to_claims_and_exclusions_to_valid_data(data, capsys):
    assert add(data) == 0
    # Until the analyst decides, validation lists every number still unaccounted, located in the page.
    assert validate_main(["--data", str(data)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"data/sources/{ID}.txt:3: column 13: the number '555' is recorded by no claim")
    assert any(
        line.startswith(f"data/sources/{ID}.txt:5: column 9: the number '20' is recorded by no claim") for line in err
    )
    assert sum(f"sources/{ID}.txt" in line and "the number" in line for line in err) == 20

    sheet = pd.read_csv(data.parent / "sheet.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(FIXTURE / "expected.csv", dtype=str, keep_default_na=False)
    decided = sheet.merge(truth[["line", "column", "text", "decision"]], on=["line", "column", "text"])
    quotes = decided[decided["decision"].str.startswith(ID)].groupby("decision")["sentence"].first()
    claims = pd.read_csv(FIXTURE / "claims.csv", dtype=str, keep_default_na=False)
    claims["quote"] = claims["claim_id"].map(quotes)
    append_rows(data / "claims.csv", claims.to_dict("records"))
    reasons = decided[~decided["decision"].str.startswith(ID) & (decided["decision"] != "footnote marker")]
    append_rows(
        data / "number_exclusions.csv",
        [
            dict(source_id=ID, line=r.line, column=r.column, text=r.text, reason=r.decision)
            for r in reasons.itertuples()
        ],
    )
    # The two cited claims need their references, the studies they name and audit rows.
    append_rows(
        data / "studies.csv",
        [dict(study_id=f"{ID}-study-{n}", cohort_id=f"{ID}-study-{n}", lookup_status="not_found") for n in (1, 2)],
    )
    append_rows(
        data / "references.csv",
        [
            dict(
                ref_id=f"{ID}-r{n}",
                source_id=ID,
                ref_number=str(n),
                citation_as_printed=f"reference {n} (synthetic)",
                study_id=f"{ID}-study-{n}",
            )
            for n in (1, 2)
        ],
    )
    append_rows(
        data / "citation_audit.csv",
        [
            dict(
                claim_id=f"{ID}-0{c}",
                ref_id=f"{ID}-r{n}",
                verdict="not_found",
                explanation="A synthetic page's synthetic reference.",
            )
            for c, n in ((1, 1), (3, 2))
        ],
    )
    capsys.readouterr()
    assert validate_main(["--data", str(data)]) == 0, capsys.readouterr().err
    # The sheet again: nothing left to decide.
    assert candidates_main([ID, "--data", str(data), "--sheet", str(data.parent / "again.csv")]) == 0
    assert "22 numbers, 0 still to decide" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--id", "Harbour Spine"], "fbss-new-source:0: --id: 'Harbour Spine' is not a slug"),
        (["--id", "darrow-muscle-damage"], "data/sources.csv:2: source_id: 'darrow-muscle-damage' is already a source"),
        (["--title", " "], "fbss-new-source:0: --title: the page's title is required"),
        (["--references", "16-18"], "fbss-new-source:0: --references: lines 16-18 are not within the page's 17 lines"),
        (["--url", "example.org/page"], "fbss-new-source:0: --url: 'example.org/page' is not a web address"),
        (["--label", " "], "fbss-new-source:0: --label: the label is empty"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_written(data, capsys, args, message):
    before = snapshot(data)
    base = {"--id": ID, "--title": "T", "--publisher": "P", "--references": "16-17"}
    base.update(dict(zip(args[::2], args[1::2])))
    argv = [
        str(PAGE),
        *[x for kv in base.items() for x in kv],
        "--data",
        str(data),
        "--sheet",
        str(data.parent / "sheet.csv"),
    ]
    assert new_source_main(argv) == 1
    assert message in capsys.readouterr().err
    assert snapshot(data) == before and not list(data.parent.glob("sheet*.csv"))


def test_a_page_that_is_not_utf8_is_located(data, capsys, tmp_path):
    page = tmp_path / "latin1.txt"
    page.write_bytes("Fine line\nIn caf\xe9s, 30% agree.\n".encode("latin-1"))
    before = snapshot(data)
    assert add(data, page=page) == 1
    assert "latin1.txt:2: column 7: not UTF-8 (byte 0xe9)" in capsys.readouterr().err
    assert snapshot(data) == before


def test_a_failure_while_writing_the_row_takes_the_copied_page_back(data, monkeypatch):
    before = snapshot(data)

    def broken(path, text):
        raise OSError("disk full")

    monkeypatch.setattr(new_source, "write_text", broken)
    with pytest.raises(OSError):
        add(data)
    assert snapshot(data) == before


def test_a_failure_while_writing_the_sheet_takes_the_page_and_its_row_back(data, monkeypatch):
    before = snapshot(data)

    def broken(sheet, path):
        raise OSError("disk full")

    monkeypatch.setattr(new_source, "write_sheet", broken)
    with pytest.raises(OSError):
        add(data)
    assert snapshot(data) == before


def test_the_reference_list_is_guessed_from_its_heading_and_its_lines_only():
    text = PAGE.read_text(encoding="utf-8")
    assert new_source.reference_list_guess(text) == (16, 17)
    footer = text + "\nSubscribe to our newsletter\nCall us today\n"
    assert new_source.reference_list_guess(footer) == (16, 17)  # the footer after the list is left out
    assert new_source.reference_list_guess("No list here.\n") is None


# -- the row's label, author and address, and a candidate file for every table a new page touches ----------


def test_the_row_carries_the_label_author_and_address(data):
    assert add(data, "--label", "Harbour", "--author", "A. Writer", "--url", "https://example.org/a?b=1") == 0
    row = pd.read_csv(data / "sources.csv", dtype=str).set_index("source_id").loc[ID]
    assert (row["label"], row["author"], row["url"]) == ("Harbour", "A. Writer", "https://example.org/a?b=1")


def test_without_a_label_the_id_is_the_label_and_a_missing_address_is_pointed_out(data, capsys):
    assert add(data) == 0
    row = pd.read_csv(data / "sources.csv", dtype=str, keep_default_na=False).set_index("source_id").loc[ID]
    assert (row["label"], row["url"]) == (ID, "")
    assert "No URL given" in capsys.readouterr().out


def test_every_table_a_page_touches_gets_a_candidate_file_in_its_columns(data, capsys):
    assert add(data) == 0
    out = capsys.readouterr().out
    for name, table in new_source.CANDIDATE_TABLES.items():
        path = data.parent / f"sheet-{name}.csv"
        assert list(pd.read_csv(path, dtype=str).columns) == list(schema.columns(table)), name
        assert f"sheet-{name}.csv" in out and f"for data/{name}.csv" in out


def test_the_claims_file_has_a_ready_row_for_each_candidate_claim(data):
    assert add(data) == 0
    claims = pd.read_csv(data.parent / "sheet-claims.csv", dtype=str, keep_default_na=False)
    assert claims["claim_id"].tolist() == [f"{ID}-{n:02d}" for n in range(1, len(claims) + 1)]
    assert set(claims["source_id"]) == {ID}
    text = PAGE.read_text(encoding="utf-8")
    assert all(q in text and v in q for q, v in zip(claims["quote"], claims["value_text"]))
    # The analyst's four claims are there, each as the analyst reads it.
    mine = pd.read_csv(FIXTURE / "claims.csv", dtype=str, keep_default_na=False)
    ready = claims.set_index("value_text").loc[mine["value_text"]]
    columns = ["value", "value_low", "value_high", "bound", "unit", "footnote", "ref_id"]
    assert ready[columns].values.tolist() == mine[columns].values.tolist()
    # A footnoted number is guessed cited; for the others the analyst says what they rest on.
    assert set(zip(claims["ref_id"] != "", claims["basis"])) == {(True, "cited_study"), (False, "")}
    # No row for a footnote marker, a suggested exclusion, or the second number of a range.
    sheet = pd.read_csv(data.parent / "sheet.csv", dtype=str, keep_default_na=False)
    assert len(claims) == ((sheet["accounted_by"] == "") & (sheet["suggested_exclusion"] == "")).sum() - 1


def test_the_other_candidate_files(data):
    assert add(data) == 0
    exclusions = pd.read_csv(data.parent / "sheet-number_exclusions.csv", dtype=str, keep_default_na=False)
    sheet = pd.read_csv(data.parent / "sheet.csv", dtype=str, keep_default_na=False)
    suggested = sheet[sheet["suggested_exclusion"] != ""]
    assert (
        exclusions[["line", "column", "text", "reason"]].values.tolist()
        == suggested[["line", "column", "text", "suggested_exclusion"]].values.tolist()
    )
    references = pd.read_csv(data.parent / "sheet-references.csv", dtype=str, keep_default_na=False)
    assert references[["ref_id", "ref_number"]].values.tolist() == [[f"{ID}-r1", "1"], [f"{ID}-r2", "2"]]
    assert (
        references["citation_as_printed"].iloc[1] == "Brown C. Reoperation a decade after discectomy. "
        "Eur Spine J. 2012;21:1-9."
    )
    audit = pd.read_csv(data.parent / "sheet-citation_audit.csv", dtype=str, keep_default_na=False)
    claims = pd.read_csv(data.parent / "sheet-claims.csv", dtype=str, keep_default_na=False)
    assert audit["claim_id"].tolist() == claims.loc[claims["ref_id"] != "", "claim_id"].tolist()
    assert set(audit["verdict"]) == {"not_found"}
    # Every footnote of the page closes a candidate claim: no statement to audit.
    assert pd.read_csv(data.parent / "sheet-statement_audit.csv").empty


def test_a_footnote_on_a_statement_without_a_number_gets_a_statement_audit_row(data, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(
        "Harbour notes\n\nPRP may help the ligaments heal.(1) Most patients improve.\n\n"
        "References\n1. Smith A. PRP and ligaments. Spine J. 2015;15:1-9.\n",
        encoding="utf-8",
    )
    assert add(data, "--references", "6-6", page=page) == 0
    statements = pd.read_csv(data.parent / "sheet-statement_audit.csv", dtype=str, keep_default_na=False)
    assert statements[["source_id", "ref_id", "quote", "verdict"]].values.tolist() == [
        [ID, f"{ID}-r1", "PRP may help the ligaments heal.", "not_found"]
    ]


def test_following_the_guide_gives_valid_data_with_a_warning_for_each_rate_left_unlinked(data, capsys):
    links = guide.follow_the_guide(data, data.parent / "candidates")
    # The page's rates on a question's topic were offered as links; one was taken.
    assert (guide.LINKED, guide.QUESTION, "yes") in set(
        zip(links["claim_id"], links["question_id"], links["comparable"])
    )
    capsys.readouterr()
    assert validate_main(["--data", str(data)]) == 0
    err = capsys.readouterr().err
    warned = {line.split("warning: ")[1].split()[0] for line in err.splitlines() if ": warning: " in line}
    offered = set(links["claim_id"]) - {guide.LINKED}
    assert offered and offered <= warned and guide.LINKED not in warned
    # The files again: nothing left to enter but the links not taken.
    assert candidates_main([ID, "--data", str(data), "--sheet", str(data.parent / "again.csv")]) == 0
    assert "22 numbers, 0 still to decide" in capsys.readouterr().out
    for name in ("claims", "number_exclusions", "references", "citation_audit", "statement_audit"):
        assert pd.read_csv(data.parent / f"again-{name}.csv").empty, name


def test_a_reference_printed_over_two_lines_is_one_reference(data, tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(
        "Harbour notes\n\nPRP may help.(1) Rest helps.(2)\n\nReferences\n1. Smith A. PRP and ligaments.\n"
        "   Spine J. 2015;15:1-9.\n2. Brown C. Rest. Eur Spine J. 2012;21:1-9.\n",
        encoding="utf-8",
    )
    assert add(data, "--references", "6-8", page=page) == 0
    references = pd.read_csv(data.parent / "sheet-references.csv", dtype=str, keep_default_na=False)
    assert references[["ref_number", "citation_as_printed"]].values.tolist() == [
        ["1", "Smith A. PRP and ligaments. Spine J. 2015;15:1-9."],
        ["2", "Brown C. Rest. Eur Spine J. 2012;21:1-9."],
    ]
    statements = pd.read_csv(data.parent / "sheet-statement_audit.csv", dtype=str, keep_default_na=False)
    assert statements["quote"].tolist() == ["PRP may help.", "Rest helps."]
