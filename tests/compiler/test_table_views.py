"""`rpl graph` shows a table as a node of the policy's fixed values; `rpl doc` prints a table as a
table (a large one by its size)."""
from rplang.compiler import compile_policy
from rplang.compiler.document import render_html, render_markdown
from rplang.compiler.render_graph import picture
from tests.runtime.test_tables import POLICY


def test_a_table_is_a_node_of_the_graph_that_its_lookups_read():
    graph = compile_policy(POLICY)
    pic = picture(graph)
    labels = {n.id: n.label for n in pic.nodes if n.kind == "parameter"}
    assert labels["p_table_shipping"] == "table shipping by Region, Category (6 rows)"
    assert labels["p_table_restocking_rate"] == "table restocking_rate by Category (2 rows)"
    assert ("p_table_restocking_rate", "c_opened_fee") in {(e.source, e.target) for e in pic.edges}


def test_the_document_prints_each_table(snapshot):
    checked = compile_policy(POLICY).policy
    text = render_markdown(checked)
    assert "| Category | Restocking rate |\n|---|---|\n| camera | 15% |\n| drone | 15% |\n| any other | 0% |" in text
    assert "| Key | Fee | Window | Credit only |" in text
    assert text == snapshot
    assert "<tr><th>Region</th><th>Category</th><th>Shipping</th></tr>" in render_html(checked)
