"""A rule citing several clauses: each name goes to its clause, and hover shows every text."""
from __future__ import annotations

from .conftest import position, text_at

TEXT = '''policy "Citations"
currency USD
clause refunds:  "Items are refunded."
clause exchange: "Defective items may be exchanged."
request:
  price: money
outcomes:
  approve "APPROVED"
output refund: money total
rule refund:
  cites refunds, exchange
  cites "the store's own words"
  when true
  then add price to refund
  because "refund {price}"
'''


def test_each_cited_name_goes_to_its_clause(session, tmp_path):
    path = tmp_path / "citations.rpl"
    path.write_text(TEXT, encoding="utf-8")
    uri = session.open(path)
    for name, at in (("refunds", position(TEXT, "cites refunds", into=8)),
                     ("exchange", position(TEXT, "refunds, exchange", into=11))):
        found = session.definition(uri, at)
        assert found.range.start == position(TEXT, f"clause {name}", into=7)
        assert text_at(TEXT, found.range) == name


def test_hover_on_a_rule_shows_every_clause_it_cites(session, tmp_path):
    path = tmp_path / "citations.rpl"
    path.write_text(TEXT, encoding="utf-8")
    uri = session.open(path)
    text = session.hover(uri, position(TEXT, "rule refund", into=6)).contents.value
    assert "cites `refunds`:\n\n> Items are refunded." in text
    assert "cites `exchange`:\n\n> Defective items may be exchanged." in text
    assert "cites:\n\n> the store's own words" in text
