"""The SQL lowering does not lower a table lookup: the policy is decided by the Python path, and
the reason names the table."""
import pyarrow as pa

from rplang.replay.api import decide
from rplang.replay.errors import NotLowerable
from rplang.replay.query import PolicyQuery
from rplang.runtime import load_policy_text

POLICY = '''policy "tables"
enum Category: camera, drone
request:
  category: Category
  price:    money
outcomes:
  approve "APPROVED"
output fee: money total
table rate by Category: percent
  camera:  15%
  drone:   5%
rule fee:
  when price > 0.00
  then approve add round(price * rate[category]) to fee
'''


def test_the_lowering_names_the_table(tmp_path):
    compiled = load_policy_text(POLICY, "tables.rpl")
    try:
        PolicyQuery(compiled, {}, "", "").select("rpl_input")
    except NotLowerable as error:
        assert "a lookup in the table `rate`" in str(error) and "line 14" in str(error)
    else:
        raise AssertionError("a lookup was lowered to SQL")


def test_asked_for_sql_the_python_path_decides_it(tmp_path):
    path = tmp_path / "tables.rpl"
    path.write_text(POLICY)
    table = pa.table({"id": [1, 2], "category": ["camera", "drone"], "price": ["100.00", "100.00"]})
    rows = decide(path, table).to_pylist()  # via="sql", the default: the lookup sends it to Python
    assert [(r["id"], f"{r['fee']:.2f}") for r in rows] == [(1, "15.00"), (2, "5.00")]
