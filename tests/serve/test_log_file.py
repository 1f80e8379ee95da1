"""The decision log's file deleted, moved away or made impossible while the server runs: the
writer opens FILE anew, with the texts the policies are served with, so every later decision is
recorded and can be replayed; when FILE cannot be created, the decisions lost are counted."""
import json
import os
import shutil

import httpx
import pytest

from tests.cli.conftest import run
from tests.conftest import POLICIES

from .server import Server, wait_for
from .test_decision_log import CORPUS, EXAMPLE, NDJSON

ELECTRONICS = (POLICIES / "electronics" / "requests" / "02-window-day-31-refused.json").read_bytes()


def decide(server, prefix: str, n: int) -> list[str]:
    """`n` single decisions of aputure, and one of electronics; their request ids, in order."""
    ids = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for k in range(n):
            answer = client.post("/v1/policies/aputure/decide", content=EXAMPLE,
                                 headers={"X-Request-Id": f"{prefix}-{k}"})
            assert answer.status_code == 200, answer.text
            ids.append(f"{prefix}-{k}")
        answer = client.post("/v1/policies/electronics/decide", content=ELECTRONICS,
                             headers={"X-Request-Id": f"{prefix}-electronics"})
        assert answer.status_code == 200, answer.text
    return [*ids, f"{prefix}-electronics"]


def logged_ids(db) -> list[str] | None:
    """The request ids in the log, in order; None while FILE is not a log (not created again yet,
    or created and its tables not yet made: a poll may fall between the two)."""
    result = run("log", db)
    if result.code != 0:
        return None
    return [json.loads(line)["request_id"] for line in result.out.splitlines()]


def assert_replays(db, request_id: str) -> None:
    result = run("log", db, "--replay", request_id)
    assert result.code == 0, result.err
    assert json.loads(result.out)["same"] is True


def serving(tmp_path, db) -> Server:
    return Server(POLICIES, "--no-watch", "--log-db", str(db), log_dir=tmp_path)


def test_a_log_deleted_while_serving_is_created_again_with_the_texts_served(tmp_path):
    db = tmp_path / "decisions.db"
    server = serving(tmp_path, db)
    try:
        before = decide(server, "before", 3)
        wait_for(lambda: logged_ids(db) == before)
        os.remove(db)  # as `rm decisions.db` would: the WAL's files stay
        after = decide(server, "after", 20)
        batch = httpx.post(f"{server.url}/v1/policies/aputure/decide?explain=false", content=b"".join(CORPUS[:2]),
                           headers={**NDJSON, "X-Request-Id": "after-batch"})
        assert batch.status_code == 200 and len(batch.text.splitlines()) == 2
    finally:
        assert server.stop() in (0, -15), server.log()
    assert logged_ids(db) == [*after, "after-batch", "after-batch"]
    # the texts were recorded at start-up, in the file deleted: the new file holds them too
    assert_replays(db, "after-0")
    assert_replays(db, "after-electronics")
    assert (f"WARNING rpl.serve: the decision log {db} is no longer the file the server opened (deleted, moved "
            f"or replaced): {db} is opened anew, and the decisions go on in it") in server.log()
    assert "Traceback" not in server.log()


def test_a_log_moved_away_keeps_what_it_had_and_the_name_gets_a_new_file(tmp_path):
    """As logrotate moves a log: the file moved holds every decision made before (SQLite kept the
    last ones in a WAL file of the old name), the old name every decision after."""
    db, rotated = tmp_path / "decisions.db", tmp_path / "decisions.db.1"
    server = serving(tmp_path, db)
    try:
        before = decide(server, "before", 5)
        wait_for(lambda: logged_ids(db) == before)
        os.rename(db, rotated)
        after = decide(server, "after", 5)
    finally:
        assert server.stop() in (0, -15), server.log()
    assert logged_ids(rotated) == before
    assert logged_ids(db) == after
    for log_file, request_id in ((rotated, "before-0"), (db, "after-0"), (db, "after-electronics")):
        assert_replays(log_file, request_id)
    assert f"the decision log {db} is no longer the file the server opened" in server.log()


