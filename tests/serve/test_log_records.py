"""The records the server hands the decision log's writer process: what the writer reads back is
what the server recorded, and a time is written as `log_store.log_time` writes it."""
import random

import orjson

import pytest

from rplang.serve.log_store import log_time
from rplang.serve.log_writer import batch, decision_record, read_batches, rows, text_record, time_text
from tests.conftest import POLICIES


def test_a_batch_reads_back_as_the_rows_recorded(tmp_path):
    request = '{"item": "Ærø", "note": "ünïcode"}'.encode()
    records = [
        text_record("sha256:ab", "aputure", "policies/aputure.rpl", "2026-01-02T03:04:05.006+00:00", "policy « text »\n"),
        decision_record((1_767_225_600.25, "req-1", None, "aputure", "2026.1", "sha256:ab", "refuse", None, 0),
                        request, b'{"outcome":"refuse"}', b'["late"]'),
        decision_record((1_767_225_601.5, "req-2", 7, "aputure", None, "sha256:ab", "approve", "2026-03-01", 1),
                        b"", b"{}", b"[]"),
    ]
    pipe = tmp_path / "pipe"
    pipe.write_bytes(batch(records) + batch(records[1:]))
    with open(pipe, "rb") as stream:
        batches = list(read_batches(stream))
    assert len(batches) == 2
    texts, decisions = rows(batches[0])
    assert texts == [("sha256:ab", "aputure", "policies/aputure.rpl", "2026-01-02T03:04:05.006+00:00",
                      "policy « text »\n")]
    assert decisions == [
        ("2026-01-01T00:00:00.250+00:00", "req-1", None, "aputure", "2026.1", "sha256:ab", "refuse", None, 0,
         request.decode(), '{"outcome":"refuse"}', '["late"]'),
        ("2026-01-01T00:00:01.500+00:00", "req-2", 7, "aputure", None, "sha256:ab", "approve", "2026-03-01", 1,
         "", "{}", "[]"),
    ]
    assert rows(batches[1]) == ([], decisions)


def test_retention_keeps_the_text_each_policy_file_was_last_loaded_with(tmp_path):
    """A server may serve a text for longer than the log keeps decisions: the last text loaded of
    each file is kept, or the next decision it makes could not be replayed. Loaded again (a
    reverted edit, a restart), a text is the last loaded again."""
    import datetime

    from rplang.serve.log_store import connect, policy_text, retain
    from rplang.serve.log_file import write_rows

    def write_batch(connection, records):
        write_rows(connection, *rows(records))

    connection = connect(str(tmp_path / "decisions.db"))
    loads = [("sha256:v1", "2020-01-01"), ("sha256:v2", "2020-02-01"), ("sha256:v1", "2020-03-01"),  # reverted
             ("sha256:v3", "2020-04-01")]
    for text_hash, day in loads[:3]:
        write_batch(connection, text_record(text_hash, "shop", "shop.rpl", f"{day}T00:00:00.000+00:00", text_hash))
    write_batch(connection, text_record("sha256:other", "other", "other.rpl", "2020-01-01T00:00:00.000+00:00",
                                        "never decided, still served"))
    assert retain(connection, datetime.datetime(2021, 1, 1)) == (0, 1)
    assert policy_text(connection, "sha256:v1") and policy_text(connection, "sha256:other")
    assert policy_text(connection, "sha256:v2") is None  # superseded, and named by no decision
    text_hash, day = loads[3]
    write_batch(connection, text_record(text_hash, "shop", "shop.rpl", f"{day}T00:00:00.000+00:00", "v3"))
    assert retain(connection, datetime.datetime(2021, 1, 1)) == (0, 1)
    assert policy_text(connection, "sha256:v1") is None and policy_text(connection, "sha256:v3")


def test_a_batch_cut_short_is_not_read(tmp_path, caplog):
    whole = batch([decision_record((1.0, "r", None, "p", None, "h", "o", None, 0), b"{}", b"{}", b"[]")])
    pipe = tmp_path / "pipe"
    pipe.write_bytes(whole + whole[:-3])
    with open(pipe, "rb") as stream:
        assert len(list(read_batches(stream))) == 1
    assert "cut short" in caplog.text


