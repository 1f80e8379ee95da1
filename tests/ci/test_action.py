"""The GitHub Action's steps (ci/action.sh), run here as the action runs them, in a repository
that holds only policies; and action.yml itself."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml

from tests.conftest import APUTURE, POLICIES, ROOT

SCRIPT = ROOT / "ci" / "action.sh"
WINDOW = "parameter return_window_length = 14 days"


def _git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)


@pytest.fixture
def policy_repo(tmp_path):
    """A repository of policies only: aputure with its examples, requests and corpus, on main."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "policies-repo"
    (repo / "policies").mkdir(parents=True)
    shutil.copy(APUTURE, repo / "policies" / "aputure.rpl")
    shutil.copytree(POLICIES / "aputure", repo / "policies" / "aputure")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "policies")
    return repo


def _step(repo, *args, **settings):
    env = {**os.environ, **{f"RPL_{k.upper()}": v for k, v in settings.items()}}
    env.pop("CI", None)
    # the action calls `rpl` by name, as installed beside the interpreter running these tests
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=repo, capture_output=True, text=True, env=env,
                          timeout=600)


def test_check_fmt_and_test_pass_on_a_good_repository(policy_repo):
    for step in ("check", "fmt", "test"):
        result = _step(policy_repo, step)
        assert result.returncode == 0, (step, result.stdout, result.stderr)
    junit = ET.parse(policy_repo / "rpl-reports" / "junit.xml").getroot()
    assert junit.get("tests") == "16" and junit.get("failures") == "0"
    assert json.loads((policy_repo / "rpl-reports" / "coverage.json").read_text())["percent"] == 100.0


def test_a_failing_example_fails_the_test_step_with_an_annotation(policy_repo):
    examples = policy_repo / "policies" / "aputure" / "examples.rpl"
    examples.write_text(examples.read_text().replace("expect refund = 1557.50", "expect refund = 1500.00", 1))
    result = _step(policy_repo, "test")
    assert result.returncode == 1
    assert result.stdout.startswith("::error file=policies/aputure/examples.rpl,line=")
    assert ET.parse(policy_repo / "rpl-reports" / "junit.xml").getroot().get("failures") == "1"


def test_check_annotates_an_error(policy_repo):
    policy = policy_repo / "policies" / "aputure.rpl"
    policy.write_text(policy.read_text().replace(WINDOW, "parameter return_window_length = 14 dayz"))
    result = _step(policy_repo, "check")
    assert result.returncode == 1 and "::error file=policies/aputure.rpl,line=" in result.stdout


def test_the_pull_request_gate_on_a_window_change(policy_repo):
    _git(policy_repo, "checkout", "-q", "-b", "wider-window")
    policy = policy_repo / "policies" / "aputure.rpl"
    policy.write_text(policy.read_text().replace(WINDOW, "parameter return_window_length = 30 days"))
    report_only = _step(policy_repo, "diff", "main")
    assert report_only.returncode == 0, report_only.stderr
    gated = _step(policy_repo, "diff", "main", fail_on="outcome-change")
    assert gated.returncode == 1
    assert "decisions change their outcome (--fail-on outcome-change)" in gated.stderr
    impact = (policy_repo / "impact.md").read_text()
    assert impact.startswith("## Impact of policies/aputure.rpl against policies/aputure.rpl@main")
    first = impact.split("<details open><summary>", 1)[1]
    assert first.startswith("request on line") and "refuse → approve" in first.split("</summary>")[0]
    assert "```diff\n--- policies/aputure.rpl@main\n+++ policies/aputure.rpl\n" in first


def test_a_new_policy_has_no_impact_report(policy_repo):
    shutil.copy(APUTURE, policy_repo / "policies" / "other.rpl")
    result = _step(policy_repo, "diff", "main", corpus="policies/aputure/corpus.jsonl")
    assert result.returncode == 0 and "policies/other.rpl: new in this change" in result.stdout


def test_the_action_runs_its_script_for_every_step_and_documents_every_input():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    runs = " ".join(step.get("run", "") for step in action["runs"]["steps"])
    for step in ("check", "fmt", "test", "diff"):
        assert f'ci/action.sh" {step}' in runs
    assert all(spec.get("description") for spec in action["inputs"].values())
    script = SCRIPT.read_text()
    for step in action["runs"]["steps"]:  # each setting read by the script, or by the step itself
        assert all(name in script or f"${name}" in step["run"] for name in step.get("env", {})), step


def test_the_action_passes_inputs_to_its_scripts_as_environment_variables():
    """`${{ inputs.package }}` in a script is pasted into its text before bash reads it: a quote in
    the value was code (GitHub's hardening guide: pass it through `env`)."""
    import re

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    for step in action["runs"]["steps"]:
        pasted = set(re.findall(r"\$\{\{\s*([^}]*?)\s*\}\}", step.get("run", "")))
        assert pasted <= {"github.action_path"}, (step["name"], pasted)
