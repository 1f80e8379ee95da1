"""The parser's fast paths give what the plain paths give: the same AST, spans, diagnostics.

- a large policy parsed in batches of declarations, against the whole text parsed at once;
- a `{hole}` that is a plain name or path, built without Lark, against Lark's parse of it;
- Lark's positions skipped for `?rules` of one child, against Lark's own;
- a new version parsed again reusing the last version's declarations, against its whole text.
"""
from __future__ import annotations

import random
import re

import attrs
import pytest
from lark import Lark

from rplang.policy_lang import build_expressions, grammar, limits, parser, reparse
from rplang.policy_lang.build_declarations import AstBuilder
from rplang.policy_lang.errors import PolicyError
from rplang.policy_lang.span import Source, Span

from ..conftest import POLICIES, ROOT, load_benchmark


def _dump(x):
    """An AST with its spans as offsets, comparable with ==."""
    if isinstance(x, Span):
        return ("span", x.start, x.end)
    if attrs.has(type(x)):
        return (type(x).__name__,) + tuple((f.name, _dump(getattr(x, f.name))) for f in attrs.fields(type(x)))
    if isinstance(x, (tuple, list)):
        return tuple(_dump(i) for i in x)
    if isinstance(x, dict):
        return tuple((k, _dump(v)) for k, v in x.items())
    return (type(x).__name__, x)


def _outcome(text: str):
    try:
        return _dump(parser.parse_policy(text, "p.rpl"))
    except PolicyError as error:
        return ("error", [(d.code, d.message, d.span and (d.span.start, d.span.end), d.hint)
                          for d in error.diagnostics])


def _both_ways(monkeypatch, text: str):
    """(whole text at once, in batches of one declaration), and whether the batches were used."""
    monkeypatch.setattr(parser, "_BATCH_CHARS", 10**9)
    whole = _outcome(text)
    monkeypatch.setattr(parser, "_BATCH_CHARS", 1)
    used = []
    batches = parser._parse_in_batches
    monkeypatch.setattr(parser, "_parse_in_batches", lambda source: used.append(batches(source)) or used[-1])
    return whole, _outcome(text), bool(used) and used[-1] is not None


POLICY_FILES = sorted(POLICIES.glob("**/*.rpl")) + sorted((ROOT / "tests").glob("**/*.rpl"))


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_batches_give_the_whole_text_result(monkeypatch, path):
    whole, batched, _ = _both_ways(monkeypatch, path.read_text(encoding="utf-8"))
    assert batched == whole


def test_a_valid_policy_goes_through_batches(monkeypatch):
    whole, batched, used = _both_ways(monkeypatch, (POLICIES / "aputure.rpl").read_text(encoding="utf-8"))
    assert used and batched == whole


def test_the_generated_scale_policy_is_parsed_in_batches():
    gen = load_benchmark("gen_scale_policy")
    text = gen.policy(500)
    assert len(text) > 2 * parser._BATCH_CHARS
    assert parser._parse_in_batches(Source("s.rpl", text)) is not None


HEAD = '''policy "P"
version "1"
currency USD
request:
  items: list of text
  request_date: date
outcomes:
  approve "APPROVED"
'''


@pytest.mark.parametrize("text", [
    # a record field called `rule` at column 1: the batch before it (`record Item:`) does not
    # parse alone, the whole text does
    HEAD + "record Item:\nrule: text\n  price: money\nrule a:\n  when true\n  then approve\n",
    # a field called `request` after a record's first field: a new declaration, both ways
    HEAD + "record Item:\n  a: text\nrequest:\n  b: date\n",
    # a misspelled keyword at column 1 is no cut for batches, but is for the recovery
    HEAD + "rul a:\n  when true\n  then approve\n",
    # `any` looks across the boundary in the whole text (`any rule in ...`), not in a batch:
    # each batch parses alone (`let x = any`, a rule named `in`), the whole text does not
    HEAD + "let x = any\nrule in: when true then approve\n",
    # and the same across a boundary where the whole text reads a quantifier that parses
    HEAD + "let x = any\nrule in items where true\n",
    # a comment at column 1 starting with a keyword, a quote holding a line that starts with one
    HEAD + "# rule commented: out\nclause c: \"text\nrule inside the quote\"\nrule a:\n  cites c\n  when true\n  then approve\n",
])
def test_boundaries_the_batches_would_read_wrongly(monkeypatch, text):
    whole, batched, _ = _both_ways(monkeypatch, text)
    assert batched == whole


