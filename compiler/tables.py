"""Check a policy's tables and index them: each column a dict from keys to values, built once.

A table's rows are written in the policy or read from a CSV file beside it (`from "fees.csv"`,
relative to the policy's file). A CSV cell is checked as a cell written in the policy is, and a
bad one is reported at `fees.csv:line:column`, like any other problem. A table either has an
`otherwise` row or covers every key (for enum keys, every combination): a lookup always finds a
value.
"""
from __future__ import annotations

import csv
import datetime
import hashlib
import io
import itertools
import re
from decimal import Decimal
from pathlib import Path

from rplang.policy_lang import ast, limits
from rplang.policy_lang.span import Source, Span

from . import ir
from . import types as T
from .checked import CheckedTable
from .show import show

# Types a table's values may have: the built-in ones, days, and the policy's enums.
_VALUE_TYPES = {**T.BUILTIN_TYPES, "days": T.DAYS}
_LITERAL_TYPES = {"money": T.MONEY, "integer": T.INTEGER, "percent": T.PERCENT, "date": T.DATE,
                  "duration": T.DAYS, "business_duration": T.BUSINESS_DAYS, "boolean": T.BOOLEAN, "text": T.TEXT}
_MAX_CSV_BYTES = 64 * 1024 * 1024
_MAX_MISSING_SHOWN = 5
_WRITTEN = {T.MONEY: "an amount like `12.50`", T.PERCENT: "a percentage like `15%`",
            T.DAYS: "a number of days like `14 days` (or `14`)", T.INTEGER: "a whole number like `3`",
            T.BOOLEAN: "`true` or `false`", T.DATE: "a date like `2026-03-02`", T.TEXT: "a text"}


def check_tables(checker, decls: list[ast.Table], policy_file: str, unique) -> dict[str, CheckedTable]:
    """Each table checked and indexed; problems go to `checker.error`, a broken table is left out
    (its lookups then report nothing more: one mistake, one error)."""
    tables = {}
    for d in decls:
        if unique("name", d.name, d.span):
            table = _TableChecker(checker, d, policy_file).run()
            if table is not None:
                tables[d.name] = table
    return tables


def _key_types(checker, d: ast.Table) -> list[T.Type] | None:
    types = []
    for key in d.keys:
        if key.name == "text":
            types.append(T.TEXT)
        elif key.name in checker.enums:
            types.append(checker.enums[key.name])
        else:
            hint = checker.suggest(key.name, list(checker.enums) + ["text"]) \
                or f"a table is looked up by an enum ({', '.join(checker.enums) or 'none declared'}) or by `text`"
            checker.error("RPL070", f"a table cannot be looked up by `{key.name}`", key.span, hint)
            return None
    return types


def _value_type(checker, column: ast.TableColumn) -> T.Type | None:
    name = column.type.name
    if name in _VALUE_TYPES:
        return _VALUE_TYPES[name]
    if name in checker.enums:
        return checker.enums[name]
    known = list(_VALUE_TYPES) + list(checker.enums)
    checker.error("RPL070", f"unknown type `{name}` for a table's values", column.type.span,
                  checker.suggest(name, known) or f"known types: {', '.join(known)}")
    return None


