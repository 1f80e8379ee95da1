"""Where a Spark (local mode) replay spends its time: the session's start, the planning of the
policy's query (analysis, then optimisation and physical planning), and the whole replay.

    nice python benchmarks/bench_replay_spark.py REQUESTS.parquet [--policy policies/aputure.rpl]

REQUESTS.parquet is typed as `rpl replay` reads it (bench_replay.py writes one per size; so does
`rplang.replay.api.write_requests`). The whole replay plans the query again: its execution is
about its time minus the planning's. Times are wall seconds (the JVM's CPU is not this process's);
the load average is printed beside them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("requests")
    ap.add_argument("--policy", default=str(ROOT / "policies" / "aputure.rpl"))
    args = ap.parse_args(argv)

    from rplang.replay.engine_spark import load_input, register_calendar, replay_spark, session
    from rplang.replay.query import PolicyQuery
    from rplang.replay.views import INPUT
    from rplang.replay.sql import spark_dialect
    from rplang.replay.run import Counts, RejectsFile, Replay, input_keys
    from rplang.replay.sources import resolve
    from rplang.runtime import load_policy_text

    text = Path(args.policy).read_text()
    replay = Replay(load_policy_text(text, args.policy), text, resolve(args.requests))
    figures = {"load_average": os.getloadavg()[0]}

    start = time.perf_counter()
    spark = session()
    figures["session_s"] = time.perf_counter() - start

    start = time.perf_counter()
    keys, _ = load_input(spark, replay, input_keys(replay), RejectsFile(None), Counts())
    query = PolicyQuery(replay.compiled, keys, replay.version, replay.hash)
    sql = query.select(INPUT).sql(dialect=spark_dialect())
    register_calendar(spark, replay, query)
    figures["query_built_s"] = time.perf_counter() - start
    figures["query_chars"] = len(sql)

    start = time.perf_counter()
    frame = spark.sql(sql)  # parsed and analysed now
    figures["analysis_s"] = time.perf_counter() - start
    start = time.perf_counter()
    frame._jdf.queryExecution().executedPlan()  # optimised and planned
    figures["optimisation_and_physical_plan_s"] = time.perf_counter() - start

    with tempfile.TemporaryDirectory(prefix="rpl-bench-spark-") as tmp:
        start = time.perf_counter()
        counts = replay_spark(replay, str(Path(tmp) / "out"), RejectsFile(None), spark=spark)
        figures["whole_replay_s"] = time.perf_counter() - start
    figures["rows"] = counts.rows
    figures["load_average_after"] = os.getloadavg()[0]
    spark.stop()
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in figures.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
