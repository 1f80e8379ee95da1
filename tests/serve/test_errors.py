"""Every error status over a real socket: problem documents (RFC 9457), never a traceback."""
import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import APUTURE, APUTURE_REQUESTS

from .server import Server, wait_for

PROBLEM = "application/problem+json"
EXAMPLE = (APUTURE_REQUESTS / "00-semantics-example.json").read_bytes()


def problem(answer: httpx.Response, status: int) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    data = answer.json()
    assert data["status"] == status and data["type"].startswith("urn:rpl:problem:") and data["title"]
    assert data["request_id"] == answer.headers["x-request-id"]
    assert "Traceback" not in answer.text
    return data


@pytest.mark.parametrize("body, message", [
    (b"{not json", "not valid JSON"),
    (b"", "an empty line: expected a request"),
    (b"\xff\xfe{}", "not valid UTF-8"),
])
def test_a_body_that_is_not_json_is_400_with_the_problem_of_rpl_eval(client, body, message):
    data = problem(client.post("/v1/policies/aputure/decide", content=body), 400)
    assert data["kind"] == "request_error" and message in data["detail"]
    assert data["problems"][0]["path"] == "$" and message in data["problems"][0]["message"]


@pytest.mark.parametrize("query, message", [
    ("as_of=tomorrow", "`as_of` must be a date written YYYY-MM-DD, not `tomorrow`"),
    ("explain=maybe", "`explain` must be true or false, not `maybe`"),
    ("partial=maybe", "`partial` must be true or false, not `maybe`"),
])
def test_a_bad_option_is_400(client, query, message):
    assert problem(client.post(f"/v1/policies/aputure/decide?{query}", content=EXAMPLE), 400)["detail"] == message


def test_a_request_the_policy_refuses_is_422_with_every_problem(client):
    request = json.loads(EXAMPLE)
    request["kind"] = "swap"
    del request["items"][0]["price"]
    data = problem(client.post("/v1/policies/aputure/decide", json=request), 422)
    assert data["kind"] == "request_error" and data["detail"] == "the request has 2 problems"
    assert [p["path"] for p in data["problems"]] == ["$.kind", "$.items[0].price"]


@pytest.mark.parametrize("path", ["/v1/policies/nope", "/v1/policies/nope/schema", "/v1/policies/nope/decide",
                                  "/v1/policies/..%2Faputure", "/v1/policies/%2Fetc%2Fpasswd/decide",
                                  "/v1/policies/a/b/decide", "/v1/policies//decide", "/v2/policies", "/"])
def test_an_unknown_policy_or_endpoint_is_404(client, path):
    # a policy is a name in the served set: a path in a request is not a route, let alone a file
    method = client.post if path.endswith("decide") else client.get
    data = problem(method(path, content=EXAMPLE) if method is client.post else method(path), 404)
    if path.startswith("/v1/policies/nope"):
        assert "served: `aputure`, `aputure_holidays`, `bestbuy`, `electronics`" in data["detail"]
        assert data["instance"] == path


def test_a_wrong_method_is_405(client):
    assert "GET is not allowed" in problem(client.get("/v1/policies/aputure/decide"), 405)["detail"]


def test_a_body_over_the_limit_is_413(client):
    big = b'{"pad": "' + b"x" * (1_048_576 + 10) + b'"}'
    problem(client.post("/v1/policies/aputure/decide", content=big), 413)

    def chunks():  # no Content-Length: the limit is counted as the body arrives
        for _ in range(20):
            yield b"x" * 65536

    problem(client.post("/v1/policies/aputure/decide", content=chunks()), 413)


def test_the_client_request_id_is_echoed_and_a_strange_one_replaced(client):
    answer = client.post("/v1/policies/aputure/decide", content=b"{", headers={"X-Request-Id": "portal-42"})
    assert problem(answer, 400)["request_id"] == "portal-42"
    # it goes into headers and the server's log: nothing but a short id of plain characters is kept
    for strange in ("a b\t<c>", 'say "hi"', "x" * 129, "caf\u00e9".encode(), "%0d%0aSet-Cookie:x"):
        answer = client.post("/v1/policies/aputure/decide", content=b"{", headers={"X-Request-Id": strange})
        assert len(problem(answer, 400)["request_id"]) == 32, strange
    longest = "x" * 128
    answer = client.post("/v1/policies/aputure/decide", content=b"{", headers={"X-Request-Id": longest})
    assert problem(answer, 400)["request_id"] == longest


