"""The policy as one query: every rule lowered, combined by the declared outcome ranks, and the
outputs computed, as `CompiledPolicy.combine` and the generated outputs code do.

    rules    one row per request: for each rule whether it applies (after the rules that
             override it) and its effect values; whether the row needs the Python path
    decided  the outcome: the strongest outcome of a rule that applies, else the last
    final    the key columns, each output, the determining rules, the policy's version and hash

A rule for each element of a list is a lambda over that list's base (`items` for `each item in
items where item.returned`): the filters of its source and its condition are one predicate per
element, so a rule that overrides another is tested on the same element.

A row goes to the Python path (`__fallback`) when the request is one the request reader might
refuse (a required field null, an enum value not of the enum, ...) or when a rule meets a NULL
(lowering.py): there, the ordinary runtime decides it or says what is wrong with it.
"""
from __future__ import annotations

from decimal import Decimal

from sqlglot import exp

from rplang.compiler import ir
from rplang.compiler import types as T
from rplang.policy_lang import limits
from rplang.runtime.decide import WORK_BUDGET

from . import texts as known
from .calendar import tables_for_span
from .columns import ITEM_OUTCOMES, MONEY_LIMIT, plain
from .dates import python_day
from .errors import NotLowerable
from .guards import guard_values
from .items import ITEM_OUTCOME, ItemOutcomes, counts, item_value
from .lowering import ROW, Lowering, business_day
from .sql import (DateRange, LongerThan, any_of, case, member_of, combine, decimal, exists, field, is_null, keep, lambda_,
                  literal, names_where, size, sql_type, total_of, wide)
from .views import BUSINESS_DAYS, CALENDAR, FALLBACK, REQUEST

OUTCOME = "__outcome"


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


