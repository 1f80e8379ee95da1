"""Residual decisions: decide what the known facts decide, and say what the unknown ones will.

A policy declares facts known only from a later stage (`condition: Condition when returned at
inspection`). A request read for a residual decision may leave them out; they are then UNKNOWN,
never defaulted (runtime/request.py). Deciding such a request works on the compiled rule graph
itself, in four steps:

1. Three-valued evaluation (runtime/kleene.py): each node of the rule graph becomes a closure
   whose value may be `Unknown`; logic is Kleene's; known values are computed by the
   evaluator's own operations.
2. Rule instances. Each rule, for each element of its list, is false (dropped), certain (true,
   with known amounts) or open (true or false depending on unknown facts, or true with amounts
   still unknown).
3. Scenarios. Open instances are grouped by the facts they share. A group whose facts all have
   few values (yes/no, enums) is evaluated under every assignment of them, which gives the
   combinations of its instances that can really happen (damage caused by moisture cannot also
   be caused by fire); any other group may take every combination. The scenarios are then
   combined with the policy's own rule combination (`_apply_exceptions`, outcome ranks,
   `overrides all other rules`, `_outputs`): every combination when there are few; otherwise
   outcome by outcome, keeping of each group only what changes the outputs (refusal rules
   without amounts only say "refused"), which stays small for many items; and when even that is
   too much, sound bounds on each amount.
4. Words. Each open instance is described with its clause, its source text, the facts it waits
   for (labels and JSON paths), the ways it can apply (the operands of an `or`, of a negated
   `and`) and what it leads to alone; deadlines follow from comparisons of a date of the request
   with a date already known (`request_date > last_request_day`: the last day to request).
"""
from __future__ import annotations

import bisect
import itertools
import json
import math
import weakref
from typing import TYPE_CHECKING

from rplang.policy_lang.errors import EvaluationError

from . import explain
from .decision import Application, Decision
from .evaluate import Env
from . import residual_facts
from .kleene import FAILURES, Kleene, KleeneEnv, Unknown, unknown_in
from .request import PATH_KEY
from .request_text import read_request_json
from .items import ItemOutcomesSeen
from .residual_facts import Group, Instance, UnknownFact, freeze
from .residual_words import Words
from .arithmetic import ZERO_CENTS, add, failure, subtract
from .values import json_formatter

if TYPE_CHECKING:
    from .decide import CompiledPolicy

# Limits of the exact enumeration; past them, bounds (and residual_facts.py's own).
SCENARIOS = 4096  # scenarios combined with the policy's rules, all together
OUTCOME_SCENARIOS = 4096  # the same, outcome by outcome (only what changes the outputs)
ALTERNATIVES = 8  # the alternatives of an output are listed when there are at most this many

PENDING = "pending"
_ZERO = ZERO_CENTS  # a total nothing was added to


# ---- Combining scenarios with the policy's own rules -------------------------------------------

def _outputs_of(policy: CompiledPolicy, outcome: str, applied: list) -> dict:
    """`CompiledPolicy._outputs`, where an amount still unknown makes its output unknown."""
    tainted, clean = set(), []
    plans = policy._effect_plans
    for index, element, amounts in applied:
        if unknown_in((amounts,)) is not None:
            fixed = list(amounts)
            for position, adds, output, _ in plans[index]:
                if isinstance(amounts[position], Unknown) and adds:
                    fixed[position] = _ZERO
                    tainted.add(output)
            amounts = tuple(fixed)
        clean.append((index, element, amounts))
    outputs = policy._outputs(outcome, clean)
    for name in tainted:
        outputs[name] = Unknown(frozenset())
    return outputs


