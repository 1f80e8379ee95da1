"""Explain a decision: every determining rule with its clause, its sentence, and the facts it saw."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rplang.compiler import ir
from rplang.compiler import types as T
from rplang.policy_lang.errors import RplError

from rplang.compiler.show import formatter as show_formatter

from .arithmetic import add, minus
from .request import PATH_KEY
from .money import DEFAULT_LOCALE, MoneyFormat, currency_code
from .values import json_formatter, json_value, money_text

if TYPE_CHECKING:
    from .decision import Decision


# Evaluating what the decision did not need may fail (the short-circuited side of an `or`, say):
# such a value is left out of the explanation.
_CANNOT_EVALUATE = (RplError, ArithmeticError)


# ---- plans: what to read and how to show it, worked out once per rule ------------------------

def _source_text(expr: ir.Expr) -> str:
    return " ".join(expr.span.text.split()) if expr.span is not None else _describe(expr)


def _describe(expr: ir.Expr) -> str:
    if isinstance(expr, ir.Input):
        return ".".join(expr.path)
    if isinstance(expr, (ir.Param, ir.Value, ir.Var)):
        return expr.name
    if _is_rule_value(expr):
        return expr.args[0].value
    if isinstance(expr, ir.FieldOf):
        return f"{_describe(expr.base)}.{expr.name}"
    return "value"


def _named_operands(expr: ir.Expr) -> list[ir.Expr]:
    """The named things (fields, values, parameters) a comparison reads, in order."""
    found, stack = [], [expr]
    while stack:
        node = stack.pop(0)
        if isinstance(node, (ir.Input, ir.FieldOf, ir.Value, ir.Param)) or _is_lookup(node) or _is_rule_value(node):
            found.append(node)
        elif isinstance(node, ir.Op):
            stack[:0] = list(node.args)
    return found


def _is_lookup(expr: ir.Expr) -> bool:
    return isinstance(expr, ir.Op) and expr.op == "lookup"


def _lookup_name(policy, expr: ir.Op):
    """How a lookup reads in the facts, with the keys it was given: `restocking rate for camera`."""
    table = expr.args[0].value
    words = table.table.replace("_", " ") + (f" {table.column.replace('_', ' ')}" if table.column else "")
    keys = [(policy.evaluator.fn(k), show_formatter(k.type)) for k in expr.args[1:]]
    return lambda env: f"{words} for {', '.join(shown(key(env)) for key, shown in keys)}"


def _is_rule_value(expr: ir.Expr) -> bool:
    """A rule's own value (`let` in a rule), shown by its name like a top-level `let`."""
    return isinstance(expr, ir.Op) and expr.op == "rule_value"


def _label_key(expr: ir.Expr):
    if isinstance(expr, ir.Input):
        return ("request",) + expr.path
    if isinstance(expr, ir.FieldOf) and isinstance(expr.base.type, T.RecordType):
        return (expr.base.type.name, expr.name)
    return None


def _why(policy, expr: ir.Expr):
    """A function (env, outcome) -> the facts that made `expr` come out as `outcome`.

    For `and`/`or`, the operands that decided it: the false ones of a false `and`, the true ones
    of a true `or`, all of them otherwise; `not` flips; `if` gives its condition and its branch.
    """
    fn = policy.evaluator.fn
    if isinstance(expr, ir.Op) and expr.op in ("and", "or"):
        parts = [(fn(arg), _why(policy, arg)) for arg in expr.args]
        is_and = expr.op == "and"

        def why_logic(env, outcome):
            if is_and == outcome:  # a true `and`, a false `or`: every operand came out as it did
                facts = []
                for _, why_part in parts:
                    try:
                        facts += why_part(env, outcome)
                    except _CANNOT_EVALUATE:
                        continue
                return facts
            # the operands equal to `outcome` decided it
            facts, settled = [], False
            for value_of, why_part in parts:
                # Past the operand that settled it, the decision evaluated nothing: what follows
                # may not make sense there (`m is given and m > 1.00`), and is shown only if it does.
                try:
                    v = value_of(env)
                    if v == outcome:
                        facts += why_part(env, v)
                except _CANNOT_EVALUATE:
                    continue
                except Exception:
                    if not settled:
                        raise
                    continue
                settled = settled or v == (not is_and)
            return facts
        return why_logic
    if isinstance(expr, ir.Op) and expr.op == "not":
        inner = _why(policy, expr.args[0])
        return lambda env, outcome: inner(env, not outcome)
    if isinstance(expr, ir.Op) and expr.op == "if":
        condition_of = fn(expr.args[0])
        why_condition, why_then, why_else = (_why(policy, a) for a in expr.args)

        def why_if(env, outcome):
            try:
                condition = condition_of(env)
            except _CANNOT_EVALUATE:
                return []
            return why_condition(env, condition) + (why_then if condition else why_else)(env, outcome)
        return why_if
    return _leaf(policy, expr)


