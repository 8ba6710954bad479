"""The number ledger and the footnote ledger (src/fbss_evidence/ledger.py) and their enforcement by validation."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fbss_evidence import ledger
from fbss_evidence.cli import validate_main
from fbss_evidence.config import DATA


def texts(tokens):
    return [(t.text, t.kind) for t in tokens]


# -- the number rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "increased by 170.9% from 77,682 to 210,407",
            [("170.9", "number"), ("77,682", "number"), ("210,407", "number")],
        ),
        ("twenty-five patients and half of the rest", [("twenty-five", "word"), ("half", "word")]),
        ("seen once or twice, a dozen times", [("once", "word"), ("twice", "word"), ("dozen", "word")]),
        ("the first and the third", [("first", "ordinal"), ("third", "ordinal")]),
        ("thousands of operations", [("thousands", "word")]),
        ("hundreds of cases, a quarter of them", [("hundreds", "word"), ("quarter", "word")]),
        ("the fifth operation", [("fifth", "ordinal")]),
    ],
)
def test_number_tokens_finds_digits_words_and_ordinals(text, expected):
    assert texts(ledger.number_tokens(text)) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("\u0662\u0660% of patients", ["\u0662\u0660"]),  # Arabic-Indic ٢٠
        ("\uff12\uff10% and \uff12\uff16\uff0e\uff18%", ["\uff12\uff10", "\uff12\uff16\uff0e\uff18"]),  # ２０, ２６．８
        ("\u0968\u0966 \u0930\u094b\u0917\u0940", ["\u0968\u0966"]),  # Devanagari २०
        ("\u00bd of patients, \u2153 of them, \u00be", ["\u00bd", "\u2153", "\u00be"]),  # ½ ⅓ ¾
        ("after 2\u00bd years, 1\u20442 of them", ["2\u00bd", "1\u20442"]),  # 2½, 1⁄2
        ("about 1\u00b9\u2044\u2082 hours", ["1\u00b9\u2044\u2082"]),  # 1¹⁄₂
    ],
)
def test_number_tokens_finds_digits_of_any_script_and_fractions(text, expected):
    tokens = ledger.number_tokens(text)
    assert texts(tokens) == [(t, "number") for t in expected]
    assert [text[t.start : t.end] for t in tokens] == expected


def test_numbers_of_any_script_are_located_by_line_and_character_column():
    page = "Title\nOf \u0662\u0660 patients, \u00bd improved; \uff12\uff16\uff0e\uff18% in 2\u00bd years.\n"
    starts = ledger._line_starts(page)
    located = [(ledger.locate(page, starts, t.start), t.text) for t in ledger.number_tokens(page)]
    assert located == [
        ((2, 4), "\u0662\u0660"),
        ((2, 17), "\u00bd"),
        ((2, 29), "\uff12\uff16\uff0e\uff18"),
        ((2, 38), "2\u00bd"),
    ]


@pytest.mark.parametrize(
    "text, found",
    [
        ("All patients taking long-acting opioids stopped.", ["All"]),
        ("none of the participants improved", ["none"]),
        ("Every patient in the trial", ["Every"]),
        ("every single patient, all FBSS patients, all of my patients", ["every", "all", "all"]),
        ("no patients had it; everyone knew, nobody said", ["no", "everyone", "nobody"]),
        ("all of these options, every day, at all times, no better than surgery", []),  # no proportion of people
    ],
)
def test_universal_quantifiers_count_only_where_they_state_a_proportion(text, found):
    assert [t.text for t in ledger.number_tokens(text) if t.kind == "universal"] == found


@pytest.mark.parametrize(
    "text, markers",
    [
        ("after fusion.2 If so", ["2"]),
        ("of cases.”5 More", ["5"]),
        ("no better than physical therapy (7).", ["7"]),
        ("Other research (23,24,25) has shown", ["23", "24", "25"]),
        ("at L4-L5 and (800) 300-9300, 26.8% of 77,682", []),
        ("in 26.8 percent, 1.5 mg at 9:30 AM, 3,5 times", []),  # decimals, a clock, a decimal comma
        ("after fusion.¹ Then", ["1"]),
        # Digits of any script: a marker's reference number is read as ASCII digits.
        ("no better than therapy (\u0667).", ["7"]),  # (٧)
        ("Other research (\uff12\uff13,\uff12\uff14) has shown", ["23", "24"]),  # (２３,２４)
        ("after fusion.\u0662 If so", ["2"]),  # .٢
        ("in \u0662\u0666.\u0668 percent of cases", []),  # ٢٦.٨: a decimal, no marker ٨
        # Superscripts stay markers, but not the numerator of a fraction.
        ("fusion.\u00b2\u00b3 Then", ["23"]),
        ("took 1\u00b9\u2044\u2082 hours.", []),
    ],
)
def test_footnote_markers(text, markers):
    assert [m.text for m in ledger.footnote_markers(text)] == markers


def test_sentence_of_a_marker_is_the_one_it_closes():
    text = "First sentence here. Second one ends. (4) Third one."
    offset = text.index("4")
    assert text[ledger.sentence_start(text, offset) :].startswith("Second one ends.")
    text = "A list:\n1. Examine the spine.\n2. Treat it."
    assert ledger.sentence(text, text.index("1.")) == "1. Examine the spine."
    text = "Before. Dr. Smith found 26.8 percent of cases. After."
    assert ledger.sentence(text, text.index("26.8")) == "Dr. Smith found 26.8 percent of cases."


def _sentence_start_by_full_scan(text: str, offset: int) -> int:
    """The definition sentence_start keeps: the end of the last sentence end found scanning text[:end]."""
    end = offset if text[offset - 1 : offset] == "\n" else max(offset - 1, 0)
    start = 0
    for match in ledger._SENTENCE_END.finditer(text, 0, end):
        start = match.end()
    return start


# Texts dense in what the sentence rule looks at: stops, markers, quotes, digits, "Dr", line breaks.
_TRICKY = st.text(alphabet=list('. \n1(2)"\u201d\u2019aDMr?!vs3\t'), max_size=60)


@settings(max_examples=300, deadline=None)
@given(_TRICKY, st.data())
def test_sentence_start_resuming_from_a_known_end_agrees_with_scanning_from_the_top(text, data):
    # sentence_start resumes its scan from the whole text's last sentence end before the offset; that must
    # give what a scan from the top of the text gives, wherever the offset is.
    offset = data.draw(st.integers(0, len(text)))
    assert ledger.sentence_start(text, offset) == _sentence_start_by_full_scan(text, offset)


def test_sentence_start_agrees_with_scanning_from_the_top_on_the_real_pages():
    for path in sorted((DATA / "sources").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        # Where the ledgers ask: at each footnote marker; and at every fifth number (the candidate sheet asks at each).
        for match in ledger.footnote_markers(text) + ledger.number_tokens(text)[::5]:
            for offset in (match.start, match.end):
                assert ledger.sentence_start(text, offset) == _sentence_start_by_full_scan(text, offset), (
                    path.name,
                    offset,
                )


# -- the ledgers on a small page ---------------------------------------------------------------------

PAGE = (
    "Clinic page\n"
    "About 30% of patients fail.1 Surgery helps some patients.2\n"
    "Call 555-010-2299. Three steps follow.\n"
    "References\n"
    "1. Smith. Spine. 2015;15:100-110.\n"
)
REFS = pd.DataFrame({"ref_id": ["p-r1", "p-r2"], "source_id": ["p", "p"], "ref_number": ["1", "2"]})


def frame(columns, rows=()):
    return pd.DataFrame(list(rows), columns=columns)


def test_number_ledger_accounts_by_claim_marker_and_exclusion_and_skips_the_reference_list():
    claims = frame(
        ["claim_id", "source_id", "quote", "value_text", "value"],
        [("p-01", "p", "About 30% of patients fail.", "About 30%", "30")],
    )
    exclusions = frame(["source_id", "line", "column", "text", "reason"], [("p", 3, 6, "555", "phone_or_address")])
    numbers = ledger.number_ledger("p", PAGE, claims, exclusions, first=5, last=5)
    by_text = dict(zip(numbers["text"], numbers["accounted_by"]))
    assert by_text["30"] == "p-01"
    assert by_text["1"] == by_text["2"] == "footnote marker"
    assert by_text["555"] == "phone_or_address"
    unaccounted = numbers[numbers["accounted_by"].isna()]
    assert list(zip(unaccounted["line"], unaccounted["column"], unaccounted["text"])) == [
        (3, 10, "010"),
        (3, 14, "2299"),
        (3, 20, "Three"),
    ]
    assert "2015" not in set(numbers["text"])  # line 5 is the reference list


def test_a_number_in_a_quote_counts_only_when_a_claim_records_it():
    page = "All patients stopped within one month, and 68% at two years.\n"
    duration = ("p-01", "p", page.strip(), "within one month", "1", "1 month", "")
    columns = ["claim_id", "source_id", "quote", "value_text", "value", "timepoint", "outcome"]
    numbers = ledger.number_ledger(
        "p", page, frame(columns, [duration]), frame(["source_id", "line", "column", "text", "reason"])
    )
    left = numbers[numbers["accounted_by"].isna()]["text"].tolist()
    assert left == ["All", "68", "two"]  # the month is recorded; the 100%, the 68% and its years are not
    share = ("p-02", "p", page.strip(), "68%", "68", "two years", "")
    everyone = ("p-03", "p", page.strip(), "All patients", "100", "1 month", "")
    numbers = ledger.number_ledger(
        "p", page, frame(columns, [duration, share, everyone]), frame(["source_id", "line", "column", "text", "reason"])
    )
    assert numbers["accounted_by"].notna().all()
    # An outcome that mentions all patients does not record the 100% a universal quantifier states.
    loose = ("p-03", "p", page.strip(), "within one month", "1", "1 month", "all patients, i.e. 100%")
    numbers = ledger.number_ledger(
        "p", page, frame(columns, [loose, share]), frame(["source_id", "line", "column", "text", "reason"])
    )
    assert numbers[numbers["accounted_by"].isna()]["text"].tolist() == ["All"]


def test_footnote_ledger_needs_a_quote_citing_that_reference_in_the_markers_sentence():
    claims = frame(["claim_id", "source_id", "quote", "ref_id"], [("p-01", "p", "About 30% of patients fail.", "p-r1")])
    statements = frame(["source_id", "ref_id", "quote"])
    markers = ledger.footnote_ledger("p", PAGE, claims, statements, REFS, first=5, last=5)
    assert markers["accounted_by"].fillna("").tolist() == ["p-01", ""]
    # A statement-audit row accounts for the second; citing the wrong reference does not.
    wrong = frame(["source_id", "ref_id", "quote"], [("p", "p-r1", "Surgery helps some patients.")])
    assert pd.isna(ledger.footnote_ledger("p", PAGE, claims, wrong, REFS)["accounted_by"].iloc[1])
    right = frame(["source_id", "ref_id", "quote"], [("p", "p-r2", "Surgery helps some patients.")])
    assert ledger.footnote_ledger("p", PAGE, claims, right, REFS)["accounted_by"].iloc[1] == "statement audit: p-r2"
    # A quote in another sentence does not account for a marker.
    elsewhere = frame(["claim_id", "source_id", "quote", "ref_id"], [("p-01", "p", "Clinic page", "p-r1")])
    assert pd.isna(ledger.footnote_ledger("p", PAGE, elsewhere, statements, REFS)["accounted_by"].iloc[0])


def test_a_marker_the_rule_cannot_see_is_declared_as_an_exclusion_and_then_needs_accounting():
    page = "Of 479 patients, about 15% 4 had pain.\n"
    refs = pd.DataFrame({"ref_id": ["p-r4"], "source_id": ["p"], "ref_number": ["4"]})
    declared = frame(["source_id", "line", "column", "text", "reason"], [("p", 1, 28, "4", "footnote_marker")])
    claims = frame(["claim_id", "source_id", "quote", "ref_id"])
    markers = ledger.footnote_ledger("p", page, claims, frame(["source_id", "ref_id", "quote"]), refs, declared)
    assert markers["marker"].tolist() == ["4"] and markers["accounted_by"].isna().all()


def test_a_fraction_or_other_digits_are_accounted_for_like_any_number():
    page = "Of \u0662\u0660 patients, \u00bd improved.\n"
    sentence = page.strip()
    columns = ["claim_id", "source_id", "quote", "value_text", "value", "population"]
    none = frame(["source_id", "line", "column", "text", "reason"])
    numbers = ledger.number_ledger("p", page, frame(columns), none)
    assert list(zip(numbers["column"], numbers["text"], numbers["accounted_by"].isna())) == [
        (4, "\u0662\u0660", True),
        (17, "\u00bd", True),
    ]
    # "½" recorded as 50 (percent, as "half" is), its 20 patients in the population.
    share = ("p-01", "p", sentence, "\u00bd", "50", "\u0662\u0660 patients")
    numbers = ledger.number_ledger("p", page, frame(columns, [share]), none)
    assert numbers["accounted_by"].tolist() == ["p-01", "p-01"]
    # A claim recording another value, and "½" in none of its text, does not account for it.
    wrong = ("p-01", "p", sentence, None, "30", "\u0662\u0660 patients")
    numbers = ledger.number_ledger("p", page, frame(columns, [wrong]), none)
    assert numbers["accounted_by"].isna().tolist() == [False, True]


def test_a_fraction_is_read_as_a_share_as_half_is():
    text = "About \u2153 of patients improve, within 2\u00bd years."
    first, second = ledger.number_tokens(text)
    reading = ledger.read_number(text, first)
    assert (text[reading.start : reading.end], reading.value, reading.unit, reading.bound) == (
        "About \u2153",
        33.3,
        "percent",
        "approx",
    )
    reading = ledger.read_number(text, second)
    assert (text[reading.start : reading.end], reading.value, reading.unit) == ("within 2\u00bd years", 2.5, "years")


def test_each_statement_audit_row_accounts_for_a_marker():
    def unmarked(*rows):
        statements = frame(["source_id", "ref_id", "quote", "footnote_line"], rows)
        return [
            (i, column) for i, column, _ in ledger.unmarked_statements("p", PAGE, statements, REFS, first=5, last=5)
        ]

    # The marker for its reference closes the quoted sentence.
    assert unmarked(("p", "p-r2", "Surgery helps some patients.", None)) == []
    # A marker closes it, but for another reference: the row names the wrong one.
    assert unmarked(("p", "p-r1", "Surgery helps some patients.", None)) == [(0, "ref_id")]
    # No marker closes the quoted sentence (the page lost it, or never had it).
    assert unmarked(("p", "p-r2", "Three steps follow.", None)) == [(0, "quote")]
    # A statement its footnote covers without closing names the marker's line; a marker for its reference must be there.
    assert unmarked(("p", "p-r2", "Three steps follow.", 2)) == []
    assert unmarked(("p", "p-r2", "Three steps follow.", 3), ("p", "p-r2", "Three steps follow.", 5)) == [
        (0, "footnote_line"),
        (1, "footnote_line"),  # line 5 is the reference list: no marker of the body
    ]
    # Rows of other pages are not this page's.
    assert unmarked(("q", "p-r2", "Three steps follow.", None)) == []


# -- enforced by validation, with located messages ---------------------------------------------------


def rewrite(path, keep):
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([rows[0]] + [r for r in rows[1:] if keep(r)])
    path.write_text(out.getvalue(), encoding="utf-8")


def run(capsys, data):
    status = validate_main(["--data", str(data)])
    return status, capsys.readouterr().err.splitlines()


def test_the_real_pages_are_fully_accounted_for(capsys):
    status = validate_main(["--data", str(DATA)])
    assert status == 0, capsys.readouterr().err


def test_an_unaccounted_number_is_named_by_page_line_and_column(data, capsys):
    # Drop the exclusion of the Darrow page's "911" (line 34).
    rewrite(data / "number_exclusions.csv", lambda r: not (r[0] == "darrow-muscle-damage" and r[3] == "911"))
    status, err = run(capsys, data)
    assert status == 1
    assert err[0] == (
        "data/sources/darrow-muscle-damage.txt:34: column 641: the number '911' is recorded by no claim "
        "and has no row in number_exclusions.csv (a claim whose quote contains it and records it as "
        "its value or in what it measures, or an exclusion with its reason)"
    )


def _append_to_darrow(data, line):
    """A line added at the end of the Darrow page (after its reference list), with the hash updated; its line."""
    page = data / "sources" / "darrow-muscle-damage.txt"
    text = page.read_text(encoding="utf-8") + "\n" + line
    page.write_text(text, encoding="utf-8")
    old = hashlib.sha256((DATA / "sources" / "darrow-muscle-damage.txt").read_bytes()).hexdigest()
    sources = (data / "sources.csv").read_text(encoding="utf-8")
    (data / "sources.csv").write_text(sources.replace(old, hashlib.sha256(text.encode()).hexdigest()), encoding="utf-8")
    return text.count("\n") + 1


def test_numbers_in_other_digits_and_fractions_are_in_the_ledger(data, capsys):
    # Arabic-Indic digits, a vulgar fraction and full-width digits: each named by its line and column.
    line = _append_to_darrow(data, "Of \u0662\u0660 patients, \u00bd improved and \uff12\uff10% relapsed.")
    status, err = run(capsys, data)
    assert status == 1
    page = "data/sources/darrow-muscle-damage.txt"
    assert [e.split(": the number")[0] for e in err[:-1]] == [
        f"{page}:{line}: column 4",
        f"{page}:{line}: column 17",
        f"{page}:{line}: column 32",
    ]
    assert "the number '\u00bd' is recorded by no claim" in err[1]
    # A claim whose value_text is the fraction states 50 (percent, as "half" does); its population
    # records the 20 patients; the full-width 20 is excluded.
    with open(data / "claims.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    claim = dict(next(r for r in rows if r["claim_id"] == "regenexx-failed-back-01"))
    claim.update(
        claim_id="darrow-muscle-damage-99",
        source_id="darrow-muscle-damage",
        quote="Of \u0662\u0660 patients, \u00bd improved",
        value_text="\u00bd",
        value="50",
        unit="percent",
        measure="rate",
        population="\u0662\u0660 patients",
        finding_id="darrow-half-improved",
        notes="",
    )
    with open(data / "claims.csv", "a", encoding="utf-8", newline="") as f:
        csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n").writerow(claim)
    with open(data / "number_exclusions.csv", "a", encoding="utf-8") as f:
        f.write(f"darrow-muscle-damage,{line},32,\uff12\uff10,other,\n")
    status, err = run(capsys, data)
    assert status == 0, err


def test_an_exclusion_of_nothing_is_named_by_its_csv_line(data, capsys):
    with open(data / "number_exclusions.csv", "a", encoding="utf-8") as f:
        f.write("darrow-muscle-damage,3,1,Many,vague_quantifier,\n")
    status, err = run(capsys, data)
    assert status == 1
    lines = (data / "number_exclusions.csv").read_text(encoding="utf-8").count("\n")
    assert err[0].startswith(f"data/number_exclusions.csv:{lines}: text: no number 'Many' at line 3, column 1")


def test_an_unaudited_footnoted_statement_is_named(data, capsys):
    rewrite(data / "statement_audit.csv", lambda r: r[1] != "centeno-schultz-fbss-r11")
    status, err = run(capsys, data)
    assert status == 1
    assert err[0].startswith("data/sources/centeno-schultz-fbss.txt:173: column 275: footnote 11 marks a statement")


def edit_rows(path, edit):
    """Rewrite a CSV file with edit(row) applied to each row (a dict)."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(edit(dict(row)) or row for row in rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def test_a_statement_audit_row_whose_marker_is_gone_is_named(data, capsys):
    # The page loses footnote (11) of the statement that row 17 of statement_audit.csv audits.
    page = data / "sources" / "centeno-schultz-fbss.txt"
    old = page.read_bytes()
    page.write_bytes(old.replace(b"this muscle (11).", b"this muscle."))
    sources = (data / "sources.csv").read_text(encoding="utf-8")
    new = hashlib.sha256(page.read_bytes()).hexdigest()
    (data / "sources.csv").write_text(sources.replace(hashlib.sha256(old).hexdigest(), new), encoding="utf-8")
    status, err = run(capsys, data)
    assert status == 1
    assert err[:-1] == [
        "data/statement_audit.csv:17: quote: no footnote marker for reference [11] (centeno-schultz-fbss-r11) closes "
        "this statement on the page: each statement-audit row accounts for a marker (a statement its footnote "
        "covers without closing names that marker's line in footnote_line)"
    ]


