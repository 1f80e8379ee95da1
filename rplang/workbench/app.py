"""The workbench's HTTP API and page: each handler reads its JSON, asks `Analysis` or `Folder`,
and answers JSON. No policy logic here.

The server listens on the loopback address only and writes files, so it takes no request a
web page of another site could make: the Host must be the loopback's (no DNS rebinding), and a
body must be `application/json` (a cross-site form cannot send that without the browser asking
first, and this server never says yes).
"""
from __future__ import annotations

import html
import json
import re
import sys
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .analysis import Analysis
from .folder import Folder, OutsideFolder, SaveRefused, Unreadable

MAX_BODY_BYTES = 8 * 1024 * 1024
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


class BadBody(Exception):
    """A request body that is not the JSON object a route expects."""


def create_app(root: str) -> Starlette:
    folder = Folder(root)
    analysis = Analysis(folder)
    static = resources.files("rplang.workbench") / "static"

    async def page(request: Request) -> Response:
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"),
                            headers={"Cache-Control": "no-store"})

    async def files(request: Request) -> Response:
        return JSONResponse({"folder": folder.root.name, "policies": folder.policies(),
                             "corpora": folder.corpora()})

    async def error_code(request: Request) -> Response:
        return HTMLResponse(_error_page(request.path_params["code"]))

    async def open_file(request: Request) -> Response:
        path = request.query_params.get("path")
        text, version = folder.read(path)
        return JSONResponse({"path": folder.relative(folder.resolve(path)), "text": text,
                             "version": version.token(), "requests": folder.requests(path),
                             "corpus": folder.default_corpus(path)})

    async def open_request(request: Request) -> Response:
        path = request.query_params.get("path")
        return JSONResponse({"path": path, "text": folder.read(path, (".json",))[0]})

    def about_text(handler, *fields, numbered: bool = False):
        """A route over a policy text: body `{"path", "text", ...fields}`, and the optional
        `edit`, the page's number of this text (a newer one stops a `numbered` impact)."""
        async def route(request: Request) -> Response:
            body = await _json_body(request)
            name = folder.relative(folder.resolve(body.get("path")))
            text = _text(body, "text")
            extra = [_optional_text(body, f) for f in fields]
            edit = body.get("edit")
            if edit is not None and (type(edit) is not int or edit < 0):
                raise BadBody("`edit` must be a whole number")
            analysis.edited(name, edit)
            if numbered:
                extra.append(edit)
            return JSONResponse(await run_in_threadpool(analysis.answer, name, edit, handler, text, name, *extra))
        return route

    async def save(request: Request) -> Response:
        body = await _json_body(request)
        saved = await run_in_threadpool(
            folder.save, body.get("path"), _text(body, "text"), _optional_text(body, "version"),
            overwrite=body.get("overwrite") is True, with_errors=body.get("with_errors") is True)
        return JSONResponse({"status": "saved", "text": saved.text, "version": saved.version,
                             "backup": saved.backup, "with_errors": saved.with_errors})

    routes = [
        Route("/", page),
        Route("/errors/{code}", error_code),
        Route("/api/files", files),
        Route("/api/file", open_file),
        Route("/api/request", open_request),
        Route("/api/check", about_text(analysis.check), methods=["POST"]),
        Route("/api/decide", about_text(analysis.decide, "request"), methods=["POST"]),
        Route("/api/examples", about_text(analysis.examples), methods=["POST"]),
        Route("/api/impact", about_text(analysis.impact, "corpus", numbered=True), methods=["POST"]),
        Route("/api/graph", about_text(analysis.graph, "request"), methods=["POST"]),
        Route("/api/document", about_text(analysis.document), methods=["POST"]),
        Route("/api/save", save, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]
    handlers = {
        OutsideFolder: lambda request, error: _error(403, "outside_folder", str(error)),
        Unreadable: lambda request, error: _error(404, "unreadable", str(error)),
        BadBody: lambda request, error: _error(400, "bad_request", str(error)),
        SaveRefused: lambda request, error: _error(409, error.kind, str(error), **error.details),
    }
    return Starlette(routes=routes, exception_handlers=handlers,
                     middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=LOOPBACK_HOSTS)])


def _error(status: int, kind: str, message: str, **details) -> JSONResponse:
    return JSONResponse({"error": {"kind": kind, "message": message, **details}}, status_code=status)


async def _json_body(request: Request) -> dict:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadBody("send the body as JSON, with `Content-Type: application/json`")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BadBody(f"the body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise BadBody(f"the body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB")
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise BadBody(f"the body is not valid JSON: not UTF-8 ({error.reason} at byte {error.start:,})") from None
    except json.JSONDecodeError as error:
        raise BadBody(f"the body is not valid JSON: {error}") from None
    # Python's own words would be its internals': "maximum recursion depth exceeded while
    # decoding", "use sys.set_int_max_str_digits() to increase the limit"
    except RecursionError:
        raise BadBody("the body is not valid JSON: nested too deeply") from None
    except ValueError:
        raise BadBody(f"the body is not valid JSON: a number of more than {sys.get_int_max_str_digits():,} "
                      "digits") from None
    if not isinstance(data, dict):
        raise BadBody("the body must be a JSON object")
    return data


def _text(body: dict, field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str):
        raise BadBody(f"`{field}` must be a string")
    return value


def _optional_text(body: dict, field: str) -> str | None:
    value = body.get(field)
    if value is not None and not isinstance(value, str):
        raise BadBody(f"`{field}` must be a string or null")
    return value


ERRORS_DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"  # in a source checkout


def _error_page(code: str) -> str:
    """The entry of docs/errors.md for one code, as plain text: what it means, a wrong example
    and its fix."""
    title = f"rpl {html.escape(code)}"
    try:
        doc = ERRORS_DOC.read_text(encoding="utf-8")
    except OSError:
        doc = ""
    found = re.search(rf"^## {re.escape(code)} .*?(?=^## |\Z)", doc, re.M | re.S) if re.fullmatch(r"RPL\d{3}", code) else None
    body = (f"<pre>{html.escape(found.group(0).strip())}</pre>" if found else
            f"<p>{html.escape(code)}: see docs/errors.md in rplang's sources, which lists every code "
            "with a wrong example and its fix.</p>")
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body style="font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto">{body}</body></html>')
