"""`rpl replay --engine spark` in local mode: the same query in Spark SQL's dialect, and the
runtime in `mapInArrow`, give exactly what `rpl eval` gives. One session for the module."""
from __future__ import annotations

import functools
import os
import json
from pathlib import Path

import pytest

from rplang.replay.columns import applied_rules
from rplang.runtime import load_policy

from ..cli.conftest import run
from ..conftest import APUTURE, POLICIES
from .conftest import assert_widest, of_two_widths, requests_table  # noqa: F401 (a fixture)
from .outputs import outputs_by_key
from .test_random_policies import FOUND_SEEDS, decide_seed

pytest.importorskip("pyspark")


def test_the_sql_path_on_spark_decides_the_aputure_export_as_rpl_eval(spark, aputure_parquet, aputure_lines, tmp_path):
    out = tmp_path / "out"
    result = run("replay", APUTURE, aputure_parquet, "--engine", "spark", "--out", out)
    assert result.code == 0, result.both
    policy = load_policy(APUTURE)
    lines = aputure_lines.read_text().splitlines()
    assert f"{len(lines):,} decided ({len(lines):,} in SQL, 0 by the Python path)" in result.err
    want = {}
    for number, line in enumerate(lines, 1):
        decision = policy.decide_json(line)
        want[f"R{number:05d}"] = (decision.outputs_json(), applied_rules(decision))
    assert outputs_by_key(policy, out, "id") == want


def test_a_parquet_export_without_keys_is_keyed_by_its_rows_on_spark(spark, tmp_path):
    """Rows numbered from each file's own row index, as in DuckDB: with or without the `source_row`
    column `write_requests` keeps (a Parquet input without keys stopped with an internal error:
    the row index of Spark's file metadata cannot be read through the input's view)."""
    import pyarrow.parquet as pq

    from rplang.replay.api import write_requests
    from rplang.runtime import load_policy_text

    text = APUTURE.read_text()
    export = tmp_path / "export.parquet"
    write_requests(load_policy_text(text, str(APUTURE)), text, str(POLICIES / "aputure" / "corpus.jsonl"), str(export))
    bare = tmp_path / "bare.parquet"
    pq.write_table(pq.read_table(export).drop_columns(["source_row"]), bare)
    policy = load_policy(APUTURE)
    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()
    want = {n: (d.outputs_json(), applied_rules(d)) for n, d in enumerate(map(policy.decide_json, lines), 1)}
    for source in (export, bare):
        out = tmp_path / f"{source.stem}.out"
        result = run("replay", APUTURE, source, "--engine", "spark", "--out", out)
        assert result.code == 0, result.both
        assert f"{len(lines)} decided ({len(lines)} in SQL" in result.err
        assert outputs_by_key(policy, out, "source_row") == want


def test_the_python_path_on_spark_runs_the_runtime_in_map_in_arrow(spark, tmp_path):
    holidays = POLICIES / "aputure_holidays.rpl"
    good = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[:40]
    lines = good[:20] + ["{broken", json.dumps({"request_date": "2026-01-01"})] + good[20:]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    found = {}
    for engine in ("spark", "duckdb"):
        out = tmp_path / f"{engine}.parquet"
        result = run("replay", holidays, source, "--engine", engine, "--via", "python", "--out", out,
                     "--master", "local[2]")
        assert result.code == 2, result.both
        assert f"{len(lines)} requests: 40 decided (by the Python path)" in result.err
        found[engine] = (outputs_by_key(load_policy(holidays), out, "source_row"),
                         (tmp_path / f"{engine}.rejects.jsonl").read_text())
    assert found["spark"] == found["duckdb"]
    assert [json.loads(r)["source_row"] for r in found["spark"][1].splitlines()] == [21, 22]