def test_a_statement_audit_row_naming_the_wrong_reference_is_named(data, capsys):
    # Row 12 audits the last sentence of the quotation that footnote 2 closes; say it cites reference 1.
    def wrong(row):
        if row["ref_id"] == "caring-fbss-options-r2" and row["quote"].startswith("Finally, revision surgery"):
            row.update(ref_id="caring-fbss-options-r1", pmid="", doi="")
            return row

    edit_rows(data / "statement_audit.csv", wrong)
    status, err = run(capsys, data)
    assert status == 1
    assert (
        "data/statement_audit.csv:12: ref_id: the footnote marker closing this statement on the page is [2], not [1] "
        "(caring-fbss-options-r1): each statement-audit row accounts for a marker for its reference"
    ) in err
    # Footnote 2 is then accounted for by nothing: the footnote ledger names it too.
    assert any(e.startswith("data/sources/caring-fbss-options.txt:47: column 387: footnote 2 marks") for e in err)


def test_a_statement_its_footnote_covers_without_closing_names_the_markers_line(data, capsys):
    # Five rows audit statements their footnote covers without closing; without footnote_line each is refused.
    edit_rows(data / "statement_audit.csv", lambda row: {**row, "footnote_line": ""})
    status, err = run(capsys, data)
    assert status == 1
    assert [e.split(": no footnote marker for reference")[0] for e in err[:-1]] == [
        f"data/statement_audit.csv:{line}: quote" for line in (3, 4, 5, 6, 40)
    ]
    # A line without a marker for that reference is refused too.
    shutil.copy(DATA / "statement_audit.csv", data / "statement_audit.csv")
    edit_rows(
        data / "statement_audit.csv", lambda row: {**row, "footnote_line": "116"} if row["footnote_line"] else row
    )
    status, err = run(capsys, data)
    assert status == 1
    assert err[-2] == (
        "data/statement_audit.csv:40: footnote_line: no footnote marker for reference [6] (centeno-schultz-fbss-r6) "
        "on line 116 of the page: each statement-audit row accounts for a marker, and a statement its footnote "
        "covers without closing names that marker's line"
    )
    assert len(err) == 6


