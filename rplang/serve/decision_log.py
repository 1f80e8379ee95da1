"""The decision log: every decision recorded in SQLite (WAL), written in batches off the request path.

A request only puts its decision on a queue; one thread wakes for the first decision, lets more
gather for a tenth of a second, turns them into rows and commits them in one transaction: a few
commits a second however many decisions. Closing the log (the server's shutdown, after the
requests in flight have been answered) writes everything still queued, so no decision that a
client received is lost on a graceful shutdown.

The texts of the policies are stored beside the decisions, once per text hash, so that
`rpl log --replay` can decide a request again with the text that decided it.
"""
from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time

import orjson

from .log_store import connect, log_time

log = logging.getLogger("rpl.serve")

BATCH = 2000  # rows committed at most in one transaction
GATHER_SECONDS = 0.1  # from the first row of a batch to its commit
_CLOSE = object()


def decision_row(entry: tuple) -> tuple:
    """A queued decision as a row; made on the log's thread, not the request's."""
    moment, request_id, line, policy, version, text_hash, as_of, partial, request, decision, rendered = entry
    if rendered is None:  # answered as text (`/explain`): the JSON was never made
        rendered = {"outputs": decision.outputs_json()}
    if "explanation" in rendered or partial:  # the rules it names (for a residual: those certain)
        rules = [e["rule"] for e in rendered.get("explanation") or decision.explanation()]
    else:
        rules = [a.rule.rule.name for a in decision.applied]
    return (log_time(moment), request_id, line, policy, version, text_hash, decision.outcome, as_of, int(partial),
            request.decode("utf-8", "replace"), orjson.dumps(rendered["outputs"]).decode(), orjson.dumps(rules).decode())


class DecisionLog:
    """A queue of decisions and the thread that writes them to a SQLite file."""

    def __init__(self, path: str):
        self.path = path
        connect(path).close()  # fail now, at start-up, if the file cannot be a log
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="rpl-decision-log", daemon=True)
        self._thread.start()

    def record(self, moment: float, request_id: str, line: int | None, policy: str, version: str | None,
               text_hash: str, as_of, partial: bool, request: bytes, decision, rendered: dict | None) -> None:
        """Queue a decision, with the JSON the answer was made of if it was (the row takes what it
        needs from it rather than making it again)."""
        self._queue.put(("decision", (moment, request_id, line, policy, version, text_hash,
                                      as_of.isoformat() if as_of else None, partial, request, decision, rendered)))

    def record_text(self, text_hash: str, policy: str, file: str, loaded_at: str, text: str) -> None:
        self._queue.put(("text", (text_hash, policy, file, loaded_at, text)))

    def close(self) -> None:
        """Write everything queued, then stop."""
        self._queue.put(_CLOSE)
        self._thread.join()

    def _run(self) -> None:
        connection = connect(self.path)
        closing = full = False
        while not closing:
            batch = [self._queue.get()]
            if batch[0] is not _CLOSE and not full:
                # Let the batch gather while asleep: waiting on the queue would wake this thread,
                # and take the interpreter from the requests, for every decision put on it.
                time.sleep(GATHER_SECONDS)
            while len(batch) < BATCH and batch[-1] is not _CLOSE:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            full = len(batch) == BATCH  # more may be waiting: write them without a pause
            closing = any(item is _CLOSE for item in batch)
            batch = [item for item in batch if item is not _CLOSE]
            try:
                self._write(connection, batch)
            except Exception:  # a fault here must not stop the log: say what was lost
                log.exception("the decision log failed to write %d entries", len(batch))
        connection.close()

    @staticmethod
    def _write(connection: sqlite3.Connection, batch: list) -> None:
        texts = [item for kind, item in batch if kind == "text"]
        rows = [decision_row(item) for kind, item in batch if kind == "decision"]
        connection.execute("BEGIN")
        try:
            connection.executemany("INSERT OR IGNORE INTO policy_texts VALUES (?, ?, ?, ?, ?)", texts)
            connection.executemany(
                "INSERT INTO decisions (time, request_id, line, policy, version, text_hash, outcome,"
                " as_of, partial, request, outputs, rules) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
