"""Exit codes for a bad command line, and no traceback for any bad input, in a real process."""
import json

import pytest

from tests.cli.conftest import run, run_process
from tests.conftest import APUTURE, APUTURE_REQUESTS

EXAMPLE = APUTURE_REQUESTS / "00-semantics-example.json"


@pytest.mark.parametrize("args", [
    [],
    ["bogus"],
    ["--bogus"],
    ["check"],
    ["check", "--format", "xml", str(APUTURE)],
    ["eval"],
    ["eval", str(APUTURE)],
    ["eval", str(APUTURE), str(EXAMPLE), "--jsonl", "x.jsonl"],
    ["eval", "--pretty"],
    ["eval", str(APUTURE), str(EXAMPLE), "--bogus"],
    ["explain", str(APUTURE)],
    ["explain", str(APUTURE), str(EXAMPLE), "extra"],
])
def test_usage_errors_exit_64(args):
    result = run(*args)
    assert result.code == 64, result
    assert result.out == ""
    assert "Usage: rpl" in result.err
    assert "Error: " in result.err or not args  # bare `rpl` shows the help


def _commands():
    from rplang.cli import cli

    return sorted(cli.commands)


@pytest.mark.parametrize("command", _commands())
@pytest.mark.parametrize("option", ["-h", "--help"])
def test_every_command_takes_h_and_help(command, option):
    # `rpl replay -h` was "No such option: -h": replay's own command, behind the lazy one, had
    # click's default, --help alone
    result = run(command, option)
    assert (result.code, result.err) == (0, ""), result.both
    assert result.out.startswith(f"Usage: rpl {command} "), result.out


def test_help_and_version_exit_0():
    assert run("--help").code == 0 and "Usage: rpl" in run("--help").out
    assert run("eval", "--help").code == 0
    version = run("--version")
    assert version.code == 0 and version.out.startswith("rpl, version ")


# ---- in a real process: exit codes, and never a traceback ---------------------------------------

def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


BAD_INPUTS = {
    # name: (args, stdin, exit code); `{tmp}` files are written by the test
    "usage": (["eval", str(APUTURE)], None, 64),
    "missing policy": (["eval", "{tmp}/nope.rpl", str(EXAMPLE)], None, 1),
    "broken policy": (["check", "{tmp}/broken.rpl"], None, 1),
    "check missing file": (["check", "{tmp}/nope.rpl"], None, 1),
    "missing request": (["eval", str(APUTURE), "{tmp}/nope.json"], None, 2),
    "invalid json": (["eval", str(APUTURE), "-"], b'{"a": ', 2),
    "not utf-8 on stdin": (["eval", str(APUTURE), "-"], b"\xff\xfe{}", 2),
    "not utf-8 in a file": (["eval", str(APUTURE), "{tmp}/latin1.json"], None, 2),
    "deep json": (["eval", str(APUTURE), "-"], b"[" * 100_000, 2),
    "malformed request": (["eval", str(APUTURE), "-"], b'{"request_date": "2026-02-30"}', 2),
    "date out of range": (["eval", str(APUTURE), "{tmp}/far.json"], None, 2),
    "division by zero": (["eval", "{tmp}/divide.rpl", "-"], b'{"m": "1.00", "n": 0}', 2),
    "explain division by zero": (["explain", "{tmp}/divide.rpl", "-"], b'{"m": "1.00", "n": 0}', 2),
    "explain malformed": (["explain", str(APUTURE), "-"], b"[]", 2),
    "explain date out of range": (["explain", str(APUTURE), "{tmp}/far.json"], None, 2),
    "jsonl missing file": (["eval", str(APUTURE), "--jsonl", "{tmp}/nope.jsonl"], None, 2),
    "jsonl bad lines": (["eval", str(APUTURE), "--jsonl", "-"], b'{}\n\xff\n[\n', 2),
    "jsonl date out of range": (["eval", str(APUTURE), "--jsonl", "{tmp}/far.json"], None, 2),
}