class _TableChecker:
    """One table: its header, its rows from the policy and from its CSV file, its indexes."""

    def __init__(self, checker, d: ast.Table, policy_file: str):
        self.checker, self.d, self.policy_file = checker, d, policy_file
        self.error = checker.error
        self.rows: dict[tuple, tuple] = {}
        self.row_spans: dict[tuple, Span | None] = {}
        self.otherwise: tuple | None = None
        # Equal cells are one object: a large table repeats a few values (15%, 2.50) over
        # thousands of rows, and a lookup then reads values already in the processor's cache.
        self.shared: dict[tuple, object] = {}
        self.bad = False
        self.digest: str | None = None
        self.path: str | None = None

    def run(self) -> CheckedTable | None:
        d = self.d
        key_types = _key_types(self.checker, d)
        value_types = [_value_type(self.checker, c) for c in d.columns]
        names = [c.name for c in d.columns if c.name is not None]
        for name in {n for n in names if names.count(n) > 1}:
            self.error("RPL070", f"table `{d.name}` has two columns called `{name}`", d.span, "rename one of them")
            return None
        if key_types is None or None in value_types:
            return None
        self.key_types, self.value_types = key_types, value_types
        if d.source is not None:
            self._read_csv(d.source)
        for row in d.rows:
            self._policy_row(row)
        if self.bad:
            return None
        if self.otherwise is None and not self._covers_every_key():
            return None
        columns = tuple((c.name, t) for c, t in zip(d.columns, value_types))
        indexes = tuple(self._index(k, c.name) for k, c in enumerate(d.columns))
        return CheckedTable(d.name, tuple(key_types), columns, indexes, self.path, self.digest,
                            len(self.rows), span=d.span)

    def _index(self, k: int, column: str | None) -> ir.TableIndex:
        single = len(self.key_types) == 1
        rows = {(keys[0] if single else keys): cells[k] for keys, cells in self.rows.items()}
        if self.otherwise is None:
            return ir.TableIndex(self.d.name, column, rows)
        return ir.TableIndex(self.d.name, column, rows, self.otherwise[k], has_otherwise=True)

    # ---- rows written in the policy -----------------------------------------------------------

    def _policy_row(self, row: ast.TableRow) -> None:
        if not self._row_shape(row.keys, row.cells, row.span):
            return
        cells = [self._policy_cell(c, t) for c, t in zip(row.cells, self.value_types)]
        if row.keys is None:
            if self.otherwise is not None:
                self.error("RPL072", f"table `{self.d.name}` has two `otherwise` rows", row.span, "keep one")
                self.bad = True
            elif None not in cells:
                self.otherwise = tuple(cells)
            return
        keys = [self._policy_key(k, t) for k, t in zip(row.keys, self.key_types)]
        if None in keys or None in cells:
            self.bad = True
            return
        self._add(tuple(keys), tuple(cells), row.span)

    def _row_shape(self, keys, cells, span) -> bool:
        want_keys, want_cells = len(self.key_types), len(self.value_types)
        if keys is not None and len(keys) != want_keys:
            self.error("RPL071", f"this row has {len(keys)} key{'s' * (len(keys) != 1)}, but table "
                       f"`{self.d.name}` is looked up by {want_keys}", span, self._row_example())
        elif len(cells) != want_cells:
            self.error("RPL071", f"this row has {len(cells)} value{'s' * (len(cells) != 1)}, but table "
                       f"`{self.d.name}` has {want_cells}", span, self._row_example())
        else:
            return True
        self.bad = True
        return False

    def _row_example(self) -> str:
        keys = ", ".join(t.members[0] if isinstance(t, T.EnumType) else '"key"' for t in self.key_types)
        cells = ", ".join(_example_value(t) for t in self.value_types)
        return f"write each row as `{keys}: {cells}`"

    def _policy_key(self, e: ast.Expr, type_: T.Type):
        return self._policy_cell(e, type_, what="key")

    def _policy_cell(self, e: ast.Expr, type_: T.Type, what: str = "value"):
        if isinstance(type_, T.EnumType):
            if isinstance(e, ast.Name) and e.name in type_.members:
                return e.name
            written = e.name if isinstance(e, ast.Name) else e.span.text if e.span else "this"
            self.error("RPL071", f"`{written}` is not a {type_.name} value", e.span,
                       f"{type_.name} values: {', '.join(type_.members)}")
            return None
        if isinstance(e, ast.Literal) and _LITERAL_TYPES[e.kind] == type_:
            return e.value
        got = (_LITERAL_TYPES[e.kind].describe() if isinstance(e, ast.Literal)
               else f"the name `{e.name}`")
        self.error("RPL071", f"a {what} of table `{self.d.name}` must be {type_.describe()}, but this is {got}",
                   e.span, f"write {_WRITTEN.get(type_, type_.describe())}"
                   + ('; quote a text: `"..."`' if type_ == T.TEXT and isinstance(e, ast.Name) else ""))
        return None

    def _add(self, keys: tuple, cells: tuple, span: Span | None) -> None:
        if keys in self.rows:
            first = self.row_spans[keys]
            shown = ", ".join(show(k, t) for k, t in zip(keys, self.key_types))
            where = f" (the first is at {first.location()})" if first is not None else ""
            self.error("RPL072", f"table `{self.d.name}` has two rows for {shown}", span,
                       f"keep one of them{where}")
            self.bad = True
            return
        self.rows[keys] = tuple(self.shared.setdefault((type(c), str(c)), c) for c in cells)
        self.row_spans[keys] = span

    def _covers_every_key(self) -> bool:
        d = self.d
        text = [t for t in self.key_types if not isinstance(t, T.EnumType)]
        if text:
            self.error("RPL073", f"table `{d.name}` needs an `otherwise` row", d.span,
                       "a table looked up by text cannot list every text: add `otherwise: ...` "
                       "for the keys no row names")
            return False
        missing = [keys for keys in itertools.product(*(t.members for t in self.key_types))
                   if keys not in self.rows]
        if not missing:
            return True
        shown = "; ".join(", ".join(keys) for keys in missing[:_MAX_MISSING_SHOWN])
        more = f" and {len(missing) - _MAX_MISSING_SHOWN} more" if len(missing) > _MAX_MISSING_SHOWN else ""
        self.error("RPL073", f"table `{d.name}` has no row for {shown}{more}", d.span,
                   f"add a row for {'it' if len(missing) == 1 else 'each'}, like "
                   f"`{', '.join(missing[0])}: {', '.join(_example_value(t) for t in self.value_types)}`, "
                   "or `otherwise: ...` for every key no row names")
        return False

    # ---- rows read from a CSV file ------------------------------------------------------------

    def _source_span(self) -> Span | None:
        span = self.d.span
        if span is None:
            return None
        at = span.text.find('"' + self.d.source)
        return Span(span.source, span.start + at, span.start + at + len(self.d.source) + 2) if at >= 0 else span

    def _read_csv(self, relative: str) -> None:
        if not _inside(relative):
            self.error("RPL076", f"`{relative}` is not a CSV file beside the policy", self._source_span(),
                       "name a `.csv` file in the policy's folder or a folder below it, like `\"tables/fees.csv\"`")
            self.bad = True
            return
        path = csv_path(self.policy_file, relative)
        self.path = str(path)
        if path.exists() and not _a_file_inside(path, csv_path(self.policy_file, ".")):
            self.error("RPL076", f"`{relative}` is not a CSV file beside the policy: it is a link to a place "
                       "outside the policy's folder, or not a file", self._source_span(),
                       "copy the CSV file into the policy's folder")
            self.bad = True
            return
        try:
            data = path.read_bytes()
            if len(data) > _MAX_CSV_BYTES:
                raise ValueError(f"it is larger than {_MAX_CSV_BYTES // (1024 * 1024)} MB")
            text = data.decode("utf-8-sig")
        except OSError as error:
            self.error("RPL076", f"cannot read the table's file `{relative}`: {error.strerror or error}",
                       self._source_span(), "the path is relative to the policy's file")
            self.bad = True
            return
        except (UnicodeDecodeError, ValueError) as error:
            reason = "it is not UTF-8 text" if isinstance(error, UnicodeDecodeError) else str(error)
            self.error("RPL076", f"cannot read the table's file `{relative}`: {reason}", self._source_span(),
                       "save it as a UTF-8 CSV file" if isinstance(error, UnicodeDecodeError)
                       else "split the table, or keep its rows in the policy")
            self.bad = True
            return
        self.digest = hashlib.sha256(data).hexdigest()
        source = Source(self.path, text)
        try:
            records = _records(text)
        except csv.Error as error:  # a cell longer than the csv module takes, say
            self.error("RPL076", f"cannot read the table's file `{relative}`: {error}", self._source_span(),
                       "check the file's quotes: a quoted cell ends with a quote")
            self.bad = True
            return
        if not records:
            self.error("RPL076", f"the table's file `{relative}` is empty", self._source_span(),
                       "its first line names the columns: the keys, then the values")
            self.bad = True
            return
        self._header(source, records[0])
        for start, end, line_cells in records[1:]:
            self._csv_row(source, start, end, line_cells)

    def _header(self, source: Source, record) -> None:
        start, end, cells = record
        names = [c.name for c in self.d.columns]
        want = len(self.key_types) + len(names)
        header = [text.strip() for text, _ in cells]
        span = Span(source, start, end)
        example = ", ".join(["key"] * len(self.key_types) + [n or "value" for n in names])
        if len(header) != want:
            self.error("RPL076", f"the header has {len(header)} columns, but table `{self.d.name}` has {want}",
                       span, f"name the keys, then the values: `{example}`")
            self.bad = True
            return
        for (text, offset), name in zip(cells[len(self.key_types):], names):
            if name is not None and text.strip() != name:
                self.error("RPL076", f"this column is `{text.strip()}`, but table `{self.d.name}` names it `{name}`",
                           Span(source, offset, offset + len(text)), f"the columns are, in order: `{example}`")
                self.bad = True

    def _csv_row(self, source: Source, start: int, end: int, cells: list) -> None:
        if all(not text.strip() for text, _ in cells):
            return  # a blank line
        span = Span(source, start, end)
        nkeys = len(self.key_types)
        if len(cells) != nkeys + len(self.value_types):
            self.error("RPL071", f"this row has {len(cells)} cells, but table `{self.d.name}` has "
                       f"{nkeys + len(self.value_types)} columns", span, self._row_example().replace(": ", ", "))
            self.bad = True
            return
        values = [self._csv_cell(source, text, offset, t, "key" if k < nkeys else "value")
                  for k, ((text, offset), t) in enumerate(zip(cells, self.key_types + self.value_types))]
        if any(v is _BAD for v in values):
            self.bad = True
            return
        self._add(tuple(values[:nkeys]), tuple(values[nkeys:]), span)

    def _csv_cell(self, source: Source, text: str, offset: int, type_: T.Type, what: str):
        value = read_cell(text.strip(), type_)
        if value is not _BAD and _plainly_within_limits(text, value, type_):
            return value
        span = Span(source, offset, offset + max(1, len(text)))
        if value is not _BAD:
            kind = _LIMITED[type_]
            written = f"{value} days" if type_ == T.DAYS else text.strip()
            beyond = limits.check_literal(source, "DECIMAL" if "." in written and kind == "INT" else kind,
                                          written, span.start, span.end)
            if beyond is None:
                return value
            self.checker.errors.append(beyond)
            return _BAD
        if isinstance(type_, T.EnumType):
            self.error("RPL071", f"`{text.strip()}` is not a {type_.name} value", span,
                       f"{type_.name} values: {', '.join(type_.members)}")
        else:
            self.error("RPL071", f"a {what} of table `{self.d.name}` must be {type_.describe()}, "
                       f"but this is `{text.strip()}`", span, f"write {_WRITTEN.get(type_, type_.describe())}")
        return _BAD


