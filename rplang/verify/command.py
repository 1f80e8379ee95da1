"""`rpl verify`: the properties of a policy, or two versions compared; text for people, JSON for CI.

Exit codes: 0 every property proven (the versions decide alike), 1 one refuted, not checkable or
not settled (a change found), 2 a policy error, 70 the solver and the runtime disagree (a bug of
rpl verify's), 130 interrupted (Ctrl-C).
"""
from __future__ import annotations

import datetime
import json
import os
import sys

import click

from rplang.inputs import EXIT_SOFTWARE, EXIT_USAGE
from rplang.policy_lang import limits
from rplang.policy_lang.errors import PolicyError, did_you_mean

from .compare import compare
from .domain import Bounds, Unsupported
from .prove import SOLVER_TIMEOUT_MS, CounterexampleMismatch, ctrl_c_stops, each_property

EXIT_HOLDS, EXIT_VIOLATED, EXIT_POLICY, EXIT_INTERRUPTED = 0, 1, 2, 130


def _load(spec: str):
    """A policy file or `git:REV:path`, compiled; a policy that cannot be read or checked exits 2,
    a path that is no policy file (a pipe) or that git cannot read is a bad command line (64)."""
    from rplang.policy_ci import _policy_text
    from rplang.runtime import load_policy_text

    if os.path.isdir(spec):  # a folder of policies, or of one policy's versions: neither is verified yet
        click.echo(f"{spec}: error: a folder cannot be verified yet; give one policy's file (of a folder of "
                   "versions, one version's file)", err=True)
        sys.exit(EXIT_POLICY)
    try:
        text, name = _policy_text(spec)
    except SystemExit:  # the reader said why; here that is a policy error, exit 2
        sys.exit(EXIT_POLICY)
    try:
        return load_policy_text(text, name, cache=True), name
    except PolicyError as error:
        click.echo(error.render(), err=True)
        sys.exit(EXIT_POLICY)


def run(policies: tuple[str, ...], max_items: int, fmt: str, outputs: str | None,
        first_day: datetime.date, last_day: datetime.date, timeout_s: float | None = None) -> int:
    if not limits.MIN_DATE <= first_day <= last_day <= limits.MAX_DATE:
        click.echo(f"error: the dates must lie from {limits.MIN_DATE} to {limits.MAX_DATE}", err=True)
        return EXIT_USAGE
    bounds = Bounds(max_items=max_items, first_day=first_day, last_day=last_day)
    # at least 1 ms: z3 reads 0 as no limit at all
    timeout_ms = SOLVER_TIMEOUT_MS if timeout_s is None else max(1, round(timeout_s * 1000))
    loaded = [_load(spec) for spec in policies]
    try:
        with ctrl_c_stops():
            if len(loaded) == 1:
                return _properties(loaded[0], bounds, fmt, timeout_ms)
            return _versions(loaded[0], loaded[1], bounds, fmt, outputs, timeout_ms)
    except KeyboardInterrupt:  # Z3 catches Ctrl-C and answers "unknown": never a result, the run stops
        click.echo("\ninterrupted: nothing is claimed of what was not shown", err=True)
        return EXIT_INTERRUPTED
    except CounterexampleMismatch as error:
        click.echo(f"error: the solver and the runtime disagree (a bug of rpl verify): {error}", err=True)
        return EXIT_SOFTWARE


