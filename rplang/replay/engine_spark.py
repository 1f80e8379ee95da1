"""Spark (local mode by default, `--master` for a cluster): the same query in Spark SQL's dialect;
the rows it hands back, or every row `--via python`, decided by the runtime with `mapInArrow`.

Workers compile the policy from its text (a compiled policy holds generated code, which does not
travel): once per worker process, from the compiled-policy cache after the first time.
"""
from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sys
from pathlib import Path

import pyarrow as pa
from sqlglot import exp

from .columns import decision_schema, python_values
from .duckdb_types import schema_conforms
from .errors import ReplayError
from .lowering import ROW as ALIAS
from .python_path import ERROR, PythonDecider
from .query import PolicyQuery, business_day_tables
from .read_workers import typed_input
from .run import Counts, RejectsFile, Replay, input_keys
from .sources import FILE, ROW
from .sql import spark_dialect
from .views import BUSINESS_DAYS, CALENDAR, FALLBACK, INPUT, REQUEST

LOG_SETTINGS = Path(__file__).with_name("spark-log4j2.properties")
PLACE = "__rpl_place_"  # the view's column of a row's place in its file: `__rpl_place_source_row`
STARTUP_TIMEOUT = 180  # seconds a local Spark may take to start on a loaded machine
# Exact decimals and SQL's NULLs, as the lowering expects: without ANSI mode a failing cast or an
# out-of-range index is NULL (handed to the Python path), and products keep every digit.
# A plan's text is capped: Spark's UI keeps each query's, and the policy's query, lambdas within
# lambdas, prints long enough to exhaust a 1 GB driver (a notebook's session, UI on, 500 rows).
SETTINGS = {"spark.sql.ansi.enabled": "false", "spark.sql.decimalOperations.allowPrecisionLoss": "false",
            "spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false", "spark.sql.session.timeZone": "UTC",
            "spark.sql.execution.arrow.pyspark.enabled": "true", "spark.sql.shuffle.partitions": "4",
            "spark.sql.maxPlanStringLength": "100000"}
WAREHOUSE = "spark.sql.warehouse.dir"


def session(master: str = "local[*]"):
    """A Spark session for replays (the active one, if there is one: its log and its warehouse
    left as they are)."""
    from pyspark.sql import SparkSession

    options = {"spark.master": master, "spark.app.name": "rpl replay"}
    ours = SparkSession.getActiveSession() is None
    if master.startswith("local"):  # the workers are this machine's: this interpreter, with rplang
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if ours:  # errors only on the terminal, from the JVM's start (a cluster's log is its own)
            options["spark.driver.extraJavaOptions"] = f'-Dlog4j2.configurationFile="{LOG_SETTINGS}"'
    options.update(SETTINGS)
    if ours:
        options.update(_temporary_warehouse(options))
    builder = SparkSession.builder
    for key, value in options.items():
        builder = builder.config(key, value)
    return configure(builder.getOrCreate())


