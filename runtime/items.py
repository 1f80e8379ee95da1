"""Outcomes decided item by item (docs/per-item.md): how the rules that apply combine per item.

The rules are found as in any policy (the generated rule code); only how they combine differs.
A per-item rule's effects belong to the element it applies to; a request-wide rule's outcome goes
to every item. An item's outcome that `overrides all other rules` cancels, for that item, the
rules that give it something else; a request-wide rule counts when at least one item keeps it.
"""
from __future__ import annotations

import attrs

from .arithmetic import ZERO_CENTS, add, subtract
from .request import PATH_KEY


@attrs.frozen
class ItemDecision:
    """One item's decision: its outcome, what its own rules add to each total, and the rules
    that decided it (found entries: rule index, element, effect values), in file order."""
    element: dict
    outcome: str
    totals: dict
    rules: tuple


def holds(test: tuple[str, frozenset], outcomes: list[str]) -> bool:
    """`any|every|no item is a or b` over the items' outcomes; `every` needs at least one item."""
    quantifier, names = test
    if quantifier == "any":
        return any(o in names for o in outcomes)
    if quantifier == "every":
        return bool(outcomes) and all(o in names for o in outcomes)
    return not any(o in names for o in outcomes)


def request_outcome(items_decl, item_outcomes: list[str], rank: dict[str, int]) -> str:
    """The first `request outcome:` line that holds, else the strongest outcome of the items."""
    for line in items_decl.request_outcomes:
        if all(holds(test, item_outcomes) for test in line.tests):
            return line.name
    return min(item_outcomes, key=rank.__getitem__)


class ItemCombiner:
    """Combines the rules found for one request item by item, for a CompiledPolicy."""

    def __init__(self, policy):
        graph = policy.graph
        self.policy = policy
        self.items_decl = graph.policy.items
        self.source = graph.items_source
        self.per_item = [r.rule.per_item for r in graph.rules]
        self.gives_outcome = [r.rule.outcome is not None for r in graph.rules]
        self.totals = tuple(name for name, _, _ in policy.total_outputs)

    def elements(self, env) -> list:
        """The items, in list order (the closure of the list's node in the rule graph)."""
        return self.policy.evaluator.fns[self.source](env)

    def combine(self, found: list, elements: list) -> tuple[str, list, list, list[ItemDecision]]:
        """The request's outcome, the rules that count (in file order), the (rule, overridden by)
        pairs, and each item's decision."""
        policy = self.policy
        if not elements:  # the request-wide rules alone decide, as in a policy decided per request
            outcome, applied, overridden = policy._combine(found)
            return outcome, applied, overridden, []
        overridden: list = []
        if policy._has_exceptions:
            found, overridden = policy._apply_exceptions(found)
        rank, names, default = policy._rule_rank, policy._outcome_names, policy._default_rank
        own: dict[int, list] = {id(e): [] for e in elements}
        wide = []
        for f in found:
            if self.per_item[f[0]]:
                own[id(f[1])].append(f)
            else:
                wide.append(f)
        wide_best = min((rank[f[0]] for f in wide), default=default)
        counted: set[int] = set()  # ids of the found entries that count for the request
        cancelled_by: dict[int, str] = {}
        items = []
        for element in elements:
            mine = own[id(element)]
            best = min((rank[f[0]] for f in mine), default=wide_best)
            best = min(best, wide_best, default)
            outcome = names[best]
            if outcome in policy.overriding_outcomes:
                kept = [f for f in mine if rank[f[0]] == best]
                kept_wide = [f for f in wide if rank[f[0]] == best]
                for f in mine:
                    if rank[f[0]] != best:
                        cancelled_by[id(f)] = f"outcome {outcome}"
                for f in wide:
                    if rank[f[0]] != best:
                        cancelled_by.setdefault(id(f), f"outcome {outcome}")
            else:
                kept, kept_wide = mine, wide
            counted.update(id(f) for f in kept)
            counted.update(id(f) for f in kept_wide)
            items.append(ItemDecision(element, outcome, self._totals(kept),
                                      tuple(sorted(kept + [f for f in kept_wide if self.gives_outcome[f[0]]],
                                                   key=lambda f: f[0]))))
        applied = [f for f in found if id(f) in counted]
        overridden += [(f, cancelled_by[id(f)]) for f in found if id(f) not in counted]
        outcome = request_outcome(self.items_decl, [i.outcome for i in items], policy.outcome_rank)
        return outcome, applied, overridden, items

    def _totals(self, kept: list) -> dict:
        totals = dict.fromkeys(self.totals, ZERO_CENTS)
        plans = self.policy._effect_plans
        for index, _, amounts in kept:
            for position, adds, output, sign in plans[index]:
                if adds:
                    totals[output] = (add if sign > 0 else subtract)(totals[output], amounts[position])
        return totals


class ItemOutcomesSeen:
    """For a residual decision (runtime/residual.py): the outcomes each item gets across the
    scenarios that can happen, in the order first seen."""

    def __init__(self, elements: list):
        self.elements = elements
        self.outcomes: list[list[str]] = [[] for _ in elements]

    def add(self, items: list[ItemDecision]) -> None:
        for seen, item in zip(self.outcomes, items):
            if item.outcome not in seen:
                seen.append(item.outcome)

    def every_outcome(self, names: list[str]) -> None:
        """Too many scenarios to look at each: every item may get any outcome."""
        self.outcomes = [list(names) for _ in self.elements]

    def to_json(self, name_of, rank: dict[str, int]) -> list[dict]:
        return [{"element": element.get(PATH_KEY), "name": name_of(element),
                 "outcome": seen[0] if len(seen) == 1 else None,
                 "possible_outcomes": sorted(seen, key=rank.__getitem__)}
                for element, seen in zip(self.elements, self.outcomes)]
