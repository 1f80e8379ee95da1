"""Diagnostics over a real stdio session: what `rpl check` reports, as the text changes."""
from __future__ import annotations

import json
import subprocess
import sys

from lsprotocol import types as lsp

from tests.conftest import APUTURE, POLICIES, ROOT

from .conftest import TIMEOUT

APUTURE_TEXT = APUTURE.read_text(encoding="utf-8")


def rpl_check_json(path) -> list[dict]:
    done = subprocess.run([sys.executable, "-m", "rplang.cli", "check", "--format", "json", str(path)],
                          capture_output=True, text=True, timeout=60)
    return json.loads(done.stdout)


def as_check_json(d: lsp.Diagnostic) -> dict:
    """The fields `rpl check --format json` gives, from an LSP diagnostic (0-based to 1-based)."""
    return {"code": d.code, "severity": {1: "error", 2: "warning"}[d.severity],
            "line": d.range.start.line + 1, "column": d.range.start.character + 1,
            "end_line": d.range.end.line + 1, "end_column": d.range.end.character + 1}


def test_a_clean_policy_has_no_diagnostics(session):
    uri = session.open(APUTURE)
    assert session.wait_diagnostics(uri) == []
    assert rpl_check_json(APUTURE) == []


def test_a_typo_gives_the_code_and_span_of_rpl_check(session, tmp_path):
    typo = APUTURE_TEXT.replace("when request_date > last_request_day", "when request_date > last_request_dya")
    broken = tmp_path / "aputure.rpl"
    broken.write_text(typo, encoding="utf-8")
    uri = session.open(broken)
    found = session.wait_diagnostics(uri)
    expected = rpl_check_json(broken)
    assert [as_check_json(d) for d in found] == [
        {k: e[k] for k in ("code", "severity", "line", "column", "end_line", "end_column")} for e in expected]
    assert found[0].code == "RPL020"
    assert "did you mean `last_request_day`?" in found[0].message
    assert found[0].data == {"hint": "did you mean `last_request_day`?"}
    assert found[0].source == "rpl"


def test_diagnostics_follow_changes_and_warnings_come_once_errors_are_gone(session, tmp_path):
    path = tmp_path / "shop.rpl"
    uri = session.open(path, APUTURE_TEXT)
    assert session.wait_diagnostics(uri) == []
    session.change(uri, APUTURE_TEXT + "\nparameter never_used = 3 days\n")
    warnings = session.wait_diagnostics(uri)
    assert [(d.code, d.severity) for d in warnings] == [("RPL101", lsp.DiagnosticSeverity.Warning)]
    assert warnings[0].range.start.line == APUTURE_TEXT.count("\n") + 1
    # An incremental change: `14 days` becomes `14 dayz` on the parameter's line.
    at = APUTURE_TEXT.index("14 days") + 3
    line = APUTURE_TEXT.count("\n", 0, at)
    column = at - APUTURE_TEXT.rfind("\n", 0, at) - 1
    session.change(uri, edit=(lsp.Range(lsp.Position(line, column), lsp.Position(line, column + 4)), "dayz"))
    errors = session.wait_diagnostics(uri)
    assert errors and all(d.severity == lsp.DiagnosticSeverity.Error for d in errors)
    assert errors[0].range.start.line == line


def test_changes_typed_quickly_are_checked_once(session, tmp_path):
    uri = session.open(tmp_path / "quick.rpl", APUTURE_TEXT)
    session.wait_diagnostics(uri)
    before = len(session.diagnostics[uri])
    for n in range(10):
        last = session.change(uri, APUTURE_TEXT + "\n# typing" + "." * n)
    session.wait_diagnostics(uri, last)
    published = len(session.diagnostics[uri]) - before
    assert published < 10, "every keystroke was checked: the changes were not debounced"


def test_crlf_and_mixed_line_endings_keep_positions_right(session, tmp_path):
    lines = APUTURE_TEXT.replace("last_request_day\n  then", "last_request_dya\n  then").split("\n")
    mixed = "".join(line + ("\r\n" if i % 2 else "\n") for i, line in enumerate(lines))
    uri = session.open(tmp_path / "mixed.rpl", mixed)
    found = session.wait_diagnostics(uri)
    assert [d.code for d in found] == ["RPL020"]
    typo_line = next(i for i, line in enumerate(lines) if "last_request_dya" in line)
    assert found[0].range.start.line == typo_line
    assert found[0].range.start.character == lines[typo_line].index("last_request_dya")


def test_non_ascii_text_counts_utf16_units(session, tmp_path):
    # `🎁` is one code point but two UTF-16 units: a name after it on its line is one unit further.
    text = APUTURE_TEXT.replace('because "Requested {request_date},', 'because "🎁 Requested {request_dat},')
    uri = session.open(tmp_path / "emoji.rpl", text)
    found = session.wait_diagnostics(uri)
    assert [d.code for d in found] == ["RPL020"]
    line = text.split("\n")[found[0].range.start.line]
    assert found[0].range.start.character == line.index("request_dat") + 1
    assert found[0].range.end.character == line.index("request_dat") + 1 + len("request_dat")


def test_a_client_that_counts_utf8_bytes_gets_byte_columns(tmp_path):
    # Neovim and Helix offer UTF-8 first; the server agrees, and counts `é` as two units.
    from .conftest import Session

    text = APUTURE_TEXT.replace('because "Requested {request_date},', 'because "Déjà 🎁 {request_dat},')
    utf8 = Session(encodings=["utf-8", "utf-16"])
    try:
        uri = utf8.open(tmp_path / "bytes.rpl", text)
        (found,) = utf8.wait_diagnostics(uri)
        line = text.split("\n")[found.range.start.line]
        assert found.range.start.character == len(line[:line.index("request_dat")].encode("utf-8"))
        column = len(line[:line.index("days_after_delivery")].encode("utf-8"))
        hover = utf8.hover(uri, lsp.Position(found.range.start.line, column + 2))
        assert hover.contents.value.startswith("**let** `days_after_delivery`")
        assert hover.range.start.character == column
    finally:
        utf8.close()


