"""Property tests of the validator on random claims files (hypothesis).

Whatever the claims file holds, `load_dataset` either returns claims that keep
the dataset's invariants, or raises InputError whose every problem is located
in a real line of a real file; it never raises anything else.

    (a) random rows: real rows with random cells (unicode, quotes, commas,
        newlines, junk numbers, out-of-vocabulary values), written with the csv
        module after the real header;
    (b) random byte edits (flip a bit, insert, delete, overwrite) of the real
        data/claims.csv; a failing example is shown as its list of edits.

200 examples per test by default; FBSS_FUZZ_EXAMPLES raises it (`make fuzz`).
"""

from __future__ import annotations

import csv
import io
import math
import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fbss_evidence import schema, vocab
from fbss_evidence.dataset import DataPaths, load_dataset
from fbss_evidence.problems import InputError, display_path

pytestmark = pytest.mark.slow  # starts kernels or fuzzes

DATA = Path(__file__).resolve().parents[2] / "data"
SOURCES = DATA / "sources.csv"
REFERENCES = DATA / "references.csv"
AUDIT = DATA / "citation_audit.csv"
CLAIMS_BYTES = (DATA / "claims.csv").read_bytes()

_reader = csv.reader(io.StringIO(CLAIMS_BYTES.decode("utf-8-sig"), newline=""))
HEADER = next(_reader)
REAL_ROWS = [dict(zip(HEADER, rec)) for rec in _reader]
with open(SOURCES, encoding="utf-8", newline="") as _f:
    TEXTS = {row["source_id"]: (SOURCES.parent / row["file"]).read_text(encoding="utf-8") for row in csv.DictReader(_f)}
with open(REFERENCES, encoding="utf-8", newline="") as _f:
    REF_IDS = [row["ref_id"] for row in csv.DictReader(_f)]

