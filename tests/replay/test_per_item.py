"""Outcomes decided item by item, and tables, in SQL: the bundled retailers' policies (Best Buy,
H&M, IKEA: both) and the mixed store decide their requests, and requests made from them, exactly
as `rpl eval` does, in SQL."""
from __future__ import annotations

import copy
import datetime
import json
import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from rplang.compiler import types as T
from rplang.replay.columns import plain
from rplang.runtime import load_policy

from ..conftest import POLICIES
from .test_random_policies import decide_both

PER_ITEM = ["bestbuy", "hm", "ikea", "mixed_store"]
MADE = 300  # requests made from each policy's own, per policy


def bundled_requests(name: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((POLICIES / name / "requests").glob("*.json"))
            if p.name != "expected.json"]


class Mutator:
    """Requests made from a policy's own: each field's value swapped, with some chance, for
    another of its type (an enum's other member, a value another request gives the field, a date
    days away, the other boolean), list elements dropped, repeated or taken from another request."""

    def __init__(self, policy, requests: list[dict], rng: random.Random):
        self.policy, self.requests, self.rng = policy.checked, requests, rng
        self.seen: dict[tuple, list] = {}
        for request in requests:
            self._collect(request, ())

    def _collect(self, value, path: tuple) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                self._collect(v, path + (k,))
        elif isinstance(value, list):
            self.seen.setdefault(path, []).append(value)
            for v in value:
                self._collect(v, path + ("[]",))
        else:
            self.seen.setdefault(path, []).append(value)

    def request(self) -> dict:
        made = copy.deepcopy(self.rng.choice(self.requests))
        return self._record(made, self.policy.request, ())

    def _record(self, data: dict, fields: dict, path: tuple) -> dict:
        for name, spec in fields.items():
            if name in data and self.rng.random() < 0.3:
                data[name] = self._value(data[name], plain(spec.type), path + (name,))
        return data

    def _value(self, value, t, path: tuple):
        rng = self.rng
        if isinstance(t, T.RecordType) and isinstance(value, dict):
            return self._record(value, self.policy.records[t.name], path)
        if isinstance(t, T.ListType) and isinstance(value, list):
            pool = [e for elements in self.seen.get(path, []) for e in elements]
            value = [e for e in value if rng.random() < 0.8] + \
                [copy.deepcopy(rng.choice(pool)) for _ in range(rng.randint(0, 2)) if pool]
            element = plain(t.element)
            return [self._value(e, element, path + ("[]",)) if rng.random() < 0.5 else e for e in value]
        if isinstance(t, T.EnumType):
            return rng.choice(t.members)
        if t == T.BOOLEAN:
            return not value if isinstance(value, bool) else value
        if t == T.DATE and isinstance(value, str):
            return (datetime.date.fromisoformat(value) + datetime.timedelta(days=rng.randint(-40, 40))).isoformat()
        return rng.choice(self.seen.get(path, [value]))


@pytest.mark.parametrize("name", PER_ITEM)
def test_per_item_policies_decide_in_sql_as_rpl_eval(name, tmp_path):
    policy = load_policy(POLICIES / f"{name}.rpl")
    own = bundled_requests(name)
    mutator = Mutator(policy, own, random.Random(name))
    lines = [json.dumps(r) for r in own + [mutator.request() for _ in range(MADE)]]
    got, want, counts = decide_both((POLICIES / f"{name}.rpl").read_text(), lines, tmp_path,
                                    source_name=str(POLICIES / f"{name}.rpl"))
    assert got == want
    assert item_outcomes(tmp_path / "out.parquet") == {
        n: [item.outcome for item in policy.decide_json(line).items]
        for n, line in enumerate(lines, 1) if isinstance(want[n], tuple)}
    outcomes = {w[0]["outcome"] for w in want.values() if isinstance(w, tuple)}
    assert len(outcomes) >= 3  # the requests made reach several outcomes, not one
    assert counts.by_sql >= len(own) and counts.by_sql >= counts.rows // 2  # in SQL, not handed back


def test_the_bundled_requests_need_no_python_path(tmp_path):
    for name in PER_ITEM:
        lines = [json.dumps(r) for r in bundled_requests(name)]
        _, _, counts = decide_both((POLICIES / f"{name}.rpl").read_text(), lines, tmp_path,
                                   source_name=str(POLICIES / f"{name}.rpl"))
        assert (counts.by_sql, counts.by_python) == (len(lines), 0), name


def test_a_request_without_items_is_decided_by_its_request_wide_rules(tmp_path):
    text = (Path(__file__).parent / "per_item.rpl").read_text()
    item = {"category": "game", "price": "20.00", "opened": True}
    laptop = {"category": "laptop", "price": "1000.00", "opened": False}
    requests = [{"request_date": "2025-03-01", "delivery_date": "2025-02-20", "items": items}
                for items in ([], [item], [laptop], [item, laptop], [laptop, laptop])] + \
        [{"request_date": "2025-05-01", "delivery_date": "2025-02-20", "items": items} for items in ([], [laptop])]
    got, want, counts = decide_both(text, [json.dumps(r) for r in requests], tmp_path)
    assert got == want and counts.by_sql == len(requests)
    assert [want[n][0]["outcome"] for n in range(1, 8)] == [
        "approve", "approve_in_part", "approve", "approve_in_part", "approve", "refuse", "refuse"]
    assert want[4][0]["refund"] == "900.00"  # the laptop, less 10%: the game is exchanged


def item_outcomes(path) -> dict:
    return {row["source_row"]: row["item_outcomes"]
            for row in pq.read_table(path, columns=["source_row", "item_outcomes"]).to_pylist()}


def test_the_python_path_gives_the_items_outcomes_too(tmp_path):
    from ..cli.conftest import run

    path = POLICIES / "mixed_store.rpl"
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in bundled_requests("mixed_store")))
    tables = {}
    for via in ("sql", "python"):
        result = run("replay", path, source, "--out", tmp_path / f"{via}.parquet", "--via", via)
        assert result.code == 0, result.both
        tables[via] = pq.read_table(tmp_path / f"{via}.parquet")
    assert tables["sql"].equals(tables["python"])
    assert ["approve", "exchange_only"] in tables["sql"].column("item_outcomes").to_pylist()
