"""The one canonical layout of a policy file, keeping every comment and the author's line breaks.

The layout is computed from the token stream of the grammar itself (a parser that keeps every
token), with the comments found in the gaps between tokens and put back by position:

- declarations start at column 1, the lines of a body (rule parts, fields, outcomes, example
  parts) are indented by 2, the effects of a `then` stand one per line under the first one;
- one space between tokens, none inside brackets, before `,` `:` `.` or after a unary `-`;
- a line break the author put between two tokens stays, and the continuation line is aligned
  under what it continues: the start of the expression, or the inside of the open bracket;
- a multi-line quoted text keeps its lines, each continuation line aligned after the quote;
- consecutive declarations of one kind (parameters, lets, enums, one-line clauses, outputs) and
  the fields and outcomes of a body are aligned in columns, as a table; a blank line ends a table;
- trailing comments of consecutive lines are aligned; at most two blank lines between
  declarations and one inside a declaration.

Only whitespace between tokens changes, and quoted texts change only in the indentation of their
continuation lines, which folds to one space anyway. `format_policy` checks this itself: the
formatted text must parse to the same syntax tree, or it raises instead of returning it.
"""
from __future__ import annotations

import re
from functools import lru_cache

import attrs
from lark import Lark, Token, Tree

from .grammar import GRAMMAR
from .parser import parse_policy

INDENT = 2  # the lines of a body
HANGING = 4  # a line break inside a declaration's or a body line's head
_MAX_BLANK_BETWEEN = 2
_MAX_BLANK_INSIDE = 1

# Table kinds whose columns are joined by ` = `: one space is enough to see the column.
_EQUALS_KINDS = {"parameter_decl", "let_decl"}

_COMMENT = re.compile(r"#[^\n]*")
_NO_SPACE_BEFORE = {"COMMA", "RPAR", "RBRACE", "RSQB", "COLON", "DOT"}
_NO_SPACE_AFTER = {"LPAR", "LBRACE", "LSQB", "DOT", "MINUS"}
_OPENERS = {"LPAR", "LBRACE", "LSQB"}
_CLOSERS = {"RPAR", "RBRACE", "RSQB"}
_INNER_SPACE = {"DURATION", "DATE_RANGE_TYPE", "OVERRIDES_ALL", "DAYS_FROM",
                "MONTH_DAY", "END_OF_MONTH", "SEASON_BOUND"}  # `14  days` -> `14 days`
_BODY_KEYWORDS = {"EXPECT", "RULES", "REQUEST"}  # leading words of an example's line


class FormatterBug(RuntimeError):
    """The formatted text would not mean what the original means; nothing is written."""


def format_policy(text: str, filename: str = "<policy>") -> str:
    """The policy in the canonical layout; raises PolicyError if it does not parse."""
    original = parse_policy(text, filename)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    tree = _parser().parse(text)
    tokens = list(tree.scan_values(lambda v: isinstance(v, Token)))
    printer = _Printer(text, _comments(text, tokens))
    for event in _events(tree):
        printer.feed(event)
    formatted = printer.finish()
    if parse_policy(formatted, filename) != original:  # spans aside, the same tree
        raise FormatterBug(f"formatting {filename} would change what it means; it was left as it is")
    return formatted


@lru_cache(maxsize=1)
def _parser() -> Lark:
    # The grammar of the parser, keeping the punctuation and keywords it normally drops.
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", start="policy",
                keep_all_tokens=True, maybe_placeholders=False)


def _comments(text: str, tokens: list[Token]) -> list[tuple[int, int, str]]:
    """(start, end, text) of every comment: they sit in the gaps between tokens."""
    starts = [0] + [t.end_pos for t in tokens]
    ends = [t.start_pos for t in tokens] + [len(text)]
    return [(m.start(), m.end(), m.group().rstrip())
            for start, end in zip(starts, ends) for m in _COMMENT.finditer(text, start, end)]


# ---- From the tree: tokens, and where lines, columns and continuations are --------------------

@attrs.frozen
class _Line:
    """The next token starts a line: a declaration (`decl`), a body line (`body`) or another
    effect under the first (`again`); kind names the table the line belongs to, if any."""
    where: str
    kind: str | None = None


