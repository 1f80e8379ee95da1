"""A request's body as the application receives it: held to a deadline (`rpl serve --body-timeout`).

uvicorn sets no deadline on a body: a client that declares a length and then sends slowly, or
not at all, would hold its connection, and the request's coroutine, for as long as it likes. So
every read of a body goes through `Body`, which waits for uvicorn's `receive` under an asyncio
timeout. A single request's body must arrive whole within the deadline of its first read (a
client trickling a byte at a time gains nothing). A batch (NDJSON) is made as its client goes:
there the deadline bounds each wait for more of it, and a deadline of its own
(`rpl serve --batch-timeout`, minutes) bounds the whole batch, so that a client sending a line
just within each wait cannot hold its connection for ever (as a client holding a connection to
nginx by a byte every `client_body_timeout` can).

A body not received in time raises `BodyTimeout`, a 408 problem. `Body` also tells whether the
body has been received whole: an answer that begins before it has (a 408, a 401 or a 404 answered
unread, a batch answering its first lines while the rest comes in) ends its connection
(`middleware.SendWithId`), for what is left of the body is never read, and uvicorn, once a
request is answered, lets a client send the rest of its body for as long as it likes.
"""
from __future__ import annotations

import asyncio
import logging
import types

from .problems import Problem

log = logging.getLogger("rpl.serve")

BODY_TIMEOUT = 30.0  # seconds: a single request's body is a few kB, at most --max-body
# seconds to receive a whole batch: 20,000 requests are decided in under a second; a batch from a
# client that makes its lines as it goes may take minutes, not hours
BATCH_TIMEOUT = 300.0


class BodyTimeout(Problem):
    """A body, the next part of a batch, or a whole batch, not received within its deadline: 408."""

    def __init__(self, seconds: float, batch: bool, whole: bool = False):
        super().__init__(408, f"{_what(batch, whole)} not received within the limit of {seconds:g} s")


class Body:
    """The `receive` of one request, held to `seconds`: for the whole body, or, for a batch (given
    `batch_seconds`), for each wait for more of it, and the whole batch to `batch_seconds`.
    `whole`: whether nothing of the body is left to receive."""

    __slots__ = ("receive", "seconds", "batch", "batch_seconds", "request_id", "whole", "deadline", "batch_deadline")

    def __init__(self, receive, seconds: float, batch_seconds: float | None, request_id: str, declared: bool):
        self.receive, self.seconds, self.batch_seconds, self.request_id = receive, seconds, batch_seconds, request_id
        self.batch = batch_seconds is not None
        self.whole = not declared  # a request without a body has it whole from the start
        self.deadline: float | None = None  # set at the first read (of a batch: at each)
        self.batch_deadline: float | None = None  # of a batch: set at its first read

    async def __call__(self):
        if self.whole:  # after the body, a read waits for the client to go: no deadline on that
            return await self.receive()
        if self.batch:
            now = asyncio.get_running_loop().time()
            if self.batch_deadline is None:
                self.batch_deadline = now + self.batch_seconds
            elif now >= self.batch_deadline:  # whatever its pace: a batch is bounded in time
                self._late(whole=True)
            self.deadline = min(now + self.seconds, self.batch_deadline)
        elif self.deadline is None:
            self.deadline = asyncio.get_running_loop().time() + self.seconds
        # A deadline matters only to a read that waits. Most bodies have come with their headers:
        # uvicorn's `receive` then returns without waiting, and an asyncio timeout (a timer made
        # and cancelled: about 5 µs, some 5% of a single decision) would be spent for nothing. So
        # the read is run up to where it would wait, and held to the deadline from there only.
        reading = self.receive()
        try:
            waiting = reading.send(None)
        except StopIteration as done:
            return self._received(done.value)
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await _going_on(reading, waiting)
        except TimeoutError:
            self._late(whole=self.deadline == self.batch_deadline)
        return self._received(message)

    def _late(self, whole: bool):
        """Log and raise the `BodyTimeout` of the body, or the next part of a batch, or (`whole`) the batch."""
        seconds, option = (self.batch_seconds, "--batch-timeout") if whole else (self.seconds, "--body-timeout")
        log.info("request %s: %s not received within %g s (%s): the connection is closed",
                 self.request_id, _what(self.batch, whole), seconds, option)
        raise BodyTimeout(seconds, self.batch, whole) from None

    def _received(self, message: dict) -> dict:
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.whole = True  # the last of it, or the client is gone
        return message


@types.coroutine
def _going_on(coroutine, waiting):
    """The rest of `coroutine`, which has run (with `send(None)`) up to where it waits for
    `waiting`: it goes on as under `await`, each result it waited for sent into it, and each
    exception thrown into it (a cancellation: its own `finally` clauses run)."""
    while True:
        try:
            result = yield waiting
        except BaseException as error:
            step, value = coroutine.throw, error
        else:
            step, value = coroutine.send, result
        try:
            waiting = step(value)
        except StopIteration as done:
            return done.value


def _what(batch: bool, whole: bool = False) -> str:
    if whole:
        return "the whole batch was"
    return "the next part of the batch was" if batch else "the body was"


def declares_body(content_length: bytes | None, headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a request comes with a body: a `Content-Length` above 0, or a `Transfer-Encoding`."""
    if content_length is not None:
        return content_length.lstrip(b"0") != b""
    return any(key == b"transfer-encoding" for key, _ in headers)
