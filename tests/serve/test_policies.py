"""The read-only endpoints: the policies, their schemas, the OpenAPI document, health."""
import json
import re

import jsonschema

from tests.cli.conftest import run
from tests.conftest import APUTURE, APUTURE_REQUESTS


def test_policies_lists_each_served_policy_with_version_hash_and_load_time(client):
    data = client.get("/v1/policies").json()
    assert [p["name"] for p in data["policies"]] == ["aputure", "aputure_holidays", "bestbuy", "electronics", "hm",
                                                     "ikea", "mixed_store"]
    assert data["problems"] == []
    aputure = data["policies"][0]
    assert aputure["title"] == "Aputure returns and refunds" and aputure["version"] == "2026.1"
    assert aputure["files"] == {str(APUTURE.relative_to(APUTURE.parent.parent)): aputure["text_hash"]} or \
        list(aputure["files"].values()) == [aputure["text_hash"]]
    assert aputure["loaded_at"].endswith("+00:00")


def test_a_policy_shows_its_parameters_clauses_outcomes(client):
    data = client.get("/v1/policies/aputure").json()
    parameters = {p["name"]: p for p in data["parameters"]}
    assert parameters["return_window_length"]["value"] == "14 days"
    assert parameters["restocking_fee_rate"]["value"] == "15%"
    assert data["clauses"]["late_request"] == "Request after 14 days from delivery date."
    assert [o["name"] for o in data["outcomes"]] == ["refuse", "approve_with_fee", "approve"]
    assert data["outcomes"][0]["overrides_all"] is True
    assert "refund" in [o["name"] for o in data["outputs"]] and data["currency"] == "USD"


def test_the_schemas_are_those_of_rpl_schema(client):
    for suffix, flags in (("schema", []), ("decision-schema", ["--decision"])):
        printed = run("schema", APUTURE, *flags)
        answer = client.get(f"/v1/policies/aputure/{suffix}")
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/schema+json"
        assert answer.json() == json.loads(printed.out)


def test_openapi_holds_every_policy_request_schema_and_it_validates_the_bundled_requests(client):
    document = client.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    for name in ("aputure", "aputure_holidays", "electronics"):
        assert {f"/v1/policies/{name}/decide", f"/v1/policies/{name}/explain"} <= set(document["paths"])
    schema = document["components"]["schemas"]["aputure.request"]
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(APUTURE_REQUESTS.glob("*.json"))[:10]:
        request = json.loads(path.read_text())
        if run("eval", APUTURE, path).code == 0:
            validator.validate(request)
    ref = document["paths"]["/v1/policies/aputure/decide"]["post"]["requestBody"]["content"]["application/json"]
    assert ref["schema"] == {"$ref": "#/components/schemas/aputure.request"}


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "policies": 7}


def test_docs_service_md_covers_every_endpoint(client):
    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    for path, methods in client.get("/openapi.json").json()["paths"].items():
        path = re.sub(r"/v1/policies/[a-z_]+", "/v1/policies/{name}", path)
        for method in methods:
            assert f"`{method.upper()} {path}`" in doc


def test_the_answer_docs_service_md_shows_is_the_one_served(client):
    """Its headers (the policy's hash: the current text's) and the start of its body."""
    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    shown = re.search(r"^HTTP/1.1 200 OK\n(.*?)\n\n(.*?)\.\.\.\n```", doc, re.S | re.M)
    request = (APUTURE_REQUESTS / "00-semantics-example.json").read_bytes()
    answer = client.post("/v1/policies/aputure/decide", content=request,
                         headers={"Content-Type": "application/json", "X-Request-Id": "portal-42"})
    assert answer.status_code == 200
    for header in shown.group(1).splitlines():
        key, value = header.split(": ", 1)
        assert answer.headers[key] == value, f"docs/service.md shows {header}: paste the one served"
    assert answer.text.startswith(shown.group(2))


def test_snapshot_of_a_policy_description(client, snapshot):
    data = client.get("/v1/policies/aputure").json()
    data.pop("loaded_at")
    # the path depends on where the tests run, the hash on the policy's text: checked, not snapshotted
    import hashlib

    (text_hash,) = data.pop("files").values()
    assert text_hash == "sha256:" + hashlib.sha256(APUTURE.read_bytes()).hexdigest()
    assert data.pop("text_hash", text_hash) == text_hash
    assert data == snapshot


def test_snapshot_of_a_refusal(client, snapshot):
    request = json.loads((APUTURE_REQUESTS / "00-semantics-example.json").read_text())
    request["items"][0]["price"] = "a lot"
    request["order"]["delivery_date"] = "2026-02-30"
    data = client.post("/v1/policies/aputure/decide", json=request, headers={"X-Request-Id": "snap-1"}).json()
    assert data == snapshot
