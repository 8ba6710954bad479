"""fbss_evidence.outputs and plotting.style.save_figure: atomic, formula-safe, byte-stable files."""

from __future__ import annotations

import csv
import hashlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from fbss_evidence.outputs import atomic_path, neutralise_formulas, save_table  # noqa: E402
from fbss_evidence.plotting import style  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- atomic_path -----------------------------------------------------------------------------


def test_atomic_path_moves_into_place_on_success(tmp_path):
    target = tmp_path / "sub" / "t.csv"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent
        assert tmp != target
        assert not target.exists()
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["t.csv"]


def test_atomic_path_exception_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="killed half-way"):
        with atomic_path(target) as tmp:
            tmp.write_text("half-writ")
            raise RuntimeError("killed half-way")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]


def test_atomic_path_exception_before_writing_creates_nothing(tmp_path):
    target = tmp_path / "t.csv"
    with pytest.raises(KeyError):
        with atomic_path(target):
            raise KeyError("x")
    assert list(tmp_path.iterdir()) == []


def test_save_table_failure_keeps_previous_table(tmp_path, monkeypatch):
    save_table(pd.DataFrame({"a": [1]}), tmp_path, "t")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_markdown", broken)
    with pytest.raises(OSError, match="disk full"):
        save_table(pd.DataFrame({"a": [2]}), tmp_path, "t")
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(after) == {"t.csv", "t.md"}  # no temporary file left over
    assert after["t.md"] == before["t.md"]


# -- neutralise_formulas ------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","y")'])
def test_formula_starts_get_an_apostrophe(cell):
    out = neutralise_formulas(pd.DataFrame({"t": [cell]}))
    assert out.loc[0, "t"] == "'" + cell


@pytest.mark.parametrize("cell", ["safe", "1+1", "a=b", " =x", "'=already", "", "26.8%"])
def test_harmless_text_is_unchanged(cell):
    assert neutralise_formulas(pd.DataFrame({"t": [cell]})).loc[0, "t"] == cell


def test_numeric_columns_are_untouched():
    frame = pd.DataFrame({"i": [-1, 2], "f": [-0.5, np.nan], "b": [True, False]})
    out = neutralise_formulas(frame)
    pd.testing.assert_frame_equal(out, frame)


def test_mixed_object_column_and_missing_values():
    frame = pd.DataFrame({"t": ["=x", None, -3, "ok"]}, dtype=object)
    out = neutralise_formulas(frame)
    assert out["t"].tolist() == ["'=x", None, -3, "ok"]


def test_string_dtype_column():
    frame = pd.DataFrame({"t": pd.array(["-x", pd.NA, "y"], dtype="string")})
    out = neutralise_formulas(frame)
    assert out.loc[0, "t"] == "'-x"
    assert pd.isna(out.loc[1, "t"])
    assert out.loc[2, "t"] == "y"


def test_column_names_from_data_are_neutralised():
    # crosstab columns (e.g. page labels) come from the data.
    out = neutralise_formulas(pd.DataFrame({"=cmd()": [1], "ok": [2]}))
    assert list(out.columns) == ["'=cmd()", "ok"]


def test_input_frame_is_not_modified():
    frame = pd.DataFrame({"t": ["=x"]})
    neutralise_formulas(frame)
    assert frame.loc[0, "t"] == "=x"


# -- save_table -------------------------------------------------------------------------------


@pytest.fixture
def table():
    return pd.DataFrame(
        {
            "claim_id": ["a-01", "a-02", "a-03"],
            "value_text": ["=1+1", "-5%", "about 15%"],
            "value": [-5.0, 14.405172413793103, np.nan],
            "n": [69, 479, 0],
        }
    )


def test_exported_csv_keeps_every_digit_of_a_count_of_millions(tmp_path):
    csv_path, _ = save_table(pd.DataFrame({"n": [1_234_567.0, 210_407.0]}), tmp_path, "big")
    assert csv_path.read_text().split() == ["n", "1234567", "210407"]


