"""The symbolic compiler: a checked policy's decision as solver terms, case by case as the
reference interpreter (`rplang.runtime.reference`) computes it on one request.

A request is a tree of solver variables (`SymbolicRequest`); every expression becomes a term over
them. What the interpreter cannot compute (a fact read where it is not given, the least of an
empty list) is collected as a condition under which the request gets an error instead of a
decision: `Decision.failure`. Operators that do not compute every operand (`and`, `or`, `if`,
`any`, `every`) pass on the condition under which an operand is computed at all, so a failure
counts only where the interpreter would meet it.
"""
from __future__ import annotations

import attrs
import z3

from rplang.compiler import ir
from rplang.compiler import types as T
from rplang.compiler.checked import CheckedPolicy
from rplang.policy_lang import limits

from . import dates
from .domain import MONEY_SCALE, PERCENT_STEPS, Bounds, BusinessDays, Texts, Unsupported, constant, plain
from .items import by_rank, decide_items


@attrs.frozen
class Opt:
    """A value that may be absent: `present` says whether it is given."""
    present: object
    value: object


@attrs.frozen
class SymList:
    """A list of at most N elements: each slot is (present, element), in list order."""
    slots: tuple


@attrs.frozen
class SymRecord:
    """A record of the request: its JSON path (its identity, as the runtime compares elements), its fields."""
    path: str
    fields: dict
    flags: dict  # field -> the yes/no field it is given `when`


@attrs.frozen
class SymbolicRequest:
    """The request's variables, and the constraints of the bounds and of what a request may hold."""
    root: SymRecord
    lengths: dict  # list path -> length variable
    constraints: list


class RequestBuilder:
    """Solver variables for every field of a request, within the bounds."""

    def __init__(self, policy: CheckedPolicy, bounds: Bounds):
        self.policy, self.bounds = policy, bounds
        self.constraints: list = []
        self.lengths: dict = {}

    def build(self) -> SymbolicRequest:
        root = self._record("$", self.policy.request, 0)
        return SymbolicRequest(root, self.lengths, self.constraints)

    def _record(self, path: str, fields: dict, depth: int) -> SymRecord:
        if depth > limits.MAX_REQUEST_DEPTH:
            raise Unsupported("records nested this deep")
        values = {name: self._value(f"{path}.{name}", spec.type, depth) for name, spec in fields.items()}
        flags = {}
        for name, spec in fields.items():
            if spec.present_when is not None:
                flag = values[spec.present_when]
                flags[name] = flag
                value = values[name]
                values[name] = Opt(z3.And(flag, value.present), value.value) if isinstance(value, Opt) \
                    else Opt(flag, value)
        return SymRecord(path, values, flags)

    def _value(self, path: str, t: T.Type, depth: int):
        c = self.constraints
        if isinstance(t, T.OptionalType):
            return Opt(z3.Bool(f"{path}?"), self._value(path, t.inner, depth))
        if isinstance(t, T.RecordType):
            return self._record(path, self.policy.records[t.name], depth + 1)
        if isinstance(t, T.ListType):
            length = z3.Int(f"{path}#")
            c += [length >= 0, length <= self.bounds.max_items]
            self.lengths[path] = length
            return SymList(tuple((length > i, self._value(f"{path}[{i}]", t.element, depth))
                                 for i in range(self.bounds.max_items)))
        if t is T.BOOLEAN:
            return z3.Bool(path)
        v = z3.Int(path)
        if t is T.DATE:
            c += [v >= self.bounds.first_day.toordinal(), v <= self.bounds.last_day.toordinal()]
        elif t is T.MONEY:  # cents: at most 15 digits before the point, never negative
            c += [v >= 0, v < 10 ** (limits.MAX_MONEY_DIGITS + 2)]
        elif t is T.PERCENT:  # at most 4 decimals, below 1000%
            c += [v >= 0, v < 1000 * PERCENT_STEPS]
            return z3.ToReal(v) / PERCENT_STEPS
        elif t is T.INTEGER:
            c += [v >= -limits.MAX_INTEGER, v <= limits.MAX_INTEGER]
        elif isinstance(t, T.EnumType):
            c += [v >= 0, v < len(t.members)]
        elif t is T.TEXT:
            c += [v >= 0, v <= 1000]
        else:
            raise Unsupported(f"a request field of type {t.describe()}")
        return v


@attrs.frozen
class Decision:
    """A decision as terms: its outputs by name, when a request cannot be decided, the rules found."""
    outputs: dict
    failure: object
    applying: tuple  # (rule name, element path or None, applies, determines)