def test_a_missing_universal_claim_is_found(data, capsys):
    # Without the 100% row, "All patients ..." lies only in the quote of the duration claim, which does
    # not record it: the ledger finds the omission that made it a row.
    for table in ("claims.csv", "citation_audit.csv", "claim_questions.csv"):
        rewrite(data / table, lambda r: r[0] != "caring-prolotherapy-fbss-47")
    status, err = run(capsys, data)
    assert status == 1
    assert err[0].startswith("data/sources/caring-prolotherapy-fbss.txt:241: column 1: the number 'All' ")


def test_an_exclusion_of_a_number_a_claim_records_is_refused(data, capsys):
    # "170.9%" on Centeno-Schultz line 114 is claim centeno-schultz-fbss-11's value.
    line = (data / "sources" / "centeno-schultz-fbss.txt").read_text(encoding="utf-8").split("\n")[113]
    column = line.index("170.9") + 1
    with open(data / "number_exclusions.csv", "a", encoding="utf-8") as f:
        f.write(f"centeno-schultz-fbss,114,{column},170.9,other,\n")
    status, err = run(capsys, data)
    assert status == 1
    assert f"no number '170.9' at line 114, column {column} of centeno-schultz-fbss needs excluding" in err[0]


def test_a_declared_marker_off_the_page_is_located_not_a_crash(data, capsys):
    with open(data / "number_exclusions.csv", "a", encoding="utf-8") as f:
        f.write("darrow-muscle-damage,9999,1,4,footnote_marker,\n")
    status, err = run(capsys, data)
    assert status == 1
    assert "no number '4' at line 9999, column 1 of darrow-muscle-damage" in err[0]