def _leaf(policy, expr: ir.Expr):
    text = _source_text(expr)
    if isinstance(expr, (ir.Input, ir.FieldOf)) and expr.type == T.BOOLEAN:
        label = policy.labels.get(_label_key(expr))
        return lambda env, outcome: [{"fact": text, "holds": outcome, "label": label}]
    operands = [(_lookup_name(policy, o) if _is_lookup(o) else _describe(o), policy.evaluator.fn(o),
                 json_formatter(o.type)) for o in _named_operands(expr)]

    def leaf(env, outcome):
        fact = {"fact": text, "holds": outcome}
        values = {}
        for name, value_of, to_json in operands:
            try:
                values[name if isinstance(name, str) else name(env)] = to_json(value_of(env))
            except _CANNOT_EVALUATE:
                continue
        if values:
            fact["values"] = values
        return [fact]
    return leaf


class _RulePlan:
    """How one rule explains itself: its sentence, the facts to read, its effects."""

    def __init__(self, policy, rule_node):
        rule = rule_node.rule
        fn = policy.evaluator.fn
        self.rule, self.var = rule, rule.var
        self.line = rule.span.line if rule.span is not None else None
        self.sentence = [part if isinstance(part, str) else
                         (fn(part), show_formatter(part.type), part.type in (T.MONEY, T.EXACT_MONEY))
                         for part in rule.because]
        self.facts = _why(policy, rule.condition)
        self.effects = [(e.kind, e.output, e.sign, json_formatter(policy.output_types.get(e.output)))
                        for e in rule.effects]
        # each added amount: its effect's position, and its position among the entry's effects
        shown = [e for e in rule.effects if e.kind in ("add", "set")]
        self.adds = [(k, e.output, e.sign > 0, shown.index(e)) for k, e in enumerate(rule.effects) if e.kind == "add"]


def _plan(policy, rule_node) -> _RulePlan:
    plans = policy.explanation_plans
    plan = plans.get(rule_node.rule.name)
    if plan is None:
        plan = plans[rule_node.rule.name] = _RulePlan(policy, rule_node)
    return plan


def fact_text(fact: dict) -> str:
    if fact.get("label"):
        return f"{fact['label']}: {'yes' if fact['holds'] else 'no'}"
    values = fact.get("values")
    shown = f" ({', '.join(f'{k} {v}' for k, v in values.items())})" if values else ""
    return f"{fact['fact']}{'' if fact['holds'] else ' is false'}{shown}"


# ---- entries ------------------------------------------------------------------------------------

def element_name(decision: "Decision", element) -> str | None:
    """How an element is named in sentences: its first text field (a sku), else its JSON path;
    an element that is a plain value (a text of a list of texts) is named by its value."""
    if element is None:
        return None
    if not isinstance(element, dict):
        return json_value(element, None) if not isinstance(element, str) else element
    for key, value in element.items():
        if isinstance(value, str) and not key.startswith("#"):
            return value
    return element.get(PATH_KEY)


def _sentence(plan: _RulePlan, env, money: MoneyFormat | None = None) -> str:
    """The rule's sentence, its values filled in; money in `money`'s currency when given (the text
    explanation), else as the decision's JSON has always shown it."""
    parts = []
    for part in plan.sentence:
        if isinstance(part, str):
            parts.append(part)
        else:
            value_of, show, is_money = part
            try:
                value = value_of(env)
                parts.append(money.amount(value) if money is not None and is_money and value is not None
                             else show(value))
            except _CANNOT_EVALUATE:
                parts.append("(not known)")
    return "".join(parts) if parts else plan.rule.name.replace("_", " ")


