"""What the expression checker and its users share: the types of literals, the type of what
could not be checked (`UNKNOWN`), spans of names inside a declaration, the result types of
arithmetic, and which fields a condition proves given."""
from __future__ import annotations

import difflib
import functools
import re

import attrs

from rplang.policy_lang.errors import did_you_mean
from rplang.policy_lang.span import Span

from . import ir
from . import types as T

LITERAL_TYPES = {"money": T.MONEY, "integer": T.INTEGER, "percent": T.PERCENT, "date": T.DATE,
                  "duration": T.DAYS, "business_duration": T.BUSINESS_DAYS,
                  "boolean": T.BOOLEAN, "text": T.TEXT, "month_day": T.MONTH_DAY}
NUMBERS = {T.MONEY, T.INTEGER, T.PERCENT, T.DAYS, T.BUSINESS_DAYS, T.EXACT_MONEY}
ORDERED = NUMBERS | {T.DATE}
# Words of the language that a name in an expression may be a misspelling of.
EXPRESSION_KEYWORDS = ("given", "empty", "true", "false", "not", "and", "or", "then", "else", "each",
                        "through")


@attrs.frozen(eq=False)
class _Unknown(T.Scalar):
    """The type of what could not be checked."""

    def describe(self) -> str:
        return "a value that could not be checked"


UNKNOWN = _Unknown("unknown")


def broken(*types) -> bool:
    """Whether any of these types (or of these expressions' types) comes from an earlier error."""
    for t in types:
        t = getattr(t, "type", t)
        while isinstance(t, (T.OptionalType, T.ListType, T.SetType)):
            t = t.inner if isinstance(t, T.OptionalType) else t.element
        if t is UNKNOWN:
            return True
    return False


def name_span(span: Span | None, name: str) -> Span | None:
    """The span of a declaration's name (`window` in `rule window: ...`), or of the whole if not found."""
    if span is None:
        return None
    text = span.source.text
    first_space = _FIRST_WORD.match(text, span.start, span.end)
    start = first_space.end() if first_space else span.start
    found = _find_word(text, name, start, span.end)
    if found < 0:
        found = _find_word(text, name, span.start, span.end)
    return Span(span.source, found, found + len(name)) if found >= 0 else span


def word_span(span: Span | None, word: str) -> Span | None:
    """The span of `word` inside `span` (a member of `{a, b}`), or `span` itself."""
    if span is None:
        return None
    found = _find_word(span.source.text, word, span.start, span.end)
    return Span(span.source, found, found + len(word)) if found >= 0 else span


_FIRST_WORD = re.compile(r"\S+\s+")
_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _find_word(text: str, word: str, start: int, end: int) -> int:
    """Where `word` first occurs in text[start:end] as a whole word, or -1: the search of
    `(?<![A-Za-z0-9_])word(?![A-Za-z0-9_])` from `start` to `end`, without compiling a pattern
    per word (a policy has thousands). Like that search, it looks at the character before `start`
    but not at the one at `end`."""
    end = min(end, len(text))
    i = text.find(word, start, end)
    while i >= 0:
        after = i + len(word)
        if (i == 0 or text[i - 1] not in _WORD_CHARS) and (after >= end or text[after] not in _WORD_CHARS):
            return i
        i = text.find(word, i + 1, end)
    return -1


def lead_span(span: Span | None, name: str) -> Span | None:
    """The span of a name that starts its declaration (a field, an outcome)."""
    if span is None:
        return None
    return Span(span.source, span.start, min(span.end, span.start + len(name)))


DATE_LIKE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})|(\d{1,2})[-/](\d{1,2})[-/](\d{4})")



DATE_NAMES = (T.MONTH, T.WEEKDAY)
DATE_PART_WORDS = {"year": "year of", "month": "month of", "day": "day of", "weekday": "weekday of",
                    "end_of_month": "end of month of"}


