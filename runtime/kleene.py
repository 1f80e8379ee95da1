"""Three-valued evaluation of a rule graph, for residual decisions (runtime/residual.py).

A fact declared `at STAGE` and left out of a request is UNKNOWN (runtime/request.py). Here each
node of the rule graph becomes a closure whose value may be `Unknown`, carrying the JSON paths
of the facts it depends on. Logic is Kleene's: false and unknown = false, true or unknown = true,
not unknown = unknown. Comparisons, arithmetic, membership and fields of an unknown value are
unknown; a filter whose condition is unknown for some element is an unknown list; `any` is true
once one element is, `every` false once one element is. A value computed from known values only
is computed by the evaluator's own operations (`_ValueOps`), so it is exactly what a decision
computes; and a known value never changes when unknown facts become known (refinement only
turns unknown values into known ones), which the residual decision relies on.

An environment may assign values to some unknown facts: the same closures then evaluate one
completion of the request, which is how the possible combinations of open conditions are found.
"""
from __future__ import annotations

import threading

from rplang.compiler import ir
from rplang.compiler import types as T
from rplang.compiler.graph import RuleGraph
from rplang.policy_lang.errors import RequestError, RequestProblem, RplError

from .evaluate import Evaluator, remembered, uses_bound
from .request import PATH_KEY, UNKNOWN

FAILURES = (RplError, ArithmeticError)  # what evaluating a value may raise on purpose
_DATED = getattr(ir, "DatedParam", ())  # parameters with dated values (`terms by ...`)


# ---- Three-valued values ------------------------------------------------------------------------

class Unknown:
    """A value that depends on facts not known yet; `facts` holds their JSON paths."""

    __slots__ = ("facts",)

    def __init__(self, facts: frozenset):
        self.facts = facts

    def __repr__(self) -> str:
        return f"Unknown({', '.join(sorted(self.facts))})"


def unknown_in(values) -> Unknown | None:
    """The unknown among `values` (and among the elements of lists among them), merged; or None."""
    facts = None
    for v in values:
        if isinstance(v, Unknown):
            facts = v.facts if facts is None else facts | v.facts
        elif isinstance(v, (list, tuple)):
            for x in v:
                if isinstance(x, Unknown):
                    facts = x.facts if facts is None else facts | x.facts
    return None if facts is None else Unknown(facts)


def facts_of(*values) -> frozenset:
    found = unknown_in(values)
    return found.facts if found is not None else frozenset()


class KleeneEnv:
    """A request with unknown facts, values assigned to some of them, remembered values, bound names."""

    __slots__ = ("request", "assign", "memo", "bound", "as_of")

    def __init__(self, request: dict, assign: dict | None = None, as_of=None):
        self.request, self.assign = request, assign or {}
        self.memo: dict[int, object] = {}
        self.bound: dict[str, object] = {}
        self.as_of = as_of  # a date that overrides the request's terms date, as `Env.as_of`

    def with_bound(self, name: str | None, value) -> "KleeneEnv":
        env = KleeneEnv.__new__(KleeneEnv)
        env.request, env.assign, env.memo, env.as_of = self.request, self.assign, self.memo, self.as_of
        env.bound = {name: value} if name is not None else {}
        return env


NOT_ASSIGNED = object()


def _read(record: dict, name: str, env: KleeneEnv):
    """A field of a converted record: its value, the value assigned to it, or Unknown."""
    value = record[name]
    if value is UNKNOWN:
        fact = f"{record.get(PATH_KEY, '$')}.{name}"
        value = env.assign.get(fact, NOT_ASSIGNED)
        if value is NOT_ASSIGNED:
            return Unknown(frozenset((fact,)))
    return value


# ---- Three-valued evaluation over the rule graph ------------------------------------------------

class _ValueOps(Evaluator):
    """The evaluator's own operations, applied to argument values already computed."""

    def __init__(self, calendar):  # no graph: only `_op`, `_arith` and the calendar are used
        self.calendar = calendar
        self._position = 0

    def apply(self, e: ir.Op):
        self._position = 0
        return self._op(e)  # a function of the tuple of argument values

    def _child(self, expr: ir.Expr):
        position = self._position
        self._position += 1
        return lambda values: values[position]


class _Closures(dict):
    """Node id -> three-valued closure, each built the first time it is asked for."""

    def __init__(self, kleene: "Kleene"):
        super().__init__()
        self.kleene = kleene

    def __missing__(self, node_id: int):
        node = self.kleene.graph.nodes[node_id]
        fn = self.kleene._build(node.expr)
        if node.shared and not uses_bound(node.expr) and not isinstance(node.expr, (ir.Const, ir.Param)):
            fn = remembered(node_id, fn)
        self[node_id] = fn
        return fn



