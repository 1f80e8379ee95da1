"""Text to AST: the Lark grammar in `rpl.lark` (`grammar.py`), then a separate step that builds our
own nodes (`build_declarations.py`, `build_expressions.py`); a large policy parsed in batches, and
after a syntax error, declaration by declaration, so that every error is reported at once."""
from __future__ import annotations

import re

from lark import Lark, Tree
from lark.exceptions import UnexpectedInput

from . import ast, limits
from .build_declarations import AstBuilder
from .errors import Diagnostic, PolicyError
from .grammar import lark_parser
from .source_text import check_characters
from .span import Source, Span
from .syntax_errors import describe_syntax_error
from .syntax_text import DECLARATION_KEYWORDS, looks_like_declaration


def parse_policy(text: str, filename: str = "<policy>") -> ast.Policy:
    """Parse a whole policy file; every syntax error in it is reported at once."""
    source = Source(filename, text)
    # what the text may hold (line ends, bidi controls), then limits: size, lines and the length
    # of each declaration, all before Lark reads the text
    too_big = check_characters(source) + limits.check_text(source)
    if not too_big:
        too_big = _declarations_too_long(source)
    if too_big:
        raise PolicyError(limits.cap(too_big, source))
    policy = _parse_in_batches(source)
    if policy is not None:
        return policy
    builder = AstBuilder(source, 0)
    try:
        tree = lark_parser().parse(text, start="policy")
    except UnexpectedInput:
        raise PolicyError(limits.cap(_syntax_errors_by_declaration(source), source)) from None
    beyond = limits.check_tree(tree, source)  # limits: nesting, counts, numbers, before the AST
    if beyond:
        raise PolicyError(limits.cap(beyond, source))
    policy = builder.build(tree)
    if builder.problems:
        raise PolicyError(limits.cap(builder.problems, source))
    return policy


# ---- A large policy, parsed in batches of declarations -----------------------------------------
#
# Lark's tree of a whole 10,000-rule policy takes hundreds of megabytes, more than the AST built
# from it, and the process keeps that peak. Parsed a batch of declarations at a time, each
# batch's tree is dropped once built. The whole text stays the reference: whatever the batches
# could get differently from it (a batch that does not parse, a limit crossed, a boundary read
# differently from the whole text) sends the policy through the whole-text path instead, whose
# diagnostics are the ones reported.

_BATCH_CHARS = 64 * 1024  # at least, per batch; a text shorter than two batches is parsed whole
# Where a batch may start: a declaration keyword at the start of a line, outside quoted text and
# comments (a quote never closed only makes a batch fail to parse).
_BATCH_SCAN = re.compile(r'"(?:\\.|[^"\\])*"|#[^\n]*|^(?:' + "|".join(DECLARATION_KEYWORDS) + r")\b", re.M)


def _batches(text: str) -> list[tuple[int, int]]:
    """(start, end) of batches of at least _BATCH_CHARS characters, cut where a declaration starts."""
    cuts = [0]
    for found in _BATCH_SCAN.finditer(text):
        if found.start() - cuts[-1] >= _BATCH_CHARS and found.group()[0] not in '"#':
            cuts.append(found.start())
    return list(zip(cuts, cuts[1:] + [len(text)]))


def _declarations_too_long(source: Source) -> list[Diagnostic]:
    """Each declaration within MAX_DECLARATION_CHARS, measured from one declaration keyword at
    the start of a line to the next, comments and trailing blanks aside: Lark never sees a 16 MB
    declaration."""
    text = source.text
    if len(text) <= limits.MAX_DECLARATION_CHARS:
        return []
    problems, start, comments = [], 0, 0

    def measure(end: int) -> None:
        end -= len(text[start:end]) - len(text[start:end].rstrip())
        problem = limits.check_declaration(source, start, end - comments)
        if problem is not None:
            problems.append(problem)

    for found in _BATCH_SCAN.finditer(text):
        first = found.group()[0]
        if first == "#":  # with its line feed: a page of comment lines counts as nothing
            comments += found.end() - found.start() + (text[found.end():found.end() + 1] == "\n")
        elif first != '"':
            measure(found.start())
            start, comments = found.start(), 0
    measure(len(text))
    return problems


def _parse_in_batches(source: Source) -> ast.Policy | None:
    """The policy, parsed and built batch by batch; None when it must be parsed whole.

    Each boundary is checked by parsing the declarations on both sides of it together: they must
    come out as the same two trees, so that no token or lookahead reads across it differently.
    """
    text = source.text
    batches = _batches(text)
    if len(batches) < 2:
        return None
    lark = lark_parser()
    limits_check = limits.BatchCheck(source)
    builder = AstBuilder(source, 0)
    declarations: list = []
    first = last = None  # where the first declaration starts; (tree, offset) of the last so far
    for start, end in batches:
        try:
            tree = lark.parse(text[start:end], start="policy")
        except UnexpectedInput:
            return None
        decls = tree.children
        if not decls:  # comments only
            continue
        if not all(type(d) is Tree and not d.meta.empty for d in decls):
            return None
        if not limits_check.add(tree, start):
            return None
        if last is not None and not _same_boundary(lark, text, last, (decls[0], start)):
            return None
        builder.offset = start
        declarations.extend(builder.build(d) for d in decls)
        if first is None:
            first = start + decls[0].meta.start_pos
        last = (decls[-1], start)
        del tree, decls  # this batch's tree, before the next one is parsed
    if last is None or not limits_check.within():
        return None
    if builder.problems:
        raise PolicyError(limits.cap(builder.problems, source))
    end_tree, end_offset = last
    return ast.Policy(tuple(declarations),
                      span=Span(source, first, end_offset + end_tree.meta.end_pos))


