"""uvicorn's HTTP protocol, answering a request it cannot parse with the service's problem document.

A request line, a header or a body's chunk that httptools (or h11) cannot read never reaches the application:
uvicorn answers it itself, `400` in `text/plain` ("Invalid HTTP request received."), and closes
the connection. Every other error of the service is a problem document (`problems.py`), so
`HTTPProtocol` is uvicorn's own protocol (the one its `http="auto"` takes) with that one answer
made as the service makes its 400s: `application/problem+json`, a request id (the client's
could not be read: a new one), the id in `X-Request-Id`, the connection closed, counted in
`rpl_request_errors_total`. uvicorn calls `send_400_response` for exactly that case, in both of
its parsers' protocols, which stay as they are; the parsing is theirs. A malformed chunk in the
body of a request being answered gets that request's id (or the client's `X-Request-Id`, when
the application has not yet read the request); if its answer has begun (a batch), no
400 is written into the middle of it: the connection is closed, the answer left unfinished.

The answer is counted through the lifespan's state (the ASGI extension): the application's
lifespan puts its counter there under `ERRORS_STATE`, and uvicorn gives every connection's
protocol that state.
"""
from __future__ import annotations

import logging

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from . import problems
from .middleware import id_header, request_headers, request_id_from
from .render import dumps

log = logging.getLogger("rpl.serve")

ERRORS_STATE = "rpl.request_error"  # the lifespan state's key of `Metrics.request_error`
DETAIL = ("the request is not HTTP/1.1 that can be read (a malformed request line, header, or chunk of its "
          "body): the connection is closed")


class HTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's protocol (httptools', else h11's), its 400 for a request it cannot parse a problem document."""

    def send_400_response(self, msg: str) -> None:
        # The request being answered, if the error is in its body (a chunk): uvicorn's own, read
        # only, and when it is not there the error is taken to be in a request of its own
        cycle = getattr(self, "cycle", None)
        if cycle is not None and getattr(cycle, "response_complete", True):
            cycle = None  # the connection's last request, answered: the error is in the next one
        scope = getattr(cycle, "scope", None) or {}
        # its id if the application has given it one yet, else the client's (as it would give it)
        request_id = (scope.get("state") or {}).get("request_id") or \
            request_id_from(request_headers(scope.get("headers") or [])[2])
        if getattr(cycle, "response_started", False):
            # its answer has begun (a batch answering its first lines): a 400 now would be written
            # into the middle of it; the answer ends unfinished, as when the server stops
            self.transport.close()
            log.info("request %s: a chunk of its body is not HTTP/1.1 that can be read: its answer ends unfinished, "
                     "the connection closed", request_id)
            return
        body = dumps(problems.document(400, DETAIL, request_id, None))
        head = [b"HTTP/1.1 400 Bad Request"]
        head += [name + b": " + value for name, value in self.server_state.default_headers]  # date, server
        head += [b"content-type: " + problems.MEDIA_TYPE.encode(), b"content-length: %d" % len(body),
                 b": ".join(id_header(request_id)), b"connection: close"]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()
        log.info("request %s: not HTTP/1.1 that can be read: answered 400, the connection closed", request_id)
        count = self.app_state.get(ERRORS_STATE)
        if count is not None:
            count(400)