@pytest.fixture
def files(tmp_path):
    request = json.loads(EXAMPLE.read_text())
    request["order"]["delivery_date"] = request["request_date"] = "9999-12-31"
    _write(tmp_path, "far.json", json.dumps(request).encode())
    _write(tmp_path, "latin1.json", b'{"request_date": "caf\xe9"}')
    _write(tmp_path, "broken.rpl", b"rule r:\n  when a ==\n")
    _write(tmp_path, "divide.rpl", b"request:\n  m: money\n  n: integer\nrule r:\n  when true\n"
                                   b"  then set share to round(m / n)\noutput share: optional money\n")
    return tmp_path


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_no_traceback_for_bad_input(files, case):
    args, stdin, code = BAD_INPUTS[case]
    result = run_process(*[a.replace("{tmp}", str(files)) for a in args], input=stdin)
    assert "Traceback" not in result.both, result.err[-2000:]
    assert result.code == code, result.err[-2000:]
    assert result.both.strip(), "a failure says why"


def test_a_good_request_in_a_real_process():
    result = run_process("eval", APUTURE, "-", input=EXAMPLE.read_bytes())
    assert result.code == 0 and result.err == ""
    assert json.loads(result.out)["outputs"]["refund"] == "1557.50"


def test_no_traceback_for_a_deeply_nested_policy(tmp_path):
    path = _write(tmp_path, "deep.rpl", ("let v = " + "not " * 2000 + "a\n").encode())
    result = run_process("check", path)
    assert "Traceback" not in result.both
    assert result.code == 1


def test_shell_completion_as_docs_ci_says():
    import os
    import subprocess
    import sys

    env = {**os.environ, "_RPL_COMPLETE": "bash_source"}
    script = subprocess.run([sys.executable, "-m", "rplang"], capture_output=True, text=True, env=env)
    assert "_rpl_completion()" in script.stdout
    env = {**os.environ, "_RPL_COMPLETE": "bash_complete", "COMP_WORDS": "rpl te", "COMP_CWORD": "1"}
    words = subprocess.run([sys.executable, "-m", "rplang"], capture_output=True, text=True, env=env)
    assert words.stdout.split() == ["plain,test"]


@pytest.mark.parametrize("args, said", [
    (["eval", str(APUTURE), str(EXAMPLE), "--as-of", "2026-13-01"], "Invalid value for '--as-of': `2026-13-01` is not a real date"),
    (["explain", str(APUTURE), str(EXAMPLE), "--as-of", "2026-02-30"], "Invalid value for '--as-of': `2026-02-30` is not a real date"),
    (["explain", str(APUTURE), str(EXAMPLE), "--as-of", "tomorrow"],
     "Invalid value for '--as-of': `tomorrow` is not a date written YYYY-MM-DD, like 2026-03-01"),
    (["verify", str(APUTURE), "--from", "2027-02-29"], "Invalid value for '--from': `2027-02-29` is not a real date"),
])
def test_a_date_on_the_command_line_is_read_as_in_requests(args, said):
    result = run(*args)
    assert result.code == 64 and result.out == ""
    assert f"Error: {said}\n" in result.err


@pytest.mark.parametrize("args", [
    ["check", ""], ["test", ""], ["fmt", ""], ["fmt", "--check", ""], ["eval", "", str(EXAMPLE)],
    ["explain", "", str(EXAMPLE)], ["graph", ""], ["doc", ""], ["schema", ""], ["verify", ""],
    ["diff", str(APUTURE), "", "--requests", str(EXAMPLE)], ["replay", "", str(EXAMPLE)],
])
def test_an_empty_path_is_a_bad_command_line(args, tmp_path, monkeypatch):
    """`rpl fmt "$FILE"` with FILE unset: Python reads "" as `.`, and every policy under the
    current folder was formatted (or tested, or checked: a CI step passed that checked nothing
    it was given)."""
    unformatted = tmp_path / "p.rpl"
    unformatted.write_text('policy   "P"\n')
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.code == 64 and "an empty path" in result.err, result
    assert unformatted.read_text() == 'policy   "P"\n'
