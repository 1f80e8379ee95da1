"""Editing policies/aputure.rpl in VS Code with the rpl extension: each behaviour of issue 17's
"done when" (errors as you type, hover, completion, go to definition, formatting) asserted from
what VS Code's window shows. See tests/vscode/conftest.py for how it runs, docs/editors.md for
how to run it."""
from __future__ import annotations

import json
import re
import subprocess

import pytest

from rplang.policy_lang.format import format_policy
from tests.conftest import APUTURE, ROOT
from tests.vscode.conftest import MISSING, TIMEOUT_MS, rpl_command

pytestmark = [pytest.mark.vscode, pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]
playwright_api = pytest.importorskip("playwright.sync_api", reason="the trial needs playwright (pip)")
expect = playwright_api.expect
expect.set_options(timeout=TIMEOUT_MS)
LINES = APUTURE.read_text(encoding="utf-8").splitlines()


def where(needle: str, line_start: str, offset: int = 0) -> tuple[int, int]:
    """The 1-based line and column of `needle` on the only line of aputure.rpl starting with `line_start`."""
    (number,) = [n for n, line in enumerate(LINES, 1) if line.startswith(line_start)]
    return number, LINES[number - 1].index(needle) + 1 + offset


@pytest.fixture
def window(vscode, screenshots, request):
    yield vscode
    vscode.screenshot(screenshots, f"end-{request.node.name}")
    vscode.page.keyboard.press("Escape")
    vscode.revert()
    assert vscode.text() == APUTURE.read_text(encoding="utf-8")


def test_a_typo_shows_the_error_rpl_check_reports_in_the_editor_and_the_problems_panel(window, screenshots, tmp_path):
    rule = where("rule", "rule window:")[0]
    line = LINES.index("  then refuse", rule) + 1
    window.go_to(line, len(LINES[line - 1]) + 1)
    window.page.keyboard.press("Backspace")
    window.page.keyboard.press("Backspace")
    window.page.keyboard.type("ze")
    typed = window.text()
    assert typed.splitlines()[line - 1] == "  then refuze"
    edited = tmp_path / "aputure.rpl"
    edited.write_text(typed, encoding="utf-8")
    checked = subprocess.run([rpl_command(), "check", "--format", "json", str(edited)], capture_output=True,
                             text=True, cwd=ROOT, timeout=120)
    (problem,) = json.loads(checked.stdout)
    window.go_to(problem["line"], problem["column"])  # copying the text moved the cursor away
    expect(window.editor.locator(".squiggly-error")).to_have_count(1)
    window.page.keyboard.press("Control+Shift+M")
    row = window.page.locator(".markers-panel .monaco-list-row").filter(has_text=problem["message"])
    expect(row).to_contain_text(problem["code"])
    expect(row).to_contain_text(f"[Ln {problem['line']}, Col {problem['column']}]")
    expect(window.page.locator(".markers-panel")).to_contain_text(f"help: {problem['hint']}")
    expect(window.page.locator("#status\\.problems")).to_contain_text("1")
    window.screenshot(screenshots, "1-error-as-you-type")
    window.page.keyboard.press("Control+Shift+M")


def show_hover(window):
    """Show Hover (Ctrl+K Ctrl+I) at the cursor; the hover widget that VS Code opens."""
    window.page.keyboard.press("Control+k")
    window.page.keyboard.press("Control+i")
    hover = window.page.locator(".monaco-hover:not(.hidden) .monaco-hover-content")
    expect(hover).to_be_visible()
    return hover


def test_hover_on_a_field_shows_its_type_label_and_stage(window, screenshots):
    window.go_to(*where("item.warranty_card_blank", "  when not (item.accessories_complete", offset=len("item.")))
    hover = show_hover(window)
    expect(hover).to_contain_text("field Item.warranty_card_blank: a yes/no fact")
    expect(hover).to_contain_text('label "warranty card blank"; given when returned; known at inspection')
    window.screenshot(screenshots, "2-hover-field")


def test_hover_on_a_parameter_shows_its_value(window, screenshots):
    window.go_to(*where("return_window_length", "let last_request_day"))
    hover = show_hover(window)
    expect(hover).to_contain_text("parameter return_window_length = 14 days")
    window.screenshot(screenshots, "2-hover-parameter")


def test_completion_after_item_offers_the_item_fields_only(window, screenshots):
    line = where("not item.free", "let returned_paid_skus")[0]
    window.go_to(line, len(LINES[line - 1]) + 1)
    window.page.keyboard.type(" and item.")
    window.page.keyboard.press("Escape")  # whatever `.` opened: Ctrl+Space asks again
    window.page.keyboard.press("Control+Space")
    suggestions = window.page.locator(".suggest-widget.visible .monaco-list-row")
    expect(suggestions.first).to_be_visible()
    window.page.keyboard.type("w")  # narrows the list the way a user does; the list scrolls otherwise
    expect(suggestions.first).to_contain_text("warranty_card_blank")
    # The focused item shows the server's detail: the field's type, stage and label.
    expect(suggestions.first).to_contain_text('boolean when returned at inspection "warranty card blank"')
    window.screenshot(screenshots, "3-completion")
    for _ in "w":
        window.page.keyboard.press("Backspace")
    labels = [row.split("\n")[0] for row in suggestions.all_inner_texts()]
    item_fields = {"accessories_complete", "bundled_with", "condition", "damage_cause", "free", "labels_tampered",
                   "manuals_included", "marks", "original_box", "packing_material", "price", "returned", "sku",
                   "upc_intact", "warranty_card_blank"}
    # VS Code shows a dozen rows at a time: every one is a field of Item (none of Order, no keyword).
    assert len(labels) >= 10 and set(labels) <= item_fields


@pytest.mark.parametrize(("kind", "used", "declared"), [
    ("let", ("returned_items", "rule misuse for each item"), ("returned_items", "let returned_items")),
    ("parameter", ("return_window_length", "let last_request_day"),
     ("return_window_length", "parameter return_window_length")),
])
def test_go_to_definition_lands_on_the_declaration(window, screenshots, kind, used, declared):
    window.go_to(*where(*used))
    window.page.keyboard.press("F12")
    line, column = where(*declared)
    expect(window.cursor_status()).to_have_text(f"Ln {line}, Col {column}")
    window.screenshot(screenshots, f"4-definition-of-a-{kind}")


def test_format_document_restores_the_canonical_layout(window, screenshots):
    rule = where("rule", "rule window:")[0]
    window.go_to(rule + 1, 1)
    window.page.keyboard.type("      ")
    parameters = where("parameter", "parameter return_window_length")[0]
    window.go_to(parameters, 1)
    window.page.keyboard.type("   ")
    mangled = window.text()
    assert mangled.splitlines()[parameters - 1].startswith("   parameter")
    assert mangled.splitlines()[rule].startswith("        cites")
    window.go_to(parameters, 1)
    # Format Document: Ctrl+Shift+I where the browser runs on Linux (Shift+Alt+F on Windows, ⇧⌥F on a
    # Mac). Nothing else is pressed until it is done: VS Code cancels a format when the cursor moves.
    window.page.keyboard.press("Control+Shift+I")
    canonical = re.compile(r"^parameter\s+return_window_length")
    expect(window.editor.locator(".view-line").filter(has_text=canonical)).to_have_count(1)
    window.screenshot(screenshots, "5-format")
    assert window.text() == format_policy(mangled) == APUTURE.read_text(encoding="utf-8")
