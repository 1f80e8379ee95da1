"""Lower a rule's explanation to Python that writes its entry as JSON text
(`Decision.to_json_bytes`): the statements of runtime/codegen_explain.py, with each part of the
entry written as orjson writes it (runtime/json_text.py), and its steps of the computation too
(runtime/codegen_computation.py)."""
from __future__ import annotations

import re

import orjson

from rplang.compiler import ir
from rplang.compiler import types as T

from .codegen import in_cents
from .codegen_explain import (EntryCode, constant_shown, describe, entry_function, is_lookup, label_key, money_statements,
                              named_operands, plain_read, rule_line, source_text)
from .json_text import constant_json, escaped_text, json_text, members_json
from .values import json_formatter, plain_list, unchanged


def entry_text_function(policy, rule_node, element_name) -> tuple[str, "callable"]:
    """Python source of `entry(env, e, a, money, steps)` writing the rule's entry as JSON text,
    byte for byte as orjson writes the entry codegen_explain.entry_function makes (`money` is
    None: money as JSON shows it), and appending the text of each step it adds to `steps`."""
    return entry_function(policy, rule_node, element_name, EntryText)


def joined_code(parts: list, const) -> str:
    """The code of a text made of `parts`: constant texts (tuples of one text), named by `const`
    (text -> the code reading it), and locals. Neighbouring constants are joined here; the rest is
    one f-string of names."""
    merged: list = []
    for part in parts:
        if isinstance(part, tuple) and merged and isinstance(merged[-1], tuple):
            merged[-1] = (merged[-1][0] + part[0],)
        elif part != ("",):
            merged.append(part)
    names = [const(p[0]) if isinstance(p, tuple) else p for p in merged]
    if len(names) == 1:
        return names[0]
    return 'f"' + "".join("{" + n + "}" for n in names) + '"'


