"""Types of expressions: resolve names, check types and units, narrow what `is given` proves.

The checker of declarations (compiler/checker.py) checks every expression of a policy through
`ExpressionChecker`; what could not be checked gets the type `UNKNOWN`, and nothing that uses it
is checked again: one mistake, one error.
"""
from __future__ import annotations

import difflib

import attrs

from rplang.policy_lang import ast, limits
from rplang.policy_lang.errors import did_you_mean
from rplang.policy_lang.span import Span

from . import ir
from . import types as T

from .arithmetic_checks import ArithmeticChecks
from .expression_support import (DATE_NAMES, DATE_PART_WORDS, EXPRESSION_KEYWORDS, LITERAL_TYPES, NUMBERS, ORDERED,
                                 UNKNOWN, broken, condition_key, enum_hint, given_in, lead_span, name_span,
                                 not_given_in, present_when, strip_optional, with_span, word_span)


class ExpressionChecker(ArithmeticChecks):
    """Checks expressions; the declaration checker provides `error`, the names in scope, and the
    declarations they resolve to."""

    element_names: frozenset = frozenset()  # the names rules give their elements (`for each item`)
    tables: dict = {}  # name -> CheckedTable (compiler/tables.py)
    table_names: set = set()
    rule_values: dict = {}  # the values of the rule being checked (`let` in a rule), by name

    def suggest(self, word: str, candidates) -> str | None:
        """`did you mean`, while the problems found still fit in one report: comparing every
        name with every other would make a file full of mistakes take minutes."""
        if len(self.errors) >= limits.MAX_REPORTED:
            return None
        return did_you_mean(word, candidates)

    def expect(self, expr: ir.Expr, wanted: T.Type | None, span, what: str) -> None:
        if wanted is None or expr.type == wanted or broken(expr, wanted):
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
        elif wanted is T.DATE and got is T.MONTH_DAY:
            hint = ("a day of the year has no year: it is an end of a yearly range, like `november 1 through "
                    "january 31`; `end of RANGE for DATE` gives the date it ends for a date")
        elif isinstance(wanted, T.EnumType) and got is T.TEXT:
            hint = f"write the value without quotes; {wanted.name} values: {', '.join(wanted.members)}"
        self.error("RPL030", f"{what} must be {wanted.describe()}, but this is {got.describe()}", span, hint)

    def _may_be_missing(self, expr: ir.Expr, span) -> None:
        """Once per value and rule: the same optional field used unchecked in several places is one mistake."""
        key = ("missing", self.current_rule, condition_key(expr))
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
        if not broken(source):
            self.error("RPL030", f"`for each` needs a list, but this is {source.type.describe()}", span, None)
        return UNKNOWN

    def _lookup(self, name: str):
        if name in self.rule_values:
            return self.rule_values[name]
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
        if name in self.output_types:  # only while a property is checked
            return ir.Output(name, self.output_types[name])
        return None

    def _narrow(self, expr: ir.Expr) -> ir.Expr:
        if isinstance(expr.type, T.OptionalType) and condition_key(expr) in self.narrowed:
            return attrs.evolve(expr, type=expr.type.inner)
        return expr

    def expr(self, e: ast.Expr, expected: T.Type | None) -> ir.Expr:
        result = self._expr(e, expected)
        return self._narrow(with_span(result, e.span))

    def _expr(self, e: ast.Expr, expected):
        method = getattr(self, "_" + type(e).__name__)
        return method(e, expected)

    def _Literal(self, e: ast.Literal, expected):
        return ir.Const(e.value, LITERAL_TYPES[e.kind])

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
        plural = self.request.get(name + "s")
        if self.checking and (name in self.element_names or plural is not None
                              and isinstance(strip_optional(plural.type), T.ListType)):  # a `let` reading an element
            source = f"{name}s" if plural is not None else "..."
            self.error("RPL020", f"a `let` cannot see `{name}`: `{name}` is the element a rule looks at", e.span,
                       f"write a value per {name} in its rule, before `cites`: `rule ... for each {name} in "
                       f"{source}:` then `let {self.checking[-1]} = ...`; or for every element, like "
                       f"`... for each {name} in {source}`")
            return
        enum = expected
        while isinstance(enum, (T.OptionalType, T.SetType, T.ListType)):
            enum = enum.inner if isinstance(enum, T.OptionalType) else enum.element
        values = [v for v, _ in self.scope] + list(self.let_decls) + list(self.params) + list(self.request)
        if isinstance(enum, T.EnumType) and self.suggest(name, enum.members):
            self.error("RPL022", f"`{name}` is not a {enum.name} value", e.span, enum_hint(name, enum))
            return
        guess = self._field_path_hint(name, exact=True) or self.suggest(name, values)
        joined = self._field_path_hint(name, exact=True, joined=True)
        if joined:
            guess = joined
        if isinstance(enum, T.EnumType) and not guess:
            self.error("RPL022", f"`{name}` is not a {enum.name} value", e.span, enum_hint(name, enum))
            return
        if guess is None:
            guess = self._field_path_hint(name, exact=False)
        if name in self.table_names:
            guess = f"`{name}` is a table: look a value up by its keys, like `{name}[...]`"
        if guess is None and name in self.enums:
            members = self.enums[name].members
            guess = f"`{name}` is a type; its values are {', '.join(members)}"
        if guess is None and (name in self.record_decls or name in T.BUILTIN_TYPES):
            guess = f"`{name}` is a type, not a value"
        if guess is None:
            close = difflib.get_close_matches(name, EXPRESSION_KEYWORDS, n=1, cutoff=0.75)
            guess = f"did you mean `{close[0]}`?" if close else None
        if guess is None:
            all_members = [m for t in self.enums.values() for m in t.members]
            guess = self.suggest(name, all_members)
        self.error("RPL020", f"unknown name `{name}`", e.span, guess)

    def _field_path_hint(self, name: str, exact: bool, joined: bool = False) -> str | None:
        """`delivery_date` written for `order.delivery_date`, `price` for `item.price`."""
        paths = []
        for var, type_ in reversed(self.scope):
            if isinstance(type_, T.RecordType):
                paths += [(f, f"{var}.{f}") for f in self.records.get(type_.name, {})]
        for field, spec in self.request.items():
            inner = strip_optional(spec.type)
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
        owners = [t for t in self.enums.values() if name in t.members] or [t for t in DATE_NAMES if name in t.members]
        if len(owners) == 1:
            return ir.Const(name, owners[0])
        if len(owners) > 1:
            self.error("RPL033", f"`{name}` is a value of {' and of '.join(t.name for t in owners)}",
                       span, "compare it with a field of the type you mean, like `order.payment_method is check`")
            return ir.Const(name, owners[0])
        return None

    def _Lookup(self, e: ast.Lookup, expected, column: str | None = None, column_span=None):
        """`rate[item.category]`, `fees[seller, category].window`: a value of a table, by its keys."""
        table = self.tables.get(e.table)
        if table is None:
            if e.table not in self.table_names:  # a table that did not check has been reported
                tables = sorted(self.table_names)
                self.error("RPL075", f"`{e.table}` is not a table", name_span(e.span, e.table),
                           self.suggest(e.table, tables) or (f"the tables are {', '.join(tables)}" if tables
                                                             else "declare it: `table NAME by KEY: TYPE` and its rows"))
            for key in e.keys:
                self.expr(key, None)
            return ir.Const(None, UNKNOWN)
        names = [name for name, _ in table.columns]
        if column is None and names[0] is not None:
            self.error("RPL075", f"table `{e.table}` has several columns: say which one", e.span,
                       f"write `{e.span.text if e.span else e.table}.{names[0]}`; its columns are {', '.join(names)}")
            return ir.Const(None, UNKNOWN)
        if column is not None and column not in names:
            hint = (f"table `{e.table}` has one value: write `{e.span.text if e.span else e.table}`"
                    if names[0] is None else self.suggest(column, names) or f"its columns are {', '.join(names)}")
            self.error("RPL075", f"table `{e.table}` has no column `{column}`", column_span, hint)
            return ir.Const(None, UNKNOWN)
        if len(e.keys) != len(table.keys):
            written = ", ".join(t.name if isinstance(t, T.EnumType) else "text" for t in table.keys)
            self.error("RPL074", f"table `{e.table}` is looked up by {len(table.keys)} "
                       f"key{'s' * (len(table.keys) != 1)} ({written}), but this gives {len(e.keys)}", e.span,
                       f"write `{e.table}[{', '.join('...' for _ in table.keys)}]`")
            return ir.Const(None, UNKNOWN)
        keys = []
        for key, key_type in zip(e.keys, table.keys):
            expr = self.expr(key, key_type)
            if not broken(expr) and expr.type != key_type:
                if isinstance(expr.type, T.OptionalType) and expr.type.inner == key_type:
                    self._may_be_missing(expr, key.span)
                else:
                    self.error("RPL074", f"a key of table `{e.table}` must be {key_type.describe()}, but this is "
                               f"{expr.type.describe()}", key.span,
                               f"look it up by a field of type {key_type.name if isinstance(key_type, T.EnumType) else 'text'}")
            keys.append(expr)
        k = names.index(column) if column is not None else 0
        value_type = table.columns[k][1]
        index = ir.Const(table.indexes[k], T.TableType(table.name, table.keys, value_type))
        return ir.Op("lookup", (index, *keys), value_type)

    def _Field(self, e: ast.Field, expected):
        if isinstance(e.base, ast.Lookup):
            column_span = Span(e.span.source, e.span.end - len(e.name), e.span.end) if e.span is not None else None
            return self._Lookup(e.base, expected, e.name, column_span)
        base = self.expr(e.base, None)
        base_type = base.type
        if broken(base):
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
        item_output = self.item_output_types.get(base_type.name, {}).get(e.name)
        if spec is None and item_output is not None:  # only while a property is checked
            return ir.ItemOutput(e.name, base, item_output)
        if spec is None:
            article = "an" if base_type.name[:1].lower() in "aeiou" else "a"
            self.error("RPL021", f"{article} {base_type.name} has no field `{e.name}`", name_span,
                       self.suggest(e.name, fields) or f"its fields are {', '.join(fields)}")
            return ir.Const(None, UNKNOWN)
        if isinstance(base, ir.Input):
            return ir.Input(base.path + (e.name,), spec.type, spec.present_when)
        return ir.FieldOf(base, e.name, spec.type, spec.present_when)

    def _EnumSet(self, e: ast.EnumSet, expected):
        element = expected.element if isinstance(expected, (T.SetType, T.ListType)) else expected
        element = strip_optional(element) if element is not None else None
        if broken(element):
            return ir.Const(frozenset(e.members), UNKNOWN)
        if not isinstance(element, T.EnumType):
            owners = [t for t in self.enums.values() if all(m in t.members for m in e.members)] \
                or [t for t in DATE_NAMES if all(m in t.members for m in e.members)]
            if len(owners) != 1:
                unknown = [m for m in e.members if not any(m in t.members for t in self.enums.values())]
                if unknown:
                    # the enum the other members belong to, if they agree on one
                    known = [m for m in e.members if m not in unknown]
                    hosts = [t for t in self.enums.values() if known and all(m in t.members for m in known)]
                    pool = hosts[0].members if len(hosts) == 1 else [m for t in self.enums.values() for m in t.members]
                    if len(hosts) == 1:
                        self.error("RPL022", f"`{unknown[0]}` is not a {hosts[0].name} value",
                                   word_span(e.span, unknown[0]), enum_hint(unknown[0], hosts[0]))
                    else:
                        self.error("RPL022", f"`{unknown[0]}` is not a value of any enum",
                                   word_span(e.span, unknown[0]), self.suggest(unknown[0], pool))
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
                self.error("RPL022", f"`{m}` is not a {element.name} value", word_span(e.span, m),
                           enum_hint(m, element))
        return ir.Const(frozenset(e.members), T.SetType(element))

    def _TextSet(self, e: ast.TextSet, expected):
        return ir.Const(frozenset(e.members), T.SetType(T.TEXT))

    def _Test(self, e: ast.Test, expected):
        operand = self.expr(e.operand, None)
        if broken(operand):
            op = ("not_given" if e.negated else "given") if e.test == "given" else ("not_empty" if e.negated else "empty")
            return ir.Op(op, (operand,), T.BOOLEAN)
        if e.test == "given":
            if not isinstance(operand.type, T.OptionalType) and not present_when(operand):
                self.error("RPL036", "this value is always given", e.operand.span,
                           "`is given` applies to `optional` fields and to fields given `when` a fact is true")
            return ir.Op("not_given" if e.negated else "given", (operand,), T.BOOLEAN)
        if not isinstance(strip_optional(operand.type), (T.ListType, T.SetType)) and operand.type is not T.TEXT:
            self.error("RPL030", f"`is empty` needs a list, but this is {operand.type.describe()}", e.operand.span, None)
        elif isinstance(operand.type, T.OptionalType):
            self.error("RPL032", "this list may be missing", e.operand.span,
                       f"check it first: `{' '.join(e.operand.span.text.split())} is given and ...`"
                       if e.operand.span is not None else "check it first with `is given`")
        return ir.Op("not_empty" if e.negated else "empty", (operand,), T.BOOLEAN)

    def _Membership(self, e: ast.Membership, expected):
        left = self.expr(e.element, None)
        element_hint = strip_optional(left.type)
        right = self.expr(e.collection, T.SetType(element_hint) if isinstance(element_hint, T.EnumType) else None)
        if broken(left, right):
            return ir.Op("not_in" if e.negated else "in", (left, right), T.BOOLEAN)
        if right.type in (T.DATE_RANGE, T.YEARLY_RANGE):  # `order.purchase_date in holiday_season`
            self.expect(left, T.DATE, e.element.span, "what is in a range of dates")
            return ir.Op("not_in" if e.negated else "in", (left, right), T.BOOLEAN)
        element_type = right.type.element if isinstance(right.type, (T.ListType, T.SetType)) else None
        if element_type is None:
            self.error("RPL030", f"`in` needs a set or a list, but this is {right.type.describe()}",
                       e.collection.span, "write a set like `{fire, flood}`")
        elif strip_optional(left.type) != element_type:
            self.error("RPL030", f"{left.type.describe()} cannot be in {right.type.describe()}", e.span, None)
        return ir.Op("not_in" if e.negated else "in", (left, right), T.BOOLEAN)

    def _Logic(self, e: ast.Logic, expected):
        saved = set(self.narrowed)
        operands = []
        for operand in e.operands:
            checked = self.expr(operand, T.BOOLEAN)
            self.expect(checked, T.BOOLEAN, operand.span, f"each side of `{e.op}`")
            operands.append(checked)
            # what the operands before prove, when the next one is evaluated at all
            self.narrowed |= given_in(checked) if e.op in ("and", "implies") else not_given_in(checked)
        self.narrowed = saved
        if e.op == "implies":  # a implies b: not a, or b
            premise, conclusion = operands
            return ir.Op("or", (ir.Op("not", (premise,), T.BOOLEAN), conclusion), T.BOOLEAN)
        return ir.Op(e.op, tuple(operands), T.BOOLEAN)

    def _Not(self, e: ast.Not, expected):
        operand = self.expr(e.operand, T.BOOLEAN)
        self.expect(operand, T.BOOLEAN, e.operand.span, "what follows `not`")
        return ir.Op("not", (operand,), T.BOOLEAN)

    def _IfThenElse(self, e: ast.IfThenElse, expected):
        condition = self.expr(e.condition, T.BOOLEAN)
        self.expect(condition, T.BOOLEAN, e.condition.span, "the condition of `if`")
        saved = set(self.narrowed)
        self.narrowed |= given_in(condition)
        then = self.expr(e.then, expected)
        self.narrowed = saved | not_given_in(condition)
        otherwise = self.expr(e.otherwise, expected or then.type)
        self.narrowed = saved
        if broken(then, otherwise):
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
        if broken(operand):
            return ir.Op(e.function, (operand,), T.INTEGER if e.function == "count" else UNKNOWN)
        if not isinstance(operand.type, T.ListType):
            self.error("RPL030", f"`{e.function} of` needs a list, but this is {operand.type.describe()}",
                       e.operand.span, "write `sum of item.price for each item in items`")
            return ir.Op(e.function, (operand,), T.INTEGER if e.function == "count" else UNKNOWN)
        element = operand.type.element
        if e.function == "count":
            return ir.Op("count", (operand,), T.INTEGER)
        if element not in NUMBERS and not (e.function != "sum" and element is T.DATE):
            self.error("RPL030", f"cannot take the {e.function} of {operand.type.describe()}", e.operand.span, None)
            return ir.Op(e.function, (operand,), UNKNOWN)
        return ir.Op(e.function, (operand,), element)

    def _Call(self, e: ast.Call, expected):
        if e.function not in ("round", "max", "min"):
            for a in e.arguments:
                self.expr(a, None)
            hint = self.suggest(e.function, ["round", "max", "min"]) or "the functions are round, max and min"
            if e.function in self.table_names:
                keys = ", ".join(a.span.text for a in e.arguments if a.span is not None)
                hint = f"`{e.function}` is a table: look it up with brackets, `{e.function}[{keys}]`"
            self.error("RPL020", f"unknown function `{e.function}`", lead_span(e.span, e.function), hint)
            return ir.Const(None, UNKNOWN)
        args = tuple(self.expr(a, expected) for a in e.arguments)
        if broken(*args):
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
        if len(args) < 2 or len(kinds) != 1 or args[0].type not in ORDERED:
            self.error("RPL030", f"`{e.function}` takes two or more values of one kind", e.span,
                       f"write `{e.function}(0.00, amount)`")
            return ir.Op(e.function, args, UNKNOWN)
        return ir.Op(e.function, args, args[0].type)

    def _DaysBetween(self, e: ast.DaysBetween, expected):
        start, end = self.expr(e.start, T.DATE), self.expr(e.end, T.DATE)
        for node, part in ((start, e.start), (end, e.end)):
            self.expect(node, T.DATE, part.span, "each end of `days from ... to ...`")
        return ir.Op("days_between", (start, end), T.INTEGER)

    def _DatePart(self, e: ast.DatePart, expected):
        date = self.expr(e.date, T.DATE)
        if not broken(date) and date.type is T.MONTH_DAY:
            self.error("RPL059", f"`{e.date.span.text}` is a day of the year, in no year", e.date.span,
                       "date parts are of dates, like `order.purchase_date`")
        else:
            self.expect(date, T.DATE, e.date.span, f"what `{DATE_PART_WORDS[e.part]}` reads")
        result = {"year": T.INTEGER, "day": T.INTEGER, "month": T.MONTH, "weekday": T.WEEKDAY,
                  "end_of_month": T.DATE}[e.part]
        return ir.Op(e.part, (date,), result)

    def _SeasonBound(self, e: ast.SeasonBound, expected):
        season, date = self.expr(e.season, None), self.expr(e.date, T.DATE)
        if not broken(season) and season.type is not T.YEARLY_RANGE:
            hint = "name a yearly range, like `parameter holiday_season = november 1 through january 31`"
            if season.type is T.DATE_RANGE:
                hint = ("a range of dates has one first and one last day: compare with it directly; "
                        "write a yearly range without years, like `november 1 through january 31`")
            self.error("RPL059", f"`{e.bound} of ... for` needs a yearly range, but this is {season.type.describe()}",
                       e.season.span, hint)
        self.expect(date, T.DATE, e.date.span, f"the date after `{e.bound} of ... for`")
        return ir.Op("season_" + e.bound, (season, date), T.DATE)

    def _DateRange(self, e: ast.DateRange, expected):
        start, end = self.expr(e.start, T.DATE), self.expr(e.end, T.DATE)
        if T.MONTH_DAY in (start.type, end.type) and not broken(start, end):
            return self._yearly_range(e, start, end)
        for node, part in ((start, e.start), (end, e.end)):
            self.expect(node, T.DATE, part.span, "each end of `through`")
        if isinstance(start, ir.Const) and isinstance(end, ir.Const) and start.type is end.type is T.DATE:
            if end.value < start.value:
                self.error("RPL051", f"this range ends ({end.value}) before it starts ({start.value})", e.span,
                           "write the first day before `through` and the last day after it")
            return ir.Const(T.DateRange(start.value, end.value), T.DATE_RANGE)  # a plain value
        return ir.Op("through", (start, end), T.DATE_RANGE)



    def _yearly_range(self, e: ast.DateRange, start: ir.Expr, end: ir.Expr):
        """`november 1 through january 31`: a range of days of the year, every year."""
        for node, part in ((start, e.start), (end, e.end)):
            if not (isinstance(node, ir.Const) and node.type is T.MONTH_DAY):
                self.error("RPL059", "a yearly range is written with two days of the year", part.span,
                           "write both ends without a year, like `november 1 through january 31`")
                return ir.Const(None, UNKNOWN)
        return ir.Const(T.YearlyRange(start.value, end.value), T.YEARLY_RANGE)


# Months and weekdays: the values of `month of d` and `weekday of d`, read where the policy's own
# enums have no value of that name (`parameter weekend = {saturday, sunday}`).