def test_a_spark_dataframe_gives_a_spark_dataframe(spark, requests_table):
    from rplang.replay.api import decide

    from .test_api import expected, summary

    result = decide(APUTURE, spark.createDataFrame(requests_table), via="python")  # the SQL is tested above
    assert type(result).__module__.startswith("pyspark")
    assert summary(result.toArrow().to_pylist()) == (expected(), [(6, "$.kind")])


def test_dates_and_rule_values_on_spark_as_rpl_eval(spark, tmp_path):
    from .test_dates import dated_requests
    from .test_duckdb import expected

    path, source, lines = dated_requests(tmp_path)
    out = tmp_path / "out"
    result = run("replay", path, source, "--engine", "spark", "--out", out, "--via", "sql")
    assert result.code == 0, result.both
    assert f"{len(lines):,} decided ({len(lines):,} in SQL, 0 by the Python path)" in result.err
    policy = load_policy(path)
    assert outputs_by_key(policy, out, "source_row") == expected(policy, lines)


def test_dates_python_has_none_of_and_a_record_key_on_spark_as_on_duckdb(spark, tmp_path):
    # a business-day count from a date before the year 1 or past 9999, and rejects named by a record
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .test_dates import FAR_DAYS, _far_date_table

    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[:5]
    table = _far_date_table(lines, "purchase_date", dict(zip((1, 2, 3), FAR_DAYS)))
    ids = [{"n": n, "day": day} for n, day in zip(table.column("id").to_pylist(), table.column("request_date").to_pylist())]
    pq.write_table(table.set_column(0, "key", pa.array(ids)), tmp_path / "in.parquet")
    found = []
    for engine in ("duckdb", "spark"):
        out = tmp_path / f"{engine}.parquet"
        result = run("replay", APUTURE, tmp_path / "in.parquet", "--key", "key", "--engine", engine, "--out", out)
        assert result.code == 2 and "5 requests: 2 decided" in result.err and "3 rejected" in result.err, result.both
        rejects = (tmp_path / f"{engine}.rejects.jsonl").read_text().splitlines()
        found.append((sorted(map(repr, pq.read_table(out).to_pylist())),
                      sorted(json.loads(line)["key"]["n"] for line in rejects), sorted(rejects)))
    assert found[0][1] == [2, 3, 4] and found[1] == found[0]


def test_an_amount_too_large_for_its_column_is_a_reject_on_spark(spark, tmp_path):
    from .test_amounts import expected_large, replay_large

    assert replay_large(tmp_path, "--engine", "spark") == expected_large()


@pytest.mark.parametrize("seed", FOUND_SEEDS)
def test_policies_the_long_run_found_decide_in_spark_sql_as_the_runtime(spark, seed, tmp_path):
    from rplang.replay.engine_spark import replay_spark

    engine = functools.partial(replay_spark, spark=spark)
    assert decide_seed(seed, tmp_path, engine), f"seed {seed} is not lowered any more: it tests nothing"


@pytest.mark.parametrize("name", ["bestbuy", "mixed_store"])
def test_outcomes_per_item_and_tables_on_spark_as_rpl_eval(spark, name, tmp_path):
    import random

    from .test_duckdb import expected
    from .test_per_item import Mutator, bundled_requests

    path = POLICIES / f"{name}.rpl"
    policy = load_policy(path)
    own = bundled_requests(name)
    mutator = Mutator(policy, own, random.Random(name))
    lines = [json.dumps(r) for r in own + [mutator.request() for _ in range(60)]]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = run("replay", path, source, "--engine", "spark", "--out", out, "--via", "sql")
    assert result.code == 0, result.both
    assert f"{len(lines):,} decided ({len(lines):,} in SQL, 0 by the Python path)" in result.err
    assert outputs_by_key(policy, out, "source_row") == expected(policy, lines)


