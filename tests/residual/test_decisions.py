"""Residual decisions on small policies: what is certain, the scenarios the open conditions lead
to (combined by the policy's own rules), ranges, deadlines, and decisions that are already final."""
import pytest

import rplang.runtime.residual as residual
from rplang.runtime import load_policy_text

POLICY = '''policy "shop"
currency USD

enum Cause: none, water, fire
clause window: "Within 10 days."
clause damage: "No damaged goods."
clause complete: "Complete or a 10% fee."

record Line:
  sku:       text
  price:     money
  cause:     Cause    at inspection  "cause of damage"
  complete:  boolean  at inspection  "complete"
  boxed:     boolean  at inspection  "in its box"

request:
  day:        date
  delivered:  date
  proof:      boolean  "proof"
  lines:      list of Line

let last_day = delivered + 10 days

outcomes:
  refuse  "REFUSED" overrides all other rules
  fee     "WITH A FEE"
  approve "APPROVED"

rule late:
  cites window
  when day > last_day
  then refuse
  because "late"

rule no_proof:
  when not proof
  then refuse

rule water for each line in lines:
  cites damage
  when line.cause is water
  then refuse

rule fire for each line in lines:
  cites damage
  when line.cause is fire
  then refuse

rule paid for each line in lines:
  when true
  then add line.price to refund

rule incomplete for each line in lines:
  cites complete
  when not (line.complete and line.boxed)
  then fee
       add round(line.price * 10%) to fees
       subtract round(line.price * 10%) from refund

output outcome
output refund: money total, at least 0.00
output fees:   money total
'''


@pytest.fixture(scope="module")
def shop():
    return load_policy_text(POLICY)


def request(day="2026-03-05", proof=True, lines=None):
    return {"day": day, "delivered": "2026-03-01", "proof": proof,
            "lines": lines if lines is not None else [{"sku": "A", "price": "100.00"}]}


def test_pending_with_every_scenario(shop):
    d = shop.decide_partial(request())
    assert d.outcome == "pending" and not d.final
    data = d.to_json()
    assert data["outputs"] == {"outcome": "pending", "refund": None, "fees": None}
    r = data["residual"]
    assert r["possible_outcomes"] == ["refuse", "fee", "approve"]
    assert r["ranges"]["refund"] == {"min": "0.00", "max": "100.00", "alternatives": ["0.00", "90.00", "100.00"]}
    assert r["ranges"]["fees"] == {"min": "0.00", "max": "10.00", "alternatives": ["0.00", "10.00"]}
    assert r["if_none_apply"] == {"outcome": "approve", "outputs": {"outcome": "approve", "refund": "100.00", "fees": "0.00"},
                                  "possible": True}
    ids = [c["id"] for c in r["open_conditions"]]
    assert ids == ["water@$.lines[0]", "fire@$.lines[0]", "incomplete@$.lines[0]"]
    incomplete = r["open_conditions"][2]
    assert incomplete["ways"] == [
        [{"fact": "line.complete", "holds": False, "label": "complete", "unknown": ["$.lines[0].complete"]}],
        [{"fact": "line.boxed", "holds": False, "label": "in its box", "unknown": ["$.lines[0].boxed"]}]]
    assert incomplete["effects"] == [{"output": "fees", "amount": "10.00"}, {"output": "refund", "amount": "-10.00"}]
    assert incomplete["leads_to"]["outputs"] == {"outcome": "fee", "refund": "90.00", "fees": "10.00"}
    assert [f["path"] for f in r["unknown_facts"]] == ["$.lines[0].cause", "$.lines[0].complete", "$.lines[0].boxed"]
    assert r["unknown_facts"][0]["values"] == ["none", "water", "fire"]
    assert [e["rule"] for e in data["explanation"]] == ["paid"]


def test_conditions_on_one_enum_fact_exclude_each_other(shop):
    d = shop.decide_partial(request())
    analysis = d._analysis
    water_fire = next(g for g in analysis.groups if len(g.members) == 2)
    assert water_fire.enumerated
    assert sorted(tuple(a for a, _ in s) for s in water_fire.states) == [(False, False), (False, True), (True, False)]


def test_a_certain_refusal_is_final_with_every_certain_reason(shop):
    d = shop.decide_partial(request(day="2026-03-20", proof=False))
    assert d.final and d.outcome == "refuse"
    data = d.to_json()
    assert data["residual"] is None
    assert [e["rule"] for e in data["explanation"]] == ["late", "no_proof"]
    assert data["outputs"] == {"outcome": "refuse", "refund": "0.00", "fees": "0.00"}
    assert "computation" in data
    assert d.explain_text().startswith("REFUSED — 2 reasons")
    assert "cannot change it" in d.explain_text()


