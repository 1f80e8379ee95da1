"""The policy as written: frozen nodes, each with the span of text it came from.

Spans are left out of equality, so two trees compare equal wherever they came from.
"""
from __future__ import annotations

import datetime

import attrs

from .span import Span


def _span():
    return attrs.field(eq=False, repr=False, default=None)


# ---- Expressions ------------------------------------------------------------------------------

@attrs.frozen
class Name:
    """A reference by name: a parameter, a derived value, a request field, a bound item, an enum value."""
    name: str
    span: Span | None = _span()


@attrs.frozen
class Field:
    """`base.name`: a field of a record."""
    base: "Expr"
    name: str
    span: Span | None = _span()


@attrs.frozen
class Literal:
    """A constant: kind is money, integer, percent, date, duration, business_duration, boolean, text,
    or month_day (a day of the year, `november 1`, as (month, day))."""
    kind: str
    value: object
    span: Span | None = _span()


@attrs.frozen
class EnumSet:
    """`{a, b, c}`: a set of enum values."""
    members: tuple[str, ...]
    span: Span | None = _span()


@attrs.frozen
class TextSet:
    """`{"AL", "OH"}`: a set of texts."""
    members: tuple[str, ...]
    span: Span | None = _span()


@attrs.frozen
class Negate:
    """`-x`."""
    operand: "Expr"
    span: Span | None = _span()


@attrs.frozen
class Arith:
    """`left op right` for op in + - * /."""
    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = _span()


@attrs.frozen
class Compare:
    """`left op right` for op in < <= > >= is `is not`."""
    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = _span()


@attrs.frozen
class Test:
    """`x is given`, `x is empty` and their negations; test is `given` or `empty`."""
    test: str
    operand: "Expr"
    negated: bool
    span: Span | None = _span()


@attrs.frozen
class Membership:
    """`x in s` or `x not in s`."""
    element: "Expr"
    collection: "Expr"
    negated: bool
    span: Span | None = _span()


@attrs.frozen
class Logic:
    """`a and b and ...` or `a or b or ...`."""
    op: str
    operands: tuple["Expr", ...]
    span: Span | None = _span()


@attrs.frozen
class Not:
    """`not x`."""
    operand: "Expr"
    span: Span | None = _span()


@attrs.frozen
class IfThenElse:
    """`if c then a else b`."""
    condition: "Expr"
    then: "Expr"
    otherwise: "Expr"
    span: Span | None = _span()


@attrs.frozen
class Each:
    """`each x in xs where c` (a filter) or `e for each x in xs where c` (a mapping)."""
    variable: str
    source: "Expr"
    where: "Expr | None"
    element: "Expr | None"
    span: Span | None = _span()


@attrs.frozen
class Aggregate:
    """`sum of xs`, `count of xs`, `min of xs`, `max of xs`."""
    function: str
    operand: "Expr"
    span: Span | None = _span()


@attrs.frozen
class Quantifier:
    """`any x in xs where c`, `every ...`, `no ...`."""
    quantifier: str
    variable: str
    source: "Expr"
    condition: "Expr"
    span: Span | None = _span()


@attrs.frozen
class Call:
    """`round(x)`, `max(a, b)`, `min(a, b)`."""
    function: str
    arguments: tuple["Expr", ...]
    span: Span | None = _span()


@attrs.frozen
class DaysBetween:
    """`days from a to b`: the number of calendar days from one date to another."""
    start: "Expr"
    end: "Expr"
    span: Span | None = _span()


@attrs.frozen
class DateRange:
    """`a through b`: the dates from a to b, both included."""
    start: "Expr"
    end: "Expr"
    span: Span | None = _span()


@attrs.frozen
class Lookup:
    """`restocking_rate[item.category]`: the value a table gives for these keys."""
    table: str
    keys: tuple["Expr", ...]
    span: Span | None = _span()


# The names of months and weekdays, as a policy writes them (`month of d in {november, december}`).
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@attrs.frozen
class DatePart:
    """`year of d`, `month of d`, `day of d`, `weekday of d`, `end of month of d` (part `end_of_month`)."""
    part: str
    date: "Expr"
    span: Span | None = _span()


@attrs.frozen
class SeasonBound:
    """`start of season for d`, `end of season for d`: the first or last day of the yearly range's
    occurrence that holds `d`, or of the next one."""
    bound: str
    season: "Expr"
    date: "Expr"
    span: Span | None = _span()


Expr = (Name | Field | Literal | EnumSet | TextSet | Negate | Arith | Compare | Test | Membership | Logic
        | Not | IfThenElse | Each | Aggregate | Quantifier | Call | DaysBetween | DateRange | Lookup | DatePart
        | SeasonBound)


