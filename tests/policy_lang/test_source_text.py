"""One reader of policy text for the CLI, the API and every tool (issue 15: 5, 6, 7, 8)."""
from __future__ import annotations

import json
import time

import pytest

from rplang.policy_lang import limits, parse_policy
from rplang.policy_lang.errors import PolicyError
from rplang.policy_lang.source_text import NotAFile, read_policy_bytes, read_policy_file
from rplang.runtime import load_policy, load_policy_text
from tests.cli.conftest import run, run_process
from tests.conftest import APUTURE

OUTCOMES = 'outcomes:\n  refuse "R"\n  approve "A"\noutput outcome\n'
HIDDEN = (OUTCOMES + "request:\n  n: integer\n"
          "rule r:\n  when n > 1  # see ticket 12\r and false\n  then refuse\n")


def _codes(text: str) -> list[tuple[str, int, int]]:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text, "p.rpl")
    return [(d.code, d.span.line, d.span.column) for d in caught.value.diagnostics]


def test_a_lone_carriage_return_is_refused_with_its_place():
    assert _codes(HIDDEN) == [("RPL008", 8, 30)]


def test_the_file_reader_and_the_api_agree_on_a_lone_carriage_return(tmp_path):
    path = tmp_path / "hidden.rpl"
    path.write_bytes(HIDDEN.encode())
    request = tmp_path / "r.json"
    request.write_text('{"n": 5}')
    for args in (("eval", path, request), ("check", path), ("fmt", "--check", path)):
        result = run(*args)
        assert result.code == 1 and "RPL008" in result.err and "8:30" in result.err, (args, result)
    with pytest.raises(PolicyError):
        load_policy(path)


def test_fmt_on_a_lone_carriage_return_has_no_traceback(tmp_path):
    path = tmp_path / "hidden.rpl"
    path.write_bytes(HIDDEN.encode())
    result = run_process("fmt", path)
    assert result.code == 1 and "Traceback" not in result.err and "RPL008" in result.err


def test_a_byte_order_mark_before_a_policy_is_not_read(tmp_path):
    """Notepad and PowerShell begin a UTF-8 file with one: every command reads the policy after it
    (as a request's), and `rpl fmt` leaves the file as it is."""
    text = HIDDEN.replace("\r", "\n")
    path = tmp_path / "bom.rpl"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    request = tmp_path / "r.json"
    request.write_text('{"n": 5}')
    assert read_policy_file(path) == text
    assert run("check", path).code == 0
    result = run("eval", path, request)
    assert result.code == 0 and json.loads(result.out)["outputs"]["outcome"] == "approve"
    formatted = run_process("fmt", "-", input=path.read_bytes())
    assert formatted.code == 0 and formatted.out == run_process("fmt", "-", input=text.encode()).out
    path.write_bytes(b"\xef\xbb\xbf" + formatted.out.encode())
    assert run("fmt", path).code == 0 and path.read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize("character", ["\x1b", "\x00", "\x0b", "\x7f", "\x9b"])
def test_a_control_character_in_quoted_text_is_refused_with_its_place(character):
    """ESC would reach the terminal that shows an explanation; U+000B comes with text pasted from Word."""
    assert _codes(OUTCOMES + f'request:\n  n: integer\nclause c: "a{character}b"\n') == [("RPL008", 7, 13)]


def test_a_tab_a_line_break_and_a_comment_may_hold_them():
    load_policy_text(OUTCOMES + 'request:\n  n: integer\nclause c: "a\tb\r\n  c"  # \x1b[1m\x00\n\x0c\n', "p.rpl")


def test_a_lone_surrogate_is_refused_with_its_place():
    """No file holds one, but an editor's buffer or a JSON body may."""
    assert _codes(OUTCOMES + 'request:\n  n: integer\nclause c: "a\ud800b"\n') == [("RPL008", 7, 13)]


def test_the_line_of_a_diagnostic_shows_control_characters_as_pictures():
    with pytest.raises(PolicyError) as caught:
        load_policy_text(OUTCOMES + 'request:\n  n: integer\nclause c: "a\x1b[2J\ud800b"\n', "p.rpl")
    assert '7 | clause c: "a\u241b[2J\ufffdb"\n  |             ^' in caught.value.render()


def test_windows_line_ends_are_lines():
    policy = load_policy_text(HIDDEN.replace("\r", "\n").replace("\n", "\r\n"), "crlf.rpl")
    assert policy.decide({"n": 5}).outcome == "approve"  # `and false` is code on its own line


@pytest.mark.parametrize("number", ["1\u09ea days", "\U0001d7cf\U0001d7d3%", "\u0661\u0664 days"])
def test_digits_of_other_scripts_are_not_numbers(number):
    codes = _codes(OUTCOMES + f"request:\n  n: integer\nparameter p = {number}\n")
    assert codes and all(code.startswith("RPL00") for code, _, _ in codes)


def test_ascii_digits_still_are():
    assert parse_policy("parameter p = 14 days\nparameter q = 15%\n") is not None


