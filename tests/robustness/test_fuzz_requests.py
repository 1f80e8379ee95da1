"""The runtime on hostile requests: a RequestError listing the problems, or a correct decision.

Every field of a request gets random JSON values (wrong types, nulls, huge numbers, NaN and
infinities, floats for money, dates like 2026-02-30, long texts, long lists); huge inputs are
refused quickly with a problem that names the limit.
"""
from __future__ import annotations

import copy
import json
import random
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rplang.policy_lang import limits
from rplang.policy_lang.errors import RequestError
from rplang.runtime import load_policy_text

from .conftest import FUZZ_CASES, quick
from .fuzzing import decide_or_refuse
from .policygen import RandomChooser, generate
from .test_aputure_properties import baseline, gen_corpus

HOSTILE_SCALARS = [
    None, True, False, 0, -1, 1.5, -0.0, 10**20, -10**20, 10**400, 1e308, float("nan"),
    float("inf"), float("-inf"), "", " ", "x", "return", "null", "NaN", "Infinity", "2026-02-30",
    "2026-13-01", "0000-00-00", "2026-3-1", "1899-12-31", "3000-01-01", "9999-12-31",
    "2026-03-02T00:00:00", "12.345", "-1.00", "1e3", " 1.00", "1,000.00", "١٢.٥٠", "12.50",
    "9999999999999999.99", "15%", "x" * 20_000, "\x00", "\ud800", "🙂", "<a>", "'; DROP",
]


def hostile_values():
    scalars = st.sampled_from(HOSTILE_SCALARS) | st.integers() | st.floats() | st.text(max_size=30)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


