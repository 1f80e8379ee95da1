"""`rpl graph`: the rule graph as Mermaid, DOT and SVG, and the path of one decision on it."""
import json
import shutil

import pytest
from click.testing import CliRunner

from rplang.compiler import render_graph
from rplang.cli import cli
from rplang.runtime import load_policy
from tests.conftest import POLICIES

POLICY_NAMES = ["aputure", "electronics"]
# A request per policy whose decision fires several rules, one per element for some.
REQUESTS = {"aputure": "00-semantics-example.json", "electronics": "01-window-day-30.json"}


@pytest.fixture(scope="module")
def compiled():
    return {name: load_policy(POLICIES / f"{name}.rpl") for name in POLICY_NAMES}


def _decision(compiled, name):
    request = POLICIES / name / "requests" / REQUESTS[name]
    return compiled[name].decide(json.loads(request.read_text()))


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_mermaid(compiled, name, snapshot):
    assert render_graph.to_mermaid(render_graph.picture(compiled[name].graph)) == snapshot


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_dot(compiled, name, snapshot):
    assert render_graph.to_dot(render_graph.picture(compiled[name].graph)) == snapshot


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_mermaid_with_a_decision_path(compiled, name, snapshot):
    path = render_graph.decision_path(_decision(compiled, name))
    assert render_graph.to_mermaid(render_graph.picture(compiled[name].graph, path)) == snapshot


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_dot_with_a_decision_path(compiled, name, snapshot):
    path = render_graph.decision_path(_decision(compiled, name))
    assert render_graph.to_dot(render_graph.picture(compiled[name].graph, path)) == snapshot


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_kind_is_drawn_and_every_rule_has_its_condition(compiled, name):
    graph = compiled[name].graph
    picture = render_graph.picture(graph)
    kinds = {n.kind for n in picture.nodes}
    assert kinds == set(render_graph.KINDS)
    ids = {n.id for n in picture.nodes}
    assert all(e.source in ids and e.target in ids for e in picture.edges)
    edges = {(e.source, e.target) for e in picture.edges}
    for rule_node in graph.rules:
        rule = rule_node.rule
        assert (f"c_{rule.name}", f"r_{rule.name}") in edges
        for effect in rule.effects:
            if effect.kind in ("add", "set"):
                assert (f"r_{rule.name}", f"o_{effect.output}") in edges
            elif effect.kind == "outcome":
                assert (f"r_{rule.name}", "o_outcome") in edges
    parameters = {n.label.split(" = ")[0] for n in picture.nodes if n.kind == "parameter"}
    assert parameters == set(graph.policy.parameters)  # each shown with its value
    assert any(n.label in ("return_window_length = 14 days", "return_window_length = 30 days")
               for n in picture.nodes)


def test_edges_show_what_depends_on_what(compiled):
    picture = render_graph.picture(compiled["aputure"].graph)
    edges = {(e.source, e.target, e.label) for e in picture.edges}
    assert ("in_order_delivery_date", "v_last_request_day", None) in edges
    assert ("p_return_window_length", "v_last_request_day", None) in edges
    assert ("v_last_request_day", "c_window", None) in edges
    assert ("in_request_date", "c_window", None) in edges
    assert ("v_returned_items", "r_misuse", "for each") in edges
    assert ("r_window", "o_outcome", "refuse") in edges
    assert ("r_returned_item", "o_refund", "+") in edges
    assert ("r_restocking_fee", "o_refund", "−") in edges
    assert ("r_refund_by_check", "o_check_not_before", "set") in edges
    electronics = render_graph.picture(compiled["electronics"].graph)
    assert ("r_defective_exempt", "r_opened_fee", "overrides") in \
        {(e.source, e.target, e.label) for e in electronics.edges}


def test_the_path_of_a_decision(compiled):
    decision = _decision(compiled, "aputure")
    path = render_graph.decision_path(decision)
    assert path.fired == {a.rule.rule.name for a in decision.applied}
    picture = render_graph.picture(compiled["aputure"].graph, path)
    state = {n.id: n.state for n in picture.nodes}
    label = {n.id: n.label for n in picture.nodes}
    assert state["r_restocking_fee"] == "fired" and state["r_window"] == "off"
    assert state["c_restocking_fee"] == "true" and state["c_window"] == "false"
    assert label["c_restocking_fee"].endswith("[true for 1 of 1]")
    assert label["c_free_item_kept"].endswith("[true for 1 of 2]")
    assert label["o_refund"] == "refund (total)\n= 1557.50"
    assert state["in_item_warranty_card_blank"] == "on" and state["in_order_purchase_date"] == "off"
    on_path = {(e.source, e.target) for e in picture.edges if e.on_path}
    assert ("c_restocking_fee", "r_restocking_fee") in on_path
    assert ("r_restocking_fee", "o_refund") in on_path
    assert ("c_window", "r_window") not in on_path