def test_a_bidi_control_outside_a_comment_is_refused():
    assert _codes(OUTCOMES + "request:\n  n: integer\nlet x = n\u202e\n") == [("RPL008", 7, 10)]


def test_a_huge_declaration_is_refused_before_it_is_parsed():
    text = OUTCOMES + "request:\n  n: integer\nlet x = " + "n + \n  " * 2_000_000 + "n\n"
    start = time.monotonic()
    codes = _codes(text)
    assert codes == [("RPL090", 7, 1)]
    assert time.monotonic() - start < 20  # took 118 s and 3.8 GB before it was checked first


def test_comments_do_not_count_towards_a_declaration():
    comments = "".join(f"# {i:>8} of a long licence\n" for i in range(limits.MAX_DECLARATION_CHARS // 20))
    assert load_policy_text(comments + OUTCOMES + "request:\n  n: integer\nrule r:\n  when n > 1\n"
                            "  then refuse\n", "p.rpl").decide({"n": 2}).outcome == "refuse"


def test_comment_lines_after_the_last_declaration_do_not_count_towards_it():
    comments = "#\n" * limits.MAX_DECLARATION_CHARS  # their line feeds alone would be too many
    policy = load_policy_text(OUTCOMES + "request:\n  n: integer\nrule r:\n  when n > 1\n  then refuse\n"
                              + comments, "p.rpl")
    assert policy.decide({"n": 2}).outcome == "refuse"


def test_check_of_a_folder_with_a_file_that_is_not_utf8(tmp_path):
    (tmp_path / "v1.rpl").write_bytes(b'effective 2026-01-01\nclause c: "caf\xe9"\n')
    result = run_process("check", tmp_path)
    assert result.code == 1 and "Traceback" not in result.err
    assert "RPL000" in result.err and "not UTF-8" in result.err


REQUEST = json.dumps({"n": 5})


@pytest.fixture
def pair(tmp_path):
    old = tmp_path / "old.rpl"
    old.write_text(OUTCOMES + "request:\n  n: integer\nrule r:\n  when n > 1\n  then refuse\n")
    return old


def test_diff_with_a_policy_that_is_not_utf8(pair, tmp_path):
    bad = tmp_path / "bad.rpl"
    bad.write_bytes(b'clause c: "caf\xe9"\n')
    requests = tmp_path / "r.jsonl"
    requests.write_text(REQUEST + "\n")
    result = run_process("diff", pair, bad, "--requests", requests)
    assert result.code == 1 and "Traceback" not in result.err and "not UTF-8" in result.err


def test_diff_with_requests_missing_not_utf8_or_nested_deep(pair, tmp_path):
    missing = run_process("diff", pair, pair, "--requests", tmp_path / "nope.jsonl")
    assert missing.code == 2 and "Traceback" not in missing.err and "cannot read" in missing.err  # a request error, as for rpl eval
    requests = tmp_path / "r.jsonl"
    requests.write_bytes(b"\xff\xfe\n" + b"[" * 100_000 + b"]" * 100_000 + b"\n" + REQUEST.encode() + b"\n")
    result = run_process("diff", pair, pair, "--requests", requests, "--format", "json")
    assert result.code == 0 and "Traceback" not in result.err, result.err
    assert json.loads(result.out)["requests"] == 3 and json.loads(result.out)["rejected"] == 2


def test_git_revisions_are_never_options(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    requests = tmp_path / "r.jsonl"
    requests.write_text(REQUEST + "\n")
    result = run("diff", "git:--output=x:y", APUTURE, "--requests", requests)
    assert result.code == 64 and "revision" in result.err
    assert list(tmp_path.iterdir()) == [requests]


@pytest.mark.parametrize("path, kind", [("/dev/null", "a device"), ("pipe", "a pipe"),
                                        ("folder", "a folder")])
def test_only_a_file_is_read_as_a_policy(path, kind, pipe, tmp_path):
    """A pipe would wait for a writer, a device like /dev/zero never end: refused unread
    (/dev/zero itself: tests/cli/test_policy_paths.py, in a process of bounded memory)."""
    path = {"pipe": pipe, "folder": tmp_path}.get(path, path)
    with pytest.raises(NotAFile) as caught:
        read_policy_file(path)
    assert caught.value.kind == kind and caught.value.diagnostics[0].message == f"`{path}` is {kind}, not a policy file"
    if kind != "a folder":  # the API's load_policy reads a folder as versions
        with pytest.raises(PolicyError, match=f"is {kind}, not a policy file"):
            load_policy(path)


def test_a_policy_file_is_read_up_to_its_limit(tmp_path):
    path = tmp_path / "p.rpl"
    path.write_bytes(b"# ten bytes")
    assert read_policy_bytes(path, limit=11) == b"# ten bytes"
    with pytest.raises(PolicyError) as caught:
        read_policy_bytes(path, limit=10)
    assert [d.code for d in caught.value.diagnostics] == ["RPL090"]
    assert f"the policy `{path}` is longer than the limit of 10 bytes" in caught.value.render()
