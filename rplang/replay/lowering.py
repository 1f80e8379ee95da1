"""The SQL compiler: checked expressions lowered to SQLGlot expressions, operator by operator as
`runtime/evaluate.py` evaluates them.

A list expression is a lambda over the list (`FILTER`, `TRANSFORM`, `AGGREGATE`), so a request
stays one row. Amounts are DECIMAL, exact: products are widened to DECIMAL(38, s) first, and
`round(...)` is ROUND(x, 2), half away from zero as Python's ROUND_HALF_UP.

A NULL where the runtime has a value means the runtime would stop with an error there (a fact
given only `when` another is true, read where it is not; the least of an empty list; a date out
of the calendar): `and`, `or` and `if` pass a NULL on from the left as the runtime's
left-to-right evaluation would raise, and the query hands every row where a rule meets a NULL to
the Python path (query.py), so a NULL never decides in SQL.
"""
from __future__ import annotations

import datetime
import itertools

import attrs
from decimal import Decimal

from sqlglot import exp

from rplang.compiler import ir
from rplang.compiler import types as T
from rplang.compiler.checked import CheckedPolicy
from rplang.policy_lang import limits

from . import dates, tables
from .columns import plain
from .errors import NotLowerable
from .sql import (DateRange, DaysAfter, any_of, case, member_of, combine, decimal, exists, field, grouped, is_null, keep, lambda_, literal, size,
                  total_of, wide)

ROW = "rq"  # the alias of the request rows in the query
FIRST_DAY, LAST_DAY = datetime.date(1, 1, 1), datetime.date(9999, 12, 31)  # Python's dates
DATE_PARTS = ("year", "month", "day", "weekday", "end_of_month")


