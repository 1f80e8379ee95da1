"""`POST /v1/policies/{name}/decide` and `/explain` over a real socket: the decisions of `rpl eval`."""
import copy
import json

import pytest

from tests.cli.conftest import run
from tests.conftest import APUTURE, APUTURE_REQUESTS, POLICIES
from tests.residual.conftest import EXAMPLE, before_inspection

ELECTRONICS = POLICIES / "electronics.rpl"
BUNDLED = [(APUTURE, "aputure", p) for p in sorted(APUTURE_REQUESTS.glob("*.json"))] + \
          [(ELECTRONICS, "electronics", p) for p in sorted((POLICIES / "electronics" / "requests").glob("*.json"))
           if p.name != "expected.json"]


def test_every_bundled_request_is_decided_as_rpl_eval_decides_it(client):
    assert len(BUNDLED) > 90
    decided = refused = 0
    for policy, name, request in BUNDLED:
        printed = run("eval", policy, request)
        answer = client.post(f"/v1/policies/{name}/decide", content=request.read_bytes())
        if printed.code == 0:
            assert answer.status_code == 200, (request.name, answer.text)
            assert answer.headers["content-type"] == "application/json"
            assert answer.json() == json.loads(printed.out), request.name
            decided += 1
        else:  # `rpl eval` prints {"error": ...}; the service answers 422 with the same problems
            assert answer.status_code == 422, (request.name, answer.text)
            error = json.loads(printed.out)["error"]
            problem = answer.json()
            assert problem["kind"] == error["kind"]
            assert problem.get("problems") == error.get("problems")
            refused += 1
    assert decided > 80  # the bundled requests are mostly decisions, a few refusals


def test_a_decision_names_the_policy_version_and_text_hash(client):
    answer = client.post("/v1/policies/aputure/decide", content=(APUTURE_REQUESTS / "01-window-day-14.json").read_bytes())
    listed = {p["name"]: p for p in client.get("/v1/policies").json()["policies"]}["aputure"]
    assert answer.headers["rpl-policy"] == "aputure"
    assert answer.headers["rpl-policy-version"] == listed["version"] == "2026.1"
    assert answer.headers["rpl-policy-hash"] == listed["text_hash"]
    assert listed["text_hash"].startswith("sha256:") and len(listed["text_hash"]) == 7 + 64


def test_a_decision_carries_the_client_request_id_once_or_a_new_one(client):
    body = (APUTURE_REQUESTS / "01-window-day-14.json").read_bytes()
    answer = client.post("/v1/policies/aputure/decide", content=body, headers={"X-Request-Id": "portal-7"})
    assert answer.status_code == 200 and answer.headers.get_list("x-request-id") == ["portal-7"]
    ids = [client.post("/v1/policies/aputure/decide", content=body, headers=headers).headers.get_list("x-request-id")
           for headers in ({}, {}, {"X-Request-Id": "a b<c>"})]
    assert all(len(i) == 1 and len(i[0]) == 32 and int(i[0], 16) >= 0 for i in ids)  # one header, 32 hex digits
    assert len({i[0] for i in ids}) == 3  # each request its own
    assert answer.headers["content-length"] == str(len(answer.content))
    assert answer.headers["content-type"] == "application/json"


def test_a_body_that_arrives_in_pieces_is_decided_as_one_that_arrives_whole(client):
    body = (APUTURE_REQUESTS / "00-semantics-example.json").read_bytes()
    whole = client.post("/v1/policies/aputure/decide", content=body)
    assert whole.status_code == 200

    def pieces():  # no Content-Length: the body is read to its end, piece by piece
        for start in range(0, len(body), 100):
            yield body[start:start + 100]

    chunked = client.post("/v1/policies/aputure/decide", content=pieces())
    # with a Content-Length, a body larger than one read of the socket comes in several messages
    padded = client.post("/v1/policies/aputure/decide", content=body + b" " * 600_000)
    for answer in (chunked, padded):
        assert answer.status_code == 200, answer.text
        assert answer.content == whole.content


def test_explain_false_gives_the_outputs_of_rpl_eval_outputs_only(client, tmp_path):
    request = APUTURE_REQUESTS / "00-semantics-example.json"
    jsonl = tmp_path / "one.jsonl"
    jsonl.write_text(request.read_text().replace("\n", "") + "\n")
    printed = run("eval", APUTURE, "--jsonl", jsonl, "--outputs-only")
    answer = client.post("/v1/policies/aputure/decide?explain=false", content=request.read_bytes())
    assert answer.status_code == 200
    assert answer.json() == json.loads(printed.out) and list(answer.json()) == ["outputs"]


