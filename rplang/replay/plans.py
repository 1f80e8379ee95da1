"""The SQL a policy lowers to for DuckDB, kept in the user's signed cache.

Lowering a policy costs a replay about 0.2 s of processor time before the engine reads a row:
importing SQLGlot and the compiler's passes, building the query, writing it as text (twice:
once to know whether the policy lowers at all). The text depends only on what names the entry:
rplang's own sources (every file, as the checked-policy cache hashes them: a change to the
lowering is a new name), the installed SQLGlot (its files' stamp), the policy's hash (its text
and its tables' files) and version, and how the input's rows are keyed. So a run that finds the
entry imports neither SQLGlot nor the lowering.

An entry is JSON signed with the user's key (policy_lang/user_cache.py): one that is damaged,
planted or not of this shape is a miss, and the query is lowered again and the entry written
anew. Policies that do not lower are not kept (the Python path decides them, at a cost that
dwarfs lowering).
"""
from __future__ import annotations

import hashlib
import json
import re

import attrs

from rplang.compiler.cache import sources_digest
from rplang.policy_lang import user_cache

_FORMAT = "rpl-replay-plan-2"  # 2: the ENUM types of the known texts
DIALECT = "duckdb"
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")  # an ENUM type's name, written into SQL unquoted


@attrs.frozen
class Plan:
    """A policy's query for DuckDB over input rows keyed one way.

    decided: the policy's query over the input (the view `rpl_decided`)
    rows: the decided rows as written, over that view, those handed back decided by the runtime
    types: each decision column's DuckDB type, in order (the runtime's function returns them)
    span: the query of the first and last days business days count from, with how many counts
        chain and the longest count (calendar.py); None when the policy counts none
    enums: the ENUM types the queries name, created before they run: name -> values (texts.py)
    """
    decided: str
    rows: str
    types: dict
    span: tuple | None = None
    enums: dict = attrs.field(factory=dict)

    def to_json(self) -> dict:
        return {"decided": self.decided, "rows": self.rows, "types": self.types,
                "span": list(self.span) if self.span else None, "enums": self.enums}

    @classmethod
    def from_json(cls, data) -> "Plan":
        """The plan an entry holds; ValueError if it is not one."""
        if not isinstance(data, dict) or set(data) != {"decided", "rows", "types", "span", "enums"}:
            raise ValueError("not a plan")
        decided, rows, types, span, enums = data["decided"], data["rows"], data["types"], data["span"], data["enums"]
        if not (isinstance(decided, str) and isinstance(rows, str) and isinstance(types, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in types.items())):
            raise ValueError("not a plan")
        if span is not None:
            if not (isinstance(span, list) and len(span) == 3 and isinstance(span[0], str)
                    and all(type(n) is int and n >= 0 for n in span[1:])):
                raise ValueError("not a plan's calendar span")
            span = tuple(span)
        if not (isinstance(enums, dict) and all(
                _IDENTIFIER.fullmatch(k) and isinstance(v, list) and v and all(isinstance(x, str) for x in v)
                for k, v in enums.items())):
            raise ValueError("not a plan's ENUM types")
        return cls(decided, rows, types, span, enums)


def entry_name(replay) -> str | None:
    """The name of the policy's entry (one for all the ways rows are keyed), or None when the
    installed SQLGlot cannot be told apart from another."""
    stamp = user_cache.package_stamp("sqlglot")
    if stamp is None:
        return None
    digest = hashlib.sha256()
    for part in (_FORMAT, sources_digest(), stamp, DIALECT, replay.version, replay.hash):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return "replay-" + digest.hexdigest()


def _entry(name: str | None) -> dict:
    """The plans the entry holds, by the key shape's text; empty when it is missing or damaged."""
    payload = user_cache.read(name) if name else None
    if payload is None:
        return {}
    try:
        plans = json.loads(payload)
        return {shape: Plan.from_json(plan) for shape, plan in plans.items()}
    except (ValueError, AttributeError, UnicodeDecodeError):  # signed, yet not a plan of ours: a miss
        return {}


def _shape(keys: tuple) -> str:
    return json.dumps([list(k) for k in keys])


def read(replay, keys: tuple) -> Plan | None:
    """The plan of the policy for rows keyed by `keys` ((name, how) pairs), if it was kept."""
    return _entry(entry_name(replay)).get(_shape(keys))


def lowers(replay) -> bool:
    """Whether the policy is known to lower: a plan of it was kept, for rows keyed any way."""
    return bool(_entry(entry_name(replay)))


def write(replay, keys: tuple, plan: Plan) -> None:
    """Keep the plan beside the policy's plans for other keys (a cache that cannot be written is
    only slower)."""
    name = entry_name(replay)
    if name is None:
        return
    plans = _entry(name)
    plans[_shape(keys)] = plan
    user_cache.write(name, json.dumps({shape: p.to_json() for shape, p in plans.items()}).encode())
