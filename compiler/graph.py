"""The rule graph: a DAG of inputs, parameters, values, conditions, rules and outputs.

Every distinct subexpression is one node, whatever number of places use it, so the runtime
computes it once per decision.
"""
from __future__ import annotations

import attrs

from . import ir
from .checked import CheckedOutput, CheckedPolicy, CheckedRule, Outcome


@attrs.frozen
class Node:
    """One node: kind is input, parameter, value, expression, condition; `uses` are node ids."""
    id: int
    kind: str
    expr: ir.Expr
    uses: tuple[int, ...]
    name: str | None = None
    shared: bool = False  # used by more than one node: worth remembering within a decision


@attrs.frozen
class RuleNode:
    """A rule: its condition node, and for a per-element rule the list it runs over."""
    rule: CheckedRule
    condition: int
    source: int | None
    effect_values: tuple[int | None, ...]


@attrs.frozen
class RuleGraph:
    """The output of lowering: what the runtime evaluates and what `rpl graph` draws."""
    policy: CheckedPolicy
    nodes: tuple[Node, ...]
    ids: dict  # ir.Expr -> node id
    values: dict[str, int]
    rules: tuple[RuleNode, ...]
    outcomes: tuple[Outcome, ...]
    outputs: tuple[CheckedOutput, ...]
    items_source: int | None = None  # the list outcomes are decided for (docs/per-item.md)


def lower(policy: CheckedPolicy) -> RuleGraph:
    """Build the rule graph of a checked policy."""
    builder = _GraphBuilder()
    if policy.terms is not None:  # the date that selects dated parameters
        builder.add(policy.terms)
    if policy.currency_by is not None:  # the currency explanations show money in (`currency by`)
        builder.add(policy.currency_by)
    for name, expr in policy.values.items():
        builder.values[name] = builder.add(expr, kind="value", name=name)
    items_source = builder.add(policy.items.source) if policy.items is not None else None
    rules = []
    for rule in policy.rules:
        source = builder.add(rule.source) if rule.source is not None else None
        condition = builder.add(rule.condition, kind="condition", name=rule.name)
        effect_values = tuple(builder.add(e.value) if e.value is not None else None for e in rule.effects)
        for part in rule.because:
            if not isinstance(part, str):
                builder.add(part)
        rules.append(RuleNode(rule, condition, source, effect_values))
    nodes = builder.finish()
    return RuleGraph(policy, nodes, builder.ids, builder.values, tuple(rules), policy.outcomes,
                     policy.outputs, items_source)


class _GraphBuilder:
    def __init__(self):
        self.ids: dict = {}
        self.kinds: dict[int, tuple[str, str | None]] = {}
        self.uses: dict[int, tuple[int, ...]] = {}
        self.exprs: list[ir.Expr] = []
        self.users: dict[int, int] = {}
        self.values: dict[str, int] = {}

    def add(self, expr: ir.Expr, kind: str | None = None, name: str | None = None) -> int:
        found = self.ids.get(expr)
        if found is not None:
            if kind in ("value", "condition") and self.kinds[found][0] == "expression":
                self.kinds[found] = (kind, name)
            return found
        if isinstance(expr, ir.Value):
            uses = (self.values[expr.name],)
        else:
            uses = tuple(self.add(child) for child in ir.children(expr))
        for u in uses:
            self.users[u] = self.users.get(u, 0) + 1
        node_id = len(self.exprs)
        self.exprs.append(expr)
        self.ids[expr] = node_id
        self.uses[node_id] = uses
        self.kinds[node_id] = (kind or _kind_of(expr), name or _name_of(expr))
        return node_id

    def finish(self) -> tuple[Node, ...]:
        return tuple(Node(i, self.kinds[i][0], e, self.uses[i], self.kinds[i][1],
                          shared=self.users.get(i, 0) > 1)
                     for i, e in enumerate(self.exprs))


def _kind_of(expr: ir.Expr) -> str:
    if isinstance(expr, ir.Input):
        return "input"
    if isinstance(expr, (ir.Param, ir.DatedParam)):
        return "parameter"
    if isinstance(expr, ir.Value):
        return "value"
    return "expression"


def _name_of(expr: ir.Expr) -> str | None:
    if isinstance(expr, ir.Input):
        return ".".join(expr.path)
    if isinstance(expr, (ir.Param, ir.DatedParam, ir.Value)):
        return expr.name
    return None