class _Possible:
    """What the scenarios can give: outcomes, and each output's values (or bounds)."""

    def __init__(self, policy: CompiledPolicy):
        self.policy = policy
        self.outcomes: list[str] = []
        self.values: dict[str, dict] = {o.name: {} for o in policy.outputs if o.kind != "outcome"}
        self.bounds: dict[str, list] = {}  # total -> [low, high]; None for no bound
        self.unbounded: set[str] = set()
        self.method = "enumerated"

    def add(self, outcome: str, outputs: dict) -> None:
        if outcome not in self.outcomes:
            self.outcomes.append(outcome)
        for name, seen in self.values.items():
            value = outputs[name]
            if isinstance(value, Unknown):
                self.unbounded.add(name)
            else:
                seen.setdefault(freeze(value), value)

    def add_bounds(self, outcome: str, low: dict, high: dict, sets: dict) -> None:
        self.method = "bounds"
        if outcome not in self.outcomes:
            self.outcomes.append(outcome)
        for name in low:
            bound = self.bounds.setdefault(name, [low[name], high[name]])
            bound[0] = None if bound[0] is None or low[name] is None else min(bound[0], low[name])
            bound[1] = None if bound[1] is None or high[name] is None else max(bound[1], high[name])
        for name, values in sets.items():
            if values is None:
                self.unbounded.add(name)
            else:
                for value in values:
                    self.values[name].setdefault(freeze(value), value)

    def give_up(self, outcomes: list[str]) -> None:
        """Every outcome possible and every output unknown (outcomes per item, too many scenarios)."""
        self.method = "bounds"
        self.outcomes = list(dict.fromkeys(outcomes))
        self.unbounded |= set(self.values)

    def certain(self, name: str):
        """(True, value) when every scenario gives the same known value."""
        if name in self.unbounded or name in self.bounds and self.bounds[name][0] != self.bounds[name][1]:
            return False, None
        seen = list(self.values[name].values())
        if name in self.bounds:
            low = self.bounds[name][0]
            if low is None or any(v != low for v in seen):
                return False, None
            return True, low
        return (True, seen[0]) if len(seen) == 1 else (False, None)


