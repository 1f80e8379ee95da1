"""`POST /v1/policies/{name}/decide` with a JSON body, answered before any other layer.

A single decision is what the service is asked most. Starlette's error and exception middleware
and its router took 15 µs of its processor time under load, and the request-id middleware's
wrapper of `send` and second coroutine about 2 (`benchmarks/README.md`), so the dispatch is the
outermost layer: it reads the request's headers once, gives the request its id, checks the
token, holds the body to its deadline (`body.Body`), and writes the id into the header list the
answer is made with. It does this with the
middleware's own functions (`middleware`), so the answers are the same: a `Problem` is answered
with its problem document, as Starlette's handler answers it; any other exception is logged with
the request id and answered 500. Every other request (an NDJSON batch, another method on the
path, every other path) goes on to the middleware and Starlette's stack; Starlette's route
answers another method with 405.
"""
from __future__ import annotations

from starlette.requests import ClientDisconnect

from . import problems
from .body import Body, declares_body
from .middleware import SendWithId, authorized, client_gone, id_header, is_ndjson, request_headers, request_id_from
from .problems import Problem

_POLICIES, _DECIDE = "/v1/policies/", "/decide"


class DecisionsFirst:
    """`context`, the middleware with Starlette's application in it, with single decisions
    answered first by `decision(scope, receive, name, content_length) -> (body, headers but the
    length and the id)`."""

    __slots__ = ("context", "decision")

    def __init__(self, context, decision):
        self.context, self.decision = context, decision

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            path = scope["path"]
            if path.startswith(_POLICIES) and path.endswith(_DECIDE):
                name = path[len(_POLICIES):-len(_DECIDE)]
                content_type, length, given_id, authorization = request_headers(scope["headers"])
                # the route's `{name}` is one segment; an NDJSON batch is streamed by the route
                if name and "/" not in name and (content_type is None or not is_ndjson(content_type)):
                    # here rather than in a function of its own: a coroutine less a decision
                    context = self.context
                    request_id = request_id_from(given_id)
                    scope.setdefault("state", {})["request_id"] = request_id
                    body = Body(receive, context.body_timeout, None, request_id,
                                declares_body(length, scope["headers"]))
                    if context.tokens is not None and not authorized(context.tokens, authorization):
                        return await context.unauthorized(scope, body, send, request_id)
                    id_ = id_header(request_id)
                    started = False
                    try:
                        # the answer comes once the body is read whole: the connection may stay
                        answer, headers = await self.decision(scope, body, name, length)
                        started = True
                        await send({"type": "http.response.start", "status": 200,
                                    "headers": [(b"content-length", b"%d" % len(answer)), *headers, id_]})
                        await send({"type": "http.response.body", "body": answer})
                    except Problem as problem:  # raised before the answer began
                        await context.answer(_answering(problem), scope, body, send, request_id)
                    except ClientDisconnect:
                        client_gone(request_id)
                    except Exception:
                        send_with_id = SendWithId(send, id_, context.on_error, body)
                        send_with_id.started = started
                        await context.failed(scope, body, send_with_id, request_id)
                    return
        await self.context(scope, receive, send)


def _answering(problem: Problem):
    """An ASGI application answering `problem`, as Starlette's handler answers it (made inside
    the middleware's `answer`, so that a fault in making it is answered 500 too)."""
    async def answer(scope, receive, send):
        await problems.answer(scope, problem)(scope, receive, send)
    return answer