@attrs.frozen
class _Tab:
    """The end of a table cell."""


@attrs.frozen
class _Open:
    """What follows starts a place that continuation lines align under, plus `extra` columns."""
    extra: int = 0


@attrs.frozen
class _Close:
    """The end of the innermost place opened."""


TAB, CLOSE = _Tab(), _Close()


def _tokens(node) -> list[Token]:
    if isinstance(node, Token):
        return [node]
    return list(node.scan_values(lambda v: isinstance(v, Token)))


def _events(tree: Tree) -> list:
    events: list = []
    for declaration in tree.children:
        events += _declaration(declaration)
    return events


def _declaration(d: Tree) -> list:
    kind, ch = d.data, d.children
    if kind == "clause_decl" and len(ch) == 4:  # clause NAME : "text"
        return [_Line("decl", kind), *ch[:3], TAB, _Open(), ch[3], CLOSE]
    if kind == "parameter_decl":  # parameter NAME [= expr], then its values by date, one a line
        dated = [c for c in ch if isinstance(c, Tree) and c.data == "dated_value"]
        head = ch[:len(ch) - len(dated)]
        events = [_Line("decl", kind), *head[:2], TAB, head[2], _Open(), *_tokens(head[3]), CLOSE] \
            if len(head) == 4 else [_Line("decl", None), *head]
        for value in dated:
            events += [_Line("body", "dated"), _Open(), *_tokens(value), CLOSE]
        return events
    if kind == "let_decl" and len(ch) == 4:  # let NAME = expr
        return [_Line("decl", kind), *ch[:2], TAB, ch[2], _Open(), *_tokens(ch[3]), CLOSE]
    if kind == "enum_decl":  # enum NAME : a, b, c
        return [_Line("decl", kind), *ch[:3], TAB, _Open(), *ch[3:], CLOSE]
    if kind == "output_decl":  # output NAME [: spec]
        if len(ch) == 2:
            return [_Line("decl", kind), *ch]
        return [_Line("decl", kind), *ch[:3], TAB, _Open(), *_tokens(ch[3]), CLOSE]
    if kind in ("record_decl", "request_decl", "outcomes_decl", "rule_decl", "example_decl",
                "request_outcome_decl"):
        head = [c for c in ch if not isinstance(c, Tree) or c.data == "for_each"]
        body = [c for c in ch if isinstance(c, Tree) and c.data != "for_each"]
        events = [_Line("decl", None)]
        for part in head:
            events += _tokens(part)
        for part in body:
            events += _body_line(part)
        return events
    if kind == "table_decl":  # table NAME by KEYS: VALUES [from "file.csv"], then its rows, a line each
        rows = [c for c in ch if isinstance(c, Tree) and c.data in _TABLE_ROWS]
        events = [_Line("decl", None)]
        for part in ch:
            if part is not None and part not in rows:
                events += _tokens(part)
        for row in rows:
            events += _table_row(row)
        return events
    if kind == "property_decl" and any(isinstance(c, Tree) and c.data in ("property_cites", "property_because")
                                       for c in ch):  # the block form: cites, condition, because, a line each
        events = [_Line("decl", None), *ch[:3]]
        for part in ch[3:]:
            if part is None:
                continue
            if isinstance(part, Tree) and part.data in ("property_cites", "property_because"):
                events += _body_line(part)
            else:
                events += [_Line("body", None), _Open(), *_tokens(part), CLOSE]
        return events
    return [_Line("decl", None), *_tokens(d)]


_TABLE_ROWS = ("table_row", "table_default_row")


def _table_row(row: Tree) -> list:
    """`keys: value, value`: the keys, then each value in a column of its own, so that the rows
    of a table line up as a table."""
    tokens = _tokens(row)
    colon = next(i for i, t in enumerate(tokens) if t.type == "COLON")
    events = [_Line("body", "table_row"), *tokens[:colon + 1]]
    for i, tok in enumerate(tokens[colon + 1:]):
        if i == 0 or tokens[colon + i].type == "COMMA":
            events.append(TAB)
        events.append(tok)
    return events


