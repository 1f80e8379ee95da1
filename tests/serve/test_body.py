"""`--body-timeout`: a body not received within the deadline is answered 408 and its connection
closed; a batch (NDJSON) is held to it for each wait for more of it, and to `--batch-timeout` as a
whole. Over raw sockets, to send a body as slowly as a client may."""
import asyncio
import json
import os
import select
import socket
import sys
import time

import httpx
import pytest

from rplang.serve.app import ServeConfig
from rplang.serve.body import Body, BodyTimeout
from tests.cli.conftest import run
from tests.conftest import APUTURE, POLICIES

from .server import Server, wait_for
from .test_metrics import samples, value
from .test_ndjson import CORPUS

DEADLINE = 0.5  # seconds: --body-timeout of the server under test
BATCH_DEADLINE = 2.0  # seconds: its --batch-timeout
LATE = 3.0  # past the deadline, the longest a 408 may take on a busy machine
LINE = CORPUS[0]  # one request of a batch, with its end of line
BODY = LINE.rstrip(b"\n")  # the same request alone
NDJSON = "application/x-ndjson"


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    server = Server(APUTURE, "--no-watch", "--body-timeout", str(DEADLINE), "--batch-timeout", str(BATCH_DEADLINE),
                    log_dir=tmp_path_factory.mktemp("strict"))
    yield server
    server.stop()


def head(path: str, length: int, request_id: str, content_type: str = "application/json", close: bool = False) -> bytes:
    """A request's head, for `/v1/policies/PATH`; `close`, the client's `Connection: close` (else the
    connection stays after an answer the server gives with the body read whole)."""
    ending = "Connection: close\r\n" if close else ""
    return (f"POST /v1/policies/{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\nX-Request-Id: {request_id}\r\n{ending}\r\n").encode()


def exchange(port: int, pieces: list[bytes], pause: float = 0.0, batch: bool = False) -> tuple[bytes, float]:
    """`pieces` sent `pause` seconds apart on a connection of their own (no more once the server
    has begun to answer, unless it answers a `batch` as it comes), and what the server answers until
    it closes the connection; with how long that took from the first piece."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        started = time.monotonic()
        connection.sendall(pieces[0])
        for piece in pieces[1:]:
            answering, _, _ = select.select([] if batch else [connection], [], [], pause)
            if answering:
                break
            connection.sendall(piece)
        answer = b""
        try:
            while chunk := connection.recv(65536):  # each wait bounded by the socket's timeout
                answer += chunk
        except ConnectionResetError:
            # a piece sent just as the server answered and closed reaches a closed socket, whose reset
            # then ends the answer in place of its end of file: the answer read is the server's whole
            if not answer:
                raise
        return answer, time.monotonic() - started


def parsed(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    """An HTTP/1.1 answer's status, headers (names in lower case) and body (chunks joined)."""
    top, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = top.decode("latin-1").split("\r\n")
    headers = {name.lower(): text.strip() for name, _, text in (line.partition(":") for line in lines)}
    if headers.get("transfer-encoding") == "chunked":
        assert body.endswith(b"0\r\n\r\n"), "the answer ended without its last chunk"
        joined = b""
        while (size := int(body[:body.index(b"\r\n")], 16)) > 0:
            start = body.index(b"\r\n") + 2
            joined, body = joined + body[start:start + size], body[start + size + 2:]
        body = joined
    return int(status_line.split()[1]), headers, body


def errors(server, status: str) -> float:
    with httpx.Client(base_url=server.url) as client:
        return value(samples(client), "rpl_request_errors_total", status=status)