class _Analysis:
    """Everything a residual decision is made of, computed once."""

    def __init__(self, policy: CompiledPolicy, request: dict, facts: dict, as_of=None):
        self.policy, self.request, self.facts, self.as_of = policy, request, facts, as_of
        self.kleene = _kleene(policy)
        self.env = KleeneEnv(request, as_of=as_of)
        self.instances = residual_facts.instances(policy, self.kleene, self.env)
        self.certain = [i for i in self.instances if not i.uncertain]
        self.uncertain = [i for i in self.instances if i.uncertain]
        self.groups = residual_facts.groups(self.kleene, request, facts, self.uncertain, as_of)
        self.group_of = {m.seq: g for g in self.groups for m in g.members}
        self._certain_found = [i.found for i in self.certain]  # in file order
        self._certain_seqs = [i.seq for i in self.certain]
        self.possible = _Possible(policy)
        self.items = _items_seen(policy, self.kleene, self.env)  # outcomes per item, else None
        self._items_of_scenario = None
        if not self._every_scenario():
            if self.items is not None:  # no bounds item by item: every outcome and amount stays open
                self.items.every_outcome(policy._outcome_names[:-1])
                self.possible.give_up(policy._outcome_names[:-1]
                                      + [o.name for o in policy.checked.items.request_outcomes])
            elif policy._has_exceptions:
                self._by_outcome(bounds_only=True)
            else:
                self._by_outcome()

    def found(self, applying: dict) -> list:
        """The `found` list of a scenario: certain instances and those in `applying` (seq ->
        amounts), in the order of the policy file."""
        if len(applying) * 8 > len(self.instances):
            return [(i.index, i.element, applying.get(i.seq, i.amounts)) for i in self.instances
                    if not i.uncertain or i.seq in applying]
        found, seqs = list(self._certain_found), list(self._certain_seqs)
        instances = self.instances
        for seq in sorted(applying):  # few: put each in its place
            at = bisect.bisect(seqs, seq)
            seqs.insert(at, seq)
            found.insert(at, (instances[seq].index, instances[seq].element, applying[seq]))
        return found

    def scenario(self, applying: dict) -> tuple[str, dict, list, list]:
        if self.items is not None:
            outcome, applied, overridden, self._items_of_scenario = \
                self.policy.item_combiner.combine(self.found(applying), self.items.elements)
        else:
            outcome, applied, overridden = self.policy._combine(self.found(applying))
        return outcome, _outputs_of(self.policy, outcome, applied), applied, overridden

    def _every_scenario(self) -> bool:
        if math.prod(len(g.states) for g in self.groups) > SCENARIOS:
            return False
        for combination in itertools.product(*(g.states for g in self.groups)):
            applying = {m.seq: amounts for g, state in zip(self.groups, combination)
                        for m, (applies, amounts) in zip(g.members, state) if applies}
            outcome, outputs, _, _ = self.scenario(applying)
            self.possible.add(outcome, outputs)
            if self.items is not None:
                self.items.add(self._items_of_scenario)
        return True

    def _by_outcome(self, bounds_only: bool = False) -> None:
        """Outcome by outcome (strongest first), keeping of each group what changes the outputs.

        Without exceptions between rules, the outcome is the strongest of the rules that apply:
        for outcome r, no rule of a stronger outcome applies and one of r does (unless r is the
        default). With exceptions (`bounds_only`), nothing is ruled out, and only bounds are given.
        """
        policy, rank = self.policy, self.policy._rule_rank
        overridable = {name for r in policy.graph.rules for name in r.rule.overrides}
        certain, groups = self.certain, list(self.groups)
        if bounds_only:  # a certain rule that another may override may not count
            loose = [i for i in certain if i.rule_node.rule.name in overridable]
            certain = [i for i in certain if i not in loose]
            groups += [Group([i], [((True, i.amounts),), ((False, None),)], False) for i in loose]
        for r in range(policy._default_rank + 1):
            outcome = policy._outcome_names[r]
            if any(rank[i.index] < r for i in certain):
                break  # a rule of a stronger outcome applies for certain
            default = r == policy._default_rank
            overriding = outcome in policy.overriding_outcomes

            def relevant(i, r=r, overriding=overriding):
                return rank[i.index] == r if overriding else rank[i.index] >= r

            projections, possible = [], True
            for g in groups:
                states = g.states if bounds_only else \
                    [s for s in g.states if not any(a and rank[m.index] < r for m, (a, _) in zip(g.members, s))]
                if not states:
                    possible = False
                    break
                keep = [k for k, m in enumerate(g.members) if relevant(m) and policy._effect_plans[m.index]]
                seen: dict = {}
                for s in states:
                    hit = any(a and rank[m.index] == r for m, (a, _) in zip(g.members, s))
                    kept = tuple((g.members[k], s[k][1]) for k in keep if s[k][0])
                    seen.setdefault((hit, freeze([(m.seq, amounts) for m, amounts in kept])), (hit, kept))
                projections.append(list(seen.values()))
            if not possible:
                continue
            certain_hit = any(rank[i.index] == r for i in certain)
            effectless = [p for p in projections if all(not kept for _, kept in p)]
            effectful = [p for p in projections if any(kept for _, kept in p)]
            hits = set()
            if any(hit for p in effectless for hit, _ in p):
                hits.add(True)
            if all(any(not hit for hit, _ in p) for p in effectless):
                hits.add(False)
            base = [i for i in certain if relevant(i)]
            base_seqs = {i.seq for i in base}
            if not bounds_only and math.prod(len(p) for p in effectful) * len(hits) <= OUTCOME_SCENARIOS:
                for combination in itertools.product(*effectful):
                    for hit in hits:
                        if not (default or certain_hit or hit or any(h for h, _ in combination)):
                            continue  # no rule of this outcome applies: a weaker outcome's scenario
                        chosen = {m.seq: amounts for _, kept in combination for m, amounts in kept}
                        applied = [(i.index, i.element, chosen.get(i.seq, i.amounts)) for i in self.instances
                                   if i.seq in base_seqs or i.seq in chosen]
                        self.possible.add(outcome, _outputs_of(policy, outcome, applied))
                continue
            if not (default or certain_hit or hits & {True} or any(h for p in effectful for h, _ in p)):
                continue
            self.possible.add_bounds(outcome, *self._bounds(outcome, base, effectful))

    def _bounds(self, outcome: str, base: list, effectful: list):
        """Sound bounds of each output for one outcome: certain amounts plus, per group, the least
        and the most it can add; the values a set output can take."""
        policy = self.policy
        low: dict = {o.name: _ZERO for o in policy.outputs if o.kind == "total"}
        high = dict(low)

        def contribution(kept_list):
            total: dict = {}
            for inst, amounts in kept_list:
                for position, adds, output, sign in policy._effect_plans[inst.index]:
                    if adds:
                        amount = amounts[position]
                        if isinstance(amount, Unknown) or total.get(output, 0) is None:
                            total[output] = None
                        else:
                            total[output] = (add if sign > 0 else subtract)(total.get(output, _ZERO), amount)
            return total

        fixed = contribution([(i, i.amounts) for i in base])
        for name, amount in fixed.items():
            low[name] = high[name] = amount
        for projection in effectful:
            options = [contribution(kept) for _, kept in projection]
            for name in low:
                amounts = [o.get(name, _ZERO) for o in options]
                if low[name] is not None:
                    low[name] = None if None in amounts else add(low[name], min(amounts))
                if high[name] is not None:
                    high[name] = None if None in amounts else add(high[name], max(amounts))
        for o in policy.outputs:
            if o.kind == "total" and o.floor is not None:
                low[o.name] = max(low[o.name], o.floor) if low[o.name] is not None else None
                high[o.name] = max(high[o.name], o.floor) if high[o.name] is not None else None
        sets: dict = {}
        setters = [(i, i.amounts) for i in base] + \
            [pair for projection in effectful for _, kept in projection for pair in kept]
        for o in policy.outputs:
            if o.kind != "set":
                continue
            values, certain_setter = [], False
            for inst, amounts in setters:
                for position, adds, output, _ in policy._effect_plans[inst.index]:
                    if not adds and output == o.name:
                        values.append(amounts[position])
                        certain_setter |= any(inst is b for b in base)
            if not certain_setter:
                values.append(o.default)
            sets[o.name] = None if any(isinstance(v, Unknown) for v in values) else values
        return low, high, sets


