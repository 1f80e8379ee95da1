"""Every name in a parsed policy: where each thing is declared, and every place it is used.

The index reads the syntax tree, so it answers as soon as a document parses, before it checks.
A use resolves the way the checker resolves it: a rule's or list's variable, then a `let`, a
parameter, a request field, an enum value. `item.price` needs the record of `item`; a small
type reading over the tree finds it (the checker's types exist only once a policy checks). An enum
value that two enums share is resolved by the type expected where it is written; where that is not
known, it is left out rather than risk renaming the other enum's value.
"""
from __future__ import annotations

import bisect
import re
from typing import Iterator

import attrs

from rplang.compiler.expression_support import lead_span, name_span, word_span
from rplang.policy_lang import ast
from rplang.policy_lang.span import Span

# A symbol's key: (kind, owner, name). The owner is the record of a field (`request` for the
# request's own), the enum of an enum value, the offset of a variable's declaration, else "".
Key = tuple[str, str, str]

_HOLE = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


@attrs.frozen
class Occurrence:
    """A name at a place in the text: its declaration, or a use of it."""
    key: Key
    start: int
    end: int
    is_declaration: bool = False


@attrs.frozen
class Declared:
    """A declaration: the span of its name, of the whole declaration, and its syntax node."""
    key: Key
    name_span: Span
    span: Span
    node: object


class Index:
    """The declarations and uses of one parsed policy (or examples file)."""

    def __init__(self, policy: ast.Policy, outer: "Index | None" = None):
        self.declared: dict[Key, Declared] = {}
        self.occurrences: list[Occurrence] = []
        self.outer = outer  # an examples file's policy: names declared there
        self.records: dict[str, dict[str, ast.FieldDecl]] = {}
        self.request: dict[str, ast.FieldDecl] = {}
        self.enums: dict[str, tuple[str, ...]] = {}
        self.lets: dict[str, ast.Let] = {}
        self.parameters: dict[str, ast.Parameter] = {}
        self.outputs: dict[str, ast.OutputDecl] = {}
        self.outcomes: dict[str, ast.OutcomeDecl] = {}
        self.rules: dict[str, ast.Rule] = {}
        self.clauses: dict[str, ast.Clause] = {}
        self.examples: list[ast.Example] = []
        self.tables: dict[str, ast.Table] = {}
        self._types_seen: set[str] = set()
        if outer is not None:
            for name in ("records", "request", "enums", "lets", "parameters", "outputs", "outcomes",
                         "rules", "clauses"):
                setattr(self, name, getattr(outer, name))
        self._collect(policy)
        Resolver(self).policy(policy)
        self.occurrences.sort(key=lambda o: (o.start, o.end))
        self._starts = [o.start for o in self.occurrences]

    # ---- queries ------------------------------------------------------------------------------

    def at(self, offset: int) -> Occurrence | None:
        """The name under the cursor (a cursor just after a name is on it)."""
        i = bisect.bisect_right(self._starts, offset)
        for o in reversed(self.occurrences[max(0, i - 3):i]):
            if o.start <= offset <= o.end:
                return o
        return None

    def declaration(self, key: Key) -> Declared | None:
        found = self.declared.get(key)
        if found is None and self.outer is not None:
            return self.outer.declaration(key)
        return found

    def uses(self, key: Key) -> list[Occurrence]:
        return [o for o in self.occurrences if o.key == key]

    def enums_with(self, member: str) -> list[str]:
        return [name for name, members in self.enums.items() if member in members]

    # ---- declarations -------------------------------------------------------------------------

    def _declare(self, kind: str, owner: str, name: str, at: Span | None, whole: Span | None, node) -> None:
        if at is None or whole is None:
            return
        key = (kind, owner, name)
        if key not in self.declared:  # the first of two, as the checker reports the second
            self.declared[key] = Declared(key, at, whole, node)
        self.occurrences.append(Occurrence(key, at.start, at.end, True))

    def _collect(self, policy: ast.Policy) -> None:
        for d in policy.declarations:
            if isinstance(d, ast.Clause):
                self.clauses.setdefault(d.name, d)
                self._declare("clause", "", d.name, name_span(d.span, d.name), d.span, d)
            elif isinstance(d, ast.Parameter):
                self.parameters.setdefault(d.name, d)
                self._declare("parameter", "", d.name, name_span(d.span, d.name), d.span, d)
            elif isinstance(d, ast.EnumDecl):
                self.enums.setdefault(d.name, d.members)
                self._declare("enum", "", d.name, name_span(d.span, d.name), d.span, d)
                for member, span in zip(d.members, d.member_spans):
                    self._declare("member", d.name, member, span, span, d)
            elif isinstance(d, ast.RecordDecl):
                self.records.setdefault(d.name, {f.name: f for f in d.fields})
                self._declare("record", "", d.name, name_span(d.span, d.name), d.span, d)
                for f in d.fields:
                    self._declare("field", d.name, f.name, lead_span(f.span, f.name), f.span, f)
            elif isinstance(d, ast.RequestDecl):
                self.request.update({f.name: f for f in d.fields if f.name not in self.request})
                for f in d.fields:
                    self._declare("field", "request", f.name, lead_span(f.span, f.name), f.span, f)
            elif isinstance(d, ast.Let):
                self.lets.setdefault(d.name, d)
                self._declare("let", "", d.name, name_span(d.span, d.name), d.span, d)
            elif isinstance(d, ast.OutcomesDecl):
                for o in d.outcomes:
                    self.outcomes.setdefault(o.name, o)
                    self._declare("outcome", "", o.name, lead_span(o.span, o.name), o.span, o)
            elif isinstance(d, ast.Rule):
                self.rules.setdefault(d.name, d)
                self._declare("rule", "", d.name, name_span(d.span, d.name), d.span, d)
            elif isinstance(d, ast.OutputDecl):
                self.outputs.setdefault(d.name, d)
                self._declare("output", "", d.name, name_span(d.span, d.name), d.span, d)
            elif isinstance(d, ast.Example):
                self.examples.append(d)
            elif isinstance(d, ast.Table):
                self.tables.setdefault(d.name, d)
                self._declare("table", "", d.name, name_span(d.span, d.name), d.span, d)


