"""The HTTP endpoints: each parses, calls the library's one decision path, and renders.

A decision is `CompiledPolicy.decide` (or `decide_partial`) on the request, written as `rpl eval`
prints it (`rplang.stream.decision_bytes`, or the dict of `?explain=false` and of a residual); an
NDJSON line goes through `rpl eval --jsonl`'s own functions (`rplang.stream`). Which version and
text made a decision goes in the response headers (`Rpl-Policy`, `Rpl-Policy-Version`,
`Rpl-Policy-Hash`), so the body stays what `rpl eval` prints.
"""
from __future__ import annotations

import datetime
import functools
import logging
import time
from typing import NamedTuple

from starlette.datastructures import QueryParams
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from rplang.compiler.schema import decision_schema, request_schema
from rplang.policy_lang.errors import RequestError, RequestProblem, RplError
from rplang.stream import decision_bytes, line_error_json, line_request
from rplang.terminal import printable

from . import log_health, problems
from .describe import describe_policy, policy_summary
from .body import BodyTimeout
from .middleware import NDJSON, client_gone, is_ndjson, request_headers
from .openapi import openapi_document
from .problems import Problem
from .render import dumps

log = logging.getLogger("rpl.serve")

JSON = "application/json"
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


class Options(NamedTuple):
    """The query options of a decision: `explain`, `partial`, `as_of`."""
    explain: bool = True
    partial: bool = False
    as_of: datetime.date | None = None


def _options(scope) -> Options:
    query = scope["query_string"]
    return _options_of(query) if query else _NO_OPTIONS  # most requests: no options to read


_NO_OPTIONS = Options()


@functools.lru_cache(maxsize=256)  # clients send the same few queries again and again: read once each
def _options_of(query_string: bytes) -> Options:
    query = QueryParams(query_string)
    as_of = None
    if "as_of" in query:
        try:
            as_of = datetime.date.fromisoformat(query["as_of"])
        except ValueError:
            raise problems.malformed(f"`as_of` must be a date written YYYY-MM-DD, not `{query['as_of']}`")
    return Options(_flag(query, "explain", True), _flag(query, "partial", False), as_of)


def _locale(request: Request, options: Options) -> str:
    """`?locale=de_DE` of `/explain`: how money is written (as `rpl explain --locale`)."""
    from rplang.runtime.money import DEFAULT_LOCALE, parse_locale

    locale = request.query_params.get("locale") or DEFAULT_LOCALE
    if options.partial and locale != DEFAULT_LOCALE:
        raise problems.malformed("`partial` explains money as the policy writes it: leave out `locale`")
    try:
        parse_locale(locale)
    except ValueError as error:
        raise problems.malformed(str(error))
    return locale


def _flag(query, name: str, default: bool) -> bool:
    value = query.get(name)
    if value is None or value == "":
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise problems.malformed(f"`{name}` must be true or false, not `{value}`")


class NDJSONResponse(StreamingResponse):
    """A stream that reads the request's body while it answers. Starlette's own, under ASGI spec
    2.3, would listen for a disconnect by taking messages from `receive`: the body's chunks."""
    media_type = NDJSON

    async def __call__(self, scope, receive, send):
        try:
            await self.stream_response(send)
        except (OSError, ClientDisconnect):  # the client went away, mid-batch or mid-answer
            client_gone(scope["state"]["request_id"])

    async def stream_response(self, send):
        # The first lines are read (and decided) before the headers go out: uvicorn answers a
        # client's `Expect: 100-continue` at the first read of the body, and no more once the
        # answer has begun, and curl, which asks it of any large body, would wait a second.
        answers = aiter(self.body_iterator)
        first = await anext(answers, b"")
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if first:
            await send({"type": "http.response.body", "body": first, "more_body": True})
        async for chunk in answers:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class BareEndpoint:
    """A handler `(scope, receive, send)` as a route's endpoint. Starlette calls an object that is
    not a function as an ASGI application, without the `Request`, the `Response` and the second
    layer of exception handling that it wraps around a function `(request) -> Response`; an
    exception still reaches the application's handlers."""

    __slots__ = ("handler",)

    def __init__(self, handler):
        self.handler = handler

    def __call__(self, scope, receive, send):
        return self.handler(scope, receive, send)


