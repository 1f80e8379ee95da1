"""Outcomes decided item by item (docs/per-item.md) in the policy's query, as
`runtime/items.py` combines them: still one row per request. Layers after the kept elements:

    items    `__items`: the elements outcomes are decided for, in list order, each with whether
             each per-item rule applies to it (`k3`, the rules overriding it taken out); and
             `__wide_rank`, the strongest outcome of the request-wide rules that apply (a
             request-wide rule gives its outcome to every item)
    ranked   `__ranked_items`: each element with its outcome's rank (`b`): the strongest of its
             own rules' outcomes and the request-wide rules', else the last
    rules    per-item rule: whether some item keeps it (an item's outcome that `overrides all
             other rules` keeps only the rules giving it), and what it adds, summed over the
             items keeping it (what it sets: its first such item's)
    decided  the request's outcome (the first `request outcome:` line that holds, else the
             strongest item's), and whether each request-wide rule counts: where some item
             keeps it

A request without items is decided by its request-wide rules alone, as a policy decided per
request (`__outcome`, and the ordinary test of a rule's determining the decision).
"""
from __future__ import annotations

from sqlglot import exp

from .lowering import ROW
from .sql import DateRange, any_of, case, combine, exists, field, is_null, keep, lambda_, size, total_of
from .texts import OUTCOME

ITEMS, RANKED, WIDE_RANK = "__items", "__ranked_items", "__wide_rank"
ITEM_OUTCOME = "__item_outcome"
ELEMENT, RANK = "e", "b"


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _keeps(index: int) -> str:
    return f"k{index}"


