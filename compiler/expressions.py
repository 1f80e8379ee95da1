"""Types of expressions: resolve names, check types and units, narrow what `is given` proves.

The checker of declarations (compiler/checker.py) checks every expression of a policy through
`ExpressionChecker`; what could not be checked gets the type `UNKNOWN`, and nothing that uses it
is checked again: one mistake, one error.
"""
from __future__ import annotations

import datetime
import difflib
import functools
import re

import attrs

from rplang.policy_lang import ast, limits
from rplang.policy_lang.errors import did_you_mean
from rplang.policy_lang.span import Span

from . import ir
from . import types as T

_LITERAL_TYPES = {"money": T.MONEY, "integer": T.INTEGER, "percent": T.PERCENT, "date": T.DATE,
                  "duration": T.DAYS, "business_duration": T.BUSINESS_DAYS,
                  "boolean": T.BOOLEAN, "text": T.TEXT, "month_day": T.MONTH_DAY}
_NUMBERS = {T.MONEY, T.INTEGER, T.PERCENT, T.DAYS, T.BUSINESS_DAYS, T.EXACT_MONEY}
_ORDERED = _NUMBERS | {T.DATE}
# Words of the language that a name in an expression may be a misspelling of.
_EXPRESSION_KEYWORDS = ("given", "empty", "true", "false", "not", "and", "or", "then", "else", "each",
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


_DATE_LIKE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})|(\d{1,2})[-/](\d{1,2})[-/](\d{4})")



