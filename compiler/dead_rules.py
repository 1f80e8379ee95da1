"""Rules that never apply, or never matter (RPL120, RPL121): found from the conditions alone.

A false warning is worse than a missing one: a rule is said never to apply only when that follows
from its condition over enum values, yes/no facts and numeric bounds, a contradiction found in
every case of the condition; never to matter only when a rule that overrides it applies whenever
it does.
"""
from __future__ import annotations

import datetime
import hashlib
import itertools
from decimal import Decimal

import attrs

from rplang.policy_lang.errors import Diagnostic
from rplang.policy_lang.span import Span

from . import ir
from . import types as T
from .checked import CheckedPolicy, CheckedRule
from .checker import name_span


def dead_rules(checked: CheckedPolicy) -> list[Diagnostic]:
    """The warnings about rules that never apply or never matter."""
    return _dead_rules(checked, _Logic(checked))


def _warning(code: str, message: str, span: Span | None, hint: str | None) -> Diagnostic:
    return Diagnostic(code, message, span, hint, severity="warning")


# ---- Conditions as formulas ---------------------------------------------------------------------
#
# A condition becomes a formula over atoms, in disjunctive normal form: a list of cases, each a
# set of (atom, holds) literals. A case is possible unless its literals contradict each other:
# a yes/no fact both true and false, an enum value outside every allowed one, numeric bounds
# that leave no number. Atoms the check does not understand are left free, so that a case is only
# ever found impossible for a reason that holds for every request.

_MAX_CASES = 256


class _TooBig(Exception):
    """The condition has too many cases to look at: the check says nothing about it."""


@attrs.frozen
class _Atom:
    """kind: `fact` (an opaque yes/no), `in` (term in values), `cmp` (term op bound), `order` (a op b)."""
    kind: str
    term: object
    values: object = None  # `in`: frozenset of values; `cmp`: (op, bound); `order`: (op, other term)


_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


