"""Values over lists computed only on the rows that may read them.

The first layer of the query computes each value over lists once per request (query.py,
`_hoist`): `returned_paid_skus`, a filtered and transformed copy of the items, costs DuckDB
about 8% of a million rows' replay. Where every reader of such a value is an element's test,
inside a rule's pass over a list (a filter, or a search for a true element), in a conjunction
whose other terms read only the element and the request (`item.free and not item.returned
and ...`), the value matters only on rows where those terms hold of some element: elsewhere
the conjunction is never true, whatever the value, and the pass keeps or finds nothing. So
the value is computed under that test (`CASE WHEN <some element passes> THEN value END`): one
pass of plain tests over the list on every row, the value's own passes only where it can be
read. A reader of any other shape leaves the value as it is, and so does a value of one pass
over a list (the test's pass would cost as much as the value's where it is true).
"""
from __future__ import annotations

from sqlglot import exp

from .sql import any_of, case, exists


def guard_values(first: exp.Select, query: exp.Expression, row: str, fields) -> None:
    """Put each value `first` computes (its aliased columns named `__value_...`) under the test
    that its readers in `query` need, where every reader has one; `row`: the alias the layers
    read the request's columns under; `fields`: the request's columns."""
    for column in first.expressions:
        if not (isinstance(column, exp.Alias) and column.alias.startswith("__value_")):
            continue
        if len(list(column.this.find_all(exp.Lambda))) < 2:
            continue  # one pass: the test's own pass could at best save nothing
        readers = [c for c in query.find_all(exp.Column) if c.name == column.alias and c.table == row]
        tests = [_needed(reader, row, fields) for reader in readers]
        if not tests or any(t is None for t in tests):
            continue
        unique = list({t.sql(): t for t in tests}.values())
        column.set("this", case((any_of(unique), column.this)))


def _needed(reader: exp.Column, row: str, fields) -> exp.Expression | None:
    """The test on the row without which `reader` cannot change what its pass keeps or finds
    (some element of the list passes the conjunction's other terms), or None if there is none."""
    terms: list[exp.Expression] = []  # terms each of which must hold for the reader's conjunction to
    node, parent = reader, reader.parent
    while parent is not None and not isinstance(parent, exp.Lambda):
        if isinstance(parent, exp.And):
            terms.append(parent.expression if node is parent.this else parent.this)
        elif isinstance(parent, exp.Paren) or (
                isinstance(parent, exp.Coalesce) and node is parent.this
                and [e.sql() for e in parent.expressions] == ["FALSE"]):
            pass  # true only where its operand is
        else:  # a term under any other operator: the terms found below it need not hold above it
            terms = []
        node, parent = parent, parent.parent
    if parent is None or node is not parent.this or not terms:
        return None
    over = parent.parent
    if isinstance(over, exp.ArrayFilter) and over.expression is parent:
        pass  # a filter keeps only the elements whose test is true
    elif not (isinstance(over, exp.Transform) and over.expression is parent
              and isinstance(over.parent, exp.ArrayContains) and over.parent.this is over
              and over.parent.expression == exp.true()
              and isinstance(parent.this, exp.Coalesce) and [e.sql() for e in parent.this.expressions] == ["FALSE"]):
        return None  # only a search for a true element, each test true or false, finds nothing without one
    param = parent.expressions[0].name
    source = over.this
    terms = [c for t in reversed(terms) for c in _conjuncts(t)]
    if not all(_plain(e, param, row, fields) for e in [source, *terms]):
        return None
    # the terms reading only the request tested once, outside the pass: DuckDB copies a column a
    # lambda reads for each element
    of_element = [t.copy() for t in terms if _reads(t, param)]
    of_row = [t.copy() for t in terms if not _reads(t, param)]
    return exp.and_(*of_row, *([exists(source.copy(), param, exp.and_(*of_element))] if of_element else []))


def _conjuncts(e: exp.Expression) -> list[exp.Expression]:
    """The terms of a conjunction, its parentheses taken off."""
    e = e.unnest()
    return _conjuncts(e.this) + _conjuncts(e.expression) if isinstance(e, exp.And) else [e]


def _reads(e: exp.Expression, param: str) -> bool:
    """Whether `e` reads the element `param` (a column of that name, or of that table)."""
    return any(c.table == param or (not c.table and c.name == param) for c in e.find_all(exp.Column)) or \
        any(i.name == param for i in e.find_all(exp.Identifier) if isinstance(i.parent, exp.Dot) and i is i.parent.this)


def _plain(e: exp.Expression, param: str, row: str, fields) -> bool:
    """Whether `e` reads only the element `param` and the request's own columns, with no pass over
    a list of its own: as cheap as a test goes, and computable in the first layer."""
    if e.find(exp.Lambda) is not None:
        return False
    for column in e.find_all(exp.Column):
        if column.table == row:
            if column.name not in fields:
                return False
        elif column.table != param and (column.table or column.name != param):  # `x."free"`, either form
            return False
    return True
