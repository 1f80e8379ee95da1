"""Outcomes decided item by item (docs/per-item.md) as solver terms, as the reference interpreter
(`rplang.runtime.reference._decide_items`) combines the rules that apply to one request.

Each element of the list the outcomes are decided for gets its outcome from its own per-item rules
and every request-wide rule; an outcome that `overrides all other rules` cancels, for that item,
the rules giving it something else. A rule counts for the request's totals when some item keeps
it; with no items at all, the request-wide rules decide as in a policy decided per request.
"""
from __future__ import annotations

import attrs
import z3

from .domain import Unsupported


@attrs.frozen
class ItemTerms:
    """One slot of the list: whether it holds an item, its outcome (rank), its totals."""
    present: object
    outcome: object
    totals: dict


@attrs.frozen
class ItemsDecision:
    """The request's outcome (its position among the property's outcome names), the rules that
    count as (rule, element, counts, effect values), each item's terms by the element's path, and
    for each item outcome whether the decision shows it (an item gets it, or no items and the
    request does)."""
    outcome: object
    counted: list
    items: dict
    reached: dict


def outcome_names(policy) -> list[str]:
    """The names the `outcome` output's term counts: the outcomes (the items', where outcomes are
    decided item by item), then the request's own (`request outcome:`)."""
    names = [o.name for o in policy.outcomes]
    lines = policy.items.request_outcomes if policy.items is not None else ()
    return names + [line.name for line in lines if line.name not in names]


def by_rank(policy, left: list):
    """The strongest outcome the entries (rule, element, applies, values) give, as a rank term,
    and each entry kept by it (one that overrides all other rules keeps only its own)."""
    outcome = z3.IntVal(len(policy.outcomes) - 1)
    for o in reversed(policy.outcomes):
        given = [d for rule, _, d, _ in left if rule.outcome == o.name]
        if given:
            outcome = z3.If(z3.Or(*given), o.rank, outcome)
    kept = []
    for rule, element, d, values in left:
        for o in policy.outcomes:
            if o.overrides_all:
                d = z3.And(d, z3.Implies(outcome == o.rank, z3.BoolVal(rule.outcome == o.name)))
        kept.append((rule, element, d, values))
    return outcome, kept


def decide_items(compiler, left: list) -> ItemsDecision:
    """The per-item decision over the entries that are left once `overrides` are applied."""
    policy = compiler.policy
    source = compiler.expr(policy.items.source, {}, z3.BoolVal(True))
    slots = list(getattr(source, "slots", None) or ())  # a list's slots (a set has none: refused below)
    if not hasattr(source, "slots") or any(not hasattr(element, "path") for _, element in slots):
        raise Unsupported("outcomes decided for each element of a list of plain values")
    nonempty = z3.Or(*[p for p, _ in slots]) if slots else z3.BoolVal(False)
    totals = [o.name for o in policy.outputs if o.kind == "total"]
    wide = [entry for entry in left if not entry[0].per_item]
    counts = {id(entry): [] for entry in left}  # the items (by condition) that keep each entry
    items = {}
    for present, element in slots:
        own = [entry for entry in left if entry[0].per_item and getattr(entry[1], "path", None) == element.path]
        outcome, kept = by_rank(policy, own + wide)
        item_totals = dict.fromkeys(totals, z3.RealVal(0))
        for (rule, _, d, values), entry in zip(kept, own + wide):
            counts[id(entry)].append(z3.And(present, d))
            if not rule.per_item:
                continue
            for effect, value in zip(rule.effects, values):
                if effect.kind == "add" and effect.output in item_totals:
                    item_totals[effect.output] += z3.If(d, value if effect.sign > 0 else -value, 0)
        items[element.path] = ItemTerms(present, outcome, item_totals)

    names = outcome_names(policy)
    strongest = z3.IntVal(len(policy.outcomes) - 1)  # among the items' outcomes
    for item in items.values():
        strongest = z3.If(z3.And(item.present, item.outcome < strongest), item.outcome, strongest)
    chosen = strongest
    for line in reversed(policy.items.request_outcomes):
        tests = [_test(quantifier, wanted, items.values(), policy) for quantifier, wanted in line.tests]
        chosen = z3.If(z3.And(*tests), names.index(line.name), chosen)

    alone, kept_alone = by_rank(policy, left)  # no items: the request-wide rules decide
    counted = [(rule, element, z3.If(nonempty, z3.Or(*counts[id(entry)]) if counts[id(entry)] else z3.BoolVal(False), d), values)
               for entry, (rule, element, d, values) in zip(left, kept_alone)]
    reached = {o.name: z3.Or(z3.And(z3.Not(nonempty), alone == o.rank),
                             *[z3.And(item.present, item.outcome == o.rank) for item in items.values()])
               for o in policy.outcomes}
    return ItemsDecision(z3.If(nonempty, chosen, alone), counted, items, reached)


def _test(quantifier: str, wanted: frozenset, items, policy):
    """`any|every|no item is a or b`; `every` needs at least one item."""
    ranks = [o.rank for o in policy.outcomes if o.name in wanted]
    one_of = [z3.And(item.present, z3.Or(*[item.outcome == r for r in ranks])) for item in items]
    found = z3.Or(*one_of) if one_of else z3.BoolVal(False)
    if quantifier == "any":
        return found
    if quantifier == "no":
        return z3.Not(found)
    present = [item.present for item in items]
    return z3.And(z3.Or(*present) if present else z3.BoolVal(False),
                  *[z3.Implies(item.present, z3.Or(*[item.outcome == r for r in ranks])) for item in items])