class Handlers:
    def __init__(self, registry, metrics, decision_log, max_body: int):
        self.registry, self.metrics, self.log, self.max_body = registry, metrics, decision_log, max_body

    # ---- policies -------------------------------------------------------------------------------

    async def policies(self, request: Request) -> Response:
        policies = self.registry.policies
        return _json({"policies": [policy_summary(s) for s in policies.values()],
                      "problems": [p.to_json() for p in self.registry.problems.values()]})

    async def policy(self, request: Request) -> Response:
        return _json(describe_policy(self._served(request.path_params["name"])))

    async def schema(self, request: Request) -> Response:
        return _json(request_schema(self._served(request.path_params["name"]).checked), "application/schema+json")

    async def decision_schema(self, request: Request) -> Response:
        return _json(decision_schema(self._served(request.path_params["name"]).checked), "application/schema+json")

    async def openapi(self, request: Request) -> Response:
        return _json(openapi_document(self.registry.policies))

    # ---- decisions ------------------------------------------------------------------------------

    async def decide(self, scope, receive, send) -> None:
        """`POST /v1/policies/{name}/decide` as the route answers it, a bare ASGI endpoint (see
        `BareEndpoint`): an NDJSON batch, streamed; a single decision when it was not answered
        before the stack (`dispatch.DecisionsFirst`)."""
        name = scope["path_params"]["name"]
        content_type, length, _, _ = request_headers(scope["headers"])
        if content_type is not None and is_ndjson(content_type):
            served = self._served(name)
            lines = self._decide_lines(Request(scope, receive), served, _options(scope))
            answer = _made_by(NDJSONResponse(lines), served.name, (served.version, served.text_hash))
            return await answer(scope, receive, send)
        body, headers = await self.decision(scope, receive, name, length)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"%d" % len(body)), *headers]})
        await send({"type": "http.response.body", "body": body})

    async def decision(self, scope, receive, name: str, content_length: bytes | None):
        """A single decision's answer: its JSON, and its headers but its length and the request id
        (made once per policy version)."""
        served = self._served(name)
        options = _options(scope)
        length = _length(content_length)
        self._refuse_declared(length)  # before the first read: it tells uvicorn to say `100 Continue`
        started = time.perf_counter()
        message = await receive()
        if message.get("more_body", False) or message["type"] != "http.request" or length is None:
            body = await self._body(receive, message)  # in pieces, or of unknown length
        else:  # the whole body, in one message: most requests
            body = message.get("body", b"")
        decision = self._decide_one(served, options, body)
        try:
            payload, rendered = _answer(decision, options)
        except RplError as error:
            raise problems.refused(error)
        made_by = served.made_by(decision)
        self._decided(scope["state"]["request_id"], None, served, made_by, options, body, decision, rendered, payload)
        self.metrics.timed(served.name, "json", time.perf_counter() - started)
        return payload, _decision_headers(served.name, *made_by)

    async def explain(self, request: Request) -> Response:
        served = self._served(request.path_params["name"])
        options = _options(request.scope)
        locale = _locale(request, options)
        self._refuse_declared(_length(request_headers(request.scope["headers"])[1]))  # before the first read
        body = await self._body(request.receive)
        decision = self._decide_one(served, options, body)
        try:
            text = decision.explain_text() if options.partial else decision.explain_text(locale)
        except RplError as error:
            raise problems.refused(error)
        made_by = served.made_by(decision)
        self._decided(_request_id(request), None, served, made_by, options, body, decision, None)
        # the text of `rpl explain`, a request's control characters as escapes: it is read at a terminal too
        return _made_by(Response(printable(text) + "\n", media_type="text/plain; charset=utf-8"), served.name, made_by)

    def _decide_one(self, served, options: Options, body: bytes):
        try:
            data = line_request(body, self.max_body)  # the same reading as `rpl eval` and `--jsonl`
        except RequestError as error:
            raise problems.malformed(str(error.problems[0].message), error)
        try:
            if options.partial:
                decision = served.policy.decide_partial(data, as_of=options.as_of)
            else:
                decision = served.policy.decide(data, options.as_of)
        except RplError as error:
            raise problems.refused(error)
        return decision

    def _decided(self, request_id: str, line: int | None, served, made_by: tuple, options: Options, body: bytes,
                 decision, rendered: dict | None, answer: bytes | None = None):
        """Count a decision answered, and log it with the version and text hash that made it (and
        its `answer`, whose outputs the log takes rather than making them again)."""
        self.metrics.decided(served.name, decision.outcome)
        if self.log is not None:
            self.log.record(time.time(), request_id, line, served.name, *made_by,
                            options.as_of, options.partial, body, decision, rendered, answer)

    async def _decide_lines(self, request: Request, served, options: Options):
        """One decision (or error object) per line, in order, written as the lines arrive. A batch
        whose next part is not received in time (`body.BodyTimeout`) is answered 408 if nothing was
        answered yet, else ends with an error object for the line that did not come."""
        started = time.perf_counter()
        request_id = _request_id(request)
        number, pending, skipping, answered = 0, b"", False, False
        try:
            async for chunk in request.stream():
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                answers = []
                for raw in lines:
                    if skipping:  # the end of a line already answered as too long
                        skipping = False
                        continue
                    number += 1
                    answers.append(self._line_too_long(served, number) if len(raw) > self.max_body
                                   else self._decide_line(request_id, served, options, number, raw))
                if len(pending) > self.max_body and not skipping:
                    number += 1
                    answers.append(self._line_too_long(served, number))
                    pending, skipping = b"", True
                elif skipping:
                    pending = b""
                if answers:
                    answered = True
                    yield b"".join(answers)
        except BodyTimeout as late:
            if not answered:  # the answer has not begun: a 408
                raise
            yield self._line_error(served, number + 1, f"{late.detail}: the batch ends here")
        else:
            if pending and not skipping:
                yield self._decide_line(request_id, served, options, number + 1, pending)
        self.metrics.timed(served.name, "ndjson", time.perf_counter() - started)

    def _decide_line(self, request_id: str, served, options: Options, number: int, raw: bytes) -> bytes:
        try:
            data = line_request(raw, self.max_body)
            if options.partial:
                decision = served.policy.decide_partial(data, as_of=options.as_of)
            else:
                decision = served.policy.decide(data, options.as_of)
            answer, rendered = _answer(decision, options)
        except RplError as error:
            self.metrics.line_error(served.name)
            return dumps(line_error_json(error, number)) + b"\n"
        except Exception:  # a fault on one line: logged, and the stream goes on
            log.exception("request %s, line %d failed", request_id, number)
            self.metrics.line_error(served.name)
            return dumps({"error": {"kind": "server_error", "line": number, "message":
                                    f"the server failed on this line; quote request id {request_id}"}}) + b"\n"
        self._decided(request_id, number, served, served.made_by(decision), options, raw, decision, rendered, answer)
        return answer + b"\n"

    def _line_too_long(self, served, number: int) -> bytes:
        return self._line_error(served, number, f"a line longer than {self.max_body} bytes")

    def _line_error(self, served, number: int, message: str) -> bytes:
        """The error object answering line `number`, which is not decided, counted as such."""
        self.metrics.line_error(served.name)
        error = RequestError([RequestProblem("$", message)])
        return dumps(line_error_json(error, number)) + b"\n"

    # ---- health and metrics ---------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        """Ready when a policy is loaded; with `?decision_log=true`, and the decisions being recorded
        (an operator's choice, as OPA's `/health?plugins`: a service that must not decide what it
        does not record, rather than one that must go on deciding)."""
        required = _flag(request.query_params, "decision_log", False)
        if not self.registry.policies:
            raise Problem(503, "no policy is loaded: see /v1/policies for the problems")
        answer = {"status": "ready", "policies": len(self.registry.policies)}
        if self.log is not None:
            state = log_health.worst(self.metrics.log_states(self.log))
            # the log's path only to a request with a token, where the server asks for one: the
            # path is the server's, and a load balancer (no token) needs only the state
            path = self.log.path if request.scope["state"]["trusted"] else None
            answer["decision_log"] = {"file": path, "state": state} if path is not None else {"state": state}
            if required and state != log_health.OK:
                raise Problem(503, log_health.advice(state, path), kind=log_health.PROBLEM,
                              members={"decision_log": answer["decision_log"]})
        return _json(answer)

    async def metrics_page(self, request: Request) -> Response:
        body, media_type = self.metrics.exposition()
        return Response(body, headers={"Content-Type": media_type})

    # ---- helpers --------------------------------------------------------------------------------

    def _served(self, name: str):
        served = self.registry.get(name)  # a name, never a path: nothing is read from the request
        if served is None:
            known = ", ".join(f"`{n}`" for n in sorted(self.registry.policies)) or "none"
            raise Problem(404, f"no policy named `{name}` is served (served: {known})")
        return served

    def _refuse_declared(self, declared: int | None) -> None:
        """413 for a body whose `Content-Length` is over the limit, before any of it is read: each
        caller of `_body` asks it before its first read (uvicorn says `100 Continue` at that read)."""
        if declared is not None and declared > self.max_body:
            raise Problem(413, f"the body is {declared} bytes; the limit is {self.max_body}")

    async def _body(self, receive, first: dict | None = None) -> bytes:
        """The whole body, refused (413) as soon as it is over the limit; `first`, the first message
        of the body if it was already received."""
        # `receive` itself rather than `request.stream()`: a body comes in one message or a few
        chunks, size = [], 0
        while True:
            message = first if first is not None else await receive()
            first = None
            if message["type"] != "http.request":  # http.disconnect: Starlette's stream raises the same
                raise ClientDisconnect()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise Problem(413, f"the body is over the limit of {self.max_body} bytes")
            if not message.get("more_body", False):
                return b"".join((*chunks, chunk)) if chunks else chunk
            chunks.append(chunk)


def _answer(decision, options: Options) -> tuple[bytes, dict | None]:
    """A decision's answer as `rpl eval` writes it, and the dict it was made of if it was: a whole
    decision's JSON is written directly (`decision_bytes`), never made as dicts and then encoded."""
    if options.explain and not options.partial:
        return decision_bytes(decision), None
    data = decision.to_json() if options.explain else _outputs_only(decision, options.partial)
    return dumps(data), data


