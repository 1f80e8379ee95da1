"""The checker: one mistake gives one error, at the offending text, with what to write instead."""
import pytest

from rplang.compiler import compile_policy
from rplang.policy_lang import PolicyError

HEAD = '''
policy "Checker"
currency USD
clause c: "The clause."
enum Kind: return, exchange
enum Method: card, check
enum Refund: check, credit
parameter rate = 10%
request:
  request_date: date
  received_date: optional date
  kind: Kind
  method: Method
  items: list of Item
record Item:
  price: money
outcomes:
  refuse "REFUSED" overrides all other rules
  approve "APPROVED"
output outcome
output refund: money total
output when_received: optional date
'''


def errors(text: str) -> list:
    with pytest.raises(PolicyError) as info:
        compile_policy(HEAD + text, "c.rpl")
    return list(info.value.diagnostics)


def brief(text: str) -> list[tuple[str, str]]:
    return [(d.code, d.span.text) for d in errors(text)]


def rule(when: str, then: str = "note", each: str = "") -> str:
    return f"\nrule r{each}:\n  cites c\n  when {when}\n  then {then}\n  because \"b\"\n"


def test_an_unknown_type_is_one_error_wherever_the_field_is_used():
    text = HEAD.replace("  price: money", "  price: mony")
    with pytest.raises(PolicyError) as info:
        compile_policy(text + rule("item.price > 1.00", "add item.price * rate to refund", " for each item in items"), "c.rpl")
    assert [(d.code, d.span.text) for d in info.value.diagnostics] == [("RPL023", "mony")]


def test_an_unknown_name_is_one_error_wherever_its_value_is_used():
    found = brief("\nlet last = delivered + 14 days\nlet later = last + 1 day\n" + rule("request_date > later"))
    assert found == [("RPL020", "delivered")]


def test_values_in_a_circle_are_one_error():
    found = errors("\nlet a = b + 1 day\nlet b = a + 1 day\n" + rule("request_date > a"))
    assert [(d.code, d.span.text) for d in found] == [("RPL040", "a")]
    assert "`a` -> `b` -> `a`" in found[0].message


def test_a_value_defined_from_itself():
    found = errors("\nlet a = a + 1 day\n" + rule("request_date > a"))
    assert [(d.code, d.message) for d in found] == [("RPL040", "`a` is defined in terms of itself")]


def test_a_percentage_written_as_a_fraction_is_reported_once_at_the_parameter():
    text = HEAD.replace("parameter rate = 10%", "parameter rate = 0.10")
    body = rule("true", "add round(item.price * rate) to refund\n       subtract round(item.price * rate) from refund",
                " for each item in items")
    with pytest.raises(PolicyError) as info:
        compile_policy(text + body, "c.rpl")
    (d,) = info.value.diagnostics
    assert (d.code, d.span.text, d.hint) == ("RPL030", "0.10", "write `10%`, not `0.10`")


def test_a_missing_value_is_reported_once_a_rule():
    found = brief(rule("kind is return", "set when_received to received_date + 7 days")
                  .replace('"b"', '"received {received_date + 7 days}"'))
    assert found == [("RPL032", "received_date")]


def test_is_give_is_read_as_is_given():
    found = brief(rule("received_date is give", "set when_received to received_date + 7 days"))
    assert found == [("RPL020", "give")]
    assert errors(rule("received_date is give"))[0].hint == "did you mean `is given`?"


def test_an_enum_value_is_told_from_a_name():
    (d,) = errors(rule("kind is retrun"))
    assert (d.code, d.message, d.hint) == ("RPL022", "`retrun` is not a Kind value", "did you mean `return`?")
    (d,) = errors(rule("kind is refund_all"))
    assert d.hint == "the Kind values are return, exchange"


def test_a_value_of_two_enums_is_resolved_by_what_it_is_compared_with():
    compile_policy(HEAD + rule("method is check") + "\nrule s:\n  cites c\n  when check is method\n  then note\n  because \"b\"\n", "c.rpl")


def test_a_field_named_alone_suggests_its_record():
    (d,) = errors(rule("price > 1.00", each=" for each item in items"))
    assert (d.code, d.hint) == ("RPL020", "did you mean `item.price`?")
    (d,) = errors(rule("itemprice > 1.00", each=" for each item in items"))
    assert d.hint == "did you mean `item.price`?"


def test_dates_written_as_numbers():
    assert brief("\nparameter start = 2026-3-2\n") == [("RPL004", "2026-3-2")]
    (d,) = errors("\nparameter start = 03/04/2026\n")
    assert d.hint == "write dates as YYYY-MM-DD: `2026-03-04` or `2026-04-03`, as you mean it"


def test_unrounded_amounts_wherever_an_amount_is_needed():
    found = brief(rule("item.price * rate > 5.00", "add max(0.00, item.price * rate) to refund", " for each item in items"))
    assert found == [("RPL031", "item.price * rate"), ("RPL031", "item.price * rate")]


def test_duplicates_point_at_the_second_name_and_say_where_the_first_is():
    (d,) = errors("\nparameter rate = 15%\n")
    assert (d.code, d.span.text, d.span.line) == ("RPL010", "rate", HEAD.count("\n") + 2)
    assert d.hint == "rename or remove one of them (the first is at line 8)"


def test_a_policy_without_a_request_is_located():
    with pytest.raises(PolicyError) as info:
        compile_policy('policy "P"\nclause c: "x"\n', "p.rpl")
    (d,) = info.value.diagnostics
    assert d.code == "RPL043" and d.span is not None and (d.span.line, d.span.column) == (1, 1)


def test_every_error_is_located_and_sorted():
    found = errors(rule("kind is retrun and nope", "refused") + "\nlet x = 2026-3-2 + 1 day\n")
    assert all(d.span is not None for d in found)
    assert [d.span.start for d in found] == sorted(d.span.start for d in found)
    assert [d.code for d in found] == ["RPL022", "RPL020", "RPL026", "RPL004"]
