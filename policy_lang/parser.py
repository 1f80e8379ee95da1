"""Text to AST: the Lark grammar in `rpl.lark`, then a separate step that builds our own nodes."""
from __future__ import annotations

import calendar
import datetime
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput
from lark.parse_tree_builder import ExpandSingleChild, PropagatePositions

from . import ast, limits
from .errors import Diagnostic, PolicyError
from .source_text import check_characters
from .span import Source, Span
from .syntax_errors import DECLARATION_KEYWORDS, describe_syntax_error, looks_like_declaration

GRAMMAR = Path(__file__).with_name("rpl.lark")


@lru_cache(maxsize=1)
def _lark() -> Lark:
    grammar = GRAMMAR.read_text(encoding="utf-8")
    lark = _cached_tables(grammar)
    if lark is None:
        lark = Lark(grammar, parser="lalr", start=["policy", "expr"], propagate_positions=True,
                    maybe_placeholders=True)
        _store_tables(grammar, lark)
    _skip_unit_positions(lark)
    return lark


class _UnitPositions:
    """Lark's positions for a `?rule`, skipped when the rule matched one child, which it returns
    as it is: that child's positions are already the rule's. Each operand passes through ten
    such rules (`expr` down to `atom`), and recomputing them was a fifth of the parse."""

    __slots__ = ("positions",)

    def __init__(self, positions: PropagatePositions):
        self.positions = positions

    def __call__(self, children):
        if len(children) == 1:
            return children[0]
        return self.positions(children)


def _skip_unit_positions(lark: Lark) -> None:
    """Wrap the callbacks of the `?rules` whose children reach `ExpandSingleChild` unfiltered.

    The parser holds this same dict of callbacks. Should a Lark version build them differently,
    nothing matches here and Lark's own callbacks stay: slower, never different.
    """
    callbacks = getattr(lark, "_callbacks", None)
    if not isinstance(callbacks, dict):
        return
    for rule, callback in callbacks.items():
        if type(callback) is PropagatePositions and callback.node_filter is None \
                and type(callback.node_builder) is ExpandSingleChild:
            callbacks[rule] = _UnitPositions(callback)


# Building the parse tables takes about 0.4 s; Lark saves them as a pickle, kept in the user's
# cache and signed there (`user_cache`): read back only if the signature holds.

def _tables_name(grammar: str) -> str:
    import hashlib
    import lark

    return f"grammar-{hashlib.sha256((lark.__version__ + grammar).encode('utf-8')).hexdigest()}"


def _cached_tables(grammar: str) -> Lark | None:
    import io

    from . import user_cache

    data = user_cache.read(_tables_name(grammar))
    if data is None:
        return None
    try:
        return Lark.load(io.BytesIO(data))
    except Exception:  # noqa: BLE001 (tables that cannot be read are built again)
        return None


def _store_tables(grammar: str, lark: Lark) -> None:
    import io

    from . import user_cache

    data = io.BytesIO()
    try:
        lark.save(data)
    except Exception:  # noqa: BLE001 (tables that cannot be saved are built again next time)
        return
    user_cache.write(_tables_name(grammar), data.getvalue())


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
    builder = _AstBuilder(source, 0)
    try:
        tree = _lark().parse(text, start="policy")
    except UnexpectedInput:
        raise PolicyError(limits.cap(_syntax_errors_by_declaration(source), source)) from None
    beyond = limits.check_tree(tree, source)  # limits: nesting, counts, numbers, before the AST
    if beyond:
        raise PolicyError(limits.cap(beyond, source))
    policy = _build(builder, tree)
    if builder.problems:
        raise PolicyError(limits.cap(builder.problems, source))
    return policy


def _build(builder: "_AstBuilder", tree: Tree):
    return builder.build(tree)


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
        if first == "#":
            comments += found.end() - found.start()
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
    lark = _lark()
    limits_check = limits.BatchCheck(source)
    builder = _AstBuilder(source, 0)
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
                tree = _lark().parse(text[start:end], start="policy")
            except UnexpectedInput as error:
                problem = describe_syntax_error(error, source, start, _lark(), end=end, text=text)
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
            builder = _AstBuilder(source, start)
            _build(builder, tree)
            built.extend(builder.problems)
        if restart is None or len(syntax) + len(built) > limits.MAX_REPORTED:
            break
        pos = restart
    if not syntax:  # the declarations parse alone but not together: report the whole-file error
        try:
            _lark().parse(source.text, start="policy")
        except UnexpectedInput as error:
            syntax.append(describe_syntax_error(error, source, 0, _lark()))
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


# ---- Lark tree to AST -------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")
_ESCAPE = re.compile(r"\\(.)")
# Quoted words inside a sentence's `{...}` (`{if opened then "; {fee}" else ""}`), closed or not.
_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"?')


