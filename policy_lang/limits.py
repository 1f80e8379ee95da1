"""Limits on what a policy or a request may ask of rpl, each refused with a message naming it.

A `.rpl` file is code that someone may hand us, and a request is data from anyone: a limit keeps
compiling and deciding bounded in time, memory and Python stack. The policy's limits are checked
before the work they protect: the size and the lines before Lark reads the text; nesting, counts
and numbers on Lark's tree, before our AST is built (building it recurses once per level).
The request's limits are checked by `rplang.runtime.request` as it reads a request.
"""
from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import TYPE_CHECKING

from .errors import Diagnostic
from .span import Source, Span

if TYPE_CHECKING:  # lark is imported where a tree is checked: deciding never needs it
    from lark import Token, Tree

# ---- Policies ---------------------------------------------------------------------------------

MAX_POLICY_BYTES = 32 * 1024 * 1024  # room for a marketplace's 10,000 rules, one per product
MAX_LINE_CHARS = 1_000  # a diagnostic shows its whole line, once per problem on it
# A syntax error is described by re-parsing its declaration with each repair it might need:
# the work grows with the declaration, so one declaration may not be the whole file.
MAX_DECLARATION_CHARS = 64 * 1024
# Levels of nesting in one expression. A `let` counts as deep as the values it uses, as if they
# were written in its place: the checker and the runtime recurse through them.
MAX_DEPTH = 64
# Digits of any number computed while deciding (whole numbers and amounts): beyond them a decision
# is refused with "number too large", rather than rounded or left to grow without bound.
MAX_COMPUTED_DIGITS = 60
MAX_RULES = 50_000
MAX_DECLARATIONS = 60_000  # every declaration, rules included
MAX_MEMBERS = 500  # values of one enum, fields of one record or of the request, outcomes
MAX_REPORTED = 50  # syntax problems reported at once; one more line says that more follow

# Literal numbers and dates
MAX_WHOLE_DIGITS = 15  # whole numbers, and the whole part of amounts and percentages
MAX_DECIMALS = 6  # digits after the point of an amount or a percentage
MAX_PERCENT = Decimal(1000)
MAX_DAYS = 36_500  # a hundred years
MAX_BUSINESS_DAYS = 2_600  # ten years of weekdays
MIN_DATE = datetime.date(1900, 1, 1)
MAX_DATE = datetime.date(2999, 12, 31)

# ---- Requests (checked by runtime/request.py) -------------------------------------------------

# bytes of one request (a file, or a line of `--jsonl`), checked before it is parsed: room for
# MAX_LIST items of a few hundred bytes each (`rpl eval --max-request-bytes` changes it)
MAX_REQUEST_BYTES = 8 * 1024 * 1024
MAX_TEXT = 10_000  # characters in a text
MAX_LIST = 10_000  # elements of a list
MAX_REQUEST_DEPTH = 32  # records within records (a record type may hold itself)
# arrays and objects within one another in a request's JSON text, refused above it before it is
# parsed: the JSON readers' own limits depend on how deep the stack already is where they run
MAX_JSON_DEPTH = 255
MAX_INTEGER = 10**MAX_WHOLE_DIGITS - 1
MAX_MONEY_DIGITS = MAX_WHOLE_DIGITS  # before the point of an amount
MAX_PROBLEMS = 100  # problems listed in one request error


_LONG_LINE = re.compile(f"[^\\n]{{{MAX_LINE_CHARS + 1},}}")


def _n(value: int) -> str:
    return f"{value:,}"


# ---- The text ---------------------------------------------------------------------------------

def check_text(source: Source) -> list[Diagnostic]:
    """The size of a policy file and the length of its lines, before Lark reads it."""
    text = source.text
    data = text.encode("utf-8", "surrogatepass")
    size = len(data)
    if size > MAX_POLICY_BYTES:
        cut = len(data[:MAX_POLICY_BYTES].decode("utf-8", "ignore"))
        return [Diagnostic(
            "RPL090", f"the policy is {_n(size)} bytes; the limit is {_n(MAX_POLICY_BYTES)} bytes",
            Span(source, cut, min(cut + 1, len(text))),
            "split it into smaller policies, or move long texts out of it")]
    problems: list[Diagnostic] = []
    for line in _LONG_LINE.finditer(text):
        problems.append(Diagnostic(
            "RPL091", f"this line is {_n(line.end() - line.start())} characters long; the limit is "
            f"{_n(MAX_LINE_CHARS)}", Span(source, line.start() + MAX_LINE_CHARS, line.end()),
            "break it: line breaks and indentation are free, also inside quoted text"))
        if len(problems) == MAX_REPORTED:
            break
    return problems