class _Logic:
    """Turns checked expressions into formulas and tells which cases are possible."""

    def __init__(self, checked: CheckedPolicy):
        self.checked = checked
        self._canon: dict = {}
        self._keys: dict = {}  # id(term) -> (term, order_key)

    # -- canonical terms: derived values written out, types without `optional`
    def canon(self, expr: ir.Expr) -> ir.Expr:
        found = self._canon.get(expr)
        if found is not None:
            return found
        result = self._canon_new(expr)
        self._canon[expr] = result
        return result

    def _canon_new(self, expr: ir.Expr) -> ir.Expr:
        if isinstance(expr, ir.Value) and expr.name in self.checked.values:
            return self.canon(self.checked.values[expr.name])
        strip = _strip(expr.type)
        if isinstance(expr, ir.FieldOf):
            return attrs.evolve(expr, base=self.canon(expr.base), type=strip, span=None)
        if isinstance(expr, ir.Op):
            return attrs.evolve(expr, args=tuple(self.canon(a) for a in expr.args), type=strip, span=None)
        if isinstance(expr, ir.Each):
            return attrs.evolve(expr, source=self.canon(expr.source),
                                where=self.canon(expr.where) if expr.where is not None else None,
                                element=self.canon(expr.element) if expr.element is not None else None,
                                type=strip, span=None)
        return attrs.evolve(expr, type=strip, span=None)

    def order_key(self, term: ir.Expr) -> str:
        """A text that orders terms the same way every run: a field or a name as it reads; any other
        term by a digest of its parts, computed once per shared node (its text written out would
        grow exponentially with values built on values)."""
        if _small(term):
            return repr(term)
        found = self._keys.get(id(term))
        if found is not None and found[0] is term:
            return found[1]
        parts = [type(term).__name__]
        for field in attrs.fields(type(term)):
            value = getattr(term, field.name)
            if field.name == "span":
                continue
            if isinstance(value, tuple):
                parts.append(",".join(self.order_key(v) if _is_expr(v) else repr(v) for v in value))
            else:
                parts.append(self.order_key(value) if _is_expr(value) else repr(value))
        key = "~" + hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
        self._keys[id(term)] = (term, key)
        return key

    def optional(self, term: ir.Expr) -> bool:
        """Whether a term may have no value: declared optional, or not a field the check can look up."""
        if isinstance(term, ir.Input):
            specs, spec = self.checked.request, None
            for name in term.path:
                spec = specs.get(name) if specs is not None else None
                if spec is None:
                    return True
                record = T.record_name(spec.type) if not isinstance(spec.type, T.ListType) else None
                specs = self.checked.records.get(record) if record else None
            return isinstance(spec.type, T.OptionalType)
        if isinstance(term, ir.FieldOf):
            record = T.record_name(term.base.type)
            spec = self.checked.records.get(record, {}).get(term.name) if record else None
            return spec is None or isinstance(spec.type, T.OptionalType)
        return True

    # -- formulas: ("const", bool) | ("atom", _Atom) | ("not", f) | ("and", fs) | ("or", fs)
    def formula(self, expr: ir.Expr):
        """The formula of a canonical boolean expression."""
        if isinstance(expr, ir.Const) and isinstance(expr.value, bool):
            return ("const", expr.value)
        if isinstance(expr, ir.Op):
            op, args = expr.op, expr.args
            if op in ("and", "or"):
                return (op, tuple(self.formula(a) for a in args))
            if op == "not":
                return ("not", self.formula(args[0]))
            if op == "if" and expr.type is T.BOOLEAN:
                c = self.formula(args[0])
                return ("or", (("and", (c, self.formula(args[1]))),
                               ("and", (("not", c), self.formula(args[2])))))
            if op in ("given", "not_given", "empty", "not_empty"):
                positive = {"not_given": "given", "not_empty": "empty"}.get(op, op)
                atom = ("atom", _Atom("fact", ir.Op(positive, args, T.BOOLEAN)))
                return atom if op == positive else ("not", atom)
            if op in ("in", "not_in"):
                element, collection = args
                if isinstance(collection, ir.Const) and isinstance(collection.value, frozenset):
                    atom = ("atom", _Atom("in", element, collection.value))
                else:
                    atom = ("atom", _Atom("fact", ir.Op("in", args, T.BOOLEAN)))
                return atom if op == "in" else ("not", atom)
            if op in ("==", "!="):
                return self._equality(expr)
            if op in _FLIP:
                return self._ordering(expr)
        if isinstance(expr, ir.Each) and expr.kind == "no":
            return ("not", ("atom", _Atom("fact", attrs.evolve(expr, kind="any"))))
        return ("atom", _Atom("fact", expr))

    def _equality(self, expr: ir.Op):
        a, b = expr.args
        a_const, b_const = _constant(a), _constant(b)
        if a_const is not _NOT and b_const is not _NOT:
            return ("const", (a_const == b_const) == (expr.op == "=="))
        if a_const is not _NOT:
            a, b, b_const = b, a, a_const
        if b_const is not _NOT:
            if isinstance(b_const, bool) and not self.optional(a):
                atom = ("atom", _Atom("fact", a))
                return atom if b_const == (expr.op == "==") else ("not", atom)
            atom = ("atom", _Atom("in", a, frozenset([b_const])))
        else:
            first, second = sorted((a, b), key=self.order_key)
            atom = ("atom", _Atom("order", first, ("==", second)))
        return atom if expr.op == "==" else ("not", atom)

    def _ordering(self, expr: ir.Op):
        a, b = expr.args
        op = expr.op
        a_const, b_const = _constant(a), _constant(b)
        if a_const is not _NOT and b_const is not _NOT:
            try:
                return ("const", bool({"<": a_const < b_const, "<=": a_const <= b_const,
                                       ">": a_const > b_const, ">=": a_const >= b_const}[op]))
            except TypeError:
                return ("atom", _Atom("fact", expr))
        if a_const is not _NOT:
            a, b, b_const, op = b, a, a_const, _FLIP[op]
        if b_const is not _NOT:
            bound = _ordinal(b_const)
            if bound is None:
                return ("atom", _Atom("fact", expr))
            return ("atom", _Atom("cmp", a, (op, bound)))
        # two terms: one atom `first < second`, one `first == second`; the rest follows
        first, second = sorted((a, b), key=self.order_key)
        if (a, b) != (first, second):
            op = _FLIP[op]
        less = ("atom", _Atom("order", first, ("<", second)))
        same = ("atom", _Atom("order", first, ("==", second)))
        return {"<": less, "<=": ("or", (less, same)),
                ">": ("and", (("not", less), ("not", same))), ">=": ("not", less)}[op]

    # -- cases
    def cases(self, formula, positive: bool = True) -> list[frozenset]:
        """The formula (or its negation) as a list of possible cases, each a set of literals."""
        kind = formula[0]
        if kind == "const":
            return [frozenset()] if formula[1] == positive else []
        if kind == "atom":
            return [frozenset([(formula[1], positive)])]
        if kind == "not":
            return self.cases(formula[1], not positive)
        parts = formula[1]
        if (kind == "and") == positive:  # a conjunction: every part holds
            result = [frozenset()]
            for part in parts:
                part_cases = self.cases(part, positive)
                result = [a | b for a, b in itertools.product(result, part_cases)]
                result = [c for c in result if self.possible(c)]
                if len(result) > _MAX_CASES:
                    raise _TooBig()
            return result
        result = []
        for part in parts:
            result += self.cases(part, positive)
            if len(result) > _MAX_CASES:
                raise _TooBig()
        return [c for c in result if self.possible(c)]

    def possible(self, case: frozenset) -> bool:
        """Whether some values satisfy every literal of a case."""
        facts: dict = {}
        terms: dict = {}
        orders: dict = {}
        for atom, holds in case:
            if atom.kind == "fact":
                if facts.setdefault(atom.term, holds) != holds:
                    return False
            elif atom.kind == "order":
                op, other = atom.values
                orders.setdefault((atom.term, other), []).append((op, holds))
            else:
                terms.setdefault(atom.term, []).append((atom, holds))
        for literals in orders.values():
            if not _order_possible(literals):
                return False
        return all(self._term_possible(term, literals) for term, literals in terms.items())

    def _term_possible(self, term: ir.Expr, literals) -> bool:
        domain = None
        if isinstance(term.type, T.EnumType):
            domain = set(term.type.members) | ({None} if self.optional(term) else set())
        elif term.type is T.BOOLEAN:
            domain = {True, False} | ({None} if self.optional(term) else set())
        excluded, lower, upper = set(), None, None
        for atom, holds in literals:
            if atom.kind == "in":
                values = {_ordinal(v) if _ordinal(v) is not None else v for v in atom.values}
                if holds:
                    domain = values if domain is None else domain & values
                else:
                    excluded |= values
            else:
                op, bound = atom.values
                if not holds:
                    op = _NEGATE[op]
                if op in (">", ">="):
                    candidate = (bound, op == ">")
                    if lower is None or candidate[0] > lower[0] or (candidate[0] == lower[0] and candidate[1]):
                        lower = candidate
                else:
                    candidate = (bound, op == "<")
                    if upper is None or candidate[0] < upper[0] or (candidate[0] == upper[0] and candidate[1]):
                        upper = candidate
        if domain is not None:
            return any(v not in excluded and _within(v, lower, upper) for v in domain)
        if lower is not None and upper is not None:
            if lower[0] > upper[0]:
                return False
            if lower[0] == upper[0]:
                return not (lower[1] or upper[1]) and lower[0] not in excluded
        return True


