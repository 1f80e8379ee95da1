"""Table lookups in SQL: a CASE over the table's rows, inside a rule for each element as over
the request, giving what the runtime gives (an `otherwise` value, several keys, a percentage with
decimals); a table too large for a CASE is refused by name."""
import json

import pyarrow as pa
import pytest

from rplang.replay.api import decide
from rplang.replay.errors import NotLowerable
from rplang.replay.query import PolicyQuery
from rplang.replay.tables import MAX_ROWS
from rplang.runtime import load_policy_text

from .test_random_policies import decide_both

POLICY = '''policy "tables"
enum Category: camera, drone, lens
enum Region: east, west
record Item:
  category: Category
  price:    money
request:
  bought:   date
  region:   Region
  seller:   text
  category: Category
  price:    money
  items:    list of Item
outcomes:
  approve "APPROVED"
output fee: money total
output shipping: money total
output last_day: date
table rate by Category: percent
  camera:     12.5%
  drone:      5%
  otherwise:  0%
table shipping_fee by Region, Category: money
  east, camera:  9.00
  east, drone:   12.00
  east, lens:    3.00
  west, camera:  10.00
  west, drone:   14.00
  west, lens:    3.00
table seller_terms by text: window: days, pays_shipping: boolean
  "acme":     30 days, true
  otherwise:  14 days, false
rule fee:
  when price > 0.00
  then approve add round(price * rate[category]) to fee
rule item_fee for each item in items:
  when rate[item.category] > 0%
  then approve add round(item.price * rate[item.category]) to fee
rule shipping:
  when not seller_terms[seller].pays_shipping
  then approve add shipping_fee[region, category] to shipping
rule window:
  when true
  then approve set last_day to bought + seller_terms[seller].window
'''


def test_lookups_decide_in_sql_as_the_runtime(tmp_path):
    lines = []
    for n, (category, region, seller) in enumerate([("camera", "east", "acme"), ("drone", "west", "other"),
                                                     ("lens", "east", ""), ("camera", "west", "ACME")]):
        items = [{"category": c, "price": f"{19.99 + 7 * k + n:.2f}"} for k, c in enumerate(["camera", "lens", "drone"][:n])]
        lines.append(json.dumps({"bought": f"2025-03-{n + 1:02d}", "region": region, "seller": seller, "category": category,
                                 "price": f"{100.05 + n:.2f}", "items": items}))
    got, want, counts = decide_both(POLICY, lines, tmp_path)
    assert got == want
    assert (counts.by_sql, counts.by_python) == (4, 0)
    assert want[1][0]["fee"] == "12.51" and want[2][0]["shipping"] == "14.00"  # 12.5% of 100.05, rounded


def test_the_python_api_decides_a_lookup_in_sql(tmp_path):
    path = tmp_path / "tables.rpl"
    path.write_text(POLICY)
    table = pa.table({"id": [1, 2], "bought": ["2025-01-01", "2025-01-02"], "region": ["east", "west"], "seller": ["acme", "x"],
                      "category": ["camera", "drone"], "price": ["100.00", "100.00"],
                      "items": pa.array([[], []], pa.list_(pa.struct([("category", pa.string()), ("price", pa.string())])))})
    rows = decide(path, table, via="sql").to_pylist()
    assert [(r["id"], f"{r['fee']:.2f}", f"{r['shipping']:.2f}") for r in rows] == [(1, "12.50", "0.00"), (2, "5.00", "14.00")]


def test_a_table_too_large_for_a_case_is_named():
    rows = "\n".join(f'  "s{n}":  {n}.00' for n in range(MAX_ROWS + 1))
    text = f'''policy "large"
request:
  seller: text
outcomes:
  approve "APPROVED"
output fee: money total
table seller_fee by text: money
{rows}
  otherwise:  0.00
rule fee:
  when true
  then approve add seller_fee[seller] to fee
'''
    with pytest.raises(NotLowerable) as error:
        PolicyQuery(load_policy_text(text), {}, "", "").select("rpl_input")
    assert f"a lookup in the table `seller_fee` of {MAX_ROWS + 1:,} rows" in str(error.value)
    line = text.splitlines().index("  then approve add seller_fee[seller] to fee") + 1
    assert f"(line {line})" in str(error.value)