def check_declaration(source: Source, start: int, end: int) -> Diagnostic | None:
    """The length of one declaration, cut from the text after a syntax error, before reading it."""
    if end - start <= MAX_DECLARATION_CHARS:
        return None
    return Diagnostic(
        "RPL090", f"the declaration starting here runs {_n(end - start)} characters; the limit is "
        f"{_n(MAX_DECLARATION_CHARS)}", Span(source, start, min(end, start + 1)),
        "split it; and start each declaration at the beginning of a line")


def cap(problems: list[Diagnostic], source: Source) -> list[Diagnostic]:
    """At most MAX_REPORTED problems, and a last one saying that there are more."""
    if len(problems) <= MAX_REPORTED:
        return problems
    first = next((p.span for p in problems[MAX_REPORTED:] if p.span is not None), Span(source, 0, 0))
    return problems[:MAX_REPORTED] + [Diagnostic(
        "RPL099", "more problems follow", first,
        f"rpl reports the first {MAX_REPORTED} problems at once: fix these and check again")]


# ---- The tree ---------------------------------------------------------------------------------

_MEMBER_COUNTS = {"enum_decl": ("values", "enum"), "record_decl": ("fields", "record"),
                  "request_decl": ("fields", "request"), "outcomes_decl": ("outcomes", "outcomes")}


class _TreeCheck:
    """One pass over Lark's tree, with an explicit stack: the tree may be too deep to recurse on."""

    def __init__(self, source: Source, offset: int):
        self.source, self.offset = source, offset
        self.problems: list[Diagnostic] = []

    def span(self, node) -> Span:
        from lark import Token
        if isinstance(node, Token):
            start, end = node.start_pos, node.end_pos
        else:
            meta = node.meta
            if getattr(meta, "empty", True):
                return Span(self.source, self.offset, self.offset)
            start, end = meta.start_pos, meta.end_pos
        return Span(self.source, self.offset + (start or 0), self.offset + (end or 0))

    def walk(self, root: Tree, let_names: frozenset[str]) -> tuple[int, Tree | None, list]:
        """The depth of `root`, the first node past MAX_DEPTH, and (depth, name) of let references."""
        from lark import Token, Tree
        deepest, too_deep, refs = 0, None, []
        stack: list[tuple[object, int]] = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            if isinstance(node, Token):
                self.literal(node)
                continue
            if not isinstance(node, Tree):
                continue
            if depth > deepest:
                deepest = depth
                if depth > MAX_DEPTH and too_deep is None:
                    too_deep = node
            if node.data == "name" and node.children and str(node.children[0]) in let_names:
                refs.append((depth, str(node.children[0])))
            stack.extend((child, depth + 1) for child in reversed(node.children))
        return deepest, too_deep, refs

    def literal(self, token: Token) -> None:
        kind, text = token.type, str(token)
        if kind in ("INT", "DECIMAL", "PERCENT"):
            number = text.rstrip("%")
            whole, _, decimals = number.partition(".")
            if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS:
                self.number(token, f"`{_short(text)}` is too large: a number may have at most "
                            f"{MAX_WHOLE_DIGITS} digits before the point")
            elif len(decimals) > MAX_DECIMALS:
                self.number(token, f"`{_short(text)}` has {len(decimals)} decimals; the limit is "
                            f"{MAX_DECIMALS}")
            elif kind == "PERCENT" and Decimal(number) > MAX_PERCENT:
                self.number(token, f"`{text}` is more than {MAX_PERCENT}%")
        elif kind == "DURATION":
            words = text.split()
            business = "business" in words
            limit = MAX_BUSINESS_DAYS if business else MAX_DAYS
            digits = words[0].lstrip("0")
            if len(digits) > 9 or int(digits or "0") > limit:
                unit = "business days" if business else "days"
                self.number(token, f"`{_short(' '.join(words))}` is more than {_n(limit)} {unit}")
        elif kind == "DATE":
            try:
                day = datetime.date.fromisoformat(text)
            except ValueError:
                return  # not a real date: the AST builder says so
            if not MIN_DATE <= day <= MAX_DATE:
                self.problems.append(Diagnostic(
                    "RPL094", f"`{text}` is outside the dates rpl handles", self.span(token),
                    f"write a date from {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}"))

    def number(self, token: Token, message: str) -> None:
        self.problems.append(Diagnostic("RPL094", message, self.span(token),
                                        "rpl keeps numbers in a range it computes exactly and fast"))


