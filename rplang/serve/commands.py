"""`rpl serve` and `rpl log`: the service's commands. Only click and the standard library are
imported here; the service's own dependencies (the `serve` extra) when a command runs."""
from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_USAGE = 64
SERVE_MODULES = ("starlette", "uvicorn", "orjson", "watchfiles", "prometheus_client")


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    from .log_command import log

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
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise click.UsageError(f"cannot read the token file {path}: {getattr(error, 'strerror', None) or error}")
    tokens = tuple(t for t in (line.strip() for line in lines) if t and not t.startswith("#"))
    if not tokens:
        raise click.UsageError(f"the token file {path} holds no token (one a line)")
    return tokens


@click.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="the address to listen on; 0.0.0.0 exposes the service to the network")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 256),
              help="processes answering requests (each loads the policies, keeps its own metrics)")
@click.option("--log-db", metavar="FILE", help="record every decision in this SQLite file (see `rpl log`)")
@click.option("--token-file", metavar="FILE",
              help="accept only requests with `Authorization: Bearer TOKEN`, one token a line of FILE")
@click.option("--max-body", default=1_048_576, show_default=True, type=click.IntRange(1, None),
              metavar="BYTES", help="the largest request body, or NDJSON line, accepted")
@click.option("--watch/--no-watch", default=True, show_default=True,
              help="reload a policy when its file changes")
@click.option("--access-log", is_flag=True, help="log every request")
def serve(path, host, port, workers, log_db, token_file, max_body, watch, access_log):
    """Serve the policies of PATH (a .rpl file, or a folder of them) as a decision service over HTTP.

    Each policy is served under its file name without `.rpl`; a sub-folder of versions under the
    folder's name. See docs/service.md for the endpoints.
    """
    require_extra()
    import logging

    import uvicorn

    from .app import ServeConfig, build_app

    config = ServeConfig(str(Path(path)), log_db, _tokens(token_file), max_body, watch)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options = dict(host=host, port=port, log_level="info", access_log=access_log,
                   timeout_graceful_shutdown=30)
    if workers == 1:
        uvicorn.run(build_app(config), **options)
    else:  # each worker process builds its own application from the configuration
        config.to_environment()
        uvicorn.run("rplang.serve.app:app_from_environment", factory=True, workers=workers, **options)
