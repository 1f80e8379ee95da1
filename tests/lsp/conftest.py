"""A real language-server session: `rpl lsp` as a subprocess, spoken to over stdio with pygls's client.

The client's event loop runs in a thread of its own, so tests call it like a plain function;
every wait is bounded in time.
"""
from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("pygls")
from lsprotocol import types as lsp  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

TIMEOUT = 30.0


class Session:
    """A client connected to one server process; each call waits for its answer."""

    def __init__(self, debounce_ms: int = 20, encodings: list[str] | None = None, command: list[str] | None = None):
        self.debounce_ms = debounce_ms
        self.command = command or [sys.executable, "-m", "rplang.cli", "lsp"]  # the server to start
        self.encodings = encodings  # the position encodings the client offers (LSP's default: UTF-16)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.diagnostics: dict[str, list[lsp.PublishDiagnosticsParams]] = {}
        self.messages: list[lsp.ShowMessageParams] = []
        self.changed = threading.Condition()
        self.versions: dict[str, int] = {}
        self.client = self.run(self._start())

    def run(self, coroutine, timeout: float = TIMEOUT):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _start(self) -> LanguageClient:
        client = LanguageClient("rpl-tests", "1")

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: lsp.PublishDiagnosticsParams):
            with self.changed:
                self.diagnostics.setdefault(params.uri, []).append(params)
                self.changed.notify_all()

        @client.feature(lsp.WINDOW_SHOW_MESSAGE)
        def show_message(params: lsp.ShowMessageParams):
            with self.changed:
                self.messages.append(params)
                self.changed.notify_all()

        @client.feature(lsp.WINDOW_LOG_MESSAGE)
        def log_message(params: lsp.LogMessageParams):
            if params.type == lsp.MessageType.Error:
                show_message(lsp.ShowMessageParams(params.type, params.message))

        await client.start_io(*self.command)
        await client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(general=lsp.GeneralClientCapabilities(
                position_encodings=self.encodings)) if self.encodings else lsp.ClientCapabilities(),
            initialization_options={"debounceMs": self.debounce_ms}))
        client.initialized(lsp.InitializedParams())
        return client

    def close(self) -> None:
        async def stop():
            await self.client.shutdown_async(None)
            self.client.exit(None)
            await self.client.stop()
        try:
            self.run(stop(), timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)

    # ---- documents ------------------------------------------------------------------------------

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.resolve().as_uri()
        text = path.read_text(encoding="utf-8") if text is None else text
        self.versions[uri] = 1
        self.diagnostics.pop(uri, None)
        self.loop.call_soon_threadsafe(self.client.text_document_did_open, lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="rpl", version=1, text=text)))
        return uri

    def change(self, uri: str, text: str | None = None, edit: tuple[lsp.Range, str] | None = None) -> int:
        """Replace the whole text, or one range of it (an incremental change)."""
        self.versions[uri] += 1
        change = (lsp.TextDocumentContentChangeWholeDocument(text) if edit is None
                  else lsp.TextDocumentContentChangePartial(range=edit[0], text=edit[1]))
        self.loop.call_soon_threadsafe(self.client.text_document_did_change, lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]), [change]))
        return self.versions[uri]

    def close_document(self, uri: str) -> None:
        self.loop.call_soon_threadsafe(self.client.text_document_did_close, lsp.DidCloseTextDocumentParams(
            lsp.TextDocumentIdentifier(uri)))

    def wait_diagnostics_with(self, uri: str, codes: list[str], timeout: float = TIMEOUT) -> list[lsp.Diagnostic]:
        """The diagnostics of the latest version once they hold these codes, in order: the solver's
        warnings follow the compiler's in a second publication."""
        want = self.versions[uri]

        def latest():
            shown = [p for p in self.diagnostics.get(uri, ()) if p.version == want]
            return shown[-1].diagnostics if shown else None

        with self.changed:
            ok = self.changed.wait_for(lambda: latest() is not None and [d.code for d in latest()] == codes, timeout)
            found = latest()
        assert ok, f"the diagnostics of {uri} were {[d.code for d in found or ()]}, not {codes}, within {timeout} s"
        return list(found)

    def wait_diagnostics(self, uri: str, version: int | None = None, timeout: float = TIMEOUT) -> list[lsp.Diagnostic]:
        """The diagnostics published for a version of a document (by default its latest)."""
        want = self.versions[uri] if version is None else version
        with self.changed:
            ok = self.changed.wait_for(
                lambda: any(p.version == want for p in self.diagnostics.get(uri, ())), timeout)
        assert ok, f"no diagnostics for version {want} of {uri} within {timeout} s"
        return list(next(p for p in reversed(self.diagnostics[uri]) if p.version == want).diagnostics)

    # ---- requests -------------------------------------------------------------------------------

    def hover(self, uri: str, at: lsp.Position) -> lsp.Hover | None:
        return self.run(self.client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), at)))

    def definition(self, uri: str, at: lsp.Position):
        return self.run(self.client.text_document_definition_async(
            lsp.DefinitionParams(lsp.TextDocumentIdentifier(uri), at)))

    def references(self, uri: str, at: lsp.Position, declaration: bool = True):
        return self.run(self.client.text_document_references_async(lsp.ReferenceParams(
            text_document=lsp.TextDocumentIdentifier(uri), position=at,
            context=lsp.ReferenceContext(include_declaration=declaration))))

    def rename(self, uri: str, at: lsp.Position, new_name: str):
        return self.run(self.client.text_document_rename_async(
            lsp.RenameParams(lsp.TextDocumentIdentifier(uri), at, new_name)))

    def completion(self, uri: str, at: lsp.Position) -> list[lsp.CompletionItem]:
        found = self.run(self.client.text_document_completion_async(
            lsp.CompletionParams(lsp.TextDocumentIdentifier(uri), at)))
        return found.items if isinstance(found, lsp.CompletionList) else (found or [])

    def formatting(self, uri: str):
        return self.run(self.client.text_document_formatting_async(lsp.DocumentFormattingParams(
            lsp.TextDocumentIdentifier(uri), lsp.FormattingOptions(tab_size=2, insert_spaces=True))))

    def symbols(self, uri: str):
        return self.run(self.client.text_document_document_symbol_async(
            lsp.DocumentSymbolParams(lsp.TextDocumentIdentifier(uri))))

    def code_actions(self, uri: str, where: lsp.Range):
        return self.run(self.client.text_document_code_action_async(lsp.CodeActionParams(
            lsp.TextDocumentIdentifier(uri), where, lsp.CodeActionContext(diagnostics=[]))))

    def code_lens(self, uri: str):
        return self.run(self.client.text_document_code_lens_async(
            lsp.CodeLensParams(lsp.TextDocumentIdentifier(uri))))

    def execute(self, command: str, arguments: list):
        return self.run(self.client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command, arguments)))

    def errors(self) -> list[str]:
        """Errors the server reported outside any answer (a crash in a notification handler)."""
        return [m.message for m in self.messages if m.type == lsp.MessageType.Error]


@pytest.fixture(scope="package")
def session():
    """One server for every test of tests/lsp: starting one takes a second or more."""
    s = Session()
    yield s
    s.close()


def position(text: str, needle: str, nth: int = 0, into: int = 0) -> lsp.Position:
    """The LSP position `into` characters into the `nth` occurrence of `needle` (ASCII lines)."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    at += into
    line = text.count("\n", 0, at)
    return lsp.Position(line, at - (text.rfind("\n", 0, at) + 1))


def text_at(text: str, where: lsp.Range) -> str:
    """The text of a range (ASCII, one line)."""
    lines = text.split("\n")
    assert where.start.line == where.end.line
    return lines[where.start.line][where.start.character:where.end.character]
