"""The workbench in a real browser: headless Chromium (Debian's, driven by Playwright) on a
workbench serving a copy of policies/. Each test opens a fresh page; the saving tests come last,
as they change the files. Screenshots go to the test's temporary folder."""
from __future__ import annotations

import json
import os
import re
import shutil
import time

import pytest

from rplang.policy_lang.format import format_policy

playwright_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (pip)")
CHROMIUM = os.environ.get("RPL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium); "
                                                         "the browser tests drive the system one")
expect = playwright_api.expect
expect.set_options(timeout=15_000)
TIMEOUT_MS = 15_000
WINDOW_14 = "return_window_length = 14 days"
WINDOW_30 = "return_window_length = 30 days"


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, workbench):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(workbench.url + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("decision")).to_have_attribute("data-status", "decided")
    yield page
    context.close()
    assert errors == [], f"the page raised: {errors}"


def find(page, text: str) -> None:
    """Select `text` in the policy editor with its search panel (it scrolls there), as a user would."""
    page.get_by_test_id("policy-editor").locator(".cm-content").click()
    page.keyboard.press("Control+f")
    field = page.locator(".cm-search input[name=search]")
    field.fill("")
    field.press_sequentially(text)  # typed: the panel takes the query on each key
    field.press("Enter")
    page.keyboard.press("Escape")
    expect(page.locator(".cm-search")).to_have_count(0)


def replace(page, old: str, new: str) -> None:
    find(page, old)
    page.keyboard.type(new)


def open_tab(page, name: str) -> None:
    page.get_by_test_id(f"tab-{name}").click()


