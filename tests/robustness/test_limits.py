"""Every limit of policy_lang/limits.py: at the limit accepted, past it refused naming the limit."""
from __future__ import annotations

import inspect
import json
import sys

import pytest

from rplang.policy_lang import limits
from rplang.policy_lang.errors import PolicyError, RequestError
from rplang.runtime import load_policy_text
from rplang.runtime.reference import decide as reference_decide

from .differential import audit_generated_code, compiled_result, reference_result

BASE = """request:
  n: integer
  items: list of integer
outcomes:
  refuse "R"
  approve "A"
output outcome
"""
RULE = "rule r:\n  when {}\n  then refuse\n  because \"{{n}}\"\n"


def rule(condition: str) -> str:
    """A rule with `condition` laid out one word a line, so no line is long however it nests."""
    return RULE.format(condition.replace(" ", "\n    "))
REQUEST = {"n": 2, "items": [1, 2]}


def refused(text: str) -> list:
    with pytest.raises(PolicyError) as caught:
        load_policy_text(text)
    return caught.value.diagnostics


def refused_for(text: str, code: str, *words: str):
    diagnostics = refused(text)
    found = [d for d in diagnostics if d.code == code]
    assert found, "\n".join(d.render() for d in diagnostics)
    for word in words:
        assert word in found[0].message, found[0].render()
    assert found[0].span is not None
    return found[0]


# ---- Size ----------------------------------------------------------------------------------------

def _padded(size: int, filler: str = "x") -> str:
    """BASE, then comment lines up to `size` bytes in UTF-8."""
    line = "#" + filler * (limits.MAX_LINE_CHARS // 2 // len(filler.encode())) + "\n"
    room = size - len(BASE.encode())
    count = room // len(line.encode())
    text = BASE + line * count
    return text + "#" * (size - len(text.encode()))


@pytest.mark.fuzz  # tens of megabytes: with the long runs
def test_a_policy_at_the_size_limit_compiles():
    text = _padded(limits.MAX_POLICY_BYTES)
    assert len(text.encode()) == limits.MAX_POLICY_BYTES
    load_policy_text(text)


@pytest.mark.parametrize("filler", ["x", "é", "日"])
def test_a_policy_past_the_size_limit_is_refused(filler):
    text = _padded(limits.MAX_POLICY_BYTES, filler) + "#"
    refused_for(text, "RPL090", f"{limits.MAX_POLICY_BYTES:,} bytes")


def test_lines():
    load_policy_text(BASE + "#" * limits.MAX_LINE_CHARS + "\n")
    refused_for(BASE + "#" * (limits.MAX_LINE_CHARS + 1) + "\n", "RPL091", f"{limits.MAX_LINE_CHARS:,}")


# ---- Nesting -------------------------------------------------------------------------------------

NESTINGS = {
    "not": lambda n: "not " * n + "n > 1",
    "negation": lambda n: "-" * n + "n > 1",
    "sums": lambda n: " + ".join(["n"] * n) + " > 1",
    "products": lambda n: " * ".join(["n"] * n) + " > 1",
    "ifs": lambda n: "if n > 1 then " * n + "true" + " else false" * n,
    "ors": lambda n: "(n > 1 or " * n + "true" + ")" * n,
    "ands": lambda n: "(n > 1 and " * n + "true" + ")" * n,
    "quantifiers": lambda n: "any x in items where " * n + "true",
    "calls": lambda n: "max(" * n + "n" + ", 1)" * n + " > 1",
    "filters": lambda n: "(count of " + "(each x in " * n + "items" + " where true)" * n + ") > 1",
    "mappings": lambda n: "(count of " + "(" * n + "x" + " for each x in items)" * n + ") > 1",
}


def _deepest(make) -> int:
    """The most levels of `make` that compile (the limit counts tree levels, not constructs)."""
    lo, hi = 1, limits.MAX_DEPTH + 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        try:
            load_policy_text(BASE + rule(make(mid)))
            lo = mid
        except PolicyError:
            hi = mid - 1
    return lo


@pytest.mark.parametrize("kind", sorted(NESTINGS))
def test_nesting(kind):
    make = NESTINGS[kind]
    n = _deepest(make)
    assert n >= limits.MAX_DEPTH // 3, "the limit should leave room for real policies"
    # at the limit: compiles, its generated Python compiles, decides, explains, within the stack
    text = BASE + rule(make(n))
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 500)  # rpl needs less than 500 frames for it
    try:
        policy = load_policy_text(text)
        one = {"n": 2, "items": [1]}  # lists within lists grow as len(items) ** depth
        decision = policy.decide(one)
        decision.to_json_text()
        decision.explain_text()
        request = policy.read_request(one)
        assert compiled_result(policy, request) == reference_result(policy, request)
    finally:
        sys.setrecursionlimit(saved)
    audit_generated_code(policy)
    # one more level: refused, naming the limit
    refused_for(BASE + rule(make(n + 1)), "RPL092", f"{limits.MAX_DEPTH} levels")


