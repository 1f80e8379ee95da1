"""The `rpl` command: one small function per command, each calling the library.

Exit codes: 0 decided / clean, 1 policy error, 2 request error, 64 bad command line.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rplang.policy_lang.errors import Diagnostic, PolicyError, RequestError, RequestProblem, RplError

from .stream import can_fork, decide_stream, error_json

EXIT_OK, EXIT_POLICY, EXIT_REQUEST, EXIT_USAGE = 0, 1, 2, 64


def _fail_policy(error: PolicyError) -> None:
    click.echo(error.render(), err=True)
    n = len(error.diagnostics)
    click.echo(f"\n{n} error{'s' if n != 1 else ''}", err=True)
    sys.exit(EXIT_POLICY)


def _load(path: str):
    """A policy file, or a folder of its versions (each with `effective DATE`) as one history."""
    from rplang.runtime import load_policy_text

    if Path(path).is_dir():
        from rplang.runtime.history import load_history

        try:
            return load_history(path)
        except PolicyError as error:
            _fail_policy(error)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        click.echo(f"{path}: error: cannot read the policy: {getattr(error, 'strerror', None) or error}", err=True)
        sys.exit(EXIT_POLICY)
    try:
        return load_policy_text(text, path, cache=True)
    except PolicyError as error:
        _fail_policy(error)


def _read_request_text(path: str) -> str:
    try:
        # JSON is UTF-8 whatever the locale says stdin is, so read bytes and decode them here.
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as error:
        raise RequestError([RequestProblem("$", f"cannot read {path}: {error.strerror or error}")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RequestError([RequestProblem("$", f"not valid UTF-8: {error.reason}")]) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rplang", prog_name="rpl")
def cli():
    """rpl: returns policies as code."""


@cli.command()
@click.argument("policies", nargs=-1, required=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              help="text for people, json for programs, github for workflow annotations")
@click.option("--strict", is_flag=True, help="treat warnings as errors")
def check(policies, fmt, strict):
    """Check POLICIES: every error, else the static checks' warnings.

    Exits 0 when no error is found (warnings allowed), 1 otherwise; with --strict a warning is an error.
    """
    import attrs

    from rplang.compiler.lint import check_policy_text

    diagnostics: list[Diagnostic] = []
    for path in policies:
        if Path(path).is_dir():  # a folder of versions: each version, then the versions together
            diagnostics.extend(_check_versions(path))
            continue
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            diagnostics.append(Diagnostic("RPL000", f"cannot read `{path}`: {getattr(error, 'strerror', None) or error}"))
            continue
        diagnostics.extend(check_policy_text(text, path))
    if strict:
        diagnostics = [attrs.evolve(d, severity="error") for d in diagnostics]
    errors = sum(d.severity == "error" for d in diagnostics)
    if fmt == "json":
        click.echo(json.dumps([d.to_json() for d in diagnostics], indent=2, ensure_ascii=False))
    elif fmt == "github":
        for d in diagnostics:
            click.echo(_github_annotation(d))
    else:
        if diagnostics:
            click.echo("\n\n".join(d.render() for d in diagnostics) + "\n", err=True)
        summary = _count(errors, "error") + (f", {_count(len(diagnostics) - errors, 'warning')}"
                                              if len(diagnostics) > errors else "")
        if errors:
            click.echo(summary, err=True)
        else:
            checked = f"{len(policies)} polic{'y' if len(policies) == 1 else 'ies'} checked"
            click.echo(f"ok: {checked}" + (f", {_count(len(diagnostics), 'warning')}" if diagnostics else ""))
    sys.exit(EXIT_POLICY if errors else EXIT_OK)


def _check_versions(folder: str) -> list[Diagnostic]:
    from rplang.compiler.lint import check_policy_text
    from rplang.runtime.history import load_history

    found = []
    for version in sorted(Path(folder).glob("*.rpl")):
        if version.name != "examples.rpl":
            found.extend(check_policy_text(version.read_text(encoding="utf-8"), str(version)))
    if not any(d.severity == "error" for d in found):
        try:
            load_history(folder)
        except PolicyError as error:
            found.extend(error.diagnostics)
    return found


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _github_annotation(d: Diagnostic) -> str:
    """A GitHub Actions workflow command: `::error file=F,line=L,col=C,...::message`."""
    data = d.to_json()
    props = [f"{key}={_escape_property(data[field])}" for key, field in (
        ("file", "file"), ("line", "line"), ("col", "column"), ("endLine", "end_line"),
        ("endColumn", "end_column")) if data[field] is not None]
    props.append(f"title={d.code}")
    message = d.message + (f" (help: {d.hint})" if d.hint else "")
    message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{d.severity} {','.join(props)}::{message}"


def _escape_property(value) -> str:
    """A property value of a workflow command: `,` and `:` separate properties, so escape them."""
    return (str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            .replace(":", "%3A").replace(",", "%2C"))


@cli.command(name="eval")
@click.argument("policy")
@click.argument("request", required=False)
@click.option("--jsonl", "jsonl", metavar="FILE", help="decide one request per line of FILE (- for stdin)")
@click.option("--pretty/--compact", default=False, help="indent the JSON")
@click.option("--outputs-only", is_flag=True, help="print only the outputs, without the explanation")
@click.option("--partial", is_flag=True,
              help="facts declared `at STAGE` may be missing: print what is certain and the residual")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="decide under the terms in force on DATE instead of the request's terms date")
@click.option("--jobs", type=click.IntRange(1, 256), default=1, metavar="N",
              help="with --jsonl: decide in N processes (the output keeps the input's order)")
def eval_(policy, request, jsonl, pretty, outputs_only, partial, as_of, jobs):
    """Decide REQUEST (a JSON file, - for stdin) under POLICY; print the decision as JSON."""
    if (request is None) == (jsonl is None):
        raise click.UsageError("give either a REQUEST file or --jsonl FILE")
    if jobs > 1 and jsonl is None:
        raise click.UsageError("--jobs decides the lines of --jsonl FILE in several processes")
    if jobs > 1 and not can_fork():
        raise click.UsageError("--jobs needs processes started by fork, which this system does not have")
    if partial and jsonl is not None:  # residual decisions (docs/residual.md): one request at a time
        raise click.UsageError("--partial decides one REQUEST file, not --jsonl")
    if partial and as_of is not None:
        raise click.UsageError("--partial decides under the request's own terms: leave out --as-of")
    as_of = as_of.date() if as_of is not None else None
    if partial and Path(policy).is_dir():
        raise click.UsageError("--partial decides under one policy file, not a folder of versions")
    compiled = _load(policy)
    if jsonl is not None:
        sys.exit(_eval_lines(compiled, jsonl, outputs_only, as_of, jobs))
    try:
        if partial:  # {"outputs", "residual", "explanation"}: see docs/residual.md
            decision = compiled.decide_partial_json(_read_request_text(request))
        else:
            decision = compiled.decide_json(_read_request_text(request), as_of)
        data = decision.to_json()
    except RplError as error:
        click.echo(json.dumps({"error": error_json(error)}, indent=2 if pretty else None, ensure_ascii=False))
        click.echo(_error_text(error), err=True)
        sys.exit(EXIT_REQUEST)
    click.echo(json.dumps(data, indent=2 if pretty else None, ensure_ascii=False))


def _error_text(error: RplError) -> str:
    return error.render() if isinstance(error, RequestError) else f"error: {error}"


def _eval_lines(compiled, path: str, outputs_only: bool = False, as_of=None, jobs: int = 1) -> int:
    # Bytes, decoded line by line: one line that is not UTF-8 is that line's error, not a crash.
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as error:
        problem = RequestProblem("$", f"cannot read {path}: {error.strerror or error}")
        click.echo(json.dumps({"error": error_json(RequestError([problem]))}, ensure_ascii=False))
        return EXIT_REQUEST
    with stream:
        rejected = decide_stream(compiled, stream, sys.stdout, outputs_only, as_of, jobs)
    return EXIT_REQUEST if rejected else EXIT_OK


@cli.command()
@click.argument("policy")
@click.argument("request")
@click.option("--partial", is_flag=True,
              help="facts declared `at STAGE` may be missing: explain what is certain and what is still open")
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="decide under the terms in force on DATE instead of the request's terms date")
def explain(policy, request, partial, as_of):
    """Decide REQUEST under POLICY and explain the decision in words."""
    if partial and as_of is not None:  # residual decisions (docs/residual.md)
        raise click.UsageError("--partial decides under the request's own terms: leave out --as-of")
    if partial and Path(policy).is_dir():
        raise click.UsageError("--partial decides under one policy file, not a folder of versions")
    compiled = _load(policy)
    try:
        if partial:  # docs/residual.md
            decision = compiled.decide_partial_json(_read_request_text(request))
        else:
            decision = compiled.decide_json(_read_request_text(request), as_of.date() if as_of else None)
        text = decision.explain_text()
    except RplError as error:
        click.echo(_error_text(error), err=True)
        sys.exit(EXIT_REQUEST)
    click.echo(text)


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
    cli.add_command(_replay)


_register_commands()


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="rpl", standalone_mode=False)
    except click.UsageError as error:
        error.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.exceptions.Exit as exit_:
        sys.exit(exit_.exit_code)


if __name__ == "__main__":
    main()