class ItemOutcomes:
    """The per-item part of one PolicyQuery."""

    def __init__(self, query, chain):
        self.query, self.policy, self.low = query, query.policy, query.lowering
        self.decl = self.policy.items
        self.base, self.filters = chain(self.policy, self.decl.source)
        outcomes = query.graph.outcomes
        self.rank = {o.name: o.rank for o in outcomes}
        self.names = [o.name for o in outcomes]
        self.default = len(outcomes) - 1 if outcomes else 0
        self.overriding = [o.name for o in outcomes if o.overrides_all]
        self.per_item = [i for i, r in enumerate(query._rules) if r["rule"].per_item]  # over the same list

    # ---- In the rules layer ----------------------------------------------------------------

    def elements(self) -> tuple[list, list]:
        """`__items` and `__wide_rank` (columns over the request row), and the tests true where
        reading the list fails."""
        low, p = self.low, self.low.param()
        names = [v for v, _ in self.filters]
        env = {name: exp.column(p) for name in names}
        parts, errors, facts = [], [], frozenset()
        base = low.expr(self.base, {})
        for _, where in self.filters:
            with low.knowing(facts):
                sql, nullable = low.expr(where, env), low.nullable(where)
            parts.append((sql, nullable))
            if nullable:
                errors.append(exists(base.copy(), p, is_null(sql.copy())))
            facts |= low.facts(where, names)
        chosen = keep(base, p, combine("and", parts)) if parts else base
        q = self.low.param()
        fields = [exp.PropertyEQ(this=exp.to_identifier(ELEMENT), expression=exp.column(q))]
        for i in self.per_item:
            test = self.query.keeps(self.query._rules[i], q)
            fields.append(exp.PropertyEQ(this=exp.to_identifier(_keeps(i)),
                                         expression=exp.Coalesce(this=exp.paren(test), expressions=[exp.false()])))
        items = exp.Transform(this=chosen, expression=lambda_(q, exp.Struct(expressions=fields)))
        whens = []
        for name in self.names[:-1]:
            given = [self.query.applies(i) for i, r in enumerate(self.query._rules)
                     if r["rule"].outcome == name and i not in self.per_item]
            if given:
                whens.append((any_of(given), exp.Literal.number(self.rank[name])))
        wide = case(*whens, default=exp.Literal.number(self.default)) if whens else exp.Literal.number(self.default)
        return [items.as_(ITEMS, quoted=True), wide.as_(WIDE_RANK, quoted=True)], errors

    # ---- The items' outcomes -----------------------------------------------------------------

    def ranked(self) -> exp.Expression:
        """`__ranked_items`: each element with its outcome's rank."""
        q = self.low.param()
        y, wide = exp.column(q), _col(WIDE_RANK, ROW)
        whens = []
        for name in self.names[:-1]:
            rank = exp.Literal.number(self.rank[name])
            given = [exp.EQ(this=wide.copy(), expression=rank.copy())] + \
                [field(y.copy(), _keeps(i)) for i in self.per_item if self.query._rules[i]["rule"].outcome == name]
            whens.append((any_of(given), rank))
        rank = case(*whens, default=exp.Literal.number(self.default)) if whens else exp.Literal.number(self.default)
        fields = [exp.PropertyEQ(this=exp.to_identifier(ELEMENT), expression=field(y.copy(), ELEMENT)),
                  exp.PropertyEQ(this=exp.to_identifier(RANK), expression=rank)]
        fields += [exp.PropertyEQ(this=exp.to_identifier(_keeps(i)), expression=field(y.copy(), _keeps(i)))
                   for i in self.per_item]
        ranked = exp.Transform(this=_col(ITEMS, ROW), expression=lambda_(q, exp.Struct(expressions=fields)))
        return ranked.as_(RANKED, quoted=True)

    # ---- What counts -----------------------------------------------------------------------

    def per_item_columns(self) -> list:
        """In the rules layer: the ranked items, and for each per-item rule whether it counts and
        what it gives the request."""
        columns = [_col(RANKED, ROW).as_(RANKED, quoted=True)]
        for i in self.per_item:
            r, q = self.query._rules[i], self.low.param()
            kept = exp.and_(field(exp.column(q), _keeps(i)), self._allowed(r["rule"], field(exp.column(q), RANK)))
            columns.append(exists(_col(RANKED, ROW), q, kept).as_(counts(i), quoted=True))
            columns += self._amounts(i, r, q, kept)
        return columns

    def request_columns(self, per_request) -> list:
        """After the layer deciding per request: the request's outcome, and whether each
        request-wide rule counts; `per_request(i)`: whether rule `i` counts in a policy decided
        per request (for a request without items)."""
        columns = [self._outcome().as_(ITEM_OUTCOME, quoted=True)]
        none = exp.EQ(this=size(_col(RANKED)), expression=exp.Literal.number(0))
        for i, r in enumerate(self.query._rules):
            if i in self.per_item:
                continue
            q = self.low.param()
            some = exists(_col(RANKED), q, self._allowed(r["rule"], field(exp.column(q), RANK)))
            columns.append(exp.and_(exp.column(f"a{i}"), exp.paren(case((none, per_request(i)), default=some)))
                           .as_(counts(i), quoted=True))
        return columns

    def _allowed(self, rule, rank: exp.Expression) -> exp.Expression:
        """Whether an item of outcome `rank` keeps `rule`: unless the item's outcome overrides
        every rule of another outcome."""
        tests = [exp.NEQ(this=rank.copy(), expression=exp.Literal.number(self.rank[o]))
                 for o in self.overriding if o != rule.outcome]
        return exp.paren(exp.and_(*tests)) if tests else exp.true()

    def _amounts(self, index: int, r: dict, q: str, kept: exp.Expression) -> list:
        """What a per-item rule adds (over the items that keep it) and sets (its first item's)."""
        low, columns = self.low, []
        _, _, env, facts = r["predicate"](q)
        chosen = keep(_col(RANKED, ROW), q, kept.copy())
        for k, effect in enumerate(r["rule"].effects):
            if effect.value is None:
                continue
            v = low.param()
            inner = {name: field(exp.column(v), ELEMENT) for name in env}
            with low.knowing(facts):
                value = low.expr(effect.value, inner)
            if effect.kind == "add":
                values = exp.Transform(this=chosen.copy(), expression=lambda_(v, value))
                columns.append(total_of(values, low.scale(effect.value)).as_(item_value(index, k), quoted=True))
                continue
            parts = [("_from", value.first), ("_to", value.last)] if isinstance(value, DateRange) else [("", value)]
            for suffix, sql in parts:
                first = exp.Bracket(this=exp.Transform(this=chosen.copy(), expression=lambda_(v, sql)),
                                    expressions=[exp.Literal.number(1)], offset=1, safe=True)
                columns.append(first.as_(item_value(index, k, suffix), quoted=True))
        return columns

    def _outcome(self) -> exp.Expression:
        """The first `request outcome:` line that holds, else the strongest item's outcome; for
        a request without items, the outcome decided per request."""
        whens = [(exp.EQ(this=size(_col(RANKED)), expression=exp.Literal.number(0)), _col("__outcome"))]
        for line in self.decl.request_outcomes:
            tests = [self._holds(quantifier, names) for quantifier, names in line.tests]
            whens.append((exp.and_(*tests) if tests else exp.true(), self._named(line.name)))
        q = self.low.param()
        strongest = exp.ArrayMin(this=exp.Transform(this=_col(RANKED),
                                                    expression=lambda_(q, field(exp.column(q), RANK))))
        by_rank = case(*[(exp.EQ(this=strongest.copy(), expression=exp.Literal.number(self.rank[n])), self._named(n))
                         for n in self.names])
        return case(*whens, default=by_rank)

    def outcomes(self) -> exp.Expression:
        """Each item's outcome, in list order (none for a request without items)."""
        q = self.low.param()
        rank = field(exp.column(q), RANK)
        name = case(*[(exp.EQ(this=rank.copy(), expression=exp.Literal.number(self.rank[n])), self._named(n))
                      for n in self.names])
        return exp.Transform(this=_col(RANKED), expression=lambda_(q, name))

    def _named(self, outcome: str) -> exp.Expression:
        """An outcome's name, as the query writes it (texts.py)."""
        return self.query.texts.constant(OUTCOME, outcome)

    def _holds(self, quantifier: str, names: frozenset) -> exp.Expression:
        q = self.low.param()
        ranks = [exp.Literal.number(self.rank[n]) for n in sorted(names)]
        is_one = exp.In(this=field(exp.column(q), RANK), expressions=ranks)
        if quantifier == "any":
            return exists(_col(RANKED), q, is_one)
        if quantifier == "no":
            return exp.Not(this=exists(_col(RANKED), q, is_one))
        return exp.and_(exp.GT(this=size(_col(RANKED)), expression=exp.Literal.number(0)),
                        exp.Not(this=exists(_col(RANKED), q, exp.Not(this=exp.paren(is_one)))))


def counts(index: int) -> str:
    """The column saying whether rule `index` counts for the request."""
    return f"__counts{index}"


def item_value(index: int, k: int, suffix: str = "") -> str:
    """The column of what per-item rule `index`'s effect `k` gives the request."""
    return f"__item_value{index}_{k}{suffix}"


__all__ = ["ITEMS", "ITEM_OUTCOME", "RANKED", "ItemOutcomes", "counts", "item_value"]