def entry(decision: "Decision", rule_node, element, amounts, overridden_by: str | None = None,
          money: MoneyFormat | None = None) -> dict:
    """The explanation of one rule applying (to `element`, for a rule for each element)."""
    plan = _plan(decision.policy, rule_node)
    rule = plan.rule
    # Each entry binds its element in an environment of its own, sharing the values the
    # decision computed, so that threads may explain one decision at once (a rule of the whole
    # request binds nothing: it reads the decision's own).
    env = decision._env if plan.var is None else decision._env.with_bound(plan.var, element)
    effects = []
    for (kind, output, sign, to_json), amount in zip(plan.effects, amounts):
        if kind == "add":
            effects.append({"output": output, "amount": money_text(amount if sign > 0 else minus(amount))})
        elif kind == "set":
            effects.append({"output": output, "set": to_json(amount)})
    entry = {
        "rule": rule.name,
        "clause": rule.clause,
        "cites": rule.clause_text,
        "clauses": citations_json(rule),
        "outcome": rule.outcome,
        "element": element.get(PATH_KEY) if isinstance(element, dict) else None,
        "element_name": element_name(decision, element),
        "sentence": _sentence(plan, env, money),
        "facts": plan.facts(env, True),
        "effects": effects,
        "line": plan.line,
    }
    if overridden_by is not None:
        entry["overridden_by"] = overridden_by
    return entry


def citations_json(rule) -> list[dict]:
    """Every clause a rule cites (`clause` and `cites` of an entry are the first, for readers of one)."""
    return [{"clause": name, "cites": text} for name, text in rule.citations]


def explanation_entries(decision: "Decision", money: MoneyFormat | None = None) -> list[dict]:
    """Every rule that determined the decision, in the order of the policy file."""
    rules = decision.policy.graph.rules
    return [entry(decision, rules[index], element, amounts, money=money)
            for index, element, amounts in decision._applied]


def items_json(decision: "Decision") -> list[dict]:
    """Each item's decision (docs/per-item.md): its path, name, outcome, totals and rules."""
    rules = decision.policy.graph.rules
    return [{"element": item.element.get(PATH_KEY), "name": element_name(decision, item.element),
             "outcome": item.outcome, "totals": {name: money_text(v) for name, v in item.totals.items()},
             "rules": [rules[f[0]].rule.name for f in item.rules]}
            for item in decision.items]


def outcome_label(policy, name: str | None) -> str:
    """The heading of an outcome: an item's or the request's (`request outcome:`)."""
    for o in policy.graph.outcomes:
        if o.name == name:
            return o.label
    items = policy.checked.items
    for line in items.request_outcomes if items is not None else ():
        if line.name == name:
            return line.label
    return str(name)


def _items_text(decision: "Decision", entries: list[dict], main: str | None, money: MoneyFormat) -> list[str]:
    """A line per item: its name, its outcome, its share of the main total, and why."""
    policy = decision.policy
    rows = []
    for item, data in zip(decision.items, items_json(decision)):
        amount = f"{main.replace('_', ' ')} {money.text(data['totals'][main])}" if main else ""
        reasons = [e for e in entries if e["outcome"] == item.outcome
                   and e["rule"] in data["rules"] and e["element"] in (None, data["element"])]
        why = "; ".join(f"{e['sentence']}   [{e['rule']}]" for e in reasons)
        rows.append((data["name"] or data["element"], outcome_label(policy, item.outcome), amount, why))
    widths = [max(len(row[k]) for row in rows) for k in range(3)]
    return ["  items:"] + [f"    {n:<{widths[0]}}  {o:<{widths[1]}}  {a:<{widths[2]}}  {w}".rstrip()
                           for n, o, a, w in rows]