def test_a_spark_dataframe_of_a_session_of_its_own_is_decided_in_sql(spark, requests_table):
    """A notebook's session, made without rpl: `decide` gives it the settings the query needs
    (exact decimals, a failed step a NULL, plan texts capped: Spark's UI keeps each query's plan
    text, and with a 1 GB driver a notebook's session ran out of memory on 500 rows)."""
    from rplang.replay.api import decide
    from rplang.replay.engine_spark import SETTINGS

    from .test_api import expected, summary

    own = spark.newSession()  # the same Spark, the SQL settings of a session made without rpl
    own.conf.set("spark.sql.ansi.enabled", "true")
    result = decide(APUTURE, own.createDataFrame(requests_table))
    assert summary(result.toArrow().to_pylist()) == (expected(), [(6, "$.kind")])
    assert {k: own.conf.get(k) for k in SETTINGS if k.startswith("spark.sql.")} == \
        {k: v for k, v in SETTINGS.items() if k.startswith("spark.sql.")}


def test_an_out_folder_holding_other_files_is_refused_before_spark_starts(aputure_parquet, tmp_path):
    # Spark overwrites OUT, a folder, whole: only an empty folder or an earlier replay's is replaced
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = run("replay", APUTURE, aputure_parquet, "--engine", "spark", "--out", out)
    assert result.code == 64, result.both
    assert f"error: --out {out}: a folder holding other files than Parquet parts (notes.txt)" in result.err
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="a folder no one may make a folder in")
def test_an_out_spark_cannot_write_is_named_and_the_earlier_rejects_kept(spark, aputure_parquet, tmp_path):
    """Spark's IOException writing OUT was an internal error (exit 70, "a bug in rpl"); the rejects
    file an earlier run left was removed, as by a run without rejects."""
    out, rejects = Path(f"/proc/rpl-replay-{os.getpid()}"), tmp_path / "rejects.jsonl"
    rejects.write_text("an earlier run's\n")
    result = run("replay", APUTURE, aputure_parquet, "--engine", "spark", "--out", out, "--rejects", rejects)
    assert result.code == 73 and "internal error" not in result.err, result.both
    assert result.err.splitlines()[-1].startswith(f"error: {out}: Mkdirs failed to create "), result.err
    assert rejects.read_text() == "an earlier run's\n" and os.listdir(tmp_path) == ["rejects.jsonl"]


def test_a_spark_dataframe_with_money_as_double_is_refused_by_name(spark, requests_table):
    import duckdb

    from rplang.replay.api import decide
    from rplang.replay.errors import ReplayError

    from .test_input_types import AS_DOUBLE, DOUBLE_MONEY

    table = duckdb.sql(AS_DOUBLE.format("requests_table").replace("'requests_table'", "requests_table")).to_arrow_table()
    with pytest.raises(ReplayError) as raised:
        decide(APUTURE, spark.createDataFrame(table))
    assert "error: " + str(raised.value) + "\n" == DOUBLE_MONEY.format(file="the DataFrame")


