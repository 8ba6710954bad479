"""A corpus of bad claims files: each must be refused with an exact, located message.

Every case starts from the real data/claims.csv, breaks one thing, runs the
validator (in-process through `fbss_evidence.validate.main`, some also through
the installed `fbss-validate` command) and checks the exit status and the whole
list of `file:line: column: message` lines. Line numbers are physical lines of
the CSV file: the header is line 1, the n-th data row is line n + 1 unless a
quoted field earlier in the file spans several lines. The `claims` fixture
(conftest.py) makes the tmp directory the working directory, so the claims
file is reported as `claims.csv`; its run helpers also fail on any traceback.
"""

from __future__ import annotations

import csv
import hashlib
import re

import pytest

from fbss_evidence import vocab
from fbss_evidence.config import DATA

with open(DATA / "claims.csv", encoding="utf-8", newline="") as _f:
    _REAL = list(csv.reader(_f))
WIDTH = len(_REAL[0])  # columns of the real data/claims.csv
N_CLAIMS = len(_REAL) - 1  # its claims (none spans lines, so claim n is on line n + 1)
with open(DATA / "sources.csv", encoding="utf-8", newline="") as _f:
    N_SOURCES = len(list(csv.DictReader(_f)))

SLUG_FORM = "(expected ('^[a-z0-9]+(?:-[a-z0-9]+)*$'))"
QUOTE_HINT = "(a quote character inside a field must be doubled)"
NOT_UTF8 = "is not UTF-8; save the file as UTF-8 (most spreadsheets: 'CSV UTF-8')"


def unknown(value: str, column: str, table: str, claims_copy: bool = False) -> str:
    """The message of a foreign key that names no row (validate.reference_problems)."""
    where = "claims.csv" if claims_copy else str(DATA / table)  # the tests run outside the project
    return f"'{value}' is not a known {column} (see {where}): a row may only point at one that exists"


def located(line: int, column: str, message: str, file: str = "claims.csv") -> str:
    return f"{file}:{line}: {column}: {message}"


def _printed_order(message: str):
    file, line, rest = re.fullmatch(r"(.*?):(\d+): (.*)", message, re.DOTALL).groups()
    return file, int(line), rest


def assert_refused(run, *expected: str) -> None:
    """Exit status 1, exactly the expected problems (in the order printed), and the count."""
    assert run.status == 1, run.out
    assert run.problems == sorted(expected, key=_printed_order)
    assert run.err.splitlines()[-1] == f"{len(expected)} problem(s) found."


def assert_accepted(run, n_claims: int = N_CLAIMS) -> None:
    assert run.status == 0, run.err
    assert run.err == ""
    assert run.out.startswith(f"claims.csv: {n_claims} claims from {N_SOURCES} sources valid; ")


def allowed(values) -> str:
    return "use one of: " + ", ".join(values)


# -- the real file is valid (so every refusal below is caused by the mutation) -------


def test_unchanged_copy_is_valid(claims):
    claims.write(claims.rows())
    assert_accepted(claims.run(audit=True))


# -- one row changed: (row, changes, expected (column, message) pairs) ----------------

