"""Every error of a file in one run: after a syntax error the parser goes on at the next declaration."""
import pytest

from rplang.verify.static import check_policy_text
from tests.conftest import APUTURE


def located(text: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in check_policy_text(text, "r.rpl")]


def test_several_broken_declarations_are_all_reported():
    text = APUTURE.read_text()
    for old, new in [("rule proof:", "rule proof"), ("parameter check_delay ", "parameter check_delay: "),
                     ("when item.labels_tampered", "when item.labels_tampered &&"),
                     ("output refund:", "output refund")]:
        assert text.count(old) == 1
        text = text.replace(old, new)
    found = located(text)
    assert [code for code, _, _ in found] == ["RPL001", "RPL001", "RPL007", "RPL001"]
    lines = text.splitlines()
    assert [lines[line - 1].strip().split()[0] for _, line, _ in found] == ["parameter", "rule", "when", "output"]


def test_after_a_quote_never_closed_the_declarations_that_follow_are_read():
    text = ('policy "P"\nclause a: "never closed\nclause b: "fine"\nparameter p 1\n'
            'clause c: "also never closed\nenum E: x y\n')
    # `parameter p 1`: the value is underlined, with `parameter p = 1` as the fix
    assert located(text) == [("RPL002", 2, 11), ("RPL001", 4, 13), ("RPL002", 5, 11), ("RPL001", 6, 10)]


def test_a_misspelled_keyword_starts_its_own_declaration():
    text = 'policy "P"\nparameter a = 1 days\nparamter b = 2 days\nrul r:\n  when x\n  then note\nlet c = 1\nlet d = (\n'
    found = located(text)
    assert found == [("RPL006", 3, 1), ("RPL006", 4, 1), ("RPL001", 8, 9)]


def test_grammar_errors_and_impossible_dates_are_reported_together():
    text = 'policy "P"\nparameter a = 2026-02-30\nenum E a, b\nparameter b = 14 day\n'
    assert located(text) == [("RPL004", 2, 15), ("RPL001", 3, 7), ("RPL005", 4, 15)]


@pytest.mark.parametrize("text", [
    "", "\n", "# only a comment\n", 'policy "P"', "rule", ":", "{", "}", '"', "“", "rule r:\n  when (((((\n",
    "let a = " + "(" * 200 + "1" + ")" * 200 + "\n", "\x00", "rule r:\n  because \"{\"\n",
])
def test_odd_inputs_are_reported_not_raised(text):
    for d in check_policy_text(text, "odd.rpl"):
        assert d.message
