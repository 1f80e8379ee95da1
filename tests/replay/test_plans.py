"""The lowered query kept in the user's cache (rplang/replay/plans.py): a second run reads it and
never imports SQLGlot, and decides exactly as the first; an entry that is damaged, planted, of
another shape or another policy is a miss, and the answer stays right."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from rplang.replay import plans
from rplang.replay.run import Replay
from rplang.replay.sources import Source
from rplang.runtime import load_policy, load_policy_text

from ..conftest import APUTURE
from .outputs import outputs_by_key
from .test_duckdb import expected

# `rpl replay ARGS`, then whether SQLGlot and the lowering were imported (on stderr's last line)
_REPLAY = """import atexit, json, sys
atexit.register(lambda: print(json.dumps({"sqlglot": "sqlglot" in sys.modules,
                                         "lowering": "rplang.replay.lowering" in sys.modules}), file=sys.stderr))
from rplang.cli import main
main(["replay", *sys.argv[1:]])
"""


def replay_in_a_process(cache, *args) -> dict:
    done = subprocess.run([sys.executable, "-c", _REPLAY, *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "RPL_CACHE_DIR": str(cache)})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.splitlines()[-1])


def entries(cache) -> list:
    return sorted(p for p in cache.iterdir() if p.name.startswith("replay-"))


@pytest.fixture
def want(aputure_lines):
    policy = load_policy(APUTURE)
    return {f"R{n:05d}": v for n, v in expected(policy, aputure_lines.read_text().splitlines()).items()}


def decided(out) -> dict:
    return outputs_by_key(load_policy(APUTURE), out, "id")


def test_a_second_run_reads_the_query_from_the_cache_and_decides_the_same(aputure_parquet, want, tmp_path):
    cache = tmp_path / "cache"
    first = replay_in_a_process(cache, APUTURE, aputure_parquet, "--out", tmp_path / "first.parquet")
    second = replay_in_a_process(cache, APUTURE, aputure_parquet, "--out", tmp_path / "second.parquet")
    assert first == {"sqlglot": True, "lowering": True}
    assert second == {"sqlglot": False, "lowering": False}
    assert decided(tmp_path / "second.parquet") == want
    assert pq.read_table(tmp_path / "second.parquet").equals(pq.read_table(tmp_path / "first.parquet"))


def test_each_way_of_keying_rows_has_its_plan_in_the_policys_entry(aputure_parquet, aputure_lines, tmp_path):
    cache = tmp_path / "cache"
    replay_in_a_process(cache, APUTURE, aputure_parquet, "--out", tmp_path / "by_id.parquet")
    assert replay_in_a_process(cache, APUTURE, aputure_lines, "--out", tmp_path / "by_row.parquet")["lowering"]
    assert len(entries(cache)) == 1  # one entry a policy
    again = replay_in_a_process(cache, APUTURE, aputure_lines, "--out", tmp_path / "again.parquet")
    assert not again["sqlglot"]
    policy = load_policy(APUTURE)
    assert outputs_by_key(policy, tmp_path / "again.parquet", "source_row") == \
        expected(policy, aputure_lines.read_text().splitlines())


def test_a_damaged_entry_is_a_miss_and_the_answer_stays_right(aputure_parquet, want, tmp_path):
    cache = tmp_path / "cache"
    replay_in_a_process(cache, APUTURE, aputure_parquet, "--out", tmp_path / "first.parquet")
    [entry] = entries(cache)
    data = entry.read_bytes()
    entry.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit of the plan's text
    again = replay_in_a_process(cache, APUTURE, aputure_parquet, "--out", tmp_path / "again.parquet")
    assert again["lowering"]  # lowered anew
    assert decided(tmp_path / "again.parquet") == want
    assert not replay_in_a_process(cache, APUTURE, aputure_parquet, "--out", tmp_path / "third.parquet")["lowering"]


@pytest.mark.parametrize("payload", [b"not JSON", b"[]", b'{"[[\\"id\\", \\"column\\"]]": {"decided": 1}}',
                                     b'{"[[\\"id\\", \\"column\\"]]": {"decided": "SELECT 1", "rows": "SELECT 1", '
                                     b'"types": {}, "span": ["SELECT 1", -1, 0]}}', "é".encode("latin-1")])
def test_a_signed_entry_that_is_not_a_plan_is_a_miss(payload, aputure_parquet, want, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    replay_in_a_process(cache, APUTURE, aputure_parquet, "--out", tmp_path / "first.parquet")
    [entry] = entries(cache)
    monkeypatch.setenv("RPL_CACHE_DIR", str(cache))
    from rplang.policy_lang import user_cache

    user_cache.write(entry.name, payload)  # signed with the user's key, yet not what a replay wrote
    again = replay_in_a_process(cache, APUTURE, aputure_parquet, "--out", tmp_path / "again.parquet")
    assert again["lowering"]
    assert decided(tmp_path / "again.parquet") == want


def test_another_policys_entry_under_this_policys_name_is_a_miss(aputure_parquet, want, tmp_path):
    cache = tmp_path / "cache"
    other = tmp_path / "other.rpl"
    other.write_text(APUTURE.read_text().replace("restocking_fee_rate  = 15%", "restocking_fee_rate  = 14%"))
    replay_in_a_process(cache, other, aputure_parquet, "--out", tmp_path / "other.parquet")
    [planted] = entries(cache)
    assert decided(tmp_path / "other.parquet") != want  # its plan decides otherwise
    replay_in_a_process(cache, APUTURE, aputure_parquet, "--out", tmp_path / "first.parquet")
    [entry] = [e for e in entries(cache) if e != planted]
    entry.write_bytes(planted.read_bytes())  # signed, but for its own name: the signature fails
    again = replay_in_a_process(cache, APUTURE, aputure_parquet, "--out", tmp_path / "again.parquet")
    assert again["lowering"]
    assert decided(tmp_path / "again.parquet") == want


def _replay(text: str) -> Replay:
    return Replay(load_policy_text(text, "p.rpl"), text, Source(("x.parquet",), "parquet"))


def test_the_entry_is_named_by_the_policy_rplangs_sources_and_the_installed_sqlglot(monkeypatch):
    text = APUTURE.read_text()
    name = plans.entry_name(_replay(text))
    assert name == plans.entry_name(_replay(text))
    assert plans.entry_name(_replay(text.replace("= 15%", "= 14%"))) != name  # another policy
    monkeypatch.setattr(plans, "sources_digest", lambda: "another rplang")
    assert plans.entry_name(_replay(text)) != name  # a changed lowering: a new name
    monkeypatch.undo()
    monkeypatch.setattr(plans.user_cache, "package_stamp", lambda package: "another SQLGlot")
    assert plans.entry_name(_replay(text)) != name
    monkeypatch.setattr(plans.user_cache, "package_stamp", lambda package: None)
    assert plans.entry_name(_replay(text)) is None  # an SQLGlot that cannot be told apart: no cache


def test_without_a_cache_replay_still_lowers_and_decides(aputure_parquet, want, tmp_path, monkeypatch):
    monkeypatch.setenv("RPL_NO_CACHE", "1")
    from rplang.replay import engine_duckdb
    from rplang.replay.run import RejectsFile

    job = Replay(load_policy(APUTURE), APUTURE.read_text(), Source((str(aputure_parquet),), "parquet"), (), "sql")
    counts = engine_duckdb.replay_duckdb(job, str(tmp_path / "out.parquet"), RejectsFile(None))
    assert counts.rows == len(want) and decided(tmp_path / "out.parquet") == want
    assert plans.read(job, (("id", "column"),)) is None


def test_a_plan_is_read_back_as_written():
    plan = plans.Plan("SELECT 1", "SELECT 2", {"refund": "DECIMAL(18, 2)"}, ("SELECT 3", 1, 10))
    assert plans.Plan.from_json(json.loads(json.dumps(plan.to_json()))) == plan
    plan = plans.Plan("SELECT 1", "SELECT 2", {}, None)
    assert plans.Plan.from_json(json.loads(json.dumps(plan.to_json()))) == plan


def test_an_output_path_with_a_quote_is_written_there(aputure_parquet, want, tmp_path):
    out = tmp_path / "it's here.parquet"
    replay_in_a_process(tmp_path / "cache", APUTURE, aputure_parquet, "--out", out)
    assert decided(out) == want
