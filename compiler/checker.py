"""Resolve every name and check every type and unit; collect all problems, then raise them together.

What could not be checked (an unknown name, a field of an unknown type) gets the type `UNKNOWN`,
and nothing that uses it is checked again: one mistake, one error.
"""
from __future__ import annotations

import datetime
import difflib
import re

import attrs

from policy_lang import ast
from policy_lang.errors import Diagnostic, PolicyError, did_you_mean
from policy_lang.span import Span

from . import ir
from . import types as T
from .clauses import render_clause
from .checked import CheckedOutput, CheckedPolicy, CheckedRule, Effect, FieldSpec, Outcome

_FIRST_DAY = datetime.date.min
_ONE_DAY = datetime.timedelta(days=1)
_LITERAL_TYPES = {"money": T.MONEY, "integer": T.INTEGER, "percent": T.PERCENT, "date": T.DATE,
                  "duration": T.DAYS, "business_duration": T.BUSINESS_DAYS,
                  "boolean": T.BOOLEAN, "text": T.TEXT}
_NUMBERS = {T.MONEY, T.INTEGER, T.PERCENT, T.DAYS, T.BUSINESS_DAYS, T.EXACT_MONEY}
_ORDERED = _NUMBERS | {T.DATE}
# Words of the language that a name in an expression may be a misspelling of.
_EXPRESSION_KEYWORDS = ("given", "empty", "true", "false", "not", "and", "or", "then", "else", "each",
                        "through")


@attrs.frozen(eq=False)
class _Unknown(T.Scalar):
    """The type of what could not be checked."""

    def describe(self) -> str:
        return "a value that could not be checked"


UNKNOWN = _Unknown("unknown")


def _broken(*types) -> bool:
    """Whether any of these types (or of these expressions' types) comes from an earlier error."""
    for t in types:
        t = getattr(t, "type", t)
        while isinstance(t, (T.OptionalType, T.ListType, T.SetType)):
            t = t.inner if isinstance(t, T.OptionalType) else t.element
        if t is UNKNOWN:
            return True
    return False


def name_span(span: Span | None, name: str) -> Span | None:
    """The span of a declaration's name (`window` in `rule window: ...`), or of the whole if not found."""
    if span is None:
        return None
    text = span.source.text
    first_space = re.compile(r"\S+\s+").match(text, span.start, span.end)
    start = first_space.end() if first_space else span.start
    found = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])").search(text, start, span.end)
    if found is None:
        found = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])").search(text, span.start, span.end)
    return Span(span.source, found.start(), found.end()) if found else span


def _word_span(span: Span | None, word: str) -> Span | None:
    """The span of `word` inside `span` (a member of `{a, b}`), or `span` itself."""
    if span is None:
        return None
    found = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])").search(
        span.source.text, span.start, span.end)
    return Span(span.source, found.start(), found.end()) if found else span


def _lead_span(span: Span | None, name: str) -> Span | None:
    """The span of a name that starts its declaration (a field, an outcome)."""
    if span is None:
        return None
    return Span(span.source, span.start, min(span.end, span.start + len(name)))


_DATE_LIKE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})|(\d{1,2})[-/](\d{1,2})[-/](\d{4})")


def check_policy(policy: ast.Policy) -> CheckedPolicy:
    """Check a parsed policy; raise PolicyError with every problem found."""
    checker = _Checker()
    checked = checker.run(policy)
    if checker.errors:
        raise PolicyError(sorted(checker.errors, key=lambda d: d.span.start if d.span else -1))
    return checked


