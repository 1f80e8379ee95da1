"""The decision log over a real server: every decision recorded, `rpl log` queries and replays it,
and a SIGTERM in the middle of a batch loses no decision a client received."""
import datetime
import json
import os
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import run
from tests.conftest import APUTURE_REQUESTS, POLICIES

from .server import Server, wait_for
from .test_metrics import samples, value

NDJSON = {"Content-Type": "application/x-ndjson"}
CORPUS = (POLICIES / "aputure" / "corpus.jsonl").read_bytes().splitlines(keepends=True)
EXAMPLE = (APUTURE_REQUESTS / "00-semantics-example.json").read_bytes()


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    folder = tmp_path_factory.mktemp("logged")
    server = Server(POLICIES, "--no-watch", "--log-db", str(folder / "decisions.db"), log_dir=folder)
    yield server, folder / "decisions.db"
    server.stop()


def entries(db, *args) -> list[dict]:
    result = run("log", db, *args)
    assert result.code == 0, result.err
    return [json.loads(line) for line in result.out.splitlines()]


def copy_of(db, tmp_path):
    """A copy of the server's log, for a test that changes it."""
    copy = tmp_path / "copy.db"
    with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return copy


def count(db) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT count(*) FROM decisions").fetchone()[0]


def test_every_decision_is_logged_with_what_made_it(logged):
    server, db = logged
    answer = httpx.post(f"{server.url}/v1/policies/aputure/decide", content=EXAMPLE,
                        headers={"X-Request-Id": "single-1"})
    batch = httpx.post(f"{server.url}/v1/policies/aputure/decide?explain=false", content=b"".join(CORPUS[:5]) + b"{\n",
                       headers={**NDJSON, "X-Request-Id": "batch-1"})
    assert answer.status_code == batch.status_code == 200
    found = wait_for(lambda: len(entries(db, "--request-id", "batch-1")) == 5 and entries(db, "--request-id", "single-1"))
    (single,) = found
    assert single["policy"] == "aputure" and single["version"] == answer.headers["rpl-policy-version"]
    assert single["text_hash"] == answer.headers["rpl-policy-hash"]
    assert single["outputs"] == answer.json()["outputs"] and single["outcome"] == answer.json()["outputs"]["outcome"]
    assert single["rules"] == [e["rule"] for e in answer.json()["explanation"]]
    assert json.loads(single["request"]) == json.loads(EXAMPLE) and single["line"] is None
    assert single["time"].endswith("+00:00") and single["partial"] is False
    explained = httpx.post(f"{server.url}/v1/policies/aputure/explain", content=EXAMPLE,
                           headers={"X-Request-Id": "explain-1"})
    assert explained.status_code == 200
    (said,) = wait_for(lambda: entries(db, "--request-id", "explain-1"))
    assert said["outputs"] == single["outputs"] and said["rules"] == single["rules"]
    from tests.residual.conftest import before_inspection

    pending = httpx.post(f"{server.url}/v1/policies/aputure/decide?partial=true", headers={"X-Request-Id": "partial-1"},
                         json=before_inspection(json.loads(EXAMPLE)))
    (residual,) = wait_for(lambda: entries(db, "--request-id", "partial-1"))
    assert residual["partial"] is True and residual["outcome"] == "pending"
    assert residual["outputs"] == pending.json()["outputs"]
    assert residual["rules"] == [e["rule"] for e in pending.json()["explanation"]]
    lines = entries(db, "--request-id", "batch-1")
    assert [e["line"] for e in lines] == [1, 2, 3, 4, 5]  # line 6 was not a request: not a decision
    assert [e["outputs"] for e in lines] == [json.loads(x)["outputs"] for x in batch.text.splitlines()[:5]]


