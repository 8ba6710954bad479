"""The number ledger and the footnote ledger: every number and every footnote marker on a page,
each accounted for.

The rule for a number (`number_tokens`): every run of digits, in any script (with its decimals and
thousands separators: 26.8, 77,682, Arabic-Indic ٢٠, full-width ２０, Devanagari २०); every vulgar
fraction, alone or straight after a whole number (½, ⅓, 2½, and 1⁄2 with the fraction slash; "2 ½", with
a space, is two numbers, 2 and ½), read as a share as "half" is; every number word (zero, one ...
ninety-nine, hundred(s), thousand(s), million(s), dozen, half, quarter, once, twice); every ordinal
(first ... fifth); and a universal quantifier that states a proportion of people: "all", "none", "every"
or "no" before people within two words (all patients, none of the participants, every single case, no
patients), and everyone, everybody, nobody. A number is accounted for when it is a footnote marker
(below); or lies inside the quote of a claim of its page that records it (as its value or counts, or in
the text of its value, timepoint, population, outcome or intervention; a universal quantifier only as a
value of 100, or 0 for none); or has a row in number_exclusions.csv (its line, column and text, and a
reason from a fixed vocabulary).

The rule for a footnote marker (`footnote_markers`): one or two digits in brackets, alone or in a
list, "(27)", "(23,24,25)"; written straight after a full stop, closing quote or bracket, comma,
semicolon or colon, but not after a digit and its point ("fusion.2", "cases.”5"; not "26.8",
"9:30"); or superscript digits ("fusion.¹"; not the numerator of "1¹⁄₂"). Its reference number is
read in ASCII digits ("(٢)" is 2); superscript digits are markers, never numbers. A marker the rule
cannot see (one written after a space, "15% 4") is an exclusion with reason footnote_marker, and
then counts as a marker in the footnote ledger too. Each marker in the body of a page marks the
sentence it closes; it is accounted for by a claim of that page citing that reference whose quote
lies in that sentence, or by a statement-audit row the same way. Each statement-audit row in turn
must account for at least one marker of its page's body that way (`unmarked_statements`); a row for
a statement its footnote covers without closing it names instead, in footnote_line, the line that
holds a marker for its reference. The page's own reference list (sources.csv: references_first_line
to references_last_line) is bibliographic data, outside both ledgers.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import numbers

# A sentence ends at . ? or ! (with any closing quote, bracket or footnote marker after it) and a space.
# The full stop of a numbered list's "1." at the start of a line ends nothing.
_SENTENCE_END = re.compile(
    r"(?<!^\d)(?<!^\d\d)(?<!\bDr)(?<!\bMr)(?<!\bMs)(?<!\bvs)(?:(?<!\d)[.?!]|[.?!](?!\d))[\"”’)]*"
    r"(?:\(?\d{1,2}\)?)?\s+(?=\S)|\n", re.MULTILINE)

_PEOPLE = r"(?:patients?|participants?|subjects?|people|persons?|cases?|respondents?|women|men)"
# "all patients", "none of the participants", "every single patient", "all FBSS patients", "no patients";
# and everyone, everybody, nobody. "all of these options" is no proportion of people.
_UNIVERSAL = re.compile(rf"\b(?:all|none|every|no)\b(?=(?:\s+[\w-]+){{0,2}}?\s+{_PEOPLE}\b)|"
                        r"\b(?:everyone|everybody|nobody)\b", re.IGNORECASE)
_ORDINAL = re.compile(r"\b(?:first|second|third|fourth|fifth)\b", re.IGNORECASE)
_THOUSAND = re.compile(r"\b(?:hundreds|(?:thousand|million)s?|quarters?)\b", re.IGNORECASE)
_BRACKETED_MARKERS = re.compile(r"\((\d{1,2}(?:\s*,\s*\d{1,2})*)\)")
# Not after a decimal point or a clock's colon ("26.8 percent", "9:30 AM"): digits, punctuation, digits.
# (Digits of any script: "٢٦.٨" has no marker "٨" either.)
_TRAILING_MARKER = re.compile(r"(?<!\d[.,;:])(?<=[.)”\"’,;:])\d{1,2}(?=\s|$|[A-Z“\"(])")
# Not the numerator of a fraction ("1¹⁄₂").
_SUPERSCRIPT_MARKER = re.compile(r"(?<=[\w.)”\"’,;:])[¹²³⁴⁵⁶⁷⁸⁹⁰]{1,2}(?![¹²³⁴⁵⁶⁷⁸⁹⁰]*\u2044)")


def _reference_number(digits: str) -> str:
    """A marker's reference number in ASCII digits: '¹' and '٢' and '２' are 1, 2 and 2."""
    values = [unicodedata.digit(c, None) for c in digits]
    return digits if None in values else "".join(map(str, values))


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str
    kind: str  # number, word, universal, ordinal


