"""`name_span` and `word_span` find words without a regex per word, as the regex found them."""
from __future__ import annotations

import random
import re

from rplang.compiler.expression_support import _find_word, name_span, word_span
from rplang.policy_lang.span import Source, Span


def _regex(text: str, word: str, start: int, end: int) -> int:
    found = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])").search(text, start, end)
    return found.start() if found else -1


def test_find_word_is_the_regex_search():
    rng = random.Random(5)
    for _ in range(50_000):
        text = "".join(rng.choice("ab_ .1:\n") for _ in range(rng.randint(0, 14)))
        word = "".join(rng.choice("ab_1") for _ in range(rng.randint(1, 3)))
        start = rng.randint(0, len(text))
        end = rng.randint(0, len(text) + 2)
        assert _find_word(text, word, start, end) == _regex(text, word, start, end), (text, word, start, end)


def test_the_character_before_the_start_counts():
    assert _find_word("xab ab", "ab", 1, 6) == 4


def test_name_span_and_word_span():
    text = "rule rule_a: when rule_a.x then rule_b\nrule_a"
    source = Source("p.rpl", text)
    span = Span(source, 0, 38)
    assert name_span(span, "rule_a").text == "rule_a" and name_span(span, "rule_a").start == 5
    assert name_span(span, "rule").start == 0  # only the keyword: found from the start
    assert name_span(span, "zzz") is span
    assert word_span(span, "rule_b").start == 32
    assert word_span(Span(source, 0, 36), "rule_b") is not None
    assert word_span(Span(source, 0, 36), "rule_b").start == 0  # not whole: the span itself
