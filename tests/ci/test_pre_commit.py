"""The pre-commit hooks (.pre-commit-hooks.yaml), tried from this repository with
`pre-commit try-repo` in a repository that holds only policies."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.ci.test_action import WINDOW, policy_repo  # noqa: F401 (a fixture)
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory):
    if shutil.which("git") is None or subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT,
                                                     capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    pytest.importorskip("pre_commit")
    return tmp_path_factory.mktemp("pre-commit-home")


def _try(repo, home, hook, *files):
    env = {**os.environ, "PRE_COMMIT_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--files", *files], cwd=repo,
                          capture_output=True, text=True, env=env, timeout=900)


def test_the_hooks_pass_on_good_policies_and_fail_on_a_broken_one(policy_repo, pre_commit_home):
    files = ["policies/aputure.rpl", "policies/aputure/examples.rpl"]
    for hook in ("rpl-check", "rpl-fmt", "rpl-test"):
        result = _try(policy_repo, pre_commit_home, hook, *files)
        assert result.returncode == 0, (hook, result.stdout[-3000:])
    policy = policy_repo / "policies" / "aputure.rpl"
    policy.write_text(policy.read_text().replace(WINDOW, "parameter return_window_length = 14 dayz"))
    broken = _try(policy_repo, pre_commit_home, "rpl-check", "policies/aputure.rpl")
    assert broken.returncode == 1 and "policies/aputure.rpl:" in broken.stdout


def test_the_fmt_hook_formats_the_file_and_fails(policy_repo, pre_commit_home):
    policy = policy_repo / "policies" / "aputure.rpl"
    policy.write_text(policy.read_text().replace(WINDOW, "parameter   return_window_length =   14 days"))
    result = _try(policy_repo, pre_commit_home, "rpl-fmt", "policies/aputure.rpl")
    assert result.returncode == 1 and "files were modified by this hook" in result.stdout
    assert WINDOW in policy.read_text()
