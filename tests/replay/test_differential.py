"""`pytest -m slow`: 100,000 generated Aputure requests decided by every path of `rpl replay`, the
SQL on DuckDB and on Spark (local mode), the Python path on both, each exactly as `rpl eval`
decides them: every output and the rules applied, row by row. A few minutes; the default run
decides the bundled corpus and 3,000 generated requests the same way (test_duckdb.py,
test_spark.py)."""
from __future__ import annotations

import json
import time

import pytest

from rplang.replay.columns import applied_rules
from rplang.runtime import load_policy, load_policy_text

from ..cli.conftest import run
from ..conftest import APUTURE, load_benchmark
from .outputs import outputs_by_key

REQUESTS = 100_000
PATHS = [("duckdb", "sql"), ("duckdb", "python"), ("spark", "sql"), ("spark", "python")]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """(the requests as typed Parquet with an `id`, `rpl eval`'s decision of each by id)."""
    from rplang.replay.api import write_requests

    folder = tmp_path_factory.mktemp("differential")
    policy = load_policy(APUTURE)
    keyed, want = folder / "keyed.jsonl", {}
    with open(keyed, "w") as stream:
        for n, line in enumerate(load_benchmark("gen_corpus").generate_lines(REQUESTS, seed=21), 1):
            decision = policy.decide_json(line)
            want[n] = (decision.outputs_json(), applied_rules(decision))
            stream.write(json.dumps({"id": n, **json.loads(line)}) + "\n")
    text = APUTURE.read_text()
    parquet = folder / "requests.parquet"
    counts = write_requests(load_policy_text(text, str(APUTURE)), text, str(keyed), str(parquet), keys=("id",))
    assert counts.rejected == 0
    return parquet, want


@pytest.mark.slow
@pytest.mark.parametrize("engine, via", PATHS, ids=[f"{e}-{v}" for e, v in PATHS])
def test_every_path_decides_100_000_requests_as_rpl_eval(engine, via, generated, tmp_path):
    if engine == "spark":
        pytest.importorskip("pyspark")
    parquet, want = generated
    out = tmp_path / "out.parquet"
    started = time.perf_counter()
    result = run("replay", APUTURE, parquet, "--engine", engine, "--via", via, "--out", out)
    seconds = time.perf_counter() - started
    assert result.code == 0, result.both
    assert f"{REQUESTS:,} requests: {REQUESTS:,} decided" in result.err
    got = outputs_by_key(load_policy(APUTURE), out, "id")
    assert len(got) == REQUESTS
    differing = [n for n in want if got[n] != want[n]]
    assert not differing, f"{len(differing)} rows differ, the first {differing[0]}: {got[differing[0]]} != {want[differing[0]]}"
    print(f"{engine} {via}: {REQUESTS:,} requests in {seconds:.1f} s")
