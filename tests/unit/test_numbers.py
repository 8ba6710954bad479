"""Numbers as the pages print them: fbss_evidence.numbers.numbers_in and states_value."""

from __future__ import annotations

import pytest

from fbss_evidence.numbers import months, numbers_in, states_value


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a rise from 77,682 to 210,407 operations", {77682.0, 210407.0}),
        ("1,234,567 patients", {1234567.0}),
        ("1,500.5 mg", {1500.5}),
        ("26.8% of patients", {26.8}),
        ("170.9%", {170.9}),
        ("0.5 mg", {0.5}),
        # A range gives both ends, never a negative upper end.
        ("20-40%", {20.0, 40.0}),
        ("between 20 and 40 percent", {20.0, 40.0}),
        ("no number here", set()),
    ],
)
def test_digits(text, expected):
    assert numbers_in(text) == frozenset(expected)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ninety-five percent", {95.0}),
        ("ninety five percent", {95.0}),
        ("twenty-one patients", {21.0}),
        ("Seventy-Five", {75.0}),
        ("fourteen days", {14.0}),  # not "four"
        ("Thirty of the 35", {30.0, 35.0}),
        ("a dozen visits", {12.0}),
        ("twice a day", {2.0}),
        ("six months", {6.0}),
    ],
)
def test_number_words(text, expected):
    assert numbers_in(text) == frozenset(expected)


@pytest.mark.parametrize("text", ["someone often went", "Tension", "tenth"])
def test_number_words_inside_other_words_are_not_numbers(text):
    # "one" in "someone", "ten" in "often"/"Tension"/"tenth" are not numbers.
    assert numbers_in(text) == frozenset()


@pytest.mark.parametrize(
    "text, share",
    [
        ("nearly one in four", 25.0),
        ("Nearly one in three", 33.3),  # 100 * 1 / 3, to one decimal
        ("one out of five", 20.0),
        ("3 in 10 patients", 30.0),
    ],
)
def test_one_in_n_also_gives_the_percentage(text, share):
    found = numbers_in(text)
    assert share in found
    assert states_value(text, share)


def test_one_in_four_keeps_its_parts():
    assert numbers_in("nearly one in four") == frozenset({1.0, 4.0, 25.0})


@pytest.mark.parametrize(
    "text, minutes",
    [
        ("5 hours and 10 minutes", 310.0),  # 5 * 60 + 10
        ("two hours and thirty minutes", 150.0),  # 2 * 60 + 30
        ("1 hour and 1 minute", 61.0),
    ],
)
def test_hours_and_minutes_also_give_minutes(text, minutes):
    assert minutes in numbers_in(text)
    assert states_value(text, minutes)


def test_five_hours_and_ten_minutes_exactly():
    assert numbers_in("5 hours and 10 minutes") == frozenset({5.0, 10.0, 310.0})


@pytest.mark.parametrize(
    "text, milligrams",
    [("2 grams", 2000.0), ("1.5 grams a day", 1500.0), ("1 gram", 1000.0)],
)
def test_grams_also_give_milligrams(text, milligrams):
    assert milligrams in numbers_in(text)
    assert states_value(text, milligrams)


def test_two_grams_exactly():
    assert numbers_in("2 grams") == frozenset({2.0, 2000.0})


def test_milligrams_only_from_grams():
    assert 2000.0 not in numbers_in("2 kilograms")  # "kilograms" is not "grams"
    assert 2000.0 not in numbers_in("2 mg")


@pytest.mark.parametrize(
    "text, value",
    [
        ("about 15% of them", 15.0),
        ("77,682 to 210,407", 210407.0),
        ("26.8% of patients", 26.8),
        ("26.8% of patients", 26.85),  # within rounding of one decimal (tolerance 0.051)
        ("Ninety-five percent", 95.0),
        ("20-40%", 40.0),
    ],
)
def test_states_value_true(text, value):
    assert states_value(text, value)


@pytest.mark.parametrize(
    "text, value",
    [
        ("about 15% of them", 14.4),  # 69/479 = 14.4% is not what the page prints
        ("about 15% of them", 150.0),
        ("26.8% of patients", 26.7),
        ("26.8% of patients", 268.0),
        ("20-40%", 30.0),  # the middle of a range is not stated
        ("20-40%", -40.0),
        ("Ninety-five percent", 90.0),
        ("nearly one in four", 40.0),
        ("5 hours and 10 minutes", 510.0),
        ("2 grams", 200.0),
        ("no number here", 0.0),
    ],
)
def test_states_value_false_for_a_value_not_stated(text, value):
    assert not states_value(text, value)