class ExpressionChecker:
    """Checks expressions; the declaration checker provides `error`, the names in scope, and the
    declarations they resolve to."""

    element_names: frozenset = frozenset()  # the names rules give their elements (`for each item`)
    tables: dict = {}  # name -> CheckedTable (compiler/tables.py)
    table_names: set = set()
    rule_values: dict = {}  # the values of the rule being checked (`let` in a rule), by name

    def suggest(self, word: str, candidates) -> str | None:
        """`did you mean`, while the problems found still fit in one report: comparing every
        name with every other would make a file full of mistakes take minutes."""
        if len(self.errors) >= limits.MAX_REPORTED:
            return None
        return did_you_mean(word, candidates)

    def expect(self, expr: ir.Expr, wanted: T.Type | None, span, what: str) -> None:
        if wanted is None or expr.type == wanted or broken(expr, wanted):
            return
        got = expr.type
        if got is T.EXACT_MONEY and wanted is T.MONEY:
            self._unrounded(expr, span)
            return
        if isinstance(got, T.OptionalType) and got.inner == wanted:
            self._may_be_missing(expr, span)
            return
        hint = None
        if wanted is T.MONEY and got is T.INTEGER:
            hint = "write amounts with cents, like `0.00`"
        elif wanted is T.PERCENT and got is T.MONEY:
            hint = "write percentages with `%`, like `15%`, not `0.15`"
        elif wanted is T.BOOLEAN and isinstance(got, T.EnumType):
            hint = f"compare it with a value, like `... is {got.members[0]}`"
        elif wanted is T.DATE and got is T.MONTH_DAY:
            hint = ("a day of the year has no year: it is an end of a yearly range, like `november 1 through "
                    "january 31`; `end of RANGE for DATE` gives the date it ends for a date")
        elif isinstance(wanted, T.EnumType) and got is T.TEXT:
            hint = f"write the value without quotes; {wanted.name} values: {', '.join(wanted.members)}"
        self.error("RPL030", f"{what} must be {wanted.describe()}, but this is {got.describe()}", span, hint)

    def _may_be_missing(self, expr: ir.Expr, span) -> None:
        """Once per value and rule: the same optional field used unchecked in several places is one mistake."""
        key = ("missing", self.current_rule, _key(expr))
        if key in self.reported:
            return
        self.reported.add(key)
        self.error("RPL032", "this value may be missing", span,
                   "check it first, like `when received_date is given and ...` or `if x is given then ... else ...`")

    def _unrounded(self, expr: ir.Expr, span) -> None:
        hint = "wrap it in `round(...)`: it rounds half up to the cent"
        if isinstance(expr, ir.Value):
            hint = f"round it where it is defined: `let {expr.name} = round(...)`"
        self.error("RPL031", "this amount is not rounded to the cent", span, hint)

    def _element_type(self, source: ir.Expr, span) -> T.Type:
        if isinstance(source.type, T.ListType):
            return source.type.element
        if isinstance(source.type, T.SetType):
            return source.type.element
        if not broken(source):
            self.error("RPL030", f"`for each` needs a list, but this is {source.type.describe()}", span, None)
        return UNKNOWN

    def _lookup(self, name: str):
        if name in self.rule_values:
            return self.rule_values[name]
        for var, type_ in reversed(self.scope):
            if var == name:
                return ir.Var(name, type_)
        if name in self.let_decls:
            return ir.Value(name, self._value(name))
        if name in self.params:
            p = self.params[name]
            if isinstance(p, ir.DatedParam):
                return attrs.evolve(p, span=None)
            return ir.Param(p.name, p.value, p.type)
        if name in self.broken_names:
            return ir.Const(None, UNKNOWN)
        if name in self.request:
            spec = self.request[name]
            return ir.Input((name,), spec.type, spec.present_when)
        if name in self.output_types:  # only while a property is checked
            return ir.Output(name, self.output_types[name])
        return None

    def _narrow(self, expr: ir.Expr) -> ir.Expr:
        if isinstance(expr.type, T.OptionalType) and _key(expr) in self.narrowed:
            return attrs.evolve(expr, type=expr.type.inner)
        return expr

    def expr(self, e: ast.Expr, expected: T.Type | None) -> ir.Expr:
        result = self._expr(e, expected)
        return self._narrow(_with_span(result, e.span))

    def _expr(self, e: ast.Expr, expected):
        method = getattr(self, "_" + type(e).__name__)
        return method(e, expected)

    def _Literal(self, e: ast.Literal, expected):
        return ir.Const(e.value, _LITERAL_TYPES[e.kind])

    def _Name(self, e: ast.Name, expected):
        found = self._lookup(e.name)
        if found is not None:
            return found
        enum_value = self._enum_value(e.name, expected, e.span)
        if enum_value is not None:
            return enum_value
        self._unknown_name(e, expected)
        return ir.Const(None, UNKNOWN)

    def _unknown_name(self, e: ast.Name, expected) -> None:
        """Say what the name could have been: a value, a field, an enum value, a keyword."""
        name = e.name
        plural = self.request.get(name + "s")
        if self.checking and (name in self.element_names or plural is not None
                              and isinstance(_strip_optional(plural.type), T.ListType)):  # a `let` reading an element
            source = f"{name}s" if plural is not None else "..."
            self.error("RPL020", f"a `let` cannot see `{name}`: `{name}` is the element a rule looks at", e.span,
                       f"write a value per {name} in its rule, before `cites`: `rule ... for each {name} in "
                       f"{source}:` then `let {self.checking[-1]} = ...`; or for every element, like "
                       f"`... for each {name} in {source}`")
            return
        enum = expected
        while isinstance(enum, (T.OptionalType, T.SetType, T.ListType)):
            enum = enum.inner if isinstance(enum, T.OptionalType) else enum.element
        values = [v for v, _ in self.scope] + list(self.let_decls) + list(self.params) + list(self.request)
        if isinstance(enum, T.EnumType) and self.suggest(name, enum.members):
            self.error("RPL022", f"`{name}` is not a {enum.name} value", e.span, _enum_hint(name, enum))
            return
        guess = self._field_path_hint(name, exact=True) or self.suggest(name, values)
        joined = self._field_path_hint(name, exact=True, joined=True)
        if joined:
            guess = joined
        if isinstance(enum, T.EnumType) and not guess:
            self.error("RPL022", f"`{name}` is not a {enum.name} value", e.span, _enum_hint(name, enum))
            return
        if guess is None:
            guess = self._field_path_hint(name, exact=False)
        if name in self.table_names:
            guess = f"`{name}` is a table: look a value up by its keys, like `{name}[...]`"
        if guess is None and name in self.enums:
            members = self.enums[name].members
            guess = f"`{name}` is a type; its values are {', '.join(members)}"
        if guess is None and (name in self.record_decls or name in T.BUILTIN_TYPES):
            guess = f"`{name}` is a type, not a value"
        if guess is None:
            close = difflib.get_close_matches(name, _EXPRESSION_KEYWORDS, n=1, cutoff=0.75)
            guess = f"did you mean `{close[0]}`?" if close else None
        if guess is None:
            all_members = [m for t in self.enums.values() for m in t.members]
            guess = self.suggest(name, all_members)
        self.error("RPL020", f"unknown name `{name}`", e.span, guess)

    def _field_path_hint(self, name: str, exact: bool, joined: bool = False) -> str | None:
        """`delivery_date` written for `order.delivery_date`, `price` for `item.price`."""
        paths = []
        for var, type_ in reversed(self.scope):
            if isinstance(type_, T.RecordType):
                paths += [(f, f"{var}.{f}") for f in self.records.get(type_.name, {})]
        for field, spec in self.request.items():
            inner = _strip_optional(spec.type)
            if isinstance(inner, T.RecordType):
                paths += [(f, f"{field}.{f}") for f in self.records.get(inner.name, {})]
        if joined:  # `itemprice` for `item.price`: the dot left out
            glued = [p for f, p in paths if p.replace(".", "") == name]
            return f"did you mean `{glued[0]}`?" if glued else None
        same = [p for f, p in paths if f == name]
        if exact:
            return f"did you mean `{same[0]}`?" if same else None
        close = difflib.get_close_matches(name, [f for f, _ in paths], n=1, cutoff=0.8)
        if close:
            return f"did you mean `{next(p for f, p in paths if f == close[0])}`?"
        return None

    def _enum_value(self, name: str, expected, span):
        if isinstance(expected, T.OptionalType):
            expected = expected.inner
        if isinstance(expected, (T.SetType, T.ListType)):
            expected = expected.element
        if isinstance(expected, T.EnumType):
            if name in expected.members:
                return ir.Const(name, expected)
            return None
        owners = [t for t in self.enums.values() if name in t.members] or [t for t in _DATE_NAMES if name in t.members]
        if len(owners) == 1:
            return ir.Const(name, owners[0])
        if len(owners) > 1:
            self.error("RPL033", f"`{name}` is a value of {' and of '.join(t.name for t in owners)}",
                       span, "compare it with a field of the type you mean, like `order.payment_method is check`")
            return ir.Const(name, owners[0])
        return None

    def _Lookup(self, e: ast.Lookup, expected, column: str | None = None, column_span=None):
        """`rate[item.category]`, `fees[seller, category].window`: a value of a table, by its keys."""
        table = self.tables.get(e.table)
        if table is None:
            if e.table not in self.table_names:  # a table that did not check has been reported
                tables = sorted(self.table_names)
                self.error("RPL075", f"`{e.table}` is not a table", name_span(e.span, e.table),
                           self.suggest(e.table, tables) or (f"the tables are {', '.join(tables)}" if tables
                                                             else "declare it: `table NAME by KEY: TYPE` and its rows"))
            for key in e.keys:
                self.expr(key, None)
            return ir.Const(None, UNKNOWN)
        names = [name for name, _ in table.columns]
        if column is None and names[0] is not None:
            self.error("RPL075", f"table `{e.table}` has several columns: say which one", e.span,
                       f"write `{e.span.text if e.span else e.table}.{names[0]}`; its columns are {', '.join(names)}")
            return ir.Const(None, UNKNOWN)
        if column is not None and column not in names:
            hint = (f"table `{e.table}` has one value: write `{e.span.text if e.span else e.table}`"
                    if names[0] is None else self.suggest(column, names) or f"its columns are {', '.join(names)}")
            self.error("RPL075", f"table `{e.table}` has no column `{column}`", column_span, hint)
            return ir.Const(None, UNKNOWN)
        if len(e.keys) != len(table.keys):
            written = ", ".join(t.name if isinstance(t, T.EnumType) else "text" for t in table.keys)
            self.error("RPL074", f"table `{e.table}` is looked up by {len(table.keys)} "
                       f"key{'s' * (len(table.keys) != 1)} ({written}), but this gives {len(e.keys)}", e.span,
                       f"write `{e.table}[{', '.join('...' for _ in table.keys)}]`")
            return ir.Const(None, UNKNOWN)
        keys = []
        for key, key_type in zip(e.keys, table.keys):
            expr = self.expr(key, key_type)
            if not broken(expr) and expr.type != key_type:
                if isinstance(expr.type, T.OptionalType) and expr.type.inner == key_type:
                    self._may_be_missing(expr, key.span)
                else:
                    self.error("RPL074", f"a key of table `{e.table}` must be {key_type.describe()}, but this is "
                               f"{expr.type.describe()}", key.span,
                               f"look it up by a field of type {key_type.name if isinstance(key_type, T.EnumType) else 'text'}")
            keys.append(expr)
        k = names.index(column) if column is not None else 0
        value_type = table.columns[k][1]
        index = ir.Const(table.indexes[k], T.TableType(table.name, table.keys, value_type))
        return ir.Op("lookup", (index, *keys), value_type)

    def _Field(self, e: ast.Field, expected):
        if isinstance(e.base, ast.Lookup):
            column_span = Span(e.span.source, e.span.end - len(e.name), e.span.end) if e.span is not None else None
            return self._Lookup(e.base, expected, e.name, column_span)
        base = self.expr(e.base, None)
        base_type = base.type
        if broken(base):
            return ir.Const(None, UNKNOWN)
        if isinstance(base_type, T.OptionalType):
            self.error("RPL032", "this record may be missing", e.base.span, "check it with `is given` first")
            base_type = base_type.inner
        name_span = Span(e.span.source, e.span.end - len(e.name), e.span.end) if e.span is not None else None
        if not isinstance(base_type, T.RecordType):
            written = e.base.span.text if e.base.span is not None else "this"
            hint = None
            if isinstance(base_type, T.ListType):
                hint = (f"a list has no fields: go through it, like `for each x in {written}` "
                        f"or `any x in {written} where x.{e.name}`")
            self.error("RPL021", f"`{written}` is {base_type.describe()}: it has no field `{e.name}`", name_span, hint)
            return ir.Const(None, UNKNOWN)
        fields = self.records.get(base_type.name, {})
        spec = fields.get(e.name)
        item_output = self.item_output_types.get(base_type.name, {}).get(e.name)
        if spec is None and item_output is not None:  # only while a property is checked
            return ir.ItemOutput(e.name, base, item_output)
        if spec is None:
            article = "an" if base_type.name[:1].lower() in "aeiou" else "a"
            self.error("RPL021", f"{article} {base_type.name} has no field `{e.name}`", name_span,
                       self.suggest(e.name, fields) or f"its fields are {', '.join(fields)}")
            return ir.Const(None, UNKNOWN)
        if isinstance(base, ir.Input):
            return ir.Input(base.path + (e.name,), spec.type, spec.present_when)
        return ir.FieldOf(base, e.name, spec.type, spec.present_when)

    def _EnumSet(self, e: ast.EnumSet, expected):
        element = expected.element if isinstance(expected, (T.SetType, T.ListType)) else expected
        element = _strip_optional(element) if element is not None else None
        if broken(element):
            return ir.Const(frozenset(e.members), UNKNOWN)
        if not isinstance(element, T.EnumType):
            owners = [t for t in self.enums.values() if all(m in t.members for m in e.members)] \
                or [t for t in _DATE_NAMES if all(m in t.members for m in e.members)]
            if len(owners) != 1:
                unknown = [m for m in e.members if not any(m in t.members for t in self.enums.values())]
                if unknown:
                    # the enum the other members belong to, if they agree on one
                    known = [m for m in e.members if m not in unknown]
                    hosts = [t for t in self.enums.values() if known and all(m in t.members for m in known)]
                    pool = hosts[0].members if len(hosts) == 1 else [m for t in self.enums.values() for m in t.members]
                    if len(hosts) == 1:
                        self.error("RPL022", f"`{unknown[0]}` is not a {hosts[0].name} value",
                                   word_span(e.span, unknown[0]), _enum_hint(unknown[0], hosts[0]))
                    else:
                        self.error("RPL022", f"`{unknown[0]}` is not a value of any enum",
                                   word_span(e.span, unknown[0]), self.suggest(unknown[0], pool))
                elif not owners:
                    self.error("RPL033", "these values are not all of one enum", e.span,
                               "a set holds values of one enum")
                else:
                    self.error("RPL033", "these values belong to more than one enum", e.span,
                               "use the set where it is compared with a field of the enum you mean")
                return ir.Const(frozenset(e.members), UNKNOWN)
            element = owners[0]
        for m in e.members:
            if m not in element.members:
                self.error("RPL022", f"`{m}` is not a {element.name} value", word_span(e.span, m),
                           _enum_hint(m, element))
        return ir.Const(frozenset(e.members), T.SetType(element))

    def _TextSet(self, e: ast.TextSet, expected):
        return ir.Const(frozenset(e.members), T.SetType(T.TEXT))

    def _Negate(self, e: ast.Negate, expected):
        operand = self.expr(e.operand, expected)
        if operand.type not in _NUMBERS and not broken(operand):
            self.error("RPL030", f"cannot negate {operand.type.describe()}", e.span, None)
        if isinstance(operand, ir.Const) and operand.value is not None:
            return ir.Const(-operand.value, operand.type)
        return ir.Op("neg", (operand,), operand.type)

    def _Arith(self, e: ast.Arith, expected):
        date = self._date_written_as_numbers(e)
        if date is not None:
            return date
        left = self.expr(e.left, expected if e.op in "+-" else None)
        right = self.expr(e.right, self._right_hint(e.op, left.type))
        if broken(left, right):
            return ir.Op(e.op, (left, right), UNKNOWN)
        for node, part in ((left, e.left), (right, e.right)):
            if isinstance(node.type, T.OptionalType):
                self._may_be_missing(node, part.span)
        result = _arith_type(e.op, left.type, right.type)
        if result is None:
            self._arith_error(e, left, right)
            return ir.Op(e.op, (left, right), UNKNOWN)
        return ir.Op(e.op, (left, right), result)

    def _date_written_as_numbers(self, e: ast.Arith):
        """`2026-3-2` or `03/02/2026` reads as arithmetic on whole numbers; say how to write the date."""
        if e.span is None or e.op not in "-/":
            return None
        text = e.span.text
        m = _DATE_LIKE.fullmatch(text)
        if m is None:
            return None
        if m.group(1):
            year, month, day = (int(g) for g in m.group(1, 2, 3))
            hint = "write dates as YYYY-MM-DD"
            try:
                hint += f": `{datetime.date(year, month, day).isoformat()}`"
            except ValueError:
                pass
        else:
            a, b, year = (int(g) for g in m.group(4, 5, 6))
            options = []
            for month, day in ((a, b), (b, a)):
                try:
                    options.append(datetime.date(year, month, day).isoformat())
                except ValueError:
                    pass
            options = list(dict.fromkeys(options))
            hint = "write dates as YYYY-MM-DD"
            if len(options) == 1:
                hint += f": `{options[0]}`"
            elif options:
                hint += f": `{options[0]}` or `{options[1]}`, as you mean it"
        self.error("RPL004", f"`{text}` is not a date rpl can read", e.span, hint)
        return ir.Const(datetime.date(1970, 1, 1), T.DATE)

    @staticmethod
    def _right_hint(op, left_type):
        return left_type if op in "+-" and left_type in (T.MONEY,) else None

    def _arith_error(self, e: ast.Arith, left: ir.Expr, right: ir.Expr):
        lt, rt = _strip_optional(left.type), _strip_optional(right.type)
        words = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[e.op]
        if e.op == "*" and lt is rt is T.MONEY:
            for side in (right, left):
                if self._percent_written_as_amount(side):
                    return
        hint = None
        if e.op == "-" and lt is rt is T.DATE:
            hint = "write `days from A to B` for the number of days between two dates"
        elif T.DATE in (lt, rt) and T.INTEGER in (lt, rt):
            hint = "add a number of days, like `14 days` or `10 business days`"
        elif {lt, rt} & {T.DAYS, T.BUSINESS_DAYS} and {lt, rt} & {T.MONEY, T.PERCENT, T.EXACT_MONEY}:
            hint = "days can only be added to or subtracted from a date"
        elif T.DATE in (lt, rt) and e.op in "*/":
            hint = "a percentage applies to an amount of money, not to a date"
        elif T.DATE in (lt, rt) and {lt, rt} & {T.MONEY, T.PERCENT}:
            hint = "a date takes a number of days, like `+ 14 days`"
        elif lt is T.INTEGER and rt is T.MONEY or lt is T.MONEY and rt is T.INTEGER:
            hint = "write amounts with cents, like `5.00`"
        elif e.op == "/" and lt in (T.MONEY, T.EXACT_MONEY):
            hint = "an amount can be divided by a whole number or a percentage"
        self.error("RPL030", f"cannot {words} {lt.describe()} and {rt.describe()}", e.span, hint)

    def _percent_written_as_amount(self, side: ir.Expr) -> bool:
        """`0.15` meant as 15%: report it once, at the value as written."""
        if isinstance(side, ir.Param) and side.name in self.param_values:
            written = self.param_values[side.name]
            if ("percent", side.name) not in self.reported:
                self.reported.add(("percent", side.name))
                self.error("RPL030", f"`{side.name}` is used as a percentage, but `{written.span.text}` is an amount",
                           written.span, f"write `{_as_percent(side.value)}`, not `{written.span.text}`")
            return True
        if isinstance(side, ir.Const) and side.type is T.MONEY and side.span is not None:
            self.error("RPL030", f"`{side.span.text}` is an amount, not a percentage", side.span,
                       f"write `{_as_percent(side.value)}`, not `{side.span.text}`")
            return True
        return False

    def _Compare(self, e: ast.Compare, expected):
        test = self._test_misspelled(e)
        if test is not None:
            return test
        if isinstance(e.left, ast.Name) and self._lookup(e.left.name) is None:
            right = self.expr(e.right, None)  # an enum value written first: `check is payment_method`
            left = self.expr(e.left, right.type)
        else:
            left = self.expr(e.left, None)
            right = self.expr(e.right, left.type)
        op = {"is": "==", "is not": "!="}.get(e.op, e.op)
        if broken(left, right):
            return ir.Op(op, (left, right), T.BOOLEAN)
        lt, rt = _strip_optional(left.type), _strip_optional(right.type)
        for node, part in ((left, e.left), (right, e.right)):
            if isinstance(node.type, T.OptionalType) and op not in ("==", "!="):
                self._may_be_missing(node, part.span)
        money = (T.MONEY, T.EXACT_MONEY)
        if lt in money and rt in money and lt is not rt and op not in ("==", "!="):
            exact, node = (left, e.left) if lt is T.EXACT_MONEY else (right, e.right)
            self._unrounded(exact, node.span)
        elif op in ("==", "!="):
            if lt != rt and not (lt in money and rt in money):
                self._compare_error(e, lt, rt)
        elif lt != rt or lt not in _ORDERED:
            if lt == rt:
                self.error("RPL030", f"{lt.describe()} has no order: use `is` or `is not`", e.span, None)
            else:
                self._compare_error(e, lt, rt)
        return ir.Op(op, (left, right), T.BOOLEAN)

    def _test_misspelled(self, e: ast.Compare):
        """`x is give`: report the word, and go on as if `is given` was written (it narrows `x`)."""
        if e.op not in ("is", "is not") or not isinstance(e.right, ast.Name) or self._lookup(e.right.name) is not None:
            return None
        word = _test_word(e.right.name)
        if not word or word[0] == e.right.name or any(e.right.name in t.members for t in self.enums.values()):
            return None
        operand = self.expr(e.left, None)
        self.error("RPL020", f"unknown name `{e.right.name}`", e.right.span, f"did you mean `{e.op} {word[0]}`?")
        negated = e.op == "is not"
        op = {"given": ("not_given", "given"), "empty": ("not_empty", "empty")}[word[0]][0 if negated else 1]
        return ir.Op(op, (operand,), T.BOOLEAN)

    def _compare_error(self, e, lt, rt):
        pair = {lt, rt}
        if pair == {T.MONEY, T.INTEGER}:
            hint = "write amounts with cents, like `0.00`"
        elif pair in ({T.DATE, T.DAYS}, {T.DATE, T.INTEGER}, {T.DATE, T.BUSINESS_DAYS}):
            hint = "compare a date with a date, like `request_date > order.delivery_date + 14 days`"
        elif isinstance(lt, T.EnumType) and rt is T.TEXT:
            hint = f"write the value without quotes; the {lt.name} values are {', '.join(lt.members)}"
        elif T.INTEGER in pair and pair & {T.DAYS, T.BUSINESS_DAYS}:
            days = e.right if rt in (T.DAYS, T.BUSINESS_DAYS) else e.left
            count = days.value if isinstance(days, ast.Literal) else "15"
            hint = (f"a count of days (`days from ... to ...`) is a whole number: compare it with `{count}`, "
                    f"or compare dates, like `request_date > order.delivery_date + {count} days`")
        elif T.BOOLEAN in pair:
            hint = "a yes/no fact is a condition on its own: write `item.opened` or `not item.opened`"
        elif T.DATE in pair:
            hint = "a date compares with another date, like `request_date > last_request_day`"
        elif pair & {T.MONEY, T.EXACT_MONEY}:
            hint = "an amount compares with another amount, like `item.price > 100.00`"
        else:
            hint = f"compare {lt.describe()} with {lt.describe()} of the same kind"
        self.error("RPL030", f"cannot compare {lt.describe()} with {rt.describe()}", e.span, hint)

    def _Test(self, e: ast.Test, expected):
        operand = self.expr(e.operand, None)
        if broken(operand):
            op = ("not_given" if e.negated else "given") if e.test == "given" else ("not_empty" if e.negated else "empty")
            return ir.Op(op, (operand,), T.BOOLEAN)
        if e.test == "given":
            if not isinstance(operand.type, T.OptionalType) and not _present_when(operand):
                self.error("RPL036", "this value is always given", e.operand.span,
                           "`is given` applies to `optional` fields and to fields given `when` a fact is true")
            return ir.Op("not_given" if e.negated else "given", (operand,), T.BOOLEAN)
        if not isinstance(_strip_optional(operand.type), (T.ListType, T.SetType)) and operand.type is not T.TEXT:
            self.error("RPL030", f"`is empty` needs a list, but this is {operand.type.describe()}", e.operand.span, None)
        elif isinstance(operand.type, T.OptionalType):
            self.error("RPL032", "this list may be missing", e.operand.span,
                       f"check it first: `{' '.join(e.operand.span.text.split())} is given and ...`"
                       if e.operand.span is not None else "check it first with `is given`")
        return ir.Op("not_empty" if e.negated else "empty", (operand,), T.BOOLEAN)

    def _Membership(self, e: ast.Membership, expected):
        left = self.expr(e.element, None)
        element_hint = _strip_optional(left.type)
        right = self.expr(e.collection, T.SetType(element_hint) if isinstance(element_hint, T.EnumType) else None)
        if broken(left, right):
            return ir.Op("not_in" if e.negated else "in", (left, right), T.BOOLEAN)
        if right.type in (T.DATE_RANGE, T.YEARLY_RANGE):  # `order.purchase_date in holiday_season`
            self.expect(left, T.DATE, e.element.span, "what is in a range of dates")
            return ir.Op("not_in" if e.negated else "in", (left, right), T.BOOLEAN)
        element_type = right.type.element if isinstance(right.type, (T.ListType, T.SetType)) else None
        if element_type is None:
            self.error("RPL030", f"`in` needs a set or a list, but this is {right.type.describe()}",
                       e.collection.span, "write a set like `{fire, flood}`")
        elif _strip_optional(left.type) != element_type:
            self.error("RPL030", f"{left.type.describe()} cannot be in {right.type.describe()}", e.span, None)
        return ir.Op("not_in" if e.negated else "in", (left, right), T.BOOLEAN)

    def _Logic(self, e: ast.Logic, expected):
        saved = set(self.narrowed)
        operands = []
        for operand in e.operands:
            checked = self.expr(operand, T.BOOLEAN)
            self.expect(checked, T.BOOLEAN, operand.span, f"each side of `{e.op}`")
            operands.append(checked)
            # what the operands before prove, when the next one is evaluated at all
            self.narrowed |= given_in(checked) if e.op in ("and", "implies") else _not_given_in(checked)
        self.narrowed = saved
        if e.op == "implies":  # a implies b: not a, or b
            premise, conclusion = operands
            return ir.Op("or", (ir.Op("not", (premise,), T.BOOLEAN), conclusion), T.BOOLEAN)
        return ir.Op(e.op, tuple(operands), T.BOOLEAN)

    def _Not(self, e: ast.Not, expected):
        operand = self.expr(e.operand, T.BOOLEAN)
        self.expect(operand, T.BOOLEAN, e.operand.span, "what follows `not`")
        return ir.Op("not", (operand,), T.BOOLEAN)

    def _IfThenElse(self, e: ast.IfThenElse, expected):
        condition = self.expr(e.condition, T.BOOLEAN)
        self.expect(condition, T.BOOLEAN, e.condition.span, "the condition of `if`")
        saved = set(self.narrowed)
        self.narrowed |= given_in(condition)
        then = self.expr(e.then, expected)
        self.narrowed = saved | _not_given_in(condition)
        otherwise = self.expr(e.otherwise, expected or then.type)
        self.narrowed = saved
        if broken(then, otherwise):
            return ir.Op("if", (condition, then, otherwise), UNKNOWN)
        if then.type != otherwise.type:
            money = (T.MONEY, T.EXACT_MONEY)
            if then.type in money and otherwise.type in money:
                exact, part = (then, e.then) if then.type is T.EXACT_MONEY else (otherwise, e.otherwise)
                self._unrounded(exact, part.span)
            else:
                self.error("RPL030", f"the two branches differ: {then.type.describe()} and {otherwise.type.describe()}",
                           e.span, "both `then` and `else` must give the same kind of value")
        return ir.Op("if", (condition, then, otherwise), then.type)

    def _bind(self, variable: str, source_expr: ast.Expr):
        source = self.expr(source_expr, None)
        element = self._element_type(source, source_expr.span)
        return source, element

    def _Each(self, e: ast.Each, expected):
        source, element_type = self._bind(e.variable, e.source)
        self.scope.append((e.variable, element_type))
        where = None
        if e.where is not None:
            where = self.expr(e.where, T.BOOLEAN)
            self.expect(where, T.BOOLEAN, e.where.span, "the condition after `where`")
        element = None
        result_type = T.ListType(element_type)
        if e.element is not None:
            element = self.expr(e.element, None)
            result_type = T.ListType(element.type)
        self.scope.pop()
        return ir.Each("map" if element is not None else "filter", e.variable, source, where, element,
                       result_type)

    def _Quantifier(self, e: ast.Quantifier, expected):
        source, element_type = self._bind(e.variable, e.source)
        self.scope.append((e.variable, element_type))
        condition = self.expr(e.condition, T.BOOLEAN)
        self.expect(condition, T.BOOLEAN, e.condition.span, "the condition after `where`")
        self.scope.pop()
        return ir.Each(e.quantifier, e.variable, source, condition, None, T.BOOLEAN)

    def _Aggregate(self, e: ast.Aggregate, expected):
        operand = self.expr(e.operand, None)
        if broken(operand):
            return ir.Op(e.function, (operand,), T.INTEGER if e.function == "count" else UNKNOWN)
        if not isinstance(operand.type, T.ListType):
            self.error("RPL030", f"`{e.function} of` needs a list, but this is {operand.type.describe()}",
                       e.operand.span, "write `sum of item.price for each item in items`")
            return ir.Op(e.function, (operand,), T.INTEGER if e.function == "count" else UNKNOWN)
        element = operand.type.element
        if e.function == "count":
            return ir.Op("count", (operand,), T.INTEGER)
        if element not in _NUMBERS and not (e.function != "sum" and element is T.DATE):
            self.error("RPL030", f"cannot take the {e.function} of {operand.type.describe()}", e.operand.span, None)
            return ir.Op(e.function, (operand,), UNKNOWN)
        return ir.Op(e.function, (operand,), element)

    def _Call(self, e: ast.Call, expected):
        if e.function not in ("round", "max", "min"):
            for a in e.arguments:
                self.expr(a, None)
            hint = self.suggest(e.function, ["round", "max", "min"]) or "the functions are round, max and min"
            if e.function in self.table_names:
                keys = ", ".join(a.span.text for a in e.arguments if a.span is not None)
                hint = f"`{e.function}` is a table: look it up with brackets, `{e.function}[{keys}]`"
            self.error("RPL020", f"unknown function `{e.function}`", lead_span(e.span, e.function), hint)
            return ir.Const(None, UNKNOWN)
        args = tuple(self.expr(a, expected) for a in e.arguments)
        if broken(*args):
            return ir.Op(e.function, args, T.MONEY if e.function == "round" else UNKNOWN)
        if e.function == "round":
            if len(args) != 1:
                self.error("RPL030", "`round` takes one amount", e.span, "write `round(item.price * 15%)`")
            elif args[0].type not in (T.EXACT_MONEY, T.MONEY):
                self.error("RPL030", f"`round` rounds amounts of money, not {args[0].type.describe()}", e.span, None)
            return ir.Op("round", args[:1], T.MONEY)
        kinds = {a.type for a in args}
        if len(args) >= 2 and kinds == {T.MONEY, T.EXACT_MONEY}:
            exact = next(i for i, a in enumerate(args) if a.type is T.EXACT_MONEY)
            self._unrounded(args[exact], e.arguments[exact].span)
            return ir.Op(e.function, args, T.MONEY)
        if len(args) < 2 or len(kinds) != 1 or args[0].type not in _ORDERED:
            self.error("RPL030", f"`{e.function}` takes two or more values of one kind", e.span,
                       f"write `{e.function}(0.00, amount)`")
            return ir.Op(e.function, args, UNKNOWN)
        return ir.Op(e.function, args, args[0].type)

    def _DaysBetween(self, e: ast.DaysBetween, expected):
        start, end = self.expr(e.start, T.DATE), self.expr(e.end, T.DATE)
        for node, part in ((start, e.start), (end, e.end)):
            self.expect(node, T.DATE, part.span, "each end of `days from ... to ...`")
        return ir.Op("days_between", (start, end), T.INTEGER)

    def _DatePart(self, e: ast.DatePart, expected):
        date = self.expr(e.date, T.DATE)
        if not broken(date) and date.type is T.MONTH_DAY:
            self.error("RPL059", f"`{e.date.span.text}` is a day of the year, in no year", e.date.span,
                       "date parts are of dates, like `order.purchase_date`")
        else:
            self.expect(date, T.DATE, e.date.span, f"what `{_DATE_PART_WORDS[e.part]}` reads")
        result = {"year": T.INTEGER, "day": T.INTEGER, "month": T.MONTH, "weekday": T.WEEKDAY,
                  "end_of_month": T.DATE}[e.part]
        return ir.Op(e.part, (date,), result)

    def _SeasonBound(self, e: ast.SeasonBound, expected):
        season, date = self.expr(e.season, None), self.expr(e.date, T.DATE)
        if not broken(season) and season.type is not T.YEARLY_RANGE:
            hint = "name a yearly range, like `parameter holiday_season = november 1 through january 31`"
            if season.type is T.DATE_RANGE:
                hint = ("a range of dates has one first and one last day: compare with it directly; "
                        "write a yearly range without years, like `november 1 through january 31`")
            self.error("RPL059", f"`{e.bound} of ... for` needs a yearly range, but this is {season.type.describe()}",
                       e.season.span, hint)
        self.expect(date, T.DATE, e.date.span, f"the date after `{e.bound} of ... for`")
        return ir.Op("season_" + e.bound, (season, date), T.DATE)

    def _DateRange(self, e: ast.DateRange, expected):
        start, end = self.expr(e.start, T.DATE), self.expr(e.end, T.DATE)
        if T.MONTH_DAY in (start.type, end.type) and not broken(start, end):
            return self._yearly_range(e, start, end)
        for node, part in ((start, e.start), (end, e.end)):
            self.expect(node, T.DATE, part.span, "each end of `through`")
        if isinstance(start, ir.Const) and isinstance(end, ir.Const) and start.type is end.type is T.DATE:
            if end.value < start.value:
                self.error("RPL051", f"this range ends ({end.value}) before it starts ({start.value})", e.span,
                           "write the first day before `through` and the last day after it")
            return ir.Const(T.DateRange(start.value, end.value), T.DATE_RANGE)  # a plain value
        return ir.Op("through", (start, end), T.DATE_RANGE)



    def _yearly_range(self, e: ast.DateRange, start: ir.Expr, end: ir.Expr):
        """`november 1 through january 31`: a range of days of the year, every year."""
        for node, part in ((start, e.start), (end, e.end)):
            if not (isinstance(node, ir.Const) and node.type is T.MONTH_DAY):
                self.error("RPL059", "a yearly range is written with two days of the year", part.span,
                           "write both ends without a year, like `november 1 through january 31`")
                return ir.Const(None, UNKNOWN)
        return ir.Const(T.YearlyRange(start.value, end.value), T.YEARLY_RANGE)


