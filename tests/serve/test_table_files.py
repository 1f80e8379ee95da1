"""A table's CSV file is part of the policy a server decides with: editing it reloads the
policy, the decisions follow the new rows, and the hash each decision carries names the new
source (a server that kept the old rows would change refunds without a trace)."""
import hashlib
import json

import httpx
import pytest

from tests.cli.conftest import run

from .server import Server, wait_for

POLICY = '''policy "fees"
enum Category: camera, drone
request:
  category: Category
  price:    money
outcomes:
  approve "APPROVED"
output fee: money total
table rate by Category: percent from "rates.csv"
rule fee:
  cites "fees"
  when price > 0.00
  then approve add round(price * rate[category]) to fee
  because "the fee for the category"
'''
REQUEST = json.dumps({"category": "camera", "price": "100.00"})


@pytest.fixture()
def served(tmp_path):
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "fees.rpl").write_text(POLICY)
    (folder / "rates.csv").write_text("category,rate\ncamera,15%\ndrone,5%\n")
    server = Server(folder, "--log-db", str(tmp_path / "decisions.db"), log_dir=tmp_path)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield folder, client
    server.stop()


def _fee_and_hash(client) -> tuple[str, str]:
    answer = client.post("/v1/policies/fees/decide", content=REQUEST)
    assert answer.status_code == 200, answer.text
    return answer.json()["outputs"]["fee"], answer.headers["rpl-policy-hash"]


def test_editing_a_tables_csv_file_reloads_the_policy(served):
    folder, client = served
    fee, first_hash = _fee_and_hash(client)
    assert fee == "15.00"
    text_only = "sha256:" + hashlib.sha256(POLICY.encode()).hexdigest()
    assert first_hash != text_only  # the CSV file is part of what the hash names

    (folder / "rates.csv").write_text("category,rate\ncamera,12%\ndrone,5%\n")
    fee, second_hash = wait_for(lambda: (lambda f: f if f[0] == "12.00" else None)(_fee_and_hash(client)))
    assert second_hash not in (first_hash, text_only)
    listed = {p["name"]: p for p in client.get("/v1/policies").json()["policies"]}
    assert listed["fees"]["text_hash"] == second_hash


def test_a_broken_csv_file_never_replaces_the_working_policy(served):
    folder, client = served
    _, first_hash = _fee_and_hash(client)
    (folder / "rates.csv").write_text("category,rate\ncamera,fifteen\ndrone,5%\n")
    problems = wait_for(lambda: client.get("/v1/policies").json()["problems"])
    assert problems[0]["name"] == "fees"
    assert problems[0]["diagnostics"][0]["file"].endswith("rates.csv")
    assert _fee_and_hash(client) == ("15.00", first_hash)


def test_replay_says_when_a_tables_csv_file_is_no_longer_what_decided(served, tmp_path):
    """The log keeps a policy's text, not its tables' files: a decision made with rows since
    edited cannot be made again as it was, and `--replay` says so rather than that rpl changed."""
    folder, client = served
    db = tmp_path / "decisions.db"
    assert _fee_and_hash(client)[0] == "15.00"
    (folder / "rates.csv").write_text("category,rate\ncamera,12%\ndrone,5%\n")
    wait_for(lambda: _fee_and_hash(client)[0] == "12.00")
    def logged() -> list[dict]:
        return [json.loads(line) for line in run("log", db).out.splitlines()]

    first, last = wait_for(lambda: (lambda e: e and e[-1]["outputs"]["fee"] == "12.00" and (e[0], e[-1]))(logged()))
    assert first["outputs"]["fee"] == "15.00"
    gone = run("log", db, "--replay", str(first["id"]))
    assert gone.code == 1 and "rates.csv" in gone.err and "changed since" in gone.err, gone.err
    again = run("log", db, "--replay", str(last["id"]))
    assert again.code == 0 and json.loads(again.out)["same"] is True
    # the policy's text edited and served since: the replay decides with the text recorded
    (folder / "fees.rpl").write_text(POLICY.replace("round(price * rate[category])", "round(price * rate[category]) * 2"))
    wait_for(lambda: _fee_and_hash(client)[0] == "24.00")
    again = run("log", db, "--replay", str(last["id"]))
    assert again.code == 0 and json.loads(again.out)["replayed"] == {"fee": "12.00"}