def _items_seen(policy: CompiledPolicy, kleene: Kleene, env: KleeneEnv) -> ItemOutcomesSeen | None:
    """The items outcomes are decided for (docs/per-item.md); they must be known already."""
    if policy.item_combiner is None:
        return None
    elements = kleene.fns[policy.graph.items_source](env)
    if isinstance(elements, Unknown):
        raise EvaluationError(
            f"which items are decided depends on facts not known yet ({', '.join(sorted(elements.facts))}): "
            "give them to decide before all the facts are known")
    return ItemOutcomesSeen(elements)


_KLEENE: "weakref.WeakKeyDictionary[CompiledPolicy, Kleene]" = weakref.WeakKeyDictionary()


def _kleene(policy: CompiledPolicy) -> Kleene:
    kleene = _KLEENE.get(policy)
    if kleene is None:
        kleene = _KLEENE.setdefault(policy, Kleene(policy.graph, policy.evaluator.calendar))
    return kleene


# ---- The residual decision ----------------------------------------------------------------------

class ResidualDecision:
    """A decision on a request whose later facts are not all known: what is already certain, and
    what is still open. When nothing is open, it is `final` and holds the ordinary Decision."""

    def __init__(self, policy: CompiledPolicy, request: dict, facts: dict[str, UnknownFact], as_of=None):
        self.policy = policy
        self.request = request
        self.as_of = as_of  # the date whose terms decide, instead of the request's (`--as-of`)
        self.version_note: dict | None = None  # set by a PolicyHistory: which version decided, and why
        self.unknown_facts = list(facts.values())
        self.decision: Decision | None = None
        self.open_conditions: list[dict] = []
        self.if_none_apply: dict | None = None
        self.possible_outcomes: tuple[str, ...] = ()
        self.ranges: dict[str, dict] = {}
        self.deadlines: list[dict] = []
        self.method = "enumerated"
        self.outputs: dict = {}
        self.outcome = PENDING
        self._analysis: _Analysis | None = None
        self._certain_entries: list[dict] | None = None

    @property
    def final(self) -> bool:
        return self.decision is not None

    @property
    def pending_outputs(self) -> tuple[str, ...]:
        return tuple(name for name in self.ranges)

    # -- for programs

    def outputs_json(self) -> dict:
        if self.decision is not None:
            return self.decision.outputs_json()
        outcome_names = {o.name for o in self.policy.outputs if o.kind == "outcome"}
        return {name: self.outcome if name in outcome_names else None if name in self.ranges
                else fmt(self.outputs[name]) for name, fmt in self.policy.output_formatters}

    def explanation(self) -> list[dict]:
        """The rules already certain to apply (for a final decision: the determining rules)."""
        if self._certain_entries is None:
            if self.decision is not None:
                applied = self.decision.applied
                decision = self.decision
            else:
                decision = self._pending_decision()
                applied = decision.applied
            self._certain_entries = [_safe_entry(decision, a) for a in applied]
        return self._certain_entries

    def _pending_decision(self) -> Decision:
        """The rules already certain, as a decision still pending (to explain them)."""
        certain = [i.found for i in self._analysis.certain]
        decision = Decision(PENDING, {}, certain, [], self.policy, Env(self.request, self.as_of))
        decision.version_note = self.version_note
        return decision

    def terms(self) -> list[dict] | None:
        """Which version and dated values decide, as a decision's `terms`; None when the policy
        has no dated terms, or while the date that chooses them is not known yet."""
        if not getattr(self.policy, "has_dated_terms", False):
            return None
        if self.decision is not None:
            return explain.terms(self.decision)
        selector = self.policy.checked.terms
        if selector is not None and isinstance(self._analysis.kleene.fn(selector)(self._analysis.env), Unknown):
            return None
        return explain.terms(self._pending_decision())

    def residual_json(self) -> dict | None:
        if self.decision is not None:
            return None
        return {
            "unknown_facts": [f.to_json() for f in self.unknown_facts],
            "open_conditions": self.open_conditions,
            "if_none_apply": self.if_none_apply,
            "possible_outcomes": list(self.possible_outcomes),
            "ranges": self.ranges,
            "deadlines": self.deadlines,
            "method": self.method,
            **self._items_json(),
        }

    def _items_json(self) -> dict:
        """Outcomes per item (docs/per-item.md): each item's, or the ones it may still get."""
        seen = self._analysis.items
        if seen is None:
            return {}
        return {"items": seen.to_json(lambda e: explain.element_name(None, e), self.policy.outcome_rank)}

    def to_json(self) -> dict:
        """`{"outputs", "residual", "explanation"}`, and `computation` when final (see docs/residual.md)."""
        data = {"outputs": self.outputs_json(), "residual": self.residual_json(),
                "explanation": self.explanation()}
        if self.decision is not None:
            data["computation"] = self.decision.computation()
            if self.decision.items is not None:  # outcomes per item, as `Decision.to_json`
                data["items"] = explain.items_json(self.decision)
        terms = self.terms()
        if terms is not None:  # as `Decision.to_json`
            data["terms"] = terms
        return data

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False)

    def scenario(self, holding) -> dict:
        """The outputs (JSON) when exactly the open conditions whose ids are in `holding` apply,
        with the amounts known so far: what the final decision will be once the facts are known."""
        if self.decision is not None:
            return self.decision.outputs_json()
        wanted = set(holding)
        applying = {i.seq: i.amounts for i in self._analysis.uncertain
                    if i.truth is True or _open_id(i) in wanted}
        outcome, outputs, _, _ = self._analysis.scenario(applying)
        return Words(self._analysis).outputs_json(outputs)

    # -- for people

    def explain_text(self) -> str:
        from .residual_words import residual_text

        return residual_text(self)


