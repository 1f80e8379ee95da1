"""`rpl replay --compare`: the impact of 14 -> 30 days, as `rpl diff` reports it."""
from __future__ import annotations

import json

import pytest

from ..cli.conftest import run
from ..conftest import APUTURE, ROOT
from .conftest import CORPUS


@pytest.fixture(scope="module")
def thirty_days(tmp_path_factory):
    path = tmp_path_factory.mktemp("compare") / "aputure30.rpl"
    text = APUTURE.read_text()
    path.write_text(text.replace("parameter return_window_length = 14 days",
                                 "parameter return_window_length = 30 days"))
    return path


def test_the_impact_is_what_rpl_diff_reports(thirty_days, aputure_lines, tmp_path):
    replayed = run("replay", thirty_days, aputure_lines, "--out", tmp_path / "new.parquet",
                   "--compare", APUTURE, "--format", "json")
    assert replayed.code == 0, replayed.both
    diffed = run("diff", APUTURE, thirty_days, "--requests", aputure_lines, "--format", "json")
    mine, theirs = json.loads(replayed.out), json.loads(diffed.out)
    for key in ("requests", "rejected", "changed", "outcomes", "money", "other_outputs"):
        assert mine[key] == theirs[key], key
    assert mine["changed"] > 100 and {o["from"] for o in mine["outcomes"]} == {"refuse"}
    # a sample per transition, explained under both versions, and the money of each transition
    transitions = {(o["from"], o["to"]) for o in mine["outcomes"]}
    assert len(mine["examples"]) >= len(transitions)
    by_transition = {(t["from"], t["to"]): t for t in mine["money_by_transition"]}
    assert set(by_transition) == transitions
    total = sum(float(t["total_delta"].get("refund", 0)) for t in by_transition.values())
    assert f"{total:.2f}" == mine["money"]["refund"]["total_delta"]


def test_the_markdown_report(thirty_days, tmp_path, snapshot):
    result = run("replay", thirty_days, CORPUS, "--out", tmp_path / "new.parquet",
                 "--compare", APUTURE, "--format", "markdown", "--show", "1")
    assert result.code == 0, result.both
    assert result.out.replace(str(thirty_days), "aputure30.rpl").replace(str(APUTURE), "aputure.rpl") == snapshot


def test_the_old_policy_may_come_from_git(thirty_days, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run("replay", thirty_days, CORPUS, "--out", tmp_path / "new.parquet",
                 "--compare", "git:HEAD:policies/aputure.rpl", "--format", "json")
    assert result.code == 0, result.both
    assert json.loads(result.out)["changed"] > 0
    result = run("replay", thirty_days, CORPUS, "--out", tmp_path / "new.parquet",
                 "--compare", "git:no-such-rev:policies/aputure.rpl")
    assert result.code == 1 and "cannot read it from git" in result.err


def test_an_old_policy_that_cannot_be_read_is_reported_before_any_row_is_decided(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    (tmp_path / "broken.rpl").write_text('policy "broken"\nthis is not a policy\n')
    out = tmp_path / "new.parquet"
    for old, message in {tmp_path / "broken.rpl": "`this` cannot come here",
                         tmp_path / "missing.rpl": "cannot read the policy",
                         "git:HEAD:policies/no-such.rpl": "cannot read it from git"}.items():
        result = run("replay", APUTURE, CORPUS, "--out", out, "--compare", old)
        assert result.code == 1 and message in result.err, result.both
        assert "requests:" not in result.err and not out.exists()


def test_an_old_policy_the_sql_cannot_lower_is_decided_by_the_python_path(tmp_path):
    divided = tmp_path / "divided.rpl"
    divided.write_text(APUTURE.read_text().replace("add round(item.price * restocking_fee_rate) to restocking_fee",
                                                   "add round(item.price / 2) to restocking_fee"))
    replayed = run("replay", APUTURE, CORPUS, "--out", tmp_path / "new.parquet", "--compare", divided,
                   "--format", "json")
    assert replayed.code == 0, replayed.both
    assert f"note: {divided}: the SQL compiler cannot lower a division" in replayed.err
    diffed = run("diff", divided, APUTURE, "--requests", CORPUS, "--format", "json")
    mine, theirs = json.loads(replayed.out), json.loads(diffed.out)
    assert mine["changed"] > 0 and mine["money"] == theirs["money"]
