"""`rpl replay`: decide past requests where they are, in DuckDB or Spark."""
from __future__ import annotations

import contextlib
import json
import sys
from importlib.util import find_spec

import click

from rplang.inputs import EXIT_CANTCREAT, EXIT_OK, EXIT_REQUEST, EXIT_USAGE, fail_policy, no_empty_path
from rplang.policy_lang.errors import PolicyError
from rplang.terminal import COMMAND_SETTINGS, printable

from .engines import engine_for
from .errors import NotLowerable, ReplayError


def load(spec: str, known_enough: bool = False, con=None):
    """(compiled policy, its text, its name, what is known of it) from a path or `git:REV:path`, as
    `rpl diff` reads it. With `known_enough`, a policy a replay before checked and lowered (plans.py)
    is not compiled now (None), but when a step needs it (`Replay.compiled`); `con`: the run's
    DuckDB connection, if it has one, which reads the kept entry's types."""
    from rplang.policy_ci import _policy_text

    from . import plans

    text, name = _policy_text(spec)
    known = plans.known(text, name, con) if known_enough else None
    if known is not None:
        return None, text, name, known
    from rplang.runtime import load_policy_text

    try:
        return load_policy_text(text, name, cache=True), text, name, None
    except PolicyError as error:
        fail_policy(error)


@click.command(name="replay", context_settings=COMMAND_SETTINGS)
@click.argument("policy", callback=no_empty_path)
@click.argument("input_", metavar="INPUT", callback=no_empty_path)
@click.option("--out", metavar="OUT.parquet", callback=no_empty_path,
              help="the decided rows (default: INPUT's name + .decided.parquet)")
@click.option("--rejects", metavar="FILE.jsonl", callback=no_empty_path,
              help="the rows refused as malformed (default: beside OUT)")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True)
@click.option("--via", type=click.Choice(["sql", "python"]), default=None,
              help="sql: the policy compiled to a query (default where the policy allows); "
                   "python: the ordinary runtime on batches of rows")
@click.option("--key", "keys", multiple=True, metavar="COL",
              help="a column identifying a row, kept in the output (repeatable; default: request_id, "
                   "return_id or id if there is one, else the row's place in the input)")
@click.option("--compare", "compare_to", metavar="OLD_POLICY",
              help="also decide under OLD_POLICY (a path or git:REV:path) and report what changes")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              help="the --compare report, as `rpl diff` prints it")
@click.option("--show", default=3, show_default=True, help="with --compare: changed rows shown per transition")
@click.option("--master", default="local[*]", show_default=True, help="with --engine spark: the cluster")
@click.option("--jobs", type=click.IntRange(1, 256), default=1, metavar="N", show_default=True,
              help="read a JSON-lines or CSV input in N processes (a Parquet input is read by the engine)")
@click.option("--explain-sql", is_flag=True, help="print the query the policy compiles to, and stop")
def replay_command(**given):
    """Decide every request of INPUT (Parquet, JSON lines or CSV: a file, a folder or a glob)
    under POLICY, inside DuckDB (default) or Spark; write the decisions to Parquet."""
    with stopped_as_interrupted(given["engine"]):
        _replay(**given)


def _replay(policy, input_, out, rejects, engine, via, keys, compare_to, fmt, show, master, jobs, explain_sql):
    missing = next((name for name in ("duckdb", "pyarrow", "sqlglot") if find_spec(name) is None), None)
    if missing:  # found, not imported: a run whose query is cached never imports SQLGlot (plans.py)
        click.echo(f"error: rpl replay needs {missing}: install rplang[replay]", err=True)
        sys.exit(EXIT_USAGE)
    from . import run
    from .sources import resolve
    from .uris import is_uri

    if jobs > 1:
        from rplang.stream import can_fork

        if not can_fork():
            raise click.UsageError("--jobs needs processes started by fork, which this system does not have")

    con = None
    if engine == "duckdb" and not explain_sql:
        from .engine_duckdb import connect

        # reads a kept entry's types and the input's columns here, and runs the query: one start, not two
        con = connect()
    compiled, text, name, known = load(policy, known_enough=not explain_sql, con=con)
    if explain_sql:
        sys.exit(_explain(compiled, text, engine))
    # the old policy read now: one that cannot be read is said before the rows are decided
    old = load(compare_to, known_enough=True, con=con) if compare_to else None
    try:
        spark = _spark_for_uris(engine, master, input_, out)
        source = resolve(input_, spark)
        # the input's columns (each Parquet file's footer, read once here: the engine and the old
        # policy's checks take them), named and typed as the request's fields, checked before the
        # old policy's and before OUT or the rejects file is made (the engine checks them again)
        columns = run.read_columns(source, con)
        run.input_keys(run.Replay(compiled, text, source, tuple(keys), name=name, known=known, columns=columns),
                       con, decided=False)
        old_job = _old_replay(old, compare_to, source, tuple(keys), via, jobs, con, columns) if old else None
        via = _choose_via(run.Replay(compiled, text, source, (), "sql", name, known), via)
        out = out or run.default_out(input_, source)
        rejects = rejects or run.rejects_path(out)
        policy_files = tuple(spec for spec in (policy, compare_to) if spec and not spec.startswith("git:"))
        run.check_outputs(source, out, rejects, out_is_folder=engine == "spark", policies=policy_files)
        if spark is not None and is_uri(out):
            from .uris import check_out

            check_out(spark, out, source.files)
        rejects_file = run.RejectsFile(rejects)
        job = run.Replay(compiled, text, source, tuple(keys), via, name, known, jobs, columns)
        with run.outputs_written(out, rejects_file, in_place=engine == "spark") as written:
            counts = engine_for(engine, master, con)(job, written, rejects_file)
        counts.rejected = rejects_file.count
        click.echo(counts.text(out, rejects_file.path), err=True)
        if old_job:
            from .compare import compare_report

            report = compare_report(engine, job, old_job, out, counts.rows, show, master)
            click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False) if fmt == "json"
                       else printable(report.text(old_job.name, policy, markdown=fmt == "markdown")))
    except ReplayError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_USAGE)
    except PolicyError as error:  # a policy compiled when first needed, whose tables were since spoilt
        fail_policy(error)
    except OSError as error:  # OUT or the rejects could not be written (a full disk, no permission)
        said = f"{error.filename}: {error.strerror}" if error.filename and error.strerror else error
        click.echo(f"error: {said}", err=True)
        sys.exit(EXIT_CANTCREAT)
    sys.exit(EXIT_REQUEST if counts.rejected else EXIT_OK)


