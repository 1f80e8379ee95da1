"""Random well-typed policies, and valid requests for them, from a small typed grammar of rpl.

The policies are TEXT, so the parser and the checker are exercised too. One generator serves two
drivers: hypothesis in the test suite (every choice is a draw, so failures shrink) and a seeded
`random.Random` in benchmarks/fuzz.py for long runs. Choices are ordered simplest first, so that
shrinking goes toward small policies.

Names and texts are sometimes hostile (Python keywords, the names of the generated code's own
variables, quotes and code in texts): they must be inert.

Patterns the runtime still gets wrong are left out while their bugs are open; each is listed in
AVOID, with the xfail test that reproduces it (tests/robustness/test_known_bugs.py).
"""
from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field

from rplang.policy_lang.ast import MONTHS as MONTH_NAMES
from rplang.policy_lang.ast import WEEKDAYS as WEEKDAY_NAMES

# Bugs whose patterns the generator leaves out while they are open (see test_known_bugs.py);
# False once fixed, so that the fuzzers look for them again.
AVOID = {
    # `min of` / `max of` an empty list raised ValueError, not an rpl error (fixed): guard them
    "unguarded_min_max_of": False,
    # a `when flag` field of the request or of a record reached by a path loses its condition
    "when_on_paths": False,
    # `is empty` on an optional list passes the checker and fails on an absent one
    "empty_on_optional_list": False,
    # a let computed early (codegen) raises though no rule needs it: no `n * 14 days` in a let,
    # no dates at the end of the calendar
    "eager_overflow": False,
    # `overrides` between rules over lists of plain values compares them by identity
    "plain_overrides": False,
    # a let reading a `when` field by a path (`order.fee`) is computed early, and fails a
    # decision that does not need it when the fact is not true
    "eager_when_paths": True,
}
# Bugs of explanations: left out of the policies made to be explained (`explainable`) while open.
AVOID_IN_EXPLAINED = {
    # a rule for each element of a list of plain values (not records) cannot be explained
    "plain_elements": False,
    # explaining `a and b` evaluates b even where a is false (`q is given and q > 1.00`)
    "guarded_operands": False,
}

# ---- Drawing -------------------------------------------------------------------------------------


class Chooser:
    """Every random choice the generator makes, as `below(n)` (0 is the simplest)."""

    def below(self, n: int) -> int:
        raise NotImplementedError

    def choice(self, seq):
        return seq[self.below(len(seq))]

    def chance(self, p: float) -> bool:
        return self.below(1000) >= 1000 - int(p * 1000)  # 0 (the simplest) means no

    def between(self, lo: int, hi: int) -> int:
        return lo + self.below(hi - lo + 1)


class RandomChooser(Chooser):
    def __init__(self, rng: random.Random):
        self.rng = rng

    def below(self, n: int) -> int:
        return self.rng.randrange(n)


class DataChooser(Chooser):
    """Draws from hypothesis's `st.data()`, so that a failing case shrinks."""

    def __init__(self, data):
        from hypothesis import strategies as st

        self.data, self.st = data, st

    def below(self, n: int) -> int:
        return self.data.draw(self.st.integers(0, n - 1)) if n > 1 else 0


# ---- Names and texts ----------------------------------------------------------------------------

# Words of rpl itself, which cannot be names.
RPL_WORDS = frozenset("""
    policy version currency calendar clause parameter enum record request let outcomes rule output
    example expect rules with null optional list of date range when for each in cites then because
    overrides add to subtract from set note total at least if else or and not is given empty
    through true false sum count min max any every no where days day business all other
    money integer boolean text percent
""".split())

# Names that mean something to Python or to the generated code: in a policy they must be inert.
HOSTILE_NAMES = (
    "None", "True", "False", "lambda", "import", "class", "def", "exec", "eval", "open", "os",
    "sys", "__import__", "__builtins__", "__class__", "__dict__", "__init__", "__globals__", "K",
    "R", "V", "e", "env", "applying", "CENT", "HALF_UP", "HUNDRED", "ZERO", "_business", "_days",
    "_unknown", "_rule_index", "len", "v1", "x1", "e1", "rule_0", "find_applying", "self", "print",
    "breakpoint", "return", "yield", "await", "raise", "pass", "del", "global", "getattr",
)

# Texts built to break out of quotes or to look like code.
HOSTILE_TEXTS = (
    "'); import os; os.system('touch PWNED') #",
    '"); __import__("os").system("touch PWNED"); ("',
    "\\\"; exec('1') #",
    "{0} %s %(x)s {__class__}",
    "${HOME} `id` $(id)",
    "line\\nbreak\\ttab",
    "ünïcødé ☃ 日本",
    "\\\\ back \\\\ slashes \\\\",
    "''' triple \"\"\" quotes",
    "</script><script>alert(1)</script>",
)
PLAIN_TEXTS = ("A", "B", "SKU-1", "SKU-2", "gift", "")


