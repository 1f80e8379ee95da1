"""`rpl eval`: the library's decision as JSON, for a file, stdin or one request per line."""
import json

import pytest

from tests.cli.conftest import run
from tests.conftest import APUTURE, APUTURE_REQUESTS

EXAMPLE = APUTURE_REQUESTS / "00-semantics-example.json"
REQUEST = json.loads(EXAMPLE.read_text())
MALFORMED = {"request_date": "2026-02-30", "kind": "swap", "order": {"purchase_date": "2026-02-27"},
             "items": [{"sku": "A", "price": 10, "free": False, "returned": False}], "recieved_date": "2026-03-16"}
MALFORMED_PATHS = ["$.recieved_date", "$.request_date", "$.kind", "$.order.delivery_date", "$.order.currency",
                   "$.order.payment_method", "$.order.proof_of_purchase", "$.items[0].price"]
# Valid, but a date the policy cannot add 14 days to.
OUT_OF_RANGE = {**REQUEST, "request_date": "9999-12-31",
                "order": {**REQUEST["order"], "delivery_date": "9999-12-31"}}


def test_a_request_file(aputure):
    result = run("eval", APUTURE, EXAMPLE)
    assert result.code == 0, result.err
    assert result.err == ""
    assert json.loads(result.out) == aputure.decide(REQUEST).to_json()
    assert result.out.count("\n") == 1  # compact: one line


def test_stdin(aputure):
    result = run("eval", APUTURE, "-", input=EXAMPLE.read_bytes())
    assert result.code == 0
    assert json.loads(result.out) == aputure.decide(REQUEST).to_json()


@pytest.mark.parametrize("name", sorted(p.name for p in APUTURE_REQUESTS.glob("*.json") if p.name != "expected.json")[::10])
def test_bundled_requests_equal_the_library(aputure, name):
    result = run("eval", APUTURE, APUTURE_REQUESTS / name)
    assert result.code == 0
    assert json.loads(result.out) == aputure.decide(json.loads((APUTURE_REQUESTS / name).read_text())).to_json()


def test_pretty(aputure):
    result = run("eval", "--pretty", APUTURE, EXAMPLE)
    assert result.code == 0
    assert result.out.startswith('{\n  "outputs": {\n')
    assert json.loads(result.out) == aputure.decide(REQUEST).to_json()


def test_non_ascii_text_is_printed_as_is(tmp_path):
    path = tmp_path / "r.json"
    request = json.loads(EXAMPLE.read_text())
    request["items"][0]["sku"] = "ライト-600"
    path.write_text(json.dumps(request), encoding="utf-8")
    result = run("eval", APUTURE, path)
    assert result.code == 0 and "ライト-600" in result.out


def test_a_malformed_request_lists_every_problem(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(MALFORMED))
    result = run("eval", APUTURE, path)
    assert result.code == 2
    error = json.loads(result.out)["error"]
    assert error["kind"] == "request_error"
    assert [p["path"] for p in error["problems"]] == MALFORMED_PATHS
    assert error["message"] == f"the request has {len(MALFORMED_PATHS)} problems"
    for path in MALFORMED_PATHS:
        assert f"  {path}: " in result.err
    assert "Traceback" not in result.both


def test_a_malformed_request_on_stdin():
    result = run("eval", APUTURE, "-", input=json.dumps(MALFORMED))
    assert result.code == 2
    assert [p["path"] for p in json.loads(result.out)["error"]["problems"]] == MALFORMED_PATHS


@pytest.mark.parametrize("text", ['{"request_date": ', "", "not json", "[" * 50_000, b"\xff\xfe{}"])
def test_invalid_json(text):
    result = run("eval", APUTURE, "-", input=text)
    assert result.code == 2
    (problem,) = json.loads(result.out)["error"]["problems"]
    assert problem["path"] == "$"
    assert problem["message"].startswith(("not valid JSON", "not valid UTF-8"))
    assert "Traceback" not in result.both


def test_a_missing_request_file(tmp_path):
    result = run("eval", APUTURE, tmp_path / "nope.json")
    assert result.code == 2
    (problem,) = json.loads(result.out)["error"]["problems"]
    assert problem["message"].startswith("cannot read ") and "nope.json" in problem["message"]


def test_a_missing_policy_file(tmp_path):
    result = run("eval", tmp_path / "nope.rpl", EXAMPLE)
    assert result.code == 1
    assert result.out == ""
    assert "cannot read the policy" in result.err


def test_a_broken_policy(broken_policy):
    result = run("eval", broken_policy, EXAMPLE)
    assert result.code == 1
    assert result.out == ""
    assert f"{broken_policy}:4:" in result.err and f"{broken_policy}:6:12:" in result.err


DIVIDE = "request:\n  m: money\n  n: integer\nrule r:\n  when true\n  then set share to round(m / n)\n" \
         "output share: optional money\n"


def test_a_request_the_policy_cannot_compute_is_an_error_not_a_crash(tmp_path):
    policy = tmp_path / "divide.rpl"
    policy.write_text(DIVIDE)
    assert json.loads(run("eval", policy, "-", input='{"m": "10.00", "n": 4}').out)["outputs"] == {"share": "2.50"}
    result = run("eval", policy, "-", input='{"m": "10.00", "n": 0}')
    assert result.code == 2
    error = json.loads(result.out)["error"]
    assert error["kind"] == "evaluation_error" and error["message"]
    assert result.err.startswith("error: ")
    assert "Traceback" not in result.both


def test_a_date_the_policy_cannot_add_to_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "far.json"
    path.write_text(json.dumps(OUT_OF_RANGE))
    result = run("eval", APUTURE, path)
    assert result.code == 2
    assert json.loads(result.out)["error"]["kind"] in ("evaluation_error", "request_error")
    assert "Traceback" not in result.both