def shot(page, tmp_path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"))
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000


def line_of(workbench, text: str, name: str = "aputure.rpl") -> int:
    lines = (workbench.folder / name).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


# ---- the 14 -> 30 days change and its impact --------------------------------------------------------

def test_changing_the_window_shows_the_impact_and_the_outcome_table(page, tmp_path):
    open_tab(page, "impact")
    impact = page.get_by_test_id("impact")
    expect(impact.get_by_test_id("impact-summary")).to_have_text("0 of 500 decisions change")
    expect(impact.get_by_test_id("impact-outcomes")).to_have_count(0)
    replace(page, WINDOW_14, WINDOW_30)
    expect(impact.get_by_test_id("impact-summary")).to_have_text("15 of 500 decisions change")
    rows = impact.get_by_test_id("impact-outcomes").locator("tr")
    expect(rows).to_have_text([re.compile("before\\s*after\\s*requests"), re.compile("refuse\\s*approve\\s*11"),
                               re.compile("refuse\\s*approve with fee\\s*4")])
    expect(impact.get_by_test_id("impact-money")).to_contain_text("refund")
    expect(page.get_by_test_id("file-state")).to_have_text("edited, not saved")
    shot(page, tmp_path, "impact")
    # a changed request, opened in Try: both explanations side by side
    impact.locator("ul.changed li").first.get_by_role("button", name="open in Try").click()
    compare = page.get_by_test_id("compare")
    expect(compare).to_be_visible()
    expect(compare.locator("#compare-before")).to_contain_text("REFUSED")
    expect(compare.locator("#compare-after")).not_to_contain_text("REFUSED")
    expect(page.get_by_test_id("decision")).not_to_have_attribute("data-outcome", "refuse")
    # and back: the impact is gone
    open_tab(page, "impact")
    replace(page, WINDOW_30, WINDOW_14)
    expect(impact.get_by_test_id("impact-summary")).to_have_text("0 of 500 decisions change")


# ---- an error, underlined at its line, then fixed ---------------------------------------------------

def test_an_error_is_underlined_at_its_line_with_message_hint_and_code_then_fixed(page, workbench, tmp_path):
    line = line_of(workbench, "when request_date > last_request_day")
    find(page, "when request_date > last_request_day")
    page.keyboard.press("End")
    page.keyboard.type("x")
    diagnostics = page.get_by_test_id("diagnostics")
    expect(diagnostics.locator("h2")).to_have_text("1 error")
    item = diagnostics.locator("li")
    expect(item).to_have_attribute("data-line", str(line))
    expect(item).to_contain_text(f"line {line}")
    expect(item).to_contain_text("unknown name `last_request_dayx`")
    expect(item).to_contain_text("help: did you mean `last_request_day`?")
    expect(item.locator("a.code")).to_have_text("RPL020")
    underline = page.locator(".cm-lintRange-error")
    expect(underline).to_have_text("last_request_dayx")
    # the underline is on the editor's line `line`, level with that line number in the gutter
    number = page.locator(".cm-lineNumbers .cm-gutterElement", has_text=re.compile(f"^{line}$"))
    # read again until the editor has settled: both are measured at once, mid-scroll they can differ
    deadline = time.monotonic() + 5
    while (apart := abs(underline.bounding_box()["y"] - number.bounding_box()["y"])) >= 8 \
            and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert apart < 8
    underline.hover()
    tooltip = page.locator(".cm-tooltip-lint")
    expect(tooltip).to_contain_text("unknown name `last_request_dayx`")
    expect(tooltip).to_contain_text("did you mean `last_request_day`?")
    expect(tooltip).to_contain_text("RPL020")
    expect(page.get_by_test_id("decision")).to_contain_text("The policy has 1 error")
    shot(page, tmp_path, "error")
    page.get_by_test_id("policy-editor").locator(".cm-content").focus()
    page.keyboard.press("Backspace")
    expect(diagnostics.locator("h2")).to_have_text("No problems")
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(page.get_by_test_id("decision")).to_have_attribute("data-outcome", "approve_with_fee")


def test_the_error_code_opens_its_entry_of_docs_errors(page):
    replace(page, "then refuse", "then refus")
    link = page.get_by_test_id("diagnostics").locator("a.code").first
    # the text's own error, not one of a text typed halfway (the selection replaced by "t" first:
    # a syntax error, RPL001), which the page shows for a moment and then replaces
    code = "RPL026"  # `refus` is not an outcome
    expect(link).to_have_text(code)
    with page.context.expect_page() as opened:
        link.click()
    expect(opened.value.locator("pre")).to_contain_text(f"## {code} —")


# ---- Try: the request changes, the decision follows --------------------------------------------------

def test_changing_the_request_changes_the_decision(page, workbench):
    decision, explanation = page.get_by_test_id("decision"), page.get_by_test_id("explanation")
    expect(decision).to_have_attribute("data-outcome", "approve_with_fee")
    expect(decision.locator("table.items")).to_contain_text("LS-600D-PRO")
    expect(decision).to_contain_text("How refund is computed")
    page.get_by_test_id("request-select").select_option("aputure/requests/02-window-day-15-refused.json")
    expect(decision).to_have_attribute("data-outcome", "refuse")
    expect(explanation).to_contain_text("REFUSED")
    # edited by hand: requested a day earlier, in time
    request = json.loads((workbench.folder / "aputure/requests/02-window-day-15-refused.json").read_text())
    earlier = dict(request, request_date=_day_before(request["request_date"]))
    set_request(page, earlier)
    expect(decision).to_have_attribute("data-outcome", "approve")
    # an inspection fact left out: a residual decision, saying what is still open
    del earlier["items"][0]["condition"]
    set_request(page, earlier)
    expect(decision).to_have_attribute("data-outcome", "pending")
    expect(explanation).to_contain_text("PENDING")
    expect(explanation).to_contain_text("Not known yet (known at inspection)")
    # a request with a mistake: its problem, with its path
    set_request(page, dict(earlier, request_date="2026-02-30"))
    expect(decision).to_have_attribute("data-status", "request_error")
    expect(decision).to_contain_text("$.request_date")
    underline = page.get_by_test_id("request-editor").locator(".cm-lintRange-error")
    expect(underline).to_have_text('"2026-02-30"')  # underlined in the JSON, where it is
    page.keyboard.press("Control+End")
    page.keyboard.insert_text(",,")
    expect(decision).to_contain_text("not valid JSON")
    marked = page.get_by_test_id("request-editor").locator(".cm-lintRange-error, .cm-lintPoint-error")
    expect(marked).to_have_count(1)
    page.keyboard.press("Backspace")
    page.keyboard.press("Backspace")
    expect(decision).to_have_attribute("data-status", "request_error")


def set_request(page, data) -> None:
    page.get_by_test_id("request-editor").locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(json.dumps(data, indent=2))


def _day_before(day: str) -> str:
    import datetime

    return (datetime.date.fromisoformat(day) - datetime.timedelta(days=1)).isoformat()


# ---- Examples --------------------------------------------------------------------------------------

def test_the_examples_run_on_every_change_failures_first_with_coverage(page, tmp_path):
    open_tab(page, "examples")
    examples = page.get_by_test_id("examples")
    expect(examples.get_by_test_id("examples-summary")).to_contain_text("16 passed, 0 failed")
    expect(examples.get_by_test_id("examples-summary")).to_contain_text("100")
    find(page, "rule window:")  # the rules' lines carry their coverage in the gutter
    marker = page.locator(".cm-coverage-gutter .coverage.both").first
    expect(marker).to_be_visible()
    expect(marker).to_have_attribute("title", re.compile("^rule window: applied in an example"))
    replace(page, WINDOW_14, WINDOW_30)
    expect(examples.get_by_test_id("examples-summary")).to_contain_text("14 passed, 2 failed")
    first = examples.locator("li").first
    expect(first).to_have_class(re.compile("failed"))
    expect(first).to_contain_text("day 15 after delivery is too late")
    expect(first).to_contain_text("aputure/examples.rpl:20")
    expect(first.locator(".report")).to_contain_text('outcome  "refuse"    →  "approve"')
    expect(examples.locator("li").nth(2)).to_have_class(re.compile("passed"))
    shot(page, tmp_path, "examples")
    # a failing example in the policy itself: a click shows it in the editor
    page.get_by_test_id("policy-editor").locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.insert_text('\nexample "mine":\n  request "aputure/requests/01-window-day-14.json"\n'
                              "  expect outcome = refuse\n")
    expect(examples.get_by_test_id("examples-summary")).to_contain_text("14 passed, 3 failed")
    mine = examples.locator("li[data-example=mine]")
    page.get_by_test_id("policy-editor").locator(".cm-content").press("Control+Home")
    mine.click()
    expect(page.get_by_test_id("policy-editor").locator(".cm-activeLine")).to_have_text('example "mine":')


# ---- Graph and document ----------------------------------------------------------------------------

def test_the_graph_and_the_customer_document(page):
    open_tab(page, "graph")
    graph = page.get_by_test_id("graph")
    expect(graph).to_have_attribute("data-status", "drawn")
    if shutil.which("dot"):
        picture = graph.get_by_test_id("graph-picture")
        expect(picture).to_be_visible()
        assert picture.evaluate("img => img.naturalWidth") > 200
    open_tab(page, "document")
    frame = page.frame_locator("[data-testid=document] iframe")
    expect(frame.locator("body")).to_contain_text("within 14 days of the delivery date")
    replace(page, WINDOW_14, WINDOW_30)
    expect(frame.locator("body")).to_contain_text("within 30 days of the delivery date")


# ---- another policy of the folder -------------------------------------------------------------------

def test_another_policy_opens_with_its_own_requests(page, workbench):
    page.get_by_test_id("policy-select").select_option("electronics.rpl")
    expect(page.get_by_test_id("request-select")).to_have_value(re.compile(r"^electronics/requests/"))
    expect(page.get_by_test_id("decision")).to_have_attribute("data-status", "decided")
    expect(page.get_by_test_id("policy-editor")).to_contain_text("policy")
    open_tab(page, "impact")
    expect(page.get_by_test_id("impact")).to_contain_text("This policy has no corpus of requests")
    open_tab(page, "examples")
    expect(page.get_by_test_id("examples-summary")).to_contain_text(" passed, 0 failed")
    assert "policy=electronics.rpl" in page.url


# ---- paths outside the folder ----------------------------------------------------------------------

def test_a_path_outside_the_folder_is_refused_from_the_page(page, workbench):
    answer = page.evaluate("""async () => {
        const r = await fetch('api/file?path=' + encodeURIComponent('../secret.rpl'));
        return [r.status, await r.json()];
    }""")
    assert answer[0] == 403 and answer[1]["error"]["kind"] == "outside_folder"
    saved = page.evaluate("""async () => {
        const r = await fetch('api/save', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                           body: JSON.stringify({path: '../secret.rpl', text: 'x', version: null})});
        return r.status;
    }""")
    assert saved == 403
    assert (workbench.outside / "secret.rpl").read_text() == 'policy "not yours"\n'
    page.goto(workbench.url + "/?policy=" + "../secret.rpl")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    expect(page.get_by_test_id("policy-select")).to_have_value("aputure.rpl")


# ---- Saving (last: these change the files) ----------------------------------------------------------

def test_save_writes_the_formatted_policy_and_keeps_a_backup(page, workbench, tmp_path):
    file = workbench.folder / "aputure.rpl"
    original = file.read_text(encoding="utf-8")
    replace(page, f"parameter {WINDOW_14}", "parameter   return_window_length=30   days")
    typed = original.replace(f"parameter {WINDOW_14}", "parameter   return_window_length=30   days")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("save-status")).to_contain_text("Saved, formatted")
    expect(page.get_by_test_id("save-status")).to_contain_text("aputure.rpl~")
    on_disk = file.read_text(encoding="utf-8")
    assert on_disk == format_policy(typed) and f"parameter {WINDOW_30}" in on_disk
    assert (workbench.folder / "aputure.rpl~").read_text(encoding="utf-8") == original
    expect(page.get_by_test_id("file-state")).to_have_text("saved")
    expect(page.locator(".cm-line", has_text="parameter return_window_length")).to_have_text(f"parameter {WINDOW_30}")
    open_tab(page, "impact")  # compared against the new saved text: nothing changes any more
    expect(page.get_by_test_id("impact-summary")).to_have_text("0 of 500 decisions change")
    shot(page, tmp_path, "saved")


