"""Residual decisions in batch: `rpl eval --partial` with `--jsonl`, `--as-of` and a folder of versions."""
import datetime
import json

import pytest

from rplang.runtime import load_policy
from rplang.runtime.loading import load_history
from tests.cli.conftest import run
from tests.conftest import APUTURE, POLICIES
from tests.e2e.test_dated_terms import _request, _version

from .conftest import EXAMPLE, before_inspection

HOLIDAYS = POLICIES / "aputure_holidays.rpl"


def _jsonl(tmp_path, lines) -> str:
    path = tmp_path / "open-orders.jsonl"
    path.write_bytes(b"".join(line if isinstance(line, bytes) else (json.dumps(line) + "\n").encode()
                              for line in lines))
    return str(path)


def _as_json(value) -> object:
    return json.loads(json.dumps(value))


@pytest.fixture
def versions(tmp_path):
    folder = tmp_path / "aputure_terms"
    folder.mkdir()
    _version(folder, "2026-01.rpl", "2026-01-01", 14, "2026.1")
    _version(folder, "2026-07.rpl", "2026-07-01", 21, "2026.2")
    return folder


def test_each_line_gets_its_residual_and_a_bad_line_its_error(aputure, tmp_path):
    late = before_inspection(EXAMPLE)
    late["request_date"] = "2026-03-20"
    missing_price = before_inspection(EXAMPLE)
    del missing_price["items"][0]["price"]
    lines = [before_inspection(EXAMPLE), b"{broken\n", late, missing_price, EXAMPLE]
    result = run("eval", "--partial", APUTURE, "--jsonl", _jsonl(tmp_path, lines))
    assert result.code == 2  # as `eval --jsonl`: some line was refused, and every line was answered
    out = [json.loads(line) for line in result.out.splitlines()]
    assert len(out) == 5
    assert out[0] == _as_json(aputure.decide_partial(before_inspection(EXAMPLE)).to_json())
    assert out[0]["outputs"]["outcome"] == "pending"
    assert out[1]["error"]["line"] == 2 and out[1]["error"]["problems"][0]["message"].startswith("not valid JSON")
    assert (out[2]["outputs"]["outcome"], out[2]["residual"]) == ("refuse", None)  # certain before inspection
    assert out[3]["error"]["line"] == 4  # a fact without a stage is still needed
    assert out[3]["error"]["problems"] == [{"path": "$.items[0].price", "message": "missing", "received": None}]
    assert out[4] == {**_as_json(aputure.decide(EXAMPLE).to_json()), "residual": None}
    assert "Traceback" not in result.both


def test_outputs_only_and_several_processes_write_what_one_process_writes(tmp_path):
    lines = [before_inspection(EXAMPLE), b"\n", EXAMPLE] * 4
    path = _jsonl(tmp_path, lines)
    alone = run("eval", "--partial", APUTURE, "--jsonl", path, "--outputs-only")
    together = run("eval", "--partial", APUTURE, "--jsonl", path, "--outputs-only", "--jobs", "2")
    assert (together.code, together.out) == (alone.code, alone.out)
    out = [json.loads(line) for line in alone.out.splitlines()]
    assert [next(iter(o)) for o in out] == ["outputs", "error", "outputs"] * 4
    assert out[0]["outputs"]["outcome"] == "pending" and out[2]["outputs"]["outcome"] == "approve_with_fee"


def test_as_of_decides_a_residual_under_the_terms_of_that_date(tmp_path):
    holidays = load_policy(HOLIDAYS)
    request = before_inspection(EXAMPLE)
    own = holidays.decide_partial(request)
    asked = holidays.decide_partial(request, as_of=datetime.date(2026, 4, 1))
    # bought in February (a 10% fee), asked under April's terms (15%): the open fee changes
    assert (own.ranges["restocking_fee"]["max"], asked.ranges["restocking_fee"]["max"]) == ("189.00", "283.50")
    assert asked.to_json()["terms"][0]["sentence"].startswith("as of 2026-04-01 (asked instead of purchased ")
    result = run("eval", "--partial", "--as-of", "2026-04-01", HOLIDAYS, "--jsonl", _jsonl(tmp_path, [request]))
    assert result.code == 0, result.out
    assert json.loads(result.out) == _as_json(asked.to_json())


def test_as_of_on_a_complete_request_is_the_decision_as_of_that_date(tmp_path):
    holidays = load_policy(HOLIDAYS)
    day = datetime.date(2026, 4, 1)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(EXAMPLE))
    result = run("eval", "--partial", "--as-of", day.isoformat(), HOLIDAYS, path)
    assert result.code == 0
    assert json.loads(result.out) == {**_as_json(holidays.decide(EXAMPLE, day).to_json()), "residual": None}


def test_a_folder_of_versions_decides_each_line_under_the_version_in_force(versions, tmp_path):
    def portal(purchased):
        return before_inspection(_request(purchase_date=purchased, delivery_date="2026-07-02",
                                          request_date="2026-07-20"))

    lines = [portal("2026-06-30"), portal("2026-07-01"), portal("2025-12-01")]
    result = run("eval", "--partial", versions, "--jsonl", _jsonl(tmp_path, lines))
    assert result.code == 2
    early, later, before_all = (json.loads(line) for line in result.out.splitlines())
    # day 18 after delivery: refused under 14 days (certain before inspection), open under 21
    assert early["outputs"]["outcome"] == "refuse" and early["residual"] is None
    assert early["terms"][0]["version"] == "2026.1"
    assert later["outputs"]["outcome"] == "pending"
    assert later["terms"][0]["sentence"] == "2026-07-01: version 2026.2 applies, in force from 2026-07-01"
    assert later == _as_json(load_history(versions).decide_partial(portal("2026-07-01")).to_json())
    assert before_all["error"]["kind"] == "evaluation_error" and before_all["error"]["line"] == 3
    assert "no version of the policy is in force on 2025-12-01" in before_all["error"]["message"]
    as_of = run("eval", "--partial", "--as-of", "2026-06-30", versions, "--jsonl", _jsonl(tmp_path, lines[1:2]))
    assert json.loads(as_of.out)["terms"][0]["version"] == "2026.1"


def test_explain_partial_under_a_folder_of_versions_names_the_version(versions, tmp_path):
    path = tmp_path / "portal.json"
    path.write_text(json.dumps(before_inspection(_request(purchase_date="2026-07-01", delivery_date="2026-07-02",
                                                          request_date="2026-07-20"))))
    result = run("explain", "--partial", versions, path)
    assert result.code == 0, result.err
    assert result.out.startswith("PENDING — ")
    assert result.out.endswith("Terms:\n  2026-07-01: version 2026.2 applies, in force from 2026-07-01\n")