class Compiler:
    """Compiles expressions and the decision of one policy over one symbolic request."""

    def __init__(self, policy: CheckedPolicy, request: SymbolicRequest, bounds: Bounds, texts: Texts,
                 exact_business_days: bool = True):
        self.policy, self.request, self.bounds, self.texts = policy, request, bounds, texts
        # Without the calendar, a business-day result is only known to lie after (before) its day:
        # more requests than there are, which can show only that something never happens.
        self.exact_business_days = exact_business_days
        self.failures: list = []  # conditions under which the request gets an error
        self.definitions: list = []  # constraints that define helper variables, always true
        self.lets: dict = {}
        self.outputs: dict = {}
        self.left: list = []  # (rule, element, determines, effect values): the rules that decide
        self.applying: list = []  # (rule, element, applies, effect values): before overrides
        self.items: dict = {}  # element path -> ItemTerms, where outcomes are decided item by item
        self.reached: dict = {}  # outcome name -> when the decision shows it
        self._business: BusinessDays | None = None
        self._fresh = 0

    # ---- expressions: as reference._Walker evaluates them ---------------------------------------

    def expr(self, e: ir.Expr, scope: dict, guard) -> object:
        """The term of `e` where `guard` holds; a failure met on the way is recorded under `guard`."""
        value = self._expr(e, scope, guard)
        if isinstance(value, Opt) and not isinstance(e.type, T.OptionalType):
            self.fail(guard, z3.Not(value.present))  # a value the checker knows is given
            return value.value
        return value

    def fail(self, guard, condition) -> None:
        self.failures.append(z3.And(guard, condition))

    def _expr(self, e, scope, guard):
        if isinstance(e, (ir.Const, ir.Param)):
            return self.constant(e.value, e.type)
        if isinstance(e, ir.DatedParam):
            return self._dated(e, guard)
        if isinstance(e, ir.Input):
            return self._input(e.path, guard)
        if isinstance(e, ir.Value):
            return self._let(e.name, guard)
        if isinstance(e, ir.Var):
            return scope[e.name]
        if isinstance(e, ir.FieldOf):
            return self._field(self.expr(e.base, scope, guard), e.name, guard)
        if isinstance(e, ir.Each):
            return self._each(e, scope, guard)
        if isinstance(e, ir.Output):
            if e.name not in self.outputs:
                raise Unsupported(f"the output `{e.name}`")
            return self.outputs[e.name]
        if isinstance(e, ir.ItemOutput):
            return self._item_output(e, scope, guard)
        if isinstance(e, ir.Op):
            return self._op(e, scope, guard)
        raise Unsupported(f"the expression {type(e).__name__}")

    def constant(self, value, t: T.Type):
        if isinstance(plain(t), T.SetType):
            element = plain(t).element
            if not isinstance(element, T.EnumType):
                raise Unsupported(f"{plain(t).describe()} written in the policy")
            return frozenset(element.members.index(m) for m in value)
        if isinstance(plain(t), T.ListType):
            raise Unsupported("a list written in the policy")
        c = constant(value, t, self.texts)
        if isinstance(c, (tuple, dates.Yearly)):
            return c
        if c is None:
            return Opt(z3.BoolVal(False), _zero(plain(t)))
        if isinstance(c, bool):
            return z3.BoolVal(c)
        if plain(t) in MONEY_SCALE:
            return z3.RealVal(str(c))
        return z3.IntVal(c)

    def _dated(self, e: ir.DatedParam, guard):
        day = self.expr(self.policy.terms, {}, guard)
        value = self.constant(e.value, e.type) if e.value is not None else None
        for start, end, period_value, _ in reversed(e.periods):
            within = z3.And(*([day >= start.toordinal()] if start else []) + ([day <= end.toordinal()] if end else []))
            here = self.constant(period_value, e.type)
            value = here if value is None else ite(within, here, value)
        return value

    def _input(self, path: tuple, guard):
        value = self.request.root
        for key in path:
            value = self._field(value, key, guard)
        return value

    def _field(self, record, name: str, guard):
        if isinstance(record, Opt):
            self.fail(guard, z3.Not(record.present))
            record = record.value
        value = record.fields[name]
        if name in record.flags:
            # read where its fact is not true: "needed to decide, but given only when ..."
            self.fail(guard, z3.And(z3.Not(value.present), z3.Not(record.flags[name])))
        return value

    def _let(self, name: str, guard):
        if name not in self.lets:
            saved, self.failures = self.failures, []
            value = self.expr(self.policy.values[name], {}, z3.BoolVal(True))
            self.lets[name] = (value, z3.Or(*self.failures) if self.failures else z3.BoolVal(False))
            self.failures = saved
        value, failure = self.lets[name]
        self.fail(guard, failure)
        return value

    def _raw(self, e: ir.Expr, scope, guard):
        """Whether a value is given (`is given`), without the failure of reading it."""
        if isinstance(e, ir.FieldOf):
            value = self.expr(e.base, scope, guard)
            value = value.value if isinstance(value, Opt) else value
            return _present(value.fields[e.name])
        if isinstance(e, ir.Input):
            record = self._input(e.path[:-1], guard) if len(e.path) > 1 else self.request.root
            record = record.value if isinstance(record, Opt) else record
            return _present(record.fields[e.path[-1]])
        return _present(self._expr(e, scope, guard))

    def _item_output(self, e: ir.ItemOutput, scope, guard):
        """An item's outcome or total; an element that is not one of the items cannot be read."""
        element = self.expr(e.element, scope, guard)
        item = self.items.get(getattr(element, "path", None))
        if item is None:
            self.fail(guard, z3.BoolVal(True))
            return _zero(plain(e.type)) if e.name != "outcome" else z3.IntVal(0)
        self.fail(guard, z3.Not(item.present))
        return item.outcome if e.name == "outcome" else item.totals[e.name]

    def _each(self, e: ir.Each, scope, guard):
        source = self.expr(e.source, scope, guard)
        if isinstance(source, frozenset):
            raise Unsupported("`for each` over a set of values")
        slots, decided = [], z3.BoolVal(False)  # decided: an earlier element settled any/every/no
        for present, x in source.slots:
            inner = {**scope, e.var: x}
            here = z3.And(guard, present, z3.Not(decided)) if e.kind in ("any", "every", "no") \
                else z3.And(guard, present)
            where = self.expr(e.where, inner, here) if e.where is not None else z3.BoolVal(True)
            if e.kind in ("filter", "map"):
                keep = z3.And(present, where)
                element = x if e.kind == "filter" else self.expr(e.element, inner, z3.And(here, where))
                slots.append((keep, element))
            elif e.kind == "every":
                decided = z3.Or(decided, z3.And(present, z3.Not(where)))
            else:
                decided = z3.Or(decided, z3.And(present, where))
        if e.kind in ("filter", "map"):
            return SymList(tuple(slots))
        return z3.Not(decided) if e.kind in ("every", "no") else decided

    def _op(self, e: ir.Op, scope, guard):
        op, args = e.op, e.args
        if op in ("and", "or"):
            terms, reached = [], guard
            for a in args:
                term = self.expr(a, scope, reached)
                terms.append(term)
                reached = z3.And(reached, term if op == "and" else z3.Not(term))
            return z3.And(*terms) if op == "and" else z3.Or(*terms)
        if op == "if":
            c = self.expr(args[0], scope, guard)
            return ite(c, self.expr(args[1], scope, z3.And(guard, c)), self.expr(args[2], scope, z3.And(guard, z3.Not(c))))
        if op in ("given", "not_given"):
            given = self._raw(args[0], scope, guard)
            return given if op == "given" else z3.Not(given)
        if op == "lookup":
            return self._lookup(e, scope, guard)
        if op == "rule_value":  # a rule's own value: its expression
            return self.expr(args[1], scope, guard)
        values = [self.expr(a, scope, guard) for a in args]
        if op in ("year", "month", "day", "weekday", "end_of_month"):
            return dates.date_part(op, values[0])
        if op in ("season_start", "season_end"):
            return self._in_calendar(dates.season_bound(op.removeprefix("season_"), values[0], values[1]), guard)
        if op in ("in", "not_in") and isinstance(values[1], dates.Yearly):
            found = dates.in_yearly(values[0], values[1])
            return found if op == "in" else z3.Not(found)
        if op == "not":
            return z3.Not(values[0])
        if op in ("empty", "not_empty"):
            some = z3.Or(*[p for p, _ in values[0].slots]) if values[0].slots else z3.BoolVal(False)
            return z3.Not(some) if op == "empty" else some
        if op in ("in", "not_in"):
            found = member(values[0], values[1])
            return found if op == "in" else z3.Not(found)
        if op in ("==", "!="):
            same = equal(values[0], values[1])
            return same if op == "==" else z3.Not(same)
        if op in ("<", "<=", ">", ">="):
            a, b = values
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        if op == "neg":
            return -values[0]
        if op == "round":
            return round_half_up(values[0])
        if op == "count":
            return z3.Sum(*[z3.If(p, 1, 0) for p, _ in values[0].slots]) if values[0].slots else z3.IntVal(0)
        if op == "sum":
            zero = z3.RealVal(0) if plain(e.type) in MONEY_SCALE else z3.IntVal(0)
            return z3.Sum(*[z3.If(p, x, zero) for p, x in values[0].slots]) if values[0].slots else zero
        if op in ("min", "max"):
            pick = (lambda a, b: z3.If(a <= b, a, b)) if op == "min" else (lambda a, b: z3.If(a >= b, a, b))
            if len(values) > 1:
                result = values[0]
                for v in values[1:]:
                    result = pick(result, v)
                return result
            slots = values[0].slots
            self.fail(guard, z3.Not(z3.Or(*[p for p, _ in slots])) if slots else z3.BoolVal(True))
            result = _zero(plain(e.type)) if not slots else slots[0][1]
            seen = z3.BoolVal(False)
            for p, x in slots:
                result = z3.If(p, z3.If(seen, pick(result, x), x), result)
                seen = z3.Or(seen, p)
            return result
        if op == "days_between":
            return values[1] - values[0]
        if op == "through":
            return (values[0], values[1])
        if op in ("+", "-", "*"):
            return self._arith(e, values, guard)
        raise Unsupported(f"the operator `{op}`")

    def _lookup(self, e: ir.Op, scope, guard):
        """A table's value for its keys: an if-then-else over its rows, in the order written, with
        the `otherwise` value last; without one, keys no row names get no decision (the runtime's
        error; the checker proves an enum table covers every key)."""
        index, key_types = e.args[0].value, e.args[0].type.keys
        if len(index) > MAX_TABLE_ROWS:
            raise Unsupported(f"the table `{index.table}` of more than {MAX_TABLE_ROWS} rows")
        keys = [self.expr(a, scope, guard) for a in e.args[1:]]
        value = self.constant(index.otherwise, e.type) if index.has_otherwise else _zero(plain(e.type))
        named = []
        for row_key, row_value in reversed(list(dict.items(index))):
            row_keys = row_key if len(keys) > 1 else (row_key,)
            match = z3.And(*[equal(k, self.constant(v, t)) for k, v, t in zip(keys, row_keys, key_types)])
            value = ite(match, self.constant(row_value, e.type), value)
            named.append(match)
        if not index.has_otherwise:
            self.fail(guard, z3.Not(z3.Or(*named)) if named else z3.BoolVal(True))
        return value

    def _arith(self, e: ir.Op, values, guard):
        (lt, rt), (a, b), op = (plain(x.type) for x in e.args), values, e.op
        if T.DATE in (lt, rt):
            day, count = (a, b) if lt is T.DATE else (b, a)
            if op == "-":
                count = -count
            if T.BUSINESS_DAYS in (lt, rt):
                return self.business_days_after(day, count)
            return self._in_calendar(day + count, guard)
        if lt in MONEY_SCALE or rt in MONEY_SCALE:  # in each type's own units, as numbers
            x, y = _real(a) / MONEY_SCALE.get(lt, 1), _real(b) / MONEY_SCALE.get(rt, 1)
            if op == "*" and T.PERCENT in (lt, rt) and {lt, rt} != {T.PERCENT}:
                result = x * y / 100
            else:
                result = {"+": lambda: x + y, "-": lambda: x - y, "*": lambda: x * y}[op]()
            scale = MONEY_SCALE.get(plain(e.type), 1)
            return result * scale
        return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b}[op]()

    def _in_calendar(self, day, guard):
        """A computed day, which the runtime cannot represent before year 1 or after 9999: there,
        the request gets an error, as in the runtime."""
        self.fail(guard, z3.Or(day < dates.FIRST_DAY, day > dates.LAST_DAY))
        return day

    # ---- business days: exact over the range of the bounds -------------------------------------

    def business_days_after(self, day, count):
        """The count-th business day after `day` (before it, when negative), as a defined variable."""
        count = z3.simplify(count)
        if not z3.is_int_value(count):
            raise Unsupported("a number of business days that depends on the request")
        n = count.as_long()
        if n == 0:
            return day
        if not self.exact_business_days:
            self._fresh += 1
            result = z3.Int(f"business_day#{self._fresh}")
            self.definitions.append(result > day if n > 0 else result < day)
            return result
        days = self._business_days(abs(n))
        self._fresh += 1
        result = z3.Int(f"business_day#{self._fresh}")
        index = self._business_index
        before = index(day) if n > 0 else index(day - 1) + 1
        # Defined where the holidays are known: a day further out (a date computed far beyond the
        # bounds) leaves the result free, so the solver may pick any day there and nothing is
        # proven by leaving such requests out.
        covered = z3.And(day >= days.first + 2 * abs(n) + 14, day <= days.last - 2 * abs(n) - 14)
        self.definitions.append(z3.Implies(covered, z3.And(
            result >= days.first, result <= days.last,
            self.is_business_day(result), index(result) == before + n)))
        self._ordering_lemmas([day, day - 1, result])
        return result

    def _ordering_lemmas(self, points: list) -> None:
        """The index grows with the day, and strictly to each business day: true of every day,
        stated for the days compared so the solver need not find it through the arithmetic."""
        index, business = self._business_index, self.is_business_day
        seen = getattr(self, "_points", [])
        for a in points:
            for b in seen:
                for x, y in ((a, b), (b, a)):
                    self.definitions.append(z3.Implies(x <= y, index(x) <= index(y)))
                    self.definitions.append(z3.Implies(z3.And(x < y, business(y)), index(x) < index(y)))
            seen.append(a)
        self._points = seen

    def _business_days(self, reach: int) -> BusinessDays:
        first = self.bounds.first_day.toordinal() - 366 - 2 * reach - 14
        last = self.bounds.last_day.toordinal() + 366 + 2 * reach + 14
        if self._business is None or self._business.first > first or self._business.last < last:
            self._business = BusinessDays(self.policy.calendar, first, last)
        return self._business

    def is_business_day(self, day):
        days = self._business_days(0)
        return z3.And((day - days.monday) % 7 < 5, *[day != h for h in days.holidays])

    def _business_index(self, day):
        """Business days from the Monday the table starts on up to `day`."""
        monday = self._business_days(0).monday
        weeks, rest = (day - monday) / 7, (day - monday) % 7
        weekdays = 5 * weeks + z3.If(rest >= 4, 5, rest + 1)
        holidays = self._business_days(0).holidays
        return weekdays - z3.Sum(*[z3.If(day >= h, 1, 0) for h in holidays]) if holidays else weekdays

    # ---- the decision: as reference._decide combines the rules ---------------------------------

    def decision(self) -> Decision:
        policy, true = self.policy, z3.BoolVal(True)
        applying = []  # (rule, element, applies, effect values)
        for rule in policy.rules:
            if rule.var is None:
                applies = self.expr(rule.condition, {}, true)
                applying.append((rule, None, applies, self._effects(rule, {}, applies)))
                continue
            source = self.expr(rule.source, {}, true)
            if isinstance(source, frozenset):
                raise Unsupported("a rule `for each` value of a set")
            for present, element in source.slots:
                scope = {rule.var: element}
                applies = z3.And(present, self.expr(rule.condition, scope, present))
                applying.append((rule, element, applies, self._effects(rule, scope, applies)))

        def overridden(loser):
            return z3.Or(*[b[2] for b in applying if loser[0].name in b[0].overrides
                           and same_element(b[1], loser[1])] or [z3.BoolVal(False)])

        left = [(rule, element, z3.And(applies, z3.Not(overridden(a))), values)
                for a in applying for rule, element, applies, values in [a]]
        outputs, outcome = {}, None
        if policy.items is not None:
            decided = decide_items(self, left)
            outcome, left, self.items, self.reached = decided.outcome, decided.counted, decided.items, decided.reached
        elif policy.outcomes:
            outcome, left = by_rank(policy, left)
            self.reached = {o.name: outcome == o.rank for o in policy.outcomes}
        for output in policy.outputs:
            if output.kind == "outcome":
                if outcome is None:
                    raise Unsupported("an outcome output without outcomes")
                outputs[output.name] = outcome
            elif output.kind == "total":
                total = z3.RealVal(0)
                for rule, _, determines, values in left:
                    for effect, value in zip(rule.effects, values):
                        if effect.kind == "add" and effect.output == output.name:
                            total = total + z3.If(determines, value if effect.sign > 0 else -value, 0)
                if output.floor is not None:
                    floor = self.constant(output.floor, output.type)
                    total = z3.If(total < floor, floor, total)
                outputs[output.name] = total
            else:
                outputs[output.name] = self._set_output(output, left)
        self.outputs, self.left, self.applying = outputs, left, applying
        failure = z3.Or(*self.failures) if self.failures else z3.BoolVal(False)
        return Decision(outputs, failure, tuple((r.name, getattr(el, "path", None), d) for r, el, d, _ in left))

    def _effects(self, rule, scope, applies) -> tuple:
        return tuple(self.expr(e.value, scope, applies) if e.value is not None else None for e in rule.effects)

    def _set_output(self, output, left):
        t = plain(output.type)
        if output.default is not None:
            value, present = self.constant(output.default, output.type), z3.BoolVal(True)
        else:
            value, present = _zero(t), z3.BoolVal(False)
        for rule, _, determines, values in reversed(left):
            for effect, effect_value in reversed(list(zip(rule.effects, values))):
                if effect.kind == "set" and effect.output == output.name:
                    value, present = ite(determines, effect_value, value), z3.Or(determines, present)
        if output.default is not None and not isinstance(output.type, T.OptionalType):
            return value
        return Opt(present, value)