def test_nesting_in_a_sentence():
    hole = "not " * limits.MAX_DEPTH * 2 + "true"
    refused_for(BASE + f"rule r:\n  when true\n  then refuse\n  because \"{{{hole}}}\"\n",
                "RPL092", f"{limits.MAX_DEPTH} levels")


def test_values_count_the_values_they_use():
    def chain(k):
        lets = "".join(f"let v{i} = v{i - 1} + 1\n" for i in range(k - 1, 0, -1)) + "let v0 = n\n"
        return BASE + lets + RULE.format(f"v{k - 1} > 1")

    lo, hi = 1, limits.MAX_DEPTH + 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        try:
            load_policy_text(chain(mid))
            lo = mid
        except PolicyError:
            hi = mid - 1
    assert lo >= limits.MAX_DEPTH // 3
    policy = load_policy_text(chain(lo))
    assert policy.decide(REQUEST).outputs_json() == {"outcome": "refuse"}
    found = refused_for(chain(lo + 1), "RPL092", f"`v{lo}`", "counting the values it uses")
    assert found.span.text == f"v{lo}"
    # a long chain reports where it crosses the limit, once
    assert len([d for d in refused(chain(1000)) if d.code == "RPL092"]) == 1


def test_nested_json_in_an_example():
    deep = "[" * (limits.MAX_DEPTH + 5) + "]" * (limits.MAX_DEPTH + 5)
    refused_for(BASE + f'example "deep":\n  request {{"n": {deep}}}\n', "RPL092")


# ---- Counts --------------------------------------------------------------------------------------

def _rules(k: int) -> str:
    return "".join(f"rule r{i}:\n  when n > {i}\n  then refuse\n" for i in range(k))


@pytest.mark.fuzz  # tens of thousands of rules: with the long runs
def test_a_policy_with_the_most_rules_compiles():
    policy = load_policy_text(BASE + _rules(limits.MAX_RULES))
    assert policy.decide({"n": 5, "items": []}).outputs_json() == {"outcome": "refuse"}


def test_rules():
    found = refused_for(BASE + _rules(limits.MAX_RULES + 1), "RPL093",
                        f"{limits.MAX_RULES + 1:,} rules", f"limit is {limits.MAX_RULES:,}")
    assert found.span.text.startswith(f"rule r{limits.MAX_RULES}")


def test_declarations():
    def lets(k):
        return BASE + "".join(f"let v{i} = n + {i}\n" for i in range(k))

    base_count = 3  # request, outcomes, output
    refused_for(lets(limits.MAX_DECLARATIONS - base_count + 1), "RPL093",
                f"limit is {limits.MAX_DECLARATIONS:,}")


@pytest.mark.parametrize("kind", ["enum", "record", "request", "outcomes"])
def test_members(kind):
    def policy(k):
        names = [f"m{i}" for i in range(k)]
        if kind == "enum":
            return BASE + "enum E: " + ",\n  ".join(names) + "\n"
        if kind == "record":
            return BASE + "record R:\n" + "".join(f"  {m}: integer\n" for m in names)
        if kind == "request":
            return BASE.replace("request:\n", "request:\n" + "".join(f"  {m}: integer\n" for m in names))
        return BASE.replace('  refuse "R"\n  approve "A"\n', "".join(f'  {m} "M"\n' for m in names))

    load_policy_text(policy(limits.MAX_MEMBERS - (2 if kind == "request" else 0)))
    refused_for(policy(limits.MAX_MEMBERS + 1), "RPL093", f"limit is {limits.MAX_MEMBERS:,}")


