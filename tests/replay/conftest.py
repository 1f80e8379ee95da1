"""Inputs shared by the replay tests: the Aputure corpus and generated requests, as JSON lines and
as typed Parquet."""
from __future__ import annotations

import json
import threading

import pytest

from ..conftest import APUTURE, POLICIES, load_benchmark

CORPUS = POLICIES / "aputure" / "corpus.jsonl"
GENERATED = 3000  # generated Aputure requests decided in the default run


@pytest.fixture(scope="session")
def aputure_lines(tmp_path_factory) -> "Path":  # noqa: F821
    """The bundled corpus and generated requests, one JSON request per line."""
    gen_corpus = load_benchmark("gen_corpus")
    path = tmp_path_factory.mktemp("replay") / "aputure.jsonl"
    lines = CORPUS.read_text().splitlines() + list(gen_corpus.generate_lines(GENERATED, seed=11))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="session")
def aputure_parquet(aputure_lines, tmp_path_factory):
    """The same requests as typed Parquet with an `id` column, as an export would hold them."""
    from rplang.replay.api import write_requests
    from rplang.runtime import load_policy_text

    folder = tmp_path_factory.mktemp("replay-parquet")
    keyed = folder / "keyed.jsonl"
    keyed.write_text("".join(json.dumps({"id": f"R{n:05d}", **json.loads(line)}) + "\n"
                             for n, line in enumerate(aputure_lines.read_text().splitlines(), 1)))
    text = APUTURE.read_text()
    out = folder / "aputure.parquet"
    counts = write_requests(load_policy_text(text, str(APUTURE)), text, str(keyed), str(out), keys=("id",))
    assert counts.rejected == 0
    return out


@pytest.fixture(scope="session")
def requests_table():
    """Forty requests as typed rows with an `id`, and one the reader refuses (an unknown enum)."""
    import pyarrow as pa

    from rplang.replay.columns import request_schema
    from rplang.runtime import load_policy

    policy = load_policy(APUTURE)
    rows = [{"id": n, **row} for n, row in enumerate(typed_rows(policy, CORPUS.read_text().splitlines()[:40]), 1)]
    rows[5]["kind"] = "swap"
    schema = pa.schema([pa.field("id", pa.int64()), *request_schema(policy.checked)])
    return pa.Table.from_pylist(rows, schema=schema)


def typed_rows(policy, lines: list[str]) -> list[dict]:
    """JSON requests as rows of their typed columns, as a Parquet export holds them: each as the
    request reader converts it, through Arrow (records as dicts of their fields alone)."""
    import pyarrow as pa

    from rplang.replay.columns import python_values, request_schema

    requests = [policy.read_request(json.loads(line)) for line in lines]
    return python_values(pa.Table.from_pylist(requests, schema=request_schema(policy.checked)))


@pytest.fixture(scope="module")
def spark():
    """A local session, started within a generous bound (a loaded machine starts Java slowly)."""
    pytest.importorskip("pyspark")
    from rplang.replay.engine_spark import STARTUP_TIMEOUT, session

    started: list = []
    thread = threading.Thread(target=lambda: started.append(session("local[2]")), daemon=True)
    thread.start()
    thread.join(STARTUP_TIMEOUT)
    if not started:
        pytest.fail(f"Spark did not start in {STARTUP_TIMEOUT} s")
    yield started[0]
    started[0].stop()
