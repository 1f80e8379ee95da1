"""benchmarks/bench_replay.py's "request only" run: a policy of aputure.rpl's own request and one
rule, the least any policy of that request costs to replay. Its request columns must be Aputure's,
name for name and type for type, or the run would read and check other columns than the replay it
is the floor of."""
from __future__ import annotations

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
