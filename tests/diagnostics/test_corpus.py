"""The golden corpus: one broken policy a file, each one realistic mistake of a policy owner.

Each case says where its diagnostics must be, beside the broken line or just above it:
`# error: RPL020 @ 12:9` (or `# warning: ...`). The test checks exactly those codes at exactly
those places, checks the messages keep the style, and snapshots the rendered text.
Update the snapshots with `pytest tests/diagnostics --snapshot-update`.
"""
import re
from pathlib import Path

import pytest

from .checks import check_as_rpl_check

CASES = sorted((Path(__file__).parent / "cases").glob("*.rpl"))
EXPECTED = re.compile(r"#\s*(error|warning):\s*(RPL\d{3})\s*@\s*(\d+):(\d+)")
# Words of Lark and of the grammar that must never reach a policy owner.
INTERNAL = re.compile(r"__ANON|\$END|_POLICY|_VERSION|_CURRENCY|_CALENDAR|Token\(|\bNAME\b|\bSTRING\b"
                      r"|\bINT\b|\bDECIMAL\b|\bLPAR\b|\bRPAR\b|\bCOLON\b|\bCOMMA\b|\bEQUAL\b|Tree\(|lark")


def diagnostics_of(case: Path):
    return check_as_rpl_check(case.read_text(encoding="utf-8"), f"cases/{case.name}")


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_reported_where_the_case_says(case):
    expected = sorted((m[0], m[1], int(m[2]), int(m[3])) for m in EXPECTED.findall(case.read_text(encoding="utf-8")))
    assert expected, f"{case.name} says nothing about what to expect"
    found = sorted((d.severity, d.code, d.span.line, d.span.column) for d in diagnostics_of(case))
    assert found == expected


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_messages_are_in_the_policy_owners_words(case):
    for d in diagnostics_of(case):
        assert d.span is not None, d.render()
        assert d.hint, f"no suggestion: {d.render()}"
        for text in (d.message, d.hint):
            assert not INTERNAL.search(text), text
            assert not text.endswith("."), text
        assert d.message[0] == "`" or d.message[0].islower(), d.message


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_rendered(case, snapshot):
    rendered = "\n\n".join(d.render() for d in diagnostics_of(case))
    assert rendered == snapshot
