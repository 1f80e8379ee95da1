"""`rpl eval --jsonl`: one bad line never stops a stream, with or without `--jobs` (issue 15, 1)."""
from __future__ import annotations

import json

import pytest

from tests.cli.conftest import run, run_process
from tests.conftest import APUTURE, APUTURE_REQUESTS

EXAMPLE = (APUTURE_REQUESTS / "00-semantics-example.json").read_bytes()
GOOD = json.dumps(json.loads(EXAMPLE)).encode()


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_lone_surrogate_is_that_lines_error_and_the_stream_goes_on(jobs):
    stream = b'{"request_date":"\\udc00"}\n' + GOOD + b"\n" + b'{"\\ud800x": 1}\n' + GOOD + b"\n"
    result = run_process("eval", APUTURE, "--jsonl", "-", "--jobs", jobs, input=stream)
    assert "Traceback" not in result.err
    assert result.code == 2
    lines = _lines(result.out)
    assert len(lines) == 4
    assert lines[0]["error"]["line"] == 1
    assert lines[0]["error"]["problems"][0]["path"] == "$.request_date"
    assert "surrogate" in lines[0]["error"]["problems"][0]["message"]
    assert lines[1]["outputs"]["refund"] == "1557.50"
    assert lines[2]["error"]["line"] == 3
    assert lines[3]["outputs"]["refund"] == "1557.50"


def test_a_surrogate_in_a_valid_request_is_refused_by_eval_and_explain(tmp_path):
    data = json.loads(EXAMPLE)
    data["items"][0]["sku"] += "\ud800"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))  # ensure_ascii: the surrogate is written as `\ud800`
    for command in ("eval", "explain"):
        result = run_process(command, APUTURE, path)
        assert "Traceback" not in result.err
        assert result.code == 2, result.err
        assert "$.items[0].sku" in result.err and "surrogate" in result.err


def test_an_escaped_pair_of_surrogates_is_one_character():
    data = json.loads(EXAMPLE)
    data["items"][0]["sku"] = "LS-600D-PRO\U0001F600"
    line = json.dumps(data).encode()  # `\ud83d\ude00`: a valid pair
    result = run("eval", APUTURE, "--jsonl", "-", input=line + b"\n")
    assert result.code == 0, result.out
    assert "\U0001F600" in result.out


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_fault_on_one_line_is_that_lines_internal_error(jobs, monkeypatch):
    """A bug met on one line (here, planted) is reported on that line; the stream goes on and
    exits 70, the code of an internal error."""
    from rplang.runtime.decide import CompiledPolicy

    real = CompiledPolicy.decide

    def faulty(self, data, as_of=None):
        if "PLANTED" in data:
            raise ZeroDivisionError("planted")
        return real(self, data, as_of)

    monkeypatch.setattr(CompiledPolicy, "decide", faulty)
    stream = GOOD + b"\n" + b'{"PLANTED": 1}\n' + GOOD + b"\n"
    result = run("eval", APUTURE, "--jsonl", "-", "--jobs", jobs, input=stream)
    assert result.code == 70
    lines = _lines(result.out)
    assert [("error" in line) for line in lines] == [False, True, False]
    assert lines[1]["error"]["kind"] == "internal_error" and lines[1]["error"]["line"] == 2
    assert "please report" in result.err


def test_a_line_longer_than_the_cap_is_refused_without_reading_it_whole():
    long_line = b'{"request_date": "' + b"x" * 3_000_000 + b'"}\n'
    result = run("eval", APUTURE, "--jsonl", "-", "--max-request-bytes", "1000000",
                 input=long_line + GOOD + b"\n")
    assert result.code == 2
    first, second = _lines(result.out)
    assert first["error"]["line"] == 1
    assert "longer than the limit of 1,000,000 bytes" in first["error"]["problems"][0]["message"]
    assert second["outputs"]["refund"] == "1557.50"


def test_the_line_cap_has_a_default(tmp_path):
    from rplang.policy_lang.limits import MAX_REQUEST_BYTES

    long_line = b'{"a": "' + b"x" * MAX_REQUEST_BYTES + b'"}'
    result = run("eval", APUTURE, "--jsonl", "-", input=long_line + b"\n" + GOOD)
    assert result.code == 2
    first, second = _lines(result.out)
    assert "longer than the limit" in first["error"]["problems"][0]["message"]
    assert second["outputs"]["refund"] == "1557.50"


def test_a_request_file_larger_than_the_cap_is_refused(tmp_path):
    path = tmp_path / "big.json"
    data = json.loads(EXAMPLE)
    data["items"][0]["marks"] = ["scratch"] * 20_000
    path.write_text(json.dumps(data))
    result = run("eval", APUTURE, path, "--max-request-bytes", "100000")
    assert result.code == 2
    assert "the request is longer than the limit of 100,000 bytes" in result.err
    assert run("eval", APUTURE, path).code in (0, 2)  # within the default cap: read, then judged