def _temporary_warehouse(options: dict) -> dict:
    """`spark.sql.warehouse.dir` in a temporary folder, removed at exit, for a Spark started now
    whose user's settings (spark-defaults.conf, PYSPARK_SUBMIT_ARGS, a hive-site.xml) place no
    warehouse: Spark's own is `spark-warehouse` in the current folder, made there, and left, as
    soon as anything looks in the catalog (a query naming a function Spark lacks does). A
    replay keeps no table: the folder only has to be somewhere. On the driver's disk (`file:`),
    as Spark's own is, with `--master` a cluster too."""
    import atexit
    import shutil
    import tempfile

    from pyspark import SparkConf, SparkContext

    connect = any(k in os.environ for k in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED")) or \
        os.environ.get("SPARK_API_MODE", "").lower() == "connect"
    if SparkContext._active_spark_context is not None or connect:  # its warehouse is fixed, or the server's
        return {}
    # the JVM started with `options` (the log's settings are the JVM's), as getOrCreate would start
    # it: its settings are then the user's and these, which name no warehouse
    SparkContext._ensure_initialized(conf=SparkConf(loadDefaults=False).setAll(options.items()))
    settings = SparkConf()
    hive_site = SparkContext._jvm.org.apache.spark.util.Utils.getContextOrSparkClassLoader().getResource(
        "hive-site.xml")
    if (settings.contains(WAREHOUSE) or settings.contains("spark.hadoop.hive.metastore.warehouse.dir")
            or settings.get("spark.sql.catalogImplementation") == "hive" or hive_site is not None):
        return {}
    folder = tempfile.mkdtemp(prefix="rpl-spark-warehouse-")
    atexit.register(shutil.rmtree, folder, True)
    return {WAREHOUSE: Path(folder).as_uri()}


def configure(spark):
    """The settings of SETTINGS a session already started takes (not the UI's): the active
    session `rpl replay` finds, or a notebook's."""
    for key, value in SETTINGS.items():
        if not key.startswith("spark.ui."):
            spark.conf.set(key, value)
    return spark


def replay_spark(replay: Replay, out: str, rejects: RejectsFile, master: str = "local[*]", spark=None) -> Counts:
    keys = input_keys(replay)  # the input's columns checked before Spark, slow to start, is started
    spark = spark or session(master)
    counts = Counts()
    key_columns, read_here = load_input(spark, replay, keys, rejects, counts)
    query = PolicyQuery(replay.compiled, key_columns, replay.version, replay.hash)
    select = query.python_only(INPUT) if replay.via == "python" else query.select(INPUT)
    register_calendar(spark, replay, query)
    by_sql, by_python = decide_fallback(spark.sql(select.sql(dialect=spark_dialect())), replay, tuple(key_columns))
    by_python = by_python.cache()  # the few rows the runtime decides: decided once, read twice
    try:
        with executors_import(spark):
            # through Arrow, as the decided rows: a key's date past 9999, which Python has none of, as its text
            refused = python_values(by_python.filter(by_python[ERROR].isNotNull()).select(*key_columns, ERROR).toArrow())
            rejects.write([{**{k: own[k] for k in key_columns}, ERROR: json.loads(own[ERROR])} for own in refused])
            decided_by_python = by_python.filter(by_python[ERROR].isNull()).drop(ERROR)
            decided = decided_by_python if by_sql is None else by_sql.unionByName(decided_by_python)
            with writing_out(spark, out):
                decided.write.mode("overwrite").parquet(out)
            counts.by_python = decided_by_python.count()
    finally:
        by_python.unpersist()
    counts.by_sql = spark.read.parquet(out).count() - counts.by_python  # from the files' metadata
    if not read_here:
        counts.rows = counts.by_sql + counts.by_python + len(refused)
    return counts


@contextlib.contextmanager
def executors_import(spark):
    """An executor's Python that cannot import what `mapInArrow`'s step needs as an error saying
    so. Spark hands the step to every task, rows handed back or none: every executor needs rplang
    (with pyarrow) under the Python PYSPARK_PYTHON names, not only those that get such rows."""
    from pyspark.errors import PythonException

    try:
        yield
    except PythonException as error:
        missing = re.search(r"ModuleNotFoundError: No module named '([^']+)'", str(error))
        if missing is None:
            raise
        raise ReplayError(f"Spark's executors cannot import {missing[1]}: they decide the rows the query hands "
                          f"back, and every row --via python, with rplang's runtime; install rplang[replay] for the "
                          f"Python they run ({spark.sparkContext.pythonExec}; set PYSPARK_PYTHON to name another)") \
            from None


@contextlib.contextmanager
def writing_out(spark, out: str):
    """Spark's error writing OUT (a folder it cannot make, no permission, a full disk: a Java
    IOException, which was reported as a bug in rpl) as an OSError naming OUT: exit 73, as on DuckDB."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 (py4j's, from the JVM; any other is raised as it is)
        said = _io_cause(spark, error)
        if said is None:
            raise
        import errno

        raise OSError(errno.EIO, said, out) from None


def _io_cause(spark, error: Exception) -> str | None:
    """The message of the first java.io.IOException among the causes of a JVM error, or None."""
    from py4j.java_gateway import is_instance_of

    cause = getattr(error, "java_exception", None)
    gateway = spark.sparkContext._gateway
    for _ in range(20):  # a chain of causes, never a cycle
        if cause is None:
            return None
        if is_instance_of(gateway, cause, "java.io.IOException"):
            return str(cause.getMessage())
        cause = cause.getCause()
    return None


def load_input(spark, replay: Replay, keys: tuple[str, ...], rejects: RejectsFile, counts: Counts):
    from .columns import request_schema

    expected = request_schema(replay.compiled.checked)
    source = replay.source
    # each file's columns as Arrow reads them, as Spark does
    schemas = [_schema(f) for f in source.files] if source.format == "parquet" else []
    if schemas and all(schema_conforms(schema, expected) for schema in schemas):
        reader = spark.read
        if any(schema != schemas[0] for schema in schemas):
            # Spark reads every file as one of them is typed, and merges no INT with a BIGINT:
            # told the widest of each column (input_keys has checked each key to be of one kind
            # in every file, and here each file's request columns conform), it reads them all
            from pyspark.sql.pandas.types import from_arrow_schema

            reader = reader.schema(from_arrow_schema(pa.unify_schemas(schemas, promote_options="permissive")))
        frame = reader.parquet(*source.files)
        if keys:
            frame.createOrReplaceTempView(INPUT)
            return {k: exp.column(k, table=ALIAS, quoted=True) for k in keys}, False
        # each row's place from the file's metadata, a column of the view: the query cannot reach
        # the file's hidden `_metadata` through the view, and the input may hold a `source_row` of
        # its own (write_requests keeps one), which the place replaces, as in DuckDB
        from pyspark.sql import functions as F

        places = {ROW: F.col("_metadata.row_index") + 1, FILE: F.col("_metadata.file_path")}
        places = {k: v for k, v in places.items() if k == ROW or len(source.files) > 1}
        frame.select("*", *[v.alias(PLACE + k) for k, v in places.items()]).createOrReplaceTempView(INPUT)
        return {k: exp.column(PLACE + k, table=ALIAS, quoted=True) for k in places}, False
    table = pa.Table.from_batches(list(typed_input(replay, keys, rejects, counts)))
    spark.createDataFrame(table).createOrReplaceTempView(INPUT)
    names = [n for n in table.schema.names if n not in expected.names]
    return {k: exp.column(k, table=ALIAS, quoted=True) for k in names}, True


def _schema(file: str) -> pa.Schema:
    """A Parquet file's columns, as Arrow reads them (as Spark does)."""
    import pyarrow.parquet as pq

    from .uris import parquet_source

    with parquet_source(file) as parquet:
        return pq.read_schema(parquet)


def register_calendar(spark, replay: Replay, query: PolicyQuery) -> None:
    """The business-day tables, as temporary views of the session."""
    tables = business_day_tables(replay, query, lambda select: spark.sql(select.sql(dialect=spark_dialect())).collect()[0])
    if tables is not None:
        spark.createDataFrame(tables[0]).createOrReplaceTempView(CALENDAR)
        spark.createDataFrame(tables[1]).createOrReplaceTempView(BUSINESS_DAYS)


def decide_fallback(rows, replay: Replay, keys: tuple[str, ...]):
    """(the rows the SQL decided (None `--via python`), the others decided by the runtime in
    `mapInArrow`, with the column `error`: a reject's error as JSON, else null)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    key_schema = rows.select(*keys).limit(0).toArrow().schema
    schema = decision_schema(replay.compiled.checked, key_schema)
    with_error = pa.schema(list(schema) + [pa.field(ERROR, pa.string())])
    decide = functools.partial(_decide_partition, replay.text, replay.compiled.checked.source_name,
                               replay.hash, schema, with_error, keys)
    by_python = rows.filter(rows[FALLBACK]).select(*keys, REQUEST).mapInArrow(decide, from_arrow_schema(with_error))
    by_sql = None if replay.via == "python" else rows.filter(~rows[FALLBACK]).select(*schema.names)
    return by_sql, by_python


@functools.lru_cache(maxsize=4)
def _compiled(text: str, name: str):
    from rplang.runtime import load_policy_text

    return load_policy_text(text, name, cache=True)


def _decide_partition(text: str, name: str, text_hash: str, schema: pa.Schema, with_error: pa.Schema,
                      keys: tuple, batches):
    decider = PythonDecider(_compiled(text, name), text_hash, schema, keys)
    for batch in batches:
        table, refused = decider.decide_columns(batch, REQUEST)
        yield from table.append_column(ERROR, pa.nulls(table.num_rows, pa.string())).to_batches()
        if refused:
            rows = [{**{k: r[k] for k in keys}, ERROR: json.dumps(r[ERROR], ensure_ascii=False)} for r in refused]
            yield from pa.Table.from_pylist(decider.arrow_rows(rows), schema=with_error).to_batches()