def _open_id(inst: Instance) -> str:
    element = inst.element.get(PATH_KEY) if isinstance(inst.element, dict) else None
    return inst.rule_node.rule.name if element is None else f"{inst.rule_node.rule.name}@{element}"


def _safe_entry(decision: Decision, application: Application) -> dict:
    """An explanation entry; a rule already certain may mention facts not known yet, which its
    entry leaves out (or, when they cannot even be formatted, shows without its facts)."""
    try:
        return explain.entry(decision, application.rule, application.element, application.amounts,
                             application.overridden_by)
    except (TypeError, AttributeError, *FAILURES):
        rule = application.rule.rule
        element = application.element
        return {"rule": rule.name, "clause": rule.clause, "cites": rule.clause_text,
                "clauses": explain.citations_json(rule), "outcome": rule.outcome,
                "element": element.get(PATH_KEY) if isinstance(element, dict) else None,
                "element_name": explain.element_name(decision, element), "sentence": rule.name.replace("_", " "),
                "facts": [], "effects": [], "line": rule.span.line if rule.span is not None else None}


def decide_partial(policy: CompiledPolicy, data: object, unknown_at=True, as_of=None) -> ResidualDecision:
    """Decide a request (a dict, as parsed from JSON) whose facts declared `at STAGE` may be left
    out (every stage, or the stages named in `unknown_at`); raises RequestError for any other
    problem, a fact missing without such a declaration included. `as_of` as for `decide`."""
    return decide_partial_checked(policy, policy.reader.read(data, unknown_at=unknown_at), as_of)


def decide_partial_json(policy: CompiledPolicy, text: str | bytes, unknown_at=True, as_of=None) -> ResidualDecision:
    return decide_partial(policy, read_request_json(text), unknown_at, as_of)


