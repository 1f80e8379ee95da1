"""Evaluate the rule graph: each node becomes a Python closure, built once when the policy loads.

No policy text is ever run as Python: closures are built from the checked graph only.
"""
from __future__ import annotations

import datetime
import operator
from typing import Callable

from rplang.compiler import ir
from rplang.compiler import types as T
from rplang.compiler.calendars import BusinessCalendar
from rplang.compiler.graph import RuleGraph
from rplang.policy_lang.errors import RequestError, RequestProblem

from . import arithmetic, dates
from .request import PATH_KEY

HUNDRED = arithmetic.HUNDRED


class Env:
    """What one decision evaluates against: the converted request, remembered values, bound names."""

    __slots__ = ("request", "memo", "bound", "as_of")

    def __init__(self, request: dict, as_of=None):
        self.request = request
        self.memo: dict[int, object] = {}
        self.bound: dict[str, object] = {}
        self.as_of = as_of  # a date that overrides the request's terms date (`rpl eval --as-of`)

    def with_bound(self, name: str | None, value) -> "Env":
        """An environment of the same request and remembered values, with `name` bound to `value`."""
        env = Env.__new__(Env)
        env.request, env.memo, env.as_of = self.request, self.memo, self.as_of
        env.bound = {name: value} if name is not None else {}
        return env


Fn = Callable[[Env], object]


class _Closures(dict):
    """Node id -> closure, each built the first time it is asked for.

    The generated rule code decides; closures serve explanations and values computed lazily, so
    a policy of 10,000 rules builds the few an explanation reads, not one for every node.
    """

    def __init__(self, evaluator: "Evaluator"):
        super().__init__()
        self.evaluator = evaluator
        self.values = frozenset(evaluator.graph.values.values())  # the node ids of `let`s

    def __missing__(self, node_id: int) -> Fn:
        node = self.evaluator.graph.nodes[node_id]
        fn = self.evaluator._build(node.expr)
        if self.remembers(node):
            fn = remembered(node.id, fn)
        self[node_id] = fn
        return fn

    def remembers(self, node) -> bool:
        """Whether a node's value, once computed for a decision, is kept in its `Env.memo` by
        node id: a value several expressions read, or a `let`'s (which the rule code computes
        up front and keeps there for the explanation), the same for every element."""
        return (node.shared or node.id in self.values) and not uses_bound(node.expr) \
            and not isinstance(node.expr, (ir.Const, ir.Param))


