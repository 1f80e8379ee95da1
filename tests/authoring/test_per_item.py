"""The authoring tools know outcomes decided per item (docs/per-item.md): `rpl schema --decision`,
`rpl graph` and `rpl doc` on policies/mixed_store.rpl."""
import json

import jsonschema

from rplang.compiler.document import render_markdown
from rplang.compiler.render_graph import picture, to_mermaid
from rplang.compiler.schema import decision_schema
from rplang.runtime import load_policy

from ..conftest import APUTURE, POLICIES

MIXED = load_policy(POLICIES / "mixed_store.rpl")
REQUESTS = sorted((POLICIES / "mixed_store" / "requests").glob("[0-9]*.json"))


def test_the_decision_schema_has_the_items_and_every_decision_fits_it():
    schema = decision_schema(MIXED.checked)
    assert "items" in schema["required"]
    item = schema["$defs"]["item"]
    assert item["properties"]["outcome"]["enum"] == ["refuse", "exchange_only", "approve_with_fee", "approve"]
    assert list(item["properties"]["totals"]["properties"]) == ["refund", "restocking_fee", "label_fee"]
    assert schema["properties"]["outputs"]["properties"]["outcome"]["enum"][-1] == "approve_in_part"
    for path in REQUESTS:
        jsonschema.validate(MIXED.decide(json.loads(path.read_text())).to_json(), schema)
    bad = MIXED.decide(json.loads(REQUESTS[0].read_text())).to_json()
    bad["items"][0]["outcome"] = "approve_in_part"  # a request outcome, not an item's
    try:
        jsonschema.validate(bad, schema)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("an item with the request's outcome fits the schema")


def test_a_policy_decided_per_request_has_no_items_in_its_schema():
    schema = decision_schema(load_policy(APUTURE).checked)
    assert "items" not in schema["properties"] and "item" not in schema["$defs"]


def test_the_graph_says_which_rules_decide_their_item_and_which_every_item():
    text = to_mermaid(picture(MIXED.graph))
    assert 'o_outcome[["outcome<br/>for each item in items"]]' in text
    assert "r_late -->|refuse (every item)| o_outcome" in text
    assert "r_opened_game -->|exchange_only (its item)| o_outcome" in text


def test_the_document_says_each_item_is_decided_on_its_own():
    text = render_markdown(MIXED.checked)
    assert ("## Each item on its own\n\nEach item returned is decided on its own: one may be approved while "
            "another is refused. A return is refused when every item is refused. A return is exchange only "
            "when every item is exchange only. A return is approved in part when any item is refused or "
            "exchange only. Otherwise it takes the first of these that one of its items is: refused, "
            "exchange only, approved with a restocking fee, approved.") in text
