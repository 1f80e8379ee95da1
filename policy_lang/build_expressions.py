"""Lark's tree to our AST, part one: expressions, and sentences with their `{...}` holes (each
hole parsed in place). The declarations are built by `build_declarations.py`."""
from __future__ import annotations

import calendar
import datetime
import re
from decimal import Decimal

from lark import Token, Tree
from lark.exceptions import UnexpectedInput

from . import ast, limits
from .errors import Diagnostic
from .grammar import KEYWORDS, lark_parser
from .span import Source, Span
from .syntax_errors import describe_syntax_error


_WHITESPACE = re.compile(r"\s+")
_ESCAPE = re.compile(r"\\(.)")
# Quoted words inside a sentence's `{...}` (`{if opened then "; {fee}" else ""}`), closed or not.
_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"?')


def unescape(raw: str) -> str:
    """A quoted JSON or policy text's characters, its backslash escapes resolved."""
    return _ESCAPE.sub(r"\1", raw)


def _folded(raw: str) -> str:
    """Escapes resolved, each run of line breaks and indentation one space."""
    return _WHITESPACE.sub(" ", unescape(raw))


def fold_text(raw: str) -> str:
    """The text of a quoted string: escapes resolved, line breaks and indentation folded."""
    return _folded(raw).strip()


