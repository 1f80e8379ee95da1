"""Resolve every name and check every type and unit; collect all problems, then raise them together.

What could not be checked (an unknown name, a field of an unknown type) gets the type `UNKNOWN`,
and nothing that uses it is checked again: one mistake, one error.
"""
from __future__ import annotations

import datetime

import attrs

from rplang.policy_lang import ast, limits
from rplang.policy_lang.errors import Diagnostic, PolicyError
from rplang.policy_lang.span import Span

from . import ir
from . import types as T
from .checked import CheckedPolicy, CheckedRule, Effect, FieldSpec
from .clauses import render_clause
from .tables import check_tables
from .expression_support import UNKNOWN, broken, given_in, lead_span, name_span, word_span
from .check_outcomes import OutcomeChecks
from .expressions import ExpressionChecker

_FIRST_DAY = datetime.date.min
_ONE_DAY = datetime.timedelta(days=1)


def check_policy(policy: ast.Policy) -> CheckedPolicy:
    """Check a parsed policy; raise PolicyError with every problem found."""
    checker = _Checker()
    checked = checker.run(policy)
    if checker.errors:
        found = sorted(checker.errors, key=lambda d: d.span.start if d.span else -1)
        raise PolicyError(limits.cap(found, policy.span.source) if policy.span else found)
    return checked



