"""Run a policy's examples, and measure which rules they cover.

A policy `NAME.rpl` takes its examples from `example` declarations in the file itself and in
`NAME/examples.rpl` beside it. Request files named by an example are read relative to the file
that names them.
"""
from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path

import attrs

from rplang.compiler.examples import CheckedExample, check_examples, example_warnings
from rplang.policy_lang import ast, parse_policy
from rplang.policy_lang.errors import PolicyError, RequestError, RplError
from rplang.policy_lang import limits
from rplang.policy_lang.source_text import NotAFile, open_file, read_policy_file

from . import load_policy_text
from .decide import CompiledPolicy
from .decision import Decision
from .request_text import read_request_json
from .values import json_formatter

EXAMPLES_FILE = "examples.rpl"


@attrs.frozen
class Suite:
    """A policy and its examples, each with the folder its request files are relative to."""
    path: Path
    policy: CompiledPolicy
    examples: tuple[tuple[CheckedExample, Path], ...]


@attrs.frozen
class Mismatch:
    """One expected output that came out differently."""
    output: str
    expected: object
    actual: object


@attrs.frozen
class ExampleResult:
    """What running one example gave."""
    example: CheckedExample
    mismatches: tuple[Mismatch, ...] = ()
    error: str | None = None
    decision: Decision | None = None

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.error is None


def find_policies(paths: list[str | Path]) -> list[Path]:
    """The policy files under `paths` (files, or folders searched recursively)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if os.path.isdir(p):  # not Path.is_dir, which raises for a name too long
            found += [f for f in sorted(p.rglob("*.rpl")) if f.name != EXAMPLES_FILE]
        elif p.suffix == ".rpl" and p.name != EXAMPLES_FILE:
            found.append(p)
    return found


def load_suite(path: Path, text: str | None = None, policy: CompiledPolicy | None = None,
               examples_text: str | None = None) -> Suite:
    """Compile a policy and check its examples; raises PolicyError with every problem.

    `text` and `examples_text`, when given, stand for the files' contents (an editor's unsaved
    buffers); `policy`, that text already compiled."""
    text = read_policy_file(path) if text is None else text
    policy = load_policy_text(text, str(path)) if policy is None else policy
    own = [d for d in parse_policy(text, str(path)).declarations if isinstance(d, ast.Example)]
    examples = [(e, path.parent) for e in check_examples(own, policy.checked)]
    sibling = path.with_suffix("") / EXAMPLES_FILE
    if examples_text is not None or sibling.exists():
        if examples_text is None:
            examples_text = read_policy_file(sibling)
        parsed = parse_policy(examples_text, str(sibling))
        others = [d for d in parsed.declarations if isinstance(d, ast.Example)]
        strays = [d for d in parsed.declarations if not isinstance(d, ast.Example)]
        if strays:
            from rplang.policy_lang.errors import Diagnostic

            raise PolicyError([Diagnostic("RPL013", "an examples file holds only examples", strays[0].span,
                                          f"move this declaration to {path.name}")])
        examples += [(e, sibling.parent) for e in check_examples(others, policy.checked)]
    return Suite(path, policy, tuple(examples))


def example_diagnostics(suite: Suite) -> list:
    """What `rpl check` says of a policy's examples once they check: a request file that is not
    there, an example that expects nothing."""
    return missing_requests(suite) + example_warnings([e for e, _ in suite.examples], suite.policy.checked)


def missing_requests(suite: Suite) -> list:
    """An example whose request file is not there (`rpl test` says it per example)."""
    from rplang.policy_lang.errors import Diagnostic

    return [Diagnostic("RPL000", f"the request file `{e.request_file}` of example \"{e.name}\" "
                       + ("is not a file" if os.path.lexists(folder / e.request_file) else "is not there"),
                       e.span, f"it was looked for at {folder / e.request_file}: the path is read from the folder "
                       "of the file that holds the example")
            for e, folder in suite.examples
            if e.request_file is not None and not (folder / e.request_file).is_file()]


def example_request(example: CheckedExample, folder: Path, root: Path | None = None) -> dict:
    """The example's request as JSON data: its file or inline object, with its changes made.

    A request file must be inside `root` (the folder of the policy; by default `folder`).
    """
    root = root or folder
    if example.request_file is not None:
        file = (folder / example.request_file).resolve()
        if not file.is_relative_to(root.resolve()):
            raise RplError(f"the request {example.request_file} is outside {root}: an example reads "
                           "requests from the policy's own folder")
        try:
            # a regular file only, and never more than a request's limit: a pipe in the policy's
            # folder would wait for a writer for ever, and a file of gigabytes be read whole
            with open_file(file) as f:
                size = os.fstat(f.fileno()).st_size
                if size > limits.MAX_REQUEST_BYTES:
                    raise RplError(f"cannot read the request {example.request_file}: it is {size:,} bytes; "
                                   f"the limit is {limits.MAX_REQUEST_BYTES:,} bytes")
                data = read_request_json(f.read(limits.MAX_REQUEST_BYTES + 1))
        except NotAFile as error:
            raise RplError(f"cannot read the request {example.request_file}: it is {error.kind}, not a file") from None
        except OSError as error:
            raise RplError(f"cannot read the request {example.request_file}: "
                           f"{error.strerror or error}") from None
        except RequestError as error:
            raise RplError(f"cannot read the request {example.request_file}: {error}") from None
    else:
        data = copy.deepcopy(example.request)
    for change in example.changes:
        _apply(data, change)
    return data


def _apply(data, change: ast.Change) -> None:
    """One `with` change; `with items[N] = ...` with N the list's length adds an element."""
    target = data
    last = change.path[-1]
    try:
        for step in change.path[:-1]:
            target = target[step]
        if isinstance(target, list) and isinstance(last, int) and last == len(target):
            target.append(copy.deepcopy(change.value))
        else:
            target[last] = copy.deepcopy(change.value)
    except (KeyError, IndexError, TypeError):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in change.path)
        hint = ""
        if isinstance(target, list) and isinstance(last, int):
            hint = (f"; the list has {len(target)} element{'s' if len(target) != 1 else ''}: "
                    f"`[{len(target)}]` adds one at its end")
        raise RplError(f"`with {where.lstrip('.')}`: the request has no such place{hint}") from None


