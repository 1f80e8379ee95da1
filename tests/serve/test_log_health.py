"""The decision log's state, as the service tells it: `/readyz` says it, `/readyz?decision_log=true`
answers 503 with a problem naming the file and what to do while decisions are not recorded, and
`rpl_decision_log_state` is 1 for it; for a log emptied or written over in place (another log
copied onto it too), one that cannot be written (a real write error: the writer may not make a
file larger than 0 bytes), a writer that stopped; and back to OK, with no decision to notice it,
once the file is a log again. With `--workers 2`, whichever worker answers, for both."""
import os
import resource
import shutil
import sys
from pathlib import Path

import httpx
import jsonschema
import pytest

from rplang.serve.log_store import connect
from tests.conftest import POLICIES

from .server import Server, wait_for
from .test_decision_log import EXAMPLE
from .test_log_file import assert_replays, decide, log_state, logged_ids, serving
from .test_metrics import samples, value
from .test_workers import metrics_folder

READY_IF_LOGGING = "/readyz?decision_log=true"
STATES = ("ok", "failing", "written_over", "stopped")
linux = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc, sets a writer's limits")


def readiness(url: str) -> httpx.Response:
    """`/readyz?decision_log=true` on a connection of its own: with several workers, any of them answers."""
    return httpx.get(url + READY_IF_LOGGING, timeout=30)


def states(url: str) -> dict:
    with httpx.Client(base_url=url, timeout=30) as client:
        found = samples(client)
    return {state: value(found, "rpl_decision_log_state", state=state) for state in STATES}


def held(url: str) -> float:
    with httpx.Client(base_url=url, timeout=30) as client:
        return value(samples(client), "rpl_decision_log_held_decisions")


def lost(url: str) -> float:
    with httpx.Client(base_url=url, timeout=30) as client:
        return value(samples(client), "rpl_decision_log_lost_decisions_total")


def assert_unready(answer: httpx.Response, db: Path, state: str) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "urn:rpl:problem:decision-log"
    assert problem["title"] == "decisions are not being recorded"
    assert problem["decision_log"] == {"file": str(db), "state": state}
    assert str(db) in problem["detail"]


def assert_conforms(url: str, body: dict, component: str, headers: dict | None = None) -> None:
    """`body` as `/openapi.json` describes it, its schema `#/components/schemas/COMPONENT`."""
    components = httpx.get(url + "/openapi.json", headers=headers, timeout=30).json()["components"]
    jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{component}", "components": components}).validate(body)


def writers(server: Server) -> list[int]:
    """The decision log's writers: the processes under the server's that run `log_writer`."""
    found, parents = [], [server.process.pid]
    while parents:
        pid = parents.pop()
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in map(int, (task / "children").read_text().split()):
                parents.append(child)
                if b"log_writer" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(child)
    return found


def no_growth(pid: int):
    """From now, process `pid` may write no byte to a file (as on a full disk, its writes fail:
    EFBIG, an I/O error to SQLite); `lift()` gives it back the limit it had."""
    had = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (0, had[1]))
    return lambda: resource.prlimit(pid, resource.RLIMIT_FSIZE, had)


@pytest.mark.parametrize("how", ["emptied", "another log copied onto it"])
def test_a_log_written_over_in_place_is_unready_until_moved_aside(tmp_path, how):
    db = tmp_path / "decisions.db"
    other = tmp_path / "other.db"
    connect(str(other)).close()  # another server's log: SQLite's header in WAL mode, as this log's
    server = serving(tmp_path, db)
    try:
        ready = readiness(server.url)
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "policies": 7, "decision_log": {"file": str(db), "state": "ok"}}
        assert_conforms(server.url, ready.json(), "Readiness")
        assert states(server.url) == {"ok": 1, "failing": 0, "written_over": 0, "stopped": 0}
        assert httpx.get(f"{server.url}/readyz?decision_log=maybe").status_code == 400
        before = decide(server, "before", 3)
        wait_for(lambda: logged_ids(db) == before)
        if how == "emptied":
            db.write_bytes(b"")  # as `: > FILE`: the same file, emptied
        else:
            shutil.copyfile(other, db)  # as `cp`: the same file, written over
        # no decision comes: the writer's check of each second finds it
        answer = wait_for(lambda: (answer := readiness(server.url)).status_code == 503 and answer)
        assert_unready(answer, db, "written_over")
        assert f"mv {db} {db}.damaged" in answer.json()["detail"]
        assert_conforms(server.url, answer.json(), "Problem")
        assert log_state(server) == "written_over"  # without the option: ready, and the state said
        assert httpx.get(f"{server.url}/healthz").status_code == 200  # alive all the same
        assert states(server.url) == {"ok": 0, "failing": 0, "written_over": 1, "stopped": 0}
        meanwhile = decide(server, "meanwhile", 2)  # held, rather than lost in the file written over
        wait_for(lambda: held(server.url) == 3)
        os.rename(db, tmp_path / "decisions.db.damaged")  # the advice followed
        wait_for(lambda: readiness(server.url).status_code == 200)
        assert states(server.url) == {"ok": 1, "failing": 0, "written_over": 0, "stopped": 0}
        assert logged_ids(db) == meanwhile and held(server.url) == 0
        after = decide(server, "after", 3)
        wait_for(lambda: logged_ids(db) == [*meanwhile, *after])
        assert_replays(db, "meanwhile-0")
        assert_replays(db, "after-0")
    finally:
        assert server.stop() in (0, -15), server.log()
    output = server.log()
    reason = ("it no longer begins as an SQLite file in WAL mode" if how == "emptied"
              else "it begins as another decision log")
    assert output.count(f"ERROR rpl.serve: the decision log {db} was emptied or written over in place while the "
                        f"server has it open ({reason})") == 1, output
    assert "Traceback" not in output


