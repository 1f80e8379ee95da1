"""Syntax errors: located, in plain words, all of them at once, rendered in one place."""
import re

import pytest

from rplang.policy_lang import Diagnostic, PolicyError, Source, Span, parse_policy
from rplang.policy_lang.errors import did_you_mean


def problems(text: str, name: str = "t.rpl") -> tuple[Diagnostic, ...]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, name)
    return info.value.diagnostics


def at(d: Diagnostic) -> tuple:
    return d.code, d.span.line, d.span.column, d.span.text


# ---- invalid dates -----------------------------------------------------------------------------

@pytest.mark.parametrize("date", ["2026-02-30", "2027-02-29", "2026-13-01", "2026-00-10", "2026-04-31"])
def test_a_date_that_does_not_exist_is_a_located_error(date):
    (d,) = problems(f'policy "P"\nparameter cutoff = {date}\n')
    assert at(d) == ("RPL004", 2, 20, date)
    assert d.message == f"`{date}` is not a real date"
    assert "YYYY-MM-DD" in d.hint


def test_every_invalid_date_is_reported():
    found = problems("let a = 2026-02-30\nlet b = 2026-04-31 + 1 day\nlet ok = 2028-02-29\n")
    assert [at(d) for d in found] == [("RPL004", 1, 9, "2026-02-30"), ("RPL004", 2, 9, "2026-04-31")]


def test_an_invalid_date_is_reported_alongside_a_syntax_error():
    found = problems("parameter a = 2026-02-30\nenum E a, b\n")
    assert [(d.code, d.span.line) for d in found][0] == ("RPL004", 1)
    assert [d.span.line for d in found] == [1, 2]


# ---- recovery: one error per broken declaration -------------------------------------------------

BROKEN = (
    'policy "P"\n'                    # 1
    "parameter window 14 days\n"      # 2  missing `=`
    "let ok = 1\n"                    # 3
    "record R:\n"                     # 4
    "  f text\n"                      # 5  missing `:`
    "rule r:\n"                       # 6
    "  when a != b\n"                 # 7  `!=`
    "  then note\n"                   # 8
    "let fine = 2\n"                  # 9
    'clause c: "never closed\n'       # 10
)


def test_every_broken_declaration_is_reported_in_order():
    found = problems(BROKEN)
    assert [d.span.line for d in found] == [2, 5, 7, 10]
    assert all(re.fullmatch(r"RPL0\d\d", d.code) for d in found)


def test_recovered_errors_are_located_where_the_fix_goes_and_say_it():
    missing_equals, missing_colon, not_equal, unclosed = problems(BROKEN)
    # at `14 days`: the value that needs an `=` before it
    assert missing_equals.span.line == 2 and missing_equals.span.text == "14 days"
    assert missing_equals.hint.startswith("write `parameter window = 14 days`")
    assert "`=`" in missing_equals.message + (missing_equals.hint or "")
    assert missing_colon.span.line == 5 and 4 <= missing_colon.span.column <= 5
    assert "`:`" in missing_colon.message + (missing_colon.hint or "")
    assert (not_equal.span.column, not_equal.span.text) == (10, "!=")
    assert not_equal.message == "`!=` is not rpl"
    assert "`is not`" in not_equal.hint
    assert (unclosed.code, unclosed.span.column) == ("RPL002", 11)
    assert unclosed.span.text.startswith('"never closed')
    assert "never closed" in unclosed.message


def test_a_declaration_keyword_inside_quoted_text_does_not_split_it():
    found = problems('clause c: "first line\nrule of thumb"\nparameter p 1\n')
    assert [d.span.line for d in found] == [3]
    assert "`=`" in found[0].message + (found[0].hint or "")


def test_a_lone_percent_sign():
    (d,) = problems("parameter rate = 15 %\n")
    assert d.span.line == 1 and d.span.start <= len("parameter rate = 15 ") < d.span.end
    assert "`%`" in d.message
    assert "15%" in d.hint


def test_a_declaration_cut_short_at_the_end_of_the_file():
    (d,) = problems("let ok = 1\noutput refund: money total, at least\n")
    assert d.span.line == 2 and d.span.column >= len("output refund: money total, at")
    assert "ends too early" in d.message


