"""The language server: the documents the editor has open, and the features, one module each."""
from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from .queries import Analysis, Queries

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class RplServer(LanguageServer):
    """pygls's server, with the query layer and the client's settings."""

    def __init__(self):
        from importlib.metadata import PackageNotFoundError, version

        try:
            own_version = version("rplang")
        except PackageNotFoundError:  # run from a checkout that was not installed
            own_version = "dev"
        super().__init__("rpl", own_version)
        self.queries = Queries(self.text_of)
        # Settings the client may give in `initializationOptions` (see editors/README.md).
        self.debounce_seconds = 0.15
        self.errors_url: str | None = None

    def configure(self, options) -> None:
        if not isinstance(options, dict):
            return
        delay = options.get("debounceMs")
        if isinstance(delay, (int, float)) and 0 <= delay <= 10_000:
            self.debounce_seconds = delay / 1000
        url = options.get("errorsUrl")
        if isinstance(url, str) and "{code}" in url:
            self.errors_url = url

    def text_of(self, path: Path) -> str | None:
        """A file's text: the open buffer if the editor has it, else the file on disk."""
        open_document = self.workspace.text_documents.get(path.as_uri())
        if open_document is not None:
            return open_document.source
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def analysis(self, uri: str, wait: bool = False) -> Analysis:
        """What the compiler says about the open document; a feature does not `wait` for a long
        check of a version being typed (see `Queries.analysis`)."""
        document = self.workspace.get_text_document(uri)
        return self.queries.analysis(uri, document.version, document.source, wait)


def word_at(text: str, offset: int) -> tuple[int, int] | None:
    """The word under the cursor, or just before it."""
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    found = _WORD.match(text, start)
    return (found.start(), found.end()) if found else None


def symbol_at(analysis: Analysis, offset: int):
    """The occurrence of a name at an offset of the document's text.

    When this version does not parse (or is still being checked), the last version analysed is
    asked by the word under the cursor: of the names so written there, the one that was nearest.
    """
    index = analysis.index
    if index is None:
        return None
    if analysis.current:
        return index.at(offset)
    word = word_at(analysis.text, offset)
    if word is None:
        return None
    name = analysis.text[word[0]:word[1]]
    same = [o for o in index.occurrences if o.key[2] == name]
    return min(same, key=lambda o: abs(o.start - word[0]), default=None)


def build_server() -> RplServer:
    from . import code_actions, code_lens, completion, diagnostics, formatting, hover, navigation, symbols

    server = RplServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: RplServer, params: lsp.InitializeParams) -> None:
        ls.configure(params.initialization_options)
        chosen = ls.workspace.position_encoding  # pygls chose it from what the client offered
        ls.queries.encoding = getattr(chosen, "value", chosen) or "utf-16"

    for feature in (diagnostics, hover, navigation, completion, formatting, symbols, code_actions, code_lens):
        feature.register(server)
    return server


def main() -> None:
    server = build_server()
    server.start_io()
