"""The decision log: every decision recorded in SQLite (WAL), written by a process of its own.

A request makes its record (the request as received, the outputs' JSON and the names of the
rules applied, from the decision) and puts it on a queue: nothing else happens on the
request's path. A thread of the server wakes every tenth of a second and hands what gathered to
the writer process (`log_writer`) down a pipe, in one write; the writer commits each batch in one
transaction. SQLite's work, and the interpreter's lock that a thread inserting rows takes back
from the requests for every row it steps, stay out of the process that answers requests (in a
thread of the server, the log cost a decision 50 to 150 µs of the server's processor time).

Closing the log (the server's shutdown, after the requests in flight have been answered) hands
over everything still queued and waits for the writer to commit it; the writer stops only at the
end of its pipe, so no decision that a client received is lost on a graceful shutdown, and what
reached the pipe is written even if the server dies.

The texts of the policies are stored beside the decisions, once per text hash, so that
`rpl log --replay` can decide a request again with the text that decided it.

The writer tells its state on its standard output (`log_writer.tell`), read here by a thread of its
own; when the writer is gone (its output ends before the server closes the log, or its pipe
breaks) the state is `stopped`, and the decisions handed over to nobody are counted as lost. With
nothing to hand over for `CHECK_SECONDS`, the hand-over sends an empty batch, so that the writer
looks at FILE, and a log mended while no decision comes (a server no load balancer sends requests
to, because its log is not recording) is found mended.
"""
from __future__ import annotations

import collections
import io
import logging
import subprocess
import sys
import threading
import time

import orjson

from rplang.compiler import types as T

from .log_health import OK, STOPPED
from .log_store import connect
from .log_writer import DECISION, batch, decision_record, text_record

log = logging.getLogger("rpl.serve")

GATHER_SECONDS = 0.1  # between two hand-overs to the writer
CHECK_SECONDS = 1.0  # the longest the writer goes without looking at FILE
# decisions' records made and not yet in the writer's pipe: past this, requests wait for the writer
# (a slow disk must neither lose what a client received nor grow the server's memory without end)
MAX_QUEUED_BYTES = 64 * 1024 * 1024
# the writer's command, given the log's file (a test runs it under a patch)
WRITER = [sys.executable, "-m", "rplang.serve.log_writer"]


def outputs_and_rules(decision, rendered: dict | None, partial: bool, answer: bytes | None = None,
                      answer_opens_with_outputs: bool = False) -> tuple[bytes, list[str]]:
    """The outputs' JSON and the rules a decision names. The outputs come from the dict its answer
    was made of when there is one (`?explain=false`, a residual); a whole decision's answer is
    written without one, and its rules are those applied, the rules its explanation names. For a
    residual, the rules certain, as its explanation names them. With `answer_opens_with_outputs`
    (`opens_with_outputs`), the outputs' JSON is taken from a whole decision's `answer`."""
    if partial:
        outputs = decision.outputs_json() if rendered is None else rendered["outputs"]
        return orjson.dumps(outputs), [e["rule"] for e in (rendered and rendered.get("explanation"))
                                        or decision.explanation()]
    rules = decision.rule_names()
    if rendered is not None:
        return orjson.dumps(rendered["outputs"]), rules
    if answer_opens_with_outputs and answer is not None and answer.startswith(_OUTPUTS_OPEN):
        end = answer.find(_OUTPUTS_END, len(_OUTPUTS_OPEN))
        if end > 0:
            return answer[len(_OUTPUTS_OPEN):end], rules
    return orjson.dumps(decision.outputs_json()), rules


# A whole decision's answer (`Decision.to_json_bytes`) opens with its outputs, byte for byte as
# orjson writes `outputs_json()`, and the explanation after them: taken from there, a logged
# decision's outputs cost a slice rather than their dict and its encoding (1 to 2 µs of the
# server's time a decision, in a loop that decides and logs as it does)
_OUTPUTS_OPEN = b'{"outputs":'
_OUTPUTS_END = b',"explanation":['


def opens_with_outputs(policy) -> bool:
    """Whether the end of a policy's outputs in a whole decision's answer is the first
    `,"explanation":[` after them: the outputs' keys are their names (no record among their values
    brings keys of its own), none of them `explanation`; no text holds a bare `"`."""
    def flat(type_) -> bool:
        if isinstance(type_, (T.ListType, T.SetType)):
            return flat(type_.element)
        if isinstance(type_, T.OptionalType):
            return flat(type_.inner)
        return not isinstance(type_, T.RecordType)
    return "explanation" not in policy.output_types and all(map(flat, policy.output_types.values()))