BIG_LIMIT = 10 * 1024 * 1024  # over the 8 MiB `rpl eval` takes by default


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """A server with a planted fault, and (for one test) a `--max-body` over `rpl eval`'s default."""
    server = Server(APUTURE, "--no-watch", "--max-body", str(BIG_LIMIT), log_dir=tmp_path_factory.mktemp("faulty"),
                    patch="fault")
    yield server
    server.stop()


def test_a_server_fault_is_500_with_the_request_id_logged_and_no_traceback(faulty):
    request = json.loads(EXAMPLE)
    request["plant_fault"] = True
    faults = faulty_answers(faulty)
    answer = httpx.post(f"{faulty.url}/v1/policies/aputure/decide", json=request,
                        headers={"X-Request-Id": "fault-1"})
    data = problem(answer, 500)
    assert data["request_id"] == "fault-1" and "quote request id fault-1" in data["detail"]
    assert "planted" not in answer.text
    log = wait_for(lambda: "RuntimeError" in faulty.log() and faulty.log())  # logged after the answer
    assert "request fault-1 (POST /v1/policies/aputure/decide) failed" in log
    assert "RuntimeError: a planted fault" in log  # the traceback is the server's, not the client's
    # and the server goes on answering
    assert httpx.post(f"{faulty.url}/v1/policies/aputure/decide", content=EXAMPLE).status_code == 200
    assert faulty_answers(faulty) == faults + 1


def faulty_answers(server) -> float:
    """The count of 500 answers on the server's `/metrics`."""
    page = httpx.get(f"{server.url}/metrics").text
    found = [line for line in page.splitlines() if line.startswith('rpl_request_errors_total{status="500"}')]
    return float(found[0].split()[-1]) if found else 0.0


def test_a_fault_without_an_id_given_is_answered_with_the_new_one(faulty):
    request = json.loads(EXAMPLE)
    request["plant_fault"] = True
    answer = httpx.post(f"{faulty.url}/v1/policies/aputure/decide?explain=false", json=request)
    data = problem(answer, 500)
    assert len(data["request_id"]) == 32 and answer.headers.get_list("x-request-id") == [data["request_id"]]
    assert f"quote request id {data['request_id']}" in data["detail"]


def test_max_body_is_the_limit_of_a_request_even_over_rpl_evals_default(faulty):
    request = json.loads(EXAMPLE)
    request["customer_note"] = "x" * (9 * 1024 * 1024)  # 9 MiB: under the server's limit
    answer = httpx.post(f"{faulty.url}/v1/policies/aputure/decide", json=request, timeout=60)
    data = problem(answer, 422)  # read, and refused by the policy for its unknown field, not its size
    assert [p["path"] for p in data["problems"]] == ["$.customer_note"]
    batch = httpx.post(f"{faulty.url}/v1/policies/aputure/decide", json=request, timeout=60,
                       headers={"Content-Type": "application/x-ndjson"})
    assert [p["path"] for p in batch.json()["error"]["problems"]] == ["$.customer_note"]