class Lowering:
    """Lowers the expressions of one checked policy; remembers what the query must join."""

    def __init__(self, policy: CheckedPolicy):
        self.policy = policy
        self._params = itertools.count()
        self._nullable: dict = {}
        self.business_days: list[tuple[exp.Expression, exp.Expression]] = []  # (start, count) per join
        self.known: frozenset = frozenset()  # (element name, flag): flags known true where lowering
        self.hoisted: dict[str, exp.Expression] = {}  # values computed once, by a layer before the rules
        self._var_sources: dict | None = None  # element name -> the lists bound to it (`bound`)
        self._bounding: set = set()
        self._bounds: dict = {}

    def param(self) -> str:
        return f"_rpl_x{next(self._params)}"

    # ---- What may be NULL ------------------------------------------------------------------

    def nullable(self, e: ir.Expr) -> bool:
        """Whether the SQL of `e` may be NULL on a valid request (an optional value, or an error)."""
        key = (e, self.known)
        found = self._nullable.get(key)
        if found is None:
            found = self._nullable[key] = self._may_be_null(e)
        return found

    # ---- Facts known true ------------------------------------------------------------------

    def facts(self, e: ir.Expr, names) -> frozenset:
        """The flags `e` being true makes known for the element `names` stand for: `item.returned`
        (or an `and` of flags) lets `item.condition`, given `when returned`, be read without its
        guard. Only a required flag without a default: its column is what the reader read."""
        if isinstance(e, ir.Op) and e.op == "and":
            return frozenset().union(*(self.facts(a, names) for a in e.args))
        if isinstance(e, ir.FieldOf) and isinstance(e.base, ir.Var) and plain(e.type) == T.BOOLEAN:
            spec = self._spec(e)
            if not spec.has_default and spec.present_when is None and not isinstance(spec.type, T.OptionalType):
                return frozenset((name, e.name) for name in names)
        return frozenset()

    def knowing(self, facts: frozenset):
        """A context where `facts` hold besides the known ones."""
        return _Knowing(self, facts)

    def _may_be_null(self, e: ir.Expr) -> bool:
        if isinstance(e, (ir.Const, ir.Param, ir.DatedParam, ir.Var)):
            return False
        if isinstance(e, (ir.Input, ir.FieldOf)):
            if (_root(e), _given_path(e)) in self.known:  # tested `is given` by an `if` around it
                return False
            spec = self._spec(e)
            return (spec.present_when is not None and not self._known(e, spec)) or (isinstance(spec.type, T.OptionalType) and not spec.has_default) \
                or (isinstance(e, ir.FieldOf) and self.nullable(e.base))
        if isinstance(e, ir.Value):
            return self.nullable(self.policy.values[e.name])
        if isinstance(e, ir.Op):
            if e.op in ("given", "not_given"):
                return False
            if e.op == "if":
                with self.knowing(_given(e.args[0])):
                    then = self.nullable(e.args[1])
                return then or self.nullable(e.args[0]) or self.nullable(e.args[2])
            if e.op == "and":
                return any(n for _, n in self._and_parts(e.args, lambda a: None))
            if e.op in ("min", "max") and len(e.args) == 1:
                return True  # of an empty list
            if e.op in ("+", "-") and T.DATE in (plain(a.type) for a in e.args):
                return True  # out of the calendar
            return any(self.nullable(a) for a in e.args)
        if isinstance(e, ir.Each):
            if self.nullable(e.source):
                return True
            with self.binding(e.var):
                if e.where is not None and self.nullable(e.where):
                    return True
                with self.knowing(self.facts(e.where, {e.var}) if e.where is not None else frozenset()):
                    return e.element is not None and self.nullable(e.element)
        return any(self.nullable(c) for c in ir.children(e))

    def binding(self, name: str):
        """A context where `name` is a new element: nothing is known of it yet."""
        return _Knowing(self, frozenset(), forget=name)

    def _spec(self, e: ir.Input | ir.FieldOf):
        if isinstance(e, ir.FieldOf):
            record = plain(e.base.type)
            return self.policy.records[record.name][e.name]
        fields, spec = self.policy.request, None
        for name in e.path:
            spec = fields[name]
            inner = plain(spec.type)
            fields = self.policy.records[inner.name] if isinstance(inner, T.RecordType) else {}
        return spec

    # ---- Expressions -----------------------------------------------------------------------

    def expr(self, e: ir.Expr, env: dict) -> exp.Expression | DateRange:
        if isinstance(e, (ir.Const, ir.Param)):
            if isinstance(e.value, T.YearlyRange):
                return e.value  # read by `in` and `start of ... for`, `end of ... for` (replay/dates.py)
            if isinstance(e.value, T.DateRange):
                return DateRange(literal(e.value[0]), literal(e.value[1]))
            if isinstance(e.value, frozenset):
                return exp.Array(expressions=[literal(v) for v in sorted(e.value)])
            return literal(e.value)
        if isinstance(e, ir.DatedParam):
            return self._dated(e, env)
        if isinstance(e, ir.Input):
            value, fields = exp.column(e.path[0], table=ROW, quoted=True), self.policy.request
            return self._read(value, fields, e.path)
        if isinstance(e, ir.FieldOf):
            spec = self._spec(e)
            if self._known(e, spec):  # its guard would be true
                return self._guard(field(self.expr(e.base, env), spec.name), attrs.evolve(spec, present_when=None), None)
            return self._field_value(self.expr(e.base, env), spec)
        if isinstance(e, ir.Value):
            if e.name in self.hoisted:
                return self.hoisted[e.name].copy()
            return self.expr(self.policy.values[e.name], env)
        if isinstance(e, ir.Var):
            return env[e.name]
        if isinstance(e, ir.Each):
            return self._each(e, env)
        return self._op(e, env)

    def _read(self, top: exp.Expression, fields: dict, path: tuple[str, ...]) -> exp.Expression:
        spec = fields[path[0]]
        value = self._guard(top, spec, None)
        for name in path[1:]:
            record = self.policy.records[plain(spec.type).name]
            parent, spec = value, record[name]
            value = self._guard(field(parent, name), spec, parent)
        return value

    def _field_value(self, base: exp.Expression, spec) -> exp.Expression:
        return self._guard(field(base, spec.name), spec, base)

    def _guard(self, value: exp.Expression, spec, parent: exp.Expression | None) -> exp.Expression:
        """A field as the request reader leaves it: its default when absent, and nothing (NULL)
        unless the fact it is given `when` is true."""
        if spec.has_default:
            value = exp.Coalesce(this=value, expressions=[literal(spec.default)])
        if spec.present_when is not None:
            flag = field(parent, spec.present_when) if parent is not None else \
                exp.column(spec.present_when, table=ROW, quoted=True)
            value = case((exp.EQ(this=flag, expression=exp.true()), value), default=exp.Null())
        return value

    def _dated(self, e: ir.DatedParam, env: dict) -> exp.Expression:
        day = self.expr(self.policy.terms, env)
        whens = []
        for start, end, value, _ in e.periods:
            tests = ([exp.GTE(this=day, expression=literal(start))] if start is not None else []) + \
                    ([exp.LTE(this=day, expression=literal(end))] if end is not None else [])
            whens.append((exp.and_(*tests) if tests else exp.true(), literal(value)))
        return case(*whens, default=literal(e.value))

    def _each(self, e: ir.Each, env: dict) -> exp.Expression:
        source = self.expr(e.source, env)
        p = self.param()
        inner = {**env, e.var: exp.column(p)}
        with self.binding(e.var):
            return self._each_over(e, env, source, p, inner)

    def _each_over(self, e: ir.Each, env: dict, source, p: str, inner: dict) -> exp.Expression:
        where = self.expr(e.where, inner) if e.where is not None else None
        checks = []
        if where is not None and self.nullable(e.where):
            checks.append(exists(source, p, is_null(where)))
        if e.kind in ("filter", "map"):
            result = keep(source, p, where) if where is not None else source
            if e.kind == "map":
                q = self.param()
                with self.knowing(self.facts(e.where, {e.var}) if e.where is not None else frozenset()):
                    element = self.expr(e.element, {**env, e.var: exp.column(q)})
                    if self.nullable(e.element):
                        checks.append(exists(result, q, is_null(element)))
                result = exp.Transform(this=result, expression=lambda_(q, element))
        elif e.kind == "any":
            result = exists(source, p, where)
        elif e.kind == "no":
            result = exp.Not(this=exists(source, p, where))
        elif e.kind == "every":
            result = exp.Not(this=exists(source, p, exp.Not(this=exp.paren(where))))
        else:
            raise NotLowerable(f"the list expression `{e.kind}`")
        return case((any_of(checks), exp.Null()), default=result) if checks else result

    # ---- Operators ---------------------------------------------------------------------------

    def _op(self, e: ir.Op, env: dict) -> exp.Expression | DateRange:
        op, args = e.op, e.args
        if op in ("and", "or"):
            return self._logic(op, args, env)
        if op == "if":
            c, b = self.expr(args[0], env), self.expr(args[2], env)
            with self.knowing(_given(args[0])):
                a = self.expr(args[1], env)
            whens = [(is_null(c), exp.Null())] if self.nullable(args[0]) else []
            if isinstance(a, DateRange):
                return DateRange(case(*whens, (c, a.first), default=b.first), case(*whens, (c, a.last), default=b.last))
            return case(*whens, (c, a), default=b)
        if op in ("given", "not_given"):
            test = is_null(self.expr(args[0], env))
            return exp.Not(this=test) if op == "given" else test
        if op == "through":
            return DateRange(self.expr(args[0], env), self.expr(args[1], env))
        if op == "lookup":
            return tables.lookup(args[0].value, [self.expr(k, env) for k in args[1:]], literal, _line(e))
        if op == "rule_value":  # a rule's own value: its expression
            return self.expr(args[1], env)
        values = [self.expr(a, env) for a in args]
        result = self._strict_op(e, values)
        if op in ("in", "not_in") and isinstance(values[1], DateRange):
            pass  # a NULL day gives NULL: BETWEEN is strict already
        nullable = [v for a, v in zip(args, values)
                    if self.nullable(a) and not isinstance(v, (DateRange, T.YearlyRange))]
        if nullable and op in ("in", "not_in", "max", "min"):  # these can swallow a NULL
            return case((any_of([is_null(v) for v in nullable]), exp.Null()), default=result)
        return result

    def _logic(self, op: str, args, env: dict) -> exp.Expression:
        if op == "and":
            return combine(op, self._and_parts(args, lambda a: self.expr(a, env)))
        return combine(op, [(self.expr(a, env), self.nullable(a)) for a in args])

    def _and_parts(self, args, lower) -> list:
        """(lower(a), whether a may be NULL) of each part of an `and`, each part lowered knowing the
        flags the parts before it test (where one is false, the `and` is false whatever follows)."""
        parts, facts = [], frozenset()
        for a in args:
            with self.knowing(facts):
                parts.append((lower(a), self.nullable(a)))
                facts = facts | self.facts(a, _names(a))
        return parts

    def _known(self, e: ir.Expr, spec) -> bool:
        return isinstance(e, ir.FieldOf) and isinstance(e.base, ir.Var) and spec.present_when is not None \
            and (e.base.name, spec.present_when) in self.known

    def _strict_op(self, e: ir.Op, values: list) -> exp.Expression:
        op, args = e.op, e.args
        if op in ("+", "-", "*", "sum") and plain(e.type) in _NUMBERS:
            self._fits(e)
        if op == "not":
            return exp.Not(this=exp.paren(values[0]))
        if op in ("empty", "not_empty"):
            return (exp.EQ if op == "empty" else exp.NEQ)(this=size(values[0]), expression=exp.Literal.number(0))
        if op in DATE_PARTS:
            return dates.date_part(op, values[0])
        if op in ("season_start", "season_end"):
            return dates.season_bound(op.removeprefix("season_"), values[0], values[1])
        if op in ("in", "not_in"):
            test = self._member(values[0], values[1], args[1])
            return exp.Not(this=exp.paren(test)) if op == "not_in" else test
        if op in _COMPARE:
            if isinstance(values[0], DateRange) or isinstance(values[1], DateRange):
                raise NotLowerable("a comparison of date ranges")
            return _COMPARE[op](this=grouped(values[0]), expression=grouped(values[1]))
        if op == "neg":
            return exp.Neg(this=exp.paren(values[0]))
        if op == "round":
            return exp.Round(this=values[0], decimals=exp.Literal.number(2))
        if op in ("max", "min") and len(values) > 1:
            return (exp.Greatest if op == "max" else exp.Least)(this=values[0], expressions=values[1:])
        if op in ("max", "min"):
            return (exp.ArrayMax if op == "max" else exp.ArrayMin)(this=values[0])
        if op == "count":
            return size(values[0])
        if op == "sum":
            element = plain(args[0].type).element
            if element in (T.MONEY, T.EXACT_MONEY, T.PERCENT):
                return total_of(values[0], self.scale_of_list(args[0]), exact=not self.nullable(args[0]))
            return exp.Reduce(this=values[0], initial=exp.cast(exp.Literal.number(0), "BIGINT"),
                              merge=exp.Lambda(this=exp.Add(this=exp.column("_rpl_acc"), expression=exp.column("_rpl_v")),
                                               expressions=[exp.to_identifier("_rpl_acc"), exp.to_identifier("_rpl_v")]))
        if op == "days_between":
            return exp.DateDiff(this=values[1], expression=values[0], unit=exp.var("DAY"))
        if op in ("+", "-", "*", "/"):
            return self._arith(e, values)
        raise NotLowerable(f"the operator `{op}`")

    def _member(self, value, collection, collection_expr: ir.Expr) -> exp.Expression:
        if isinstance(collection, T.YearlyRange):
            return dates.in_yearly(value, collection)
        if isinstance(collection, DateRange):
            return exp.Between(this=value, low=collection.first, high=collection.last)
        constant = self._constant(collection_expr)
        if isinstance(constant, frozenset):
            if not constant:
                return exp.false()
            return member_of(value, sorted(constant))
        return exp.ArrayContains(this=collection, expression=value)

    def _constant(self, e: ir.Expr):
        while isinstance(e, ir.Value):
            e = self.policy.values[e.name]
        return e.value if isinstance(e, (ir.Const, ir.Param)) else None

    def _arith(self, e: ir.Op, values: list) -> exp.Expression:
        op = e.op
        (a, b), (lt, rt) = values, (plain(x.type) for x in e.args)
        if T.DATE in (lt, rt):
            day, count = (a, b) if lt == T.DATE else (b, a)
            if op == "-":
                count = exp.Neg(this=exp.paren(count))
            if T.BUSINESS_DAYS in (lt, rt):
                return self._business_days(e, day, count)
            # Spark's DATE_ADD takes a 32-bit count: one that long is NULL before (`_in_calendar`)
            return self._in_calendar(day, count)
        if op == "/":
            raise NotLowerable("a division (`/`)", _line(e))
        if op == "*" and T.PERCENT in (lt, rt) and {lt, rt} != {T.PERCENT}:
            # an amount times a percentage: times the exact share (15% is 0.15)
            first = lt == T.PERCENT
            (amount, amount_expr), (percent, percent_expr) = ((b, e.args[1]), (a, e.args[0])) if first \
                else ((a, e.args[0]), (b, e.args[1]))
            fixed = self._constant(percent_expr)
            share = decimal(fixed / 100) if isinstance(fixed, Decimal) else \
                exp.Mul(this=wide(percent, self.scale(percent_expr)), expression=decimal(Decimal("0.01")))
            return exp.Mul(this=wide(amount, self.scale(amount_expr)), expression=share)
        if op == "*" and (lt in _DECIMAL or rt in _DECIMAL):
            return exp.Mul(this=wide(a, self.scale(e.args[0])), expression=wide(b, self.scale(e.args[1])))
        node = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}[op](this=grouped(a), expression=grouped(b))
        return exp.paren(node, copy=False)

    def _in_calendar(self, day: exp.Expression, count: exp.Expression) -> exp.Expression:
        """A date moved by `count` days, or NULL where Python's calendar ends (where the runtime
        fails). A count longer than the calendar, or a date outside it (a malformed row's, which
        the Python path refuses), is NULL before the engine adds them: DuckDB would stop at a
        count past 32 bits or a date moved past its own."""
        moved = DaysAfter(this=day, expression=count)
        inside = exp.Between(this=moved, low=literal(FIRST_DAY), high=literal(LAST_DAY))
        short = exp.and_(exp.Between(this=count.copy(), low=exp.Literal.number(-_CALENDAR_DAYS),
                                     high=exp.Literal.number(_CALENDAR_DAYS)),
                         exp.Between(this=day.copy(), low=literal(FIRST_DAY), high=literal(LAST_DAY)))
        return case((exp.Not(this=exp.paren(short)), exp.Null()), (inside, moved.copy()), default=exp.Null())

    def _business_days(self, e: ir.Op, day, count) -> exp.Expression:
        if _free(e):
            raise NotLowerable("business days counted from a list element's date", _line(e))
        self.business_days.append((day, count))
        found = exp.column(business_day(len(self.business_days) - 1), table=ROW, quoted=True)
        return case((exp.EQ(this=count, expression=exp.Literal.number(0)), day), default=found)

    # ---- Scales of amounts ---------------------------------------------------------------------

    def scale(self, e: ir.Expr) -> int:
        """Digits after the point an exact amount of `e` may need."""
        t = plain(e.type)
        if isinstance(e, (ir.Const, ir.Param)) and isinstance(e.value, Decimal):
            return max(0, -e.value.as_tuple().exponent)
        if isinstance(e, ir.DatedParam):
            return max([0] + [max(0, -v.as_tuple().exponent) for v in
                              [e.value] + [p[2] for p in e.periods] if isinstance(v, Decimal)])
        if isinstance(e, ir.Value):
            return self.scale(self.policy.values[e.name])
        if isinstance(e, ir.Op):
            if e.op == "round":
                return 2
            if e.op == "lookup":
                return tables.scale(e.args[0].value)
            if e.op == "*" and T.PERCENT in (plain(a.type) for a in e.args):
                return sum(self.scale(a) for a in e.args) + 2
            if e.op == "*":
                return sum(self.scale(a) for a in e.args)
            if e.op == "sum" or (e.op in ("min", "max") and len(e.args) == 1):
                return self.scale_of_list(e.args[0])  # as many digits as its elements
            return max([self.scale(a) for a in e.args if plain(a.type) in _DECIMAL] or [2])
        if t == T.PERCENT:
            return 6
        return 2

    # ---- Sizes of numbers ------------------------------------------------------------------------

    def _fits(self, e: ir.Op) -> None:
        """Refuse arithmetic whose result may not fit the engine's type: the runtime computes up to
        60 digits, where DuckDB would stop the query, and Spark would give a NULL (a DECIMAL) or
        wrap around (a BIGINT) without a word."""
        largest = self.bound(e)
        if plain(e.type) in _DECIMAL:
            scale = self.scale(e)
            room, name = Decimal(10) ** (38 - scale), f"DECIMAL(38, {scale})"
        else:
            room, name = Decimal(2 ** 63), "a 64-bit integer"
        if largest >= room:
            raise NotLowerable(f"arithmetic that may reach {largest:.1E} (more than {name} holds)", _line(e))

    def bound(self, e: ir.Expr) -> Decimal:
        """The largest magnitude a number `e` (of a list: each of its elements) may reach on a
        request the SQL decides (the request reader's limits hold there)."""
        found = self._bounds.get(e)
        if found is None:
            found = self._bounds[e] = self._bound(e)
        return found

    def _bound(self, e: ir.Expr) -> Decimal:
        if isinstance(e, (ir.Const, ir.Param)):
            found = [abs(Decimal(v)) for v in (e.value if isinstance(e.value, frozenset) else [e.value])
                     if isinstance(v, (int, Decimal)) and not isinstance(v, bool)]
            return max(found, default=_ONE)
        if isinstance(e, ir.DatedParam):
            return max([abs(Decimal(v)) for v in [e.value] + [p[2] for p in e.periods]
                        if isinstance(v, (int, Decimal)) and not isinstance(v, bool)], default=_ONE)
        if isinstance(e, ir.Value):
            return self.bound(self.policy.values[e.name])
        if isinstance(e, ir.Var):
            return self._element_bound(e.name)
        if isinstance(e, ir.Each):
            return self.bound(e.element) if e.kind == "map" else self.bound(e.source) if e.kind == "filter" else _ONE
        if isinstance(e, ir.Op):
            return self._op_bound(e)
        return _largest(plain(e.type))

    def _op_bound(self, e: ir.Op) -> Decimal:
        op, bounds = e.op, [self.bound(a) for a in e.args]
        if op in ("+", "-"):
            return bounds[0] + bounds[1]
        if op == "*":
            share = Decimal(100) if T.PERCENT in (plain(a.type) for a in e.args) and plain(e.type) != T.PERCENT else _ONE
            return bounds[0] * bounds[1] / share
        if op in ("neg", "round", "min", "max"):
            return max(bounds) + (1 if op == "round" else 0)
        if op == "if":
            return max(bounds[1:])
        if op == "sum":
            return bounds[0] * limits.MAX_LIST
        if op == "rule_value":
            return bounds[1]
        if op == "days_between":
            return Decimal(_CALENDAR_DAYS)
        return _largest(plain(e.type)) if op not in ("count", "year", "day") else Decimal(max(limits.MAX_LIST, 9999))

    def _element_bound(self, name: str) -> Decimal:
        """The largest magnitude of an element named `name`: of every list bound to that name."""
        if self._var_sources is None:
            self._var_sources = {}
            roots = list(self.policy.values.values()) + [x for r in self.policy.rules for x in
                                                          (r.source, r.condition, *(f.value for f in r.effects))]
            for rule in self.policy.rules:
                if rule.var is not None:
                    self._var_sources.setdefault(rule.var, []).append(rule.source)
            stack = [x for x in roots if x is not None]
            while stack:
                node = stack.pop()
                if isinstance(node, ir.Each):
                    self._var_sources.setdefault(node.var, []).append(node.source)
                stack.extend(ir.children(node))
        if name in self._bounding:  # a name bound within its own list: no bound known
            return _UNBOUNDED
        self._bounding.add(name)
        try:
            return max((self.bound(source) for source in self._var_sources.get(name, [])), default=_UNBOUNDED)
        finally:
            self._bounding.discard(name)

    def scale_of_list(self, e: ir.Expr) -> int:
        while isinstance(e, ir.Value):
            e = self.policy.values[e.name]
        if isinstance(e, ir.Each) and e.element is not None:
            return self.scale(e.element)
        return 6 if plain(e.type).element == T.PERCENT else 2