# make test draws 50 examples per property (a few seconds each); make fuzz draws 5,000.
EXAMPLES = int(os.environ.get("FBSS_FUZZ_EXAMPLES", "50"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


# -- strategies ----------------------------------------------------------------------

# Any text a UTF-8 file can hold (no lone surrogates), with the characters that
# matter to CSV and to the number parser drawn often.
SPECIAL = st.sampled_from(
    [
        '"',
        ",",
        "\n",
        "\r\n",
        "\r",
        " ",
        "\t",
        "%",
        "-",
        "=",
        "+",
        "@",
        "\ufeff",
        "\x00",
        "\u00a0",
        "\u2013",
        "\u00e9",
        "\u017f",
        "\U0001f600",
        "one",
        "in",
        "four",
        "half",
        "\u0663",
        "\u00b2",
    ]
)
ANY_CHAR = st.characters(blacklist_categories=("Cs",))
TEXT = st.lists(st.one_of(ANY_CHAR, SPECIAL), max_size=30).map("".join)
NUMBER_TEXT = st.one_of(
    st.integers(-(10**6), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.text(alphabet="0123456789.,-+eE% xX_", max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e400",
            "0x10",
            "1_000",
            "٣",
            "²",
            "0",
            "-0",
            "100",
            "100.0000001",
            "1" * 40,
        ]
    ),
    TEXT,
)
SLUG_TEXT = st.from_regex(r"[a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,4}", fullmatch=True)
VOCAB = {
    "bound": vocab.BOUNDS,
    "unit": vocab.UNITS,
    "topic": vocab.TOPICS,
    "basis": vocab.BASES,
    "measure": getattr(vocab, "MEASURES", ()),
}


@st.composite
def quote_cells(draw):
    """A verbatim stretch of a source text, or anything."""
    if draw(st.booleans()):
        text = TEXTS[draw(st.sampled_from(sorted(TEXTS)))]
        start = draw(st.integers(0, len(text) - 1))
        return text[start : start + draw(st.integers(0, 200))]
    return draw(TEXT)


def cells(column: str):
    if column in schema.numeric_columns(schema.CLAIMS):
        return NUMBER_TEXT
    if column in VOCAB and VOCAB[column]:
        return st.one_of(st.sampled_from(VOCAB[column]), TEXT)
    if column == "quote":
        return quote_cells()
    if column in ("value_text", "footnote"):
        return st.one_of(NUMBER_TEXT, TEXT)
    if column == "source_id":
        return st.one_of(st.sampled_from(sorted(TEXTS)), SLUG_TEXT, TEXT)
    if column == "ref_id":
        return st.one_of(st.sampled_from(REF_IDS), st.just(""), SLUG_TEXT, TEXT)
    if column in ("claim_id", "finding_id", "whole_id", "base_claim_id"):
        return st.one_of(st.sampled_from([r["claim_id"] for r in REAL_ROWS]), st.just(""), SLUG_TEXT, TEXT)
    return TEXT


@st.composite
def claim_rows(draw):
    """A real claim row with a few of its cells replaced."""
    row = dict(draw(st.sampled_from(REAL_ROWS)))
    for column in draw(st.lists(st.sampled_from(HEADER), max_size=4, unique=True)):
        row[column] = draw(cells(column))
    return row


Edit = tuple  # (kind, position, bit / length / bytes)

EDITS = st.lists(
    st.one_of(
        st.tuples(st.just("flip"), st.integers(0, len(CLAIMS_BYTES)), st.integers(0, 7)),
        st.tuples(st.just("delete"), st.integers(0, len(CLAIMS_BYTES)), st.integers(1, 4)),
        st.tuples(
            st.sampled_from(["insert", "overwrite"]),
            st.integers(0, len(CLAIMS_BYTES)),
            st.one_of(
                st.binary(min_size=1, max_size=4),
                st.sampled_from(
                    [
                        b'"',
                        b",",
                        b"\n",
                        b"\r",
                        b"\r\n",
                        b"\x00",
                        b"\xff",
                        b"\xe9",
                        b"\xef\xbb\xbf",
                        b'""',
                        b'",',
                        b',"',
                        b"%",
                        b"-",
                    ]
                ),
            ),
        ),
    ),
    min_size=1,
    max_size=6,
)


def mutate(data: bytes, edits: list[Edit]) -> bytes:
    """Apply the edits in turn (positions wrap around the current length)."""
    out = bytearray(data)
    for kind, at, arg in edits:
        at = at % (len(out) + 1)
        if kind == "flip" and at < len(out):
            out[at] ^= 1 << arg
        elif kind == "delete":
            del out[at : at + arg]
        elif kind == "insert":
            out[at:at] = arg
        elif kind == "overwrite":
            out[at : at + len(arg)] = arg
    return bytes(out)


# -- properties ------------------------------------------------------------------------


def _line_count(path: Path) -> int:
    return len(path.read_bytes().splitlines())


def check_outcome(claims_path: Path, audit: Path | None) -> None:
    """load_dataset returns an invariant-keeping dataset or raises located InputError."""
    # The claims and what they refer to; the literature tables do not depend on a claims file.
    paths = DataPaths.in_folder(
        claims=claims_path,
        audit=audit,
        statement_audit=None,
        claim_questions=None,
        questions=None,
        results=None,
        search_log=None,
        screening=None,
        number_exclusions=None,
    )
    files = {display_path(p): p for p in paths.files()}
    try:
        data = load_dataset(paths)
    except InputError as err:
        event("refused")  # --hypothesis-show-statistics shows how often each outcome occurs
        assert err.problems
        for problem in err.problems:
            assert problem.file in files, problem
            n_lines = max(1, _line_count(files[problem.file]))
            assert 0 <= problem.line <= n_lines, (problem, n_lines)
            assert isinstance(problem.column, str) and problem.column, problem
            assert isinstance(problem.message, str) and problem.message.strip(), problem
        return
    event("accepted")
    check_invariants(data.claims)


def _ok(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def check_invariants(claims: pd.DataFrame) -> None:
    assert len(claims) > 0
    assert claims["claim_id"].is_unique
    for row in claims.itertuples(index=False):
        low, value, high = row.value_low, row.value, row.value_high
        if _ok(low) and _ok(value):
            assert low <= value, row
        if _ok(value) and _ok(high):
            assert value <= high, row
        if _ok(low) and _ok(high):
            assert low <= high, row
        if row.bound == "range":
            assert _ok(low) and _ok(high), row
        if row.unit in vocab.PERCENT_UNITS:
            for x in (low, value, high):
                assert not _ok(x) or 0 <= x <= 100, row
        assert _ok(row.numerator) == _ok(row.denominator), row
        if _ok(row.numerator):
            assert 0 <= row.numerator <= row.denominator, row
            assert row.numerator == int(row.numerator) and row.denominator == int(row.denominator)
        assert row.bound in vocab.BOUNDS and row.unit in vocab.UNITS, row
        assert row.topic in vocab.TOPICS and row.basis in vocab.BASES, row
        assert row.source_id in TEXTS, row
        assert isinstance(row.quote, str) and row.quote and row.quote in TEXTS[row.source_id], row
        assert isinstance(row.value_text, str) and row.value_text in row.quote, row


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(rows=st.lists(claim_rows(), min_size=1, max_size=5))
def test_random_rows(workdir, rows):
    path = workdir / "claims.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows([row[col] for col in HEADER] for row in rows)
    check_outcome(path, audit=None)


@FUZZ
@given(edits=EDITS)
def test_random_byte_mutations(workdir, edits):
    path = workdir / "mutated.csv"
    path.write_bytes(mutate(CLAIMS_BYTES, edits))
    check_outcome(path, audit=AUDIT)


def test_unchanged_data_keeps_the_invariants():
    # The properties above hold for the real data (so they can hold at all).
    check_invariants(load_dataset().claims)
