"""After each of a series of edits, the server's diagnostics are exactly those of `rpl check` on
the whole text: the server parses again only the declarations an edit touched
(`rplang.policy_lang.reparse`), and this shows it changes nothing of what is reported, also when
an edit breaks or mends a declaration others depend on."""
from __future__ import annotations

import random
import re

import pytest

from tests.conftest import APUTURE, load_benchmark

pytest.importorskip("z3")  # the solver's warnings are part of what `rpl check` reports
from rplang.lsp.positions import Lines  # noqa: E402
from rplang.verify.static import MAX_RULES, check_policy_text  # noqa: E402

APUTURE_TEXT = APUTURE.read_text(encoding="utf-8")


def _expected(text: str, name: str) -> list[tuple]:
    lines = Lines(text)
    return [(d.code, d.message + (f"\nhelp: {d.hint}" if d.hint else ""),
             lines.span_range(d.span) if d.span is not None and d.span.source.text == text else None)
            for d in check_policy_text(text, name)]


def _edits(text: str) -> list[str]:
    """Versions one after another: declarations others use broken and mended, then random edits."""
    versions = [
        text.replace("parameter return_window_length", "parameter return_window_len", 1),  # its users break
        text,
        re.sub(r"\n  warranty_card_blank:[^\n]*", "", text, count=1),  # a field the rules read, gone
        text.replace("enum Condition:      new, like_new, used", "enum Condition:      new, used", 1),
        text.replace("let returned_items      =", "let returned_items      = =", 1),  # no longer parses
        text,
        text + "\nparameter never_used = 3 days\n",  # a warning
        text.replace("= 14 days", "= 140 days", 1),  # every declaration after it moves
    ]
    rng, current = random.Random(17), text
    for _ in range(8):
        at = rng.randrange(len(current) + 1)
        choice = rng.randrange(3)
        if choice == 0:
            current = current[:at] + current[at + rng.randrange(1, 20):]
        elif choice == 1:
            current = current[:at] + rng.choice(["rule ", "\n", "item.", " and ", "x", '"', "\nlet z = 1\n"]) + current[at:]
        else:
            current = text
        versions.append(current)
    return versions + [text]


@pytest.mark.parametrize("which", ["aputure", "generated"])
def test_each_edit_gives_the_diagnostics_of_rpl_check(session, tmp_path, which):
    if which == "aputure":
        text = APUTURE_TEXT
    else:  # parsed at first in runs of declarations, then one at a time; past the solver's size
        text = load_benchmark("gen_scale_policy").policy(MAX_RULES + 20)
    path = tmp_path / f"{which}.rpl"
    uri = session.open(path, text)
    session.wait_diagnostics(uri)
    for version in _edits(text):
        session.change(uri, version)
        expected = _expected(version, str(path))
        shown = session.wait_diagnostics_with(uri, [code for code, _, _ in expected])
        assert [(d.code, d.message, d.range) for d in shown] == [
            (code, message, where if where is not None else shown[k].range)
            for k, (code, message, where) in enumerate(expected)]
    assert session.errors() == []