def check_literal(source: Source, kind: str, text: str, start: int, end: int) -> Diagnostic | None:
    """The limits of a value written outside the grammar (a cell of a table's CSV file), as for
    the same value written in a policy: `kind` is the grammar's terminal (INT, DECIMAL, PERCENT,
    DURATION, DATE)."""
    from lark import Token

    check = _TreeCheck(source, 0)
    check.literal(Token(kind, text, start_pos=start, end_pos=end))
    return check.problems[0] if check.problems else None


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _declaration_name(decl: Tree) -> str | None:
    from lark import Token
    first = decl.children[0] if decl.children else None
    return str(first) if isinstance(first, Token) and first.type == "NAME" else None


def check_tree(tree: Tree, source: Source, offset: int = 0) -> list[Diagnostic]:
    """Nesting, counts and literal numbers of a parsed policy (or of one `{...}` of a sentence).

    `offset` is where the parsed text starts in the source.
    """
    from lark import Tree

    check = _TreeCheck(source, offset)
    declarations = tree.children if tree.data == "policy" else [tree]
    if tree.data == "policy":
        _check_counts(check, declarations)
    lets = {_declaration_name(d): d for d in declarations
            if isinstance(d, Tree) and d.data == "let_decl" and _declaration_name(d)}
    let_names = frozenset(lets)
    own: dict[str, int] = {}
    refs: dict[str, list] = {}
    for decl in declarations:
        if not isinstance(decl, Tree):
            continue
        depth, too_deep, found = check.walk(decl, let_names)
        if too_deep is not None:
            check.problems.append(Diagnostic(
                "RPL092", f"this is nested more than {MAX_DEPTH} levels deep", check.span(too_deep),
                "write it with fewer levels, like `a and b and c` rather than `if`s inside `if`s"))
        if not getattr(decl.meta, "empty", True) and tree.data == "policy":
            too_long = check_declaration(source, offset + decl.meta.start_pos, offset + decl.meta.end_pos)
            if too_long is not None:
                check.problems.append(too_long)
        name = _declaration_name(decl)
        if decl.data == "let_decl" and name in lets and lets[name] is decl:
            own[name], refs[name] = depth, found
    depths = _let_depths(own, refs)
    for name, depth in depths.items():
        # only where the limit is first crossed, not again at every value built on this one
        if own[name] <= MAX_DEPTH < depth and all(depths[r] <= MAX_DEPTH for _, r in refs[name]):
            check.problems.append(Diagnostic(
                "RPL092", f"`{name}` is nested {depth} levels deep, counting the values it uses; "
                f"the limit is {MAX_DEPTH}", check.span(lets[name].children[0]),
                "the values a `let` uses count as written in its place: use fewer levels"))
    return check.problems


