"""Hover, definition, references, rename and completion on known places of policies/aputure.rpl."""
from __future__ import annotations

import re

import pytest
from lsprotocol import types as lsp

from tests.conftest import APUTURE, POLICIES

from .conftest import position, text_at

TEXT = APUTURE.read_text(encoding="utf-8")


def hover_text(session, uri, at) -> str:
    found = session.hover(uri, at)
    assert found is not None
    return found.contents.value


# ---- hover -------------------------------------------------------------------------------------

def test_hover_on_a_parameter_shows_its_value(session):
    uri = session.open(APUTURE)
    text = hover_text(session, uri, position(TEXT, "return_window_length", nth=3, into=2))  # in a let
    assert "**parameter** `return_window_length` = 14 days" in text


def test_hover_on_a_dated_parameter_shows_its_dated_values(session):
    path = POLICIES / "aputure_holidays.rpl"
    source = path.read_text(encoding="utf-8")
    uri = session.open(path)
    text = hover_text(session, uri, position(source, "parameter return_window_length", into=12))
    assert "from 2026-11-15 until 2026-12-31: **30 days** (the holiday window)" in text
    assert "other dates: **14 days**" in text


def test_hover_on_a_field_shows_its_type_label_and_stage(session):
    uri = session.open(APUTURE)
    text = hover_text(session, uri, position(TEXT, "item.warranty_card_blank", into=7))
    assert text.startswith("**field** `Item.warranty_card_blank`: a yes/no fact")
    assert 'label "warranty card blank"' in text and "given when `returned`" in text
    assert "known at inspection" in text


def test_hover_on_a_let_shows_its_type_and_definition(session):
    uri = session.open(APUTURE)
    text = hover_text(session, uri, position(TEXT, "in returned_items", into=5))
    assert "**let** `returned_items`: a list of Item records" in text
    assert "let returned_items      = each item in items where item.returned" in text


def test_hover_on_cites_shows_the_clause_text_with_values(session):
    uri = session.open(APUTURE)
    text = hover_text(session, uri, position(TEXT, "cites late_request", into=8))
    assert "> Request after 14 days from delivery date." in text


def test_hover_on_an_enum_and_an_outcome(session):
    uri = session.open(APUTURE)
    enum = hover_text(session, uri, position(TEXT, "PaymentMethod", nth=1, into=3))
    assert enum == "**enum** `PaymentMethod`: `card`, `paypal`, `check`, `other`"
    outcome = hover_text(session, uri, position(TEXT, "then refuse", into=6))
    assert '**outcome** `refuse` "REFUSED"' in outcome and "rank 1 of 3" in outcome
    assert "overrides all other rules" in outcome and "stronger than `approve_with_fee`, `approve`" in outcome


def test_hover_on_nothing_is_empty(session):
    uri = session.open(APUTURE)
    assert session.hover(uri, position(TEXT, "# Aputure returns", into=3)) is None


# ---- definition, references, rename ------------------------------------------------------------

def test_definition_of_a_let_used_in_a_rule_lands_on_the_let(session):
    uri = session.open(APUTURE)
    found = session.definition(uri, position(TEXT, "for each item in returned_items", into=20))
    assert found.uri == uri
    let_at = position(TEXT, "let returned_items", into=4)
    assert found.range.start == let_at and text_at(TEXT, found.range) == "returned_items"


def test_definition_of_a_field_and_of_a_variable(session):
    uri = session.open(APUTURE)
    field = session.definition(uri, position(TEXT, "item.damage_cause in misuse_causes", into=6))
    assert field.range.start == position(TEXT, "damage_cause:")
    variable = session.definition(uri, position(TEXT, "item.damage_cause in misuse_causes"))
    assert variable.range.start == position(TEXT, "rule misuse for each item", into=21)


def test_definition_from_an_examples_file_goes_to_the_policy(session):
    examples = POLICIES / "aputure" / "examples.rpl"
    source = examples.read_text(encoding="utf-8")
    uri = session.open(examples)
    found = session.definition(uri, position(source, "expect refund =", into=8))
    assert found.uri == APUTURE.resolve().as_uri()
    assert found.range.start == position(TEXT, "output refund", into=7)


