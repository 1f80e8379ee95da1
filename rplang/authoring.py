"""`rpl fmt`, `rpl graph`, `rpl schema` and `rpl doc`: tools for writing and publishing a policy.

Exit codes, as in rplang.cli: 0 done, 1 a policy error (or, for `fmt --check`, a file not
formatted), 2 a request error; and 69 when a program it needs (Graphviz) is not installed,
70 when the formatter finds it would change a policy's meaning (a bug: the file is left as is),
73 when `-o FILE` cannot be written, or a file `fmt` rewrites (which is then left as it was).
"""
from __future__ import annotations

import difflib
import json
import os
import sys
from pathlib import Path

import click

from .inputs import (EXIT_CANTCREAT, EXIT_OK, EXIT_POLICY, EXIT_REQUEST, EXIT_SOFTWARE, EXIT_UNAVAILABLE,
                     EXIT_USAGE, check_output, load_policy_arg, no_empty_path, read_request, replace_file,
                     write_output)


def register(cli: click.Group) -> None:
    for command in (fmt, graph, schema, doc):
        cli.add_command(command)


def _policy_arg(policy: str, output: str | None, request: str | None = None):
    """POLICY loaded, and `-o FILE` checked before anything is made: never one of the files the
    command reads (the policy, a version of it, a table's file, the request)."""
    from rplang.compiler.checked import table_files

    loaded = load_policy_arg(policy)
    if output is None or output == "-":
        return loaded
    folder = Path(policy)
    reads = [("policy", p) for p in (sorted(folder.glob("*.rpl")) if os.path.isdir(folder) else [policy])]
    reads += [("table file", file) for version in getattr(loaded, "versions", [loaded])
              for file in table_files(version.checked)]
    if request is not None:
        reads.append(("request", request))
    check_output(output, "--output", reads)
    return loaded


def _write(text: str, output: str | None) -> None:
    if output is None or output == "-":
        click.echo(text, nl=False)
        return
    write_output(output, text, "--output")


# ---- rpl fmt --------------------------------------------------------------------------------------

@click.command()
@click.argument("files", nargs=-1, required=True, callback=no_empty_path)
@click.option("--check", is_flag=True,
              help="change nothing; show a diff and exit 1 if a file is not formatted (for CI)")
def fmt(files, check):
    """Rewrite FILES (.rpl files or folders of them; - for stdin) in the canonical layout."""
    from rplang.policy_lang.errors import PolicyError
    from rplang.policy_lang.format import FormatterBug, format_policy
    from rplang.policy_lang.source_text import NotAFile, policy_text, read_policy_bytes, read_policy_stream

    paths = _policy_files(files)
    changed = unchanged = 0
    status = EXIT_OK
    for path in paths:
        try:
            # bytes, so that line ends are seen as they are (the layout's are `\n`)
            text = policy_text(read_policy_stream(sys.stdin.buffer, "on stdin") if path == "-"
                               else read_policy_bytes(path), "<stdin>" if path == "-" else path)
        except NotAFile as error:  # read, a pipe would block, a device never end
            click.echo(f"{path}: error: {error.kind}, not a file: name .rpl files, or - for stdin", err=True)
            status = max(status, EXIT_USAGE)
            continue
        except PolicyError as error:  # not there, too long, not UTF-8
            click.echo(error.render(), err=True)
            status = max(status, EXIT_POLICY)
            continue
        name = "<stdin>" if path == "-" else path
        try:
            formatted = format_policy(text, name)
        except PolicyError as error:
            click.echo(error.render(), err=True)
            status = max(status, EXIT_POLICY)
            continue
        except FormatterBug as error:
            click.echo(f"{name}: internal error: {error}; please report it", err=True)
            status = EXIT_SOFTWARE
            continue
        if formatted == text:
            unchanged += 1
            if path == "-" and not check:
                click.echo(formatted, nl=False)
            continue
        changed += 1
        if check:
            click.echo("".join(difflib.unified_diff(
                text.splitlines(keepends=True), formatted.splitlines(keepends=True),
                f"{name}", f"{name} (formatted)")), nl=False)
            status = max(status, EXIT_POLICY)
        elif path == "-":
            click.echo(formatted, nl=False)
        else:
            try:
                replace_file(path, formatted.encode("utf-8"))
            except OSError as error:  # a full disk, a read-only file: the file is as it was, never cut short
                click.echo(f"{path}: error: cannot write it: {error.strerror or error}; it is left as it was", err=True)
                changed -= 1
                status = max(status, EXIT_CANTCREAT)
                continue
            click.echo(f"formatted {path}", err=True)
    if "-" not in paths:
        verb = "would be reformatted" if check else "reformatted"
        click.echo(f"{_count(changed, 'file')} {verb}, {unchanged} already formatted", err=True)
    sys.exit(status)