def _body_line(part: Tree) -> list:
    kind, ch = part.data, part.children
    if kind == "field_decl":  # NAME : type [= default] [when flag] ["label"]
        events = [_Line("body", "field"), ch[0], ch[1], TAB, _Open()]
        rest = ch[2:]
        while rest and not (isinstance(rest[0], Tree) and rest[0].data in ("presence", "stage", "label")):
            events += _tokens(rest.pop(0))
        events.append(CLOSE)
        for cell in rest:
            events += [TAB, *_tokens(cell)]
        return events
    if kind == "outcome_decl":  # NAME "label" [overrides all other rules]
        events = [_Line("body", "outcome"), ch[0]]
        for cell in ch[1:]:
            events += [TAB, cell]
        return events
    if kind == "request_outcome_line":  # NAME "label" [when any item is a or b and ...]
        events = [_Line("body", "request_outcome"), ch[0], TAB, ch[1]]
        rest = [t for cell in ch[2:] for t in _tokens(cell)]
        return events + ([TAB, _Open(), *rest, CLOSE] if rest else [])
    tokens = _tokens(part)
    lead = 1
    while lead < len(tokens) and {tokens[lead - 1].type, tokens[lead].type} <= _BODY_KEYWORDS:
        lead += 1  # `expect rules`: both words lead the line
    events = [_Line("body", None), *tokens[:lead], _Open()]
    if kind == "effects":
        for i, effect in enumerate(ch[1:]):
            events += ([_Line("again")] if i else []) + [_Open(2), *_tokens(effect), CLOSE]
    else:
        events += tokens[lead:]
    return events + [CLOSE]


# ---- Printing: lines of cells, then tables aligned ---------------------------------------------

@attrs.define
class _Out:
    """One output line: its indentation, table cells (the last one is not aligned), a comment."""
    indent: int
    cells: list[str]
    kind: str | None = None
    blank: int = 0
    comment: str | None = None
    comment_only: bool = False
    starts_declaration: bool = False
    source_column: int = 0  # of a comment line: where it was
    start: tuple[int, int] | None = None  # cell and offset of the first token


@attrs.define
class _Anchor:
    """A column that continuation lines align under: a cell of the line group and an offset in it.

    It is pending until the token it is set by is placed. An open bracket's anchor also keeps where
    the bracket's line starts: if a line break follows the bracket, the lines inside are indented
    from there (block style), and the closing bracket on a line of its own stands there.
    """
    cell: int
    offset: int
    extra: int
    pending: bool = False
    line_start: tuple[int, int] | None = None