def test_a_long_table_is_whole_in_csv_and_shortened_in_markdown(tmp_path, monkeypatch):
    from fbss_evidence import outputs

    monkeypatch.setattr(outputs, "MARKDOWN_MAX_ROWS", 3)
    csv_path, md_path = save_table(pd.DataFrame({"n": range(5)}), tmp_path, "long")
    assert pd.read_csv(csv_path)["n"].tolist() == [0, 1, 2, 3, 4]
    lines = md_path.read_text().splitlines()
    assert lines[2:5] == ["|   0 |", "|   1 |", "|   2 |"] and "|   3 |" not in lines
    assert lines[-1] == "*The first 3 of 5 rows; every row is in long.csv.*"


def test_save_table_writes_csv_and_markdown(tmp_path, table):
    paths = save_table(table, tmp_path, "t")
    assert paths == [tmp_path / "t.csv", tmp_path / "t.md"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.md"]


def test_exported_csv_has_the_apostrophe_and_plain_numbers(tmp_path, table):
    csv_path, md_path = save_table(table, tmp_path, "t")
    with open(csv_path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["claim_id", "value_text", "value", "n"]
    assert rows[1] == ["a-01", "'=1+1", "-5", "69"]
    assert rows[2] == ["a-02", "'-5%", "14.40517241", "479"]  # %.10g
    assert rows[3] == ["a-03", "about 15%", "", "0"]
    back = pd.read_csv(csv_path)
    assert back["value_text"].tolist() == ["'=1+1", "'-5%", "about 15%"]
    assert back["value"].iloc[0] == -5.0  # numeric column untouched
    assert b"\r\n" not in csv_path.read_bytes()
    md = md_path.read_text(encoding="utf-8")
    assert md.endswith("\n")
    assert "'=1+1" in md
    assert md.splitlines()[0].split("|")[1].strip() == "claim_id"


def test_save_table_is_byte_identical_on_repeat(tmp_path, table):
    first = [_sha(p) for p in save_table(table, tmp_path / "one", "t")]
    second = [_sha(p) for p in save_table(table.copy(), tmp_path / "two", "t")]
    again = [_sha(p) for p in save_table(table, tmp_path / "one", "t")]
    assert first == second == again


def test_save_table_creates_the_folder(tmp_path, table):
    save_table(table, tmp_path / "a" / "b", "t")
    assert (tmp_path / "a" / "b" / "t.csv").is_file()


# -- save_figure --------------------------------------------------------------------------------


def _figure():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2, 3], [3, 1, 2], marker="o", label="line")
    ax.set_title("Title with text")
    ax.legend()
    style.caption(fig, "A caption")
    return fig


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_save_figure_is_deterministic(tmp_path, fmt, magic):
    fig = _figure()
    a = style.save_figure(fig, tmp_path / "a", "fig", fmt)
    b = style.save_figure(fig, tmp_path / "b", "fig", fmt)
    c = style.save_figure(_figure(), tmp_path / "c", "fig", fmt)
    assert a == tmp_path / "a" / f"fig.{fmt}"
    assert a.read_bytes().startswith(magic)
    assert _sha(a) == _sha(b) == _sha(c)
    assert sorted(p.name for p in a.parent.iterdir()) == [f"fig.{fmt}"]


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_save_figure_is_deterministic_with_the_project_style(tmp_path, fmt):
    with matplotlib.rc_context():
        style.apply_style()
        a = style.save_figure(_figure(), tmp_path / "a", "fig", fmt)
        b = style.save_figure(_figure(), tmp_path / "b", "fig", fmt)
    assert _sha(a) == _sha(b)


def test_saved_files_carry_no_dates_or_versions(tmp_path):
    fig = _figure()
    svg = style.save_figure(fig, tmp_path, "fig", "svg").read_text()
    assert "<dc:date>" not in svg
    pdf = style.save_figure(fig, tmp_path, "fig", "pdf").read_bytes()
    assert b"/CreationDate" not in pdf and b"/Producer" not in pdf
    png = style.save_figure(fig, tmp_path, "fig", "png").read_bytes()
    assert b"matplotlib version" not in png


@pytest.mark.parametrize("fmt", ["jpg", "PNG", "eps", ""])
def test_save_figure_rejects_unknown_formats(tmp_path, fmt):
    with pytest.raises(ValueError, match=f"figure format '{fmt}' is not one of png, svg, pdf"):
        style.save_figure(_figure(), tmp_path, "fig", fmt)
    assert list(tmp_path.iterdir()) == []


