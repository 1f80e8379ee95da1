"""Go to definition, find references, rename: every use of a name, found by the index.

An examples file's names (outputs, outcomes, rules) are declared in its policy, so a definition
may be in that file; a rename in a policy also renames the uses in its examples file.
"""
from __future__ import annotations

import bisect
import re
from pathlib import Path

from lsprotocol import types as lsp

from rplang.policy_lang.grammar import KEYWORDS
from rplang.policy_lang.span import Span

from .index import Index
from .positions import Lines
from .queries import Analysis, is_examples, symbol_at

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def location(analysis: Analysis, span: Span) -> lsp.Location:
    """A span of this document, or of another file (an examples file's policy)."""
    if span.source.text is analysis.text:
        return lsp.Location(analysis.uri, analysis.lines.span_range(span))
    if span.source.name == analysis.name:  # from the last version that parsed: find the name again
        start = _nearest(analysis.text, span.text, span.start)
        return lsp.Location(analysis.uri, analysis.lines.range(start, start + len(span.text)))
    other = Lines(span.source.text, analysis.lines.encoding)
    return lsp.Location(Path(span.source.name).resolve().as_uri(), other.span_range(span))


def _nearest(text: str, name: str, near: int) -> int:
    """Where `name` is written as a word closest to where it was."""
    found = [m.start() for m in re.finditer(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text)]
    return min(found, key=lambda at: abs(at - near)) if found else min(near, len(text))


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    def definition(ls, params: lsp.DefinitionParams) -> lsp.Location | None:
        analysis = ls.analysis(params.text_document.uri)
        found = symbol_at(analysis, analysis.lines.offset(params.position))
        declared = analysis.index.declaration(found.key) if found is not None else None
        return location(analysis, declared.name_span) if declared is not None else None

    @server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    def references(ls, params: lsp.ReferenceParams) -> list[lsp.Location] | None:
        analysis = ls.analysis(params.text_document.uri, wait=True)
        if not analysis.current:
            return None
        found = analysis.index.at(analysis.lines.offset(params.position))
        if found is None:
            return None
        return [lsp.Location(analysis.uri, analysis.lines.range(o.start, o.end))
                for o in analysis.index.uses(found.key)
                if params.context.include_declaration or not o.is_declaration]

    @server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    def prepare_rename(ls, params: lsp.PrepareRenameParams):
        analysis = ls.analysis(params.text_document.uri, wait=True)
        found = analysis.index.at(analysis.lines.offset(params.position)) if analysis.current else None
        if found is None:
            return None
        return lsp.PrepareRenamePlaceholder(analysis.lines.range(found.start, found.end), found.key[2])

    @server.feature(lsp.TEXT_DOCUMENT_RENAME)
    def rename(ls, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
        analysis = ls.analysis(params.text_document.uri, wait=True)
        if not analysis.current:
            raise ValueError("the file does not parse: fix its syntax errors, then rename")
        new = params.new_name
        if not _NAME.match(new) or new in KEYWORDS:
            raise ValueError(f"`{new}` is not a name: a letter or `_`, then letters, digits or `_`, "
                             "and not a word of the language")
        found = analysis.index.at(analysis.lines.offset(params.position))
        if found is None:
            return None
        taken = _taken_by(analysis, found.key, new)
        if taken is not None:
            raise ValueError(f"`{new}` is already the name of {taken}: choose another name for `{found.key[2]}`")
        changes = {analysis.uri: _edits(analysis.index, found.key, analysis.lines, new)}
        if not is_examples(analysis.path) and analysis.path is not None and found.key[0] in _SHARED:
            examples = analysis.path.with_suffix("") / "examples.rpl"
            other = _examples_edits(ls, examples, analysis, found.key, new)
            if other:
                changes[examples.as_uri()] = other
        return lsp.WorkspaceEdit(changes=changes)


_SHARED = {"output", "outcome", "rule", "member"}  # the names an examples file may use


def _taken_by(analysis: Analysis, key, new: str) -> str | None:
    """What the new name already names, if the rename would change what any name means: two
    declarations of one name, or a use of the new name (a field, a value) bound to the renamed
    symbol instead, or the other way (a loop variable may hide a field). The text renamed is
    indexed again, and every name must be bound as before."""
    from rplang.policy_lang import parse_policy
    from rplang.policy_lang.errors import PolicyError

    index = analysis.index
    renamed = [o.start for o in index.uses(key)]
    grown = len(new) - len(key[2])
    text = analysis.text
    for start in reversed(renamed):
        text = text[:start] + new + text[start + len(key[2]):]
    try:
        after = Index(parse_policy(text, analysis.name), index.outer)
    except PolicyError:
        return None  # the name is a name: the text parses as before
    bound_after = {o.start: o.key for o in after.occurrences}
    forward: dict = {}
    backward: dict = {}
    for o in index.occurrences:
        now = bound_after.get(o.start + grown * bisect.bisect_left(renamed, o.start))
        if now is None:
            continue
        was, bound = forward.setdefault(o.key, now), backward.setdefault(now, o.key)
        if was != now or bound != o.key:
            other = next((k for k in (o.key, bound) if k != key), None)
            if other is None:
                return f"a name in scope at line {analysis.lines.position(o.start).line + 1}"
            declared = index.declaration(other)
            where = f" (line {declared.name_span.line})" if declared is not None and \
                declared.name_span.source.text is analysis.text else ""
            return f"the {other[0]} `{other[2]}`{where}"
    return None


def _edits(index: Index, key, lines: Lines, new: str) -> list[lsp.TextEdit]:
    return [lsp.TextEdit(lines.range(o.start, o.end), new) for o in index.uses(key)]


def _examples_edits(ls, path: Path, analysis: Analysis, key, new: str) -> list[lsp.TextEdit]:
    text = ls.text_of(path)
    if text is None:
        return []
    from rplang.policy_lang import parse_policy
    from rplang.policy_lang.errors import PolicyError

    try:
        tree = parse_policy(text, str(path))
    except PolicyError:
        return []
    index = Index(tree, analysis.index)
    lines = Lines(text, analysis.lines.encoding)
    return [lsp.TextEdit(lines.range(o.start, o.end), new) for o in index.uses(key) if not o.is_declaration]