# Months and weekdays: the values of `month of d` and `weekday of d`, read where the policy's own
# enums have no value of that name (`parameter weekend = {saturday, sunday}`).
_DATE_NAMES = (T.MONTH, T.WEEKDAY)
_DATE_PART_WORDS = {"year": "year of", "month": "month of", "day": "day of", "weekday": "weekday of",
                    "end_of_month": "end of month of"}


@functools.lru_cache(maxsize=1024)
def _test_word(name: str) -> tuple[str, ...]:
    """`given` or `empty`, if `name` may be one misspelled (`x is give`); asked once per enum
    value compared (`item.condition is opened`) rather than once per comparison."""
    return tuple(difflib.get_close_matches(name, ["given", "empty"], n=1, cutoff=0.7))


def _enum_hint(name: str, enum: T.EnumType) -> str:
    return did_you_mean(name, enum.members) or f"the {enum.name} values are {', '.join(enum.members)}"


def _as_percent(value) -> str:
    """`0.15` as a percentage: `15%`."""
    try:
        text = format((value * 100).normalize(), "f")
    except (AttributeError, ArithmeticError, TypeError):
        return "15%"
    return f"{text}%"


def _strip_optional(t: T.Type) -> T.Type:
    return t.inner if isinstance(t, T.OptionalType) else t


