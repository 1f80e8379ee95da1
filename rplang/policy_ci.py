"""`rpl test` and `rpl diff`: what CI runs on every change to a policy."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click

from rplang.policy_lang.errors import PolicyError

# Exit codes, as in rplang.cli (not imported from there: rplang.cli imports this module).
EXIT_OK, EXIT_POLICY, EXIT_REQUEST, EXIT_USAGE = 0, 1, 2, 64


@click.command(name="test")
@click.argument("paths", nargs=-1)
@click.option("--coverage", "show_coverage", is_flag=True, help="report, per rule, whether it fired and "
              "whether its condition was seen both true and false")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PCT",
              help="fail when fewer than PCT% of the rules are covered both ways")
def test_command(paths, show_coverage, fail_under):
    """Run the examples of every policy under PATHS (default: policies/ or .)."""
    from rplang.runtime.testing import coverage, coverage_percent, coverage_text, failure_text, find_policies, \
        load_suite, run_suite

    if not paths:
        paths = ("policies",) if Path("policies").is_dir() else (".",)
    policies = find_policies(list(paths))
    if not policies:
        click.echo(f"no policy found under {', '.join(paths)}", err=True)
        sys.exit(EXIT_USAGE)
    passed = failed = 0
    rows_all = []
    broken = False
    for path in policies:
        try:
            suite = load_suite(path)
        except PolicyError as error:
            click.echo(error.render(), err=True)
            broken = True
            continue
        results = run_suite(suite)
        for r in results:
            if r.passed:
                passed += 1
            else:
                failed += 1
                click.echo(failure_text(r) + "\n")
        if not suite.examples:
            click.echo(f"{path}: no examples")
        rows = coverage(suite, results)
        rows_all += rows
        if show_coverage:
            click.echo(coverage_text(suite, rows) + "\n")
    if show_coverage or fail_under is not None:
        click.echo(f"rule coverage: {coverage_percent(rows_all):.1f}%")
    click.echo(f"{passed} passed, {failed} failed")
    if broken:
        sys.exit(EXIT_POLICY)
    if failed or (fail_under is not None and coverage_percent(rows_all) < fail_under):
        if fail_under is not None and coverage_percent(rows_all) < fail_under:
            click.echo(f"coverage {coverage_percent(rows_all):.1f}% is under {fail_under:g}%", err=True)
        sys.exit(1)
    sys.exit(EXIT_OK)


def _policy_text(spec: str) -> tuple[str, str]:
    """The text of a policy given as a path or as `git:REV:path`."""
    if spec.startswith("git:"):
        _, rev, path = spec.split(":", 2)
        try:
            text = subprocess.run(["git", "show", f"{rev}:{path}"], check=True, capture_output=True,
                                  text=True).stdout
        except (OSError, subprocess.CalledProcessError) as error:
            message = getattr(error, "stderr", None) or str(error)
            click.echo(f"{spec}: error: cannot read it from git: {message.strip()}", err=True)
            sys.exit(EXIT_POLICY)
        return text, f"{path}@{rev}"
    try:
        return Path(spec).read_text(encoding="utf-8"), spec
    except OSError as error:
        click.echo(f"{spec}: error: cannot read the policy: {error.strerror}", err=True)
        sys.exit(EXIT_POLICY)


@click.command(name="diff")
@click.argument("old")
@click.argument("new")
@click.option("--requests", "requests_file", required=True, metavar="FILE.jsonl",
              help="one request per line (- for stdin)")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text")
@click.option("--show", default=3, show_default=True, help="how many changed requests to show in full")
def diff_command(old, new, requests_file, fmt, show):
    """Decide every request under OLD and NEW and report what changes. OLD may be git:REV:path."""
    from rplang.runtime import load_policy_text
    from rplang.runtime.impact import compare, impact_text

    policies = []
    for spec in (old, new):
        text, name = _policy_text(spec)
        try:
            policies.append((load_policy_text(text, name), name))
        except PolicyError as error:
            from .cli import _fail_policy

            _fail_policy(error)
    try:
        stream = sys.stdin if requests_file == "-" else open(requests_file, encoding="utf-8")
    except OSError as error:
        click.echo(f"{requests_file}: error: cannot read the requests: {error.strerror or error}", err=True)
        sys.exit(EXIT_REQUEST)
    with stream:
        impact = compare(policies[0][0], policies[1][0], stream, show)
    if fmt == "json":
        click.echo(json.dumps(impact.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(impact_text(impact, policies[0][1], policies[1][1], markdown=fmt == "markdown"))


def register(cli: click.Group) -> None:
    cli.add_command(test_command)
    cli.add_command(diff_command)
