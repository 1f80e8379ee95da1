"""Lower a policy's computation to Python: each total output step by step (the amounts rules
added or subtracted, then the floor), as a dict (`Decision.computation`) or as JSON text
(`Decision.to_json_bytes`), with the explanation whose entries make its steps.

The steps are the explanation's: each rule's entry appends a step for each amount it adds
(codegen_explain.py), so that the computation only puts them together with the totals. The sum
before the floor is worked out again, from the rules that determined the decision, only when
the total is its floor: otherwise the floor did not raise it, and the sum is the total."""
from __future__ import annotations

import orjson

from rplang.compiler import types as T

from .arithmetic import add, minus
from .dates import DAY_TEXT
from .generated import Constants, quoted
from .codegen_explain import money_statements
from .codegen_explain_json import joined_code, json_statements
from .json_text import constant_json, json_text
from .values import money_text


def computation_function(policy, as_text: bool = False) -> tuple[str, "callable"]:
    """Python source of `explained(applied, env, outputs)`, and the function itself: the
    decision's JSON but its items and terms, `{"outputs", "explanation", "computation"}`, from the
    rules that determined it, `(rule index, element, effect values)`, the environment it was
    decided in, and its outputs as JSON. Each entry is made by its rule's function
    (`policy.explanation_code`), which also appends the steps of each total it adds to; each
    total is then shown with its steps, its sum and its floor.

    `as_text`: `explained(applied, env, outputs, more)`, the decision's JSON text instead, with
    the text `more` (its items and terms) before the closing brace; each entry written by its
    rule's text function, and the outputs as the decision has them (Python values): their JSON
    is written in place, not made as dicts for orjson to write."""
    constants = Constants(named=True)
    totals = policy.total_outputs
    steps = "".join(f"s{k}, " for k in range(len(totals)))
    lines = [f"def explained(applied, env, outputs{', more' if as_text else ''}):"]
    lines += [f"    s{k} = []" for k in range(len(totals))] + [f"    steps = ({steps})"]
    if as_text:
        # a loop, not a list comprehension: one costs a function and its frame, each decision
        lines += ["    entries = []", "    for i, e, a in applied:",
                  "        entries.append(TEXTS[i](env, e, a, None, steps))", "    entries = ','.join(entries)"]
        statements, outputs = _outputs_text(policy, constants)
        lines += statements
    else:
        lines.append("    entries = [(ENTRIES[i] or MAKE(i))(env, e, a, None, steps) for i, e, a in applied]")
    for k, (name, floor, floor_text) in enumerate(totals):
        if floor is not None:
            shown = f"t{k}" if as_text else f"outputs[{quoted(name)}]"
            lines += _floored_sum(policy, k, shown, floor, floor_text, constants)
    lines.append(_text_return(totals, outputs, constants) if as_text else _dict_return(totals, constants))
    source = "\n".join(lines) + "\n"
    code = policy.explanation_code
    namespace = {**constants.namespace(), "_add": add, "_minus": minus, "_money_text": money_text,
                 "_day_text": DAY_TEXT, "_json": json_text, "_dumps": orjson.dumps, "TEXTS": code.texts,
                 "ENTRIES": code.entries, "MAKE": code.entry,
                 "__builtins__": {"str": str, "list": list}}
    exec(compile(source, f"<rpl explanation of a decision{' as JSON' if as_text else ''} of "
                         f"{policy.graph.policy.source_name or 'policy'}>", "exec"), namespace)
    return source, namespace["explained"]