_BAD = object()
# The grammar's terminal whose limits (rplang.policy_lang.limits) a cell of the type is held to.
_LIMITED = {T.MONEY: "INT", T.PERCENT: "PERCENT", T.DAYS: "DURATION", T.INTEGER: "INT", T.DATE: "DATE"}
_MONEY = re.compile(r"-?[0-9]+(\.[0-9]{1,2})?")
_PERCENT = re.compile(r"[0-9]+(\.[0-9]+)?%")
_DAYS = re.compile(r"([0-9]+)( days?)?")
_INTEGER = re.compile(r"-?[0-9]+")


def _plainly_within_limits(text: str, value, type_: T.Type) -> bool:
    """A value that cannot be beyond the limits of `rplang.policy_lang.limits` (most cells: the
    limits' own check builds a token and a span for each, a third of reading a large file)."""
    if type_ not in _LIMITED:
        return True
    if type_ == T.DAYS:
        return value <= limits.MAX_DAYS
    if type_ == T.DATE:
        return limits.MIN_DATE <= value <= limits.MAX_DATE
    if type_ == T.PERCENT:
        return len(text) <= 8 and value <= limits.MAX_PERCENT
    return len(text) <= 9  # money, whole numbers: at most 9 characters, far from 15 digits


def read_cell(text: str, type_: T.Type):
    """A CSV cell's value as a value of the type, or `_BAD`."""
    if isinstance(type_, T.EnumType):
        return text if text in type_.members else _BAD
    if type_ == T.TEXT:
        return text
    if type_ == T.MONEY and _MONEY.fullmatch(text):
        return Decimal(text)
    if type_ == T.PERCENT and _PERCENT.fullmatch(text):
        return Decimal(text[:-1])
    if type_ == T.DAYS:
        found = _DAYS.fullmatch(text)
        if found and (found.group(2) is None or (found.group(2) == " day") == (found.group(1) == "1")):
            return int(found.group(1))
    if type_ == T.INTEGER and _INTEGER.fullmatch(text):
        return int(text)
    if type_ == T.BOOLEAN and text in ("true", "false", "yes", "no"):
        return text in ("true", "yes")
    if type_ == T.DATE:
        try:
            return datetime.date.fromisoformat(text) if len(text) == 10 else _BAD
        except ValueError:
            return _BAD
    return _BAD