_CALENDAR_DAYS = (LAST_DAY - FIRST_DAY).days
_NUMBERS = (T.INTEGER, T.DAYS, T.BUSINESS_DAYS, T.MONEY, T.EXACT_MONEY, T.PERCENT)
_ONE, _UNBOUNDED = Decimal(1), Decimal(10) ** limits.MAX_COMPUTED_DIGITS


def _largest(t: T.Type) -> Decimal:
    """The largest magnitude of a number of type `t` the request reader accepts."""
    if isinstance(t, (T.ListType, T.SetType)):
        return _largest(plain(t.element))
    if t == T.PERCENT:
        return limits.MAX_PERCENT
    if t in (T.MONEY, T.EXACT_MONEY):
        return Decimal(limits.MAX_INTEGER + 1)
    if t in (T.INTEGER, T.DAYS, T.BUSINESS_DAYS):
        return Decimal(limits.MAX_INTEGER)
    return _ONE
_COMPARE = {"<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE, "==": exp.EQ, "!=": exp.NEQ}
_DECIMAL = (T.MONEY, T.EXACT_MONEY, T.PERCENT)


class _Knowing:
    def __init__(self, lowering: Lowering, facts: frozenset, forget: str | None = None):
        self.lowering, self.facts, self.forget = lowering, facts, forget

    def __enter__(self):
        self.before = self.lowering.known
        kept = frozenset(f for f in self.before if f[0] != self.forget)
        self.lowering.known = kept | self.facts

    def __exit__(self, *exc):
        self.lowering.known = self.before


def _names(e: ir.Expr) -> set:
    """The element names `e` reads."""
    found, stack = set(), [e]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Var):
            found.add(node.name)
        stack.extend(ir.children(node))
    return found