def test_an_overridden_rule_is_shown_as_such(compiled):
    request = json.loads((POLICIES / "electronics" / "requests" / REQUESTS["electronics"]).read_text())
    request["items"][0].update(opened=True, defective=True)
    decision = compiled["electronics"].decide(request)
    assert "opened_fee" in {a.rule.rule.name for a in decision.overridden}
    picture = render_graph.picture(compiled["electronics"].graph, render_graph.decision_path(decision))
    state = {n.id: n.state for n in picture.nodes}
    assert state["r_opened_fee"] == "overridden" and state["r_defective_exempt"] == "fired"
    assert ("r_defective_exempt", "r_opened_fee") in {(e.source, e.target) for e in picture.edges if e.on_path}


def test_labels_are_escaped():
    assert render_graph._mermaid_text('a > b & "c" | #') == "a #62; b #38; #34;c#34; #124; #35;"
    assert render_graph._dot_string('say "hi"\\\nnow') == '"say \\"hi\\"\\\\\\nnow"'


def test_a_rule_node_names_every_clause_it_cites():
    from rplang.runtime import load_policy_text

    policy = load_policy_text('policy "c"\ncurrency USD\nclause a: "A."\nclause b: "B."\nrequest:\n  x: boolean\n'
                              'outcomes:\n  approve "OK"\noutput outcome\n'
                              'rule r:\n  cites a, b\n  cites "as said"\n  when x\n  then approve\n')
    labels = [n.label for n in render_graph.picture(policy.graph).nodes if n.kind == "rule"]
    assert labels == ["rule r\ncites a, b, a quoted text"]


# ---- the command -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", POLICY_NAMES)
@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_graph_command(name, fmt):
    result = CliRunner().invoke(cli, ["graph", str(POLICIES / f"{name}.rpl"), "--format", fmt])
    assert result.exit_code == 0
    assert result.stdout.startswith("%%" if fmt == "mermaid" else "//")


def test_graph_command_with_a_request(tmp_path):
    policy = str(POLICIES / "aputure.rpl")
    request = str(POLICIES / "aputure" / "requests" / REQUESTS["aputure"])
    out = tmp_path / "g.mmd"
    result = CliRunner().invoke(cli, ["graph", policy, "--request", request, "-o", str(out)])
    assert result.exit_code == 0
    assert "class r_restocking_fee" in out.read_text() or "fired" in out.read_text()
    bad = tmp_path / "bad.json"
    bad.write_text('{"kind": "return"}')
    result = CliRunner().invoke(cli, ["graph", policy, "--request", str(bad)])
    assert result.exit_code == 2
    assert "request_date: missing" in result.output


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz (dot) is not installed")
@pytest.mark.parametrize("name", POLICY_NAMES)
def test_svg(name):
    result = CliRunner().invoke(cli, ["graph", str(POLICIES / f"{name}.rpl"), "--format", "svg"])
    assert result.exit_code == 0
    assert "<svg" in result.stdout and "</svg>" in result.stdout


def test_svg_without_graphviz_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(render_graph.shutil, "which", lambda name: None)
    result = CliRunner().invoke(cli, ["graph", str(POLICIES / "aputure.rpl"), "--format", "svg"])
    assert result.exit_code == 69
    assert "apt-get install graphviz" in result.output and "--format mermaid" in result.output


@pytest.mark.parametrize("document", ["docs/authoring.md", "README.md"])
def test_the_picture_in_the_docs_is_the_current_one(compiled, document):
    docs = (POLICIES.parent / document).read_text()
    current = render_graph.to_mermaid(render_graph.picture(compiled["aputure"].graph))
    assert f"```mermaid\n{current}```" in docs, f"run `rpl graph policies/aputure.rpl` and paste it in {document}"
