"""Mutants of the real policy: a token deleted, repeated or swapped with the next, a name
misspelled. `rpl check` must accept each one or report errors with a location, never fail itself.

The default count keeps the test in seconds; set RPL_MUTANTS for more, or run the `fuzz` test
(`pytest -m fuzz tests/diagnostics`, RPL_MUTANTS_FUZZ mutants, 5000 by default).
"""
import os
import random
import re

import pytest

from rplang.verify.static import check_policy_text
from tests.conftest import APUTURE

COUNT = int(os.environ.get("RPL_MUTANTS", "240"))
SEED = int(os.environ.get("RPL_MUTANTS_SEED", "20261126"))

_TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\d+(?:\.\d+)?%?|[A-Za-z_][A-Za-z0-9_]*|<=|>=|[^\s#]|#[^\n]*')
_INTERNAL = re.compile(r"__ANON|\$END|_POLICY|_CURRENCY|Token\(|Tree\(|Traceback|\bNAME\b|\bSTRING\b")


def _tokens(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _TOKEN.finditer(text) if not m.group().startswith("#")]


def _misspelled(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word + "x"
    i = rng.randrange(len(word) - 1)
    kind = rng.choice(["swap", "drop", "double", "plural"])
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word + "s"


def mutants(text: str, count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    spans = _tokens(text)
    out = []
    while len(out) < count:
        k = rng.randrange(len(spans) - 1)
        (a, b), (c, d) = spans[k], spans[k + 1]
        token = text[a:b]
        kind = rng.choice(["delete", "repeat", "swap", "rename"])
        if kind == "delete":
            mutant = text[:a] + text[b:]
        elif kind == "repeat":
            mutant = text[:b] + " " + token + text[b:]
        elif kind == "swap":
            mutant = text[:a] + text[c:d] + text[b:c] + token + text[d:]
        else:
            if not re.fullmatch(r"[A-Za-z_]\w*", token):
                continue
            token = f"{token}->{_misspelled(token, rng)}"
            mutant = text[:a] + token.split("->")[1] + text[b:]
        line = text.count("\n", 0, a) + 1
        out.append((f"{len(out):03d}-{kind}-line{line}-{_short(token)}", mutant))
    return out


def _short(token: str) -> str:
    token = re.sub(r"\W+", "_", token)[:24]
    return token or "sign"


MUTANTS = mutants(APUTURE.read_text(encoding="utf-8"), COUNT, SEED)


@pytest.mark.parametrize("text", [m[1] for m in MUTANTS], ids=[m[0] for m in MUTANTS])
def test_a_mutant_is_accepted_or_located(text):
    diagnostics = check_policy_text(text, "aputure-mutant.rpl")
    errors = [d for d in diagnostics if d.severity == "error"]
    for d in diagnostics:
        assert d.span is not None, d.render()
        assert 0 <= d.span.start <= d.span.end <= len(text), d.render()
        assert d.message and not _INTERNAL.search(d.message + (d.hint or "")), d.render()
        rendered = d.render()
        assert rendered.startswith(f"aputure-mutant.rpl:{d.span.line}:{d.span.column}: ")
    if errors:
        assert all(d.severity == "error" for d in diagnostics)  # warnings only for a policy that compiles


def test_the_mutants_are_many_and_varied():
    kinds = {name.split("-")[1] for name, _ in MUTANTS}
    assert len(MUTANTS) >= 200 and kinds == {"delete", "repeat", "swap", "rename"}


@pytest.mark.fuzz
def test_many_mutants():
    """`pytest -m fuzz tests/diagnostics`: thousands of mutants, each seed a different set."""
    count = int(os.environ.get("RPL_MUTANTS_FUZZ", "5000"))
    failures = []
    for name, text in mutants(APUTURE.read_text(encoding="utf-8"), count, SEED + 1):
        try:
            test_a_mutant_is_accepted_or_located(text)
        except Exception as error:  # collect them all, to see the pattern
            failures.append(f"{name}: {type(error).__name__}: {error}"[:300])
    assert failures == []