def test_an_examples_file_is_checked_against_its_policy(session):
    examples = POLICIES / "aputure" / "examples.rpl"
    text = examples.read_text(encoding="utf-8")
    uri = session.open(examples, text)
    assert session.wait_diagnostics(uri) == []
    session.change(uri, text.replace("expect refund = 1557.50", "expect refnd = 1557.50", 1))
    found = session.wait_diagnostics(uri)
    assert [d.code for d in found] == ["RPL025"]
    assert "did you mean `refund`?" in found[0].message
    session.change(uri, text + '\nparameter stray = 3 days\n')
    assert [d.code for d in session.wait_diagnostics(uri)] == ["RPL013"]
    session.close_document(uri)


def test_an_example_that_expects_nothing_is_warned_of_at_its_name_as_rpl_check_does(session):
    case = ROOT / "tests" / "diagnostics" / "cases" / "99a-example-without-expect.rpl"
    uri = session.open(case)
    found = session.wait_diagnostics(uri)
    assert [as_check_json(d) for d in found] == [
        {k: e[k] for k in ("code", "severity", "line", "column", "end_line", "end_column")} for e in rpl_check_json(case)]
    assert [(d.code, d.severity, d.range.start.line + 1) for d in found] == [("RPL170", lsp.DiagnosticSeverity.Warning, 77)]
    assert found[0].message == ('example "late, no receipt" checks only that its request is decided\n'
                                "help: add an `expect` line for what the policy must decide, like `expect outcome = approve`")
    session.close_document(uri)
    # in an examples file: the example "day 14 ..." with its `expect` line taken away
    examples = POLICIES / "aputure" / "examples.rpl"
    text = examples.read_text(encoding="utf-8")
    smoke = text.replace('requests/01-window-day-14.json"\n  expect outcome = approve\n', 'requests/01-window-day-14.json"\n', 1)
    assert smoke != text
    uri = session.open(examples, smoke)
    (warning,) = session.wait_diagnostics(uri)
    assert warning.code == "RPL170" and warning.severity == lsp.DiagnosticSeverity.Warning
    line = smoke.split("\n").index('example "day 14 after delivery is still in time":')
    assert warning.range == lsp.Range(lsp.Position(line, 8), lsp.Position(line, 48))
    session.close_document(uri)


def test_a_change_to_the_policy_checks_its_open_examples_file_again(session):
    examples = POLICIES / "aputure" / "examples.rpl"
    examples_uri = session.open(examples)
    assert session.wait_diagnostics(examples_uri) == []
    seen = len(session.diagnostics[examples_uri])
    policy_uri = session.open(APUTURE)  # the editor's buffer, not the file, is what counts
    session.wait_diagnostics(policy_uri)
    # The policy still checks, but the examples name a rule it no longer has.
    session.change(policy_uri, APUTURE_TEXT.replace("rule window:", "rule too_late:"))
    session.wait_diagnostics(policy_uri)
    with session.changed:
        assert session.changed.wait_for(lambda: len(session.diagnostics[examples_uri]) > seen, 30)
    found = session.diagnostics[examples_uri][-1].diagnostics
    assert found and {d.code for d in found} == {"RPL029"}
    session.change(policy_uri, APUTURE_TEXT)
    session.wait_diagnostics(policy_uri)
    session.close_document(policy_uri)
    session.close_document(examples_uri)


def test_junk_and_prefixes_give_diagnostics_not_crashes(session, tmp_path):
    uri = session.open(tmp_path / "junk.rpl", "")
    session.wait_diagnostics(uri)
    for text in ["rule", "rule x:\n  when", "\x00\x01 {{{ ]]]", "clause a: \"unterminated", "\r\r\n\n\r",
                 APUTURE_TEXT[:1234], APUTURE_TEXT[:4321] + "\r\n" + "let = = =", "🎁" * 50]:
        session.change(uri, text)
        session.wait_diagnostics(uri)
    assert session.hover(uri, lsp.Position(0, 1)) is None
    assert session.errors() == []


def test_the_solvers_warnings_follow_the_compilers(session, tmp_path):
    """The compiler's diagnostics are published at once; the solver's (here two rules in conflict,
    RPL130, as `rpl check` reports them) follow in a second publication of the same version."""
    from tests.compiler.test_lint import HEAD, rule

    path = tmp_path / "conflict.rpl"
    path.write_text(HEAD + rule("a", "receipt", "set refund_method to card")
                    + rule("b", "kind is return", "set refund_method to credit"), encoding="utf-8")
    uri = session.open(path)
    with session.changed:
        assert session.changed.wait_for(
            lambda: any("RPL130" in [d.code for d in p.diagnostics] for p in session.diagnostics.get(uri, ())),
            TIMEOUT), "the solver's warning never came"
    first, last = session.diagnostics[uri][0], session.diagnostics[uri][-1]
    assert first.version == last.version == 1
    assert "RPL130" not in [d.code for d in first.diagnostics]
    expected = rpl_check_json(path)
    assert [as_check_json(d) for d in last.diagnostics] == [
        {k: e[k] for k in ("code", "severity", "line", "column", "end_line", "end_column")} for e in expected]