class Evaluator:
    """Closures for the nodes of a rule graph."""

    def __init__(self, graph: RuleGraph):
        self.graph = graph
        self.calendar = BusinessCalendar(graph.policy.calendar)
        self.fns: dict[int, Fn] = _Closures(self)

    def fn(self, expr: ir.Expr) -> Fn:
        return self.fns[self.graph.ids[expr]]

    def _child(self, expr: ir.Expr) -> Fn:
        return self.fns[self.graph.ids[expr]]

    def _build(self, e: ir.Expr) -> Fn:
        if isinstance(e, (ir.Const, ir.Param)):
            value = e.value
            return lambda env: value
        if isinstance(e, ir.DatedParam):
            terms_date = self.fns[self.graph.ids[self.graph.policy.terms]]
            return lambda env: e.value_on(env.as_of or terms_date(env))[0]
        if isinstance(e, ir.Input):
            if e.present_when is not None:
                return _known_input(e.path, e.present_when)
            return _input(e.path)
        if isinstance(e, ir.Value):
            return self.fns[self.graph.values[e.name]]
        if isinstance(e, ir.Var):
            name = e.name
            return lambda env: env.bound[name]
        if isinstance(e, ir.FieldOf):
            return _field(self._child(e.base), e.name, e.present_when)
        if isinstance(e, ir.Each):
            return self._each(e)
        return self._op(e)

    def _each(self, e: ir.Each) -> Fn:
        source = self._child(e.source)
        where = self._child(e.where) if e.where is not None else None
        element = self._child(e.element) if e.element is not None else None
        var = e.var

        def selected(env):
            bound = env.bound
            saved = bound.get(var, _UNBOUND)
            try:
                for x in source(env):
                    bound[var] = x
                    if where is None or where(env):
                        yield x if element is None else element(env)
            finally:
                if saved is _UNBOUND:
                    bound.pop(var, None)
                else:
                    bound[var] = saved

        if e.kind in ("filter", "map"):
            return lambda env: list(selected(env))
        if e.kind == "any":
            return lambda env: any(True for _ in selected(env))
        if e.kind == "no":
            return lambda env: not any(True for _ in selected(env))
        # every: no element fails the condition
        cond = where

        def every(env):
            bound = env.bound
            saved = bound.get(var, _UNBOUND)
            try:
                for x in source(env):
                    bound[var] = x
                    if not cond(env):
                        return False
                return True
            finally:
                if saved is _UNBOUND:
                    bound.pop(var, None)
                else:
                    bound[var] = saved
        return every

    def _op(self, e: ir.Op) -> Fn:
        args = [self._child(a) for a in e.args]
        op = e.op
        if op == "and":
            return _all(args)
        if op == "or":
            return _any(args)
        if op == "not":
            (a,) = args
            return lambda env: not a(env)
        if op == "if":
            c, a, b = args
            return lambda env: a(env) if c(env) else b(env)
        if op in ("given", "not_given"):
            (a,) = args
            optional = _optional_field(e.args[0])
            want = op == "given"
            return lambda env: (optional(env) is not None) is want
        if op in ("empty", "not_empty"):
            (a,) = args
            want = op == "empty"
            return lambda env: (len(a(env)) == 0) is want
        if op in ("in", "not_in"):
            a, b = args
            if op == "in":
                return lambda env: a(env) in b(env)
            return lambda env: a(env) not in b(env)
        if op in _COMPARE:
            a, b = args
            f = _COMPARE[op]
            return lambda env: f(a(env), b(env))
        if op == "neg":
            (a,) = args
            if e.type in _DECIMAL:
                return lambda env: arithmetic.minus(a(env))
            return lambda env: -a(env)
        if op == "round":
            (a,) = args
            return lambda env: arithmetic.round_cent(a(env))
        if op in ("max", "min") and len(args) > 1:
            f = max if op == "max" else min
            return lambda env: f(x(env) for x in args)
        if op == "count":
            (a,) = args
            return lambda env: len(a(env))
        if op == "sum":
            (a,) = args
            if e.type in _DECIMAL:
                return lambda env: arithmetic.total(a(env))
            return lambda env: sum(a(env), 0)
        if op in ("min", "max"):  # `min of xs`: the least of a list, which must not be empty
            (a,) = args
            f = arithmetic.least if op == "min" else arithmetic.greatest
            return lambda env: f(a(env))
        if op == "days_between":
            a, b = args
            return lambda env: (b(env) - a(env)).days
        if op == "through":
            a, b = args
            return lambda env: T.DateRange(a(env), b(env))
        if op == "lookup":  # a table's index, built when the policy was checked: one dict access
            table, keys = e.args[0].value, args[1:]
            if len(keys) == 1:
                (key,) = keys
                return lambda env: table[key(env)]
            return lambda env: table[tuple(k(env) for k in keys)]
        if op == "rule_value":  # a rule's own value: its expression, named for explanations
            return args[1]
        if op in dates.DATE_PARTS:
            (a,), part = args, dates.DATE_PARTS[op]
            return lambda env: part(a(env))
        if op in dates.SEASON_BOUNDS:
            (a, b), bound = args, dates.SEASON_BOUNDS[op]
            return lambda env: bound(a(env), b(env))
        return self._arith(e, args)

    def _arith(self, e: ir.Op, args) -> Fn:
        a, b = args
        lt, rt = (x.type for x in e.args)
        op = e.op
        if T.DATE in (lt, rt):
            date_first = lt == T.DATE
            d, n = (a, b) if date_first else (b, a)
            sign = -1 if op == "-" else 1
            if T.BUSINESS_DAYS in (lt, rt):
                add = self.calendar.add
                return lambda env: add(d(env), sign * n(env))
            count = e.args[1] if date_first else e.args[0]
            if isinstance(count, (ir.Const, ir.Param)):  # a fixed number of days, made into a step once
                step = datetime.timedelta(days=sign * count.value)
                return lambda env: d(env) + step
            return lambda env: d(env) + datetime.timedelta(days=sign * n(env))
        multiply, divide = arithmetic.multiply, arithmetic.divide
        if op == "*" and T.PERCENT in (lt, rt) and {lt, rt} != {T.PERCENT}:
            if lt == T.PERCENT:
                return lambda env: divide(multiply(b(env), a(env)), HUNDRED)
            return lambda env: divide(multiply(a(env), b(env)), HUNDRED)
        if op == "/" and rt == T.PERCENT:
            return lambda env: divide(multiply(a(env), HUNDRED), b(env))
        if lt in _DECIMAL or rt in _DECIMAL:
            return lambda env, f=_DECIMAL_OPS[op]: f(a(env), b(env))
        return lambda env, f=_ARITH[op]: f(a(env), b(env))