def _arith_type(op: str, lt: T.Type, rt: T.Type) -> T.Type | None:
    lt, rt = _strip_optional(lt), _strip_optional(rt)
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


def _with_span(expr: ir.Expr, span: Span | None) -> ir.Expr:
    """`attrs.evolve(expr, span=span)`, without evolve's generic work: the checker does this for
    every node it checks."""
    cls = type(expr)
    names = _FIELDS_BUT_SPAN.get(cls)
    if names is None:
        fields = attrs.fields(cls)
        assert fields[-1].name == "span" and all(f.init and f.alias == f.name for f in fields)
        names = _FIELDS_BUT_SPAN[cls] = tuple(f.name for f in fields[:-1])
    return cls(*[getattr(expr, name) for name in names], span=span)


def _key(expr: ir.Expr):
    """What identifies an expression for narrowing: the same value whatever its optional-ness."""
    return attrs.evolve(expr, type=_strip_optional(expr.type))


def given_in(condition: ir.Expr) -> set:
    """The values a true `condition` proves to be given."""
    if isinstance(condition, ir.Op):
        if condition.op == "given":
            return {_key(condition.args[0])}
        if condition.op == "and":
            found = set()
            for a in condition.args:
                found |= given_in(a)
            return found
    return set()


def _not_given_in(condition: ir.Expr) -> set:
    """The values a false `condition` proves to be given."""
    if isinstance(condition, ir.Op):
        if condition.op == "not_given":
            return {_key(condition.args[0])}
        if condition.op == "not":
            return given_in(condition.args[0])
        if condition.op == "or":  # a false `or`: every side is false
            found = set()
            for a in condition.args:
                found |= _not_given_in(a)
            return found
    return set()


def _present_when(expr: ir.Expr) -> bool:
    return isinstance(expr, (ir.FieldOf, ir.Input)) and expr.present_when is not None