def test_as_of_decides_under_the_terms_of_that_date(client):
    # aputure_holidays has dated terms (`terms by order.purchase_date`)
    body = (APUTURE_REQUESTS / "00-semantics-example.json").read_bytes()
    for day in ("2026-01-15", "2026-12-01"):
        printed = run("eval", POLICIES / "aputure_holidays.rpl", APUTURE_REQUESTS / "00-semantics-example.json",
                      "--as-of", day)
        answer = client.post(f"/v1/policies/aputure_holidays/decide?as_of={day}", content=body)
        assert printed.code == 0 and answer.status_code == 200, answer.text
        assert answer.json() == json.loads(printed.out)


def test_partial_gives_the_residual_decision_of_rpl_eval_partial(client, tmp_path):
    request = before_inspection(EXAMPLE)
    path = tmp_path / "portal.json"
    path.write_text(json.dumps(request))
    printed = run("eval", "--partial", APUTURE, path)
    answer = client.post("/v1/policies/aputure/decide?partial=true", json=request)
    assert answer.status_code == 200, answer.text
    assert answer.json() == json.loads(printed.out)
    assert answer.json()["outputs"]["outcome"] == "pending"
    outputs_only = client.post("/v1/policies/aputure/decide?partial=true&explain=false", json=request).json()
    assert outputs_only == {"outputs": answer.json()["outputs"], "residual": answer.json()["residual"]}


def test_without_partial_a_missing_stage_fact_is_refused_as_rpl_eval_refuses_it(client, tmp_path):
    path = tmp_path / "portal.json"
    path.write_text(json.dumps(before_inspection(EXAMPLE)))
    printed = run("eval", APUTURE, path)
    answer = client.post("/v1/policies/aputure/decide", content=path.read_bytes())
    assert printed.code == 2 and answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["problems"] == json.loads(printed.out)["error"]["problems"]
    assert answer.json()["problems"][0]["path"] == "$.items[0].condition"


@pytest.mark.parametrize("query", ["", "?partial=true"])
def test_explain_gives_the_text_of_rpl_explain(client, tmp_path, query):
    request = before_inspection(EXAMPLE) if query else copy.deepcopy(EXAMPLE)
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    printed = run("explain", *(["--partial"] if query else []), APUTURE, path)
    answer = client.post(f"/v1/policies/aputure/explain{query}", json=request)
    assert printed.code == 0 and answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.text == printed.out
    assert answer.headers["rpl-policy-hash"].startswith("sha256:")


def test_explain_shows_a_requests_control_characters_as_rpl_explain_does(client, tmp_path):
    """A sku that would clear the terminal, set its clipboard and write over an amount (curl's
    answer is read at one) is shown as escapes, as `rpl explain` shows it."""
    request = copy.deepcopy(EXAMPLE)
    request["items"][0]["sku"] = "\x1b[2J\x1b]52;c;cHduZWQ=\x07\r+ 9,999.99"
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    printed = run("explain", APUTURE, path)
    answer = client.post("/v1/policies/aputure/explain", json=request)
    assert printed.code == 0 and answer.status_code == 200, answer.text
    assert "\\u001b[2J\\u001b]52;c;cHduZWQ=\\u0007\\u000d+ 9,999.99" in answer.text
    assert answer.text == printed.out and "\x1b" not in answer.text and "\r" not in answer.text


def test_explain_writes_money_for_the_locale_asked(client):
    request = (APUTURE_REQUESTS / "64-currency-jpy.json").read_bytes()
    printed = run("explain", APUTURE, APUTURE_REQUESTS / "64-currency-jpy.json", "--locale", "de_DE")
    answer = client.post("/v1/policies/aputure/explain?locale=de_DE", content=request)
    assert answer.status_code == 200 and answer.text == printed.out
    assert answer.text.startswith("APPROVED WITH A RESTOCKING FEE — refund 148.650 JPY\n")
    unknown = client.post("/v1/policies/aputure/explain?locale=xx_YY", content=request)
    assert unknown.status_code == 400 and "unknown locale `xx_YY`" in unknown.json()["detail"]
