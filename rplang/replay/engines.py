"""The engines a replay runs in: DuckDB here, or Spark at a master; each imported when chosen."""


def engine_for(name: str, master: str, con=None):
    """The function that decides a job in DuckDB (on `con`, a connection already open, if given),
    or in Spark at `master`."""
    if name == "spark":
        from .engine_spark import replay_spark

        return lambda job, out, rejects: replay_spark(job, out, rejects, master)
    from .engine_duckdb import replay_duckdb

    return lambda job, out, rejects: replay_duckdb(job, out, rejects, con)
