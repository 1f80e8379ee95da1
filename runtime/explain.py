"""Explain a decision: every determining rule with its clause, its sentence, and the facts it saw."""
from __future__ import annotations

from typing import TYPE_CHECKING

from compiler import ir
from compiler import types as T
from policy_lang.errors import RequestError

from .request import PATH_KEY
from compiler.show import show as human

from .values import json_value, money_text

if TYPE_CHECKING:
    from .decide import Application, Decision


# ---- the facts a rule's condition saw -----------------------------------------------------------

def _value(decision: "Decision", expr: ir.Expr, element, var):
    env = decision.env
    if var is not None:
        env.bound[var] = element
    try:
        return decision.policy.evaluator.fn(expr)(env)
    finally:
        if var is not None:
            env.bound.pop(var, None)


def _source_text(expr: ir.Expr) -> str:
    return " ".join(expr.span.text.split()) if expr.span is not None else _describe(expr)


def _describe(expr: ir.Expr) -> str:
    if isinstance(expr, ir.Input):
        return ".".join(expr.path)
    if isinstance(expr, (ir.Param, ir.Value, ir.Var)):
        return expr.name
    if isinstance(expr, ir.FieldOf):
        return f"{_describe(expr.base)}.{expr.name}"
    return "value"


def _named_operands(expr: ir.Expr) -> list[ir.Expr]:
    """The named things (fields, values, parameters) a comparison reads, in order."""
    found, stack = [], [expr]
    while stack:
        node = stack.pop(0)
        if isinstance(node, (ir.Input, ir.FieldOf, ir.Value, ir.Param)):
            found.append(node)
        elif isinstance(node, ir.Op):
            stack[:0] = list(node.args)
    return found


class _Facts:
    """Walks a condition and keeps the leaves that made it come out as it did."""

    def __init__(self, decision: "Decision", element, var: str | None):
        self.decision, self.element, self.var = decision, element, var
        self.labels = decision.policy.labels

    def value(self, expr):
        return _value(self.decision, expr, self.element, self.var)

    def why(self, expr: ir.Expr, outcome: bool) -> list[dict]:
        if isinstance(expr, ir.Op) and expr.op in ("and", "or"):
            decisive = (expr.op == "and") != outcome  # the operands equal to `outcome` decided it
            facts = []
            for arg in expr.args:
                try:
                    v = self.value(arg)
                except RequestError:
                    continue
                if decisive and v == outcome:
                    facts += self.why(arg, v)
                elif not decisive:
                    facts += self.why(arg, v)
            return facts
        if isinstance(expr, ir.Op) and expr.op == "not":
            return self.why(expr.args[0], not outcome)
        if isinstance(expr, ir.Op) and expr.op == "if":
            condition = self.value(expr.args[0])
            branch = expr.args[1] if condition else expr.args[2]
            return self.why(expr.args[0], condition) + self.why(branch, outcome)
        return [self.leaf(expr, outcome)]

    def leaf(self, expr: ir.Expr, outcome: bool) -> dict:
        fact = {"fact": _source_text(expr), "holds": outcome}
        if isinstance(expr, (ir.Input, ir.FieldOf)) and expr.type == T.BOOLEAN:
            fact["label"] = self.labels.get(_label_key(expr))
            return fact
        values = {}
        for operand in _named_operands(expr):
            try:
                v = self.value(operand)
            except RequestError:
                continue
            values[_describe(operand)] = json_value(v, operand.type)
        if values:
            fact["values"] = values
        return fact


def _label_key(expr: ir.Expr):
    if isinstance(expr, ir.Input):
        return ("request",) + expr.path
    if isinstance(expr, ir.FieldOf) and isinstance(expr.base.type, T.RecordType):
        return (expr.base.type.name, expr.name)
    return None


def fact_text(fact: dict) -> str:
    if fact.get("label"):
        return f"{fact['label']}: {'yes' if fact['holds'] else 'no'}"
    values = fact.get("values")
    shown = f" ({', '.join(f'{k} {v}' for k, v in values.items())})" if values else ""
    return f"{fact['fact']}{'' if fact['holds'] else ' is false'}{shown}"


# ---- entries ------------------------------------------------------------------------------------

def element_name(decision: "Decision", element) -> str | None:
    """How an element is named in sentences: its first text field (a sku), else its JSON path."""
    if element is None:
        return None
    for key, value in element.items():
        if isinstance(value, str) and not key.startswith("#"):
            return value
    return element.get(PATH_KEY)


def sentence(decision: "Decision", a: "Application") -> str:
    rule = a.rule.rule
    parts = []
    for part in rule.because:
        if isinstance(part, str):
            parts.append(part)
        else:
            try:
                parts.append(human(_value(decision, part, a.element, rule.var), part.type))
            except RequestError:
                parts.append("(not known)")
    return "".join(parts) if parts else rule.name.replace("_", " ")


def _entry(decision: "Decision", a: "Application") -> dict:
    rule = a.rule.rule
    effects = []
    for effect, amount in zip(rule.effects, a.amounts):
        if effect.kind == "add":
            effects.append({"output": effect.output,
                            "amount": money_text(effect.sign * amount)})
        elif effect.kind == "set":
            out_type = decision.policy.output_types.get(effect.output)
            effects.append({"output": effect.output, "set": json_value(amount, out_type)})
    facts = _Facts(decision, a.element, rule.var).why(rule.condition, True)
    entry = {
        "rule": rule.name,
        "clause": rule.clause,
        "cites": rule.clause_text,
        "outcome": rule.outcome,
        "element": a.element.get(PATH_KEY) if a.element is not None else None,
        "element_name": element_name(decision, a.element),
        "sentence": sentence(decision, a),
        "facts": facts,
        "effects": effects,
        "line": rule.span.line if rule.span is not None else None,
    }
    if a.overridden_by is not None:
        entry["overridden_by"] = a.overridden_by
    return entry


