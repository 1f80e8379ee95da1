"""Rules in conflict (RPL130), the verifier's static check: reported only with a request the
runtime decides to show it; `rpl check` adds it to the compiler's checks."""
import pytest

from rplang.verify.static import check_policy_text
from tests.cli.conftest import run
from tests.compiler.test_lint import HEAD, rule

from .conftest import ROOT


def codes(rules: str) -> list[str]:
    found = check_policy_text(HEAD + rules, "lint.rpl")
    assert all(d.severity == "warning" for d in found), [d.render() for d in found]
    return [d.code for d in found if d.code not in ("RPL101", "RPL102", "RPL103")]


# --------------------------------------------------------------------------

def test_two_rules_that_set_one_output_differently():
    found = check_policy_text(HEAD + rule("a", "receipt", "set refund_method to card")
                              + rule("b", "kind is return", "set refund_method to credit"), "lint.rpl")
    (conflict,) = [d for d in found if d.code == "RPL130"]
    assert conflict.hint.startswith("for example when `kind` is return and `receipt` is true;")


@pytest.mark.parametrize("rules", [
    rule("a", "receipt", "set refund_method to card") + rule("b", "not receipt", "set refund_method to credit"),
    rule("a", "kind is return", "set refund_method to card") + rule("b", "kind is exchange", "set refund_method to credit"),
    rule("a", "days_late > 3", "set refund_method to card") + rule("b", "days_late <= 3", "set refund_method to credit"),
    rule("a", "receipt", "set refund_method to card") + rule("b", "kind is return", "set refund_method to card"),
    # both always overridden by a refusal where they meet
    rule("a", "receipt", "set refund_method to card") + rule("b", "receipt", "set refund_method to credit")
    + rule("no", "receipt", "refuse"),
    # one is the declared exception to the other
    rule("a", "receipt", "set refund_method to card")
    + "\nrule b:\n  cites c\n  when kind is return\n  then set refund_method to credit\n  overrides a\n  because \"b\"\n",
])
def test_no_conflict_without_a_request_that_shows_one(rules):
    assert "RPL130" not in codes(rules)  # (the rules under a refusal are reported as never mattering)




def test_rpl_check_reports_the_conflict():
    result = run("check", ROOT / "tests" / "diagnostics" / "cases" / "79-rules-in-conflict.rpl")
    assert result.code == 0
    assert "warning[RPL130]: the rules `to_card` and `as_credit`" in result.err


def test_per_element_rules_in_conflict_name_the_element_fields():
    rules = (rule("a", "item.opened", "set refund_method to card", " for each item in items")
             + rule("b", "item.returned", "set refund_method to credit", " for each item in items"))
    (conflict,) = [d for d in check_policy_text(HEAD + rules, "lint.rpl") if d.code == "RPL130"]
    assert "`item.opened` is true" in conflict.hint and "`item.returned` is true" in conflict.hint


def test_a_rule_that_never_applies_seen_by_the_solver_only():
    when = "(days from delivery_date to request_date) > 30 and request_date < delivery_date"
    from rplang.compiler.lint import check_policy_text as compiler_checks

    assert "RPL120" not in [d.code for d in compiler_checks(HEAD + rule("a", when), "lint.rpl")]
    (found,) = [d for d in check_policy_text(HEAD + rule("a", when), "lint.rpl") if d.code == "RPL120"]
    assert found.message == "the rule `a` can never apply"
    assert found.hint.startswith("no request with up to 3 elements in each list meets its condition")


@pytest.mark.parametrize("when", [
    "request_date > delivery_date + 4000 days",  # far beyond the dates rpl verify proves over
    "request_date + 10 business days < request_date + 12 days",  # true from a Monday to a Wednesday
    "(count of items) >= 3",
])
def test_no_never_applies_for_a_rule_some_request_meets(when):
    assert "RPL120" not in codes(rule("a", when))


def test_an_outcome_never_reached():
    head = HEAD.replace('approve "APPROVED"', 'hold "HELD"\n  approve "APPROVED"')
    rules = rule("late", "days_late > 3", "refuse") + rule("held", "days_late >= 4 and receipt", "hold")
    found = [d for d in check_policy_text(head + rules, "lint.rpl") if d.code in ("RPL122", "RPL121")]
    assert "RPL122" in [d.code for d in found]
    assert any(d.message == "the outcome `hold` is never reached" for d in found)
    reachable = rule("late", "days_late > 3", "refuse") + rule("held", "days_late >= 3 and receipt", "hold")
    assert "RPL122" not in [d.code for d in check_policy_text(head + reachable, "lint.rpl")]


def test_a_rule_that_never_matters_seen_by_the_solver_only():
    from rplang.compiler.lint import check_policy_text as compiler_checks

    rules = (rule("late", "(days from delivery_date to request_date) > 30", "refuse")
             + rule("late_note", "request_date > delivery_date + 30 days"))
    assert "RPL121" not in [d.code for d in compiler_checks(HEAD + rules, "lint.rpl")]
    (found,) = [d for d in check_policy_text(HEAD + rules, "lint.rpl") if d.code == "RPL121"]
    assert found.message.startswith("the rule `late_note` never matters")
    matters = rule("late", "(days from delivery_date to request_date) > 30", "refuse") \
        + rule("late_note", "request_date > delivery_date + 29 days")
    assert "RPL121" not in codes(matters)


def test_a_conflict_names_the_fields_read_through_values():
    head = HEAD + "let late = request_date > delivery_date + 30 days\n"
    rules = rule("a", "late", "set refund_method to card") + rule("b", "receipt", "set refund_method to credit")
    (conflict,) = [d for d in check_policy_text(head + rules, "lint.rpl") if d.code == "RPL130"]
    shown = conflict.hint.split(";")[0]
    assert "`delivery_date` is " in shown and "`request_date` is " in shown and "`receipt` is true" in shown


def test_solver_checks_from_two_threads_take_turns(monkeypatch):
    """Z3's shared context is not thread-safe (the language server once failed with `Z3Exception:
    unreachable` while a worker thread checked another version): checks run one at a time."""
    import threading
    import time

    from rplang.compiler import compile_policy
    from rplang.verify import static

    active, most = [], []

    def conflicts(graph):
        active.append(1)
        most.append(len(active))
        time.sleep(0.05)  # long enough for the other thread to arrive
        active.pop()
        return []

    monkeypatch.setattr(static, "conflicts", conflicts)
    aputure = ROOT / "policies" / "aputure.rpl"
    graph = compile_policy(aputure.read_text(encoding="utf-8"), str(aputure))
    threads = [threading.Thread(target=static.with_solver_checks, args=(graph, [])) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(most) == 3 and max(most) == 1