@functools.lru_cache(maxsize=1024)
def test_word(name: str) -> tuple[str, ...]:
    """`given` or `empty`, if `name` may be one misspelled (`x is give`); asked once per enum
    value compared (`item.condition is opened`) rather than once per comparison."""
    return tuple(difflib.get_close_matches(name, ["given", "empty"], n=1, cutoff=0.7))


def enum_hint(name: str, enum: T.EnumType) -> str:
    return did_you_mean(name, enum.members) or f"the {enum.name} values are {', '.join(enum.members)}"


def as_percent(value) -> str:
    """`0.15` as a percentage: `15%`."""
    try:
        text = format((value * 100).normalize(), "f")
    except (AttributeError, ArithmeticError, TypeError):
        return "15%"
    return f"{text}%"


def strip_optional(t: T.Type) -> T.Type:
    return t.inner if isinstance(t, T.OptionalType) else t


def arith_type(op: str, lt: T.Type, rt: T.Type) -> T.Type | None:
    lt, rt = strip_optional(lt), strip_optional(rt)
    money_like = (T.MONEY, T.EXACT_MONEY)
    if op in "+-":
        if lt == rt and lt in (T.MONEY, T.INTEGER, T.PERCENT, T.DAYS, T.BUSINESS_DAYS):
            return lt
        if lt in money_like and rt in money_like:
            return T.EXACT_MONEY
        if lt == T.DATE and rt in (T.DAYS, T.BUSINESS_DAYS):
            return T.DATE
        if op == "+" and rt == T.DATE and lt in (T.DAYS, T.BUSINESS_DAYS):
            return T.DATE
        return None
    if op == "*":
        pair = {lt, rt}
        if lt == rt == T.INTEGER:
            return T.INTEGER
        if pair == {T.MONEY, T.INTEGER}:
            return T.MONEY
        if pair <= {T.MONEY, T.EXACT_MONEY, T.PERCENT, T.INTEGER} and pair & set(money_like) and len(pair) == 2:
            return T.EXACT_MONEY
        if pair == {T.INTEGER, T.DAYS}:
            return T.DAYS
        return None
    if op == "/":
        if lt in money_like and rt in (T.INTEGER, T.PERCENT):
            return T.EXACT_MONEY
        return None
    return None


_FIELDS_BUT_SPAN: dict[type, tuple[str, ...]] = {}


def with_span(expr: ir.Expr, span: Span | None) -> ir.Expr:
    """`attrs.evolve(expr, span=span)`, without evolve's generic work: the checker does this for
    every node it checks."""
    cls = type(expr)
    names = _FIELDS_BUT_SPAN.get(cls)
    if names is None:
        fields = attrs.fields(cls)
        assert fields[-1].name == "span" and all(f.init and f.alias == f.name for f in fields)
        names = _FIELDS_BUT_SPAN[cls] = tuple(f.name for f in fields[:-1])
    return cls(*[getattr(expr, name) for name in names], span=span)


def condition_key(expr: ir.Expr):
    """What identifies an expression for narrowing: the same value whatever its optional-ness."""
    return attrs.evolve(expr, type=strip_optional(expr.type))


def given_in(condition: ir.Expr) -> set:
    """The values a true `condition` proves to be given."""
    if isinstance(condition, ir.Op):
        if condition.op == "given":
            return {condition_key(condition.args[0])}
        if condition.op == "and":
            found = set()
            for a in condition.args:
                found |= given_in(a)
            return found
    return set()


def not_given_in(condition: ir.Expr) -> set:
    """The values a false `condition` proves to be given."""
    if isinstance(condition, ir.Op):
        if condition.op == "not_given":
            return {condition_key(condition.args[0])}
        if condition.op == "not":
            return given_in(condition.args[0])
        if condition.op == "or":  # a false `or`: every side is false
            found = set()
            for a in condition.args:
                found |= not_given_in(a)
            return found
    return set()


def present_when(expr: ir.Expr) -> bool:
    return isinstance(expr, (ir.FieldOf, ir.Input)) and expr.present_when is not None