class PolicyQuery:
    """The query deciding every row of `table` under a compiled policy."""

    def __init__(self, compiled, keys: dict, version: str, text_hash: str, texts: known.Texts | None = None):
        """`keys`: the key columns kept, name -> SQL over the input row (usually its own column);
        `texts`: how the texts known when the policy is compiled are written (plain: VARCHAR)."""
        self.compiled, self.graph, self.policy = compiled, compiled.graph, compiled.checked
        self.keys, self.version, self.hash = keys, version, text_hash
        self.texts = texts or known.Texts()
        self.lowering = Lowering(self.policy)
        self._rules = [self._rule(i, node.rule) for i, node in enumerate(self.graph.rules)]
        self.items = ItemOutcomes(self, _chain) if self.policy.items is not None else None
        self.first = None  # the first layer, once `select` has built it: the rows and their values
        self._same: dict[str, str] = {}  # a total's column -> the column of the same total, computed once

    # ---- Rules ---------------------------------------------------------------------------------

    def _rule(self, index: int, rule) -> dict:
        """How one rule reads in SQL: its predicate (per element: a function of the lambda's
        parameter) and its source's base list."""
        if rule.var is None:
            return {"rule": rule, "base": None, "predicate": lambda p=None: self._predicate(rule, [], None)}
        base, filters = _chain(self.policy, rule.source)
        return {"rule": rule, "base": base, "filters": filters,
                "predicate": lambda p, rule=rule, filters=filters: self._predicate(rule, filters, p)}

    def _predicate(self, rule, filters, p: str | None) -> tuple[exp.Expression, bool, dict, frozenset]:
        """The rule's test as SQL (the filters of its source first), whether it may be NULL, the
        names its expressions see, and the flags known true where it holds (its effects are
        computed there: `item.condition`, given `when returned`, read without its guard)."""
        names = [v for v, _ in filters] + [rule.var] if p is not None else []
        env = {name: exp.column(p) for name in names}
        low, parts, facts = self.lowering, [], frozenset()
        for where in [where for _, where in filters] + [rule.condition]:
            with low.knowing(facts):
                parts.append((low.expr(where, env), low.nullable(where)))
            facts |= low.facts(where, names)
        return combine("and", parts), any(n for _, n in parts), env, facts

    def _check_overrides(self) -> None:
        for r in self._rules:
            r["overridden_by"] = [w for w in self._rules if r["rule"].name in w["rule"].overrides]
            for w in r["overridden_by"]:
                if r["base"] is not None and w["base"] is not None:
                    if w["base"] != r["base"]:
                        raise NotLowerable(f"`{w['rule'].name}` overriding `{r['rule'].name}`, a rule over another list")
                    if not isinstance(plain(r["base"].type).element, T.RecordType):
                        raise NotLowerable(f"`{w['rule'].name}` overriding `{r['rule'].name}` over a list of plain values")

    # ---- The query -----------------------------------------------------------------------------

    def python_only(self, table: str) -> exp.Select:
        """Every row for the Python path: its keys and its request."""
        return exp.select(*[key.as_(k, quoted=True) for k, key in self.keys.items()],
                          exp.true().as_(FALLBACK, quoted=True), self._request().as_(REQUEST, quoted=True)) \
            .from_(exp.to_table(table).as_(ROW))

    def _request(self) -> exp.Expression:
        return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(n, quoted=True), expression=_col(n, ROW))
                                       for n in self.policy.request])

    def select(self, table: str) -> exp.Select:
        self._check_overrides()
        # the first layer names the keys (a hidden column, as Spark's `_metadata`, is not in `*`)
        # and computes the values over lists once
        hoisted = self._hoist()
        self.first = _layer(exp.to_table(table).as_(ROW), [key.as_(_key(k), quoted=True) for k, key in self.keys.items()]
                            + [sql.as_(name, quoted=True) for name, sql in hoisted.items()])
        kept = [self._kept(i, r) for i, r in enumerate(self._rules) if r["base"] is not None]
        rules_columns, fallbacks = [], [self.suspect()]
        if self.compiled._loop_depth > 1:
            fallbacks.append(self._over_budget(self.compiled._loop_depth))
        for index, r in enumerate(self._rules):
            columns, errors = self._rule_columns(index, r)
            rules_columns += columns
            fallbacks += errors
        if self.items is not None:
            elements, errors = self.items.elements()
            fallbacks += errors
            rules_columns += self.items.per_item_columns()
        # then the days business days reach, joined from the calendar, and for each rule over a
        # list the elements it applies to (or whether it applies to some), for the rules to read
        source = self._business_days(self.first)
        if kept:
            source = _layer(source, kept)
        if self.items is not None:  # the items, then their outcomes
            source = _layer(_layer(source, elements), [self.items.ranked()])
        fallback = exp.Coalesce(this=exp.paren(any_of(fallbacks)), expressions=[exp.true()])
        # the request's own columns pass through, to become the Python path's struct in the last
        # layer, where the test deciding it is a column and not computed twice
        passed = [_col(n, ROW).as_(_passed(n), quoted=True) for n in self.policy.request]
        rules = exp.select(*[_col(_key(k), ROW).as_(k, quoted=True) for k in self.keys], *rules_columns,
                           fallback.as_(FALLBACK, quoted=True), *passed).from_(source, copy=False)
        decided = exp.select(exp.Star(), self._outcome().as_(OUTCOME, quoted=True)).from_(
            rules.subquery("rules", copy=False), copy=False)
        if self.items is not None:  # the request's outcome, and which request-wide rules count
            decided = exp.select(exp.Star(), *self.items.request_columns(self._determines)).from_(
                decided.subquery("decided", copy=False), copy=False)
        request = exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(n, quoted=True),
                                                         expression=_col(_passed(n)))
                                          for n in self.policy.request])
        outputs = self._outputs()
        computed = exp.select(*[_col(k).as_(k, quoted=True) for k in self.keys], *outputs, _col(FALLBACK),
                              *[_col(_passed(n)) for n in self.policy.request]) \
            .from_(decided.subquery("decided", copy=False), copy=False)
        query = self._in_columns(computed, [o.alias_or_name for o in outputs], request)
        guard_values(self.first.this, query, ROW, self.policy.request)
        return query

    def _in_columns(self, computed: exp.Select, names: list[str], request: exp.Expression) -> exp.Select:
        """The decided rows with each amount in its column, DECIMAL(18, 2): a row with an amount
        too large for it, or a total the engine could not compute (a NULL: Spark's overflow), goes
        to the Python path, whose reject names the amount (columns.py)."""
        amounts = {o.name: o.kind == "total" for o in self.graph.outputs
                   if o.kind == "total" or (o.kind != "outcome" and plain(o.type) == T.MONEY)}
        fits = {name: exp.LT(this=exp.Abs(this=_col(name)), expression=decimal(Decimal(MONEY_LIMIT)))
                for name in amounts}
        unfit = [exp.Not(this=exp.Coalesce(this=fits[name].copy(), expressions=[exp.Boolean(this=not total)]))
                 for name, total in amounts.items()]
        fallback = exp.or_(_col(FALLBACK), *unfit) if unfit else _col(FALLBACK)
        columns = [case((fits[n], exp.cast(_col(n), sql_type("DECIMAL(18, 2)")))).as_(n, quoted=True)
                   if n in amounts else _col(n) for n in names]
        return exp.select(*[_col(k) for k in self.keys], *columns, fallback.as_(FALLBACK, quoted=True),
                          case((fallback.copy(), request)).as_(REQUEST, quoted=True)) \
            .from_(computed.subquery("computed", copy=False), copy=False)

    def _business_days(self, source: exp.Expression) -> exp.Expression:
        """`source`'s rows with the day each count of business days reaches (NULL past the
        calendar): a count from a day another count reaches is joined in a layer after it."""
        joins = self.lowering.business_days
        begin = 0
        for i in range(len(joins) + 1):
            if i == len(joins) or (i > begin and _reads_business_days(joins[i], range(begin, i))):
                source = self._business_days_layer(source, begin, i)
                begin = i
        return source

    def _business_days_layer(self, source: exp.Expression, begin: int, end: int) -> exp.Expression:
        """`source`'s rows joined with the days counts `begin` to `end` (excluded) reach."""
        if begin == end:
            return source
        days = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(ROW)), *[
            _col("bday", f"bd{i}_to").as_(business_day(i), quoted=True) for i in range(begin, end)
        ]).from_(source, copy=False)
        for i, (start, count) in list(enumerate(self.lowering.business_days))[begin:end]:
            first, last = f"bd{i}_from", f"bd{i}_to"
            days = days.join(exp.to_table(CALENDAR).as_(first), join_type="LEFT", copy=False,
                             on=exp.EQ(this=_col("bday", first), expression=start))
            ordinal = case((exp.GTE(this=count, expression=exp.Literal.number(0)),
                            exp.Add(this=_col("upto", first), expression=count)),
                           default=exp.Add(this=exp.Add(this=_col("before", first), expression=count),
                                           expression=exp.Literal.number(1)))
            days = days.join(exp.to_table(BUSINESS_DAYS).as_(last), join_type="LEFT", copy=False,
                             on=exp.EQ(this=_col("ordinal", last), expression=ordinal))
        return days.subquery(ROW, copy=False)

    def _rule_columns(self, index: int, r: dict) -> tuple[list, list]:
        rule, low = r["rule"], self.lowering
        columns, errors = [], []
        if r["base"] is None:
            test, nullable, env, _ = r["predicate"]()
            if nullable:
                errors.append(is_null(test))
            columns.append(self.applies(index, test).as_(f"a{index}"))
            for k, effect in enumerate(rule.effects):
                if effect.value is None:
                    continue
                value = low.expr(effect.value, env)
                errors += [exp.and_(test, is_null(v)) for v in _parts(value)
                           if low.nullable(effect.value) and not isinstance(effect.value.type, T.OptionalType)]
                columns += self._effect_columns(index, k, value)
            return columns, errors
        base = low.expr(r["base"], {})
        p = low.param()
        test, nullable, env, facts = r["predicate"](p)
        if nullable:
            errors.append(exists(base, p, is_null(test)))
        chosen = _col(_kept(index), ROW)  # the elements it applies to, kept by the layer before
        columns.append(self.applies(index).as_(f"a{index}"))
        q = low.param()  # one name for the element in every effect: the same amount is the same SQL
        inner_env = {name: exp.column(q) for name in env}
        totals: dict = {}  # a total's SQL -> its column (`restocking_fee` adds and subtracts one amount)
        for k, effect in enumerate(rule.effects):
            if effect.value is None:
                continue
            with low.knowing(facts):
                value = low.expr(effect.value, inner_env)
                nullable = low.nullable(effect.value)
            if nullable and not isinstance(effect.value.type, T.OptionalType):
                errors += [exists(base, q, exp.and_(w_test, is_null(v)))
                           for v in _parts(value) for w_test in [r["predicate"](q)[0]]]
            if effect.kind == "add":
                values = exp.Transform(this=chosen.copy(), expression=lambda_(q, value))
                total = total_of(values, low.scale(effect.value), exact=not (nullable or low.nullable(r["base"])))
                name = totals.setdefault(total, f"v{index}_{k}")
                if name == f"v{index}_{k}":
                    columns.append(total.as_(name))
                else:
                    self._same[f"v{index}_{k}"] = name
            else:  # set: the first element's value
                columns += self._effect_columns(index, k, value, over=(chosen, q))
        return columns, errors

    def applies(self, index: int, test: exp.Expression | None = None) -> exp.Expression:
        """Whether a rule applies, the rules overriding it taken out (over a list: to some
        element, found by the layer before the rules); `test`, its own test, where lowered."""
        r = self._rules[index]
        if r["base"] is not None and _has_values(r["rule"]):
            return exp.GT(this=size(_col(_kept(index), ROW)), expression=exp.Literal.number(0))
        if r["base"] is not None:
            return _col(_some(index), ROW)
        test = test if test is not None else r["predicate"]()[0]
        return exp.and_(test, *[exp.Not(this=exp.paren(self._applies_at_all(w)))
                                for w in r["overridden_by"]]) if r["overridden_by"] else test

    def _hoist(self) -> dict:
        """The values over lists, each computed once per request by a layer of its own (a rule
        over each item reading `returned_paid_skus` would otherwise build it again per item):
        name of the column -> SQL. A value counting business days stays where the calendar is
        joined."""
        low, found = self.lowering, {}
        for name, value in self.policy.values.items():
            joins = len(low.business_days)
            try:
                sql = low.expr(value, {})
            except NotLowerable:
                continue  # named where a rule uses it
            if len(low.business_days) > joins:
                del low.business_days[joins:]
            elif isinstance(sql, exp.Expression) and sql.find(exp.Lambda) is not None:
                found[name] = sql
        for name in found:
            low.hoisted[name] = _col(_value(name), ROW)
        return {_value(name): sql for name, sql in found.items()}

    def _kept(self, index: int, r: dict) -> exp.Expression:
        """For a rule over a list, the elements it applies to (the rules overriding it taken out),
        which its amounts read; for a rule without amounts, whether it applies to some element:
        a copy of the elements costs DuckDB three times the test."""
        p = self.lowering.param()
        base, kept = self.lowering.expr(r["base"], {}), self.keeps(r, p)
        if _has_values(r["rule"]):
            return keep(base, p, kept).as_(_kept(index), quoted=True)
        return exists(base, p, kept).as_(_some(index), quoted=True)

    def keeps(self, r: dict, p: str) -> exp.Expression:
        """Whether a rule over a list applies to the element `p`, the rules overriding it taken out."""
        kept = r["predicate"](p)[0]
        for w in r["overridden_by"]:
            if w["base"] is None:
                kept = exp.and_(kept, exp.Not(this=exp.paren(self._applies_at_all(w))))
            else:
                kept = exp.and_(kept, exp.Not(this=exp.paren(w["predicate"](p)[0])))
        return kept

    def _effect_columns(self, index: int, k: int, value, over=None) -> list:
        def first(v):
            if over is None:
                return v
            chosen, q = over
            return exp.Bracket(this=exp.Transform(this=chosen.copy(), expression=lambda_(q, v)),
                               expressions=[exp.Literal.number(1)], offset=1, safe=True)
        if isinstance(value, DateRange):
            return [first(value.first).as_(f"v{index}_{k}_from"), first(value.last).as_(f"v{index}_{k}_to")]
        return [first(value).as_(f"v{index}_{k}")]

    def _applies_at_all(self, r: dict) -> exp.Expression:
        """Whether a rule applies (to the request, or to some element), overridden or not."""
        if r["base"] is None:
            return r["predicate"]()[0]
        p = self.lowering.param()
        return exists(self.lowering.expr(r["base"], {}), p, r["predicate"](p)[0])

    def _outcome(self) -> exp.Expression:
        outcomes = self.graph.outcomes
        if not outcomes:
            return exp.cast(exp.Null(), "VARCHAR")
        whens = []
        for outcome in outcomes[:-1]:
            given = [_col(f"a{i}") for i, r in enumerate(self._rules) if r["rule"].outcome == outcome.name]
            if given:
                whens.append((any_of(given), self.texts.constant(known.OUTCOME, outcome.name)))
        last = self.texts.constant(known.OUTCOME, outcomes[-1].name)
        return case(*whens, default=last) if whens else last

    def _determining(self, index: int) -> exp.Expression:
        """Whether rule `index` determines the decision (counts, with outcomes decided per item)."""
        if self.items is not None:
            return _col(counts(index))
        return self._determines(index)

    def _determines(self, index: int) -> exp.Expression:
        """Whether rule `index` determines the decision of a request decided as a whole: it
        applies, and the outcome chosen does not override every rule of another outcome."""
        rule = self._rules[index]["rule"]
        others = [o.name for o in self.graph.outcomes if o.overrides_all and o.name != rule.outcome]
        tests = [_col(f"a{index}")] + [exp.NEQ(this=_col(OUTCOME), expression=self.texts.constant(known.OUTCOME, o))
                                       for o in others]
        return exp.and_(*tests)

    # ---- Outputs -------------------------------------------------------------------------------

    def _outputs(self) -> list:
        columns = []
        for output in self.graph.outputs:
            if output.kind == "outcome":
                outcome = _col(OUTCOME if self.items is None else ITEM_OUTCOME)
                columns.append(outcome.as_(output.name, quoted=True))
            elif output.kind == "total":
                columns.append(self._total(output).as_(output.name, quoted=True))
            elif plain(output.type) == T.DATE_RANGE:
                columns += [self._set(output, "_from").as_(f"{output.name}_from", quoted=True),
                            self._set(output, "_to").as_(f"{output.name}_to", quoted=True)]
            else:
                value = self._set(output, "")
                if plain(output.type) == T.MONEY:
                    value = _money(value)
                elif isinstance(plain(output.type), T.EnumType):
                    value = self.texts.computed(known.enum_kind(plain(output.type)), value)
                columns.append(value.as_(output.name, quoted=True))
        if self.items is not None:
            columns.append(self.items.outcomes().as_(ITEM_OUTCOMES))
        applied = names_where([r["rule"].name for r in self._rules],
                              [self._determining(i) for i in range(len(self._rules))], self.texts.type(known.RULE))
        columns += [applied.as_("rules_applied"), self.texts.constant(known.VERSION, self.version).as_("policy_version"),
                    self.texts.constant(known.HASH, self.hash).as_("policy_hash")]
        return columns

    def _total(self, output) -> exp.Expression:
        terms, scale = [], 2
        for i, r in enumerate(self._rules):
            for k, effect in enumerate(r["rule"].effects):
                if effect.kind == "add" and effect.output == output.name:
                    scale = max(scale, self.lowering.scale(effect.value))
                    terms.append((case((self._determining(i), self._value(i, k)), default=decimal(_ZERO)),
                                  effect.sign))
        # the terms added in the engine's own types: each sum or subtraction is one digit wider
        # (DuckDB, Spark), and a term of DECIMAL(38) keeps the sum there; a cast after each step
        # cost DuckDB a conversion of 128-bit numbers per term and row
        total = None
        for term, sign in terms:
            if total is None:
                total = term if sign > 0 else exp.Neg(this=exp.paren(term))
            else:
                total = (exp.Add if sign > 0 else exp.Sub)(this=total, expression=term)
        if total is None:
            total = wide(exp.Literal.number(0), scale)
        if output.floor is not None:
            total = exp.Greatest(this=total, expressions=[decimal(output.floor)])
        return total if scale <= 2 else _money(total)  # cents already: rounding would change nothing

    def _set(self, output, suffix: str) -> exp.Expression:
        whens = []
        for i, r in enumerate(self._rules):
            for k, effect in enumerate(r["rule"].effects):
                if effect.kind == "set" and effect.output == output.name:
                    whens.append((self._determining(i), self._value(i, k, suffix)))
        default = output.default
        if isinstance(default, T.DateRange):
            default = default[0] if suffix == "_from" else default[1]
        fallback = literal(default)
        return case(*whens, default=fallback) if whens else fallback

    def _value(self, index: int, k: int, suffix: str = "") -> exp.Expression:
        """What effect `k` of rule `index` gives the request where the rule counts: with outcomes
        decided per item, a per-item rule's over the items that keep it."""
        if self.items is not None and index in self.items.per_item:
            return _col(item_value(index, k, suffix))
        name = f"v{index}_{k}{suffix}"
        return _col(self._same.get(name, name))

    # ---- Rows the request reader might refuse ----------------------------------------------------

    def suspect(self) -> exp.Expression:
        """Whether the request reader might refuse the row: then the Python path reads it."""
        tests = []
        for name, spec in self.policy.request.items():
            tests += _field_tests(self.policy, _col(name, ROW), spec, None, 0)
        return any_of(tests)

    def _over_budget(self, depth: int) -> exp.Expression:
        """A request long enough that the runtime refuses to look through its lists `depth` deep."""
        longest = int(WORK_BUDGET ** (1 / depth))
        sizes = [size(_col(name, ROW)) for name, spec in self.policy.request.items()
                 if isinstance(plain(spec.type), T.ListType)]
        return any_of([exp.GT(this=s, expression=exp.Literal.number(longest)) for s in sizes]) if sizes \
            else exp.false()


