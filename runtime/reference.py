"""The reference interpreter: what a checked policy means, by a direct walk over its expressions.

It is the specification in code, kept small and plain on purpose: no rule graph, no generated
code, no shared subexpressions, no early evaluation. The differential tests hold the compiled
runtime (`CompiledPolicy.decide`) to it: the same outputs and the same determining rules.

    decide(policy: CheckedPolicy, request) -> ReferenceDecision

`request` is already converted by `CompiledPolicy.read_request`: reading JSON is not semantics.

How a decision is made, in the language's own terms:
1. A rule applies when its condition is true; a rule `for each x in xs` applies, on its own, to
   every element of xs for which it is true, in list order. Rules are looked at in file order;
   what an applying rule's effects compute is computed then.
2. A rule that applies overrides (`overrides r`) the rule r where both apply to the same element,
   or where either applies to the whole request. An overridden rule is dropped; whether the one
   that overrides it is itself overridden does not matter.
3. The outcome is the strongest outcome of the rules left (outcomes are listed strongest first);
   with none, the last outcome. If that outcome `overrides all other rules`, every rule left that
   does not give it is dropped too, rules giving no outcome included.
4. The rules left determine the decision, in file order. A total is the sum of what they add
   and subtract, raised to its floor; an output that rules set takes the value of the first of
   them that sets it, else its default, else none.

Outcomes decided for each item (`outcomes for each item in LIST`, docs/per-item.md) replace 3:
for each element of LIST, its rules are the rules over LIST that apply to it and every other
rule left; its outcome is the strongest they give (else the last), and one that overrides all
other rules keeps only its rules giving it. Its totals are what its own rules kept add. A rule
over LIST counts where its item keeps it, any other rule where some item keeps it. The request's
outcome is the first `request outcome:` line that holds, else the strongest item's. An empty
LIST: 3 as written.

Amounts are exact: an amount that needs more than 60 digits cannot be computed, and neither can
a division by zero, a date out of the calendar, or the least of an empty list: then the request
gets an EvaluationError. Only a division is carried to 60 digits and rounded there.
"""
from __future__ import annotations

import datetime
from decimal import (ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, DivisionByZero, Inexact,
                     InvalidOperation, Overflow)

import attrs

from rplang.compiler import ir
from rplang.compiler import types as T
from rplang.compiler.calendars import BusinessCalendar
from rplang.compiler.checked import CheckedPolicy, CheckedRule
from rplang.policy_lang.errors import EvaluationError, RequestError, RequestProblem
from rplang.policy_lang.ast import MONTHS, WEEKDAYS
from rplang.policy_lang.limits import MAX_COMPUTED_DIGITS

from .request import PATH_KEY

CENT = Decimal("0.01")
_TRAPS = [InvalidOperation, DivisionByZero, Overflow]
EXACT = Context(prec=MAX_COMPUTED_DIGITS, rounding=ROUND_HALF_EVEN, traps=_TRAPS + [Inexact])  # + - *
ROUNDING = Context(prec=MAX_COMPUTED_DIGITS, rounding=ROUND_HALF_EVEN, traps=_TRAPS)  # a division, a rounding


@attrs.frozen
class ReferenceDecision:
    """The outcome, outputs as decision JSON prints them, the determining rules as (rule, element)."""
    outcome: str | None
    outputs: dict
    determining: tuple[tuple[str, object], ...]
    items: tuple | None = None  # per item: (element key, outcome, totals as decision JSON prints them)


def element_key(element: object) -> object:
    """How a determining rule's element is compared: a record by its JSON path, else its value."""
    if element is None:
        return None
    if isinstance(element, dict):
        return element.get(PATH_KEY)
    return ("value", _json(element, None))


def decide(policy: CheckedPolicy, request: dict) -> ReferenceDecision:
    """Decide a converted request by the rules above; raises RequestError or EvaluationError."""
    try:
        return _decide(policy, request)
    except (Inexact, Overflow):
        raise EvaluationError(f"number too large: more than {MAX_COMPUTED_DIGITS} digits") from None
    except ArithmeticError as error:
        raise EvaluationError(f"the policy could not compute a value: {error!r}") from None


