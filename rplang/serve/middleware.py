"""What every request goes through: a request id, the bearer token, and faults answered as 500.

One pure ASGI middleware, so that it wraps streamed answers too. The request id is the client's
`X-Request-Id` when it is a sensible one, else a new one; it is echoed in the answer, written to
the decision log, and named in every problem document, so a 500 can be found in the server's log.
"""
from __future__ import annotations

import hmac
import itertools
import logging
import re
import uuid

from . import problems

log = logging.getLogger("rpl.serve")

_GOOD_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
OPEN_PATHS = frozenset({"/healthz", "/readyz"})  # for load balancers, which hold no token


_PROCESS = uuid.uuid4().hex[:20]  # unique to this process; a counter tells its requests apart
_counter = itertools.count(1)


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    for key, value in headers:
        if key == b"x-request-id":
            text = value.decode("latin-1")
            if _GOOD_ID.fullmatch(text):
                return text
            break
    return f"{_PROCESS}{next(_counter):012x}"  # 32 hex digits, as a uuid; no system call per request


class RequestContext:
    def __init__(self, app, tokens: frozenset[str] | None = None, on_error=None):
        self.app = app
        self.tokens = tokens
        self.on_error = on_error or (lambda status: None)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = request_id_of(scope["headers"])
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode("latin-1"))
        started = False

        async def send_with_id(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), id_header]
                if message["status"] >= 400:
                    self.on_error(message["status"])
            await send(message)

        if self.tokens is not None and scope["path"] not in OPEN_PATHS and not self._authorized(scope):
            answer = problems.response(401, "send `Authorization: Bearer TOKEN` with a token the server "
                                       "accepts", request_id, scope["path"],
                                       headers={"WWW-Authenticate": 'Bearer realm="rpl"'})
            return await answer(scope, receive, send_with_id)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request %s (%s %s) failed", request_id, scope["method"], scope["path"])
            if not started:  # else the answer is cut short: the client sees an incomplete body
                answer = problems.response(500, f"the server failed; quote request id {request_id} "
                                           "to find it in the server's log", request_id, scope["path"])
                await answer(scope, receive, send_with_id)

    def _authorized(self, scope) -> bool:
        for key, value in scope["headers"]:
            if key == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer":
                    return False
                token = token.strip()
                # compare with every token, in constant time, so timing tells nothing
                return any([hmac.compare_digest(token.encode(), t.encode()) for t in self.tokens])
        return False
