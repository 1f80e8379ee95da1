"""The request reader's fast path (runtime/request.py) reads exactly as the general reader does.

Differential: valid requests (the Aputure corpus, the electronics examples, requests made at
random from each policy's schema) and mutated ones (a key dropped or added, a wrong type, null,
a boolean for an integer, huge numbers, bad dates, long texts and lists, deep records) are read
with the fast path and with it disabled: the converted request, or the problems, are the same.
"""
from __future__ import annotations

import ast
import copy
import datetime
import json
import random
import types
from decimal import Decimal

import pytest

from rplang.compiler import types as T
from rplang.policy_lang import limits
from rplang.policy_lang.errors import RequestError
from rplang.runtime import load_policy, load_policy_text
from rplang.runtime.request import _UNUSUAL, PATH_KEY, RequestReader, fast_source
from tests.conftest import APUTURE, POLICIES, load_benchmark
from tests.robustness.differential import FORBIDDEN

SMALL = """\
enum Color: red, green, blue
record Part:
  name: text
  size: optional integer
  tags: list of text
  rate: percent = 10%
  inner: optional Part
record Box:
  label: text = "box"
  fragile: boolean
  note: text when fragile
  sealed: boolean when fragile
  seal: text when sealed
  parts: list of Part
  rows: list of list of Part
request:
  day: date
  gift: boolean = false
  message: text when gift
  wrap: optional Color when gift
  paid: money = 0.00 when gift
  amount: money
  count: integer
  share: percent
  notes: list of text
  colors: optional list of Color
  box: Box
  extra: optional Box
  grid: list of list of integer
rule r:
  when count > 1
  then note
"""


@pytest.fixture(scope="module")
def policies():
    return {"aputure": load_policy(APUTURE), "electronics": load_policy(POLICIES / "electronics.rpl"),
            "small": load_policy_text(SMALL)}


def _slow(policy) -> RequestReader:
    """The policy's reader with the fast path disabled: the general reader alone."""
    reader = RequestReader(policy.checked.request, policy.checked.records)
    reader._fast = None
    return reader


