"""`rpl replay --engine spark` with INPUT and OUT named by URI: Spark lists, reads and writes them
through its Hadoop file systems (`file://` here, `s3a://` or `hdfs://` on a cluster), and decides
exactly what it decides from local paths."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ..cli.conftest import run
from ..conftest import APUTURE

pytest.importorskip("pyspark")

SMALL = Path(__file__).with_name("small.rpl")


def small_lines(first: int, count: int) -> list[str]:
    """Requests of small.rpl with an `id`: some late, some with opened items, dates and prices varied."""
    lines = []
    for n in range(first, first + count):
        delivered = f"2026-0{1 + n % 6}-{1 + n % 27:02d}"
        requested = f"2026-0{1 + (n + n % 3) % 9}-{1 + (n * 7) % 27:02d}"
        items = [{"price": f"{(n * 13) % 200 + 0.5 * (n % 2):.2f}", "opened": k % 2 == n % 2} for k in range(n % 3)]
        lines.append(json.dumps({"id": f"R{n:04d}", "request_date": requested, "delivery_date": delivered,
                                 "items": items}))
    return lines


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    """A folder of two Parquet exports of small.rpl's requests, keyed by `id`."""
    from rplang.replay.api import write_requests
    from rplang.runtime import load_policy_text

    folder = tmp_path_factory.mktemp("uris")
    text = SMALL.read_text()
    (folder / "returns").mkdir()
    for part in (0, 1):
        lines = folder / f"part{part}.jsonl"
        lines.write_text("\n".join(small_lines(part * 100, 60)) + "\n")
        counts = write_requests(load_policy_text(text, str(SMALL)), text, str(lines),
                                str(folder / "returns" / f"part{part}.parquet"), keys=("id",))
        assert counts.rejected == 0
    return folder / "returns"


def rows(out: Path) -> list[dict]:
    """The decided rows, by key."""
    return sorted(pq.read_table(out).to_pylist(), key=lambda row: row["id"])


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_uri_file_folder_or_glob_is_decided_as_its_local_path(spark, exports, via, tmp_path):
    local = tmp_path / "local"
    result = run("replay", SMALL, exports, "--engine", "spark", "--via", via, "--out", local)
    assert result.code == 0, result.both
    want = rows(local)
    assert len(want) == 120
    first = [row for row in want if row["id"] < "R0100"]
    for name, spec, expected in (("folder", exports.as_uri(), want),
                                 ("glob", exports.as_uri() + "/part*.parquet", want),
                                 ("file", (exports / "part0.parquet").as_uri(), first)):
        out = tmp_path / name
        result = run("replay", SMALL, spec, "--engine", "spark", "--via", via, "--out", out.as_uri())
        assert result.code == 0, result.both
        assert f"{len(expected)} requests: {len(expected)} decided" in result.err
        assert f"-> {out.as_uri()}; none rejected" in result.err
        assert rows(out) == expected, name


def test_json_lines_at_a_uri_are_read_by_the_driver_and_rejects_stay_local(spark, tmp_path, monkeypatch):
    lines = small_lines(0, 30)
    lines[4] = "{broken"
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    local = tmp_path / "local.parquet"
    assert run("replay", SMALL, source, "--engine", "spark", "--out", local).code == 2
    monkeypatch.chdir(tmp_path)  # the rejects of an OUT in a store: in the current folder
    out = tmp_path / "decided"
    result = run("replay", SMALL, source.as_uri(), "--engine", "spark", "--out", out.as_uri())
    assert result.code == 2, result.both
    assert f"30 requests: 29 decided (29 in SQL, 0 by the Python path) -> {out.as_uri()}; " \
           "1 rejected -> decided.rejects.jsonl" in result.err
    assert rows(out) == rows(local)
    assert (tmp_path / "decided.rejects.jsonl").read_text() == (tmp_path / "local.rejects.jsonl").read_text()
    assert json.loads((tmp_path / "decided.rejects.jsonl").read_text())["source_row"] == 5


