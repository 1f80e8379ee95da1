"""Inputs shared by the replay tests: the Aputure corpus and generated requests, as JSON lines and
as typed Parquet."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from ..conftest import APUTURE, POLICIES, load_benchmark

CORPUS = POLICIES / "aputure" / "corpus.jsonl"
GENERATED = 3000  # generated Aputure requests decided in the default run


@pytest.fixture(scope="session")
def aputure_lines(tmp_path_factory) -> Path:
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


def of_two_widths(aputure_parquet, tmp_path) -> tuple[Path, Path]:
    """A folder of two files of the same 20 requests, the first's keys 32-bit integers and its
    items' prices DECIMAL(9,2), the second's 64-bit past 2**31 and DECIMAL(18,2); and the
    requests in one file, keyed 0 to 19."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def retyped(table: pa.Table, key, price) -> pa.Table:
        items = table.schema.field("items").type.value_type
        fields = [pa.field(f.name, price) if f.name == "price" else f for f in items]
        schema = table.schema.set(table.schema.get_field_index("items"), pa.field("items", pa.list_(pa.struct(fields))))
        return table.cast(schema.set(0, pa.field("id", key)))
    table = pq.read_table(aputure_parquet).slice(0, 20)
    table = table.set_column(0, "id", pa.array(range(20), pa.int64()))
    folder = tmp_path / "two_widths"
    folder.mkdir()
    pq.write_table(retyped(table.slice(0, 10), pa.int32(), pa.decimal128(9, 2)), folder / "a.parquet")
    wide = table.slice(10).set_column(0, "id", pa.array(range(WIDE, WIDE + 10), pa.int64()))
    pq.write_table(retyped(wide, pa.int64(), pa.decimal128(18, 2)), folder / "b.parquet")
    pq.write_table(table, tmp_path / "alone.parquet")
    return folder, tmp_path / "alone.parquet"


WIDE = 3_000_000_010  # the second file's first key, past a 32-bit integer


def assert_widest(decided, alone) -> None:
    """The decisions of `of_two_widths`' folder are those of its requests in one file, keyed by
    64-bit integers."""
    import pyarrow as pa

    decided, alone = decided.sort_by("id"), alone.sort_by("id")
    assert decided.schema.field("id").type == pa.int64()
    assert decided.column("id").to_pylist() == [*range(10), *range(WIDE, WIDE + 10)]
    assert decided.drop_columns(["id"]) == alone.drop_columns(["id"])
