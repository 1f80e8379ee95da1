"""The `rpl` command: one small function per command, each calling the library.

Exit codes: 0 decided / clean, 1 policy error, 2 request error, 64 bad command line,
70 an internal error (a bug of rpl's: the message asks for a report).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from rplang.policy_lang import limits
from rplang.policy_lang.errors import Diagnostic, PolicyError, RequestError, RequestProblem, RplError
from rplang.policy_lang.source_text import NotAFile, read_policy_bytes, read_policy_file

from .inputs import (DAY, EXIT_OK, EXIT_POLICY, EXIT_REQUEST, EXIT_SOFTWARE, EXIT_USAGE, a_number, fail_policy,
                     load_policy_arg, no_empty_path, read_request)
from .terminal import COMMAND_SETTINGS

REPORT = "this is a bug in rpl: please report it with the command and the input that caused it"


def _max_request_bytes(what: str):
    return click.option(
        "--max-request-bytes", type=click.IntRange(1), default=limits.MAX_REQUEST_BYTES, show_default=True,
        metavar="N", help=f"refuse {what} longer than N bytes, unread")


@click.group(context_settings=COMMAND_SETTINGS)
@click.version_option(None, "-V", "--version", package_name="rplang", prog_name="rpl")
def cli():
    """rpl: returns policies as code."""


@cli.command()
@click.argument("policies", nargs=-1, required=True, callback=no_empty_path)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              help="text for people, json for programs, github for workflow annotations")
@click.option("--strict", is_flag=True, help="treat warnings as errors")
def check(policies, fmt, strict):
    """Check POLICIES: every error, else the static checks' warnings.

    Exits 0 when no error is found (warnings allowed), 1 otherwise; with --strict a warning is an error.
    """
    import attrs

    check_policy_text = _static_checks()
    diagnostics: list[Diagnostic] = []
    files, readings = _policy_files(policies)
    for path in files:
        try:
            text = read_policy_file(path)
        except NotAFile as error:  # a pipe, a device: the command line named the wrong thing
            fail_policy(error)
        except PolicyError as error:  # a file that cannot be read, or is not UTF-8
            diagnostics.extend(error.diagnostics)
            continue
        found = check_policy_text(text, str(path))
        if not any(d.severity == "error" for d in found):
            found += _example_problems(Path(path))
        diagnostics.extend(found)
    for folder in (f for f, reading in readings if reading == "versions"):
        if not any(d.severity == "error" for d in diagnostics):
            diagnostics.extend(_check_versions(folder))
    if strict:
        diagnostics = [attrs.evolve(d, severity="error") for d in diagnostics]
    errors = sum(d.severity == "error" for d in diagnostics)
    if fmt == "json":
        click.echo(json.dumps([d.to_json() for d in diagnostics], indent=2, ensure_ascii=False))
    elif fmt == "github":
        from .reports import diagnostic_annotation

        for d in diagnostics:
            click.echo(diagnostic_annotation(d))
    else:
        if diagnostics:
            click.echo("\n\n".join(d.render() for d in diagnostics) + "\n", err=True)
        summary = _count(errors, "error") + (f", {_count(len(diagnostics) - errors, 'warning')}"
                                              if len(diagnostics) > errors else "")
        if errors:
            click.echo(summary, err=True)
        else:
            for folder, reading in readings:
                click.echo(f"{folder}: {_reading_words(reading)}")
            checked = f"{len(files)} polic{'y' if len(files) == 1 else 'ies'} checked"
            click.echo(f"ok: {checked}" + (f", {_count(len(diagnostics), 'warning')}" if diagnostics else ""))
    sys.exit(EXIT_POLICY if errors else EXIT_OK)


def _example_problems(path: Path) -> list[Diagnostic]:
    """The policy's examples (its own, and its examples file) are checked like the rest of it."""
    from rplang.runtime.testing import example_diagnostics, load_suite

    try:
        return example_diagnostics(load_suite(path))
    except PolicyError as error:
        return list(error.diagnostics)


