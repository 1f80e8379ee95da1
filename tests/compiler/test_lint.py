"""The static checks: each warns when it should, and never when it cannot show it is right."""
import textwrap

import pytest

from rplang.compiler import compile_policy
from rplang.compiler.lint import check_policy_text, lint_policy
from tests.conftest import APUTURE

HEAD = '''
policy "Lint"
currency USD
clause c: "The clause."
enum Kind: return, exchange
enum Method: card, credit
request:
  request_date: date
  delivery_date: date
  kind: Kind
  receipt: boolean
  days_late: integer
  note: optional text
  method: optional Method
  items: list of Item
record Item:
  price: money
  opened: boolean
  returned: boolean
outcomes:
  refuse "REFUSED" overrides all other rules
  approve "APPROVED"
output outcome
output refund: money total
output refund_method: optional Method
let returned_items = each item in items where item.returned
'''


def warnings(rules: str, head: str = HEAD) -> list[tuple[str, str]]:
    text = head + textwrap.dedent(rules)
    found = check_policy_text(text, "lint.rpl")
    assert all(d.severity == "warning" for d in found), [d.render() for d in found]
    return [(d.code, d.message) for d in found if d.code not in ("RPL101", "RPL102", "RPL103")]


def codes(rules: str) -> list[str]:
    return [code for code, _ in warnings(rules)]


def rule(name: str, when: str, then: str = "note", each: str = "") -> str:
    return f"\nrule {name}{each}:\n  cites c\n  when {when}\n  then {then}\n  because \"b\"\n"


# ---- aputure ----------------------------------------------------------------------------------

def test_aputure_has_no_warning():
    found = lint_policy(compile_policy(APUTURE.read_text(), "aputure.rpl").policy)
    assert [d.render() for d in found] == []


# ---- conditions that can never hold -------------------------------------------------------------

@pytest.mark.parametrize("when", [
    "kind is return and kind is exchange",
    "receipt and not receipt",
    "days_late > 5 and days_late < 3",
    "days_late >= 5 and days_late < 5",
    "days_late is 4 and days_late > 4",
    "request_date > 2026-01-01 and request_date < 2025-06-01",
    "request_date > delivery_date and delivery_date > request_date",
    "request_date > delivery_date and request_date is delivery_date",
    "not (receipt or not receipt)",
    "kind in {return} and kind is exchange",
    "false",
])
def test_a_contradiction_never_applies(when):
    assert codes(rule("r", when)) == ["RPL120"]


@pytest.mark.parametrize("when", [
    "kind is return or kind is exchange",
    "days_late > 5 and days_late < 6",  # no whole number, but the check does not claim so much
    "days_late >= 5 and days_late <= 5",
    "request_date >= delivery_date and request_date <= delivery_date",
    "method is not card and method is not credit",  # an optional: it may be missing
    "note is not given and kind is return",
    "if receipt then kind is return else kind is exchange",
    "any item in items where item.opened and not item.opened",  # a list the check does not look into
    "true",
])
def test_what_can_hold_is_not_reported(when):
    assert codes(rule("r", when)) == []


def test_an_element_known_from_its_list():
    assert codes(rule("r", "not item.returned", each=" for each item in returned_items")) == ["RPL120"]
    assert codes(rule("r", "not item.returned", each=" for each item in items")) == []


# ---- rules a refusal always overrides -----------------------------------------------------------

def test_a_note_covered_by_a_refusal_never_matters():
    found = warnings(rule("late", "days_late > 0", "refuse") + rule("late_note", "days_late > 3 and receipt"))
    assert found == [("RPL121", "the rule `late_note` never matters: whenever it applies, `late` gives `refuse`, "
                                "which overrides it")]


def test_an_element_rule_covered_by_a_refusal_of_the_same_element():
    rules = (rule("opened", "item.opened", "refuse", each=" for each item in items")
             + rule("money", "item.opened and kind is return", "add item.price to refund",
                    each=" for each item in returned_items"))
    assert codes(rules) == ["RPL121"]


def test_not_covered_when_the_refusal_looks_at_other_elements():
    rules = (rule("opened", "item.opened", "refuse", each=" for each item in returned_items")
             + rule("money", "item.opened", "add item.price to refund", each=" for each item in items"))
    assert codes(rules) == []


@pytest.mark.parametrize("rules", [
    # a refusal next to a refusal: both are reported
    rule("late", "days_late > 0", "refuse") + rule("later", "days_late > 3", "refuse"),
    # the refusal is itself an exception's target
    rule("late", "days_late > 0", "refuse") + rule("late_note", "days_late > 3")
    + "\nrule excused:\n  cites c\n  when receipt\n  then note\n  overrides late\n  because \"b\"\n",
    # the condition does not follow
    rule("late", "days_late > 3", "refuse") + rule("late_note", "days_late > 0"),
])
def test_not_covered(rules):
    assert codes(rules) == []


# ---- rules in conflict: the verifier's check, tests/verify/test_static.py ---------------------

def test_the_compiler_imports_neither_the_runtime_nor_the_verifier():
    """Dependencies run one way: no module of the compiler imports a layer above it."""
    import ast
    from pathlib import Path

    import rplang.compiler

    above = ("rplang.runtime", "rplang.verify", "z3")
    for module in Path(rplang.compiler.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            assert not [n for n in names if n.startswith(above)], (module.name, names)


def test_no_conflict_warning_from_the_compiler_alone():
    rules = rule("a", "receipt", "set refund_method to card") + rule("b", "kind is return", "set refund_method to credit")
    assert "RPL130" not in codes(rules)


# ---- the rest -----------------------------------------------------------------------------------

def test_unused_names_and_fields():
    text = HEAD + rule("r", "receipt") + "\nparameter spare = 5 days\nlet spare_value = days_late + 1\n"
    found = sorted((d.code, d.message) for d in check_policy_text(text, "lint.rpl"))
    assert ("RPL101", "the parameter `spare` is never used") in found
    assert ("RPL103", "the value `spare_value` is never used") in found
    assert ("RPL102", "the request field `kind` is never used") in found
    assert ("RPL102", "the field `price` of `items` is never used") in found


@pytest.mark.parametrize("value, reported", [
    ("0 days", True), ("0 business days", True), ("-3 days", True), ("1 day", False),
    ("101%", True), ("100%", False), ("0%", False), ("-5%", True), ("-1.00", True), ("0.00", False),
])
def test_suspicious_parameter_values(value, reported):
    text = HEAD + rule("r", "receipt", "add p to refund" if "." in value else "note") + f"\nparameter p = {value}\n"
    found = [d.code for d in check_policy_text(text, "lint.rpl")]
    assert ("RPL140" in found) == reported


def test_a_rule_without_a_clause():
    text = HEAD + "\nrule r:\n  when receipt\n  then note\n  because \"b\"\n"
    assert ("RPL110", "the rule `r` cites no clause") in [(d.code, d.message) for d in check_policy_text(text, "l.rpl")]


def test_warnings_only_when_the_policy_compiles():
    text = HEAD + rule("r", "kind is return and kind is exchange and nope")
    assert [d.code for d in check_policy_text(text, "l.rpl")] == ["RPL020"]