# ---- values: equality, membership, choice, rounding ----------------------------------------------

def _real(term):
    """A number as a real: a division of two whole numbers would otherwise round down."""
    return z3.ToReal(term) if z3.is_int(term) else term


def _present(value):
    return value.present if isinstance(value, Opt) else z3.BoolVal(True)


def _zero(t: T.Type):
    if t is T.BOOLEAN:
        return z3.BoolVal(False)
    if t in MONEY_SCALE:
        return z3.RealVal(0)
    if t is T.DATE_RANGE:
        return (z3.IntVal(0), z3.IntVal(0))
    if isinstance(t, (T.Scalar, T.EnumType)):
        return z3.IntVal(0)
    raise Unsupported(f"an output of type {t.describe()}")


# A table is encoded as a chain of tests, one per row: beyond this many rows the solver would
# spend its time on the table, and the property is said not checked.
MAX_TABLE_ROWS = 500


def ite(c, a, b):
    """`if c then a else b` over any value: terms, pairs, values that may be absent."""
    if isinstance(a, Opt) or isinstance(b, Opt):
        a = a if isinstance(a, Opt) else Opt(z3.BoolVal(True), a)
        b = b if isinstance(b, Opt) else Opt(z3.BoolVal(True), b)
        return Opt(z3.If(c, a.present, b.present), ite(c, a.value, b.value))
    if isinstance(a, tuple):
        return tuple(ite(c, x, y) for x, y in zip(a, b))
    if isinstance(a, (SymList, SymRecord, frozenset)):
        raise Unsupported("`if ... then ... else` between lists or records")
    return z3.If(c, a, b)