@pytest.mark.parametrize(
    "first, last, message",
    [
        ("36", "", "references_last_line: give both ends of the reference list, or neither"),
        ("44", "36", "references_first_line: lines 44-36 are not a range within the page's"),
        ("36", "999", "references_first_line: lines 36-999 are not a range within the page's"),
    ],
)
def test_the_reference_list_lines_are_checked(data, capsys, first, last, message):
    text = (data / "sources.csv").read_text(encoding="utf-8")
    head, darrow, *rest = text.split("\n")
    assert darrow.startswith("darrow-muscle-damage,") and darrow.endswith(",36,44")
    (data / "sources.csv").write_text(
        "\n".join([head, darrow[: -len(",36,44")] + f",{first},{last}", *rest]), encoding="utf-8"
    )
    status, err = run(capsys, data)
    assert status == 1
    assert err[0].startswith(f"data/sources.csv:2: {message}")


def test_other_problems_say_the_ledgers_wait_for_them(data, capsys):
    rows = list(csv.reader(io.StringIO((data / "claims.csv").read_text(encoding="utf-8"), newline="")))
    rows[1][rows[0].index("value")] = "x"  # not a number
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (data / "claims.csv").write_text(out.getvalue(), encoding="utf-8")
    assert validate_main(["--data", str(data)]) == 1
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.endswith("problem(s) found. The number and footnote ledgers run once these are fixed.")