ROW_CASES = {
    "non-numeric value": (
        "darrow-muscle-damage-02",
        {"value": "about 40"},
        # The cell counts as empty for the other checks, so the bound misses its value too.
        [("value", "'about 40' is not a number"), ("value", "bound 'upper' needs a value")],
    ),
    "comma decimal": (
        "caring-prolotherapy-fbss-46",
        {"value": "71,2"},
        [
            (
                "value",
                "'71,2' is not a number (use a point for decimals and no thousands separator, e.g. 71.2 or 77682)",
            ),
            ("value", "bound 'exact' needs a value"),
        ],
    ),
    "thousands separator": (
        "centeno-schultz-fbss-10",
        {"value": "77,682"},
        [
            (
                "value",
                "'77,682' is not a number (use a point for decimals and no thousands separator, e.g. 71.2 or 77682)",
            ),
            ("value", "bound 'exact' needs a value"),
        ],
    ),
    "percent sign in value": (
        "caring-prolotherapy-fbss-46",
        {"value": "71.2%"},
        [
            ("value", "'71.2%' is not a number (write the number without the % sign; the unit column says percent)"),
            ("value", "bound 'exact' needs a value"),
        ],
    ),
    "percent over 100": (
        "centeno-schultz-fbss-09",
        {"unit": "percent"},
        [("value", "170.9 is not a percentage between 0 and 100 (use unit percent_change for a change)")],
    ),
    "negative percent bound": (
        "centeno-schultz-fbss-01",
        {"value_low": "-20"},
        [
            ("value_low", "-20 is not a percentage between 0 and 100 (use unit percent_change for a change)"),
            ("value_low", "-20 is not stated by value_text '20-40%' (it states 20, 40)"),
        ],
    ),
    "negative denominator": (
        "caring-fbss-options-05",
        {"denominator": "-479"},
        [
            ("denominator", "-479 must be greater than 0"),
            ("denominator", "-479 does not appear in the quote"),
            ("numerator", "numerator 69 is greater than denominator -479"),
        ],
    ),
    "negative numerator": (
        "caring-fbss-options-05",
        {"numerator": "-69"},
        [("numerator", "-69 is negative"), ("numerator", "-69 does not appear in the quote")],
    ),
    "value_low greater than value_high": (
        "darrow-muscle-damage-03",
        {"value_low": "11", "value_high": "7"},
        [("value_low", "value_low 11 is greater than value_high 7")],
    ),
    "value above its range": (
        "darrow-muscle-damage-03",
        {"value": "15"},
        [
            ("value", "value 15 is above value_high 11"),
            ("value", "15 is not stated by value_text '7 to 11 years' (it states 7, 11)"),
        ],
    ),
    "value below its range": (
        "darrow-muscle-damage-03",
        {"value": "5"},
        [
            ("value", "value 5 is below value_low 7"),
            ("value", "5 is not stated by value_text '7 to 11 years' (it states 7, 11)"),
        ],
    ),
    "range without value_high": (
        "darrow-muscle-damage-03",
        {"value_high": ""},
        [("value_low", "a range needs both value_low and value_high")],
    ),
    "bound without value": ("darrow-muscle-damage-02", {"value": ""}, [("value", "bound 'upper' needs a value")]),
    "numerator greater than denominator": (
        "caring-fbss-options-05",
        {"numerator": "479", "denominator": "69"},
        [("numerator", "numerator 479 is greater than denominator 69")],
    ),
    "numerator without denominator": (
        "caring-fbss-options-05",
        {"denominator": ""},
        [("denominator", "numerator and denominator go together: fill both or neither")],
    ),
    "non-integer numerator": (
        "caring-fbss-options-05",
        {"numerator": "69.5"},
        [
            ("numerator", "69.5 is not a whole number: numerator counts"),
            ("numerator", "69.5 does not appear in the quote"),
        ],
    ),
    "bad claim_id form": (
        "darrow-muscle-damage-02",
        {"claim_id": "Darrow_02"},
        [("claim_id", f"'Darrow_02' has the wrong form {SLUG_FORM}")],
    ),
    "unknown source_id": (
        "caring-fbss-options-01",
        {"source_id": "mayo-clinic"},
        [("source_id", unknown("mayo-clinic", "source_id", "sources.csv"))],
    ),
    "unknown ref_id": (
        "darrow-muscle-damage-01",
        {"ref_id": "darrow-muscle-damage-r99"},
        [("ref_id", unknown("darrow-muscle-damage-r99", "ref_id", "references.csv"))],
    ),
    "cited_study without ref_id": (
        "darrow-muscle-damage-01",
        {"ref_id": ""},
        [("ref_id", "basis is cited_study but no ref_id is given")],
    ),
    "ref_id on an uncited claim": (
        "caring-fbss-options-01",
        {"ref_id": "caring-fbss-options-r3"},
        [("basis", "'uncited' claim has a ref_id; use basis cited_study or clear ref_id")],
    ),
    "ref_id from another source's list": (
        "darrow-muscle-damage-01",
        {"ref_id": "caring-fbss-options-r3"},
        [
            (
                "ref_id",
                "'caring-fbss-options-r3' is in the reference list of caring-fbss-options, not of darrow-muscle-damage",
            )
        ],
    ),
    "unknown topic": (
        "darrow-muscle-damage-02",
        {"topic": "satisfaction"},
        [("topic", f"'satisfaction' is not allowed; {allowed(vocab.TOPICS)}")],
    ),
    "unknown basis": (
        "caring-fbss-options-01",
        {"basis": "hearsay"},
        [("basis", f"'hearsay' is not allowed; {allowed(vocab.BASES)}")],
    ),
    "unknown bound": (
        "darrow-muscle-damage-02",
        {"bound": "at most"},
        [("bound", f"'at most' is not allowed; {allowed(vocab.BOUNDS)}")],
    ),
    "unknown unit": (
        "darrow-muscle-damage-02",
        {"unit": "%"},
        [("unit", f"'%' is not allowed; {allowed(vocab.UNITS)}")],
    ),
    "unknown measure": (
        "darrow-muscle-damage-02",
        {"measure": "proportion"},
        [("measure", f"'proportion' is not allowed; {allowed(vocab.MEASURES)}")],
    ),
    "base_claim_id not in the file": (
        "caring-fbss-options-07",
        {"base_claim_id": "caring-fbss-options-99"},
        [("base_claim_id", unknown("caring-fbss-options-99", "claim_id", "claims.csv", claims_copy=True))],
    ),
    "base_claim_id of another source": (
        "caring-fbss-options-07",
        {"base_claim_id": "darrow-muscle-damage-01"},
        [("base_claim_id", "'darrow-muscle-damage-01' is a claim of darrow-muscle-damage, not of caring-fbss-options")],
    ),
    "base_claim_id not a count": (
        "caring-fbss-options-07",
        {"base_claim_id": "caring-fbss-options-06"},
        [("base_claim_id", "'caring-fbss-options-06' is not a count (unit percent)")],
    ),
    "whole_id on a count": (
        "caring-fbss-options-05",
        {"whole_id": "radiculopathy-diagnosis"},
        [("whole_id", "only percentages can be shares of a whole")],
    ),
    "base count of zero": (
        "centeno-schultz-fbss-10",
        {"value": "0", "value_text": "77,682"},
        [
            ("value", "'centeno-schultz-fbss-10' is named as a base_claim_id, so it needs one value greater than 0"),
            ("value", "0 is not stated by value_text '77,682' (it states 77682)"),
        ],
    ),
    "denominator read into 'All patients'": (
        "caring-prolotherapy-fbss-33",
        {"numerator": "1", "denominator": "100"},
        [("denominator", "100 does not appear in the quote")],
    ),
    "whole_id on a range": (
        "centeno-schultz-fbss-01",
        {"whole_id": "failure-shares"},
        [("whole_id", "a share of a whole needs one value, not a range")],
    ),
    "empty quote": ("darrow-muscle-damage-02", {"quote": ""}, [("quote", "must not be empty")]),
    "whitespace-only outcome": ("darrow-muscle-damage-02", {"outcome": "  \t "}, [("outcome", "must not be empty")]),
    "quote not in source": (
        "darrow-muscle-damage-02",
        {"quote": "up to 40% are unhappy with the outcome of lumbar fusion"},
        [
            (
                "quote",
                "not found verbatim in the source text of darrow-muscle-damage (copy it "
                "exactly, including punctuation and spacing)",
            )
        ],
    ),
    "quote with collapsed double space": (
        "caring-fbss-options-02",
        {
            "quote": "nearly one in four patients who had a lumbar discectomy had positive scans "
            "for recurrent disc herniation"
        },
        [
            (
                "quote",
                "not found verbatim in the source text of caring-fbss-options (copy it "
                "exactly, including punctuation and spacing)",
            )
        ],
    ),
    "value_text not in quote": (
        "darrow-muscle-damage-02",
        {"value_text": "up to 45%"},
        [("value_text", "'up to 45%' does not appear in the quote")],
    ),
    "value not stated by value_text": (
        "darrow-muscle-damage-02",
        {"value": "41"},
        [("value", "41 is not stated by value_text 'up to 40%' (it states 40)")],
    ),
    "numerator not in quote": (
        "caring-fbss-options-05",
        {"numerator": "70"},
        [("numerator", "70 does not appear in the quote")],
    ),
}