@pytest.mark.parametrize("via", ["sql", "python"])
def test_json_keys_of_several_types_or_too_large_are_named_on_spark(spark, via, tmp_path):
    line = json.loads((POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()[0])
    source = tmp_path / "in.jsonl"
    for keys, said in (([1, "A2"], "holds values of more than one type: line 2 of "),
                       ([1, 10 ** 20], "holds a whole number too large for a 64-bit integer column")):
        source.write_text("".join(json.dumps({"id": key, **line}) + "\n" for key in keys))
        result = run("replay", APUTURE, source, "--engine", "spark", "--out", tmp_path / "out", "--via", via)
        assert result.code == 64 and "internal error" not in result.both, result.both
        assert f"error: the key `id` {said}" in result.err


@pytest.mark.parametrize("via", ["sql", "python"])
def test_a_key_of_a_date_python_has_none_of_is_kept_on_spark(spark, via, tmp_path):
    # `--via python` decided it on Spark's workers, which stopped with an Arrow error (exit 70)
    from .test_dates import test_a_key_of_a_date_python_has_none_of_is_kept_as_the_file_holds_it as kept

    kept(tmp_path, via, engine="spark")


def test_the_files_of_a_folder_may_hold_numbers_of_other_widths_on_spark(spark, aputure_parquet, tmp_path):
    # Spark merges no INT with a BIGINT, and read the second file as the first is typed: an error
    # reported as a bug in rpl
    import pyarrow.parquet as pq

    folder, alone = of_two_widths(aputure_parquet, tmp_path)
    result = run("replay", APUTURE, folder, "--engine", "spark", "--out", tmp_path / "out")
    assert result.code == 0, result.both
    assert run("replay", APUTURE, alone, "--out", tmp_path / "alone.decided.parquet").code == 0
    assert_widest(pq.read_table(tmp_path / "out"), pq.read_table(tmp_path / "alone.decided.parquet"))


def test_a_local_spark_the_command_starts_says_only_errors_on_the_terminal(aputure_parquet, tmp_path):
    """Spark's warnings about this machine (its network name, Hadoop's native library) and about
    its own plans' length buried rpl's own lines: a local Spark the command starts logs errors
    only. (The JVM's own notice of its incubator modules, and Spark's of the shell's level, stay.)"""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("SPARK_")}
    result = subprocess.run([sys.executable, "-m", "rplang.cli", "replay", str(APUTURE), str(aputure_parquet),
                             "--engine", "spark", "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr
    assert " decided (" in result.stderr
    noise = [line for line in result.stderr.splitlines() if " WARN " in line or "log4j" in line]
    assert noise == []


def _in_own_process(script: str, cwd, **env) -> str:
    """What a Python `script` prints, run where a user runs `rpl` (`cwd`), with a Spark of its own."""
    import subprocess
    import sys

    environ = {k: v for k, v in os.environ.items() if not k.startswith("SPARK_")} | env
    result = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=600,
                            env=environ)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_replay_leaves_nothing_in_the_current_folder(aputure_lines, tmp_path):
    """Spark's warehouse, `spark-warehouse` in the current folder unless set, was made there as
    soon as anything looked in the catalog (a query naming a function Spark lacks, a notebook's
    `listTables`), and left: it is in a temporary folder, removed at exit."""
    here, temporary = tmp_path / "here", tmp_path / "temporary"
    here.mkdir()
    temporary.mkdir()
    (here / "in.jsonl").write_text("".join(aputure_lines.read_text().splitlines(keepends=True)[:20]))
    said = _in_own_process(f"""
from rplang.cli import main
from rplang.replay.engine_spark import session
spark = session("local[1]")
spark.catalog.listTables()
print(spark.conf.get("spark.sql.warehouse.dir"))
main(["replay", {str(APUTURE)!r}, "in.jsonl", "--engine", "spark", "--out", "out"])
""", here, TMPDIR=str(temporary))
    assert sorted(p.name for p in here.iterdir()) == ["in.jsonl", "out"]
    assert said.startswith(f"file:{temporary}")
    assert list(temporary.iterdir()) == []  # removed at exit


def test_a_warehouse_the_user_set_is_spark_s(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "spark-defaults.conf").write_text(f"spark.sql.warehouse.dir {(tmp_path / 'mine').as_uri()}\n")
    said = _in_own_process("""
from rplang.replay.engine_spark import session
print(session("local[1]").conf.get("spark.sql.warehouse.dir"))
""", tmp_path, SPARK_CONF_DIR=str(conf))
    assert said.strip() == f"file:{tmp_path / 'mine'}"


def test_spark_connect_starts_no_jvm_for_a_warehouse(tmp_path):
    """A Spark Connect session's warehouse is its server's: no JVM is started here to read settings."""
    said = _in_own_process("""
from pyspark import SparkContext
from rplang.replay.engine_spark import _temporary_warehouse
print(_temporary_warehouse({"spark.master": "local[1]"}), SparkContext._gateway)
""", tmp_path, SPARK_REMOTE="sc://localhost:1")
    assert said.split() == ["{}", "None"]
