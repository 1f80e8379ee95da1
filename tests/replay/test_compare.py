"""`rpl replay --compare`: the impact of 14 -> 30 days, as `rpl diff` reports it."""
from __future__ import annotations

import json
import re
from pathlib import Path

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
    assert result.code == 64 and "git knows no revision `no-such-rev` here" in result.err


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


def test_an_old_policy_that_cannot_be_read_is_reported_before_any_row_is_decided(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    (tmp_path / "broken.rpl").write_text('policy "broken"\nthis is not a policy\n')
    out = tmp_path / "new.parquet"
    for old, (code, message) in {
            tmp_path / "broken.rpl": (1, "`this` cannot come here"),
            tmp_path / "missing.rpl": (1, "cannot read the policy"),
            "git:HEAD:policies/no-such.rpl": (64, "`policies/no-such.rpl` is not in HEAD"),
            # its listing was read as a policy: "`tree` cannot come here"
            "git:HEAD:policies": (64, "`git:HEAD:policies`: `policies` is a folder at HEAD; name a policy file in it"),
    }.items():
        result = run("replay", APUTURE, CORPUS, "--out", out, "--compare", old)
        assert result.code == code and message in result.err, result.both
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


def _keyed(tmp_path, ids: list, rows: list[int] | None = None) -> Path:
    """Requests of the corpus (its first, or those at `rows`) as JSON lines, each with the `id`
    given (none where `ids` is None)."""
    lines = CORPUS.read_text().splitlines()
    chosen = [lines[n] for n in rows] if rows else lines[:len(ids)]
    path = tmp_path / ("keyed.jsonl" if ids else "plain.jsonl")
    path.write_text("".join(json.dumps({**({"id": n} if ids else {}), **json.loads(line)}) + "\n"
                            for n, line in zip(ids or [None] * len(chosen), chosen)))
    return path


def test_keys_that_do_not_tell_rows_apart_are_refused_before_the_old_policy_decides(thirty_days, tmp_path):
    source = _keyed(tmp_path, ["a", "b", "a", "c", "b"])
    result = run("replay", thirty_days, source, "--out", tmp_path / "new.parquet", "--compare", APUTURE)
    assert result.code == 64, result.both
    assert "error: --compare joins the decisions on their keys (id), and 2 keys are each a key of more than " \
           "one row (id=a); name columns that tell every row apart with --key" in result.err


def test_a_null_key_is_compared_as_any_other(thirty_days, tmp_path):
    rows = [99, 101, 0]  # the first two change with the longer window
    replayed = run("replay", thirty_days, _keyed(tmp_path, [None, "b", "c"], rows), "--out", tmp_path / "new.parquet",
                   "--compare", APUTURE, "--format", "json")
    assert replayed.code == 0, replayed.both
    diffed = run("diff", APUTURE, thirty_days, "--requests", _keyed(tmp_path, None, rows), "--format", "json")
    mine, theirs = json.loads(replayed.out), json.loads(diffed.out)
    assert (mine["requests"], mine["rejected"], mine["changed"]) == (theirs["requests"], 0, theirs["changed"]) == (3, 0, 2)


def test_an_input_that_does_not_fit_the_old_policys_request_is_refused_before_any_row(aputure_parquet, tmp_path):
    out, bestbuy = tmp_path / "new.parquet", ROOT / "policies" / "bestbuy.rpl"
    result = run("replay", APUTURE, aputure_parquet, "--out", out, "--compare", bestbuy)
    assert result.code == 64, result.both
    assert f"error: {bestbuy}: {aputure_parquet}: the column `kind` is not a field of the request" in result.err
    assert "requests:" not in result.err and not out.exists()


@pytest.mark.parametrize("key", ["{'n': n, 'at': TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(n)}", "[n, NULL]"])
def test_a_changed_row_of_a_record_or_list_key_is_explained(thirty_days, tmp_path, key):
    # the keys came back as dicts and lists, which no set holds: an internal error
    import duckdb

    parquet = tmp_path / "requests.parquet"
    duckdb.sql(f"COPY (SELECT {key} AS id, * EXCLUDE (n) FROM (SELECT ROW_NUMBER() OVER () AS n, * FROM "
               f"read_json('{CORPUS}', format='newline_delimited'))) TO '{parquet}'")
    result = run("replay", thirty_days, parquet, "--out", tmp_path / "new.parquet", "--compare", APUTURE,
                 "--format", "json", "--show", "1")
    assert result.code == 0, result.both
    report = json.loads(result.out)
    assert len(report["examples"]) == len(report["outcomes"]) > 0
    assert all(e["line"].startswith("id=") for e in report["examples"])
