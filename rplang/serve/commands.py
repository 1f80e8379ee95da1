"""`rpl serve` and `rpl log`: the service's commands. Only click, the standard library and the
command line's own inputs are imported here; the service's dependencies (the `serve` extra) when
a command runs."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from rplang.inputs import EXIT_OK, EXIT_USAGE, check_policy_path

# `rpl log`: 1 when the log, or a recorded policy text, cannot be had; 3 when a replayed decision differs.
EXIT_UNAVAILABLE, EXIT_DIFFERENT = 1, 3
SERVE_MODULES = ("starlette", "uvicorn", "orjson", "watchfiles", "prometheus_client")


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    cli.add_command(log)


def require_extra(modules=SERVE_MODULES) -> None:
    """Exit 64 with a clear message when the `serve` extra is not installed."""
    import importlib

    missing = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        click.echo(f"error: this command needs {', '.join(missing)}: install rplang[serve] "
                   "(pip install 'rplang[serve]')", err=True)
        sys.exit(EXIT_USAGE)


def _tokens(path: str | None) -> tuple[str, ...] | None:
    if path is None:
        return None
    try:  # `-sig`: a byte order mark, as a Windows editor writes one, is not part of the first line
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise click.UsageError(f"cannot read the token file {path}: {getattr(error, 'strerror', None) or error}")
    found = []
    for number, line in enumerate(lines, 1):
        token = line.strip()
        if not token or token.startswith("#"):
            continue
        if not (token.isascii() and token.isprintable()):  # no client could send it (RFC 6750)
            raise click.UsageError(f"{path}, line {number}: a token is printable ASCII, as a client sends it")
        found.append(token)
    tokens = tuple(found)
    if not tokens:
        raise click.UsageError(f"the token file {path} holds no token (one a line)")
    return tokens


class _Seconds(click.ParamType):
    """A duration in seconds above 0 (a fraction is fine): a deadline of 0, or of never, is none."""
    name = "seconds"

    def convert(self, value, param, ctx):
        import math

        try:
            seconds = float(value)
        except (TypeError, ValueError):
            seconds = math.nan
        if not (0 < seconds < math.inf):
            self.fail(f"'{value}' is not a number of seconds above 0 (e.g. 30, or 0.5)", param, ctx)
        return seconds


_SECONDS = _Seconds()


@click.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="the address to listen on; 0.0.0.0 exposes the service to the network")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 256),
              help="processes answering requests (each loads the policies; /metrics adds up their counts)")
@click.option("--log-db", metavar="FILE", help="record every decision in this SQLite file (see `rpl log`)")
@click.option("--token-file", metavar="FILE",
              help="accept only requests with `Authorization: Bearer TOKEN`, one token a line of FILE")
@click.option("--max-body", default=1_048_576, show_default=True, type=click.IntRange(1, None),
              metavar="BYTES", help="the largest request body, or NDJSON line, accepted")
@click.option("--body-timeout", default=30, show_default=True, type=_SECONDS, metavar="SECONDS",
              help="the longest wait for a request's body, or for the next part of an NDJSON batch (408 past it)")
@click.option("--batch-timeout", default=300, show_default=True, type=_SECONDS, metavar="SECONDS",
              help="the longest an NDJSON batch may take to be received whole, however steadily it comes (408 past it)")
@click.option("--watch/--no-watch", default=True, show_default=True,
              help="reload a policy when its file changes")
@click.option("--access-log", is_flag=True, help="log every request")
def serve(path, host, port, workers, log_db, token_file, max_body, body_timeout, batch_timeout, watch, access_log):
    """Serve the policies of PATH (a .rpl file, or a folder of them) as a decision service over HTTP.

    Each policy is served under its file name without `.rpl`; a sub-folder of versions under the
    folder's name. See docs/service.md for the endpoints.
    """
    check_policy_path(path, "PATH")
    # The metrics client takes its mode from this variable when it is imported: a folder named
    # from outside would mix this server's counts with another's. Several workers get their own.
    for variable in ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir"):
        os.environ.pop(variable, None)
    require_extra()
    import uvicorn

    from .app import ServeConfig, build_app, log_to_stderr
    from .workers import shared_metrics

    if log_db is not None:
        _check_log(log_db)
    config = ServeConfig(str(Path(path)), log_db, _tokens(token_file), max_body, watch, body_timeout, batch_timeout)
    log_to_stderr()
    options = uvicorn_options(host, port, access_log)
    if workers == 1:
        uvicorn.run(build_app(config), **options)
    else:  # each worker process builds its own application from the configuration
        config.to_environment()
        with shared_metrics():
            uvicorn.run("rplang.serve.app:app_from_environment", factory=True, workers=workers, **options)


def uvicorn_options(host: str, port: int, access_log: bool = False) -> dict:
    """How uvicorn serves `rpl serve`: uvicorn's fast parts, httptools and uvloop, which the serve extra
    installs (its protocol as "auto" takes it, with the service's answer to a request it cannot parse:
    `protocol.py`). The speed benchmark serves its baseline endpoint with these same options."""
    return dict(host=host, port=port, http="rplang.serve.protocol:HTTPProtocol", loop="auto", log_level="info", access_log=access_log,
                timeout_graceful_shutdown=30)


def _check_log(path: str) -> None:
    import sqlite3

    from .log_store import connect

    try:
        connect(path).close()
    except sqlite3.Error as error:
        raise click.UsageError(f"--log-db {path}: cannot be a decision log: {error}")


class _When(click.ParamType):
    """A moment as ISO 8601 writes it: a date, a time to the minute or to the millisecond, with an
    offset or a `Z` or without (UTC), so that a time copied from a log entry is taken as it is."""
    name = "time"

    def convert(self, value, param, ctx):
        import datetime

        if isinstance(value, datetime.datetime):
            return value
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            self.fail(f"'{value}' is not a time written in ISO 8601 (YYYY-MM-DD[THH:MM[:SS[.mmm]]][+HH:MM|Z])",
                      param, ctx)


_WHEN = _When()


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--request-id", metavar="ID", help="the decisions of one request (an NDJSON batch has several)")
@click.option("--policy", metavar="NAME", help="the decisions of one policy")
@click.option("--outcome", metavar="NAME", help="the decisions with this outcome (`refuse`, `approve`...)")
@click.option("--since", type=_WHEN, metavar="TIME",
              help="made at or after TIME (ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30:00Z; UTC without an offset)")
@click.option("--until", type=_WHEN, metavar="TIME", help="made before TIME (as --since)")
@click.option("--limit", type=click.IntRange(1, None), metavar="N", help="at most N decisions")
@click.option("--replay", "replay_id", metavar="ID",
              help="decide again, with the recorded policy text, the decision ID (its `id`, or a request id)")
@click.option("--retain-days", type=click.IntRange(0, None), metavar="DAYS",
              help="delete the decisions older than DAYS days, and the policy texts no decision needs")
def log(file, request_id, policy, outcome, since, until, limit, replay_id, retain_days):
    """Query the decision log FILE of `rpl serve --log-db FILE`: one JSON line per decision.

    With --replay, the decision is made again with the policy text that made it; exits 0 when the
    outputs are the same, 3 when they differ, 1 when it cannot be made as it was (the text is no
    longer in the log, or the files of its tables have changed).
    """
    import sqlite3

    from .log_store import log_time, open_log, select

    if since is not None and until is not None and log_time(until) < log_time(since):
        raise click.UsageError(f"--until {until.isoformat()} is before --since {since.isoformat()}: "
                               "no decision is made in that time")
    try:
        connection = open_log(file)
    except sqlite3.DatabaseError as error:
        click.echo(f"{file}: error: not a decision log: {error}", err=True)
        sys.exit(EXIT_UNAVAILABLE)
    try:
        if retain_days is not None:
            _retain(connection, retain_days)
            return
        filters = dict(request_id=request_id, policy=policy, outcome=outcome, since=since, until=until, limit=limit)
        if replay_id is None:
            found = False
            for entry in select(connection, **filters):
                click.echo(json.dumps(entry, ensure_ascii=False))
                found = True
            if not found:
                _say_unrecorded(connection, policy=policy, outcome=outcome)
            return
        status = _replay(connection, replay_id, filters)
    except sqlite3.Error as error:  # busy past the wait (a writer holds it), or damaged
        click.echo(f"{file}: error: {error}", err=True)
        sys.exit(EXIT_UNAVAILABLE)
    sys.exit(status)


def _say_unrecorded(connection, **names: str | None) -> None:
    """A --policy or --outcome no decision of the log has (a typo: `refused`) is said on stderr:
    the empty answer alone reads as "none yet"."""
    from rplang.policy_lang.errors import did_you_mean

    from .log_store import recorded

    for column, name in names.items():
        if name is None:
            continue
        known = recorded(connection, column)
        if name not in known:
            hint = did_you_mean(name, known)
            click.echo(f"note: no decision in the log has the {column} `{name}`" + (f"; {hint}" if hint else "")
                       + f" (the log has {', '.join(known) or 'no decision'})", err=True)


def _retain(connection, days: int) -> None:
    import datetime

    from .log_store import retain

    now = datetime.datetime.now(datetime.timezone.utc)
    try:
        before = now - datetime.timedelta(days=days)
    except OverflowError:  # more days than the calendar holds: nothing is that old
        before = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
    decisions, texts = retain(connection, before)
    click.echo(f"deleted {decisions} decision{'s' if decisions != 1 else ''} made before "
               f"{before.isoformat(timespec='seconds')} and {texts} policy text{'s' if texts != 1 else ''}",
               err=True)


def _replay(connection, replay_id: str, filters: dict) -> int:
    from .log_store import LARGEST_ID, select
    from .replay import TextUnavailable, replay

    as_id = int(replay_id) if replay_id.isascii() and replay_id.isdigit() else None  # not `٣`
    entries = list(select(connection, **{**filters, "ids": [as_id]})) if as_id and as_id <= LARGEST_ID else []
    entries = entries or list(select(connection, **{**filters, "request_id": replay_id}))
    if not entries:
        raise click.UsageError(f"no decision {replay_id} in the log")
    status = EXIT_OK
    for entry in entries:
        try:
            result = replay(connection, entry)
        except TextUnavailable as error:
            click.echo(f"error: {error}", err=True)
            status = max(status, EXIT_UNAVAILABLE)
            continue
        click.echo(json.dumps(result, ensure_ascii=False))
        if not result["same"]:
            click.echo(f"decision {entry['id']}: the outputs differ from those recorded", err=True)
            status = EXIT_DIFFERENT
    return status