def test_states_value_tolerance_is_configurable():
    assert not states_value("26.8%", 27.0)
    assert states_value("26.8%", 27.0, tolerance=0.25)


def test_numbers_in_returns_a_frozenset():
    assert isinstance(numbers_in("12 and 13"), frozenset)


def test_counts_are_digits_and_cardinal_words_only():
    text = "Of all patients, the first group of twenty-one had a single visit; 479 in all"
    assert numbers_in(text) >= {100, 1, 21, 479}
    assert numbers_in(text, counts=True) == {21, 479}
    assert numbers_in("one in four of a dozen", counts=True) == {1, 4, 12}  # no derived 25%


# -- digits of any script, and fractions ---------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("\u0662\u0660% of patients", {20.0}),  # Arabic-Indic ٢٠
        ("\u06f2\u06f0%", {20.0}),  # Extended Arabic-Indic (Persian) ۲۰
        ("\uff12\uff10%", {20.0}),  # full-width ２０
        ("\u0968\u0966 \u092a\u094d\u0930\u0924\u093f\u0936\u0924", {20.0}),  # Devanagari २०
        ("\u0662\u0666\u066b\u0668%", {26.8}),  # ٢٦٫٨ with the Arabic decimal separator
        ("\uff12\uff16\uff0e\uff18%", {26.8}),  # ２６．８ with the full-width full stop
        ("\u0667\u0667\u066c\u0666\u0668\u0662 operations", {77682.0}),  # ٧٧٬٦٨٢
        ("\u0663 in \u0661\u0660 patients", {3.0, 10.0, 30.0}),  # ٣ in ١٠
    ],
)
def test_digits_of_any_script(text, expected):
    assert numbers_in(text) == frozenset(expected)


@pytest.mark.parametrize(
    "text, expected",
    [
        # A fraction without a whole part is a share, as "half" is 50: its value and its percentage.
        ("\u00bd of patients", {0.5, 50.0}),  # ½
        ("\u00bc", {0.25, 25.0}),  # ¼
        ("\u00be", {0.75, 75.0}),  # ¾
        ("\u2153", {1 / 3, 33.3}),  # ⅓
        ("\u2154", {2 / 3, 66.7}),  # ⅔
        ("\u215e", {0.875, 87.5}),  # ⅞, the last of U+2150-U+215E
        ("1\u20442 of them", {0.5, 50.0}),  # 1⁄2 with the fraction slash
        ("\u00b9\u2044\u2082", {0.5, 50.0}),  # ¹⁄₂
        # With a whole part it is a number of things: 2½ years is 2.5, not a share.
        ("2\u00bd years", {2.5}),
        ("\u0662\u00bd", {2.5}),  # ٢½
        ("1\u00b9\u2044\u2082 hours", {1.5}),  # 1¹⁄₂
        ("1\u20440", set()),  # over zero: no number
        ("1/2", {1.0, 2.0}),  # an ASCII slash is two numbers, as before ("80/40 mg")
    ],
)
def test_vulgar_fractions_and_the_fraction_slash(text, expected):
    assert numbers_in(text) == frozenset(expected)


def test_a_value_text_in_other_digits_or_a_fraction_states_its_value():
    assert states_value("\u0662\u0660%", 20.0) and states_value("\uff12\uff16\uff0e\uff18%", 26.8)
    assert states_value("\u00bd", 50.0) and states_value("\u00bd", 0.5)  # as "half" states 50
    assert states_value("nearly \u2153", 33.3) and not states_value("nearly \u2153", 30.0)
    assert states_value("2\u00bd years", 2.5) and not states_value("2\u00bd years", 250.0)


def test_a_fraction_is_no_count():
    assert numbers_in("\u00bd of 40 patients", counts=True) == {40.0}
    assert numbers_in("\u0664\u0660 patients", counts=True) == {40.0}  # ٤٠


@pytest.mark.parametrize("text", ["\u00b9", "\u00b2\u00b3", "fusion.\u00b9", "\u2070\u2074"])
def test_superscript_digits_are_no_numbers(text):
    # ¹²³ are footnote markers (ledger.py), not decimal digits.
    assert numbers_in(text) == frozenset()


def test_months_read_any_digits_and_fractions():
    assert months("\u0666 months") == 6.0  # ٦
    assert months("2\u00bd years") == 30.0