def _policy_files(paths) -> tuple[list[Path], list[tuple[str, str]]]:
    """The policy files to check, and how each folder was read: `policies` (every `.rpl` file
    under it, as `rpl test` and `rpl fmt` read it) or `versions` (see `_is_folder_of_versions`)."""
    from rplang.runtime.testing import find_policies

    files, readings = [], []
    for path in paths:
        if os.path.isdir(path):  # not Path.is_dir, which raises for a name too long
            readings.append((path, "versions" if _is_folder_of_versions(Path(path)) else "policies"))
            found = find_policies([path])
            if not found:  # "ok: 0 policies checked" would pass a CI step given the wrong folder
                beside = Path(path).with_suffix(".rpl")
                raise click.UsageError(f"no policy found under {path}" + (
                    f": it holds the examples of {beside}, which `rpl check {beside}` checks with them"
                    if beside.is_file() else ""))
            files += found
        else:
            files.append(Path(path))
    return files, readings


def _is_folder_of_versions(folder: Path) -> bool:
    """A folder holds the versions of one policy when every `.rpl` file directly in it (but
    `examples.rpl`) says when it takes effect, on a line `effective YYYY-MM-DD`."""
    import re

    files = [f for f in folder.glob("*.rpl") if f.name != "examples.rpl"]
    said = re.compile(rb"^(?:\xef\xbb\xbf)?effective[ \t]+[0-9]", re.MULTILINE)  # after a byte order mark too
    try:
        return bool(files) and all(said.search(read_policy_bytes(f)) for f in files)
    except PolicyError:  # read as policies, each on its own: the reading says what is wrong
        return False


def _reading_words(reading: str) -> str:
    return ("a folder of versions of one policy (every file says `effective`), checked together"
            if reading == "versions" else "a folder of policies, each checked on its own")


def _check_versions(folder: str) -> list[Diagnostic]:
    """The versions of a folder, checked together (each was checked on its own before)."""
    from rplang.runtime.loading import load_history

    try:
        load_history(folder)
    except PolicyError as error:
        return list(error.diagnostics)
    return []


def _static_checks():
    """The compiler's checks, with the verifier's (rules in conflict) when the solver is installed."""
    try:
        from rplang.verify.static import check_policy_text
    except ModuleNotFoundError as error:
        if error.name != "z3":
            raise
        from rplang.compiler.lint import check_policy_text
    return check_policy_text


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


@cli.command(name="eval")
@click.argument("policy", callback=no_empty_path)
@click.argument("request", required=False)
@click.option("--jsonl", "jsonl", metavar="FILE", help="decide one request per line of FILE (- for stdin)")
@click.option("--pretty/--compact", default=False, help="indent the JSON")
@click.option("--outputs-only", is_flag=True, help="print only the outputs, without the explanation")
@click.option("--partial", is_flag=True,
              help="facts declared `at STAGE` may be missing: print what is certain and the residual")
@click.option("--as-of", "as_of", type=DAY, metavar="DATE",
              help="decide under the terms in force on DATE instead of the request's terms date")
@click.option("--jobs", type=click.IntRange(1, 256), default=1, metavar="N",
              help="with --jsonl: decide in N processes (the output keeps the input's order)")
@click.option("--progress/--no-progress", default=None,
              help="with --jsonl FILE: show progress on stderr (default: when stderr is a terminal, outside CI)")
@_max_request_bytes("a request (a file, or a line of --jsonl)")
def eval_(policy, request, jsonl, pretty, outputs_only, partial, as_of, jobs, progress, max_request_bytes):
    """Decide REQUEST (a JSON file, - for stdin) under POLICY; print the decision as JSON."""
    if (request is None) == (jsonl is None):
        raise click.UsageError("give either a REQUEST file or --jsonl FILE")
    if jobs > 1 and jsonl is None:
        raise click.UsageError("--jobs decides the lines of --jsonl FILE in several processes")
    # here, not at the top: the stream imports the runtime, which `rpl replay` with a cached query never needs
    from .stream import can_fork, error_json

    if jobs > 1 and not can_fork():
        raise click.UsageError("--jobs needs processes started by fork, which this system does not have")
    compiled = load_policy_arg(policy)
    _note_as_of_without_terms(compiled, policy, as_of)
    if jsonl is not None:
        sys.exit(_eval_lines(compiled, jsonl, outputs_only, as_of, jobs, max_request_bytes, partial, progress))
    try:
        if partial:  # {"outputs", "residual", "explanation"}: see docs/residual.md
            decision = compiled.decide_partial(read_request(request, max_request_bytes), as_of=as_of)
        else:
            decision = compiled.decide(read_request(request, max_request_bytes), as_of)
        data = {"outputs": decision.outputs_json()} if outputs_only else decision.to_json()
    except RplError as error:
        click.echo(json.dumps({"error": error_json(error)}, indent=2 if pretty else None, ensure_ascii=False))
        click.echo(_error_text(error), err=True)
        sys.exit(EXIT_REQUEST)
    click.echo(json.dumps(data, indent=2 if pretty else None, ensure_ascii=False))


