"""A one-line change to aputure's window, seen the ways CI sees it: snapshots, rpl test, rpl diff."""
import json
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import APUTURE, APUTURE_REQUESTS, ROOT

WINDOW = "parameter return_window_length = 14 days"


def _requests_jsonl(tmp_path):
    names = sorted(p.name for p in APUTURE_REQUESTS.glob("*.json") if p.name != "expected.json")
    lines = [json.dumps(json.loads((APUTURE_REQUESTS / n).read_text())) for n in names]
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return names, path


def _late_by_14_days(name):
    """Requests made 15 to 30 days after delivery: the ones a 30-day window changes."""
    data = json.loads((APUTURE_REQUESTS / name).read_text())
    import datetime
    days = (datetime.date.fromisoformat(data["request_date"])
            - datetime.date.fromisoformat(data["order"]["delivery_date"])).days
    return 14 < days <= 30


def _rpl(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "rplang.cli", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def widened(tmp_path):
    text = APUTURE.read_text()
    assert text.count(WINDOW) == 1
    path = tmp_path / "aputure.rpl"
    path.write_text(text.replace(WINDOW, "parameter return_window_length = 30 days"))
    return path


def test_rpl_diff_names_exactly_the_requests_that_change(tmp_path, widened):
    names, jsonl = _requests_jsonl(tmp_path)
    result = _rpl("diff", str(APUTURE), str(widened), "--requests", str(jsonl), "--format", "json",
                  "--show", "100")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    changed = {names[e["line"] - 1] for e in report["examples"]}
    expected = {n for n in names if _late_by_14_days(n)}
    # A late request that another reason also refuses does not change.
    still_refused = {n for n in expected if _other_refusal(n)}
    assert changed == expected - still_refused
    assert report["changed"] == len(changed)
    assert all(c["from"] == "refuse" and c["to"] != "refuse" for c in report["outcomes"])


def _other_refusal(name):
    from rplang.runtime import load_policy
    decision = load_policy(APUTURE).decide(json.loads((APUTURE_REQUESTS / name).read_text()))
    return any(a.rule.rule.name != "window" and a.rule.rule.outcome == "refuse" for a in decision.applied)


def test_rpl_diff_markdown_has_the_outcome_table(tmp_path, widened):
    _, jsonl = _requests_jsonl(tmp_path)
    result = _rpl("diff", str(APUTURE), str(widened), "--requests", str(jsonl), "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert "| outcome before | outcome after | requests |" in result.stdout
    assert "| refuse | approve |" in result.stdout


def test_rpl_diff_reads_the_old_policy_from_git(tmp_path, widened):
    if shutil.which("git") is None or subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT,
                                                     capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    if subprocess.run(["git", "cat-file", "-e", "HEAD:policies/aputure.rpl"], cwd=ROOT).returncode != 0:
        pytest.skip("aputure.rpl is not committed")
    _, jsonl = _requests_jsonl(tmp_path)
    result = _rpl("diff", "git:HEAD:policies/aputure.rpl", str(widened), "--requests", str(jsonl))
    assert result.returncode == 0, result.stderr
    assert "policies/aputure.rpl@HEAD" in result.stdout


def test_snapshot_tests_fail_with_a_readable_diff_then_accept(tmp_path):
    project = tmp_path / "shop"
    shutil.copytree(APUTURE_REQUESTS, project / "requests")
    policy = project / "aputure.rpl"
    policy.write_text(APUTURE.read_text())
    (project / "test_decisions.py").write_text(
        "from rplang.pytest_plugin import snapshot_requests\n"
        "test_aputure = snapshot_requests('aputure.rpl', 'requests')\n")

    def pytest_run(*args):
        return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                               "test_decisions.py", *args], capture_output=True, text=True, cwd=project)

    assert pytest_run("--snapshot-update").returncode == 0
    assert pytest_run().returncode == 0
    policy.write_text(APUTURE.read_text().replace(WINDOW, "parameter return_window_length = 30 days"))
    failed = pytest_run("--snapshot-no-colors")
    assert failed.returncode == 1
    failing = {line.split("[", 1)[1].split("]", 1)[0] for line in failed.stdout.splitlines()
               if line.startswith("FAILED")}
    # exactly the requests made 15 to 30 days after delivery fail, each with its own diff
    names = {p.name for p in APUTURE_REQUESTS.glob("*.json") if p.name != "expected.json"}
    assert failing == {n for n in names if _late_by_14_days(n)}
    plain = re.sub(r"\x1b\[[0-9;]*m", "", failed.stdout)
    assert "-     REFUSED — 1 reason" in plain
    assert "+     APPROVED — refund" in plain
    assert pytest_run("--snapshot-update").returncode == 0
    assert pytest_run().returncode == 0


