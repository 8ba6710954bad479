"""Numbers as the pages print them: digits, number words and "one in four".

Used to check that a claim's value really appears in its quote.
"""
from __future__ import annotations

import re
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
_DIGITS = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
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
_ONE_IN = re.compile(rf"\b(?P<a>{_WORD}|\d+) (?:in|out of) (?P<b>{_WORD}|\d+)\b", re.IGNORECASE | re.ASCII)
_HOURS_MINUTES = re.compile(
    rf"(?P<h>\d+|{_WORD}) hours? and (?P<m>\d+|{_WORD}) minutes?", re.IGNORECASE | re.ASCII
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


def _as_number(token: str) -> float:
    token = token.strip()
    if token[0].isdigit():
        return float(token.replace(",", ""))
    return _word_value(token)


def number_value(token: str) -> float:
    """The value of one number as printed: '77,682', '26.8', 'twenty-two', 'forty', 'half' (50)."""
    return _as_number(token)


# Words that stand for a number in a claim's value ("all patients" = 100%, "once a
# week") but never for a count of people or studies.
_NOT_COUNTS = frozenset({"all", "first", "second", "third", "fourth", "once", "twice", "single", "half"})


@lru_cache(maxsize=65536)
def numbers_in(text: str, counts: bool = False) -> frozenset[float]:
    """Every number the text states, with the forms a claim may be recorded in.

    "one in four" also yields 25 (percent); "5 hours and 10 minutes" also 310
    (minutes); "2 grams" also 2000 (milligrams). With counts=True, only what can
    be a count of people or studies: digits and cardinal number words ("all"
    is not 100 patients, "first" not 1).
    """
    found: set[float] = set()
    for match in TOKEN.finditer(text):
        if counts and match.group("other") and match.group(0).lower() in _NOT_COUNTS:
            continue
        found.add(_as_number(match.group(0)))
    if counts:
        return frozenset(found)
    for match in _ONE_IN.finditer(text):
        part, whole = _as_number(match["a"]), _as_number(match["b"])
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


_DURATION = re.compile(rf"(?P<n>\d+(?:\.\d+)?|{_WORD}|a|an|one) (?P<unit>day|week|month|year)s?\b",
                       re.IGNORECASE | re.ASCII)
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
