"""How rules combine: outcome precedence, outcomes that override all other rules, rule-level
`overrides`, totals with a floor, set outputs and their defaults."""
import pytest

from rplang.runtime import load_policy_text

POLICY = '''policy "combination"
currency USD

record Line:
  sku:      text
  price:    money
  damaged:  boolean
  waived:   boolean

request:
  late:        boolean
  suspicious:  boolean
  fee:         money
  vip:         boolean
  by_check:    boolean
  lines:       list of Line

outcomes:
  refuse   "REFUSED"    overrides all other rules
  hold     "ON HOLD"
  approve  "APPROVED"

rule paid for each line in lines:
  when true
  then add line.price to refund
  because "returned {line.sku}"

rule fee:
  when fee > 0.00
  then hold
       add fee to fees
       subtract fee from refund
  because "fee {fee}"

rule vip_approves:
  when vip
  then approve
  because "vip"

rule damage for each line in lines:
  when line.damaged
  then subtract 10.00 from refund
       add 10.00 to charges

rule waiver for each line in lines:
  overrides damage
  when line.waived
  then note
  because "waived for {line.sku}"

rule vip_waiver:
  overrides fee
  when vip and fee < 50.00
  then note

rule late:
  when late
  then refuse
  because "late"

rule suspicious:
  when suspicious
  then refuse
  because "suspicious"

rule check:
  when by_check
  then set method to "check"
       set pay_after to 2026-01-10

output outcome
output refund:     money total, at least 0.00
output fees:       money total
output charges:    money total
output method:     text = "original"
output pay_after:  optional date
'''

LINE_A = {"sku": "A", "price": "100.00", "damaged": False, "waived": False}
LINE_B = {"sku": "B", "price": "30.00", "damaged": False, "waived": False}
PLAIN = {"late": False, "suspicious": False, "fee": "0.00", "vip": False, "by_check": False,
         "lines": [LINE_A, LINE_B]}


@pytest.fixture(scope="module")
def policy():
    return load_policy_text(POLICY, "combination.rpl")


def decide(policy, **edits):
    return policy.decide({**PLAIN, **edits})


def rules(applications) -> list:
    return [(a.rule.rule.name, a.element["sku"] if a.element else None) for a in applications]


def test_no_outcome_rule_gives_the_last_outcome(policy):
    d = decide(policy)
    assert d.outcome == "approve"
    assert d.outputs_json() == {"outcome": "approve", "refund": "130.00", "fees": "0.00", "charges": "0.00",
                                "method": "original", "pay_after": None}
    assert rules(d.applied) == [("paid", "A"), ("paid", "B")]
    assert d.overridden == ()


def test_the_stronger_outcome_wins(policy):
    d = decide(policy, fee="20.00", vip=False)
    assert d.outcome == "hold"
    d = decide(policy, fee="60.00", vip=True)  # vip gives approve, fee gives hold: hold is stronger
    assert d.outcome == "hold"
    assert {"fee", "vip_approves"} <= {name for name, _ in rules(d.applied)}


def test_a_weaker_outcome_does_not_override_other_rules(policy):
    d = decide(policy, fee="20.00")
    assert d.outputs_json()["refund"] == "110.00"
    assert d.outputs_json()["fees"] == "20.00"
    assert d.overridden == ()


def test_an_outcome_that_overrides_all_other_rules_suppresses_their_amounts(policy):
    d = decide(policy, late=True, fee="20.00", by_check=True,
               lines=[dict(LINE_A, damaged=True), LINE_B])
    assert d.outcome == "refuse"
    assert d.outputs_json() == {"outcome": "refuse", "refund": "0.00", "fees": "0.00", "charges": "0.00",
                                "method": "original", "pay_after": None}
    assert rules(d.applied) == [("late", None)]
    overridden = {(a.rule.rule.name, a.overridden_by) for a in d.overridden}
    assert overridden == {("paid", "outcome refuse"), ("fee", "outcome refuse"), ("damage", "outcome refuse"),
                          ("check", "outcome refuse")}