def paths(value, prefix=()):
    """Every place in a JSON document: (container path, key)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield prefix, key
            yield from paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for k, inner in enumerate(value):
            yield prefix, k
            yield from paths(inner, prefix + (k,))


def _at(document, path):
    for step in path:
        document = document[step]
    return document


@st.composite
def broken_requests(draw):
    request = gen_corpus.generate(random.Random(draw(st.integers(0, 2**32 - 1))))
    for _ in range(draw(st.integers(1, 3))):
        places = list(paths(request))
        where, key = draw(st.sampled_from(places))
        container = _at(request, where)
        action = draw(st.integers(0, 3))
        if action == 0 and isinstance(container, dict):
            del container[key]
        elif action == 1 and isinstance(container, dict):
            container[draw(st.text(max_size=12))] = draw(hostile_values())
        else:
            container[key] = draw(hostile_values())
    if draw(st.booleans()):
        request = draw(st.sampled_from([None, [], "", 0, [request], {"request": request}])) \
            if draw(st.integers(0, 9)) == 0 else request
    return request


@quick(300)
@given(broken_requests())
def test_aputure_on_broken_requests(aputure, request):
    """A request error, or the decision the hand-written oracle makes."""
    if decide_or_refuse(aputure, request) == "decided":
        _agrees_with_the_oracle(aputure, request)


def _agrees_with_the_oracle(aputure, request) -> bool:
    """Whether the oracle decides the request too; if it does, rpl decides it alike."""
    try:
        expected = baseline.decide_request(request)
    except (ValueError, TypeError, KeyError, AttributeError):
        return False  # the oracle reads requests more strictly (a currency like `USD`, a sku not empty)
    assert aputure.decide(request).outputs_json() == expected
    return True


@quick(200)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
def test_aputure_on_random_json(aputure, data):
    assert decide_or_refuse(aputure, data) == "refused"


@quick(200)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_aputure_on_random_bytes(aputure, data):
    with pytest.raises(RequestError):
        aputure.decide_json(data)


@quick(40)
@given(st.integers(0, 2**32 - 1), st.data())
def test_random_policies_on_broken_requests(seed, data):
    """Every type of field, in random policies, given random JSON values."""
    policy, requests = generate(RandomChooser(random.Random(seed)))
    try:
        compiled = load_policy_text(policy.text)
    except Exception:
        return  # refused by the checker: test_differential.py looks at those
    for _ in range(5):
        request = requests.request()
        places = list(paths(request))
        if places:
            where, key = data.draw(st.sampled_from(places))
            _at(request, where)[key] = data.draw(hostile_values())
        decide_or_refuse(compiled, request)


# ---- Huge inputs: refused at once, naming the limit ----------------------------------------------

def _refused_quickly(policy, request, words: str) -> None:
    start = time.monotonic()
    with pytest.raises(RequestError) as caught:
        policy.decide(request)
    assert time.monotonic() - start < 2.0
    assert any(words in p.message for p in caught.value.problems), caught.value.render()


def _example():
    return json.loads(next(gen_corpus.generate_lines(1, seed=3)))


@pytest.mark.parametrize("path", [("request_date",), ("kind",), ("order", "currency"),
                                  ("order", "payment_method"), ("order", "shipping_paid"),
                                  ("items", 0, "sku"), ("items", 0, "price"), ("items", 0, "free")])
def test_a_ten_megabyte_string_anywhere(aputure, path):
    request = _example()
    _at(request, path[:-1])[path[-1]] = "7" * 10_000_000
    start = time.monotonic()
    with pytest.raises(RequestError) as caught:
        aputure.decide(request)
    assert time.monotonic() - start < 2.0
    assert len(caught.value.render()) < 2_000


def test_a_ten_megabyte_text_names_the_limit(aputure):
    request = _example()
    request["items"][0]["sku"] = "x" * 10_000_000
    _refused_quickly(aputure, request, f"at most {limits.MAX_TEXT:,} characters")


def test_a_hundred_thousand_items(aputure):
    request = _example()
    request["items"] = request["items"] * (100_000 // len(request["items"]) + 1)
    _refused_quickly(aputure, request, f"at most {limits.MAX_LIST:,} elements")


def test_ten_thousand_items_are_decided(aputure):
    request = _example()
    request["items"] = [copy.deepcopy(request["items"][0]) for _ in range(limits.MAX_LIST)]
    start = time.monotonic()
    assert aputure.decide(request).outputs_json() == baseline.decide_request(request)
    assert time.monotonic() - start < 10.0


def test_a_hundred_thousand_unknown_fields(aputure):
    request = _example()
    request.update({f"field{i}": i for i in range(100_000)})
    start = time.monotonic()
    with pytest.raises(RequestError) as caught:
        aputure.decide(request)
    assert time.monotonic() - start < 2.0
    problems = caught.value.problems
    assert len(problems) == limits.MAX_PROBLEMS + 1
    assert f"only the first {limits.MAX_PROBLEMS}" in problems[-1].message


def test_a_ten_megabyte_field_name(aputure):
    request = _example()
    request["k" * 10_000_000] = 1
    start = time.monotonic()
    with pytest.raises(RequestError) as caught:
        aputure.decide(request)
    assert time.monotonic() - start < 2.0 and len(caught.value.render()) < 2_000


def test_deeply_nested_json(aputure):
    for text in ("[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        with pytest.raises(RequestError):
            aputure.decide_json(text)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "1" * 5000])
def test_json_numbers_beyond_json(aputure, literal):
    request = _example()
    text = json.dumps(request).replace('"request_date": ', f'"request_date": {literal}, "x": ', 1)
    with pytest.raises(RequestError) as caught:
        aputure.decide_json(text)
    json.dumps(caught.value.to_json(), allow_nan=False)


@pytest.mark.parametrize("value, words", [
    ("2026-02-30", "not a real date"), ("1899-12-31", "1900-01-01 to 2999-12-31"),
    ("9999-12-31", "1900-01-01 to 2999-12-31"), (20260302, "expected a date"),
])
def test_dates(aputure, value, words):
    request = _example()
    request["order"]["delivery_date"] = value
    _refused_quickly(aputure, request, words)


@pytest.mark.parametrize("value, words", [
    (12.5, "not a JSON number"), (float("nan"), "not a JSON number"), (10**400, "not a JSON number"),
    ("12.345", "at most 2 decimals"), ("1" * 16 + ".00", f"at most {limits.MAX_MONEY_DIGITS} digits"),
    ("1" * 1_000_000, f"at most {limits.MAX_MONEY_DIGITS} digits"),
])
def test_money(aputure, value, words):
    request = _example()
    request["items"][0]["price"] = value
    _refused_quickly(aputure, request, words)


@pytest.mark.fuzz
def test_broken_requests_long(aputure, capsys):
    """`pytest -m fuzz`: RPL_FUZZ_CASES broken aputure requests, seeded."""
    start, counts = time.monotonic(), {"decided": 0, "refused": 0}
    for n, request in enumerate(broken_request_stream(FUZZ_CASES, seed=5)):
        outcome = decide_or_refuse(aputure, request)
        counts[outcome] += 1
        if outcome == "decided":
            _agrees_with_the_oracle(aputure, request)
    with capsys.disabled():
        print(f"\nrequests: {FUZZ_CASES:,} broken aputure requests ({counts['decided']:,} decided, "
              f"{counts['refused']:,} refused) in {time.monotonic() - start:.0f} s")


def random_json(rng: random.Random, depth: int = 0):
    r = rng.random()
    if depth < 3 and r < 0.1:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    if depth < 3 and r < 0.2:
        return {rng.choice(["a", "sku", "price", ""]): random_json(rng, depth + 1)
                for _ in range(rng.randrange(3))}
    if r < 0.3:
        return rng.randrange(-10**20, 10**20)
    if r < 0.35:
        return rng.uniform(-1e6, 1e6)
    return rng.choice(HOSTILE_SCALARS)


def broken_request_stream(count: int, seed: int):
    """Seeded broken requests, as the hypothesis strategy makes them, for long runs."""
    rng = random.Random(seed)
    for _ in range(count):
        request = gen_corpus.generate(rng)
        for _ in range(rng.randrange(1, 4)):
            where, key = rng.choice(list(paths(request)))
            container = _at(request, where)
            action = rng.randrange(4)
            if action == 0 and isinstance(container, dict):
                del container[key]
            elif action == 1 and isinstance(container, dict):
                container[rng.choice(["x", "sku", "pricee", "Kind"])] = random_json(rng)
            else:
                container[key] = random_json(rng)
        yield request
