"""What the workbench shows about a policy text being edited, each answer from the library's own
path for it: diagnostics as `rpl check`, decisions as `rpl eval --partial`, examples and coverage
as `rpl test`, impact as `rpl diff`, the graph as `rpl graph`, the document as `rpl doc`.

The page sends the whole text on every change; a text is compiled once and kept (a few of the
latest texts), so a keystroke's diagnostics, decision and examples share one compilation.
"""
from __future__ import annotations

import os
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path

from rplang.compiler import compile_policy, render_graph
from rplang.compiler.document import render_html
from rplang.compiler.lint import lint_policy
from rplang.policy_lang.errors import Diagnostic, PolicyError, RequestError, RplError
from rplang.runtime import CompiledPolicy
from rplang.runtime.impact import Decided, compare
from rplang.runtime.request_text import read_request_json
from rplang.runtime.testing import coverage, coverage_percent, failure_text, load_suite, run_suite

from .folder import Folder

KEPT_TEXTS = 8  # compiled texts kept: the saved one and the latest edits
SHOWN_CHANGES = 50  # changed requests listed by the impact


class Analysis:
    """The library's answers about policy texts of one folder, with a small cache of compilations."""

    def __init__(self, folder: Folder):
        self.folder = folder
        self._compiled: OrderedDict[tuple[str, str], CompiledPolicy | PolicyError] = OrderedDict()
        self._lock = threading.Lock()
        self._latest_edit: dict[str, int] = {}  # policy -> the number of the page's latest edit
        self._asking = threading.local()  # the edit this thread answers about (see `answer`)
        # policy -> its saved text, compiled, and its decisions per corpus: kept apart from the
        # edits' compilations, which typing soon pushes out, since every impact compares with it
        self._saved: dict[str, tuple[str, CompiledPolicy, dict[str, Decided]]] = {}

    def edited(self, name: str, edit: int | None) -> None:
        """The page numbers its edits and sends the number with each question: an impact still
        running for an older edit then stops (see `_until_newer_edit`)."""
        if edit is not None and edit > self._latest_edit.get(name, -1):
            self._latest_edit[name] = edit

    def _newer_edit(self, name: str, edit: int | None) -> bool:
        return edit is not None and self._latest_edit.get(name, -1) > edit

    def answer(self, name: str, edit: int | None, handler, *args) -> dict:
        """`handler`'s answer about the page's edit number `edit`, or `superseded` when a newer
        edit came while its text waited to be compiled: keys held down send a text per repeat,
        and compiling each one the page no longer shows would delay the latest one's answers."""
        self._asking.edit, self._asking.name = edit, name
        try:
            return handler(*args)
        except _Superseded:
            return {"status": "superseded"}
        finally:
            self._asking.edit = None

    def compiled(self, text: str, name: str) -> CompiledPolicy:
        """The compiled policy of a text; raises PolicyError with every problem."""
        key = (name, text)
        with self._lock:  # one compilation per text, even when requests about it come together
            found = self._compiled.get(key)
            if found is None and getattr(self._asking, "name", None) == name \
                    and self._newer_edit(name, getattr(self._asking, "edit", None)):
                raise _Superseded()
            if found is None:
                try:
                    found = CompiledPolicy(compile_policy(text, name))
                except PolicyError as error:
                    found = error
                self._compiled[key] = found
                while len(self._compiled) > KEPT_TEXTS:
                    self._compiled.popitem(last=False)
            else:
                self._compiled.move_to_end(key)
        if isinstance(found, PolicyError):
            raise found
        return found

    def saved(self, name: str) -> tuple[CompiledPolicy, dict[str, Decided]]:
        """The policy as saved on disk, and its decisions kept per corpus."""
        text = self.folder.read(name)[0]
        kept = self._saved.get(name)
        if kept is None or kept[0] != text:
            kept = self._saved[name] = (text, self.compiled(text, name), {})
        return kept[1], kept[2]

    # ---- diagnostics (rpl check)

    def check(self, text: str, name: str) -> dict:
        """Every error, else the static checks' warnings, as `rpl check --format json` gives them,
        each with where it is in the editor's terms (UTF-16 offsets)."""
        try:
            found = lint_policy(self.compiled(text, name).checked)
        except PolicyError as error:
            found = list(error.diagnostics)
        return {"diagnostics": [_diagnostic_json(d, text) for d in found],
                "errors": sum(d.severity == "error" for d in found)}

    # ---- Try (rpl eval --partial, rpl explain --partial)

    def decide(self, text: str, name: str, request_text: str) -> dict:
        """The decision on a request; facts declared `at STAGE` may be left out (a residual decision)."""
        try:
            policy = self.compiled(text, name)
        except PolicyError as error:
            return {"status": "policy_error", "errors": len(error.diagnostics)}
        try:
            residual = policy.decide_partial(read_request_json(request_text))
            data = residual.to_json()
            return {"status": "decided", "final": residual.final, "decision": data,
                    "explanation": residual.explain_text()}
        except RequestError as error:
            return {"status": "request_error", "error": error.to_json()}
        except RplError as error:
            return {"status": "not_decided", "error": {"message": str(error)}}

    # ---- Examples (rpl test)

    def examples(self, text: str, name: str) -> dict:
        """The policy's examples, failures first, and per rule its coverage and its line."""
        path = self.folder.resolve(name)
        try:
            suite = load_suite(path, text, self.compiled(text, name))
        except PolicyError as error:
            return {"status": "policy_error", "errors": len(error.diagnostics),
                    "diagnostics": [_diagnostic_json(d, text, self.folder) for d in error.diagnostics]}
        results = run_suite(suite)
        rows = coverage(suite, results)
        lines = {r.rule.name: r.rule.span.line for r in suite.policy.graph.rules if r.rule.span is not None}
        entries = [{"name": r.example.name, "passed": r.passed, **self._place(r.example.span, text),
                    "report": None if r.passed else self._report(failure_text(r))} for r in results]
        entries.sort(key=lambda e: e["passed"])  # failures first, each group in file order
        return {"status": "ran", "passed": sum(r.passed for r in results),
                "failed": sum(not r.passed for r in results), "examples": entries,
                "coverage": [{"rule": c.rule, "line": lines.get(c.rule), "fired": c.fired,
                              "seen_true": c.seen_true, "seen_false": c.seen_false, "both_ways": c.both_ways}
                             for c in rows],
                "coverage_percent": round(coverage_percent(rows), 1)}

    def _report(self, report: str) -> str:
        """A report as `rpl test` prints it, with the files named relative to the folder."""
        return report.replace(f"{self.folder.root}{os.sep}", "")

    def _place(self, span, text: str) -> dict:
        """Where an example is: its file (relative to the folder) and line, and its offset in
        the editor's terms when it is in the edited text."""
        if span is None:
            return {"file": None, "line": None, "from": None, "source": None}
        file = _relative_name(span.source.name, self.folder)
        same = span.source.text == text
        return {"file": file, "line": span.line, "from": _utf16(text, span.start) if same else None,
                "source": None if same else span.text}

    # ---- Impact (rpl diff)

    def impact(self, text: str, name: str, corpus: str | None, edit: int | None = None) -> dict:
        """The edited text against the saved file over a corpus of requests (JSONL); `edit`, the
        page's number of this text, stops it early when a newer edit comes."""
        corpus = corpus or self.folder.default_corpus(name)
        if corpus is None:
            return {"status": "no_corpus"}
        # lines as `rpl diff` reads them, ended by `\n` only: `splitlines` also ends one at a
        # U+2028 or a NEL, which JSON text may hold raw in a string
        lines = self.folder.read(corpus, (".jsonl",))[0].split("\n")
        try:
            before, decided = self.saved(name)
        except PolicyError as error:
            return {"status": "saved_policy_error", "errors": len(error.diagnostics)}
        try:
            after = self.compiled(text, name)
        except PolicyError as error:
            return {"status": "policy_error", "errors": len(error.diagnostics)}
        impact = compare(before, after, self._until_newer_edit(name, edit, lines), SHOWN_CHANGES,
                         decided.setdefault(corpus, Decided(before)))
        if self._newer_edit(name, edit):
            return {"status": "superseded"}
        data = impact.to_json()
        for example in data["examples"]:  # the request itself, to open it in Try
            example["request"] = lines[example["line"] - 1]
        return {"status": "compared", "corpus": corpus, **data}

    def _until_newer_edit(self, name: str, edit: int | None, lines: list[str]):
        """The corpus's lines, until a newer edit comes: an impact on 500 requests takes a while,
        and the next keystroke's diagnostics and decision must not wait for it (the page asks
        again, for the newer text, once typing pauses)."""
        for line in lines:
            if self._newer_edit(name, edit):
                return
            yield line

    # ---- Graph (rpl graph) and document (rpl doc)

    def graph(self, text: str, name: str, request_text: str | None) -> dict:
        """The rule graph as SVG (through Graphviz) or Mermaid, with the request's path if it decides."""
        try:
            policy = self.compiled(text, name)
        except PolicyError as error:
            return {"status": "policy_error", "errors": len(error.diagnostics)}
        path, not_decided = None, None
        if request_text:
            try:
                path = render_graph.decision_path(policy.decide_json(request_text))
            except RplError as error:
                not_decided = f"no path drawn: the request is not decided ({_first_line(error)})"
        picture = render_graph.picture(policy.graph, path)
        try:
            return {"status": "drawn", "format": "svg", "svg": render_graph.to_svg(render_graph.to_dot(picture)),
                    "note": not_decided}
        except render_graph.GraphvizMissing:
            fallback = ("Graphviz is not installed, so the graph is shown as Mermaid text "
                        "(install it with `apt-get install graphviz` to see the picture)")
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:  # `dot` failed
            fallback = f"Graphviz could not draw it ({_first_line(error)}), so the graph is shown as Mermaid text"
        return {"status": "drawn", "format": "mermaid", "mermaid": render_graph.to_mermaid(picture),
                "note": "; ".join(filter(None, [not_decided, fallback]))}

    def document(self, text: str, name: str) -> dict:
        try:
            policy = self.compiled(text, name)
        except PolicyError as error:
            return {"status": "policy_error", "errors": len(error.diagnostics)}
        return {"status": "rendered", "html": render_html(policy.checked)}


class _Superseded(Exception):
    """A newer edit came: this one's text is not worth compiling any more."""


def _diagnostic_json(d: Diagnostic, text: str, folder: Folder | None = None) -> dict:
    data = d.to_json()
    same = d.span is not None and d.span.source.text == text
    data["from"] = _utf16(text, d.span.start) if same else None
    data["to"] = _utf16(text, d.span.end) if same else None
    if folder is not None and data["file"] is not None:
        data["file"] = _relative_name(data["file"], folder)
    return data


def _utf16(text: str, offset: int) -> int:
    """A character offset as the browser counts it: in UTF-16 code units (astral characters are two)."""
    if text.isascii():
        return offset
    return offset + sum(1 for c in text[:offset] if ord(c) > 0xFFFF)


def _relative_name(name: str, folder: Folder) -> str:
    try:
        return folder.relative(Path(name))
    except (ValueError, OSError):
        return Path(name).name


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__