_UNBOUND = object()
_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
            "==": operator.eq, "!=": operator.ne}
_DECIMAL = (T.MONEY, T.EXACT_MONEY, T.PERCENT)
_DECIMAL_OPS = {"+": arithmetic.add, "-": arithmetic.subtract, "*": arithmetic.multiply, "/": arithmetic.divide}
_ARITH = {"+": lambda a, b: arithmetic.whole(a + b), "-": lambda a, b: arithmetic.whole(a - b),
          "*": lambda a, b: arithmetic.whole(a * b), "/": operator.truediv}


def remembered(node_id: int, fn: Fn) -> Fn:
    """`fn`, computed once per decision: its value kept in the environment's memo by node."""
    def once(env):
        memo = env.memo
        if node_id in memo:
            return memo[node_id]
        value = memo[node_id] = fn(env)
        return value
    return once


def _input(path: tuple[str, ...]) -> Fn:
    if len(path) == 1:
        (a,) = path
        return lambda env: env.request[a]
    if len(path) == 2:
        a, b = path
        return lambda env: env.request[a][b]

    def deep(env):
        value = env.request
        for key in path:
            value = value[key]
        return value
    return deep


def _known_input(path: tuple[str, ...], present_when: str) -> Fn:
    """A request field given only when a fact is true: an error where it is needed but absent."""
    record, name = _input(path[:-1]) if len(path) > 1 else (lambda env: env.request), path[-1]
    return _field(record, name, present_when)


def _field(base: Fn, name: str, present_when: str | None) -> Fn:
    if present_when is None:
        return lambda env: base(env)[name]

    def known_field(env):
        record = base(env)
        value = record[name]
        if value is None:
            path = record.get(PATH_KEY, "$")
            raise RequestError([RequestProblem(
                f"{path}.{name}", f"needed to decide, but given only when `{present_when}` is true")])
        return value
    return known_field


def _optional_field(expr: ir.Expr) -> Fn:
    """The raw value of a field, None when absent, for `is given`."""
    if isinstance(expr, ir.FieldOf):
        base = _build_plain(expr.base)
        name = expr.name
        return lambda env: base(env)[name]
    return _build_plain(expr)


def _build_plain(expr: ir.Expr) -> Fn:
    if isinstance(expr, ir.Input):
        return _input(expr.path)
    if isinstance(expr, ir.Var):
        name = expr.name
        return lambda env: env.bound[name]
    if isinstance(expr, ir.FieldOf):
        base = _build_plain(expr.base)
        name = expr.name
        return lambda env: base(env)[name]
    raise TypeError(f"`is given` on {type(expr).__name__}")


def _all(fns: list[Fn]) -> Fn:
    if len(fns) == 2:
        a, b = fns
        return lambda env: a(env) and b(env)
    return lambda env: all(f(env) for f in fns)


def _any(fns: list[Fn]) -> Fn:
    if len(fns) == 2:
        a, b = fns
        return lambda env: a(env) or b(env)
    return lambda env: any(f(env) for f in fns)


def uses_bound(expr: ir.Expr) -> bool:
    """Whether the value depends on a name bound by `for each` (so it differs per element)."""
    return bool(_free_vars(expr))


def _free_vars(expr: ir.Expr) -> set[str]:
    found: set[str] = set()
    stack = [(expr, frozenset())]
    while stack:
        node, bound = stack.pop()
        if isinstance(node, ir.Var) and node.name not in bound:
            found.add(node.name)
        elif isinstance(node, ir.Each):
            stack.append((node.source, bound))
            for n in (node.where, node.element):
                if n is not None:
                    stack.append((n, bound | {node.var}))
        else:
            stack.extend((c, bound) for c in ir.children(node))
    return found
