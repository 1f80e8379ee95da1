"""Words for residual decisions: open conditions, the ways they can apply, deadlines, and the
text a customer-service agent (or a returns portal) reads out."""
from __future__ import annotations

import datetime
import itertools
import math

from rplang.compiler import ir
from rplang.compiler import types as T

from . import explain
from .codegen_explain import describe, label_key, named_operands, source_text
from .evaluate import Env
from .kleene import FAILURES, KleeneEnv, Unknown, facts_of, unknown_in
from .money import MoneyFormat
from .request import PATH_KEY
from .values import json_value, money_text

ALTERNATIVES = 8  # ways of one condition listed one by one, at most


# ---- Words: open conditions, deadlines ----------------------------------------------------------

class Words:
    """Describes conditions and values of one residual decision."""

    def __init__(self, analysis):
        self.analysis = analysis
        self.policy = analysis.policy
        self.kleene = analysis.kleene
        self.facts = analysis.facts
        self.order = {path: k for k, path in enumerate(self.facts)}

    def env_for(self, inst_or_rule, element) -> KleeneEnv:
        var = inst_or_rule.var
        return self.analysis.env.with_bound(var, element) if var is not None else self.analysis.env

    def ways(self, expr: ir.Expr, env: KleeneEnv, negated: bool = False) -> list[list[dict]]:
        """The ways `expr` can come out true (false when `negated`): each a list of facts, all of
        which must hold; the operands of an `or`, of a negated `and`, each on its own."""
        value = self.kleene.fn(expr)(env)
        if not isinstance(value, Unknown):
            return [[]] if value is not negated else []
        if isinstance(expr, ir.Op) and expr.op == "not":
            return self.ways(expr.args[0], env, not negated)
        if isinstance(expr, ir.Op) and expr.op in ("and", "or"):
            parts = [self.ways(a, env, negated) for a in expr.args]
            if (expr.op == "or") != negated:  # any one operand suffices
                return [way for part in parts for way in part]
            if math.prod(len(p) for p in parts) <= ALTERNATIVES:
                return [[fact for way in combination for fact in way] for combination in itertools.product(*parts)]
        return [[self.fact(expr, env, not negated)]]

    def fact(self, expr: ir.Expr, env: KleeneEnv, holds: bool) -> dict:
        """One condition as explanations show facts, with the unknown facts it waits for."""
        entry: dict = {"fact": source_text(expr), "holds": holds}
        if isinstance(expr, (ir.Input, ir.FieldOf)) and expr.type == T.BOOLEAN:
            entry["label"] = self.policy.labels.get(label_key(expr))
        values = {}
        for operand in named_operands(expr):
            try:
                value = self.kleene.fn(operand)(env)
            except FAILURES:
                continue
            if unknown_in((value,)) is None:
                values[describe(operand)] = json_value(value, operand.type)
        if values and "label" not in entry:
            entry["values"] = values
        entry["unknown"] = self.in_order(facts_of(self.kleene.fn(expr)(env)))
        return entry

    def in_order(self, paths) -> list[str]:
        """Fact paths in the order of the request (the order `unknown_facts` lists them in)."""
        order = self.order
        return sorted(paths, key=lambda p: (order.get(p, len(order)), p))

    def outputs_json(self, outputs: dict) -> dict:
        return {name: None if isinstance(outputs[name], Unknown) else fmt(outputs[name])
                for name, fmt in self.policy.output_formatters}

    def effects(self, inst) -> list[dict]:
        out = []
        for effect, amount in zip(inst.rule_node.rule.effects, inst.amounts):
            if effect.kind == "add":
                out.append({"output": effect.output, "amount": None if isinstance(amount, Unknown)
                            else money_text(amount if effect.sign > 0 else -amount)})
            elif effect.kind == "set":
                out.append({"output": effect.output, "set": None if isinstance(amount, Unknown)
                            else json_value(amount, self.policy.output_types.get(effect.output))})
        return out

    def open_condition(self, inst, leads_to: dict) -> dict:
        rule = inst.rule_node.rule
        env = self.env_for(rule, inst.element)
        element = inst.element.get(PATH_KEY) if isinstance(inst.element, dict) else None
        if inst.whole_list:
            ways = [[self.fact(rule.source, self.analysis.env, True)]]
        elif inst.truth is True:
            ways = [[]]  # it applies; only its amounts wait for facts
        else:
            ways = self.ways(rule.condition, env)
        return {
            "id": rule.name if element is None else f"{rule.name}@{element}",
            "rule": rule.name,
            "clause": rule.clause,
            "cites": rule.clause_text,
            "clauses": explain.citations_json(rule),
            "outcome": rule.outcome,
            "element": element,
            "element_name": explain.element_name(None, inst.element) if isinstance(inst.element, dict) else None,
            "applies": True if inst.truth is True else None,
            "condition": source_text(rule.condition),
            "ways": ways,
            "depends_on": [{"path": p, "label": self.facts[p].label if p in self.facts else None}
                           for p in self.in_order(inst.facts)],
            "effects": self.effects(inst),
            "leads_to": leads_to,
            "line": rule.span.line if rule.span is not None else None,
        }

    def deadlines(self) -> list[dict]:
        """Last (or first) days that follow from a date of the request compared with a date
        already known, in rules giving an outcome stronger than the default one."""
        policy, graph = self.policy, self.policy.graph
        out = []
        for index, rule_node in enumerate(graph.rules):
            rule = rule_node.rule
            if rule.outcome is None or policy._rule_rank[index] >= policy._default_rank:
                continue
            tests = list(_date_tests(graph, rule.condition))
            if not tests:
                continue
            if rule.var is None:
                elements = [None]
            else:
                xs = self.kleene.fns[rule_node.source](self.analysis.env)
                elements = [] if isinstance(xs, Unknown) else xs
            for element in elements:
                env = self.env_for(rule, element)
                for test, date, limit, op, others in tests:
                    entry = self._deadline(rule, element, env, test, date, limit, op, others)
                    if entry is not None:
                        out.append(entry)
        return out

    def _deadline(self, rule, element, env, test, date, limit, op, others) -> dict | None:
        fn = self.kleene.fn
        try:
            if any(fn(o)(env) is not True for o in others) or fn(test)(env) is True:
                return None
            last = fn(limit)(env)
            value = fn(date)(env)
        except FAILURES:
            return None
        if not isinstance(last, datetime.date):
            return None
        day = {">": last, ">=": last - datetime.timedelta(days=1),
               "<": last, "<=": last + datetime.timedelta(days=1)}[op]
        element_path = element.get(PATH_KEY) if isinstance(element, dict) else None
        path = "$." + ".".join(date.path) if isinstance(date, ir.Input) else f"{element_path}.{date.name}"
        return {
            "rule": rule.name, "clause": rule.clause, "cites": rule.clause_text,
            "clauses": explain.citations_json(rule), "outcome": rule.outcome,
            "element": element_path,
            "element_name": explain.element_name(None, element) if isinstance(element, dict) else None,
            "date": {"path": path, "label": self.policy.labels.get(label_key(date)),
                     "value": None if isinstance(value, Unknown) or value is None else value.isoformat()},
            ("last_day" if op in (">", ">=") else "first_day"): day.isoformat(),
            "condition": source_text(test),
            "line": rule.span.line if rule.span is not None else None,
        }


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _date_tests(graph, condition: ir.Expr):
    """(comparison, the request's date, the date it is compared with, op as `date op limit`, the
    other operands of the condition's `and`) for each comparison of a date field with a date
    that does not depend on it."""
    conjuncts = condition.args if isinstance(condition, ir.Op) and condition.op == "and" else (condition,)
    for c in conjuncts:
        if not (isinstance(c, ir.Op) and c.op in _FLIP and all(a.type == T.DATE for a in c.args)):
            continue
        left, right = c.args
        others = [x for x in conjuncts if x is not c]
        for date, limit, op in ((left, right, c.op), (right, left, _FLIP[c.op])):
            if (isinstance(date, ir.Input) or isinstance(date, ir.FieldOf) and isinstance(date.base, ir.Var)) \
                    and not _depends(graph, limit, date):
                yield c, date, limit, op, others
                break


