"""docs/errors.md: an entry for every code rpl can report, and its examples say what they claim."""
import re
from pathlib import Path

import pytest

from rplang.verify.static import check_policy_text

from .checks import check_as_rpl_check

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
SECTIONS = dict(re.findall(r"^## (RPL\d{3})[^\n]*\n(.*?)(?=^## |\Z)", DOC, re.M | re.S))
RANGE = re.search(r"^## RPL090 to RPL099[^\n]*\n(.*?)(?=^## |\Z)", DOC, re.M | re.S)
BLOCKS = re.compile(r"```rpl\n(.*?)```", re.S)
PREAMBLE = BLOCKS.search(DOC[:DOC.index("| Code |")]).group(1)


def codes_in_source() -> set[str]:
    found = set()
    for folder in ("policy_lang", "compiler", "runtime", "rplang"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(re.findall(r"\"(RPL\d{3})\"", path.read_text(encoding="utf-8")))
    return found


def documented() -> set[str]:
    codes = set(SECTIONS)
    if RANGE:
        codes |= {f"RPL{n:03d}" for n in range(90, 100)}
    return codes


def test_every_code_rpl_reports_is_documented():
    assert codes_in_source() - documented() == set()


def test_every_documented_code_is_in_the_table():
    table = DOC[DOC.index("| Code |"):DOC.index("---\n\n## ")]
    for code in SECTIONS:
        assert f"[{code}]" in table


CHECKED = sorted(code for code, body in SECTIONS.items() if "<!-- not checked -->" not in body)


@pytest.mark.parametrize("code", CHECKED)
def test_the_wrong_example_gives_its_code_and_the_fix_does_not(code):
    body = SECTIONS[code]
    wrong, fix = BLOCKS.findall(body)[:2]
    whole = "*Whole file.*" in body
    before = check_as_rpl_check(wrong if whole else PREAMBLE + "\n" + wrong, f"{code}.rpl")
    after = check_as_rpl_check(fix if whole else PREAMBLE + "\n" + fix, f"{code}.rpl")
    assert code in [d.code for d in before], [d.render() for d in before]
    if code < "RPL100":
        assert [d for d in after if d.severity == "error"] == [], [d.render() for d in after]
    else:
        assert [d.code for d in after].count(code) < [d.code for d in before].count(code)


def test_the_policy_of_the_examples_has_no_error():
    assert [d for d in check_policy_text(PREAMBLE, "preamble.rpl") if d.severity == "error"] == []