def test_every_rule_giving_the_overriding_outcome_is_kept(policy):
    d = decide(policy, late=True, suspicious=True)
    assert d.outcome == "refuse"
    assert rules(d.applied) == [("late", None), ("suspicious", None)]
    assert [e["rule"] for e in d.explanation()] == ["late", "suspicious"]


def test_a_rule_that_overrides_another_drops_it(policy):
    d = decide(policy, fee="20.00", vip=True)
    assert d.outcome == "approve"
    assert d.outputs_json()["refund"] == "130.00"
    assert d.outputs_json()["fees"] == "0.00"
    assert [(a.rule.rule.name, a.overridden_by) for a in d.overridden] == [("fee", "vip_waiver")]


def test_an_override_that_does_not_apply_drops_nothing(policy):
    d = decide(policy, fee="80.00", vip=True)  # vip_waiver needs fee < 50.00
    assert d.outputs_json()["fees"] == "80.00"
    assert d.overridden == ()


def test_per_element_overrides_apply_to_the_same_element_only(policy):
    lines = [dict(LINE_A, damaged=True, waived=True), dict(LINE_B, damaged=True)]
    d = decide(policy, lines=lines)
    assert d.outputs_json()["charges"] == "10.00"
    assert d.outputs_json()["refund"] == "120.00"  # 100.00 + 30.00 - 10.00 for B only
    assert [(a.rule.rule.name, a.element["sku"], a.overridden_by) for a in d.overridden] == [
        ("damage", "A", "waiver")]
    assert ("damage", "B") in rules(d.applied)


def test_a_total_is_floored(policy):
    d = decide(policy, fee="500.00", lines=[LINE_B])
    assert d.outputs_json()["refund"] == "0.00"
    assert d.computation()["refund"] == {
        "steps": [{"rule": "paid", "element_name": "B", "amount": "30.00"},
                  {"rule": "fee", "element_name": None, "amount": "-500.00"}],
        "sum": "-470.00", "floor": "0.00", "floored": True, "value": "0.00"}


def test_a_total_without_a_floor_may_be_negative():
    policy = load_policy_text("request:\n  a: money\nrule r:\n  when true\n  then subtract a from t\n"
                              "output t: money total\n", "neg.rpl")
    assert policy.decide({"a": "5.00"}).outputs_json() == {"t": "-5.00"}


def test_a_total_that_nothing_adds_to_is_zero(policy):
    d = decide(policy, lines=[])
    assert d.outputs_json()["refund"] == "0.00"
    assert d.computation()["refund"] == {"steps": [], "sum": "0.00", "floor": "0.00", "floored": False,
                                         "value": "0.00"}


def test_set_outputs_and_their_defaults(policy):
    assert decide(policy, by_check=True).outputs_json()["method"] == "check"
    assert decide(policy, by_check=True).outputs_json()["pay_after"] == "2026-01-10"
    assert decide(policy).outputs_json()["method"] == "original"
    assert decide(policy).outputs_json()["pay_after"] is None


def test_rules_apply_in_the_order_of_the_file_and_of_the_list(policy):
    d = decide(policy, fee="1.00", vip=True, late=False,
               lines=[dict(LINE_B, damaged=True), dict(LINE_A, damaged=True)])
    assert [name for name, _ in rules(d.applied)] == ["paid", "paid", "vip_approves", "damage", "damage",
                                                   "vip_waiver"]
    assert [sku for name, sku in rules(d.applied) if name == "paid"] == ["B", "A"]


def test_rule_names_are_the_rules_the_explanation_names(policy):
    d = decide(policy, fee="1.00", vip=True, late=False,
               lines=[dict(LINE_B, damaged=True), dict(LINE_A, damaged=True)])
    assert d.rule_names() == ["paid", "paid", "vip_approves", "damage", "damage", "vip_waiver"]
    assert d.rule_names() == [entry["rule"] for entry in d.explanation()]


def test_deciding_twice_gives_the_same_decision(policy):
    request = {**PLAIN, "fee": "20.00", "lines": [dict(LINE_A, damaged=True), LINE_B]}
    assert policy.decide(request).to_json() == policy.decide(request).to_json()
