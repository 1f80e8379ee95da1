"""`-o FILE` of `rpl schema`, `rpl doc` and `rpl graph`: never a file the command reads (the
policy, a version of it, a table's file, the request), refused before anything is written; a link
is written through, as the shell's `>` writes it."""
import shutil

import pytest

from tests.cli.conftest import run
from tests.conftest import APUTURE, APUTURE_REQUESTS, POLICIES

COMMANDS = [["schema"], ["doc"], ["graph"]]


@pytest.fixture
def policy(tmp_path):
    path = tmp_path / "aputure.rpl"
    shutil.copy(APUTURE, path)
    return path


@pytest.mark.parametrize("command", COMMANDS)
def test_the_policy_itself_is_refused_and_left_as_it_was(command, policy):
    before = policy.read_bytes()
    result = run(*command, policy, "-o", policy)
    assert result.code == 64, result
    assert f"Invalid value for --output: {policy}: the policy this command reads; name another file" in result.err
    assert policy.read_bytes() == before


def test_a_link_to_the_policy_is_the_policy(policy, tmp_path):
    link = tmp_path / "link.md"
    link.symlink_to(policy)
    result = run("doc", policy, "-o", link)
    assert result.code == 64 and "the policy this command reads" in result.err, result
    assert policy.read_text(encoding="utf-8") == APUTURE.read_text(encoding="utf-8")


def test_a_version_of_a_folder_of_versions_is_refused(tmp_path):
    folder = tmp_path / "versions"
    folder.mkdir()
    dated = 'version "2026.1"\neffective 2026-01-01\nterms by order.purchase_date'
    (folder / "v1.rpl").write_text(APUTURE.read_text(encoding="utf-8").replace('version "2026.1"', dated),
                                   encoding="utf-8")
    before = (folder / "v1.rpl").read_bytes()
    result = run("schema", folder, "-o", folder / "v1.rpl")
    assert result.code == 64 and "the policy this command reads" in result.err, result
    assert (folder / "v1.rpl").read_bytes() == before


def test_a_table_file_of_the_policy_is_refused(tmp_path):
    shutil.copytree(POLICIES / "bestbuy", tmp_path / "bestbuy")
    shutil.copy(POLICIES / "bestbuy.rpl", tmp_path / "bestbuy.rpl")
    table = tmp_path / "bestbuy" / "product_kinds.csv"
    before = table.read_bytes()
    result = run("schema", tmp_path / "bestbuy.rpl", "-o", table)
    assert result.code == 64 and "the table file this command reads" in result.err, result
    assert table.read_bytes() == before


def test_the_request_of_graph_is_refused(policy, tmp_path):
    request = tmp_path / "request.json"
    shutil.copy(APUTURE_REQUESTS / "00-semantics-example.json", request)
    before = request.read_bytes()
    result = run("graph", policy, "--request", request, "-o", request)
    assert result.code == 64 and "the request this command reads" in result.err, result
    assert request.read_bytes() == before


def test_a_link_is_written_through_as_the_shell_writes_it(policy, tmp_path):
    target = tmp_path / "schema.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    result = run("schema", policy, "-o", link)
    assert result.code == 0, result
    assert link.is_symlink() and target.read_text().startswith("{")
