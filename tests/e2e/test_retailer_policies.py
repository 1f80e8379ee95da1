"""The models of real retailers' policies (Best Buy, H&M, IKEA US): decided item by item, every
example passing and every rule covered both ways, checked without a warning."""
import pytest

from rplang.runtime import load_policy
from tests.cli.conftest import run
from tests.conftest import POLICIES

RETAILERS = ["bestbuy", "hm", "ikea"]


@pytest.mark.parametrize("name", RETAILERS)
def test_examples_pass_at_full_rule_coverage(name):
    result = run("test", str(POLICIES / f"{name}.rpl"), "--coverage", "--fail-under", "100")
    assert result.code == 0, result.both
    assert "rule coverage: 100.0%" in result.both and " 0 failed" in result.both


@pytest.mark.parametrize("name", RETAILERS)
def test_checked_without_warnings(name):
    result = run("check", str(POLICIES / f"{name}.rpl"))
    assert (result.code, result.both.strip()) == (0, "ok: 1 policy checked")


@pytest.mark.parametrize("name", RETAILERS)
def test_the_first_request_mixes_item_outcomes(name):
    # Each policy's first bundled request is a mixed return: one item refunded, another
    # exchanged only, and the request approved in part.
    first = sorted((POLICIES / name / "requests").glob("01-*.json"))[0]
    decision = load_policy(POLICIES / f"{name}.rpl").decide_json(first.read_bytes()).to_json()
    outcomes = [item["outcome"] for item in decision["items"]]
    assert decision["outputs"]["outcome"] == "approve_in_part"
    assert "exchange_only" in outcomes and outcomes[0] == "approve"


def test_best_buy_reads_its_product_kinds_from_the_csv_beside_it(tmp_path):
    # The same policy with a category missing from its CSV catalogue is refused, at the table.
    (tmp_path / "bestbuy").mkdir()
    (tmp_path / "bestbuy.rpl").write_text((POLICIES / "bestbuy.rpl").read_text())
    rows = (POLICIES / "bestbuy" / "product_kinds.csv").read_text().splitlines()
    (tmp_path / "bestbuy" / "product_kinds.csv").write_text(
        "\n".join(r for r in rows if not r.startswith("hotspot,")) + "\n")
    result = run("check", str(tmp_path / "bestbuy.rpl"))
    assert result.code != 0
    assert "error[RPL073]: table `product_kind` has no row for hotspot" in result.both