def _given(condition: ir.Expr) -> frozenset:
    """The values `condition` being true tests are given (`item.bundled_with is given`, and `and`s
    of such tests), as facts: (the element they are read from, or None, their path). Where they
    are known, a value read from them cannot be NULL, and needs no test for one."""
    if isinstance(condition, ir.Op) and condition.op == "and":
        return frozenset().union(*(_given(a) for a in condition.args))
    if isinstance(condition, ir.Op) and condition.op == "given" and isinstance(condition.args[0], (ir.Input, ir.FieldOf)):
        return frozenset({(_root(condition.args[0]), _given_path(condition.args[0]))})
    return frozenset()


def _given_path(e: ir.Input | ir.FieldOf) -> tuple:
    """A value read from the request or an element, by its path (its type narrowed or not)."""
    names = []
    while isinstance(e, ir.FieldOf):
        names.append(e.name)
        e = e.base
    start = tuple(e.path) if isinstance(e, ir.Input) else (e.name if isinstance(e, ir.Var) else None,)
    return ("given", *start, *reversed(names))


def _root(e: ir.Expr) -> str | None:
    """The element a field is read from (forgotten where the name is bound anew), None for the request."""
    while isinstance(e, ir.FieldOf):
        e = e.base
    return e.name if isinstance(e, ir.Var) else None


def business_day(index: int) -> str:
    """The column of the day the `index`th count of business days reaches (joined by query.py)."""
    return f"__business_day{index}"


def _free(e: ir.Expr) -> bool:
    """Whether `e` reads a list element (a name bound by `for each`)."""
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Var):
            return True
        stack.extend(ir.children(node))
    return False


def _line(e: ir.Expr) -> str | None:
    span = getattr(e, "span", None)
    return f"line {span.line}" if span is not None and getattr(span, "line", None) else None
