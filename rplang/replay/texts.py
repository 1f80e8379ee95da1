"""The texts a policy's query knows when the policy is compiled, and how the query writes them.

The outcomes, the names of the rules (`rules_applied`), the members of an enum output, the
policy's version and hash: for DuckDB, constants of ENUM types the engine creates before it runs
the query. DuckDB's Parquet writer writes an ENUM column as a dictionary-encoded UTF8 column
(the same strings, read back as the same Arrow type) from the dictionary it is given, where
for text it builds one row by row: writing a million decided rows costs a third of its time with
VARCHAR, and the lists of rule names looked up and concatenated move 1-byte codes. Elsewhere
(Spark, which has no ENUM; explain-sql; the notebook API, whose tables keep VARCHAR) they are
plain texts: `Texts()`.

A text the query computes from the request (an output of type text, a key) stays VARCHAR.
"""
from __future__ import annotations

from sqlglot import exp

from rplang.compiler import types as T

from .columns import ITEM_OUTCOMES, POLICY_HASH, POLICY_VERSION, RULES_APPLIED, plain
from .sql import literal, sql_type

OUTCOME, RULE, VERSION, HASH = "outcome", "rule", "version", "hash"  # kinds of known text


def enum_kind(enum: T.EnumType) -> str:
    """The kind of the members of one of the policy's enum types."""
    return f"enum {enum.name}"


class Texts:
    """Known texts by kind: `types` maps a kind to its ENUM type's name and values, in order;
    a kind it does not name is written as plain text (VARCHAR)."""

    def __init__(self, types: dict[str, tuple[str, tuple[str, ...]]] | None = None):
        self.types = types or {}

    @classmethod
    def as_enums(cls, compiled, version, text_hash: str) -> "Texts":
        """Every known text of the policy as a constant of an ENUM type (DuckDB's)."""
        graph, policy = compiled.graph, compiled.checked
        known = {OUTCOME: [o.name for o in graph.outcomes]
                 + [line.name for line in (policy.items.request_outcomes if policy.items is not None else ())],
                 RULE: [node.rule.name for node in graph.rules], HASH: [text_hash]}
        if isinstance(version, str):
            known[VERSION] = [version]
        names = {kind: f"rpl_{kind}" for kind in known}
        for output in graph.outputs:
            t = plain(output.type) if output.kind != "outcome" else None
            if isinstance(t, T.EnumType) and enum_kind(t) not in known:
                # numbered, not named after the policy's enum: DuckDB's type names ignore case
                names[enum_kind(t)] = f"rpl_enum{sum(kind.startswith('enum ') for kind in known)}"
                known[enum_kind(t)] = list(t.members)
        return cls({kind: (names[kind], tuple(dict.fromkeys(values))) for kind, values in known.items() if values})

    def enums(self) -> dict[str, list[str]]:
        """The ENUM types to create before the query runs: name -> values, in order."""
        return {name: list(values) for name, values in self.types.values()}

    def type(self, kind: str) -> exp.DataType:
        """The SQL type of texts of `kind`."""
        return exp.DataType.build(self.types[kind][0], udt=True) if kind in self.types else sql_type("VARCHAR")

    def constant(self, kind: str, value: str) -> exp.Expression:
        """The text `value` of `kind` as a constant."""
        if kind not in self.types:
            return literal(value)
        if value not in self.types[kind][1]:
            raise ValueError(f"{value!r} is not a known {kind}")  # the query would fail when DuckDB binds it
        return exp.cast(literal(value), self.type(kind))

    def computed(self, kind: str, value: exp.Expression) -> exp.Expression:
        """A text of `kind` the query computes (an enum output set from the request): NULL where
        it is not one, a row the request reader refuses, which the Python path decides."""
        return exp.TryCast(this=value, to=self.type(kind)) if kind in self.types else value

    def columns(self, policy) -> dict[str, str]:
        """The decision columns of ENUM types: name -> DuckDB's type (a list's `[]`)."""
        found = {}

        def put(column: str, kind: str, suffix: str = "") -> None:
            if kind in self.types:
                found[column] = self.types[kind][0] + suffix
        for output in policy.outputs:
            if output.kind == "outcome":
                put(output.name, OUTCOME)
            elif isinstance(plain(output.type), T.EnumType):
                put(output.name, enum_kind(plain(output.type)))
        if policy.items is not None:
            put(ITEM_OUTCOMES, OUTCOME, "[]")
        put(RULES_APPLIED, RULE, "[]")
        put(POLICY_VERSION, VERSION)
        put(POLICY_HASH, HASH)
        return found