class DecisionLog:
    """A queue of records, the thread that hands them over, and the process that writes them."""

    def __init__(self, path: str):
        self.path = path
        connect(path).close()  # fail now, at start-up, if the file cannot be a log
        self._queue: collections.deque[bytes] = collections.deque()  # appends and pops are atomic
        # bytes of decisions queued, and of those in the pipe: each counted by one thread only
        # (the event loop's, the hand-over's), so neither count needs a lock
        self._queued_in_all = self._handed_in_all = 0
        self._taken = threading.Event()  # set when records reach the pipe, or the writer is gone
        self._writer_gone = False
        self._opens_with_outputs: dict[str, bool] = {}  # text hash -> opens_with_outputs of its policy
        # what the writer last told (`log_writer.tell`), and the decisions the hand-over could not give it
        self._told = {"state": OK, "lost": 0, "held": 0}
        self._not_handed = 0
        # in a session of its own: a signal to the server's process group (a terminal's Ctrl-C) must
        # not stop it before the server has handed it everything
        self._writer = subprocess.Popen([*WRITER, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0,
                                        start_new_session=True)
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._hand_over, name="rpl-decision-log", daemon=True)
        self._thread.start()
        self._listener = threading.Thread(target=self._listen, name="rpl-decision-log-state", daemon=True)
        self._listener.start()

    def record(self, moment: float, request_id: str, line: int | None, policy: str, version: str | None,
               text_hash: str, as_of, partial: bool, request: bytes, decision, rendered: dict | None,
               answer: bytes | None = None) -> None:
        """Queue a decision, with the JSON its answer was made of if it was, and its answer."""
        opens = self._opens_with_outputs.get(text_hash)
        if opens is None:
            opens = self._opens_with_outputs[text_hash] = opens_with_outputs(decision.policy)
        outputs, rules = outputs_and_rules(decision, rendered, partial, answer, opens)
        columns = (moment, request_id, line, policy, version, text_hash, decision.outcome,
                   as_of.isoformat() if as_of else None, int(partial))
        record = decision_record(columns, request, outputs, orjson.dumps(rules))
        self._queue.append(record)
        self._queued_in_all += len(record)
        if self._queued_in_all - self._handed_in_all > MAX_QUEUED_BYTES:
            self._wait_for_the_writer()

    @property
    def state(self) -> str:
        """Whether the decisions are being recorded (`log_health`)."""
        return STOPPED if self._writer_gone else self._told["state"]

    @property
    def lost(self) -> int:
        """The decisions never to be recorded, since the server started."""
        return self._told["lost"] + self._not_handed

    @property
    def held(self) -> int:
        """The decisions the writer holds for a file that cannot be written, or was written over."""
        return 0 if self._writer_gone else self._told["held"]

    @property
    def queued_bytes(self) -> int:
        """The decisions' bytes not yet handed to the writer."""
        return self._queued_in_all - self._handed_in_all

    def _wait_for_the_writer(self) -> None:
        """Hold the event loop, and with it every request, until the writer has taken the queue
        back under its bound: answers slow down to the disk's pace, as a full pipe slows a filter."""
        log.warning("the decision log's writer is %d bytes behind: requests wait for it", self.queued_bytes)
        while self.queued_bytes > MAX_QUEUED_BYTES and not self._writer_gone:
            self._taken.wait(1.0)
            self._taken.clear()

    def record_text(self, text_hash: str, policy: str, file: str, loaded_at: str, text: str) -> None:
        self._queue.append(text_record(text_hash, policy, file, loaded_at, text))

    def close(self) -> None:
        """Hand over everything queued, and wait for the writer to commit it and stop."""
        self._closing.set()
        self._thread.join()
        self._writer.wait()
        self._listener.join()

    def _listen(self) -> None:
        """What the writer tells, until its output ends: when it ends before the log is closed,
        the writer is gone."""
        for line in io.BufferedReader(self._writer.stdout):  # the pipe is unbuffered: a read a line, not a byte
            try:
                self._told = orjson.loads(line)
            except orjson.JSONDecodeError:  # not the writer's (a patched one's print): not a state
                log.warning("the decision log's writer said what is not a state: %r", line[:200])
        if not self._closing.is_set():
            log.error("the decision log's writer (process %d) stopped: decisions are no longer recorded in %s; "
                      "restart the server", self._writer.pid, self.path)
            self._writer_gone = True
            self._taken.set()

    def _hand_over(self) -> None:
        pipe = self._writer.stdin
        closing, checked = False, time.monotonic()
        while not closing:
            # asleep in between: the thread takes the interpreter a few times a second, not per decision
            closing = self._closing.wait(GATHER_SECONDS)
            records = []
            while self._queue:
                records.append(self._queue.popleft())
            size = sum(len(r) for r in records if r[0] == DECISION)  # as `record` counted them
            if self._writer_gone:  # once the writer is gone, only count what it misses
                self._not_handed += sum(r[0] == DECISION for r in records)
                self._handed_in_all += size
                continue
            if not records and (closing or time.monotonic() - checked < CHECK_SECONDS):
                continue
            # one write of the whole batch: each write to the pipe gives the interpreter up and
            # takes it back from the requests
            data = memoryview(batch(records))
            try:
                while data:
                    data = data[pipe.write(data):]
            except OSError:
                log.exception("the decision log's writer stopped (its error is above)")
                self._not_handed += sum(r[0] == DECISION for r in records)
                self._writer_gone = True  # no request waits for it any more
            checked = time.monotonic()
            self._handed_in_all += size
            self._taken.set()
        # decisions, as the metric counts them (a policy's text handed over meanwhile is none)
        if self._not_handed:
            log.error("the decision log's writer stopped: %d %s not written", self._not_handed,
                      "decision was" if self._not_handed == 1 else "decisions were")
        try:
            pipe.close()  # the end of the pipe: the writer commits what it holds and stops
        except OSError:
            pass