def rpl_string(text: str) -> str:
    """`text` as an rpl quoted text: backslashes and quotes escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Names:
    """Fresh names: plain ones, and now and then one from HOSTILE_NAMES; never two the same."""

    def __init__(self, c: Chooser, hostile: bool):
        self.c, self.hostile, self.used = c, hostile, set()
        self.count = 0

    def fresh(self, prefix: str) -> str:
        if self.hostile and self.c.chance(0.25):
            name = self.c.choice(HOSTILE_NAMES)
            if name not in self.used and name not in RPL_WORDS:
                self.used.add(name)
                return name
        self.count += 1
        name = f"{prefix}{self.count}"
        self.used.add(name)
        return name


# ---- Types -------------------------------------------------------------------------------------

DATE, MONEY, INTEGER, BOOLEAN, TEXT, PERCENT, DAYS, BDAYS = (
    "date", "money", "integer", "boolean", "text", "percent", "days", "bdays")
RANGE = "range"
ORDERED = (MONEY, INTEGER, DATE, DAYS, PERCENT)


def enum(name):
    return ("enum", name)


def list_of(t):
    return ("list", t)


def record(name):
    return ("record", name)


def is_list(t):
    return isinstance(t, tuple) and t[0] == "list"


def is_enum(t):
    return isinstance(t, tuple) and t[0] == "enum"


def is_record(t):
    return isinstance(t, tuple) and t[0] == "record"


@dataclass
class Field:
    name: str
    type: object
    optional: bool = False
    when: str | None = None  # a boolean field of the same record
    default: str | None = None  # rpl text

    def type_text(self) -> str:
        return ("optional " if self.optional else "") + type_text(self.type)


def type_text(t) -> str:
    if is_list(t):
        return "list of " + type_text(t[1])
    if isinstance(t, tuple):
        return t[1]
    return {RANGE: "date range"}.get(t, t)


@dataclass
class Access:
    """A value an expression can read: its text, type, whether it may be absent, and whether it
    is a field known only `when` a fact is true (then `guard` is that fact)."""
    text: str
    type: object
    optional: bool = False
    guard: str | None = None


@dataclass
class Schema:
    enums: dict = field(default_factory=dict)  # name -> members
    records: dict = field(default_factory=dict)  # name -> [Field]
    request: list = field(default_factory=list)


# ---- Policies ----------------------------------------------------------------------------------

@dataclass
class Policy:
    text: str
    schema: Schema
    field_names: frozenset  # every field of the request and of its records


class PolicyGen:
    def __init__(self, c: Chooser, hostile: bool = True, explainable: bool = False):
        self.c = c
        self.avoid = {k for k, v in AVOID_IN_EXPLAINED.items() if v and explainable}
        self.names = Names(c, hostile)
        self.hostile = hostile
        self.schema = Schema()
        self.params: list[Access] = []
        self.lets: list[Access] = []
        self.scope: list[Access] = []  # bound variables, innermost last
        self.outcomes: list[str] = []
        self.items_source = None  # (list type, request field) when outcomes are decided per item
        self.totals: list[str] = []
        self.set_outputs: list[tuple[str, object]] = []
        self.rule_names: list[str] = []
        self.texts: list[str] = list(PLAIN_TEXTS)
        self.in_let = False
        self.plain_rules: set[str] = set()  # rules for each element of a list of plain values

    # schema ----------------------------------------------------------------------------------

    def text_value(self) -> str:
        pool = self.texts + (list(HOSTILE_TEXTS) if self.hostile else [])
        return self.c.choice(pool)

    def build_schema(self) -> None:
        c, s = self.c, self.schema
        for _ in range(c.between(1, 3)):
            members = [self.names.fresh("m") for _ in range(c.between(2, 4))]
            s.enums[self.names.fresh("E")] = members
        enums = list(s.enums)
        scalar = [DATE, MONEY, INTEGER, BOOLEAN, TEXT, PERCENT]

        # the record of a list, like an item: a flag, and fields known only when it is true
        item = self.names.fresh("Item")
        flag = self.names.fresh("flag")
        fields = [Field(flag, BOOLEAN)]
        for _ in range(c.between(2, 6)):
            t = c.choice(scalar + [enum(e) for e in enums] + [list_of(enum(c.choice(enums)))])
            f = Field(self.names.fresh("f"), t)
            r = c.below(6)
            if r == 1:
                f.optional = True
            elif r == 2:
                f.when = flag
            elif r == 3 and t in (MONEY, INTEGER, BOOLEAN) or r == 3 and is_enum(t):
                f.default = self.default_text(t)
            fields.append(f)
        s.records[item] = fields

        request = [Field(self.names.fresh("items"), list_of(record(item)))]
        for _ in range(c.between(2, 6)):
            t = c.choice(scalar + [enum(e) for e in enums] + [list_of(TEXT)])
            f = Field(self.names.fresh("q"), t)
            r = c.below(5)
            if r == 1:
                f.optional = True
            elif r == 2 and (t in (MONEY, INTEGER, BOOLEAN) or is_enum(t)):
                f.default = self.default_text(t)
            request.append(f)
        if c.chance(0.5):  # a record reached by a path: `order.placed`
            nested = self.names.fresh("Order")
            s.records[nested] = [Field(self.names.fresh("g"), c.choice(scalar + [enum(e) for e in enums]))
                                 for _ in range(c.between(1, 3))]
            if not AVOID["when_on_paths"] and c.chance(0.5):
                s.records[nested].insert(0, Field(self.names.fresh("known"), BOOLEAN))
                s.records[nested][-1].when = s.records[nested][0].name
            request.append(Field(self.names.fresh("order"), record(nested), optional=c.chance(0.3)))
        if c.chance(0.3):  # a list of plain values, to run a rule for each of them
            request.append(Field(self.names.fresh("tags"), list_of(enum(c.choice(enums)))))
        s.request = request

    def default_text(self, t) -> str:
        if t == MONEY:
            return self.c.choice(("0.00", "5.00"))
        if t == INTEGER:
            return self.c.choice(("0", "1"))
        if t == BOOLEAN:
            return self.c.choice(("false", "true"))
        return self.c.choice(self.schema.enums[t[1]])

    # what expressions can read ----------------------------------------------------------------

    def accesses(self) -> list[Access]:
        found: list[Access] = []
        for f in self.schema.request:
            if is_record(f.type):
                if f.optional:
                    found.append(Access(f.name, f.type, optional=True))
                    continue
                for g in self.schema.records[f.type[1]]:
                    guard = f"{f.name}.{g.when}" if g.when else None
                    found.append(Access(f"{f.name}.{g.name}", g.type, g.optional, guard))
            else:
                found.append(Access(f.name, f.type, f.optional))
        found += self.params + self.lets
        for var in self.scope:
            if is_record(var.type):
                for g in self.schema.records[var.type[1]]:
                    guard = f"{var.text}.{g.when}" if g.when else None
                    found.append(Access(f"{var.text}.{g.name}", g.type, g.optional, guard))
            else:
                found.append(var)
        return found

    def readable(self, t, optional=False) -> list[Access]:
        return [a for a in self.accesses() if a.type == t and a.optional == optional]

    # expressions ----------------------------------------------------------------------------

    def expr(self, t, depth: int) -> str:
        if depth <= 0 or self.c.chance(0.25):
            return self.leaf(t, depth)
        maker = {BOOLEAN: self.boolean, MONEY: self.money, INTEGER: self.integer, DATE: self.date,
                 DAYS: self.days, BDAYS: self.bdays, PERCENT: self.percent, TEXT: self.text,
                 RANGE: self.range_}.get(t)
        if maker is not None:
            return maker(depth - 1)
        if is_enum(t):
            return self.enum_value(t, depth - 1)
        if is_list(t):
            return self.list_value(t, depth - 1)
        raise ValueError(t)

    def leaf(self, t, depth: int) -> str:
        c = self.c
        readable = self.readable(t)
        guarded = [a for a in readable if a.guard]
        plain = [a for a in readable if not a.guard]
        if plain and c.chance(0.6):
            return c.choice(plain).text
        if guarded and c.chance(0.5):
            a = c.choice(guarded)
            if c.chance(0.2) and not (self.in_let and AVOID["eager_when_paths"]):
                return a.text  # unguarded: an error when the fact is not true, in both runtimes
            if t == BOOLEAN and "guarded_operands" not in self.avoid:
                return f"({a.guard} and {a.text})"
            if t == BOOLEAN:
                return f"(if {a.guard} then {a.text} else false)"
            return f"(if {a.guard} then {a.text} else {self.literal(t)})"
        optional = self.readable(t, optional=True)
        if optional and c.chance(0.4):
            a = c.choice(optional)
            fallback = self.literal(t)
            return f"(if {a.text} is given then {a.text} else {fallback})"
        return self.literal(t)

    def literal(self, t) -> str:
        c = self.c
        if t == BOOLEAN:
            return c.choice(("true", "false"))
        if t == MONEY:
            return c.choice(("0.00", "1.00", "12.50", "0.01", "99.99", "1890.00", "0.005",
                             "999999999999.99"))
        if t == INTEGER:
            return c.choice(("0", "1", "2", "3", "10", "100", "999999999999999"))
        if t == DATE:
            year = c.choice((2026, 2025, 2027, 2024, 2028))
            day = datetime.date(year, 1, 1) + datetime.timedelta(days=c.below(366))
            return day.isoformat()
        if t == DAYS:
            n = c.choice((14, 0, 1, 7, 30, 365))
            return f"{n} {'day' if n == 1 else 'days'}"
        if t == BDAYS:
            n = c.choice((10, 0, 1, 5, 20))
            return f"{n} business {'day' if n == 1 else 'days'}"
        if t == PERCENT:
            return c.choice(("15%", "0%", "100%", "12.5%", "33.3333%"))
        if t == TEXT:
            return rpl_string(self.text_value())
        if is_enum(t):
            return c.choice(self.schema.enums[t[1]])
        if t == RANGE:
            return f"({self.literal(DATE)} through {self.literal(DATE)})"
        if is_list(t):
            return self.list_value(t, 0)
        raise ValueError(t)

    def compare_type(self):
        enums = [enum(e) for e in self.schema.enums]
        return self.c.choice(list(ORDERED) + [BOOLEAN, TEXT] + enums)

    def boolean(self, d: int) -> str:
        c = self.c
        k = c.below(14)
        if k == 0:
            t = c.choice(ORDERED)
            return f"({self.expr(t, d)} {c.choice(('<', '<=', '>', '>='))} {self.expr(t, d)})"
        if k == 1:
            t = self.compare_type()
            return f"({self.expr(t, d)} {c.choice(('is', 'is not'))} {self.expr(t, d)})"
        if k == 2:
            return "(" + f" {c.choice(('and', 'or'))} ".join(
                self.expr(BOOLEAN, d) for _ in range(c.between(2, 3))) + ")"
        if k == 3:
            return f"(not {self.expr(BOOLEAN, d)})"
        if k == 4:  # membership in a set of enum values
            e = c.choice(list(self.schema.enums))
            members = self.schema.enums[e]
            chosen = sorted({c.choice(members) for _ in range(c.between(1, 3))}, key=members.index)
            subject = self.optional_or(enum(e), d)
            return f"({subject} {c.choice(('in', 'not in'))} {{{', '.join(chosen)}}})"
        if k == 5:  # `is given`
            options = [a for a in self.accesses() if a.optional or a.guard]
            if options:
                a = c.choice(options)
                return f"({a.text} {c.choice(('is given', 'is not given'))})"
            return self.expr(BOOLEAN, d)
        if k == 6:  # `is empty`
            t = c.choice([list_of(TEXT), list_of(MONEY)] + self.record_lists() + self.enum_lists())
            subject = self.expr(t, d)
            if not AVOID["empty_on_optional_list"] and self.readable(t, optional=True):
                subject = c.choice(self.readable(t, optional=True)).text
            return f"({subject} {c.choice(('is empty', 'is not empty'))})"
        if k == 7:
            return self.quantifier(d)
        if k == 8:
            return f"(if {self.expr(BOOLEAN, d)} then {self.expr(BOOLEAN, d)} else {self.expr(BOOLEAN, d)})"
        if k == 9:  # an optional value compared once it is known to be given, in one `and`
            t = c.choice(ORDERED)
            options = self.readable(t, optional=True)
            if options and "guarded_operands" not in self.avoid:
                a = c.choice(options)
                return f"(({a.text} is given) and ({a.text} {c.choice(('<', '>='))} {self.expr(t, d)}))"
            return self.expr(BOOLEAN, d)
        if k == 10:  # an optional value compared with `is`, given or not
            t = self.compare_type()
            options = self.readable(t, optional=True)
            if options:
                return f"({c.choice(options).text} {c.choice(('is', 'is not'))} {self.expr(t, d)})"
            return self.expr(BOOLEAN, d)
        if k == 11:  # a text in a list of texts, or in a set of texts
            if c.chance(0.5):
                texts = sorted({rpl_string(self.text_value()) for _ in range(c.between(1, 3))})
                return f"({self.expr(TEXT, d)} {c.choice(('in', 'not in'))} {{{', '.join(texts)}}})"
            return f"({self.expr(TEXT, d)} {c.choice(('in', 'not in'))} {self.expr(list_of(TEXT), d)})"
        if k == 12:  # a month, a weekday, a yearly range
            return self.date_test(d)
        return self.leaf(BOOLEAN, d)

    def date_test(self, d: int) -> str:
        c = self.c
        k = c.below(3)
        if k == 0:
            months = sorted({c.below(12) for _ in range(c.between(1, 3))})
            return f"(month of {self.expr(DATE, d)} in {{{', '.join(MONTH_NAMES[m] for m in months)}}})"
        if k == 1:
            return f"(weekday of {self.expr(DATE, d)} {c.choice(('is', 'is not'))} {c.choice(WEEKDAY_NAMES)})"
        first, last = (self.month_day() for _ in range(2))
        return f"({self.expr(DATE, d)} {c.choice(('in', 'not in'))} {first} through {last})"

    def month_day(self) -> str:
        month = self.c.below(12)
        return f"{MONTH_NAMES[month]} {self.c.between(1, 28 if month == 1 else 30)}"

    def optional_or(self, t, d: int) -> str:
        options = self.readable(t, optional=True)
        if options and self.c.chance(0.3):
            return self.c.choice(options).text
        return self.expr(t, d)

    def record_lists(self) -> list:
        return [list_of(record(r)) for r in self.schema.records
                if any(f.type == list_of(record(r)) for f in self.schema.request)]

    def enum_lists(self) -> list:
        return [list_of(enum(e)) for e in self.schema.enums]

    def bind(self, element_type) -> Access:
        var = Access(self.names.fresh("x"), element_type)
        self.scope.append(var)
        return var

    def quantifier(self, d: int) -> str:
        c = self.c
        lists = self.record_lists() + self.enum_lists() + [list_of(TEXT)]
        t = c.choice(lists)
        source = self.expr(t, d)
        var = self.bind(t[1])
        try:
            condition = self.expr(BOOLEAN, d)
        finally:
            self.scope.pop()
        return f"({c.choice(('any', 'every', 'no'))} {var.text} in {source} where {condition})"

    def list_value(self, t, d: int) -> str:
        """A list: a field, a filter of one, or a mapping of a list of records."""
        c = self.c
        element = t[1]
        readable = self.readable(t)
        if d <= 0 or c.chance(0.3):
            if readable:
                return c.choice(readable).text
        records = self.record_lists()
        k = c.below(3)
        if k == 0 and (readable or is_record(element)):
            source = c.choice(readable).text if readable else self.expr(t, 0)
            var = self.bind(element)
            try:
                where = self.expr(BOOLEAN, d)
            finally:
                self.scope.pop()
            return f"(each {var.text} in {source} where {where})"
        if records and not is_record(element):
            rl = c.choice(records)
            source = self.expr(rl, d)
            var = self.bind(rl[1])
            try:
                value = self.expr(element, d)
                where = f" where {self.expr(BOOLEAN, d)}" if c.chance(0.5) else ""
            finally:
                self.scope.pop()
            return f"({value} for each {var.text} in {source}{where})"
        if readable:
            return c.choice(readable).text
        # a record list with nothing to read it from: the request's own list
        return next(f.name for f in self.schema.request if f.type == t)

    def aggregate(self, function: str, element, d: int) -> str:
        c = self.c
        records = self.record_lists()
        rl = c.choice(records)
        source = self.expr(rl, d)
        var = self.bind(rl[1])
        try:
            value = self.expr(element, d)
            where = f" where {self.expr(BOOLEAN, d)}" if c.chance(0.5) else ""
        finally:
            self.scope.pop()
        mapping = f"({value} for each {var.text} in {source}{where})"
        if function in ("min", "max") and (AVOID["unguarded_min_max_of"] or c.chance(0.5)):
            return f"(if {mapping} is not empty then {function} of {mapping} else {self.literal(element)})"
        return f"({function} of {mapping})"

    def money(self, d: int) -> str:
        c = self.c
        k = c.below(11)
        if k == 0:
            return f"({self.expr(MONEY, d)} {c.choice(('+', '-'))} {self.expr(MONEY, d)})"
        if k == 1:
            return f"round({self.expr(MONEY, d)} * {self.expr(PERCENT, d)})"
        if k == 2:
            return f"round({self.expr(MONEY, d)} / {c.choice(('3', '1', '7', '0'))})"
        if k == 3:
            return f"({self.expr(MONEY, d)} * {self.expr(INTEGER, d)})"
        if k == 4:
            return f"(-{self.expr(MONEY, d)})"
        if k == 5:
            return f"{c.choice(('max', 'min'))}({self.expr(MONEY, d)}, {self.expr(MONEY, d)})"
        if k == 6:
            return self.aggregate(c.choice(("sum", "max", "min")), MONEY, d)
        if k == 7:
            return f"(if {self.expr(BOOLEAN, d)} then {self.expr(MONEY, d)} else {self.expr(MONEY, d)})"
        if k == 8:
            return f"round({self.expr(MONEY, d)} / {self.expr(PERCENT, d)})"
        if k == 9:
            return f"round({self.expr(PERCENT, d)} * {self.expr(MONEY, d)})"
        return self.leaf(MONEY, d)

    def integer(self, d: int) -> str:
        c = self.c
        k = c.below(9)
        if k == 0:
            return f"({self.expr(INTEGER, d)} {c.choice(('+', '-', '*'))} {self.expr(INTEGER, d)})"
        if k == 1:
            return f"(count of {self.expr(c.choice(self.record_lists() + [list_of(TEXT)]), d)})"
        if k == 2:
            return f"(days from {self.expr(DATE, d)} to {self.expr(DATE, d)})"
        if k == 3:
            return f"{c.choice(('max', 'min'))}({self.expr(INTEGER, d)}, {self.expr(INTEGER, d)})"
        if k == 4:
            return f"(-{self.expr(INTEGER, d)})"
        if k == 5:
            return self.aggregate(c.choice(("sum", "max", "min")), INTEGER, d)
        if k == 6:
            return f"(if {self.expr(BOOLEAN, d)} then {self.expr(INTEGER, d)} else {self.expr(INTEGER, d)})"
        if k == 7:
            return f"({c.choice(('year', 'day'))} of {self.expr(DATE, d)})"
        return self.leaf(INTEGER, d)

    def date(self, d: int) -> str:
        c = self.c
        k = c.below(8)
        if k == 0:
            return f"({self.expr(DATE, d)} {c.choice(('+', '-'))} {self.expr(DAYS, d)})"
        if k == 1:
            return f"({self.expr(DATE, d)} {c.choice(('+', '-'))} {self.expr(BDAYS, d)})"
        if k == 2:
            return f"({self.expr(DAYS, d)} + {self.expr(DATE, d)})"
        if k == 3:
            return f"{c.choice(('max', 'min'))}({self.expr(DATE, d)}, {self.expr(DATE, d)})"
        if k == 4:
            return f"(if {self.expr(BOOLEAN, d)} then {self.expr(DATE, d)} else {self.expr(DATE, d)})"
        if k == 5:
            return self.aggregate(c.choice(("max", "min")), DATE, d)
        if k == 6:
            return f"(end of month of {self.expr(DATE, d)})"
        return self.leaf(DATE, d)

    def days(self, d: int) -> str:
        c = self.c
        k = c.below(4)
        if k == 0:
            return f"({self.expr(DAYS, d)} {c.choice(('+', '-'))} {self.expr(DAYS, d)})"
        if k == 1 and not (self.in_let and AVOID["eager_overflow"]):
            return f"({self.expr(INTEGER, d)} * {self.expr(DAYS, d)})"
        if k == 2:
            return f"(if {self.expr(BOOLEAN, d)} then {self.expr(DAYS, d)} else {self.expr(DAYS, d)})"
        return self.leaf(DAYS, d)

    def bdays(self, d: int) -> str:
        if self.c.chance(0.4):
            return f"({self.expr(BDAYS, d)} {self.c.choice(('+', '-'))} {self.expr(BDAYS, d)})"
        return self.leaf(BDAYS, d)

    def percent(self, d: int) -> str:
        c = self.c
        k = c.below(3)
        if k == 0:
            return f"({self.expr(PERCENT, d)} {c.choice(('+', '-'))} {self.expr(PERCENT, d)})"
        if k == 1:
            return f"(if {self.expr(BOOLEAN, d)} then {self.expr(PERCENT, d)} else {self.expr(PERCENT, d)})"
        return self.leaf(PERCENT, d)

    def text(self, d: int) -> str:
        if self.c.chance(0.3):
            return f"(if {self.expr(BOOLEAN, d)} then {self.expr(TEXT, d)} else {self.expr(TEXT, d)})"
        return self.leaf(TEXT, d)

    def enum_value(self, t, d: int) -> str:
        if self.c.chance(0.3):
            return f"(if {self.expr(BOOLEAN, d)} then {self.expr(t, d)} else {self.expr(t, d)})"
        return self.leaf(t, d)

    def range_(self, d: int) -> str:
        return f"({self.expr(DATE, d)} through {self.expr(DATE, d)})"

    # declarations ---------------------------------------------------------------------------

    def policy(self) -> Policy:
        c = self.c
        self.build_schema()
        out: list[str] = []
        out.append(f"policy {rpl_string(self.text_value())}")
        out.append('version "1"')
        out.append("currency USD")
        if c.chance(0.5):
            out.append('calendar "US"')

        for name, members in self.schema.enums.items():
            out.append(f"enum {name}: {', '.join(members)}")
        for name, fields in self.schema.records.items():
            out.append(f"record {name}:")
            out += ["  " + self.field_text(f) for f in fields]
        out.append("request:")
        out += ["  " + self.field_text(f) for f in self.schema.request]

        for _ in range(c.below(4)):
            t, value = c.choice(((DAYS, None), (BDAYS, None), (PERCENT, None), (MONEY, None),
                                 (DATE, None), (INTEGER, None)))
            name = self.names.fresh("p")
            out.append(f"parameter {name} = {self.literal(t)}")
            self.params.append(Access(name, t))
        clauses = []
        for _ in range(c.below(3)):
            name = self.names.fresh("c")
            hole = f" {{{c.choice(self.params).text}}}" if self.params and c.chance(0.5) else ""
            out.append(f"clause {name}: {rpl_string(self.text_value().replace('{', '(').replace('}', ')') + hole)}")
            clauses.append(name)

        for _ in range(c.below(5)):
            t = c.choice((MONEY, INTEGER, DATE, BOOLEAN, PERCENT, DAYS)
                         + tuple(self.record_lists()) + (list_of(MONEY), list_of(TEXT)))
            name = self.names.fresh("v")
            self.in_let = True
            out.append(f"let {name} = {self.expr(t, c.between(1, 3))}")
            self.in_let = False
            self.lets.append(Access(name, t))

        if c.chance(0.9):
            self.outcomes = [self.names.fresh("o") for _ in range(c.between(1, 3))]
            overriding = c.below(len(self.outcomes) + 1)  # == len: none overrides all
            lists = self.record_lists()
            if lists and c.chance(0.3):  # outcomes decided per item (docs/per-item.md)
                t = c.choice(lists)
                field = next(f.name for f in self.schema.request if f.type == t)
                self.items_source = (t, field)
                item = self.names.fresh("x")
                out.append(f"outcomes for each {item} in {field}:")
            else:
                out.append("outcomes:")
            for k, o in enumerate(self.outcomes):
                tail = " overrides all other rules" if k == overriding else ""
                out.append(f"  {o} {rpl_string(self.text_value())}{tail}")
            if self.items_source is not None and c.chance(0.7):
                out += self.request_outcomes(item)

        outputs = []
        if self.outcomes and c.chance(0.9):
            outputs.append("output outcome")
        for _ in range(c.between(1, 2)):
            name = self.names.fresh("t")
            floor = c.choice(("", ", at least 0.00", ", at least 5.00"))
            outputs.append(f"output {name}: money total{floor}")
            self.totals.append(name)
        enums = [enum(e) for e in self.schema.enums]
        for _ in range(c.below(4)):
            name = self.names.fresh("s")
            t = c.choice([DATE, MONEY, INTEGER, BOOLEAN, TEXT, PERCENT, RANGE] + enums)
            if t in (INTEGER, BOOLEAN, MONEY) or is_enum(t) and c.chance(0.5):
                outputs.append(f"output {name}: {type_text(t)} = {self.default_text(t)}")
            else:
                outputs.append(f"output {name}: optional {type_text(t)}")
            self.set_outputs.append((name, t))

        self.rule_names = [self.names.fresh("r") for _ in range(c.between(1, 7))]
        for name in self.rule_names:
            out += self.rule(name, clauses)
        out += outputs
        text = "\n".join(out) + "\n"
        field_names = frozenset(f.name for f in self.schema.request) | frozenset(
            f.name for fields in self.schema.records.values() for f in fields)
        return Policy(text, self.schema, field_names)

    def field_text(self, f: Field) -> str:
        text = f"{f.name}: {f.type_text()}"
        if f.default is not None:
            text += f" = {f.default}"
        if f.when is not None:
            text += f" when {f.when}"
        if self.c.chance(0.2):
            text += " " + rpl_string(self.text_value())
        return text

    def rule(self, name: str, clauses: list[str]) -> list[str]:
        c = self.c
        lines = []
        head = f"rule {name}"
        lists = self.record_lists() + ([f.type for f in self.schema.request
                                        if is_list(f.type) and not is_record(f.type[1])]
                                       if "plain_elements" not in self.avoid else [])
        var = None
        if c.chance(0.6):
            t = c.choice(lists)
            if not is_record(t[1]):
                self.plain_rules.add(name)
            if self.items_source is not None and c.chance(0.5):  # a per-item rule
                t, source = self.items_source
            else:
                source = self.expr(t, c.below(2))
            var = self.bind(t[1])
            head += f" for each {var.text} in {source}"
        try:
            lines.append(head + ":")
            if clauses and c.chance(0.5):
                lines.append(f"  cites {c.choice(clauses)}")
            elif c.chance(0.5):
                lines.append(f"  cites {rpl_string(self.text_value())}")
            lines.append(f"  when {self.expr(BOOLEAN, c.between(1, 4))}")
            effects = []
            if self.outcomes and c.chance(0.7):
                effects.append(c.choice(self.outcomes))
            for _ in range(c.below(3)):
                k = c.below(3)
                if k == 0 and self.totals:
                    verb = c.choice(("add", "subtract"))
                    amount = self.expr(MONEY, c.between(0, 2))
                    total = c.choice(self.totals)
                    effects.append(f"add {amount} to {total}" if verb == "add"
                                   else f"subtract {amount} from {total}")
                elif k == 1 and self.set_outputs:
                    output, t = c.choice(self.set_outputs)
                    effects.append(f"set {output} to {self.expr(t, c.between(0, 2))}")
            if not effects:
                effects.append("note")
            lines.append("  then " + "\n       ".join(effects))
            if c.chance(0.5):
                lines.append(f"  because {self.template()}")
            others = [r for r in self.rule_names if r != name]
            if AVOID["plain_overrides"] and name in self.plain_rules:
                others = []
            if others and c.chance(0.25):
                lines.append(f"  overrides {', '.join(sorted({c.choice(others) for _ in range(c.between(1, 2))}))}")
        finally:
            if var is not None:
                self.scope.pop()
        return lines

    def request_outcomes(self, item: str) -> list[str]:
        """`request outcome:` lines testing the items' outcomes."""
        c = self.c
        lines = ["request outcome:"]
        for _ in range(c.between(1, 3)):
            tests = []
            for _ in range(c.below(3)):
                wanted = sorted({c.choice(self.outcomes) for _ in range(c.between(1, 2))})
                tests.append(f"{c.choice(('any', 'every', 'no'))} {item} is {' or '.join(wanted)}")
            when = " when " + " and ".join(tests) if tests else ""
            lines.append(f"  {self.names.fresh('q')} {rpl_string(self.text_value())}{when}")
        return lines

    def template(self) -> str:
        """A sentence with `{...}` holes; the holes hold no quoted text (it would end the sentence)."""
        c = self.c
        parts = []
        for _ in range(c.between(1, 3)):
            if c.chance(0.5):
                words = self.text_value().replace("{", "{{").replace("}", "}}")
                parts.append(words.replace("\\", "\\\\").replace('"', '\\"'))
            else:
                t = c.choice((MONEY, INTEGER, DATE, BOOLEAN, PERCENT, DAYS))
                hole = self.expr(t, c.below(3))
                if '"' not in hole:
                    parts.append("{" + hole + "}")
        return '"' + " ".join(parts) + '"'