def _field_tests(policy, value, spec, parent, depth: int, in_list: bool = False) -> list:
    """What the request reader checks of a field, as tests that are true where it might refuse it
    (a field given `when` a fact is checked only where the fact is true; a record's such fields
    are tested for NULLs together, `_record_tests`); `in_list`: within the test of a list's
    elements (`_given_value_tests`)."""
    tests = []
    if spec.present_when is not None:
        if _required(spec) and parent is None:
            given = exp.EQ(this=_col(spec.present_when, ROW), expression=exp.true())
            tests.append(exp.and_(given, is_null(value)))
    elif _required(spec):
        # a NULL is refused already: the value's tests need not ask whether it is given
        return [is_null(value), *_given_value_tests(policy, value, plain(spec.type), depth, in_list)]
    return tests + _value_tests(policy, value, plain(spec.type), depth, in_list)


def _required(spec) -> bool:
    return not spec.has_default and not isinstance(spec.type, T.OptionalType)


def _record_tests(policy, value, record: str, depth: int, in_list: bool = False) -> list:
    """The tests of a record's fields: those given `when` a fact, missing where it is true, in
    one test for each fact (`item.returned and (item.condition is NULL or ...)`), a boolean's
    NULL being NULL as `= TRUE` makes it."""
    tests, missing = [], {}
    for name, spec in policy.records[record].items():
        tests += _field_tests(policy, field(value, name), spec, value, depth, in_list)
        if spec.present_when is not None and _required(spec):
            missing.setdefault(spec.present_when, []).append(is_null(field(value, name)))
    return tests + [exp.and_(field(value, flag), exp.paren(any_of(nulls))) for flag, nulls in missing.items()]


