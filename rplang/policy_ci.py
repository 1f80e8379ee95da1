"""`rpl test` and `rpl diff`: what CI runs on every change to a policy."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rplang.policy_lang.errors import PolicyError
from rplang.policy_lang.source_text import NotAFile

from .inputs import (EXIT_OK, EXIT_POLICY, EXIT_REQUEST, EXIT_USAGE, a_number, check_output, fail_policy,
                     no_empty_path, write_output)
from .terminal import colour_diff_lines, printable, progress_lines, progress_wanted


def _pattern(ctx, param, value):
    """`--run REGEX`, compiled: a pattern Python's re cannot read is a bad command line."""
    import re

    if value is None:
        return None
    try:
        return re.compile(value)
    except re.error as error:
        raise click.BadParameter(f"`{value}` is no regular expression: {error}") from None


@click.command(name="test")
@click.argument("paths", nargs=-1, callback=no_empty_path)
@click.option("--coverage", "show_coverage", is_flag=True, help="report, per rule, whether it fired and "
              "whether its condition was seen both true and false")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PCT", callback=a_number,
              help="fail when fewer than PCT% of the rules are covered both ways")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit", "github"]), default="text",
              help="text for people; json for programs; junit (XML) for CI test reports; github for "
                   "workflow annotations at each failing example")
@click.option("--coverage-report", type=click.Path(dir_okay=False, writable=True), metavar="FILE",
              help="write the rule coverage of every policy to FILE, as JSON")
@click.option("--run", "pattern", metavar="REGEX", callback=_pattern,
              help="run only the examples whose name REGEX matches (searched in it, as Python's re does)")
@click.option("--progress/--no-progress", default=None,
              help="show progress over the policies on stderr (default: when stderr is a terminal, outside CI)")
def test_command(paths, show_coverage, fail_under, fmt, coverage_report, pattern, progress):
    """Run the examples of every policy under PATHS (default: policies/ or .).

    Exits 0 when every example passes (and the coverage is met), 1 when one fails, a policy has an
    error, the coverage is under --fail-under, or no example ran at all; 64 for a bad command line.
    """
    import attrs

    from rplang.runtime.testing import EXAMPLES_FILE, coverage, coverage_percent, coverage_text, failure_text, \
        find_policies, load_suite, percent_text, run_suite

    if not paths:
        paths = ("policies",) if Path("policies").is_dir() else (".",)
    policies = find_policies(list(paths))
    if not policies:
        click.echo(f"no policy found under {', '.join(paths)}", err=True)
        sys.exit(EXIT_USAGE)
    if coverage_report:  # before the examples run: never a policy or an examples file of the run
        check_output(coverage_report, "--coverage-report", [("policy", p) for p in policies] + [
            ("examples file", p.with_suffix("") / EXAMPLES_FILE) for p in policies])
    text = fmt == "text"
    runs, tables, broken = [], [], []
    for path in _with_progress(policies, progress, "running the examples"):
        try:
            suite = load_suite(path)
        except NotAFile as error:  # a pipe, a device: the command line named the wrong thing
            fail_policy(error)
        except PolicyError as error:
            click.echo(error.render(), err=True)
            broken.append((path, error))
            continue
        if pattern is not None:
            suite = attrs.evolve(suite, examples=tuple(e for e in suite.examples if pattern.search(e[0].name)))
        results = run_suite(suite)
        runs.append((suite, results))
        tables.append((suite, coverage(suite, results)))
        if text:
            for r in results:
                if not r.passed:
                    click.echo(printable(failure_text(r)) + "\n")
            if not suite.examples and pattern is None:
                click.echo(f"{path}: no examples")
            if show_coverage:
                click.echo(coverage_text(suite, tables[-1][1]) + "\n")
    rows_all = [row for _, table in tables for row in table]
    failed = sum(not r.passed for _, results in runs for r in results)
    passed = sum(len(results) for _, results in runs) - failed
    _report_tests(fmt, runs, broken)
    if coverage_report:
        from .reports import coverage_json

        write_output(coverage_report, coverage_json(tables) + "\n", "--coverage-report")
    summary_out = dict(err=not text)  # the summary never mixes into a report on stdout
    if show_coverage or fail_under is not None:
        click.echo(f"rule coverage: {percent_text(coverage_percent(rows_all))}", **summary_out)
    click.echo(f"{passed} passed, {failed} failed" + (
        f", {len(broken)} polic{'y' if len(broken) == 1 else 'ies'} not loaded" if broken else ""), **summary_out)
    if broken:
        sys.exit(EXIT_POLICY)
    if not passed + failed:  # a CI step that tests nothing must not pass: a wrong folder, examples lost
        click.echo(f"error: no example matches --run {pattern.pattern}" if pattern is not None else
                   f"error: no examples under {', '.join(paths)}: write `example` blocks in a policy, or in "
                   "NAME/examples.rpl beside NAME.rpl",
                   err=True)
        sys.exit(EXIT_POLICY)
    under = fail_under is not None and coverage_percent(rows_all) < fail_under
    if under:
        click.echo(f"coverage {percent_text(coverage_percent(rows_all))} is under {fail_under:g}%", err=True)
    sys.exit(1 if failed or under else EXIT_OK)


