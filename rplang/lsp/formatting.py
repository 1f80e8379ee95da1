"""Formatting with `rpl fmt` (rplang.policy_lang.format): the whole document, one edit."""
from __future__ import annotations

from lsprotocol import types as lsp

from rplang.policy_lang.errors import PolicyError
from rplang.policy_lang.format import FormatterBug, format_policy


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
        analysis = ls.analysis(params.text_document.uri)
        try:
            formatted = format_policy(analysis.text, analysis.name)
        except PolicyError:
            return None  # a file that does not parse is left as it is; its diagnostics say why
        except FormatterBug as error:
            ls.window_show_message(lsp.ShowMessageParams(lsp.MessageType.Warning, str(error)))
            return None
        if formatted == analysis.text:
            return []
        return [lsp.TextEdit(analysis.lines.whole(), formatted)]
