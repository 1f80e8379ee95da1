"""Loading a folder as the versions of one policy: a folder without versions says which, and why."""
import pytest

from rplang.policy_lang.errors import PolicyError
from rplang.runtime.loading import load_history, load_policy
from tests.conftest import APUTURE


def test_the_folder_of_a_policys_examples_names_the_policy_file(tmp_path):
    (tmp_path / "shop.rpl").write_text(APUTURE.read_text())
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "examples.rpl").write_text("")
    with pytest.raises(PolicyError) as caught:
        load_policy(tmp_path / "shop")
    assert caught.value.render() == (
        f"error[RPL055]: no version of the policy was found in `{tmp_path / 'shop'}`: "
        "it holds no .rpl file other than examples.rpl\n"
        f"  help: `{tmp_path / 'shop'}` holds the examples and requests of `{tmp_path / 'shop.rpl'}`: "
        "give that file as the policy")


def test_an_empty_folder_says_what_a_folder_of_versions_holds(tmp_path):
    with pytest.raises(PolicyError) as caught:
        load_history(tmp_path)
    [problem] = caught.value.diagnostics
    assert problem.code == "RPL055" and f"found in `{tmp_path}`" in problem.message
    assert problem.hint == "a folder is read as the versions of one policy: .rpl files, each saying `effective YYYY-MM-DD`"
