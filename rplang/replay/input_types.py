"""The column types a typed input (Parquet, or a table given to the notebook API) may hold a
request's fields in, and the error that names, before any row is read, every column whose type
can never hold its field's values.

A typed row reaches the request reader as the JSON `rpl eval` reads (columns.to_request): a
DECIMAL as its digits, a DATE or TIMESTAMP as its ISO 8601 text, an integer or a DOUBLE as a
number, a list as a list, a struct as an object. So the reader reads a field from a column of
these types only (each of its values still checked as it is read: an amount's places past the
second must be zeros, a text must name a date):

    field            column types
    money, percent   DECIMAL of any scale; VARCHAR
    date             DATE; VARCHAR
    integer          any integer type
    boolean          BOOLEAN
    text, enum       VARCHAR; DECIMAL, DATE, TIMESTAMP (their text)
    list of T        LIST or ARRAY of T's column types
    record           STRUCT of its fields' column types

and from a column of NULLs. Any other type is refused here, once, rather than as every row's
reject: a FLOAT, DOUBLE or integer is never money (money is exact, and a DOUBLE is not rounded
to cents behind the user's back), a TIMESTAMP never a date, a VARCHAR never true or false.
"""
from __future__ import annotations

from rplang.policy_lang.errors import did_you_mean

from .duckdb_types import INTEGERS, described, mismatches
from .errors import ReplayError

_WHOLE = INTEGERS | {"hugeint", "uhugeint"}  # read by the reader as Python's int, if small enough

# a request field's column type (as DuckDB names it) -> the types of the columns it is read from
READ_FROM = {"decimal": {"decimal", "varchar"}, "date": {"date", "varchar"},
             "bigint": _WHOLE, "boolean": {"boolean"},
             "varchar": {"varchar", "decimal", "date"},  # and every TIMESTAMP (`read_from`)
             "list": {"list", "array"}, "struct": {"struct"}}

# a request field's scalar column type (columns.scalar_type's, as DuckDB names it) -> what the
# policy's field is, and the column types it is read from, as the error says them
_FIELDS = {"DECIMAL(18,2)": ("money",
                             'a DECIMAL of any scale (places past the second are zeros) or text like "12.50"'),
           "DECIMAL(7,4)": ("a percentage",
                            'a DECIMAL of any scale (places past the fourth are zeros) or text like "15%"'),
           "DATE": ("a date", 'a DATE or text like "2026-03-01"'),
           "BIGINT": ("a whole number", "an integer type (BIGINT, INTEGER, ...)"),
           "BOOLEAN": ("true or false", "a BOOLEAN"),
           "VARCHAR": ("text", "a VARCHAR (or a DECIMAL, DATE or TIMESTAMP, read as its text)")}


def read_from(actual, expected) -> bool:
    """Whether the request reader reads some values of a column of DuckDB type `actual` as a
    field of column type `expected` (both DuckDBPyType); for lists and structs, whether they are
    both of the kind (their elements and fields are judged in turn: duckdb_types.mismatches)."""
    if actual.id == "null":  # NULLs only: fields left out, which the reader judges row by row
        return True
    if expected.id == "varchar" and actual.id.startswith("timestamp"):
        return True
    return actual.id in READ_FROM.get(expected.id, {expected.id})


def check_types(inputs: dict[str, dict], expected: dict[str, str], con=None) -> None:
    """Refuse, with one error naming them all, the columns whose type can never hold their
    field's values, and the fields of structs that are no field of the record; `inputs`: each
    file (or table) -> its columns (name -> DuckDBPyType); `expected`: the request's columns
    (name -> DuckDB type's name). A column that is no field of the request is sources.check_columns'
    to judge, and a field a struct leaves out the reader's (as one of the request's left out).
    `con`: the run's DuckDB connection, if it has one, which reads the expected types (DuckDB's
    module-level functions would start a second database for them)."""
    found: dict[str, list[str]] = {}  # each problem -> the inputs that have it
    judged: dict[tuple, list[str]] = {}  # the problems of each set of columns, judged once (a folder of parts)
    for where, columns in inputs.items():
        shape = described(columns)
        if shape not in judged:
            judged[shape] = column_problems(columns, expected, con)
        for problem in judged[shape]:
            found.setdefault(problem, []).append(where)
    if not found:
        return
    places = list(dict.fromkeys(where for wheres in found.values() for where in wheres))
    n = len(found)
    columns = f"{n} column{'s' if n > 1 else ''}"
    if len(places) == 1:
        lines = list(found)
        head = f"{places[0]}: {columns} of a type that can never hold its field's values"
    else:
        lines = [f"{problem} (in {wheres[0]}" + (f" and {len(wheres) - 1} more" if len(wheres) > 1 else "") + ")"
                 for problem, wheres in found.items()]
        head = f"{len(places)} files of the input: {columns} of a type that can never hold its field's values"
    raise ReplayError(head + "; no row was read:\n" + "\n".join("  " + line for line in lines))


def column_problems(columns: dict, expected: dict[str, str], con=None) -> list[str]:
    """What is wrong with each column (nested fields and list elements apart) whose type the
    request reader never reads as its field's, one line each, in the columns' order (`con`: as
    for `check_types`)."""
    import duckdb

    problems = []
    for name, actual in columns.items():
        if name not in expected:
            continue
        wrong = list(mismatches(actual, (con or duckdb).sqltype(expected[name]), read_from, (name,)))
        left_out = {}  # a struct's path -> the record's fields it leaves out (a misspelt one, maybe)
        for path, found, wanted in wrong:
            if found is None:
                left_out.setdefault(path[:-1], []).append(path[-1])
        for path, found, wanted in wrong:
            if wanted is None:
                hint = did_you_mean(path[-1], left_out.get(path[:-1], []))
                problems.append(f"`{field_path(path)}` is no field of the record `{field_path(path[:-1])}`"
                                + (f" ({hint}): rename it, or" if hint else ":") + " leave it out of the export")
            elif found is not None:
                problems.append(_wrong_type(path, found, wanted))
    return problems


def field_path(path: tuple) -> str:
    """A column's path as the policy names its field: `order.shipping_paid`, `items[].price`."""
    return "".join(part if part == "[]" or i == 0 else "." + part for i, part in enumerate(path))


def _wrong_type(path: tuple, found, wanted) -> str:
    """The line naming a column whose type never holds its field's values, and the fix."""
    lists = 0
    while path[-1 - lists] == "[]":  # an element's column is its list's: `marks` of `items[].marks[]`
        lists += 1
    leaf = path[-1 - lists]
    if wanted.id == "list":
        what, held_by = "a list", "a LIST (or ARRAY)"
    elif wanted.id == "struct":
        what, held_by = "a record", f"a STRUCT of its fields ({', '.join(name for name, _ in wanted.children)})"
    else:  # a type columns.scalar_type has no name for here is named as DuckDB names it
        what, held_by = _FIELDS.get(str(wanted), (f"a {wanted} field", f"a {wanted}"))
    fix = f"CAST({leaf} AS {wanted}{'[]' * lists})"
    if wanted.id == "decimal" and found.id in _WHOLE:
        fix += f" (or {leaf} / 100, if it counts cents)"
    why = f" ({what} is exact: a {found} is never rounded silently)" \
        if wanted.id == "decimal" and found.id in ("float", "double") else ""
    return f"`{field_path(path)}` is {found}, and {what} must be {held_by}: export it as {fix}{why}"
