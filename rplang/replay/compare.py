"""`rpl replay --compare OLD`: the impact of a policy change on every row, computed over the two
decided tables (joined on the key columns) where they are, by DuckDB, or by Spark in a cluster's
store (compare_runners.py), and reported as `rpl diff` reports it.

Beside `rpl diff`'s report: the money deltas of each outcome transition, and a sample of changed
rows for each transition (the first by key), explained under both versions.
"""
from __future__ import annotations

import contextlib
import datetime
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

import attrs
from sqlglot import exp

from rplang.compiler import types as T
from rplang.runtime.impact import ChangedRequest, Impact, impact_text

from .columns import output_columns, plain
from .compare_runners import DuckDBRunner, SparkRunner
from .engines import engine_for
from .errors import ReplayError
from .rows import python_rows
from .run import RejectsFile, Replay, input_keys
from .sources import FILE, ROW
from .uris import delete, is_uri

NEW, OLD = "rpl_new", "rpl_old"  # the decided tables' views


@attrs.define
class ReplayImpact:
    """`rpl diff`'s Impact, and the money deltas by outcome transition."""
    impact: Impact
    by_transition: list = attrs.field(factory=list)  # (before, after, rows, {output: delta})

    def to_json(self) -> dict:
        data = self.impact.to_json()
        data["money_by_transition"] = [
            {"from": a, "to": b, "count": n, "total_delta": {k: f"{v:.2f}" for k, v in deltas.items()}}
            for a, b, n, deltas in self.by_transition]
        return data

    def text(self, old_name: str, new_name: str, markdown: bool = False) -> str:
        report = impact_text(self.impact, old_name, new_name, markdown)
        if not self.by_transition:
            return report
        names = sorted({k for *_, deltas in self.by_transition for k in deltas})
        # a blank line first: in Markdown, a table right after the last example's `</details>`
        # is read as part of that HTML block and shown as its raw text
        lines = ["", "", "money change by outcome transition:"]
        if markdown:
            lines += ["", "| outcome before | outcome after | requests | " + " | ".join(names) + " |",
                      "|---|---|---:|" + "---:|" * len(names)]
        for a, b, n, deltas in self.by_transition:
            cells = [f"{deltas.get(k, Decimal(0)):+.2f}" for k in names]
            lines.append(f"| {a} | {b} | {n} | " + " | ".join(cells) + " |" if markdown else
                         f"  {a} -> {b}: {n} requests, " + ", ".join(f"{k} {c}" for k, c in zip(names, cells)))
        return report + "\n".join(lines)


def compare_report(engine: str, new: Replay, old: Replay, new_out: str, rows: int, show: int,
                   master: str) -> ReplayImpact:
    """Decide the input (`rows` rows) under `old` too, and compare with the decisions in `new_out`:
    in DuckDB, or where a cluster's store holds them (a URI), in Spark."""
    if is_uri(new_out):
        from .engine_spark import session

        runner = SparkRunner(session(master))
    else:
        runner = DuckDBRunner()
    try:
        runner.attach(NEW, new_out)
        _check_keys(runner, _keys(runner, new.compiled.checked))
        with _decided_beside(new_out) as old_out:
            engine_for(engine, master)(old, old_out, RejectsFile(None))
            runner.attach(OLD, old_out)
            return impact_of(runner, new, old, rows, show)
    finally:
        runner.close()


@contextlib.contextmanager
def _decided_beside(new_out: str):
    """Where the old policy's decisions are written, removed after: in a cluster's store, beside
    OUT (a folder here is a worker's own); else in a temporary folder."""
    if is_uri(new_out):
        old_out = f"{new_out.rstrip('/')}.rpl-compare-{uuid.uuid4().hex[:12]}"
        try:
            yield old_out
        finally:
            delete(old_out)
        return
    with tempfile.TemporaryDirectory(prefix="rpl-replay-") as folder:
        yield str(Path(folder) / "old.parquet")