def _note_as_of_without_terms(compiled, policy: str, as_of) -> None:
    """--as-of picks the terms of another date: a policy without `terms by` (and not a folder
    of versions) has none to pick, and is decided as without it. Say so, or the same decision
    reads as "the terms of that date are these"."""
    from rplang.runtime import PolicyHistory

    if as_of is not None and not isinstance(compiled, PolicyHistory) and compiled.checked.terms is None:
        click.echo(f"note: {policy} has no `terms by`: --as-of {as_of} changes nothing", err=True)


def _error_text(error: RplError) -> str:
    from .terminal import printable

    return printable(error.render() if isinstance(error, RequestError) else f"error: {error}")


def _eval_lines(compiled, path: str, outputs_only: bool, as_of, jobs: int, max_bytes: int, partial: bool,
                progress: bool | None) -> int:
    from .stream import decide_stream, error_json, read_lines
    from .stream_workers import WorkerLost

    # Bytes, decoded line by line: one line that is not UTF-8 is that line's error, not a crash.
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as error:
        problem = RequestProblem("$", f"cannot read {path}: {error.strerror or error}")
        click.echo(json.dumps({"error": error_json(RequestError([problem]))}, ensure_ascii=False))
        return EXIT_REQUEST
    from .terminal import progress_lines, progress_positions

    sys.stdout.flush()  # the lines are written as bytes, beneath the text layer
    try:
        if jobs > 1:  # workers read a file by ranges: the bar is told where they are
            with stream, progress_positions(path, progress, "deciding") as moved:
                tally = decide_stream(compiled, stream, sys.stdout.buffer, outputs_only, as_of, jobs, max_bytes,
                                      partial, progress=moved)
        else:
            with stream, progress_lines(stream, path, progress, "deciding", read_lines(stream, max_bytes)) as lines:
                tally = decide_stream(compiled, stream, sys.stdout.buffer, outputs_only, as_of, jobs, max_bytes,
                                      partial, lines)
    except WorkerLost as error:
        click.echo(f"error: {error}", err=True)
        return EXIT_SOFTWARE
    if tally.faults:
        click.echo(f"error: {_count(tally.faults, 'line')} met an internal error (see their output); "
                   + REPORT, err=True)
        return EXIT_SOFTWARE
    return EXIT_REQUEST if tally.rejected else EXIT_OK


@cli.command()
@click.argument("policy", callback=no_empty_path)
@click.argument("request")
@click.option("--partial", is_flag=True,
              help="facts declared `at STAGE` may be missing: explain what is certain and what is still open")
@click.option("--as-of", "as_of", type=DAY, metavar="DATE",
              help="decide under the terms in force on DATE instead of the request's terms date")
@click.option("--locale", default="en_US", show_default=True, metavar="LOCALE",
              help="write money as readers of LOCALE do (grouping, decimal mark), like de_DE or ja_JP")
@_max_request_bytes("a request file")
def explain(policy, request, partial, as_of, locale, max_request_bytes):
    """Decide REQUEST under POLICY and explain the decision in words."""
    from rplang.runtime.money import parse_locale

    if partial and locale != "en_US":
        raise click.UsageError("--partial explains money as the policy writes it: leave out --locale")
    try:
        parse_locale(locale)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--locale") from None
    compiled = load_policy_arg(policy)
    _note_as_of_without_terms(compiled, policy, as_of)
    try:
        if partial:  # docs/residual.md
            decision = compiled.decide_partial(read_request(request, max_request_bytes),
                                               as_of=as_of)
        else:
            decision = compiled.decide(read_request(request, max_request_bytes), as_of)
        text = decision.explain_text() if partial else decision.explain_text(locale)
    except RplError as error:
        click.echo(_error_text(error), err=True)
        sys.exit(EXIT_REQUEST)
    from .terminal import colour_outcome, printable

    click.echo(colour_outcome(printable(text), decision.outcome, decision.policy))