def _same_boundary(lark: Lark, text: str, before: tuple[Tree, int], after: tuple[Tree, int]) -> bool:
    """Whether the last declaration of a batch and the first of the next parse together, from the
    whole text between them, into the same two trees at the same places."""
    (left, left_offset), (right, right_offset) = before, after
    start, end = left_offset + left.meta.start_pos, right_offset + right.meta.end_pos
    try:
        pair = lark.parse(text[start:end], start="policy").children
    except UnexpectedInput:
        return False
    return len(pair) == 2 and pair[0] == left and pair[1] == right and \
        start + pair[0].meta.end_pos == left_offset + left.meta.end_pos and \
        start + pair[1].meta.start_pos == right_offset + right.meta.start_pos


# ---- Recovery: after a syntax error, parse declaration by declaration ------------------------

_DECLARATION_START = re.compile("(" + "|".join(DECLARATION_KEYWORDS) + r")\b")


def _declaration_chunks(text: str, start: int = 0) -> list[tuple[int, int]]:
    """(start, end) offsets of the declarations from `start`: each begins at column 1 with a keyword,
    or with a word that is a keyword misspelled (`rul`, `paramter`), so that the mistake is
    reported in its own declaration and not in the one before.

    Quoted text is skipped, so a clause whose text has a line starting with `rule` stays whole.
    """
    starts, in_string, i, n = [], False, start, len(text)
    at_line_start = True
    while i < n:
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#":
            i = text.find("\n", i)
            if i < 0:
                break
            continue
        elif at_line_start and (_DECLARATION_START.match(text, i) or _misspelled_start(text, i)):
            starts.append(i)
        at_line_start = ch == "\n"
        i += 1
    if not starts or starts[0] != start:
        starts.insert(0, start)
    return list(zip(starts, starts[1:] + [n]))


_LEADING_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?=[ \t]+[A-Za-z_]|[ \t]*:)")


def _misspelled_start(text: str, i: int) -> bool:
    m = _LEADING_WORD.match(text, i)
    return m is not None and looks_like_declaration(m.group())


def _syntax_errors_by_declaration(source: Source) -> list[Diagnostic]:
    """Parse declaration by declaration, so that every broken one is reported, and build the ones
    that parse, so that what the grammar lets through (a 30 February) is reported with them.

    A quote never closed swallows the declarations after it: once reported, it is closed in a
    working copy of the text (every offset kept) and the declarations are cut again from there.
    """
    text, pos = source.text, 0
    syntax: list[Diagnostic] = []
    built: list[Diagnostic] = []
    for _ in range(100):
        restart = None
        for start, end in _declaration_chunks(text, pos):
            if len(syntax) + len(built) > limits.MAX_REPORTED:  # limits: enough to report
                break
            too_long = limits.check_declaration(source, start, end)  # limits: before re-parsing it
            if too_long is not None:
                syntax.append(too_long)
                continue
            try:
                tree = lark_parser().parse(text[start:end], start="policy")
            except UnexpectedInput as error:
                problem = describe_syntax_error(error, source, start, lark_parser(), end=end, text=text)
                syntax.append(problem)
                patched = _close_quote(text, problem)
                if patched is not None:
                    text, restart = patched, start
                    break
                continue
            beyond = limits.check_tree(tree, source, start)  # limits: before building, as above
            if beyond:
                built.extend(beyond)
                continue
            builder = AstBuilder(source, start)
            builder.build(tree)
            built.extend(builder.problems)
        if restart is None or len(syntax) + len(built) > limits.MAX_REPORTED:
            break
        pos = restart
    if not syntax:  # the declarations parse alone but not together: report the whole-file error
        try:
            lark_parser().parse(source.text, start="policy")
        except UnexpectedInput as error:
            syntax.append(describe_syntax_error(error, source, 0, lark_parser()))
    return sorted(syntax + built, key=lambda d: d.span.start if d.span is not None else -1)


def _close_quote(text: str, problem: Diagnostic) -> str | None:
    """The text with the quote that `problem` reports as never closed closed on its line."""
    if problem.code != "RPL002" or problem.span is None or text[problem.span.start:problem.span.start + 1] != '"':
        return None
    start = problem.span.start
    eol = text.find("\n", start)
    eol = len(text) if eol < 0 else eol
    if eol - start >= 2:
        return text[:start] + '"' + " " * (eol - start - 2) + '"' + text[eol:]
    if eol < len(text):  # the quote ends its line: close it over the line break
        return text[:start] + '""' + text[eol + 1:]
    return None


