"""Formatting, the outline, quick fixes and the examples' code lenses, over a real stdio session."""
from __future__ import annotations

import re

from lsprotocol import types as lsp

from rplang.policy_lang.format import format_policy
from tests.conftest import APUTURE, POLICIES, ROOT

from .conftest import position

TEXT = APUTURE.read_text(encoding="utf-8")
MESSY = ROOT / "tests" / "authoring" / "fmt_cases" / "messy_policy.rpl"


def test_formatting_gives_what_rpl_fmt_gives(session, tmp_path):
    messy = MESSY.read_text(encoding="utf-8")
    uri = session.open(tmp_path / "messy.rpl", messy)
    edits = session.formatting(uri)
    assert len(edits) == 1 and edits[0].range.start == lsp.Position(0, 0)
    assert edits[0].new_text == format_policy(messy) != messy
    assert edits[0].range.end == lsp.Position(messy.count("\n"), len(messy.split("\n")[-1]))


def test_formatting_a_formatted_or_broken_file_changes_nothing(session, tmp_path):
    uri = session.open(tmp_path / "formatted.rpl", format_policy(TEXT))
    assert list(session.formatting(uri)) == []
    broken = session.open(tmp_path / "broken.rpl", "rule x:\n  when")
    assert session.formatting(broken) is None


def test_the_outline_lists_declarations_with_their_members(session):
    uri = session.open(APUTURE)
    symbols = session.symbols(uri)
    by_name = {s.name: s for s in symbols}
    assert [s.name for s in symbols][:3] == ["return_window", "late_request", "proof_of_purchase"]
    assert by_name["Item"].kind == lsp.SymbolKind.Struct
    assert "warranty_card_blank" in [c.name for c in by_name["Item"].children]
    assert [c.name for c in by_name["PaymentMethod"].children] == ["card", "paypal", "check", "other"]
    assert [c.name for c in by_name["outcomes"].children] == ["refuse", "approve_with_fee", "approve"]
    assert by_name["window"].kind == lsp.SymbolKind.Function
    assert by_name["window"].selection_range.start == position(TEXT, "rule window", into=5)
    assert by_name["request"].children[0].name == "request_date"


def _quick_fix(session, uri, text, written):
    start = position(text, written)
    actions = session.code_actions(uri, lsp.Range(start, start))
    assert len(actions) == 1, actions
    (edit,) = actions[0].edit.changes[uri]
    return actions[0], edit


def test_quick_fixes_apply_what_the_diagnostics_suggest(session, tmp_path):
    cases = [  # (the mistake, what it was, what the fix writes)
        ("when order.proof_of_purchase is not valid", "proof_of_purchase", "proof_of_purchse", "proof_of_purchase"),
        ("parameter return_window_length = 14 days", "14 days", "14 day", "14 days"),
        ("parameter restocking_fee_rate  = 15%", "15%", "0.15", "15%"),
        ("add round(item.price * restocking_fee_rate) to restocking_fee",
         "round(item.price * restocking_fee_rate)", "item.price * restocking_fee_rate",
         "round(item.price * restocking_fee_rate)"),
    ]
    for n, (line, good, bad, fixed) in enumerate(cases):
        text = TEXT.replace(line, line.replace(good, bad))
        uri = session.open(tmp_path / f"fix{n}.rpl", text)
        diagnostics = session.wait_diagnostics(uri)
        action, edit = _quick_fix(session, uri, text, line.replace(good, bad)[line.index(good):])
        assert action.kind == lsp.CodeActionKind.QuickFix
        assert action.diagnostics[0].code == diagnostics[0].code
        assert edit.new_text == fixed


def test_no_quick_fix_where_nothing_is_wrong(session):
    uri = session.open(APUTURE)
    start = position(TEXT, "when request_date")
    assert list(session.code_actions(uri, lsp.Range(start, start))) == []


def test_code_lenses_run_the_examples(session, tmp_path):
    examples = POLICIES / "aputure" / "examples.rpl"
    source = examples.read_text(encoding="utf-8")
    uri = session.open(examples, source)
    lenses = session.code_lens(uri)
    assert len(lenses) == source.count("\nexample ") + source.startswith("example ")
    assert {lens.command.title for lens in lenses} == {"✓ passes"}
    assert lenses[0].range.start == position(source, "example ")
    # An expectation the policy does not meet: the lens says what came out instead.
    wrong = source.replace("expect refund = 1557.50", "expect refund = 1500.00", 1)
    session.change(uri, wrong)
    session.wait_diagnostics(uri)
    first = session.code_lens(uri)[0]
    assert first.command.title == "✗ refund: expected 1500.00, got 1557.50"
    said = session.execute(first.command.command, first.command.arguments)
    assert "refund" in said and "1557.50" in said
    session.change(uri, source)
    session.wait_diagnostics(uri)


def test_running_an_example_that_is_not_there_names_it_and_the_examples_there_are(session, tmp_path):
    """A lens of an older version of the file, or a client's own command, may name an example the
    policy no longer has: that is said, with the names it has, not that the policy has problems."""
    examples = POLICIES / "aputure" / "examples.rpl"
    source = examples.read_text(encoding="utf-8")
    uri = session.open(examples, source)
    session.wait_diagnostics(uri)
    (lens, *_) = session.code_lens(uri)
    names = re.findall(r'^example "([^"]+)"', source, re.M)
    said = session.execute(lens.command.command, [uri, "semantics exampel"])
    assert said == ('there is no example "semantics exampel": the policy has 16 examples: '
                    + ", ".join(f'"{n}"' for n in names[:10]) + " and 6 more")
    assert session.messages[-1] == lsp.ShowMessageParams(lsp.MessageType.Warning, said)
    own = session.open(tmp_path / "two.rpl", TEXT + EXAMPLES)
    assert session.wait_diagnostics(own) == []
    said = session.execute(lens.command.command, [own, "in tme"])
    assert said == 'there is no example "in tme": the policy has 2 examples: "in time", "late"'
    assert session.errors() == []


EXAMPLES = '''
example "in time":
  request {"request_date": "2026-03-10", "order": {"purchase_date": "2026-03-01",
           "delivery_date": "2026-03-05", "currency": "USD", "payment_method": "card",
           "proof_of_purchase": "valid"}, "items": []}
  expect outcome = approve

example "late":
  request {"request_date": "2026-06-10", "order": {"purchase_date": "2026-03-01",
           "delivery_date": "2026-03-05", "currency": "USD", "payment_method": "card",
           "proof_of_purchase": "valid"}, "items": []}
  expect outcome = refuse
'''


def test_code_lenses_on_a_policy_with_its_own_examples(session, tmp_path):
    text = TEXT + '''
example "in time":
  request {"request_date": "2026-03-10", "order": {"purchase_date": "2026-03-01",
           "delivery_date": "2026-03-05", "currency": "USD", "payment_method": "card",
           "proof_of_purchase": "valid"}, "items": []}
  expect outcome = refuse
'''
    uri = session.open(tmp_path / "own.rpl", text)
    assert session.wait_diagnostics(uri) == []
    (lens,) = session.code_lens(uri)
    assert lens.command.title == "✗ outcome: expected refuse, got approve"
    assert session.errors() == []