def test_the_success_line_says_whether_the_ledgers_were_checked(capsys):
    assert validate_main(["--data", str(DATA)]) == 0
    assert "every number and footnote on the pages accounted for" in capsys.readouterr().out
    assert validate_main(["--data", str(DATA), "--number-exclusions", "none"]) == 0
    assert "the number and footnote ledgers were not checked" in capsys.readouterr().out


def test_an_unknown_exclusion_reason_is_refused(data, capsys):
    text = (data / "number_exclusions.csv").read_text(encoding="utf-8").replace("spinal_level", "level", 1)
    (data / "number_exclusions.csv").write_text(text, encoding="utf-8")
    status, err = run(capsys, data)
    assert status == 1 and any("number_exclusions.csv" in e and "reason" in e for e in err)


def test_recorded_numbers_keep_each_page_apart():
    # The same quote on two pages, recorded differently: each page's ledger sees only its own claims.
    quote = "In 40 of 60 patients"
    claims = pd.DataFrame(
        {
            "claim_id": ["a-1", "b-1", "a-2"],
            "source_id": ["a", "b", "a"],
            "quote": [quote, quote, "Half improved"],
            "value": [40.0, 60.0, 50.0],
            "value_text": [None, "60 patients", "half"],
            "timepoint": [None, None, None],
        }
    )
    by_page = ledger.recorded_numbers_by_page(claims)
    assert list(by_page) == ["a", "b"] and list(by_page["a"]) == [quote, "Half improved"]
    claim_id, values, words = by_page["a"][quote]
    assert claim_id == "a-1" and values.tolist() == [40.0] and words.tolist() == []
    claim_id, values, words = by_page["b"][quote]
    assert claim_id == "b-1" and values.tolist() == [60.0] and words.tolist() == [60.0]
    assert by_page["a"]["Half improved"][2].tolist() == [50.0]
    # The one-page form and number_ledger given the page's entry agree with computing it for the page.
    assert ledger.recorded_numbers(claims, "b").keys() == by_page["b"].keys()
    exclusions = pd.DataFrame(columns=["source_id", "line", "column", "text", "reason"])
    page = quote + ". Half improved."
    alone = ledger.number_ledger("a", page, claims, exclusions)
    given = ledger.number_ledger("a", page, claims, exclusions, recorded=by_page["a"])
    pd.testing.assert_frame_equal(alone, given)
    accounted = alone.set_index("text")["accounted_by"]
    assert accounted[["40", "Half"]].tolist() == ["a-1", "a-2"] and pd.isna(accounted["60"])