def _value_tests(policy, value, t, depth: int, in_list: bool = False) -> list:
    """Tests of a value where it is given (a NULL is the business of `_field_tests`): one test,
    the value's being given tested once for all. Within the test of a list's elements, a value
    that is not a record needs no such test: each of its tests is NULL for a NULL (the engines'
    comparisons, lengths and searches are), and the search of the elements counts a NULL as
    false (`exists`); a record's would test its own fields, NULL in a NULL record."""
    tests = _given_value_tests(policy, value, t, depth)
    if in_list and not isinstance(t, T.RecordType):
        return tests
    return [exp.and_(exp.Not(this=is_null(value)), exp.paren(any_of(tests)))] if tests else []


def _given_value_tests(policy, value, t, depth: int, in_list: bool = False) -> list:
    if isinstance(t, T.EnumType):
        return [exp.Not(this=member_of(value, t.members))]
    if t == T.TEXT:
        return [LongerThan(this=value, expression=exp.Literal.number(limits.MAX_TEXT))]
    if t == T.DATE:
        return [exp.Not(this=exp.Between(this=value, low=literal(limits.MIN_DATE), high=literal(limits.MAX_DATE)))]
    if t == T.MONEY:
        return [exp.Not(this=exp.Between(this=value, low=decimal(_ZERO),
                                         high=decimal(_MAX_MONEY)))]
    if t == T.PERCENT:
        return [exp.Not(this=exp.Between(this=value, low=decimal(_ZERO), high=decimal(_MAX_PERCENT)))]
    if t == T.INTEGER:
        return [exp.GT(this=exp.Abs(this=value), expression=exp.Literal.number(limits.MAX_INTEGER))]
    if isinstance(t, T.ListType):
        p = f"_rpl_e{depth}"
        # a NULL element is refused by its first test: the others need not ask whether it is given
        inner = [is_null(exp.column(p))] + _given_value_tests(policy, exp.column(p), plain(t.element), depth + 1,
                                                              in_list=True)
        return [exp.GT(this=size(value), expression=exp.Literal.number(limits.MAX_LIST)),
                exists(value, p, any_of(inner))]
    if isinstance(t, T.RecordType):
        if depth > limits.MAX_REQUEST_DEPTH:
            return [exp.true()]
        return _record_tests(policy, value, t.name, depth + 1, in_list)
    return []


