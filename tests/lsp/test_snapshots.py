"""Golden files: the diagnostics published for each broken policy in diagnostic_cases/, and the
hover of each kind of name in policies/aputure.rpl."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import APUTURE

from .conftest import position
from .test_diagnostics import rpl_check_json

CASES = sorted((Path(__file__).parent / "diagnostic_cases").glob("*.rpl"))


def _shown(d) -> dict:
    where = d.range
    return {"range": f"{where.start.line + 1}:{where.start.character + 1}-{where.end.line + 1}:{where.end.character + 1}",
            "severity": d.severity.name, "code": d.code, "message": d.message,
            "related": [f"{r.location.range.start.line + 1}:{r.location.range.start.character + 1} {r.message}"
                        for r in d.related_information or ()]}


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_diagnostics(session, case, snapshot):
    """What is published once the solver's warnings have come: the codes `rpl check` gives."""
    uri = session.open(case)
    codes = [d["code"] for d in rpl_check_json(case)]
    assert [_shown(d) for d in session.wait_diagnostics_with(uri, codes)] == snapshot


HOVERS = [  # (what, the text to find, which occurrence, how far into it)
    ("parameter", "return_window_length", 3, 2),
    ("field of a record", "item.warranty_card_blank", 0, 7),
    ("field of the request", "request_date > last_request_day", 0, 2),
    ("let", "in returned_items", 0, 5),
    ("clause after cites", "cites misuse", 0, 7),
    ("enum", "DamageCause", 1, 2),
    ("enum value", "is not valid", 0, 8),
    ("outcome", "then approve_with_fee", 0, 6),
    ("rule", "rule window", 0, 6),
    ("output", "to restocking_fee", 0, 4),
    ("variable", "item.sku} was", 0, 1),
    ("record", "list of Item", 0, 9),
]


def test_hovers(session, snapshot):
    text = APUTURE.read_text(encoding="utf-8")
    uri = session.open(APUTURE)
    shown = {}
    for what, needle, nth, into in HOVERS:
        found = session.hover(uri, position(text, needle, nth, into))
        shown[what] = found.contents.value if found else None
    assert shown == snapshot