def _decide(policy: CheckedPolicy, request: dict) -> ReferenceDecision:
    walker = _Walker(policy, request)
    applying = []  # (rule, element, effect values) in file order
    for rule in policy.rules:
        if rule.var is None:
            if walker.truth(rule.condition, {}):
                applying.append((rule, None, walker.effect_values(rule, {})))
        else:
            for element in walker.eval(rule.source, {}):
                scope = {rule.var: element}
                if walker.truth(rule.condition, scope):
                    applying.append((rule, element, walker.effect_values(rule, scope)))

    overriding = [a for a in applying if a[0].overrides]
    left = [a for a in applying if not any(_overrides(b, a) for b in overriding)]

    items = None
    if policy.items is not None:
        elements = walker.eval(policy.items.source, {})
        if elements:
            return _decide_items(policy, left, elements)
        items = ()  # no items: the request-wide rules decide, as below

    outcome = _outcome(policy, left)
    if outcome is not None and outcome.overrides_all:
        left = [a for a in left if a[0].outcome == outcome.name]

    return ReferenceDecision(outcome.name if outcome is not None else None,
                             _outputs(policy, outcome, left),
                             tuple((rule.name, element_key(element)) for rule, element, _ in left), items)


def _decide_items(policy: CheckedPolicy, left: list, elements: list) -> ReferenceDecision:
    """Step 3 item by item (docs/per-item.md)."""
    def strongest(rules):
        given = {rule.outcome for rule, _, _ in rules if rule.outcome is not None}
        return next((o for o in policy.outcomes if o.name in given), policy.outcomes[-1])

    def key(application):
        return (application[0].name, element_key(application[1]))

    wide = [a for a in left if not a[0].per_item]
    counted, items = set(), []
    for element in elements:
        own = [a for a in left if a[0].per_item and element_key(a[1]) == element_key(element)]
        outcome = strongest(own + wide)
        kept = own + wide
        if outcome.overrides_all:
            kept = [a for a in kept if a[0].outcome == outcome.name]
        counted |= {key(a) for a in kept}
        mine = [a for a in kept if a[0].per_item]
        totals = {o.name: _json(_sum(mine, o.name), o.type) for o in policy.outputs if o.kind == "total"}
        items.append((element_key(element), outcome.name, totals))
    left = [a for a in left if key(a) in counted]
    names = [outcome for _, outcome, _ in items]
    chosen = None
    for line in policy.items.request_outcomes:
        if all(_test_holds(quantifier, wanted, names) for quantifier, wanted in line.tests):
            chosen = line.name
            break
    if chosen is None:
        chosen = next(o.name for o in policy.outcomes if o.name in names)
    out = _outputs(policy, None, left)
    for output in policy.outputs:
        if output.kind == "outcome":
            out[output.name] = chosen
    return ReferenceDecision(chosen, out, tuple((rule.name, element_key(element)) for rule, element, _ in left),
                             tuple(items))


def _test_holds(quantifier: str, wanted: frozenset, outcomes: list[str]) -> bool:
    if quantifier == "every":
        return len(outcomes) > 0 and all(o in wanted for o in outcomes)
    found = any(o in wanted for o in outcomes)
    return found if quantifier == "any" else not found


def _sum(left, name: str) -> Decimal:
    total = Decimal(0)
    for rule, _, values in left:
        for effect, value in zip(rule.effects, values):
            if effect.kind == "add" and effect.output == name:
                total = EXACT.add(total, value) if effect.sign > 0 else EXACT.subtract(total, value)
    return total


def _overrides(winner, loser) -> bool:
    rule, element, _ = winner
    other_rule, other_element, _ = loser
    if other_rule.name not in rule.overrides:
        return False
    if element is None or other_element is None:
        return True
    return element_key(element) == element_key(other_element)


def _outcome(policy: CheckedPolicy, left):
    if not policy.outcomes:
        return None
    given = {rule.outcome for rule, _, _ in left if rule.outcome is not None}
    for outcome in policy.outcomes:  # strongest first
        if outcome.name in given:
            return outcome
    return policy.outcomes[-1]


def _outputs(policy: CheckedPolicy, outcome, left) -> dict:
    out = {}
    for output in policy.outputs:
        if output.kind == "outcome":
            out[output.name] = outcome.name if outcome is not None else None
        elif output.kind == "total":
            total = Decimal(0)
            for rule, _, values in left:
                for effect, value in zip(rule.effects, values):
                    if effect.kind == "add" and effect.output == output.name:
                        total = EXACT.add(total, value) if effect.sign > 0 else EXACT.subtract(total, value)
            if output.floor is not None and total < output.floor:
                total = output.floor
            out[output.name] = _json(total, output.type)
        else:
            value, found = output.default, False
            for rule, _, values in left:
                for effect, effect_value in zip(rule.effects, values):
                    if not found and effect.kind == "set" and effect.output == output.name:
                        value, found = effect_value, True
            out[output.name] = _json(value, output.type)
    return out


# ---- Values as decision JSON shows them ----------------------------------------------------------