def run_example(suite: Suite, example: CheckedExample, folder: Path) -> ExampleResult:
    try:
        decision = suite.policy.decide(example_request(example, folder, suite.path.parent))
    except RequestError as error:
        return ExampleResult(example, error=error.render())
    except RplError as error:
        return ExampleResult(example, error=str(error))
    actual = decision.outputs_json()
    types = suite.policy.output_types
    mismatches = []
    for name, value in example.expected.items():
        want = json_formatter(types[name])(value)
        if actual[name] != want:
            mismatches.append(Mismatch(name, want, actual[name]))
    if example.expected_items:
        mismatches += _item_mismatches(suite.policy, example, decision)
    if example.expected_rules is not None:
        fired = frozenset(decision.rule_names())
        if fired != example.expected_rules:
            mismatches.append(Mismatch("rules", sorted(example.expected_rules), sorted(fired)))
    return ExampleResult(example, tuple(mismatches), decision=decision)


def _item_mismatches(policy: CompiledPolicy, example: CheckedExample, decision: Decision) -> list[Mismatch]:
    """`expect items[1].outcome = ...`: each item by its place in the list outcomes are decided for."""
    items = decision.to_json()["items"]
    found = []
    for (index, name), value in sorted(example.expected_items.items()):
        want = value if name == "outcome" else json_formatter(policy.output_types[name])(value)
        if index >= len(items):
            actual = f"no item: the decision has {len(items)}"
        else:
            actual = items[index]["outcome"] if name == "outcome" else items[index]["totals"][name]
        if actual != want:
            found.append(Mismatch(f"items[{index}].{name}", want, actual))
    return found


def run_suite(suite: Suite) -> list[ExampleResult]:
    return [run_example(suite, e, folder) for e, folder in suite.examples]


# ---- coverage ---------------------------------------------------------------------------------

@attrs.define
class RuleCoverage:
    """Across the examples: did the rule apply, was its condition seen true, and seen false."""
    rule: str
    fired: bool = False
    seen_true: bool = False
    seen_false: bool | None = False  # None: the condition is always true (`when true`)

    @property
    def both_ways(self) -> bool:
        return self.fired and self.seen_true and self.seen_false is not False


