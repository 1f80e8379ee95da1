"""Generated rule code, indexed: rules that each test one field against a constant (`sku is
"X"`), or against bounds (`price >= 100.00 and price < 200.00`), are found by one lookup of the
field's value (a dict, or bisection over the bounds) instead of testing every rule in turn."""
from __future__ import annotations

import datetime
from decimal import Decimal

from rplang.compiler import ir
from rplang.compiler import types as T
from rplang.compiler.graph import RuleGraph

from .ranges import pieces_covered

# Rules that test the same field against different constants are looked up in a table by that
# field's value instead of tried one by one, once they test this many different values.
INDEX_AT = 8

def conjuncts(rule) -> tuple:
    condition = rule.condition
    return condition.args if isinstance(condition, ir.Op) and condition.op == "and" else (condition,)


def _tested_field(graph: RuleGraph, rule, field: ir.Expr, missing_ok: bool) -> tuple | None:
    """What a rule's test of `field` is keyed on, when an index can read the field before the rule
    runs: a field of the rule's element, or of the request, on a path where nothing may be
    missing (the field itself may, with `missing_ok`: a table has no value None)."""
    if rule.var is not None and isinstance(field, ir.FieldOf) and field.present_when is None \
            and isinstance(field.base, ir.Var) and field.base.name == rule.var \
            and isinstance(rule.source.type, T.ListType) and isinstance(rule.source.type.element, T.RecordType) \
            and (missing_ok or not _may_be_missing(graph, field)):
        return ("element", rule.source, field.name)
    if isinstance(field, ir.Input) and field.present_when is None \
            and not _may_be_missing(graph, field.path[:-1] if missing_ok else field.path):
        return ("request", rule.source, field.path)
    return None


def _may_be_missing(graph: RuleGraph, field: ir.Expr | tuple) -> bool:
    """Whether a field (or any field on a path of the request) is declared optional, however a
    condition narrowed its type by `is given`."""
    if isinstance(field, ir.FieldOf):
        spec = graph.policy.records[field.base.type.name].get(field.name)
        return spec is None or isinstance(spec.type, T.OptionalType)
    fields = graph.policy.request
    for name in field:
        spec = fields.get(name)
        if spec is None or isinstance(spec.type, T.OptionalType):
            return True
        fields = graph.policy.records.get(getattr(spec.type, "name", None), {})
    return False


def _field_and_constant(operand: ir.Expr) -> tuple[ir.Expr, object, bool] | None:
    """(field, constant, whether the field is on the left) of a comparison with a constant."""
    field, constant = operand.args
    on_left = not isinstance(field, (ir.Const, ir.Param))
    if not on_left:
        field, constant = constant, field
    if not isinstance(constant, (ir.Const, ir.Param)):
        return None
    return field, constant.value, on_left


def _key_test(graph: RuleGraph, rule) -> tuple[tuple, ir.Expr, object] | None:
    """(what the rule tests, the comparison, the constant) when one `and` operand of its condition
    compares a field with a constant: `item.sku is "SKU-17"`, `order.seller is acme`."""
    for operand in conjuncts(rule):
        if not (isinstance(operand, ir.Op) and operand.op == "=="):
            continue
        found = _field_and_constant(operand)
        if found is None or not isinstance(found[1], (str, int)):
            continue
        key = _tested_field(graph, rule, found[0], missing_ok=True)
        if key is not None:
            return key, operand, found[1]
    return None


_LOWER = {(">=", True): True, (">", True): False, ("<=", False): True, ("<", False): False}
_UPPER = {("<=", True): True, ("<", True): False, (">=", False): True, (">", False): False}


def _range_test(graph: RuleGraph, rule) -> tuple[tuple, tuple] | None:
    """(what the rule tests, its interval) when `and` operands of its condition bound a number or
    a date from below or above: `item.price >= 120.00 and item.price < 120.50`.

    The interval holds every value for which the condition can hold (the rule's code still tests
    its whole condition), so the first bound of each side is enough."""
    bounds: dict = {}  # field -> [low, low included, high, high included]
    for operand in conjuncts(rule):
        if not (isinstance(operand, ir.Op) and operand.op in ("<", "<=", ">", ">=")):
            continue
        found = _field_and_constant(operand)
        if found is None:
            continue
        field, value, on_left = found
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, datetime.date)):
            continue
        key = _tested_field(graph, rule, field, missing_ok=False)
        if key is None:
            continue
        interval = bounds.setdefault(key, [None, False, None, False])
        if (operand.op, on_left) in _LOWER and interval[0] is None:
            interval[0:2] = value, _LOWER[operand.op, on_left]
        elif (operand.op, on_left) in _UPPER and interval[2] is None:
            interval[2:4] = value, _UPPER[operand.op, on_left]
    for key, interval in bounds.items():
        return key, tuple(interval)
    return None


# An index of ranges is worth it while each rule covers a few pieces of it, on average.
RANGE_PIECES_PER_RULE = 8


def indexable_groups(graph: RuleGraph) -> dict:
    """(kind, source, field, "value" or "range") -> the rules found by it: (rule index, the
    comparison the lookup makes for the rule or None, the value or the interval)."""
    by_value: dict = {}
    for index, rule_node in enumerate(graph.rules):
        found = _key_test(graph, rule_node.rule)
        if found is not None:
            key, test, value = found
            by_value.setdefault(key + ("value",), []).append((index, test, value))
    groups = {key: members for key, members in by_value.items()
              if len({value for _, _, value in members}) >= INDEX_AT}
    indexed = {index for members in groups.values() for index, _, _ in members}
    by_range: dict = {}
    for index, rule_node in enumerate(graph.rules):
        found = None if index in indexed else _range_test(graph, rule_node.rule)
        if found is not None:
            key, interval = found
            by_range.setdefault(key + ("range",), []).append((index, None, interval))
    for key, members in by_range.items():
        intervals = [interval for _, _, interval in members]
        if len(set(intervals)) >= INDEX_AT and \
                pieces_covered(intervals) <= RANGE_PIECES_PER_RULE * len(intervals):
            groups[key] = members
    return groups