class _Printer:
    """Places the tokens on lines as the events say, and the comments between them by position."""

    def __init__(self, text: str, comments: list[tuple[int, int, str]]):
        self.text = text
        self.comments = comments
        self.lines: list[_Out] = []
        self.anchors: list[_Anchor] = []
        self.next_line: _Line | None = None
        self.prev: Token | None = None
        self.prev_end = 0  # of the last token or comment written
        self.prev_line = 0  # the source line where the last token ended

    # events
    def feed(self, event) -> None:
        if isinstance(event, Token):
            self.token(event)
        elif isinstance(event, _Line):
            self.next_line = event
        elif isinstance(event, _Tab):
            self.lines[-1].cells.append("")
        elif isinstance(event, _Open):
            self.anchors.append(_Anchor(0, 0, event.extra, pending=True))
        elif len(self.anchors) > 1:
            self.anchors.pop()

    def token(self, tok: Token) -> None:
        forced, self.next_line = self.next_line, None
        starts_declaration = forced is not None and forced.where == "decl"
        self.comments_before(tok.start_pos, starts_declaration)
        bracket = self.anchors.pop() if tok.type in _CLOSERS and len(self.anchors) > 1 else None
        if forced is not None and forced.where in ("decl", "body"):
            cap = _MAX_BLANK_BETWEEN if starts_declaration else _MAX_BLANK_INSIDE
            self.group(INDENT if forced.where == "body" else 0, forced.kind,
                       self.blank_lines(tok.start_pos, cap), starts_declaration)
        elif forced is not None:
            self.continuation(self.resolved()[-1].cell, self.resolved()[-1].offset)
        elif self.text.count("\n", self.prev.end_pos, tok.start_pos):
            self.continuation(*(bracket.line_start if bracket and bracket.line_start else self.under()))
        elif self.lines[-1].cells[-1]:  # not right after a cell break: the column is the space
            self.lines[-1].cells[-1] += _space(self.prev, tok)
        line_start = self.lines[-1].start
        self.place(tok)
        if tok.type in _OPENERS:
            self.anchors.append(_Anchor(0, 0, 0, pending=True, line_start=line_start))

    def group(self, indent: int, kind: str | None, blank: int, starts_declaration: bool) -> None:
        """A line that starts a declaration or a body line: its continuations align to it."""
        self.lines.append(_Out(indent, [""], kind, blank, starts_declaration=starts_declaration))
        self.anchors = [_Anchor(0, 0, HANGING)]

    def resolved(self) -> list[_Anchor]:
        return [a for a in self.anchors if not a.pending]

    def under(self) -> tuple[int, int]:
        """Where a continuation line starts: under the innermost anchor, or, for the first token
        of a place that was opened, indented from the enclosing anchor or the bracket's line."""
        under = self.resolved()[-1]
        pending = [a for a in self.anchors if a.pending]
        if not pending:
            return under.cell, under.offset + under.extra
        if pending[-1].line_start is not None:
            cell, offset = pending[-1].line_start
            return cell, offset + INDENT
        return under.cell, under.offset + INDENT

    def continuation(self, cell: int, offset: int) -> None:
        """A line that goes on with the current line group, starting at a cell and an offset."""
        group = next(line for line in reversed(self.lines) if not line.comment_only)
        self.lines.append(_Out(group.indent, [""] * cell + [" " * offset], group.kind))

    def place(self, tok: Token) -> None:
        line = self.lines[-1]
        cell, offset = len(line.cells) - 1, len(line.cells[-1])
        if line.start is None:
            line.start = (cell, offset)
        for anchor in self.anchors:
            if anchor.pending:
                anchor.cell, anchor.offset, anchor.pending = cell, offset, False
        text = str(tok)
        if tok.type in _INNER_SPACE:
            text = " ".join(text.split())
        if tok.type == "STRING" and "\n" in text:
            first, *rest = text.split("\n")
            line.cells[-1] += _rstrip(first)
            for k, part in enumerate(rest):
                part = part.lstrip() if k == len(rest) - 1 else _rstrip(part.lstrip())
                self.lines.append(_Out(line.indent, [""] * cell + [" " * (offset + 1) + part], line.kind,
                                       start=(cell, offset + 1)))
        else:
            line.cells[-1] += text
        self.prev = tok
        self.prev_end = tok.end_pos
        self.prev_line = tok.end_line

    def comments_before(self, position: int, starts_declaration: bool) -> None:
        while self.comments and self.comments[0][0] < position:
            start, end, text = self.comments.pop(0)
            if self.prev is not None and self.text.count("\n", 0, start) + 1 == self.prev_line:
                self.lines[-1].comment = text
            else:
                cap = _MAX_BLANK_BETWEEN if starts_declaration else _MAX_BLANK_INSIDE
                column = start - (self.text.rfind("\n", 0, start) + 1)
                self.lines.append(_Out(0, [], None, self.blank_lines(start, cap), text, comment_only=True,
                                       starts_declaration=starts_declaration, source_column=column))
            self.prev_end = end

    def blank_lines(self, position: int, cap: int) -> int:
        """The blank lines before what starts at `position`, at most `cap` (none at the top)."""
        if not self.lines:
            return 0
        return min(cap, max(0, self.text.count("\n", self.prev_end, position) - 1))

    def finish(self) -> str:
        self.comments_before(len(self.text) + 1, True)
        return _render(self.lines)


def _space(prev: Token, tok: Token) -> str:
    if tok.type in _NO_SPACE_BEFORE or prev.type in _NO_SPACE_AFTER:
        return ""
    if tok.type in ("LPAR", "LSQB") and prev.type == "NAME":  # a call, or a path into a list
        return ""
    return " "


def _rstrip(line: str) -> str:
    """Trailing spaces go, but for one that a backslash escapes (the end of a line of a text)."""
    stripped = line.rstrip()
    backslashes = len(stripped) - len(stripped.rstrip("\\"))
    return stripped + " " if backslashes % 2 else stripped


