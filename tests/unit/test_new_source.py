"""A new page in one command (fbss-new-source), tested on a page the project has never seen:
tests/fixtures/new-source/ (its README says what is in it)."""
from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from fbss_evidence import new_source
from fbss_evidence.cli import candidates_main, new_source_main, validate_main
from fbss_evidence.config import DATA

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "new-source"
PAGE = FIXTURE / "page.txt"
ID = "harbour-spine"


@pytest.fixture
def data(tmp_path, monkeypatch):
    shutil.copytree(DATA, tmp_path / "data", ignore=shutil.ignore_patterns("extraction"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "data"


def add(data, *extra, page=PAGE, source_id=ID):
    return new_source_main([str(page), "--id", source_id, "--title", "Life After Back Surgery",
                            "--publisher", "Harbour Spine Clinic (synthetic)", "--references", "16-17",
                            "--data", str(data), "--sheet", str(data.parent / "sheet.csv"), *extra])


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
    assert any(line.startswith(f"data/sources/{ID}.txt:5: column 9: the number '20' is recorded by no claim")
               for line in err)
    assert sum(f"sources/{ID}.txt" in line and "the number" in line for line in err) == 20

    sheet = pd.read_csv(data.parent / "sheet.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(FIXTURE / "expected.csv", dtype=str, keep_default_na=False)
    decided = sheet.merge(truth[["line", "column", "text", "decision"]], on=["line", "column", "text"])
    quotes = decided[decided["decision"].str.startswith(ID)].groupby("decision")["sentence"].first()
    claims = pd.read_csv(FIXTURE / "claims.csv", dtype=str, keep_default_na=False)
    claims["quote"] = claims["claim_id"].map(quotes)
    append_rows(data / "claims.csv", claims.to_dict("records"))
    reasons = decided[~decided["decision"].str.startswith(ID) & (decided["decision"] != "footnote marker")]
    append_rows(data / "number_exclusions.csv", [
        dict(source_id=ID, line=r.line, column=r.column, text=r.text, reason=r.decision) for r in reasons.itertuples()])
    # The two cited claims need their references, the studies they name and audit rows.
    append_rows(data / "studies.csv", [dict(study_id=f"{ID}-study-{n}", cohort_id=f"{ID}-study-{n}",
                                            lookup_status="not_found") for n in (1, 2)])
    append_rows(data / "references.csv", [dict(ref_id=f"{ID}-r{n}", source_id=ID, ref_number=str(n),
                                               citation_as_printed=f"reference {n} (synthetic)",
                                               study_id=f"{ID}-study-{n}") for n in (1, 2)])
    append_rows(data / "citation_audit.csv", [dict(claim_id=f"{ID}-0{c}", ref_id=f"{ID}-r{n}", verdict="not_found",
                                                   explanation="A synthetic page's synthetic reference.")
                                              for c, n in ((1, 1), (3, 2))])
    capsys.readouterr()
    assert validate_main(["--data", str(data)]) == 0, capsys.readouterr().err
    # The sheet again: nothing left to decide.
    assert candidates_main([ID, "--data", str(data), "--sheet", str(data.parent / "again.csv")]) == 0
    assert "22 numbers, 0 still to decide" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--id", "Harbour Spine"], "fbss-new-source:0: --id: 'Harbour Spine' is not a slug"),
    (["--id", "darrow-muscle-damage"], "data/sources.csv:2: source_id: 'darrow-muscle-damage' is already a source"),
    (["--title", " "], "fbss-new-source:0: --title: the page's title is required"),
    (["--references", "16-18"], "fbss-new-source:0: --references: lines 16-18 are not within the page's 17 lines"),
])
def test_bad_requests_are_refused_and_nothing_is_written(data, capsys, args, message):
    before = snapshot(data)
    base = {"--id": ID, "--title": "T", "--publisher": "P", "--references": "16-17"}
    base.update(dict(zip(args[::2], args[1::2])))
    argv = [str(PAGE), *[x for kv in base.items() for x in kv], "--data", str(data),
            "--sheet", str(data.parent / "sheet.csv")]
    assert new_source_main(argv) == 1
    assert message in capsys.readouterr().err
    assert snapshot(data) == before and not (data.parent / "sheet.csv").exists()


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