@pytest.mark.parametrize("moment", [0.0, 1.0, 0.9999996, 0.0004999, 1_799_999_999.9999996, 1_799_999_999.0000004,
                                    1_797_066_173.6779995])
def test_times_are_written_as_the_log_writes_them(moment):
    assert time_text(moment) == log_time(moment)


def test_times_are_written_as_the_log_writes_them_at_random():
    generator = random.Random(16)
    for _ in range(20_000):
        moment = generator.uniform(1.6e9, 2.2e9)
        assert time_text(moment) == log_time(moment)


def _decisions(policy, name: str):
    """The decisions of the bundled requests of policy `name` that `policy` decides (those it
    refuses as malformed left out)."""
    from rplang.policy_lang.errors import RplError

    for request in sorted((POLICIES / name / "requests").glob("*.json")):
        try:
            yield policy.decide_json(request.read_bytes())
        except RplError:
            continue


@pytest.mark.parametrize("name", ["aputure", "bestbuy", "electronics", "hm", "ikea", "mixed_store"])
def test_a_whole_decisions_logged_outputs_are_taken_from_its_answer_as_orjson_writes_them(name):
    from rplang.runtime import load_policy
    from rplang.serve.decision_log import opens_with_outputs, outputs_and_rules
    from rplang.stream import decision_bytes

    policy = load_policy(POLICIES / f"{name}.rpl")
    assert opens_with_outputs(policy)
    decided = list(_decisions(policy, name))
    assert decided
    for decision in decided:
        answer = decision_bytes(decision)
        taken = outputs_and_rules(decision, None, False, answer, True)
        assert taken == (orjson.dumps(decision.outputs_json()), decision.rule_names())
        assert taken[0] in answer  # a slice of it, not made again


def test_outputs_that_may_hold_their_own_explanation_key_are_made_not_taken():
    """An output named `explanation` (whose date range, say, would read as the end of the outputs)
    or an output holding records (keys of their own): the outputs are made from the decision."""
    from rplang.compiler import types as T
    from rplang.runtime import load_policy_text
    from rplang.serve.decision_log import opens_with_outputs, outputs_and_rules
    from rplang.stream import decision_bytes

    text = (POLICIES / "electronics.rpl").read_text()
    policy = load_policy_text(text.replace("refund_method", "explanation"), "electronics.rpl")
    assert "explanation" in policy.output_types and not opens_with_outputs(policy)
    decision = next(d for d in _decisions(policy, "electronics") if d.outputs["explanation"] is not None)
    answer = decision_bytes(decision)
    assert outputs_and_rules(decision, None, False, answer, False)[0] == orjson.dumps(decision.outputs_json())

    class Holding:
        output_types = {"outcome": T.TEXT, "returned": T.ListType(T.RecordType("Item"))}
    assert not opens_with_outputs(Holding())
    Holding.output_types = {"outcome": T.TEXT, "window": T.OptionalType(T.ListType(T.DATE))}
    assert opens_with_outputs(Holding())


def test_the_writer_tells_its_state_and_counts_a_batch_it_cannot_read(tmp_path):
    """The writer over real pipes: a batch whose decision's columns are not JSON (a fault of rpl's)
    is counted as lost, the next is written, and each change of its state is a line on its output."""
    import sqlite3
    import subprocess

    from rplang.serve.decision_log import WRITER

    db = tmp_path / "decisions.db"
    text = text_record("sha256:t", "shop", "shop.rpl", log_time(0), "text")

    def decision(request_id: str) -> bytes:
        return decision_record((0.0, request_id, None, "shop", None, "sha256:t", "refuse", None, 0), b"{}", b"{}", b"[]")

    broken = decision("r-0").replace(b'[0.0,"r-0"', b'{0.0,"r-0"')  # its columns no longer JSON
    pipe = batch([text]) + batch([broken, decision("r-1")]) + batch([decision("r-2")])
    done = subprocess.run([*WRITER, str(db)], input=pipe, capture_output=True, timeout=60, check=True)
    told = [orjson.loads(line) for line in done.stdout.splitlines()]
    assert told == [{"state": "ok", "lost": 0, "held": 0}, {"state": "ok", "lost": 2, "held": 0}]
    assert b"the decision log could not read a batch of" in done.stderr
    assert b"lacks 2 decisions" in done.stderr
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT request_id FROM decisions").fetchall() == [("r-2",)]
