"""Static checks of the verifier, added by `rpl check` to the compiler's own (`compiler/lint.py`).

A false warning is worse than a missing one, so each claims only what it shows:
- two rules in conflict (RPL130): rules of equal standing that can both decide a request and set
  one output to different values, on a request the solver finds and the runtime decides;
- a rule that can never apply (RPL120), one that never matters (RPL121), where the compiler's own
  logic did not see it, and an outcome never reached (RPL122): no request with up to MAX_ITEMS
  elements in each list, on any date, shows it. Business days are left free after (before) their day there, so what the calendar
  allows is never ruled out.
"""
from __future__ import annotations

import itertools
import threading

import z3

from rplang.compiler import compile_policy, ir
from rplang.compiler.checked import CheckedRule
from rplang.compiler.checker import name_span
from rplang.compiler.graph import RuleGraph
from rplang.compiler.lint import static_warnings
from rplang.policy_lang import limits
from rplang.policy_lang.errors import Diagnostic, PolicyError, RplError
from rplang.runtime.decide import CompiledPolicy
from rplang.runtime.values import json_value

from .domain import Bounds
from .prove import Session, find, possible
from .symbolic import equal

MAX_RULES = 300  # beyond, the conflict check is left out: `rpl check` stays quick on large policies
MAX_PAIRS = 2_000  # pairs of rules setting one output looked at; beyond, no claim
QUESTION_MS = 5_000  # per question: one the solver does not settle in time gets no claim
MAX_ITEMS = 3  # the lists of the requests "never" speaks of


def check_policy_text(text: str, filename: str = "<policy>") -> list[Diagnostic]:
    """What `rpl check` reports on a policy: its errors, or else every static check's warnings."""
    try:
        graph = compile_policy(text, filename)
    except PolicyError as error:
        return list(error.diagnostics)
    return with_solver_checks(graph, static_warnings(graph.policy, text, filename))


# Z3's default context is shared by the whole process and is not safe to use from two threads at
# once (the language server checks a version in a worker thread while a request may check
# another): one solver check at a time.
_SOLVER = threading.Lock()


def with_solver_checks(graph: RuleGraph, found: list[Diagnostic]) -> list[Diagnostic]:
    """The compiler's warnings `found`, with what the solver adds: conflicts, and what never happens
    that the compiler's logic did not see; in the order of the text."""
    with _SOLVER:
        found = found + conflicts(graph) + never_happens(graph, {(d.code, d.span.start if d.span else None)
                                                                 for d in found})
    return sorted(found, key=lambda d: (d.span.start if d.span is not None else -1, d.code))


def conflicts(graph: RuleGraph) -> list[Diagnostic]:
    """Pairs of rules of equal standing that set one output differently on a request the runtime decides."""
    checked = graph.policy
    if len(checked.rules) > MAX_RULES:
        return []
    setters: dict = {}
    for rule in checked.rules:
        for k, effect in enumerate(rule.effects):
            if effect.kind == "set":
                setters.setdefault(effect.output, []).append((rule, k))
    outcomes = {o.name: o for o in checked.outcomes}
    pairs = [(a, b) for rules in setters.values() for a, b in itertools.combinations(rules, 2)
             if a[0] is not b[0] and a[0].name not in b[0].overrides and b[0].name not in a[0].overrides
             and _same_standing(a[0], b[0], outcomes)]
    if not pairs:
        return []
    policy = CompiledPolicy(graph)
    session = Session(policy, Bounds(max_items=2))
    if session.problem is not None:
        return []
    found, reported = [], set()
    for (a, ka), (b, kb) in pairs[:MAX_PAIRS]:
        output = a.effects[ka].output
        if (output, b.name) in reported:
            continue
        goal = [z3.And(da, db, z3.Not(equal(va[ka], vb[kb])))
                for ra, _, da, va in session.compiler.left if ra is a
                for rb, _, db, vb in session.compiler.left if rb is b]
        request = find(session, [z3.Or(*goal)], timeout_ms=QUESTION_MS) if goal else None
        if not isinstance(request, dict):
            continue
        shown = _shown(policy, request, a, ka, b, kb)
        if shown is None:
            continue
        reported.add((output, b.name))
        found.append(Diagnostic(
            "RPL130", f"the rules `{a.name}` and `{b.name}` can both apply and set `{output}` to different values",
            name_span(b.span, b.name),
            f"for example when {shown}; the first one written wins, so make their conditions exclusive, "
            f"or write `overrides {a.name}` in `{b.name}` if it is the exception", severity="warning"))
    return found


