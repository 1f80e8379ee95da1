"""`rpl check`: errors, or else warnings; text, json and github formats; --strict."""
import json
from pathlib import Path

import pytest

from tests.cli.conftest import run
from tests.conftest import POLICIES

CASES = Path(__file__).parent / "cases"
WARNING_CASE = CASES / "73-window-of-zero-days.rpl"
ERROR_CASE = CASES / "44-value-name-misspelled.rpl"


def test_warnings_leave_the_exit_code_at_zero():
    result = run("check", WARNING_CASE)
    assert result.code == 0
    assert result.out == "ok: 1 policy checked, 1 warning\n"
    assert "warning[RPL140]: `return_window` is 0 days" in result.err


def test_strict_makes_warnings_errors():
    result = run("check", "--strict", WARNING_CASE)
    assert result.code == 1
    assert "error[RPL140]" in result.err and result.err.rstrip().endswith("1 error")


def test_errors_and_their_count():
    result = run("check", ERROR_CASE, WARNING_CASE)
    assert result.code == 1
    assert "error[RPL020]: unknown name `last_dya`" in result.err
    assert result.err.rstrip().endswith("1 error, 1 warning")


@pytest.mark.parametrize("strict", [False, True])
def test_json(strict):
    result = run("check", "--format", "json", *(["--strict"] if strict else []), WARNING_CASE)
    assert result.code == (1 if strict else 0)
    (d,) = json.loads(result.out)
    assert d == {"code": "RPL140", "severity": "error" if strict else "warning",
                 "message": "`return_window` is 0 days, no time at all",
                 "hint": "check the number; a window of 0 days closes the day it opens",
                 "file": str(WARNING_CASE), "line": 11, "column": 27, "end_line": 11, "end_column": 33}


def test_github_annotations():
    result = run("check", "--format", "github", ERROR_CASE, WARNING_CASE)
    assert result.code == 1
    error, warning = result.out.splitlines()
    assert error.startswith(f"::error file={ERROR_CASE},line=37,col=23,endLine=37,endColumn=31,title=RPL020::")
    assert warning.startswith(f"::warning file={WARNING_CASE},line=11,col=27,")
    assert "unknown name `last_dya` (help: did you mean `last_day`?)" in error


def test_no_bundled_policy_has_an_example_that_expects_nothing():
    """RPL170 is for an `expect` line forgotten: every example bundled says what it expects."""
    result = run("check", "--format", "json", POLICIES)
    assert result.code == 0, result.both
    assert [d for d in json.loads(result.out) if d["code"] == "RPL170"] == []