@pytest.mark.parametrize("path", ["decide", "explain"])
def test_a_body_that_stalls_is_408_at_the_deadline_and_the_connection_closed(strict, path):
    request_id = f"stall-{path}"
    before = errors(strict, "408")
    with socket.create_connection(("127.0.0.1", strict.port), timeout=10) as stalled, \
            httpx.Client(base_url=strict.url) as other:
        started = time.monotonic()
        stalled.sendall(head(f"aputure/{path}", len(BODY), request_id) + BODY[:len(BODY) // 2])
        # meanwhile, on another connection, a client is answered as ever
        assert other.post("/v1/policies/aputure/decide", content=BODY).status_code == 200
        assert time.monotonic() - started < DEADLINE
        data = b""
        while chunk := stalled.recv(65536):  # until the server closes the connection
            data += chunk
        took = time.monotonic() - started
    assert DEADLINE <= took < DEADLINE + LATE
    status, headers, body = parsed(data)
    assert status == 408 and headers["connection"] == "close"
    assert headers["content-type"] == "application/problem+json" and headers["x-request-id"] == request_id
    problem = json.loads(body)
    assert problem["detail"] == "the body was not received within the limit of 0.5 s"
    assert problem["request_id"] == request_id and problem["instance"] == f"/v1/policies/aputure/{path}"
    assert errors(strict, "408") - before == 1
    log = wait_for(lambda: f"request {request_id}:" in strict.log() and strict.log())
    assert (f"INFO rpl.serve: request {request_id}: the body was not received within 0.5 s (--body-timeout): "
            "the connection is closed") in log
    assert "Traceback" not in log and "ERROR" not in log


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_stalled_clients_leave_no_connection_behind(strict):
    def sockets() -> int:
        folder = f"/proc/{strict.process.pid}/fd"
        return sum(os.readlink(f"{folder}/{fd}").startswith("socket:") for fd in os.listdir(folder))

    before = sockets()  # the listening socket, and perhaps connections of earlier tests still closing
    stalled = [socket.create_connection(("127.0.0.1", strict.port), timeout=10) for _ in range(8)]
    try:
        for n, connection in enumerate(stalled):
            connection.sendall(head("aputure/decide", len(BODY), f"many-{n}") + BODY[:10])
        for connection in stalled:
            data = b""
            while chunk := connection.recv(65536):
                data += chunk
            assert parsed(data)[0] == 408  # each was accepted, and held until the deadline
    finally:
        for connection in stalled:
            connection.close()
    wait_for(lambda: sockets() <= before, seconds=10)


def test_a_body_trickled_is_held_to_the_deadline_as_a_whole(strict):
    """Each piece comes well within the deadline of the one before, the body not."""
    pieces = [head("aputure/decide", len(BODY), "trickle"), *(BODY[k:k + 40] for k in range(0, len(BODY), 40))]
    answer, took = exchange(strict.port, pieces, pause=DEADLINE / 3)
    assert parsed(answer)[0] == 408 and DEADLINE <= took < DEADLINE + LATE


def test_a_slow_body_received_in_time_is_decided(strict):
    half = len(BODY) // 2
    answer, _ = exchange(strict.port, [head("aputure/decide", len(BODY), "slow", close=True) + BODY[:half],
                                       BODY[half:]], pause=DEADLINE / 4)
    status, _, body = parsed(answer)
    assert status == 200, answer[:300]
    assert json.loads(body) == httpx.post(f"{strict.url}/v1/policies/aputure/decide", content=BODY).json()


def test_a_batch_is_held_to_the_deadline_for_each_part_not_as_a_whole(strict):
    lines = CORPUS[:4]
    batch = head("aputure/decide", len(b"".join(lines)), "batch", NDJSON, close=True)
    answer, took = exchange(strict.port, [batch, *lines], pause=DEADLINE / 2.5, batch=True)
    assert took > DEADLINE  # longer than a single body may take
    status, headers, body = parsed(answer)
    assert status == 200
    single = httpx.post(f"{strict.url}/v1/policies/aputure/decide", content=b"".join(lines),
                        headers={"Content-Type": NDJSON})
    assert body.decode() == single.text and "error" not in single.text


def test_a_batch_that_stalls_before_its_first_line_is_408(strict):
    answer, took = exchange(strict.port, [head("aputure/decide", len(LINE), "batch-stall", NDJSON) + LINE[:20]])
    status, headers, body = parsed(answer)
    assert status == 408 and headers["connection"] == "close" and DEADLINE <= took < DEADLINE + LATE
    assert json.loads(body)["detail"] == "the next part of the batch was not received within the limit of 0.5 s"


def test_a_batch_that_stalls_after_its_first_answers_ends_with_an_error_for_the_line_not_received(strict):
    """The answer has begun (200): the lines received are answered, the one not received gets an
    error object, and the answer ends properly, its connection closed."""
    with httpx.Client(base_url=strict.url) as client:
        before = value(samples(client), "rpl_batch_line_errors_total", policy="aputure")
    answer, took = exchange(strict.port, [head("aputure/decide", 10_000, "batch-late", NDJSON) + b"".join(CORPUS[:2])
                                          + LINE[:20]])
    status, headers, body = parsed(answer)
    assert status == 200 and headers["connection"] == "close"
    *decisions, late = [json.loads(line) for line in body.splitlines()]
    assert len(decisions) == 2 and all("outputs" in d for d in decisions)
    assert late == {"error": {"kind": "request_error", "line": 3, "message": "the request has 1 problem", "problems": [
        {"path": "$", "message": "the next part of the batch was not received within the limit of 0.5 s: "
                                 "the batch ends here", "received": None}]}}
    with httpx.Client(base_url=strict.url) as client:
        assert value(samples(client), "rpl_batch_line_errors_total", policy="aputure") - before == 1
    assert "request batch-late: the next part of the batch was not received within 0.5 s" in \
        wait_for(lambda: "batch-late" in strict.log() and strict.log())


def keep_sending(port: int, head: bytes, piece: bytes, pause: float, most: int = 40) -> tuple[bytes, float, int]:
    """`head`, then `piece` every `pause` seconds (at most `most` of them), each well within the
    deadline of the wait for it, until the server ends the connection: what it answered, how long
    that took, and how many pieces were sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        started = time.monotonic()
        connection.sendall(head)
        answer, sent = b"", 0
        while sent < most:
            readable, _, _ = select.select([connection], [], [], pause)
            if readable:
                chunk = connection.recv(65536)
                if not chunk:  # closed by the server
                    break
                answer += chunk
                continue
            try:
                connection.sendall(piece)
            except OSError:  # the server has closed its end
                break
            sent += 1
        while chunk := connection.recv(65536):  # each wait bounded by the socket's timeout
            answer += chunk
        return answer, time.monotonic() - started, sent


def test_a_batch_that_keeps_sending_lines_within_each_wait_ends_at_the_batch_deadline(strict):
    """A line every 0.3 s is within each wait's 0.5 s, for ever: the whole batch is held to
    --batch-timeout. Its answer has begun: the lines received are answered, the batch ends with an
    error object, and the connection is closed."""
    with httpx.Client(base_url=strict.url) as client:
        before = value(samples(client), "rpl_batch_line_errors_total", policy="aputure")
    answer, took, sent = keep_sending(strict.port, head("aputure/decide", 10_000_000, "batch-endless", NDJSON), LINE,
                                      pause=DEADLINE * 0.6)
    assert BATCH_DEADLINE <= took < BATCH_DEADLINE + LATE and sent < 40  # the server ended it, not the client
    status, headers, body = parsed(answer)
    assert status == 200 and headers["connection"] == "close"
    *decisions, late = [json.loads(line) for line in body.splitlines()]
    assert len(decisions) >= 2 and all("outputs" in d for d in decisions)
    assert late["error"]["line"] == len(decisions) + 1 and late["error"]["problems"] == [
        {"path": "$", "message": "the whole batch was not received within the limit of 2 s: the batch ends here",
         "received": None}]
    with httpx.Client(base_url=strict.url) as client:
        assert value(samples(client), "rpl_batch_line_errors_total", policy="aputure") - before == 1
    assert ("INFO rpl.serve: request batch-endless: the whole batch was not received within 2 s (--batch-timeout): "
            "the connection is closed") in wait_for(lambda: "batch-endless" in strict.log() and strict.log())


def test_a_batch_trickled_without_an_answer_is_408_at_the_batch_deadline(strict):
    """A line longer than the batch deadline allows, a few bytes at a time: nothing answered yet, a 408."""
    before = errors(strict, "408")
    answer, took, _ = keep_sending(strict.port, head("aputure/decide", 10_000_000, "batch-trickle", NDJSON), b" " * 8,
                                   pause=DEADLINE * 0.6)
    assert BATCH_DEADLINE <= took < BATCH_DEADLINE + LATE
    status, headers, body = parsed(answer)
    assert status == 408 and headers["connection"] == "close"
    assert json.loads(body)["detail"] == "the whole batch was not received within the limit of 2 s"
    assert errors(strict, "408") - before == 1


def test_an_answer_before_the_body_is_read_closes_the_connection_and_a_decision_keeps_it(strict):
    """What is left of a body never read is not waited for: the connection ends with the answer."""
    answer, _ = exchange(strict.port, [head("nothing/decide", len(BODY), "unread") + BODY[:10]])
    status, headers, _ = parsed(answer)
    assert status == 404 and headers["connection"] == "close"
    with httpx.Client(base_url=strict.url) as client:
        for answer in (client.post("/v1/policies/aputure/decide", content=BODY), client.get("/v1/policies"),
                       client.post("/v1/policies/aputure/decide", content=b"{")):
            assert "connection" not in answer.headers, answer.status_code


def test_snapshot_of_a_408(strict, snapshot):
    answer, _ = exchange(strict.port, [head("aputure/decide", len(BODY), "snap-408") + BODY[:10]])
    status, _, body = parsed(answer)
    assert status == 408 and json.loads(body) == snapshot


@pytest.mark.parametrize("option", ["--body-timeout", "--batch-timeout"])
@pytest.mark.parametrize("seconds", ["0", "-1", "nan", "inf", "soon"])
def test_a_body_timeout_not_above_0_is_a_usage_error(option, seconds):
    result = run("serve", POLICIES, option, seconds)
    assert result.code == 64
    assert f"Invalid value for '{option}': '{seconds}' is not a number of seconds above 0" in result.err


def test_the_body_timeout_reaches_the_workers(monkeypatch):
    monkeypatch.setenv(ServeConfig.ENVIRONMENT, "")  # as it was, after the test
    config = ServeConfig("policies", body_timeout=0.25, batch_timeout=7.5)
    config.to_environment()
    assert ServeConfig.from_environment() == config


def test_a_wait_past_the_deadline_ends_inside_receive_and_a_message_come_is_taken():
    """The wait cut short is uvicorn's own (here, a stand-in): its `finally` runs, nothing is left
    waiting. A read whose message has come is not held to the deadline: past it, the server was
    late, not the client."""
    async def reads() -> list:
        happened = []

        async def stalled():
            try:
                await asyncio.Event().wait()
            finally:
                happened.append("cleaned up")

        parts = iter([b"{", b"}"])

        async def come():
            part = next(parts)
            return {"type": "http.request", "body": part, "more_body": part == b"{"}

        with pytest.raises(BodyTimeout):
            await Body(stalled, 0.05, None, "unit", True)()
        body = Body(come, 0.05, None, "unit", True)
        happened.append((await body())["body"])
        await asyncio.sleep(0.1)  # past the deadline of the body
        happened.append((await body())["body"])
        happened.append(body.whole)
        return happened

    assert asyncio.run(reads()) == ["cleaned up", b"{", b"}", True]


def test_a_batch_past_its_deadline_ends_even_when_its_next_part_has_come():
    """The whole batch's deadline bounds its time, whatever its pace: a part that has come is not
    taken past it (a single body's is: there the server was late, not the client)."""
    async def reads() -> list:
        async def come():
            return {"type": "http.request", "body": b"{}\n", "more_body": True}

        body = Body(come, 10, 0.05, "unit", True)
        happened = [(await body())["body"]]
        await asyncio.sleep(0.1)  # past the batch's deadline, each part well within the wait's
        with pytest.raises(BodyTimeout) as late:
            await body()
        happened.append(late.value.detail)
        return happened

    assert asyncio.run(reads()) == [b"{}\n", "the whole batch was not received within the limit of 0.05 s"]
