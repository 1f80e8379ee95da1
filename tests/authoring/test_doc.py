"""`rpl doc`: the published policy text comes from the policy, parameters filled in."""
import html
import re

import pytest
from click.testing import CliRunner

from rplang.compiler.document import render_html, render_markdown, sections
from rplang.cli import cli
from rplang.runtime import load_policy, load_policy_text
from tests.conftest import APUTURE, POLICIES

POLICY_NAMES = ["aputure", "electronics"]


@pytest.fixture(scope="module")
def compiled():
    return {name: load_policy(POLICIES / f"{name}.rpl") for name in POLICY_NAMES}


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_markdown(compiled, name, snapshot):
    assert render_markdown(compiled[name].checked) == snapshot


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_html(compiled, name, snapshot):
    assert render_html(compiled[name].checked) == snapshot


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_clause_is_published_with_its_parameters_filled_in(compiled, name):
    checked = compiled[name].checked
    text = render_markdown(checked)
    for clause in checked.clauses.values():
        assert clause.replace("_", "\\_") in text
    assert "{" not in text  # no `{parameter}` left unfilled
    page = render_html(checked)
    assert all(html.escape(c) in page for c in checked.clauses.values())


def test_every_text_the_engine_cites_is_in_the_document(compiled):
    for name in POLICY_NAMES:
        published = {s.text for s in sections(compiled[name].checked)}
        cited = {r.clause_text for r in compiled[name].checked.rules if r.clause_text}
        assert cited <= published


def test_changing_the_window_in_the_policy_changes_the_document():
    text = APUTURE.read_text()
    assert "parameter return_window_length = 14 days" in re.sub(r" +=", " =", text)
    before = render_markdown(load_policy_text(text, "aputure.rpl").checked)
    changed = re.sub(r"(parameter return_window_length\s*=\s*)14 days", r"\g<1>30 days", text)
    after = render_markdown(load_policy_text(changed, "aputure.rpl").checked)
    assert "within 14 days of the delivery date" in before
    assert "within 30 days of the delivery date" in after
    assert "Request after 30 days from delivery date." in after
    assert "14 days" not in after


def test_headings_version_and_inline_citations(compiled):
    text = render_markdown(compiled["aputure"].checked)
    assert text.startswith("# Aputure returns and refunds\n\n*Version 2026.1*\n\n## Return window\n")
    assert "## Exchange\n\nYou may initiate a return or exchange.\n" in text  # cited inline by `exchange`
    assert text.rstrip().endswith("Generated from aputure.rpl by rpl doc: the values in this text are the "
                                  "ones the policy applies.")


def test_markdown_and_html_characters_are_escaped():
    policy = load_policy_text(
        'policy "A <b>bold</b> shop"\n'
        'clause notes: "Items * marked _final_ [see list] <em>cannot</em> be returned | ever."\n'
        'clause first: "1. Numbered at the start."\n'
        'request:\n  x: text\noutcomes:\n  ok "OK"\noutput outcome\n', "escape.rpl")
    text = render_markdown(policy.checked)
    assert "# A \\<b\\>bold\\</b\\> shop" in text
    assert "Items \\* marked \\_final\\_ \\[see list\\] \\<em\\>cannot\\</em\\> be returned \\| ever." in text
    assert "1\\. Numbered at the start." in text
    page = render_html(policy.checked)
    assert "<title>A &lt;b&gt;bold&lt;/b&gt; shop</title>" in page
    assert "&lt;em&gt;cannot&lt;/em&gt;" in page


@pytest.mark.parametrize("name", POLICY_NAMES)
@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_doc_command(name, fmt, tmp_path):
    out = tmp_path / "doc"
    result = CliRunner().invoke(cli, ["doc", str(POLICIES / f"{name}.rpl"), "--format", fmt, "-o", str(out)])
    assert result.exit_code == 0
    text = out.read_text()
    assert text.startswith("# " if fmt == "markdown" else "<!doctype html>")


def test_every_quoted_text_a_rule_cites_is_a_section_of_its_own():
    from rplang.compiler.document import sections
    from rplang.runtime import load_policy_text

    policy = load_policy_text('policy "c"\ncurrency USD\nclause a: "A."\nrequest:\n  x: boolean\n'
                              'outcomes:\n  approve "OK"\noutput outcome\n'
                              'rule r:\n  cites a, "First words."\n  cites "Second words."\n  when x\n  then approve\n')
    assert [(s.id, s.text) for s in sections(policy.checked)] == [
        ("clause-a", "A."), ("rule-r", "First words."), ("rule-r-2", "Second words.")]


@pytest.mark.parametrize("command", ["doc", "schema", "graph"])
def test_an_output_file_that_cannot_be_written_is_said_not_a_bug(command, tmp_path):
    from tests.cli.conftest import run

    missing = run(command, APUTURE, "-o", tmp_path / "nope" / "out.txt")
    assert missing.code == 64
    assert f"Error: Invalid value for --output: {tmp_path / 'nope' / 'out.txt'}: no folder {tmp_path / 'nope'}" in missing.err
    folder = run(command, APUTURE, "-o", tmp_path)
    assert (folder.code, folder.err) == (73, f"error: cannot write {tmp_path}: Is a directory\n")