class _Checker:
    def __init__(self):
        self.errors: list[Diagnostic] = []
        self.enums: dict[str, T.EnumType] = {}
        self.record_decls: dict[str, ast.RecordDecl] = {}
        self.records: dict[str, dict[str, FieldSpec]] = {}
        self.request: dict[str, FieldSpec] = {}
        self.params: dict[str, ir.Param] = {}
        self.let_decls: dict[str, ast.Let] = {}
        self.values: dict[str, ir.Expr] = {}
        self.value_types: dict[str, T.Type] = {}
        self.broken_names: set[str] = set()  # parameters that could not be checked
        self.param_values: dict[str, ast.Expr] = {}  # as written, to point at a parameter's value
        self.reported: set = set()  # problems reported once, wherever they show
        self.current_rule: str | None = None
        self.checking: list[str] = []  # the derived values being checked, to find cycles
        self.scope: list[tuple[str, T.Type]] = []
        self.narrowed: set = set()

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None):
        self.errors.append(Diagnostic(code, message, span, hint))

    # ---- declarations -------------------------------------------------------------------------

    def run(self, policy: ast.Policy) -> CheckedPolicy:
        decls = policy.declarations
        headers: dict[str, ast.Header] = {}
        clauses: dict[str, ast.Clause] = {}
        seen: dict[tuple[str, str], Span | None] = {}

        def unique(kind: str, name: str, span) -> bool:
            key = (kind, name)
            at = span if kind == "header" else name_span(span, name)
            if key in seen:
                first = seen[key]
                what = {"header": f"`{name}`", "name": f"`{name}`", "type": f"the type `{name}`"}.get(
                    kind, f"{kind} `{name}`")
                where = f" (the first is at line {first.line})" if first else ""
                fix = "keep one" if kind == "header" else "rename or remove one of them"
                self.error("RPL010", f"{what} is declared twice", at, fix + where)
                return False
            seen[key] = at
            return True

        terms = effective = None
        for d in decls:
            if isinstance(d, ast.Header) and unique("header", d.key, d.span):
                headers[d.key] = d
            elif isinstance(d, ast.Terms) and unique("header", "terms by", d.span):
                terms = d
            elif isinstance(d, ast.Effective) and unique("header", "effective", d.span):
                effective = d
            elif isinstance(d, ast.Clause) and unique("clause", d.name, d.span):
                clauses[d.name] = d
            elif isinstance(d, ast.EnumDecl) and unique("type", d.name, d.span):
                self._enum(d)
            elif isinstance(d, ast.RecordDecl) and unique("type", d.name, d.span):
                self.record_decls[d.name] = d
        for name, d in self.record_decls.items():
            self.records[name] = self._fields(d.fields)
        requests = [d for d in decls if isinstance(d, ast.RequestDecl)]
        if not requests:
            start = next((d.span for d in decls if d.span is not None), policy.span)
            self.error("RPL043", "the policy has no `request:` declaration",
                       Span(start.source, 0, 0) if start is not None else None,
                       "declare the fields of a request, like `request:` then `request_date: date`")
        for d in requests[1:]:
            self.error("RPL010", "`request:` is declared twice", _lead_span(d.span, "request"),
                       "keep one `request:` with every field")
        if requests:
            self.request = self._fields(requests[0].fields)

        names_in_use = set(self.request)
        for d in decls:
            if isinstance(d, ast.Parameter) and unique("name", d.name, d.span):
                self._parameter(d)
            elif isinstance(d, ast.Let) and unique("name", d.name, d.span):
                self.let_decls[d.name] = d
        for name in list(self.params) + list(self.let_decls):
            if name in names_in_use:
                span = (self.let_decls[name].span if name in self.let_decls else self.params[name].span)
                self.error("RPL010", f"`{name}` is already a field of the request", name_span(span, name),
                           "choose another name")
        for name in self.let_decls:
            self._value(name)
        selector = self._terms(terms, effective)

        outcomes = self._outcomes([d for d in decls if isinstance(d, ast.OutcomesDecl)])
        outputs = self._outputs([d for d in decls if isinstance(d, ast.OutputDecl)], outcomes, unique)
        rule_decls = [d for d in decls if isinstance(d, ast.Rule)]
        for d in rule_decls:
            unique("rule", d.name, d.span)
        clause_texts = {}
        for name, c in clauses.items():
            clause_texts[name], problems = render_clause(c.text, self.params, c.span)
            self.errors.extend(problems)
        rule_names = {r.name for r in rule_decls}
        rules = tuple(self._rule(d, clause_texts, outcomes, outputs, rule_names) for d in rule_decls)
        self._check_outputs_set(outputs, rules)

        def header(key, default=None):
            return headers[key].value if key in headers else default

        calendar = header("calendar")
        if calendar is not None:
            self._check_calendar(calendar, headers["calendar"].span)
        return CheckedPolicy(
            name=header("policy", ""), version=header("version", ""),
            currency=header("currency", ""), calendar=calendar,
            clauses=clause_texts, clause_sources={n: c.text for n, c in clauses.items()},
            parameters=self.params,
            records=self.records, request=self.request,
            values={n: self.values[n] for n in self._value_order() if n in self.values},
            outcomes=outcomes, rules=rules, outputs=tuple(outputs.values()),
            source_name=policy.span.source.name if policy.span else "",
            terms=selector, effective=effective.date if effective is not None else None)

    def _check_calendar(self, calendar: str, span):
        from . import calendars

        if not calendars.is_known(calendar):
            self.error("RPL028", f"unknown business-day calendar `{calendar}`", span,
                       calendars.hint(calendar))

    def _enum(self, d: ast.EnumDecl):
        seen = set()
        for member, span in zip(d.members, d.member_spans or [d.span] * len(d.members)):
            if member in seen:
                self.error("RPL010", f"`{member}` appears twice in enum `{d.name}`", span,
                           "list each value once")
            seen.add(member)
        self.enums[d.name] = T.EnumType(d.name, tuple(dict.fromkeys(d.members)))

    def _type(self, t: ast.TypeExpr) -> T.Type:
        if isinstance(t, ast.OptionalType):
            return T.OptionalType(self._type(t.inner))
        if isinstance(t, ast.ListType):
            return T.ListType(self._type(t.element))
        if isinstance(t, ast.DateRangeType):
            return T.DATE_RANGE
        if t.name in T.BUILTIN_TYPES:
            return T.BUILTIN_TYPES[t.name]
        if t.name in self.enums:
            return self.enums[t.name]
        if t.name in self.record_decls:
            return T.RecordType(t.name)
        known = list(T.BUILTIN_TYPES) + list(self.enums) + list(self.record_decls)
        hint = did_you_mean(t.name, known) or f"known types: {', '.join(known)}"
        if t.name in ("bool", "int", "string", "str", "float", "decimal", "number"):
            hint = {"bool": "write `boolean`", "int": "write `integer`", "string": "write `text`",
                    "str": "write `text`", "float": "write `money` or `percent`",
                    "decimal": "write `money` or `percent`", "number": "write `integer`"}[t.name]
        if t.name in self.params or t.name in self.let_decls:
            hint = f"`{t.name}` is a value, not a type; {hint}"
        self.error("RPL023", f"unknown type `{t.name}`", t.span, hint)
        return UNKNOWN

    def _fields(self, fields: tuple[ast.FieldDecl, ...]) -> dict[str, FieldSpec]:
        out: dict[str, FieldSpec] = {}
        for f in fields:
            if f.name in out:
                first = out[f.name].span
                where = f" (the first is at line {first.line})" if first is not None else ""
                self.error("RPL010", f"the field `{f.name}` is declared twice", _lead_span(f.span, f.name),
                           "rename or remove one of them" + where)
                continue
            type_ = self._type(f.type)
            default, has_default = None, False
            if f.default is not None:
                expr = self.expr(f.default, type_)
                if isinstance(expr, ir.Const):
                    default, has_default = expr.value, True
                    self.expect(expr, type_, f.default.span, "the default")
                elif not _broken(expr):
                    self.error("RPL035", "a default must be a plain value", f.default.span,
                               "write a value like `0.00` or an enum value")
            out[f.name] = FieldSpec(f.name, type_, default, has_default, f.present_when, f.label,
                                    stage=f.stage,  # `at STAGE`, for residual decisions
                                    span=f.span)
        for f in fields:
            if f.present_when is not None:
                flag = out.get(f.present_when)
                if flag is None or flag.type is not T.BOOLEAN:
                    flags = [n for n, s in out.items() if s.type is T.BOOLEAN]
                    self.error("RPL021", f"`when {f.present_when}` must name a yes/no field of the same record",
                               _word_span(f.span, f.present_when),
                               did_you_mean(f.present_when, flags)
                               or (f"yes/no fields here: {', '.join(flags)}" if flags else None))
        return out

    def _terms(self, terms: ast.Terms | None, effective: ast.Effective | None) -> ir.Expr | None:
        """The date that selects dated values and versions: a date of the request."""
        dated = [p for p in self.params.values() if isinstance(p, ir.DatedParam)]
        if terms is None:
            if dated or effective is not None:
                first = dated[0].span if dated else effective.span
                self.error("RPL054", "values by date need the date that selects them", first,
                           "say which date of the request chooses the terms, like `terms by order.purchase_date`")
            return None
        self.scope, self.narrowed = [], set()
        selector = self.expr(terms.selector, T.DATE)
        if selector.type != T.DATE and not _broken(selector):
            self.error("RPL054", f"the terms date must be a date of the request, but this is "
                       f"{selector.type.describe()}", terms.selector.span,
                       "name a date field that every request has, like `order.purchase_date`")
        return selector

    def _parameter(self, d: ast.Parameter):
        if d.dated:
            self._dated_parameter(d)
            return
        expr = self.expr(d.value, None)
        if not isinstance(expr, ir.Const):
            if not _broken(expr):
                self.error("RPL035", f"parameter `{d.name}` must be a plain value", d.value.span,
                           "write a value like `14 days`, `15%` or `25.00`; use `let` for a computed value")
            self.broken_names.add(d.name)
            return
        self.params[d.name] = ir.Param(d.name, expr.value, expr.type, span=d.span)
        self.param_values[d.name] = d.value

    def _dated_parameter(self, d: ast.Parameter):
        """A parameter with values by date: each a plain value of one type, the periods in order,
        none overlapping, and, without a value for other dates, none missing."""
        default = self.expr(d.value, None) if d.value is not None else None
        type_ = default.type if default is not None else None
        periods = []
        for dated in d.dated:
            value = self.expr(dated.value, type_)
            if not isinstance(value, ir.Const):
                if not _broken(value):
                    self.error("RPL035", f"a value of `{d.name}` must be a plain value", dated.value.span,
                               "write a value like `30 days` or `20%`")
                self.broken_names.add(d.name)
                return
            if type_ is None:
                type_ = value.type
            elif value.type != type_:
                self.error("RPL030", f"every value of `{d.name}` must be {type_.describe()}, but this is "
                           f"{value.type.describe()}", dated.value.span, None)
            if dated.start is not None and dated.end is not None and dated.end < dated.start:
                self.error("RPL051", f"this period ends ({dated.end}) before it starts ({dated.start})",
                           dated.span, "write the first day after `from` and the last day after `until`")
            periods.append((dated.start, dated.end, value.value, dated.label, dated.span))
        if default is not None and not isinstance(default, ir.Const):
            if not _broken(default):
                self.error("RPL035", f"parameter `{d.name}` must be a plain value", d.value.span,
                           "write a value like `14 days`, `15%` or `25.00`; use `let` for a computed value")
            self.broken_names.add(d.name)
            return
        ordered = sorted(periods, key=lambda p: (p[0] or _FIRST_DAY))
        for before, after in zip(ordered, ordered[1:]):
            if before[1] is None or (after[0] or _FIRST_DAY) <= before[1]:
                where = f" (line {before[4].line})" if before[4] is not None else ""
                self.error("RPL052", f"two periods of `{d.name}` overlap", after[4],
                           f"this period starts before the one before it{where} ends: "
                           "make each period end before the next one starts")
            elif default is None and (after[0] - before[1]).days > 1:
                first, last = before[1] + _ONE_DAY, after[0] - _ONE_DAY
                dates = f"on {first}" if first == last else f"from {first} to {last}"
                self.error("RPL053", f"`{d.name}` has no value {dates}", after[4],
                           "start this period the day after the last one ends, or give a value for "
                           f"other dates: `parameter {d.name} = ...`")
        if default is None and ordered:
            if ordered[0][0] is not None:
                self.error("RPL053", f"`{d.name}` has no value before {ordered[0][0]}", ordered[0][4],
                           f"write `until` for the first period, or give a value for other dates: "
                           f"`parameter {d.name} = ...`")
            if ordered[-1][1] is not None:
                self.error("RPL053", f"`{d.name}` has no value after {ordered[-1][1]}", ordered[-1][4],
                           "leave the last period open (`from DATE` alone), or give a value for other dates")
        self.params[d.name] = ir.DatedParam(
            d.name, default.value if default is not None else None,
            tuple(p[:4] for p in ordered), type_, span=d.span)
        self.param_values[d.name] = d.value if d.value is not None else d.dated[0].value

    def _value(self, name: str) -> T.Type | None:
        """Check a derived value on first use, so that values may be declared in any order."""
        if name in self.value_types:
            return self.value_types[name]
        if name in self.checking:
            cycle = self.checking[self.checking.index(name):] + [name]
            decl = self.let_decls[cycle[0]]
            if len(cycle) == 2:
                message = f"`{name}` is defined in terms of itself"
            else:
                message = "these values are defined in terms of each other: " + " -> ".join(f"`{n}`" for n in cycle)
            self.error("RPL040", message, name_span(decl.span, decl.name),
                       "a value cannot depend on itself: define one of them from the request and the parameters")
            return UNKNOWN
        self.checking.append(name)
        saved_scope, saved_narrowed = self.scope, self.narrowed
        self.scope, self.narrowed = [], set()
        expr = self.expr(self.let_decls[name].value, None)
        self.scope, self.narrowed = saved_scope, saved_narrowed
        self.checking.pop()
        if name not in self.value_types:
            self.values[name] = expr
            self.value_types[name] = expr.type
        return self.value_types[name]

    def _value_order(self) -> list[str]:
        order: list[str] = []
        visiting: set[str] = set()  # values in a circle are reported; here they must not loop

        def visit(name: str):
            if name in order or name not in self.values or name in visiting:
                return
            visiting.add(name)
            for dep in _value_refs(self.values[name]):
                if dep not in order:
                    visit(dep)
            if name not in order:
                order.append(name)

        for name in self.values:
            visit(name)
        return order

    def _outcomes(self, decls: list[ast.OutcomesDecl]) -> tuple[Outcome, ...]:
        if not decls:
            return ()
        for d in decls[1:]:
            self.error("RPL010", "`outcomes:` is declared twice", _lead_span(d.span, "outcomes"),
                       "keep one `outcomes:` list, strongest first")
        result, seen = [], set()
        for rank, o in enumerate(decls[0].outcomes):
            if o.name in seen:
                self.error("RPL010", f"the outcome `{o.name}` is listed twice", _lead_span(o.span, o.name),
                           "list each outcome once")
                continue
            seen.add(o.name)
            result.append(Outcome(o.name, o.label, rank, o.overrides_all, span=o.span))
        return tuple(result)

    def _outputs(self, decls, outcomes, unique) -> dict[str, CheckedOutput]:
        out: dict[str, CheckedOutput] = {}
        for d in decls:
            if not unique("output", d.name, d.span):
                continue
            if d.type is None:
                if d.name != "outcome":
                    self.error("RPL044", f"the output `{d.name}` needs a type", name_span(d.span, d.name),
                               f"write `output {d.name}: money total` or `output {d.name}: optional date`")
                    continue
                if not outcomes:
                    self.error("RPL042", "`output outcome` needs an `outcomes:` list", name_span(d.span, d.name),
                               "declare the outcomes, strongest first, like `outcomes:` `refuse \"REFUSED\"` ...")
                out[d.name] = CheckedOutput(d.name, "outcome", None, span=d.span)
                continue
            type_ = self._type(d.type)
            floor = default = None
            if d.floor is not None:
                floor = self._constant(d.floor, type_, "the floor")
            if d.default is not None:
                default = self._constant(d.default, type_, "the default")
            if d.total:
                if type_ is not T.MONEY and not _broken(type_):
                    self.error("RPL044", f"a total must be money, not {type_.describe()}", d.type.span,
                               f"write `output {d.name}: money total`")
                out[d.name] = CheckedOutput(d.name, "total", type_, floor, default, span=d.span)
            else:
                if d.floor is not None:
                    self.error("RPL044", "only a total can have a floor", d.floor.span,
                               f"write `output {d.name}: money total, at least ...`")
                out[d.name] = CheckedOutput(d.name, "set", type_, None, default, span=d.span)
        return out

    def _constant(self, e: ast.Expr, type_: T.Type, what: str):
        expr = self.expr(e, type_)
        if not isinstance(expr, ir.Const):
            if not _broken(expr):
                self.error("RPL035", f"{what} must be a plain value", e.span, "write a value like `0.00`")
            return None
        self.expect(expr, type_, e.span, what)
        return expr.value

    def _rule(self, d: ast.Rule, clauses, outcomes, outputs, rule_names) -> CheckedRule:
        self.scope, self.narrowed = [], set()
        self.current_rule = d.name
        var = source = None
        if d.for_each is not None:
            source = self.expr(d.for_each.source, None)
            element = self._element_type(source, d.for_each.source.span)
            var = d.for_each.variable
            self.scope.append((var, element))
        clause = clause_text = None
        if d.cites is None:
            pass  # a missing citation is a warning of the static checks
        else:
            (value, inline), span = d.cites, d.cites_span
            if inline:
                clause_text = value
            elif value in clauses:
                clause, clause_text = value, clauses[value]
            else:
                self.error("RPL024", f"there is no clause `{value}`", span,
                           did_you_mean(value, clauses) or "declare it with `clause NAME: \"...\"`, or quote the text here")
        if d.condition is None:
            self.error("RPL012", f"the rule `{d.name}` has no `when`", name_span(d.span, d.name),
                       "say when the rule applies, like `when request_date > last_request_day`, or `when true`")
            condition = ir.Const(True, T.BOOLEAN)
        else:
            condition = self.expr(d.condition, T.BOOLEAN)
            self.expect(condition, T.BOOLEAN, d.condition.span, "a rule's condition")
        narrowed_by_condition = _given_in(condition) if d.condition is not None else set()
        self.narrowed = set(narrowed_by_condition)
        effects, outcome = [], None
        outcome_names = {o.name for o in outcomes}
        if not d.effects:
            self.error("RPL012", f"the rule `{d.name}` has no `then`", name_span(d.span, d.name),
                       "say what the rule does, like `then refuse`, or `then note` to only explain")
        for e in d.effects:
            if isinstance(e, ast.GiveOutcome):
                if e.outcome not in outcome_names:
                    self.error("RPL026", f"`{e.outcome}` is not an outcome", e.span,
                               self._outcome_hint(e.outcome, outcome_names, outputs))
                elif outcome is not None:
                    if outcome == e.outcome:
                        self.error("RPL011", f"`{e.outcome}` is written twice", e.span, "remove one")
                    else:
                        self.error("RPL011", f"the rule `{d.name}` gives two outcomes, `{outcome}` and `{e.outcome}`",
                                   e.span, "give one outcome per rule; write two rules if both can happen")
                else:
                    outcome = e.outcome
                effects.append(Effect("outcome", e.outcome, span=e.span))
            elif isinstance(e, ast.Note):
                effects.append(Effect("note", span=e.span))
            else:
                effects.append(self._output_effect(e, outputs))
        because: list = []
        if d.because is not None:
            for part in d.because.parts:
                because.append(part if isinstance(part, str) else self._template_hole(part))
        for name, span in zip(d.overrides, d.override_spans):
            if name not in rule_names:
                self.error("RPL029", f"there is no rule `{name}` to override", span,
                           did_you_mean(name, rule_names) or "name a rule of this policy")
            elif name == d.name:
                self.error("RPL029", "a rule cannot override itself", span,
                           "name the rule this one is an exception to")
        self.scope, self.narrowed = [], set()
        return CheckedRule(d.name, var, source, clause, clause_text, condition, tuple(effects),
                           outcome, tuple(because), d.overrides, span=d.span)

    def _outcome_hint(self, name: str, outcome_names: set[str], outputs) -> str:
        guess = did_you_mean(name, outcome_names | {"add", "subtract", "set", "note"})
        if guess:
            return guess
        if name in ("then", "when", "cites", "because", "overrides", "to", "from", "each", "for"):
            return f"`{name}` is a word of the language, read here as an outcome: is it written twice, or misplaced?"
        if name in self.params or name in self.let_decls or name in self.request:
            return f"`{name}` is a value, not an outcome: is it written twice, or is something missing before it?"
        if name in outputs:
            return f"`{name}` is an output: write `add ... to {name}` or `set {name} to ...`"
        if not outcome_names:
            return "declare the outcomes, strongest first, with `outcomes:`"
        return f"outcomes: {', '.join(sorted(outcome_names))}; or write `note` to only explain"

    def _template_hole(self, e: ast.Expr) -> ir.Expr:
        expr = self.expr(e, None)
        return expr

    def _output_effect(self, e, outputs) -> Effect:
        output = outputs.get(e.output)
        value = self.expr(e.amount if isinstance(e, ast.AddTo) else e.value,
                          output.type if output is not None else None)
        if output is None:
            self.error("RPL025", f"there is no output `{e.output}`", _word_span(e.span, e.output),
                       did_you_mean(e.output, outputs) or f"declare it, like `output {e.output}: money total`")
            return Effect("note", span=e.span)
        if isinstance(e, ast.AddTo):
            if output.kind != "total":
                verb = "add to" if e.sign > 0 else "subtract from"
                self.error("RPL030", f"cannot {verb} `{e.output}`: it is not a total", e.span,
                           f"write `set {e.output} to ...`, or declare `output {e.output}: money total`")
            self.expect(value, T.MONEY, e.amount.span, "an amount")
            return Effect("add", e.output, value, e.sign, span=e.span)
        if output.kind != "set":
            self.error("RPL030", f"cannot set `{e.output}`: it is a total", e.span,
                       f"write `add ... to {e.output}`")
        target = output.type.inner if isinstance(output.type, T.OptionalType) else output.type
        self.expect(value, target, e.value.span, f"`{e.output}`")
        return Effect("set", e.output, value, span=e.span)

    def _check_outputs_set(self, outputs: dict[str, CheckedOutput], rules):
        set_by = {e.output for r in rules for e in r.effects if e.kind in ("add", "set")}
        for o in outputs.values():
            if o.kind == "set" and o.name not in set_by and o.default is None \
                    and not isinstance(o.type, T.OptionalType):
                self.error("RPL041", f"the output `{o.name}` is never set", name_span(o.span, o.name),
                           f"add a rule with `set {o.name} to ...`, give it a default, or make it optional")

    # ---- expressions --------------------------------------------------------------------------

    def expect(self, expr: ir.Expr, wanted: T.Type | None, span, what: str) -> None:
        if wanted is None or expr.type == wanted or _broken(expr, wanted):
            return
        got = expr.type
        if got is T.EXACT_MONEY and wanted is T.MONEY:
            self._unrounded(expr, span)
            return
        if isinstance(got, T.OptionalType) and got.inner == wanted:
            self._may_be_missing(expr, span)
            return
        hint = None
        if wanted is T.MONEY and got is T.INTEGER:
            hint = "write amounts with cents, like `0.00`"
        elif wanted is T.PERCENT and got is T.MONEY:
            hint = "write percentages with `%`, like `15%`, not `0.15`"
        elif wanted is T.BOOLEAN and isinstance(got, T.EnumType):
            hint = f"compare it with a value, like `... is {got.members[0]}`"
        elif isinstance(wanted, T.EnumType) and got is T.TEXT:
            hint = f"write the value without quotes; {wanted.name} values: {', '.join(wanted.members)}"
        self.error("RPL030", f"{what} must be {wanted.describe()}, but this is {got.describe()}", span, hint)

    def _may_be_missing(self, expr: ir.Expr, span) -> None:
        """Once per value and rule: the same optional field used unchecked in several places is one mistake."""
        key = ("missing", self.current_rule, _key(expr))
        if key in self.reported:
            return
        self.reported.add(key)
        self.error("RPL032", "this value may be missing", span,
                   "check it first, like `when received_date is given and ...` or `if x is given then ... else ...`")

    def _unrounded(self, expr: ir.Expr, span) -> None:
        hint = "wrap it in `round(...)`: it rounds half up to the cent"
        if isinstance(expr, ir.Value):
            hint = f"round it where it is defined: `let {expr.name} = round(...)`"
        self.error("RPL031", "this amount is not rounded to the cent", span, hint)

    def _element_type(self, source: ir.Expr, span) -> T.Type:
        if isinstance(source.type, T.ListType):
            return source.type.element
        if isinstance(source.type, T.SetType):
            return source.type.element
        if not _broken(source):
            self.error("RPL030", f"`for each` needs a list, but this is {source.type.describe()}", span, None)
        return UNKNOWN

    def _lookup(self, name: str):
        for var, type_ in reversed(self.scope):
            if var == name:
                return ir.Var(name, type_)
        if name in self.let_decls:
            return ir.Value(name, self._value(name))
        if name in self.params:
            p = self.params[name]
            if isinstance(p, ir.DatedParam):
                return attrs.evolve(p, span=None)
            return ir.Param(p.name, p.value, p.type)
        if name in self.broken_names:
            return ir.Const(None, UNKNOWN)
        if name in self.request:
            spec = self.request[name]
            return ir.Input((name,), spec.type, spec.present_when)
        return None

    def _narrow(self, expr: ir.Expr) -> ir.Expr:
        if isinstance(expr.type, T.OptionalType) and _key(expr) in self.narrowed:
            return attrs.evolve(expr, type=expr.type.inner)
        return expr

    def expr(self, e: ast.Expr, expected: T.Type | None) -> ir.Expr:
        result = self._expr(e, expected)
        return self._narrow(attrs.evolve(result, span=e.span))

    def _expr(self, e: ast.Expr, expected):
        method = getattr(self, "_" + type(e).__name__)
        return method(e, expected)

    def _Literal(self, e: ast.Literal, expected):
        return ir.Const(e.value, _LITERAL_TYPES[e.kind])

    def _Name(self, e: ast.Name, expected):
        found = self._lookup(e.name)
        if found is not None:
            return found
        enum_value = self._enum_value(e.name, expected, e.span)
        if enum_value is not None:
            return enum_value
        self._unknown_name(e, expected)
        return ir.Const(None, UNKNOWN)

    def _unknown_name(self, e: ast.Name, expected) -> None:
        """Say what the name could have been: a value, a field, an enum value, a keyword."""
        name = e.name
        enum = expected
        while isinstance(enum, (T.OptionalType, T.SetType, T.ListType)):
            enum = enum.inner if isinstance(enum, T.OptionalType) else enum.element
        values = [v for v, _ in self.scope] + list(self.let_decls) + list(self.params) + list(self.request)
        if isinstance(enum, T.EnumType) and did_you_mean(name, enum.members):
            self.error("RPL022", f"`{name}` is not a {enum.name} value", e.span, _enum_hint(name, enum))
            return
        guess = self._field_path_hint(name, exact=True) or did_you_mean(name, values)
        joined = self._field_path_hint(name, exact=True, joined=True)
        if joined:
            guess = joined
        if isinstance(enum, T.EnumType) and not guess:
            self.error("RPL022", f"`{name}` is not a {enum.name} value", e.span, _enum_hint(name, enum))
            return
        if guess is None:
            guess = self._field_path_hint(name, exact=False)
        if guess is None and name in self.enums:
            members = self.enums[name].members
            guess = f"`{name}` is a type; its values are {', '.join(members)}"
        if guess is None and (name in self.record_decls or name in T.BUILTIN_TYPES):
            guess = f"`{name}` is a type, not a value"
        if guess is None:
            close = difflib.get_close_matches(name, _EXPRESSION_KEYWORDS, n=1, cutoff=0.75)
            guess = f"did you mean `{close[0]}`?" if close else None
        if guess is None:
            all_members = [m for t in self.enums.values() for m in t.members]
            guess = did_you_mean(name, all_members)
        self.error("RPL020", f"unknown name `{name}`", e.span, guess)

    def _field_path_hint(self, name: str, exact: bool, joined: bool = False) -> str | None:
        """`delivery_date` written for `order.delivery_date`, `price` for `item.price`."""
        paths = []
        for var, type_ in reversed(self.scope):
            if isinstance(type_, T.RecordType):
                paths += [(f, f"{var}.{f}") for f in self.records.get(type_.name, {})]
        for field, spec in self.request.items():
            inner = _strip_optional(spec.type)
            if isinstance(inner, T.RecordType):
                paths += [(f, f"{field}.{f}") for f in self.records.get(inner.name, {})]
        if joined:  # `itemprice` for `item.price`: the dot left out
            glued = [p for f, p in paths if p.replace(".", "") == name]
            return f"did you mean `{glued[0]}`?" if glued else None
        same = [p for f, p in paths if f == name]
        if exact:
            return f"did you mean `{same[0]}`?" if same else None
        close = difflib.get_close_matches(name, [f for f, _ in paths], n=1, cutoff=0.8)
        if close:
            return f"did you mean `{next(p for f, p in paths if f == close[0])}`?"
        return None

    def _enum_value(self, name: str, expected, span):
        if isinstance(expected, T.OptionalType):
            expected = expected.inner
        if isinstance(expected, (T.SetType, T.ListType)):
            expected = expected.element
        if isinstance(expected, T.EnumType):
            if name in expected.members:
                return ir.Const(name, expected)
            return None
        owners = [t for t in self.enums.values() if name in t.members]
        if len(owners) == 1:
            return ir.Const(name, owners[0])
        if len(owners) > 1:
            self.error("RPL033", f"`{name}` is a value of {' and of '.join(t.name for t in owners)}",
                       span, "compare it with a field of the type you mean, like `order.payment_method is check`")
            return ir.Const(name, owners[0])
        return None

    def _Field(self, e: ast.Field, expected):
        base = self.expr(e.base, None)
        base_type = base.type
        if _broken(base):
            return ir.Const(None, UNKNOWN)
        if isinstance(base_type, T.OptionalType):
            self.error("RPL032", "this record may be missing", e.base.span, "check it with `is given` first")
            base_type = base_type.inner
        name_span = Span(e.span.source, e.span.end - len(e.name), e.span.end) if e.span is not None else None
        if not isinstance(base_type, T.RecordType):
            written = e.base.span.text if e.base.span is not None else "this"
            hint = None
            if isinstance(base_type, T.ListType):
                hint = (f"a list has no fields: go through it, like `for each x in {written}` "
                        f"or `any x in {written} where x.{e.name}`")
            self.error("RPL021", f"`{written}` is {base_type.describe()}: it has no field `{e.name}`", name_span, hint)
            return ir.Const(None, UNKNOWN)
        fields = self.records.get(base_type.name, {})
        spec = fields.get(e.name)
        if spec is None:
            article = "an" if base_type.name[:1].lower() in "aeiou" else "a"
            self.error("RPL021", f"{article} {base_type.name} has no field `{e.name}`", name_span,
                       did_you_mean(e.name, fields) or f"its fields are {', '.join(fields)}")
            return ir.Const(None, UNKNOWN)
        if isinstance(base, ir.Input):
            return ir.Input(base.path + (e.name,), spec.type, spec.present_when)
        return ir.FieldOf(base, e.name, spec.type, spec.present_when)

    def _EnumSet(self, e: ast.EnumSet, expected):
        element = expected.element if isinstance(expected, (T.SetType, T.ListType)) else expected
        element = _strip_optional(element) if element is not None else None
        if _broken(element):
            return ir.Const(frozenset(e.members), UNKNOWN)
        if not isinstance(element, T.EnumType):
            owners = [t for t in self.enums.values() if all(m in t.members for m in e.members)]
            if len(owners) != 1:
                unknown = [m for m in e.members if not any(m in t.members for t in self.enums.values())]
                if unknown:
                    # the enum the other members belong to, if they agree on one
                    known = [m for m in e.members if m not in unknown]
                    hosts = [t for t in self.enums.values() if known and all(m in t.members for m in known)]
                    pool = hosts[0].members if len(hosts) == 1 else [m for t in self.enums.values() for m in t.members]
                    if len(hosts) == 1:
                        self.error("RPL022", f"`{unknown[0]}` is not a {hosts[0].name} value",
                                   _word_span(e.span, unknown[0]), _enum_hint(unknown[0], hosts[0]))
                    else:
                        self.error("RPL022", f"`{unknown[0]}` is not a value of any enum",
                                   _word_span(e.span, unknown[0]), did_you_mean(unknown[0], pool))
                elif not owners:
                    self.error("RPL033", "these values are not all of one enum", e.span,
                               "a set holds values of one enum")
                else:
                    self.error("RPL033", "these values belong to more than one enum", e.span,
                               "use the set where it is compared with a field of the enum you mean")
                return ir.Const(frozenset(e.members), UNKNOWN)
            element = owners[0]
        for m in e.members:
            if m not in element.members:
                self.error("RPL022", f"`{m}` is not a {element.name} value", _word_span(e.span, m),
                           _enum_hint(m, element))
        return ir.Const(frozenset(e.members), T.SetType(element))

    def _Negate(self, e: ast.Negate, expected):
        operand = self.expr(e.operand, expected)
        if operand.type not in _NUMBERS and not _broken(operand):
            self.error("RPL030", f"cannot negate {operand.type.describe()}", e.span, None)
        if isinstance(operand, ir.Const) and operand.value is not None:
            return ir.Const(-operand.value, operand.type)
        return ir.Op("neg", (operand,), operand.type)

    def _Arith(self, e: ast.Arith, expected):
        date = self._date_written_as_numbers(e)
        if date is not None:
            return date
        left = self.expr(e.left, expected if e.op in "+-" else None)
        right = self.expr(e.right, self._right_hint(e.op, left.type))
        if _broken(left, right):
            return ir.Op(e.op, (left, right), UNKNOWN)
        for node, part in ((left, e.left), (right, e.right)):
            if isinstance(node.type, T.OptionalType):
                self._may_be_missing(node, part.span)
        result = _arith_type(e.op, left.type, right.type)
        if result is None:
            self._arith_error(e, left, right)
            return ir.Op(e.op, (left, right), UNKNOWN)
        return ir.Op(e.op, (left, right), result)

    def _date_written_as_numbers(self, e: ast.Arith):
        """`2026-3-2` or `03/02/2026` reads as arithmetic on whole numbers; say how to write the date."""
        if e.span is None or e.op not in "-/":
            return None
        text = e.span.text
        m = _DATE_LIKE.fullmatch(text)
        if m is None:
            return None
        if m.group(1):
            year, month, day = (int(g) for g in m.group(1, 2, 3))
            hint = "write dates as YYYY-MM-DD"
            try:
                hint += f": `{datetime.date(year, month, day).isoformat()}`"
            except ValueError:
                pass
        else:
            a, b, year = (int(g) for g in m.group(4, 5, 6))
            options = []
            for month, day in ((a, b), (b, a)):
                try:
                    options.append(datetime.date(year, month, day).isoformat())
                except ValueError:
                    pass
            options = list(dict.fromkeys(options))
            hint = "write dates as YYYY-MM-DD"
            if len(options) == 1:
                hint += f": `{options[0]}`"
            elif options:
                hint += f": `{options[0]}` or `{options[1]}`, as you mean it"
        self.error("RPL004", f"`{text}` is not a date rpl can read", e.span, hint)
        return ir.Const(datetime.date(1970, 1, 1), T.DATE)

    @staticmethod
    def _right_hint(op, left_type):
        return left_type if op in "+-" and left_type in (T.MONEY,) else None

    def _arith_error(self, e: ast.Arith, left: ir.Expr, right: ir.Expr):
        lt, rt = _strip_optional(left.type), _strip_optional(right.type)
        words = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[e.op]
        if e.op == "*" and lt is rt is T.MONEY:
            for side in (right, left):
                if self._percent_written_as_amount(side):
                    return
        hint = None
        if e.op == "-" and lt is rt is T.DATE:
            hint = "write `days from A to B` for the number of days between two dates"
        elif T.DATE in (lt, rt) and T.INTEGER in (lt, rt):
            hint = "add a number of days, like `14 days` or `10 business days`"
        elif {lt, rt} & {T.DAYS, T.BUSINESS_DAYS} and {lt, rt} & {T.MONEY, T.PERCENT, T.EXACT_MONEY}:
            hint = "days can only be added to or subtracted from a date"
        elif T.DATE in (lt, rt) and e.op in "*/":
            hint = "a percentage applies to an amount of money, not to a date"
        elif T.DATE in (lt, rt) and {lt, rt} & {T.MONEY, T.PERCENT}:
            hint = "a date takes a number of days, like `+ 14 days`"
        elif lt is T.INTEGER and rt is T.MONEY or lt is T.MONEY and rt is T.INTEGER:
            hint = "write amounts with cents, like `5.00`"
        elif e.op == "/" and lt in (T.MONEY, T.EXACT_MONEY):
            hint = "an amount can be divided by a whole number or a percentage"
        self.error("RPL030", f"cannot {words} {lt.describe()} and {rt.describe()}", e.span, hint)

    def _percent_written_as_amount(self, side: ir.Expr) -> bool:
        """`0.15` meant as 15%: report it once, at the value as written."""
        if isinstance(side, ir.Param) and side.name in self.param_values:
            written = self.param_values[side.name]
            if ("percent", side.name) not in self.reported:
                self.reported.add(("percent", side.name))
                self.error("RPL030", f"`{side.name}` is used as a percentage, but `{written.span.text}` is an amount",
                           written.span, f"write `{_as_percent(side.value)}`, not `{written.span.text}`")
            return True
        if isinstance(side, ir.Const) and side.type is T.MONEY and side.span is not None:
            self.error("RPL030", f"`{side.span.text}` is an amount, not a percentage", side.span,
                       f"write `{_as_percent(side.value)}`, not `{side.span.text}`")
            return True
        return False

    def _Compare(self, e: ast.Compare, expected):
        test = self._test_misspelled(e)
        if test is not None:
            return test
        if isinstance(e.left, ast.Name) and self._lookup(e.left.name) is None:
            right = self.expr(e.right, None)  # an enum value written first: `check is payment_method`
            left = self.expr(e.left, right.type)
        else:
            left = self.expr(e.left, None)
            right = self.expr(e.right, left.type)
        op = {"is": "==", "is not": "!="}.get(e.op, e.op)
        if _broken(left, right):
            return ir.Op(op, (left, right), T.BOOLEAN)
        lt, rt = _strip_optional(left.type), _strip_optional(right.type)
        for node, part in ((left, e.left), (right, e.right)):
            if isinstance(node.type, T.OptionalType) and op not in ("==", "!="):
                self._may_be_missing(node, part.span)
        money = (T.MONEY, T.EXACT_MONEY)
        if lt in money and rt in money and lt is not rt and op not in ("==", "!="):
            exact, node = (left, e.left) if lt is T.EXACT_MONEY else (right, e.right)
            self._unrounded(exact, node.span)
        elif op in ("==", "!="):
            if lt != rt and not (lt in money and rt in money):
                self._compare_error(e, lt, rt)
        elif lt != rt or lt not in _ORDERED:
            if lt == rt:
                self.error("RPL030", f"{lt.describe()} has no order: use `is` or `is not`", e.span, None)
            else:
                self._compare_error(e, lt, rt)
        return ir.Op(op, (left, right), T.BOOLEAN)

    def _test_misspelled(self, e: ast.Compare):
        """`x is give`: report the word, and go on as if `is given` was written (it narrows `x`)."""
        if e.op not in ("is", "is not") or not isinstance(e.right, ast.Name) or self._lookup(e.right.name) is not None:
            return None
        word = difflib.get_close_matches(e.right.name, ["given", "empty"], n=1, cutoff=0.7)
        if not word or word[0] == e.right.name or any(e.right.name in t.members for t in self.enums.values()):
            return None
        operand = self.expr(e.left, None)
        self.error("RPL020", f"unknown name `{e.right.name}`", e.right.span, f"did you mean `{e.op} {word[0]}`?")
        negated = e.op == "is not"
        op = {"given": ("not_given", "given"), "empty": ("not_empty", "empty")}[word[0]][0 if negated else 1]
        return ir.Op(op, (operand,), T.BOOLEAN)

    def _compare_error(self, e, lt, rt):
        pair = {lt, rt}
        if pair == {T.MONEY, T.INTEGER}:
            hint = "write amounts with cents, like `0.00`"
        elif pair in ({T.DATE, T.DAYS}, {T.DATE, T.INTEGER}, {T.DATE, T.BUSINESS_DAYS}):
            hint = "compare a date with a date, like `request_date > order.delivery_date + 14 days`"
        elif isinstance(lt, T.EnumType) and rt is T.TEXT:
            hint = f"write the value without quotes; the {lt.name} values are {', '.join(lt.members)}"
        elif T.BOOLEAN in pair:
            hint = "a yes/no fact is a condition on its own: write `item.opened` or `not item.opened`"
        elif T.DATE in pair:
            hint = "a date compares with another date, like `request_date > last_request_day`"
        elif pair & {T.MONEY, T.EXACT_MONEY}:
            hint = "an amount compares with another amount, like `item.price > 100.00`"
        else:
            hint = f"compare {lt.describe()} with {lt.describe()} of the same kind"
        self.error("RPL030", f"cannot compare {lt.describe()} with {rt.describe()}", e.span, hint)

    def _Test(self, e: ast.Test, expected):
        operand = self.expr(e.operand, None)
        if _broken(operand):
            op = ("not_given" if e.negated else "given") if e.test == "given" else ("not_empty" if e.negated else "empty")
            return ir.Op(op, (operand,), T.BOOLEAN)
        if e.test == "given":
            if not isinstance(operand.type, T.OptionalType) and not _present_when(operand):
                self.error("RPL036", "this value is always given", e.operand.span,
                           "`is given` applies to `optional` fields and to fields given `when` a fact is true")
            return ir.Op("not_given" if e.negated else "given", (operand,), T.BOOLEAN)
        if not isinstance(_strip_optional(operand.type), (T.ListType, T.SetType)) and operand.type is not T.TEXT:
            self.error("RPL030", f"`is empty` needs a list, but this is {operand.type.describe()}", e.operand.span, None)
        elif isinstance(operand.type, T.OptionalType):
            self.error("RPL032", "this list may be missing", e.operand.span,
                       f"check it first: `{' '.join(e.operand.span.text.split())} is given and ...`"
                       if e.operand.span is not None else "check it first with `is given`")
        return ir.Op("not_empty" if e.negated else "empty", (operand,), T.BOOLEAN)

    def _Membership(self, e: ast.Membership, expected):
        left = self.expr(e.element, None)
        element_hint = _strip_optional(left.type)
        right = self.expr(e.collection, T.SetType(element_hint) if isinstance(element_hint, T.EnumType) else None)
        if _broken(left, right):
            return ir.Op("not_in" if e.negated else "in", (left, right), T.BOOLEAN)
        element_type = right.type.element if isinstance(right.type, (T.ListType, T.SetType)) else None
        if element_type is None:
            self.error("RPL030", f"`in` needs a set or a list, but this is {right.type.describe()}",
                       e.collection.span, "write a set like `{fire, flood}`")
        elif _strip_optional(left.type) != element_type:
            self.error("RPL030", f"{left.type.describe()} cannot be in {right.type.describe()}", e.span, None)
        return ir.Op("not_in" if e.negated else "in", (left, right), T.BOOLEAN)

    def _Logic(self, e: ast.Logic, expected):
        saved = set(self.narrowed)
        operands = []
        for operand in e.operands:
            checked = self.expr(operand, T.BOOLEAN)
            self.expect(checked, T.BOOLEAN, operand.span, f"each side of `{e.op}`")
            operands.append(checked)
            if e.op == "and":
                self.narrowed |= _given_in(checked)
        self.narrowed = saved
        return ir.Op(e.op, tuple(operands), T.BOOLEAN)

    def _Not(self, e: ast.Not, expected):
        operand = self.expr(e.operand, T.BOOLEAN)
        self.expect(operand, T.BOOLEAN, e.operand.span, "what follows `not`")
        return ir.Op("not", (operand,), T.BOOLEAN)

    def _IfThenElse(self, e: ast.IfThenElse, expected):
        condition = self.expr(e.condition, T.BOOLEAN)
        self.expect(condition, T.BOOLEAN, e.condition.span, "the condition of `if`")
        saved = set(self.narrowed)
        self.narrowed |= _given_in(condition)
        then = self.expr(e.then, expected)
        self.narrowed = saved | _not_given_in(condition)
        otherwise = self.expr(e.otherwise, expected or then.type)
        self.narrowed = saved
        if _broken(then, otherwise):
            return ir.Op("if", (condition, then, otherwise), UNKNOWN)
        if then.type != otherwise.type:
            money = (T.MONEY, T.EXACT_MONEY)
            if then.type in money and otherwise.type in money:
                exact, part = (then, e.then) if then.type is T.EXACT_MONEY else (otherwise, e.otherwise)
                self._unrounded(exact, part.span)
            else:
                self.error("RPL030", f"the two branches differ: {then.type.describe()} and {otherwise.type.describe()}",
                           e.span, "both `then` and `else` must give the same kind of value")
        return ir.Op("if", (condition, then, otherwise), then.type)

    def _bind(self, variable: str, source_expr: ast.Expr):
        source = self.expr(source_expr, None)
        element = self._element_type(source, source_expr.span)
        return source, element

    def _Each(self, e: ast.Each, expected):
        source, element_type = self._bind(e.variable, e.source)
        self.scope.append((e.variable, element_type))
        where = None
        if e.where is not None:
            where = self.expr(e.where, T.BOOLEAN)
            self.expect(where, T.BOOLEAN, e.where.span, "the condition after `where`")
        element = None
        result_type = T.ListType(element_type)
        if e.element is not None:
            element = self.expr(e.element, None)
            result_type = T.ListType(element.type)
        self.scope.pop()
        return ir.Each("map" if element is not None else "filter", e.variable, source, where, element,
                       result_type)

    def _Quantifier(self, e: ast.Quantifier, expected):
        source, element_type = self._bind(e.variable, e.source)
        self.scope.append((e.variable, element_type))
        condition = self.expr(e.condition, T.BOOLEAN)
        self.expect(condition, T.BOOLEAN, e.condition.span, "the condition after `where`")
        self.scope.pop()
        return ir.Each(e.quantifier, e.variable, source, condition, None, T.BOOLEAN)

    def _Aggregate(self, e: ast.Aggregate, expected):
        operand = self.expr(e.operand, None)
        if _broken(operand):
            return ir.Op(e.function, (operand,), T.INTEGER if e.function == "count" else UNKNOWN)
        if not isinstance(operand.type, T.ListType):
            self.error("RPL030", f"`{e.function} of` needs a list, but this is {operand.type.describe()}",
                       e.operand.span, "write `sum of item.price for each item in items`")
            return ir.Op(e.function, (operand,), T.INTEGER if e.function == "count" else UNKNOWN)
        element = operand.type.element
        if e.function == "count":
            return ir.Op("count", (operand,), T.INTEGER)
        if element not in _NUMBERS and not (e.function != "sum" and element is T.DATE):
            self.error("RPL030", f"cannot take the {e.function} of {operand.type.describe()}", e.operand.span, None)
            return ir.Op(e.function, (operand,), UNKNOWN)
        return ir.Op(e.function, (operand,), element)

    def _Call(self, e: ast.Call, expected):
        if e.function not in ("round", "max", "min"):
            for a in e.arguments:
                self.expr(a, None)
            self.error("RPL020", f"unknown function `{e.function}`", _lead_span(e.span, e.function),
                       did_you_mean(e.function, ["round", "max", "min"]) or "the functions are round, max and min")
            return ir.Const(None, UNKNOWN)
        args = tuple(self.expr(a, expected) for a in e.arguments)
        if _broken(*args):
            return ir.Op(e.function, args, T.MONEY if e.function == "round" else UNKNOWN)
        if e.function == "round":
            if len(args) != 1:
                self.error("RPL030", "`round` takes one amount", e.span, "write `round(item.price * 15%)`")
            elif args[0].type not in (T.EXACT_MONEY, T.MONEY):
                self.error("RPL030", f"`round` rounds amounts of money, not {args[0].type.describe()}", e.span, None)
            return ir.Op("round", args[:1], T.MONEY)
        kinds = {a.type for a in args}
        if len(args) >= 2 and kinds == {T.MONEY, T.EXACT_MONEY}:
            exact = next(i for i, a in enumerate(args) if a.type is T.EXACT_MONEY)
            self._unrounded(args[exact], e.arguments[exact].span)
            return ir.Op(e.function, args, T.MONEY)
        if len(args) < 2 or len(kinds) != 1 or args[0].type not in _ORDERED:
            self.error("RPL030", f"`{e.function}` takes two or more values of one kind", e.span,
                       f"write `{e.function}(0.00, amount)`")
            return ir.Op(e.function, args, UNKNOWN)
        return ir.Op(e.function, args, args[0].type)

    def _DaysBetween(self, e: ast.DaysBetween, expected):
        start, end = self.expr(e.start, T.DATE), self.expr(e.end, T.DATE)
        for node, part in ((start, e.start), (end, e.end)):
            self.expect(node, T.DATE, part.span, "each end of `days from ... to ...`")
        return ir.Op("days_between", (start, end), T.INTEGER)

    def _DateRange(self, e: ast.DateRange, expected):
        start, end = self.expr(e.start, T.DATE), self.expr(e.end, T.DATE)
        for node, part in ((start, e.start), (end, e.end)):
            self.expect(node, T.DATE, part.span, "each end of `through`")
        return ir.Op("through", (start, end), T.DATE_RANGE)