# ---- Requests ----------------------------------------------------------------------------------

FAR_DATES = ("1900-01-01", "2999-12-31")


class RequestGen:
    """Valid requests for a schema: every field of its type, optional ones sometimes absent."""

    def __init__(self, c: Chooser, schema: Schema, texts: list[str]):
        self.c, self.schema, self.texts = c, schema, texts

    def request(self) -> dict:
        return self.record(self.schema.request, top=True)

    def record(self, fields: list[Field], top: bool = False) -> dict:
        c = self.c
        out = {}
        flags = {}
        for f in fields:
            if f.type == BOOLEAN and not f.optional and f.default is None:
                flags[f.name] = c.chance(0.6)
        for f in fields:
            if f.name in flags:
                out[f.name] = flags[f.name]
                continue
            known = f.when is None or flags.get(f.when) is True
            if f.optional or f.default is not None or not known:
                r = c.below(4)
                if r == 0:
                    continue  # absent
                if r == 1:
                    out[f.name] = None
                    continue
            out[f.name] = self.value(f.type)
        return out

    def value(self, t):
        c = self.c
        if t == DATE:
            if not AVOID["eager_overflow"] and c.chance(0.01):
                return c.choice(FAR_DATES)
            day = datetime.date(2026, 1, 1) + datetime.timedelta(days=c.between(-400, 400))
            return day.isoformat()
        if t == MONEY:
            return c.choice(("0.00", "1.00", "12.50", "1890.00", "49.00", "0.01", "0.05",
                             f"{c.below(100000)}.{c.below(100):02d}", "999999999999999.99"))
        if t == INTEGER:
            return c.choice((0, 1, 2, 3, -1, 10, 365, c.below(1000), 999999999999999))
        if t == BOOLEAN:
            return c.chance(0.5)
        if t == TEXT:
            return c.choice(self.texts)
        if t == PERCENT:
            return c.choice(("15%", "0%", "100%", "12.5%", "999.9999%", "7"))
        if is_enum(t):
            return c.choice(self.schema.enums[t[1]])
        if is_list(t):
            return [self.value(t[1]) for _ in range(c.below(5))]
        if is_record(t):
            return self.record(self.schema.records[t[1]])
        raise ValueError(t)


def generate(c: Chooser, hostile: bool = True, explainable: bool = False) -> tuple[Policy, "RequestGen"]:
    gen = PolicyGen(c, hostile, explainable)
    policy = gen.policy()
    texts = gen.texts + (list(HOSTILE_TEXTS) if hostile else [])
    return policy, RequestGen(c, policy.schema, texts)