def test_a_complete_request_is_the_ordinary_decision(shop):
    complete = request(lines=[{"sku": "A", "price": "100.00", "cause": "none", "complete": True, "boxed": False}])
    d = shop.decide_partial(complete)
    assert d.final and d.unknown_facts == []
    assert d.to_json() == {**shop.decide(complete).to_json(), "residual": None}
    assert d.explain_text() == shop.decide(complete).explain_text()


def test_the_scenario_of_the_conditions_that_hold(shop):
    d = shop.decide_partial(request())
    assert d.scenario([]) == {"outcome": "approve", "refund": "100.00", "fees": "0.00"}
    assert d.scenario(["incomplete@$.lines[0]"])["outcome"] == "fee"
    assert d.scenario(["incomplete@$.lines[0]", "fire@$.lines[0]"]) == {"outcome": "refuse", "refund": "0.00", "fees": "0.00"}


def test_many_lines_are_combined_outcome_by_outcome(shop, monkeypatch):
    lines = [{"sku": f"S{k}", "price": f"{10 * (k + 1)}.00"} for k in range(6)]
    exact = shop.decide_partial(request(lines=lines)).to_json()["residual"]
    monkeypatch.setattr(residual, "SCENARIOS", 0)  # force the outcome-by-outcome path
    by_outcome = shop.decide_partial(request(lines=lines)).to_json()["residual"]
    assert by_outcome == exact
    monkeypatch.setattr(residual, "OUTCOME_SCENARIOS", 0)  # and then bounds
    bounds = shop.decide_partial(request(lines=lines)).to_json()["residual"]
    assert bounds["method"] == "bounds" and bounds["possible_outcomes"] == exact["possible_outcomes"]
    assert bounds["ranges"]["refund"] == {"min": "0.00", "max": "210.00", "alternatives": None}
    assert bounds["ranges"]["fees"] == {"min": "0.00", "max": "21.00", "alternatives": None}


def test_deadlines(shop):
    d = shop.decide_partial(request(day="2026-03-05"))
    (deadline,) = d.deadlines
    assert deadline["rule"] == "late" and deadline["last_day"] == "2026-03-11"
    assert deadline["date"] == {"path": "$.day", "label": None, "value": "2026-03-05"}
    assert deadline["cites"] == "Within 10 days."
    assert "deadline: $.day by 2026-03-11; otherwise REFUSED" in d.explain_text()


@pytest.mark.parametrize("condition,key,day", [
    ("day > delivered + 10 days", "last_day", "2026-03-11"),
    ("day >= delivered + 10 days", "last_day", "2026-03-10"),
    ("delivered + 10 days < day", "last_day", "2026-03-11"),
    ("day < delivered", "first_day", "2026-03-01"),
    ("day <= delivered", "first_day", "2026-03-02"),
])
def test_deadline_days(condition, key, day):
    policy = load_policy_text(POLICY.replace("when day > last_day", f"when {condition}"))
    deadlines = policy.decide_partial(request(day="2026-03-05")).deadlines
    assert [(d["rule"], d.get(key)) for d in deadlines] == [("late", day)]


def test_no_deadline_once_the_rule_applies():
    policy = load_policy_text(POLICY.replace("when day > last_day\n  then refuse", "when day > last_day\n  then fee"))
    late = policy.decide_partial(request(day="2026-03-20"))
    assert not late.final and late.deadlines == [] and late.possible_outcomes == ("refuse", "fee")
    in_time = policy.decide_partial(request(day="2026-03-05"))
    assert [(d["rule"], d["outcome"], d["last_day"]) for d in in_time.deadlines] == [("late", "fee", "2026-03-11")]


def test_the_outcome_may_be_certain_while_amounts_are_not():
    policy = load_policy_text(POLICY.replace("  then refuse\n", "  then note\n"))  # no refusal left
    d = policy.decide_partial(request(lines=[{"sku": "A", "price": "100.00", "cause": "none"}]))
    assert not d.final and d.possible_outcomes == ("fee", "approve")
    lines = [{"sku": "A", "price": "100.00", "cause": "none", "complete": False}]
    d = policy.decide_partial(request(lines=lines))
    assert d.final and d.outcome == "fee"  # incomplete whatever the box


AMOUNTS = '''policy "amounts"
currency USD

request:
  price:   money
  bonus:   money    at review
  granted: boolean  at review
  fast:    boolean

outcomes:
  approve "APPROVED"

rule base:
  when true
  then add price to refund

rule bonus:
  when granted
  then add bonus to refund

rule express:
  when fast
  then set speed to "express"

output outcome
output refund: money total
output speed:  optional text
'''