@pytest.mark.parametrize("which, changes, expected", ROW_CASES.values(), ids=ROW_CASES.keys())
def test_bad_row(claims, which, changes, expected):
    line = claims.mutate(which, **changes)
    assert_refused(claims.run(), *(located(line, col, msg) for col, msg in expected))


def test_line_numbers_count_from_the_header(claims):
    # The 3rd data row is line 4.
    rows = claims.rows()
    rows[2]["topic"] = "muscles"
    claims.write(rows)
    assert rows[2]["claim_id"] == "darrow-muscle-damage-03"
    assert_refused(claims.run(), located(4, "topic", f"'muscles' is not allowed; {allowed(vocab.TOPICS)}"))


def test_duplicate_claim_id(claims):
    line = claims.mutate("darrow-muscle-damage-04", claim_id="darrow-muscle-damage-02")
    assert_refused(
        claims.run(),
        located(line, "claim_id", "'darrow-muscle-damage-02' is used again (first on line 3): each claim_id is unique"),
    )


def test_line_after_a_multiline_field_is_the_physical_line(claims):
    rows = claims.rows()
    rows[1]["notes"] = "first line of a note\nsecond line\nthird line"  # line 3, spans 3-5
    rows[1]["value"] = "forty"  # reported where the record starts
    rows[3]["unit"] = "year"  # 4th data row: line 5 without the note, 7 with it
    claims.write(rows)
    assert_refused(
        claims.run(),
        located(3, "value", "'forty' is not a number"),
        located(3, "value", "bound 'upper' needs a value"),
        located(7, "unit", f"'year' is not allowed; {allowed(vocab.UNITS)}"),
    )


