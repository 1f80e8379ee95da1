"""The HTTP endpoints: each parses, calls the library's one decision path, and renders.

A decision is `CompiledPolicy.decide` (or `decide_partial`) on the request, rendered by
`Decision.to_json()` as `rpl eval` prints it; an NDJSON line goes through `rpl eval --jsonl`'s own
functions (`rplang.stream`). Which version and text made a decision goes in the response headers
(`Rpl-Policy`, `Rpl-Policy-Version`, `Rpl-Policy-Hash`), so the body stays what `rpl eval` prints.
"""
from __future__ import annotations

import datetime
import logging
import time

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from rplang.compiler.schema import decision_schema, request_schema
from rplang.policy_lang.errors import RequestError, RequestProblem, RplError
from rplang.stream import line_error_json, line_request

from . import problems
from .describe import describe_policy, policy_summary
from .openapi import openapi_document
from .problems import Problem
from .render import dumps

log = logging.getLogger("rpl.serve")

JSON = "application/json"
NDJSON = "application/x-ndjson"
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


class Options:
    """The query options of a decision: `explain`, `partial`, `as_of`."""
    __slots__ = ("explain", "partial", "as_of")

    def __init__(self, request: Request):
        self.explain, self.partial, self.as_of = True, False, None
        if not request.scope["query_string"]:  # most requests: no options to read
            return
        query = request.query_params
        self.explain = _flag(query, "explain", True)
        self.partial = _flag(query, "partial", False)
        if "as_of" in query:
            try:
                self.as_of = datetime.date.fromisoformat(query["as_of"])
            except ValueError:
                raise problems.malformed(f"`as_of` must be a date written YYYY-MM-DD, not `{query['as_of']}`")


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
        except OSError:  # the client went away: nothing to answer
            log.info("request %s: the client closed the stream", scope["state"]["request_id"])