def test_a_log_moved_away_after_the_last_batch_keeps_what_it_had(tmp_path):
    """No batch comes after the move to notice it (but the check of each second, which may make
    FILE anew, empty): the writer checks the name once more as the server stops, or the decisions
    in the WAL would stay under the old name, the file moved without them."""
    db, rotated = tmp_path / "decisions.db", tmp_path / "decisions.db.1"
    server = serving(tmp_path, db)
    try:
        before = decide(server, "before", 5)
        wait_for(lambda: logged_ids(db) == before)
        os.rename(db, rotated)
    finally:
        assert server.stop() in (0, -15), server.log()
    assert logged_ids(rotated) == before
    assert not db.exists() or logged_ids(db) == []


def log_state(server) -> str:
    """The decision log's state, as `/readyz` tells it."""
    answer = httpx.get(f"{server.url}/readyz", timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["decision_log"]["state"]


def test_a_log_that_cannot_be_created_again_holds_the_decisions_until_it_can_and_nothing_stops(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    db = folder / "decisions.db"
    server = serving(tmp_path, db)
    try:
        before = decide(server, "before", 2)
        wait_for(lambda: logged_ids(db) == before)
        shutil.rmtree(folder)  # its folder removed: FILE cannot be created
        held = decide(server, "held", 4)
        wait_for(lambda: log_state(server) == "failing")
        folder.mkdir()  # the next check, within a second and with no decision to write, creates FILE again
        wait_for(lambda: log_state(server) == "ok")
        assert logged_ids(db) == held  # held meanwhile, none lost
        after = decide(server, "after", 3)
        wait_for(lambda: logged_ids(db) == [*held, *after])
        assert_replays(db, "held-0")
        assert_replays(db, "after-electronics")
        # FILE replaced by a file that is no log: it cannot be opened, and is left as it was
        db.unlink()
        db.write_text("an operator's notes\n")
        decide(server, "lost", 2)
        wait_for(lambda: log_state(server) == "failing")
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    finally:
        assert server.stop() in (0, -15), server.log()
    output = server.log()
    assert (f"ERROR rpl.serve: the decision log {db} cannot be opened anew (unable to open database file): "
            "decisions are not being recorded; they are held in memory, up to 64 MiB, and recorded when it can be "
            "written again (tried at each batch, and every second)") in output
    assert (f"WARNING rpl.serve: the decision log {db} is written again: the 5 decisions held meanwhile are "
            "recorded (0 lost since the server started)") in output
    assert (f"ERROR rpl.serve: the decision log {db} cannot be opened anew (file is not a database): "
            "decisions are not being recorded") in output
    assert f"ERROR rpl.serve: the decision log {db} lacks 3 decisions, which could not be written" in output
    assert db.read_text() == "an operator's notes\n"
    assert "Traceback" not in output


def test_a_new_file_gets_the_texts_of_each_policys_last_two_loads(tmp_path):
    """The last load is what a policy serves; the one before it, what a request still in flight
    when the policy was reloaded decided with. Older texts are not copied into the new file."""
    from rplang.serve.log_file import LogFile
    from rplang.serve.log_store import connect, policy_text

    db = tmp_path / "decisions.db"
    log_file = LogFile(str(db))
    loads = [("sha256:v1", "2026-01-01"), ("sha256:v2", "2026-02-01"), ("sha256:v3", "2026-03-01")]
    for text_hash, day in loads:
        log_file.write([(text_hash, "shop", "shop.rpl", f"{day}T00:00:00.000+00:00", f"text {text_hash}"),
                        (f"{text_hash}-rules", "shop", "rules.rpl", f"{day}T00:00:00.000+00:00", "rules")], [])
    log_file.write([("sha256:other", "other", "other.rpl", "2026-01-01T00:00:00.000+00:00", "other")], [])
    os.remove(db)
    decision = ("2026-03-02T00:00:00.000+00:00", "r-1", None, "shop", None, "sha256:v2", "refuse", None, 0,
                "{}", "{}", "[]")
    log_file.write([], [decision])
    log_file.close()
    connection = connect(str(db))
    kept = {h for (h,) in connection.execute("SELECT text_hash FROM policy_texts")}
    assert kept == {"sha256:v2", "sha256:v2-rules", "sha256:v3", "sha256:v3-rules", "sha256:other"}
    assert policy_text(connection, "sha256:v3") == ("shop.rpl", "text sha256:v3")
    assert connection.execute("SELECT request_id FROM decisions").fetchall() == [("r-1",)]


@pytest.mark.parametrize("how", ["emptied", "copied"])
def test_a_log_emptied_or_written_over_in_place_is_said_in_an_error(tmp_path, how):
    """`: > FILE` or a `cp` onto it keeps the file: the writer cannot follow it (docs/service.md),
    but says so, once, rather than the log being lost without a word."""
    db = tmp_path / "decisions.db"
    server = serving(tmp_path, db)
    try:
        before = decide(server, "before", 3)
        wait_for(lambda: logged_ids(db) == before)
        with open(db, "wb") as file:  # in place: the same inode, as `cp` and `: >` write it
            file.write(b"" if how == "emptied" else b"not a decision log\n" * 300)
        decide(server, "after", 3)
        error = (f"ERROR rpl.serve: the decision log {db} was emptied or written over in place while the server "
                 "has it open")
        wait_for(lambda: error in server.log())
        decide(server, "later", 3)
    finally:
        server.stop()
    assert server.log().count(error) == 1, server.log()  # once, not at each batch


def test_decisions_held_past_the_bound_lose_the_oldest_and_the_rest_are_written_once_they_can_be(tmp_path, monkeypatch):
    from rplang.serve import log_file as module
    from rplang.serve.log_store import connect

    folder = tmp_path / "logs"
    folder.mkdir()
    db = folder / "decisions.db"
    log_file = module.LogFile(str(db))
    text = ("sha256:v1", "shop", "shop.rpl", "2026-01-01T00:00:00.000+00:00", "text")
    log_file.write([text], [])

    def decision(n: int) -> tuple:
        return ("2026-03-02T00:00:00.000+00:00", f"r-{n}", None, "shop", None, "sha256:v1", "refuse", None, 0,
                "{}", "{}", "[]")

    monkeypatch.setattr(module, "HELD_BYTES", 3 * len("{}{}[]"))  # three decisions
    shutil.rmtree(folder)
    log_file.write([], [decision(n) for n in range(5)])
    assert (log_file.state, log_file.held, log_file.lost) == ("failing", 3, 2)
    folder.mkdir()
    log_file.write([], [])  # a check: FILE made anew, what is held written
    assert (log_file.state, log_file.held, log_file.lost) == ("ok", 0, 2)
    log_file.close()
    connection = connect(str(db))
    assert connection.execute("SELECT request_id FROM decisions").fetchall() == [("r-2",), ("r-3",), ("r-4",)]
    assert connection.execute("SELECT text_hash FROM policy_texts").fetchall() == [("sha256:v1",)]


def test_a_log_is_marked_with_an_identity_once_and_a_log_made_before_marks_is_left_as_it_was(tmp_path):
    import sqlite3

    from rplang.serve.log_file import stamp
    from rplang.serve.log_store import SCHEMA, connect

    new, other, old = tmp_path / "new.db", tmp_path / "other.db", tmp_path / "old.db"
    first, second = connect(str(new)), connect(str(new))  # two writers of one file: one identity
    identity = stamp(new.read_bytes()[:100])  # in the file itself, not only in its WAL
    assert identity is not None and identity[4:] == b"rpld"
    assert first.execute("PRAGMA user_version").fetchone() == second.execute("PRAGMA user_version").fetchone()
    connect(str(other)).close()
    assert stamp(other.read_bytes()[:100]) not in (None, identity)
    with sqlite3.connect(old) as connection:  # a log of an rpl before marks
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(SCHEMA)
    connect(str(old)).close()
    assert stamp(old.read_bytes()[:100]) is None