def _floored_sum(policy, k: int, shown: str, floor, floor_text: str, constants: Constants) -> list[str]:
    """Statements setting `sum{k}` (the JSON of total k's sum before its floor) and `floored{k}`:
    the amounts added again, from the effect values, only when the total (its money text, read
    by the code `shown`) is its floor."""
    name = policy.total_outputs[k][0]
    adds = {}  # rule index -> (position, sign) of each amount it adds to this total
    for i, plan in enumerate(policy._effect_plans):
        signed = tuple((position, sign) for position, is_add, output, sign in plan if is_add and output == name)
        if signed:
            adds[i] = signed
    table = constants.add(adds)
    return [f"    sum{k}, floored{k} = {shown}, False",
            f"    if sum{k} == {constants.add(floor_text)}:  # the floor may have raised it",
            "        total = None",
            "        for i, _, a in applied:",
            f"            for position, sign in {table}.get(i, ()):",
            "                amount = a[position] if sign > 0 else _minus(a[position])",
            "                total = amount if total is None else _add(total, amount)",
            "        if total is None:",
            f"            sum{k} = {constants.add('0.00')}",
            f"        elif total < {constants.add(floor)}:",
            f"            sum{k}, floored{k} = _money_text(total), True"]


def _dict_return(totals, constants: Constants) -> str:
    shown = []
    for k, (name, floor, floor_text) in enumerate(totals):
        value = f"outputs[{quoted(name)}]"
        if floor is None:
            shown.append(f"{quoted(name)}: {{'steps': s{k}, 'sum': {value}, 'floor': None, 'floored': False, "
                         f"'value': {value}}}")
        else:
            shown.append(f"{quoted(name)}: {{'steps': s{k}, 'sum': sum{k}, "
                         f"'floor': {constants.add(floor_text)}, 'floored': floored{k}, 'value': {value}}}")
    return "    return {'outputs': outputs, 'explanation': entries, 'computation': {" + ", ".join(shown) + "}}"


def _outputs_text(policy, constants: Constants) -> tuple[list[str], list]:
    """Statements reading the outputs, and the parts of their JSON object (for `_text_return`): each
    written as codegen_explain_json.json_statements writes a value of its type; a total (an
    amount, always) kept as its money text in `t{k}`, which the computation shows again, its
    quotes written with the texts around it."""
    totals = {name: k for k, (name, _, _) in enumerate(policy.total_outputs)}
    outcomes = {o.name for o in policy.outputs if o.kind == "outcome"}
    outcome_type = T.EnumType("outcome", tuple(policy.outcome_rank))
    lines, parts = [], []
    for n, (name, type_) in enumerate(policy.output_types.items()):
        parts.append((("{" if n == 0 else ",") + constant_json(name) + ":",))
        if name in totals:
            k = totals[name]
            lines.append(f"m{k} = outputs[{quoted(name)}]")
            lines += money_statements(f"m{k}", f"t{k}")
            parts += [('"',), f"t{k}", ('"',)]
        else:
            value = f"o{n}"
            lines.append(f"{value} = outputs[{quoted(name)}]")
            # the outcome is a name the policy declares (or None): written as an enum's value is
            lines += json_statements(outcome_type if name in outcomes else type_, value, constants.add)
            parts.append(value)
    parts.append(("}" if parts else "{}",))
    return ["    " + line for line in lines], parts


def _text_return(totals, outputs: list, constants: Constants) -> str:
    """The decision's JSON text, in one f-string: the outputs' parts, the entries, then the
    computation: the steps joined, each total's value (and sum) as its money text, in quotes
    (values.money_text: nothing to escape)."""
    parts: list = [('{"outputs":',), *outputs, (',"explanation":[',), "entries"]
    for k, (name, floor, floor_text) in enumerate(totals):
        parts += [(('],"computation":{' if k == 0 else ",") + constant_json(name) + ':{"steps":[',),
                  f"','.join(s{k})", ('],"sum":"',)]
        if floor is None:
            parts += [f"t{k}", ('","floor":null,"floored":false,"value":"',), f"t{k}", ('"}',)]
        else:
            parts += [f"sum{k}", ('","floor":' + constant_json(floor_text) + ',"floored":',),
                      f"('true' if floored{k} else 'false')", (',"value":"',), f"t{k}", ('"}',)]
    parts += [("}" if totals else '],"computation":{}',), "more", ("}",)]
    return "    return " + joined_code(parts, constants.add)