def _json(value: object, type_: T.Type | None) -> object:
    if value is None:
        return None
    if isinstance(type_, T.OptionalType):
        type_ = type_.inner
    if type_ in (T.MONEY, T.EXACT_MONEY):
        text = f"{value.quantize(CENT, ROUND_HALF_UP, context=ROUNDING):f}"
        return "0.00" if text == "-0.00" else text
    if type_ == T.PERCENT:
        return f"{value.normalize():f}%"
    if isinstance(value, tuple):  # a date range
        return [_json(value[0], T.DATE), _json(value[1], T.DATE)]
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, frozenset):
        element = type_.element if isinstance(type_, (T.ListType, T.SetType)) else None
        return [_json(v, element) for v in sorted(value)]
    if isinstance(value, list):
        element = type_.element if isinstance(type_, (T.ListType, T.SetType)) else None
        return [_json(v, element) for v in value]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if not k.startswith("#")}
    return value


# ---- Expressions ---------------------------------------------------------------------------------

class _Walker:
    """Evaluates checked expressions for one request, each the way the language defines it."""

    def __init__(self, policy: CheckedPolicy, request: dict):
        self.policy = policy
        self.request = request
        self.calendar = BusinessCalendar(policy.calendar)
        self.values: dict[str, object] = {}  # a `let` depends on the request only: computed once

    def effect_values(self, rule: CheckedRule, scope: dict) -> tuple:
        return tuple(self.eval(e.value, scope) if e.value is not None else None for e in rule.effects)

    def truth(self, e: ir.Expr, scope: dict) -> bool:
        value = self.eval(e, scope)
        if not isinstance(value, bool):
            raise TypeError(f"a condition gave {value!r}, not true or false")
        return value

    def eval(self, e: ir.Expr, scope: dict) -> object:
        return self._eval(e, scope)

    def _eval(self, e: ir.Expr, scope: dict) -> object:
        if isinstance(e, (ir.Const, ir.Param)):
            return e.value
        if isinstance(e, ir.Input):
            return self.input(e.path)
        if isinstance(e, ir.Value):
            if e.name not in self.values:
                self.values[e.name] = self._eval(self.policy.values[e.name], {})
            return self.values[e.name]
        if isinstance(e, ir.Var):
            return scope[e.name]
        if isinstance(e, ir.FieldOf):
            return self.field(self._eval(e.base, scope), e.name, e.present_when)
        if isinstance(e, ir.Each):
            return self.each(e, scope)
        return self.op(e, scope)

    def input(self, path: tuple[str, ...]) -> object:
        """A field of the request by its path, each step known only `when` its fact holds."""
        value, fields = self.request, self.policy.request
        for key in path:
            spec = fields[key]
            value = self.field(value, key, spec.present_when)
            inner = _plain(spec.type)
            fields = self.policy.records[inner.name] if isinstance(inner, T.RecordType) else {}
        return value

    def field(self, record: dict, name: str, present_when: str | None) -> object:
        value = record[name]
        if value is None and present_when is not None and record.get(present_when) is not True:
            raise RequestError([RequestProblem(
                f"{record.get(PATH_KEY, '$')}.{name}",
                f"needed to decide, but given only when `{present_when}` is true")])
        return value

    def raw(self, e: ir.Expr, scope: dict) -> object:
        """A value as given, None when absent, without complaint (for `is given`)."""
        if isinstance(e, ir.FieldOf):
            return self._eval(e.base, scope)[e.name]
        if isinstance(e, ir.Input):
            return self.input(e.path[:-1])[e.path[-1]] if len(e.path) > 1 else self.request[e.path[0]]
        return self._eval(e, scope)

    def each(self, e: ir.Each, scope: dict) -> object:
        def inner(x):
            return {**scope, e.var: x}

        source = self._eval(e.source, scope)
        if e.kind == "filter":
            return [x for x in source if e.where is None or self._eval(e.where, inner(x))]
        if e.kind == "map":
            return [self._eval(e.element, inner(x)) for x in source
                    if e.where is None or self._eval(e.where, inner(x))]
        if e.kind == "any":
            return any(self._eval(e.where, inner(x)) for x in source)
        if e.kind == "every":
            return all(self._eval(e.where, inner(x)) for x in source)
        if e.kind == "no":
            return not any(self._eval(e.where, inner(x)) for x in source)
        raise ValueError(f"unknown list expression `{e.kind}`")

    def op(self, e: ir.Op, scope: dict) -> object:
        op, args = e.op, e.args

        def arg(k):
            return self._eval(args[k], scope)

        # the operators that do not compute every operand
        if op == "and":
            return all(self._eval(a, scope) for a in args)
        if op == "or":
            return any(self._eval(a, scope) for a in args)
        if op == "if":
            return arg(1) if arg(0) else arg(2)
        if op == "given":
            return self.raw(args[0], scope) is not None
        if op == "not_given":
            return self.raw(args[0], scope) is None

        values = [arg(k) for k in range(len(args))]
        if op == "not":
            return not values[0]
        if op == "empty":
            return len(values[0]) == 0
        if op == "not_empty":
            return len(values[0]) != 0
        if op == "in":
            return values[0] in values[1]
        if op == "not_in":
            return values[0] not in values[1]
        if op in _COMPARE:
            return _COMPARE[op](values[0], values[1])
        if op == "neg":
            return EXACT.minus(values[0]) if isinstance(values[0], Decimal) else -values[0]
        if op == "round":
            return values[0].quantize(CENT, ROUND_HALF_UP, context=ROUNDING)
        if op == "count":
            return len(values[0])
        if op == "sum":
            total = Decimal(0) if e.type in (T.MONEY, T.EXACT_MONEY, T.PERCENT) else 0
            for value in values[0]:
                total = EXACT.add(total, value) if isinstance(total, Decimal) else total + value
            return total
        if op in ("min", "max"):
            pick = min if op == "min" else max
            items = values[0] if len(values) == 1 else values  # `min of xs`, or `min(a, b)`
            if not items:
                raise EvaluationError(f"`{op} of` an empty list has no value")
            return pick(items)
        if op == "days_between":
            return (values[1] - values[0]).days
        if op == "through":
            return T.DateRange(values[0], values[1])
        if op == "lookup":
            return _lookup(values[0], values[1] if len(values) == 2 else tuple(values[1:]))
        if op == "rule_value":
            return values[1]
        if op in ("year", "month", "day", "weekday", "end_of_month"):
            return _date_part(op, values[0])
        if op == "season_start":
            return values[0].start_for(values[1])
        if op == "season_end":
            return values[0].end_for(values[1])
        if op in ("+", "-", "*", "/"):
            return self.arith(op, args[0].type, args[1].type, values[0], values[1])
        raise ValueError(f"unknown operator `{op}`")

    def arith(self, op: str, left: T.Type, right: T.Type, a, b):
        left, right = _plain(left), _plain(right)
        if T.DATE in (left, right):  # a date and a number of (business) days
            day, count = (a, b) if left == T.DATE else (b, a)
            if op == "-":
                count = -count
            if T.BUSINESS_DAYS in (left, right):
                return self.business_days_after(day, count)
            return day + datetime.timedelta(days=count)
        if op == "*" and T.PERCENT in (left, right):  # a percentage of an amount
            amount, percent = (a, b) if right == T.PERCENT else (b, a)
            return ROUNDING.divide(EXACT.multiply(amount, percent), 100)
        if op == "/" and right == T.PERCENT:  # the amount of which `b` percent is `a`
            return ROUNDING.divide(EXACT.multiply(a, 100), b)
        if isinstance(a, Decimal) or isinstance(b, Decimal):  # amounts, percentages
            return {"+": EXACT.add, "-": EXACT.subtract, "*": EXACT.multiply,
                    "/": ROUNDING.divide}[op](a, b)
        if op in ("+", "-", "*"):  # whole numbers and days, of at most MAX_COMPUTED_DIGITS digits
            result = a + b if op == "+" else a - b if op == "-" else a * b
            if len(str(abs(result))) > MAX_COMPUTED_DIGITS:
                raise Overflow
            return result
        raise ValueError(f"`/` on {left} and {right}")

    def business_days_after(self, day: datetime.date, count: int) -> datetime.date:
        """The count-th business day after `day`, counting from the next one (before it if < 0)."""
        step = datetime.timedelta(days=1 if count >= 0 else -1)
        for _ in range(abs(count)):
            day += step
            while not self.calendar.is_business_day(day):
                day += step
        return day


def _date_part(part: str, day: datetime.date):
    """Written out here, apart from runtime/dates.py, so that the differential tests compare two
    ways of computing it."""
    if part == "year":
        return day.year
    if part == "day":
        return day.day
    if part == "month":
        return MONTHS[day.month - 1]
    if part == "weekday":
        return WEEKDAYS[day.weekday()]
    next_month = datetime.date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return next_month - datetime.timedelta(days=1)


def _plain(t: T.Type) -> T.Type:
    return t.inner if isinstance(t, T.OptionalType) else t


_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b}


def _lookup(table, key):
    """A table's value for a key, found by reading its rows one by one: the reference does not
    trust the index the evaluators use."""
    for row_key, value in dict.items(table):
        if row_key == key:
            return value
    if table.has_otherwise:
        return table.otherwise
    raise EvaluationError(f"table `{table.table}` has no row for {key}")
