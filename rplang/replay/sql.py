"""SQL built with SQLGlot: the small builders the SQL compiler's passes share (constants, exact
DECIMALs, CASE, list lambdas, the runtime's left-to-right `and`/`or`)."""
from __future__ import annotations

import datetime
import functools
from decimal import Decimal

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

from rplang.compiler import types as T

from .errors import NotLowerable


class DateRange:
    """A date range as two SQL expressions, first and last day."""

    def __init__(self, first: exp.Expression, last: exp.Expression):
        self.first, self.last = first, last


def literal(value, t: T.Type | None = None) -> exp.Expression:
    """A constant of the policy as SQL."""
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int):
        return exp.Literal.number(value)
    if isinstance(value, Decimal):
        return decimal(value)
    if isinstance(value, datetime.date):
        return exp.cast(exp.Literal.string(value.isoformat()), sql_type("DATE"))
    if isinstance(value, str):
        return exp.Literal.string(value)
    raise NotLowerable(f"the constant {value!r}")


def decimal(value: Decimal, scale: int | None = None) -> exp.Expression:
    """An exact DECIMAL literal (a bare `0.15` would be a DOUBLE in some dialects)."""
    exponent = -value.as_tuple().exponent if value.as_tuple().exponent < 0 else 0
    scale = max(exponent, scale or 0)
    text = f"{value:.{scale}f}"
    digits = max(len(text.replace("-", "").replace(".", "")), scale + 1)
    return exp.cast(exp.Literal.string(text), sql_type(f"DECIMAL({min(38, digits)}, {scale})"))


@functools.lru_cache(maxsize=None)
def sql_type(text: str) -> exp.DataType:
    """A type, parsed once (`exp.cast` copies it): parsing each of the query's hundreds of casts
    was a tenth of a second of every run."""
    return exp.DataType.build(text)


def wide(e: exp.Expression, scale: int) -> exp.Expression:
    return exp.cast(e, sql_type(f"DECIMAL(38, {scale})"))


def case(*whens: tuple[exp.Expression, exp.Expression], default: exp.Expression | None = None) -> exp.Case:
    node = exp.Case()
    for condition, value in whens:
        node = node.when(condition, value)
    return node.else_(default) if default is not None else node


def grouped(e: exp.Expression) -> exp.Expression:
    """An operand in parentheses where it is itself an operation (SQL has no `a = b = c`)."""
    return exp.paren(e, copy=False) if isinstance(e, (exp.Binary, exp.Predicate, exp.Not, exp.Neg)) else e


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=exp.paren(e, copy=False), expression=exp.Null())


def any_of(conditions: list[exp.Expression]) -> exp.Expression:
    return exp.or_(*conditions) if conditions else exp.false()


def member_of(value: exp.Expression, members) -> exp.Expression:
    """Whether `value` is one of the constants `members` (NULL for a NULL): texts searched in a
    list, which DuckDB does in half the time of `IN`'s comparisons one by one."""
    constants = [literal(m) for m in members]
    if all(isinstance(m, str) for m in members):
        return exp.ArrayContains(this=exp.Array(expressions=constants), expression=value)
    return exp.In(this=value, expressions=constants)


def field(base: exp.Expression, name: str) -> exp.Expression:
    return exp.Dot(this=base, expression=exp.to_identifier(name, quoted=True))


def size(e: exp.Expression) -> exp.Expression:
    return exp.ArraySize(this=e)


def lambda_(param: str, body: exp.Expression) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(param)])


def keep(source: exp.Expression, param: str, condition: exp.Expression) -> exp.Expression:
    return exp.ArrayFilter(this=source, expression=lambda_(param, condition))


def exists(source: exp.Expression, param: str, condition: exp.Expression) -> exp.Expression:
    """Whether `condition` is true of some element (NULL for a NULL list): a list of booleans
    searched, where a filtered copy of the elements counted cost DuckDB four times as much. A
    NULL condition counts as false, as FILTER drops it (Spark's ARRAY_CONTAINS would be NULL)."""
    test = exp.Coalesce(this=exp.paren(condition, copy=False), expressions=[exp.false()])
    return exp.ArrayContains(this=exp.Transform(this=source, expression=lambda_(param, test)), expression=exp.true())