@attrs.frozen
class Template:
    """A sentence with `{expression}` holes, filled with the actual values when explaining."""
    parts: tuple["str | Expr", ...]
    span: Span | None = _span()


# ---- Types as written -------------------------------------------------------------------------

@attrs.frozen
class NamedType:
    """A type by name: a built-in one (date, money, ...), an enum or a record."""
    name: str
    span: Span | None = _span()


@attrs.frozen
class OptionalType:
    """`optional T`: the field may be absent."""
    inner: "TypeExpr"
    span: Span | None = _span()


@attrs.frozen
class ListType:
    """`list of T`."""
    element: "TypeExpr"
    span: Span | None = _span()


@attrs.frozen
class DateRangeType:
    """`date range`: two dates, first and last."""
    span: Span | None = _span()


TypeExpr = NamedType | OptionalType | ListType | DateRangeType


# ---- Declarations -----------------------------------------------------------------------------

@attrs.frozen
class Header:
    """`policy "..."`, `version "..."`, `currency XXX` or `calendar "..."`."""
    key: str
    value: str
    span: Span | None = _span()


@attrs.frozen
class Clause:
    """A clause of the published policy text, quoted so that rules can cite it."""
    name: str
    text: str
    span: Span | None = _span()


@attrs.frozen
class DatedValue:
    """`30 days from 2026-11-15 until 2026-12-31 "the holiday window"`: a value for some dates."""
    value: "Expr"
    start: datetime.date | None
    end: datetime.date | None
    label: str | None = None
    span: Span | None = _span()


@attrs.frozen
class Parameter:
    """A named constant that the policy owner changes in one place; it may differ by date.

    `value` is the value for every date no dated value covers (None when the dated values must
    cover every date).
    """
    name: str
    value: "Expr | None"
    dated: tuple[DatedValue, ...] = ()
    span: Span | None = _span()


@attrs.frozen
class Terms:
    """`terms by order.purchase_date`: the date of a request that selects its dated terms."""
    selector: "Expr"
    span: Span | None = _span()


@attrs.frozen
class CurrencyBy:
    """`currency by order.currency`: the text of a request that names the currency it is in."""
    field: "Expr"
    span: Span | None = _span()


@attrs.frozen
class Effective:
    """`effective 2026-03-01`: this version of the policy is in force from that date."""
    date: datetime.date
    span: Span | None = _span()


@attrs.frozen
class EnumDecl:
    """A closed set of named values."""
    name: str
    members: tuple[str, ...]
    member_spans: tuple[Span, ...] = attrs.field(eq=False, repr=False, default=())
    span: Span | None = _span()


@attrs.frozen
class FieldDecl:
    """A field of the request or of a record; `present_when` names a boolean sibling field."""
    name: str
    type: TypeExpr
    default: Expr | None = None
    present_when: str | None = None
    label: str | None = None
    # `at inspection`: the stage from which the fact is known; before it, a request for a
    # residual decision may leave the field out (runtime/residual.py).
    stage: str | None = None
    span: Span | None = _span()


@attrs.frozen
class RecordDecl:
    """A record type of the request (`record Item: ...`)."""
    name: str
    fields: tuple[FieldDecl, ...]
    span: Span | None = _span()


@attrs.frozen
class RequestDecl:
    """The fields of the request itself."""
    fields: tuple[FieldDecl, ...]
    span: Span | None = _span()


@attrs.frozen
class Let:
    """A derived value, computed from the request and the parameters."""
    name: str
    value: Expr
    span: Span | None = _span()


@attrs.frozen
class OutcomeDecl:
    """One possible outcome, its heading, and whether it overrides every rule of another outcome."""
    name: str
    label: str
    overrides_all: bool
    span: Span | None = _span()


@attrs.frozen
class OutcomesDecl:
    """The outcomes, strongest first; the last one is the outcome when no rule gives one.

    `for_each`: outcomes decided for each element of a list (docs/per-item.md)."""
    outcomes: tuple[OutcomeDecl, ...]
    span: Span | None = _span()
    for_each: "ForEach | None" = None


@attrs.frozen
class ItemTest:
    """`any item is refuse or exchange_only`: a test of the items' outcomes (any, every or no)."""
    quantifier: str
    variable: str
    outcomes: tuple[str, ...]
    span: Span | None = _span()


@attrs.frozen
class RequestOutcomeLine:
    """One line of `request outcome:`: the request's outcome when its tests hold (all; none: always)."""
    name: str
    label: str
    tests: tuple[ItemTest, ...]
    span: Span | None = _span()


