"""`rpl serve --workers 2`: `/metrics` adds up both workers' counts whichever answers a scrape,
keeps a killed worker's counts, and its folder is the server's own; both workers' decisions
reach one decision log."""
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
from prometheus_client.multiprocess import MultiProcessCollector

from tests.conftest import APUTURE_REQUESTS, POLICIES

from .server import Server, wait_for
from .test_metrics import samples, value

REQUESTS = [path.read_bytes() for path in sorted(APUTURE_REQUESTS.glob("*.json"))[:12]]
CLIENTS, ROUNDS = 4, 5


def send_concurrently(url: str) -> dict:
    """Every request of REQUESTS, ROUNDS times, from CLIENTS clients at once, and a 400, a 404
    and a 422 a round: the decisions counted by outcome, the other answers by status."""
    counted: dict = {}
    lock = threading.Lock()

    def client_thread():
        for _ in range(ROUNDS):  # a connection a round: the kernel gives each to either worker
            with httpx.Client(base_url=url, timeout=60) as client:
                answers = [client.post("/v1/policies/aputure/decide", content=body) for body in REQUESTS]
                answers.append(client.post("/v1/policies/aputure/decide", content=b"{"))
                answers.append(client.post("/v1/policies/none/decide", content=b"{}"))
                answers.append(client.post("/v1/policies/aputure/decide", content=b"{}"))  # refused
                with lock:
                    for answer in answers:
                        key = answer.json()["outputs"]["outcome"] if answer.status_code == 200 else answer.status_code
                        counted[key] = counted.get(key, 0) + 1

    threads = [threading.Thread(target=client_thread) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return counted


def decisions_total(server: Server) -> float:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        return sum(v for (name, _), v in samples(client).items() if name == "rpl_decisions_total")


def metrics_folder(tmp: Path) -> Path:
    (folder,) = tmp.glob("rpl-serve-metrics-*")
    return folder


def counted_by_worker(folder: Path, family: str) -> dict[int, float]:
    """Each worker's own count of `family` (rpl_decisions, rpl_request_errors), read from its own
    file with the client's collector."""
    found = {}
    for file in folder.glob("counter_*.db"):
        families = {f.name: f for f in MultiProcessCollector.merge([str(file)])}
        counted = families.get(family)
        found[int(file.stem.split("_")[1])] = sum(s.value for s in counted.samples) if counted else 0.0
    return found


def all_counted(folder: Path, counted: dict) -> dict[int, float]:
    """Each worker's decisions, once the workers' files hold every answer of `counted` (decisions
    by outcome, errors by status), within a tenth of a second: a worker's last answer, an error,
    may be moved there after the decisions are."""
    decided = sum(count for key, count in counted.items() if isinstance(key, str))
    errors = sum(count for key, count in counted.items() if not isinstance(key, str))

    def done():
        if sum(counted_by_worker(folder, "rpl_request_errors").values()) != errors:
            return None
        found = counted_by_worker(folder, "rpl_decisions")
        return found if sum(found.values()) == decided else None
    return wait_for(done)


def live_workers(folder: Path) -> set[int]:
    """The workers with a gauge of policies loaded: live ones (a dead one's goes with it)."""
    return {int(file.stem.split("_")[2]) for file in folder.glob("gauge_livemin_*.db")}


def test_metrics_add_up_every_worker_and_keep_a_killed_workers_counts(tmp_path, tmp_folder):
    server = Server(POLICIES, "--no-watch", "--workers", "2", log_dir=tmp_path, env={"TMPDIR": str(tmp_folder)})
    try:
        folder = metrics_folder(tmp_folder)
        counted = send_concurrently(server.url)
        decided = sum(count for key, count in counted.items() if isinstance(key, str))
        assert decided >= CLIENTS * ROUNDS * 2 and counted[400] == counted[404] == counted[422] == CLIENTS * ROUNDS
        by_worker = all_counted(folder, counted)
        assert len(by_worker) == 2 and all(by_worker.values())  # both workers answered some

        def check(found: dict) -> None:
            for outcome in (key for key in counted if isinstance(key, str)):
                assert value(found, "rpl_decisions_total", policy="aputure", outcome=outcome) == counted[outcome]
            assert sum(v for (name, _), v in found.items() if name == "rpl_decisions_total") == decided
            assert value(found, "rpl_decision_seconds_count", policy="aputure", format="json") == decided
            assert value(found, "rpl_decision_seconds_bucket", policy="aputure", format="json", le="+Inf") == decided
            for status in (400, 404, 422):
                assert value(found, "rpl_request_errors_total", status=str(status)) == counted[status]
            assert value(found, "rpl_policies_loaded") == 7  # the same in each worker: not added up

        def scrapes() -> None:
            for _ in range(10):  # each on a new connection: either worker answers
                with httpx.Client(base_url=server.url, timeout=30) as client:
                    check(samples(client))

        scrapes()
        killed = min(by_worker)
        os.kill(killed, signal.SIGKILL)  # uvicorn starts another in its place
        # its live gauge dropped, and the new worker's there
        wait_for(lambda: len(live_workers(folder) - {killed}) == 2 and killed not in live_workers(folder),
                 seconds=30)
        scrapes()  # its counts stay
        for key, count in send_concurrently(server.url).items():
            counted[key] += count
        decided = sum(count for key, count in counted.items() if isinstance(key, str))
        assert len(all_counted(folder, counted)) == 3  # the killed worker's file, and the two live ones'
        scrapes()
    finally:
        assert server.stop() == 0
    assert not list(tmp_folder.iterdir())  # the metrics folder is removed with the server


def test_two_servers_never_share_their_metrics(tmp_path, tmp_folder):
    servers = [Server(POLICIES / "aputure.rpl", "--no-watch", "--workers", "2", log_dir=tmp_path,
                      env={"TMPDIR": str(tmp_folder)}) for _ in range(2)]
    try:
        assert len(list(tmp_folder.glob("rpl-serve-metrics-*"))) == 2
        body = (APUTURE_REQUESTS / "01-window-day-14.json").read_bytes()
        httpx.post(f"{servers[0].url}/v1/policies/aputure/decide", content=body, timeout=30)
        wait_for(lambda: decisions_total(servers[0]) == 1)  # within a tenth of a second, whichever worker
        assert decisions_total(servers[1]) == 0
    finally:
        for server in servers:
            server.stop()


def test_an_inherited_multiprocess_folder_is_not_used(tmp_path):
    """`--workers 1` counts in its own process, whatever PROMETHEUS_MULTIPROC_DIR the shell has."""
    outside = tmp_path / "outside"
    outside.mkdir()
    server = Server(POLICIES / "aputure.rpl", "--no-watch", log_dir=tmp_path,
                    env={"PROMETHEUS_MULTIPROC_DIR": str(outside)})
    try:
        body = (APUTURE_REQUESTS / "01-window-day-14.json").read_bytes()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            client.post("/v1/policies/aputure/decide", content=body)
            assert value(samples(client), "rpl_decision_seconds_count", policy="aputure", format="json") == 1
    finally:
        server.stop()
    assert not list(outside.iterdir())


def test_both_workers_decisions_are_all_in_one_decision_log(tmp_path, tmp_folder):
    log_db = tmp_path / "decisions.db"
    server = Server(POLICIES, "--no-watch", "--workers", "2", "--log-db", str(log_db), log_dir=tmp_path,
                    env={"TMPDIR": str(tmp_folder)})
    try:
        folder = metrics_folder(tmp_folder)
        counted = send_concurrently(server.url)
        decided = sum(count for key, count in counted.items() if isinstance(key, str))
        by_worker = all_counted(folder, counted)
        assert len(by_worker) == 2 and all(by_worker.values())  # both workers, both writers
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert ("rpl_decision_log_queued_bytes", ()) in samples(client)  # the live workers' queues added up
    finally:
        assert server.stop() == 0
    with sqlite3.connect(log_db) as connection:
        (rows,) = connection.execute("SELECT count(*) FROM decisions").fetchone()
    assert rows == decided
    assert "locked" not in server.log() and "not written" not in server.log(), server.log()


def test_a_policy_change_counts_one_reload_whatever_the_number_of_workers(tmp_path, tmp_folder):
    """Each worker reloads the file that changed; `/metrics` counts the change once, a failed one
    once, and a text put back as it was before as a change of its own."""
    import shutil

    from tests.conftest import APUTURE

    from .test_reload import FEE_15, ORIGINAL

    folder = tmp_path / "policies"
    folder.mkdir()
    policy = folder / "aputure.rpl"
    shutil.copy(APUTURE, policy)
    server = Server(folder, "--workers", "2", log_dir=tmp_path, env={"TMPDIR": str(tmp_folder)})

    def both_workers(needle: str, times: int) -> None:
        """Until both workers' log lines say `needle` (each worker's `times` in all), and their counts are moved."""
        wait_for(lambda: server.log().count(needle) == 2 * times, seconds=30)
        time.sleep(0.5)  # each worker moves its counts every tenth of a second

    def reloads() -> dict:
        found = []
        for _ in range(6):  # each on a new connection: either worker answers
            with httpx.Client(base_url=server.url, timeout=30) as client:
                page = samples(client)
            found.append({result: value(page, "rpl_policy_reloads_total", policy="aputure", result=result)
                          for result in ("ok", "failed")})
        assert all(f == found[0] for f in found), found  # the same, whichever worker answers
        return found[0]

    try:
        wait_for(lambda: server.log().count(f"policy aputure loaded: version 2026.1, {ORIGINAL}") == 2, seconds=30)
        assert reloads() == {"ok": 0, "failed": 0}
        policy.write_text(APUTURE.read_text().replace(FEE_15, "parameter restocking_fee_rate  = 20%"))
        both_workers("policy aputure loaded: version 2026.1, sha256:", 2)
        assert reloads() == {"ok": 1, "failed": 0}
        policy.write_text(APUTURE.read_text().replace(FEE_15, "parameter restocking_fee_rate  = 15 days +"))
        both_workers("policy aputure failed to load", 1)
        assert reloads() == {"ok": 1, "failed": 1}
        policy.write_text(APUTURE.read_text())  # the first text again: a change all the same
        both_workers(f"policy aputure loaded: version 2026.1, {ORIGINAL}", 2)
        assert reloads() == {"ok": 2, "failed": 1}
    finally:
        assert server.stop() == 0