def computation(decision: "Decision", entries: list[dict] | None = None) -> dict:
    """Each total output, step by step: the amounts rules added or subtracted, then the floor.

    `entries`, the decision's explanation when it is made as well, already names each element
    and shows each amount: the steps take them from there rather than working them out again."""
    policy = decision.policy
    totals = policy.total_outputs
    if not totals:
        return {}
    steps: dict[str, list] = {name: [] for name, _, _ in totals}
    sums: dict = {}
    rules = policy.graph.rules
    for n, (index, element, amounts) in enumerate(decision._applied):
        plan = _plan(policy, rules[index])
        if not plan.adds:
            continue
        made = entries[n] if entries is not None else None
        name = element_name(decision, element) if made is None else made["element_name"]
        for position, output, adds, shown in plan.adds:
            signed = amounts[position] if adds else minus(amounts[position])
            sums[output] = add(sums[output], signed) if output in sums else signed
            text = money_text(signed) if made is None else made["effects"][shown]["amount"]
            steps[output].append({"rule": plan.rule.name, "element_name": name, "amount": text})
    out = {}
    outputs = decision.outputs
    for name, floor, floor_text in totals:
        running = sums.get(name)
        out[name] = {"steps": steps[name], "sum": money_text(running) if running is not None else "0.00",
                     "floor": floor_text, "floored": floor is not None and running is not None and running < floor,
                     "value": money_text(outputs[name])}
    return out


# ---- terms by date ------------------------------------------------------------------------------

def terms(decision: "Decision") -> list[dict]:
    """Which version of the policy and which dated values decided, and why: one entry each."""
    from rplang.compiler.clauses import describe_period
    from rplang.compiler.show import show

    policy, checked = decision.policy, decision.policy.checked
    entries = []
    if decision.version_note is not None:
        entries.append(dict(decision.version_note))
    elif checked.effective is not None:
        entries.append({"version": checked.version, "effective": checked.effective.isoformat(),
                        "sentence": f"version {checked.version or '(unnamed)'} of the policy, in force from "
                                    f"{checked.effective}"})
    if checked.terms is None:
        return entries
    selector = checked.terms
    request_day = policy.evaluator.fn(selector)(decision._env)
    day = decision._env.as_of or request_day
    label = policy.labels.get(_label_key(selector)) or _source_text(selector)
    why = f"{label} {request_day}" if decision._env.as_of is None else \
        f"as of {day} (asked instead of {label} {request_day})"
    for param in checked.parameters.values():
        if not isinstance(param, ir.DatedParam):
            continue
        value, period = param.value_on(day)
        name = param.name.replace("_", " ")
        shown = show(value, param.type)
        if period is None:
            others = ", ".join(describe_period(start, end) for start, end, _, _ in param.periods)
            sentence = f"{why}: the {name} is {shown} (other values apply {others})"
            entry_period = None
        else:
            start, end, _, period_label = period
            sentence = f"{why}: {period_label or 'the ' + name} of {shown} applies, {describe_period(start, end)}"
            entry_period = {"from": start.isoformat() if start else None,
                            "until": end.isoformat() if end else None, "label": period_label}
        entries.append({"parameter": param.name, "value": json_value(value, param.type),
                        "period": entry_period, "selected_by": _source_text(selector),
                        "date": day.isoformat(), "sentence": sentence})
    return entries


# ---- text for people ----------------------------------------------------------------------------

def _quote(text: str | None, width: int = 100) -> str:
    if not text:
        return ""
    return f'"{text}"' if len(text) <= width else f'"{text[:width - 4].rstrip()} ..."'


def money_format(decision: "Decision", locale: str = DEFAULT_LOCALE) -> MoneyFormat:
    """How the decision's money is shown: in the currency the request names (`currency by`), else
    the policy's (`currency XYZ`), for readers of `locale`."""
    return request_money_format(decision.policy, decision._env, locale)


def request_money_format(policy, env, locale: str = DEFAULT_LOCALE) -> MoneyFormat:
    """`money_format` for a request read into `env` (a residual decision has no Decision yet)."""
    checked = policy.checked
    currency = checked.currency
    if checked.currency_by is not None:
        try:
            named = policy.evaluator.fn(checked.currency_by)(env)
        except (*_CANNOT_EVALUATE, KeyError, TypeError):  # a fact not given yet
            named = None
        currency = currency_code(named) or currency
    return MoneyFormat(currency, locale)