def csv_path(policy_file: str, relative: str) -> Path:
    """Where a table's CSV file is: beside the policy's file (the current folder for a text with no file)."""
    base = Path(policy_file).parent if policy_file and not policy_file.startswith("<") else Path(".")
    return base / relative


def _a_file_inside(path: Path, folder: Path) -> bool:
    """A regular file (a pipe or a device would hang the read) whose real place, links followed,
    is in the folder or below it."""
    try:
        return path.is_file() and path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a loop of links
        return False


def _inside(relative: str) -> bool:
    """A CSV file in the policy's folder or below it: a policy text (the workbench's, say) may
    not read the machine's other files through a table."""
    parts = relative.replace("\\", "/").split("/")
    return (relative.endswith(".csv") and not relative.startswith(("/", "\\")) and ":" not in relative
            and ".." not in parts and "" not in parts)


def _records(text: str) -> list[tuple[int, int, list[tuple[str, int]]]]:
    """The CSV's records, each (offset of its first character, of its end, [(cell, offset of the
    cell)]), read by the stdlib csv module; offsets are those of the cells as written (quoted
    cells are found again in the record's text). Lines end at "\\n", as the csv module and
    `Span` count them."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    if starts[-1] < len(text):
        starts.append(len(text))
    reader = csv.reader(io.StringIO(text))
    out, line = [], 0
    for cells in reader:
        start = starts[line]
        line = reader.line_num
        raw = text[start:starts[min(line, len(starts) - 1)]]
        out.append((start, start + len(raw.rstrip("\r\n")), _cell_offsets(raw, start, cells)))
    return out


def _cell_offsets(raw: str, start: int, cells: list[str]) -> list[tuple[str, int]]:
    out, at = [], 0
    for cell in cells:
        found = raw.find(cell, at) if cell else at
        if found < 0:
            found = at
        quoted = found > 0 and raw[found - 1] == '"'
        if quoted:
            found -= 1  # point at the opening quote
        out.append((cell, start + found))
        at = found + len(cell) + (2 if quoted else 0)
        comma = raw.find(",", at)
        at = comma + 1 if comma >= 0 else at
    return out


def _example_value(t: T.Type) -> str:
    if isinstance(t, T.EnumType):
        return t.members[0]
    return {T.MONEY: "0.00", T.PERCENT: "0%", T.DAYS: "14 days", T.INTEGER: "0", T.BOOLEAN: "false",
            T.DATE: "2026-01-01", T.TEXT: '"..."'}.get(t, "...")