@contextlib.contextmanager
def stopped_as_interrupted(engine: str):
    """Ctrl-C and SIGTERM (a job's time limit, `kill`) stop the run as Ctrl-C stops any command
    (exit 130; 143 for SIGTERM), the temporary files of OUT and the rejects removed on the way
    out. DuckDB stops its query for either and says "Query interrupted", which was reported as a
    bug in rpl; SIGTERM killed the process at once, and left DuckDB's temporary file beside OUT.
    The handler is set only where it can be (the main thread)."""
    import signal
    import threading

    terminated = []

    def interrupt(signum, frame):
        terminated.append(signum)
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGTERM, interrupt) if main else None
    try:
        try:
            yield
        except RuntimeError as error:  # DuckDB's, for a query it stopped: the interrupt it took
            if str(error) != "Query interrupted":
                raise
            raise KeyboardInterrupt from None
    except KeyboardInterrupt:
        if not terminated:
            raise
        # Spark's OUT folder is replaced as Spark starts writing it (docs/replay.md)
        kept = "OUT and the rejects file are as they were" if engine == "duckdb" else "the rejects file is as it was"
        click.echo(f"error: stopped by SIGTERM; {kept}", err=True)
        sys.exit(128 + signal.SIGTERM)
    finally:
        if main:
            signal.signal(signal.SIGTERM, before)


def _spark_for_uris(engine: str, master: str, input_: str, out: str | None):
    """The Spark session that lists, reads and checks an INPUT or OUT named by URI, started now
    (the run then uses it), or None where both are local. DuckDB reads and writes local files."""
    from .uris import is_uri

    uris = [spec for spec in (input_, out) if spec is not None and is_uri(spec)]
    if not uris:
        return None
    if engine != "spark":
        option = "INPUT" if uris[0] == input_ else "--out"
        raise ReplayError(f"{option} {uris[0]}: DuckDB reads and writes local files here; replay a URI "
                          "with --engine spark, which reads and writes it where it is (or download the files)")
    from .engine_spark import session

    return session(master)


def _old_replay(old: tuple, spec: str, source, keys: tuple[str, ...], via: str | None, jobs: int, con=None,
                columns: dict | None = None):
    """The replay under `--compare`'s policy, its path chosen and the input's columns (as POLICY's
    replay read them) checked against its request now (on `con`, POLICY's DuckDB connection, if
    given), not after the rows are decided under POLICY."""
    from . import run

    compiled, text, name, known = old
    chosen = _choose_via(run.Replay(compiled, text, source, (), "sql", name, known), via, spec)
    job = run.Replay(compiled, text, source, keys, chosen, name, known, jobs, columns)
    try:
        run.input_keys(job, con)
    except ReplayError as error:
        raise ReplayError(f"{spec}: {error}") from None
    return job


def _choose_via(job, via, of: str | None = None):
    """The path that decides `job`'s rows (`of`: the policy's name, where it is not POLICY's)."""
    from .run import lowerable

    reason = lowerable(job)
    about = f"{of}: " if of else ""
    if via == "sql" and reason is not None:
        raise ReplayError(about + str(reason)) if of else reason
    if via is None and reason is not None:
        click.echo(f"note: {about}{reason}; deciding with the Python path", err=True)
        return "python"
    return via or "sql"


def _explain(compiled, text, engine: str) -> int:
    from rplang.compiler.checked import source_digest

    from .lowering import ROW
    from .query import PolicyQuery
    from .sql import dialect
    from sqlglot import exp

    try:
        query = PolicyQuery(compiled, {"request_id": exp.column("request_id", table=ROW, quoted=True)},
                            compiled.checked.version, source_digest(text, compiled.checked))
        select = query.select("rpl_input")
    except NotLowerable as error:
        click.echo(f"error: {error}", err=True)
        return EXIT_USAGE
    click.echo(select.sql(dialect=dialect(engine), pretty=True))
    return EXIT_OK