@attrs.frozen
class RequestOutcomeDecl:
    """`request outcome:`: how the request's outcome follows from its items', the first line that holds."""
    lines: tuple[RequestOutcomeLine, ...]
    span: Span | None = _span()


@attrs.frozen
class GiveOutcome:
    """Effect: the rule gives this outcome."""
    outcome: str
    span: Span | None = _span()


@attrs.frozen
class AddTo:
    """Effect: add (sign +1) or subtract (sign -1) an amount to a total output."""
    amount: Expr
    output: str
    sign: int
    span: Span | None = _span()


@attrs.frozen
class SetOutput:
    """Effect: set an output to a value."""
    output: str
    value: Expr
    span: Span | None = _span()


@attrs.frozen
class Note:
    """Effect: none; the rule is there to be explained."""
    span: Span | None = _span()


Effect = GiveOutcome | AddTo | SetOutput | Note


@attrs.frozen
class ForEach:
    """`for each item in items`: the rule applies to every element on its own."""
    variable: str
    source: Expr
    span: Span | None = _span()


@attrs.frozen
class Citation:
    """One clause a rule cites: a clause's name, or the quoted text itself."""
    value: str
    inline: bool
    span: Span | None = _span()


@attrs.frozen
class Rule:
    """A rule: the clause it implements, when it applies, what it does, and how it explains itself."""
    name: str
    for_each: ForEach | None
    cites: tuple[str, bool] | None  # (clause name or inline text, is it inline text)
    condition: Expr | None
    effects: tuple[Effect, ...]
    because: Template | None
    overrides: tuple[str, ...] = ()
    lets: tuple[Let, ...] = ()  # the rule's own values, which may read its element
    override_spans: tuple[Span, ...] = attrs.field(eq=False, repr=False, default=())
    cites_span: Span | None = _span()
    span: Span | None = _span()
    # Every clause cited, in order (`cites a, b`, or a line each); `cites` is the first of them.
    citations: tuple[Citation, ...] = ()


@attrs.frozen
class OutputDecl:
    """An output of the decision: the outcome, a total of amounts, or a value rules set."""
    name: str
    type: TypeExpr | None
    total: bool = False
    floor: Expr | None = None
    default: Expr | None = None
    span: Span | None = _span()


@attrs.frozen
class Change:
    """`with items[0].condition = "used"`: one change to an example's request."""
    path: tuple[str | int, ...]
    value: object
    span: Span | None = _span()


@attrs.frozen
class ExpectOutput:
    """`expect refund = 1557.50`; `expect items[1].outcome = exchange_only` (`item` is 1)."""
    output: str
    value: Expr
    span: Span | None = _span()
    item: int | None = None


@attrs.frozen
class Example:
    """A named request and what the policy must decide for it: some outputs, and which rules apply."""
    name: str
    request_file: str | None
    request: dict | None
    changes: tuple[Change, ...]
    expect_outputs: tuple[ExpectOutput, ...]
    expect_rules: tuple[str, ...] | None
    span: Span | None = _span()
    name_span: Span | None = _span()  # the quoted name, where a warning about the example points


@attrs.frozen
class Property:
    """`property NAME: EXPR`: a guarantee over every request and its decision (`rpl verify`)."""
    name: str
    cites: tuple[str, bool] | None  # (clause name or inline text, is it inline text)
    condition: Expr
    because: str | None
    span: Span | None = _span()


@attrs.frozen
class TableColumn:
    """A column of a table's values, `fee: money`; `name` is None for a table of one unnamed value."""
    name: str | None
    type: NamedType
    span: Span | None = _span()


@attrs.frozen
class TableRow:
    """`camera: 15%`: the values of a table for one key, or several; `keys` is None for `otherwise`.

    The cells are literals or names (an enum value), checked against the columns' types."""
    keys: tuple[Expr, ...] | None
    cells: tuple[Expr, ...]
    span: Span | None = _span()


@attrs.frozen
class Table:
    """`table restocking_rate by category: percent` and its rows, written below or read from a CSV
    file (`source`, a path relative to the policy's file)."""
    name: str
    keys: tuple[NamedType, ...]
    columns: tuple[TableColumn, ...]
    source: str | None
    rows: tuple[TableRow, ...]
    span: Span | None = _span()


Declaration = (Header | Terms | CurrencyBy | Effective | Clause | Parameter | EnumDecl | RecordDecl | RequestDecl | Let
               | OutcomesDecl | RequestOutcomeDecl | Rule | OutputDecl | Example | Property | Table)


@attrs.frozen
class Policy:
    """A whole policy file."""
    declarations: tuple[Declaration, ...]
    span: Span | None = _span()

