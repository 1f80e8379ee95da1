"""The workbench, measured in the browser: from a keystroke in the policy editor to the updated
diagnostics and decision on the page, and the impact of an edit over a 500-request corpus.

    python benchmarks/bench_workbench.py [--keystrokes 100] [--chromium PATH]

Needs rplang[workbench], playwright (pip) and a Chromium (Debian's `chromium`). It starts
`rpl workbench --no-browser` on a copy of policies/ and drives headless Chromium. Each keystroke
types a letter into a comment on Aputure's window line (a text never seen before), and waits until
both the problems list and the decision show that text's answers; the time is taken in the page,
from the key's `keydown` to the last of those two updates (and for the impact, from the first
key of a new window, `20`, `21`, ... days, each a text the server has never compiled, to the
count the library computes for it shown in the impact panel). The baseline, in the same run, is the
library doing the same work in-process (compile, static checks, decide and explain), with no
HTTP and no browser: the ratio is what the page adds.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WINDOW_14 = "return_window_length = 14 days"
WINDOW_30 = "return_window_length = 30 days"

# Installed in the page before typing: the time from each keydown to the moment both panels show
# the answers for the text that key made (their `data-edit` reaches the next edit number).
PROBE = """() => {
  const diagnostics = document.querySelector('[data-testid=diagnostics]');
  const decision = document.querySelector('[data-testid=decision]');
  const probe = window.__probe = {times: [], pending: null};
  document.addEventListener('keydown', () => {
    probe.pending = {start: performance.now(), edit: Number(diagnostics.dataset.edit) + 1};
  }, true);
  const seen = () => {
    const p = probe.pending;
    if (p && Number(diagnostics.dataset.edit) >= p.edit && Number(decision.dataset.edit) >= p.edit) {
      probe.times.push(performance.now() - p.start);
      probe.pending = null;
    }
  };
  new MutationObserver(seen).observe(diagnostics, {attributes: true});
  new MutationObserver(seen).observe(decision, {attributes: true});
}"""


# The same for the impact: from the first keydown of a change to the moment the impact panel
# shows the count expected for it.
IMPACT_PROBE = """() => {
  const box = document.querySelector('[data-testid=impact]');
  const probe = window.__impact = {times: [], want: null, start: null};
  document.addEventListener('keydown', () => {
    if (probe.want !== null && probe.start === null) probe.start = performance.now();
  }, true);
  new MutationObserver(() => {
    const summary = box.querySelector('[data-testid=impact-summary]');
    if (probe.want !== null && probe.start !== null && summary && summary.textContent.startsWith(probe.want)) {
      probe.times.push(performance.now() - probe.start);
      probe.want = null;
    }
  }).observe(box, {childList: true, subtree: true, characterData: true});
}"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict:
    return {"n": len(values), "p50_ms": statistics.median(values), "p95_ms": percentile(values, 0.95),
            "max_ms": max(values)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "rplang.cli", "workbench", str(folder), "--port", str(port),
                                "--no-browser"], env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/files").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the workbench did not start")


def baseline_keystroke(text: str, request: str, repeat: int) -> dict:
    """The library alone: what one keystroke asks of it (a new text: compile, check, decide, explain)."""
    from rplang.compiler import compile_policy
    from rplang.compiler.lint import lint_policy
    from rplang.runtime import CompiledPolicy

    times = []
    for i in range(repeat):
        edited = text.replace(WINDOW_14, "return_window_length = 140 days" if i % 2 == 0 else WINDOW_14)
        start_ = time.perf_counter()
        policy = CompiledPolicy(compile_policy(edited + f"\n# {i}\n", "aputure.rpl"))  # a text not seen before
        lint_policy(policy.checked)
        policy.decide_partial_json(request).explain_text()
        times.append((time.perf_counter() - start_) * 1000)
    return summary(times)


def baseline_impact(text: str, corpus: str, repeat: int) -> dict:
    """The library alone: what the impact of a new edit asks of it (compile the edited text, then
    `rpl diff`'s comparison with the saved one over the corpus)."""
    from rplang.runtime import load_policy_text
    from rplang.runtime.impact import compare

    before = load_policy_text(text)
    lines = corpus.splitlines()
    times = []
    for i in range(repeat):
        start_ = time.perf_counter()
        after = load_policy_text(text.replace(WINDOW_14, WINDOW_30) + f"\n# {i}\n")
        compare(before, after, lines, 50)
        times.append((time.perf_counter() - start_) * 1000)
    return summary(times)


def impact_counts(text: str, corpus: str, impacts: int) -> list[tuple[str, str]]:
    """The windows the impact loop types, each a text the server has never compiled (20 days, 21
    days, ...), with the count its impact panel must show, computed here by the library."""
    from rplang.runtime import load_policy_text
    from rplang.runtime.impact import compare

    before, lines, counts = load_policy_text(text), corpus.splitlines(), []
    for days in range(20, 20 + impacts):
        after = load_policy_text(text.replace(WINDOW_14, f"return_window_length = {days} days"))
        found = compare(before, after, lines, 0)
        counts.append((str(days), f"{found.changed} of {found.total}"))
    return counts


