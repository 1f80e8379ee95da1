"""`git:REV:path` (`rpl diff`'s OLD, `rpl replay --compare`): what git cannot read is a bad command
line (64) that says which of its parts is wrong and what to do, never exit 1 or a traceback."""
import shutil
import subprocess

import pytest

from tests.cli.conftest import run
from tests.conftest import APUTURE, APUTURE_REQUESTS

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
REQUEST = sorted(APUTURE_REQUESTS.glob("*.json"))[0]


@pytest.fixture
def repository(tmp_path, monkeypatch):
    """A repository of one commit holding `shop/p.rpl`, as the working folder; git looks no higher."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    folder = tmp_path / "repository"
    (folder / "shop").mkdir(parents=True)
    (folder / "shop" / "p.rpl").write_text(APUTURE.read_text(encoding="utf-8"), encoding="utf-8")
    for command in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@example.com",
                                                   "commit", "-q", "-m", "p"]):
        subprocess.run(["git", *command], cwd=folder, check=True, capture_output=True)
    monkeypatch.chdir(folder)
    return folder


def _commands(spec):
    return [["diff", spec, APUTURE, "--requests", REQUEST], ["replay", APUTURE, REQUEST, "--compare", spec]]


@pytest.mark.parametrize("spec, said", [
    ("git:no-such-rev:shop/p.rpl", "git knows no revision `no-such-rev` here: name a commit, a branch or a tag"),
    ("git:HEAD:shop/q.rpl", "`shop/q.rpl` is not in HEAD: name the policy's path at that revision, from the top "
                            "of the repository (`git ls-tree -r --name-only HEAD` lists them)"),
    ("git:HEAD:shop", "`shop` is a folder at HEAD; name a policy file in it"),
])
def test_what_git_cannot_read_is_said(repository, spec, said):
    assert run("diff", "git:HEAD:shop/p.rpl", APUTURE, "--requests", REQUEST).code == 0
    for command in _commands(spec):
        result = run(*command)
        assert result.code == 64, (command, result)
        assert f"`{spec}`: {said}" in result.err


def test_outside_a_repository(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.chdir(tmp_path)
    for command in _commands("git:HEAD:p.rpl"):
        result = run(*command)
        assert result.code == 64, (command, result)
        assert ("`git:HEAD:p.rpl`: this folder is not in a git repository: run the command in the policy's "
                "repository, or give the old policy as a file") in result.err


def test_without_git(repository, monkeypatch):
    monkeypatch.setenv("PATH", str(repository / "shop"))  # no git there
    for command in _commands("git:HEAD:shop/p.rpl"):
        result = run(*command)
        assert result.code == 64, (command, result)
        assert ("`git:HEAD:shop/p.rpl`: git is not installed, or not on PATH: install git, or give the old "
                "policy as a file") in result.err


def test_a_blob_longer_than_the_limit_is_refused_as_a_file_is(repository):
    """git's output is read as a policy file is, up to the limit: the blob refused (RPL090, the
    policy's fault), not read whole and handed to the compiler."""
    from rplang.policy_lang import limits

    (repository / "shop" / "big.rpl").write_bytes(b"#" * (limits.MAX_POLICY_BYTES + 1))  # zlib keeps it small
    for command in (["add", "."], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "big"]):
        subprocess.run(["git", *command], cwd=repository, check=True, capture_output=True)
    (repository / "shop" / "big.rpl").unlink()
    for command in _commands("git:HEAD:shop/big.rpl"):
        result = run(*command)
        assert result.code == 1, (command, result)
        assert ("error[RPL090]: the policy `git:HEAD:shop/big.rpl` is longer than the limit of "
                f"{limits.MAX_POLICY_BYTES:,} bytes") in result.err
