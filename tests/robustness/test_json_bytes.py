"""`Decision.to_json_bytes` writes, byte for byte, what `orjson.dumps(decision.to_json())` writes.

The bytes are written by generated code around parts encoded once (runtime/json_text.py), not
from the dicts: every decision of the generated Aputure corpus, of every bundled policy (per-item
outcomes, dated terms), of random policies with hostile texts, and requests whose texts need
escaping, are written both ways and compared."""
from __future__ import annotations

import json
import random

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rplang.policy_lang.errors import RplError
from rplang.runtime import load_policy, load_policy_text

from ..conftest import POLICIES
from .differential import Tally
from .policygen import RandomChooser, generate
from .test_aputure_properties import gen_corpus


def assert_same_bytes(decision) -> None:
    """The fast bytes are orjson's bytes of the dicts; where orjson refuses the dicts (a value
    that is not JSON), the fast path refuses too, with the same error."""
    try:
        expected = orjson.dumps(decision.to_json())
    except TypeError:
        with pytest.raises(TypeError):
            decision.to_json_bytes()
        return
    assert decision.to_json_bytes() == expected


def _requests(policy_path):
    folder = POLICIES / policy_path.stem / "requests"
    for file in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        data = json.loads(file.read_text())
        if file.name != "expected.json" and isinstance(data, dict):
            yield file.name, data


def test_the_aputure_corpus_is_written_as_orjson_writes_it():
    lines = (POLICIES / "aputure" / "corpus.jsonl").read_text().splitlines()
    lines += list(gen_corpus.generate_lines(1500, seed=5))
    for name in ("aputure", "aputure_holidays"):  # the second with dated terms
        policy = load_policy(POLICIES / f"{name}.rpl")
        decided = 0
        for line in lines:
            try:
                decision = policy.decide(json.loads(line))
            except RplError:
                continue
            assert_same_bytes(decision)
            decided += 1
        assert decided > 1000
        if name == "aputure_holidays":
            assert b'"terms":[{' in decision.to_json_bytes()


def _random_policies(count: int):
    """Random policies made to be explained (policygen.py, hostile texts), compiled, with a
    maker of valid requests for each; those the checker refuses are left out."""
    for seed in range(count):
        spec, requests = generate(RandomChooser(random.Random(seed)), explainable=True)
        try:
            policy = load_policy_text(spec.text, "<generated>")
        except RplError:
            continue
        yield policy, requests


def test_every_bundled_policy_and_request_is_written_as_orjson_writes_it():
    per_item = 0
    for path in sorted(POLICIES.glob("*.rpl")):
        policy = load_policy(path)
        for name, request in _requests(path):
            try:
                decision = policy.decide(request)
            except RplError:
                continue  # a request that is there to be refused
            assert_same_bytes(decision)
            per_item += decision.items is not None
    assert per_item >= 3  # Best Buy, H&M, IKEA decide item by item


def test_random_policies_with_hostile_texts_are_written_as_orjson_writes_them():
    tally = Tally()
    for policy, requests in _random_policies(150):
        tally.policies += 1
        for _ in range(6):
            try:
                decision = policy.decide_checked(policy.read_request(requests.request()))
            except RplError:
                continue
            assert_same_bytes(decision)
            tally.decided += 1
    assert tally.policies > 100 and tally.decided > 300


ESCAPED = '''
policy "Escapes"
currency USD
clause refunds: "Items are refunded \\"as new\\"."
record Item:
  sku:   text
  note:  optional text
  price: money
request:
  customer: text
  items:    list of Item
output refund: money total, at least 0.00
rule refund_each for each item in items:
  cites refunds
  when item.note is not given or item.note is not "lost"
  then add item.price to refund
  because "refund {item.sku} for {customer}: {item.note}"
'''

TEXTS = ['plain', 'a "quoted" word', "back\\slash", "tab\there", "line\nfeed", "\x00\x1f\x7f",
         "café ünïcode", "emoji 🎉", "line\u2028separator", "\u00a0no-break space", "</script>", ""]