class ExpressionBuilder:
    """Builds our nodes from Lark's tree, children first: a method per rule, called with the
    rule's positions (Lark's `meta`) and its built children; tokens and placeholders pass as
    they are. The depth is bounded by `limits.check_tree`, which runs before. This class builds
    expressions and sentences; `AstBuilder` (build_declarations.py) adds the declarations."""

    def __init__(self, source: Source, offset: int):
        self.source = source
        self.offset = offset
        self.problems: list[Diagnostic] = []

    def build(self, node):
        if type(node) is not Tree:  # a Token, or None for a missing `[optional]` part
            return node
        build = self.build
        return getattr(self, node.data)(node.meta, [build(child) for child in node.children])

    # spans
    def _span(self, meta) -> Span | None:
        if getattr(meta, "empty", True):
            return None
        return Span(self.source, self.offset + meta.start_pos, self.offset + meta.end_pos)

    def _tok(self, token: Token) -> Span:
        return Span(self.source, self.offset + token.start_pos, self.offset + token.end_pos)

    def _text(self, token: Token) -> str:
        self._check_escapes(token)
        return fold_text(token[1:-1])

    def _check_escapes(self, token: Token) -> None:
        """A backslash keeps the character after it (`\\"`, `\\\\`). Before a letter or a digit it
        is another language's escape (`\\n`, `\\t`, `\\u00e9`, a path's `C:\\new`), whose meaning
        would be lost without a word: `\\n` would read as `n`."""
        if "\\" not in token:
            return
        start = self.offset + token.start_pos
        for m in _ESCAPE.finditer(token, 1, len(token) - 1):
            char = m.group(1)
            if char.isascii() and char.isalnum():
                self.problems.append(Diagnostic(
                    "RPL002", f"`\\{char}` is not an escape here: it would read as `{char}`",
                    Span(self.source, start + m.start(), start + m.end()),
                    "only `\\\"` and `\\\\` are escapes in quoted text: write `\\\\` for a backslash, "
                    "and any other character as itself"))

    def _date(self, token: Token) -> datetime.date:
        try:
            return datetime.date.fromisoformat(str(token))
        except ValueError:
            self.problems.append(Diagnostic(
                "RPL004", f"`{token}` is not a real date", self._tok(token),
                "write dates as YYYY-MM-DD, with a month from 01 to 12 and a day that exists in it"))
            return datetime.date(1970, 1, 1)


    # templates
    def _template(self, token: Token) -> ast.Template:
        """Split a quoted sentence into text and `{expression}` holes, each hole parsed in place."""
        self._check_escapes(token)
        raw = token[1:-1]
        base = self.offset + token.start_pos + 1
        parts: list = []
        text_start, i = 0, 0
        while i < len(raw):
            if raw.startswith("{{", i) or raw.startswith("}}", i):
                parts.append(raw[text_start:i + 1])
                i += 2
                text_start = i
                continue
            if raw[i] == "{":
                depth, j = 1, i + 1
                while j < len(raw) and depth:
                    if raw[j] == '"':  # quoted words inside the hole: their braces are text
                        j = _QUOTED.match(raw, j).end()
                        continue
                    depth += {"{": 1, "}": -1}.get(raw[j], 0)
                    j += 1
                if depth:
                    self.problems.append(Diagnostic(
                        "RPL003", "this `{` is never closed", Span(self.source, base + i, base + i + 1),
                        "close the value with `}`, or write `{{` for a brace in the text"))
                    return ast.Template(tuple(parts), span=self._tok(token))
                parts.append(raw[text_start:i])
                parts.append(self._hole(raw[i + 1:j - 1], base + i + 1))
                i = text_start = j
                continue
            i += 1
        parts.append(raw[text_start:])
        folded = _fold_template(parts)
        return ast.Template(tuple(folded), span=self._tok(token))

    def _hole(self, text: str, offset: int):
        if not text.strip():
            self.problems.append(Diagnostic(
                "RPL003", "empty `{}` in a sentence", Span(self.source, offset - 1, offset + 1),
                "put a name inside the braces, like `{request_date}`"))
            return ast.Literal("text", "", span=Span(self.source, offset, offset))
        path = _PLAIN_PATH.fullmatch(text)
        if path is not None and not KEYWORDS.intersection(path.group(1).split(".")):
            return self._path(path, offset)
        try:
            tree = lark_parser().parse(text, start="expr")
        except UnexpectedInput as error:
            self.problems.append(describe_syntax_error(error, self.source, offset, lark_parser(), hole=True,
                                                             end=offset + len(text)))
            return ast.Literal("text", text, span=Span(self.source, offset, offset + len(text)))
        beyond = limits.check_tree(tree, self.source, offset)  # limits: before building the hole
        if beyond:
            self.problems.extend(beyond)
            return ast.Literal("text", text, span=Span(self.source, offset, offset + len(text)))
        return _HoleBuilder(self, offset).build(tree)

    def _path(self, path: re.Match, offset: int) -> ast.Expr:
        """The expression of a hole that is a name or a dotted path (`{item.sku}`), as Lark would
        build it, without a parse: the names (`name`), then each `field` from the first name's start."""
        start = offset + path.start(1)
        end = start
        node = None
        for word in path.group(1).split("."):
            end += len(word)
            node = ast.Name(word, span=Span(self.source, start, end)) if node is None else \
                ast.Field(node, word, span=Span(self.source, start, end))
            end += 1  # the dot
        return node

    # expressions
    def name(self, meta, c):
        return ast.Name(str(c[0]), span=self._span(meta))

    def field(self, meta, c):
        return ast.Field(c[0], str(c[1]), span=self._span(meta))

    def date_literal(self, meta, c):
        try:
            value = datetime.date.fromisoformat(str(c[0]))
        except ValueError:
            self.problems.append(Diagnostic(
                "RPL004", f"`{c[0]}` is not a real date", self._span(meta),
                "write dates as YYYY-MM-DD, with a month from 01 to 12 and a day that exists in it"))
            value = datetime.date(1970, 1, 1)
        return ast.Literal("date", value, span=self._span(meta))

    def duration_literal(self, meta, c):
        words = str(c[0]).split()
        count = int(words[0])
        span = self._span(meta)
        if words[-1] == "day" and count != 1:
            self.problems.append(Diagnostic(
                "RPL005", f"write `{count} {' '.join(words[1:-1] + ['days'])}`", span,
                "a number of days other than 1 takes `days`"))
        kind = "business_duration" if "business" in words else "duration"
        return ast.Literal(kind, count, span=span)

    def percent_literal(self, meta, c):
        return ast.Literal("percent", Decimal(str(c[0])[:-1]), span=self._span(meta))

    def decimal_literal(self, meta, c):
        return ast.Literal("money", Decimal(str(c[0])), span=self._span(meta))

    def integer_literal(self, meta, c):
        return ast.Literal("integer", int(c[0]), span=self._span(meta))

    def text_literal(self, meta, c):
        return ast.Literal("text", self._text(c[0]), span=self._span(meta))

    def true_literal(self, meta, c):
        return ast.Literal("boolean", True, span=self._span(meta))

    def false_literal(self, meta, c):
        return ast.Literal("boolean", False, span=self._span(meta))

    def set_literal(self, meta, c):
        return ast.EnumSet(tuple(str(t) for t in c), span=self._span(meta))

    def text_set_literal(self, meta, c):
        return ast.TextSet(tuple(self._text(t) for t in c), span=self._span(meta))

    def call(self, meta, c):
        return ast.Call(str(c[0]), tuple(c[1:]), span=self._span(meta))

    def lookup(self, meta, c):
        return ast.Lookup(str(c[0]), tuple(c[1:]), span=self._span(meta))

    def days_between(self, meta, c):
        return ast.DaysBetween(c[1], c[2], span=self._span(meta))

    def month_day_literal(self, meta, c):
        month_name, day = str(c[0]).split()
        month, day = ast.MONTHS.index(month_name) + 1, int(day)
        if (month, day) == (2, 29):
            self.problems.append(Diagnostic(
                "RPL058", "`february 29` is not in every year", self._span(meta),
                "a yearly range needs a day every year has: write `february 28` or `march 1`"))
            day = 28
        elif not 1 <= day <= calendar.monthrange(2025, month)[1]:
            self.problems.append(Diagnostic(
                "RPL058", f"`{month_name} {day}` is not a day of {month_name}", self._span(meta),
                f"{month_name} has {calendar.monthrange(2025, month)[1]} days"))
            day = 1
        return ast.Literal("month_day", (month, day), span=self._span(meta))

    def date_part(self, meta, c):
        return ast.DatePart(str(c[0]), c[1], span=self._span(meta))

    def end_of_month(self, meta, c):
        return ast.DatePart("end_of_month", c[1], span=self._span(meta))

    def season_bound(self, meta, c):
        return ast.SeasonBound(str(c[0]).split()[0], c[1], c[2], span=self._span(meta))

    def rule_let(self, meta, c):
        return ("let", ast.Let(str(c[0]), c[1], span=self._span(meta)), self._span(meta))

    def date_range(self, meta, c):
        return ast.DateRange(c[0], c[1], span=self._span(meta))

    def arith(self, meta, c):
        return ast.Arith(str(c[1]), c[0], c[2], span=self._span(meta))

    def negate(self, meta, c):
        return ast.Negate(c[0], span=self._span(meta))

    def compare(self, meta, c):
        return ast.Compare(str(c[1]), c[0], c[2], span=self._span(meta))

    def is_equal(self, meta, c):
        return ast.Compare("is", c[0], c[1], span=self._span(meta))

    def is_not_equal(self, meta, c):
        return ast.Compare("is not", c[0], c[1], span=self._span(meta))

    def is_given(self, meta, c):
        return ast.Test("given", c[0], False, span=self._span(meta))

    def is_not_given(self, meta, c):
        return ast.Test("given", c[0], True, span=self._span(meta))

    def is_empty(self, meta, c):
        return ast.Test("empty", c[0], False, span=self._span(meta))

    def is_not_empty(self, meta, c):
        return ast.Test("empty", c[0], True, span=self._span(meta))

    def is_in(self, meta, c):
        return ast.Membership(c[0], c[1], False, span=self._span(meta))

    def not_in(self, meta, c):
        return ast.Membership(c[0], c[1], True, span=self._span(meta))

    def not_expr(self, meta, c):
        return ast.Not(c[0], span=self._span(meta))

    def or_expr(self, meta, c):
        return ast.Logic("or", tuple(c), span=self._span(meta))

    def and_expr(self, meta, c):
        return ast.Logic("and", tuple(c), span=self._span(meta))

    def implies(self, meta, c):
        return ast.Logic("implies", (c[0], c[1]), span=self._span(meta))

    def if_expr(self, meta, c):
        return ast.IfThenElse(c[0], c[1], c[2], span=self._span(meta))

    def aggregate(self, meta, c):
        return ast.Aggregate(str(c[0]), c[1], span=self._span(meta))

    def quantifier(self, meta, c):
        return ast.Quantifier(str(c[0]), str(c[1]), c[2], c[3], span=self._span(meta))

    def filter(self, meta, c):
        return ast.Each(str(c[0]), c[1], c[2], None, span=self._span(meta))

    def mapping(self, meta, c):
        return ast.Each(str(c[1]), c[2], c[3], c[0], span=self._span(meta))


