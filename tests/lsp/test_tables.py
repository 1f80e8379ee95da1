"""The language server knows tables: hover on a table's name (at its declaration and at a lookup)
shows its keys, its columns and its rows; go to definition finds the declaration."""
from __future__ import annotations

from .conftest import position


def _policy() -> str:
    from tests.runtime.test_tables import POLICY
    return POLICY


def test_hover_on_a_lookup_shows_the_table(session, tmp_path):
    text = _policy()
    path = tmp_path / "tables.rpl"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path, text)
    found = session.hover(uri, position(text, "restocking_rate[category]", into=3))
    assert found is not None
    value = found.contents.value
    assert "**table** `restocking_rate` by Category: a percentage (2 rows)" in value
    assert "- camera: 15%" in value and "- otherwise: 0%" in value


def test_hover_on_a_table_of_several_columns_and_definition(session, tmp_path):
    text = _policy()
    path = tmp_path / "tables.rpl"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path, text)
    at = position(text, "seller_terms[seller].fee", into=2)
    value = session.hover(uri, at).contents.value
    assert "**table** `seller_terms` by text: fee: an amount of money, window: a number of days" in value
    assert "- acme: 2.50, 30 days, no" in value
    target = session.definition(uri, at)
    assert target.range.start.line == text[:text.index("table seller_terms")].count("\n")


def test_completion_offers_tables_as_lookups(session, tmp_path):
    text = _policy()
    path = tmp_path / "tables.rpl"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path, text)
    session.wait_diagnostics(uri)
    at = position(text, "when shipping[region", into=len("when "))
    items = {i.label: i for i in session.completion(uri, at)}
    assert items["shipping"].detail == "table" and items["shipping"].insert_text == "shipping[$1]"