@pytest.mark.parametrize("text, line", [
    ("enum E: a, b,\nlet ok = 1\nlet also_ok = 2\n", 1),
    ("rule r:\n  when x >\n\nlet ok = 1\nlet ok2 = 2\n", 2),
    ("let a = (b +\nlet ok = 1\nlet ok2 = 3\n", 1),
    ("output o: money total, at least\nlet ok = 1\nlet z = 2\n", 1),
])
def test_a_declaration_cut_short_in_the_middle_is_located_in_that_declaration(text, line):
    (d,) = problems(text)
    assert d.span.line == line


def test_double_equals_is_named():
    (d,) = problems("rule r:\n  when kind == exchange\n  then note\n")
    assert d.message == "`==` is not rpl"
    assert d.span.text == "=="
    assert "`is`" in d.hint


# ---- sentences ---------------------------------------------------------------------------------

def test_errors_inside_a_sentence_are_located_there():
    found = problems('rule r:\n  when a\n  then note\n  because "a {x +} b {} c {y"\n')
    assert [d.span.line for d in found] == [4, 4, 4]
    assert [d.code for d in found][1:] == ["RPL003", "RPL003"]
    assert 12 <= found[0].span.column <= 17  # within `{x +}`
    assert found[1].span.text == "{}"
    assert found[2].message == "this `{` is never closed"
    assert (found[2].span.column, found[2].span.text) == (27, "{")


# ---- the style of messages ---------------------------------------------------------------------

CORPUS = [BROKEN, "parameter rate = 15 %\n", "let a = 2026-02-30\n", "let a = 14 day\n",
          'rule r:\n  when a\n  then note\n  because "{}"\n', "rule r when\n", "enum E: a,,b\n",
          "record R\n  f: text\n", "output o: money total, at least\n", 'clause c "x"\n', "let = 1\n",
          "rule r:\n  when a\n  when b\n  then note\n", "outcomes:\n  a\n", "let a = (b\n"]


@pytest.mark.parametrize("text", CORPUS)
def test_messages_follow_the_style_guide(text):
    for d in problems(text):
        assert re.fullmatch(r"RPL\d{3}", d.code)
        assert d.span is not None and 0 <= d.span.start <= d.span.end <= len(text)
        assert d.message and not d.message.endswith(".")
        assert d.message[0] in "`" or d.message[0].islower(), d.message
        assert "Token(" not in d.message and "Expected one of" not in d.message
        assert d.hint is None or not d.hint.endswith(".")


# ---- rendering ---------------------------------------------------------------------------------

def test_render_shape():
    source = Source("pol/a.rpl", "let a = 1\nparameter cutoff = 2026-02-30\n")
    d = Diagnostic("RPL004", "`2026-02-30` is not a real date", Span(source, 29, 39), "write dates as YYYY-MM-DD")
    assert d.render().splitlines() == [
        "pol/a.rpl:2:20: error[RPL004]: `2026-02-30` is not a real date",
        "  |",
        "2 | parameter cutoff = 2026-02-30",
        "  |                    ^^^^^^^^^^",
        "  = help: write dates as YYYY-MM-DD",
    ]


def test_render_without_help_has_no_help_line():
    source = Source("a.rpl", "x\n")
    assert "help" not in Diagnostic("RPL001", "m", Span(source, 0, 1)).render()


def test_render_pads_the_gutter_to_the_line_number():
    source = Source("a.rpl", "\n" * 11 + "let v = ?\n")
    lines = Diagnostic("RPL001", "m", Span(source, 19, 20), "h").render().splitlines()
    assert lines[1:] == ["   |", "12 | let v = ?", "   |         ^", "   = help: h"]


def test_render_of_a_span_over_several_lines_underlines_to_the_end_of_the_first():
    source = Source("a.rpl", "let v = (a +\n  b)\n")
    lines = Diagnostic("RPL030", "m", Span(source, 8, 16)).render().splitlines()
    assert lines[2:] == ["1 | let v = (a +", "  |         ^^^^"]


def test_render_of_an_empty_span_shows_one_caret():
    source = Source("a.rpl", "abc\n")
    assert Diagnostic("RPL001", "m", Span(source, 1, 1)).render().splitlines()[-1] == "  |  ^"