def explain_text(decision: "Decision", locale: str = DEFAULT_LOCALE) -> str:
    """The decision as a customer-service agent reads it out, money as readers of `locale` write it."""
    money = money_format(decision, locale)
    text = _decision_text(decision, money)
    note = money.note()
    if note:
        text += "\n" + note
    entries = terms(decision) if decision.policy.has_dated_terms else []
    if entries:  # `terms by` with no value by date has nothing to say (and is warned of: RPL104)
        text += "\nTerms:\n" + "\n".join(f"  {t['sentence']}" for t in entries)
    return text


def _decision_text(decision: "Decision", money: MoneyFormat) -> str:
    policy = decision.policy
    outcomes = {o.name: o for o in policy.graph.outcomes}
    outcome = outcomes.get(decision.outcome)
    label = outcome_label(policy, decision.outcome)
    currency = money.currency
    entries = explanation_entries(decision, money)
    comp = computation(decision)  # its amounts as JSON writes them: `entries` may write them for a locale
    reasons = [e for e in entries if e["outcome"] is not None and e["outcome"] == decision.outcome]
    # decided per item: the short form of a refusal only when every item got it
    whole = decision.items is None or all(i.outcome == decision.outcome for i in decision.items)

    if outcome is not None and outcome.overrides_all and reasons and whole:
        n = len(reasons)
        lines = [f"{label} — {n} reason{'s' if n != 1 else ''}"]
        for i, e in enumerate(reasons, 1):
            lines.append(f"{i}. {e['rule']}  {_quote(e['cites'])}".rstrip())
            lines += [f"   {_quote(c['cites'])}" for c in e["clauses"][1:]]
            lines.append(f"   {e['sentence']}")
            why = _labelled_facts(e)
            if why:
                lines.append(f"   because {why}")
        if comp and all(c["value"] == "0.00" for c in comp.values()):
            lines.append("Nothing is refunded." if "refund" in comp else "Every amount is 0.00.")
        return "\n".join(lines)

    main = next(iter(comp), None)
    headline = label
    if main is not None:
        headline += f" — {main.replace('_', ' ')} {money.text(comp[main]['value'])} {currency}".rstrip()
    lines = [headline]
    if decision.items:
        lines += _items_text(decision, entries, main, money)
    width = max([len(money.text(s["amount"].lstrip("-"))) for c in comp.values() for s in c["steps"]] + [4])
    if main is not None:
        lines.append(f"  {main.replace('_', ' ')}:")
        for step in comp[main]["steps"]:
            entry = _entry_for(entries, step)
            sign = "−" if step["amount"].startswith("-") else "+"
            lines.append(f"    {sign} {money.text(step['amount'].lstrip('-')):>{width}}  {entry['sentence']}"
                         f"   [{entry['rule']}]")
            why = _labelled_facts(entry) if entry["outcome"] is not None else ""
            if why:
                lines.append(f"      {'':>{width}}  because {why}")
        c = comp[main]
        if c["floored"]:
            lines.append(f"    = {money.text(c['sum'])}, raised to {money.text(c['floor'])}: "
                         f"the {main.replace('_', ' ')} is never below {money.text(c['floor'])}")
        lines.append(f"    = {money.text(c['value'])} {currency}".rstrip())
    shown = {(s["rule"], s["element_name"]) for s in comp[main]["steps"]} if main else set()
    for name, c in comp.items():
        if name == main:
            continue
        lines.append(f"  {name.replace('_', ' ')}: {money.text(c['value'])} {currency}".rstrip())
        for step in c["steps"]:
            if (step["rule"], step["element_name"]) not in shown:
                entry = _entry_for(entries, step)
                lines.append(f"    {money.text(step['amount'])}  {entry['sentence']}   [{entry['rule']}]")
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
                lines += [f"  [{e['rule']}] {_quote(c['cites'])}" for c in e["clauses"]]
    return "\n".join(lines)


def _labelled_facts(entry: dict) -> str:
    """The facts a rule saw that the request names in words (`opened: yes`), for a `because` line."""
    return "; ".join(fact_text(f) for f in entry["facts"] if f.get("label"))


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