def coverage(suite: Suite, results: list[ExampleResult]) -> list[RuleCoverage]:
    """Per rule, in file order: whether it fired and whether its condition went both ways."""
    policy = suite.policy
    table = {r.rule.name: RuleCoverage(r.rule.name, seen_false=None if _always_true(r.rule.condition) else False)
             for r in policy.graph.rules}
    fns = policy.evaluator.fns
    for result in results:
        decision = result.decision
        if decision is None:
            continue
        for a in decision.applied + decision.overridden:
            table[a.rule.rule.name].fired = True
        env = decision._env
        for rule_node in policy.graph.rules:
            rule = rule_node.rule
            condition = fns[rule_node.condition]
            elements = [None] if rule.var is None else fns[rule_node.source](env)
            for element in elements:
                if rule.var is not None:
                    env.bound[rule.var] = element
                try:
                    if condition(env):
                        table[rule.name].seen_true = True
                    elif table[rule.name].seen_false is not None:
                        table[rule.name].seen_false = True
                except RequestError:
                    pass
                finally:
                    env.bound.pop(rule.var, None)
    return list(table.values())


def _always_true(condition) -> bool:
    from rplang.compiler import ir

    return isinstance(condition, ir.Const) and condition.value is True


def clause_coverage(suite: Suite, rows: list[RuleCoverage]) -> list[dict]:
    """Per clause the rules cite (by name, or quoted), in the order first cited: the rules citing it
    and whether one of them applied in an example. A rule citing several clauses counts for each."""
    fired = {r.rule for r in rows if r.fired}
    clauses: dict = {}
    for rule in suite.policy.checked.rules:
        for name, text in rule.citations:
            found = clauses.setdefault((name, text), {"clause": name, "cites": text, "rules": [], "applied": False})
            found["rules"].append(rule.name)
            found["applied"] = found["applied"] or rule.name in fired
    return list(clauses.values())


def coverage_percent(rows: list[RuleCoverage]) -> float:
    """The share of rules that fired and whose condition was seen both true and false."""
    return 100.0 * sum(r.both_ways for r in rows) / len(rows) if rows else 100.0


def percent_text(percent: float) -> str:
    """A coverage with one decimal, rounded down: never shown as reaching a threshold it is
    under (2 of 3 rules, 66.67%, read "66.7%" and failed `--fail-under 66.7`)."""
    return f"{math.floor(round(percent * 10, 6)) / 10:.1f}%"  # round first: 100 * 29 / 100 is 28.999...


# ---- reports ----------------------------------------------------------------------------------

def failure_text(result: ExampleResult) -> str:
    lines = [f"example \"{result.example.name}\""]
    if result.example.span is not None:
        lines[0] = f"{result.example.span.location()}: " + lines[0]
    if result.error is not None:
        lines.append(f"  could not decide: {result.error}")
        return "\n".join(lines)
    rows = [(m.output, json.dumps(m.expected), json.dumps(m.actual)) for m in result.mismatches]
    width = max(len(output) for output, _, _ in rows + [("output", "", "")])
    wide = max(len(expected) for _, expected, _ in rows + [("", "expected", "")])  # the arrows in one column
    lines.append(f"  {'output':<{width}}  {'expected':<{wide}}  →  actual")
    for output, expected, actual in rows:
        lines.append(f"  {output:<{width}}  {expected:<{wide}}  →  {actual}")
    lines.append("  the decision was:")
    lines += [f"    {line}" for line in result.decision.explain_text().splitlines()]
    return "\n".join(lines)


def coverage_text(suite: Suite, rows: list[RuleCoverage]) -> str:
    width = max([len(r.rule) for r in rows] + [4])
    mark = {True: "yes", False: "NO", None: "n/a"}
    lines = [f"coverage of {suite.path}:", f"  {'rule':<{width}}  fired  true  false"]
    for r in rows:
        lines.append(f"  {r.rule:<{width}}  {mark[r.fired]:<5}  {mark[r.seen_true]:<4}  {mark[r.seen_false]}")
    both = sum(r.both_ways for r in rows)
    lines.append(f"  total: {both}/{len(rows)} rules fired and seen both ways: {percent_text(coverage_percent(rows))}")
    clauses = clause_coverage(suite, rows)
    if clauses:
        never = [c["clause"] or f'"{c["cites"][:30]}"' for c in clauses if not c["applied"]]
        lines.append(f"  clauses: {len(clauses) - len(never)}/{len(clauses)} cited clauses applied in an example"
                     + (f"; never: {', '.join(never)}" if never else ""))
    return "\n".join(lines)
