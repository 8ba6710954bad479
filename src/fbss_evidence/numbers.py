"""Numbers as the pages print them: digits, number words and "one in four".

Digits are any Unicode decimal digits (20, Arabic-Indic ٢٠, full-width ２０, Devanagari २०), with a
decimal point and thousands separators (26.8, 77,682; ٢٦٫٨, ２６．８); a vulgar fraction is a number
too (½, ¾, ⅓ ... U+2150-U+215E, "2½", "1⁄2" with the fraction slash U+2044, "¹⁄₂"). Superscript
digits alone (¹²³) are not digits: they are footnote markers (ledger.py).

Used to check that a claim's value really appears in its quote.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_OTHER_WORDS = {
    "hundred": 100, "dozen": 12, "half": 50, "once": 1, "twice": 2,
    "single": 1, "all": 100, "first": 1, "second": 2, "third": 3, "fourth": 4,
}

_WORD = r"(?:%s)" % "|".join(sorted(_UNITS | _TENS, key=len, reverse=True))
# Any Unicode decimal digit (category Nd), also inside patterns compiled with re.ASCII.
_D = r"(?u:\d)"
_POINT = "[.．٫]"  # full stop, full-width full stop, Arabic decimal separator
_SEPARATOR = "[,，٬]"  # comma, full-width comma, Arabic thousands separator
VULGAR_FRACTIONS = "¼½¾" + "".join(map(chr, range(0x2150, 0x215F)))  # ¼ ½ ¾ and ⅐ ... ⅞
_SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUBSCRIPT_DIGITS = "₀₁₂₃₄₅₆₇₈₉"
FRACTION_SLASH = "\u2044"
# A fraction, with its whole part if any: "½", "2½", "1⁄2", "1¹⁄₂".
_FRACTION = (rf"{_D}*[{VULGAR_FRACTIONS}]|{_D}+{FRACTION_SLASH}{_D}+"
             rf"|{_D}*[{_SUPERSCRIPT_DIGITS}]+{FRACTION_SLASH}[{_SUBSCRIPT_DIGITS}]+")
_DIGITS = (rf"{_FRACTION}|{_D}{{1,3}}(?:{_SEPARATOR}{_D}{{3}})+(?:{_POINT}{_D}+)?"
           rf"|{_D}+(?:{_POINT}{_D}+)?")
_TENS_WORD = r"(?:%s)" % "|".join(_TENS)
_COMPOUND = rf"{_TENS_WORD}[- ](?:one|two|three|four|five|six|seven|eight|nine)\b"
TOKEN = re.compile(
    rf"(?P<digits>{_DIGITS})|(?P<compound>\b{_COMPOUND})|(?P<word>\b{_WORD}\b)"
    rf"|(?P<other>\b(?:{'|'.join(_OTHER_WORDS)})\b)",
    re.IGNORECASE | re.ASCII,
)
# One number as printed, for reading the words around a number: digits, or a cardinal number word
# ("twenty-two", "forty", "half").
NUMBER = rf"(?:{_DIGITS}|\b{_COMPOUND}|\b{_WORD}\b|\bhalf\b|\bdozen\b)"
# Digits standing alone ("3", "٣"; a word boundary that knows every script's digits).
_DIGIT_RUN = r"(?<!(?u:\w))(?u:\d)+(?!(?u:\w))"
_ONE_IN = re.compile(rf"(?:\b(?P<a>{_WORD})\b|(?P<a_digits>{_DIGIT_RUN})) (?:in|out of) "
                     rf"(?:\b(?P<b>{_WORD})\b|(?P<b_digits>{_DIGIT_RUN}))", re.IGNORECASE | re.ASCII)
_HOURS_MINUTES = re.compile(
    rf"(?P<h>{_D}+|{_WORD}) hours? and (?P<m>{_D}+|{_WORD}) minutes?", re.IGNORECASE | re.ASCII
)


def _word_value(word: str) -> float:
    word = word.lower().replace(" ", "-")
    if "-" in word:
        tens, unit = word.split("-", 1)
        return float(_TENS[tens] + _UNITS[unit])
    if word in _UNITS:
        return float(_UNITS[word])
    if word in _TENS:
        return float(_TENS[word])
    return float(_OTHER_WORDS[word])


_ASCII = {**{c: "." for c in "．٫"}, **{c: "" for c in ",，٬"}}


def _digits_value(token: str) -> float:
    """Digits in any script, with their point and separators: '77,682', '٢٦٫٨', '２６．８'."""
    return float("".join(str(unicodedata.decimal(c)) if c.isdecimal() else _ASCII.get(c, c) for c in token))


def _whole_part(token: str) -> str:
    """The whole number before a fraction: the '2' of '2½' and of '2¹⁄₂'; '' for '½' and '1⁄2'."""
    if token[-1] in VULGAR_FRACTIONS:
        return token[:-1]
    top = token.split(FRACTION_SLASH)[0]
    return "" if top.isdecimal() else "".join(c for c in top if c.isdecimal())


def _fraction_value(token: str) -> float:
    """A fraction with its whole part: '½' 0.5, '2½' 2.5, '1⁄2' 0.5, '1¹⁄₂' 1.5 (NaN over zero)."""
    whole = _whole_part(token)
    base = _digits_value(whole) if whole else 0.0
    if token[-1] in VULGAR_FRACTIONS:
        return base + unicodedata.numeric(token[-1])
    top, bottom = token[len(whole):].split(FRACTION_SLASH)
    numerator, denominator = (int("".join(str(unicodedata.digit(c)) for c in part)) for part in (top, bottom))
    return base + numerator / denominator if denominator else float("nan")


def is_fraction(token: str) -> bool:
    """Whether a number as printed is a fraction ('½', '2½', '1⁄2')."""
    return token[-1:] in VULGAR_FRACTIONS or FRACTION_SLASH in token


def is_share(token: str) -> bool:
    """A fraction without a whole part ('½', '1⁄2'): a share of a whole, as 'half' is."""
    return is_fraction(token) and not _whole_part(token)


def _as_number(token: str) -> float:
    token = token.strip()
    if is_fraction(token):
        return _fraction_value(token)
    if token[0].isdecimal():
        return _digits_value(token)
    return _word_value(token)


def number_value(token: str) -> float:
    """The value of one number as printed: '77,682', '26.8', '٢٠' (20), 'twenty-two', 'forty', 'half' (50),
    '½' (0.5), '2½' (2.5)."""
    return _as_number(token)


# Words that stand for a number in a claim's value ("all patients" = 100%, "once a
# week") but never for a count of people or studies.
_NOT_COUNTS = frozenset({"all", "first", "second", "third", "fourth", "once", "twice", "single", "half"})


@lru_cache(maxsize=65536)
def numbers_in(text: str, counts: bool = False) -> frozenset[float]:
    """Every number the text states, with the forms a claim may be recorded in.

    "one in four" also yields 25 (percent); a fraction without a whole part, as
    "half" is 50, also its percentage ("½" 0.5 and 50, "1⁄3" 0.333... and 33.3);
    "5 hours and 10 minutes" also 310 (minutes); "2 grams" also 2000
    (milligrams). With counts=True, only what can be a count of people or
    studies: digits and cardinal number words ("all" is not 100 patients,
    "first" not 1, "½" no count).
    """
    found: set[float] = set()
    for match in TOKEN.finditer(text):
        if counts and match.group("other") and match.group(0).lower() in _NOT_COUNTS:
            continue
        if counts and is_fraction(match.group(0)):
            continue
        value = _as_number(match.group(0))
        if value != value:  # a fraction over zero states nothing
            continue
        found.add(value)
        if is_share(match.group(0)):
            found.add(round(100.0 * value, 1))
    if counts:
        return frozenset(found)
    for match in _ONE_IN.finditer(text):
        part, whole = _as_number(match["a"] or match["a_digits"]), _as_number(match["b"] or match["b_digits"])
        if whole:
            found.add(round(100.0 * part / whole, 1))
    for match in _HOURS_MINUTES.finditer(text):
        found.add(_as_number(match["h"]) * 60 + _as_number(match["m"]))
    for match in re.finditer(rf"({_DIGITS}) grams?\b", text):
        found.add(_as_number(match.group(1)) * 1000)
    return frozenset(found)


# A value is stated when a number of the text is within rounding of one decimal of it.
TOLERANCE = 0.051


def states_value(text: str, value: float, tolerance: float = TOLERANCE, counts: bool = False) -> bool:
    """True when `text` states `value`; with counts=True, as a count (see numbers_in)."""
    return any(abs(n - value) <= tolerance for n in numbers_in(text, counts))


_DURATION = re.compile(rf"(?P<n>{_FRACTION}|{_D}+(?:{_POINT}{_D}+)?|{_WORD}|a|an|one) "
                       r"(?P<unit>day|week|month|year)s?\b", re.IGNORECASE | re.ASCII)
_MONTHS_PER = {"day": 12 / 365.25, "week": 12 / 52.1775, "month": 1.0, "year": 12.0}


def months(text) -> float | None:
    """The first duration a text states, in months ("1 year post-implant" -> 12); None if none."""
    if not isinstance(text, str):
        return None
    match = _DURATION.search(text)
    if match is None:
        return None
    n = match["n"].lower()
    count = 1.0 if n in ("a", "an") else _as_number(n)
    return round(count * _MONTHS_PER[match["unit"].lower()], 6)
