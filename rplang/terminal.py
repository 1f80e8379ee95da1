"""What the commands show only to a person at a terminal: colour, and progress on long runs;
and the data they show to one, made printable.

Colour goes to a terminal only, never under `NO_COLOR`; progress goes to stderr, only when it
is a terminal outside CI, unless asked for (`--progress`) or refused (`--no-progress`).
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import IO, Callable, Iterator

import click


# The context settings of each command line rpl parses: the `rpl` group's, which its commands
# inherit, and `rpl replay`'s own command's, which `rpl replay` runs apart (`main` makes its context
# anew, with none to inherit from). `color`: click would strip what looks like a colour code from
# all output to a pipe or a file; rpl's output is data (a policy's text from `rpl fmt -`, its
# clauses from `rpl doc`, the paths it was given), written as it is. rpl colours only at a
# terminal, and decides that itself (`colour_wanted`).
COMMAND_SETTINGS = {"help_option_names": ["-h", "--help"], "color": True}


# Control characters but the line feed and the tab: C0 (the escape that starts a terminal's
# commands, the carriage return that writes over a line), DEL and C1.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text with the control characters of the data it shows (a request's texts and keys come from
    anyone) written as escapes, `\\u001b`: a terminal would run them, to clear the screen, set
    the clipboard, or write one amount over another; a file would keep them for the next `cat`."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def colour_wanted(stream: IO[str] | None = None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def colour_diff_lines(text: str) -> str:
    """Lines of a unified diff (as `rpl diff` indents them) in green and red, at a terminal."""
    if not colour_wanted():
        return text
    colours = {"+": "green", "-": "red", "@": "cyan"}
    out = []
    for line in text.split("\n"):  # not `splitlines`, which breaks inside a request's text too
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
def progress_lines(stream: IO, path: str, asked: bool | None, label: str,
                   lines: Iterator | None = None) -> Iterator[Iterator]:
    """The lines of `stream` (text or bytes), with a progress bar on stderr by the bytes read.
    `lines`, when the caller reads them from `stream` its own way (a binary file), replace
    iterating `stream`: the bar then follows `stream.tell()`."""
    source = iter(stream) if lines is None else lines
    with _bar(path, asked, label) as bar:
        if bar is None:
            yield source
            return

        def by_length() -> Iterator:
            for line in source:
                bar.update(len(line) if isinstance(line, bytes) else len(line.encode("utf-8")))
                yield line

        def by_position() -> Iterator:
            moved = _mover(bar)
            for line in source:
                moved(stream.tell())
                yield line
        yield by_length() if lines is None else by_position()


@contextlib.contextmanager
def progress_positions(path: str, asked: bool | None, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr for a file that others read (`rpl eval --jobs` workers read their
    own ranges): yields the function to tell it the position reached, or None if no bar is shown."""
    with _bar(path, asked, label) as bar:
        yield None if bar is None else _mover(bar)


@contextlib.contextmanager
def _bar(path: str, asked: bool | None, label: str):
    size = _file_size(path) if progress_wanted(asked) else None
    if not size:
        yield None
        return
    # a redraw per line would cost more than deciding a short one: at most ~1,000 redraws
    with click.progressbar(length=size, label=label, file=sys.stderr, update_min_steps=max(1, size // 1000)) as bar:
        yield bar
        bar.update_min_steps = 1  # the last steps, however few, so that the bar ends full
        bar.update(0)


def _mover(bar) -> Callable[[int], None]:
    done = 0

    def moved(position: int) -> None:
        nonlocal done
        bar.update(position - done)
        done = position
    return moved


def _file_size(path: str) -> int | None:
    """The size of a regular file (a pipe or stdin has none to measure progress by)."""
    if path == "-":
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    import stat

    return status.st_size if stat.S_ISREG(status.st_mode) else None