def test_references_of_an_enum_value_keep_two_enums_apart(session):
    uri = session.open(APUTURE)
    payment = session.references(uri, position(TEXT, "order.payment_method is check", into=24))
    refund = session.references(uri, position(TEXT, "set refund_method to check", into=21))
    payment_lines = sorted(r.range.start.line + 1 for r in payment)
    refund_lines = sorted(r.range.start.line + 1 for r in refund)
    assert all(text_at(TEXT, r.range) == "check" for r in payment + refund)
    assert len(payment_lines) == 3 and len(refund_lines) == 2
    assert not set(payment_lines) & set(refund_lines)


def test_rename_a_parameter_edits_every_use_and_nothing_else(session):
    uri = session.open(APUTURE)
    edit = session.rename(uri, position(TEXT, "parameter restocking_fee_rate", into=12), "fee_rate")
    edits = edit.changes[uri]
    assert all(text_at(TEXT, e.range) == "restocking_fee_rate" for e in edits)
    # Every whole-word occurrence is a use: the clause's `{restocking_fee_rate}`, the declaration,
    # the rule's amounts and its sentence, and the property that states the fee.
    import re
    assert len(edits) == len(re.findall(r"\brestocking_fee_rate\b", TEXT)) == 6
    renamed = _apply(TEXT, edits)
    session_uri = session.open(APUTURE.parent / "renamed-check.rpl", renamed)
    assert session.wait_diagnostics(session_uri) == []


def test_rename_an_output_also_renames_it_in_the_examples_file(session):
    uri = session.open(APUTURE)
    edit = session.rename(uri, position(TEXT, "output restocking_fee", into=8), "fee")
    examples_uri = (POLICIES / "aputure" / "examples.rpl").resolve().as_uri()
    assert set(edit.changes) == {uri, examples_uri}
    examples = (POLICIES / "aputure" / "examples.rpl").read_text(encoding="utf-8")
    assert all(text_at(examples, e.range) == "restocking_fee" for e in edit.changes[examples_uri])
    assert len(edit.changes[examples_uri]) == examples.count("expect restocking_fee ")


def test_rename_refuses_a_keyword(session):
    import pytest
    from pygls.exceptions import JsonRpcException

    uri = session.open(APUTURE)
    with pytest.raises(JsonRpcException, match="not a name"):
        session.rename(uri, position(TEXT, "parameter restocking_fee_rate", into=12), "when")


@pytest.mark.parametrize("declared, into, new, taken", [
    ("parameter restocking_fee_rate", 12, "check_delay", "the parameter `check_delay` (line 58)"),
    ("let last_request_day", 5, "days_after_delivery", "the let `days_after_delivery` (line 111)"),
    ("let last_request_day", 5, "order", "the field `order` (line 104)"),  # a value of the request
])
def test_rename_refuses_a_name_already_taken(session, declared, into, new, taken):
    """Two declarations of one name: the edit would break the policy."""
    from pygls.exceptions import JsonRpcException

    uri = session.open(APUTURE)
    with pytest.raises(JsonRpcException, match=re.escape(f"`{new}` is already the name of {taken}")):
        session.rename(uri, position(TEXT, declared, into=into), new)


def test_rename_refuses_a_loop_variable_that_would_hide_a_field(session):
    """`{order.number}` inside the rule would then be the item's: the meaning changes, or (here) it
    no longer checks. A name no use inside the loop has is renamed."""
    from pygls.exceptions import JsonRpcException

    text = (POLICIES / "electronics.rpl").read_text(encoding="utf-8")
    uri = session.open(POLICIES / "electronics.rpl")
    at = position(text, "rule returned_item for each item", into=30)
    with pytest.raises(JsonRpcException, match=re.escape("`order` is already the name of the field `order`")):
        session.rename(uri, at, "order")
    assert len(session.rename(uri, at, "product").changes[uri]) == 4