def _policy_files(arguments) -> list[str]:
    """The files to format: a folder stands for the .rpl files in it, at any depth."""
    paths: list[str] = []
    for argument in arguments:
        folder = Path(argument)
        if argument != "-" and os.path.isdir(folder):  # not Path.is_dir, which raises for a name too long
            found = [str(p) for p in sorted(folder.rglob("*.rpl"))]
            if not found:  # "0 files would be reformatted" would pass a CI step given the wrong folder
                raise click.BadParameter(f"no .rpl file under {argument}", param_hint="FILES")
            paths += found
        else:
            paths.append(argument)
    return paths


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ---- rpl graph ------------------------------------------------------------------------------------

@click.command()
@click.argument("policy", callback=no_empty_path)
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot", "svg"]), default="mermaid",
              show_default=True, help="mermaid (GitHub shows it), Graphviz dot, or svg through Graphviz")
@click.option("--request", "request", metavar="FILE",
              help="highlight the path the decision on this request (JSON, - for stdin) took")
@click.option("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
def graph(policy, fmt, request, output):
    """Draw the rule graph of POLICY: inputs, parameters, values, conditions, rules, outputs."""
    from rplang.compiler import render_graph
    from rplang.policy_lang.errors import RplError

    compiled = _policy_arg(policy, output, request)
    path = None
    if request is not None:

        try:
            path = render_graph.decision_path(compiled.decide(read_request(request)))
        except RplError as error:
            click.echo(error.render() if hasattr(error, "render") else f"error: {error}", err=True)
            sys.exit(EXIT_REQUEST)
    picture = render_graph.picture(compiled.graph, path)
    if fmt == "mermaid":
        _write(render_graph.to_mermaid(picture), output)
        return
    dot = render_graph.to_dot(picture)
    if fmt == "dot":
        _write(dot, output)
        return
    try:
        _write(render_graph.to_svg(dot), output)
    except render_graph.GraphvizMissing as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_UNAVAILABLE)


# ---- rpl schema -----------------------------------------------------------------------------------

@click.command()
@click.argument("policy", callback=no_empty_path)
@click.option("--decision", is_flag=True, help="the schema of the decision JSON instead of the request's")
@click.option("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
def schema(policy, decision, output):
    """Print the JSON Schema (draft 2020-12) of POLICY's requests, or of its decisions."""
    from rplang.compiler.schema import decision_schema, request_schema

    checked = _policy_arg(policy, output).checked
    document = decision_schema(checked) if decision else request_schema(checked)
    _write(json.dumps(document, indent=2, ensure_ascii=False) + "\n", output)


# ---- rpl doc --------------------------------------------------------------------------------------

@click.command()
@click.argument("policy", callback=no_empty_path)
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default="markdown",
              show_default=True)
@click.option("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
def doc(policy, fmt, output):
    """Render POLICY's customer-facing text: its clauses, with the parameters' values filled in."""
    from rplang.compiler.document import render_html, render_markdown

    checked = _policy_arg(policy, output).checked
    _write(render_markdown(checked) if fmt == "markdown" else render_html(checked), output)