def test_blank_lines_are_skipped_but_counted(claims):
    text = claims.to_text(claims.rows())
    lines = text.split("\n")
    lines.insert(3, "")  # a blank line after the 2nd data row
    lines.insert(4, ",,,")  # and a line of empty cells
    text = "\n".join(lines).replace("darrow-muscle-damage-03,", "Darrow-muscle-damage-03,", 1)
    claims.path.write_text(text, encoding="utf-8", newline="")
    assert_refused(claims.run(), located(6, "claim_id", f"'Darrow-muscle-damage-03' has the wrong form {SLUG_FORM}"))


def test_all_problems_are_reported_at_once(claims):
    rows = claims.rows()
    rows[0]["topic"] = "pain"  # line 2
    rows[9]["denominator"] = ""  # line 11
    rows[60]["value_text"] = "twice/week"  # line 62
    claims.write(rows)
    expected = [
        located(2, "topic", f"'pain' is not allowed; {allowed(vocab.TOPICS)}"),
        located(11, "denominator", "numerator and denominator go together: fill both or neither"),
        located(62, "value_text", "'twice/week' does not appear in the quote"),
    ]
    assert_refused(claims.run(), *expected)
    assert_refused(claims.run_cli(), *expected)


def test_renamed_claim_is_reported_in_the_audit_table(claims):
    claims.mutate("darrow-muscle-damage-01", claim_id="darrow-muscle-damage-99")
    audit = str(DATA / "citation_audit.csv")
    assert_refused(
        claims.run(audit=True),
        located(
            2, "claim_id", unknown("darrow-muscle-damage-01", "claim_id", "claims.csv", claims_copy=True), file=audit
        ),
        # and the renamed claim, which cites a study, has no audit row of its own
        located(
            2,
            "claim_id",
            "cites darrow-muscle-damage-r1 but has no row in the citation audit "
            "(add one to citation_audit.csv once the study's abstract has been read)",
        ),
    )


# -- the header -------------------------------------------------------------------


def test_missing_required_column(claims):
    header = [c for c in claims.header if c != "unit"]
    claims.write(claims.rows(), header=header)
    assert_refused(claims.run(), located(1, "unit", "required column is missing"))


