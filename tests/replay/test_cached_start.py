"""A replay that finds its query in the user's cache (rplang/replay/plans.py) starts from what the
run that kept it learned of the policy: it neither checks nor compiles the policy, nor imports the
runtime, unless a row is handed back to the Python path; and that knowledge is trusted only while
the policy's text, name and tables' files are what they were."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from rplang.compiler.checked import source_digest
from rplang.policy_lang.errors import RplError
from rplang.replay import plans
from rplang.replay.errors import ReplayError
from rplang.replay.run import Replay
from rplang.replay.sources import Source
from rplang.runtime import load_policy

from ..conftest import APUTURE, POLICIES
from .conftest import typed_rows
from .outputs import outputs_by_key
from .test_duckdb import expected

# `rpl replay ARGS`; stderr's last line: which of these modules the run imported
_WATCHED = ["rplang.runtime", "rplang.compiler.checked", "rplang.compiler.checker", "rplang.stream", "sqlglot", "pyarrow"]
_REPLAY = f"""import atexit, json, sys
atexit.register(lambda: print(json.dumps([m for m in {_WATCHED!r} if m in sys.modules]), file=sys.stderr))
from rplang.cli import main
main(["replay", *sys.argv[1:]])
"""


def replay(cache, *args) -> tuple[int, str, list[str]]:
    """(exit code, stderr but its last line, the watched modules imported)."""
    done = subprocess.run([sys.executable, "-c", _REPLAY, *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "RPL_CACHE_DIR": str(cache)})
    *lines, imported = done.stderr.splitlines()
    return done.returncode, "\n".join(lines), json.loads(imported)


def test_a_run_that_finds_its_query_imports_neither_the_runtime_nor_the_checker_nor_pyarrow(tmp_path):
    policy = load_policy(APUTURE)
    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[:10]
    from rplang.replay.api import write_requests

    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"id": n, **json.loads(line)}) + "\n"
                                               for n, line in enumerate(lines, 1)))
    write_requests(policy, APUTURE.read_text(), str(tmp_path / "in.jsonl"), str(tmp_path / "in.parquet"), ("id",))
    cache = tmp_path / "cache"
    first = replay(cache, APUTURE, tmp_path / "in.parquet", "--out", tmp_path / "first.parquet")
    second = replay(cache, APUTURE, tmp_path / "in.parquet", "--out", tmp_path / "second.parquet")
    assert first[0] == second[0] == 0
    assert "rplang.runtime" in first[2] and "sqlglot" in first[2]
    assert "10 in SQL" in second[1] and second[2] == []
    assert pq.read_table(tmp_path / "second.parquet").equals(pq.read_table(tmp_path / "first.parquet"))
    assert outputs_by_key(policy, tmp_path / "second.parquet", "id") == expected(policy, lines)


def test_a_row_handed_back_compiles_the_policy_then_and_is_decided_as_rpl_eval_decides_it(tmp_path):
    """An inspection field out of its enum on an item not returned: the query cannot vouch for the
    row, the request reader accepts it (test_duckdb.py); the runtime, compiled at that row,
    decides it."""
    import pyarrow as pa

    from rplang.replay.columns import request_schema, to_request

    policy = load_policy(APUTURE)
    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[:20]
    rows = typed_rows(policy, lines)
    odd = [row for row in rows if any(not item["returned"] for item in row["items"])]
    for item in odd[0]["items"]:
        if not item["returned"]:
            item["condition"] = "broken"
    table = pa.Table.from_pylist([{"id": n, **row} for n, row in enumerate(rows, 1)],
                                 schema=pa.schema([pa.field("id", pa.int64()), *request_schema(policy.checked)]))
    pq.write_table(table, tmp_path / "in.parquet")
    cache = tmp_path / "cache"
    replay(cache, APUTURE, tmp_path / "in.parquet", "--out", tmp_path / "first.parquet")
    code, text, imported = replay(cache, APUTURE, tmp_path / "in.parquet", "--out", tmp_path / "out.parquet")
    assert code == 0, text
    assert f"({len(rows) - 1} in SQL, 1 by the Python path)" in text
    assert "rplang.runtime" in imported and "sqlglot" not in imported and "rplang.compiler.checker" not in imported
    assert outputs_by_key(policy, tmp_path / "out.parquet", "id") == \
        expected(policy, [json.dumps(to_request(row)) for row in rows])


@pytest.fixture
def bestbuy(tmp_path) -> tuple[Path, Path]:
    """A copy of the Best Buy policy with its table's CSV file, and those of its example requests it
    decides, as JSON lines."""
    shutil.copy(POLICIES / "bestbuy.rpl", tmp_path / "bestbuy.rpl")
    (tmp_path / "bestbuy").mkdir()
    shutil.copy(POLICIES / "bestbuy" / "product_kinds.csv", tmp_path / "bestbuy" / "product_kinds.csv")
    policy = load_policy(POLICIES / "bestbuy.rpl")
    requests = [json.dumps(json.loads(r.read_text())) for r in sorted((POLICIES / "bestbuy" / "requests").glob("*.json"))]
    lines = tmp_path / "requests.jsonl"
    lines.write_text("".join(r + "\n" for r in requests if _decides(policy, r)))
    return tmp_path / "bestbuy.rpl", lines


def _decides(policy, line: str) -> bool:
    try:
        policy.decide_json(line)
    except RplError:
        return False
    return True


def test_an_edited_table_file_is_a_miss_and_the_rows_name_the_policy_as_it_now_is(bestbuy, tmp_path, monkeypatch):
    policy_file, lines = bestbuy
    cache = tmp_path / "cache"
    assert replay(cache, policy_file, lines, "--out", tmp_path / "first.parquet")[0] == 0
    csv = policy_file.parent / "bestbuy" / "product_kinds.csv"
    csv.write_text(csv.read_text().replace("tv,regular", "tv,restocking_fee"))
    code, _, imported = replay(cache, policy_file, lines, "--out", tmp_path / "second.parquet")
    assert code == 0 and "sqlglot" in imported  # lowered again: the table is part of the query
    now = load_policy(policy_file)
    [first_hash] = set(pq.read_table(tmp_path / "first.parquet").column("policy_hash").to_pylist())
    [second_hash] = set(pq.read_table(tmp_path / "second.parquet").column("policy_hash").to_pylist())
    assert second_hash == source_digest(policy_file.read_text(), now.checked) != first_hash
    assert outputs_by_key(now, tmp_path / "second.parquet", "source_row") == \
        expected(now, lines.read_text().splitlines())
    monkeypatch.setenv("RPL_CACHE_DIR", str(cache))
    assert plans.known(policy_file.read_text(), str(policy_file)).hash == second_hash  # the entry written anew


def test_a_policy_that_no_longer_checks_is_reported_though_its_earlier_text_was_kept(tmp_path):
    cache = tmp_path / "cache"
    lines = tmp_path / "in.jsonl"
    lines.write_text((POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[0] + "\n")
    policy_file = tmp_path / "aputure.rpl"
    policy_file.write_text(APUTURE.read_text())
    assert replay(cache, policy_file, lines, "--out", tmp_path / "o.parquet")[0] == 0
    policy_file.write_text(APUTURE.read_text().replace("restocking_fee_rate  = 15%", "restocking_fee_rate  = 15 days"))
    code, text, _ = replay(cache, policy_file, lines, "--out", tmp_path / "o.parquet")
    assert code == 1 and "restocking_fee_rate" in text


def test_a_kept_policy_compiled_later_must_be_the_one_its_query_was_lowered_from():
    text = APUTURE.read_text()
    known = plans.Known("v", "not the hash of this policy", {}, "", None)
    job = Replay(None, text, Source((), "parquet"), (), "sql", str(APUTURE), known)
    assert job.hash == "not the hash of this policy"  # what the kept rows carry, with nothing compiled
    with pytest.raises(ReplayError, match="changed during the replay"):
        job.compiled