def _render(lines: list[_Out]) -> str:
    for line in lines:
        while len(line.cells) > 1 and not line.cells[-1]:
            line.cells.pop()  # a cell break right before a line break: nothing to align
    _separate_blocks(lines)
    widths = _column_widths(lines)
    code = ["" if line.comment_only else
            " " * line.indent + "".join(c.ljust(widths[i, k]) for k, c in enumerate(line.cells[:-1]))
            + line.cells[-1] for i, line in enumerate(lines)]
    code = [_rstrip(c) for c in code]
    _place_trailing_comments(lines, code)
    out: list[str] = []
    for i, line in enumerate(lines):
        out += [""] * line.blank
        if line.comment_only:
            out.append(" " * _comment_indent(lines, code, i) + line.comment)
        else:
            out.append(code[i])
    return "\n".join(out) + "\n" if out else ""


def _separate_blocks(lines: list[_Out]) -> None:
    """A declaration with a body (a record, the request, the outcomes, a rule, an example) has a
    blank line before and after it; the comments at column 1 right above a declaration go with it."""
    starts = [i for i, line in enumerate(lines) if line.starts_declaration and not line.comment_only]
    has_body = [any(line.indent for line in lines[a:b]) for a, b in zip(starts, starts[1:] + [len(lines)])]
    for n, i in enumerate(starts[1:], 1):
        if not (has_body[n] or has_body[n - 1]):
            continue
        first = i
        while first > 0 and lines[first - 1].comment_only and not lines[first - 1].source_column \
                and not lines[first].blank:
            first -= 1
        lines[first].blank = max(lines[first].blank, 1)


def _column_widths(lines: list[_Out]) -> dict[tuple[int, int], int]:
    """The width of every cell but the last of each line: the columns of a table line up.

    A table is a run of lines of one kind, each with a cell in the column, with no blank line
    between them (comment lines do not end it). Its column is as wide as its widest cell, plus a
    gap: one space after a lone cell or before `=`, two in a table of several lines.
    """
    widths: dict[tuple[int, int], int] = {}
    code = [(i, line) for i, line in enumerate(lines) if not line.comment_only]
    columns = max((len(line.cells) - 1 for _, line in code), default=0)
    for k in range(columns):
        run: list[tuple[int, _Out]] = []
        previous, previous_index = None, -1
        for i, line in code + [(len(lines), None)]:
            joined = (line is not None and previous is not None and run
                      and line.kind is not None and line.kind == previous.kind
                      and not any(lines[j].blank for j in range(previous_index + 1, i + 1)))
            if not joined and run:
                filled = [c for _, c in run if c.cells[k].strip()]
                gap = 1 if len(filled) < 2 or run[0][1].kind in _EQUALS_KINDS else 2
                width = max(len(c.cells[k]) for _, c in run) + gap
                for j, _ in run:
                    widths[j, k] = width
                run = []
            if line is not None and len(line.cells) - 1 > k:
                run.append((i, line))
            previous, previous_index = line, i
    return widths


def _place_trailing_comments(lines: list[_Out], code: list[str]) -> None:
    """Trailing comments of consecutive lines start in one column, two spaces after the code."""
    i = 0
    while i < len(lines):
        if lines[i].comment_only or lines[i].comment is None:
            i += 1
            continue
        j = i
        while j + 1 < len(lines) and not lines[j + 1].comment_only and lines[j + 1].comment is not None \
                and not lines[j + 1].blank:
            j += 1
        column = max(len(code[k]) for k in range(i, j + 1)) + 2
        for k in range(i, j + 1):
            code[k] = code[k].ljust(column) + lines[k].comment
        i = j + 1


def _comment_indent(lines: list[_Out], code: list[str], i: int) -> int:
    """A comment line stands where the code after it starts; before a declaration, at column 1
    or, if it was indented, as a comment of the body before."""
    after = next((k for k in range(i + 1, len(lines)) if not lines[k].comment_only), None)
    if after is None or lines[i].starts_declaration:
        return INDENT if lines[i].source_column else 0
    return len(code[after]) - len(code[after].lstrip())
