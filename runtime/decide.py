"""Decide a request: evaluate the rules, combine them as the policy declares, compute the outputs."""
from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from rplang.compiler import types as T
from rplang.compiler import without_garbage_collection
from rplang.compiler.checked import CheckedOutput
from rplang.compiler.graph import RuleGraph
from rplang.policy_lang.errors import EvaluationError, RplError

from . import arithmetic
from .decision import Decision, Found
from .codegen import generate, generate_outputs, generate_outputs_json, loop_depth
from .evaluate import Env, Evaluator
from .explain import ExplanationCode
from .items import ItemCombiner
from .request import RequestReader
from .request_text import read_request_json
from .values import json_formatter, money_text

if TYPE_CHECKING:
    from .residual import ResidualDecision


class CompiledPolicy:
    """A policy loaded once and decided many times; safe to share between threads.

    Made by `load_policy` or `load_policy_text`. Its attributes besides the methods below
    (`graph`, `checked`, the generated code) belong to rpl's own tools and may change.
    """

    def __init__(self, graph: RuleGraph):
        self.graph = graph
        self.checked = graph.policy
        self.reader = RequestReader(self.checked.request, self.checked.records)
        self.evaluator = Evaluator(graph)
        self.outputs: tuple[CheckedOutput, ...] = graph.outputs
        self.output_types = {o.name: (o.type if o.kind != "outcome" else T.TEXT) for o in self.outputs}
        self.output_formatters = tuple((name, json_formatter(t)) for name, t in self.output_types.items())
        self.outputs_json = generate_outputs_json(self.output_types)  # outputs -> decision JSON
        self.total_outputs = tuple((o.name, o.floor, money_text(o.floor) if o.floor is not None else None)
                                   for o in self.outputs if o.kind == "total")
        self.outcome_rank = {o.name: o.rank for o in graph.outcomes}
        self.overriding_outcomes = {o.name for o in graph.outcomes if o.overrides_all}
        self._loop_depth = loop_depth(graph)
        with without_garbage_collection():
            self.rules_source, self._find_applying = generate(graph, self.evaluator.fns,
                                                              self.evaluator.calendar)
        self._has_exceptions = any(r.rule.overrides for r in graph.rules)
        self._rule_names = [r.rule.name for r in graph.rules]
        self._rule_overrides = [frozenset(r.rule.overrides) for r in graph.rules]
        self._outcome_names = [o.name for o in graph.outcomes] + [None]
        self._default_rank = len(graph.outcomes) - 1 if graph.outcomes else 0
        self._rule_rank = [self.outcome_rank[r.rule.outcome] if r.rule.outcome is not None
                           else len(graph.outcomes) for r in graph.rules]
        self._effect_plans = [tuple((k, e.kind == "add", e.output, e.sign)
                                    for k, e in enumerate(r.rule.effects) if e.kind in ("add", "set"))
                              for r in graph.rules]
        self.outputs_source, self._outputs = generate_outputs(graph)
        self.labels = _labels(self.checked)
        self.has_dated_terms = self.checked.terms is not None or self.checked.effective is not None
        self.explanation_code = ExplanationCode(self)  # generated the first time a decision is explained
        self.item_combiner = ItemCombiner(self) if graph.items_source is not None else None

    @property
    def name(self) -> str:
        """The policy's name, as its `policy "..."` line gives it."""
        name: str = self.checked.name
        return name

    def read_request(self, data: object) -> dict[str, object]:
        """Check and convert a request (a dict, as parsed from JSON); raises RequestError listing
        every problem. `decide_checked` then decides it without checking it again."""
        return self.reader.read(data)

    def decide(self, data: object, as_of: datetime.date | None = None) -> Decision:
        """Decide a request given as a dict; raises RequestError listing every problem.

        Values are given as JSON has them (money `"12.50"`, dates `"2026-03-01"`) or as the
        Python values a decision gives back (`Decimal("12.50")`, `datetime.date(2026, 3, 1)`);
        both are checked alike. `as_of` decides under the terms in force on that date instead of the request's own terms
        date (`terms by ...`): for what-if questions.
        """
        return self.decide_checked(self.reader.read(data), as_of)

    def decide_json(self, text: str | bytes, as_of: datetime.date | None = None) -> Decision:
        """Decide a request given as JSON text; raises RequestError for text that is not JSON,
        with the same problems as `decide` otherwise."""
        return self.decide(read_request_json(text), as_of)

    # Residual decisions (runtime/residual.py): facts declared `at STAGE` may be left out.
    def decide_partial(self, data: object, unknown_at: bool | set[str] = True,
                       as_of: datetime.date | None = None) -> ResidualDecision:
        """Decide what the known facts decide, when facts declared `at STAGE` are left out: a
        ResidualDecision, pending (what is still open, and what each case would give) or final.
        `unknown_at` names the stages whose facts may be missing (`True`: every stage); `as_of`
        as for `decide`."""
        from .residual import decide_partial

        return decide_partial(self, data, unknown_at, as_of)

    def decide_partial_json(self, text: str | bytes, unknown_at: bool | set[str] = True,
                            as_of: datetime.date | None = None) -> ResidualDecision:
        """`decide_partial` of a request given as JSON text."""
        from .residual import decide_partial_json

        return decide_partial_json(self, text, unknown_at, as_of)

    def decide_checked(self, request: dict, as_of: datetime.date | None = None) -> Decision:
        """Decide a request already converted by `read_request`."""
        env = Env(request, as_of)
        if self._loop_depth > 1:
            _within_budget(request, self._loop_depth)
        try:
            found = self._find_applying(request, env)
        except (RplError, ArithmeticError) as error:
            raise self._first_failure(request, as_of, error) from None
        if self.item_combiner is not None:
            return self._decide_items(found, env)
        outcome, applied, overridden = self._combine(found)
        return Decision(outcome, self._outputs(outcome, applied), applied, overridden, self, env)

    def _decide_items(self, found: list[Found], env: Env) -> Decision:
        """Outcomes decided item by item (docs/per-item.md)."""
        try:
            elements = self.item_combiner.elements(env)
        except (RplError, ArithmeticError) as error:
            raise self._first_failure(env.request, env.as_of, error) from None
        outcome, applied, overridden, items = self.item_combiner.combine(found, elements)
        return Decision(outcome, self._outputs(outcome, applied), applied, overridden, self, env, items)

    def _first_failure(self, request: dict, as_of, error: Exception) -> RplError:
        """Why a request cannot be decided: the failure of the first rule, in the order of the
        policy file, that cannot be worked out for it.

        The generated code tries rules out of that order (rules over one list share a loop), so
        it may meet a later rule's failure first. Failures are rare: the rules are tried again,
        one by one in file order, to say the same as any other reading of the policy would."""
        env, fn = Env(request, as_of), self.evaluator.fn
        try:
            for rule_node in self.graph.rules:
                rule = rule_node.rule
                bindings = [env] if rule.var is None else \
                    (env.with_bound(rule.var, element) for element in fn(rule.source)(env))
                for bound in bindings:
                    if fn(rule.condition)(bound):
                        for effect in rule.effects:
                            if effect.value is not None:
                                fn(effect.value)(bound)
        except (RplError, ArithmeticError) as first:
            error = first
        if isinstance(error, ArithmeticError):
            return arithmetic.failure(error)
        return error

    def _combine(self, found: list[Found]) -> tuple[str, list[Found], list]:
        """How the rules that apply combine, as the policy declares: rules that override others,
        then the strongest outcome, which may override every rule of another outcome.

        Returns the outcome, the rules that determine it, and the (rule, overridden by) pairs.
        """
        overridden: list = []
        if self._has_exceptions:
            found, overridden = self._apply_exceptions(found)
        rule_rank = self._rule_rank
        best = self._default_rank
        for f in found:
            rank = rule_rank[f[0]]
            if rank < best:
                best = rank
        outcome = self._outcome_names[best]
        if outcome not in self.overriding_outcomes:
            return outcome, found, overridden
        # the outcome overrides every rule of another outcome, and rules of none (a loop: a list
        # comprehension costs a function and its frame)
        kept = []
        for f in found:
            if rule_rank[f[0]] == best:
                kept.append(f)
            else:
                overridden.append((f, f"outcome {outcome}"))
        return outcome, kept, overridden

    def _apply_exceptions(self, found: list[Found]) -> tuple[list[Found], list]:
        """Drop the rules that a rule applying to the same element (or to the whole request) overrides."""
        names = self._rule_names
        overrides = self._rule_overrides
        kept, overridden = [], []
        for f in found:
            name = names[f[0]]
            winner = next((o for o in found if name in overrides[o[0]]
                           and (o[1] is None or f[1] is None or _same_element(o[1], f[1]))), None)
            if winner is None:
                kept.append(f)
            else:
                overridden.append((f, names[winner[0]]))
        return kept, overridden


# Steps a decision may take looking through lists inside lists: a policy that looks three lists
# deep at a request with lists of 10,000 elements would take 10**12, and never answer.
WORK_BUDGET = 10_000_000


def _within_budget(request: dict, depth: int) -> None:
    longest = _longest_list(request)
    if longest ** depth > WORK_BUDGET:
        raise EvaluationError(
            f"this request has a list of {longest:,} elements, and the policy looks through lists "
            f"{depth} deep: about {longest:,}^{depth} steps, more than the limit of {WORK_BUDGET:,}; "
            "send fewer elements, or write the policy to look fewer lists deep")


def _longest_list(value) -> int:
    if isinstance(value, dict):
        return max((_longest_list(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max([len(value)] + [_longest_list(v) for v in value if isinstance(v, (dict, list))])
    return 0


def _same_element(a, b) -> bool:
    """A record is the same element only as itself; a plain value (a text, a number) by its value."""
    return a is b if isinstance(a, dict) else a == b


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
