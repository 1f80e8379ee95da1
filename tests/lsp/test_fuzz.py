"""Text being typed: every prefix of each bundled policy, and random edits, must give diagnostics
and answers, never a crash of the server. The default run samples the prefixes; `-m fuzz` feeds
every one of them."""
from __future__ import annotations

import random
import re

import pytest
from lsprotocol import types as lsp

from tests.conftest import POLICIES

FILES = sorted(p for p in POLICIES.rglob("*.rpl"))
JUNK = ["\r\n", "\r", "\n", "{", "}", '"', "item.", " when ", "🎁", "\x00", "rule", ":", "=", "..", "#", "\t",
        "let x = ", " then ", "1557.50", "14 days", "%", "é", "\ufeff"]


def _exercise(session, uri: str, text: str) -> None:
    """Ask what an editor asks after a keystroke; each answer forces the analysis of this version."""
    lines = re.split(r"\r\n|\r|\n", text)
    session.completion(uri, lsp.Position(len(lines) - 1, len(lines[-1].encode("utf-16-le")) // 2))
    session.hover(uri, lsp.Position(len(lines) // 2, 3))
    session.symbols(uri)


def _feed_prefixes(session, path, step: int) -> None:
    full = path.read_text(encoding="utf-8")
    # An examples file keeps its name: it is checked against its policy.
    uri = session.open(path if path.name == "examples.rpl" else path.parent / f"fuzz-{path.name}", "")
    cuts = list(range(0, len(full) + 1, step)) + [len(full)]
    for n, cut in enumerate(cuts):
        text = full[:cut]
        session.change(uri, text)
        _exercise(session, uri, text)
        if n % 10 == 0:
            session.wait_diagnostics(uri)
    session.wait_diagnostics(uri)
    session.close_document(uri)
    assert session.errors() == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_prefixes_of_bundled_policies_sampled(session, path):
    text = path.read_text(encoding="utf-8")
    _feed_prefixes(session, path, step=max(1, len(text) // 40))


@pytest.mark.fuzz
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_prefix_of_bundled_policies(session, path):
    _feed_prefixes(session, path, step=1)


def _random_edits(session, seed: int, count: int) -> None:
    rng = random.Random(seed)
    path = rng.choice(FILES)
    text = path.read_text(encoding="utf-8")
    uri = session.open(path.parent / f"edits-{seed}.rpl", text)
    for n in range(count):
        at = rng.randrange(len(text) + 1)
        cut = rng.randrange(0, 40) if rng.random() < 0.5 else 0
        text = text[:at] + "".join(rng.choice(JUNK) for _ in range(rng.randrange(0, 4))) + text[at + cut:]
        session.change(uri, text)
        _exercise(session, uri, text)
        if n % 10 == 0:
            assert session.wait_diagnostics(uri) is not None
    session.wait_diagnostics(uri)
    session.close_document(uri)
    assert session.errors() == []


@pytest.mark.parametrize("seed", range(3))
def test_random_edits(session, seed):
    _random_edits(session, seed, 30)


@pytest.mark.fuzz
@pytest.mark.parametrize("seed", range(100, 130))
def test_many_random_edits(session, seed):
    _random_edits(session, seed, 300)