def _depends(graph, expr: ir.Expr, target: ir.Expr) -> bool:
    stack, seen = [expr], set()
    while stack:
        node = stack.pop()
        if node == target:
            return True
        if isinstance(node, ir.Value):
            if node.name in seen:
                continue
            seen.add(node.name)
            stack.append(graph.nodes[graph.values[node.name]].expr)
        else:
            stack.extend(ir.children(node))
    return False


# ---- Text for people ----------------------------------------------------------------------------

def fact_text(fact: dict) -> str:
    """`warranty card blank: no`, `item.damage_cause in misuse_causes (misuse_causes: fire, ...)`."""
    if fact.get("label"):
        return f"{fact['label']}: {'yes' if fact['holds'] else 'no'}"
    values = fact.get("values") or {}
    shown = "; ".join(f"{name}: {_plain(value)}" for name, value in values.items())
    text = fact["fact"] if fact["holds"] else f"not ({fact['fact']})"
    return f"{text} ({shown})" if shown else text


def _plain(value) -> str:
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) if value else "none"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ") if isinstance(value, str) and " " not in value else str(value)


def way_text(way: list[dict]) -> str:
    return " and ".join(fact_text(f) for f in way) if way else "always"


def residual_text(result) -> str:
    """A residual decision as a customer-service agent reads it out."""
    policy = result.policy
    labels = {o.name: o.label for o in policy.graph.outcomes}
    if policy.checked.items is not None:  # outcomes per item: the request's own headings too
        labels.update({o.name: o.label for o in policy.checked.items.request_outcomes})
    money = explain.request_money_format(policy, Env(result.request))
    unknown = result.unknown_facts
    stages = sorted({f.stage for f in unknown if f.stage})
    at = f" (known at {', '.join(stages)})" if stages else ""
    if result.decision is not None:
        text = explain.explain_text(result.decision)
        if unknown:
            text += (f"\nAlready decided: the {len(unknown)} fact{'s' if len(unknown) != 1 else ''} not known "
                     f"yet{at} cannot change it.")
        return text
    totals = [o.name for o in policy.outputs if o.kind == "total"]
    main = totals[0] if totals else None
    n = len(unknown)
    lines = [f"PENDING — {n} fact{'s' if n != 1 else ''} not known yet{at}"]
    if result.outcome != "pending":  # certain, but amounts (or only which reasons) still open
        what = "amounts wait" if result.ranges else "its reasons wait"
        lines[0] = f"{labels.get(result.outcome, result.outcome)} — {what} for {n} " \
                   f"fact{'s' if n != 1 else ''} not known yet{at}"
    lines.append("  possible: " + ", ".join(labels.get(o, o) for o in result.possible_outcomes))
    items = (result.residual_json() or {}).get("items")
    if items:  # outcomes per item (docs/per-item.md)
        width = max(len(i["name"] or i["element"]) for i in items)
        lines.append("  items:")
        lines += [f"    {i['name'] or i['element']:<{width}}  " + (
            f"{labels[i['outcome']]} (certain)" if i["outcome"] is not None
            else " or ".join(labels[o] for o in i["possible_outcomes"])) for i in items]
    outputs_json = result.outputs_json()
    for name, fmt in policy.output_formatters:
        if name in result.ranges:
            lines.append(f"  {name.replace('_', ' ')}: {_range_text(result.ranges[name], money)}")
        elif name in result.outputs and name in totals:
            lines.append(f"  {name.replace('_', ' ')}: {money.text(outputs_json[name])} {money.currency} (certain)")
    for d in result.deadlines:
        day, word = (d["last_day"], "by") if "last_day" in d else (d["first_day"], "from")
        what = (d["date"]["label"] or d["date"]["path"])
        who = f" for {d['element_name']}" if d.get("element_name") else ""
        lines.append(f"  deadline: {what}{who} {word} {day}; otherwise {labels.get(d['outcome'], d['outcome'])}"
                     f"   [{d['rule']}] {explain._quote(d['cites'], 60)}".rstrip())
    none = result.if_none_apply
    if none is not None:
        head = "If none of the conditions below applies" if none["possible"] else \
            "If none of the conditions below applied (it cannot happen)"
        lines.append(f"{head}: {_lead_text(none, None, main, labels, money)}")
    if result.open_conditions:
        lines.append("Open conditions, each on its own:")
    for k, c in enumerate(result.open_conditions, 1):
        who = f"{c['element_name']}: " if c["element_name"] else ""
        ways = [way_text(w) for w in c["ways"]]
        condition = "applies" if c["applies"] else ways[0] if len(ways) == 1 else "any of: " + "; ".join(ways)
        lines.append(f"  {k}. {who}{condition}   [{c['rule']}]")
        if c["cites"]:
            lines.append(f"     {explain._quote(c['cites'])}")
        if c["leads_to"] is not None:
            alone = "" if c["leads_to"]["possible"] else " (not on its own)"
            lines.append(f"     → {_lead_text(c['leads_to'], none, main, labels, money)}{alone}")
        else:
            waits = ", ".join(d["label"] or d["path"] for d in c["depends_on"])
            lines.append(f"     its effect waits for: {waits}")
    entries = result.explanation()
    if entries:
        lines.append("Already certain to apply:")
    width = max([len(money.text(x["amount"].lstrip("-"))) for e in entries for x in e["effects"]
                 if x.get("amount") and x["output"] == main] + [4])
    for e in entries:
        amounts = [x for x in e["effects"] if x.get("amount") and x["output"] == main]
        sets = [x for x in e["effects"] if "set" in x]
        if amounts:
            for x in amounts:
                sign = "−" if x["amount"].startswith("-") else "+"
                lines.append(f"  {sign} {money.text(x['amount'].lstrip('-')):>{width}}  {e['sentence']}"
                             f"   [{e['rule']}]")
        elif sets:
            for x in sets:
                lines.append(f"  {x['output'].replace('_', ' ')}: {explain._set_text(x['set'])} — {e['sentence']}"
                             f"   [{e['rule']}]")
        else:
            lines.append(f"  {'note: ' if e['outcome'] is None else ''}{e['sentence']}   [{e['rule']}]")
    lines.append(f"Not known yet{at}:")
    by_element: dict = {}
    for f in unknown:
        by_element.setdefault((f.element_name or f.element, f.element), []).append(f.label or f.field)
    for (name, path), fields in by_element.items():
        where = f"{name} ({path})" if name != path else "request" if path == "$" else path
        lines.append(f"  {where}: {', '.join(fields)}")
    terms = result.terms()
    if terms:  # as a decision's explanation ends (runtime/explain.py)
        lines.append("Terms:")
        lines += [f"  {t['sentence']}" for t in terms]
    return "\n".join(lines)