# -- tables for people --------------------------------------------------------------------------

from fbss_evidence.outputs import readable_cell, readable_number, readable_range, readable_table  # noqa: E402


@pytest.mark.parametrize(
    "value, expected",
    [
        (32244.0, "32,244"),
        (2.0, "2"),
        (2016, "2016"),
        (np.int64(7), "7"),
        (0.0012, "0.0012"),
        (12.345, "12.3"),
        (float("nan"), ""),
        (None, ""),
        (pd.NA, ""),
        ("text", "text"),
    ],
)
def test_readable_number(value, expected):
    assert readable_number(value) == expected


def test_percents_have_one_decimal_and_their_sign():
    assert readable_number(4.5678, percent=True) == "4.6%"
    assert readable_number(10, percent=True) == "10.0%"


@pytest.mark.parametrize(
    "low, high, expected",
    [
        (3.44, 6.31, "3.4\u20136.3%"),
        (68, 68, "68.0%"),
        (67.96, 68.04, "68.0%"),
        (None, 5, "5.0%"),
        (float("nan"), float("nan"), ""),
    ],
)
def test_a_range_reads_low_to_high_and_once_when_both_ends_agree(low, high, expected):
    assert readable_range(low, high) == expected


def test_no_dict_or_list_is_printed_raw():
    assert readable_cell({"k": 2.0, "method": "REML"}) == "k: 2; method: REML"
    assert readable_cell([1.0, 2.5]) == "1, 2.5"


def test_readable_table_formats_counts_percents_and_ranges():
    frame = pd.DataFrame(
        {
            "label": ["a", "b"],
            "k": [2.0, 3.0],
            "total_n": [32244.0, 2292.0],
            "pooled": [4.567, 50.0],
            "ci_low": [3.4, 68.0],
            "ci_high": [6.3, 68.0],
        }
    )
    table, notes = readable_table(frame, percent=["pooled"], ranges={"CI": ("ci_low", "ci_high")})
    assert list(table.columns) == ["label", "k", "total_n", "pooled", "CI"]
    assert table.to_dict("records") == [
        {"label": "a", "k": "2", "total_n": "32,244", "pooled": "4.6%", "CI": "3.4\u20136.3%"},
        {"label": "b", "k": "3", "total_n": "2,292", "pooled": "50.0%", "CI": "68.0%"},
    ]
    assert notes == []
    assert "ci_low" in frame.columns  # the input is left alone


def test_a_long_text_repeated_row_after_row_is_shown_once_as_a_note():
    reason = "indirectness: Follow-up, devices and indications differ between cohorts (not only FBSS)."
    frame = pd.DataFrame({"reasons": [f"inconsistency: I\u00b2 93%; {reason}", reason, "imprecision: 160 patients"]})
    table, notes = readable_table(frame)
    assert list(table["reasons"]) == ["inconsistency: I\u00b2 93%; [1]", "[1]", "imprecision: 160 patients"]
    assert notes == [f"[1] {reason}"]


def test_a_grouped_column_shows_each_value_once_per_run_of_rows():
    frame = pd.DataFrame({"question": ["Reoperation", "Reoperation", "Explants", "Reoperation"], "group": list("abcd")})
    table, _ = readable_table(frame, grouped=["question"])
    assert list(table["question"]) == ["Reoperation", "", "Explants", "Reoperation"]
    assert list(table["group"]) == list("abcd")


def test_characters_that_reorder_text_are_neutralised_in_every_output(tmp_path):
    from fbss_evidence.outputs import neutral_text, readable_table, save_table

    hostile = "safe\u202etxt.exe \u2066isolated\u2069 \u200fmark"
    assert neutral_text(hostile) == "safe\ufffdtxt.exe \ufffdisolated\ufffd \ufffdmark"
    frame = pd.DataFrame({"quote": [hostile], "n": [3]})
    for path in save_table(frame, tmp_path, "t"):
        text = path.read_text(encoding="utf-8")
        assert not any(c in text for c in "\u202e\u2066\u2069\u200f") and "\ufffd" in text
    shown, _ = readable_table(frame)
    assert "\u202e" not in shown["quote"].iloc[0]