def test_reported_problems_are_capped():
    text = BASE + "".join(f"rule r{i}:\n  when (\n  then refuse\n" for i in range(300))
    diagnostics = refused(text)
    assert len(diagnostics) == limits.MAX_REPORTED + 1
    assert diagnostics[-1].code == "RPL099" and str(limits.MAX_REPORTED) in diagnostics[-1].hint


# ---- Literal numbers and dates --------------------------------------------------------------------

WHOLE = "9" * limits.MAX_WHOLE_DIGITS


@pytest.mark.parametrize("ok, bad, words", [
    (WHOLE, WHOLE + "9", f"{limits.MAX_WHOLE_DIGITS} digits"),
    ("0" * 40 + "1", "1" + "0" * limits.MAX_WHOLE_DIGITS, f"{limits.MAX_WHOLE_DIGITS} digits"),
    (WHOLE, "9" * 900, f"{limits.MAX_WHOLE_DIGITS} digits"),  # a longer one cannot fit a line
])
def test_whole_numbers(ok, bad, words):
    load_policy_text(BASE + RULE.format(f"n > {ok}"))
    refused_for(BASE + RULE.format(f"n > {bad}"), "RPL094", words)


@pytest.mark.parametrize("ok, bad, words", [
    (WHOLE + ".99", WHOLE + "9.99", f"{limits.MAX_WHOLE_DIGITS} digits"),
    ("1." + "5" * limits.MAX_DECIMALS, "1." + "5" * (limits.MAX_DECIMALS + 1), f"limit is {limits.MAX_DECIMALS}"),
])
def test_amounts(ok, bad, words):
    text = BASE.replace("  n: integer\n", "  n: integer\n  m: money\n")
    load_policy_text(text + RULE.format(f"m > {ok}"))
    refused_for(text + RULE.format(f"m > {bad}"), "RPL094", words)


def test_percentages():
    text = BASE.replace("  n: integer\n", "  n: integer\n  m: money\n")
    load_policy_text(text + RULE.format(f"round(m * {limits.MAX_PERCENT}%) > 1.00"))
    refused_for(text + RULE.format(f"round(m * {limits.MAX_PERCENT}.5%) > 1.00"), "RPL094",
                f"more than {limits.MAX_PERCENT}%")
    refused_for(text + RULE.format("round(m * 1.1234567%) > 1.00"), "RPL094", "decimals")


@pytest.mark.parametrize("unit, limit", [("days", limits.MAX_DAYS),
                                         ("business days", limits.MAX_BUSINESS_DAYS)])
def test_durations(unit, limit):
    text = BASE.replace("  n: integer\n", "  n: integer\n  d: date\n") + 'calendar "US"\n'
    policy = load_policy_text(text + RULE.format(f"d + {limit} {unit} > d"))
    assert policy.decide({**REQUEST, "d": "2999-12-31"}).outputs_json() == {"outcome": "refuse"}
    refused_for(text + RULE.format(f"d + {limit + 1} {unit} > d"), "RPL094", f"{limit:,} {unit}")
    refused_for(text + RULE.format(f"d + {'9' * 40} {unit} > d"), "RPL094", f"{limit:,} {unit}")


def test_dates():
    text = BASE.replace("  n: integer\n", "  n: integer\n  d: date\n")
    for ok in (limits.MIN_DATE, limits.MAX_DATE):
        load_policy_text(text + RULE.format(f"d > {ok.isoformat()}"))
    for bad in ("1899-12-31", "3000-01-01", "9999-12-31", "0001-01-01"):
        refused_for(text + RULE.format(f"d > {bad}"), "RPL094", f"`{bad}`")


# ---- Requests ------------------------------------------------------------------------------------

TYPES = load_policy_text("""request:
  t: text
  i: integer
  m: money
  d: date
  xs: list of integer
""")


def request_refused(data: dict, *words: str) -> list:
    with pytest.raises(RequestError) as caught:
        TYPES.decide(data)
    problems = caught.value.problems
    assert any(all(w in p.message for w in words) for p in problems), caught.value.render()
    json.dumps(caught.value.to_json(), allow_nan=False)
    return problems