def impact_of(runner, new: Replay, old: Replay, rows: int, show: int) -> ReplayImpact:
    """The impact of `old` -> `new` on `rows` rows, from their decided tables (`runner`'s views NEW
    and OLD)."""
    new_policy, old_policy = new.compiled.checked, old.compiled.checked
    new_names = {o.name: o for o in new_policy.outputs}
    common = [o for o in old_policy.outputs if o.name in new_names]
    outcome = next((o.name for o in new_policy.outputs if o.kind == "outcome"), None)
    money = [o.name for o in common if o.kind == "total" or plain(o.type) == T.MONEY]
    keys = _keys(runner, new_policy)

    def col(table: str, name: str) -> exp.Column:
        return exp.column(name, table=table, quoted=True)

    def differs(output) -> exp.Expression:
        return exp.or_(*[exp.NullSafeNEQ(this=col("o", c), expression=col("n", c)) for c, _ in output_columns(output)])

    joined = exp.select(*[col("n", k).as_(k, quoted=True) for k in keys]).from_(
        exp.to_table(NEW).as_("n")).join(exp.to_table(OLD).as_("o"), join_type="INNER",
                                       on=exp.and_(*[exp.NullSafeEQ(this=col("n", k), expression=col("o", k))
                                                     for k in keys]))  # a NULL key is a key too
    changed = exp.or_(*[differs(x) for x in common]) if common else exp.false()
    columns = [changed.as_("changed", quoted=True)]
    if outcome:
        columns += [col("o", outcome).as_("before", quoted=True), col("n", outcome).as_("after", quoted=True)]
    for name in money:
        columns.append(exp.Sub(this=exp.Coalesce(this=col("n", name), expressions=[exp.Literal.number(0)]),
                               expression=exp.Coalesce(this=col("o", name), expressions=[exp.Literal.number(0)]))
                       .as_(f"d_{name}", quoted=True))
        columns.append(exp.NullSafeNEQ(this=col("o", name), expression=col("n", name)).as_(f"c_{name}", quoted=True))
    for x in common:
        if x.name not in money and x.kind != "outcome":
            columns.append(differs(x).as_(f"c_{x.name}", quoted=True))
    runner.view("pairs", joined.select(*columns))
    impact = Impact()
    impact.total = rows
    both = _count(runner, exp.to_table("pairs"))
    impact.rejected = impact.total - both
    impact.changed = _scalar(runner, exp.select(exp.func("COUNT_IF", exp.column("changed"))).from_("pairs")) or 0
    by_transition = []
    if outcome:
        groups = exp.select(exp.column("before"), exp.column("after"), exp.Count(this=exp.Star()),
                            *[exp.Sum(this=exp.column(f"d_{m}")) for m in money]).from_("pairs").where(
            exp.column("changed")).group_by(exp.column("before"), exp.column("after")).order_by("before", "after")
        for before, after, count, *deltas in runner.rows(groups):
            if before != after:
                impact.outcome_changes[(before, after)] = count
            by_transition.append((before, after, count, {m: d for m, d in zip(money, deltas) if d}))
    for name in money:
        row = runner.rows(exp.select(exp.func("COUNT_IF", exp.column(f"c_{name}")),
                                     exp.Sum(this=exp.column(f"d_{name}"))).from_("pairs"))[0]
        if row[0]:
            impact.money[name] = {"changed": row[0], "delta": row[1] or Decimal("0.00")}
    for x in common:
        if x.name not in money and x.kind != "outcome":
            found = _scalar(runner, exp.select(exp.func("COUNT_IF", exp.column(f"c_{x.name}"))).from_("pairs"))
            if found:
                impact.other_changes[x.name] = found
    impact.examples = _examples(runner, new, old, keys, outcome, show)
    return ReplayImpact(impact, by_transition)


