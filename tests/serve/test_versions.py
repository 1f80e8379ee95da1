"""A folder of versions served under the folder's name: each decision names the version in force."""
import json

import httpx
import pytest

from tests.cli.conftest import run
from tests.e2e.test_dated_terms import _request, _version
from tests.residual.conftest import before_inspection

from .server import Server


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("shop")
    versions = root / "aputure_terms"
    versions.mkdir()
    _version(versions, "2026-01.rpl", "2026-01-01", 14, "2026.1")
    _version(versions, "2026-07.rpl", "2026-07-01", 21, "2026.2")
    server = Server(root, "--no-watch", log_dir=root)
    yield versions, server
    server.stop()


@pytest.mark.parametrize("purchased, version", [("2026-06-30", "2026.1"), ("2026-07-01", "2026.2")])
def test_the_version_in_force_decides_and_is_named(shop, tmp_path, purchased, version):
    versions, server = shop
    request = _request(purchase_date=purchased, delivery_date="2026-07-02", request_date="2026-07-20")
    path = tmp_path / "request.json"
    path.write_text(json.dumps(request))
    printed = run("eval", versions, path)
    answer = httpx.post(f"{server.url}/v1/policies/aputure_terms/decide", content=path.read_bytes())
    assert printed.code == 0 and answer.status_code == 200, answer.text
    assert answer.json() == json.loads(printed.out)
    listed = httpx.get(f"{server.url}/v1/policies").json()["policies"]
    (entry,) = [p for p in listed if p["name"] == "aputure_terms"]
    (named,) = [v for v in entry["versions"] if v["version"] == version]
    assert answer.headers["rpl-policy-version"] == version
    assert answer.headers["rpl-policy-hash"] == named["text_hash"] == entry["files"][named["file"]]
    assert entry["text_hash"] not in [v["text_hash"] for v in entry["versions"]]  # the folder's own


@pytest.mark.parametrize("query, version", [("partial=true", "2026.2"), ("partial=true&as_of=2026-06-30", "2026.1")])
def test_partial_on_a_folder_of_versions_decides_under_the_version_in_force(shop, tmp_path, query, version):
    """As `rpl eval --partial`: the version in force on the request's terms date, or on `as_of`."""
    versions, server = shop
    request = before_inspection(_request(purchase_date="2026-07-01", delivery_date="2026-07-02",
                                         request_date="2026-07-20"))
    path = tmp_path / "portal.json"
    path.write_text(json.dumps(request))
    as_of = ["--as-of", "2026-06-30"] if "as_of" in query else []
    printed = run("eval", "--partial", *as_of, versions, path)
    answer = httpx.post(f"{server.url}/v1/policies/aputure_terms/decide?{query}", content=path.read_bytes())
    assert printed.code == 0 and answer.status_code == 200, answer.text
    assert answer.json() == json.loads(printed.out)
    assert answer.headers["rpl-policy-version"] == version == answer.json()["terms"][0]["version"]


def test_a_request_the_policy_cannot_work_out_is_422_evaluation_error(shop):
    versions, server = shop
    answer = httpx.post(f"{server.url}/v1/policies/aputure_terms/decide?as_of=2025-01-01", json=_request())
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    data = answer.json()
    assert data["kind"] == "evaluation_error" and "problems" not in data
    assert data["detail"].startswith("no version of the policy is in force on 2025-01-01")
    printed = run("eval", versions, "--as-of", "2025-01-01", "-", input=json.dumps(_request()))
    assert json.loads(printed.out)["error"] == {"kind": "evaluation_error", "message": data["detail"]}
