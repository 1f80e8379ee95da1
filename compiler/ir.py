"""Checked expressions: every name resolved, every node typed.

Nodes are frozen and compare by structure (spans aside), so the same subexpression written twice
is one value: the rule graph keys its nodes on them to compute each once. A node keeps its hash:
values built on values share their nodes, and hashing them again at each use would take time
exponential in the number of `let`s.
"""
from __future__ import annotations

import attrs

from rplang.policy_lang.span import Span

from .types import Type


def _span():
    return attrs.field(eq=False, repr=False, default=None)


@attrs.frozen(cache_hash=True)
class Const:
    """A literal value."""
    value: object
    type: Type
    span: Span | None = _span()


@attrs.frozen(cache_hash=True)
class Param:
    """A named parameter of the policy; its value is fixed when the policy is compiled."""
    name: str
    value: object
    type: Type
    span: Span | None = _span()


@attrs.frozen(cache_hash=True)
class DatedParam:
    """A parameter whose value depends on the request's terms date (`terms by ...`).

    `periods` are (first day or None, last day or None, value, label), in date order; `value` is
    the value on the dates no period covers, or None when the periods cover every date.
    """
    name: str
    value: object
    periods: tuple[tuple, ...]
    type: Type
    span: Span | None = _span()

    def value_on(self, day):
        """The value in force on `day`, and the period it comes from (None: the other dates)."""
        for period in self.periods:
            start, end, value, _ = period
            if (start is None or start <= day) and (end is None or day <= end):
                return value, period
        return self.value, None


@attrs.frozen(cache_hash=True)
class Input:
    """A field of the request, by its path from the top (`order.delivery_date`); `present_when`
    names the fact of its record that says it was given (`when returned`)."""
    path: tuple[str, ...]
    type: Type
    present_when: str | None = None
    span: Span | None = _span()


@attrs.frozen(cache_hash=True)
class Value:
    """A derived value declared with `let`."""
    name: str
    type: Type
    span: Span | None = _span()


@attrs.frozen(cache_hash=True)
class Var:
    """The element a rule or a list expression is looking at (`item`)."""
    name: str
    type: Type
    span: Span | None = _span()


@attrs.frozen(cache_hash=True)
class FieldOf:
    """A field of a record value; `present_when` names the fact that says it was given."""
    base: "Expr"
    name: str
    type: Type
    present_when: str | None = None
    span: Span | None = _span()


@attrs.frozen(cache_hash=True)
class Op:
    """An operation on values: arithmetic, comparison, logic, tests, rounding, dates."""
    op: str
    args: tuple["Expr", ...]
    type: Type
    span: Span | None = _span()


@attrs.frozen(cache_hash=True)
class Each:
    """A list expression over `source` binding `var`: a filter, a mapping, or a quantifier.

    kind is `filter`, `map`, `any`, `every` or `no`.
    """
    kind: str
    var: str
    source: "Expr"
    where: "Expr | None"
    element: "Expr | None"
    type: Type
    span: Span | None = _span()


@attrs.frozen
class Output:
    """An output of the decision (`refund`, `outcome`), as a property reads it; never in a rule."""
    name: str
    type: Type
    span: Span | None = _span()


class TableIndex(dict):
    """One column of a table, indexed by its keys (a tuple of them for several), built once when
    the policy is checked: a lookup is one dict access, never a scan. A key no row names gives
    the `otherwise` value; a table without one covers every key (the checker proves it).

    Compared and hashed by identity: it is a constant of the rule graph (`Const`), whose nodes
    are keyed on their values.
    """

    __slots__ = ("table", "column", "otherwise", "has_otherwise")

    def __init__(self, table: str, column: str | None, rows=(), otherwise=None, has_otherwise=False):
        super().__init__(rows)
        self.table, self.column = table, column
        self.otherwise, self.has_otherwise = otherwise, has_otherwise

    def __missing__(self, key):
        if self.has_otherwise:
            return self.otherwise
        raise KeyError(key)

    __hash__ = object.__hash__

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __reduce__(self):
        return (TableIndex, (self.table, self.column, dict(self), self.otherwise, self.has_otherwise))

    def __repr__(self):
        return f"<table {self.table}{'.' + self.column if self.column else ''}: {len(self)} rows>"


Expr = Const | Param | DatedParam | Input | Value | Var | FieldOf | Op | Each | Output


def children(node: Expr) -> tuple[Expr, ...]:
    """The direct subexpressions of a node."""
    if isinstance(node, FieldOf):
        return (node.base,)
    if isinstance(node, Op):
        return node.args
    if isinstance(node, Each):
        return tuple(n for n in (node.source, node.where, node.element) if n is not None)
    return ()


def value_refs(expr: Expr) -> set[str]:
    """The names of the derived values an expression uses directly."""
    found, stack = set(), [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Value):
            found.add(node.name)
        stack.extend(children(node))
    return found