def _passed(name: str) -> str:
    return f"__request_{name}"


def _key(name: str) -> str:
    return f"__key_{name}"


def _value(name: str) -> str:
    return f"__value_{name}"


def _kept(index: int) -> str:
    return f"__kept{index}"


def _has_values(rule) -> bool:
    """Whether a rule's effects have values (amounts added, values set), or only its outcome."""
    return any(effect.value is not None for effect in rule.effects)


def _some(index: int) -> str:
    """The column of whether rule `index`, over a list, applies to some element."""
    return f"__some{index}"


def _layer(source: exp.Expression, columns: list) -> exp.Expression:
    """`source`'s rows with `columns` added, under the same alias."""
    return exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier(ROW)), *columns).from_(source, copy=False).subquery(ROW, copy=False)


def _chain(policy, source: ir.Expr) -> tuple[ir.Expr, list]:
    """The base list of a rule's source and the filters on it: `returned_items` is `items`
    where `item.returned`."""
    while isinstance(source, ir.Value):
        source = policy.values[source.name]
    if isinstance(source, ir.Each) and source.kind == "filter":
        base, filters = _chain(policy, source.source)
        return base, filters + ([(source.var, source.where)] if source.where is not None else [])
    return source, []


def _reads_business_days(count: tuple, indexes: range) -> bool:
    """Whether a count of business days (its start or its number) reads the days counts
    `indexes` reach."""
    names = {business_day(i) for i in indexes}
    return any(c.name in names for part in count for c in part.find_all(exp.Column))