def total_of(values: exp.Expression, scale: int, exact: bool = False) -> exp.Expression:
    """The exact sum of a list of amounts (0 for none); a NULL list, or a NULL among its amounts,
    makes it NULL unless `exact`: neither can be NULL there, and each engine sums as it sums best."""
    zero = wide(exp.Literal.number(0), scale)
    if exact:
        return Total(this=values, initial=zero)
    return _reduce(values, zero)


def _reduce(values: exp.Expression, zero: exp.Cast) -> exp.Expression:
    add = exp.cast(exp.Add(this=exp.column("_rpl_acc"), expression=exp.column("_rpl_v")), zero.to)
    return exp.Reduce(this=values, initial=zero,
                      merge=exp.Lambda(this=add, expressions=[exp.to_identifier("_rpl_acc"), exp.to_identifier("_rpl_v")]))


class Total(exp.Expression, exp.Func):
    """The sum of a list of amounts, neither the list nor an amount NULL: DuckDB's LIST_SUM, a
    fifth of the time of its LIST_REDUCE calling a lambda for each amount; AGGREGATE in Spark."""
    arg_types = {"this": True, "initial": True}


def _list_sum(generator, total: Total) -> str:
    zero = total.args["initial"]
    summed = exp.Coalesce(this=exp.Anonymous(this="LIST_SUM", expressions=[total.this]), expressions=[zero])
    return generator.sql(exp.cast(summed, zero.to))


class DaysAfter(exp.Expression, exp.Func):
    """A date `count` days after `this` (a count short enough to add, `Lowering._in_calendar`):
    DuckDB adds the days to the date, a third of the time of adding an INTERVAL, which makes a
    TIMESTAMP to cast back (and fails past its range); DATE_ADD in Spark."""
    arg_types = {"this": True, "expression": True}


def _days_after_duckdb(generator, e: DaysAfter) -> str:
    return generator.sql(exp.Add(this=grouped(e.this), expression=exp.cast(e.expression, sql_type("INTEGER"))))


def _days_after_spark(generator, e: DaysAfter) -> str:
    added = exp.DateAdd(this=e.this, expression=exp.cast(e.expression, "INT"), unit=exp.var("DAY"))
    return generator.sql(exp.cast(added, "DATE"))


class LongerThan(exp.Expression, exp.Func):
    """Whether a text has more than `expression` characters: DuckDB counts its bytes first (a
    character is at least one), which is cheaper than counting characters."""
    arg_types = {"this": True, "expression": True}


def _longer_duckdb(generator, e: LongerThan) -> str:
    return generator.sql(exp.and_(exp.GT(this=exp.Anonymous(this="STRLEN", expressions=[e.this]), expression=e.expression),
                                  exp.GT(this=exp.Length(this=e.this), expression=e.expression)))


def _longer_spark(generator, e: LongerThan) -> str:
    return generator.sql(exp.GT(this=exp.Length(this=e.this), expression=e.expression))


class Pick(exp.Expression, exp.Func):
    """Element `expression` of the list `this`, counted from 0: `[...][n + 1]` in DuckDB,
    ELEMENT_AT in Spark (whose `[n]` counts from 0, where SQLGlot does not move a computed index)."""
    arg_types = {"this": True, "expression": True}


def _pick_duckdb(generator, e: Pick) -> str:
    return f"{generator.sql(e.this)}[{generator.sql(e.expression)} + 1]"


def _pick_spark(generator, e: Pick) -> str:
    return f"ELEMENT_AT({generator.sql(e.this)}, {generator.sql(e.expression)} + 1)"


NAMES_AT_ONCE = 4  # flags looked up together: 16 lists of names a lookup
NAMES_LOOKED_UP = 64  # beyond this many names, the filtered list (the lookups' text would grow 4x)