class Kleene:
    """Three-valued closures for the nodes of a rule graph; built once per policy, lazily."""

    def __init__(self, graph: RuleGraph, calendar):
        self.graph = graph
        self.ops = _ValueOps(calendar)
        self.fns = _Closures(self)
        self._lock = threading.Lock()  # `_ValueOps.apply` counts arguments as it builds

    def fn(self, expr: ir.Expr):
        return self.fns[self.graph.ids[expr]]

    def _build(self, e: ir.Expr):
        if isinstance(e, (ir.Const, ir.Param)):
            value = e.value
            return lambda env: value
        if isinstance(e, _DATED):  # a parameter whose value depends on the request's terms date
            terms_date, dated = self.fn(self.graph.policy.terms), e

            def parameter(env):
                day = env.as_of or terms_date(env)
                return day if isinstance(day, Unknown) else dated.value_on(day)[0]
            return parameter
        if isinstance(e, ir.Input):
            if e.present_when is not None:  # a request field given only when a fact is true
                return self._field(self._input(e.path[:-1]), e.path[-1], e.present_when)
            return self._input(e.path)
        if isinstance(e, ir.Value):
            return self.fns[self.graph.values[e.name]]
        if isinstance(e, ir.Var):
            name = e.name
            return lambda env: env.bound[name]
        if isinstance(e, ir.FieldOf):
            return self._field(self.fn(e.base), e.name, e.present_when)
        if isinstance(e, ir.Each):
            return self._each(e)
        return self._op(e)

    @staticmethod
    def _input(path: tuple[str, ...]):
        def read(env):
            value = env.request
            for key in path:
                if isinstance(value, Unknown) or value is None:
                    return value
                value = _read(value, key, env)
            return value
        return read

    @staticmethod
    def _field(base, name: str, present_when: str | None):
        def field(env):
            record = base(env)
            if isinstance(record, Unknown):
                return record
            value = _read(record, name, env)
            if present_when is not None:
                flag = _read(record, present_when, env) if record[present_when] is UNKNOWN else True
                if value is None or flag is False:  # as the evaluator: a fact not given is an error
                    raise RequestError([RequestProblem(
                        f"{record.get(PATH_KEY, '$')}.{name}",
                        f"needed to decide, but given only when `{present_when}` is true")])
            return value
        return field

    def _raw(self, e: ir.Expr):
        """A field's value as stored (None when absent), or Unknown: for `is given`."""
        if isinstance(e, ir.FieldOf):
            base, name = self.fn(e.base), e.name

            def raw(env):
                record = base(env)
                return record if isinstance(record, Unknown) else _read(record, name, env)
            return raw
        return self.fn(e)

    def _each(self, e: ir.Each):
        source = self.fn(e.source)
        where = self.fn(e.where) if e.where is not None else None
        element = self.fn(e.element) if e.element is not None else None
        var, kind = e.var, e.kind

        def run(env):
            xs = source(env)
            if isinstance(xs, Unknown):
                return xs
            bound = env.bound
            saved = bound.get(var, NOT_ASSIGNED)
            facts = None
            try:
                if kind in ("filter", "map"):
                    out = []
                    for x in xs:
                        bound[var] = x
                        c = True if where is None else where(env)
                        if c is True:
                            out.append(x if element is None else element(env))
                        elif c is not False:
                            facts = c.facts if facts is None else facts | c.facts
                    return out if facts is None else Unknown(facts)
                decisive = kind != "every"  # any/no stop at a true condition, every at a false one
                for x in xs:
                    bound[var] = x
                    c = where(env)
                    if c is decisive:
                        return {"any": True, "no": False, "every": False}[kind]
                    if c is not (not decisive):
                        facts = c.facts if facts is None else facts | c.facts
                if facts is not None:
                    return Unknown(facts)
                return {"any": False, "no": True, "every": True}[kind]
            finally:
                if saved is NOT_ASSIGNED:
                    bound.pop(var, None)
                else:
                    bound[var] = saved
        return run

    def _op(self, e: ir.Op):
        op = e.op
        if op in ("given", "not_given"):
            raw, want = self._raw(e.args[0]), op == "given"

            def given(env):
                value = raw(env)
                return value if isinstance(value, Unknown) else (value is not None) is want
            return given
        args = [self.fn(a) for a in e.args]
        if op in ("and", "or"):
            return _logic(args, decisive=op == "or")
        if op == "not":
            (a,) = args

            def negation(env):
                v = a(env)
                return v if isinstance(v, Unknown) else not v
            return negation
        if op == "if":
            return _choice(*args)
        if op == "count":  # a list's length is known even when some of its elements are not
            (a,) = args

            def count(env):
                v = a(env)
                return v if isinstance(v, Unknown) else len(v)
            return count
        if op in ("empty", "not_empty"):
            (a,) = args
            want = op == "empty"

            def emptiness(env):
                v = a(env)
                return v if isinstance(v, Unknown) else (len(v) == 0) is want
            return emptiness
        if op in ("in", "not_in"):
            return _membership(*args, negated=op == "not_in")
        with self._lock:
            apply = self.ops.apply(e)

        def strict(env):
            values = tuple(a(env) for a in args)
            unknown = unknown_in(values)
            return unknown if unknown is not None else apply(values)
        return strict


def _logic(args, decisive: bool):
    """Kleene `and` (decisive False) and `or` (decisive True)."""
    neutral = not decisive

    def logic(env):
        facts = None
        for a in args:
            try:
                v = a(env)
            except FAILURES:
                if facts is None:
                    raise
                continue  # evaluated only because an operand before it is unknown
            if v is decisive:
                return decisive
            if v is not neutral:
                facts = v.facts if facts is None else facts | v.facts
        return neutral if facts is None else Unknown(facts)
    return logic


def _choice(condition, then, otherwise):
    def choice(env):
        c = condition(env)
        if c is True:
            return then(env)
        if c is False:
            return otherwise(env)
        try:
            a, b = then(env), otherwise(env)
        except FAILURES:
            return c
        if unknown_in((a, b)) is None and type(a) is type(b) and a == b:
            return a
        return Unknown(c.facts | facts_of(a, b))
    return choice


def _membership(element, collection, negated: bool):
    def member(env):
        x, xs = element(env), collection(env)
        if isinstance(xs, Unknown):
            return Unknown(xs.facts | facts_of(x))
        if isinstance(x, Unknown):
            return negated if len(xs) == 0 else x
        if isinstance(xs, (set, frozenset, T.DateRange, T.YearlyRange)):
            return (x in xs) is not negated
        if any(x == y for y in xs if not isinstance(y, Unknown)):
            return not negated
        unknown = unknown_in((xs,))
        return unknown if unknown is not None else negated
    return member
