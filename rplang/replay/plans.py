"""The SQL a policy lowers to for DuckDB, kept in the user's signed cache, with what a run needs
to know of the policy to start without checking or compiling it.

Lowering a policy costs a replay about 0.2 s of processor time before the engine reads a row:
importing SQLGlot and the compiler's passes, building the query, writing it as text (twice:
once to know whether the policy lowers at all). Loading the checked policy and importing the
runtime cost another tenth. The text depends only on what names the entry: rplang's own
sources (every file, as the checked-policy cache hashes them: a change to the lowering is a new
name), the installed SQLGlot (its files' stamp), the policy's text and file name (as the
checked-policy cache names it), and how the input's rows are keyed; and on its tables' CSV
files, whose SHA-256s the entry keeps and a run checks before it trusts the entry (an edited
file is a miss). So a run that finds the entry imports neither SQLGlot nor the lowering, nor
the runtime until a row needs it (`Known`: the policy's version, hash, request columns and
calendar).

An entry is JSON signed with the user's key (policy_lang/user_cache.py): one that is damaged,
planted or not of this shape is a miss, and the query is lowered again and the entry written
anew. Policies that do not check or do not lower are not kept (the Python path decides the
latter, at a cost that dwarfs lowering), so a broken policy is always checked and reported.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import attrs

from rplang.compiler.cache import sources_digest
from rplang.policy_lang import user_cache

_FORMAT = "rpl-replay-plan-3"  # 3: named by the policy's text, `Known` beside the plans
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


@attrs.frozen
class Known:
    """What a replay needs of a policy that checked and lowered, kept beside its plans.

    version, hash: the policy's, as each decided row carries them
    tables: each table's CSV file -> the SHA-256 the policy was checked with
    request: each field of the request -> its column's DuckDB type, in order
    calendar: the country whose holidays business days skip, or None
    plans: the plans kept beside the facts, by the key shape's text, as read with them (not
        kept as a fact: a run reads its entry once, and finds its plan here)
    """
    version: str
    hash: str
    tables: dict
    request: dict
    calendar: str | None
    plans: dict = attrs.field(factory=dict, eq=False, repr=False)

    def to_json(self) -> dict:
        return attrs.asdict(self, filter=lambda field, _: field.name != "plans")

    @classmethod
    def from_json(cls, data, con=None) -> "Known":
        """The facts an entry holds; ValueError if they are not such. The request's types are
        read by DuckDB: by `con`, the run's connection, where it has one (DuckDB's module-level
        functions would start a second database for it: 14 ms)."""
        if not (isinstance(data, dict) and set(data) == {"version", "hash", "tables", "request", "calendar"}
                and isinstance(data["version"], str) and isinstance(data["hash"], str)
                and (data["calendar"] is None or isinstance(data["calendar"], str))
                and all(isinstance(d, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in d.items())
                        for d in (data["tables"], data["request"]))):
            raise ValueError("not a policy's facts")
        import duckdb

        for t in data["request"].values():
            try:
                (con or duckdb).sqltype(t)
            except duckdb.Error as error:
                raise ValueError("not a policy's request") from error
        return cls(**data)

    def tables_unchanged(self) -> bool:
        """Whether each table's file still holds what the policy was checked with."""
        for file, digest in self.tables.items():
            try:
                if hashlib.sha256(Path(file).read_bytes()).hexdigest() != digest:
                    return False
            except OSError:
                return False
        return True


def entry_name(replay) -> str | None:
    """The name of the policy's entry (one for all the ways rows are keyed), or None when the
    installed SQLGlot cannot be told apart from another."""
    return _name(replay.text, replay.policy_name)


def _name(text: str, policy_name: str) -> str | None:
    stamp = user_cache.package_stamp("sqlglot")
    if stamp is None:
        return None
    digest = hashlib.sha256()
    for part in (_FORMAT, sources_digest(), stamp, DIALECT, policy_name, text):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return "replay-" + digest.hexdigest()


def _entry(name: str | None, con=None) -> Known | None:
    """The policy's facts, with its plans by the key shape's text; None when the entry is missing
    or damaged, or a table's file changed since (`con`: as for `Known.from_json`)."""
    payload = user_cache.read(name) if name else None
    if payload is None:
        return None
    try:
        data = json.loads(payload)
        if not isinstance(data, dict) or set(data) != {"policy", "plans"} or not isinstance(data["plans"], dict):
            raise ValueError("not an entry")
        plans = {shape: Plan.from_json(plan) for shape, plan in data["plans"].items()}
        known = attrs.evolve(Known.from_json(data["policy"], con), plans=plans)
    except (ValueError, AttributeError, TypeError, UnicodeDecodeError):  # signed, yet not ours: a miss
        return None
    return known if known.tables_unchanged() else None


def _kept_plans(name: str | None) -> dict:
    """The plans kept in the entry `name`, by the key shape's text; none if it is not there."""
    entry = _entry(name)
    return entry.plans if entry is not None else {}


def _shape(keys: tuple) -> str:
    return json.dumps([list(k) for k in keys])


def known(text: str, policy_name: str, con=None) -> Known | None:
    """What an earlier run learned of the policy (`policy_name`'s `text`), if it checked and
    lowered then (a plan of it was kept) and its tables are as they were: enough to start
    without checking it. `con`: the run's DuckDB connection, if it has one."""
    entry = _entry(_name(text, policy_name), con)
    return entry if entry is not None and entry.plans else None


def read(replay, keys: tuple) -> Plan | None:
    """The plan of the policy for rows keyed by `keys` ((name, how) pairs), if it was kept: of
    the entry the run started from (`replay.known`, its tables checked then), else read now."""
    kept = replay.known.plans if replay.known is not None else _kept_plans(entry_name(replay))
    return kept.get(_shape(keys))


def lowers(replay) -> bool:
    """Whether the policy is known to lower: a plan of it was kept, for rows keyed any way."""
    return bool(_kept_plans(entry_name(replay)))


def write(replay, keys: tuple, plan: Plan, known: Known) -> None:
    """Keep the plan beside the policy's plans for other keys, with what the policy is (a cache
    that cannot be written is only slower)."""
    name = entry_name(replay)
    if name is None:
        return
    plans = _kept_plans(name)
    plans[_shape(keys)] = plan
    data = {"policy": known.to_json(), "plans": {shape: p.to_json() for shape, p in plans.items()}}
    user_cache.write(name, json.dumps(data).encode())
