"""Bugs found by the robustness tests in code this folder does not own: each a minimal reproducer.

An open one is `xfail(strict=True)`: when its fix lands the test passes, pytest reports it, and
the mark (and the matching entry of policygen.AVOID, if any) goes; the test stays, a regression
test of the fix.
"""
from __future__ import annotations

import signal
import tempfile

import pytest

from rplang.compiler import compile_policy
from rplang.policy_lang import limits
from rplang.policy_lang.errors import PolicyError, RplError
from rplang.runtime import load_policy_text
from rplang.runtime.reference import decide as reference_decide

OUTCOMES = 'outcomes:\n  refuse "REFUSED"\n  approve "APPROVED"\noutput outcome\n'


def _decides_or_refuses(policy, request):
    """A decision, or an rpl error: what must come out; anything else is the bug."""
    try:
        return policy.decide(request).outputs_json()
    except RplError as error:
        return type(error).__name__


def test_a_duration_before_a_stray_word():
    from rplang.policy_lang import parse_policy

    with pytest.raises(PolicyError):
        parse_policy("let x = 30 days u\n")  # ValueError: invalid literal for int(): '30 days'


def test_is_empty_on_an_optional_list():
    # fixed in the checker: an optional list must be checked with `is given` first
    with pytest.raises(PolicyError) as caught:
        load_policy_text(OUTCOMES + "request:\n  tags: optional list of text\n"
                         "rule r:\n  when tags is empty\n  then refuse\n")
    assert [d.code for d in caught.value.diagnostics] == ["RPL032"]
    policy = load_policy_text(OUTCOMES + "request:\n  tags: optional list of text\n"
                              "rule r:\n  when tags is given and tags is empty\n  then refuse\n")
    assert _decides_or_refuses(policy, {}) == {"outcome": "approve"}
    assert _decides_or_refuses(policy, {"tags": []}) == {"outcome": "refuse"}


def test_a_when_field_of_the_request():
    policy = load_policy_text(OUTCOMES + "request:\n  d: date\n  late: boolean\n  seen: date when late\n"
                              "rule r:\n  when seen > d\n  then refuse\n")
    _decides_or_refuses(policy, {"d": "2026-01-01", "late": False})  # TypeError: None > date


def test_is_given_on_a_when_field_of_the_request():
    load_policy_text(OUTCOMES + "request:\n  late: boolean\n  seen: date when late\n"
                     "rule r:\n  when seen is given\n  then refuse\n")


def test_a_value_no_rule_needs_cannot_fail_the_decision_with_a_fact_not_given():
    policy = load_policy_text(OUTCOMES + "record Order:\n  known: boolean\n  fee: money when known\n"
                              "request:\n  order: Order\n"
                              "let unused = order.fee\n"
                              "rule r:\n  when true\n  then refuse\n")
    request = {"order": {"known": False}}
    expected = reference_decide(policy.checked, policy.read_request(request)).outputs
    assert expected == {"outcome": "refuse"}
    assert _decides_or_refuses(policy, request) == expected  # RequestError: $.order.fee


def test_a_value_no_rule_needs_cannot_fail_the_decision():
    policy = load_policy_text(OUTCOMES + "request:\n  d: date\n  n: integer\n"
                              "let far = d + n * 1 days\n"
                              "rule r:\n  when n > 5\n  then refuse\n")
    request = {"d": "2026-01-01", "n": 10**9}
    expected = reference_decide(policy.checked, policy.read_request(request)).outputs
    assert expected == {"outcome": "refuse"}
    assert _decides_or_refuses(policy, request) == expected  # EvaluationError: date out of range


def test_overrides_on_equal_texts_do_not_depend_on_their_length():
    policy = load_policy_text("""request:
  a: list of text
  b: list of text
rule keep for each x in a:
  when true
  then add 1.00 to t
rule drop for each y in b:
  when true
  then note
  overrides keep
output t: money total
""")
    short = policy.decide_json('{"a": ["B"], "b": ["B"]}').outputs_json()
    long = policy.decide_json('{"a": ["SKU-1"], "b": ["SKU-1"]}').outputs_json()
    assert short == long  # {'t': '0.00'} and {'t': '1.00'}


def test_explaining_a_rule_over_a_list_of_texts():
    policy = load_policy_text(OUTCOMES + "request:\n  tags: list of text\n"
                              "rule r for each t in tags:\n  when true\n  then refuse\n")
    policy.decide({"tags": ["a"]}).to_json_text()  # AttributeError: 'str' has no attribute 'get'


def test_decision_json_with_a_fact_about_records():
    policy = load_policy_text(OUTCOMES + "record Item:\n  price: money\nrequest:\n  items: list of Item\n"
                              "rule r:\n  when (count of items) > 0\n  then refuse\n")
    policy.decide({"items": [{"price": "1.00"}]}).to_json_text()  # Decimal is not JSON serializable


def test_explaining_a_guarded_comparison():
    policy = load_policy_text(OUTCOMES + "request:\n  m: optional money\n"
                              "rule r:\n  when not (m is given and m > 1.00)\n  then refuse\n")
    policy.decide({}).to_json_text()  # TypeError: '>' between None and Decimal


def test_every_diagnostic_has_a_location():
    with pytest.raises(PolicyError) as caught:
        compile_policy("# nothing but a comment\n")
    assert all(d.span is not None for d in caught.value.diagnostics)


def test_many_errors_are_reported_without_comparing_every_name(monkeypatch):
    """600 unknown names once took about a second, growing with the square of the count: each
    looked for a `did you mean` among all the others. Only the problems that fit in one report
    are given one now (counted, not timed: the machines are shared)."""
    from rplang.compiler import expressions

    compared = []
    monkeypatch.setattr(expressions, "did_you_mean",
                        lambda word, candidates: compared.append(word))

    def names_compared(count: int) -> int:
        compared.clear()
        text = OUTCOMES + "request:\n  n: integer\n" + "".join(
            f"let value_{i} = unknown_{i}\n" for i in range(count))
        with pytest.raises(PolicyError) as caught:
            compile_policy(text)
        assert len(caught.value.diagnostics) == limits.MAX_REPORTED + 1  # the last says more follow
        return len(compared)

    assert 0 < names_compared(600) == names_compared(1200) <= 2 * limits.MAX_REPORTED


class _TookTooLong(Exception):
    pass


def test_nested_loops_over_a_long_list_are_refused_in_time():
    policy = load_policy_text(OUTCOMES + "request:\n  xs: list of integer\n"
                              "rule r:\n  when any a in xs where any b in xs where any c in xs "
                              "where a + b + c < 0\n  then refuse\n")

    def alarm(signum, frame):
        raise _TookTooLong

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(2)
    try:  # 10**12 steps for 10,000 elements: refused with an rpl error within seconds, or hangs
        _decides_or_refuses(policy, {"xs": list(range(limits.MAX_LIST))})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_parsing_reads_and_writes_nothing_in_the_temp_directory(tmp_path, monkeypatch):
    from rplang.policy_lang import grammar, parser

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    grammar.lark_parser.cache_clear()
    try:
        parser.parse_policy("request:\n  n: integer\n")
        assert list(tmp_path.iterdir()) == []  # .lark_cache_<user>_<hash>.tmp: a pickle anyone
    finally:                                   # who writes there first gets loaded
        grammar.lark_parser.cache_clear()