def _outputs_only(decision, partial: bool) -> dict:
    """`?explain=false`: the outputs, as `rpl eval --outputs-only`; a residual keeps its residual."""
    if partial:
        return {"outputs": decision.outputs_json(), "residual": decision.residual_json()}
    return {"outputs": decision.outputs_json()}


def _made_by(response: Response, name: str, made_by: tuple[str | None, str]) -> Response:
    """The response, with the headers naming the policy, version and text hash that decided."""
    response.raw_headers += _made_by_headers(name, *made_by)
    return response


@functools.lru_cache(maxsize=256)  # a few per policy loaded: made once, not per request
def _made_by_headers(name: str, version: str | None, text_hash: str) -> tuple[tuple[bytes, bytes], ...]:
    headers = [(b"rpl-policy", name.encode()), (b"rpl-policy-hash", text_hash.encode())]
    if version:
        headers.append((b"rpl-policy-version", version.encode()))
    return tuple(headers)


@functools.lru_cache(maxsize=256)
def _decision_headers(name: str, version: str | None, text_hash: str) -> tuple[tuple[bytes, bytes], ...]:
    """The headers of a decision's answer but its length."""
    return ((b"content-type", JSON.encode()), *_made_by_headers(name, version, text_hash))


def _length(content_length: bytes | None) -> int | None:
    """A request's declared length, from its raw `Content-Length` (`middleware.request_headers`)."""
    return int(content_length) if content_length is not None and content_length.isdigit() else None


def _request_id(request: Request) -> str:
    return request.scope["state"]["request_id"]  # set by RequestContext


def _json(data: object, media_type: str = JSON) -> Response:
    return Response(dumps(data), media_type=media_type)
