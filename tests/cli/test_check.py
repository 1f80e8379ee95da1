"""`rpl check`: ok, or every problem of every file located as file:line:col; text, json, github."""
import json
import re

from tests.cli.conftest import run
from tests.conftest import APUTURE, POLICIES

LOCATED = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+): error\[RPL\d{3}\]: ", re.MULTILINE)


def test_a_good_policy():
    result = run("check", APUTURE)
    assert (result.code, result.out, result.err) == (0, "ok: 1 policy checked\n", "")


def test_every_bundled_policy():
    paths = sorted(POLICIES.glob("*.rpl"))
    result = run("check", *paths)
    assert result.code == 0, result.err
    assert result.out == f"ok: {len(paths)} polic{'y' if len(paths) == 1 else 'ies'} checked\n"


def test_a_broken_policy(broken_policy):
    result = run("check", broken_policy)
    assert result.code == 1
    assert result.out == ""
    found = [(m["file"], int(m["line"]), int(m["col"])) for m in LOCATED.finditer(result.err)]
    assert [(f, line) for f, line, _ in found] == [(str(broken_policy), 4), (str(broken_policy), 6)]
    assert found[1][2] == 12  # the `!=`
    assert "6 |   when day != 2026-01-01" in result.err
    assert "help: " in result.err
    assert result.err.rstrip().endswith("2 errors")


def test_a_good_and_a_broken_policy(broken_policy):
    result = run("check", APUTURE, broken_policy)
    assert result.code == 1
    assert {m["file"] for m in LOCATED.finditer(result.err)} == {str(broken_policy)}


def test_a_type_error_is_located_too(tmp_path):
    path = tmp_path / "types.rpl"
    path.write_text("request:\n  day: date\nlet x = day + 5.00\n")
    result = run("check", path)
    assert result.code == 1
    assert [(int(m["line"]), int(m["col"])) for m in LOCATED.finditer(result.err)] == [(3, 9)]


def test_a_missing_file(tmp_path):
    result = run("check", tmp_path / "nope.rpl")
    assert result.code == 1
    assert "cannot read" in result.err and "nope.rpl" in result.err
    assert "Traceback" not in result.both


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin1.rpl"
    path.write_bytes(b'clause c: "caf\xe9"\n')
    result = run("check", path)
    assert result.code == 1 and "cannot read" in result.err


def test_json_format(broken_policy):
    result = run("check", "--format", "json", broken_policy)
    assert result.code == 1
    data = json.loads(result.out)
    assert [d["line"] for d in data] == [4, 6]
    for d in data:
        assert set(d) == {"code", "severity", "message", "hint", "file", "line", "column", "end_line", "end_column"}
        assert d["file"] == str(broken_policy) and d["severity"] == "error"
        assert re.fullmatch(r"RPL\d{3}", d["code"])
        assert d["end_line"] == d["line"] and d["end_column"] >= d["column"]
    assert (data[1]["column"], data[1]["end_column"]) == (12, 14)  # `!=`


def test_json_format_when_all_is_well():
    result = run("check", "--format", "json", APUTURE)
    assert (result.code, json.loads(result.out)) == (0, [])


def test_json_format_for_a_missing_file(tmp_path):
    result = run("check", "--format", "json", tmp_path / "nope.rpl")
    (d,) = json.loads(result.out)
    assert result.code == 1 and d["code"] == "RPL000" and d["line"] is None


def test_github_format(broken_policy):
    result = run("check", "--format", "github", broken_policy)
    assert result.code == 1
    lines = result.out.splitlines()
    assert len(lines) == 2
    pattern = re.compile(r"::error file=(?P<file>[^,]+),line=(?P<line>\d+),col=(?P<col>\d+),"
                         r"endLine=(?P<end_line>\d+),endColumn=(?P<end_col>\d+),title=(?P<code>RPL\d{3})::(?P<msg>.+)")
    matches = [pattern.fullmatch(line) for line in lines]
    assert all(matches), lines
    assert [int(m["line"]) for m in matches] == [4, 6]
    assert (int(matches[1]["col"]), int(matches[1]["end_col"])) == (12, 14)
    assert "(help: " in matches[1]["msg"]


def test_github_format_escapes_properties_and_message(tmp_path):
    path = tmp_path / "a,b:c.rpl"
    path.write_text("let v = 100%%\n")
    result = run("check", "--format", "github", path)
    (line,) = result.out.splitlines()
    assert "file=" + str(path).replace(":", "%3A").replace(",", "%2C") + ",line=1," in line
    message = line.split("::", 2)[2]
    assert "%" not in message.replace("%25", "").replace("%0A", "").replace("%0D", "")


def test_github_format_when_all_is_well():
    result = run("check", "--format", "github", APUTURE)
    assert (result.code, result.out) == (0, "")


def test_a_folder_with_no_policy_is_not_a_clean_check(tmp_path):
    (tmp_path / "shop.rpl").write_text(APUTURE.read_text())
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "examples.rpl").write_text("")
    examples = run("check", tmp_path / "shop")
    assert examples.code == 64
    assert examples.err.endswith(f"Error: no policy found under {tmp_path / 'shop'}: it holds the examples of "
                                 f"{tmp_path / 'shop.rpl'}, which `rpl check {tmp_path / 'shop.rpl'}` checks with them\n")
    assert "ok:" not in examples.out
    (tmp_path / "empty").mkdir()
    empty = run("check", tmp_path / "empty")
    assert empty.code == 64 and empty.err.endswith(f"Error: no policy found under {tmp_path / 'empty'}\n")
