"""Where `--compare`'s queries run: DuckDB over decided tables in local files, Spark over those in
a cluster's store (a URI), where they are; the report's queries are built once (compare.py), in
SQLGlot, and written in the runner's dialect. Only their small results come back: counts, sums,
the keys of the sample."""
from __future__ import annotations

from pathlib import Path

from sqlglot import exp


class DuckDBRunner:
    """A DuckDB connection, the decided tables read from their Parquet files."""

    dialect = "duckdb"

    def __init__(self):
        import duckdb

        self.con = duckdb.connect()

    def attach(self, name: str, path: str) -> None:
        """A Parquet file, or a folder of them (as Spark writes), as the view `name`."""
        target = str(Path(path) / "*.parquet") if Path(path).is_dir() else path
        self.view(name, exp.select(exp.Star()).from_(exp.func("READ_PARQUET", exp.Literal.string(target))))

    def view(self, name: str, select: exp.Select) -> None:
        self.con.sql(select.sql(dialect=self.dialect)).create_view(name)

    def rows(self, select: exp.Select) -> list[tuple]:
        return self.con.sql(select.sql(dialect=self.dialect)).fetchall()

    def columns(self, select: exp.Select) -> list[str]:
        return [c[0] for c in self.con.sql(select.sql(dialect=self.dialect)).description]

    def uncomparable(self, name: str, keys: list[str]) -> list[str]:
        """The key columns of `name` the engine cannot group or join on: none in DuckDB."""
        return []

    def close(self) -> None:
        self.con.close()


class SparkRunner:
    """A Spark session, the decided tables read where they are: its temporary views, dropped
    when done; results brought to the driver through Arrow, as python_rows reads keys."""

    def __init__(self, spark):
        from .sql import spark_dialect

        self.spark, self.dialect = spark, spark_dialect()
        self.views: list[str] = []
        self.cached: list = []

    def attach(self, name: str, path: str) -> None:
        self._register(name, self.spark.read.parquet(path))

    def view(self, name: str, select: exp.Select) -> None:
        # kept by the executors: every count and sum of the report reads it again, and it is the
        # join of the two decided tables
        frame = self.spark.sql(select.sql(dialect=self.dialect)).cache()
        self.cached.append(frame)
        self._register(name, frame)

    def rows(self, select: exp.Select) -> list[tuple]:
        from .columns import python_values

        table = self.spark.sql(select.sql(dialect=self.dialect)).toArrow()
        return list(zip(*(python_values(column) for column in table.columns)))

    def columns(self, select: exp.Select) -> list[str]:
        return self.spark.sql(select.sql(dialect=self.dialect)).columns

    def uncomparable(self, name: str, keys: list[str]) -> list[str]:
        """The key columns of `name` that hold a map, anywhere within: Spark cannot compare maps,
        so it can neither group nor join on them."""
        schema = self.spark.table(name).schema
        return [k for k in keys if _holds_map(schema[k].dataType)]

    def close(self) -> None:
        for frame in self.cached:
            frame.unpersist()
        for name in self.views:
            self.spark.catalog.dropTempView(name)

    def _register(self, name: str, frame) -> None:
        frame.createOrReplaceTempView(name)
        self.views.append(name)


def _holds_map(data_type) -> bool:
    """Whether a Spark type is a map or holds one (in a struct's field or a list's elements)."""
    from pyspark.sql import types

    if isinstance(data_type, types.MapType):
        return True
    if isinstance(data_type, types.StructType):
        return any(_holds_map(field.dataType) for field in data_type.fields)
    return isinstance(data_type, types.ArrayType) and _holds_map(data_type.elementType)
