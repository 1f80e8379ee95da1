"""The query layer: what the parser, the checker and the static checks say about one version of a
document, computed once per version and kept while the version lasts.

A document in the middle of being typed is the normal case. When the text does not parse, the
features that need names (hover, completion, definition) use the last version that did; its
offsets are those of that version, so they are shown only where the name is still there.
"""
from __future__ import annotations

import re
import threading

from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlparse

from rplang.compiler import lower, without_garbage_collection
from rplang.compiler.checked import CheckedPolicy
from rplang.compiler.checker import check_policy
from rplang.compiler.examples import check_examples, example_warnings
from rplang.compiler.lint import static_warnings
from rplang.policy_lang import ast, parse_policy
from rplang.policy_lang.errors import Diagnostic, PolicyError
from rplang.policy_lang.reparse import Reparser
from rplang.runtime.testing import EXAMPLES_FILE

from .index import Index
from .positions import Lines

# The text of a file: the editor's buffer if it is open, else what is on disk, else None.
TextOf = Callable[[Path], "str | None"]


def path_of(uri: str) -> Path | None:
    parsed = urlparse(uri)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else None


def policy_of_examples(path: Path) -> Path:
    """`NAME/examples.rpl` holds the examples of `NAME.rpl` beside the folder."""
    return path.parent.parent / (path.parent.name + ".rpl")


def is_examples(path: Path | None) -> bool:
    return path is not None and path.name == EXAMPLES_FILE


class Analysis:
    """One version of one document, as the compiler sees it."""

    def __init__(self, uri: str, version: int | None, text: str, previous: "Analysis | None",
                 text_of: TextOf, encoding: str = "utf-16", reparser: Reparser | None = None):
        self.uri, self.version, self.text = uri, version, text
        self.path = path_of(uri)
        self.name = str(self.path) if self.path else uri
        self.lines = Lines(text, encoding)
        self.tree: ast.Policy | None = None  # this version's, if it parses
        self.checked: CheckedPolicy | None = None  # this version's, if it checks
        self.policy_index: Index | None = None  # an examples file's policy
        self.diagnostics: list[Diagnostic] = []
        self.memo: dict = {}  # what features computed for this version (the examples' results)
        # The solver's checks take far longer than the rest (a quarter of a second on Aputure):
        # the compiler's diagnostics are shown first, the solver's added by `add_solver_checks`.
        self._solver_pending: tuple | None = None  # (graph, the compiler's warnings, the examples' problems)
        self._solver_lock = threading.Lock()
        if is_examples(self.path):
            self._examples(text_of)
        else:
            self._policy(reparser.parse if reparser is not None else parse_policy)
        # What the name-based features use: this version's tree (indexed when first asked, as
        # diagnostics do not need it), else the index of the last version that parsed.
        self._index: Index | None = None
        self._index_lock = threading.Lock()  # built once, whichever thread asks first
        if self.tree is None and previous is not None:
            self._index = previous.index
        # The newest index already built, for a version being typed (see `before_checking`).
        self.last_index = previous.built_index() if previous is not None else None
        self.last_checked = self.checked or (previous.last_checked if previous else None)
        self.current = self.tree is not None  # the index's offsets are this text's

    def _policy(self, parse: Callable[[str, str], ast.Policy]) -> None:
        with without_garbage_collection():
            try:
                self.tree = parse(self.text, self.name)
                self.checked = check_policy(self.tree)
                graph = lower(self.checked)  # as `rpl check` does: compiling may still refuse (limits)
            except PolicyError as error:
                self.diagnostics = list(error.diagnostics)
                return
            self.diagnostics = static_warnings(self.checked, self.text, self.name)
        own = [d for d in self.tree.declarations if isinstance(d, ast.Example)]
        examples = _example_problems(own, self.checked) if own else []
        self._solver_pending = (graph, self.diagnostics, examples)
        self.diagnostics = self.diagnostics + examples

    def add_solver_checks(self) -> bool:
        """Add the solver's warnings (rules in conflict, what never happens), as `rpl check` gives
        them; whether that changed the diagnostics. Done once, whichever thread asks first."""
        with self._solver_lock:
            if self._solver_pending is None:
                return False
            (graph, found, examples), self._solver_pending = self._solver_pending, None
            with_solver = _static_checks(graph, found)
            self.diagnostics = with_solver + examples
            return len(with_solver) != len(found)

    def _examples(self, text_of: TextOf) -> None:
        try:
            self.tree = parse_policy(self.text, self.name)
        except PolicyError as error:
            self.diagnostics = list(error.diagnostics)
        policy_path = policy_of_examples(self.path)
        policy_text = text_of(policy_path)
        if policy_text is None:
            return
        try:
            policy_tree = parse_policy(policy_text, str(policy_path))
            self.policy_index = Index(policy_tree)
            self.checked = check_policy(policy_tree)
        except PolicyError:
            return  # the policy's own errors are shown on the policy
        if self.tree is None:
            return
        strays = [d for d in self.tree.declarations if not isinstance(d, ast.Example)]
        for stray in strays:  # as `rpl test` says (rplang.runtime.testing.load_suite)
            self.diagnostics.append(Diagnostic("RPL013", "an examples file holds only examples", stray.span,
                                               f"move this declaration to {policy_path.name}"))
        examples = [d for d in self.tree.declarations if isinstance(d, ast.Example)]
        self.diagnostics += _example_problems(examples, self.checked)

    @classmethod
    def before_checking(cls, known: "Analysis", version: int | None, text: str) -> "Analysis":
        """A version not yet analysed, seen with what the last analysed one knew (as when it does
        not parse): names are found by the word under the cursor."""
        view = cls.__new__(cls)
        view.uri, view.version, view.text = known.uri, version, text
        view.path, view.name, view.lines = known.path, known.name, Lines(text, known.lines.encoding)
        view.tree = view.checked = None
        view.policy_index, view.diagnostics, view.memo = known.policy_index, [], {}
        view._solver_pending, view._solver_lock, view._index_lock = None, threading.Lock(), threading.Lock()
        # The last version's index if built, else an older one: indexing a large policy takes
        # longer than a completion may (the diagnostics build it once the typing pauses).
        view._index = known.built_index() or known.index
        view.last_index, view.last_checked, view.current = view._index, known.checked_policy, False
        return view

    @property
    def index(self) -> Index | None:
        if self._index is None and self.tree is not None:
            with self._index_lock:
                if self._index is None:
                    self._index = Index(self.tree, self.policy_index)
        return self._index

    def built_index(self) -> Index | None:
        """This version's index if it is built already, else the newest one of a version before."""
        return self._index or self.last_index

    @property
    def checked_policy(self) -> CheckedPolicy | None:
        """The checked policy the names are explained by: this version's, or the last one that checked."""
        return self.checked or self.last_checked


