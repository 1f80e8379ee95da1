"""The `rpl workbench` command. Starlette and uvicorn are imported only when it runs, so that
`rpl` starts without the `workbench` extra."""
from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

import click

EXIT_USAGE, EXIT_UNAVAILABLE = 64, 69
HOST = "127.0.0.1"  # the workbench reads and writes files: it listens on the loopback only


@click.command()
@click.argument("path", default=".", type=click.Path(exists=True))
@click.option("--port", default=8787, show_default=True, type=click.IntRange(1, 65535),
              help="the port on 127.0.0.1 to listen on")
@click.option("--no-browser", is_flag=True, help="do not open the page in a browser")
def workbench(path, port, no_browser):
    """Edit the policies under PATH (default: this folder; a .rpl file: its folder's, that one
    open) in the browser: diagnostics, decisions, examples, impact on a corpus, graph and document,
    updated as you type."""
    folder, opened = _folder_and_policy(Path(path))
    import socket  # here, with the rest of what it needs: every other command starts without them
    import threading
    import webbrowser

    try:
        import uvicorn

        from .app import create_app
    except ImportError as error:
        click.echo(f"rpl workbench needs {error.name}: install rplang[workbench]", err=True)
        sys.exit(EXIT_USAGE)
    with socket.socket() as probe:  # say plainly that the port is taken, before starting
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((HOST, port))
        except OSError as error:
            click.echo(f"cannot listen on {HOST}:{port}: {error.strerror}; choose another with --port", err=True)
            sys.exit(EXIT_UNAVAILABLE)
    url = f"http://{HOST}:{port}/" + (f"?policy={quote(opened)}" if opened else "")
    click.echo(f"rpl workbench: {opened + ' in ' if opened else ''}{folder.resolve().name} at {url} (Ctrl+C to stop)",
               err=True)
    if not no_browser:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    uvicorn.run(create_app(str(folder)), host=HOST, port=port, log_level="warning")


def _folder_and_policy(path: Path) -> tuple[Path, str | None]:
    """The folder the page serves, and the policy it opens first: a .rpl file is opened among
    the policies of its folder (the page's `?policy=`)."""
    from rplang.inputs import check_policy_path

    check_policy_path(str(path), "PATH")
    if path.is_dir():
        return path, None
    if path.suffix != ".rpl" or path.name == "examples.rpl":
        raise click.BadParameter(f"{path} is not a policy: give a .rpl file or a folder of them", param_hint="PATH")
    return path.parent, path.name