def _enum_hint(name: str, enum: T.EnumType) -> str:
    return did_you_mean(name, enum.members) or f"the {enum.name} values are {', '.join(enum.members)}"


def _as_percent(value) -> str:
    """`0.15` as a percentage: `15%`."""
    try:
        text = format((value * 100).normalize(), "f")
    except (AttributeError, ArithmeticError, TypeError):
        return "15%"
    return f"{text}%"


def _strip_optional(t: T.Type) -> T.Type:
    return t.inner if isinstance(t, T.OptionalType) else t


def _arith_type(op: str, lt: T.Type, rt: T.Type) -> T.Type | None:
    lt, rt = _strip_optional(lt), _strip_optional(rt)
    money_like = (T.MONEY, T.EXACT_MONEY)
    if op in "+-":
        if lt == rt and lt in (T.MONEY, T.INTEGER, T.PERCENT, T.DAYS, T.BUSINESS_DAYS):
            return lt
        if lt in money_like and rt in money_like:
            return T.EXACT_MONEY
        if lt == T.DATE and rt in (T.DAYS, T.BUSINESS_DAYS):
            return T.DATE
        if op == "+" and rt == T.DATE and lt in (T.DAYS, T.BUSINESS_DAYS):
            return T.DATE
        return None
    if op == "*":
        pair = {lt, rt}
        if lt == rt == T.INTEGER:
            return T.INTEGER
        if pair == {T.MONEY, T.INTEGER}:
            return T.MONEY
        if pair <= {T.MONEY, T.EXACT_MONEY, T.PERCENT, T.INTEGER} and pair & set(money_like) and len(pair) == 2:
            return T.EXACT_MONEY
        if pair == {T.INTEGER, T.DAYS}:
            return T.DAYS
        return None
    if op == "/":
        if lt in money_like and rt in (T.INTEGER, T.PERCENT):
            return T.EXACT_MONEY
        return None
    return None


def _key(expr: ir.Expr):
    """What identifies an expression for narrowing: the same value whatever its optional-ness."""
    return attrs.evolve(expr, type=_strip_optional(expr.type))


def _given_in(condition: ir.Expr) -> set:
    """The values a true `condition` proves to be given."""
    if isinstance(condition, ir.Op):
        if condition.op == "given":
            return {_key(condition.args[0])}
        if condition.op == "and":
            found = set()
            for a in condition.args:
                found |= _given_in(a)
            return found
    return set()


def _not_given_in(condition: ir.Expr) -> set:
    """The values a false `condition` proves to be given."""
    if isinstance(condition, ir.Op) and condition.op == "not_given":
        return {_key(condition.args[0])}
    return set()


def _present_when(expr: ir.Expr) -> bool:
    return isinstance(expr, (ir.FieldOf, ir.Input)) and expr.present_when is not None


def _value_refs(expr: ir.Expr) -> set[str]:
    found = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Value):
            found.add(node.name)
        stack.extend(ir.children(node))
    return found