def test_misspelled_required_column_suggests_the_right_name(claims):
    header = ["qoute" if c == "quote" else c for c in claims.header]
    rows = [{("qoute" if k == "quote" else k): v for k, v in row.items()} for row in claims.rows()]
    claims.write(rows, header=header)
    assert_refused(claims.run(), located(1, "quote", "required column is missing (is 'qoute' a misspelling of it?)"))


def test_column_named_twice(claims):
    header = claims.header + ["notes"]
    claims.write([rec + ["again"] for rec in claims.records], header=header)
    assert_refused(claims.run(), located(1, "notes", "column appears twice in the header"))


def test_empty_column_names(claims):
    # A trailing comma in the header, and an empty name in the middle: one problem, no
    # "appears twice" for the empty names.
    header = claims.header[:3] + [""] + claims.header[3:] + [""]
    claims.write([rec[:3] + [""] + rec[3:] + [""] for rec in claims.records], header=header)
    assert_refused(claims.run(), located(1, "-", "header has an empty column name"))


def test_extra_unknown_columns_are_accepted(claims):
    header = claims.header + ["reviewer", "checked_on"]
    rows = claims.rows()
    for row in rows:
        row.update(reviewer="AB", checked_on="2024-05-01")
    claims.write(rows, header=header)
    assert_accepted(claims.run(audit=True))


# -- the file as a whole --------------------------------------------------------------


def test_empty_file(claims):
    claims.write_bytes(b"")
    expected = located(1, "-", "file is empty; expected a header row")
    assert_refused(claims.run(), expected)
    assert_refused(claims.run_cli(), expected)


def test_header_only(claims):
    claims.write([])
    assert_refused(claims.run(), located(1, "-", "file has a header but no claims"))


def test_missing_file(claims):
    assert_refused(claims.run(), located(0, "-", "cannot read file: No such file or directory"))


def test_bom_and_crlf_are_accepted(claims):
    text = claims.to_text(claims.rows(), lineterminator="\r\n")
    claims.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert claims.path.read_bytes().count(b"\r\n") == N_CLAIMS + 1
    assert_accepted(claims.run(audit=True))
    assert_accepted(claims.run_cli(audit=True))


def test_bom_and_crlf_keep_line_numbers(claims):
    rows = claims.rows()
    rows[1]["notes"] = "two\r\nlines"
    rows[4]["unit"] = "percentage"
    text = claims.to_text(rows, lineterminator="\r\n")
    claims.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert_refused(claims.run(), located(7, "unit", f"'percentage' is not allowed; {allowed(vocab.UNITS)}"))


def test_latin1_bytes_name_the_line(claims):
    rows = claims.rows()
    rows[4]["notes"] = "caf\N{LATIN SMALL LETTER E WITH ACUTE}"
    data = claims.to_text(rows).encode("utf-8").replace("caf\u00e9".encode(), b"caf\xe9")
    claims.write_bytes(data)
    expected = located(6, "-", f"byte 0xe9 {NOT_UTF8}")
    assert_refused(claims.run(), expected)
    assert_refused(claims.run_cli(), expected)


def test_windows_1252_dash_names_the_line(claims):
    # caring-fbss-options-09's quote has an en dash; Excel's "CSV" saves it as byte 0x96.
    line = claims.index("caring-fbss-options-09") + 2
    data = claims.to_text(claims.rows()).encode("utf-8")
    claims.write_bytes(data.replace("\u2013".encode(), b"\x96"))
    assert_refused(claims.run(), located(line, "-", f"byte 0x96 {NOT_UTF8}"))


def test_one_megabyte_field(claims):
    line = claims.mutate("caring-fbss-options-03", notes="x" * 1_000_000)
    assert_refused(
        claims.run(),
        located(
            line, "notes", "field is 1,000,000 characters long; the limit is 20,000 (was something pasted by mistake?)"
        ),
    )


