"""`rpl replay --compare`: the impact of 14 -> 30 days, as `rpl diff` reports it."""
from __future__ import annotations

import json
import re

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


def test_an_export_without_keys_is_compared_by_its_rows(thirty_days, tmp_path):
    """docs/replay.md's walk-through: `write_requests` from JSON lines without a key keeps each
    row's place as `source_row`, and `--compare` explains the changed rows of that Parquet (it
    stopped with an internal error: the column was read back as a field of the request)."""
    from rplang.replay.api import write_requests
    from rplang.runtime import load_policy_text

    text = APUTURE.read_text()
    export = tmp_path / "returns.parquet"
    write_requests(load_policy_text(text, str(APUTURE)), text, str(CORPUS), str(export))
    result = run("replay", thirty_days, export, "--out", tmp_path / "new.parquet",
                 "--compare", APUTURE, "--format", "json", "--show", "1")
    assert result.code == 0, result.both
    report = json.loads(result.out)
    diffed = json.loads(run("diff", APUTURE, thirty_days, "--requests", CORPUS, "--format", "json").out)
    assert report["changed"] == diffed["changed"] > 0
    assert len(report["examples"]) == len(report["outcomes"])
    decided = run("replay", APUTURE, export, "--out", tmp_path / "python.parquet", "--via", "python")
    assert decided.code == 0 and "500 decided" in decided.err, decided.both


@pytest.mark.parametrize("keyed", [False, True])
def test_a_parquet_rows_example_is_named_by_its_row_or_its_key(thirty_days, tmp_path, keyed):
    import duckdb

    parquet = tmp_path / "requests.parquet"
    key = "'R-' || (ROW_NUMBER() OVER () + 1000) AS request_id, " if keyed else ""
    duckdb.sql(f"COPY (SELECT {key}* FROM read_json('{CORPUS}', format='newline_delimited')) TO '{parquet}'")
    result = run("replay", thirty_days, parquet, "--out", tmp_path / "new.parquet",
                 "--compare", APUTURE, "--show", "1")
    assert result.code == 0, result.both
    headings = [line for line in result.out.splitlines() if "refuse → " in line]
    assert headings and not any("on line" in h for h in headings)
    named = r"request_id=R-1\d\d\d: refuse → " if keyed else r"row \d+: refuse → "
    assert all(re.fullmatch(named + r"\w+", h) for h in headings), headings
