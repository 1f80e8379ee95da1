"""Completion: what may be written where the cursor is.

The text being typed rarely parses (`item.` is not yet an expression), so the context is read
from the text before the cursor and the names from the index of the last version that parsed.
"""
from __future__ import annotations

import re

from lsprotocol import types as lsp

from rplang.policy_lang import ast
from rplang.policy_lang.grammar import KEYWORDS
from rplang.policy_lang.syntax_text import DECLARATION_KEYWORDS

from .index import Index, Resolver
from .queries import Analysis

_AFTER_DOT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\.([A-Za-z0-9_]*)$")
_AFTER_CITES = re.compile(r"\bcites\s+([A-Za-z0-9_]*)$")
_AFTER_THEN = re.compile(r"\bthen\s+([A-Za-z0-9_]*)$")
_AFTER_OUTPUT = re.compile(r"(?:\bto|\bfrom|\bset|\bexpect)\s+([A-Za-z0-9_]*)$")
_AFTER_IS = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s+(?:is|is\s+not|=)\s+([A-Za-z0-9_]*)$")
_IN_SET = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)\s+(?:not\s+)?in\s+\{[^}]*?([A-Za-z0-9_]*)$")
_SET_TO = re.compile(r"(?:\bset\s+([A-Za-z_][A-Za-z0-9_]*)\s+to|\bexpect\s+([A-Za-z_][A-Za-z0-9_]*)\s*=)\s+([A-Za-z0-9_]*)$")
_RULE_VALUE = re.compile(r"^[ \t]+let[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*=", re.M)  # a rule's own value
_BINDING = re.compile(r"\b(?:each|any|every|no)\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\s+([A-Za-z_][A-Za-z0-9_.]*)")
_DECLARATION_START = re.compile(r"^(?:" + "|".join(DECLARATION_KEYWORDS) + r")\b", re.M)

SNIPPETS = {
    "rule": 'rule ${1:name}:\n  cites ${2:clause}\n  when ${3:condition}\n  then ${4:outcome}\n  because "${5:why}"',
    "clause": 'clause ${1:name}: "${2:the published text}"',
    "parameter": "parameter ${1:name} = ${2:14 days}",
    "example": 'example "${1:what it shows}":\n  request "${2:requests/example.json}"\n  expect ${3:outcome} = ${4:approve}',
}


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[".", " ", "{"]))
    def completion(ls, params: lsp.CompletionParams) -> lsp.CompletionList | None:
        analysis = ls.analysis(params.text_document.uri)
        offset = analysis.lines.offset(params.position)
        return lsp.CompletionList(is_incomplete=False, items=complete(analysis, offset))


def complete(analysis: Analysis, offset: int) -> list[lsp.CompletionItem]:
    text = analysis.text
    line_start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    before = text[line_start:offset]
    index = analysis.index
    if index is None:
        return _keywords(before) if not before.strip() or before.strip().isidentifier() else []
    declaration = _declaration_before(text, offset)
    walker = Resolver(index)
    scope = _scope(declaration, walker)
    if (m := _AFTER_DOT.search(before)) is not None:
        base = _type_of_path(m.group(1), walker, scope)
        if base is None or base[0] != "record":
            return []
        return [_field_item(f) for f in index.records.get(base[1], {}).values()]
    if _AFTER_CITES.search(before):
        return [lsp.CompletionItem(name, kind=lsp.CompletionItemKind.Reference, detail="clause",
                                   documentation=clause.text) for name, clause in index.clauses.items()]
    if (m := _IN_SET.search(before)) or (m := _AFTER_IS.search(before)):
        expected = _type_of_path(m.group(1), walker, scope)
        if expected is not None and expected[0] == "enum":
            return _members(index, expected[1])
    if (m := _SET_TO.search(before)) is not None:  # `set refund_method to `, `expect refund_method = `
        output = index.outputs.get(m.group(1) or m.group(2))
        expected = walker.type_of_decl(output.type) if output is not None else None
        if expected is not None and expected[0] == "enum":
            return _members(index, expected[1])
        if output is not None and output.type is None:  # the outcome
            return _outcomes(index)
    items: list[lsp.CompletionItem] = []
    if _AFTER_THEN.search(before):
        items += _outcomes(index)
    if _AFTER_OUTPUT.search(before):
        items += [lsp.CompletionItem(name, kind=lsp.CompletionItemKind.Property, detail="output")
                  for name in index.outputs]
    items += _values(index, scope)
    items += _keywords(before)
    return items