def names_where(names: list[str], flags: list[exp.Expression], element: exp.DataType | None = None) -> exp.Expression:
    """The names whose flag is true (a NULL flag as false), in order, as a list of `element`
    (VARCHAR unless given: an ENUM of the names, texts.py): for a few names, each four flags'
    names looked up among the 16 lists they may give, the lists concatenated, a fifth of DuckDB's
    time to build a list of every name or NULL and filter it."""
    element = element or sql_type("VARCHAR")
    if not names:
        return exp.cast(exp.Array(expressions=[]), _list_of(element))
    if len(names) > NAMES_LOOKED_UP:
        def name_of(name):
            return exp.Literal.string(name) if element == sql_type("VARCHAR") else exp.cast(exp.Literal.string(name), element)
        listed = exp.Array(expressions=[case((flag, name_of(name))) for name, flag in zip(names, flags)])
        return keep(listed, "_rpl_name", exp.Not(this=is_null(exp.column("_rpl_name"))))
    looked_up = []
    for start in range(0, len(names), NAMES_AT_ONCE):
        group = list(zip(names, flags))[start:start + NAMES_AT_ONCE]
        lists = exp.Array(expressions=[
            exp.Array(expressions=[exp.Literal.string(name) for bit, (name, _) in enumerate(group) if mask >> bit & 1])
            for mask in range(2 ** len(group))])
        mask = functools.reduce(lambda a, b: exp.Add(this=a, expression=b), [
            case((flag, exp.Literal.number(1 << bit)), default=exp.Literal.number(0))
            for bit, (_, flag) in enumerate(group)])
        looked_up.append(Pick(this=exp.cast(lists, _list_of(_list_of(element))), expression=mask))
    return looked_up[0] if len(looked_up) == 1 else exp.ArrayConcat(this=looked_up[0], expressions=looked_up[1:])


def _list_of(element: exp.DataType) -> exp.DataType:
    return exp.DataType(this=exp.DataType.Type.ARRAY, expressions=[element.copy()], nested=True)


class DuckDBDialect(DuckDB):
    """DuckDB's SQL, with the replay's own functions (`Total`, `DaysAfter`, `LongerThan`, `Pick`)."""

    class Generator(DuckDB.Generator):
        TRANSFORMS = {**DuckDB.Generator.TRANSFORMS, Total: _list_sum, DaysAfter: _days_after_duckdb,
                      LongerThan: _longer_duckdb, Pick: _pick_duckdb}


@functools.lru_cache(maxsize=1)
def spark_dialect():
    """Spark SQL, with the replay's own functions (`Total`, ...): made when a replay runs on Spark
    (SQLGlot's Spark dialect is a tenth of a second of importing on a busy machine)."""
    from sqlglot.dialects.spark import Spark

    class SparkDialect(Spark):
        class Generator(Spark.Generator):
            TRANSFORMS = {**Spark.Generator.TRANSFORMS,
                          Total: lambda generator, total: generator.sql(_reduce(total.this, total.args["initial"])),
                          DaysAfter: _days_after_spark, LongerThan: _longer_spark, Pick: _pick_spark}

    return SparkDialect


def dialect(engine: str):
    """The SQL dialect a policy's query is written in for `engine` (duckdb | spark)."""
    return spark_dialect() if engine == "spark" else DuckDBDialect


def combine(op: str, parts: list[tuple[exp.Expression, bool]]) -> exp.Expression:
    """`a and b` (or `or`) as the runtime reads it: left to right, so a failure (NULL) met before
    the answer is known is a failure; `parts` are (SQL, whether it may be NULL).

    One flat CASE, each part written at most twice (nesting CASEs would double the query with
    every part)."""
    if not any(nullable for _, nullable in parts[:-1]):
        return exp.paren((exp.and_ if op == "and" else exp.or_)(*[sql for sql, _ in parts]), copy=False)
    whens = []
    for sql, nullable in parts[:-1]:
        if nullable:
            whens.append((is_null(sql), exp.Null()))
        whens.append((exp.Not(this=exp.paren(sql.copy())), exp.false()) if op == "and" else (sql.copy(), exp.true()))
    return case(*whens, default=parts[-1][0])