def _static_checks(graph, found: list[Diagnostic]) -> list[Diagnostic]:
    """The warnings `rpl check` gives: the compiler's, and the solver's when it is installed."""
    try:
        from rplang.verify.static import with_solver_checks
    except ModuleNotFoundError as error:
        if error.name != "z3":
            raise
        return found
    return with_solver_checks(graph, found)


def _example_problems(examples: list[ast.Example], checked: CheckedPolicy) -> list[Diagnostic]:
    """The examples' errors, else their warnings, as `rpl check` gives them."""
    try:
        return example_warnings(check_examples(examples, checked), checked)
    except PolicyError as error:
        return list(error.diagnostics)


# A text this long takes long enough to check (about a second for 1,000 rules) that a hover or a
# completion asked meanwhile is answered from the last version checked, not made to wait.
CHECK_WHILE_ASKED_CHARS = 32 * 1024


class Queries:
    """The analyses of the open documents, one per document, replaced when its version changes.

    Diagnostics analyse a version in a worker thread; features ask `analysis(..., wait=False)`.
    """

    def __init__(self, text_of: TextOf):
        self.text_of = text_of
        self.analyses: dict[str, Analysis] = {}
        # Each policy's declarations as Lark read them in its last version: an edit parses again
        # only the declarations it touched.
        self.reparsers: dict[str, Reparser] = {}
        self.encoding = "utf-16"  # of positions, as agreed with the client at `initialize`

    def analysis(self, uri: str, version: int | None, text: str, wait: bool = True) -> Analysis:
        known = self.analyses.get(uri)
        if known is not None and known.version == version and known.text == text:
            return known
        if not wait and known is not None and len(text) > CHECK_WHILE_ASKED_CHARS:
            return Analysis.before_checking(known, version, text)
        fresh = Analysis(uri, version, text, known, self.text_of, self.encoding,
                         self.reparsers.setdefault(uri, Reparser()))
        latest = self.analyses.get(uri)
        if latest is None or latest.version is None or version is None or latest.version <= version:
            self.analyses[uri] = fresh  # a worker that finished late does not replace a newer version
        return fresh

    def forget(self, uri: str) -> None:
        self.analyses.pop(uri, None)
        self.reparsers.pop(uri, None)


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
