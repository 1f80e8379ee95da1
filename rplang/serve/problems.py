"""Errors as RFC 9457 problem details (`application/problem+json`), made in one place.

A request the policy refuses carries the same object as `RequestError.to_json()` (`kind`,
`message`, `problems`), so a client reads the same problems as from `rpl eval`.
"""
from __future__ import annotations

from starlette.datastructures import URL
from starlette.responses import Response

from rplang.policy_lang.errors import RequestError, RequestProblem, RplError
from rplang.stream import error_json

from .render import dumps

MEDIA_TYPE = "application/problem+json"

# status -> (type, title). The types are names, not addresses: nothing to fetch.
KINDS = {
    400: ("urn:rpl:problem:malformed-request", "the request is not well formed"),
    401: ("urn:rpl:problem:unauthorized", "a valid bearer token is needed"),
    404: ("urn:rpl:problem:not-found", "not found"),
    405: ("urn:rpl:problem:method-not-allowed", "method not allowed"),
    408: ("urn:rpl:problem:body-timeout", "the request body was not received in time"),
    413: ("urn:rpl:problem:too-large", "the request body is too large"),
    422: ("urn:rpl:problem:request-refused", "the policy cannot decide this request"),
    500: ("urn:rpl:problem:server-error", "the server failed to answer; this is a bug in rpl"),
    503: ("urn:rpl:problem:unavailable", "no policy is loaded"),
}


class Problem(Exception):
    """An HTTP error to answer with a problem document; `error` carries the rpl error if any;
    `kind`, the type and title when they are not the status's (`KINDS`), and `members`, what the
    document says besides."""

    def __init__(self, status: int, detail: str, error: RplError | None = None, headers: dict | None = None,
                 kind: tuple[str, str] | None = None, members: dict | None = None):
        super().__init__(detail)
        self.status, self.detail, self.error, self.headers = status, detail, error, headers or {}
        self.kind, self.members = kind, members


def refused(error: RplError) -> Problem:
    """A request the policy refuses (a request error, or one it cannot work out): 422."""
    return Problem(422, str(error).splitlines()[0], error)


def malformed(message: str, error: RequestError | None = None) -> Problem:
    """A body that is not JSON, not UTF-8, or an option the endpoint does not take: 400."""
    return Problem(400, message, error or RequestError([RequestProblem("$", message)]))


def document(status: int, detail: str, request_id: str, instance: str | None,
             error: RplError | None = None, kind: tuple[str, str] | None = None, members: dict | None = None) -> dict:
    """The problem document; without `instance` when there is none (a request whose path could not be read)."""
    kind, title = kind or KINDS.get(status, ("about:blank", "error"))
    data = {"type": kind, "title": title, "status": status, "detail": detail}
    if instance is not None:
        data["instance"] = instance
    data["request_id"] = request_id
    if error is not None:
        extra = error_json(error)
        extra.pop("message", None)  # it is the detail
        data.update(extra)
    data.update(members or {})
    return data


def response(status: int, detail: str, request_id: str, instance: str, error: RplError | None = None,
             headers: dict | None = None, kind: tuple[str, str] | None = None, members: dict | None = None) -> Response:
    return Response(dumps(document(status, detail, request_id, instance, error, kind, members)), status,
                    headers=headers, media_type=MEDIA_TYPE)


def answer(scope, problem: Problem) -> Response:
    """The answer to a `Problem` raised while answering the request of `scope`; its instance is the
    path as the request's URL writes it."""
    return response(problem.status, problem.detail, scope["state"]["request_id"], URL(scope=scope).path,
                    problem.error, problem.headers, problem.kind, problem.members)
