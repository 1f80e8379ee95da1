"""Diagnostics as you type: what `rpl check` reports (errors, else the static checks' warnings),
and the problems of examples, published a moment after the last change (debounced). The
solver's warnings take longer than the rest: they follow in a second publication, when any."""
from __future__ import annotations

import asyncio
import concurrent.futures
import re

from lsprotocol import types as lsp

from rplang.policy_lang.errors import Diagnostic

from .queries import Analysis, is_examples, path_of

_SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}


def to_lsp(d: Diagnostic, analysis: Analysis, errors_url: str | None) -> lsp.Diagnostic:
    """One diagnostic in LSP's terms. The hint is its own line of the message (LSP has no field for
    it) and also `data.hint`, which the code actions read."""
    span = d.span if d.span is not None and d.span.source.text == analysis.text else None
    where = analysis.lines.span_range(span) if span is not None else lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    message = d.message + (f"\nhelp: {d.hint}" if d.hint else "")
    if d.span is not None and span is None:  # about another file (a request an example reads)
        message = f"{d.span.location()}: {message}"
    return lsp.Diagnostic(
        range=where, message=message, severity=_SEVERITY.get(d.severity, lsp.DiagnosticSeverity.Error),
        code=d.code, source="rpl",
        code_description=lsp.CodeDescription(href=errors_url.format(code=d.code)) if errors_url else None,
        related_information=_related(d, analysis),
        data={"hint": d.hint} if d.hint else None)


def _related(d: Diagnostic, analysis: Analysis) -> list[lsp.DiagnosticRelatedInformation] | None:
    """The other places a diagnostic is about: the first declaration of a name declared twice;
    the other rule of two in conflict, or of a rule that never matters."""
    # (the index is built only for these: a large policy's takes longer than its diagnostics)
    if d.code not in ("RPL010", "RPL121", "RPL130") or d.span is None or not analysis.current \
            or analysis.index is None:
        return None
    index, places = analysis.index, []
    if d.code == "RPL010":
        here = index.at(d.span.start)
        first = index.declaration(here.key) if here is not None else None
        if first is not None and first.name_span.start != d.span.start:
            places.append((first.name_span, "declared first here"))
    elif d.code in ("RPL121", "RPL130"):
        for name in re.findall(r"the rules? `(\w+)`(?: and `(\w+)`)?|, `(\w+)` gives", d.message):
            for rule in filter(None, name):
                other = index.declaration(("rule", "", rule))
                if other is not None and not other.span.start <= d.span.start < other.span.end:
                    places.append((other.name_span, f"the rule `{rule}`"))
    return [lsp.DiagnosticRelatedInformation(lsp.Location(analysis.uri, analysis.lines.span_range(span)), what)
            for span, what in places] or None


def publish(server, uri: str, analysis: Analysis | None = None) -> None:
    document = server.open_document(uri)
    if document is None:
        return
    if analysis is None:
        analysis = server.analysis(uri, wait=True)
    server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
        uri=uri, version=analysis.version,
        diagnostics=[to_lsp(d, analysis, server.errors_url) for d in analysis.diagnostics]))


# The solver's checks run on a thread of their own: on the loop's executor, the next version's
# analysis would queue behind them (a quarter of a second on Aputure).
_SOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="rpl-solver")


async def add_solver_checks(server, uri: str, analysis: Analysis) -> None:
    """Publish again once the solver's warnings are known, if they add any and the version is
    still the one shown (the compiler's diagnostics were published without waiting for them)."""
    def shown() -> bool:
        document = server.open_document(uri)
        return document is not None and document.version == analysis.version

    def check() -> bool:  # a version typed over while it waited for the thread is not checked
        return shown() and analysis.add_solver_checks()

    if await asyncio.get_running_loop().run_in_executor(_SOLVER, check) and shown():
        publish(server, uri, analysis)


# How long the typing must pause before the index of the version shown is built (a tenth of a
# second on a 1,000-rule policy): built after every edit, it would hold up the next version's check.
INDEX_WHEN_IDLE_SECONDS = 0.5


def register(server) -> None:
    pending: dict[str, asyncio.Task] = {}
    indexing: dict[str, asyncio.Task] = {}

    async def index_when_idle(analysis: Analysis, delay: float = INDEX_WHEN_IDLE_SECONDS) -> None:
        await asyncio.sleep(delay)
        await asyncio.get_running_loop().run_in_executor(None, lambda: analysis.index)

    async def later(uri: str) -> None:
        await asyncio.sleep(server.debounce_seconds)
        document = server.open_document(uri)
        if document is None:
            return
        # Checked in a worker thread, so that hovers and completions are answered meanwhile.
        version, text = document.version, document.source
        analysis = await asyncio.get_running_loop().run_in_executor(
            None, server.queries.analysis, uri, version, text)
        if pending.get(uri) is asyncio.current_task():
            pending.pop(uri)
        if document.version == version:  # else a newer version is on its way
            publish(server, uri, analysis)
            _republish_examples(server, uri)
            indexing[uri] = asyncio.get_running_loop().create_task(index_when_idle(analysis))
            await add_solver_checks(server, uri, analysis)

    def cancel(uri: str) -> None:
        for tasks in (pending, indexing):
            task = tasks.pop(uri, None)
            if task is not None:
                task.cancel()

    def schedule(uri: str) -> None:
        cancel(uri)
        pending[uri] = asyncio.get_running_loop().create_task(later(uri))

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls, params: lsp.DidOpenTextDocumentParams) -> None:
        uri = params.text_document.uri
        cancel(uri)
        analysis = ls.analysis(uri, wait=True)
        publish(ls, uri, analysis)  # at once: the file was just opened, nobody is typing
        indexing[uri] = asyncio.get_running_loop().create_task(index_when_idle(analysis, 0))
        await add_solver_checks(ls, uri, analysis)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls, params: lsp.DidChangeTextDocumentParams) -> None:
        schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls, params: lsp.DidSaveTextDocumentParams) -> None:
        schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    async def did_close(ls, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        cancel(uri)
        ls.queries.forget(uri)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _republish_examples(server, uri: str) -> None:
    """A change to a policy may break or mend its open examples file: check that one again."""
    path = path_of(uri)
    if path is None or is_examples(path) or path.suffix != ".rpl":
        return
    examples = server.open_document((path.with_suffix("") / "examples.rpl").as_uri())
    if examples is not None:  # under the URI the editor gave it
        server.queries.forget(examples.uri)
        publish(server, examples.uri)