def test_without_the_serve_extra_rpl_serve_says_what_to_install_and_exits_64():
    import subprocess
    import sys

    code = ("import sys; sys.modules['uvicorn'] = None; from rplang.cli import main; "
            "main(['serve', 'policies'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).parents[2])
    assert result.returncode == 64
    assert "install rplang[serve]" in result.stderr and "uvicorn" in result.stderr
    assert "Traceback" not in result.stderr


def _raw_exchange(port: int, data: bytes, hang_up: bool = False) -> bytes:
    """`data` sent on a socket of its own, and what the server answers until it closes (or, with
    `hang_up`, nothing read: the client closes its end once it has sent `data`)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(data)
        if hang_up:
            return b""
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        return answer


@pytest.mark.parametrize("path", ["decide", "explain"])
def test_a_body_declared_over_the_limit_is_413_before_the_client_is_told_to_go_on(policies_server, path):
    """A client that asks `Expect: 100-continue` waits for the server before it sends its body:
    one declared over the limit is refused at once, never asked for."""
    head = (b"POST /v1/policies/aputure/%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n" % (path.encode(), 1_048_576 + 1))
    answer = _raw_exchange(policies_server.port, head)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"100 Continue" not in answer and b"application/problem+json" in answer


@pytest.mark.parametrize("path, content_type", [("decide", "application/json"), ("decide", "application/x-ndjson"),
                                                ("explain", "application/json")])
def test_a_client_that_hangs_up_mid_body_is_no_fault_of_the_server(policies_server, path, content_type):
    """Nothing to answer, and nothing wrong with the server: no traceback in its log, no 500 counted."""
    request_id = f"hang-up-{path}-{content_type.rpartition('/')[2]}"
    head = (f"POST /v1/policies/aputure/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(EXAMPLE) + 100}\r\nX-Request-Id: {request_id}\r\n\r\n").encode()
    faults = faulty_answers(policies_server)
    _raw_exchange(policies_server.port, head + EXAMPLE, hang_up=True)
    log = wait_for(lambda: f"request {request_id}: the client closed the connection" in policies_server.log()
                   and policies_server.log())
    assert f"request {request_id} (POST" not in log  # not logged as a failure, with its traceback
    assert faulty_answers(policies_server) == faults


@pytest.fixture(scope="module")
def h11_server(tmp_path_factory):
    """A server whose uvicorn parses with h11, as where httptools is not installed."""
    server = Server(APUTURE, "--no-watch", log_dir=tmp_path_factory.mktemp("h11"), patch="h11")
    yield server
    server.stop()


GARBAGE = [  # and the request id of the answer, when the request's own is read before the error
    (b"GARBAGE\r\n\r\n", None),  # no request line
    (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon here\r\n\r\n", None),  # a header that is none
    (b"GET /heal thz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", None),  # a space in the target
    (b"POST /v1/policies/aputure/decide HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"  # a chunk
     b"X-Request-Id: chunky\r\n\r\nZZZ\r\n\r\n", "chunky"),
]


@pytest.mark.parametrize("parser", ["httptools", "h11"])
def test_a_request_uvicorn_cannot_parse_is_a_400_problem_and_the_server_serves_the_next(request, parser):
    """uvicorn answers what it cannot parse itself; with the service's protocol (`protocol.py`),
    as the service answers a 400: a problem document with a request id, counted, the connection
    closed; the next client is answered as ever."""
    from .test_body import parsed
    from .test_metrics import samples, value

    server = request.getfixturevalue("policies_server" if parser == "httptools" else "h11_server")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        before = value(samples(client), "rpl_request_errors_total", status="400")
    for garbage, request_id in GARBAGE:
        status, headers, body = parsed(_raw_exchange(server.port, garbage))  # read until the server closes
        assert status == 400 and headers["connection"] == "close", (garbage, body)
        assert request_id is None and len(headers["x-request-id"]) == 32 or headers["x-request-id"] == request_id
        assert headers["content-type"] == PROBLEM
        assert json.loads(body) == {
            "type": "urn:rpl:problem:malformed-request", "title": "the request is not well formed", "status": 400,
            "detail": "the request is not HTTP/1.1 that can be read (a malformed request line, header, or chunk "
                      "of its body): the connection is closed",
            "request_id": headers["x-request-id"]}
        assert f"request {headers['x-request-id']}: not HTTP/1.1 that can be read" in \
            wait_for(lambda: headers["x-request-id"] in server.log() and server.log())
        assert httpx.post(f"{server.url}/v1/policies/aputure/decide", content=EXAMPLE, timeout=30).status_code == 200
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert value(samples(client), "rpl_request_errors_total", status="400") - before == len(GARBAGE)
    assert "Traceback" not in server.log()


@pytest.mark.parametrize("parser", ["httptools", "h11"])
def test_a_malformed_chunk_of_a_batch_whose_answer_has_begun_ends_it_with_no_400_inside(request, parser):
    """A 400 written then would land in the middle of the 200 being streamed: the answer is left
    unfinished (a client sees a cut stream, as when a server stops), the connection closed."""
    import select
    import socket

    server = request.getfixturevalue("policies_server" if parser == "httptools" else "h11_server")
    line = json.dumps(json.loads(EXAMPLE)).encode() + b"\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(b"POST /v1/policies/aputure/decide?explain=false HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n"
                           b"X-Request-Id: cut-%s\r\n\r\n%x\r\n%s\r\n" % (parser.encode(), len(line), line))
        answer = b""
        while b"outputs" not in answer:  # the first line's decision, each wait bounded by the socket's timeout
            assert select.select([connection], [], [], 10)[0], answer
            answer += connection.recv(65536)
        connection.sendall(b"ZZ\r\n\r\n")
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ") and b"outputs" in answer
    assert answer.count(b"HTTP/1.1") == 1 and b"problem+json" not in answer
    assert not answer.endswith(b"0\r\n\r\n")  # not a whole chunked answer: cut
    assert f"request cut-{parser}: a chunk of its body is not HTTP/1.1 that can be read: its answer ends unfinished" \
        in wait_for(lambda: f"cut-{parser}: a chunk" in server.log() and server.log())
    assert httpx.post(f"{server.url}/v1/policies/aputure/decide", content=EXAMPLE, timeout=30).status_code == 200