@pytest.mark.parametrize(
    "note",
    [
        "=SUM(A1:A9)",
        "+1 see page",
        "-2 per protocol",
        "@reviewer check",
        '=HYPERLINK("http://example.org","x")',
        "\t=1+1",
    ],
)
def test_formula_like_notes_are_text(claims, note):
    rows = claims.rows()
    for row in rows[:10]:
        row["notes"] = note
    claims.write(rows)
    assert_accepted(claims.run())


def test_ragged_row_too_many_fields(claims):
    records = [list(rec) for rec in claims.records]
    records[6] = records[6] + ["stray"]  # line 8
    records[7] = records[7][:-2]  # line 9: too few
    claims.write(records)
    expected = [
        located(8, "-", f"row has {WIDTH + 1} fields but the header has {WIDTH}"),
        located(9, "-", f"row has {WIDTH - 2} fields but the header has {WIDTH}"),
    ]
    assert_refused(claims.run(), *expected)
    assert_refused(claims.run_cli(), *expected)


# -- broken quoting ---------------------------------------------------------------------


def test_text_after_a_closing_quote(claims):
    text = claims.to_text(claims.rows())
    lines = text.split("\n")
    assert lines[3].startswith("darrow-muscle-damage-03,")
    lines[3] = lines[3].replace(",7 to 11 years,", ',"7 to 11" years,', 1)
    claims.path.write_text("\n".join(lines), encoding="utf-8", newline="")
    expected = located(4, "-", f"malformed CSV: ',' expected after '\"' {QUOTE_HINT}")
    assert_refused(claims.run(), expected)
    assert_refused(claims.run_cli(), expected)


def test_unclosed_quote_at_the_end(claims):
    text = claims.to_text(claims.rows()) + 'extra-01,darrow-muscle-damage,"never closed\n'
    claims.path.write_text(text, encoding="utf-8", newline="")
    assert_refused(claims.run(), located(N_CLAIMS + 2, "-", f"malformed CSV: unexpected end of data {QUOTE_HINT}"))


def test_malformed_header(claims):
    text = claims.to_text(claims.rows())
    claims.path.write_text('"claim_id"x' + text[len("claim_id") :], encoding="utf-8", newline="")
    assert_refused(claims.run(), located(1, "-", f"malformed CSV: ',' expected after '\"' {QUOTE_HINT}"))


def test_unclosed_quote_in_header(claims):
    claims.path.write_text('"claim_id,source_id\n', encoding="utf-8", newline="")
    assert_refused(claims.run(), located(1, "-", f"malformed CSV: unexpected end of data {QUOTE_HINT}"))


# -- the source texts ---------------------------------------------------------------------


def _unquoted_offset(text: str, quotes: list[str]) -> int:
    """An offset of an ASCII letter in `text` that lies in none of the quotes."""
    covered = set()
    for quote in quotes:
        for m in re.finditer(re.escape(quote), text):
            covered.update(range(m.start(), m.end()))
    return next(i for i, ch in enumerate(text) if ch.isascii() and ch.isalpha() and i not in covered)


def test_source_text_edited_after_its_hash_was_recorded(claims):
    folder = claims.copy_sources()
    doc = folder / "sources" / "darrow-muscle-damage.txt"
    data = bytearray(doc.read_bytes())
    text = data.decode("utf-8")
    quotes = [r["quote"] for r in claims.rows() if r["source_id"] == "darrow-muscle-damage"]
    i = len(text[: _unquoted_offset(text, quotes)].encode("utf-8"))
    data[i] = ord("X") if data[i] != ord("X") else ord("Y")
    doc.write_bytes(bytes(data))
    claims.write(claims.rows())
    new = hashlib.sha256(bytes(data)).hexdigest()
    expected = located(
        2,
        "sha256",
        "sources/darrow-muscle-damage.txt has changed since its hash was recorded "
        f"(recorded 697fad2eb9d4..., now {new[:12]}...); source documents are raw data and "
        "must not be edited",
        file="src/sources.csv",
    )
    assert_refused(claims.run(), expected)
    assert_refused(claims.run_cli(), expected)