# ---- types, as far as finding records and enums needs them -------------------------------------
# ("record", R), ("enum", E), ("list", T), or None for anything else.

def _list_element(t):
    return t[1] if t is not None and t[0] == "list" else None


class Resolver:
    """Finds every use of a name, with the variables in scope and the type expected there."""

    def __init__(self, index: Index):
        self.ix = index
        self.let_types: dict[str, object] = {}
        self.typing: set[str] = set()

    def use(self, kind: str, owner: str, name: str, span: Span | None) -> None:
        if span is not None:
            self.ix.occurrences.append(Occurrence((kind, owner, name), span.start, span.end))

    # ---- types --------------------------------------------------------------------------------

    def type_of_decl(self, t: ast.TypeExpr | None):
        if isinstance(t, ast.NamedType):
            if t.name in self.ix.records:
                return ("record", t.name)
            if t.name in self.ix.enums:
                return ("enum", t.name)
            return None
        if isinstance(t, ast.OptionalType):
            return self.type_of_decl(t.inner)
        if isinstance(t, ast.ListType):
            return ("list", self.type_of_decl(t.element))
        return None

    def type_of(self, e, scope: dict):
        if isinstance(e, ast.Name):
            if e.name in scope:
                return scope[e.name][1]
            if e.name in self.ix.lets:
                return self.let_type(e.name)
            if e.name in self.ix.request:
                return self.type_of_decl(self.ix.request[e.name].type)
            enums = self.ix.enums_with(e.name)
            return ("enum", enums[0]) if len(enums) == 1 else None
        if isinstance(e, ast.Field):
            base = self.type_of(e.base, scope)
            if base is not None and base[0] == "record":
                f = self.ix.records.get(base[1], {}).get(e.name)
                return self.type_of_decl(f.type) if f is not None else None
            return None
        if isinstance(e, ast.Each):
            if e.element is None:
                return self.type_of(e.source, scope)
            inner = dict(scope)
            inner[e.variable] = (None, _list_element(self.type_of(e.source, scope)))
            return ("list", self.type_of(e.element, inner))
        if isinstance(e, ast.IfThenElse):
            return self.type_of(e.then, scope) or self.type_of(e.otherwise, scope)
        if isinstance(e, ast.EnumSet) and e.members:
            enums = self.ix.enums_with(e.members[0])
            return ("enum", enums[0]) if len(enums) == 1 else None
        return None

    def let_type(self, name: str):
        if name not in self.let_types:
            if name in self.typing:  # a cycle: the checker reports it
                return None
            self.typing.add(name)
            self.let_types[name] = self.type_of(self.ix.lets[name].value, {})
            self.typing.discard(name)
        return self.let_types[name]

    # ---- declarations -------------------------------------------------------------------------

    def policy(self, policy: ast.Policy) -> None:
        for d in policy.declarations:
            method = getattr(self, "d_" + type(d).__name__, None)
            if method is not None:
                method(d)

    def d_Clause(self, d: ast.Clause) -> None:
        if d.span is None:
            return
        at = name_span(d.span, d.name)
        text = d.span.source.text
        for hole in _HOLE.finditer(text, at.end, d.span.end):
            if hole.group(1) in self.ix.parameters:
                self.use("parameter", "", hole.group(1), Span(d.span.source, hole.start(1), hole.end(1)))

    def d_Parameter(self, d: ast.Parameter) -> None:
        if d.value is not None:
            self.expr(d.value, {}, None)
        for dated in d.dated:
            self.expr(dated.value, {}, None)

    def d_RecordDecl(self, d: ast.RecordDecl) -> None:
        for f in d.fields:
            self.field(f, d.name)

    def d_RequestDecl(self, d: ast.RequestDecl) -> None:
        for f in d.fields:
            self.field(f, "request")

    def field(self, f: ast.FieldDecl, owner: str) -> None:
        self.type_expr(f.type)
        if f.default is not None:
            self.expr(f.default, {}, self.type_of_decl(f.type))
        if f.present_when and f.span is not None:  # `when returned`: a sibling field
            found = re.search(rf"\bwhen\s+({re.escape(f.present_when)})\b", f.span.text)
            if found:
                start = f.span.start + found.start(1)
                self.use("field", owner, f.present_when, Span(f.span.source, start, start + len(f.present_when)))

    def type_expr(self, t) -> None:
        if isinstance(t, ast.NamedType):
            kind = "record" if t.name in self.ix.records else "enum" if t.name in self.ix.enums else None
            if kind:
                self.use(kind, "", t.name, t.span)
        elif isinstance(t, ast.OptionalType):
            self.type_expr(t.inner)
        elif isinstance(t, ast.ListType):
            self.type_expr(t.element)

    def d_Let(self, d: ast.Let) -> None:
        self.expr(d.value, {}, None)

    def d_Terms(self, d: ast.Terms) -> None:
        self.expr(d.selector, {}, None)

    def d_CurrencyBy(self, d: ast.CurrencyBy) -> None:
        self.expr(d.field, {}, None)

    def d_OutputDecl(self, d: ast.OutputDecl) -> None:
        self.type_expr(d.type)
        for e in (d.floor, d.default):
            if e is not None:
                self.expr(e, {}, self.type_of_decl(d.type))

    def d_Rule(self, d: ast.Rule) -> None:
        scope: dict = {}
        if d.for_each is not None:
            self.expr(d.for_each.source, {}, None)
            var = self.variable(d.for_each.span, d.for_each.variable)
            scope[d.for_each.variable] = (var, _list_element(self.type_of(d.for_each.source, {})))
        for let in d.lets:  # the rule's own values, in order: each sees the ones before it
            self.expr(let.value, scope, None)
            scope[let.name] = (self.rule_value(let), self.type_of(let.value, scope))
        for cited in d.citations:
            if not cited.inline and cited.span is not None:
                self.use("clause", "", cited.value, cited.span)
        if d.condition is not None:
            self.expr(d.condition, scope, None)
        for effect in d.effects:
            if isinstance(effect, ast.GiveOutcome):
                self.use("outcome", "", effect.outcome, word_span(effect.span, effect.outcome))
            elif isinstance(effect, ast.AddTo):
                self.expr(effect.amount, scope, None)
                self.after_word(effect.span, "(?:to|from)", effect.output, "output")
            elif isinstance(effect, ast.SetOutput):
                self.after_word(effect.span, "set", effect.output, "output")
                out = self.ix.outputs.get(effect.output)
                self.expr(effect.value, scope, self.type_of_decl(out.type) if out else None)
        if d.because is not None:
            for part in d.because.parts:
                if not isinstance(part, str):
                    self.expr(part, scope, None)
        for name, span in zip(d.overrides, d.override_spans):
            self.use("rule", "", name, span)

    def d_Property(self, d: ast.Property) -> None:
        if d.cites is not None and not d.cites[1] and getattr(d, "cites_span", None) is not None:
            self.use("clause", "", d.cites[0], d.cites_span)
        self.expr(d.condition, {}, None)

    def d_Example(self, d: ast.Example) -> None:
        for e in d.expect_outputs:
            self.after_word(e.span, "expect", e.output, "output")
            if isinstance(e.value, ast.Name):
                out = self.ix.outputs.get(e.output)
                if out is not None and out.type is None and e.value.name in self.ix.outcomes:
                    self.use("outcome", "", e.value.name, e.value.span)
                elif out is not None:
                    self.expr(e.value, {}, self.type_of_decl(out.type))
        if d.expect_rules and d.span is not None:
            found = re.search(r"\bexpect\s+rules\b", d.span.text)
            if found:
                start = d.span.start + found.end()
                for name in d.expect_rules:
                    at = word_span(Span(d.span.source, start, d.span.end), name)
                    if at is not None and at.end - at.start == len(name):
                        self.use("rule", "", name, at)
                        start = at.end

    def after_word(self, span: Span | None, word: str, name: str, kind: str) -> None:
        if span is None:
            return
        found = re.search(rf"\b{word}\s+({re.escape(name)})\b", span.text)
        if found:
            start = span.start + found.start(1)
            self.use(kind, "", name, Span(span.source, start, start + len(name)))

    def variable(self, span: Span | None, name: str) -> Key | None:
        """Declare the variable of `for each x in`, `each x in`, `any x in`: its key is its place."""
        if span is None:
            return None
        found = re.search(rf"\b(?:each|any|every|no)\s+({re.escape(name)})\b", span.text)
        if not found:
            return None
        start = span.start + found.start(1)
        key = ("variable", str(start), name)
        at = Span(span.source, start, start + len(name))
        self.ix._declare("variable", str(start), name, at, span, None)
        return key

    def rule_value(self, let: ast.Let) -> Key | None:
        """Declare a rule's own value (`let` in a rule), a variable of the rule: its key is its place."""
        if let.span is None:
            return None
        at = name_span(let.span, let.name)
        key = ("variable", str(at.start), let.name)
        self.ix._declare("variable", str(at.start), let.name, at, let.span, None)
        return key

    # ---- expressions --------------------------------------------------------------------------

    def expr(self, e, scope: dict, expected) -> None:
        if isinstance(e, ast.Name):
            self.name(e, scope, expected)
        elif isinstance(e, ast.Field):
            self.expr(e.base, scope, None)
            base = self.type_of(e.base, scope)
            if base is not None and base[0] == "record" and e.span is not None:
                self.use("field", base[1], e.name, Span(e.span.source, e.span.end - len(e.name), e.span.end))
        elif isinstance(e, ast.EnumSet):
            enum = expected[1] if expected is not None and expected[0] == "enum" else None
            for member in e.members:
                self.member(member, word_span(e.span, member), enum)
        elif isinstance(e, ast.Compare):
            self.expr(e.left, scope, self.type_of(e.right, scope))
            self.expr(e.right, scope, self.type_of(e.left, scope))
        elif isinstance(e, ast.Membership):
            self.expr(e.element, scope, None)
            self.expr(e.collection, scope, self.type_of(e.element, scope))
        elif isinstance(e, (ast.Each, ast.Quantifier)):
            self.expr(e.source, scope, None)
            inner = dict(scope)
            inner[e.variable] = (self.variable(e.span, e.variable), _list_element(self.type_of(e.source, scope)))
            for part in (getattr(e, "where", None), getattr(e, "element", None), getattr(e, "condition", None)):
                if part is not None:
                    self.expr(part, inner, None)
        elif isinstance(e, ast.Lookup):
            if e.table in self.ix.tables and e.span is not None:
                self.use("table", "", e.table, Span(e.span.source, e.span.start, e.span.start + len(e.table)))
            for key in e.keys:
                self.expr(key, scope, None)
        elif isinstance(e, ast.IfThenElse):
            self.expr(e.condition, scope, None)
            self.expr(e.then, scope, expected)
            self.expr(e.otherwise, scope, expected)
        else:
            for child in _children(e):
                self.expr(child, scope, None)

    def name(self, e: ast.Name, scope: dict, expected) -> None:
        n = e.name
        if n in scope:
            if scope[n][0] is not None:
                self.use(*scope[n][0], e.span)
        elif n in self.ix.lets:
            self.use("let", "", n, e.span)
        elif n in self.ix.parameters:
            self.use("parameter", "", n, e.span)
        elif n in self.ix.request:
            self.use("field", "request", n, e.span)
        else:
            self.member(n, e.span, expected[1] if expected is not None and expected[0] == "enum" else None)

    def member(self, name: str, span: Span | None, enum: str | None) -> None:
        enums = self.ix.enums_with(name)
        if enum in enums:
            self.use("member", enum, name, span)
        elif len(enums) == 1:
            self.use("member", enums[0], name, span)


def _children(e) -> Iterator:
    for field in attrs.fields(type(e)):
        value = getattr(e, field.name)
        if isinstance(value, tuple):
            yield from (v for v in value if attrs.has(type(v)) and not isinstance(v, str))
        elif value is not None and attrs.has(type(value)) and field.name != "span":
            yield value