def in_browser(url: str, chromium: str, keystrokes: int, impacts: list[tuple[str, str]]) -> dict:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url + "/")
        page.wait_for_selector("body[data-ready=true]")
        expect(page.get_by_test_id("decision")).to_have_attribute("data-status", "decided")
        # at the end of Aputure's window line, in a comment: each keystroke makes a text never seen
        # before, which the server compiles, checks and decides anew (nothing comes from its cache)
        page.locator(".cm-content").first.click()
        page.keyboard.press("Control+f")
        page.locator(".cm-search input[name=search]").press_sequentially(WINDOW_14)
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        page.keyboard.press("End")
        page.keyboard.type("  # ")
        page.evaluate(PROBE)
        for i in range(keystrokes):
            page.keyboard.press("abcdefghijklmnopqrstuvwxyz"[i % 26])
            page.wait_for_function("() => window.__probe.pending === null", timeout=10_000)
        keystroke = page.evaluate("() => window.__probe.times")
        for _ in range(keystrokes + len("  # ")):  # the comment erased, the line as it was
            page.keyboard.press("Backspace")
        for _ in range(len(" days")):
            page.keyboard.press("ArrowLeft")
        # impact: 14 -> 20 days, 21 days, ..., each time until the impact panel shows the new count
        page.get_by_test_id("tab-impact").click()
        summary_ = page.get_by_test_id("impact-summary")
        expect(summary_).to_have_text("0 of 500 decisions change", timeout=30_000)
        page.locator(".cm-content").first.focus()  # back in the editor, the cursor where it was
        page.keyboard.press("Backspace")  # `14` erased: the loop types 30, then 14 again
        page.keyboard.press("Backspace")
        page.evaluate(IMPACT_PROBE)
        for digits, want in impacts:  # each a window never typed before: its text compiled anew
            page.evaluate("want => { window.__impact.want = want; window.__impact.start = null; }", want)
            page.keyboard.type(digits)
            page.wait_for_function("() => window.__impact.want === null", timeout=10_000)
            page.keyboard.press("Backspace")
            page.keyboard.press("Backspace")
        impact = page.evaluate("() => window.__impact.times")
        browser.close()
    return {"keystroke": summary(keystroke), "impact_in_page": summary(impact)}


def impact_api(url: str, text: str, repeat: int) -> dict:
    import httpx

    edited = text.replace(WINDOW_14, WINDOW_30)
    times = []
    with httpx.Client(base_url=url) as client:
        for i in range(repeat):
            start_ = time.perf_counter()
            answer = client.post("/api/impact", json={"path": "aputure.rpl", "text": edited + f"\n# {i}\n"}).json()
            times.append((time.perf_counter() - start_) * 1000)
            assert answer["requests"] == 500 and answer["changed"] == 15, answer
    return summary(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keystrokes", type=int, default=100)
    parser.add_argument("--impacts", type=int, default=10)
    parser.add_argument("--chromium", default=os.environ.get("RPL_CHROMIUM") or shutil.which("chromium"))
    args = parser.parse_args()
    if not args.chromium:
        raise SystemExit("no Chromium found: apt-get install chromium, or give --chromium PATH")
    text = (ROOT / "policies" / "aputure.rpl").read_text(encoding="utf-8")
    request = (ROOT / "policies" / "aputure" / "requests" / "00-semantics-example.json").read_text(encoding="utf-8")
    corpus = (ROOT / "policies" / "aputure" / "corpus.jsonl").read_text(encoding="utf-8")
    results = {"baseline_keystroke_library": baseline_keystroke(text, request, args.keystrokes),
               "baseline_impact_library": baseline_impact(text, corpus, args.impacts)}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "policies"
        shutil.copytree(ROOT / "policies", folder)
        process, url = start(folder)
        try:
            results.update(in_browser(url, args.chromium, args.keystrokes,
                                      impact_counts(text, corpus, args.impacts)))
            results["impact_api"] = impact_api(url, text, args.impacts)
        finally:
            process.terminate()
            process.wait(timeout=10)
    results["ratios"] = {
        "keystroke_p95_vs_library_p95": results["keystroke"]["p95_ms"] / results["baseline_keystroke_library"]["p95_ms"],
        "impact_api_p50_vs_library_p50": results["impact_api"]["p50_ms"] / results["baseline_impact_library"]["p50_ms"],
    }
    print(json.dumps(results, indent=2))
    print(f"\nkeystroke -> diagnostics and decision on the page: p50 {results['keystroke']['p50_ms']:.0f} ms, "
          f"p95 {results['keystroke']['p95_ms']:.0f} ms (target 150 ms at p95); the library alone: p95 "
          f"{results['baseline_keystroke_library']['p95_ms']:.0f} ms")
    print(f"impact over 500 requests: API p50 {results['impact_api']['p50_ms']:.0f} ms, p95 "
          f"{results['impact_api']['p95_ms']:.0f} ms; in the page, from typing to the new count (with its "
          f"200 ms pause for typing): p95 {results['impact_in_page']['p95_ms']:.0f} ms (target 1 s); "
          f"the library alone: p50 {results['baseline_impact_library']['p50_ms']:.0f} ms")


if __name__ == "__main__":
    main()