def test_source_text_with_a_non_utf8_byte(claims):
    folder = claims.copy_sources()
    doc = folder / "sources" / "regenexx-failed-back.txt"
    data = doc.read_bytes() + b"\xff"
    doc.write_bytes(data)
    claims.write(claims.rows())
    new = hashlib.sha256(data).hexdigest()
    line = 4  # regenexx-failed-back is the 3rd row of sources.csv
    last_line = len(data.splitlines())
    assert_refused(
        claims.run(),
        located(
            line,
            "file",
            f"sources/regenexx-failed-back.txt is not UTF-8 (byte 0xff on line {last_line})",
            file="src/sources.csv",
        ),
        located(
            line,
            "sha256",
            "sources/regenexx-failed-back.txt has changed since its hash "
            f"was recorded (recorded de75500deb95..., now {new[:12]}...); source documents "
            "are raw data and must not be edited",
            file="src/sources.csv",
        ),
    )


# -- number words are matched in ASCII only --------------------------------------------------


# "ſix" (long s) and "fİve" (dotted capital I) case-fold to number words under Unicode rules;
# they must be reported as stating no number, not crash the word lookup.
def test_number_word_with_a_unicode_case_variant(claims):
    line = claims.mutate("caring-prolotherapy-fbss-37", quote="\u017fix months", value_text="\u017fix months")
    assert_refused(
        claims.run(),
        located(
            line,
            "quote",
            "not found verbatim in the source text of caring-prolotherapy-fbss "
            "(copy it exactly, including punctuation and spacing)",
        ),
        located(line, "value", "6 is not stated by value_text '\u017fix months' (it states no number)"),
    )


def _audit_with(claims, tmp_path, claim_id, **changes):
    """A copy of the real citation audit with one row changed; returns (path, CSV line)."""
    with open(DATA / "citation_audit.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    line = next(i for i, row in enumerate(rows) if row["claim_id"] == claim_id) + 2
    rows[line - 2].update(changes)
    path = tmp_path / "audit.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path, line


def _run_with_audit(claims, audit) -> list[str]:
    from fbss_evidence.cli import validate_main as main

    claims.write(claims.rows())
    claims.capsys.readouterr()
    status = main(
        [
            str(claims.path.name),
            "--sources",
            str(claims.sources),
            "--references",
            str(claims.references),
            "--links",
            "none",
            "--audit",
            str(audit),
        ]
    )
    err = claims.capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    return [line for line in err.splitlines() if "problem(s) found." not in line]


def test_an_audit_pmid_that_is_not_the_reference_s(claims, tmp_path):
    audit, line = _audit_with(claims, tmp_path, "centeno-schultz-fbss-25", pmid="15543065")
    assert _run_with_audit(claims, audit) == [
        f"audit.csv:{line}: pmid: 15543065 is not the pmid that studies.csv records for the study of "
        "centeno-schultz-fbss-r10 (15543064)"
    ]


def test_a_verdict_on_a_study_that_was_never_found(claims, tmp_path):
    # The first audited claim whose reference the lookup never found.
    with open(DATA / "studies.csv", encoding="utf-8", newline="") as f:
        unfound = {r["study_id"] for r in csv.DictReader(f) if r["lookup_status"] == "not_found"}
    with open(DATA / "references.csv", encoding="utf-8", newline="") as f:
        missing = {r["ref_id"] for r in csv.DictReader(f) if r["study_id"] in unfound}
    with open(DATA / "citation_audit.csv", encoding="utf-8", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["ref_id"] in missing)
    audit, line = _audit_with(claims, tmp_path, row["claim_id"], verdict="supported")
    assert _run_with_audit(claims, audit) == [
        f"audit.csv:{line}: verdict: 'supported' says what the study reports, but studies.csv "
        f"records the study of {row['ref_id']} as not_found"
    ]


def test_a_cited_claim_without_its_audit_row_is_refused_naming_the_claim(claims, tmp_path):
    with open(DATA / "citation_audit.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    dropped = rows.pop(3)
    path = tmp_path / "audit.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    line = claims.index(dropped["claim_id"]) + 2
    assert _run_with_audit(claims, path) == [
        f"claims.csv:{line}: claim_id: cites {dropped['ref_id']} but has no row in the citation audit (add one to "
        "citation_audit.csv once the study's abstract has been read)"
    ]
