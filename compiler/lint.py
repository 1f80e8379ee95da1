"""Static checks: what is legal rpl but probably not what the policy owner meant. All are warnings.

A false warning is worse than a missing one, so each check claims only what it can show. Rules
that never apply or never matter are found in `dead_rules.py`, from their conditions alone.

Checks that need a request decided to show what they claim (two rules in conflict, RPL130) are
the verifier's (`rplang.verify.static`): the compiler does not depend on the runtime, and
`rpl check` adds them.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal

from rplang.policy_lang.errors import Diagnostic, PolicyError
from rplang.policy_lang.source_text import comment_warnings
from rplang.policy_lang.span import Source, Span

from . import ir
from . import types as T
from .checked import CheckedPolicy, CheckedRule
from .checker import name_span
from .dead_rules import dead_rules


def check_policy_text(text: str, filename: str = "<policy>") -> list[Diagnostic]:
    """What `rpl check` reports on a policy: its errors, or else the static checks' warnings."""
    from . import compile_policy

    try:
        graph = compile_policy(text, filename)
    except PolicyError as error:
        return list(error.diagnostics)
    return static_warnings(graph.policy, text, filename)


def static_warnings(checked: CheckedPolicy, text: str, filename: str) -> list[Diagnostic]:
    """The warnings about a policy that compiles, and about its text (bidi controls in comments),
    in the order of the file."""
    found = lint_policy(checked) + comment_warnings(Source(filename, text))
    return sorted(found, key=lambda d: (d.span.start if d.span is not None else -1, d.code))


def lint_policy(checked: CheckedPolicy) -> list[Diagnostic]:
    """Every warning about a policy that compiles, in the order of the file."""
    found: list[Diagnostic] = []
    found += _unused(checked)
    found += _uncited(checked)
    found += _suspicious_parameters(checked)
    found += _outcome_for_every_item(checked)
    found += _terms_without_dates(checked)
    found += _table_rows_never_read(checked)
    found += dead_rules(checked)
    return sorted(found, key=lambda d: (d.span.start if d.span is not None else -1, d.code))


def _warning(code: str, message: str, span: Span | None, hint: str | None) -> Diagnostic:
    return Diagnostic(code, message, span, hint, severity="warning")


# ---- Unused parameters, values and request fields ---------------------------------------------

def _expressions(checked: CheckedPolicy):
    if checked.terms is not None:
        yield checked.terms
    if checked.items is not None:  # the list outcomes are decided for
        yield checked.items.source
    yield from checked.values.values()
    for rule in checked.rules:
        yield from _rule_expressions(rule)


def _rule_expressions(rule: CheckedRule):
    if rule.source is not None:
        yield rule.source
    yield rule.condition
    for effect in rule.effects:
        if effect.value is not None:
            yield effect.value
    for part in rule.because:
        if not isinstance(part, str):
            yield part


def _walk(expr: ir.Expr):
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(ir.children(node))


def _unused(checked: CheckedPolicy) -> list[Diagnostic]:
    params, values, fields = set(), set(), set()  # fields as (record or "request", field)
    for expr in _expressions(checked):
        for node in _walk(expr):
            if isinstance(node, (ir.Param, ir.DatedParam)):
                params.add(node.name)
            elif isinstance(node, ir.Value):
                values.add(node.name)
            elif isinstance(node, ir.Input):
                owner, specs = "request", checked.request
                for name in node.path:
                    fields.add((owner, name))
                    spec = specs.get(name)
                    owner = T.record_name(spec.type) if spec is not None else None
                    if owner is None:
                        break
                    specs = checked.records.get(owner, {})
            elif isinstance(node, ir.FieldOf):
                owner = T.record_name(node.base.type)
                if owner is not None:
                    fields.add((owner, node.name))
    # a yes/no field that says when others are given is used when they are
    for owner, specs in [("request", checked.request)] + list(checked.records.items()):
        for spec in specs.values():
            if spec.present_when is not None and (owner, spec.name) in fields:
                fields.add((owner, spec.present_when))
    found = []
    for name, param in checked.parameters.items():
        if name not in params:
            found.append(_warning("RPL101", f"the parameter `{name}` is never used", name_span(param.span, name),
                                  "use it in a rule or a value, or remove it"))
    for name, expr in checked.values.items():
        if name not in values:
            found.append(_warning("RPL103", f"the value `{name}` is never used", _let_name_span(expr.span, name),
                                  "use it in a rule, or remove it"))
    reachable = _reported_records(checked, fields)
    for owner, specs in [("request", checked.request)] + [(r, checked.records[r]) for r in sorted(reachable)]:
        for spec in specs.values():
            if (owner, spec.name) in fields:
                continue
            what = "the request field" if owner == "request" else "the field"
            where = "" if owner == "request" else f" of `{reachable[owner]}`"
            found.append(_warning("RPL102", f"{what} `{spec.name}`{where} is never used",
                                  _lead_span(spec.span, spec.name),
                                  "no rule or value looks at it; use it, or remove it if requests need not carry it"))
    return found


def _reported_records(checked: CheckedPolicy, fields: set) -> dict[str, str]:
    """Records whose unused fields are worth a warning, those of a field in use, each with its path."""
    out: dict[str, str] = {}
    todo = [(T.record_name(spec.type), name) for name, spec in checked.request.items() if ("request", name) in fields]
    while todo:
        record, path = todo.pop(0)
        if record is None or record in out or record not in checked.records:
            continue
        out[record] = path
        todo += [(T.record_name(spec.type), f"{path}.{name}") for name, spec in checked.records[record].items()
                 if (record, name) in fields]
    return out


