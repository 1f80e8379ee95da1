"""A text input's requests as typed columns (rows.py, `typed_batches`): the request reader's
requests go to Arrow as it converted them, with its own keys (`#path`) in every record. The
batches are exactly those of the rows each request was first walked into, those keys dropped:
for the Aputure corpus, generated requests and random policies' requests, with optional fields
left out or null, empty lists, lists within the records of a list, and rows the reader refuses
among them, over several batches."""
from __future__ import annotations

import json
import random

import pyarrow as pa
import pytest

from rplang.policy_lang.errors import PolicyError, RplError
from rplang.replay import rows as replay_rows
from rplang.replay.columns import request_schema
from rplang.replay.errors import ReplayError
from rplang.replay.rows import typed_batches
from rplang.replay.run import Counts, RejectsFile, Replay
from rplang.replay.sources import resolve
from rplang.runtime import load_policy_text
from rplang.stream import error_json, line_request

from ..conftest import APUTURE
from ..robustness.policygen import RandomChooser, generate

BATCH = 7  # rows of the input a batch: the requests below fill several


def walked(value):
    """A converted request as a row, each of its values walked in Python and the reader's own
    keys dropped: how `typed_batches` made its rows before it handed Arrow the requests."""
    if isinstance(value, dict):
        return {k: walked(v) for k, v in value.items() if not k.startswith("#")}
    if isinstance(value, list):
        return [walked(v) for v in value]
    return value


def assert_batches_are_the_walked_rows(text: str, lines: list[str], folder) -> int:
    """`typed_batches` of `lines` against the walked rows of the requests the reader accepts, and
    its rejects against the reader's errors; how many rows were accepted."""
    compiled = load_policy_text(text)
    source = folder / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    rejects = RejectsFile(str(folder / "rejects.jsonl"))
    counts = Counts()
    try:
        batches = list(typed_batches(Replay(compiled, text, resolve(str(source)), (), "sql"), (), rejects, counts))
    finally:
        rejects.close()
    rows, refused = [], []
    for number, line in enumerate(lines, 1):
        try:
            rows.append({"source_row": number, **walked(compiled.read_request(line_request(line.encode())))})
        except RplError as error:
            refused.append({"source_row": number, "error": error_json(error)})
    schema = pa.schema([pa.field("source_row", pa.int64()), *request_schema(compiled.checked)])
    assert [b.schema for b in batches] == [schema] * len(batches)
    assert len(batches) == max(1, -(-len(lines) // BATCH))  # a batch of every BATCH rows of the input
    got = pa.Table.from_batches(batches, schema)
    assert got.equals(pa.Table.from_pylist(rows, schema)), "the batches differ from the walked rows"
    written = (folder / "rejects.jsonl").read_text().splitlines() if refused else []
    assert [json.loads(line) for line in written] == refused
    assert counts.rows == len(lines)
    return len(rows)


def unusual(lines: list[str]) -> list[str]:
    """Aputure requests with what a request may leave out or give empty, and a few the reader refuses."""
    out = []
    for number, line in enumerate(lines):
        request = json.loads(line)
        kind = number % 11
        if kind == 1:
            request.pop("received_date", None)
            request["order"].pop("shipping_paid", None)  # a default
        elif kind == 2:
            request["received_date"] = None
            request["items"][0]["bundled_with"] = None
        elif kind == 3:
            request["items"] = []
        elif kind == 4:
            request["items"][0]["marks"] = []
        elif kind == 5:  # not returned: the inspection facts are read as not known, if given
            request["items"][0]["returned"] = False
        elif kind == 6:
            request["request_date"] = "2026-02-30"
        elif kind == 7:
            out.append(line[:-2])
            continue
        elif kind == 8:
            request["items"][0]["marks"] = None
        out.append(json.dumps(request))
    return out


@pytest.fixture(autouse=True)
def small_batches(monkeypatch):
    monkeypatch.setattr(replay_rows, "BATCH", BATCH)


def test_aputure_requests_are_the_walked_rows(aputure_lines, tmp_path):
    lines = aputure_lines.read_text().splitlines()
    assert_batches_are_the_walked_rows(APUTURE.read_text(), unusual(lines[:300]), tmp_path)
    # every request accepted, the last batch full
    assert assert_batches_are_the_walked_rows(APUTURE.read_text(), lines[:3 * BATCH], tmp_path) == 3 * BATCH


def test_random_policies_requests_are_the_walked_rows(tmp_path):
    tried = 0
    for seed in range(40):
        policy, requests = generate(RandomChooser(random.Random(seed)))
        try:
            request_schema(load_policy_text(policy.text).checked)
        except (PolicyError, ReplayError):
            continue
        lines = [json.dumps(requests.request()) for _ in range(20)]
        tried += assert_batches_are_the_walked_rows(policy.text, lines, tmp_path) > 0
    assert tried >= 25


def test_no_rows_and_only_rejects_give_one_empty_batch(tmp_path):
    text = APUTURE.read_text()
    assert assert_batches_are_the_walked_rows(text, ["{}", "[", '{"kind": "swap"}'], tmp_path) == 0