def _check_counts(check: _TreeCheck, declarations: list) -> None:
    from lark import Token, Tree

    decls = [d for d in declarations if isinstance(d, Tree)]
    if len(decls) > MAX_DECLARATIONS:
        check.problems.append(Diagnostic(
            "RPL093", f"the policy has {_n(len(decls))} declarations; the limit is "
            f"{_n(MAX_DECLARATIONS)}", check.span(decls[MAX_DECLARATIONS]),
            "split it into smaller policies"))
    rules = [d for d in decls if d.data == "rule_decl"]
    if len(rules) > MAX_RULES:
        check.problems.append(Diagnostic(
            "RPL093", f"the policy has {_n(len(rules))} rules; the limit is {_n(MAX_RULES)}",
            check.span(rules[MAX_RULES]), "split it into smaller policies"))
    for d in decls:
        if d.data not in _MEMBER_COUNTS:
            continue
        what, kind = _MEMBER_COUNTS[d.data]
        members = [c for c in d.children if isinstance(c, Tree) or
                   (isinstance(c, Token) and c.type == "NAME")]
        if d.data == "enum_decl":
            members = members[1:]  # the enum's own name
        elif d.data == "record_decl":
            members = [c for c in members if isinstance(c, Tree)]
        if len(members) > MAX_MEMBERS:
            name = _declaration_name(d)
            check.problems.append(Diagnostic(
                "RPL093", f"{kind}{f' `{name}`' if name and kind != 'request' else ''} has "
                f"{_n(len(members))} {what}; the limit is {_n(MAX_MEMBERS)}",
                check.span(members[MAX_MEMBERS]), "split it, or group the values another way"))


def _let_depths(own: dict[str, int], refs: dict[str, list]) -> dict[str, int]:
    """How deep each `let` nests with the values it uses written in place.

    Iterative, since lets may form long chains; a circle (which the checker reports) adds nothing.
    """
    done: dict[str, int] = {}
    visiting: set[str] = set()
    for start in own:
        stack = [start]
        while stack:
            name = stack[-1]
            if name in done:
                stack.pop()
                continue
            pending = [r for _, r in refs[name] if r not in done and r not in visiting and r in own]
            if name not in visiting and pending:
                visiting.add(name)
                stack.extend(pending)
                continue
            depth = own[name]
            for at, r in refs[name]:
                if r in done:
                    depth = max(depth, at + done[r])
            visiting.discard(name)
            done[name] = depth
            stack.pop()
    return done


class _EveryName:
    """Every name counts as a `let`: used while the lets of later batches are not known yet."""

    def __contains__(self, name: object) -> bool:
        return True


def measure_declaration(decl: Tree) -> tuple[bool, str | None, int, list]:
    """What the limits of a whole policy need of one declaration that is within its own: whether it
    is a rule, and for a `let`, its name, its depth and the names it uses (at their depths).
    Depends on the declaration's text only, so a reparse keeps it with the declaration's tree."""
    name = _declaration_name(decl)
    if decl.data == "let_decl" and name:
        depth, _, refs = _TreeCheck(None, 0).walk(decl, _EveryName())
        return False, name, depth, refs
    return decl.data == "rule_decl", None, 0, []


class BatchCheck:
    """`check_tree` for a policy parsed in batches (`parser._parse_in_batches`): whether its limits
    hold, not the diagnostics (when one is crossed, the policy is parsed whole and `check_tree`
    says which). Counts and the depths of lets through the values they use span the batches."""

    def __init__(self, source: Source):
        self.source = source
        self.declarations = self.rules = 0
        self.own: dict[str, int] = {}  # as in check_tree: the last `let` of a name counts
        self.refs: dict[str, list] = {}

    def add(self, tree: Tree, offset: int) -> bool:
        """Check one batch's tree; False if it crosses a limit."""
        from lark import Tree
        if check_tree(tree, self.source, offset):
            return False
        for d in tree.children:
            if isinstance(d, Tree):
                self.count(measure_declaration(d))
        return True

    def count(self, measured: tuple) -> None:
        """Add one declaration of the policy, in the order of the text, as `measure_declaration` gave it."""
        is_rule, let, depth, refs = measured
        self.declarations += 1
        self.rules += is_rule
        if let is not None:
            self.own[let], self.refs[let] = depth, refs

    def within(self) -> bool:
        """After the last batch: whether the policy is within every limit."""
        if self.declarations > MAX_DECLARATIONS or self.rules > MAX_RULES:
            return False
        refs = {name: [(at, r) for at, r in found if r in self.own] for name, found in self.refs.items()}
        return all(depth <= MAX_DEPTH for depth in _let_depths(self.own, refs).values())
