"""`rpl lsp`: a language server for .rpl files, a query layer over the parser, the checker and the
formatter (pygls over stdio). `rplang.lsp.queries` holds what the compiler says about each open
document; each feature is a module of its own; `rplang.lsp.positions` converts positions."""
from __future__ import annotations

import sys

import click

EXIT_USAGE = 64


def register(cli: click.Group) -> None:
    cli.add_command(lsp)


@click.command()
def lsp():
    """Run the language server on stdin and stdout (for editors: see editors/README.md)."""
    try:
        from .server import main
    except ImportError as error:  # the extra is not installed: the rest of rpl works without it
        click.echo(f"rpl lsp needs {(error.name or 'pygls').split('.')[0]}: install rplang[lsp]", err=True)
        sys.exit(EXIT_USAGE)
    main()