def test_render_without_a_span():
    d = Diagnostic("RPL043", "the policy has no `request:` declaration", None, "declare it")
    assert d.render() == "error[RPL043]: the policy has no `request:` declaration\n  help: declare it"


def test_policy_error_renders_every_diagnostic_separated_by_a_blank_line():
    error = PolicyError(problems(BROKEN))
    assert str(error) == error.render()
    blocks = error.render().split("\n\n")
    assert len(blocks) == 4
    heads = [b.splitlines()[0] for b in blocks]
    assert [h.split(":")[:2] for h in heads] == [["t.rpl", "2"], ["t.rpl", "5"], ["t.rpl", "7"], ["t.rpl", "10"]]
    assert heads[2].startswith("t.rpl:7:10: error[")


def test_diagnostic_to_json():
    (d,) = problems("let a = 2026-02-30\n", "dir/p.rpl")
    assert d.to_json() == {"code": "RPL004", "severity": "error", "message": "`2026-02-30` is not a real date",
                           "hint": d.hint, "file": "dir/p.rpl", "line": 1, "column": 9,
                           "end_line": 1, "end_column": 19}
    assert Diagnostic("RPL000", "m").to_json()["line"] is None


def test_rendered_errors_snapshot(snapshot):
    text = (
        'policy "Snapshot"\n'
        "parameter cutoff = 2026-02-30\n"
        "rule window:\n"
        "  when request_date > last_day\n"
        "  then refuse\n"
        '  because "late by {days from last_day to request_date}, {{sorry}}"\n'
        "let last_day = delivery + 14 day\n"
    )
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "policies/snapshot.rpl")
    assert info.value.render() == snapshot
    with pytest.raises(PolicyError) as info:
        parse_policy("parameter rate = 15 %\nparameter window 14 days\nrule r:\n  when a != b\n  then note\n",
                     "policies/two.rpl")
    assert info.value.render() == snapshot


@pytest.mark.parametrize("text", ["let v = " + "not " * 2000 + "a\n", "let v = " + "-" * 2000 + "a\n",
                                  "let v = " + "(" * 2000 + "a" + ")" * 2000 + "\n",
                                  "let v = " + "if a then " * 500 + "b" + " else c" * 500 + "\n"])
def test_a_deeply_nested_expression_is_a_located_error_not_a_crash(text):
    found = problems(text)
    assert found and all(re.fullmatch(r"RPL\d{3}", d.code) for d in found)
    assert found[0].span is not None and found[0].span.line == 1


# ---- did you mean --------------------------------------------------------------------------------

FIELDS = ["kind", "order", "item", "request_date", "reason", "ids", "US", "SA", "DE"]


@pytest.mark.parametrize("word, suggested", [
    ("Kind", "kind"), ("KIND", "kind"),  # another case, whatever the length
    ("kinf", "kind"), ("knid", "kind"), ("kin", "kind"), ("kindd", "kind"),  # one edit in four or five letters
    ("id", "ids"), ("USA", "US"), ("ordr", "order"), ("reqest_dat", "request_date"),  # two edits in ten letters
    ("resaon", "reason"),
])
def test_did_you_mean_suggests_a_close_name(word, suggested):
    assert did_you_mean(word, FIELDS) == f"did you mean `{suggested}`?"


def test_did_you_mean_suggests_no_longer_name_for_a_short_one():
    assert did_you_mean("id", ["kind", "order", "item"]) is None  # `kind` is two letters added to two


@pytest.mark.parametrize("word", [
    "ib", "xs",  # one letter changed of two: `ids`, `US` keep too few of its letters
    "d", "x",  # a letter alone is another case of one, or no name's misspelling
    "kid_price", "refund_date",  # three edits in nine or eleven letters
    "kind",  # the name itself is no suggestion
])
def test_did_you_mean_suggests_nothing_far(word):
    assert did_you_mean(word, FIELDS) is None


def test_did_you_mean_chooses_the_fewest_edits_then_the_same_start_whatever_the_order():
    for names in (["card", "cart", "check"], ["check", "cart", "card"]):
        assert did_you_mean("chek", names) == "did you mean `check`?"
    for names in (["SA", "US"], ["US", "SA"]):
        assert did_you_mean("USA", names) == "did you mean `US`?"
    assert did_you_mean("carf", {"card", "cart"}) == "did you mean `card`?"  # a set: by name, never its order