def test_a_boundary_read_differently_falls_back(monkeypatch):
    """The whole text fails (`any` reads on into the next line); the batches alone would not."""
    text = HEAD + "let x = any\nrule in: when true then approve\n"
    monkeypatch.setattr(parser, "_BATCH_CHARS", 1)
    for start, end in parser._batches(text):
        grammar.lark_parser().parse(text[start:end], start="policy")  # each batch parses
    assert parser._parse_in_batches(Source("p.rpl", text)) is None
    with pytest.raises(PolicyError):
        parser.parse_policy(text, "p.rpl")


def _let_chain(lets: int, nesting: int) -> str:
    parts = [HEAD]
    for k in range(lets):
        parts.append(f"let v{k} = {'not ' * nesting}{f'v{k - 1}' if k else 'true'}\n")
    parts.append("rule a:\n  when v%d\n  then approve\n" % (lets - 1))
    return "".join(parts)


def test_let_depths_add_up_across_batches(monkeypatch):
    whole, batched, used = _both_ways(monkeypatch, _let_chain(lets=8, nesting=12))
    assert whole[0] == "error" and any(code == "RPL092" for code, *_ in whole[1])
    assert batched == whole and not used


def test_let_depths_within_the_limit_across_batches(monkeypatch):
    whole, batched, used = _both_ways(monkeypatch, _let_chain(lets=3, nesting=5))
    assert whole[0] == "Policy" and batched == whole and used