def explanation_entries(decision: "Decision") -> list[dict]:
    """Every rule that determined the decision, in the order of the policy file."""
    return [_entry(decision, a) for a in decision.applied]


def computation(decision: "Decision") -> dict:
    """Each total output, step by step: the amounts rules added or subtracted, then the floor."""
    out = {}
    for o in decision.policy.outputs:
        if o.kind != "total":
            continue
        steps, running = [], None
        for a in decision.applied:
            for effect, amount in zip(a.rule.rule.effects, a.amounts):
                if effect.kind == "add" and effect.output == o.name:
                    signed = effect.sign * amount
                    running = signed if running is None else running + signed
                    steps.append({"rule": a.rule.rule.name, "element_name": element_name(decision, a.element),
                                  "amount": money_text(signed)})
        final = decision.outputs[o.name]
        floored = running is not None and o.floor is not None and running < o.floor
        out[o.name] = {"steps": steps, "sum": money_text(running) if running is not None else "0.00",
                       "floor": money_text(o.floor) if o.floor is not None else None,
                       "floored": floored, "value": money_text(final)}
    return out


# ---- text for people ----------------------------------------------------------------------------

def _quote(text: str | None, width: int = 100) -> str:
    if not text:
        return ""
    return f'"{text}"' if len(text) <= width else f'"{text[:width - 4].rstrip()} ..."'


def explain_text(decision: "Decision") -> str:
    """The decision as a customer-service agent reads it out."""
    policy = decision.policy
    outcomes = {o.name: o for o in policy.graph.outcomes}
    outcome = outcomes.get(decision.outcome)
    label = outcome.label if outcome else str(decision.outcome)
    currency = policy.checked.currency
    entries = explanation_entries(decision)
    comp = computation(decision)
    reasons = [e for e in entries if e["outcome"] is not None and e["outcome"] == decision.outcome]

    if outcome is not None and outcome.overrides_all and reasons:
        n = len(reasons)
        lines = [f"{label} — {n} reason{'s' if n != 1 else ''}"]
        for i, e in enumerate(reasons, 1):
            lines.append(f"{i}. {e['rule']}  {_quote(e['cites'])}".rstrip())
            lines.append(f"   {e['sentence']}")
        if comp and all(c["value"] == "0.00" for c in comp.values()):
            lines.append("Nothing is refunded." if "refund" in comp else "Every amount is 0.00.")
        return "\n".join(lines)

    main = next(iter(comp), None)
    headline = label
    if main is not None:
        headline += f" — {main.replace('_', ' ')} {human_money(comp[main]['value'])} {currency}".rstrip()
    lines = [headline]
    width = max([len(human_money(s["amount"].lstrip("-"))) for c in comp.values() for s in c["steps"]] + [4])
    if main is not None:
        lines.append(f"  {main.replace('_', ' ')}:")
        for step in comp[main]["steps"]:
            entry = _entry_for(entries, step)
            sign = "−" if step["amount"].startswith("-") else "+"
            lines.append(f"    {sign} {human_money(step['amount'].lstrip('-')):>{width}}  {entry['sentence']}"
                         f"   [{entry['rule']}]")
            if entry["outcome"] is not None:
                why = [fact_text(f) for f in entry["facts"] if f.get("label")]
                if why:
                    lines.append(f"      {'':>{width}}  because {'; '.join(why)}")
        c = comp[main]
        if c["floored"]:
            lines.append(f"    = {human_money(c['sum'])}, raised to {human_money(c['floor'])}: "
                         f"the {main.replace('_', ' ')} is never below {human_money(c['floor'])}")
        lines.append(f"    = {human_money(c['value'])} {currency}".rstrip())
    shown = {(s["rule"], s["element_name"]) for s in comp[main]["steps"]} if main else set()
    for name, c in comp.items():
        if name == main:
            continue
        lines.append(f"  {name.replace('_', ' ')}: {human_money(c['value'])} {currency}".rstrip())
        for step in c["steps"]:
            if (step["rule"], step["element_name"]) not in shown:
                entry = _entry_for(entries, step)
                lines.append(f"    {human_money(step['amount'])}  {entry['sentence']}   [{entry['rule']}]")
    for e in entries:
        for x in e["effects"]:
            if "set" in x:
                lines.append(f"  {x['output'].replace('_', ' ')}: {_set_text(x['set'])} — {e['sentence']}"
                             f"   [{e['rule']}]")
    for o in policy.outputs:
        if o.kind == "set" and decision.outputs[o.name] is None:
            lines.append(f"  {o.name.replace('_', ' ')}: none")
    for e in entries:
        if not e["effects"] and e["outcome"] is None:
            lines.append(f"  note: {e['sentence']}   [{e['rule']}]")
    cited = [e for e in entries if e["cites"]]
    if cited:
        lines.append("Clauses applied:")
        seen = set()
        for e in cited:
            if e["rule"] not in seen:
                seen.add(e["rule"])
                lines.append(f"  [{e['rule']}] {_quote(e['cites'])}")
    return "\n".join(lines)


def _entry_for(entries: list[dict], step: dict) -> dict:
    return next(e for e in entries
                if e["rule"] == step["rule"] and e["element_name"] == step["element_name"])


def human_money(text: str) -> str:
    """`1890.00` as `1,890.00`."""
    negative = text.startswith("-")
    whole, _, cents = text.lstrip("-").partition(".")
    return ("-" if negative else "") + f"{int(whole):,}.{cents}"


def _set_text(value) -> str:
    if isinstance(value, list):
        return " to ".join(str(v) for v in value)
    return "none" if value is None else str(value).replace("_", " ")