class EntryText(EntryCode):
    """The code of one rule's entry as JSON text (Decision.to_json_bytes): the same statements,
    with each part written as orjson writes it. What is the same for every decision (the rule's
    name, clauses, the text of each fact) is encoded once, here; a value is written in place
    when its type says it has nothing to escape (money, dates, enum values), and a text is
    escaped by orjson only when it has a character to escape."""

    label = " as JSON"
    names = {"_json": json_text, "_members": members_json, "_escaped": escaped_text, "_dumps": orjson.dumps}

    def __init__(self, policy):
        super().__init__(policy)
        self.escaped_reads: dict[str, str] = {}  # a text field always given -> its escaped local
        self.facts: list = []  # the facts' JSON text, as parts for `joined` (facts_statements)

    def text_of(self, value: str, pad: str) -> None:
        """Make the text in local `value` what JSON writes between its quotes."""
        self.emit(pad, f"if not ({value}.isprintable() and '\"' not in {value} and '\\\\' not in {value}):")
        self.emit(pad, f"    {value} = _escaped({value})")

    def json_of(self, type_: T.Type | None, read: str, pad: str) -> str:
        """A local holding the JSON text of the value `read` (code that cannot fail, or inside a
        `try`), written as decision JSON shows a value of `type_` (values.json_formatter)."""
        value = self.local("j")
        self.emit(pad, f"{value} = {read}")
        for line in json_statements(type_, value, self.const):
            self.emit(pad, line)
        return value

    def joined(self, parts: list) -> str:
        """The code of a text made of `parts` (`joined_code`), its constants in this entry's table."""
        return joined_code(parts, self.const)

    def sentence(self, rule, scope: dict[str, str]) -> list:
        """The sentence's JSON text, as parts for `joined`: its values shown as the dict's
        sentence shows them (in the decision's currency: `money` is None), escaped if they may
        need it."""
        parts = self.sentence_parts(rule, scope)
        if not parts:
            parts = [(rule.name.replace("_", " "),)]
        shown: list = [('"',)]
        for part in parts:
            if isinstance(part, tuple):
                shown.append((constant_json(part[0])[1:-1],))
                continue
            value, type_, read = part
            inner = type_.inner if isinstance(type_, T.OptionalType) else type_
            if not (inner in _SAFE_SHOWN or isinstance(inner, T.EnumType)):
                self.text_of(value, "")
                if read is not None and inner == T.TEXT:
                    self.escaped_reads[read] = value
            shown.append(value)
        return shown + [('"',)]

    def fact(self, e: ir.Expr, holds: bool, out: str, scope, pad: str) -> None:
        text = source_text(e)
        if isinstance(e, (ir.Input, ir.FieldOf)) and e.type == T.BOOLEAN:
            shown = {"fact": text, "holds": holds, "label": self.labels.get(label_key(e))}
            self.emit(pad, f"{out}.append({self.const(constant_json(shown))})")
            return
        operands = named_operands(e)
        head = constant_json({"fact": text, "holds": holds})[:-1]  # the object left open
        if not operands:
            self.emit(pad, f"{out}.append({self.const(head + '}')})")
            return
        names = [describe(o) for o in operands]
        plain = all(plain_read(o) or constant_shown(o) for o in operands)
        if plain and len(set(names)) == len(names):  # nothing to leave out, no name twice: one text
            parts: list = [(head + ',"values":{',)]
            for k, (name, operand) in enumerate(zip(names, operands)):
                parts.append((("," if k else "") + constant_json(name) + ":",))
                if constant_shown(operand):
                    parts.append((constant_json(json_formatter(operand.type)(operand.value)),))
                else:
                    parts.append(self.json_of(operand.type, self.expr(operand, scope), pad))
            parts.append(("}}",))
            self.emit(pad, f"{out}.append({self.joined(parts)})")
            return
        # the values shown, by name as a dict keeps them when names may repeat (a lookup's name
        # is known only once its keys are), else the members' texts in order
        by_name = any(is_lookup(o) for o in operands) or len(set(names)) < len(names)
        values, fact = self.local("n"), self.local("f")
        self.emit(pad, f"{values} = {{}}" if by_name else f"{values} = []")
        for operand, described in zip(operands, names):
            to_json = json_formatter(operand.type)
            name = self.lookup_name(operand, scope) if is_lookup(operand) else self.const(described)
            member = self.const(constant_json(described) + ":")

            def add(shown: str) -> str:
                return f"{values}[{name}] = {shown}" if by_name else f"{values}.append({member} + {shown})"
            if constant_shown(operand):
                self.emit(pad, add(self.const(constant_json(to_json(operand.value)))))
                continue
            self.emit(pad, "try:")
            self.emit(pad, "    " + add(self.json_of(operand.type, self.expr(operand, scope), pad + "    ")))
            self.emit(pad, "except _CANNOT_EVALUATE:")
            self.emit(pad, "    pass")
        opened, closed = self.const(head + ',"values":{'), self.const("}}")
        members = f"_members({values})" if by_name else f"','.join({values})"
        self.emit(pad, f"{fact} = {opened} + {members} + {closed} if {values} else {self.const(head + '}')}")
        self.emit(pad, f"{out}.append({fact})")

    def effects(self, rule, named: list) -> list:
        """Statements of the amounts added, each also a step of its total in `steps`; the
        effects' JSON text as parts for `joined` (`named`: the element's name's parts)."""
        parts: list = [("[",)]
        first = True
        step = constant_json({"rule": rule.name})[:-1] + ',"element_name":'
        for k, effect in enumerate(rule.effects):
            if effect.kind not in ("add", "set"):
                continue
            head = ("" if first else ",") + constant_json({"output": effect.output})[:-1]
            first = False
            if effect.kind == "add":
                amount, text = self.local("m"), self.local("t")
                self.emit("", f"{amount} = {f'a[{k}]' if effect.sign > 0 else f'_minus(a[{k}])'}")
                for line in money_statements(amount, text):
                    self.emit("", line)
                amount = text
                parts += [(head + ',"amount":"',), amount, ('"}',)]
                shown = self.joined([(step,), *named, (',"amount":"',), amount, ('"}',)])
                self.emit("", f"steps[{self.totals[effect.output]}].append({shown})")
            else:
                parts += [(head + ',"set":',), self.json_of(self.output_types.get(effect.output), f"a[{k}]", ""),
                          ("}",)]
        return parts + [("]",)]

    def facts_statements(self, start: int) -> None:
        """The facts' JSON text, as parts of the entry's (`facts`): when every fact is always
        shown, the texts appended, written in the entry's own text; else a list joined at the end."""
        lines = self.lines[start:]
        if any(line[0] == " " or line.startswith(_BLOCKS) for line in lines):
            self.lines.insert(start, "facts = []")
            self.emit("", "facts = ','.join(facts)")
            self.facts = ["facts"]
            return
        kept, parts = [], []
        for line in lines:
            if line.startswith("facts.append("):
                parts += [(",",)] if parts else []
                parts += self.parts_of(line[len("facts.append("):-1])
            else:
                kept.append(line)
        self.lines[start:] = kept
        self.facts = parts

    def parts_of(self, text: str) -> list:
        """The parts of the code of a text that `joined` wrote (or of one name), its constants
        as texts again, for `joined` to merge with their neighbours."""
        names = _F_STRING_PART.findall(text) if text.startswith('f"') else [text]
        prefix = self.table.name + "_"
        return [(self.table.values[int(name[len(prefix):])],) if name.startswith(prefix) else name
                for name in names]

    def entry(self, rule, element: str, named: str, sentence: list) -> str:
        head = constant_json({"rule": rule.name, "clause": rule.clause, "cites": rule.clause_text,
                              "clauses": [{"clause": name, "cites": text} for name, text in rule.citations],
                              "outcome": rule.outcome})[:-1]
        shown: dict = {}  # the element's and its name's JSON, as parts for `joined`
        for name, code in (("element", element), ("named", named)):
            if code == "None":
                shown[name] = [("null",)]
            elif code in self.escaped_reads:  # a text the sentence shows, escaped already: quoted around it
                shown[name] = [('"',), self.escaped_reads[code], ('"',)]
            elif name == "element":  # a record's path: `$`, field names and indices, nothing to escape
                path = self.local("j")
                self.emit("", f"{path} = {code}")
                self.emit("", f"{path} = 'null' if {path} is None else f'\"{{{path}}}\"'")
                shown[name] = [path]
            elif code.startswith("e["):  # a record's first text
                shown[name] = [self.json_of(T.TEXT, code, "")]
            else:  # explain.element_name's JSON value
                shown[name] = [self.local("j")]
                self.emit("", f"{shown[name][0]} = _json({code})")
        effects = self.effects(rule, shown["named"])
        text = self.joined([(head + ',"element":',), *shown["element"], (',"element_name":',), *shown["named"],
                            (',"sentence":',), *sentence, (',"facts":[',), *self.facts, ('],"effects":',),
                            *effects, (',"line":' + constant_json(rule_line(rule)) + "}",)])
        return text


