"""What the commands show only to a person at a terminal: colour, and progress on long runs.

Colour goes to a terminal only, never under `NO_COLOR`; progress goes to stderr, only when it
is a terminal outside CI, unless asked for (`--progress`) or refused (`--no-progress`).
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import IO, Iterator

import click


def colour_wanted(stream: IO[str] | None = None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def colour_diff_lines(text: str) -> str:
    """Lines of a unified diff (as `rpl diff` indents them) in green and red, at a terminal."""
    if not colour_wanted():
        return text
    colours = {"+": "green", "-": "red", "@": "cyan"}
    out = []
    for line in text.splitlines():
        body = line[2:] if line.startswith("  ") else ""
        colour = colours.get(body[:1]) if not body.startswith(("+++", "---")) else None
        out.append(click.style(line, fg=colour) if colour else line)
    return "\n".join(out)


def colour_outcome(text: str, outcome: str, policy) -> str:
    """The first line of an explanation (its outcome) in colour, at a terminal: red for an
    outcome that overrides every other rule (a refusal), green for the default one (the last
    declared), yellow for the others and for a decision still pending."""
    if not colour_wanted() or not text:
        return text
    names = [o.name for o in policy.graph.outcomes]
    colour = "red" if outcome in policy.overriding_outcomes else \
        "green" if names and outcome == names[-1] else "yellow"
    first, _, rest = text.partition("\n")
    return click.style(first, fg=colour, bold=True) + ("\n" + rest if rest else "")


def progress_wanted(asked: bool | None) -> bool:
    if asked is not None:
        return asked
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextlib.contextmanager
def progress_lines(stream: IO, path: str, asked: bool | None, label: str) -> Iterator[Iterator]:
    """The lines of `stream` (text or bytes), with a progress bar on stderr by the bytes read."""
    if not progress_wanted(asked) or path == "-":
        yield iter(stream)
        return
    with click.progressbar(length=Path(path).stat().st_size, label=label, file=sys.stderr) as bar:
        def lines() -> Iterator:
            for line in stream:
                bar.update(len(line) if isinstance(line, bytes) else len(line.encode("utf-8")))
                yield line
        yield lines()
