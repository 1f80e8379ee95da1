"""Check a policy's examples against it: every expected output exists and has a value of its type."""
from __future__ import annotations

import datetime

import attrs

from rplang.policy_lang import ast
from rplang.policy_lang.errors import Diagnostic, PolicyError, did_you_mean
from rplang.policy_lang.span import Span

from . import types as T
from .checked import CheckedPolicy


@attrs.frozen
class CheckedExample:
    """An example ready to run: its request, and the outputs (as Python values) it must give."""
    name: str
    request_file: str | None
    request: dict | None
    changes: tuple[ast.Change, ...]
    expected: dict  # output name -> value
    expected_rules: frozenset[str] | None
    span: Span | None = attrs.field(eq=False, repr=False, default=None)
    expected_items: dict = attrs.field(factory=dict)  # (item index, `outcome` or a total) -> value
    name_span: Span | None = attrs.field(eq=False, repr=False, default=None)

    @property
    def expects_nothing(self) -> bool:
        """No `expect` line: the example passes whenever its request is decided without an error."""
        return not self.expected and not self.expected_items and self.expected_rules is None


def check_examples(examples: list[ast.Example], policy: CheckedPolicy) -> list[CheckedExample]:
    """Check examples (from the policy file or a sibling examples file); raise every problem at once."""
    problems: list[Diagnostic] = []
    outputs = {o.name: o for o in policy.outputs}
    outcome_names = [o.name for o in policy.outcomes]
    if policy.items is not None:  # the request's own outcomes (docs/per-item.md)
        outcome_names += [o.name for o in policy.items.request_outcomes if o.name not in outcome_names]
    rule_names = {r.name for r in policy.rules}
    checked, seen = [], set()
    for example in examples:
        if example.name in seen:
            problems.append(Diagnostic("RPL010", f"example \"{example.name}\" is declared twice", example.span,
                                       "give each example its own name"))
        seen.add(example.name)
        expected, expected_items = {}, {}
        for e in example.expect_outputs:
            if e.item is not None:
                _expect_item(e, policy, outputs, expected_items, problems)
                continue
            output = outputs.get(e.output)
            if output is None:
                problems.append(Diagnostic("RPL025", f"there is no output `{e.output}`", e.span,
                                           did_you_mean(e.output, outputs) or f"outputs: {', '.join(outputs)}"))
                continue
            if e.output in expected:
                problems.append(Diagnostic("RPL011", f"`{e.output}` is expected twice", e.span, None))
                continue
            type_ = None if output.kind == "outcome" else output.type
            value, problem = _constant(e.value, type_, outcome_names)
            if problem:
                problems.append(Diagnostic("RPL030", problem[0], e.value.span, problem[1]))
            else:
                expected[e.output] = value
        rules = None
        if example.expect_rules is not None:
            for name in example.expect_rules:
                if name not in rule_names:
                    problems.append(Diagnostic("RPL029", f"there is no rule `{name}`", example.span,
                                               did_you_mean(name, rule_names)))
            rules = frozenset(example.expect_rules)
        checked.append(CheckedExample(example.name, example.request_file, example.request, example.changes,
                                      expected, rules, span=example.span, expected_items=expected_items,
                                      name_span=example.name_span))
    if problems:
        raise PolicyError(problems)
    return checked


def example_warnings(examples: list[CheckedExample], policy: CheckedPolicy) -> list[Diagnostic]:
    """RPL170 for each example that expects nothing: it passes whatever the policy decides (a smoke
    test, that its request is decided without an error, is one; an `expect` line forgotten, too)."""
    outcome = next((o for o in policy.outputs if o.kind == "outcome"), None)
    like = f"expect {outcome.name} = {policy.outcomes[-1].name}" if outcome is not None and policy.outcomes else \
        f"expect {policy.outputs[0].name} = ..." if policy.outputs else "expect rules ..."
    return [Diagnostic("RPL170", f"example \"{e.name}\" checks only that its request is decided", e.name_span or e.span,
                       f"add an `expect` line for what the policy must decide, like `{like}`", severity="warning")
            for e in examples if e.expects_nothing]


def _expect_item(e: ast.ExpectOutput, policy: CheckedPolicy, outputs: dict, expected: dict,
                 problems: list[Diagnostic]) -> None:
    """`expect items[1].outcome = exchange_only`, `expect items[1].refund = 0.00`."""
    where = f"items[{e.item}].{e.output}"
    if policy.items is None:
        problems.append(Diagnostic("RPL045", f"`{where}`: the policy's outcomes are not decided for each item",
                                   e.span, "expect outputs of the request, like `expect outcome = ...`"))
        return
    totals = [o.name for o in policy.outputs if o.kind == "total"]
    if e.output != "outcome" and e.output not in totals:
        problems.append(Diagnostic("RPL025", f"an item has no `{e.output}`", e.span,
                                   did_you_mean(e.output, ["outcome"] + totals)
                                   or f"an item has: {', '.join(['outcome'] + totals)}"))
        return
    if (e.item, e.output) in expected:
        problems.append(Diagnostic("RPL011", f"`{where}` is expected twice", e.span, None))
        return
    type_ = None if e.output == "outcome" else T.MONEY
    value, problem = _constant(e.value, type_, [o.name for o in policy.outcomes])
    if problem:
        problems.append(Diagnostic("RPL030", problem[0], e.value.span, problem[1]))
    else:
        expected[(e.item, e.output)] = value


def _constant(e: ast.Expr, type_: T.Type | None, outcomes: list[str]):
    """(value, None), or (None, (message, hint)) when `e` is not a value of `type_`."""
    optional = isinstance(type_, T.OptionalType)
    inner = type_.inner if optional else type_
    if isinstance(e, ast.Name):
        if type_ is None:
            if e.name in outcomes:
                return e.name, None
            return None, (f"`{e.name}` is not an outcome", did_you_mean(e.name, outcomes)
                          or f"outcomes: {', '.join(outcomes)}")
        if isinstance(inner, T.EnumType) and e.name in inner.members:
            return e.name, None
        if optional and e.name == "none":
            return None, None
        return None, (f"`{e.name}` is not {inner.describe()}", "write `none` for no value" if optional else None)
    if isinstance(e, ast.Negate) and isinstance(e.operand, ast.Literal) and e.operand.kind == "money":
        return -e.operand.value, None
    if isinstance(e, ast.DateRange) and inner == T.DATE_RANGE:
        start, _ = _constant(e.start, T.DATE, outcomes)
        end, _ = _constant(e.end, T.DATE, outcomes)
        if isinstance(start, datetime.date) and isinstance(end, datetime.date):
            return (start, end), None
    if isinstance(e, ast.Literal):
        kinds = {T.MONEY: "money", T.DATE: "date", T.INTEGER: "integer", T.BOOLEAN: "boolean",
                 T.TEXT: "text", T.PERCENT: "percent"}
        if kinds.get(inner) == e.kind:
            return e.value, None
    what = inner.describe() if inner is not None else "an outcome"
    return None, (f"expected {what} here", "write a plain value, like `12.50`, `2026-03-02` or an enum value")
