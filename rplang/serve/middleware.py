"""What every request goes through: a request id, the bearer token, the deadline of its body
(`body.Body`), and faults answered as 500.

One pure ASGI middleware, so that it wraps streamed answers too. The request id is the client's
`X-Request-Id` when it is a sensible one, else a new one; it is echoed in the answer, written to
the decision log, and named in every problem document, so a 500 can be found in the server's log.
A single decision is answered before it (`dispatch.DecisionsFirst`), with these same functions.
"""
from __future__ import annotations

import hmac
import itertools
import logging
import re
import uuid

from . import problems
from .body import BATCH_TIMEOUT, BODY_TIMEOUT, Body, declares_body

log = logging.getLogger("rpl.serve")

_GOOD_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
OPEN_PATHS = frozenset({"/healthz", "/readyz"})  # for load balancers, which hold no token
NDJSON = "application/x-ndjson"  # the media type of a batch, one request (and one answer) per line
_NDJSON = NDJSON.encode()
_CLOSE = b"connection", b"close"


_PROCESS = uuid.uuid4().hex[:20]  # unique to this process; a counter tells its requests apart
_counter = itertools.count(1)


def request_headers(headers: list[tuple[bytes, bytes]]) -> tuple[bytes | None, bytes | None, bytes | None,
                                                                   bytes | None]:
    """The raw values of the four request headers the service reads (`Content-Type`,
    `Content-Length`, `X-Request-Id`, `Authorization`), in one pass over the list. Of a header
    given twice, the first counts, as Starlette reads it (uvicorn refuses two lengths itself)."""
    content_type = length = request_id = authorization = None
    for key, value in headers:
        if key == b"content-type":
            if content_type is None:
                content_type = value
        elif key == b"content-length":
            length = value
        elif key == b"x-request-id":
            if request_id is None:
                request_id = value
        elif key == b"authorization":
            if authorization is None:
                authorization = value
    return content_type, length, request_id, authorization


def is_ndjson(content_type: bytes) -> bool:
    """Whether a `Content-Type` names NDJSON, whatever its parameters and case."""
    if content_type == b"application/json":  # most requests: nothing to split or lower
        return False
    return content_type.split(b";", 1)[0].strip().lower() == _NDJSON


def request_id_from(value: bytes | None) -> str:
    """The client's request id if it sent a sensible one, else a new one."""
    if value is not None:
        text = value.decode("latin-1")
        if _GOOD_ID.fullmatch(text):
            return text
    return f"{_PROCESS}{next(_counter):012x}"  # 32 hex digits, as a uuid; no system call per request


def authorized(tokens: frozenset[str], authorization: bytes | None) -> bool:
    """Whether an `Authorization` header's value is `Bearer` and one of the tokens."""
    if authorization is None:
        return False
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer":
        return False
    token = token.strip()
    # compare with every token, in constant time, so timing tells nothing
    return any([hmac.compare_digest(token.encode(), t.encode()) for t in tokens])


class SendWithId:
    """`send`, with the request id's header added to the answer's start, and an error's status
    counted; `started` tells whether the answer has begun. An answer that begins before `body` is
    received whole closes the connection when it ends: the rest of the body is never read, and
    uvicorn would let the client go on sending it, with no deadline, for as long as it likes."""

    __slots__ = ("send", "id_header", "on_error", "body", "started")

    def __init__(self, send, id_header: tuple[bytes, bytes], on_error, body: Body):
        self.send, self.id_header, self.on_error, self.body, self.started = send, id_header, on_error, body, False

    async def __call__(self, message):
        if message["type"] == "http.response.start":
            self.started = True
            headers = [*message.get("headers", []), self.id_header]
            if not self.body.whole:
                headers.append(_CLOSE)
            message["headers"] = headers
            if message["status"] >= 400:
                self.on_error(message["status"])
        await self.send(message)


def client_gone(request_id: str) -> None:
    """A client that closed its connection before its request was read, or its answer written:
    nothing to answer, and no fault of the server's (not logged as one, not counted as a 500)."""
    log.info("request %s: the client closed the connection", request_id)


def id_header(request_id: str) -> tuple[bytes, bytes]:
    return b"x-request-id", request_id.encode("latin-1")


class RequestContext:
    def __init__(self, app, tokens: frozenset[str] | None = None, on_error=None, body_timeout: float = BODY_TIMEOUT,
                 batch_timeout: float = BATCH_TIMEOUT):
        self.app = app
        self.tokens = tokens
        self.on_error = on_error or (lambda status: None)
        self.body_timeout, self.batch_timeout = body_timeout, batch_timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        content_type, length, given_id, authorization = request_headers(scope["headers"])
        request_id = request_id_from(given_id)
        scope.setdefault("state", {})["request_id"] = request_id
        # held to the deadline for each part of a batch (NDJSON) and to the batch's for all of it,
        # else to the deadline for the whole body
        batch = self.batch_timeout if content_type is not None and is_ndjson(content_type) else None
        body = Body(receive, self.body_timeout, batch, request_id, declares_body(length, scope["headers"]))
        trusted = self.tokens is None or authorized(self.tokens, authorization)
        if not trusted and scope["path"] not in OPEN_PATHS:
            return await self.unauthorized(scope, body, send, request_id)
        # an open path answers anyone, and tells what names the server's files only to the trusted
        scope["state"]["trusted"] = trusted
        await self.answer(self.app, scope, body, send, request_id)

    async def answer(self, app, scope, body: Body, send, request_id: str) -> None:
        """`app`'s answer to the request, with its id; a fault logged and answered 500."""
        send_with_id = SendWithId(send, id_header(request_id), self.on_error, body)
        try:
            await app(scope, body, send_with_id)
        except Exception:
            await self.failed(scope, body, send_with_id, request_id)

    async def failed(self, scope, receive, send_with_id: SendWithId, request_id: str) -> None:
        """After an exception: logged with the request id, and answered 500 unless the answer had
        begun (then the client sees an incomplete body)."""
        log.exception("request %s (%s %s) failed", request_id, scope["method"], scope["path"])
        if not send_with_id.started:
            answer = problems.response(500, f"the server failed; quote request id {request_id} "
                                       "to find it in the server's log", request_id, scope["path"])
            await answer(scope, receive, send_with_id)

    async def unauthorized(self, scope, body: Body, send, request_id: str) -> None:
        answer = problems.response(401, "send `Authorization: Bearer TOKEN` with a token the server "
                                   "accepts", request_id, scope["path"],
                                   headers={"WWW-Authenticate": 'Bearer realm="rpl"'})
        await answer(scope, body, SendWithId(send, id_header(request_id), self.on_error, body))