OK = {"t": "x", "i": 1, "m": "1.00", "d": "2026-01-01", "xs": []}


def test_request_texts():
    TYPES.decide({**OK, "t": "x" * limits.MAX_TEXT})
    request_refused({**OK, "t": "x" * (limits.MAX_TEXT + 1)}, f"{limits.MAX_TEXT:,} characters")


def test_request_lists():
    TYPES.decide({**OK, "xs": [1] * limits.MAX_LIST})
    request_refused({**OK, "xs": [1] * (limits.MAX_LIST + 1)}, f"{limits.MAX_LIST:,} elements")


def test_request_whole_numbers():
    TYPES.decide({**OK, "i": limits.MAX_INTEGER})
    TYPES.decide({**OK, "i": -limits.MAX_INTEGER})
    for bad in (limits.MAX_INTEGER + 1, -limits.MAX_INTEGER - 1, 10**5000):
        request_refused({**OK, "i": bad}, f"{limits.MAX_WHOLE_DIGITS} digits")


def test_request_amounts():
    TYPES.decide({**OK, "m": "9" * limits.MAX_MONEY_DIGITS + ".99"})
    request_refused({**OK, "m": "9" * (limits.MAX_MONEY_DIGITS + 1)}, f"{limits.MAX_MONEY_DIGITS} digits")


def test_request_dates():
    for ok in (limits.MIN_DATE, limits.MAX_DATE):
        TYPES.decide({**OK, "d": ok.isoformat()})
    for bad in ("1899-12-31", "3000-01-01", "9999-12-31"):
        request_refused({**OK, "d": bad}, limits.MIN_DATE.isoformat(), limits.MAX_DATE.isoformat())


def test_request_problems_are_capped():
    problems = request_refused({f"x{i}": i for i in range(1000)}, "only the first")
    assert len(problems) == limits.MAX_PROBLEMS + 1


RECURSIVE = load_policy_text("""request:
  node: Node
record Node:
  v: integer
  next: optional Node
rule r:
  when node.v > 1
  then note
""")


def _chain(levels: int) -> dict:
    node = {"v": 1}
    for _ in range(levels - 1):
        node = {"v": 2, "next": node}
    return {"node": node}


def test_records_within_records():
    """A record type may hold itself; a request nests records only so deep."""
    deepest = limits.MAX_REQUEST_DEPTH - 1  # the request itself is the first record
    RECURSIVE.decide(_chain(deepest))
    with pytest.raises(RequestError) as caught:
        RECURSIVE.decide(_chain(deepest + 1))
    assert f"at most {limits.MAX_REQUEST_DEPTH} levels" in caught.value.render()
    with pytest.raises(RequestError):
        RECURSIVE.decide(_chain(100_000))
    assert reference_decide(RECURSIVE.checked, RECURSIVE.read_request(_chain(3))).outputs == {}


def _clause(length: int) -> str:
    """A clause declaration exactly `length` characters long, its text on short lines."""
    head, line = 'clause c: "', "x" * 99 + "\n"
    body = length - len(head) - 1
    return head + line * (body // len(line)) + "x" * (body % len(line)) + '"'


def test_declarations_are_not_too_long():
    assert len(_clause(limits.MAX_DECLARATION_CHARS)) == limits.MAX_DECLARATION_CHARS
    load_policy_text(BASE + _clause(limits.MAX_DECLARATION_CHARS) + "\n")
    refused_for(BASE + _clause(limits.MAX_DECLARATION_CHARS + 1) + "\n", "RPL090",
                f"limit is {limits.MAX_DECLARATION_CHARS:,}")


def test_a_broken_long_declaration_is_refused_before_it_is_read_again():
    """Describing a syntax error re-parses its declaration: a long one is refused for its length."""
    import time

    broken = "rule r:\n  when " + "(n > 1 and\n    " * 20_000 + "\n  then note\n"
    start = time.monotonic()
    refused_for(BASE + broken, "RPL090", f"limit is {limits.MAX_DECLARATION_CHARS:,}")
    assert time.monotonic() - start < 10