def fold_text(raw: str) -> str:
    """The text of a quoted string: escapes resolved, line breaks and indentation folded."""
    return _WHITESPACE.sub(" ", _ESCAPE.sub(r"\1", raw)).strip()


class _AstBuilder:
    """Builds our nodes from Lark's tree, children first: a method per rule, called with the
    rule's positions (Lark's `meta`) and its built children; tokens and placeholders pass as
    they are. The depth is bounded by `limits.check_tree`, which runs before."""

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
        return fold_text(token[1:-1])

    # declarations
    def policy(self, meta, decls):
        # An empty policy still has a place, the start of its file, for what is missing from it.
        return ast.Policy(tuple(decls), span=self._span(meta) or Span(self.source, self.offset, self.offset))

    def policy_name(self, meta, c):
        return ast.Header("policy", self._text(c[0]), span=self._span(meta))

    def policy_version(self, meta, c):
        return ast.Header("version", self._text(c[0]), span=self._span(meta))

    def policy_currency(self, meta, c):
        return ast.Header("currency", str(c[0]), span=self._span(meta))

    def policy_calendar(self, meta, c):
        return ast.Header("calendar", self._text(c[0]), span=self._span(meta))

    def clause_decl(self, meta, c):
        return ast.Clause(str(c[0]), self._text(c[1]), span=self._span(meta))

    def parameter_decl(self, meta, c):
        name, value, *dated = c
        if value is None and not dated:
            self.problems.append(Diagnostic(
                "RPL050", f"parameter `{name}` has no value", self._span(meta),
                f"write `parameter {name} = ...`, or values by date like `15% until 2026-02-28`"))
        return ast.Parameter(str(name), value, tuple(dated), span=self._span(meta))

    def dated_value(self, meta, c):
        value, (start, end), label = c
        return ast.DatedValue(value, start, end, self._text(label) if label is not None else None,
                              span=self._span(meta))

    def period_from(self, meta, c):
        return (self._date(c[0]), self._date(c[1]) if c[1] is not None else None)

    def period_until(self, meta, c):
        return (None, self._date(c[0]))

    def _date(self, token: Token) -> datetime.date:
        try:
            return datetime.date.fromisoformat(str(token))
        except ValueError:
            self.problems.append(Diagnostic(
                "RPL004", f"`{token}` is not a real date", self._tok(token),
                "write dates as YYYY-MM-DD, with a month from 01 to 12 and a day that exists in it"))
            return datetime.date(1970, 1, 1)

    def policy_terms(self, meta, c):
        return ast.Terms(c[0], span=self._span(meta))

    def policy_currency_by(self, meta, c):
        return ast.CurrencyBy(c[0], span=self._span(meta))

    def policy_effective(self, meta, c):
        return ast.Effective(self._date(c[0]), span=self._span(meta))

    def enum_decl(self, meta, c):
        return ast.EnumDecl(str(c[0]), tuple(str(t) for t in c[1:]),
                            member_spans=tuple(self._tok(t) for t in c[1:]), span=self._span(meta))

    def table_decl(self, meta, c):
        name, *rest = c
        keys = tuple(ast.NamedType(str(t), span=self._tok(t)) for t in rest if isinstance(t, Token))
        columns, source, *rows = rest[len(keys):]
        return ast.Table(str(name), keys, columns, source, tuple(rows), span=self._span(meta))

    def table_single_value(self, meta, c):
        return (ast.TableColumn(None, ast.NamedType(str(c[0]), span=self._tok(c[0])), span=self._span(meta)),)

    def table_columns(self, meta, c):
        return tuple(c)

    def table_column(self, meta, c):
        return ast.TableColumn(str(c[0]), ast.NamedType(str(c[1]), span=self._tok(c[1])), span=self._span(meta))

    def table_source(self, meta, c):
        return self._text(c[0])

    def table_row(self, meta, c):
        return ast.TableRow(c[0], c[1], span=self._span(meta))

    def table_default_row(self, meta, c):
        return ast.TableRow(None, c[0], span=self._span(meta))

    def table_keys(self, meta, c):
        return tuple(c)

    def table_cells(self, meta, c):
        return tuple(c)

    def record_decl(self, meta, c):
        return ast.RecordDecl(str(c[0]), tuple(c[1:]), span=self._span(meta))

    def request_decl(self, meta, c):
        return ast.RequestDecl(tuple(c), span=self._span(meta))

    def field_decl(self, meta, c):
        name, type_, default, presence, stage, label = c
        return ast.FieldDecl(str(name), type_, default, presence, label, stage=stage,
                             span=self._span(meta))

    def default(self, meta, c):
        return c[0]

    def presence(self, meta, c):
        return str(c[0])

    def stage(self, meta, c):  # `at inspection` (residual decisions)
        return str(c[0])

    def label(self, meta, c):
        return self._text(c[0])

    def optional_type(self, meta, c):
        return ast.OptionalType(c[0], span=self._span(meta))

    def list_type(self, meta, c):
        return ast.ListType(c[0], span=self._span(meta))

    def date_range_type(self, meta, c):
        return ast.DateRangeType(span=self._span(meta))

    def named_type(self, meta, c):
        return ast.NamedType(str(c[0]), span=self._span(meta))

    def let_decl(self, meta, c):
        return ast.Let(str(c[0]), c[1], span=self._span(meta))

    def outcomes_decl(self, meta, c):
        for_each, *outcomes = c
        return ast.OutcomesDecl(tuple(outcomes), span=self._span(meta), for_each=for_each)

    def request_outcome_decl(self, meta, c):
        return ast.RequestOutcomeDecl(tuple(c), span=self._span(meta))

    def request_outcome_line(self, meta, c):
        name, label, *tests = c
        return ast.RequestOutcomeLine(str(name), self._text(label), tuple(t for t in tests if t is not None),
                                      span=self._span(meta))

    def item_test(self, meta, c):
        quantifier, variable, *outcomes = c
        if str(quantifier) not in ("any", "every", "no"):
            self.problems.append(Diagnostic(
                "RPL045", f"`{quantifier}` cannot start a test of the items' outcomes", self._tok(quantifier),
                f"write `any {variable} is ...`, `every {variable} is ...` or `no {variable} is ...`"))
        return ast.ItemTest(str(quantifier), str(variable), tuple(str(o) for o in outcomes),
                            span=self._span(meta))

    def outcome_decl(self, meta, c):
        return ast.OutcomeDecl(str(c[0]), self._text(c[1]), c[2] is not None, span=self._span(meta))

    def rule_decl(self, meta, c):
        name, for_each, *parts = c
        span = self._span(meta)
        condition = because = None
        effects: list = []
        overrides: list[Token] = []
        citations: list[ast.Citation] = []
        lets = [value for kind, value, _ in parts if kind == "let"]
        parts = [part for part in parts if part[0] != "let"]
        for kind, value, part_span in parts:
            if kind in ("when", "because") and {"when": condition, "because": because}[kind] is not None:
                self.problems.append(Diagnostic(
                    "RPL011", f"rule `{name}` has more than one `{kind}`", part_span,
                    f"keep one `{kind}` per rule"))
                continue
            if kind == "cites":
                citations.extend(value)
            elif kind == "when":
                condition = value
            elif kind == "then":
                effects.extend(value)
            elif kind == "because":
                because = value
            else:
                overrides.extend(value)
        cites = (citations[0].value, citations[0].inline) if citations else None
        return ast.Rule(str(name), for_each, cites, condition, tuple(effects), because,
                        tuple(str(t) for t in overrides), tuple(lets),
                        override_spans=tuple(self._tok(t) for t in overrides),
                        cites_span=citations[0].span if citations else None, span=span,
                        citations=tuple(citations))

    def for_each(self, meta, c):
        return ast.ForEach(str(c[0]), c[1], span=self._span(meta))

    def cites(self, meta, c):
        citations = [ast.Citation(self._text(token) if token.type == "STRING" else str(token),
                                  token.type == "STRING", span=self._tok(token)) for token in c]
        return ("cites", citations, self._span(meta))

    def condition(self, meta, c):
        return ("when", c[0], self._span(meta))

    def effects(self, meta, c):
        return ("then", list(c), self._span(meta))

    def because(self, meta, c):
        return ("because", self._template(c[0]), self._span(meta))

    def overrides(self, meta, c):
        return ("overrides", list(c), self._span(meta))

    def add_effect(self, meta, c):
        return ast.AddTo(c[0], str(c[1]), +1, span=self._span(meta))

    def subtract_effect(self, meta, c):
        return ast.AddTo(c[0], str(c[1]), -1, span=self._span(meta))

    def set_effect(self, meta, c):
        return ast.SetOutput(str(c[0]), c[1], span=self._span(meta))

    def note_effect(self, meta, c):
        return ast.Note(span=self._span(meta))

    def outcome_effect(self, meta, c):
        return ast.GiveOutcome(str(c[0]), span=self._span(meta))

    def output_decl(self, meta, c):
        name, spec = c
        if spec is None:
            return ast.OutputDecl(str(name), None, span=self._span(meta))
        type_, total, floor, default = spec
        return ast.OutputDecl(str(name), type_, total is not None, floor, default,
                              span=self._span(meta))

    def property_decl(self, meta, c):
        name, cites, condition, because = c
        return ast.Property(str(name), cites, condition, because, span=self._span(meta))

    def property_cites(self, meta, c):
        token = c[0]
        inline = token.type == "STRING"
        return (self._text(token) if inline else str(token), inline)

    def property_because(self, meta, c):
        return self._text(c[0])

    def output_spec(self, meta, c):
        return c

    def floor(self, meta, c):
        return c[0]

    # examples
    def example_decl(self, meta, c):
        name, *parts = c
        request_file = request = None
        changes, outputs, rules = [], [], None
        for kind, value, part_span in parts:
            if kind == "request":
                if request_file is not None or request is not None:
                    self.problems.append(Diagnostic("RPL011", "an example has one `request`", part_span,
                                                    "use `with` to change fields of the request"))
                    continue
                source, more = value
                if isinstance(source, str):
                    request_file = source
                else:
                    request = source
                changes.extend(more)
            elif kind == "expect":
                outputs.append(value)
            else:
                rules = (rules or ()) + value
        if request_file is None and request is None:
            self.problems.append(Diagnostic("RPL012", f"example {name} has no `request`", self._span(meta),
                                            'give it one, like `request "requests/late.json"`'))
        return ast.Example(self._text(name), request_file, request, tuple(changes), tuple(outputs),
                           rules, span=self._span(meta))

    def example_request(self, meta, c):
        source, *changes = c
        source = self._text(source) if isinstance(source, Token) else source
        return ("request", (source, [x for x in changes if x is not None]), self._span(meta))

    def expect_output(self, meta, c):
        return ("expect", ast.ExpectOutput(str(c[0]), c[1], span=self._span(meta)), self._span(meta))

    def expect_item(self, meta, c):
        items, index, output, value = c
        if str(items) != "items":
            self.problems.append(Diagnostic(
                "RPL045", f"an example expects an item's outcome or amounts as `items[...]`, not `{items}[...]`",
                self._tok(items), f"write `expect items[{index}].{output} = ...`"))
        expect = ast.ExpectOutput(str(output), value, span=self._span(meta), item=int(index))
        return ("expect", expect, self._span(meta))

    def expect_rules(self, meta, c):
        return ("rules", tuple(str(t) for t in c if t is not None), self._span(meta))

    def change(self, meta, c):
        return ast.Change(c[0], c[1], span=self._span(meta))

    def json_path(self, meta, c):
        return tuple(int(t) if t.type == "INT" else str(t) for t in c)

    def json_object(self, meta, c):
        return dict(c)

    def json_pair(self, meta, c):
        return (_ESCAPE.sub(r"\1", c[0][1:-1]), c[1])

    def json_array(self, meta, c):
        return list(c)

    def json_string(self, meta, c):
        return _ESCAPE.sub(r"\1", c[0][1:-1])

    def json_number(self, meta, c):
        return int(c[0]) if c[0].type == "INT" else float(c[0])

    def json_negative(self, meta, c):
        return -self.json_number(meta, c)

    def json_true(self, meta, c):
        return True

    def json_false(self, meta, c):
        return False

    def json_null(self, meta, c):
        return None

    # templates
    def _template(self, token: Token) -> ast.Template:
        """Split a quoted sentence into text and `{expression}` holes, each hole parsed in place."""
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
        if path is not None and not _KEYWORDS.intersection(path.group(1).split(".")):
            return self._path(path, offset)
        try:
            tree = _lark().parse(text, start="expr")
        except UnexpectedInput as error:
            self.problems.append(describe_syntax_error(error, self.source, offset, _lark(), hole=True,
                                                             end=offset + len(text)))
            return ast.Literal("text", text, span=Span(self.source, offset, offset + len(text)))
        beyond = limits.check_tree(tree, self.source, offset)  # limits: before building the hole
        if beyond:
            self.problems.extend(beyond)
            return ast.Literal("text", text, span=Span(self.source, offset, offset + len(text)))
        return _build(_HoleBuilder(self, offset), tree)

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
_KEYWORDS = frozenset(re.findall(r'"([A-Za-z_]+)"', GRAMMAR.read_text(encoding="utf-8")))


class _HoleBuilder(_AstBuilder):
    """Builds the expression of one template hole, reporting problems to the enclosing builder."""

    def __init__(self, parent: _AstBuilder, offset: int):
        super().__init__(parent.source, offset)
        self.problems = parent.problems

    def text_literal(self, meta, c):
        # Words put into a sentence keep their spaces: `{if opened then " (opened)" else ""}`.
        words = _WHITESPACE.sub(" ", _ESCAPE.sub(r"\1", c[0][1:-1]))
        return ast.Literal("text", words, span=self._span(meta))


def _fold_template(parts: list) -> list:
    """Fold line breaks and indentation in the text parts of a sentence, as in any quoted text."""
    out: list = []
    for k, part in enumerate(parts):
        if isinstance(part, str):
            text = _WHITESPACE.sub(" ", _ESCAPE.sub(r"\1", part))
            if k == 0:
                text = text.lstrip()
            if k == len(parts) - 1:
                text = text.rstrip()
            if text:
                out.append(text)
        else:
            out.append(part)
    return out