def test_texts_that_need_escaping_are_written_as_orjson_writes_them():
    policy = load_policy_text(ESCAPED)
    for first in TEXTS:
        for second in TEXTS:
            request = {"customer": second, "items": [{"sku": first, "note": second, "price": "10.00"},
                                                     {"sku": second, "price": "0.50"}]}
            assert_same_bytes(policy.decide(request))


def test_a_text_orjson_cannot_write_is_refused_by_both():
    decision = load_policy_text(ESCAPED).decide({"customer": "lone \ud800 surrogate", "items": [
        {"sku": "A", "price": "1.00"}]})
    with pytest.raises(TypeError):
        orjson.dumps(decision.to_json())
    with pytest.raises(TypeError):
        decision.to_json_bytes()


def test_decisions_share_no_json_values():
    """A caller changing one decision's JSON changes neither another decision's nor its bytes."""
    policy = load_policy(POLICIES / "aputure.rpl")
    request = json.loads(next(iter(gen_corpus.generate_lines(1, seed=3))))
    first, second = policy.decide(request), policy.decide(request)
    before = second.to_json_bytes()
    data = first.to_json()
    for entry in data["explanation"]:
        entry["clauses"].append({"clause": "changed"})
        entry["facts"].clear()
        entry["effects"].append("changed")
    for total in data["computation"].values():
        total["steps"].append("changed")
    assert orjson.dumps(second.to_json()) == second.to_json_bytes() == before
    assert first.to_json_bytes() == before


# ---- the shortcuts the fast paths take, against what they stand for ----------------------------

# an amount in a request has at most limits.MAX_MONEY_DIGITS (15) digits before its point, and
# totals of them stay far below 10**26, past which an amount cannot be quantized to the cent in
# the decimal context's 28 digits (by the runtime or by this test's own expected value)
_LARGEST = 10 ** 25 - 1


@given(st.one_of(st.decimals(min_value=-_LARGEST, max_value=_LARGEST, allow_nan=False, allow_infinity=False),
                 *(st.decimals(min_value=-10**6, max_value=10**6, places=n) for n in (0, 1, 2, 3))))
def test_an_amount_is_shown_as_quantizing_and_grouping_show_it(value):
    from decimal import ROUND_HALF_UP

    from rplang.compiler import types as T
    from rplang.compiler.show import CENT, formatter

    expected = f"{value.quantize(CENT, ROUND_HALF_UP):,.2f}".replace("-0.00", "0.00")
    assert formatter(T.MONEY)(value) == expected


@given(st.one_of(st.lists(st.one_of(st.none(), st.text(max_size=5))), st.frozensets(st.text(max_size=5)),
                 st.none()))
def test_a_list_of_plain_values_is_json_as_json_value_makes_it(value):
    from rplang.compiler import types as T
    from rplang.runtime.values import json_formatter, json_value

    for type_ in (T.ListType(T.TEXT), T.SetType(T.TEXT)):
        assert json_formatter(type_)(value) == json_value(value, type_)


def test_the_values_the_rule_code_keeps_explain_as_the_closures_compute_them():
    """The rule code keeps the `let`s it computed up front in the decision's memo, where the
    explanation finds them: the explanation is the same as one that computes them again."""
    compared = 0
    for policy, requests in _random_policies(60):
        for _ in range(4):
            request = policy.read_request(requests.request())
            try:
                kept, again = policy.decide_checked(request), policy.decide_checked(request)
            except RplError:
                continue
            again._env.memo.clear()
            try:
                expected = again.to_json()
            except Exception as error:  # noqa: BLE001 (explaining may fail alike: test_known_bugs.py)
                with pytest.raises(type(error)):
                    kept.to_json()
                continue
            assert kept.to_json() == expected
            compared += 1
    assert compared > 100