def test_queries_by_policy_outcome_and_time(logged):
    server, db = logged
    httpx.post(f"{server.url}/v1/policies/electronics/decide", headers={"X-Request-Id": "elec-1"},
               content=(POLICIES / "electronics" / "requests" / "02-window-day-31-refused.json").read_bytes())
    wait_for(lambda: entries(db, "--request-id", "elec-1"))
    electronics = entries(db, "--policy", "electronics")
    assert [e["request_id"] for e in electronics] == ["elec-1"] and electronics[0]["outcome"] == "refuse"
    refused = entries(db, "--outcome", "refuse")
    assert refused and all(e["outcome"] == "refuse" for e in refused)
    everything = entries(db)
    assert entries(db, "--since", "2000-01-01", "--until", "2999-01-01") == everything
    assert entries(db, "--until", "2000-01-01") == []
    assert entries(db, "--limit", "2") == everything[:2]


def test_replay_decides_again_with_the_recorded_text(logged):
    server, db = logged
    httpx.post(f"{server.url}/v1/policies/aputure/decide", content=EXAMPLE, headers={"X-Request-Id": "replay-1"})
    (entry,) = wait_for(lambda: entries(db, "--request-id", "replay-1"))
    for key in ("replay-1", str(entry["id"])):
        result = run("log", db, "--replay", key)
        assert result.code == 0, result.err
        replayed = json.loads(result.out)
        assert replayed["same"] is True and replayed["replayed"] == entry["outputs"]
        assert replayed["decision"]["outputs"] == entry["outputs"]
    assert run("log", db, "--replay", "no-such-decision").code == 64


