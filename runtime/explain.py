"""Explain a decision: every determining rule with its clause, its sentence, and the facts it saw."""
from __future__ import annotations

from typing import TYPE_CHECKING

from rplang.compiler import ir

from .codegen_computation import computation_function
from .codegen_explain import CANNOT_EVALUATE, entry_function, label_key, source_text
from .codegen_explain_json import entry_text_function
from .request import PATH_KEY
from .money import DEFAULT_LOCALE, MoneyFormat, currency_code
from .values import json_value, money_text

if TYPE_CHECKING:
    from .decision import Decision


# ---- plans: how each rule explains itself, worked out once per rule ---------------------------

class ExplanationCode:
    """The generated code of a policy's explanations (runtime/codegen_explain.py), each part made
    the first time it is needed: a policy of 10,000 rules generates the code of the few rules its
    explanations show."""

    def __init__(self, policy):
        self.policy = policy
        self.entries: list = [None] * len(policy.graph.rules)  # by rule index: its entry function
        # by rule index: its entry as JSON text, a stub until the rule is first explained so
        self.texts: list = [self._first_text(index) for index in range(len(policy.graph.rules))]
        self.index = {r.rule.name: k for k, r in enumerate(policy.graph.rules)}
        self._explained: dict = {}  # as text or not -> the function writing a decision's explanation
        self.text = self._first_explained_text  # explained(as_text=True), once it is made

    def entry(self, index: int):
        """The function making rule `index`'s entry: `(env, element, amounts, money, steps) -> dict`."""
        made = self.entries[index]
        if made is None:
            made = self.entries[index] = entry_function(self.policy, self.policy.graph.rules[index], element_name)[1]
        return made

    def _first_text(self, index: int):
        def first(*args):
            made = self.texts[index] = entry_text_function(self.policy, self.policy.graph.rules[index], element_name)[1]
            return made(*args)
        return first

    def explained(self, as_text: bool = False):
        """The function making a decision's JSON but its items and terms, from its applied
        rules, its environment and its outputs: `{"outputs", "explanation", "computation"}`
        from the outputs as JSON; or (`as_text`) that JSON's text from the outputs as Python
        values, ending with a text given (the items' and terms' members) and the closing brace."""
        made = self._explained.get(as_text)
        if made is None:
            made = self._explained[as_text] = computation_function(self.policy, as_text)[1]
        return made

    def _first_explained_text(self, *args):
        self.text = self.explained(as_text=True)
        return self.text(*args)


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


def entry(decision: "Decision", rule_node, element, amounts, overridden_by: str | None = None,
          money: MoneyFormat | None = None) -> dict:
    """The explanation of one rule applying (to `element`, for a rule for each element); money
    in `money`'s currency when given (the text explanation), else as the decision's JSON shows it."""
    code = decision.policy.explanation_code
    made = code.entry(code.index[rule_node.rule.name])(decision._env, element, amounts, money)
    if overridden_by is not None:
        made["overridden_by"] = overridden_by
    return made


def citations_json(rule) -> list[dict]:
    """Every clause a rule cites (`clause` and `cites` of an entry are the first, for readers of one)."""
    return [{"clause": name, "cites": text} for name, text in rule.citations]


def explanation_entries(decision: "Decision", money: MoneyFormat | None = None) -> list[dict]:
    """Every rule that determined the decision, in the order of the policy file."""
    code, env = decision.policy.explanation_code, decision._env
    made = code.entries
    return [(made[index] or code.entry(index))(env, element, amounts, money)
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


def computation(decision: "Decision") -> dict:
    """Each total output, step by step: the amounts rules added or subtracted, then the floor."""
    return explained(decision)["computation"]


def explained(decision: "Decision") -> dict:
    """`{"outputs", "explanation", "computation"}` of the decision, money as JSON shows it: the
    computation's steps made with the entries."""
    return decision.policy.explanation_code.explained()(decision._applied, decision._env, decision.outputs_json())


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
    label = policy.labels.get(label_key(selector)) or source_text(selector)
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
                        "period": entry_period, "selected_by": source_text(selector),
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
        except (*CANNOT_EVALUATE, KeyError, TypeError):  # a fact not given yet
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