# A hole that is a plain name or dotted path, without spaces, between Lark's ignored whitespace:
# no lookahead terminal (`any x in`, `sum of`, `days from`) can start in it. Paths of more names
# than MAX_DEPTH allows, and words of the grammar (`true`, `not`), go through Lark.
_PLAIN_PATH = re.compile(r"[ \t\f\r\n]*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*){0,%d})[ \t\f\r\n]*"
                         % (limits.MAX_DEPTH // 2))


class _HoleBuilder(ExpressionBuilder):
    """Builds the expression of one template hole, reporting problems to the enclosing builder."""

    def __init__(self, parent: ExpressionBuilder, offset: int):
        super().__init__(parent.source, offset)
        self.problems = parent.problems

    def _check_escapes(self, token: Token) -> None:
        pass  # the sentence holding the hole was checked whole, its quoted words with it

    def text_literal(self, meta, c):
        # Words put into a sentence keep their spaces: `{if opened then " (opened)" else ""}`.
        words = _folded(c[0][1:-1])
        return ast.Literal("text", words, span=self._span(meta))


def _fold_template(parts: list) -> list:
    """Fold line breaks and indentation in the text parts of a sentence, as in any quoted text."""
    out: list = []
    for k, part in enumerate(parts):
        if isinstance(part, str):
            text = _folded(part)
            if k == 0:
                text = text.lstrip()
            if k == len(parts) - 1:
                text = text.rstrip()
            if text:
                out.append(text)
        else:
            out.append(part)
    return out
