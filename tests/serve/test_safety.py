"""Bearer tokens, several workers, and concurrent clients getting a single client's answers."""
import os
import random
import stat
import threading

import httpx
import pytest

from tests.cli.conftest import run
from tests.conftest import APUTURE_REQUESTS, POLICIES

from .server import Server, free_port

REQUESTS = [p.read_bytes() for p in sorted(APUTURE_REQUESTS.glob("*.json"))]


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("guarded")
    tokens = folder / "tokens"
    # as a Windows editor saves it: a byte order mark, CRLF line ends, a blank line, spaces around a token
    tokens.write_bytes(b"\xef\xbb\xbf# the portal's and the warehouse's\r\n"
                       b"portal-token-1\r\n\r\n warehouse-token-2 \r\n")
    server = Server(POLICIES / "aputure.rpl", "--no-watch", "--token-file", str(tokens), log_dir=folder)
    yield server
    server.stop()


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", "Basic cG9ydGFsLXRva2VuLTE=", "Bearer",
                                           "Bearer portal-token-1x"])
def test_without_a_good_token_the_answer_is_401(guarded, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in (("POST", "/v1/policies/aputure/decide"), ("GET", "/v1/policies"), ("GET", "/metrics"),
                         ("GET", "/openapi.json")):
        answer = httpx.request(method, guarded.url + path, content=REQUESTS[0] if method == "POST" else None,
                               headers=headers)
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == 'Bearer realm="rpl"'
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["request_id"] == answer.headers["x-request-id"]


def test_each_token_of_the_file_is_accepted_and_health_needs_none(guarded):
    for token in ("portal-token-1", "warehouse-token-2"):
        answer = httpx.post(f"{guarded.url}/v1/policies/aputure/decide", content=REQUESTS[0],
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        assert len(answer.headers.get_list("x-request-id")) == 1
    assert httpx.get(f"{guarded.url}/healthz").status_code == 200
    assert httpx.get(f"{guarded.url}/readyz").status_code == 200


def test_a_refused_token_is_counted_and_checked_before_the_body_is_read(guarded):
    def errors() -> float:
        page = httpx.get(f"{guarded.url}/metrics", headers={"Authorization": "Bearer portal-token-1"}).text
        found = [line for line in page.splitlines() if line.startswith('rpl_request_errors_total{status="401"}')]
        return float(found[0].split()[-1]) if found else 0.0

    before = errors()
    # a body that is not JSON, and a policy that is not served: the token is checked first
    for path, body in (("/v1/policies/aputure/decide", b"{"), ("/v1/policies/nothing/decide", b"{}")):
        answer = httpx.post(guarded.url + path, content=body, headers={"Authorization": "Bearer nope",
                                                                     "X-Request-Id": "guess-1"})
        assert answer.status_code == 401 and answer.json()["request_id"] == "guess-1"
        assert answer.headers.get_list("x-request-id") == ["guess-1"]
    assert errors() - before == 2


def test_a_token_file_without_tokens_or_missing_is_a_usage_error(tmp_path):
    empty = tmp_path / "tokens"
    empty.write_text("# nothing yet\n\n")
    result = run("serve", POLICIES, "--token-file", empty)
    assert result.code == 64 and "holds no token" in result.err
    result = run("serve", POLICIES, "--token-file", tmp_path / "absent")
    assert result.code == 64 and "cannot read the token file" in result.err


@pytest.mark.parametrize("token", ["caf\u00e9-token", "tab\tinside", "\u201cquoted\u201d"])
def test_a_token_no_client_could_send_is_a_usage_error(tmp_path, token):
    """A bearer token is printable ASCII (RFC 6750): one that is not could never be accepted."""
    tokens = tmp_path / "tokens"
    import subprocess
    import sys

    tokens.write_text(f"good-token\n{token}\n", encoding="utf-8")
    # a process of its own, held to a time: a server that took the file would serve until stopped
    result = subprocess.run([sys.executable, "-m", "rplang.cli", "serve", str(POLICIES / "aputure.rpl"), "--port",
                             str(free_port()), "--token-file", str(tokens)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 64 and f"{tokens}, line 2: a token is printable ASCII" in result.stderr, result.stderr


def test_a_log_db_that_cannot_be_a_log_is_a_usage_error(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    result = run("serve", POLICIES, "--log-db", junk)
    assert result.code == 64 and "cannot be a decision log" in result.err


def test_another_program_s_database_is_not_made_a_log(tmp_path):
    """Its journal was switched to WAL and the log's tables added to it."""
    import sqlite3
    import subprocess
    import sys

    other = tmp_path / "shop.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE customers (id INTEGER, name TEXT)")
    connection.close()
    # a process of its own, held to a time: a server that took the file would serve until stopped
    result = subprocess.run([sys.executable, "-m", "rplang.cli", "serve", str(POLICIES / "aputure.rpl"), "--port",
                             str(free_port()), "--log-db", str(other)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 64, result.stderr
    assert (f"--log-db {other}: cannot be a decision log: another program's database (its tables: customers); "
            "name a file of its own") in result.stderr
    connection = sqlite3.connect(other)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert [name for (name,) in connection.execute("SELECT name FROM sqlite_master")] == ["customers"]
    connection.close()

def test_a_log_db_that_is_a_pipe_is_refused_as_no_file(tmp_path):
    pipe = tmp_path / "decisions.db"
    os.mkfifo(pipe)
    result = run("serve", POLICIES, "--log-db", pipe)
    assert result.code == 64 and f"--log-db {pipe}: cannot be a decision log: a pipe, not a file" in result.err
    assert os.listdir(tmp_path) == ["decisions.db"]
    result = run("log", pipe)
    assert result.code == 1 and result.err == f"{pipe}: error: not a decision log: a pipe, not a file\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device needs root")
def test_a_log_db_that_is_a_device_is_refused_and_nothing_is_left_beside_it(tmp_path):
    """SQLite opened /dev/null, failed on it, and left /dev/null-journal."""
    for name, minor in (("null", 3), ("full", 7)):
        device = tmp_path / name
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        result = run("serve", POLICIES, "--log-db", device)
        assert result.code == 64, result
        assert f"--log-db {device}: cannot be a decision log: a device or a socket, not a file" in result.err
        assert run("log", device, "--retain-days", "1").code == 1
    assert sorted(os.listdir(tmp_path)) == ["full", "null"]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    server = Server(POLICIES / "aputure.rpl", "--no-watch", "--workers", "2", log_dir=tmp_path_factory.mktemp("workers"))
    yield server
    server.stop()


def test_concurrent_clients_from_several_threads_get_the_answers_a_single_client_gets(two_workers):
    with httpx.Client(base_url=two_workers.url, timeout=60) as client:
        single = [client.post("/v1/policies/aputure/decide", content=body) for body in REQUESTS]
    expected = [(a.status_code, a.content) for a in single]
    assert sum(status == 200 for status, _ in expected) > 70
    failures: list[str] = []

    def client_thread(seed: int):
        order = list(range(len(REQUESTS)))
        random.Random(seed).shuffle(order)
        with httpx.Client(base_url=two_workers.url, timeout=60) as client:
            for i in order:
                answer = client.post("/v1/policies/aputure/decide", content=REQUESTS[i])
                if (answer.status_code, answer.content) != expected[i] and \
                        not _same_problem(answer, expected[i]):
                    failures.append(f"thread {seed}, request {i}: {answer.status_code}")

    threads = [threading.Thread(target=client_thread, args=(seed,)) for seed in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert failures == []


def _same_problem(answer: httpx.Response, expected: tuple) -> bool:
    """A refusal is the same refusal whatever its request id and instance."""
    import json

    status, body = expected
    if answer.status_code != status or status == 200:
        return False
    mine, theirs = answer.json(), json.loads(body)
    for data in (mine, theirs):
        data.pop("request_id")
    return mine == theirs