def _parts(value) -> list:
    return [value.first, value.last] if isinstance(value, DateRange) else [value]


def _money(value: exp.Expression) -> exp.Expression:
    """An amount rounded half up to the cent, wide: `_in_columns` tests that it fits its column."""
    return wide(exp.Round(this=value, decimals=exp.Literal.number(2)), 2)


_ZERO = Decimal("0.00")
_MAX_MONEY = Decimal(limits.MAX_INTEGER) + Decimal("0.99")
_MAX_PERCENT = Decimal("999.9999")


def business_day_tables(replay, query: "PolicyQuery", first_row):
    """The calendar tables for the years the dates business days are counted from span, or None
    when the policy counts none; `first_row(select)` runs a query in the engine and gives its row."""
    span = calendar_span(query)
    if span is None:
        return None
    select, chained, longest = span
    return tables_for_span(replay.compiled.checked.calendar, first_row(select), chained, longest)


def calendar_span(query: "PolicyQuery") -> tuple[exp.Select, int, int] | None:
    """What the calendar must cover, once `select` has built the query: the query of the first
    and last days counts start from, how many counts chain, the longest count; None when the
    policy counts no business days."""
    joins = query.lowering.business_days
    if not joins:
        return None
    # a count from the day another count reaches is not known before the joins: the calendar
    # spans the longest counts one after another from the days the data gives
    given = [start for i, (start, _) in enumerate(joins) if not _reads_business_days(joins[i], range(i))]
    span = exp.select(*[f(this=python_day(start)) for start in given for f in (exp.Min, exp.Max)]).from_(query.first)
    return span, len(joins) - len(given) + 1, max(_constant_count(count) for _, count in joins)


def _constant_count(count: exp.Expression) -> int:
    """The size of a count of business days that is a constant (`check_delay`, 10), else the
    longest a count may be: the calendar then spans a year around the data, not eleven."""
    while isinstance(count, (exp.Neg, exp.Paren)):
        count = count.this
    if isinstance(count, exp.Literal) and count.is_int:
        return abs(int(count.this))
    return limits.MAX_BUSINESS_DAYS