def decide_partial_checked(policy: CompiledPolicy, request: dict, as_of=None) -> ResidualDecision:
    """Decide a request read with `policy.reader.read(data, unknown_at=...)`."""
    facts = residual_facts.unknown_facts(policy, request)
    result = ResidualDecision(policy, request, facts, as_of)
    if not facts:  # everything is known: the ordinary decision, on the ordinary path
        result.decision = policy.decide_checked(request, as_of)
        result.outcome, result.outputs = result.decision.outcome, result.decision.outputs
        return result
    try:
        analysis = _Analysis(policy, request, facts, as_of)
    except ArithmeticError as error:
        raise failure(error) from None
    result._analysis = analysis
    possible = analysis.possible
    outcomes = [o.name for o in policy.graph.outcomes if o.name in possible.outcomes]
    outcomes += [o for o in possible.outcomes if o not in outcomes]
    result.possible_outcomes = tuple(outcomes)
    result.method = possible.method
    for o in policy.outputs:
        if o.kind == "outcome":
            continue  # set below, once the outcome is known
        known, value = possible.certain(o.name)
        if known:
            result.outputs[o.name] = value
        else:
            result.ranges[o.name] = _range(policy, o, possible)
    if len(outcomes) == 1:
        result.outcome = outcomes[0]
    result.outputs.update({o.name: result.outcome for o in policy.outputs if o.kind == "outcome"})
    if len(outcomes) == 1:
        if not result.ranges:
            decision = _certain_decision(analysis, outcomes[0], result.outputs)
            if decision is not None:
                result.decision = decision
                return result
    _describe(result, analysis)
    return result


def _certain_decision(analysis: _Analysis, outcome: str, outputs: dict) -> Decision | None:
    """The ordinary decision, when the certain rules alone give the outcome and the outputs."""
    policy = analysis.policy
    found, items = [i.found for i in analysis.certain], None
    if analysis.items is not None:
        certain_outcome, applied, overridden, items = policy.item_combiner.combine(found, analysis.items.elements)
    else:
        certain_outcome, applied, overridden = policy._combine(found)
    if certain_outcome != outcome:
        return None
    computed = policy._outputs(outcome, applied)
    if any(computed[name] != value for name, value in outputs.items()):
        return None
    return Decision(outcome, computed, applied, overridden, policy, Env(analysis.request, analysis.as_of), items)


def _range(policy: CompiledPolicy, output, possible: _Possible) -> dict:
    values = list(possible.values[output.name].values())
    fmt = json_formatter(policy.output_types[output.name])
    unknown = output.name in possible.unbounded
    listed = None
    if not unknown and output.name not in possible.bounds and len(values) <= ALTERNATIVES:
        listed = [fmt(v) for v in sorted(values, key=_order)]
    if output.kind != "total":
        return {"alternatives": listed}
    low = high = None
    bound = possible.bounds.get(output.name)
    if not unknown and (values or bound):
        candidates = list(values)
        if bound is None or None not in bound:
            lows = candidates + ([bound[0]] if bound else [])
            highs = candidates + ([bound[1]] if bound else [])
            low, high = fmt(min(lows)), fmt(max(highs))
    return {"min": low, "max": high, "alternatives": listed}


def _order(value):
    """Sorts values of one output: absent first, then by value."""
    return (value is not None, value if value is not None else 0)


def _describe(result: ResidualDecision, analysis: _Analysis) -> None:
    """The open conditions, what each leads to alone, what happens when none applies, deadlines."""
    words = Words(analysis)
    always = {i.seq: i.amounts for i in analysis.uncertain if i.truth is True}
    none_possible = {id(g): any(all(not a or m.truth is True for m, (a, _) in zip(g.members, s))
                                for s in g.states) for g in analysis.groups}

    def lead(applying: dict, possible: bool) -> dict:
        outcome, outputs, _, _ = analysis.scenario({**always, **applying})
        lead = {"outcome": outcome, "outputs": words.outputs_json(outputs), "possible": possible}
        unknown = [name for name, value in outputs.items() if isinstance(value, Unknown)]
        if unknown:  # amounts that depend on facts not known yet (null in `outputs`)
            lead["unknown"] = unknown
        return lead

    never_none = sum(not v for v in none_possible.values())  # groups where something must apply
    result.if_none_apply = lead({}, never_none == 0)
    for inst in analysis.uncertain:
        leads_to = None
        if inst.truth is not True:
            group = analysis.group_of[inst.seq]
            others_none = never_none - (not none_possible[id(group)]) == 0
            alone = any(_only(group, state, inst) for state in group.states)
            leads_to = lead({inst.seq: inst.amounts}, alone and others_none)
        result.open_conditions.append(words.open_condition(inst, leads_to))
    result.deadlines = words.deadlines()


def _only(group: Group, state: tuple, inst: Instance) -> bool:
    """Whether, in `state`, `inst` applies and no other open member of its group does."""
    return all(applies == (m is inst) or m.truth is True for m, (applies, _) in zip(group.members, state))
