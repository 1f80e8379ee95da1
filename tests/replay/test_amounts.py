"""Amounts too large for their column, DECIMAL(18,2): `rpl eval` decides them (it computes up to 60
digits), and a replay makes the row a reject naming the amount, on every path, never a cut or
missing amount."""
from __future__ import annotations

import json

import pytest

from rplang.runtime import load_policy

from ..cli.conftest import run
from .outputs import outputs_by_key

LARGE = """\
policy "large amounts"
version "1"
currency USD
record Item:
  price: money
request:
  items: list of Item
  fee: money
outcomes:
  refund "Refund"
rule each_item for each item in items:
  when true
  then refund
       add item.price * 3 to total
rule fee:
  when true
  then set charged to fee * 20
output outcome
output total: money total
output charged: optional money
"""
BIG = "999999999999999.99"
REQUESTS = [
    {"items": [{"price": "10.00"}], "fee": "1.00"},
    {"items": [{"price": BIG}, {"price": BIG}], "fee": "1.00"},  # a total of 16 digits fits
    {"items": [{"price": "1.00"}], "fee": BIG},  # `charged` has 17
    {"items": [{"price": BIG}] * 4, "fee": "1.00"},  # so has `total`
]


def replay_large(tmp_path, *options) -> tuple[dict, list[dict]]:
    """The decided rows by line number, and the rejects."""
    policy, source, out = tmp_path / "large.rpl", tmp_path / "in.jsonl", tmp_path / "out.parquet"
    policy.write_text(LARGE)
    source.write_text("".join(json.dumps(r) + "\n" for r in REQUESTS))
    result = run("replay", policy, source, "--out", out, *options)
    assert result.code == 2, result.both
    assert "4 requests: 2 decided" in result.err and "2 rejected" in result.err
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    return outputs_by_key(load_policy(policy), out, "source_row"), sorted(rejects, key=lambda r: r["source_row"])


def expected_large() -> tuple[dict, list[dict]]:
    decided = {1: ({"outcome": "refund", "total": "30.00", "charged": "20.00"}, ["each_item", "fee"]),
               2: ({"outcome": "refund", "total": "5999999999999999.94", "charged": "20.00"}, ["each_item", "fee"])}
    rejects = [{"source_row": row, "error": {
        "kind": "output_too_large", "output": name, "value": value,
        "message": f"output `{name}` is {value}: more than 16 digits before the point, "
                   "more than its column DECIMAL(18,2) holds"}}
        for row, name, value in [(3, "charged", "19999999999999999.80"), (4, "total", "11999999999999999.88")]]
    return decided, rejects


@pytest.mark.parametrize("via", ["sql", "python"])
def test_an_amount_too_large_for_its_column_is_a_reject_naming_it(via, tmp_path):
    assert replay_large(tmp_path, "--via", via) == expected_large()


def test_rpl_eval_decides_those_amounts(tmp_path):
    policy = tmp_path / "large.rpl"
    policy.write_text(LARGE)
    outputs = [load_policy(policy).decide_json(json.dumps(r)).outputs_json() for r in REQUESTS[2:]]
    assert [o["charged"] for o in outputs] == ["19999999999999999.80", "20.00"]
    assert [o["total"] for o in outputs] == ["3.00", "11999999999999999.88"]


PRODUCTS = """\
policy "products"
version "1"
currency USD
request:
  q: integer
outcomes:
  big "Big"
  small "Small"
rule huge:
  when q * q * 100000 > 5
  then big
output outcome
"""


def test_arithmetic_that_may_outgrow_the_engines_numbers_is_not_lowered(tmp_path):
    # q * q reaches 1e30 where the runtime computes exactly: DuckDB would stop on a BIGINT that
    # large, Spark would wrap it around; so the Python path decides the policy, and says why
    policy, source, out = tmp_path / "products.rpl", tmp_path / "in.jsonl", tmp_path / "out.parquet"
    policy.write_text(PRODUCTS)
    source.write_text('{"q": 999999999999999}\n{"q": 0}\n')
    result = run("replay", policy, source, "--via", "sql", "--out", out)
    assert result.code == 64
    assert "cannot lower arithmetic that may reach 1.0E+30 (more than a 64-bit integer holds) yet (line 10)" in result.err
    result = run("replay", policy, source, "--out", out)
    assert result.code == 0, result.both
    assert "note: the SQL compiler cannot lower arithmetic" in result.err
    assert [o["outcome"] for o, _ in outputs_by_key(load_policy(policy), out, "source_row").values()] == ["big", "small"]


TOTALS = """\
policy "totals"
version "1"
currency USD
record Item:
  price: money
  kept: boolean
request:
  items: list of Item
  fee: money
  credit: money
outcomes:
  refund "Refund"
rule fee:
  when fee > 0.00
  then refund
       subtract fee from total
rule each_item for each item in items:
  when not item.kept
  then refund
       add round(item.price * 12.5%) to total
       add item.price to paid
rule credit:
  when credit > 0.00
  then refund
       add credit to total
       subtract credit from paid
output outcome
output total: money total, at least 0.00
output paid: money total
"""


def test_totals_are_added_in_the_engines_own_decimals_as_rpl_eval_adds_them(tmp_path):
    # a total whose first term subtracts (an amount of the request), then adds sums over a
    # list (each amount rounded half up), floored at zero; another that subtracts last
    requests = [
        {"items": [{"price": "10.05", "kept": False}, {"price": "0.03", "kept": False}], "fee": "0.26", "credit": "0.01"},
        {"items": [{"price": "0.04", "kept": False}], "fee": "0.00", "credit": "0.00"},  # 0.005: up to 0.01
        {"items": [{"price": "99.99", "kept": True}], "fee": "5.00", "credit": "0.00"},  # below the floor
        {"items": [{"price": BIG, "kept": False}, {"price": BIG, "kept": False}], "fee": BIG, "credit": BIG},
        {"items": [], "fee": "0.00", "credit": "0.00"},
    ]
    policy, source, out = tmp_path / "totals.rpl", tmp_path / "in.jsonl", tmp_path / "out.parquet"
    policy.write_text(TOTALS)
    lines = [json.dumps(r) for r in requests]
    source.write_text("".join(line + "\n" for line in lines))
    result = run("replay", policy, source, "--out", out, "--via", "sql")
    assert result.code == 0, result.both
    assert "5 decided (5 in SQL, 0 by the Python path)" in result.err, result.err
    compiled = load_policy(policy)
    want = {n: (compiled.decide_json(line).outputs_json(), None) for n, line in enumerate(lines, 1)}
    decided = {n: (outputs, None) for n, (outputs, _) in outputs_by_key(compiled, out, "source_row").items()}
    assert decided == want
    assert [want[n][0]["total"] for n in (1, 2, 3)] == ["1.01", "0.01", "0.00"]
