"""Parse a new version of a policy again, reusing what Lark made of the declarations it shares with
the version before: an editor's language server parses the whole text after every edit, and on a
1,000-rule policy Lark takes most of the check.

The text is cut into declarations (from one declaration keyword at the start of a line to the
next, outside quoted text and comments, as `parser` cuts its batches). A declaration whose text
is the same as in the last version parsed keeps its Lark tree; the others are parsed in runs of
consecutive declarations, and each boundary between a run and what it touches is checked as
`parser` checks the boundary between two batches: the two declarations on either side parse
together into the same two trees. The AST is then built from the trees at their new places.
Whatever this could get differently from the whole text (a run that does not parse, a limit
crossed, a boundary read differently, a cut inside a declaration) sends the text through
`parse_policy`, whose result and diagnostics are the ones reported.
"""
from __future__ import annotations

import threading

import attrs
from lark import Tree
from lark.exceptions import UnexpectedInput

from . import ast, limits
from .build_declarations import AstBuilder
from .grammar import lark_parser
from .parser import _BATCH_CHARS, _BATCH_SCAN, _declarations_too_long, _same_boundary, parse_policy
from .source_text import check_characters
from .span import Source, Span


@attrs.frozen
class _Parsed:
    """One declaration as Lark read it: positions in `tree` count from `chunk_start - shift`, where
    `chunk_start` is wherever the declaration's text now starts."""
    tree: Tree
    shift: int
    measured: tuple  # limits.measure_declaration's


class Reparser:
    """The declarations of the last version of one document, by their text. Safe to call from two
    threads: each parse reads the last state as it was and replaces it whole."""

    def __init__(self):
        self._known: dict[str, _Parsed] = {}
        self._neighbours: frozenset[tuple[str, str]] = frozenset()  # adjacent pairs read together
        self._lock = threading.Lock()  # only for swapping the state

    def parse(self, text: str, filename: str = "<policy>") -> ast.Policy:
        """The same policy, or the same PolicyError, as `parse_policy(text, filename)`."""
        with self._lock:
            known, neighbours = self._known, self._neighbours
        source = Source(filename, text)
        if check_characters(source) or limits.check_text(source) or _declarations_too_long(source):
            return parse_policy(text, filename)
        chunks = _chunks(text)
        parsed = _parse_chunks(source, chunks, known, neighbours)
        if parsed is None:
            return parse_policy(text, filename)
        policy = _build(source, chunks, parsed)
        if policy is None:
            return parse_policy(text, filename)
        with self._lock:
            self._known = {text[start:end]: p for (start, end), p in zip(chunks, parsed)}
            self._neighbours = frozenset(zip((text[s:e] for s, e in chunks), (text[s:e] for s, e in chunks[1:])))
        return policy


def _chunks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each declaration's text; the first also holds what comes before it."""
    cuts = [found.start() for found in _BATCH_SCAN.finditer(text) if found.group()[0] not in '"#']
    cuts = [0] + cuts[1:]
    return list(zip(cuts, cuts[1:] + [len(text)]))


def _parse_chunks(source: Source, chunks: list[tuple[int, int]], known: dict[str, _Parsed],
                  neighbours: frozenset) -> list[_Parsed] | None:
    """Each chunk's declaration, reused or parsed; None when the whole text must be parsed."""
    text = source.text
    found: list[_Parsed | None] = [known.get(text[start:end]) for start, end in chunks]
    fresh = [k for k, p in enumerate(found) if p is None]
    for first, last in _runs(fresh, chunks):
        run = _parse_run(source, chunks[first:last + 1])
        if run is None:
            return None
        found[first:last + 1] = run
    checked_by_run = set()  # boundaries inside a run were read in context
    for first, last in _runs(fresh, chunks):
        checked_by_run.update(range(first + 1, last + 1))
    lark = lark_parser()
    for k in range(1, len(chunks)):
        if k in checked_by_run:
            continue
        (before_start, before_end), (after_start, after_end) = chunks[k - 1], chunks[k]
        if (text[before_start:before_end], text[after_start:after_end]) in neighbours:
            continue
        before, after = found[k - 1], found[k]
        if not _same_boundary(lark, text, (before.tree, before_start - before.shift),
                              (after.tree, after_start - after.shift)):
            return None
    limits_check = limits.BatchCheck(source)
    for p in found:
        limits_check.count(p.measured)
    return found if limits_check.within() else None


def _runs(fresh: list[int], chunks: list[tuple[int, int]]):
    """(first, last) indexes of consecutive chunks to parse together, each run of about a batch's
    length at most (a run's Lark tree is held until it is cut into declarations)."""
    k = 0
    while k < len(fresh):
        first = last = fresh[k]
        k += 1
        while k < len(fresh) and fresh[k] == last + 1 and chunks[fresh[k]][1] - chunks[first][0] <= _BATCH_CHARS:
            last = fresh[k]
            k += 1
        yield first, last


def _parse_run(source: Source, run: list[tuple[int, int]]) -> list[_Parsed] | None:
    """Consecutive chunks parsed together: one declaration in each, within the limits."""
    start, end = run[0][0], run[-1][1]
    try:
        tree = lark_parser().parse(source.text[start:end], start="policy")
    except UnexpectedInput:
        return None
    decls = tree.children
    if len(decls) != len(run) or not all(type(d) is Tree and not d.meta.empty for d in decls):
        return None  # a cut inside a declaration, or a text without any
    if limits.check_tree(tree, source, start):
        return None
    parsed = []
    for (chunk_start, chunk_end), decl in zip(run, decls):
        if not chunk_start <= start + decl.meta.start_pos < start + decl.meta.end_pos <= chunk_end:
            return None
        parsed.append(_Parsed(decl, chunk_start - start, limits.measure_declaration(decl)))
    return parsed


def _build(source: Source, chunks: list[tuple[int, int]], parsed: list[_Parsed]) -> ast.Policy | None:
    """The AST, from the trees at their new places; None when building finds problems (reported
    as `parse_policy` reports them)."""
    builder = AstBuilder(source, 0)
    declarations = []
    for (start, _), p in zip(chunks, parsed):
        builder.offset = start - p.shift
        declarations.append(builder.build(p.tree))
    if builder.problems:
        return None
    first, last = chunks[0][0] - parsed[0].shift, chunks[-1][0] - parsed[-1].shift
    return ast.Policy(tuple(declarations), span=Span(source, first + parsed[0].tree.meta.start_pos,
                                                     last + parsed[-1].tree.meta.end_pos))