def _with_progress(items: list, asked: bool | None, label: str):
    """The items, with a progress bar on stderr when there are several and it is wanted."""
    if len(items) < 2 or not progress_wanted(asked):
        yield from items
        return
    with click.progressbar(items, label=label, file=sys.stderr) as bar:
        yield from bar


def _report_tests(fmt: str, runs: list, broken: list) -> None:
    if fmt == "text":
        return
    from . import reports

    write = {"json": reports.tests_json, "junit": reports.tests_junit, "github": reports.tests_github}[fmt]
    report = write(runs, broken)
    if report:
        click.echo(report)


def _policy_text(spec: str) -> tuple[str, str]:
    """The text of a policy given as a path or as `git:REV:path`."""
    import subprocess  # here: only `git:` specs need it, and every start of `rpl` would pay for it

    from rplang.policy_lang.source_text import policy_text, read_policy_file, read_policy_stream

    if spec.startswith("git:"):
        _, rev, path = (spec.split(":", 2) + ["", ""])[:3]
        if not rev or rev.startswith("-"):  # never an option of git's, whatever follows
            raise click.UsageError(f"`{spec}`: write git:REV:path, with a revision that does not start with `-`")
        try:
            git = subprocess.Popen(["git", "show", "--end-of-options", f"{rev}:{path}"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as error:
            why = "git is not installed, or not on PATH" if isinstance(error, FileNotFoundError) else (
                f"cannot run git: {error.strerror or error}")
            raise click.UsageError(f"`{spec}`: {why}: install git, or give the old policy as a file "
                                   "(`git show REV:path > old.rpl`)") from None
        with git:  # read as a file is, up to the limit: a huge blob is refused (RPL090), never held whole
            try:
                data = read_policy_stream(git.stdout, f"`{spec}`")
            except PolicyError as error:
                git.kill()  # the rest of the blob unread
                fail_policy(error)
            said = git.stderr.read()  # a few lines: their pipe does not fill while stdout is read
        if git.returncode != 0:
            raise click.UsageError(f"`{spec}`: {_unreadable_in_git(rev, path)} (git: "
                                   f"{said.decode('utf-8', 'replace').strip()})")
        if data.startswith(f"tree {rev}:{path}\n\n".encode()):  # git show's listing of a folder
            raise click.UsageError(f"`{spec}`: `{path}` is a folder at {rev}; name a policy file in it")
        try:
            return policy_text(data, spec), f"{path}@{rev}"
        except PolicyError as error:  # not UTF-8: the policy's fault, as for a file (RPL000)
            click.echo(error.render(), err=True)
            sys.exit(EXIT_POLICY)
    try:
        return read_policy_file(spec), spec
    except PolicyError as error:
        fail_policy(error)


def _unreadable_in_git(rev: str, path: str) -> str:
    """Why `git show REV:path` failed, asked of git itself (its messages are in the user's
    language): no repository here, no such revision, or no such path in it; and what to do."""
    import subprocess

    def git(*args: str) -> bool:
        return subprocess.run(["git", *args], capture_output=True).returncode == 0

    if not git("rev-parse", "--git-dir"):
        return ("this folder is not in a git repository: run the command in the policy's repository, "
                "or give the old policy as a file")
    if not git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"):
        return (f"git knows no revision `{rev}` here: name a commit, a branch or a tag (a shallow clone, as "
                "CI makes, may lack it: fetch it, e.g. `git fetch --depth=2`)")
    return (f"`{path}` is not in {rev}: name the policy's path at that revision, from the top of the repository "
            f"(`git ls-tree -r --name-only {rev}` lists them)")


@click.command(name="diff")
@click.argument("old", callback=no_empty_path)
@click.argument("new", callback=no_empty_path)
@click.option("--requests", "requests_file", required=True, metavar="FILE.jsonl",
              help="one request per line (- for stdin)")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
@click.option("--show", default=3, show_default=True,
              help="how many changed requests to show in full per outcome change, and of the largest "
                   "changes of an amount")
@click.option("--fail-on", type=click.Choice(["outcome-change", "money-change", "any"]), multiple=True,
              help="exit 1 when a decision changes its outcome, an amount, or anything (repeatable)")
@click.option("--progress/--no-progress", default=None,
              help="show progress on stderr (default: when stderr is a terminal, outside CI)")
def diff_command(old, new, requests_file, fmt, show, fail_on, progress):
    """Decide every request under OLD and NEW and report what changes. OLD may be git:REV:path."""
    from rplang.runtime import load_policy_text
    from rplang.runtime.impact import compare, impact_text

    policies = []
    for spec in (old, new):
        text, name = _policy_text(spec)
        try:
            policies.append((load_policy_text(text, name), name))
        except PolicyError as error:
            fail_policy(error)
    try:  # bytes: a line that is not UTF-8 is a rejected request, not a crash
        stream = sys.stdin.buffer if requests_file == "-" else open(requests_file, "rb")
    except OSError as error:
        click.echo(f"{requests_file}: error: cannot read the requests: {error.strerror or error}", err=True)
        sys.exit(EXIT_REQUEST)
    with stream, progress_lines(stream, requests_file, progress, "deciding under both versions",
                                _request_lines(stream)) as lines:
        impact = compare(policies[0][0], policies[1][0], lines, show)
    if fmt == "json":
        click.echo(json.dumps(impact.to_json(), indent=2, ensure_ascii=False))
    else:
        report = printable(impact_text(impact, policies[0][1], policies[1][1], markdown=fmt == "markdown"))
        click.echo(report if fmt == "markdown" else colour_diff_lines(report))
    _gate(impact, fail_on)


def _request_lines(stream):
    """The lines of a requests file as `rpl eval --jsonl` reads them: a line longer than a
    request's limit is skipped in pieces, never held whole (`/dev/zero` held one line for ever)."""
    from rplang.policy_lang import limits

    from .stream import TooLong, read_lines, too_long_error

    for raw in read_lines(stream, limits.MAX_REQUEST_BYTES):
        yield too_long_error(raw) if isinstance(raw, TooLong) else raw


def _gate(impact, fail_on) -> None:
    """`--fail-on`: exit 1, saying why, when the change does what the build must not allow."""
    outcome = sum(impact.outcome_changes.values())
    found = {"outcome-change": (outcome, "change their outcome"),
             "money-change": (impact.money_changed, "change an amount"),
             "any": (impact.changed, "change")}
    failing = [f"{found[gate][0]} of {impact.total} decisions {found[gate][1]} (--fail-on {gate})"
               for gate in fail_on if found[gate][0]]
    if failing:
        click.echo("\n".join(failing), err=True)
        sys.exit(1)


def register(cli: click.Group) -> None:
    cli.add_command(test_command)
    cli.add_command(diff_command)