def _apply(text: str, edits: list[lsp.TextEdit]) -> str:
    lines = text.split("\n")
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        line = lines[e.range.start.line]
        lines[e.range.start.line] = line[:e.range.start.character] + e.new_text + line[e.range.end.character:]
    return "\n".join(lines)


# ---- completion --------------------------------------------------------------------------------

def _labels(items) -> list[str]:
    return [i.label for i in items]


def test_completion_after_item_dot_offers_the_item_fields(session, tmp_path):
    # Typing `item.` makes the rule unparseable: the fields come from the last version that parsed.
    at = TEXT.index("when item.damage_cause in misuse_causes") + len("when item.")
    typing = TEXT[:at] + TEXT[at + len("damage_cause in misuse_causes"):]
    uri = session.open(tmp_path / "typing.rpl", TEXT)
    session.wait_diagnostics(uri)
    session.change(uri, typing)
    labels = _labels(session.completion(uri, position(typing, "when item.", into=10)))
    assert "warranty_card_blank" in labels and "damage_cause" in labels
    assert "purchase_date" not in labels  # a field of Order, not of Item


def test_completion_after_order_dot_offers_the_order_fields(session):
    uri = session.open(APUTURE)
    labels = _labels(session.completion(uri, position(TEXT, "order.delivery_date + return", into=6)))
    assert set(labels) == {"purchase_date", "delivery_date", "currency", "payment_method", "shipping_paid",
                           "proof_of_purchase"}


def test_completion_of_enum_values_where_the_enum_is_expected(session):
    uri = session.open(APUTURE)
    labels = _labels(session.completion(uri, position(TEXT, "order.payment_method is check", into=24)))
    assert labels == ["card", "paypal", "check", "other"]


def test_completion_after_cites_offers_clauses(session):
    uri = session.open(APUTURE)
    items = session.completion(uri, position(TEXT, "cites late_request", into=6))
    assert "late_request" in _labels(items) and "misuse" in _labels(items)
    assert all(i.kind == lsp.CompletionItemKind.Reference for i in items)


def test_completion_in_a_condition_offers_values_and_keywords(session):
    uri = session.open(APUTURE)
    labels = _labels(session.completion(uri, position(TEXT, "when request_date > last_request_day", into=5)))
    for name in ("last_request_day", "return_window_length", "request_date", "items", "and", "not"):
        assert name in labels


def test_completion_at_the_start_of_a_line_offers_snippets(session, tmp_path):
    uri = session.open(tmp_path / "new.rpl", TEXT + "\nru")
    items = session.completion(uri, lsp.Position(TEXT.count("\n") + 1, 2))
    snippets = {i.label: i for i in items if i.kind == lsp.CompletionItemKind.Snippet}
    assert set(snippets) == {"rule", "clause", "parameter", "example"}
    assert snippets["rule"].insert_text.startswith("rule ${1:name}:")
    assert snippets["rule"].insert_text_format == lsp.InsertTextFormat.Snippet


def test_definition_while_the_file_does_not_parse(session, tmp_path):
    # A line being typed above the rule: the last version that parsed still knows where the let is.
    uri = session.open(tmp_path / "broken.rpl", TEXT)
    session.wait_diagnostics(uri)
    broken = TEXT.replace("# ---- Derived values", "rule half typed when\n# ---- Derived values")
    session.change(uri, broken)
    assert session.wait_diagnostics(uri)
    found = session.definition(uri, position(broken, "for each item in returned_items", into=20))
    assert found.range.start == position(broken, "let returned_items", into=4)


def test_a_large_policy_answers_while_an_edit_is_checked(session, tmp_path):
    # Past 32 KB a version is checked in a worker; hover and completion asked meanwhile answer
    # from the last version checked, and the diagnostics of the new version follow.
    from tests.conftest import load_benchmark

    text = load_benchmark("gen_scale_policy").policy(150)
    assert len(text) > 32 * 1024
    uri = session.open(tmp_path / "large.rpl", text)
    assert [d.code for d in session.wait_diagnostics(uri)] == ["RPL102"]  # as rpl check says
    typo = text.replace("when request_date > delivery_date + window", "when request_date > delivery_dat + window")
    version = session.change(uri, typo)
    labels = _labels(session.completion(uri, position(typo, "when item.", into=10)))
    assert "condition" in labels
    hover = session.hover(uri, position(typo, "parameter window", into=11))
    assert "**parameter** `window` = 30 days" in hover.contents.value
    assert [d.code for d in session.wait_diagnostics(uri, version)] == ["RPL020"]