def _examples(runner, new: Replay, old: Replay, keys: list[str], outcome: str | None, show: int) -> list:
    """The first `show` changed rows (by key) of each transition, decided and explained again."""
    # NULL keys last, as DuckDB sorts them by default (Spark puts them first): the same sample
    order = [exp.Ordered(this=exp.column(k, quoted=True), nulls_first=False) for k in keys]
    partition = [exp.column("before"), exp.column("after")] if outcome else []
    rank = exp.Window(this=exp.RowNumber(), partition_by=partition, order=exp.Order(expressions=order))
    sample = exp.select(*[o.this for o in order]).from_("pairs").where(exp.column("changed")).qualify(
        exp.LTE(this=rank, expression=exp.Literal.number(show))).order_by(*order)
    found = runner.rows(sample)
    # keys of records, lists or instants matched by `_hashable` (0.6 µs a row of the input, a
    # twentieth of reading it), which other keys are spared
    nested = any(isinstance(v, (dict, list, tuple, datetime.datetime)) for row in found for v in row)
    as_key = (_json_hashable if new.source.format == "jsonl" else _hashable) if nested else tuple
    wanted = {as_key(row) for row in found}
    examples = []
    if not wanted:
        return examples
    # the input's own keys (its source_row too, where it has one), as the decided rows keep them
    for own, request in python_rows(new, input_keys(new)):
        key = tuple(own.get(k) for k in keys)
        found_key = as_key(key)
        if found_key not in wanted:
            continue
        wanted.discard(found_key)
        before, after = old.compiled.decide(request), new.compiled.decide(request)
        named = dict(zip(keys, key))
        label = own.get(ROW) if keys == [ROW] else _by_keys(named)
        a, b = before.outputs_json(), after.outputs_json()
        kind = "outcome" if a.get("outcome") != b.get("outcome") else "other"
        examples.append(ChangedRequest(label, kind, a, b, before.explain_text(), after.explain_text(),
                                       place=_place(new.source.format, named)))
        if not wanted:
            break
    return examples


def _hashable(value):
    """A key's values, a struct's, map's or list's too, as a value of a set, the same from the
    input and from the decided rows: a struct or a map (a dict, or a map as Arrow gives it, a list
    of pairs) as its pairs, a list as a tuple; an instant as UTC's time of day without its zone
    (Spark writes a timestamp as INT96, which DuckDB reads without one)."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    if isinstance(value, dict):
        value = value.items()
    elif not isinstance(value, (list, tuple)):
        return value
    return tuple(_hashable(v) for v in value)


def _json_hashable(value):
    """`_hashable` for a key of JSON lines, whose objects are structs of every field any of them
    has (rows.key_schema): an object as the fields it gives (not null), by name, the same from
    the line (`{"b": 1, "a": 2}`) and from the decided row (`{'a': 2, 'b': 1, 'c': None}`)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _json_hashable(v)) for k, v in value.items() if v is not None))
    if isinstance(value, (list, tuple)):  # a list, or a row's keys
        return tuple(_json_hashable(v) for v in value)
    return value


def _place(format_: str, key: dict) -> str | None:
    """How the report names a changed row: a line of JSON lines as `rpl diff` names it (None); a
    Parquet or CSV file's row by its number (a CSV's header is not a row), and file; else by its keys."""
    if set(key) <= {ROW, FILE}:
        if format_ == "jsonl" and FILE not in key:
            return None
        place = f"{'line' if format_ == 'jsonl' else 'row'} {key[ROW]}"
        return f"{place} of {key[FILE]}" if FILE in key else place
    return _by_keys(key)


def _by_keys(key: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in key.items())


def _keys(runner, policy) -> list[str]:
    names = runner.columns(exp.select(exp.Star()).from_(NEW).limit(0))
    first = output_columns(policy.outputs[0])[0][0] if policy.outputs else "rules_applied"
    return names[:names.index(first)]


def _check_keys(runner, keys: list[str]) -> None:
    """The decisions are joined on their keys: keys shared by rows would pair each with the
    other's, counting changes more than once."""
    maps = runner.uncomparable(NEW, keys)
    if maps:
        raise ReplayError(f"--compare joins the decisions on their keys, and Spark cannot compare the map in "
                          f"{', '.join(maps)}; name key columns of other types with --key, or decide the "
                          "rows from local files, where DuckDB compares maps")
    names = [exp.column(k, quoted=True) for k in keys]
    shared = exp.select(*names).from_(NEW).group_by(*names).having(
        exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
    found = runner.rows(exp.select(exp.Count(this=exp.Star()), exp.Min(this=exp.Struct(expressions=names)))
                        .from_(shared.subquery("shared")))[0]
    if found[0]:
        sample = ", ".join(f"{k}={v}" for k, v in found[1].items())
        shared_by = "1 key is a key" if found[0] == 1 else f"{found[0]:,} keys are each a key"
        raise ReplayError(f"--compare joins the decisions on their keys ({', '.join(keys)}), and {shared_by} of more "
                          f"than one row ({sample}); name columns that tell every row apart with --key")


def _count(runner, table: exp.Expression) -> int:
    return _scalar(runner, exp.select(exp.Count(this=exp.Star())).from_(table)) or 0


def _scalar(runner, select: exp.Select):
    return runner.rows(select)[0][0]