def json_statements(type_: T.Type | None, value: str, const) -> list[str]:
    """Statements making local `value` its own JSON text, as `orjson.dumps` writes the value as
    decision JSON shows a value of `type_` (values.json_formatter): money, dates and enum values
    written in place (nothing to escape), a text escaped only if it needs it, others by orjson.
    `const` names a constant of the generated code."""
    inner = type_.inner if isinstance(type_, T.OptionalType) else type_
    to_json = json_formatter(type_)
    if inner in (T.MONEY, T.EXACT_MONEY):  # values.money_text, without a call when in cents already
        text = value + "_"
        return [f"{value} = 'null' if {value} is None else f'\"{{{text}}}\"' if {in_cents(text, f'{text} := str({value})')} "
                f"else f'\"{{_money_text({value})}}\"'"]
    if inner == T.DATE:
        return [f"{value} = 'null' if {value} is None else f'\"{{_day_text[{value}]}}\"'"]
    if inner == T.DATE_RANGE:
        return [f"{value} = 'null' if {value} is None else "
                f"f'[\"{{_day_text[{value}[0]]}}\",\"{{_day_text[{value}[1]]}}\"]'"]
    if isinstance(inner, T.EnumType):  # a member's name: nothing to escape; None is not a str
        return [f"{value} = f'\"{{{value}}}\"' if {value}.__class__ is str else _json({value})"]
    if inner == T.TEXT:
        return [f"{value} = f'\"{{{value}}}\"' if {value}.__class__ is str and {value}.isprintable() "
                f"and '\"' not in {value} and '\\\\' not in {value} else _json({value})"]
    if to_json is unchanged:
        return [f"{value} = _json({value})"]
    if to_json is plain_list:  # a list of texts or numbers is JSON as it is: orjson writes it
        return [f"{value} = _dumps({value}).decode() if {value}.__class__ is list else _json({const(to_json)}({value}))"]
    return [f"{value} = _json({const(to_json)}({value}))"]


# Types whose shown text (compiler/show.py) has nothing JSON escapes: digits, signs, dates, words.
_SAFE_SHOWN = (T.MONEY, T.EXACT_MONEY, T.DATE, T.DATE_RANGE, T.PERCENT, T.INTEGER, T.DAYS, T.BUSINESS_DAYS,
               T.BOOLEAN)
# The names in an f-string that `joined` wrote
_F_STRING_PART = re.compile(r"\{(\w+)\}")
# The statements that open a block: facts appended after one are not always appended.
_BLOCKS = ("try:", "except", "else:", "if ", "elif ", "for ", "while ")
