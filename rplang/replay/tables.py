"""A table lookup (`rate[category]`) lowered to SQL: one CASE over the table's rows, grouped by
value (`WHEN key IN ('camera', 'lens') THEN 0.15`), so that a lookup reads as well inside a rule
for each element (a lambda over the list, where a join cannot reach) as over the request.

A key no row names gives the `otherwise` value; a table without one covers every key (the checker
proves it), so the ELSE is reached only by a NULL key, where the runtime fails too: a NULL, which
the query hands to the Python path.
"""
from __future__ import annotations

from decimal import Decimal

from sqlglot import exp

from rplang.compiler import ir

from .errors import NotLowerable

# A CASE of a few hundred values is evaluated quickly; a table of thousands of rows (a CSV of
# SKUs) would want a join to a relation of its rows, which a lambda over a list cannot make.
MAX_ROWS = 500


def lookup(index: ir.TableIndex, keys: list[exp.Expression], literal, line: str | None) -> exp.Expression:
    """The value `index` gives for `keys` (SQL), `literal` lowering a constant of the policy."""
    if len(index) > MAX_ROWS:
        raise NotLowerable(f"a lookup in the table `{index.table}` of {len(index):,} rows (more than {MAX_ROWS})", line)
    by_value: dict = {}
    for key, value in index.items():
        by_value.setdefault(_same(value), (value, []))[1].append(key if isinstance(key, tuple) else (key,))
    whens = []
    for value, rows in by_value.values():
        if len(keys) == 1:
            test = exp.In(this=keys[0].copy(), expressions=[literal(k) for (k,) in rows])
        else:
            test = exp.or_(*[exp.and_(*[exp.EQ(this=sql.copy(), expression=literal(k)) for sql, k in zip(keys, row)])
                             for row in rows])
        whens.append((test, literal(value)))
    node = exp.Case()
    for test, value in whens:
        node = node.when(test, value, copy=False)
    return node.else_(literal(index.otherwise) if index.has_otherwise else exp.Null(), copy=False)


def scale(index: ir.TableIndex) -> int:
    """Digits after the point the table's amounts have."""
    values = list(index.values()) + ([index.otherwise] if index.has_otherwise else [])
    return max([0] + [max(0, -v.as_tuple().exponent) for v in values if isinstance(v, Decimal)])


def _same(value):
    """Values grouped by what they are: 15 days and 15.00 are not one row's value."""
    return (type(value), value)
