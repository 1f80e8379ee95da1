"""What each part of Aputure's replay query costs in DuckDB: the query run with one part taken out.

    nice python benchmarks/bench_replay_parts.py [--size 1000000] [--rounds 3]

The generated requests (gen_corpus.py, as bench_replay.py writes them) are decided in one process,
the query's `COPY` to Parquet timed alone (no start, no imports): first whole, then with each
part replaced by a constant, each the least CPU seconds of `--rounds` runs taking turns. What a
part costs is the whole's time less the time without it. The parts are the lowering's own columns
(rplang/replay/query.py), found by their names in the query:

    request checks      which rows the request reader might refuse (`__fallback`), made FALSE
    kept lists          each rule's items kept, with its totals (`__kept...`), made NULL
    searches            each refusing rule's test over the items (`__some...`), made FALSE
    values over lists   `let` values over the items (`__value_...`), made NULL
    rules applied       the list of rules applied, made an empty list

A query without a part decides other outputs: these are measures of cost, never of decisions.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_replay  # noqa: E402

PARTS = {  # the part's name -> (its columns' names begin with, what they are made)
    "request checks": ("__fallback", "FALSE"),
    "kept lists": ("__kept", "NULL"),
    "searches": ("__some", "FALSE"),
    "values over lists": ("__value_", "NULL"),
    "rules applied": ("rules_applied", "CAST([] AS rpl_rule[])"),
}


def without(decided: str, prefix: str, constant: str) -> str:
    """The query with every column computed under a name that begins with `prefix` made
    `constant` (a column only passed on, `x AS x`, is left as it is)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(decided, dialect="duckdb")
    replaced = 0
    for alias in list(tree.find_all(exp.Alias)):
        if alias.alias.startswith(prefix) and not isinstance(alias.this, exp.Column):
            alias.set("this", sqlglot.parse_one(constant, dialect="duckdb"))
            replaced += 1
    if not replaced:
        raise SystemExit(f"no column of the query begins with {prefix}: the lowering's names changed")
    return tree.sql(dialect="duckdb")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    import attrs

    from rplang.replay import engine_duckdb as engine
    from rplang.replay.run import Counts, RejectsFile, Replay, input_keys
    from rplang.replay.sources import resolve
    from rplang.runtime import load_policy_text

    with tempfile.TemporaryDirectory(prefix="rpl-bench-parts-") as tmp:
        folder = Path(tmp)
        _, parquet = bench_replay.prepare(args.size, folder)
        text = bench_replay.POLICY.read_text()
        replay = Replay(load_policy_text(text, str(bench_replay.POLICY)), text, resolve(str(parquet)), ("id",))
        con, counts, rejects = engine.connect(), Counts(), RejectsFile(None)
        key_columns, _ = engine.load_input(con, replay, input_keys(replay, con), rejects, counts)
        plan = engine.lower(replay, key_columns)
        engine.register_calendar(con, replay, plan.span)
        queries = {"whole": plan.decided} | {name: without(plan.decided, *how) for name, how in PARTS.items()}
        best = dict.fromkeys(queries, float("inf"))
        for _ in range(args.rounds):
            for name, decided in queries.items():
                before = resource.getrusage(resource.RUSAGE_SELF)
                start = time.perf_counter()
                engine.write_decided(con, attrs.evolve(plan, decided=decided), replay, ("id",),
                                     str(folder / "out.parquet"), rejects, counts)
                after = resource.getrusage(resource.RUSAGE_SELF)
                cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                best[name] = min(best[name], cpu)
                print(f"  {name:<18} {time.perf_counter() - start:6.3f} s  {cpu:6.3f} CPU s", file=sys.stderr, flush=True)
    print(f"| part ({args.size:,} requests, CPU s, least of {args.rounds}) | the query without it | the part |")
    print("|---|---:|---:|")
    print(f"| (none: the whole query) | {best['whole']:.2f} | |")
    for name in PARTS:
        print(f"| {name} | {best[name]:.2f} | {best['whole'] - best[name]:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