# ---- rpl diff as a pull-request gate -----------------------------------------------------------

CORPUS = ROOT / "policies" / "aputure" / "corpus.jsonl"


def test_the_first_example_is_an_outcome_flip_shown_as_a_unified_diff(widened):
    result = _rpl("diff", str(APUTURE), str(widened), "--requests", str(CORPUS), "--format", "markdown",
                  "--show", "2")
    assert result.returncode == 0, result.stderr
    first = result.stdout.split("<details open><summary>", 1)[1]
    heading, body = first.split("</summary>", 1)
    assert re.match(r"request on line \d+: refuse → approve", heading)
    diff = body.split("```diff\n", 1)[1].split("```", 1)[0].splitlines()
    assert diff[0].startswith("--- ") and diff[1].startswith("+++ ") and diff[2].startswith("@@ ")
    assert "-REFUSED — 1 reason" in diff and any(line.startswith("+APPROVED") for line in diff)
    # several examples per transition, each in its own collapsible section
    assert result.stdout.count("<summary>request on line") == 4


def test_examples_are_ordered_outcome_flips_then_the_largest_changes_of_an_amount(tmp_path):
    fee = "parameter restocking_fee_rate  = 15%"
    assert APUTURE.read_text().count(fee) == 1
    changed = tmp_path / "aputure.rpl"
    changed.write_text(APUTURE.read_text().replace(fee, "parameter restocking_fee_rate  = 10%")
                       .replace(WINDOW, "parameter return_window_length = 15 days"))
    report = json.loads(_rpl("diff", str(APUTURE), str(changed), "--requests", str(CORPUS), "--format", "json",
                             "--show", "3").stdout)
    kinds = [e["kind"] for e in report["examples"]]
    assert kinds[0] == "outcome" and "money" in kinds
    assert kinds == sorted(kinds, key=["outcome", "money", "other"].index)
    deltas = [abs(float(e["money_delta"])) for e in report["examples"] if e["kind"] == "money"]
    assert len(deltas) == 3 and deltas == sorted(deltas, reverse=True)
    everything = json.loads(_rpl("diff", str(APUTURE), str(changed), "--requests", str(CORPUS), "--format",
                                 "json", "--show", "1000").stdout)
    largest = max(abs(float(e["money_delta"])) for e in everything["examples"] if e["kind"] == "money")
    assert deltas[0] == largest


@pytest.mark.parametrize("gate", ["outcome-change", "money-change", "any"])
def test_fail_on_fails_the_build_with_a_summary(widened, gate):
    result = _rpl("diff", str(APUTURE), str(widened), "--requests", str(CORPUS), "--fail-on", gate)
    assert result.returncode == 1
    assert re.search(rf"\d+ of 500 decisions .*\(--fail-on {gate}\)", result.stderr)


def test_fail_on_passes_when_nothing_it_names_changes(tmp_path):
    same = tmp_path / "aputure.rpl"
    same.write_text(APUTURE.read_text().replace('version "2026.1"', 'version "2026.2"'))
    result = _rpl("diff", str(APUTURE), str(same), "--requests", str(CORPUS), "--fail-on", "any")
    assert result.returncode == 0, result.stderr
    assert "0 of 500 decisions change." in result.stdout


def test_a_money_only_change_passes_the_outcome_gate_and_fails_the_money_gate(tmp_path):
    changed = tmp_path / "aputure.rpl"
    changed.write_text(APUTURE.read_text().replace("parameter restocking_fee_rate  = 15%",
                                                   "parameter restocking_fee_rate  = 10%"))
    outcome_gate = _rpl("diff", str(APUTURE), str(changed), "--requests", str(CORPUS), "--fail-on", "outcome-change")
    money_gate = _rpl("diff", str(APUTURE), str(changed), "--requests", str(CORPUS), "--fail-on", "money-change")
    assert outcome_gate.returncode == 0 and money_gate.returncode == 1


def test_colour_only_at_a_terminal_and_progress_only_when_asked(widened):
    piped = _rpl("diff", str(APUTURE), str(widened), "--requests", str(CORPUS))
    assert "\x1b[" not in piped.stdout and piped.stderr == ""
    asked = _rpl("diff", str(APUTURE), str(widened), "--requests", str(CORPUS), "--progress")
    assert "deciding under both versions" in asked.stderr
