"""Code actions: the fixes the diagnostics already suggest, applied in one click.

A hint is a sentence for people; the forms below say exactly what to write in place of the text
the diagnostic points at (`did you mean`, `write X, not Y`, a missing `round`, or a message that
is itself `write X`, as for `14 day`), and only those become edits.
"""
from __future__ import annotations

import re

from lsprotocol import types as lsp

from rplang.policy_lang.errors import Diagnostic

from .diagnostics import to_lsp

_DID_YOU_MEAN = re.compile(r"did you mean `([^`]+)`\?")
_WRITE_NOT = re.compile(r"write `([^`]+)`, not `([^`]+)`")
_ROUND = "wrap it in `round(...)`"
_WRITE = re.compile(r"write `([^`]+)`\Z")


def fix(d: Diagnostic) -> tuple[str, str] | None:
    """The replacement of the diagnostic's text its hint suggests, and the action's title."""
    if d.span is None:
        return None
    written = d.span.text
    if (m := _WRITE.match(d.message)) is not None:
        return m.group(1), f"Write `{m.group(1)}`"
    if not d.hint:
        return None
    if (m := _DID_YOU_MEAN.search(d.hint)) is not None:
        return m.group(1), f"Change `{written}` to `{m.group(1)}`"
    if (m := _WRITE_NOT.search(d.hint)) is not None and m.group(2) == written:
        return m.group(1), f"Write `{m.group(1)}`"
    if d.hint.startswith(_ROUND):
        return f"round({written})", f"Round `{written}` to the cent"
    return None


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    def code_actions(ls, params: lsp.CodeActionParams) -> list[lsp.CodeAction] | None:
        analysis = ls.analysis(params.text_document.uri)
        start, end = analysis.lines.offset(params.range.start), analysis.lines.offset(params.range.end)
        actions = []
        for d in analysis.diagnostics:
            if d.span is None or d.span.source.text is not analysis.text or d.span.end < start or d.span.start > end:
                continue
            found = fix(d)
            if found is None:
                continue
            replacement, title = found
            actions.append(lsp.CodeAction(
                title=title, kind=lsp.CodeActionKind.QuickFix, is_preferred=True,
                diagnostics=[to_lsp(d, analysis, ls.errors_url)],
                edit=lsp.WorkspaceEdit(changes={analysis.uri: [
                    lsp.TextEdit(analysis.lines.span_range(d.span), replacement)]})))
        return actions