# -- reading a number with its words: number words, ranges in words, list numbering --------------------


@pytest.mark.parametrize(
    "text, value_text, value, low, high, unit, bound",
    [
        ("Twenty-two percent had pain.", "Twenty-two percent", 22, None, None, "percent", "exact"),
        ("About forty percent of patients improve.", "About forty percent", 40, None, None, "percent", "approx"),
        ("twenty-two to forty percent of patients", "twenty-two to forty percent", None, 22, 40, "percent", "range"),
        ("between twenty and forty per cent", "twenty and forty per cent", None, 20, 40, "percent", "range"),
        ("in 20 to 40% of cases", "20 to 40%", None, 20, 40, "percent", "range"),
        ("Between 20-40% of patients", "20-40%", None, 20, 40, "percent", "range"),
        ("seven to eleven years later", "seven to eleven years", None, 7, 11, "years", "range"),
        ("nearly one in four patients", "nearly one in four", 25, None, None, "percent", "approx"),
        ("three hundred patients", "three hundred", 300, None, None, "count", "exact"),
        ("Nearly half of them", "Nearly half", 50, None, None, "percent", "approx"),
        ("up to 25% of patients", "up to 25%", 25, None, None, "percent", "upper"),
        ("for at least 12 months", "at least 12 months", 12, None, None, "months", "lower"),
        ("All patients in the programme", "All patients", 100, None, None, "percent", "exact"),
        ("two and three", "two", 2, None, None, "count", "exact"),  # 'and' is a range only after 'between'
    ],
)
def test_a_number_is_read_with_its_words(text, value_text, value, low, high, unit, bound):
    token = ledger.number_tokens(text)[0]
    reading = ledger.read_number(text, token)
    assert (
        text[reading.start : reading.end],
        reading.value,
        reading.low,
        reading.high,
        reading.unit,
        reading.bound,
    ) == (value_text, value, low, high, unit, bound)


