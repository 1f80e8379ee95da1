"""Results in the forms CI tools read: GitHub workflow annotations, JUnit XML, and JSON.

Used by `rpl check --format github` and `rpl test --format json|junit|github`. A policy `rpl test`
could not load (an error in it or in its examples) is in every report: a report that leaves it
out reads as all green while the run fails.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rplang.policy_lang.errors import Diagnostic, PolicyError
from rplang.policy_lang.span import Span
from rplang.runtime.testing import ExampleResult, RuleCoverage, Suite, clause_coverage, coverage_percent, \
    failure_text

from .terminal import printable


def github_annotation(level: str, message: str, span: Span | None = None, title: str | None = None) -> str:
    """A GitHub Actions workflow command: `::error file=F,line=L,col=C,...::message`."""
    props = []
    if span is not None:
        end_line, end_column = span.end_position
        props += [f"{key}={_escape_property(value)}" for key, value in (
            ("file", span.source.name), ("line", span.line), ("col", span.column),
            ("endLine", end_line), ("endColumn", end_column))]
    if title:
        props.append(f"title={_escape_property(title)}")
    message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return f"::{level} {','.join(props)}::{message}"


def diagnostic_annotation(d: Diagnostic) -> str:
    """A policy's problem as a workflow annotation at its place, its code as the title."""
    return github_annotation(d.severity, d.message + (f" (help: {d.hint})" if d.hint else ""), d.span, d.code)


def _escape_property(value: object) -> str:
    """A property value of a workflow command: `,` and `:` separate properties, so escape them."""
    return (str(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            .replace(":", "%3A").replace(",", "%2C"))


def example_json(suite: Suite, result: ExampleResult) -> dict:
    """One example's result: where it is, whether it passed, and what differed."""
    span = result.example.span
    return {"policy": str(suite.path), "example": result.example.name,
            "file": span.source.name if span is not None else None,
            "line": span.line if span is not None else None,
            "passed": result.passed, "error": result.error,
            "mismatches": [{"output": m.output, "expected": m.expected, "actual": m.actual}
                           for m in result.mismatches]}


LOADS = "the policy and its examples load"  # the test case of a policy that could not be loaded
Broken = list[tuple[Path, PolicyError]]  # the policies that could not be loaded, and why


def tests_json(runs: list[tuple[Suite, list[ExampleResult]]], broken: Broken = ()) -> str:
    """Every example of every policy, and the totals, as JSON text; `errors`, per policy that
    could not be loaded, its problems as `rpl check --format json` gives them."""
    examples = [example_json(suite, r) for suite, results in runs for r in results]
    passed = sum(e["passed"] for e in examples)
    errors = [{"policy": str(path), "diagnostics": [d.to_json() for d in error.diagnostics]}
              for path, error in broken]
    return json.dumps({"passed": passed, "failed": len(examples) - passed, "examples": examples,
                       "errors": errors}, indent=2, ensure_ascii=False)


def tests_junit(runs: list[tuple[Suite, list[ExampleResult]]], broken: Broken = ()) -> str:
    """JUnit XML: a test suite per policy, a test case per example (with its file and line); a
    policy that could not be loaded, a suite of one test case in error, its problems as text."""
    root = ET.Element("testsuites", name="rpl test")
    total = failures = errors = 0
    for suite, results in runs:
        # printable, as below: a control character in a file's name is no more XML than in a message
        node = ET.SubElement(root, "testsuite", name=printable(str(suite.path)))
        suite_failures = suite_errors = 0
        for result in results:
            span = result.example.span
            case = ET.SubElement(node, "testcase", name=result.example.name, classname=printable(suite.path.stem))
            if span is not None:
                case.set("file", printable(span.source.name))
                case.set("line", str(span.line))
            if result.error is not None:
                suite_errors += 1
                # printable: XML 1.0 has no way to write a control character (a request's key)
                ET.SubElement(case, "error", message="could not decide").text = printable(failure_text(result))
            elif not result.passed:
                suite_failures += 1
                summary = ", ".join(f"{m.output}: expected {json.dumps(m.expected)}, got {json.dumps(m.actual)}"
                                    for m in result.mismatches)
                ET.SubElement(case, "failure", message=printable(summary)).text = printable(failure_text(result))
        node.set("tests", str(len(results)))
        node.set("failures", str(suite_failures))
        node.set("errors", str(suite_errors))
        total, failures, errors = total + len(results), failures + suite_failures, errors + suite_errors
    for path, error in broken:
        node = ET.SubElement(root, "testsuite", name=printable(str(path)), tests="1", failures="0", errors="1")
        case = ET.SubElement(node, "testcase", name=LOADS, classname=printable(path.stem), file=printable(str(path)))
        count = len(error.diagnostics)
        ET.SubElement(case, "error", message=f"{count} error{'s' if count != 1 else ''}").text = printable(
            error.render())
        total, errors = total + 1, errors + 1
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def tests_github(runs: list[tuple[Suite, list[ExampleResult]]], broken: Broken = ()) -> str:
    """A workflow annotation per failing example, at its own file and line; and per problem of a
    policy that could not be loaded, at its place."""
    return "\n".join([diagnostic_annotation(d) for _, error in broken for d in error.diagnostics]
                     + [github_annotation("error", failure_text(result), result.example.span,
                                          f"example \"{result.example.name}\" failed")
                        for _, results in runs for result in results if not result.passed])


def coverage_json(rows: list[tuple[Suite, list[RuleCoverage]]]) -> str:
    """Per policy and rule: fired, condition seen true, seen false (null: always true), both ways."""
    policies = [{"policy": str(suite.path), "percent": round(coverage_percent(table), 1),
                 "rules": [{"rule": r.rule, "fired": r.fired, "seen_true": r.seen_true,
                            "seen_false": r.seen_false, "both_ways": r.both_ways} for r in table],
                 "clauses": clause_coverage(suite, table)}
                for suite, table in rows]
    every = [r for _, table in rows for r in table]
    return json.dumps({"percent": round(coverage_percent(every), 1), "policies": policies}, indent=2, ensure_ascii=False)
