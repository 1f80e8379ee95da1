"""The texts known when a policy is compiled (outcomes, rule names, enum outputs, version, hash)
are ENUM types inside DuckDB (rplang/replay/texts.py): the file written has the same columns of
the same Arrow types as ever, and every text is the one `rpl eval` gives, whatever the order of
the names and however many (an ENUM's codes widen past 255 values), the rows the Python path
decides inside the query included."""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rplang.replay import engine_duckdb, plans
from rplang.replay.columns import decision_schema, request_schema, to_request
from rplang.replay.run import Replay
from rplang.replay.sources import Source
from rplang.runtime import load_policy

from ..cli.conftest import run
from .conftest import typed_rows
from .outputs import outputs_by_key
from .test_duckdb import expected

# rules declared in an order their names do not sort in, an enum output whose members do not
# sort either, set from a constant and from the request
ORDERING = """policy "Ordering"
version "7"
currency USD

enum Method: store_credit, check, card
enum Condition: new, used

record Item:
  price:      money
  returned:   boolean
  condition:  Condition  when returned  at inspection  "condition"

request:
  method:  Method
  items:   list of Item

outcomes:
  refuse   "REFUSED"  overrides all other rules
  hold     "HELD"
  approve  "APPROVED"

rule zulu:
  cites "Z."
  when method is card
  then hold
  because "card"

rule alpha for each item in items:
  cites "A."
  when item.returned and item.condition is used
  then refuse
  because "used"

rule mike:
  cites "M."
  when method is not check
  then approve
       set paid_with to method
  because "as paid"

rule bravo:
  cites "B."
  when method is check
  then approve
       set paid_with to store_credit
  because "credit"

rule echo for each item in items:
  cites "E."
  when item.returned
  then approve
       add item.price to refund
  because "refund"

output outcome
output refund: money total
output paid_with: optional Method
"""


def many_rules(count: int) -> str:
    """A policy of `count` rules (rule i applies from n = i to i + 2, and to every n past 999),
    named so that their names sort in another order, each setting a member of an enum of
    `count` members, also declared out of order."""
    members = [f"c{(i * 7) % count}" for i in range(count)]
    listed = ",\n    ".join(", ".join(members[s:s + 20]) for s in range(0, count, 20))
    rules = "\n".join(f"""rule r{(i * 7919) % 1000:03d}_{i}:
  cites "R{i}."
  when (n >= {i} and n <= {i + 2}) or n > 999
  then approve
       set code to c{i}
  because "near {i}"
""" for i in range(count))
    return f"""policy "Many rules"
version "1"
currency USD

enum Code: {listed}

request:
  n:  integer

outcomes:
  approve  "APPROVED"

{rules}
output outcome
output code: optional Code
"""


def written_types(path, keys: pa.Schema, policy) -> None:
    """The file holds exactly the decision's columns, of the types they have always had."""
    schema = pq.read_schema(path)
    assert [(f.name, f.type) for f in schema] == [(f.name, f.type) for f in decision_schema(policy.checked, keys)]


def test_rule_names_outcomes_and_enum_outputs_that_do_not_sort_in_their_order(tmp_path):
    path = tmp_path / "ordering.rpl"
    path.write_text(ORDERING)
    policy = load_policy(path)
    items = [{"price": "10.00", "returned": True, "condition": "new"},
             {"price": "20.00", "returned": True, "condition": "used"},
             {"price": "5.00", "returned": False}]
    requests = [{"method": m, "items": chosen} for m in ("store_credit", "check", "card")
                for chosen in ([], items[:1], items[1:2], items[2:], items)]
    rows = typed_rows(policy, [json.dumps(r) for r in requests])
    for row in rows[-5:]:  # an item not returned, its inspection field out of its enum: the reader
        for item in row["items"]:  # ignores it, the query hands the row to the Python path
            if not item["returned"]:
                item["condition"] = "broken"
    keys = pa.schema([pa.field("id", pa.int64(), nullable=False)])
    table = pa.Table.from_pylist([{"id": n, **row} for n, row in enumerate(rows, 1)],
                                 schema=pa.schema([*keys, *request_schema(policy.checked)]))
    pq.write_table(table, tmp_path / "in.parquet")
    out = tmp_path / "out.parquet"
    result = run("replay", path, tmp_path / "in.parquet", "--out", out)
    assert result.code == 0, result.both
    assert f"{len(rows)} decided ({len(rows) - 2} in SQL, 2 by the Python path)" in result.err
    assert outputs_by_key(policy, out, "id") == expected(policy, [json.dumps(to_request(row)) for row in rows])
    written_types(out, keys, policy)
    # and the texts were ENUMs inside DuckDB, the rule names in the order they are declared
    job = Replay(policy, ORDERING, Source((str(tmp_path / "in.parquet"),), "parquet"), ("id",))
    enums = engine_duckdb.lower(job, (("id", "column"),)).enums
    assert enums["rpl_rule"] == ["zulu", "alpha", "mike", "bravo", "echo"]
    assert enums["rpl_outcome"] == ["refuse", "hold", "approve"]
    assert ["store_credit", "check", "card"] in enums.values()


def test_more_names_than_a_one_byte_enum_holds(tmp_path):
    count = 260
    path, source, out = tmp_path / "many.rpl", tmp_path / "in.jsonl", tmp_path / "out.parquet"
    path.write_text(many_rules(count))
    lines = [json.dumps({"n": n}) for n in (-1, 0, 1, 254, 255, 256, 257, count - 1, 1000)]
    source.write_text("\n".join(lines) + "\n")
    result = run("replay", path, source, "--out", out)
    assert result.code == 0, result.both
    assert f"{len(lines)} decided ({len(lines)} in SQL, 0 by the Python path)" in result.err
    policy = load_policy(path)
    decided = outputs_by_key(policy, out, "source_row")
    assert decided == expected(policy, lines)
    assert len(decided[9][1]) == count and decided[7][1][-1].endswith("_257")  # past the 256th name
    written_types(out, pa.schema([pa.field("source_row", pa.int64())]), policy)


def test_a_plan_keeps_its_enum_types_and_refuses_a_name_that_is_not_one():
    plan = plans.Plan("SELECT 1", "SELECT 2", {}, None, {"rpl_rule": ["b", "a"], "rpl_enum0": ["x"]})
    assert plans.Plan.from_json(json.loads(json.dumps(plan.to_json()))) == plan
    for enums in ({"rpl_rule; DROP TABLE x": ["a"]}, {"rpl_rule": []}, {"rpl_rule": [1]}, ["rpl_rule"]):
        with pytest.raises(ValueError):
            plans.Plan.from_json({**plan.to_json(), "enums": enums})


def test_the_notebook_api_hands_back_plain_texts(requests_table):
    import duckdb

    from rplang.replay.api import decide

    from ..conftest import APUTURE

    result = decide(APUTURE, duckdb.from_arrow(requests_table))
    types = dict(zip(result.columns, map(str, result.types)))
    assert [types[c] for c in ("outcome", "refund_method", "rules_applied", "policy_version", "policy_hash")] == \
        ["VARCHAR", "VARCHAR", "VARCHAR[]", "VARCHAR", "VARCHAR"]
