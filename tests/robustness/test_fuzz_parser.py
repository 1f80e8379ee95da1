"""The parser and the checker on random bytes, random unicode, token soup and broken policies.

Only rpl's own errors come out, each with a location; never another exception, a hang, or a
recursion crash.
"""
from __future__ import annotations

import random
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rplang.policy_lang import limits
from rplang.policy_lang.errors import PolicyError
from rplang.runtime import load_policy_text

from .conftest import FUZZ_CASES, quick
from .fuzzing import SEEDS, compile_or_refuse, mutate, random_policy_text, token_soup


@quick(150)
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    compile_or_refuse(data.decode("utf-8", "replace"))
    compile_or_refuse(data.decode("latin-1"))


@quick(150)
@given(st.text(max_size=2000))
def test_random_unicode(text):
    compile_or_refuse(text)


@quick(150)
@given(st.integers(0, 2**32 - 1))
def test_token_soup(seed):
    compile_or_refuse(token_soup(random.Random(seed)))


@quick(100)
@given(st.integers(0, 2**32 - 1))
def test_mutated_policies(seed):
    rng = random.Random(seed)
    compile_or_refuse(mutate(rng, rng.choice(SEEDS)))


def test_the_bundled_policies_compile():
    for text in SEEDS:
        try:
            load_policy_text(text)
        except PolicyError as error:  # an examples file is not a policy: refused, and located
            assert all(d.span is not None for d in error.diagnostics)


_NESTINGS = {
    "parentheses": lambda n: "(" * n + "n > 1" + ")" * n,
    "not": lambda n: "not " * n + "n > 1",
    "negation": lambda n: "-" * n + "n > 1",
    "sums": lambda n: " + ".join(["n"] * n) + " > 1",
    "products": lambda n: " * ".join(["n"] * n) + " > 1",
    "ifs": lambda n: "if n > 1 then " * n + "true" + " else false" * n,
    "ands of ors": lambda n: "(n > 1 or " * n + "true" + ")" * n,
    "quantifiers": lambda n: "any x in items where " * n + "true",
    "filters": lambda n: "count of " + "(each x in " * n + "items" + " where true)" * n + " > 1",
    "sets": lambda n: "{" * n + "a" + "}" * n,
    "calls": lambda n: "max(" * n + "n" + ", 1)" * n + " > 1",
    "fields": lambda n: "o" + ".o" * n + ".n > 1",
}
_HEAD = """request:
  n: integer
  items: list of integer
  o: R
record R:
  n: integer
  o: R
enum E: a, b
rule r:
  when """


@pytest.mark.parametrize("kind", sorted(_NESTINGS))
@pytest.mark.parametrize("depth", [limits.MAX_DEPTH + 1, 2_000,
                                   pytest.param(200_000, marks=pytest.mark.fuzz)])
def test_deep_nesting_is_a_clear_error(kind, depth):
    """However deep, and whatever nests, a clear error, never a RecursionError.

    200,000 levels make megabytes of text, which take Lark seconds to read: with the long runs.
    """
    condition = _NESTINGS[kind](depth)
    for text in (_HEAD + condition + "\n  then note\n",  # one long line
                 _HEAD + condition.replace(" ", "\n    ") + "\n  then note\n"):  # many lines
        if len(text.encode()) > limits.MAX_POLICY_BYTES:
            text = text[:limits.MAX_POLICY_BYTES]
        if kind == "parentheses":  # they group, they do not nest: fine however many
            compile_or_refuse(text)
            continue
        start = time.monotonic()
        with pytest.raises(PolicyError) as caught:
            load_policy_text(text)
        assert time.monotonic() - start < (10 if depth < 10_000 else 60)
        assert all(d.span is not None for d in caught.value.diagnostics)


@pytest.mark.fuzz
def test_policy_texts_long(capsys):
    """`pytest -m fuzz`: RPL_FUZZ_CASES random, soup and mutated policy texts, seeded."""
    rng, start, compiled = random.Random(17), time.monotonic(), 0
    for _ in range(FUZZ_CASES):
        compiled += compile_or_refuse(random_policy_text(rng)) is not None
    with capsys.disabled():
        print(f"\nparser: {FUZZ_CASES:,} policy texts ({compiled:,} compiled, the rest refused) "
              f"in {time.monotonic() - start:.0f} s")