def test_the_sheet_guesses_each_number_of_a_range_in_words():
    sheet = ledger.candidate_sheet("x", "Between twenty-two to forty percent of patients fail.")
    assert sheet[["text", "guessed_value", "guessed_unit", "guessed_bound"]].values.tolist() == [
        ["twenty-two", "22", "percent", "range"],
        ["forty", "40", "percent", "range"],
    ]


def test_a_range_in_words_is_one_candidate_claim():
    claims = ledger.claim_candidates("x", "Between twenty-two to forty percent of patients fail.\n")
    assert claims[["value_text", "value", "value_low", "value_high", "bound", "unit"]].values.tolist() == [
        ["twenty-two to forty percent", "", "22", "40", "range", "percent"]
    ]


@pytest.mark.parametrize(
    "text, listed",
    [
        ("Our approach: 1. Examine the spine. 2. Treat the ligaments. 3. Rest.", ["1", "2", "3"]),
        ("Steps:\n1. Examine.\n2) Treat.\n", ["1", "2"]),
        ("Two steps; 1. look 2. treat", []),  # no sentence end before '2': not a list marker
        ("We followed 12. Then 40% improved.", []),  # a sentence ending with a number
        ("Results: 1. Most improved.", []),  # a lone inline '1.' counts nothing
    ],
)
def test_list_numbering_is_suggested_for_list_markers_inline_and_at_line_starts(text, listed):
    sheet = ledger.candidate_sheet("x", text)
    assert sheet.loc[sheet["suggested_exclusion"] == "list_numbering", "text"].tolist() == listed