def test_an_out_uri_folder_holding_other_files_is_refused(spark, exports, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run("replay", SMALL, exports.as_uri(), "--engine", "spark", "--out", out.as_uri())
    assert (result.code, result.err) == (64, f"error: --out {out.as_uri()}: a folder holding other files than "
                                             "Parquet parts (notes.txt); name a new folder\n")
    assert (out / "notes.txt").read_text() == "mine"
    for named in (exports.parent.as_uri(), exports.parent):  # the input's folder as a URI, or as a path
        result = run("replay", SMALL, exports.as_uri(), "--engine", "spark", "--out", named)
        assert (result.code, result.err) == (64, f"error: --out {named}: a folder holding the input; name another\n")


def test_a_uri_naming_nothing_or_several_formats_is_refused_by_name(spark, exports, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (tmp_path / "mixed").mkdir()
    (tmp_path / "mixed" / "a.parquet").write_bytes((exports / "part0.parquet").read_bytes())
    (tmp_path / "mixed" / "b.jsonl").write_text(small_lines(0, 1)[0] + "\n")
    for spec, said in ((empty.as_uri() + "/*.parquet", "no Parquet, JSON lines or CSV file found"),
                       (empty.as_uri(), "no Parquet, JSON lines or CSV file found"),
                       ((tmp_path / "gone").as_uri(), "no such file or folder"),
                       ((tmp_path / "mixed").as_uri(), "files of several formats (jsonl, parquet); replay one at a time")):
        result = run("replay", SMALL, spec, "--engine", "spark", "--out", tmp_path / "out")
        assert (result.code, result.err) == (64, f"error: {spec}: {said}\n")


def test_a_scheme_spark_has_no_file_system_for_is_named(spark, tmp_path):
    result = run("replay", SMALL, "nosuch://bucket/returns/", "--engine", "spark", "--out", tmp_path / "out")
    assert (result.code, result.err) == (64, 'error: nosuch://bucket/returns/: Spark has no file system for nosuch:// '
                                             'here (No FileSystem for scheme "nosuch"); put its Hadoop connector on '
                                             "Spark's classpath (s3a://: the hadoop-aws package, docs/replay.md)\n")


def test_duckdb_names_a_uri_as_one_for_spark():
    for args, named in ((["s3a://bucket/returns/*.parquet"], "INPUT s3a://bucket/returns/*.parquet"),
                        (["returns.parquet", "--out", "hdfs://nn/decided"], "--out hdfs://nn/decided")):
        result = run("replay", SMALL, *args)
        assert (result.code, result.err) == (64, f"error: {named}: DuckDB reads and writes local files here; "
                                                 "replay a URI with --engine spark, which reads and writes it where "
                                                 "it is (or download the files)\n")


def test_money_as_double_at_a_uri_is_refused_before_any_row(spark, aputure_parquet, tmp_path):
    import duckdb

    from .test_input_types import AS_DOUBLE, DOUBLE_MONEY

    double = tmp_path / "double.parquet"
    duckdb.sql(f"COPY ({AS_DOUBLE.format(aputure_parquet)} LIMIT 10) TO '{double}'")
    result = run("replay", APUTURE, double.as_uri(), "--engine", "spark", "--out", (tmp_path / "out").as_uri())
    assert (result.code, result.err) == (64, DOUBLE_MONEY.format(file=double.as_uri()))
    assert not (tmp_path / "out").exists()


def test_names_apart_only_by_case_at_a_uri_are_refused_before_any_row(spark, aputure_parquet, tmp_path):
    # a local file's names were checked (duckdb_types.check_names), a URI's not: `ID` was said to be
    # no field of the request, to be kept with --key, where Spark, blind to case, could not read it
    table = pq.read_table(aputure_parquet).slice(0, 10)
    pq.write_table(table.append_column("ID", table.column("id")), tmp_path / "ids.parquet")
    uri = (tmp_path / "ids.parquet").as_uri()
    result = run("replay", APUTURE, uri, "--engine", "spark", "--out", (tmp_path / "out").as_uri())
    assert (result.code, result.err) == (64, f"error: {uri}: the columns `id` and `ID` differ only in case, which "
                                             "DuckDB's names do not tell apart; rename one in the input\n")


@pytest.fixture
def in_spark_only(spark, monkeypatch):
    """The --compare report of a URI computed by Spark where the tables are: DuckDB never reads
    them, and nothing brought to the driver as large as a decided table (120 rows here)."""
    from rplang.replay import compare_runners
    from rplang.replay.uris import is_uri

    attach = compare_runners.DuckDBRunner.attach

    def local_only(runner, name, path):
        assert not is_uri(path), f"DuckDB reads {path}"
        attach(runner, name, path)

    collected = []
    frames = type(spark.range(1))  # the session's own class of DataFrame
    to_arrow = frames.toArrow

    def counted(frame):
        table = to_arrow(frame)
        collected.append(table.num_rows)
        return table

    monkeypatch.setattr(compare_runners.DuckDBRunner, "attach", local_only)
    monkeypatch.setattr(frames, "toArrow", counted)
    yield collected
    assert collected and max(collected) < 120, collected
    # the session is the caller's (a notebook's): the report's views are gone, nothing kept cached
    assert not {"rpl_new", "rpl_old", "pairs"} & {t.name for t in spark.catalog.listTables()}
    assert not spark.sparkContext._jsc.getPersistentRDDs()


def old_policy(tmp_path) -> Path:
    """small.rpl with a longer window: some late requests approved."""
    old = tmp_path / "old.rpl"
    old.write_text(SMALL.read_text().replace("window = 30 days", "window = 60 days"))
    return old


def test_compare_over_a_uri_input_and_out(spark, exports, tmp_path, in_spark_only):
    # its decisions written beside OUT, then removed
    old = old_policy(tmp_path)
    local = tmp_path / "local"
    want = run("replay", SMALL, exports, "--engine", "spark", "--out", local, "--compare", old, "--format", "json")
    assert want.code == 0, want.both
    out = tmp_path / "decided"
    result = run("replay", SMALL, exports.as_uri(), "--engine", "spark", "--out", out.as_uri(),
                 "--compare", old, "--format", "json")
    assert result.code == 0, result.both
    report = json.loads(result.out)
    assert result.out == want.out
    assert report["outcome_changed"] > 0 and report["examples"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decided", "local", "old.rpl"]


# a key of each kind, one of them NULL (sampled after the others, as DuckDB sorts it), 2 of them shared
KEYS = {"struct": "CASE WHEN id <> 'R0001' THEN {'a': id, 'n': 1} END",
        "instant": "CASE WHEN id <> 'R0001' THEN TIMESTAMPTZ '2026-01-01 00:00:00+00' "
                   "+ to_seconds(CAST(substr(id, 2) AS INT)) END",
        "list": "CASE WHEN id <> 'R0001' THEN [id, NULL] END"}


def keyed_parquet(tmp_path, key: str, count: int) -> Path:
    """small.rpl's first `count` requests as Parquet, each keyed by the DuckDB expression `key`
    (of the request's `id`)."""
    import duckdb

    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(small_lines(0, count)) + "\n")
    keyed = tmp_path / "keyed.parquet"
    columns = "{'id': 'VARCHAR', 'request_date': 'DATE', 'delivery_date': 'DATE', " \
              "'items': 'STRUCT(price DECIMAL(18, 2), opened BOOLEAN)[]'}"
    duckdb.sql(f"COPY (SELECT {key} AS id, * EXCLUDE (id) FROM read_json('{source}', "
               f"format='newline_delimited', columns={columns})) TO '{keyed}'")
    return keyed


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_the_report_spark_computes_is_duckdbs_for_keys_of_every_kind(spark, tmp_path, kind, in_spark_only):
    keyed = keyed_parquet(tmp_path, KEYS[kind], 80)
    old = old_policy(tmp_path)
    reports = {}
    for where in ("local", "store"):
        out = tmp_path / where
        named = (out.as_uri(), keyed.as_uri()) if where == "store" else (out, keyed)
        result = run("replay", SMALL, named[1], "--engine", "spark", "--out", named[0], "--compare", old,
                     "--format", "markdown", "--show", "1")
        assert result.code == 0, result.both
        reports[where] = result.out
    assert reports["store"] == reports["local"]
    # the one transition's first changed row by key: not the NULL one
    assert reports["store"].count("<details") == 1 and "id=None" not in reports["store"]
    assert "money change by outcome transition" in reports["store"]


def test_out_and_rejects_of_a_uri_by_default():
    # OUT beside INPUT, as for a local one; the rejects, which the driver writes, in the current folder
    from rplang.replay.run import default_out, rejects_path
    from rplang.replay.sources import Source

    both = Source(("s3a://b/returns/2025/a.parquet", "s3a://b/returns/2025/b.v2.parquet"), "parquet")
    assert default_out("s3a://b/returns/2025/", both) == "s3a://b/returns/2025.decided.parquet"
    assert default_out("s3a://b/returns/2025/*.parquet", both) == "s3a://b/returns/2025/a.decided.parquet"
    one = Source(("hdfs://nn/returns/b.v2.parquet",), "parquet")
    assert default_out("hdfs://nn/returns/b.v2.parquet", one) == "hdfs://nn/returns/b.v2.decided.parquet"
    assert rejects_path("s3a://b/decided/2025.decided.parquet") == "2025.decided.rejects.jsonl"
    assert rejects_path("s3a://b/decided/2025/") == "2025.rejects.jsonl"


def test_rejects_named_by_a_uri_are_refused(exports, tmp_path):
    result = run("replay", SMALL, exports, "--engine", "spark", "--out", tmp_path / "out",
                 "--rejects", "s3a://bucket/rejects.jsonl")
    assert (result.code, result.err) == (64, "error: --rejects s3a://bucket/rejects.jsonl: the rejects are written "
                                             "here, by the driver; name a local file\n")


def test_a_map_key_spark_cannot_compare_is_named(spark, tmp_path):
    keyed = keyed_parquet(tmp_path, "{'m': MAP {'id': id}}", 20)
    result = run("replay", SMALL, keyed.as_uri(), "--engine", "spark", "--out", (tmp_path / "out").as_uri(),
                 "--compare", old_policy(tmp_path))
    # the rows are decided (OUT is written) before their keys are joined
    assert result.code == 64 and result.err.splitlines()[-1] == (
        "error: --compare joins the decisions on their keys, and Spark cannot compare the map in id; name key "
        "columns of other types with --key, or decide the rows from local files, where DuckDB compares maps")
    assert "internal error" not in result.err