def _lead_span(span: Span | None, name: str) -> Span | None:
    if span is None:
        return None
    return Span(span.source, span.start, min(span.end, span.start + len(name)))


def _let_name_span(value_span: Span | None, name: str) -> Span | None:
    if value_span is None:
        return None
    text = value_span.source.text
    found = None
    for found in re.finditer(rf"\blet\s+({re.escape(name)})\b", text[:value_span.start]):
        pass
    return Span(value_span.source, found.start(1), found.end(1)) if found else value_span


# ---- Rules without a clause, parameters with a suspicious value ----------------------------------

def _uncited(checked: CheckedPolicy) -> list[Diagnostic]:
    example = next(iter(checked.clauses), "late_request")
    return [_warning("RPL110", f"the rule `{r.name}` cites no clause", name_span(r.span, r.name),
                     f"say which clause of the published policy it implements, like `cites {example}`")
            for r in checked.rules if r.clause is None and r.clause_text is None]


def _terms_without_dates(checked: CheckedPolicy) -> list[Diagnostic]:
    """`terms by` chooses values by date and versions: with neither, it chooses nothing."""
    if checked.terms is None or checked.effective is not None \
            or any(isinstance(p, ir.DatedParam) for p in checked.parameters.values()):
        return []
    return [_warning("RPL104", "`terms by` chooses nothing: no parameter has values by date",
                     checked.terms.span, "give a parameter values by date, like `30 days from 2026-11-15 "
                     "until 2026-12-31`, or remove `terms by`")]


def _outcome_for_every_item(checked: CheckedPolicy) -> list[Diagnostic]:
    """Outcomes per item (docs/per-item.md): a rule for each element of another list gives its
    outcome to every item, which is seldom what it means."""
    items = checked.items
    if items is None:
        return []
    listed = _source_text(items.source)
    return [_warning("RPL123", f"the rule `{r.name}` runs for each element of `{_source_text(r.source)}`, not of "
                     f"`{listed}` whose outcomes are decided one by one: its outcome `{r.outcome}` goes to "
                     "every item", name_span(r.span, r.name),
                     f"write `rule {r.name} for each {items.var} in {listed}:` to give it to its item only")
            for r in checked.rules if r.var is not None and not r.per_item and r.outcome is not None]


def _table_rows_never_read(checked: CheckedPolicy) -> list[Diagnostic]:
    """A table no expression looks up, and an `otherwise` row beside a row for every key."""
    if not checked.tables:  # nothing to look for in every expression
        return []
    read = {node.args[0].type.name for expr in _expressions(checked) for node in _walk(expr)
            if isinstance(node, ir.Op) and node.op == "lookup"}
    found = []
    for table in checked.tables.values():
        at = name_span(table.span, table.name)
        if table.name not in read:
            found.append(_warning("RPL160", f"the table `{table.name}` is never looked up", at,
                                  f"remove it, or read it like `{table.name}[...]`"))
        elif table.indexes[0].has_otherwise and all(isinstance(t, T.EnumType) for t in table.keys) \
                and table.row_count == math.prod(len(t.members) for t in table.keys):
            found.append(_warning("RPL160", f"the `otherwise` row of `{table.name}` is never used: a row "
                                  "names every key", at, "remove the `otherwise` row"))
    return found


def _source_text(expr: ir.Expr) -> str:
    span = expr.span
    return span.source.text[span.start:span.end] if span is not None else "the list"


def _suspicious_parameters(checked: CheckedPolicy) -> list[Diagnostic]:
    found = []
    for name, p in checked.parameters.items():
        span = _parameter_value_span(p.span) or name_span(p.span, name)
        value = p.value
        if p.type in (T.DAYS, T.BUSINESS_DAYS) and isinstance(value, int) and value <= 0:
            unit = "business days" if p.type is T.BUSINESS_DAYS else "days"
            what = "no time at all" if value == 0 else "a time that runs backwards"
            found.append(_warning("RPL140", f"`{name}` is {value} {unit}, {what}", span,
                                  "check the number; a window of 0 days closes the day it opens"))
        elif p.type is T.PERCENT and isinstance(value, Decimal) and value > 100:
            found.append(_warning("RPL140", f"`{name}` is {value}%, more than the whole price", span,
                                  "a fee or a discount is at most 100% of the price"))
        elif p.type is T.PERCENT and isinstance(value, Decimal) and value < 0:
            found.append(_warning("RPL140", f"`{name}` is {value}%, below zero", span,
                                  "write the percentage without a minus; the rule says whether to add or subtract"))
        elif p.type is T.MONEY and isinstance(value, Decimal) and value < 0:
            found.append(_warning("RPL140", f"`{name}` is a negative amount", span,
                                  "write the amount without a minus; the rule says whether to add or subtract"))
    return found


def _parameter_value_span(span: Span | None) -> Span | None:
    if span is None:
        return None
    m = re.compile(r"[^=]*=\s*").match(span.source.text, span.start, span.end)
    if m is None:
        return None
    end = span.start + len(span.text.rstrip())
    return Span(span.source, m.end(), max(m.end(), end)) if m.end() < end else None