def test_counts_add_up_across_batches(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RULES", 2)
    text = HEAD + "".join(f"rule r{k}:\n  when true\n  then approve\n" for k in range(3))
    whole, batched, used = _both_ways(monkeypatch, text)
    assert whole[0] == "error" and whole[1][0][0] == "RPL093"
    assert batched == whole and not used


def test_builder_problems_from_several_batches(monkeypatch):
    text = HEAD + "parameter a = 2026-02-30\nparameter b = 3 day\nrule r:\n  when true\n  then approve\n" \
        "  because \"{}\"\n"
    whole, batched, used = _both_ways(monkeypatch, text)
    assert whole[0] == "error" and len(whole[1]) == 3
    assert batched == whole


# ---- holes --------------------------------------------------------------------------------------

HOLES = ["item", "item.sku", " item.sku ", "\titem .sku", "a.b.c", "a.b.c.d.e", "_x1.y_2", "true", "false",
         "x.true", "not", "not x", "any", "any x", "sum", "days", "days.x", "if", "each", "x.", ".x", "x..y",
         "1", "x1.2", "x.y ", "x # c", "x\n.y", "x\u00a0", "étoile", "x.y.z" + ".w" * 40, "x" + ".y" * 32,
         "x" + ".y" * 33, "rule", "request_date", "policy", "a.in", "in"]


@pytest.mark.parametrize("hole", HOLES)
def test_a_plain_hole_is_built_as_lark_would(monkeypatch, hole):
    text = HEAD + 'rule r:\n  when true\n  then approve\n  because "see {' + hole + '} here"\n'
    fast = _outcome(text)
    monkeypatch.setattr(build_expressions, "_PLAIN_PATH", type("Never", (), {"fullmatch": staticmethod(lambda t: None)}))
    assert fast == _outcome(text)


def test_the_fast_hole_path_is_taken():
    builder = AstBuilder(Source("p.rpl", "{item.sku}"), 0)
    calls = []
    builder._path = lambda path, offset: calls.append(path.group(1))
    builder._hole("item.sku", 1)
    assert calls == ["item.sku"]


# ---- positions --------------------------------------------------------------------------------

def test_skipped_unit_positions_are_lark_positions():
    rules = grammar.GRAMMAR.read_text(encoding="utf-8")
    plain = Lark(rules, parser="lalr", start=["policy", "expr"], propagate_positions=True, maybe_placeholders=True)
    assert any(isinstance(c, grammar._UnitPositions) for c in grammar.lark_parser()._callbacks.values())
    for path in POLICY_FILES[:40]:
        text = path.read_text(encoding="utf-8")
        try:
            expected = plain.parse(text, start="policy")
        except Exception:
            continue
        got = grammar.lark_parser().parse(text, start="policy")
        assert got == expected
        assert [(t.data, t.meta.start_pos, t.meta.end_pos) for t in got.iter_subtrees() if not t.meta.empty] == \
            [(t.data, t.meta.start_pos, t.meta.end_pos) for t in expected.iter_subtrees() if not t.meta.empty]


# ---- A new version parsed again, reusing the declarations of the last one (`reparse.py`) --------

def _reparsed(reparser: reparse.Reparser, text: str):
    try:
        return _dump(reparser.parse(text, "p.rpl"))
    except PolicyError as error:
        return ("error", [(d.code, d.message, d.span and (d.span.start, d.span.end), d.hint)
                          for d in error.diagnostics])


_SNIPPETS = ["rule ", "\n", "{", "}", "item.", ":", " and ", '"', "# ", "let x = 1\n", "\n  ", "(",
             "\nrule extra:\n  when true\n  then refuse\n", "\nlet late = 3 days\n", "\r\n", "any "]


def _random_edit(rng, text: str, original: str) -> str:
    kind = rng.randrange(6)
    at = rng.randrange(len(text) + 1)
    if kind == 0:  # delete a little
        return text[:at] + text[at + rng.randrange(1, 30):]
    if kind == 1:  # type something
        return text[:at] + rng.choice(_SNIPPETS) + text[at:]
    if kind == 2:  # a whole line moved elsewhere
        lines = text.splitlines(keepends=True)
        line = lines.pop(rng.randrange(len(lines))) if lines else ""
        lines.insert(rng.randrange(len(lines) + 1), line)
        return "".join(lines)
    if kind == 3:  # back to the original: every declaration is known again
        return original
    if kind == 4:  # a word changed everywhere it is written, or in one place only
        words = sorted(set(re.findall(r"\b[a-z_]{4,}\b", text)))
        word = rng.choice(words) if words else "x"
        return text.replace(word, word + "2", rng.choice([1, -1]))
    return text[:at] + text[at:].replace(" ", "  ", 1)  # a declaration grows


@pytest.mark.parametrize("seed", range(4))
def test_a_reparse_gives_the_whole_text_result_over_random_edits(monkeypatch, seed):
    rng = random.Random(seed)
    original = (POLICIES / "aputure.rpl").read_text(encoding="utf-8")
    reparser, text = reparse.Reparser(), original
    whole_parses = []
    parse_whole = reparse.parse_policy
    monkeypatch.setattr(reparse, "parse_policy", lambda *a: whole_parses.append(1) or parse_whole(*a))
    reused = 0
    for _ in range(40):
        text = _random_edit(rng, text, original)
        before = len(whole_parses)
        assert _reparsed(reparser, text) == _outcome(text)
        reused += len(whole_parses) == before
    assert reused >= 10  # the reparse itself, not only its fallback, was compared


def test_a_reparse_moves_the_declarations_after_an_edit():
    text = (POLICIES / "aputure.rpl").read_text(encoding="utf-8")
    reparser = reparse.Reparser()
    reparser.parse(text, "p.rpl")
    longer = text.replace("= 14 days", "= 140 days", 1)
    policy = reparser.parse(longer, "p.rpl")
    assert _dump(policy) == _dump(parser.parse_policy(longer, "p.rpl"))
    assert all(d.span.source.text is longer for d in policy.declarations)


@pytest.mark.parametrize("text", [
    HEAD + "record Item:\nrule: text\n  price: money\nrule a:\n  when true\n  then approve\n",
    HEAD + "let x = any\nrule in: when true then approve\n",
    HEAD + "let x = any\nrule in items where true\n",
    HEAD + "# rule commented: out\nclause c: \"text\nrule inside the quote\"\nrule a:\n  cites c\n  when true\n  then approve\n",
    _let_chain(lets=8, nesting=12),
])
def test_a_reparse_reads_boundaries_as_the_whole_text(text):
    """Each text after a version that parsed: its new declarations meet old ones."""
    reparser = reparse.Reparser()
    reparser.parse(HEAD + "rule a:\n  when true\n  then approve\n", "p.rpl")
    assert _reparsed(reparser, text) == _outcome(text)


def test_a_reparse_keeps_the_counts_of_the_whole_policy(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RULES", 2)
    rules = [f"rule r{k}:\n  when true\n  then approve\n" for k in range(3)]
    reparser = reparse.Reparser()
    assert _reparsed(reparser, HEAD + "".join(rules[:2]))[0] == "Policy"
    text = HEAD + "".join(rules)
    assert _reparsed(reparser, text) == _outcome(text) and _outcome(text)[0] == "error"