def equal(a, b):
    if isinstance(a, Opt) or isinstance(b, Opt):
        a = a if isinstance(a, Opt) else Opt(z3.BoolVal(True), a)
        b = b if isinstance(b, Opt) else Opt(z3.BoolVal(True), b)
        return z3.And(a.present == b.present, z3.Implies(a.present, equal(a.value, b.value)))
    if isinstance(a, tuple):
        return z3.And(*[equal(x, y) for x, y in zip(a, b)])
    if isinstance(a, (SymList, SymRecord)) or isinstance(b, (SymList, SymRecord)):
        raise Unsupported("comparing lists or records")
    return a == b


def member(x, collection):
    if isinstance(collection, frozenset):
        return z3.Or(*[x == m for m in collection]) if collection else z3.BoolVal(False)
    if isinstance(collection, tuple):  # a date range
        return z3.And(collection[0] <= x, x <= collection[1])
    if isinstance(collection, SymList):
        return z3.Or(*[z3.And(p, equal(x, v)) for p, v in collection.slots]) if collection.slots \
            else z3.BoolVal(False)
    raise Unsupported("`in` on this kind of value")


def same_element(a, b):
    """As reference.element_key compares the elements two rules applied to."""
    if a is None or b is None:
        return z3.BoolVal(True)
    if isinstance(a, SymRecord) or isinstance(b, SymRecord):
        return z3.BoolVal(getattr(a, "path", None) == getattr(b, "path", None))
    return equal(a, b)


def round_half_up(x):
    """Half up to the cent (ties away from zero), in cents: Decimal's ROUND_HALF_UP, exactly."""
    half = z3.RealVal("1/2")
    return z3.ToReal(z3.If(x >= 0, z3.ToInt(x + half), -z3.ToInt(-x + half)))
