"""The text around a syntax error as a policy owner sees it: the declaration's words and marks
(`Piece`), the words for what the parser expected, and dates written in other ways. Used by
`syntax_errors.py` to name mistakes."""
from __future__ import annotations

import difflib
import re
from functools import lru_cache

import attrs
from lark import Lark

# The words that may start a declaration.
DECLARATION_KEYWORDS = ("policy", "version", "currency", "calendar", "terms", "effective", "clause", "parameter",
                        "enum", "record", "request", "let", "outcomes", "rule", "output", "example",
                        "property", "table")
_RULE_PARTS = ("cites", "when", "then", "because", "overrides")
_EXPRESSION_WORDS = ("and", "or", "is", "in", "not", "through", "for", "where", "of", "to", "else")

# How each kind of token is called in a message; terminals not listed are never named.
_TOKEN_WORDS = {
    "NAME": "a name", "STRING": "a quoted text", "DATE": "a date like `2026-03-02`",
    "DURATION": "a number of days like `14 days`", "PERCENT": "a percentage like `15%`",
    "DECIMAL": "an amount like `25.00`", "INT": "a whole number",
    "COMPARE": "`<`, `<=`, `>` or `>=`", "ADD_OP": "`+` or `-`", "MUL_OP": "`*` or `/`",
    "AGGREGATE": "`sum of`, `count of`, `min of` or `max of`",
    "QUANTIFIER": "`any`, `every` or `no`", "DAYS_FROM": "`days from`",
    "OVERRIDES_ALL": "`overrides all other rules`", "TOTAL": "`total`",
    "DATE_RANGE_TYPE": "`date range`", "_POLICY": "`policy`", "_VERSION": "`version`",
    "_CURRENCY": "`currency`", "_CALENDAR": "`calendar`", "$END": "the end of the file",
}
# Regex terminals that stand for keywords, by the words they match.
_REGEX_KEYWORDS = {"_POLICY": "policy", "_VERSION": "version", "_CURRENCY": "currency",
                   "_CALENDAR": "calendar", "TOTAL": "total"}


# ---- The text of a declaration, as a policy owner sees it --------------------------------------

_SCAN = re.compile(r"""
    (?P<ws>\s+) | (?P<comment>\#[^\n]*) | (?P<string>"(?:\\.|[^"\\])*"?)
  | (?P<number>\d+[ \t]+(?:business[ \t]+)?days?\b|\d+(?:\.\d+)?%?) | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|==|!=|=>|=<|&&|\|\||<>|.)""", re.X | re.S)


@attrs.frozen
class Piece:
    """One word, number, quoted text or sign of the text, by offsets into it."""
    kind: str
    start: int
    end: int
    text: str


def pieces_of(text: str, start: int, end: int) -> list[Piece]:
    out, i = [], start
    while i < end:
        m = _SCAN.match(text, i, end)
        if m is None:  # cannot happen: `.` matches anything but a line break, which `\s` takes
            break
        kind = m.lastgroup
        if kind not in ("ws", "comment"):
            out.append(Piece(kind, m.start(), m.end(), m.group()))
        i = m.end()
    return out


RULE_PART_WORDS = ("cites", "when", "then", "because", "overrides")
INDENTED_LET = re.compile(r"^[ \t]+(let)\b", re.M)
DECLARATION_LINE = re.compile(r"^[A-Za-z_]", re.M)  # a line at column 1 starts a declaration


def piece_before(pieces: list[Piece], pos: int) -> Piece | None:
    found = None
    for p in pieces:
        if p.end <= pos:
            found = p
        else:
            break
    return found


def piece_at(pieces: list[Piece], pos: int) -> Piece | None:
    for p in pieces:
        if p.start <= pos < p.end:
            return p
    return None


def piece_after(pieces: list[Piece], pos: int) -> Piece | None:
    for p in pieces:
        if p.start >= pos:
            return p
    return None


# ---- Words for what the parser expected ----------------------------------------------------------

@lru_cache(maxsize=4)
def keyword_terminals(lark: Lark) -> dict[str, str]:
    """Terminal name -> the keyword it stands for (`RULE` -> `rule`)."""
    out = dict(_REGEX_KEYWORDS)
    for t in lark.terminals:
        if t.pattern.type == "str" and re.fullmatch(r"[a-z]+", t.pattern.value):
            out[t.name] = t.pattern.value
    return out


