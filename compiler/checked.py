"""A checked policy: declarations resolved and typed, ready to lower to a rule graph."""
from __future__ import annotations

import hashlib
from pathlib import Path

import attrs

from rplang.policy_lang.span import Span

from . import ir
from .types import Type


@attrs.frozen
class FieldSpec:
    """A field of the request or of a record, with its checked type and default."""
    name: str
    type: Type
    default: object = None
    has_default: bool = False
    present_when: str | None = None
    label: str | None = None
    stage: str | None = None  # `at inspection`: may be unknown before that stage (runtime/residual.py)
    span: Span | None = attrs.field(eq=False, repr=False, default=None)


@attrs.frozen
class Outcome:
    """A possible outcome; rank 0 is the strongest."""
    name: str
    label: str
    rank: int
    overrides_all: bool
    span: Span | None = attrs.field(eq=False, repr=False, default=None)


@attrs.frozen
class Effect:
    """What a rule does when it applies: kind is `outcome`, `add`, `set` or `note`."""
    kind: str
    output: str | None = None
    value: ir.Expr | None = None
    sign: int = 1
    span: Span | None = attrs.field(eq=False, repr=False, default=None)


@attrs.frozen
class CheckedRule:
    """A rule with its condition, effects and sentence checked against the policy."""
    name: str
    var: str | None
    source: ir.Expr | None
    clause: str | None
    clause_text: str | None
    condition: ir.Expr
    effects: tuple[Effect, ...]
    outcome: str | None
    because: tuple[str | ir.Expr, ...]
    overrides: tuple[str, ...]
    span: Span | None = attrs.field(eq=False, repr=False, default=None)
    per_item: bool = False  # runs for each item outcomes are decided for: its effects are that item's
    # Every clause cited, in order, as (clause name or None for a quoted text, its text); `clause`
    # and `clause_text` are the first.
    citations: tuple[tuple[str | None, str], ...] = ()


@attrs.frozen
class RequestOutcome:
    """A line of `request outcome:`; `tests` are (any|every|no, item outcomes), all must hold."""
    name: str
    label: str
    tests: tuple[tuple[str, frozenset[str]], ...]
    span: Span | None = attrs.field(eq=False, repr=False, default=None)


@attrs.frozen
class ItemOutcomes:
    """Outcomes decided for each element of a list (docs/per-item.md)."""
    var: str
    source: ir.Expr
    request_outcomes: tuple[RequestOutcome, ...]
    span: Span | None = attrs.field(eq=False, repr=False, default=None)


@attrs.frozen
class CheckedTable:
    """A table, checked: its key types, its columns (name or None, type), an index per column
    (rows in the order written), and the CSV file it was read from with its SHA-256 (the
    compiled-policy cache checks it again)."""
    name: str
    keys: tuple[Type, ...]
    columns: tuple[tuple[str | None, Type], ...]
    indexes: tuple[ir.TableIndex, ...]
    file: str | None
    file_digest: str | None
    row_count: int
    span: Span | None = attrs.field(eq=False, repr=False, default=None)


@attrs.frozen
class CheckedOutput:
    """An output: the outcome, a total of amounts rules add, or a value rules set."""
    name: str
    kind: str  # outcome | total | set
    type: Type | None
    floor: object = None
    default: object = None
    span: Span | None = attrs.field(eq=False, repr=False, default=None)


@attrs.frozen
class CheckedProperty:
    """A property: a condition over the request and its decision that must hold for every request."""
    name: str
    clause: str | None
    clause_text: str | None
    condition: ir.Expr
    because: str | None
    span: Span | None = attrs.field(eq=False, repr=False, default=None)


@attrs.frozen
class CheckedPolicy:
    """The output of the checker."""
    name: str
    version: str
    currency: str
    calendar: str | None
    clauses: dict[str, str]  # rendered: parameters shown with their values
    parameters: dict[str, ir.Param]
    records: dict[str, dict[str, FieldSpec]]
    request: dict[str, FieldSpec]
    values: dict[str, ir.Expr]  # in an order where each comes after what it uses
    outcomes: tuple[Outcome, ...]
    rules: tuple[CheckedRule, ...]
    outputs: tuple[CheckedOutput, ...]
    source_name: str = ""
    clause_sources: dict[str, str] = attrs.field(factory=dict)  # as written, with `{parameter}`s
    terms: ir.Expr | None = None  # `terms by ...`: the date that selects dated values and versions
    effective: object = None  # `effective DATE`: the first day this version is in force
    properties: tuple[CheckedProperty, ...] = ()  # guarantees `rpl verify` proves; never decide anything
    items: ItemOutcomes | None = None  # `outcomes for each item in ...`: decided item by item
    tables: dict[str, CheckedTable] = attrs.field(factory=dict)  # `table ... by ...`, by name
    currency_by: ir.Expr | None = None  # `currency by ...`: the request's text naming its currency


# ---- The policy's source, its tables' files included ----------------------------------------------

def table_files(checked: CheckedPolicy) -> dict[str, str]:
    """The CSV files the policy's tables were read from, each with the SHA-256 it was checked
    with: part of the policy's source, as its text is."""
    return {t.file: t.file_digest for t in checked.tables.values() if t.file is not None}


def table_files_unchanged(checked: CheckedPolicy) -> bool:
    """Whether each table's CSV file still holds what the policy was checked with (a compiled
    policy kept in a cache or a server holds only while it does)."""
    for file, digest in table_files(checked).items():
        try:
            data = Path(file).read_bytes()
        except OSError:
            return False
        if hashlib.sha256(data).hexdigest() != digest:
            return False
    return True


def source_digest(text: str, checked: CheckedPolicy) -> str:
    """The SHA-256 of the policy's source: its text, and the contents of its tables' CSV files
    (the text's own SHA-256 when it reads none), so that a decision names what made it."""
    files = table_files(checked)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass"))
    for file, file_digest in sorted(files.items()):
        digest.update(f"\0{Path(file).name}\0{file_digest}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
