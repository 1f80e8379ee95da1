"""A Node service using rpl with nothing but HTTP (issue #16's "done when"): docs/service.md's
JavaScript examples, run as written by Node's own `fetch` against a real server, only the
server's address and the values they are given (`request`, `returnId`, `requests`) set around them."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.conftest import POLICIES, ROOT

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node is not installed")

SERVICE_DOC = ROOT / "docs" / "service.md"
REQUESTS = POLICIES / "aputure" / "requests"
DOCUMENTED_ADDRESS = "http://127.0.0.1:8080"


def javascript_examples() -> list[str]:
    """The code blocks of the document's JavaScript section, in order."""
    section = SERVICE_DOC.read_text(encoding="utf-8").split("### JavaScript", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```js\n(.*?)```", section, re.S)


def run_node(example: str, server_url: str, **given) -> subprocess.CompletedProcess:
    """`example` as an ES module (its top-level `await` needs one), `given` declared before it."""
    assert DOCUMENTED_ADDRESS in example  # else the address below is not replaced, and the test is void
    declarations = "".join(f"const {name} = {json.dumps(value)};\n" for name, value in given.items())
    program = declarations + example.replace(DOCUMENTED_ADDRESS, server_url)
    return subprocess.run([NODE, "--input-type=module", "-e", program], capture_output=True, text=True,
                          timeout=60, check=False)


def test_the_documents_javascript_section_has_its_two_examples():
    single, batch = javascript_examples()
    assert "application/json" in single and "application/x-ndjson" in batch


def test_a_node_client_decides_a_request_as_the_service_answers_it(client, policies_server):
    request = json.loads((REQUESTS / "00-semantics-example.json").read_text(encoding="utf-8"))
    answer = client.post("/v1/policies/aputure/decide", json=request)
    outputs = answer.json()["outputs"]

    node = run_node(javascript_examples()[0], policies_server.url, request=request, returnId="RMA-1001")

    assert node.returncode == 0, node.stderr
    assert node.stdout.splitlines() == [
        f"{outputs['outcome']} {outputs['refund']} decided by {answer.headers['rpl-policy-version']} "
        f"{answer.headers['rpl-policy-hash']}"]
    assert node.stderr == ""
    assert outputs["outcome"] == "approve_with_fee" and outputs["refund"] == "1557.50"


def test_a_node_client_reads_the_problems_of_a_refused_request(client, policies_server):
    request = {"kind": "swap"}
    problems = client.post("/v1/policies/aputure/decide", json=request).json()["problems"]

    node = run_node(javascript_examples()[0], policies_server.url, request=request, returnId="RMA-1002")

    assert node.returncode == 0, node.stderr
    assert node.stdout == ""
    assert node.stderr.splitlines() == [f"{p['path']}: {p['message']}" for p in problems]
    assert "$.kind: expected one of return, exchange" in node.stderr.splitlines()


def test_a_node_client_reads_a_batch_line_by_line_with_a_bad_line_among_them(client, policies_server):
    requests = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(REQUESTS.glob("0[0-3]-*.json"))]
    requests.insert(2, {"kind": "swap"})
    expected = [client.post("/v1/policies/aputure/decide?explain=false", json=r) for r in requests]

    node = run_node(javascript_examples()[1], policies_server.url, requests=requests)

    assert node.returncode == 0, node.stderr
    assert node.stdout.splitlines() == [a.json()["outputs"]["outcome"] for a in expected if a.status_code == 200]
    assert [a.status_code for a in expected] == [200, 200, 422, 200, 200]
    assert len(node.stderr.splitlines()) == 1
    assert node.stderr.startswith("line 3: ")