_NOT = object()
_EXPRESSIONS = (ir.Const, ir.Param, ir.DatedParam, ir.Input, ir.Value, ir.Var, ir.FieldOf, ir.Op, ir.Each)


def _is_expr(value) -> bool:
    return isinstance(value, _EXPRESSIONS)


def _small(term) -> bool:
    """A term whose text is short: a field of the request, a name, a literal."""
    while isinstance(term, ir.FieldOf):
        term = term.base
    return isinstance(term, (ir.Input, ir.Var, ir.Value, ir.Const, ir.Param))


def _constant(expr: ir.Expr):
    if isinstance(expr, (ir.Const, ir.Param)) and expr.value is not None:
        return expr.value
    return _NOT


def _ordinal(value):
    """A number or a date as something ordered; None for what has no order."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, datetime.date):
        return Decimal(value.toordinal())
    return None


def _within(value, lower, upper) -> bool:
    if lower is None and upper is None:
        return True
    if not isinstance(value, Decimal):
        return False
    if lower is not None and (value < lower[0] or (value == lower[0] and lower[1])):
        return False
    if upper is not None and (value > upper[0] or (value == upper[0] and upper[1])):
        return False
    return True


def _order_possible(literals) -> bool:
    """Two values: exactly one of less, same, greater holds (whenever they are compared)."""
    options = {"<", "==", ">"}
    for op, holds in literals:
        options &= {op} if holds else (options - {op})
    return bool(options)


def _strip(t: T.Type) -> T.Type:
    return t.inner if isinstance(t, T.OptionalType) else t


def _rename(expr: ir.Expr, old: str, new: str) -> ir.Expr:
    """The expression with the element `old` called `new` (where `old` is not bound again)."""
    if isinstance(expr, ir.Var):
        return attrs.evolve(expr, name=new) if expr.name == old else expr
    if isinstance(expr, ir.FieldOf):
        return attrs.evolve(expr, base=_rename(expr.base, old, new))
    if isinstance(expr, ir.Op):
        return attrs.evolve(expr, args=tuple(_rename(a, old, new) for a in expr.args))
    if isinstance(expr, ir.Each):
        inner = expr.var != old
        return attrs.evolve(
            expr, source=_rename(expr.source, old, new),
            where=_rename(expr.where, old, new) if inner and expr.where is not None else expr.where,
            element=_rename(expr.element, old, new) if inner and expr.element is not None else expr.element)
    return expr


# ---- Rules that never apply, or never matter --------------------------------------------------

@attrs.frozen
class _Scope:
    """What a rule looks at: its condition, and what is known of its element, as one formula."""
    var: str | None
    sources: tuple  # the canonical lists its element is known to be in, innermost first
    condition: object  # formula: the rule's condition
    known: object  # formula: what is true of the element (`item.returned` in `returned_items`)


def _scope(logic: _Logic, rule: CheckedRule, var: str | None = None) -> _Scope:
    """The rule with its element called `var` (its own name by default)."""
    condition = logic.canon(rule.condition)
    if rule.var is None:
        return _Scope(None, (), logic.formula(condition), ("const", True))
    var = var or rule.var
    if var != rule.var:
        condition = _rename(condition, rule.var, var)
    sources, known = [], []
    source = logic.canon(rule.source)
    while True:
        sources.append(source)
        if isinstance(source, ir.Each) and source.kind == "filter":
            if source.where is not None:
                where = source.where if source.var == var else _rename(source.where, source.var, var)
                known.append(logic.formula(where))
            source = source.source
            continue
        break
    return _Scope(var, tuple(sources), logic.formula(condition), ("and", tuple(known)))


def _dead_rules(checked: CheckedPolicy, logic: _Logic) -> list[Diagnostic]:
    found = []
    scopes = {}
    for rule in checked.rules:
        try:
            scope = _scope(logic, rule)
            scopes[rule.name] = scope
            if not logic.cases(("and", (scope.condition, scope.known))):
                found.append(_warning("RPL120", f"the rule `{rule.name}` can never apply",
                                      rule.condition.span or name_span(rule.span, rule.name),
                                      "its condition contradicts itself: no request meets it"))
                scopes.pop(rule.name)
        except (_TooBig, RecursionError):
            continue
    found += _covered_rules(checked, logic, scopes)
    return found


def _covered_rules(checked: CheckedPolicy, logic: _Logic, scopes: dict) -> list[Diagnostic]:
    """A rule whose every application comes with a refusal that overrides it."""
    outcomes = {o.name: o for o in checked.outcomes}
    overridden = {name for r in checked.rules for name in r.overrides}
    refusals = [a for a in checked.rules if a.name in scopes and a.name not in overridden
                and a.outcome in outcomes and outcomes[a.outcome].overrides_all]
    if not refusals:
        return []
    looked_at = {r.name: _terms(scopes[r.name]) for r in checked.rules if r.name in scopes}
    renamed: dict = {}  # a refusal's scope with the element of the rule it is compared with, by its name
    found = []
    for b in checked.rules:
        if b.name not in scopes:
            continue
        for a in refusals:
            if a is b or a.name in b.overrides or b.outcome == a.outcome:
                continue
            mine, strong = outcomes.get(b.outcome), outcomes[a.outcome]
            if mine is not None and mine.overrides_all and mine.rank < strong.rank:
                continue
            # what a refusal looks at must be constrained by the rule for one to follow from the other
            if not looked_at[a.name] <= looked_at[b.name] | {_ELEMENT}:
                continue
            if _always_with(logic, b, a, scopes[b.name], renamed):
                found.append(_warning(
                    "RPL121", f"the rule `{b.name}` never matters: whenever it applies, `{a.name}` gives "
                    f"`{a.outcome}`, which overrides it", name_span(b.span, b.name),
                    f"its condition is covered by the one of `{a.name}`; remove the rule, or narrow `{a.name}`"))
                break
    return found


_ELEMENT = ir.Var("__element", T.BOOLEAN)


def _terms(scope: _Scope) -> frozenset:
    """The terms a rule's condition and its element's facts are about, its element renamed `_ELEMENT`."""
    found = set()

    def walk(formula):
        kind = formula[0]
        if kind == "atom":
            atom = formula[1]
            found.add(_rename(atom.term, scope.var, _ELEMENT.name) if scope.var else atom.term)
            if atom.kind == "order":
                other = atom.values[1]
                found.add(_rename(other, scope.var, _ELEMENT.name) if scope.var else other)
        elif kind == "not":
            walk(formula[1])
        elif kind in ("and", "or"):
            for part in formula[1]:
                walk(part)

    walk(scope.condition)
    walk(scope.known)
    return frozenset(found)


def _always_with(logic: _Logic, b: CheckedRule, a: CheckedRule, sb: _Scope, renamed: dict) -> bool:
    """Whether `a` applies whenever `b` does (for the same element, if both go through a list).
    `renamed` keeps `a`'s scopes by the name of the element, for the next `b`."""
    try:
        if a.var is not None and b.var is None:
            return False
        key = (a.name, sb.var if a.var is not None else None)
        sa = renamed.get(key)
        if sa is None:
            sa = renamed[key] = _scope(logic, a, key[1])
        if a.var is not None and sa.sources[0] not in sb.sources:
            return False  # b's element is not known to be one that a looks at
        return not logic.cases(("and", (sb.condition, sb.known, ("not", sa.condition))))
    except (_TooBig, RecursionError):
        return False