def test_amounts_not_known_yet():
    policy = load_policy_text(AMOUNTS)
    d = policy.decide_partial({"price": "10.00", "fast": True})
    data = d.to_json()
    assert data["outputs"] == {"outcome": "approve", "refund": None, "speed": "express"}
    assert data["residual"]["ranges"] == {"refund": {"min": None, "max": None, "alternatives": None}}
    (bonus,) = data["residual"]["open_conditions"]
    assert bonus["effects"] == [{"output": "refund", "amount": None}]
    assert bonus["leads_to"]["outputs"]["refund"] is None and bonus["leads_to"]["unknown"] == ["refund"]
    assert data["residual"]["if_none_apply"]["outputs"]["refund"] == "10.00"
    d = policy.decide_partial({"price": "10.00", "fast": False, "granted": True})
    (bonus,) = d.open_conditions
    assert bonus["applies"] is True and bonus["leads_to"] is None  # it applies; only its amount waits
    text = d.explain_text()
    assert "1. applies   [bonus]\n     its effect waits for: $.bonus" in text
    assert "request: bonus" in text


EXCEPTIONS = '''policy "exceptions"
currency USD

record Line:
  sku:       text
  price:     money
  opened:    boolean  at inspection
  defective: boolean  at inspection

request:
  lines:  list of Line

outcomes:
  fee     "WITH A FEE"
  approve "APPROVED"

rule paid for each line in lines:
  when true
  then add line.price to refund

rule opened for each line in lines:
  when line.opened
  then fee
       add round(line.price * 15%) to fees
       subtract round(line.price * 15%) from refund

rule defective for each line in lines:
  overrides opened
  when line.opened and line.defective
  then note

output outcome
output refund: money total
output fees:   money total
'''


def test_rules_overriding_rules(monkeypatch):
    policy = load_policy_text(EXCEPTIONS)
    d = policy.decide_partial({"lines": [{"sku": "A", "price": "100.00"}]})
    r = d.to_json()["residual"]
    assert r["possible_outcomes"] == ["fee", "approve"]
    assert r["ranges"]["refund"]["alternatives"] == ["85.00", "100.00"]
    assert d.scenario(["opened@$.lines[0]", "defective@$.lines[0]"])["outcome"] == "approve"
    monkeypatch.setattr(residual, "SCENARIOS", 0)  # too many: sound bounds
    bounds = policy.decide_partial({"lines": [{"sku": "A", "price": "100.00"}]}).to_json()["residual"]
    assert bounds["method"] == "bounds" and set(bounds["possible_outcomes"]) == {"fee", "approve"}
    assert bounds["ranges"]["refund"] == {"min": "85.00", "max": "100.00", "alternatives": None}


WHOLE_LIST = '''policy "lists"
currency USD

record Part:
  price:  money
  ok:     boolean  at check

request:
  parts:  list of Part

let good = each p in parts where p.ok

outcomes:
  approve "APPROVED"

rule credit for each p in good:
  when true
  then add p.price to credit

output outcome
output credit: money total
'''


def test_a_rule_over_a_list_not_known_yet():
    policy = load_policy_text(WHOLE_LIST)
    d = policy.decide_partial({"parts": [{"price": "5.00", "ok": True}, {"price": "7.00"}]})
    data = d.to_json()
    (credit,) = data["residual"]["open_conditions"]
    assert credit["id"] == "credit" and credit["depends_on"] == [{"path": "$.parts[1].ok", "label": None}]
    assert data["residual"]["ranges"]["credit"] == {"min": None, "max": None, "alternatives": None}
    assert policy.decide_partial({"parts": [{"price": "5.00", "ok": True}]}).final


EITHER = '''policy "either"
currency USD

enum Grade: a, b

request:
  grade:  Grade  at review

outcomes:
  refuse  "REFUSED" overrides all other rules
  approve "APPROVED"

rule grade_a:
  when grade is a
  then refuse

rule grade_b:
  when grade is b
  then refuse

output outcome
'''


def test_certain_outcome_whose_reasons_are_open():
    d = load_policy_text(EITHER).decide_partial({})
    assert d.outcome == "refuse" and not d.final and d.possible_outcomes == ("refuse",)
    assert d.if_none_apply["possible"] is False  # one of them must apply
    assert [c["leads_to"]["possible"] for c in d.open_conditions] == [True, True]
    assert d.to_json()["outputs"] == {"outcome": "refuse"}
    assert d.explain_text().startswith("REFUSED — its reasons wait for 1 fact not known yet (known at review)")
