"""The decision log: every decision recorded in SQLite (WAL), written by a process of its own.

A request makes its row (the outputs' JSON and the rules it names, taken from the JSON its answer
was made of) and puts it on a queue: nothing else happens on the request's path. A thread of the
server wakes every tenth of a second and hands what gathered to the writer process down a pipe,
in one write; the writer (`log_writer`) inserts each batch in one transaction. SQLite's work, and
the interpreter's lock that a thread inserting rows would take back from the requests for every
row it steps, stay out of the server's process: in a thread of the server, the log cost a
decision about 70 µs of the server's processor time.

Closing the log (the server's shutdown, after the requests in flight have been answered) hands
over everything still queued and waits for the writer to commit it; the writer stops only at the
end of its pipe, so no decision that a client received is lost on a graceful shutdown, and what
reached the pipe is written even if the server dies.

The texts of the policies are stored beside the decisions, once per text hash, so that
`rpl log --replay` can decide a request again with the text that decided it.
"""
from __future__ import annotations

import collections
import logging
import pickle
import subprocess
import sys
import threading

import orjson

from .log_store import connect

log = logging.getLogger("rpl.serve")

GATHER_SECONDS = 0.1  # between two hand-overs to the writer
# the writer's command: `python -m rplang.serve.log_writer FILE` (a test runs it under a patch)
WRITER = [sys.executable, "-m", "rplang.serve.log_writer"]


def decision_row(moment: float, request_id: str, line: int | None, policy: str, version: str | None,
                 text_hash: str, as_of, partial: bool, request: bytes, decision, rendered: dict | None) -> tuple:
    """A decision as the writer's row: the outputs and the rules from the JSON the answer was made
    of when there is one (the explanation names the rules; for a residual, those certain)."""
    if rendered is None:  # answered as text (`/explain`): the JSON was never made
        rendered = {"outputs": decision.outputs_json()}
    if "explanation" in rendered or partial:
        rules = [e["rule"] for e in rendered.get("explanation") or decision.explanation()]
    else:
        rules = [a.rule.rule.name for a in decision.applied]
    return (moment, request_id, line, policy, version, text_hash, decision.outcome,
            as_of.isoformat() if as_of else None, int(partial), request, orjson.dumps(rendered["outputs"]), rules)


class DecisionLog:
    """A queue of decisions, the thread that hands them over, and the process that writes them."""

    def __init__(self, path: str):
        self.path = path
        connect(path).close()  # fail now, at start-up, if the file cannot be a log
        self._queue: collections.deque = collections.deque()  # appends and pops are atomic
        self._writer = subprocess.Popen([*WRITER, path], stdin=subprocess.PIPE)
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._hand_over, name="rpl-decision-log", daemon=True)
        self._thread.start()

    def record(self, *decision) -> None:
        """Queue a decision: `decision_row`'s arguments."""
        self._queue.append(("decision", decision_row(*decision)))

    def record_text(self, text_hash: str, policy: str, file: str, loaded_at: str, text: str) -> None:
        self._queue.append(("text", (text_hash, policy, file, loaded_at, text)))

    def close(self) -> None:
        """Hand over everything queued, and wait for the writer to commit it and stop."""
        self._closing.set()
        self._thread.join()
        self._writer.wait()

    def _hand_over(self) -> None:
        pipe = self._writer.stdin
        closing = False
        while not closing:
            # asleep in between: the thread takes the interpreter a few times a second, not per decision
            closing = self._closing.wait(GATHER_SECONDS)
            batch = []
            while self._queue:
                batch.append(self._queue.popleft())
            if not batch:
                continue
            try:
                pickle.dump(batch, pipe, pickle.HIGHEST_PROTOCOL)
                pipe.flush()
            except OSError:  # the writer is gone (its error is in the log): say what is lost
                log.exception("the decision log's writer stopped; %d entries not written", len(batch))
        try:
            pipe.close()  # the end of the pipe: the writer commits what it holds and stops
        except OSError:
            pass