def words_for(terminal: str, lark: Lark) -> str | None:
    if terminal in _TOKEN_WORDS:
        return _TOKEN_WORDS[terminal]
    for t in lark.terminals:
        if t.name == terminal and t.pattern.type == "str":
            return f"`{t.pattern.value}`"
    return None  # an internal terminal: never shown


def _expected_words(expected, lark: Lark) -> list[str]:
    """What could come instead, grouped so that a list of twenty terminals reads as three ideas."""
    keywords = keyword_terminals(lark)
    names = {keywords.get(t) for t in expected}
    groups, rest = [], set(expected)
    if sum(k in names for k in DECLARATION_KEYWORDS) >= 4:
        groups.append("a new declaration (`rule`, `let`, `parameter`, ...)")
        rest = {t for t in rest if keywords.get(t) not in DECLARATION_KEYWORDS and t != "$END"}
    if sum(k in names for k in _RULE_PARTS) >= 3:
        groups.insert(0, "another part of the rule (`when`, `then`, `because`, ...)")
        rest = {t for t in rest if keywords.get(t) not in _RULE_PARTS}
    operators = {"COMPARE", "ADD_OP", "MUL_OP", "DOT"} | {t for t, k in keywords.items()
                                                         if k in ("and", "or", "is", "in", "not", "through")}
    if len(rest & operators) >= 4:
        groups.insert(0, "more of the expression (`and`, `or`, `is`, `+`, ...)")
        rest -= operators | {t for t, k in keywords.items() if k in ("for", "where", "then", "else", "to", "of")}
    words = sorted({w for w in (words_for(t, lark) for t in rest) if w is not None})
    return groups + words


def expected_hint(expected, lark: Lark) -> str | None:
    words = _expected_words(expected, lark)
    if not words or len(words) > 6:
        return None
    if len(words) == 1:
        return f"expected {words[0]} here"
    return f"expected {', '.join(words[:-1])} or {words[-1]}"


def found_text(token) -> str:
    if token.type == "$END":
        return "the end of the declaration"
    if token.type == "STRING":
        return "quoted text"
    return f"`{shortened(str(token))}`"


def shortened(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 30 else text[:27] + "..."


NUMERIC_DATE = re.compile(r"(?<![\d.])(?:(\d{4})[-/](\d{1,2})[-/](\d{1,2})|(\d{1,2})[-/](\d{1,2})[-/](\d{4}))(?![\d.])")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_DATE_AT_END = re.compile(r"\d{4}-\d{2}-\d{2}$")


def numeric_date_hint(m: re.Match) -> str:
    import datetime

    if m.group(1):
        candidates = [(int(m.group(1)), int(m.group(2)), int(m.group(3)))]
    else:
        a, b, year = int(m.group(4)), int(m.group(5)), int(m.group(6))
        candidates = [(year, a, b), (year, b, a)]
    dates = []
    for year, month, day in candidates:
        try:
            dates.append(datetime.date(year, month, day).isoformat())
        except ValueError:
            pass
    dates = list(dict.fromkeys(dates))
    if len(dates) == 1:
        return f"write dates as YYYY-MM-DD: `{dates[0]}`"
    if dates:
        return f"write dates as YYYY-MM-DD: `{dates[0]}` or `{dates[1]}`, as you mean it"
    return "write dates as YYYY-MM-DD, like `2026-03-02`"


def date_hint(text: str, month: int) -> str:
    """`November 15, 2026` -> write `2026-11-15`; `2 March 2026` is read from its month name on."""
    m = re.match(r"[A-Za-z]+\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", text)
    if m:
        try:
            import datetime

            return f"write `{datetime.date(int(m.group(2)), month, int(m.group(1))).isoformat()}`"
        except ValueError:
            pass
    return "write a date like `2026-03-02` for 2 March 2026"


def type_like(word: str) -> bool:
    """A word that may be a type: a built-in one, `optional`, `list`, or a capitalized name."""
    return word in ("date", "money", "percent", "integer", "boolean", "text", "optional", "list") \
        or (word[:1].isupper() and word.isidentifier())


def looks_like_declaration(word: str) -> bool:
    """A word at the start of a line that is a declaration keyword misspelled (`rul`, `paramter`)."""
    if word in DECLARATION_KEYWORDS or word in _RULE_PARTS or word in _EXPRESSION_WORDS:
        return False
    return bool(difflib.get_close_matches(word.lower(), DECLARATION_KEYWORDS, n=1, cutoff=0.75))