def test_saving_over_a_file_changed_on_disk_asks_first(page, workbench):
    file = workbench.folder / "aputure.rpl"
    theirs = file.read_text(encoding="utf-8") + "# changed by someone else\n"
    file.write_text(theirs, encoding="utf-8")
    replace(page, "then refuse", "then refuse  ")
    page.get_by_test_id("save").click()
    question = page.get_by_test_id("save-question")
    expect(question).to_be_visible()
    expect(question).to_contain_text("changed on disk since it was opened")
    assert file.read_text(encoding="utf-8") == theirs
    # discarding the edits loads what is on disk
    page.get_by_test_id("save-reload").click()
    expect(page.get_by_test_id("file-state")).to_have_text("saved")
    find(page, "# changed by someone else")
    expect(page.get_by_test_id("policy-editor").locator(".cm-activeLine")).to_have_text("# changed by someone else")
    # changed again behind our back; this time the owner overwrites it
    file.write_text(theirs + "# and again\n", encoding="utf-8")
    replace(page, "# changed by someone else", "# mine")
    page.get_by_test_id("save").click()
    expect(question).to_be_visible()
    page.get_by_test_id("save-overwrite").click()
    expect(page.get_by_test_id("save-status")).to_contain_text("Saved")
    assert file.read_text(encoding="utf-8").endswith("# mine\n")
    assert (workbench.folder / "aputure.rpl~").read_text(encoding="utf-8").endswith("# and again\n")


def test_a_policy_with_errors_is_saved_only_when_the_owner_insists(page, workbench):
    file = workbench.folder / "aputure.rpl"
    before = file.read_text(encoding="utf-8")
    replace(page, "then refuse", "then refus")
    page.get_by_test_id("save").click()
    question = page.get_by_test_id("save-question")
    expect(question).to_contain_text("the policy has 1 error")
    assert file.read_text(encoding="utf-8") == before
    page.get_by_test_id("save-with-errors").click()
    expect(page.get_by_test_id("save-status")).to_contain_text("Saved WITH 1 ERROR(S)")
    expect(page.get_by_test_id("file-state")).to_have_text("saved, with 1 error")
    assert "then refus\n" in file.read_text(encoding="utf-8")
    page.reload()  # opened again, the file still says it has errors
    expect(page.get_by_test_id("file-state")).to_have_text("saved, with 1 error")