def never_happens(graph: RuleGraph, already: set) -> list[Diagnostic]:
    """Rules that never apply and outcomes never reached, by any request with up to MAX_ITEMS
    elements in each list, on any date."""
    checked = graph.policy
    if len(checked.rules) > MAX_RULES:
        return []
    session = Session(CompiledPolicy(graph), Bounds(MAX_ITEMS, limits.MIN_DATE, limits.MAX_DATE),
                      exact_business_days=False)
    if session.problem is not None:
        return []
    found = []
    never_applies = set()
    for rule in checked.rules:
        condition_span = rule.condition.span or name_span(rule.span, rule.name)
        applies, determines = _applies(session, rule)
        if ("RPL120", getattr(condition_span, "start", None)) in already or applies is None:
            continue
        if possible(session, [applies], QUESTION_MS) is False:
            never_applies.add(rule.name)
            found.append(Diagnostic("RPL120", f"the rule `{rule.name}` can never apply", condition_span,
                                    f"no request with up to {MAX_ITEMS} elements in each list meets its "
                                    "condition (nor does one the runtime can decide)", severity="warning"))
        elif ("RPL121", getattr(name_span(rule.span, rule.name), "start", None)) not in already and \
                possible(session, [determines], QUESTION_MS) is False:
            found.append(Diagnostic(
                "RPL121", f"the rule `{rule.name}` never matters: whenever it applies, another rule or a "
                "stronger outcome overrides it", name_span(rule.span, rule.name),
                f"no request with up to {MAX_ITEMS} elements in each list shows it in a decision; remove it, "
                "or narrow the rules that override it", severity="warning"))
    reached = session.compiler.reached  # by the request, or by an item where outcomes are per item
    for o in checked.outcomes[:-1]:  # the last is the default, reached when no rule gives another
        givers = [r for r in checked.rules if r.outcome == o.name]
        if o.name not in reached or not givers or all(r.name in never_applies for r in givers):
            continue  # no rule gives it (the checker's concern), or the rules are reported already
        if possible(session, [reached[o.name]], QUESTION_MS) is False:
            found.append(Diagnostic(
                "RPL122", f"the outcome `{o.name}` is never reached", name_span(o.span, o.name),
                f"whenever a rule gives it, a stronger outcome or an override wins, for every request with up "
                f"to {MAX_ITEMS} elements in each list; check the conditions of "
                + ", ".join(f"`{r.name}`" for r in givers), severity="warning"))
    return found


def _applies(session: Session, rule: CheckedRule):
    """Whether the rule applies at all, and whether it determines the decision, as two conditions
    (None, None when the rule is not in the encoding)."""
    applies = [a for r, _, a, _ in session.compiler.applying if r is rule]
    determines = [d for r, _, d, _ in session.compiler.left if r is rule]
    return (z3.Or(*applies), z3.Or(*determines)) if applies else (None, None)


def _same_standing(a: CheckedRule, b: CheckedRule, outcomes: dict) -> bool:
    """Whether neither rule's outcome overrides the other when both apply."""
    if a.outcome == b.outcome:
        return True
    return not any(outcomes.get(r.outcome) is not None and outcomes[r.outcome].overrides_all for r in (a, b))


def _shown(policy: CompiledPolicy, request: dict, a, ka, b, kb) -> str | None:
    """What the runtime shows on the request: the facts the two rules read, when both decide it
    and set different values; None when it does not show the conflict."""
    try:
        decision = policy.decide(request)
    except RplError:
        return None
    values, elements = {}, {}
    for application in decision.applied:
        rule = application.rule.rule
        k = {a.name: ka, b.name: kb}.get(rule.name)
        if k is not None:
            values.setdefault(rule.name, set()).add(repr(application.amounts[k]))
            elements.setdefault(rule.name, application.element)
    if a.name not in values or b.name not in values or \
            (values[a.name] == values[b.name] and len(values[a.name]) == 1):
        return None
    parts = {}
    for rule in (a, b):
        for name, value in _facts(policy.checked.values, rule, request, elements[rule.name]):
            parts[name] = f"`{name}` is {value}"
    return " and ".join(parts[n] for n in sorted(parts)) or "any request"


def _facts(values: dict, rule: CheckedRule, request: dict, element):
    """(name, value as written) of the request fields and element fields a rule's condition reads,
    itself or through the values (`let`) it uses."""
    stack, seen = [rule.condition], set()
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Value):
            if node.name not in seen:
                seen.add(node.name)
                stack.append(values[node.name])
        elif isinstance(node, ir.Input):
            value = request
            for key in node.path:
                value = value.get(key) if isinstance(value, dict) else None
            yield ".".join(node.path), _written(value)
        elif isinstance(node, ir.FieldOf) and isinstance(node.base, ir.Var) and node.base.name == rule.var \
                and isinstance(element, dict):
            yield f"{rule.var}.{node.name}", _written(json_value(element.get(node.name), None))
        else:
            stack.extend(ir.children(node))


def _written(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "not given" if value is None else str(value)
