"""Decide a request: evaluate the rules, combine them as the policy declares, compute the outputs."""
from __future__ import annotations

import json
from decimal import Decimal

import attrs

from compiler import types as T
from compiler.checked import CheckedOutput
from compiler.graph import RuleGraph, RuleNode
from policy_lang.errors import RequestError, RequestProblem

from .evaluate import Env, Evaluator
from .request import RequestReader
from .values import json_value


@attrs.frozen
class Application:
    """One rule applying, for one element when the rule runs for each element of a list."""
    rule: RuleNode
    element: object  # the bound element (a converted record), or None
    amounts: tuple  # per effect: its value, or None
    overridden_by: str | None = None


@attrs.define(frozen=True, slots=True)
class Decision:
    """The decision on one request: its outputs, and the rules that determined them."""
    outcome: str
    outputs: dict
    applied: tuple[Application, ...]
    overridden: tuple[Application, ...]
    policy: "CompiledPolicy" = attrs.field(repr=False, eq=False)
    env: Env = attrs.field(repr=False, eq=False)

    def outputs_json(self) -> dict:
        types = self.policy.output_types
        return {name: json_value(value, types[name]) for name, value in self.outputs.items()}

    def explanation(self) -> list[dict]:
        from .explain import explanation_entries

        return explanation_entries(self)

    def computation(self) -> dict:
        from .explain import computation

        return computation(self)

    def to_json(self) -> dict:
        """`{"outputs": ..., "explanation": [...], "computation": ...}` with stable keys and formats."""
        return {"outputs": self.outputs_json(), "explanation": self.explanation(),
                "computation": self.computation()}

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False)

    def explain_text(self) -> str:
        from .explain import explain_text

        return explain_text(self)


class CompiledPolicy:
    """A policy loaded once and decided many times; safe to share between threads."""

    def __init__(self, graph: RuleGraph):
        self.graph = graph
        self.checked = graph.policy
        self.reader = RequestReader(self.checked.request, self.checked.records)
        self.evaluator = Evaluator(graph)
        self.outputs: tuple[CheckedOutput, ...] = graph.outputs
        self.output_types = {o.name: (o.type if o.kind != "outcome" else T.TEXT) for o in self.outputs}
        self.outcome_rank = {o.name: o.rank for o in graph.outcomes}
        self.default_outcome = graph.outcomes[-1].name if graph.outcomes else None
        self.overriding_outcomes = {o.name for o in graph.outcomes if o.overrides_all}
        fns = self.evaluator.fns
        self._rules = [(r, fns[r.condition], fns[r.source] if r.source is not None else None,
                        tuple(fns[v] if v is not None else None for v in r.effect_values))
                       for r in graph.rules]
        self._has_exceptions = any(r.rule.overrides for r in graph.rules)
        self.labels = _labels(self.checked)

    @property
    def name(self) -> str:
        return self.checked.name

    def read_request(self, data: object) -> dict:
        """Check and convert a request (a dict, as parsed from JSON); raises RequestError."""
        return self.reader.read(data)

    def decide(self, data: object) -> Decision:
        """Decide a request given as a dict; raises RequestError listing every problem."""
        return self.decide_checked(self.reader.read(data))

    def decide_json(self, text: str | bytes) -> Decision:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise RequestError([RequestProblem("$", f"not valid JSON: {error}")]) from None
        return self.decide(data)

    def decide_checked(self, request: dict) -> Decision:
        """Decide a request already converted by `read_request`."""
        env = Env(request)
        fired: list[Application] = []
        for rule, condition, source, effects in self._rules:
            if source is None:
                if condition(env):
                    fired.append(Application(rule, None, tuple(f(env) if f else None for f in effects)))
                continue
            var = rule.rule.var
            bound = env.bound
            for element in source(env):
                bound[var] = element
                if condition(env):
                    fired.append(Application(rule, element, tuple(f(env) if f else None for f in effects)))
            bound.pop(var, None)
        applied, overridden = self._combine(fired)
        outcome = self.default_outcome
        rank = self.outcome_rank
        for a in applied:
            given = a.rule.rule.outcome
            if given is not None and rank[given] < rank[outcome]:
                outcome = given
        return Decision(outcome, self._outputs(outcome, applied), tuple(applied), tuple(overridden),
                        self, env)

    def _combine(self, fired: list[Application]) -> tuple[list[Application], list[Application]]:
        """Apply the declared exceptions: rules that override others, outcomes that override all."""
        overridden: list[Application] = []
        if self._has_exceptions:
            kept = []
            for a in fired:
                winner = next(_overriders(a, fired), None)
                if winner is None:
                    kept.append(a)
                else:
                    overridden.append(attrs.evolve(a, overridden_by=winner.rule.rule.name))
            fired = kept
        strongest = None
        for a in fired:
            given = a.rule.rule.outcome
            if given in self.overriding_outcomes and (
                    strongest is None or self.outcome_rank[given] < self.outcome_rank[strongest]):
                strongest = given
        if strongest is None:
            return fired, overridden
        applied = []
        for a in fired:
            if a.rule.rule.outcome == strongest:
                applied.append(a)
            else:
                overridden.append(attrs.evolve(a, overridden_by=f"outcome {strongest}"))
        return applied, overridden

    def _outputs(self, outcome: str, applied: list[Application]) -> dict:
        values: dict = {}
        totals: dict[str, Decimal] = {}
        for a in applied:
            for effect, amount in zip(a.rule.rule.effects, a.amounts):
                if effect.kind == "add":
                    totals[effect.output] = totals.get(effect.output, _ZERO) + effect.sign * amount
                elif effect.kind == "set" and effect.output not in values:
                    values[effect.output] = amount
        out = {}
        for o in self.outputs:
            if o.kind == "outcome":
                out[o.name] = outcome
            elif o.kind == "total":
                total = totals.get(o.name, _ZERO)
                if o.floor is not None and total < o.floor:
                    total = o.floor
                out[o.name] = total
            else:
                out[o.name] = values.get(o.name, o.default)
        return out


_ZERO = Decimal("0.00")


def _labels(checked) -> dict:
    """Field labels by (record, field), and by ("request", path...) for request fields."""
    labels = {(record, f.name): f.label for record, fields in checked.records.items()
              for f in fields.values()}

    def walk(prefix: tuple, fields: dict, depth: int):
        for f in fields.values():
            labels[("request",) + prefix + (f.name,)] = f.label
            inner = f.type.inner if isinstance(f.type, T.OptionalType) else f.type
            if isinstance(inner, T.RecordType) and depth < 4:
                walk(prefix + (f.name,), checked.records[inner.name], depth + 1)

    walk((), checked.request, 0)
    return labels


def _overriders(a: Application, fired: list[Application]):
    """The applications that override `a`: of a rule naming a's rule in `overrides`, on the same element."""
    name = a.rule.rule.name
    for other in fired:
        if name in other.rule.rule.overrides and (
                other.element is None or a.element is None or other.element is a.element):
            yield other
