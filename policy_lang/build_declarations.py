"""Lark's tree to our AST, part two: the declarations (`build_expressions.py` builds what they hold)."""
from __future__ import annotations

import json

from lark import Token

from . import ast
from .build_expressions import ExpressionBuilder, unescape
from .errors import Diagnostic
from .span import Span


class AstBuilder(ExpressionBuilder):
    """Builds a policy's declarations from Lark's tree."""

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
                           rules, span=self._span(meta), name_span=self._tok(name))

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
        keys = [key for key, _ in c]
        twice = next((key for n, key in enumerate(keys) if key in keys[:n]), None)
        if twice is not None:  # as a request file's: which value was meant is ambiguous
            self.problems.append(Diagnostic("RPL001", f"the key `{twice}` is given twice", self._span(meta),
                                            "give each key once"))
        return dict(c)

    def json_pair(self, meta, c):
        return (self._json_text(c[0]), c[1])

    def json_array(self, meta, c):
        return list(c)

    def json_string(self, meta, c):
        return self._json_text(c[0])

    def _json_text(self, token: Token) -> str:
        """A string of an example's request, read as JSON reads it, as in a request file:
        `"caf\\u00e9"` is café (a line break within the quotes is kept, as typed)."""
        try:
            return json.loads(token, strict=False)
        except ValueError as error:  # an escape JSON has not, like `\\q`
            at = self._tok(token)
            self.problems.append(Diagnostic(
                "RPL001", f"not JSON text: {error.msg}", Span(at.source, at.start + error.pos, at.start + error.pos + 2),
                "write JSON's escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX"))
            return unescape(token[1:-1])

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