def _line_starts(text: str) -> np.ndarray:
    return np.concatenate([[0], np.flatnonzero(np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
                                              == ord("\n")) + 1])


def locate(text: str, starts: np.ndarray, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    line = int(np.searchsorted(starts, offset, side="right"))
    return line, offset - int(starts[line - 1]) + 1


def number_tokens(text: str) -> list[Token]:
    """Every number of a text by the ledger's rule (see the module docstring), in order."""
    found: dict[tuple[int, int], Token] = {}
    for match in numbers.TOKEN.finditer(text):
        if match.group("other") and match.group(0).lower() in ("all", "single"):
            continue  # "all" counts only where it states a proportion of people (below)
        kind = "number" if match.group("digits") else "ordinal" if _ORDINAL.fullmatch(match.group(0)) else "word"
        found[match.span()] = Token(*match.span(), match.group(0), kind)
    for pattern, kind in ((_UNIVERSAL, "universal"), (_ORDINAL, "ordinal"), (_THOUSAND, "word")):
        for match in pattern.finditer(text):
            found.setdefault(match.span(), Token(*match.span(), match.group(0), kind))
    # A token inside a longer one ("twenty" in "twenty-five") is that one.
    tokens = sorted(found.values(), key=lambda t: (t.start, -t.end))
    kept: list[Token] = []
    for token in tokens:
        if kept and token.start < kept[-1].end:
            continue
        kept.append(token)
    return kept


def footnote_markers(text: str) -> list[Token]:
    """Every footnote marker by the rule (module docstring), one token per reference number: its digits."""
    found = [Token(m.start(1) + d.start(), m.start(1) + d.end(), _reference_number(d.group()), "marker")
             for m in _BRACKETED_MARKERS.finditer(text) for d in re.finditer(r"\d+", m.group(1))]
    found += [Token(*m.span(), _reference_number(m.group(0)), "marker")
              for pattern in (_TRAILING_MARKER, _SUPERSCRIPT_MARKER) for m in pattern.finditer(text)]
    return sorted(found, key=lambda t: t.start)


def _occurrences(text: str, quote: str) -> list[tuple[int, int]]:
    spans, start = [], text.find(quote)
    while start >= 0 and quote:
        spans.append((start, start + len(quote)))
        start = text.find(quote, start + 1)
    return spans


@functools.lru_cache(maxsize=64)
def _sentence_ends(text: str) -> np.ndarray:
    """Where each sentence end of a whole text ends (one scan per text, kept for the next lookup)."""
    ends = np.array([match.end() for match in _SENTENCE_END.finditer(text)], dtype=np.int64)
    ends.flags.writeable = False  # shared by every caller through the cache
    return ends


def sentence_start(text: str, offset: int) -> int:
    """Where the sentence around `offset` starts (after the previous sentence's end or line break)."""
    # Up to the character before the offset, so that a marker's own full stop does not start a new sentence
    # ("fusion. (4)"), unless that character is a line break.
    end = offset if text[offset - 1: offset] == "\n" else max(offset - 1, 0)
    # The scan of text[:end] agrees with the whole text's scan up to any sentence end that lies before
    # end - 1 (no match or failed attempt before it looks past it), so it resumes from the last of those.
    ends = _sentence_ends(text)
    before = int(np.searchsorted(ends, end - 1, side="left"))
    start = int(ends[before - 1]) if before else 0
    for match in _SENTENCE_END.finditer(text, start, end):
        start = match.end()
    return start


def sentence_span(text: str, offset: int, end_offset: int | None = None) -> tuple[int, int]:
    """(start, end) of the sentence around a character offset (or the span offset..end_offset), the end
    just after its full stop; a footnote marker printed after the full stop belongs to that sentence."""
    begin = sentence_start(text, offset)
    after = offset if end_offset is None else end_offset
    end = next((m for m in _SENTENCE_END.finditer(text, begin) if m.end() > after), None)
    return begin, (end.start() + 1 if end else len(text))


def sentence(text: str, offset: int) -> str:
    """The sentence around a character offset, verbatim (ready to be a claim's quote)."""
    begin, end = sentence_span(text, offset)
    return text[begin:end].strip()


LEDGER_COLUMNS = ["source_id", "line", "column", "text", "kind", "accounted_by", "how"]


def body_mask(text: str, first: float, last: float) -> callable:
    """Whether an offset is in the page's body (outside its reference list)."""
    starts = _line_starts(text)

    def in_body(offset: int) -> bool:
        if pd.isna(first):
            return True
        line = locate(text, starts, offset)[0]
        return not (first <= line <= (last if pd.notna(last) else np.inf))
    return in_body


# The columns in which a claim records a number: its value, and the text of what it measures (the "three"
# of "after three treatments" is recorded in the timepoint, the "40" of "above 40 years" in the population).
RECORDED_VALUES = ("value", "value_low", "value_high", "numerator", "denominator")
RECORDED_TEXT = ("value_text", "timepoint", "population", "outcome", "intervention")
# A value recorded within this of the number counts (rounding, and the benchmark's jittered copies).
RECORDED_TOLERANCE = 0.11


def recorded_numbers_by_page(claims: pd.DataFrame) -> dict[str, dict[str, tuple[str, np.ndarray, np.ndarray]]]:
    """For each page, for each distinct quote: (its first claim_id, the values its claims record, and the
    numbers in the text they record). One pass over whole columns, deduplicated before any Python loop, and
    each distinct text parsed once: a hundred claims and a million copies of them both cost little."""
    values_cols = [c for c in RECORDED_VALUES if c in claims]
    text_cols = [c for c in RECORDED_TEXT if c in claims]
    page_codes, pages = pd.factorize(claims["source_id"], sort=False)
    quote_codes, quotes = pd.factorize(claims["quote"], sort=False)
    pair = np.where((page_codes >= 0) & (quote_codes >= 0), page_codes * (len(quotes) + 1) + quote_codes, -1)
    # One code per (page, quote), first seen first; -1 where either is empty.
    valid = pair >= 0
    codes = np.full(len(pair), -1)
    codes[valid] = pd.factorize(pair[valid], sort=False)[0]
    n = int(codes.max()) + 1 if valid.any() else 0
    first_rows = np.flatnonzero(valid)[np.unique(codes[valid], return_index=True)[1]]
    # (quote, value) pairs, distinct and sorted, cut into one array per quote
    recorded = [pd.to_numeric(claims[c], errors="coerce").to_numpy(float) for c in values_cols]
    values = pd.DataFrame({"code": np.repeat(codes, len(values_cols)),
                           "value": np.column_stack(recorded).ravel() if recorded else np.zeros(0)})
    values = values[values["code"] >= 0].dropna().drop_duplicates().sort_values(["code", "value"])
    code_of, value = values["code"].to_numpy(), values["value"].to_numpy(float)
    bounds = np.searchsorted(code_of, np.arange(n + 1))
    # the numbers written in the text columns, per quote
    parsed: dict[str, frozenset] = {}
    words: list[set[float]] = [set() for _ in range(n)]
    for col in text_cols:
        pairs = pd.DataFrame({"code": codes, "text": claims[col].array})
        pairs = pairs[pairs["code"] >= 0].dropna().drop_duplicates()
        for code, text in zip(pairs["code"].tolist(), pairs["text"].tolist()):
            if text not in parsed:
                parsed[text] = numbers.numbers_in(str(text))
            words[code] |= parsed[text]
    out: dict[str, dict] = {}
    for code, row in enumerate(first_rows.tolist()):
        page, quote = pages[page_codes[row]], quotes[quote_codes[row]]
        out.setdefault(page, {})[quote] = (claims["claim_id"].iat[row], value[bounds[code]: bounds[code + 1]],
                                           np.asarray(sorted(words[code]), float))
    return out


def recorded_numbers(claims: pd.DataFrame, source_id: str) -> dict[str, tuple[str, np.ndarray, np.ndarray]]:
    """recorded_numbers_by_page for one page."""
    return recorded_numbers_by_page(claims[claims["source_id"] == source_id]).get(source_id, {})


def _recorded(token: Token, values: np.ndarray, words: np.ndarray) -> bool:
    """Whether a claim records this number: a universal quantifier as its value (100%, or 0 for none);
    any other number as a value or in the text of what the claim measures."""
    if token.kind == "universal":
        wanted, pool = [0.0 if token.text.lower() in ("none", "no", "nobody") else 100.0], values
    else:
        wanted, pool = numbers.numbers_in(token.text), np.concatenate([values, words])
    return any(np.any(np.abs(pool - v) <= RECORDED_TOLERANCE) for v in wanted)


def number_ledger(source_id: str, text: str, claims: pd.DataFrame, exclusions: pd.DataFrame,
                  first: float = np.nan, last: float = np.nan, recorded: dict | None = None) -> pd.DataFrame:
    """Every number of a page's body with what accounts for it ('footnote marker', the claim_id of a claim
    that records it, or an exclusion reason); accounted_by is empty for a number nothing accounts for.

    A number inside a claim's quote is accounted for only when a claim with that quote records it (see
    _recorded): "All patients ..." inside the quote of a duration claim still needs its own 100% claim.
    `recorded` is the page's entry of recorded_numbers_by_page, when the caller has it for every page."""
    starts = _line_starts(text)
    in_body = body_mask(text, first, last)
    quotes = [(s, e, claim_id, values, words)
              for quote, (claim_id, values, words) in
              (recorded_numbers(claims, source_id) if recorded is None else recorded).items()
              for s, e in _occurrences(text, quote)]
    marker_digits = {(m.start, m.end) for m in footnote_markers(text)}
    excluded = {}
    for row in exclusions[exclusions["source_id"] == source_id].itertuples():
        excluded[(int(row.line), int(row.column), row.text)] = row.reason
    rows = []
    for token in number_tokens(text):
        if not in_body(token.start):
            continue
        line, column = locate(text, starts, token.start)
        claim = next((cid for s, e, cid, values, words in quotes
                      if s <= token.start and token.end <= e and _recorded(token, values, words)), None)
        if (token.start, token.end) in marker_digits:
            by, how = "footnote marker", "rule"
        elif claim is not None:
            by, how = claim, "claim"
        elif (line, column, token.text) in excluded:
            by, how = excluded[(line, column, token.text)], "exclusion"
        else:
            by, how = None, None
        rows.append(dict(source_id=source_id, line=line, column=column, text=token.text, kind=token.kind,
                         accounted_by=by, how=how))
    return pd.DataFrame(rows, columns=LEDGER_COLUMNS)


FOOTNOTE_COLUMNS = ["source_id", "line", "column", "marker", "accounted_by"]


def _body_markers(source_id: str, text: str, exclusions: pd.DataFrame | None, first: float, last: float
                  ) -> list[tuple[Token, int, int]]:
    """Every footnote marker of a page's body (the rule's, and those declared in number_exclusions.csv), in
    order, each with the span of the sentence it closes."""
    starts = _line_starts(text)
    in_body = body_mask(text, first, last)
    markers = footnote_markers(text)
    if exclusions is not None:
        # Markers the rule cannot see, declared as such in number_exclusions.csv.
        declared = exclusions[(exclusions["source_id"] == source_id) & (exclusions["reason"] == "footnote_marker")]
        for row in declared.itertuples():
            if not 1 <= int(row.line) <= len(starts):
                continue  # not on the page: the exclusion is reported as naming no number
            offset = int(starts[int(row.line) - 1]) + int(row.column) - 1
            if text[offset: offset + len(row.text)] == row.text:
                markers.append(Token(offset, offset + len(row.text), _reference_number(row.text), "marker"))
    return [(marker, *sentence_span(text, marker.start, marker.end))
            for marker in sorted(markers, key=lambda t: t.start) if in_body(marker.start)]


def _accounts(quote: tuple[int, int], number: str | None, marker: tuple[Token, int, int]) -> bool:
    """A quote (its span on the page) citing reference `number` accounts for a marker when the marker is for
    that reference number and the quote lies in the sentence the marker closes."""
    (s, e), (token, begin, end) = quote, marker
    return number == token.text and s < end and e > begin


def footnote_ledger(source_id: str, text: str, claims: pd.DataFrame, statements: pd.DataFrame,
                    references: pd.DataFrame, exclusions: pd.DataFrame | None = None,
                    first: float = np.nan, last: float = np.nan) -> pd.DataFrame:
    """Every footnote marker of a page's body with the claim or statement-audit row that accounts for it
    (accounted_by empty when nothing does)."""
    starts = _line_starts(text)
    number_of = dict(zip(references["ref_id"], references["ref_number"].astype(str)))
    cited = []  # (span, reference number, label) of every quote of this page that cites a reference
    for rows, kind in ((claims, "claim"), (statements, "statement")):
        columns = ["quote", "ref_id"] + (["claim_id"] if kind == "claim" else [])
        here = rows.loc[(rows["source_id"] == source_id) & rows["ref_id"].notna(), columns].drop_duplicates(
            ["quote", "ref_id"])
        for row in here.itertuples():
            if not isinstance(row.ref_id, str):
                continue
            label = row.claim_id if kind == "claim" else f"statement audit: {row.ref_id}"
            cited += [(span, number_of.get(row.ref_id), label) for span in _occurrences(text, row.quote)]
    out = []
    for marker in _body_markers(source_id, text, exclusions, first, last):
        by = next((label for span, number, label in cited if _accounts(span, number, marker)), None)
        line, column = locate(text, starts, marker[0].start)
        out.append(dict(source_id=source_id, line=line, column=column, marker=marker[0].text, accounted_by=by))
    return pd.DataFrame(out, columns=FOOTNOTE_COLUMNS)


def unmarked_statements(source_id: str, text: str, statements: pd.DataFrame, references: pd.DataFrame,
                        exclusions: pd.DataFrame | None = None, first: float = np.nan, last: float = np.nan
                        ) -> list[tuple[int, str, str]]:
    """Each statement-audit row of the page that accounts for no footnote marker of its body: (its position in
    `statements`, the column that is wrong, why). A row accounts for a marker as in the footnote ledger (a
    marker for its reference number closes the sentence its quote lies in); a row for a statement its footnote
    covers without closing names the line of that marker (footnote_line), where a marker for its reference
    number must then be."""
    markers = _body_markers(source_id, text, exclusions, first, last)
    starts = _line_starts(text)
    number_of = dict(zip(references["ref_id"], references["ref_number"].astype(str)))
    declared = statements["footnote_line"] if "footnote_line" in statements else pd.Series(np.nan, statements.index)
    out = []
    for i in np.flatnonzero((statements["source_id"] == source_id).to_numpy()):
        quote, ref_id, line = statements["quote"].iat[i], statements["ref_id"].iat[i], declared.iat[i]
        if not (isinstance(quote, str) and isinstance(ref_id, str)):
            continue  # reported by the table's own rules
        number = number_of.get(ref_id)
        if pd.notna(line):
            if not any(token.text == number and locate(text, starts, token.start)[0] == line
                       for token, _, _ in markers):
                out.append((i, "footnote_line", f"no footnote marker for reference [{number}] ({ref_id}) on line "
                            f"{line:g} of the page: each statement-audit row accounts for a marker, and a "
                            "statement its footnote covers without closing names that marker's line"))
            continue
        spans = _occurrences(text, quote)
        if any(_accounts(span, number, marker) for marker in markers for span in spans):
            continue
        closing = sorted({token.text for token, begin, end in markers for s, e in spans if s < end and e > begin},
                         key=lambda n: (len(n), n))
        if closing:
            out.append((i, "ref_id", f"the footnote marker closing this statement on the page is "
                        f"[{', '.join(closing)}], not [{number}] ({ref_id}): each statement-audit row accounts for "
                        "a marker for its reference"))
        else:
            out.append((i, "quote", f"no footnote marker for reference [{number}] ({ref_id}) closes this statement "
                        "on the page: each statement-audit row accounts for a marker (a statement its footnote "
                        "covers without closing names that marker's line in footnote_line)"))
    return out


# -- suggestions: what a number most likely is (for the candidate sheet; an analyst decides) --------

_PHONE = re.compile(r"\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}|\b(?:phone|fax|suite|ave|avenue|street|road|blvd)\b",
                    re.IGNORECASE)
_LEVEL = re.compile(r"\b[LSCT] ?\d\b|\b[LSCT] ?\d\s*[-–/]\s*[LSCT]?\d\b")
_APPROX = re.compile(r"\b(?:about|around|approximately|nearly|almost|roughly|close to)\s*$", re.IGNORECASE)
_UPPER = re.compile(r"\b(?:up to|as much as|as many as|no more than|at most|less than|under|within)\s*$", re.IGNORECASE)
_LOWER = re.compile(r"\b(?:more than|over|at least|greater than|above)\s*$", re.IGNORECASE)

# A numbered list's marker: "1." or "2)" at the start of a line, or inline after a colon or a sentence's end
# ("three steps: 1. Examine ... 2. Treat ..."), followed by a space.
_LIST_MARKER = re.compile(r"(?:^[ \t]*|[:;.!?][ \t]+)(\d{1,2})[.)](?=[ \t]+\S)", re.MULTILINE)


def list_numbers(text: str) -> set[int]:
    """Where each number of a numbered list starts: a marker at the start of a line, or inline markers that
    count 1, 2, 3 ... (a lone inline "12. " is a sentence ending with a number, not a list)."""
    starts: set[int] = set()
    run: list[int] = []  # the inline markers counting 1, 2, 3 ... so far

    def close():
        if len(run) >= 2:
            starts.update(run)

    for match in _LIST_MARKER.finditer(text):
        start, n = match.start(1), int(match.group(1))
        if not text[text.rfind("\n", 0, start) + 1: start].strip():
            starts.add(start)  # at the start of its line
        elif n == 1:
            close()
            run = [start]
        elif run and n == len(run) + 1:
            run.append(start)
        else:
            close()
            run = []
    close()
    return starts


def suggest_exclusion(text: str, token: Token, line_text: str, listed: set[int] | None = None) -> str:
    """The exclusion reason a number most likely has, or '' when it may well be a claim. `listed`: the
    starts of the page's list numbers (list_numbers), when the caller has them."""
    after = text[token.end: token.end + 12]
    if _PHONE.search(line_text) and token.kind == "number":
        return "phone_or_address"
    if _LEVEL.search(text[max(0, token.start - 2): token.end + 4]):
        return "spinal_level"
    if token.kind == "ordinal":
        return "ordinal_or_article"
    if token.kind == "word" and token.text.lower() == "one" and re.match(r"\s+(?:of|who|way|day|thing|another)\b",
                                                                     after, re.IGNORECASE):
        return "ordinal_or_article"
    if token.kind == "number" and re.fullmatch(r"(?:19|20)\d\d", token.text):
        return "date_or_name"
    if token.start in (list_numbers(text) if listed is None else listed):
        return "list_numbering"
    return ""


# -- reading a number with the words around it: its value, range, unit and bound ---------------

_NUMBER = numbers.NUMBER
_PERCENT = r"(?:\s*%|\s+per\s?cent\b|\s*percent\b)"
_RANGE_AFTER = re.compile(rf"{_PERCENT}?\s*(?P<connector>-|–|—|\bto\b|\band\b)\s*(?P<second>{_NUMBER})",
                          re.IGNORECASE)
_RANGE_BEFORE = re.compile(rf"(?P<first>{_NUMBER}){_PERCENT}?\s*(?P<connector>-|–|—|\bto\b|\band\b)\s*$",
                           re.IGNORECASE)
_BETWEEN = re.compile(r"\bbetween\s+$", re.IGNORECASE)
_ONE_IN_AFTER = re.compile(rf"\s+(?:in|out\s+of)\s+(?P<whole>{_NUMBER})", re.IGNORECASE)
_MULTIPLIER = re.compile(r"\s+(?P<word>hundred|thousand|million)\b", re.IGNORECASE)
_MULTIPLIERS = {"hundred": 100, "thousand": 1_000, "million": 1_000_000}
_UNIT_AFTER = re.compile(rf"(?P<percent>{_PERCENT})|\s*[- ]?(?P<time>years?|months?|weeks?|days?|hours?|minutes?)\b"
                         r"|\s*(?P<mg>mg|milligrams?)\b", re.IGNORECASE)
_TIME_UNITS = {"year": "years", "month": "months", "week": "weeks", "day": "days", "hour": "hours", "minute": "minutes"}
_QUALIFIERS = ((_UPPER, "upper"), (_LOWER, "lower"), (_APPROX, "approx"))


@dataclass(frozen=True)
class Reading:
    """A number read with the words around it: `start:end` is the number as printed with its qualifier and
    unit ('about 85%', 'twenty-two to forty percent', 'Nearly half', 'one in four'), a claim's value_text."""

    start: int
    end: int
    value: float | None  # None for a range
    low: float | None
    high: float | None
    unit: str
    bound: str


def _qualified(text: str, start: int) -> tuple[int, str]:
    """Where a qualifier before `start` begins ('about', 'up to', 'more than'), and the bound it gives."""
    window = max(0, start - 25)
    for pattern, bound in _QUALIFIERS:
        match = pattern.search(text, window, start)
        if match:
            return match.start(), bound
    return start, "exact"


def _is_range(connector: str, text: str, first_start: int) -> bool:
    """'20-40', 'twenty to forty'; 'and' only after 'between' ('between twenty and forty')."""
    return connector.lower() != "and" or bool(_BETWEEN.search(text, max(0, first_start - 12), first_start))


def read_number(text: str, token: Token) -> Reading:
    """The number a token starts, read with the words around it: a range in digits or words
    ('20-40%', 'twenty-two to forty percent', 'between 20 and 40%'), 'one in four' (25 percent),
    'three hundred', 'half' (50 percent), 'all patients' (100 percent), its unit and its qualifier."""
    if token.kind == "universal":
        people = re.compile(rf"(?:\s+[\w-]+){{0,2}}?\s+{_PEOPLE}\b", re.IGNORECASE).match(text, token.end)
        none = token.text.lower() in ("none", "no", "nobody")
        return Reading(token.start, people.end() if people else token.end, 0.0 if none else 100.0, None, None,
                       "percent", "exact")
    found = numbers.numbers_in(token.text)
    first = numbers.number_value(token.text) if re.fullmatch(_NUMBER, token.text, re.IGNORECASE) else \
        (min(found) if found else None)
    start, end = token.start, token.end
    value, low, high, unit = first, None, None, None
    one_in = _ONE_IN_AFTER.match(text, end)
    range_after = _RANGE_AFTER.match(text, end)
    multiplier = _MULTIPLIER.match(text, end)
    if one_in and first is not None and numbers.number_value(one_in["whole"]):
        value, unit, end = round(100 * first / numbers.number_value(one_in["whole"]), 1), "percent", one_in.end()
    elif range_after and first is not None and _is_range(range_after["connector"], text, start):
        value, low, high, end = None, first, numbers.number_value(range_after["second"]), range_after.end()
    elif multiplier and first is not None:
        value, end = first * _MULTIPLIERS[multiplier["word"].lower()], multiplier.end()
    if unit is None:
        after = _UNIT_AFTER.match(text, end)
        if token.text.lower() == "half":
            unit = "percent"
        elif after and after["percent"]:
            unit, end = "percent", after.end()
        elif after and after["time"]:
            unit, end = _TIME_UNITS[after["time"].lower().rstrip("s")], after.end()
        elif after and after["mg"]:
            unit, end = "mg_per_day", after.end()
        elif numbers.is_share(token.text) and value is not None:
            value, unit = round(100 * value, 1), "percent"  # '½ of patients', as 'half'
        else:
            unit = "count"
    if low is not None:
        return Reading(start, end, None, low, high, unit, "range")
    start, bound = _qualified(text, start)
    return Reading(start, end, value, None, None, unit, bound)


def _fmt(value: float | None) -> str:
    """A value as a sheet shows it: 26.8, 25, 2000000 (never 2e+06)."""
    return "" if value is None else np.format_float_positional(value, trim="-")


def guess(text: str, token: Token) -> tuple[str, str, str]:
    """(value, unit, bound) a number most likely states, read from the words around it; each number of a
    range gives its own value ('20' and '40' of '20-40%', both percent and range)."""
    if token.kind == "universal":
        reading = read_number(text, token)
        return _fmt(reading.value), reading.unit, reading.bound
    before = _RANGE_BEFORE.search(text, max(0, token.start - 40), token.start)
    if before and _is_range(before["connector"], text, before.start("first")):
        own = read_number(text, Token(before.start("first"), before.end("first"), before["first"], "number"))
        found = numbers.numbers_in(token.text)
        return _fmt(min(found) if found else None), own.unit, "range"
    reading = read_number(text, token)
    if reading.bound == "range":
        return _fmt(reading.low), reading.unit, "range"
    return _fmt(reading.value), reading.unit, reading.bound


CANDIDATE_COLUMNS = ["source_id", "line", "column", "text", "kind", "sentence", "guessed_value", "guessed_unit",
                     "guessed_bound", "nearest_footnote", "suggested_exclusion", "accounted_by"]


def _closing_marker(text: str, token: Token, markers: list[Token]) -> Token | None:
    """The marker that closes a number's sentence (printed just after its full stop, or before it)."""
    end_match = _SENTENCE_END.search(text, token.end)
    end = end_match.end() if end_match else len(text)
    return next((m for m in markers if token.end <= m.start <= end), None)


def footnote_as_printed(text: str, marker: Token) -> str:
    """A marker as the page prints it: '(2)', '(23,24,25)', '1', '¹'."""
    for match in _BRACKETED_MARKERS.finditer(text, max(0, marker.start - 40)):
        if match.start() < marker.start < match.end():
            return match.group(0)
        if match.start() > marker.start:
            break
    return text[marker.start: marker.end]


CLAIM_CANDIDATE_COLUMNS = ["line", "column", "quote", "value_text", "value", "value_low", "value_high", "bound",
                           "unit", "footnote", "reference", "marker_start"]


def claim_candidates(source_id: str, text: str, claims: pd.DataFrame | None = None,
                     exclusions: pd.DataFrame | None = None, first: float = np.nan, last: float = np.nan
                     ) -> pd.DataFrame:
    """The claim each number still to decide would make, when nothing suggests excluding it: its sentence
    (the quote), the number as printed with its qualifier and unit (value_text), its value or range, bound and
    unit (read_number), and the footnote closing its sentence as printed (with its reference number). The
    second number of a range, the 'four' of 'one in four' and the 'hundred' of 'three hundred' belong to the
    claim of the number before them."""
    sheet = candidate_sheet(source_id, text, claims, exclusions, first, last)
    starts = _line_starts(text)
    tokens = {locate(text, starts, t.start): t for t in number_tokens(text)}
    markers = footnote_markers(text)
    rows, covered = [], -1
    for entry in sheet.itertuples():
        token = tokens[(entry.line, entry.column)]
        if token.start < covered or entry.accounted_by or entry.suggested_exclusion:
            continue
        reading = read_number(text, token)
        covered = reading.end
        begin, end = sentence_span(text, token.start)
        quote = text[min(begin, reading.start): max(end, reading.end)].strip()
        marker = _closing_marker(text, token, markers)
        rows.append(dict(line=entry.line, column=entry.column, quote=quote,
                         value_text=text[reading.start: reading.end], value=_fmt(reading.value),
                         value_low=_fmt(reading.low), value_high=_fmt(reading.high), bound=reading.bound,
                         unit=reading.unit, footnote=footnote_as_printed(text, marker) if marker else "",
                         reference=marker.text if marker else "", marker_start=marker.start if marker else -1))
    return pd.DataFrame(rows, columns=CLAIM_CANDIDATE_COLUMNS)


STATEMENT_CANDIDATE_COLUMNS = ["line", "column", "marker", "quote"]


def statement_candidates(source_id: str, text: str, claimed_markers: set[int], claims: pd.DataFrame,
                         statements: pd.DataFrame, references: pd.DataFrame, exclusions: pd.DataFrame | None = None,
                         first: float = np.nan, last: float = np.nan) -> pd.DataFrame:
    """Each footnote marker of the body that nothing accounts for yet and that closes no candidate claim (its
    start not in `claimed_markers`): the statement it marks, verbatim (its sentence up to the marker), for a
    statement_audit.csv row."""
    ledger = footnote_ledger(source_id, text, claims, statements, references, exclusions, first, last)
    starts = _line_starts(text)
    rows = []
    for entry in ledger[ledger["accounted_by"].isna()].itertuples():
        offset = int(starts[entry.line - 1]) + entry.column - 1
        if offset in claimed_markers:
            continue
        begin = sentence_start(text, offset)
        quote = text[begin:offset].rstrip(" ([,").strip()
        if quote:
            rows.append(dict(line=entry.line, column=entry.column, marker=entry.marker, quote=quote))
    return pd.DataFrame(rows, columns=STATEMENT_CANDIDATE_COLUMNS)


def candidate_sheet(source_id: str, text: str, claims: pd.DataFrame | None = None,
                    exclusions: pd.DataFrame | None = None, first: float = np.nan, last: float = np.nan
                    ) -> pd.DataFrame:
    """One row per number of a page's body: its sentence, a guessed value, unit and bound, the nearest
    footnote marker after it in its sentence, and a suggested exclusion reason; `accounted_by` says what
    already accounts for it. An analyst turns each row into a claim or an exclusion."""
    claims = claims if claims is not None else pd.DataFrame(columns=["source_id", "claim_id", "quote"])
    exclusions = exclusions if exclusions is not None else pd.DataFrame(
        columns=["source_id", "line", "column", "text", "reason"])
    ledger = number_ledger(source_id, text, claims, exclusions, first, last)
    starts = _line_starts(text)
    lines = text.split("\n")
    markers = footnote_markers(text)
    listed = list_numbers(text)
    rows = []
    by_position = {(r.line, r.column): r for r in ledger.itertuples()}
    for token in number_tokens(text):
        line, column = locate(text, starts, token.start)
        if (line, column) not in by_position:
            continue  # in the reference list
        entry = by_position[(line, column)]
        value, unit, bound = guess(text, token)
        closing = _closing_marker(text, token, markers)
        marker = closing.text if closing else ""
        rows.append(dict(source_id=source_id, line=line, column=column, text=token.text, kind=token.kind,
                         sentence=text[sentence_start(text, token.start):token.start].strip(" (")
                         if entry.how == "rule" else sentence(text, token.start), guessed_value=value,
                         guessed_unit=unit,
                         guessed_bound=bound, nearest_footnote=marker,
                         suggested_exclusion="" if entry.how == "rule" else
                         suggest_exclusion(text, token, lines[line - 1], listed),
                         accounted_by=entry.accounted_by if isinstance(entry.accounted_by, str) else ""))
    return pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)