class Handlers:
    def __init__(self, registry, metrics, decision_log, max_body: int):
        self.registry, self.metrics, self.log, self.max_body = registry, metrics, decision_log, max_body

    # ---- policies -------------------------------------------------------------------------------

    async def policies(self, request: Request) -> Response:
        policies = self.registry.policies
        return _json({"policies": [policy_summary(s) for s in policies.values()],
                      "problems": [p.to_json() for p in self.registry.problems.values()]})

    async def policy(self, request: Request) -> Response:
        return _json(describe_policy(self._served(request)))

    async def schema(self, request: Request) -> Response:
        return _json(request_schema(self._served(request).checked), "application/schema+json")

    async def decision_schema(self, request: Request) -> Response:
        return _json(decision_schema(self._served(request).checked), "application/schema+json")

    async def openapi(self, request: Request) -> Response:
        return _json(openapi_document(self.registry.policies))

    # ---- decisions ------------------------------------------------------------------------------

    async def decide(self, request: Request) -> Response:
        served = self._served(request)
        options = Options(request)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() == NDJSON:
            return NDJSONResponse(self._decide_lines(request, served, options),
                                  headers=_made_by_headers(served.name, served.version, served.text_hash))
        started = time.perf_counter()
        body = await self._body(request)
        decision = self._decide_one(served, options, body)
        try:
            data = decision.to_json() if options.explain else _outputs_only(decision, options.partial)
        except RplError as error:
            raise problems.refused(error)
        self._decided(request.state.request_id, None, served, options, body, decision, data)
        answer = Response(dumps(data), media_type=JSON, headers=self._made_by(served, decision))
        self.metrics.timed(served.name, "json", time.perf_counter() - started)
        return answer

    async def explain(self, request: Request) -> Response:
        served = self._served(request)
        options = Options(request)
        locale = _locale(request, options)
        body = await self._body(request)
        decision = self._decide_one(served, options, body)
        try:
            text = decision.explain_text() if options.partial else decision.explain_text(locale)
        except RplError as error:
            raise problems.refused(error)
        self._decided(request.state.request_id, None, served, options, body, decision, None)
        return Response(text + "\n", media_type="text/plain; charset=utf-8",
                        headers=self._made_by(served, decision))

    def _decide_one(self, served, options: Options, body: bytes):
        try:
            data = line_request(body)  # the same reading as `rpl eval` and `--jsonl`
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

    def _decided(self, request_id: str, line: int | None, served, options: Options, body: bytes, decision,
                 rendered: dict | None):
        """Count a decision answered, and log it."""
        self.metrics.decided(served.name, decision.outcome)
        if self.log is not None:
            version, text_hash = served.made_by(decision)
            self.log.record(time.time(), request_id, line, served.name, version, text_hash,
                            options.as_of, options.partial, body, decision, rendered)

    def _made_by(self, served, decision) -> dict:
        version, text_hash = served.made_by(decision)
        return _made_by_headers(served.name, version, text_hash)

    async def _decide_lines(self, request: Request, served, options: Options):
        """One decision (or error object) per line, in order, written as the lines arrive."""
        started = time.perf_counter()
        request_id = request.state.request_id
        number, pending, skipping = 0, b"", False
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
                yield b"".join(answers)
        if pending and not skipping:
            yield self._decide_line(request_id, served, options, number + 1, pending)
        self.metrics.timed(served.name, "ndjson", time.perf_counter() - started)

    def _decide_line(self, request_id: str, served, options: Options, number: int, raw: bytes) -> bytes:
        try:
            data = line_request(raw)
            if options.partial:
                decision = served.policy.decide_partial(data, as_of=options.as_of)
            else:
                decision = served.policy.decide(data, options.as_of)
            data = decision.to_json() if options.explain else _outputs_only(decision, options.partial)
        except RplError as error:
            self.metrics.line_errors.labels(served.name).inc()
            return dumps(line_error_json(error, number)) + b"\n"
        except Exception:  # a fault on one line: logged, and the stream goes on
            log.exception("request %s, line %d failed", request_id, number)
            self.metrics.line_errors.labels(served.name).inc()
            return dumps({"error": {"kind": "server_error", "line": number, "message":
                                    f"the server failed on this line; quote request id {request_id}"}}) + b"\n"
        self._decided(request_id, number, served, options, raw, decision, data)
        return dumps(data) + b"\n"

    def _line_too_long(self, served, number: int) -> bytes:
        self.metrics.line_errors.labels(served.name).inc()
        error = RequestError([RequestProblem("$", f"a line longer than {self.max_body} bytes")])
        return dumps(line_error_json(error, number)) + b"\n"

    # ---- health and metrics ---------------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return _json({"status": "ok"})

    async def readyz(self, request: Request) -> Response:
        if not self.registry.policies:
            raise Problem(503, "no policy is loaded: see /v1/policies for the problems")
        return _json({"status": "ready", "policies": len(self.registry.policies)})

    async def metrics_page(self, request: Request) -> Response:
        body, media_type = self.metrics.exposition()
        return Response(body, headers={"Content-Type": media_type})

    # ---- helpers --------------------------------------------------------------------------------

    def _served(self, request: Request):
        name = request.path_params["name"]
        served = self.registry.get(name)  # a name, never a path: nothing is read from the request
        if served is None:
            known = ", ".join(f"`{n}`" for n in sorted(self.registry.policies)) or "none"
            raise Problem(404, f"no policy named `{name}` is served (served: {known})")
        return served

    async def _body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise Problem(413, f"the body is {declared} bytes; the limit is {self.max_body}")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise Problem(413, f"the body is over the limit of {self.max_body} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def _outputs_only(decision, partial: bool) -> dict:
    """`?explain=false`: the outputs, as `rpl eval --outputs-only`; a residual keeps its residual."""
    if partial:
        return {"outputs": decision.outputs_json(), "residual": decision.residual_json()}
    return {"outputs": decision.outputs_json()}


def _made_by_headers(name: str, version: str | None, text_hash: str) -> dict:
    headers = {"Rpl-Policy": name, "Rpl-Policy-Hash": text_hash}
    if version:
        headers["Rpl-Policy-Version"] = version
    return headers


def _json(data: object, media_type: str = JSON) -> Response:
    return Response(dumps(data), media_type=media_type)