def _range_text(r: dict, money: MoneyFormat) -> str:
    alternatives = r.get("alternatives")
    shown = None
    if alternatives is not None:
        shown = " or ".join(_value_text(v, money) for v in alternatives)
    if "min" not in r:
        return shown or "not known yet"
    if r["min"] is None or r["max"] is None:
        bound = f"at least {money.text(r['min'])}" if r["min"] is not None else \
            f"at most {money.text(r['max'])}" if r["max"] is not None else "not known yet"
        return f"{bound} {money.currency}".rstrip() if r["min"] or r["max"] else bound
    span = f"{money.text(r['min'])} to {money.text(r['max'])} {money.currency}".rstrip()
    if shown and len(alternatives) > 2:
        return f"{span} (one of {', '.join(_value_text(v, money) for v in alternatives)})"
    return f"{shown} {money.currency}".rstrip() if shown else span


def _value_text(value, money: MoneyFormat) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return " to ".join(str(v) for v in value)
    if isinstance(value, str) and value.replace(".", "", 1).replace("-", "", 1).isdigit() and "." in value:
        return money.text(value)
    return str(value).replace("_", " ")


def _lead_text(lead: dict, baseline: dict | None, main: str | None, labels: dict, money: MoneyFormat) -> str:
    """`APPROVED WITH A RESTOCKING FEE — refund 1,557.50, restocking fee 283.50 USD`: the outcome,
    the main total, and the other amounts that differ from `baseline`."""
    outputs, unknown = lead["outputs"], set(lead.get("unknown", ()))
    shown = []
    for name, value in outputs.items():
        if name in unknown:
            shown.append(f"{name.replace('_', ' ')} not known yet")
        elif name == main or baseline is not None and _is_money(value) \
                and baseline["outputs"].get(name) != value:
            shown.append(f"{name.replace('_', ' ')} {_value_text(value, money)} {money.currency}".rstrip())
    head = labels.get(lead["outcome"], lead["outcome"])
    return f"{head} — {', '.join(shown)}" if shown else head


def _is_money(value) -> bool:
    return isinstance(value, str) and value.replace(".", "", 1).lstrip("-").isdigit() and "." in value