def test_a_large_policy_completes_after_an_edit_with_the_names_of_the_last_version_checked(session, tmp_path):
    # The index of the version shown is built once the typing pauses; a completion asked right
    # after the next edit, before that version is checked, offers the names it holds.
    import time

    from rplang.lsp.diagnostics import INDEX_WHEN_IDLE_SECONDS
    from tests.conftest import load_benchmark

    text = load_benchmark("gen_scale_policy").policy(150) + "\nparameter late_fee = 5%\n"
    uri = session.open(tmp_path / "large.rpl", text)
    session.wait_diagnostics(uri)
    grown = text.replace("parameter late_fee = 5%", "parameter late_fee = 5%\nparameter later_fee = 6%")
    session.wait_diagnostics(uri, session.change(uri, grown))
    time.sleep(2 * INDEX_WHEN_IDLE_SECONDS)  # a pause in the typing
    typed = grown.replace("when request_date > delivery_date + window",
                          "when request_date > delivery_date + window + l")
    version = session.change(uri, typed)
    labels = _labels(session.completion(uri, position(typed, "+ window + l", into=12)))
    assert {"late_fee", "later_fee", "window"} <= set(labels)
    assert session.wait_diagnostics(uri, version)


def test_completion_of_an_output_value(session):
    uri = session.open(APUTURE)
    labels = _labels(session.completion(uri, position(TEXT, "set refund_method to check", into=21)))
    assert labels == ["check", "original_payment"]
    examples = POLICIES / "aputure" / "examples.rpl"
    source = examples.read_text(encoding="utf-8")
    examples_uri = session.open(examples)
    outcomes = _labels(session.completion(examples_uri, position(source, "expect outcome = ", into=17)))
    assert outcomes == ["refuse", "approve_with_fee", "approve"]
    methods = _labels(session.completion(examples_uri, position(source, "expect refund_method = ", into=23)))
    assert methods == ["check", "original_payment"]


# ---- a rule's own values, and dates -------------------------------------------------------------

RULE_VALUES = '''policy "per item"
currency USD
parameter holiday_season = november 1 through january 31
enum Category: phone, laptop
record Item:
  category:  Category
  delivered: date
request:
  requested: date
  items:     list of Item
outcomes:
  refuse "REFUSED"
  approve "APPROVED"
rule late for each item in items:
  let item_window = if item.category is phone then 14 days else 30 days
  let last_day = max(item.delivered + item_window, end of holiday_season for item.delivered)
  cites "Phones within 14 days, the rest within 30, holiday purchases until January 31."
  when requested > last_day
  then refuse
  because "the last day was {last_day}"
'''


def test_definition_and_rename_of_a_rules_own_value(session, tmp_path):
    uri = session.open(tmp_path / "per_item.rpl", RULE_VALUES)
    session.wait_diagnostics(uri)
    found = session.definition(uri, position(RULE_VALUES, "requested > last_day", into=13))
    assert found.range.start == position(RULE_VALUES, "let last_day", into=4)
    assert text_at(RULE_VALUES, found.range) == "last_day"
    uses = session.references(uri, position(RULE_VALUES, "item_window", nth=1))
    assert len(uses) == 2  # declared, used in `last_day`


def test_completion_offers_a_rules_own_values_and_the_date_words(session, tmp_path):
    uri = session.open(tmp_path / "per_item.rpl", RULE_VALUES)
    session.wait_diagnostics(uri)
    labels = _labels(session.completion(uri, position(RULE_VALUES, "when requested", into=5)))
    assert {"item_window", "last_day", "weekday of", "end of month of"} <= set(labels)
