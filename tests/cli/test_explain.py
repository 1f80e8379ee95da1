"""`rpl explain`: the decision in words."""
import json

import pytest

from tests.cli.conftest import run, run_process
from tests.conftest import APUTURE, APUTURE_REQUESTS, POLICIES

EXAMPLE = APUTURE_REQUESTS / "00-semantics-example.json"


@pytest.mark.parametrize("name", ["00-semantics-example.json", "28-several-refusals.json",
                                  "52-check-thanksgiving.json", "49-exchange-approved.json"])
def test_explain_text(name, snapshot):
    result = run("explain", APUTURE, APUTURE_REQUESTS / name)
    assert result.code == 0 and result.err == ""
    assert result.out == snapshot


def test_explain_is_the_librarys_text(aputure):
    result = run("explain", APUTURE, EXAMPLE)
    assert result.out == aputure.decide(json.loads(EXAMPLE.read_text())).explain_text() + "\n"


def test_explain_from_stdin(aputure):
    result = run("explain", APUTURE, "-", input=EXAMPLE.read_bytes())
    assert result.code == 0
    assert result.out == aputure.decide(json.loads(EXAMPLE.read_text())).explain_text() + "\n"


def test_explain_the_semantics_example_as_an_agent_reads_it():
    out = run("explain", APUTURE, EXAMPLE).out
    assert out.startswith("APPROVED WITH A RESTOCKING FEE")
    for words in ("1,557.50", "1,890.00", "49.00", "283.50", "2026-03-23", "2026-03-26", "FREE-BAG"):
        assert words in out


def test_explain_a_malformed_request(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"request_date": "2026-02-30"}')
    result = run("explain", APUTURE, path)
    assert result.code == 2
    assert result.out == ""
    assert result.err.startswith("the request has 3 problems")  # the date, `order`, `items`
    assert "  $.request_date: not a real date" in result.err
    assert "Traceback" not in result.both


def test_explain_a_request_the_policy_cannot_compute(tmp_path):
    policy = tmp_path / "divide.rpl"
    policy.write_text("request:\n  m: money\n  n: integer\nrule r:\n  when true\n"
                      "  then set share to round(m / n)\noutput share: optional money\n")
    result = run("explain", policy, "-", input='{"m": "10.00", "n": 0}')
    assert result.code == 2 and result.out == "" and result.err.startswith("error: ")
    assert "Traceback" not in result.both


def test_explain_a_broken_policy(broken_policy):
    result = run("explain", broken_policy, EXAMPLE)
    assert result.code == 1 and f"{broken_policy}:6:12:" in result.err


# ---- money in the request's currency, for a locale ---------------------------------------------

def test_explain_shows_a_yen_order_in_yen_grouped_for_the_locale():
    request = APUTURE_REQUESTS / "64-currency-jpy.json"
    assert run("explain", APUTURE, request).out.startswith("APPROVED WITH A RESTOCKING FEE — refund 148,650 JPY\n")
    german = run("explain", APUTURE, request, "--locale", "de_DE")
    assert german.code == 0 and german.out.startswith("APPROVED WITH A RESTOCKING FEE — refund 148.650 JPY\n")


def test_explain_refuses_an_unknown_locale():
    result = run("explain", APUTURE, APUTURE_REQUESTS / "64-currency-jpy.json", "--locale", "xx_YY")
    assert result.code == 64 and "unknown locale `xx_YY`" in result.err


def test_explains_help_names_only_its_own_options():
    result = run("explain", "--help")
    assert result.code == 0
    assert "refuse a request file longer than N bytes" in " ".join(result.out.split())
    assert "--jsonl" not in result.out  # rpl eval's; explain has none


def test_as_of_on_a_policy_without_terms_by_says_it_changes_nothing():
    example = APUTURE_REQUESTS / "00-semantics-example.json"
    result = run("explain", APUTURE, example, "--as-of", "2026-12-01")
    assert result.code == 0 and result.out == run("explain", APUTURE, example).out
    assert result.err == f"note: {APUTURE} has no `terms by`: --as-of 2026-12-01 changes nothing\n"
    dated = run("explain", APUTURE.with_name("aputure_holidays.rpl"), example, "--as-of", "2026-12-01")
    assert dated.code == 0 and dated.err == ""
    lines = run("eval", APUTURE, "--jsonl", APUTURE.with_suffix("") / "corpus.jsonl", "--as-of", "2026-12-01")
    assert "--as-of 2026-12-01 changes nothing" in lines.err


# A request's texts and keys come from anyone: escapes that would clear the screen, set the
# terminal's title or clipboard, or a carriage return that writes one amount over another.
ESCAPES = "\x1b[2J\x1b]52;c;cHduZWQ=\x07\r+ 9,999.99"
SHOWN = "\\u001b[2J\\u001b]52;c;cHduZWQ=\\u0007\\u000d+ 9,999.99"
ELECTRONICS = POLICIES / "electronics.rpl"
DAY_30 = POLICIES / "electronics" / "requests" / "01-window-day-30.json"


def _request(tmp_path, change) -> str:
    request = json.loads(DAY_30.read_text(encoding="utf-8"))
    change(request)
    (tmp_path / "r.json").write_text(json.dumps(request), encoding="utf-8")
    return json.dumps(request)


def test_control_characters_of_a_request_are_shown_as_escapes(tmp_path):
    _request(tmp_path, lambda r: r["items"][0].update(sku=ESCAPES))
    result = run_process("explain", ELECTRONICS, tmp_path / "r.json")
    assert result.code == 0 and f"Returned {SHOWN} of order" in result.out and "\x1b" not in result.out
    result = run_process("eval", ELECTRONICS, tmp_path / "r.json")
    assert result.code == 0 and json.loads(result.out)["explanation"][0]["sentence"].startswith(f"Returned {ESCAPES}")


def test_control_characters_of_a_requests_key_are_shown_as_escapes(tmp_path):
    _request(tmp_path, lambda r: r["order"].update({ESCAPES: 1}))
    for command in ("explain", "eval"):
        result = run_process(command, ELECTRONICS, tmp_path / "r.json")
        assert result.code == 2 and f"$.order.{SHOWN}: unknown field" in result.err and "\x1b" not in result.err


def test_control_characters_of_a_corpus_are_shown_as_escapes_by_diff(tmp_path):
    line = _request(tmp_path, lambda r: r["items"][0].update(sku=ESCAPES, opened=True))
    (tmp_path / "c.jsonl").write_text(line + "\n", encoding="utf-8")
    (tmp_path / "new.rpl").write_text(ELECTRONICS.read_text(encoding="utf-8").replace("= 15%", "= 20%"))
    for fmt in ("text", "markdown"):
        result = run_process("diff", ELECTRONICS, tmp_path / "new.rpl", "--requests", tmp_path / "c.jsonl",
                             "--format", fmt)
        assert result.code == 0 and SHOWN in result.out and "\x1b" not in result.out
