"""What the commands are given: policies and requests read from files, and the exit codes."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from rplang.policy_lang.errors import PolicyError, RequestError, RequestProblem

if TYPE_CHECKING:
    from rplang.runtime import CompiledPolicy, PolicyHistory

# The exit codes of every command: 0 done (decided, clean), 1 a policy error, 2 a request error,
# 64 a bad command line, 69 a tool missing (graphviz), 70 a fault of rpl itself.
EXIT_OK, EXIT_POLICY, EXIT_REQUEST, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_SOFTWARE = 0, 1, 2, 64, 69, 70


def fail_policy(error: PolicyError) -> NoReturn:
    """Print every problem of a policy, and exit 1."""
    click.echo(error.render(), err=True)
    n = len(error.diagnostics)
    click.echo(f"\n{n} error{'s' if n != 1 else ''}", err=True)
    sys.exit(EXIT_POLICY)


def load_policy_arg(path: str) -> CompiledPolicy | PolicyHistory:
    """A policy file, or a folder of its versions (each with `effective DATE`) as one history;
    on a problem, print it and exit 1."""
    from rplang.runtime import load_policy

    try:
        return load_policy(path, cache=True)
    except PolicyError as error:
        fail_policy(error)
    except (OSError, UnicodeDecodeError) as error:
        click.echo(f"{path}: error: cannot read the policy: {getattr(error, 'strerror', None) or error}", err=True)
        sys.exit(EXIT_POLICY)


def read_request_text(path: str) -> str:
    """A request file's text (`-`: standard input), as UTF-8; raises RequestError."""
    try:
        # JSON is UTF-8 whatever the locale says stdin is, so read bytes and decode them here.
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        raise RequestError([RequestProblem("$", f"cannot read {path}: {error.strerror or error}")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError([RequestProblem("$", f"not valid UTF-8: {error.reason}")]) from None