def test_replay_of_a_residual_as_of_a_date_decides_it_as_of_that_date(logged):
    from tests.residual.conftest import before_inspection

    server, db = logged
    request = before_inspection(json.loads(EXAMPLE))
    answer = httpx.post(f"{server.url}/v1/policies/aputure_holidays/decide?partial=true&as_of=2026-04-01",
                        json=request, headers={"X-Request-Id": "replay-as-of"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["residual"]["ranges"]["restocking_fee"]["max"] == "283.50"  # April's 15%, not 10%
    (entry,) = wait_for(lambda: entries(db, "--request-id", "replay-as-of"))
    assert entry["as_of"] == "2026-04-01" and entry["partial"] is True
    replayed = json.loads(run("log", db, "--replay", "replay-as-of").out)
    assert replayed["same"] is True
    assert replayed["decision"]["residual"] == answer.json()["residual"]


def test_replay_says_when_the_text_is_gone_and_when_the_outputs_differ(logged, tmp_path):
    server, db = logged
    httpx.post(f"{server.url}/v1/policies/aputure/decide", content=EXAMPLE, headers={"X-Request-Id": "gone-1"})
    (entry,) = wait_for(lambda: entries(db, "--request-id", "gone-1"))
    copy = copy_of(db, tmp_path)
    with sqlite3.connect(copy) as target:
        target.execute("UPDATE decisions SET outputs = '{}' WHERE request_id = 'gone-1'")
    different = run("log", copy, "--replay", "gone-1")
    assert different.code == 3 and "the outputs differ from those recorded" in different.err
    with sqlite3.connect(copy) as target:
        target.execute("DELETE FROM policy_texts")
    gone = run("log", copy, "--replay", "gone-1")
    assert gone.code == 1
    assert f"the text of aputure {entry['text_hash']} is no longer in the log" in gone.err


def test_retention_deletes_old_decisions_and_the_texts_they_alone_needed(logged, tmp_path):
    server, db = logged
    httpx.post(f"{server.url}/v1/policies/aputure/decide", content=EXAMPLE, headers={"X-Request-Id": "old-1"})
    wait_for(lambda: entries(db, "--request-id", "old-1"))
    copy = copy_of(db, tmp_path)
    with sqlite3.connect(copy) as target:
        target.execute("UPDATE decisions SET time = '2020-01-01T00:00:00.000+00:00' WHERE id = 1")
        target.execute("UPDATE policy_texts SET loaded_at = '2020-01-01T00:00:00.000+00:00'")
        served = {row[0] for row in target.execute("SELECT text_hash FROM policy_texts")}
        # an older text of a served file, which no decision names
        target.execute("INSERT INTO policy_texts SELECT 'sha256:older', policy, file, '2019-01-01T00:00:00.000+00:00', "
                       "'an older text' FROM policy_texts WHERE policy = 'mixed_store'")
    kept = count(copy) - 1
    result = run("log", copy, "--retain-days", "30")
    assert result.code == 0 and result.err.startswith("deleted 1 decision made before")
    assert result.err.endswith("and 1 policy text\n")
    assert count(copy) == kept
    with sqlite3.connect(copy) as target:  # the texts the server serves are kept, decided or not
        assert {row[0] for row in target.execute("SELECT text_hash FROM policy_texts")} == served


def test_a_file_that_is_not_a_log(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 100)
    result = run("log", junk)
    assert result.code == 1 and "not a decision log" in result.err and "Traceback" not in result.err


def test_since_and_until_take_a_time_as_the_log_writes_it(logged):
    """A time copied from an entry (milliseconds, an offset), with a `Z`, in another zone, or
    to the minute: each is the moment it names, in UTC."""
    server, db = logged
    httpx.post(f"{server.url}/v1/policies/aputure/decide", content=EXAMPLE, headers={"X-Request-Id": "when-1"})
    (entry,) = wait_for(lambda: entries(db, "--request-id", "when-1"))
    moment = entry["time"]  # e.g. 2026-12-03T13:14:00.029+00:00
    assert entry in entries(db, "--since", moment) and entry not in entries(db, "--until", moment)
    assert entry in entries(db, "--since", moment.replace("+00:00", "Z"))
    east = datetime.datetime.fromisoformat(moment).astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    assert entry in entries(db, "--since", east.isoformat()) and entry not in entries(db, "--until", east.isoformat())
    minute = moment[:16]  # to the minute: the entry is made at or after it
    assert entry in entries(db, "--since", minute) and entry not in entries(db, "--until", minute)
    ahead = run("log", db, "--since", f"{moment[:19]}-01:00")  # an hour west: an hour later in UTC
    assert ahead.code == 0 and "when-1" not in ahead.out


@pytest.mark.parametrize("since, until", [("2026-03-01", "2026-02-01"), ("2026-03-01T10:00:00", "2026-03-01")])
def test_a_time_range_that_ends_before_it_begins_is_a_usage_error(logged, since, until):
    _, db = logged
    result = run("log", db, "--since", since, "--until", until)
    assert result.code == 64 and "--until" in result.err and "before --since" in result.err


@pytest.mark.parametrize("when", ["yesterday", "2026-13-01", "03/01/2026"])
def test_a_time_that_is_not_a_time_is_a_usage_error(logged, when):
    _, db = logged
    result = run("log", db, "--since", when)
    assert result.code == 64 and f"'{when}'" in result.err and "ISO 8601" in result.err
    assert "Traceback" not in result.err


def test_retention_of_more_days_than_the_calendar_holds_deletes_nothing(logged, tmp_path):
    server, db = logged
    httpx.post(f"{server.url}/v1/policies/aputure/decide", content=EXAMPLE, headers={"X-Request-Id": "kept-1"})
    wait_for(lambda: entries(db, "--request-id", "kept-1"))
    copy = copy_of(db, tmp_path)
    kept = count(copy)
    result = run("log", copy, "--retain-days", "99999999999")
    assert result.code == 0, result.err
    assert result.err.startswith("deleted 0 decisions") and count(copy) == kept


def test_a_log_busy_for_longer_than_rpl_log_waits_is_an_error_not_a_crash(logged, tmp_path, monkeypatch):
    from rplang.serve import log_store

    _, db = logged
    copy = copy_of(db, tmp_path)
    monkeypatch.setattr(log_store, "BUSY_SECONDS", 0.1)  # rather than half a minute
    holder = sqlite3.connect(copy, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer, in the middle of its transaction
    try:
        result = run("log", copy, "--retain-days", "1")
    finally:
        holder.close()
    assert result.code == 1 and f"{copy}: error: database is locked" in result.err, result.err
    assert "internal error" not in result.err


def test_ids_and_limits_beyond_sqlites_integers(logged):
    _, db = logged
    huge = "9" * 30
    result = run("log", db, "--replay", huge)
    assert result.code == 64 and f"no decision {huge} in the log" in result.err
    assert run("log", db, "--limit", huge).code == 0
    assert run("log", db, "--replay", "\u0663").code == 64  # a digit, but not one of an id


def test_reading_a_file_that_is_not_a_log_leaves_it_as_it_was(tmp_path):
    """`rpl log` reads: it makes no tables in an empty file, or in another program's database."""
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, total TEXT)")
    missing = run("log", tmp_path / "missing.db")
    assert missing.code == 64 and "does not exist" in missing.err and not (tmp_path / "missing.db").exists()
    for file in (empty, other):
        before = file.read_bytes()
        for args in ((), ("--retain-days", "1"), ("--replay", "1")):
            result = run("log", file, *args)
            assert result.code == 1 and "not a decision log" in result.err, (file, args, result.err)
        assert file.read_bytes() == before


def test_sigterm_during_a_batch_loses_no_decision_a_client_received(tmp_path):
    db = tmp_path / "decisions.db"
    # a slow disk: decisions are still queued when the signal comes, and must be written then
    server = Server(POLICIES / "aputure.rpl", "--no-watch", "--log-db", str(db), log_dir=tmp_path, patch="slow-log")
    received: list[dict] = []
    singles: list[str] = []
    stop = threading.Event()

    def single_requests():  # other clients, until the server stops answering
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for n in range(10_000):
                if stop.is_set():
                    return
                try:
                    answer = client.post("/v1/policies/aputure/decide", content=EXAMPLE,
                                         headers={"X-Request-Id": f"single-{n}"})
                except httpx.TransportError:
                    return
                if answer.status_code == 200:
                    singles.append(answer.headers["x-request-id"])

    others = threading.Thread(target=single_requests)
    others.start()
    try:
        wait_for(lambda: len(singles) >= 5)  # the other clients are being answered
        body = b"".join(CORPUS * 4)  # 2000 lines: far from done when the signal comes
        with httpx.stream("POST", f"{server.url}/v1/policies/aputure/decide?explain=false", content=body,
                          headers={**NDJSON, "X-Request-Id": "batch-sigterm"}, timeout=60) as answer:
            for line in answer.iter_lines():
                received.append(json.loads(line))
                if len(received) == 50:
                    server.process.send_signal(15)
    finally:
        stop.set()
        others.join(timeout=60)
        code = server.stop()
    # uvicorn shuts down, then ends by the signal it was sent, as a process manager expects
    assert code in (0, -15) and "Application shutdown complete" in server.log(), server.log()
    assert len(received) == 2000  # the batch in flight was answered to its end
    assert singles  # the other clients were answered too, until the server closed
    logged_lines = entries(db, "--request-id", "batch-sigterm")
    assert [e["line"] for e in logged_lines] == list(range(1, 2001))
    assert [e["outputs"] for e in logged_lines] == [r["outputs"] for r in received]
    logged_singles = {e["request_id"] for e in entries(db) if e["request_id"].startswith("single-")}
    assert set(singles) <= logged_singles


def test_a_writer_behind_holds_the_requests_not_an_ever_longer_queue(tmp_path, monkeypatch):
    """A slow disk: the decisions waiting for the writer stay under the bound (200 kB here, 64 MiB
    in service), the answers wait for the writer instead, and every decision is logged."""
    bound = 200_000
    monkeypatch.setenv("RPL_TEST_LOG_QUEUE", str(bound))
    db = tmp_path / "decisions.db"
    server = Server(POLICIES / "aputure.rpl", "--no-watch", "--log-db", str(db), log_dir=tmp_path, patch="slow-log")
    queued: list[int] = []
    done = threading.Event()

    def watch():  # the gauge, read while the batch is decided
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not done.is_set():
                text = client.get("/metrics").text
                queued.append(int(float(text.split("\nrpl_decision_log_queued_bytes ")[1].split()[0])))
                time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        body = b"".join(CORPUS * 2)  # 1000 lines, about 1.3 MB of records: six times the bound
        answer = httpx.post(f"{server.url}/v1/policies/aputure/decide?explain=false", content=body,
                            headers={**NDJSON, "X-Request-Id": "batch-behind"}, timeout=120)
        assert answer.status_code == 200 and len(answer.text.splitlines()) == 1000
    finally:
        done.set()
        watcher.join(timeout=60)
        code = server.stop(timeout=120)
    assert code in (0, -15), server.log()
    assert queued and max(queued) <= bound + 5_000, max(queued)  # a record past the bound at most
    assert "the decision log's writer is" in server.log() and "behind: requests wait for it" in server.log()
    assert len(entries(db, "--request-id", "batch-behind")) == 1000


def writer_done(server, writer: int) -> bool:
    """Whether the decision log's writer has dealt with every decision made (written it, or counted
    it lost): the server holds none for it, so all are in its pipe, and it sleeps, which it does
    only waiting on the pipe for more (one thread, nothing else to wait for). Linux's /proc."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        if value(samples(client), "rpl_decision_log_queued_bytes") != 0:
            return False
    state = Path(f"/proc/{writer}/stat").read_text().rpartition(")")[2].split()[0]
    return state == "S"


def _writer_of(server) -> int:
    """The pid of the decision log's writer process, the server's one child."""
    children = [int(pid) for task in Path(f"/proc/{server.process.pid}/task").iterdir()
                for pid in (task / "children").read_text().split()]
    assert len(children) == 1, children
    return children[0]


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_sigterm_sent_to_the_whole_process_group_still_drains(tmp_path):
    """A process manager may signal every process of the service: the writer is in a process
    group of its own, ignores the signals besides, and writes until the server, shutting down, has
    handed it everything."""
    db = tmp_path / "decisions.db"
    server = Server(POLICIES / "aputure.rpl", "--no-watch", "--log-db", str(db), log_dir=tmp_path)
    try:
        writer = _writer_of(server)
        assert os.getpgid(writer) != os.getpgid(server.process.pid)  # a signal to the server's group misses it

        def ignored() -> int:
            status = open(f"/proc/{writer}/status").read()
            return int(status.split("SigIgn:")[1].split()[0], 16)

        wait_for(lambda: ignored() & (1 << signal.SIGTERM - 1) and ignored() & (1 << signal.SIGINT - 1))
        os.kill(writer, signal.SIGTERM)
        os.kill(writer, signal.SIGINT)
        ids = []
        with httpx.Client(base_url=server.url) as client:
            for n in range(20):
                answer = client.post("/v1/policies/aputure/decide", content=EXAMPLE, headers={"X-Request-Id": f"g-{n}"})
                assert answer.status_code == 200
                ids.append(answer.headers["x-request-id"])
    finally:
        assert server.stop() in (0, -15)
    assert [e["request_id"] for e in entries(db)] == ids


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_what_reached_the_writer_is_written_if_the_server_dies(tmp_path):
    db = tmp_path / "decisions.db"
    server = Server(POLICIES / "aputure.rpl", "--no-watch", "--log-db", str(db), log_dir=tmp_path)
    writer = _writer_of(server)
    with httpx.Client(base_url=server.url) as client:
        for n in range(10):
            assert client.post("/v1/policies/aputure/decide", content=EXAMPLE).status_code == 200
    wait_for(lambda: writer_done(server, writer))  # the ten decisions in the writer's pipe, or written
    server.process.kill()
    server.process.wait()
    wait_for(lambda: not os.path.exists(f"/proc/{writer}") or open(f"/proc/{writer}/stat").read().split()[2] == "Z")
    assert count(db) == 10
