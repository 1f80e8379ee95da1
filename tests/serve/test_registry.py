"""The registry of served policies: a path that holds none is said once, with the likely mistake."""
import logging

from rplang.serve.registry import Registry
from tests.conftest import APUTURE, unblocked_pipe


def test_a_folder_without_policies_is_said_once_naming_the_policy_its_examples_belong_to(tmp_path, caplog):
    (tmp_path / "shop.rpl").write_text(APUTURE.read_text())
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "examples.rpl").write_text("")
    registry = Registry(tmp_path / "shop")
    with caplog.at_level(logging.WARNING, logger="rpl.serve"):
        registry.load()
        registry.load()  # the watcher's first reload
    assert [r.getMessage() for r in caplog.records] == [
        f"no policy under {tmp_path / 'shop'}: nothing is served until a .rpl file is put there "
        f"({tmp_path / 'shop'} holds the examples of {tmp_path / 'shop.rpl'}: serve that file, or {tmp_path})"]
    assert registry.policies == {}


def test_a_policy_put_in_an_empty_folder_is_served_and_a_later_emptying_said_again(tmp_path, caplog):
    registry = Registry(tmp_path)
    with caplog.at_level(logging.WARNING, logger="rpl.serve"):
        registry.load()
        (tmp_path / "aputure.rpl").write_text(APUTURE.read_text())
        registry.load()
        assert list(registry.policies) == ["aputure"]
        (tmp_path / "aputure.rpl").unlink()
        registry.load()
    assert [r.getMessage() for r in caplog.records] == [
        f"no policy under {tmp_path}: nothing is served until a .rpl file is put there"] * 2


def test_a_pipe_among_the_versions_is_a_problem_of_its_policy_read_no_further(tmp_path):
    """Read, it would hang the reload: it waits for a writer, then reads for ever."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "v1.rpl").write_text(APUTURE.read_text())
    with unblocked_pipe(tmp_path / "shop" / "v2.rpl") as pipe:
        registry = Registry(tmp_path)
        registry.load()
    assert registry.policies == {}
    assert [d.message for d in registry.problems["shop"].diagnostics] == [f"`{pipe}` is a pipe, not a policy file"]
