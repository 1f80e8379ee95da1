"""Resolve every name and check every type and unit; collect all problems, then raise them together."""
from __future__ import annotations

import attrs

from policy_lang import ast
from policy_lang.errors import Diagnostic, PolicyError, did_you_mean
from policy_lang.span import Span

from . import ir
from . import types as T
from .clauses import render_clause
from .checked import CheckedOutput, CheckedPolicy, CheckedRule, Effect, FieldSpec, Outcome

_LITERAL_TYPES = {"money": T.MONEY, "integer": T.INTEGER, "percent": T.PERCENT, "date": T.DATE,
                  "duration": T.DAYS, "business_duration": T.BUSINESS_DAYS,
                  "boolean": T.BOOLEAN, "text": T.TEXT}
_NUMBERS = {T.MONEY, T.INTEGER, T.PERCENT, T.DAYS, T.BUSINESS_DAYS, T.EXACT_MONEY}
_ORDERED = _NUMBERS | {T.DATE}


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
            if key in seen:
                first = seen[key]
                where = f" (first at line {first.line})" if first else ""
                self.error("RPL010", f"{kind} `{name}` is declared twice", span,
                           f"give each {kind} its own name{where}")
                return False
            seen[key] = span
            return True

        for d in decls:
            if isinstance(d, ast.Header) and unique("header", d.key, d.span):
                headers[d.key] = d
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
            self.error("RPL043", "the policy has no `request:` declaration", None,
                       "declare the fields of a request, like `request:` then `request_date: date`")
        for d in requests[1:]:
            self.error("RPL010", "`request:` is declared twice", d.span, "keep one `request:`")
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
                self.error("RPL010", f"`{name}` is already a field of the request", span,
                           "choose another name")
        for name in self.let_decls:
            self._value(name)

        outcomes = self._outcomes([d for d in decls if isinstance(d, ast.OutcomesDecl)])
        outputs = self._outputs([d for d in decls if isinstance(d, ast.OutputDecl)], outcomes, unique)
        rule_decls = [d for d in decls if isinstance(d, ast.Rule)]
        for d in rule_decls:
            unique("rule", d.name, d.span)
        clause_texts = {}
        for name, c in clauses.items():
            clause_texts[name], problems = render_clause(c.text, self.params, c.span)
            self.errors.extend(problems)
        rules = tuple(self._rule(d, clause_texts, outcomes, outputs, {r.name for r in rule_decls})
                      for d in rule_decls)
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
            source_name=policy.span.source.name if policy.span else "")

    def _check_calendar(self, calendar: str, span):
        from . import calendars

        if not calendars.is_known(calendar):
            self.error("RPL023", f"unknown business-day calendar `{calendar}`", span,
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
        self.error("RPL023", f"unknown type `{t.name}`", t.span, hint)
        return T.TEXT

    def _fields(self, fields: tuple[ast.FieldDecl, ...]) -> dict[str, FieldSpec]:
        out: dict[str, FieldSpec] = {}
        for f in fields:
            if f.name in out:
                self.error("RPL010", f"field `{f.name}` is declared twice", f.span,
                           "give each field its own name")
                continue
            type_ = self._type(f.type)
            default, has_default = None, False
            if f.default is not None:
                expr = self.expr(f.default, type_)
                if isinstance(expr, ir.Const):
                    default, has_default = expr.value, True
                    self.expect(expr, type_, f.default.span, "the default")
                else:
                    self.error("RPL030", "a default must be a plain value", f.default.span,
                               "write a value like `0.00` or an enum value")
            out[f.name] = FieldSpec(f.name, type_, default, has_default, f.present_when, f.label,
                                    span=f.span)
        for f in fields:
            if f.present_when is not None:
                flag = out.get(f.present_when)
                if flag is None or flag.type != T.BOOLEAN:
                    self.error("RPL021", f"`when {f.present_when}` must name a yes/no field of the same record",
                               f.span, did_you_mean(f.present_when, [n for n, s in out.items() if s.type == T.BOOLEAN]))
        return out

    def _parameter(self, d: ast.Parameter):
        expr = self.expr(d.value, None)
        if not isinstance(expr, ir.Const):
            self.error("RPL030", f"parameter `{d.name}` must be a plain value", d.value.span,
                       "write a value like `14 days`, `15%` or `25.00`; use `let` for a computed value")
            return
        self._suspicious_parameter(d, expr)
        self.params[d.name] = ir.Param(d.name, expr.value, expr.type, span=d.span)

    def _suspicious_parameter(self, d: ast.Parameter, expr: ir.Const):
        # Warnings are the static checks' job; here only what cannot be meant.
        if expr.type == T.PERCENT and expr.value > 100:
            self.error("RPL034", f"`{d.name}` is {expr.value}%, more than the whole price", d.value.span,
                       "a percentage of a price is at most 100%")

    def _value(self, name: str) -> T.Type | None:
        """Check a derived value on first use, so that values may be declared in any order."""
        if name in self.value_types:
            return self.value_types[name]
        if name in self.checking:
            cycle = self.checking[self.checking.index(name):] + [name]
            self.error("RPL040", "these values are defined in terms of each other: "
                       + " -> ".join(f"`{n}`" for n in cycle), self.let_decls[name].span,
                       "a value cannot depend on itself; break the circle")
            return None
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

        def visit(name: str):
            if name in order or name not in self.values:
                return
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
            self.error("RPL010", "`outcomes:` is declared twice", d.span, "keep one `outcomes:` list")
        result, seen = [], set()
        for rank, o in enumerate(decls[0].outcomes):
            if o.name in seen:
                self.error("RPL010", f"outcome `{o.name}` is listed twice", o.span, "list each outcome once")
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
                    self.error("RPL030", f"output `{d.name}` needs a type", d.span,
                               f"write `output {d.name}: money total` or `output {d.name}: optional date`")
                    continue
                if not outcomes:
                    self.error("RPL042", "`output outcome` needs an `outcomes:` list", d.span,
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
                if type_ != T.MONEY:
                    self.error("RPL030", f"a total must be money, not {type_.describe()}", d.type.span,
                               f"write `output {d.name}: money total`")
                out[d.name] = CheckedOutput(d.name, "total", type_, floor, default, span=d.span)
            else:
                if d.floor is not None:
                    self.error("RPL030", "only a total can have a floor", d.floor.span,
                               f"write `output {d.name}: money total, at least ...`")
                out[d.name] = CheckedOutput(d.name, "set", type_, None, default, span=d.span)
        return out

    def _constant(self, e: ast.Expr, type_: T.Type, what: str):
        expr = self.expr(e, type_)
        if not isinstance(expr, ir.Const):
            self.error("RPL030", f"{what} must be a plain value", e.span, "write a value like `0.00`")
            return None
        self.expect(expr, type_, e.span, what)
        return expr.value

    def _rule(self, d: ast.Rule, clauses, outcomes, outputs, rule_names) -> CheckedRule:
        self.scope, self.narrowed = [], set()
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
            value, inline, span = d.cites
            if inline:
                clause_text = value
            elif value in clauses:
                clause, clause_text = value, clauses[value]
            else:
                self.error("RPL024", f"there is no clause `{value}`", span,
                           did_you_mean(value, clauses) or "declare it with `clause NAME: \"...\"`, or quote the text here")
        if d.condition is None:
            self.error("RPL012", f"rule `{d.name}` has no `when`", d.span,
                       "say when the rule applies, like `when request_date > last_request_day`")
            condition = ir.Const(True, T.BOOLEAN)
        else:
            condition = self.expr(d.condition, T.BOOLEAN)
            self.expect(condition, T.BOOLEAN, d.condition.span, "a rule's condition")
        narrowed_by_condition = _given_in(condition) if d.condition is not None else set()
        self.narrowed = set(narrowed_by_condition)
        effects, outcome = [], None
        outcome_names = {o.name for o in outcomes}
        if not d.effects:
            self.error("RPL012", f"rule `{d.name}` has no `then`", d.span,
                       "say what the rule does, like `then refuse`")
        for e in d.effects:
            if isinstance(e, ast.GiveOutcome):
                if e.outcome not in outcome_names:
                    hint = did_you_mean(e.outcome, outcome_names | {"add", "subtract", "set", "note"})
                    self.error("RPL026", f"`{e.outcome}` is not an outcome", e.span,
                               hint or f"outcomes: {', '.join(sorted(outcome_names)) or 'none declared'}")
                elif outcome is not None:
                    self.error("RPL011", f"rule `{d.name}` gives two outcomes", e.span, "give one outcome per rule")
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
                self.error("RPL026", f"there is no rule `{name}` to override", span,
                           did_you_mean(name, rule_names))
            elif name == d.name:
                self.error("RPL026", "a rule cannot override itself", span, None)
        self.scope, self.narrowed = [], set()
        return CheckedRule(d.name, var, source, clause, clause_text, condition, tuple(effects),
                           outcome, tuple(because), d.overrides, span=d.span)

    def _template_hole(self, e: ast.Expr) -> ir.Expr:
        expr = self.expr(e, None)
        return expr

    def _output_effect(self, e, outputs) -> Effect:
        output = outputs.get(e.output)
        value = self.expr(e.amount if isinstance(e, ast.AddTo) else e.value,
                          output.type if output is not None else None)
        if output is None:
            self.error("RPL025", f"there is no output `{e.output}`", e.span,
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
                self.error("RPL041", f"output `{o.name}` is never set", o.span,
                           f"add a rule with `set {o.name} to ...`, give it a default, or make it optional")

    # ---- expressions --------------------------------------------------------------------------

    def expect(self, expr: ir.Expr, wanted: T.Type | None, span, what: str) -> None:
        if wanted is None or expr.type == wanted:
            return
        got = expr.type
        if got == T.EXACT_MONEY and wanted == T.MONEY:
            self.error("RPL031", "this amount is not rounded to the cent", span,
                       "wrap it in `round(...)`: it rounds half up to the cent")
            return
        if isinstance(got, T.OptionalType) and got.inner == wanted:
            self.error("RPL032", "this value may be missing", span,
                       "check it first, like `if x is given then ... else ...`")
            return
        hint = None
        if wanted == T.MONEY and got == T.INTEGER:
            hint = "write amounts with cents, like `0.00`"
        elif wanted == T.PERCENT and got == T.MONEY:
            hint = "write percentages with `%`, like `15%`, not `0.15`"
        self.error("RPL030", f"{what} must be {wanted.describe()}, but this is {got.describe()}", span, hint)

    def _element_type(self, source: ir.Expr, span) -> T.Type:
        if isinstance(source.type, T.ListType):
            return source.type.element
        if isinstance(source.type, T.SetType):
            return source.type.element
        self.error("RPL030", f"`for each` needs a list, but this is {source.type.describe()}", span, None)
        return T.TEXT

    def _lookup(self, name: str):
        for var, type_ in reversed(self.scope):
            if var == name:
                return ir.Var(name, type_)
        if name in self.let_decls:
            type_ = self._value(name)
            return ir.Value(name, type_) if type_ is not None else None
        if name in self.params:
            p = self.params[name]
            return ir.Param(p.name, p.value, p.type)
        if name in self.request:
            return ir.Input((name,), self.request[name].type)
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
        candidates = ([v for v, _ in self.scope] + list(self.let_decls) + list(self.params)
                      + list(self.request))
        if isinstance(expected, T.EnumType):
            candidates += list(expected.members)
        hint = did_you_mean(e.name, candidates)
        if isinstance(expected, T.EnumType) and not hint:
            hint = f"{expected.name} values: {', '.join(expected.members)}"
        self.error("RPL020", f"unknown name `{e.name}`", e.span, hint)
        return ir.Const(None, expected or T.TEXT)

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
        if isinstance(base_type, T.OptionalType):
            self.error("RPL032", "this record may be missing", e.base.span, "check it with `is given` first")
            base_type = base_type.inner
        if not isinstance(base_type, T.RecordType):
            self.error("RPL021", f"`{e.name}`: {base_type.describe()} has no fields", e.span,
                       None if not isinstance(base_type, T.ListType)
                       else "a list has no fields: use `for each` or `any ... in ... where`")
            return ir.Const(None, T.TEXT)
        fields = self.records.get(base_type.name, {})
        spec = fields.get(e.name)
        if spec is None:
            self.error("RPL021", f"a {base_type.name} has no field `{e.name}`", e.span,
                       did_you_mean(e.name, fields) or f"its fields: {', '.join(fields)}")
            return ir.Const(None, T.TEXT)
        if isinstance(base, ir.Input):
            return ir.Input(base.path + (e.name,), spec.type)
        return ir.FieldOf(base, e.name, spec.type, spec.present_when)

    def _EnumSet(self, e: ast.EnumSet, expected):
        element = expected.element if isinstance(expected, (T.SetType, T.ListType)) else expected
        if not isinstance(element, T.EnumType):
            owners = [t for t in self.enums.values() if all(m in t.members for m in e.members)]
            if len(owners) != 1:
                if not owners:
                    unknown = [m for m in e.members if not any(m in t.members for t in self.enums.values())]
                    self.error("RPL022", f"`{unknown[0] if unknown else e.members[0]}` is not a value of any enum"
                               if unknown else "these values are not all of one enum", e.span,
                               did_you_mean(unknown[0], [m for t in self.enums.values() for m in t.members])
                               if unknown else "a set holds values of one enum")
                else:
                    self.error("RPL033", "these values belong to more than one enum", e.span,
                               "use the set where it is compared with a field of the enum you mean")
                return ir.Const(frozenset(e.members), T.SetType(T.EnumType("?", e.members)))
            element = owners[0]
        for m in e.members:
            if m not in element.members:
                self.error("RPL022", f"`{m}` is not a {element.name} value", e.span,
                           did_you_mean(m, element.members) or f"{element.name} values: {', '.join(element.members)}")
        return ir.Const(frozenset(e.members), T.SetType(element))

    def _Negate(self, e: ast.Negate, expected):
        operand = self.expr(e.operand, expected)
        if operand.type not in _NUMBERS:
            self.error("RPL030", f"cannot negate {operand.type.describe()}", e.span, None)
        if isinstance(operand, ir.Const) and operand.value is not None:
            return ir.Const(-operand.value, operand.type)
        return ir.Op("neg", (operand,), operand.type)

    def _Arith(self, e: ast.Arith, expected):
        left = self.expr(e.left, expected if e.op in "+-" else None)
        right = self.expr(e.right, self._right_hint(e.op, left.type))
        result = _arith_type(e.op, left.type, right.type)
        if result is None:
            self._arith_error(e, left.type, right.type)
            return ir.Op(e.op, (left, right), expected or left.type)
        return ir.Op(e.op, (left, right), result)

    @staticmethod
    def _right_hint(op, left_type):
        return left_type if op in "+-" and left_type in (T.MONEY,) else None

    def _arith_error(self, e: ast.Arith, lt: T.Type, rt: T.Type):
        words = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[e.op]
        hint = None
        if e.op == "-" and lt == rt == T.DATE:
            hint = "write `days from A to B` for the number of days between two dates"
        elif T.DATE in (lt, rt) and T.INTEGER in (lt, rt):
            hint = "add a duration, like `14 days` or `10 business days`"
        elif {lt, rt} & {T.DAYS, T.BUSINESS_DAYS} and {lt, rt} & {T.MONEY, T.PERCENT}:
            hint = "days can only be added to or subtracted from a date"
        elif lt == T.PERCENT and rt == T.MONEY and e.op == "*":
            hint = None
        elif T.DATE in (lt, rt) and e.op in "*/":
            hint = "a percentage applies to money, not to a date"
        self.error("RPL030", f"cannot {words} {lt.describe()} and {rt.describe()}", e.span, hint)

    def _Compare(self, e: ast.Compare, expected):
        left = self.expr(e.left, None)
        right = self.expr(e.right, left.type)
        if isinstance(right.type, T.EnumType) and not isinstance(left.type, T.EnumType) \
                and isinstance(e.left, ast.Name) and self._lookup(e.left.name) is None:
            left = self.expr(e.left, right.type)
        op = {"is": "==", "is not": "!="}.get(e.op, e.op)
        lt, rt = _strip_optional(left.type), _strip_optional(right.type)
        for side, node in (("left", left), ("right", right)):
            if isinstance(node.type, T.OptionalType) and op not in ("==", "!="):
                self.error("RPL032", "this value may be missing", (e.left if side == "left" else e.right).span,
                           "check it first with `is given`")
        if op in ("==", "!="):
            if lt != rt and not (lt == T.EXACT_MONEY and rt == T.MONEY or lt == T.MONEY and rt == T.EXACT_MONEY):
                self._compare_error(e, lt, rt)
        else:
            if lt != rt or lt not in _ORDERED:
                if lt == rt:
                    self.error("RPL030", f"{lt.describe()} has no order: use `is` or `is not`", e.span, None)
                else:
                    self._compare_error(e, lt, rt)
        return ir.Op(op, (left, right), T.BOOLEAN)

    def _compare_error(self, e, lt, rt):
        hint = None
        if {lt, rt} == {T.MONEY, T.INTEGER}:
            hint = "write amounts with cents, like `0.00`"
        elif {lt, rt} == {T.DATE, T.DAYS} or {lt, rt} == {T.DATE, T.INTEGER}:
            hint = "compare a date with a date, like `request_date > order.delivery_date + 14 days`"
        elif isinstance(lt, T.EnumType) and rt == T.TEXT:
            hint = f"write the value without quotes; {lt.name} values: {', '.join(lt.members)}"
        self.error("RPL030", f"cannot compare {lt.describe()} with {rt.describe()}", e.span, hint)

    def _Test(self, e: ast.Test, expected):
        operand = self.expr(e.operand, None)
        if e.test == "given":
            if not isinstance(operand.type, T.OptionalType) and not _present_when(operand):
                self.error("RPL030", "this value is always given", e.operand.span,
                           "`is given` applies to optional fields")
            return ir.Op("not_given" if e.negated else "given", (operand,), T.BOOLEAN)
        if not isinstance(_strip_optional(operand.type), (T.ListType, T.SetType)) and operand.type != T.TEXT:
            self.error("RPL030", f"`is empty` needs a list, but this is {operand.type.describe()}", e.operand.span, None)
        return ir.Op("not_empty" if e.negated else "empty", (operand,), T.BOOLEAN)

    def _Membership(self, e: ast.Membership, expected):
        left = self.expr(e.element, None)
        right = self.expr(e.collection, T.SetType(left.type) if isinstance(left.type, T.EnumType) else None)
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
        if then.type != otherwise.type:
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
        if not isinstance(operand.type, T.ListType):
            self.error("RPL030", f"`{e.function} of` needs a list, but this is {operand.type.describe()}",
                       e.operand.span, "write `sum of item.price for each item in items`")
            return ir.Op(e.function, (operand,), T.INTEGER)
        element = operand.type.element
        if e.function == "count":
            return ir.Op("count", (operand,), T.INTEGER)
        if element not in _NUMBERS and not (e.function != "sum" and element == T.DATE):
            self.error("RPL030", f"cannot take the {e.function} of {operand.type.describe()}", e.operand.span, None)
        return ir.Op(e.function, (operand,), element)

    def _Call(self, e: ast.Call, expected):
        args = tuple(self.expr(a, expected) for a in e.arguments)
        if e.function == "round":
            if len(args) != 1:
                self.error("RPL030", "`round` takes one amount", e.span, "write `round(item.price * 15%)`")
            elif args[0].type not in (T.EXACT_MONEY, T.MONEY):
                self.error("RPL030", f"`round` rounds money, not {args[0].type.describe()}", e.span, None)
            return ir.Op("round", args[:1], T.MONEY)
        if e.function in ("max", "min"):
            if len(args) < 2 or any(a.type != args[0].type for a in args) or args[0].type not in _ORDERED:
                self.error("RPL030", f"`{e.function}` takes two or more values of one kind", e.span,
                           f"write `{e.function}(0.00, amount)`")
            return ir.Op(e.function, args, args[0].type if args else T.MONEY)
        self.error("RPL020", f"unknown function `{e.function}`", e.span,
                   did_you_mean(e.function, ["round", "max", "min"]) or "functions: round, max, min")
        return ir.Const(None, expected or T.TEXT)

    def _DaysBetween(self, e: ast.DaysBetween, expected):
        start, end = self.expr(e.start, T.DATE), self.expr(e.end, T.DATE)
        for node, part in ((start, e.start), (end, e.end)):
            self.expect(node, T.DATE, part.span, "`days from ... to ...`")
        return ir.Op("days_between", (start, end), T.INTEGER)

    def _DateRange(self, e: ast.DateRange, expected):
        start, end = self.expr(e.start, T.DATE), self.expr(e.end, T.DATE)
        for node, part in ((start, e.start), (end, e.end)):
            self.expect(node, T.DATE, part.span, "each end of `through`")
        return ir.Op("through", (start, end), T.DATE_RANGE)


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
    return isinstance(expr, ir.FieldOf) and expr.present_when is not None


def _value_refs(expr: ir.Expr) -> set[str]:
    found = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ir.Value):
            found.add(node.name)
        stack.extend(ir.children(node))
    return found
