"""`/openapi.json`: the API as OpenAPI 3.1, with each served policy's request schema.

OpenAPI 3.1 schemas are JSON Schema 2020-12, so the policy's own schema (`rpl schema`) is used as
it is; each keeps its `$defs` under an `$id` of its own, so its `$ref`s resolve inside it.
"""
from __future__ import annotations

from rplang.compiler.schema import decision_schema, request_schema

from .log_health import STATES

JSON = "application/json"
PROBLEM = {"description": "a problem (RFC 9457)",
           "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}

# the decision log's state, in `/readyz`'s answer and in its problem of a log not recording (`log_health`)
DECISION_LOG = {"$ref": "#/components/schemas/DecisionLog"}
DECISION_LOG_SCHEMA = {
    "type": "object", "description": "with `--log-db` only; with `--workers N`, the worst state of any worker's",
    "properties": {"file": {"type": "string", "description": (
        "the log's path, as `--log-db` gave it; with `--token-file`, to a request with an accepted token only")},
        "state": {"enum": list(STATES), "description": (
            "ok: every decision recorded; failing: the file cannot be written, decisions held in memory; "
            "written_over: the file was emptied or written over in place; stopped: the log's writer is gone")}},
    "required": ["state"],
}

READINESS_SCHEMA = {
    "type": "object",
    "properties": {"status": {"const": "ready"}, "policies": {"type": "integer"}, "decision_log": DECISION_LOG},
    "required": ["status", "policies"],
}

PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"}, "request_id": {"type": "string"},
        "kind": {"type": "string", "description": "request_error or evaluation_error, as in `rpl eval`"},
        "problems": {"type": "array", "description": "as `RequestError.to_json()`: path, message, received",
                     "items": {"type": "object", "properties": {"path": {"type": "string"},
                                                               "message": {"type": "string"},
                                                               "received": {}}}},
        "decision_log": DECISION_LOG,
    },
    "required": ["type", "title", "status", "detail", "request_id"],
}

DECIDE_PARAMETERS = [
    {"name": "explain", "in": "query", "schema": {"type": "boolean", "default": True},
     "description": "false: the outputs only, without the explanation"},
    {"name": "partial", "in": "query", "schema": {"type": "boolean", "default": False},
     "description": "facts declared `at STAGE` may be missing: a residual decision (docs/residual.md)"},
    {"name": "as_of", "in": "query", "schema": {"type": "string", "format": "date"},
     "description": "decide under the terms in force on this date"},
]


def openapi_document(policies: dict) -> dict:
    paths: dict = {
        "/v1/policies": {"get": {"summary": "the served policies, and the problems of those that failed to load",
                                 "responses": {"200": {"description": "the policies"}}}},
        "/healthz": {"get": {"summary": "the process is up", "responses": {"200": {"description": "up"}}}},
        "/readyz": {"get": {
            "summary": "a policy is loaded (and, when asked, the decisions are being recorded)",
            "parameters": [{"name": "decision_log", "in": "query", "schema": {"type": "boolean", "default": False},
                            "description": "true: 503 also while the decision log (`--log-db`) does not record "
                                           "every decision, as `decision_log.state` says"}],
            "responses": {"200": {"description": "ready", "content": {
                JSON: {"schema": {"$ref": "#/components/schemas/Readiness"}}}}, "503": PROBLEM}}},
        "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "metrics"}}}},
    }
    schemas: dict = {"Problem": PROBLEM_SCHEMA, "Readiness": READINESS_SCHEMA, "DecisionLog": DECISION_LOG_SCHEMA}
    for name, served in sorted(policies.items()):
        request_ref, decision_ref = f"{name}.request", f"{name}.decision"
        schemas[request_ref] = {"$id": f"urn:rpl:schema:{name}:request", **_without_dialect(request_schema(served.checked))}
        schemas[decision_ref] = {"$id": f"urn:rpl:schema:{name}:decision", **_without_dialect(decision_schema(served.checked))}
        base = f"/v1/policies/{name}"
        body = {"required": True, "content": {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{request_ref}"}},
            "application/x-ndjson": {"schema": {"type": "string",
                                                "description": "one request per line; one decision per line out"}}}}
        errors = {"400": PROBLEM, "404": PROBLEM, "413": PROBLEM, "422": PROBLEM, "500": PROBLEM}
        paths[base] = {"get": {"summary": f"{name}: parameters, clauses, outcomes",
                               "responses": {"200": {"description": "the policy"}, "404": PROBLEM}}}
        paths[f"{base}/schema"] = {"get": {"summary": f"the JSON Schema of a request to {name}",
                                           "responses": {"200": {"description": "a JSON Schema"}}}}
        paths[f"{base}/decision-schema"] = {"get": {"summary": f"the JSON Schema of {name}'s decisions",
                                                    "responses": {"200": {"description": "a JSON Schema"}}}}
        paths[f"{base}/decide"] = {"post": {
            "summary": f"decide a request under {name}: the JSON `rpl eval` prints",
            "parameters": DECIDE_PARAMETERS, "requestBody": body,
            "responses": {"200": {"description": "the decision", "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{decision_ref}"}},
                "application/x-ndjson": {"schema": {"type": "string"}}}}, **errors}}}
        paths[f"{base}/explain"] = {"post": {
            "summary": f"decide a request under {name} and explain it in words",
            "parameters": [p for p in DECIDE_PARAMETERS if p["name"] != "explain"] + [
                {"name": "locale", "in": "query", "schema": {"type": "string", "default": "en_US"},
                 "description": "how money is written (grouping, decimal mark), like de_DE; in the "
                                "request's currency when the policy says `currency by`"}],
            "requestBody": {"required": True, "content": {"application/json": body["content"]["application/json"]}},
            "responses": {"200": {"description": "the explanation", "content": {"text/plain": {}}}, **errors}}}
    return {"openapi": "3.1.0",
            "info": {"title": "rpl decision service", "version": "v1",
                     "description": "Returns policies as code: the decisions of `rpl eval` over HTTP"},
            "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
            "paths": paths, "components": {"schemas": schemas}}


def _without_dialect(schema: dict) -> dict:
    return {k: v for k, v in schema.items() if k != "$schema"}
