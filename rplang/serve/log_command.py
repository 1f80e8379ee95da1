"""`rpl log FILE`: query the decision log of `rpl serve --log-db FILE`."""
from __future__ import annotations

import click


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def log(file):
    """Query the decision log FILE."""
    raise click.UsageError("not yet")
