"""The policy's source is its text and its tables' CSV files: one digest names both, and a
compiled policy holds only while each file is unchanged (the cache and the server rely on it)."""
import hashlib

from rplang.compiler.checked import source_digest, table_files_unchanged
from rplang.runtime import load_policy

from tests.conftest import APUTURE

POLICY = '''policy "fees"
enum Category: camera, drone
request:
  category: Category
outcomes:
  approve "APPROVED"
output rate_applied: percent
table rate by Category: percent from "rates.csv"
rule r:
  cites "fees"
  when category is camera or category is drone
  then approve set rate_applied to rate[category]
  because "the rate"
'''


def test_a_policy_without_tables_is_named_by_its_texts_digest():
    checked = load_policy(APUTURE).checked
    text = APUTURE.read_text(encoding="utf-8")
    assert source_digest(text, checked) == hashlib.sha256(APUTURE.read_bytes()).hexdigest()
    assert table_files_unchanged(checked)


def test_the_digest_follows_the_csv_file(tmp_path):
    (tmp_path / "fees.rpl").write_text(POLICY)
    (tmp_path / "rates.csv").write_text("category,rate\ncamera,15%\ndrone,5%\n")
    first = load_policy(tmp_path / "fees.rpl", cache=False).checked
    assert source_digest(POLICY, first) != hashlib.sha256(POLICY.encode()).hexdigest()

    (tmp_path / "rates.csv").write_text("category,rate\ncamera,12%\ndrone,5%\n")
    assert not table_files_unchanged(first)
    second = load_policy(tmp_path / "fees.rpl", cache=False).checked
    assert table_files_unchanged(second)
    assert source_digest(POLICY, second) != source_digest(POLICY, first)

    (tmp_path / "rates.csv").unlink()
    assert not table_files_unchanged(second)
