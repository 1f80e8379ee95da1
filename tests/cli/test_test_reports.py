"""`rpl test --format json|junit|github` and `--coverage-report`: results in the forms CI tools read."""
import json

import pytest

from tests.cli.conftest import run
from tests.cli.test_policy_tests import GOOD, SHOP

FAILING = GOOD.replace("expect refund = 10.00", "expect refund = 12.00")


@pytest.fixture
def failing(tmp_path):
    """A policy whose examples file has one failing example and one that cannot be decided."""
    (tmp_path / "shop.rpl").write_text(SHOP)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "examples.rpl").write_text(
        FAILING + '\nexample "a price that is no amount":\n  request {"days": 3, "price": "ten"}\n'
                  '  expect outcome = approve\n')
    return tmp_path


def test_json_gives_every_example_with_its_place(failing):
    result = run("test", failing, "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert (report["passed"], report["failed"]) == (2, 2)
    first = report["examples"][0]
    assert first["example"] == "in time" and not first["passed"]
    assert first["file"].endswith("shop/examples.rpl") and first["line"] == 2
    assert first["mismatches"] == [{"output": "refund", "expected": "12.00", "actual": "10.00"}]
    assert "price" in report["examples"][3]["error"]
    assert "2 passed, 2 failed" in result.err  # the summary stays out of the report


def test_junit_is_read_by_junit_tooling(failing, tmp_path):
    junitparser = pytest.importorskip("junitparser")
    result = run("test", failing, "--format", "junit")
    assert result.code == 1
    path = tmp_path / "report.xml"
    path.write_text(result.out)
    xml = junitparser.JUnitXml.fromfile(str(path))
    (suite,) = list(xml)
    assert (suite.tests, suite.failures, suite.errors) == (4, 1, 1)
    cases = {case.name: case for case in suite}
    (failure,) = cases["in time"].result
    assert isinstance(failure, junitparser.Failure)
    assert failure.message == 'refund: expected "12.00", got "10.00"'
    assert cases["in time"]._elem.get("file").endswith("shop/examples.rpl")
    assert cases["in time"]._elem.get("line") == "2"
    assert isinstance(cases["a price that is no amount"].result[0], junitparser.Error)
    assert cases["late"].is_passed


def test_github_annotates_each_failing_example_at_its_own_line(failing):
    result = run("test", failing, "--format", "github")
    assert result.code == 1
    lines = result.out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("::error file=") and "shop/examples.rpl,line=2," in lines[0]
    assert "title=example \"in time\" failed::" in lines[0]
    assert "refund  \"12.00\"   →  \"10.00\"" in lines[0].replace("%0A", "\n")


def test_passing_examples_give_no_annotation(tmp_path):
    (tmp_path / "shop.rpl").write_text(SHOP + GOOD)
    result = run("test", tmp_path, "--format", "github")
    assert (result.code, result.out) == (0, "")


def test_the_coverage_report_per_policy_and_rule(tmp_path):
    (tmp_path / "shop.rpl").write_text(SHOP + GOOD.split('example "late"')[0])
    report_file = tmp_path / "coverage.json"
    result = run("test", tmp_path, "--coverage-report", report_file)
    assert result.code == 0
    report = json.loads(report_file.read_text())
    assert report["percent"] == 0.0
    (policy,) = report["policies"]
    assert policy["rules"] == [
        {"rule": "late", "fired": False, "seen_true": False, "seen_false": True, "both_ways": False},
        {"rule": "refund", "fired": True, "seen_true": True, "seen_false": False, "both_ways": False}]


def test_progress_over_several_policies_only_when_asked(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.rpl").write_text(SHOP + GOOD)
    assert "running the examples" in run("test", tmp_path, "--progress").err
    assert "running the examples" not in run("test", tmp_path).err


def test_the_coverage_report_says_which_cited_clauses_applied(tmp_path):
    shop = SHOP.replace("  cites window\n", '  cites window, "Late requests are refused."\n', 1)
    (tmp_path / "shop.rpl").write_text(shop + GOOD.split('example "late"')[0])
    report_file = tmp_path / "coverage.json"
    text = run("test", tmp_path, "--coverage", "--coverage-report", report_file).out
    (policy,) = json.loads(report_file.read_text())["policies"]
    assert policy["clauses"] == [
        {"clause": "window", "cites": "Returns within 30 days.", "rules": ["late", "refund"], "applied": True},
        {"clause": None, "cites": "Late requests are refused.", "rules": ["late"], "applied": False}]
    assert '  clauses: 1/2 cited clauses applied in an example; never: "Late requests are refused."' in text


def test_a_coverage_report_in_a_folder_that_does_not_exist_is_a_usage_error(tmp_path):
    from tests.conftest import APUTURE

    result = run("test", APUTURE, "--coverage-report", tmp_path / "nope" / "coverage.json")
    assert result.code == 64 and "internal error" not in result.err
    assert (f"Error: Invalid value for --coverage-report: {tmp_path / 'nope' / 'coverage.json'}: "
            f"no folder {tmp_path / 'nope'}") in result.err


@pytest.mark.parametrize("target", ["shop.rpl", "shop/examples.rpl"])
def test_the_coverage_report_never_replaces_a_file_the_run_reads(failing, target):
    """rpl test shop.rpl --coverage-report shop.rpl replaced the policy with the report."""
    path = failing / target
    before = path.read_bytes()
    result = run("test", failing, "--coverage-report", path)
    assert result.code == 64, result
    what = "policy" if target == "shop.rpl" else "examples file"
    assert f"Invalid value for --coverage-report: {path}: the {what} this command reads" in result.err
    assert path.read_bytes() == before
    assert "passed" not in result.both  # refused before the examples run


def test_junit_is_well_formed_when_a_message_holds_a_control_character(tmp_path):
    """XML 1.0 cannot hold ESC: a request's unknown key `\\u001b[2J` made the whole report unreadable."""
    import xml.etree.ElementTree as ET

    (tmp_path / "shop.rpl").write_text(SHOP)
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "examples.rpl").write_text(
        'example "a key of escapes":\n  request {"days": 3, "price": "10.00", "\\u001b[2J": 1}\n'
        '  expect outcome = approve\n')
    result = run("test", tmp_path, "--format", "junit")
    assert result.code == 1
    error = ET.fromstring(result.out.encode()).find("testsuite/testcase/error")
    assert "$.\\u001b[2J: unknown field" in error.text
    assert "$.\\u001b[2J: unknown field" in run("test", tmp_path).out


@pytest.fixture
def one_broken(tmp_path):
    """Two policies: one whose examples pass, one with an unknown name on its line 14."""
    (tmp_path / "good.rpl").write_text(SHOP + GOOD)
    (tmp_path / "shop.rpl").write_text(SHOP.replace("when days > 30", "when dayz > 30") + GOOD)
    return tmp_path


def test_json_names_a_policy_that_could_not_be_loaded(one_broken):
    """The report said `"failed": 0` for a run that failed on a policy error: a program reading it saw green."""
    result = run("test", one_broken, "--format", "json")
    assert result.code == 1
    report = json.loads(result.out)
    assert (report["passed"], report["failed"]) == (3, 0)
    (error,) = report["errors"]
    assert error["policy"] == str(one_broken / "shop.rpl")
    (diagnostic,) = error["diagnostics"]
    assert (diagnostic["code"], diagnostic["line"], diagnostic["column"]) == ("RPL020", 14, 8)
    assert "3 passed, 0 failed, 1 policy not loaded" in result.err


def test_junit_has_a_test_in_error_for_a_policy_that_could_not_be_loaded(one_broken, tmp_path):
    """GitLab's test report showed every test passed for a run that failed on a policy error."""
    junitparser = pytest.importorskip("junitparser")
    result = run("test", one_broken, "--format", "junit")
    assert result.code == 1
    path = tmp_path / "report.xml"
    path.write_text(result.out)
    xml = junitparser.JUnitXml.fromfile(str(path))
    assert (xml.tests, xml.failures, xml.errors) == (4, 0, 1)
    suites = {suite.name: suite for suite in xml}
    (case,) = list(suites[str(one_broken / "shop.rpl")])
    assert case.name == "the policy and its examples load"
    (error,) = case.result
    assert isinstance(error, junitparser.Error) and error.message == "1 error"
    assert "shop.rpl:14:8: error[RPL020]: unknown name `dayz`" in error.text


def test_github_annotates_the_errors_of_a_policy_that_could_not_be_loaded(one_broken):
    result = run("test", one_broken, "--format", "github")
    assert result.code == 1
    (line,) = result.out.splitlines()
    assert line.startswith(f"::error file={one_broken / 'shop.rpl'},line=14,col=8,")
    assert "title=RPL020::unknown name `dayz`" in line


def test_junit_is_well_formed_when_a_policys_file_name_holds_a_control_character(tmp_path):
    """A file name is anyone's text too: `\\x01` in it made the whole report unreadable."""
    junitparser = pytest.importorskip("junitparser")
    (tmp_path / "sh\x01op.rpl").write_text(SHOP + FAILING)
    result = run("test", tmp_path, "--format", "junit")
    assert result.code == 1
    path = tmp_path / "report.xml"
    path.write_text(result.out)
    (suite,) = list(junitparser.JUnitXml.fromfile(str(path)))
    assert suite.name == str(tmp_path / "sh\\u0001op.rpl")
    assert suite.failures == 1
    assert {case._elem.get("file") for case in suite} == {str(tmp_path / "sh\\u0001op.rpl")}


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "github"])
def test_a_policy_file_name_that_is_not_utf8_is_escaped_in_every_report(tmp_path, fmt):
    """Read as a lone surrogate, the byte 0xff ended `rpl test` as an internal error at a strict
    UTF-8 stdout (PYTHONIOENCODING=utf-8, as CI machines often have) and in the coverage report."""
    import os

    from tests.cli.conftest import run_process

    name = os.fsdecode(b"sh\xffop.rpl")
    try:
        (tmp_path / name).write_text(SHOP + FAILING)
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system takes only UTF-8 names")
    coverage_file = tmp_path / "coverage.json"
    result = run_process("test", tmp_path, "--format", fmt, "--coverage-report", coverage_file)
    assert result.code == 1, result.err
    assert "internal error" not in result.err
    assert "sh\\udcffop.rpl" in result.out
    if fmt == "json":
        assert json.loads(result.out)["examples"][0]["policy"] == str(tmp_path / name)  # JSON's escape
    assert json.loads(coverage_file.read_text())["policies"][0]["policy"] == str(tmp_path / name)
