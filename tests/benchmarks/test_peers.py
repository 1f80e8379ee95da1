"""benchmarks/peers: each peer's lean encoding gives the answers of its idiomatic one, and rpl's;
the harness refuses to time engines that disagree.

The peers are the optional `bench` extra (pip install -e '.[bench]'), which CI does not install:
a peer that is missing skips its test and says so."""
from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import ROOT, load_module

run = load_module(ROOT / "benchmarks" / "peers" / "run.py")
engines = sys.modules["engines"]  # imported by run.py from the folder it puts on sys.path

MODULES = {"zen-engine": "zen", "common-expression-language": "cel", "opa-eval": "opa_eval", "gordon-to-regorus": "regorus",
           "cedarpy": "cedarpy", "cel-python": "celpy", "rule-engine": "rule_engine"}


@pytest.fixture(scope="module")
def edge_cases():
    return run.edge_cases()


@pytest.fixture(scope="module")
def policies():
    from rplang.runtime import load_policy

    return (load_policy(ROOT / "policies" / "aputure.rpl"),
            load_policy(ROOT / "benchmarks" / "peers" / "aputure_eligibility.rpl"))


def _answer(decision: dict) -> dict:
    return {**decision, "reasons": sorted(decision["reasons"])}


# the idiomatic rule-engine encoding reads `item.price`, which rule-engine 5.1 deprecates
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("peer_class", engines.PEERS, ids=lambda cls: cls.package)
def test_lean_encoding_agrees_with_idiomatic_on_edge_cases(peer_class, edge_cases, policies, capsys):
    module = MODULES[peer_class.package]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{peer_class.package} is not installed (the bench extra: "
                    f"pip install -e '.[bench]'; CI does not install it)")
    idiomatic, lean = peer_class("idiomatic"), peer_class("lean")
    assert idiomatic.encoding != lean.encoding
    differing = [request for request in edge_cases
                 if _answer(lean.decide(request)) != _answer(idiomatic.decide(request))]
    assert differing == []
    run.verify([idiomatic, lean], *policies, edge_cases, "edge cases")  # and both agree with rpl
    assert "every engine agrees with rpl" in capsys.readouterr().out


class _Wrong(engines.Peer):
    """A peer that approves everything: the harness must refuse to time it."""
    name, package, computes, api = "always approve", "none", engines.ELIGIBILITY, "decide"
    ENCODINGS = {"idiomatic": "none"}

    def load(self, path):
        pass

    def decide(self, request):
        return {"outcome": "approve", "reasons": []}


def test_a_peer_that_disagrees_stops_the_run_before_any_timing(edge_cases, policies, capsys):
    with pytest.raises(SystemExit) as stopped:
        run.verify([_Wrong()], *policies, edge_cases, "edge cases")
    assert stopped.value.code == 1
    out = capsys.readouterr().out
    assert "DISAGREEMENT" in out and "no timing is done" in out
    assert "always approve: outcome 'approve', rpl 'refuse'" in out