def _properties(loaded, bounds: Bounds, fmt: str, timeout_ms: int) -> int:
    policy, name = loaded
    if fmt == "json":
        results = list(each_property(policy, bounds, timeout_ms))
        proven = all(r.status == "proven" for r in results)
        click.echo(json.dumps({"policy": name, "max_items": bounds.max_items, "first_day": str(bounds.first_day),
                               "last_day": str(bounds.last_day),
                               "holds": proven, "properties": [r.to_json() for r in results]},
                              indent=2, ensure_ascii=False))
        return EXIT_HOLDS if proven else EXIT_VIOLATED
    count = len(policy.checked.properties)
    if not count:
        click.echo(f"{name}: no properties to verify (declare them with `property NAME: ...`)")
        return EXIT_HOLDS
    click.echo(f"{name}: {_count(count, 'property', 'properties')}, every request with up to "
               f"{_count(bounds.max_items, 'element')} per list, dates {bounds.first_day} to {bounds.last_day}")
    results = []
    for r in each_property(policy, bounds, timeout_ms):  # each shown when known: a long run shows progress
        results.append(r)
        word = {"proven": "proven", "refuted": "REFUTED", "unsupported": "NOT CHECKED",
                "unknown": "UNKNOWN"}[r.status]
        click.echo(f"  {word:<11} {r.name}  ({r.seconds:.2f} s)")
        if r.message:
            click.echo(f"              {r.message}")
        if r.request is not None:
            click.echo("              counterexample (run it with `rpl explain`):")
            for line in json.dumps(r.request, indent=2, ensure_ascii=False).splitlines():
                click.echo(f"                {line}")
            decided = ", ".join(f"{k} {v}" for k, v in r.outputs.items() if v is not None)
            click.echo(f"              decided: {decided}")
    held = sum(r.status == "proven" for r in results)
    click.echo(f"{held} of {len(results)} properties proven")
    return EXIT_HOLDS if held == len(results) else EXIT_VIOLATED


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def _versions(old, new, bounds: Bounds, fmt: str, outputs: str | None, timeout_ms: int) -> int:
    (old_policy, old_name), (new_policy, new_name) = old, new
    names = [n.strip() for n in outputs.split(",") if n.strip()] if outputs else None
    shared = [o.name for o in old_policy.checked.outputs if o.name in {o.name for o in new_policy.checked.outputs}]
    for name in [n for n in names or [] if n not in shared]:  # a typo, said before the solver starts
        hint = did_you_mean(name, shared)
        click.echo(f"error: --outputs: `{name}` is not an output of both versions" + (f"; {hint}" if hint else "")
                   + f" (they share {', '.join(shared)})", err=True)
        return EXIT_USAGE
    try:
        result = compare(old_policy, new_policy, names, bounds, timeout_ms)
    except Unsupported as error:
        click.echo(f"error: the versions cannot be compared: {error} is not supported", err=True)
        return EXIT_VIOLATED
    if fmt == "json":
        click.echo(json.dumps({"old": old_name, "new": new_name, "max_items": bounds.max_items,
                               **result.to_json()}, indent=2, ensure_ascii=False))
        return EXIT_HOLDS if result.equivalent else EXIT_VIOLATED
    outputs_text = ", ".join(result.outputs)
    if result.equivalent:
        click.echo(f"{old_name} and {new_name} decide alike ({outputs_text}) on every request with up to "
                   f"{_count(bounds.max_items, 'element')} per list ({result.seconds:.2f} s)")
        return EXIT_HOLDS
    found = f"{_count(len(result.changes), 'kind')} of change" if result.changes else "no change found"
    unsettled_text = f", {_count(len(result.unknown), 'kind')} not settled" if result.unknown else ""
    click.echo(f"{old_name} -> {new_name}: {found}{unsettled_text} ({outputs_text}; "
               f"up to {_count(bounds.max_items, 'element')} per list, {result.seconds:.2f} s)")
    for change in result.changes:
        values = f"{change.old[change.output]} -> {change.new[change.output]}"
        click.echo(f"  {change.output}: {change.kind}" + (f"  ({values})" if values != change.kind else ""))
        for line in json.dumps(change.request, indent=2, ensure_ascii=False).splitlines():
            click.echo(f"      {line}")
    for kind, unsettled in result.unknown:
        click.echo(f"  UNKNOWN {kind}: {unsettled.message(timeout_ms)}")
    return EXIT_VIOLATED
