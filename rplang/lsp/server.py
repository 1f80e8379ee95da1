"""The language server: the documents the editor has open, and the features, one module each."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from rplang.policy_lang.errors import PolicyError
from rplang.policy_lang.source_text import read_policy_file

from .queries import Analysis, Queries, path_of

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
        open_document = self.open_document(path.as_uri())
        if open_document is not None:
            return open_document.source
        try:
            return read_policy_file(path)
        except PolicyError:  # not there, no file (a pipe), too long, not UTF-8
            return None

    def open_document(self, uri: str):
        """The editor's buffer of a URI, if open; pygls keys them by the URI unquoted (a path with
        a space or an `é` is quoted by `Path.as_uri`, and may be either way from the editor)."""
        return self.workspace.text_documents.get(unquote(uri))

    def analysis(self, uri: str, wait: bool = False) -> Analysis:
        """What the compiler says about the open document; a feature does not `wait` for a long
        check of a version being typed (see `Queries.analysis`)."""
        document = self.open_document(uri)
        if document is not None:
            return self.queries.analysis(uri, document.version, document.source, wait)
        # Not open in the editor (a request raced a close, or names another file): its text is
        # read as any policy file is, never pygls's way (which reads any path whole, /dev/zero
        # too); a URI with no such file is an empty document, and its answers are empty.
        path = path_of(uri)
        text = self.text_of(path) if path is not None else None
        return self.queries.analysis(uri, None, text or "", wait)


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
    import sys

    # A check runs in a worker thread while the loop answers hovers and completions; each answer
    # needs the interpreter's lock several times (reading, answering, writing), and waits up to
    # the switch interval each time (5 ms by default) while the check holds it.
    sys.setswitchinterval(0.001)
    server = build_server()
    server.start_io()