# ---- --jsonl ------------------------------------------------------------------------------------

def _line(data) -> str:
    return json.dumps(data) + "\n"


def _good(sku: str) -> dict:
    request = json.loads(EXAMPLE.read_text())
    request["items"][0]["sku"] = sku
    return request


def test_jsonl_with_good_and_bad_lines(tmp_path, aputure):
    lines = [_line(_good("one")).encode(), b'{"broken": \n', _line(_good("two")).encode(),
             _line(MALFORMED).encode(), b"[]\n", b"\xff\xfe\n", _line(_good("three")).encode()]
    path = tmp_path / "requests.jsonl"
    path.write_bytes(b"".join(lines))
    result = run("eval", APUTURE, "--jsonl", path)
    assert result.code == 2
    out = [json.loads(line) for line in result.out.splitlines()]
    assert len(out) == 7
    assert out[0] == aputure.decide(_good("one")).to_json()
    assert out[2] == aputure.decide(_good("two")).to_json()
    assert out[6] == aputure.decide(_good("three")).to_json()
    assert out[1]["error"]["line"] == 2 and out[1]["error"]["problems"][0]["message"].startswith("not valid JSON")
    assert out[3]["error"]["line"] == 4
    assert [p["path"] for p in out[3]["error"]["problems"]] == MALFORMED_PATHS
    assert out[4]["error"]["line"] == 5 and out[4]["error"]["problems"][0]["path"] == "$"
    assert out[5]["error"]["line"] == 6 and out[5]["error"]["problems"][0]["message"].startswith("not valid UTF-8")
    assert "Traceback" not in result.both


def test_jsonl_with_only_good_lines(aputure):
    corpus = APUTURE_REQUESTS.parent / "corpus.jsonl"
    lines = corpus.read_text().splitlines()[:40]
    result = run("eval", APUTURE, "--jsonl", "-", input="\n".join(lines) + "\n")
    assert result.code == 0, result.out[:500]
    out = result.out.splitlines()
    assert len(out) == len(lines)
    assert [json.loads(o) for o in out] == [aputure.decide(json.loads(line)).to_json() for line in lines]


def test_jsonl_a_blank_line_gets_its_own_error_line(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(_line(_good("a")) + "\n" + "{}\n")
    result = run("eval", APUTURE, "--jsonl", path)
    out = [json.loads(line) for line in result.out.splitlines()]
    assert len(out) == 3  # one output line per input line, so inputs and outputs zip
    assert "outputs" in out[0]
    assert out[1]["error"]["line"] == 2
    assert out[1]["error"]["problems"][0]["message"] == "an empty line: expected a request"
    assert out[2]["error"]["line"] == 3
    assert result.code == 2


def test_jsonl_with_a_request_the_policy_cannot_compute(tmp_path):
    policy = tmp_path / "divide.rpl"
    policy.write_text(DIVIDE)
    result = run("eval", policy, "--jsonl", "-", input='{"m": "1.00", "n": 0}\n{"m": "1.00", "n": 2}\n')
    assert result.code == 2
    first, second = (json.loads(line) for line in result.out.splitlines())
    assert (first["error"]["kind"], first["error"]["line"]) == ("evaluation_error", 1)
    assert second["outputs"] == {"share": "0.50"}


def test_jsonl_missing_file(tmp_path):
    result = run("eval", APUTURE, "--jsonl", tmp_path / "nope.jsonl")
    assert result.code == 2
    assert json.loads(result.out)["error"]["problems"][0]["message"].startswith("cannot read ")
    assert "Traceback" not in result.both


def test_jsonl_empty_input():
    result = run("eval", APUTURE, "--jsonl", "-", input="")
    assert (result.code, result.out) == (0, "")


def test_jsonl_in_several_processes_writes_what_one_process_writes(tmp_path, monkeypatch):
    import rplang.stream_workers

    monkeypatch.setattr(rplang.stream_workers, "MIN_CHUNK_BYTES", 1500)  # many blocks, so that order across workers shows
    monkeypatch.setattr(rplang.stream_workers, "CHUNK_BYTES", 1500)
    corpus = (APUTURE_REQUESTS.parent / "corpus.jsonl").read_text().splitlines()[:30]
    lines = [line + "\n" for line in corpus]
    lines[4], lines[11], lines[25] = "{broken\n", "\n", _line(MALFORMED)
    path = tmp_path / "requests.jsonl"
    path.write_text("".join(lines))
    alone = run("eval", APUTURE, "--jsonl", path)
    together = run("eval", APUTURE, "--jsonl", path, "--jobs", "2")
    assert together.code == alone.code == 2
    assert together.out == alone.out
    assert [json.loads(line).get("error", {}).get("line") for line in together.out.splitlines()].count(None) == 27


def test_jsonl_in_several_processes_with_outputs_only_and_as_of(tmp_path):
    corpus = (APUTURE_REQUESTS.parent / "corpus.jsonl").read_text().splitlines()[:10]
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(corpus) + "\n")
    args = ("eval", APUTURE, "--jsonl", path, "--outputs-only", "--as-of", "2026-03-01")
    alone, together = run(*args), run(*args, "--jobs", "3")
    assert (together.code, together.out) == (alone.code, alone.out) == (0, alone.out)
    assert all(set(json.loads(line)) == {"outputs"} for line in together.out.splitlines())


def test_jobs_only_with_jsonl():
    result = run("eval", APUTURE, EXAMPLE, "--jobs", "2")
    assert result.code == 64
    assert "--jobs decides the lines of --jsonl FILE" in result.err


def test_jobs_must_be_at_least_one():
    result = run("eval", APUTURE, "--jsonl", "-", "--jobs", "0", input="")
    assert result.code == 64
