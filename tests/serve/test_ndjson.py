"""NDJSON batches: one request a line in, one decision (or error object) a line out, in order,
as `rpl eval --jsonl` prints them."""
import json

import pytest

from tests.cli.conftest import run
from tests.conftest import APUTURE, POLICIES

NDJSON = {"Content-Type": "application/x-ndjson"}
CORPUS = (POLICIES / "aputure" / "corpus.jsonl").read_bytes().splitlines(keepends=True)
GOOD = CORPUS[0]
BAD_LINES = [GOOD, b"{not json\n", b"\n", b"\xff\xfe{}\n", b'{"kind": "swap"}\n', CORPUS[1], b"[]\n", CORPUS[2]]


def eval_jsonl(tmp_path, lines: list[bytes], *flags: str) -> list[dict]:
    path = tmp_path / "batch.jsonl"
    path.write_bytes(b"".join(lines))
    result = run("eval", APUTURE, "--jsonl", path, *flags)
    return [json.loads(line) for line in result.out.splitlines()]


def decide_lines(client, body, query: str = "") -> list[dict]:
    answer = client.post(f"/v1/policies/aputure/decide{query}", content=body, headers=NDJSON)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/x-ndjson")
    assert answer.headers["rpl-policy-hash"].startswith("sha256:")
    return [json.loads(line) for line in answer.text.splitlines()]


def test_a_batch_with_bad_lines_is_answered_line_by_line_as_rpl_eval_jsonl(client, tmp_path):
    answered = decide_lines(client, b"".join(BAD_LINES))
    assert answered == eval_jsonl(tmp_path, BAD_LINES)
    assert [("error" in a) for a in answered] == [False, True, True, True, True, False, True, False]
    assert [a["error"]["line"] for a in answered if "error" in a] == [2, 3, 4, 5, 7]
    assert "not valid JSON" in answered[1]["error"]["problems"][0]["message"]


def test_the_corpus_in_order_and_with_outputs_only(client, tmp_path):
    lines = CORPUS[:300]
    assert decide_lines(client, b"".join(lines)) == eval_jsonl(tmp_path, lines)
    assert decide_lines(client, b"".join(lines), "?explain=false") == eval_jsonl(tmp_path, lines, "--outputs-only")


@pytest.mark.parametrize("content_type", ["application/x-ndjson; charset=utf-8", "Application/X-NDJSON"])
def test_a_batch_is_told_by_its_media_type_whatever_its_parameters_and_case(client, tmp_path, content_type):
    answer = client.post("/v1/policies/aputure/decide", content=b"".join(CORPUS[:3]),
                         headers={"Content-Type": content_type, "X-Request-Id": "batch-9"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/x-ndjson")
    assert answer.headers.get_list("x-request-id") == ["batch-9"]
    assert [json.loads(line) for line in answer.text.splitlines()] == eval_jsonl(tmp_path, CORPUS[:3])


def test_crlf_line_ends_and_a_byte_order_mark_are_read_as_rpl_eval_jsonl_reads_them(client, tmp_path):
    lines = [b"\xef\xbb\xbf" + CORPUS[0].replace(b"\n", b"\r\n"), CORPUS[1].replace(b"\n", b"\r\n"), b"\r\n",
             CORPUS[2]]
    decided = decide_lines(client, b"".join(lines))
    assert decided == eval_jsonl(tmp_path, lines)
    assert [("error" in d) for d in decided] == [False, False, True, False]


@pytest.mark.parametrize("first, batch", [("application/json", False), ("application/x-ndjson", True)])
def test_of_two_content_types_the_first_counts(client, first, batch):
    """As for `X-Request-Id` and `Authorization`, and as Starlette reads a header."""
    second = "application/x-ndjson" if first == "application/json" else "application/json"
    answer = client.post("/v1/policies/aputure/decide", content=GOOD,
                         headers=[("Content-Type", first), ("Content-Type", second)])
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/x-ndjson" if batch else "application/json")


def test_lines_split_across_chunks_and_a_last_line_without_newline(client, tmp_path):
    body = b"".join(CORPUS[:20]).rstrip(b"\n")

    def in_pieces():  # 7 bytes at a time: every line arrives cut in several chunks
        for start in range(0, len(body), 7):
            yield body[start:start + 7]

    assert decide_lines(client, in_pieces()) == eval_jsonl(tmp_path, CORPUS[:20])


@pytest.mark.parametrize("pieces", [False, True])
def test_a_line_over_the_limit_is_that_line_error_and_the_stream_goes_on(client, pieces):
    body = GOOD + b'{"pad": "' + b"x" * (1_048_576 + 100) + b'"}\n' + GOOD

    def in_pieces():  # the long line seen before its end arrives
        for start in range(0, len(body), 65536):
            yield body[start:start + 65536]

    answered = decide_lines(client, in_pieces() if pieces else body)
    assert len(answered) == 3 and answered[0] == answered[2] and "outputs" in answered[0]
    assert answered[1] == {"error": {"kind": "request_error", "message": "the request has 1 problem", "line": 2,
                                     "problems": [{"path": "$", "message": "a line longer than 1048576 bytes",
                                                   "received": None}]}}


def test_as_of_applies_to_every_line(client, tmp_path):
    lines = CORPUS[:5]
    answer = client.post("/v1/policies/aputure_holidays/decide?as_of=2026-12-01", content=b"".join(lines),
                         headers=NDJSON)
    path = tmp_path / "batch.jsonl"
    path.write_bytes(b"".join(lines))
    printed = run("eval", POLICIES / "aputure_holidays.rpl", "--jsonl", path, "--as-of", "2026-12-01")
    assert [json.loads(x) for x in answer.text.splitlines()] == [json.loads(x) for x in printed.out.splitlines()]


def test_a_client_that_expects_100_continue_is_told_to_go_on_before_the_answer(policies_server, client):
    """curl asks `Expect: 100-continue` of a large body and waits up to a second for it: the
    server must read the body (and so say 100 Continue) before it starts the answer."""
    import socket

    body = b"".join(CORPUS[:3])
    head = (f"POST /v1/policies/aputure/decide HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", policies_server.port), timeout=10) as connection:
        connection.sendall(head)
        first = connection.recv(100)
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), first
        connection.sendall(body)
        answer = first
        while chunk := connection.recv(65536):
            answer += chunk
    assert b"HTTP/1.1 200 OK" in answer
    decided = [json.loads(line) for line in answer.split(b"\r\n\r\n", 2)[2].splitlines() if line.startswith(b"{")]
    expected = [json.loads(line) for line in client.post("/v1/policies/aputure/decide", content=body,
                                                         headers=NDJSON).text.splitlines()]
    assert decided == expected