@linux
def test_a_log_that_cannot_be_written_holds_its_decisions_is_unready_and_ready_again_once_written(tmp_path):
    db = tmp_path / "decisions.db"
    server = serving(tmp_path, db)
    try:
        (writer,) = writers(server)
        before = decide(server, "before", 2)
        wait_for(lambda: logged_ids(db) == before)
        lift = no_growth(writer)
        try:
            kept = decide(server, "held", 3)
            answer = wait_for(lambda: (answer := readiness(server.url)).status_code == 503 and answer)
            assert_unready(answer, db, "failing")
            assert "cannot be written" in answer.json()["detail"]
            assert states(server.url) == {"ok": 0, "failing": 1, "written_over": 0, "stopped": 0}
            wait_for(lambda: held(server.url) == 4)
            assert logged_ids(db) == before
        finally:
            lift()
        # no decision comes: the check of each second writes what was held
        wait_for(lambda: readiness(server.url).status_code == 200)
        assert logged_ids(db) == [*before, *kept]
        assert lost(server.url) == 0
    finally:
        assert server.stop() in (0, -15), server.log()
    assert (f"WARNING rpl.serve: the decision log {db} is written again: the 4 decisions held meanwhile are recorded "
            "(0 lost since the server started)") in server.log()


@linux
def test_a_writer_that_stopped_is_said_and_its_decisions_counted_lost(tmp_path):
    db = tmp_path / "decisions.db"
    server = serving(tmp_path, db)
    try:
        (writer,) = writers(server)
        os.kill(writer, 9)
        answer = wait_for(lambda: (answer := readiness(server.url)).status_code == 503 and answer)
        assert_unready(answer, db, "stopped")
        assert "restart the server" in answer.json()["detail"]
        decide(server, "lost", 2)  # three decisions, answered
        wait_for(lambda: lost(server.url) == 3)
        assert states(server.url) == {"ok": 0, "failing": 0, "written_over": 0, "stopped": 1}
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    finally:
        server.stop()
    assert f"ERROR rpl.serve: the decision log's writer (process {writer}) stopped" in server.log()


@linux
def test_a_stopped_writers_lost_decisions_are_counted_alike_in_the_log_line_and_the_metric(tmp_path):
    """What the writer missed, counted once, in decisions: a policy's text handed over with them
    (reloaded after the writer stopped) is no decision, in the server's log line as in the metric."""
    folder = tmp_path / "policies"
    folder.mkdir()
    policy = folder / "aputure.rpl"
    shutil.copy(POLICIES / "aputure.rpl", policy)
    server = Server(folder, "--log-db", str(tmp_path / "decisions.db"), log_dir=tmp_path)
    try:
        (writer,) = writers(server)
        os.kill(writer, 9)
        wait_for(lambda: log_state(server) == "stopped")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            before = client.get("/v1/policies").json()["policies"][0]["text_hash"]
            policy.write_text(policy.read_text(encoding="utf-8") + "\n# reloaded\n", encoding="utf-8")
            wait_for(lambda: client.get("/v1/policies").json()["policies"][0]["text_hash"] != before)
            for n in range(3):
                answer = client.post("/v1/policies/aputure/decide", content=EXAMPLE, headers={"X-Request-Id": f"lost-{n}"})
                assert answer.status_code == 200, answer.text
        wait_for(lambda: lost(server.url) == 3)
    finally:
        assert server.stop() in (0, -15), server.log()
    assert "ERROR rpl.serve: the decision log's writer stopped: 3 decisions were not written" in server.log()