@cli.command()
@click.argument("policies", nargs=-1, required=True, metavar="POLICY [NEW]", callback=no_empty_path)
@click.option("--max-items", default=3, show_default=True, type=click.IntRange(0, 20),
              help="prove for every request with up to this many elements in each list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--outputs", default=None, metavar="NAMES", help="OLD NEW: the outputs to compare, like outcome,refund")
@click.option("--from", "first_day", type=DAY, default="2026-01-01", show_default=True,
              metavar="DATE", help="the first date a request's dates may take")
@click.option("--until", "last_day", type=DAY, default="2027-12-31", show_default=True,
              metavar="DATE", help="the last date a request's dates may take")
@click.option("--timeout", "timeout_s", type=click.FloatRange(0, 86_400, min_open=True),
              metavar="SECONDS", callback=a_number,
              help="give the solver this long per question (default 60); one it does not settle is unknown, "
                   "never proven")
def verify(policies, max_items, fmt, outputs, first_day, last_day, timeout_s):
    """Prove POLICY's properties, or whether OLD and NEW ever decide differently (OLD may be git:REV:path).

    Exits 0 when every property holds (the versions decide alike), 1 when one does not or is not
    settled, 2 for a policy error, 130 when interrupted.
    """
    if len(policies) > 2:
        raise click.UsageError("give one policy, or two versions to compare")
    if outputs and len(policies) == 1:
        raise click.UsageError("--outputs names what to compare between two versions: give OLD and NEW")
    if first_day > last_day:
        raise click.BadParameter(f"{last_day:%Y-%m-%d} is before --from {first_day:%Y-%m-%d}", param_hint="--until")
    try:
        from rplang.verify.command import run
    except ModuleNotFoundError as error:
        if error.name != "z3":
            raise
        click.echo("error: rpl verify needs the Z3 solver: install rplang[verify]", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(run(policies, max_items, fmt, outputs, first_day, last_day, timeout_s))


@click.command(name="replay", context_settings={"ignore_unknown_options": True, "help_option_names": []},
               add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def _replay(args):
    """Decide past requests inside DuckDB or Spark (rplang[replay])."""
    try:
        from rplang.replay.command import replay_command
    except ImportError as error:
        click.echo(f"error: rpl replay needs {error.name}: install rplang[replay]", err=True)
        sys.exit(EXIT_USAGE)
    replay_command.main(args=list(args), prog_name="rpl replay", standalone_mode=False)


# ---- Commands from their own modules ------------------------------------------------------------
# Each line registers one command group of another module (keep one line per module).
# (registrations)
def _register_commands() -> None:
    from rplang import policy_ci

    policy_ci.register(cli)
    from rplang import authoring; authoring.register(cli)  # noqa: E702 (fmt, graph, schema, doc)
    from rplang.serve import commands as serve; serve.register(cli)  # noqa: E702 (serve, log)
    from rplang.workbench.command import workbench; cli.add_command(workbench)  # noqa: E702
    from rplang import lsp; lsp.register(cli)  # noqa: E702 (lsp; pygls imported when it runs)
    cli.add_command(_replay)


_register_commands()


def main(argv=None):
    _escape_what_stdout_cannot_encode()
    try:
        cli.main(args=argv, prog_name="rpl", standalone_mode=False)
    except click.UsageError as error:
        error.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)
    except Exception as error:  # noqa: BLE001 (a bug: a message and its own exit code, not a traceback)
        _report_internal_error(error)
        sys.exit(EXIT_SOFTWARE)


def _escape_what_stdout_cannot_encode() -> None:
    """A text stdout cannot encode (a file name that is not UTF-8, read as lone surrogates) is
    written as an escape, `\\udcff`, as stderr writes it: a strict UTF-8 stdout (PYTHONIOENCODING=utf-8,
    a UTF-8 locale but C's) raised, and `rpl test` over such a file ended as an internal error.
    In a JSON string the escape is JSON's own."""
    if getattr(sys.stdout, "errors", None) == "strict" and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")


def _report_internal_error(error: Exception) -> None:
    import os
    import traceback

    click.echo(f"rpl: internal error: {type(error).__name__}: {error}\n{REPORT}", err=True)
    if os.environ.get("RPL_DEBUG"):  # the traceback, for the report
        traceback.print_exc()
    else:
        click.echo("(set RPL_DEBUG=1 to print the traceback for the report)", err=True)


if __name__ == "__main__":
    main()