def _typed(value):
    """A value with the types of everything in it, in order: 1 is not True, Decimal 1 is not 1.00."""
    if isinstance(value, dict):
        return ("dict", [(key, _typed(v)) for key, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return type(value), repr(value) if isinstance(value, (float, Decimal)) else value


def _outcome(reader: RequestReader, data):
    try:
        return "read", _typed(reader.read(data))
    except RequestError as error:
        return "refused", [(p.path, p.message, _typed(p.received)) for p in error.problems]


# ---- Requests: valid ones from each policy's schema, and mutations -------------------------------

def _valid_value(type_, records, rng: random.Random, depth: int):
    if isinstance(type_, T.OptionalType):
        type_ = type_.inner
    if isinstance(type_, T.RecordType):
        return _valid_record(records[type_.name], records, rng, depth + 1)
    if isinstance(type_, T.ListType):
        return [_valid_value(type_.element, records, rng, depth) for _ in range(rng.choice((0, 1, 1, 2, 3)))]
    if isinstance(type_, T.EnumType):
        return rng.choice(type_.members)
    first, last = limits.MIN_DATE.toordinal(), limits.MAX_DATE.toordinal()
    return rng.choice({
        "date": [limits.MIN_DATE.isoformat(), limits.MAX_DATE.isoformat(), "2024-02-29",
                 datetime.date.fromordinal(rng.randint(first, last)).isoformat()],
        "money": ["0", "0.00", "12.5", "12.50", "999999999999999.99",
                  f"{rng.randrange(10**6)}.{rng.randrange(100):02}"],
        "percent": ["15%", "15", "0.5%", "999.9999%", "0"],
        "integer": [0, -1, limits.MAX_INTEGER, -limits.MAX_INTEGER, rng.randint(-10**6, 10**6)],
        "boolean": [True, False],
        "text": ["", "abc", "é ✓", "x" * limits.MAX_TEXT],
    }[type_.name])


def _valid_record(fields, records, rng: random.Random, depth: int = 0) -> dict:
    record = {}
    for spec in fields.values():
        if spec.name in record:  # a flag, given first
            continue
        optional = spec.has_default or isinstance(spec.type, T.OptionalType)
        if spec.present_when is not None and fields[spec.present_when].type == T.BOOLEAN \
                and spec.present_when not in record:  # its flag first, so that it is known
            record[spec.present_when] = rng.random() < 0.7
        if spec.present_when is not None and record.get(spec.present_when) is not True:
            if rng.random() < 0.3:  # given, though not known for this record: ignored, even wrong
                ignored = _valid_value(spec.type, records, rng, depth)
                record[spec.name] = rng.choice((None, 1, "wrong", [], ignored))
            continue
        if isinstance(spec.type, T.OptionalType) and isinstance(spec.type.inner, T.RecordType) \
                and depth > 3:
            continue  # a record that may hold itself: stop somewhere
        if optional and rng.random() < 0.3:
            if rng.random() < 0.5:
                record[spec.name] = None  # null: not given
            continue
        record[spec.name] = _valid_value(spec.type, records, rng, depth)
    keys = list(record)
    rng.shuffle(keys)  # the order of the keys in the JSON does not matter
    return {key: record[key] for key in keys}


ODD_VALUES = [
    None, True, False, 0, 1, -1, 2.5, 1.0, float("nan"), float("inf"), 10**15 - 1, -(10**15 - 1), 10**15,
    -(10**15), 10**400, "", "x", "x" * (limits.MAX_TEXT + 1), "2025-02-28", "2025-02-30", "2023-02-29",
    "1900-01-01", "1899-12-31", "2999-12-31", "3000-01-01", "0000-01-01", "2025-1-1", "20250101",
    "2025-W01-1", "２０２５-01-01", "2025-01-01T00:00", "12.50", "12.5", "12.505", "-1.00", "1e3",
    "123456789012345", "1234567890123456", "123456789012345.99", "1234567890123456.99", "١٢", "15%",
    "100.0001%", "1000%", "%", "return", "exchange", "card", "valid", "new", "none", "scratch", "red",
    "tv", "RED", [], [1], ["x"], ["crack", "dent"], ["red", "blue"], [[1, 2], []], [None], {}, {"x": 1},
]


def _containers(value, found: list) -> list:
    if isinstance(value, (dict, list)):
        found.append(value)
        for v in value.values() if isinstance(value, dict) else value:
            _containers(v, found)
    return found


def _mutate(data: dict, rng: random.Random, policy) -> object:
    data = copy.deepcopy(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if rng.random() < 0.02:
            return rng.choice((None, [], "x", 1, [data]))  # not an object at all
        target = rng.choice(_containers(data, []))
        known = list(target) if isinstance(target, dict) else []
        odd = rng.choice(ODD_VALUES + [copy.deepcopy(rng.choice(_containers(data, [])))])  # or a part
        if isinstance(target, list):
            if target and rng.random() < 0.5:
                target[rng.randrange(len(target))] = odd
            elif target:
                del target[rng.randrange(len(target))]
            continue
        op = rng.random()
        if op < 0.2 and known:
            del target[rng.choice(known)]
        elif op < 0.35:
            fields = [f for r in [policy.checked.request, *policy.checked.records.values()] for f in r]
            target[rng.choice(["colour", "x", rng.choice(fields), rng.choice(fields) + "s", 1])] = odd
        elif known:
            target[rng.choice(known)] = odd
    return data


def _deep(depth: int) -> dict:
    """A small request whose first part holds `depth` parts within each other."""
    part = {"name": "last", "tags": []}
    for _ in range(depth):
        part = {"name": "p", "tags": ["t"], "inner": part}
    return {"day": "2025-01-01", "amount": "1.00", "count": 2, "share": "5%", "notes": [], "grid": [],
            "box": {"fragile": False, "parts": [part], "rows": [[part], []]}}


def _requests(name: str, policy, rng: random.Random, count: int):
    valid = [_valid_record(policy.checked.request, policy.checked.records, rng) for _ in range(count)]
    if name == "aputure":
        corpus = load_benchmark("gen_corpus").generate_lines(count, rng.randrange(1000))
        valid += [json.loads(line) for line in corpus]
    if name in ("aputure", "electronics"):
        valid += [json.loads(p.read_text()) for p in sorted((POLICIES / name / "requests").glob("*.json"))]
    if name == "small":
        valid += [_deep(depth) for depth in range(limits.MAX_REQUEST_DEPTH - 6, limits.MAX_REQUEST_DEPTH + 2)]
    yield from valid
    for data in valid[:2]:  # lists at their longest, and longer
        for size in (limits.MAX_LIST, limits.MAX_LIST + 1):
            long = copy.deepcopy(data)
            lists = [c for c in _containers(long, []) if isinstance(c, list) and c]
            if lists:
                chosen = rng.choice(lists)
                chosen.extend([chosen[-1]] * (size - len(chosen)))
                yield long
    for _ in range(3 * count):
        yield _mutate(rng.choice(valid), rng, policy)


@pytest.mark.parametrize("name", ["aputure", "electronics", "small"])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_fast_path_reads_as_the_general_reader(policies, name, seed):
    policy = policies[name]
    fast, slow = policy.reader, _slow(policy)
    assert fast._fast is not None
    counts = {"read": 0, "refused": 0, "fast": 0}
    for data in _requests(name, policy, random.Random(seed), 250):
        given = copy.deepcopy(data)
        expected = _outcome(slow, data)
        assert _outcome(fast, data) == expected, data
        assert _typed(data) == _typed(given)  # neither reader changes what it reads
        counts[expected[0]] += 1
        try:
            fast._fast(data, "$", 0)
        except _UNUSUAL:
            continue
        assert expected[0] == "read", data  # the fast path accepts only what the general reader does
        counts["fast"] += 1
    # both kinds met, and most valid requests read the fast way
    assert counts["refused"] > 200 and counts["read"] > 250 and counts["fast"] >= 0.9 * counts["read"], counts


def test_a_valid_request_takes_the_fast_path(policies, monkeypatch):
    policy = policies["aputure"]
    data = json.loads(next(load_benchmark("gen_corpus").generate_lines(1, 7)))
    expected = _slow(policy).read(copy.deepcopy(data))

    def general(*args):
        raise AssertionError("the general reader was used")

    monkeypatch.setattr(policy.reader, "_top", general)
    read = policy.reader.read(data)
    assert _typed(read) == _typed(expected)
    assert read[PATH_KEY] == "$" and read["items"][0][PATH_KEY] == "$.items[0]"
    assert read["items"] is not data["items"]  # a new list, as the general reader makes
    with pytest.raises(AssertionError, match="general reader"):  # and a problem is left to it
        policy.reader.read({**data, "colour": "red"})


def test_residual_reading_takes_the_general_way(policies, monkeypatch):
    """With `unknown_at`, a fact left out is UNKNOWN: only the general reader reads that way."""
    policy = policies["aputure"]
    data = json.loads(next(load_benchmark("gen_corpus").generate_lines(1, 7)))
    calls = []
    general = policy.reader._top
    monkeypatch.setattr(policy.reader, "_top", lambda *args: calls.append(1) or general(*args))
    policy.reader.read(data, unknown_at=True)
    assert calls


def test_the_generated_reader_holds_no_policy_text(policies):
    """As the rule code (tests/robustness/differential.py): the policy's only words in it are field
    names, quoted (a default, like the small policy's "box", is a constant); it names nothing
    dangerous and reads no `_` attribute; it runs with a few builtins and no module."""
    for policy in policies.values():
        source, _ = fast_source(policy.checked.request, policy.checked.records)
        fields = set(policy.checked.request).union(*policy.checked.records.values())
        allowed = fields | {"." + name for name in fields} | {PATH_KEY, "%", "[", "]"}
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value in allowed, node.value
            assert not isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal))
            assert not (isinstance(node, ast.Attribute) and node.attr.startswith("_")), node.attr
            assert not (isinstance(node, ast.Name) and node.id in FORBIDDEN), node.id
        namespace = policy.reader._fast.__globals__
        assert isinstance(namespace["__builtins__"], dict)
        for name, value in list(namespace.items()) + list(namespace["__builtins__"].items()):
            assert name not in FORBIDDEN - {"__builtins__"} and not isinstance(value, types.ModuleType)


def test_days_and_amounts_read_before_are_shared(policies, monkeypatch):
    """The fast path keeps the days and amounts it has read by their text (runtime/request.py):
    a second request gets the same objects, equal to what the general reader makes; a zero
    amount (falsy) is read again; with the tables full, texts are read as before."""
    from rplang.runtime import request as reading

    policy = policies["aputure"]
    data = json.loads(next(load_benchmark("gen_corpus").generate_lines(1, 11)))
    data["order"]["shipping_paid"] = "0.00"
    expected = _typed(_slow(policy).read(copy.deepcopy(data)))
    first, second = policy.reader.read(data), policy.reader.read(copy.deepcopy(data))
    assert _typed(first) == _typed(second) == expected
    assert second["request_date"] is first["request_date"]
    assert second["items"][0]["price"] is first["items"][0]["price"]
    assert second["order"]["shipping_paid"] == Decimal("0.00")
    monkeypatch.setattr(reading, "_DAYS", {})
    monkeypatch.setattr(reading, "_AMOUNTS", {})
    monkeypatch.setattr(reading, "TEXTS_KEPT", 0)
    fresh = load_policy(APUTURE)  # its reader's names bound to the empty tables
    assert _typed(fresh.reader.read(copy.deepcopy(data))) == expected
    assert not reading._DAYS and not reading._AMOUNTS


@pytest.mark.parametrize("value", [["2026-03-01"], {"day": 1}, 20260301, "2026-02-30", "1899-12-31", "2026-3-1"])
def test_a_date_that_is_not_one_gets_the_general_readers_problem(policies, value):
    policy = policies["aputure"]
    data = json.loads(next(load_benchmark("gen_corpus").generate_lines(1, 11)))
    data["request_date"] = value
    with pytest.raises(RequestError) as fast:
        policy.reader.read(copy.deepcopy(data))
    with pytest.raises(RequestError) as slow:
        _slow(policy).read(copy.deepcopy(data))
    assert fast.value.to_json() == slow.value.to_json()


@pytest.mark.parametrize("keys", [
    {"zzz": 1},  # an unknown key, the optional fields and the ones with defaults left out
    {"zzz": 1, "size": None},  # an optional field given as null: not counted as given
    {"zzz": 1, "size": 3, "rate": "5%"},
    {"size": 3, "rate": "5%", "inner": None},  # every key known: read the fast way
])
def test_only_a_record_with_no_key_but_its_fields_is_read_the_fast_way(policies, keys):
    """The fast path counts the keys a record is known to have (its required fields, the others
    found there) before it tests every key: an unknown key is never taken for an absent field."""
    policy = policies["small"]
    data = _deep(0)
    data["box"]["parts"][0] = {"name": "p", "tags": [], **keys}
    expected = _outcome(_slow(policy), copy.deepcopy(data))
    assert _outcome(policy.reader, data) == expected
    if "zzz" in keys:
        assert expected[0] == "refused"
        with pytest.raises(_UNUSUAL):
            policy.reader._fast(data, "$", 0)
    else:
        assert _typed(policy.reader._fast(data, "$", 0)) == expected[1]


def test_a_record_with_an_unknown_key_for_a_fact_not_known_is_refused(policies):
    """Fields given only when a fact is true are counted only then; given when it is false they
    are ignored, and a key besides them is still found."""
    policy = policies["small"]
    for extra in ({"zzz": 1}, {"note": "n", "zzz": 1}, {"note": "n"}):
        data = _deep(0)
        data["box"].update(extra)
        expected = _outcome(_slow(policy), copy.deepcopy(data))
        assert _outcome(policy.reader, data) == expected
        assert (expected[0] == "refused") == ("zzz" in extra)