def test_with_tokens_readyz_names_the_log_only_to_a_request_with_one(tmp_path):
    """`/readyz` answers load balancers, which hold no token: the state and what to do, without
    the log's path, which is the server's; a request with an accepted token is told the path."""
    db = tmp_path / "decisions.db"
    tokens = tmp_path / "tokens"
    tokens.write_text("portal-token-1\n")
    server = Server(POLICIES, "--no-watch", "--log-db", str(db), "--token-file", str(tokens), log_dir=tmp_path)
    trusted = {"Authorization": "Bearer portal-token-1"}
    try:
        for headers in ({}, {"Authorization": "Bearer portal-token-2"}):  # none, and one not accepted
            answer = httpx.get(server.url + "/readyz", headers=headers, timeout=30)
            assert answer.json() == {"status": "ready", "policies": 7, "decision_log": {"state": "ok"}}
            assert_conforms(server.url, answer.json(), "Readiness", trusted)
        answer = httpx.get(server.url + "/readyz", headers=trusted, timeout=30)
        assert answer.json() == {"status": "ready", "policies": 7, "decision_log": {"file": str(db), "state": "ok"}}
        db.write_bytes(b"")  # as `: > FILE`: the same file, emptied
        answer = wait_for(lambda: (answer := readiness(server.url)).status_code == 503 and answer)
        problem = answer.json()
        assert problem["decision_log"] == {"state": "written_over"}
        assert "decisions.db" not in answer.text and str(tmp_path) not in answer.text
        assert "emptied or written over in place" in problem["detail"]
        assert "`mv FILE FILE.damaged`" in problem["detail"]
        assert problem["detail"].endswith("(FILE: the file the server's --log-db names)")
        assert_conforms(server.url, problem, "Problem", trusted)
        assert_unready(httpx.get(server.url + READY_IF_LOGGING, headers=trusted, timeout=30), db, "written_over")
    finally:
        assert server.stop() in (0, -15), server.log()


def test_without_a_log_readyz_says_nothing_of_one(client):
    assert client.get(READY_IF_LOGGING).json() == {"status": "ready", "policies": 7}
    assert ("rpl_decision_log_state", (("state", "ok"),)) not in samples(client)


@linux
def test_with_two_workers_each_answers_for_both_logs(tmp_path, tmp_folder):
    """One writer cannot write: every answer is 503, whichever worker gives it; then the log
    written over in place, seen by both; both ready again when it is moved aside."""
    db = tmp_path / "decisions.db"
    server = Server(POLICIES, "--no-watch", "--workers", "2", "--log-db", str(db), log_dir=tmp_path,
                    env={"TMPDIR": str(tmp_folder)})

    def answers() -> set:
        """The states of twenty answers, each on a connection of its own (the kernel gives each
        to either worker: both answer, but once in half a million times)."""
        found = set()
        for _ in range(20):
            answer = readiness(server.url)
            found.add(answer.json()["decision_log"]["state"])
        return found

    try:
        metrics_folder(tmp_folder)
        wait_for(lambda: len(writers(server)) == 2)
        one, _ = writers(server)
        assert answers() == {"ok"}
        lift = no_growth(one)
        try:
            # decisions until the writer that cannot write has had some of them
            wait_for(lambda: decide(server, "some", 3) and readiness(server.url).status_code == 503)
            # the other worker reads the failing one's state from the metrics folder, a moment later
            # on a busy machine (a 200 among the twenty, seen in a run on two loaded cores)
            wait_for(lambda: answers() == {"failing"})
            assert states(server.url)["failing"] == 1
        finally:
            lift()
        wait_for(lambda: answers() == {"ok"})
        db.write_bytes(b"")
        wait_for(lambda: answers() == {"written_over"})
        assert_unready(readiness(server.url), db, "written_over")
        os.rename(db, tmp_path / "decisions.db.damaged")
        wait_for(lambda: answers() == {"ok"})
        after = decide(server, "after", 3)
        wait_for(lambda: sorted(logged_ids(db) or []) == sorted(after))
        assert lost(server.url) == 0
    finally:
        assert server.stop() == 0, server.log()