def _declaration_before(text: str, offset: int) -> str:
    """The text of the declaration the cursor is in, up to the cursor."""
    starts = [m.start() for m in _DECLARATION_START.finditer(text, 0, offset)]
    return text[starts[-1] if starts else 0:offset]


def _scope(declaration: str, walker: Resolver) -> dict:
    """The variables bound before the cursor in its declaration (`for each item in items`)."""
    scope: dict = {}
    for m in _BINDING.finditer(declaration):
        source = _type_of_path(m.group(2), walker, scope)
        scope[m.group(1)] = (None, source[1] if source is not None and source[0] == "list" else None)
    for m in _RULE_VALUE.finditer(declaration):
        scope[m.group(1)] = (None, None)
    return scope


def _type_of_path(path: str, walker: Resolver, scope: dict):
    names = path.split(".")
    expr: ast.Name | ast.Field = ast.Name(names[0])
    for name in names[1:]:
        expr = ast.Field(expr, name)
    return walker.type_of(expr, scope)


def _field_item(f: ast.FieldDecl) -> lsp.CompletionItem:
    written = f.span.text.split(":", 1)[1].strip() if f.span is not None and ":" in f.span.text else None
    return lsp.CompletionItem(f.name, kind=lsp.CompletionItemKind.Field, detail=written,
                              documentation=f.label)


def _members(index: Index, enum: str) -> list[lsp.CompletionItem]:
    return [lsp.CompletionItem(m, kind=lsp.CompletionItemKind.EnumMember, detail=enum, preselect=i == 0)
            for i, m in enumerate(index.enums.get(enum, ()))]


def _outcomes(index: Index) -> list[lsp.CompletionItem]:
    return [lsp.CompletionItem(name, kind=lsp.CompletionItemKind.EnumMember, detail=f"outcome \"{o.label}\"")
            for name, o in index.outcomes.items()]


def _values(index: Index, scope: dict) -> list[lsp.CompletionItem]:
    items = [lsp.CompletionItem(name, kind=lsp.CompletionItemKind.Variable, detail="variable", sort_text="0" + name)
             for name in scope]
    items += [lsp.CompletionItem(name, kind=lsp.CompletionItemKind.Variable, detail="let", sort_text="1" + name)
              for name in index.lets]
    items += [lsp.CompletionItem(name, kind=lsp.CompletionItemKind.Constant, detail="parameter", sort_text="1" + name)
              for name in index.parameters]
    items += [lsp.CompletionItem(name, kind=lsp.CompletionItemKind.Field, detail="request field", sort_text="1" + name)
              for name in index.request]
    items += [lsp.CompletionItem(name, kind=lsp.CompletionItemKind.Constant, detail="table", sort_text="1" + name,
                                 insert_text=f"{name}[$1]", insert_text_format=lsp.InsertTextFormat.Snippet)
              for name in index.tables]
    seen = set()
    for enum, members in index.enums.items():
        for m in members:
            if m not in seen:
                seen.add(m)
                items.append(lsp.CompletionItem(m, kind=lsp.CompletionItemKind.EnumMember, detail=enum, sort_text="2" + m))
    return items


# Words of the grammar that are not quoted in it (they are keywords only before `of`).
_DATE_WORDS = ("year of", "month of", "day of", "weekday of", "end of month of", "start of", "end of")


def _keywords(before: str) -> list[lsp.CompletionItem]:
    items = [lsp.CompletionItem(k, kind=lsp.CompletionItemKind.Keyword, sort_text="3" + k) for k in sorted(KEYWORDS)]
    items += [lsp.CompletionItem(w, kind=lsp.CompletionItemKind.Function, detail="a part of a date",
                                 sort_text="3" + w) for w in _DATE_WORDS]
    if before == before.lstrip() and (not before or before.isidentifier()):
        # A snippet starts a declaration, at the start of a line.
        items += [lsp.CompletionItem(name, kind=lsp.CompletionItemKind.Snippet, detail=f"a new {name}",
                                     insert_text=body, insert_text_format=lsp.InsertTextFormat.Snippet,
                                     sort_text="4" + name)
                  for name, body in SNIPPETS.items()]
    return items
