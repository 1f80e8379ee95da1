"""Inputs built to break the parser, the checker and the request reader, and what must come out.

A policy text gives a compiled policy or a PolicyError whose every diagnostic has a location;
a request gives a decision or a RequestError listing its problems. Nothing else, ever: no other
exception, no RecursionError, no hang. Shared by the tests and benchmarks/fuzz.py.
"""
from __future__ import annotations

import json
import random
import re
import time

from rplang.policy_lang.errors import PolicyError, RequestError, RplError
from rplang.runtime import load_policy_text

from ..conftest import POLICIES

# Diagnostics known to come without a location (test_known_bugs.py): the checker's "no
# `request:`" for a policy with no declaration at all.
SPANLESS_KNOWN = {"RPL043"}
SLOW = 20.0  # seconds: anything slower is a hang (the machine is shared, so generous)

# Crashes already reproduced in test_known_bugs.py while they are open: counted, so that a long
# run goes on to find others. (exception type, pattern its message matches)
KNOWN_CRASHES: list[tuple[type, re.Pattern]] = []
known_crashes = {"count": 0}

SEEDS = [p.read_text(encoding="utf-8") for p in sorted(POLICIES.rglob("*.rpl"))]

WORDS = ("policy version currency calendar clause parameter enum record request let outcomes rule "
         "output example expect rules with null optional list of date range when for each in cites "
         "then because overrides add to subtract from set note total at least if else or and not "
         "is given empty through true false sum count min max any every no where days day "
         "business all other money integer boolean text percent round items item refund x y "
         "USD US").split()
PUNCTUATION = (":", ",", ".", "(", ")", "{", "}", "[", "]", "=", "+", "-", "*", "/", "<", "<=",
               ">", ">=", "%", "==", "!=", "#", "\\", '"', "\n", "\n  ", " ")
LITERALS = ('"text"', '"{x}"', '"{"', '"}"', "14 days", "1 day", "10 business days", "15%",
            "12.50", "0", "2026-02-30", "2026-03-02", "9999-12-31", "0000-01-01", "99999999999",
            '"\\"', '"a\\"b"', "1e5", "0x10", "١٢", "ａ")


def token_soup(rng: random.Random) -> str:
    """A policy-like sequence of rpl's words, punctuation and literals."""
    parts = []
    for _ in range(rng.randrange(1, 80)):
        r = rng.random()
        parts.append(rng.choice(WORDS) if r < 0.5 else rng.choice(PUNCTUATION) if r < 0.85
                     else rng.choice(LITERALS))
    return " ".join(parts)


def mutate(rng: random.Random, text: str) -> str:
    """A real policy with a few mechanical changes: cut, duplicated, swapped, spliced."""
    for _ in range(rng.randrange(1, 4)):
        n = len(text)
        if n == 0:
            break
        i, j = sorted((rng.randrange(n), rng.randrange(n)))
        j = min(j, i + rng.randrange(1, 200))
        k = rng.randrange(7)
        if k == 0:  # delete a span
            text = text[:i] + text[j:]
        elif k == 1:  # duplicate a span
            text = text[:j] + text[i:j] + text[j:]
        elif k == 2:  # insert a token
            text = text[:i] + rng.choice(WORDS + list(PUNCTUATION) + list(LITERALS)) + text[i:]
        elif k == 3:  # replace one character
            text = text[:i] + chr(rng.randrange(32, 0x3000)) + text[i + 1:]
        elif k == 4:  # swap two lines
            lines = text.split("\n")
            a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
        elif k == 5:  # truncate
            text = text[:i]
        else:  # splice in a piece of another policy
            other = rng.choice(SEEDS)
            a = rng.randrange(len(other))
            text = text[:i] + other[a:a + rng.randrange(1, 300)] + text[i:]
    return text


def random_policy_text(rng: random.Random) -> str:
    k = rng.randrange(5)
    if k == 0:
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(400)))
        return data.decode("utf-8", "replace") if rng.random() < 0.5 else data.decode("latin-1")
    if k == 1:
        return "".join(chr(rng.choice((rng.randrange(32, 127), rng.randrange(0x10FFFF))))
                       for _ in range(rng.randrange(300))).encode("utf-8", "replace").decode("utf-8", "replace")
    if k == 2:
        return token_soup(rng)
    return mutate(rng, rng.choice(SEEDS))


def compile_or_refuse(text: str):
    """The compiled policy, or None after checking the PolicyError it gave."""
    start = time.monotonic()
    try:
        return load_policy_text(text, "<fuzz>")
    except tuple(kind for kind, _ in KNOWN_CRASHES) as error:  # an empty tuple catches nothing
        if not any(isinstance(error, kind) and pattern.search(str(error)) for kind, pattern in KNOWN_CRASHES):
            raise
        known_crashes["count"] += 1
        return None
    except PolicyError as error:
        assert error.diagnostics, "a PolicyError with no diagnostic"
        for d in error.diagnostics:
            assert d.span is not None or d.code in SPANLESS_KNOWN, f"no location: {d.render()}"
            d.render()
            json.dumps(d.to_json(), allow_nan=False)
        return None
    finally:
        assert time.monotonic() - start < SLOW, "compiling took too long"


def decide_or_refuse(policy, data) -> str:
    """`decided` or `refused`, after checking what came out; anything else raises."""
    start = time.monotonic()
    try:
        decision = policy.decide(data)
        json.dumps(decision.outputs_json(), allow_nan=False)
        return "decided"
    except RequestError as error:
        assert error.problems, "a RequestError with no problem"
        json.dumps(error.to_json(), allow_nan=False)
        for p in error.problems:
            assert p.path.startswith("$") and p.message and len(p.render()) < 2_000
        return "refused"
    except RplError:
        return "refused"
    finally:
        assert time.monotonic() - start < SLOW, "deciding took too long"
