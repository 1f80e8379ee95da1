"""Hot reload over a real server: a broken policy never replaces a working one, a good one is
swapped in, and a request in flight finishes on the version it started with."""
import hashlib
import json
import shutil

import httpx
import pytest

from tests.conftest import APUTURE, APUTURE_REQUESTS

from .server import Server, wait_for

NDJSON = {"Content-Type": "application/x-ndjson"}
EXAMPLE = (APUTURE_REQUESTS / "00-semantics-example.json").read_bytes()
LINE = json.dumps(json.loads(EXAMPLE)).encode() + b"\n"
FEE_15 = "parameter restocking_fee_rate  = 15%"
ORIGINAL = "sha256:" + hashlib.sha256(APUTURE.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server watching a folder that holds a copy of aputure.rpl, which the tests edit."""
    folder = tmp_path_factory.mktemp("policies")
    shutil.copy(APUTURE, folder / "aputure.rpl")
    server = Server(folder, log_dir=folder.parent)
    yield folder / "aputure.rpl", server
    server.stop()


@pytest.fixture()
def served(server):
    """The server, serving aputure.rpl as bundled (put back and reloaded if a test changed it)."""
    path, server = server
    with httpx.Client(base_url=server.url, timeout=30) as client:
        if path.read_text() != APUTURE.read_text():
            path.write_text(APUTURE.read_text())
        wait_for(lambda: aputure_hash(client) == ORIGINAL and not listed(client)["problems"])
        yield path, client, server


def listed(client) -> dict:
    return client.get("/v1/policies").json()


def aputure_hash(client) -> str:
    return {p["name"]: p for p in listed(client)["policies"]}["aputure"]["text_hash"]


def decide(client):
    answer = client.post("/v1/policies/aputure/decide", content=EXAMPLE)
    assert answer.status_code == 200, answer.text
    return answer


def reloads(client, result: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(f'rpl_policy_reloads_total{{policy="aputure",result="{result}"}}'):
            return float(line.split()[-1])
    return 0.0


def edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_a_broken_policy_never_replaces_the_working_one_and_a_good_one_does(served):
    path, client, server = served
    first = decide(client)
    reloaded_before = reloads(client, "ok")
    old_hash = first.headers["rpl-policy-hash"]
    assert old_hash == aputure_hash(client) and first.json()["outputs"]["restocking_fee"] == "283.50"

    edit(path, FEE_15, "parameter restocking_fee_rate  = 15 days +")  # does not parse
    problems = wait_for(lambda: listed(client)["problems"])
    assert problems[0]["name"] == "aputure" and problems[0]["files"] == [str(path)]
    assert problems[0]["diagnostics"][0]["file"] == str(path) and problems[0]["diagnostics"][0]["line"]
    assert "error[" in problems[0]["rendered"]
    still = decide(client)  # the working version goes on serving
    assert still.headers["rpl-policy-hash"] == old_hash and still.json() == first.json()
    assert aputure_hash(client) == old_hash
    assert reloads(client, "failed") >= 1
    assert "policy aputure failed to load, the version loaded before keeps serving" in server.log()

    path.write_text(APUTURE.read_text().replace(FEE_15, "parameter restocking_fee_rate  = 20%")
                    .replace('version "2026.1"', 'version "2026.9"'))
    new_hash = wait_for(lambda: aputure_hash(client) != old_hash and aputure_hash(client))
    assert listed(client)["problems"] == []
    after = decide(client)
    assert after.headers["rpl-policy-hash"] == new_hash and after.headers["rpl-policy-version"] == "2026.9"
    assert after.json()["outputs"]["restocking_fee"] == "378.00"  # 20% of 1,890.00
    assert reloads(client, "ok") - reloaded_before == 1


def test_a_batch_in_flight_finishes_on_the_version_it_started_with(served):
    path, client, server = served
    old_hash = aputure_hash(client)
    swapped = []

    def lines():
        for _ in range(3):
            yield LINE
        # while the batch is open: a new version, and wait until the server serves it
        edit(path, FEE_15, "parameter restocking_fee_rate  = 20%")
        with httpx.Client(base_url=server.url, timeout=30) as other:
            swapped.append(wait_for(lambda: aputure_hash(other) != old_hash and aputure_hash(other)))
            assert decide(other).json()["outputs"]["restocking_fee"] == "378.00"
        for _ in range(3):
            yield LINE

    answer = client.post("/v1/policies/aputure/decide?explain=false", content=lines(), headers=NDJSON)
    assert answer.status_code == 200 and swapped
    assert answer.headers["rpl-policy-hash"] == old_hash
    fees = [json.loads(line)["outputs"]["restocking_fee"] for line in answer.text.splitlines()]
    assert fees == ["283.50"] * 6  # all six on the old version, three of them after the swap
    assert decide(client).headers["rpl-policy-hash"] == swapped[0]


def test_a_policy_added_is_served_and_one_removed_is_not(served):
    path, client, server = served
    (path.parent / "second.rpl").write_text(APUTURE.read_text())
    wait_for(lambda: "second" in [p["name"] for p in listed(client)["policies"]])
    assert client.post("/v1/policies/second/decide", content=EXAMPLE).status_code == 200
    (path.parent / "second.rpl").unlink()
    wait_for(lambda: "second" not in [p["name"] for p in listed(client)["policies"]])
    assert client.post("/v1/policies/second/decide", content=EXAMPLE).status_code == 404


def test_a_server_started_on_a_broken_policy_is_not_ready_until_it_is_fixed(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    path = folder / "aputure.rpl"
    path.write_text(APUTURE.read_text().replace(FEE_15, "parameter restocking_fee_rate  = 15 days +"))
    server = Server(folder, log_dir=tmp_path)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            answer = client.get("/readyz")
            assert answer.status_code == 503 and answer.headers["content-type"] == "application/problem+json"
            assert listed(client)["policies"] == [] and listed(client)["problems"][0]["name"] == "aputure"
            assert client.post("/v1/policies/aputure/decide", content=EXAMPLE).status_code == 404
            path.write_text(APUTURE.read_text())
            wait_for(lambda: client.get("/readyz").status_code == 200)
            assert decide(client).headers["rpl-policy-hash"] == ORIGINAL
    finally:
        server.stop()


@pytest.mark.parametrize("spoil", ["not UTF-8", "unreadable"])
def test_a_policy_file_that_cannot_be_read_never_replaces_the_working_one(served, spoil):
    import os

    path, client, server = served
    if spoil == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads a file whatever its mode")
    old_hash = aputure_hash(client)
    try:
        if spoil == "not UTF-8":
            path.write_bytes(b"\xff\xfe" + APUTURE.read_bytes())
        else:
            path.chmod(0)
        (problem,) = wait_for(lambda: listed(client)["problems"])
        assert problem["name"] == "aputure" and "cannot read the policy" in problem["diagnostics"][0]["message"]
        assert decide(client).headers["rpl-policy-hash"] == old_hash
    finally:
        path.chmod(0o644)
        path.write_text(APUTURE.read_text())


def test_a_folder_replaced_whole_is_watched_again(served):
    """A deployment may replace the served folder whole (removed and copied again, or renamed
    aside and a new one renamed in): the new folder's policies are served, and its edits too."""
    path, client, server = served
    folder = path.parent

    def version() -> str:
        return {p["name"]: p for p in listed(client)["policies"]}["aputure"]["version"]

    shutil.rmtree(folder)
    folder.mkdir()
    path.write_text(APUTURE.read_text().replace('version "2026.1"', 'version "2026.8"'))
    wait_for(lambda: version() == "2026.8")
    edit(path, 'version "2026.8"', 'version "2026.9"')  # the new folder is watched
    wait_for(lambda: version() == "2026.9")
    aside = folder.with_name(folder.name + "-old")
    folder.rename(aside)
    shutil.copytree(aside, folder)
    shutil.rmtree(aside)
    edit(path, 'version "2026.9"', 'version "2026.10"')
    wait_for(lambda: version() == "2026.10")


def test_a_broken_policy_counts_one_failed_reload_while_other_files_change(served):
    """Each change of the folder compiles the broken policy again, its file unchanged: the metrics
    count the change that broke it, once (as with several workers, each reloading it)."""
    path, client, server = served
    failed = reloads(client, "failed")
    edit(path, FEE_15, "parameter restocking_fee_rate  = 15 days +")
    wait_for(lambda: reloads(client, "failed") == failed + 1)
    second = path.parent / "second.rpl"
    try:
        for version in ("2026.2", "2026.3"):  # two changes of another file, each reading the folder again
            second.write_text(APUTURE.read_text().replace('version "2026.1"', f'version "{version}"'))
            wait_for(lambda: {p["name"]: p for p in listed(client)["policies"]}.get("second", {}).get("version")
                     == version)
        assert "second" in [p["name"] for p in listed(client)["policies"]]
        assert reloads(client, "failed") == failed + 1
    finally:
        second.unlink()
