"""The ASGI application: the registry, log and metrics composed with the routes; nothing global.

The lifespan owns the parts that outlive a request: the policy watcher and the metrics' gauges
(and, in a worker of several, the moves of its counts into the shared files) start with the
server, and at shutdown (uvicorn's, on SIGTERM, after the requests in flight are answered) the
watcher stops, a worker moves its last counts, and the decision log writes what it still holds.
"""
from __future__ import annotations

import contextlib
import logging
import os

import attrs
import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Route

from . import problems
from .body import BATCH_TIMEOUT, BODY_TIMEOUT
from .decision_log import DecisionLog
from .dispatch import DecisionsFirst
from .metrics import metrics_of_this_process
from .middleware import RequestContext, client_gone
from .problems import Problem
from .protocol import ERRORS_STATE
from .registry import Registry, Watcher
from .routes import BareEndpoint, Handlers

MAX_BODY = 1_048_576  # bytes of a request, or of one NDJSON line


@attrs.frozen
class ServeConfig:
    """What `rpl serve` was asked for; also passed to worker processes through the environment."""
    path: str
    log_db: str | None = None
    tokens: tuple[str, ...] | None = None
    max_body: int = MAX_BODY
    watch: bool = True
    body_timeout: float = BODY_TIMEOUT  # seconds to receive a body, or each part of a batch
    batch_timeout: float = BATCH_TIMEOUT  # seconds to receive a whole batch

    ENVIRONMENT = "RPL_SERVE_CONFIG"

    def to_environment(self) -> None:
        os.environ[self.ENVIRONMENT] = orjson.dumps(attrs.asdict(self)).decode()

    @classmethod
    def from_environment(cls) -> "ServeConfig":
        data = orjson.loads(os.environ[cls.ENVIRONMENT])
        data["tokens"] = tuple(data["tokens"]) if data["tokens"] is not None else None
        return cls(**data)


def build_app(config: ServeConfig) -> Starlette:
    metrics = metrics_of_this_process()
    decision_log = None

    def loaded(served):
        if decision_log is not None:
            for file, text in served.texts.items():
                decision_log.record_text(served.hashes[file], served.name, file, served.loaded_at, text)

    registry = Registry(config.path, on_load=loaded, on_reload=metrics.reloaded)
    handlers = Handlers(registry, metrics, None, config.max_body)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        nonlocal decision_log
        if config.log_db is not None:
            decision_log = handlers.log = DecisionLog(config.log_db)
        registry.load()
        watcher = Watcher(registry) if config.watch else None
        if watcher is not None:
            watcher.start()
        try:
            async with metrics.gauges(lambda: len(registry.policies), decision_log):
                # the lifespan's state, which uvicorn gives each connection: a request it cannot
                # parse is answered by the protocol (`protocol.py`), and counted there
                yield {ERRORS_STATE: metrics.request_error}
        finally:
            if watcher is not None:
                watcher.stop()
            if decision_log is not None:
                decision_log.close()

    async def problem(request, exc: Problem):  # async: a sync handler would run on a thread
        return problems.answer(request.scope, exc)

    async def http_error(request, exc: HTTPException):  # Starlette's own: no route, a wrong method
        detail = {404: f"no endpoint at {request.url.path}",
                  405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, exc.detail)
        return problems.response(exc.status_code, detail, request.state.request_id, request.url.path,
                                 headers=exc.headers)

    async def gone(request, exc: ClientDisconnect):  # no answer: nobody is listening
        client_gone(request.state.request_id)

    async def fault(request, exc: Exception):  # answered here; RequestContext logs it with the request id
        return problems.response(500, "the server failed; quote request id "
                                 f"{request.state.request_id} to find it in the server's log",
                                 request.state.request_id, request.url.path)

    routes = [  # the router tries them in order. A decision is answered before the router
        # (`DecisionsFirst`): its route answers NDJSON batches and the other methods (405)
        Route("/v1/policies/{name}/decide", BareEndpoint(handlers.decide), methods=["POST"]),
        Route("/v1/policies", handlers.policies, methods=["GET"]),
        Route("/v1/policies/{name}", handlers.policy, methods=["GET"]),
        Route("/v1/policies/{name}/schema", handlers.schema, methods=["GET"]),
        Route("/v1/policies/{name}/decision-schema", handlers.decision_schema, methods=["GET"]),
        Route("/v1/policies/{name}/explain", handlers.explain, methods=["POST"]),
        Route("/openapi.json", handlers.openapi, methods=["GET"]),
        Route("/healthz", handlers.healthz, methods=["GET"]),
        Route("/readyz", handlers.readyz, methods=["GET"]),
        Route("/metrics", handlers.metrics_page, methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={Problem: problem, HTTPException: http_error, ClientDisconnect: gone,
                                        Exception: fault})
    tokens = frozenset(config.tokens) if config.tokens is not None else None
    # The request id and faults wrap Starlette's own error handling; single decisions are answered
    # before both, with the same functions (`DecisionsFirst`).
    return DecisionsFirst(RequestContext(app, tokens, metrics.request_error, config.body_timeout, config.batch_timeout), handlers.decision)


def log_to_stderr() -> None:
    """The service's log lines (`rpl.serve`: policies loaded, requests answered late or gone) on
    stderr with their time, in the server's process and in each worker's."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def app_from_environment():
    """The application of a worker process (`--workers N`): uvicorn imports it by name, in a new
    interpreter, which has not set up its log as `rpl serve` did."""
    log_to_stderr()
    return build_app(ServeConfig.from_environment())