class _Checker(OutcomeChecks, ExpressionChecker):
    """Checks the declarations of a policy, and through them every expression."""

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
        self.output_types: dict[str, T.Type] = {}  # the outputs a property may read, while one is checked
        self.item_output_types: dict[str, dict[str, T.Type]] = {}  # record name -> what a property reads of an item
        self.tables: dict = {}  # name -> CheckedTable
        self.table_names: set[str] = set()  # every table declared, checked or not

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

        terms = effective = currency_by = None
        for d in decls:
            if isinstance(d, ast.Header) and unique("header", d.key, d.span):
                headers[d.key] = d
            elif isinstance(d, ast.Terms) and unique("header", "terms by", d.span):
                terms = d
            elif isinstance(d, ast.CurrencyBy) and unique("header", "currency by", d.span):
                currency_by = d
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
            self.error("RPL010", "`request:` is declared twice", lead_span(d.span, "request"),
                       "keep one `request:` with every field")
        if requests:
            self.request = self._fields(requests[0].fields)

        names_in_use = set(self.request)
        self.element_names = frozenset(d.for_each.variable for d in decls
                                       if isinstance(d, (ast.Rule, ast.OutcomesDecl)) and d.for_each is not None)
        for d in decls:
            if isinstance(d, ast.Parameter) and unique("name", d.name, d.span):
                self._parameter(d)
            elif isinstance(d, ast.Let) and unique("name", d.name, d.span):
                self.let_decls[d.name] = d
        table_decls = [d for d in decls if isinstance(d, ast.Table)]
        self.table_names = {d.name for d in table_decls}
        self.tables = check_tables(self, table_decls, policy.span.source.name if policy.span else "", unique)
        for d in table_decls:
            if d.name in names_in_use:
                self.error("RPL010", f"`{d.name}` is already a field of the request", name_span(d.span, d.name),
                           "choose another name")
        for name in list(self.params) + list(self.let_decls):
            if name in names_in_use:
                span = (self.let_decls[name].span if name in self.let_decls else self.params[name].span)
                self.error("RPL010", f"`{name}` is already a field of the request", name_span(span, name),
                           "choose another name")
        for name in self.let_decls:
            self._value(name)
        selector = self._terms(terms, effective)
        currency_field = self._currency_by(currency_by)

        outcome_decls = [d for d in decls if isinstance(d, ast.OutcomesDecl)]
        outcomes = self._outcomes(outcome_decls)
        items = self._item_outcomes(outcome_decls[:1], [d for d in decls if isinstance(d, ast.RequestOutcomeDecl)],
                                    outcomes)
        outputs = self._outputs([d for d in decls if isinstance(d, ast.OutputDecl)], outcomes, unique)
        rule_decls = [d for d in decls if isinstance(d, ast.Rule)]
        for d in rule_decls:
            unique("rule", d.name, d.span)
        clause_texts = {}
        for name, c in clauses.items():
            clause_texts[name], problems = render_clause(c.text, self.params, c.span, self.broken_names)
            self.errors.extend(problems)
        rule_names = {r.name for r in rule_decls}
        rules = tuple(self._rule(d, clause_texts, outcomes, outputs, rule_names) for d in rule_decls)
        if items is not None:
            rules = tuple(attrs.evolve(r, per_item=True) if r.source == items.source else r for r in rules)
        self._check_outputs_set(outputs, rules)
        properties = self._properties([d for d in decls if isinstance(d, ast.Property)], clause_texts,
                                      outcomes, outputs, unique, items)

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
            terms=selector, effective=effective.date if effective is not None else None,
            properties=properties, items=items, tables=self.tables, currency_by=currency_field)

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
        hint = self.suggest(t.name, known) or f"known types: {', '.join(known)}"
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
                self.error("RPL010", f"the field `{f.name}` is declared twice", lead_span(f.span, f.name),
                           "rename or remove one of them" + where)
                continue
            type_ = self._type(f.type)
            inner = type_
            while isinstance(inner, (T.OptionalType, T.ListType)):
                inner = inner.inner if isinstance(inner, T.OptionalType) else inner.element
            if inner is T.DATE_RANGE:
                self.error("RPL023", "a request cannot hold a range of dates", f.type.span,
                           "give its first and last days as two dates, and write `first through last` "
                           "in the policy")
            default, has_default = None, False
            if f.default is not None:
                expr = self.expr(f.default, type_)
                if isinstance(expr, ir.Const):
                    default, has_default = expr.value, True
                    self.expect(expr, type_, f.default.span, "the default")
                elif not broken(expr):
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
                               word_span(f.span, f.present_when),
                               self.suggest(f.present_when, flags)
                               or (f"yes/no fields here: {', '.join(flags)}" if flags else None))
        return out

    def _currency_by(self, d: ast.CurrencyBy | None) -> ir.Expr | None:
        """The text of the request that names its currency, for showing money (runtime/money.py)."""
        if d is None:
            return None
        self.scope, self.narrowed = [], set()
        field = self.expr(d.field, T.TEXT)
        if field.type not in (T.TEXT, T.OptionalType(T.TEXT)) and not broken(field):
            self.error("RPL030", f"the currency must be a text of the request, like \"JPY\", but this is "
                       f"{field.type.describe()}", d.field.span,
                       "name a text field that holds an ISO currency code, like `currency by order.currency`")
        return field

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
        if selector.type != T.DATE and not broken(selector):
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
            if not broken(expr):
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
                if not broken(value):
                    self.error("RPL035", f"a value of `{d.name}` must be a plain value", dated.value.span,
                               "write a value like `30 days` or `20%`")
                self.broken_names.add(d.name)
                return
            if type_ is None:
                type_ = value.type
            elif value.type != type_:
                self.error("RPL030", f"every value of `{d.name}` must be {type_.describe()}, but this is "
                           f"{value.type.describe()}", dated.value.span, None)
                self.broken_names.add(d.name)  # checked no further: one mistake, one error
                return
            if dated.start is not None and dated.end is not None and dated.end < dated.start:
                self.error("RPL051", f"this period ends ({dated.end}) before it starts ({dated.start})",
                           dated.span, "write the first day after `from` and the last day after `until`")
            periods.append((dated.start, dated.end, value.value, dated.label, dated.span))
        if default is not None and not isinstance(default, ir.Const):
            if not broken(default):
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
            for dep in ir.value_refs(self.values[name]):
                if dep not in order:
                    visit(dep)
            if name not in order:
                order.append(name)

        for name in self.values:
            visit(name)
        return order

    def _constant(self, e: ast.Expr, type_: T.Type, what: str):
        expr = self.expr(e, type_)
        if not isinstance(expr, ir.Const):
            if not broken(expr):
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
        self.rule_values = self._rule_values(d)
        citations = []  # none is a warning of the static checks
        for k, cited in enumerate(d.citations):
            if (cited.value, cited.inline) in {(c.value, c.inline) for c in d.citations[:k]}:
                self.error("RPL011", f"the rule `{d.name}` cites `{cited.value}` twice", cited.span, "remove one")
            elif cited.inline:
                citations.append((None, cited.value))
            elif cited.value in clauses:
                citations.append((cited.value, clauses[cited.value]))
            else:
                self.error("RPL024", f"there is no clause `{cited.value}`", cited.span,
                           self.suggest(cited.value, clauses)
                           or f"declare it with `clause {cited.value}: \"...\"`, or quote the text here")
        clause, clause_text = citations[0] if citations else (None, None)
        if d.condition is None:
            self.error("RPL012", f"the rule `{d.name}` has no `when`", name_span(d.span, d.name),
                       "say when the rule applies, like `when request_date > last_request_day`, or `when true`")
            condition = ir.Const(True, T.BOOLEAN)
        else:
            condition = self.expr(d.condition, T.BOOLEAN)
            self.expect(condition, T.BOOLEAN, d.condition.span, "a rule's condition")
        narrowed_by_condition = given_in(condition) if d.condition is not None else set()
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
                           self.suggest(name, rule_names) or "name a rule of this policy")
            elif name == d.name:
                self.error("RPL029", "a rule cannot override itself", span,
                           "name the rule this one is an exception to")
        self.scope, self.narrowed, self.rule_values = [], set(), {}
        return CheckedRule(d.name, var, source, clause, clause_text, condition, tuple(effects),
                           outcome, tuple(because), d.overrides, span=d.span, citations=tuple(citations))

    def _rule_values(self, d: ast.Rule) -> dict[str, ir.Expr]:
        """The rule's own values (`let` in a rule), in order: each may read the element, the
        values before it, and anything a top-level `let` reads. A value is a named node, so that
        explanations show it by its name where it is used."""
        values: dict[str, ir.Expr] = {}
        self.rule_values = values
        for let in d.lets:
            taken = let.name in values or any(let.name == v for v, _ in self.scope) \
                or let.name in self.let_decls or let.name in self.params or let.name in self.request
            if taken:
                self.error("RPL010", f"`{let.name}` is already a name of this policy", name_span(let.span, let.name),
                           "give the rule's value a name of its own")
                continue
            expr = self.expr(let.value, None)
            values[let.name] = ir.Op("rule_value", (ir.Const(let.name, T.TEXT), expr), expr.type, span=let.span)
        return values

    def _template_hole(self, e: ast.Expr) -> ir.Expr:
        expr = self.expr(e, None)
        return expr
