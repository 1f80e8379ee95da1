"""benchmarks/bench_replay.py's "request only" run and bench_replay_parts.py. The first is a policy
of aputure.rpl's own request and one rule, the least any policy of that request costs to replay:
its request columns must be Aputure's, name for name and type for type, or the run would read and
check other columns than the replay it is the floor of. The second finds the query's parts by the
lowering's column names: a name changed must be an error, not a part silently left in."""
from __future__ import annotations

import pytest

from tests.conftest import ROOT, load_benchmark

from rplang.replay.columns import request_schema
from rplang.replay.duckdb_types import duckdb_type
from rplang.runtime import load_policy_text

bench_replay = load_benchmark("bench_replay")


def columns(policy) -> dict[str, str]:
    return {f.name: duckdb_type(f.type) for f in request_schema(policy.checked)}


def test_the_request_only_policy_has_aputures_request_and_one_rule(tmp_path):
    path = bench_replay.write_request_only(tmp_path)
    only = load_policy_text(path.read_text(), str(path))
    aputure = load_policy_text((ROOT / "policies" / "aputure.rpl").read_text(), "aputure.rpl")
    assert columns(only) == columns(aputure)
    assert "items" in columns(only) and "STRUCT" in columns(only)["items"]
    assert [r.name for r in only.checked.rules] == ["approve_all"]
    assert only.decide({"request_date": "2026-01-01", "order": {
        "purchase_date": "2025-12-01", "delivery_date": "2025-12-05", "currency": "USD",
        "payment_method": "card", "proof_of_purchase": "valid"}, "items": []}).outcome == "approve"


bench_replay_parts = load_benchmark("bench_replay_parts")


def test_each_part_of_the_query_is_found_and_the_query_without_it_runs(capsys):
    # the parts are found by the lowering's column names: a name changed is an error, not a part
    # silently left in the query
    assert bench_replay_parts.main(["--size", "200", "--rounds", "1"]) == 0
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines()[3:]]
    assert [row[0].lstrip("| ") for row in rows] == list(bench_replay_parts.PARTS)
    assert all(float(row[1]) > 0 for row in rows)


def test_a_part_the_query_does_not_have_is_an_error():
    with pytest.raises(SystemExit, match="no column of the query begins with __nothing"):
        bench_replay_parts.without('SELECT 1 AS "a"', "__nothing", "NULL")
