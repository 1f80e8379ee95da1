"""The outline: each declaration, with the fields of records, the values of enums, the outcomes."""
from __future__ import annotations

from lsprotocol import types as lsp

from rplang.compiler.expression_support import lead_span, name_span
from rplang.policy_lang import ast

from .positions import Lines

K = lsp.SymbolKind
_KINDS = {ast.Clause: ("clause", K.String), ast.Parameter: ("parameter", K.Constant), ast.EnumDecl: ("enum", K.Enum),
          ast.RecordDecl: ("record", K.Struct), ast.Let: ("let", K.Variable), ast.Rule: ("rule", K.Function),
          ast.OutputDecl: ("output", K.Property), ast.Example: ("example", K.Event), ast.Table: ("table", K.Array)}


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbols(ls, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol] | None:
        analysis = ls.analysis(params.text_document.uri)
        if analysis.tree is None:
            return None  # no outline of a text that does not parse; the editor keeps the last one
        return outline(analysis.tree, analysis.lines)


def outline(tree: ast.Policy, lines: Lines) -> list[lsp.DocumentSymbol]:
    found = []
    for d in tree.declarations:
        if d.span is None:
            continue
        if isinstance(d, ast.RequestDecl):
            found.append(_symbol("request", "", K.Struct, d.span, d.span, lines, _fields(d.fields, lines)))
        elif isinstance(d, ast.OutcomesDecl):
            children = [_symbol(o.name, f"\"{o.label}\"", K.EnumMember, o.span, lead_span(o.span, o.name), lines)
                        for o in d.outcomes if o.span is not None]
            found.append(_symbol("outcomes", "", K.Enum, d.span, d.span, lines, children))
        elif type(d) in _KINDS:
            detail, kind = _KINDS[type(d)]
            name = d.name
            at = d.span if isinstance(d, ast.Example) else name_span(d.span, name)
            children = []
            if isinstance(d, ast.RecordDecl):
                children = _fields(d.fields, lines)
            elif isinstance(d, ast.EnumDecl):
                children = [_symbol(m, "", K.EnumMember, s, s, lines) for m, s in zip(d.members, d.member_spans)]
            found.append(_symbol(name, detail, kind, d.span, at, lines, children))
    return found


def _fields(fields, lines: Lines) -> list[lsp.DocumentSymbol]:
    return [_symbol(f.name, f.label or "", K.Field, f.span, lead_span(f.span, f.name), lines)
            for f in fields if f.span is not None]


def _symbol(name, detail, kind, span, at, lines: Lines, children=None) -> lsp.DocumentSymbol:
    whole = lines.span_range(span)
    return lsp.DocumentSymbol(name=name or "?", detail=detail, kind=kind, range=whole,
                              selection_range=lines.span_range(at), children=children or None)
