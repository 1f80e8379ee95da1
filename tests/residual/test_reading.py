"""`at STAGE`: parsed, checked, and read. A fact left out is unknown only for a residual decision,
only when declared with a stage, and never a default; an ordinary decision still refuses it."""
import copy
import pickle

import pytest

from rplang.policy_lang import parse_policy
from rplang.policy_lang.errors import EvaluationError, RequestError
from rplang.runtime import load_policy_text
from rplang.runtime.request import UNKNOWN

from .conftest import EXAMPLE, before_inspection

POLICY = '''policy "stages"
currency USD

record Item:
  sku:        text
  returned:   boolean
  opened:     boolean             when returned  at inspection  "opened"
  seal:       boolean             when returned                 "seal intact"
  photo:      optional text       at inspection
  count:      integer = 1         at inspection
  arrived:    boolean             at delivery

request:
  day:        date
  checked:    boolean             at inspection
  items:      list of Item

outcomes:
  approve "APPROVED"

output outcome
'''


@pytest.fixture(scope="module")
def policy():
    return load_policy_text(POLICY)


def problems(error: RequestError):
    return [(p.path, p.message) for p in error.problems]


def test_the_stage_is_parsed_and_checked(policy):
    record = next(d for d in parse_policy(POLICY).declarations if getattr(d, "name", None) == "Item")
    fields = {f.name: f for f in record.fields}
    assert fields["opened"].stage == "inspection" and fields["opened"].present_when == "returned"
    assert fields["opened"].label == "opened"
    assert fields["seal"].stage is None and fields["photo"].stage == "inspection"
    specs = policy.checked.records["Item"]
    assert specs["opened"].stage == "inspection" and specs["arrived"].stage == "delivery"
    assert policy.checked.request["checked"].stage == "inspection"


def test_a_field_may_still_be_called_at():
    policy = load_policy_text(POLICY.replace("  day:        date\n", "  day:        date\n  at:         date  at arrival\n"))
    assert policy.checked.request["at"].stage == "arrival"


ITEM = {"sku": "A", "returned": True, "seal": True}


def test_an_ordinary_decision_still_reports_facts_left_out(policy):
    with pytest.raises(RequestError) as error:
        policy.decide({"day": "2026-03-01", "items": [ITEM]})
    later = "`--partial` decides without it"  # each is a fact of a later stage: said so
    assert problems(error.value) == [
        ("$.checked", f"missing (known at inspection: {later})"),
        ("$.items[0].opened", f"missing (required when `returned` is true; known at inspection: {later})"),
        ("$.items[0].arrived", f"missing (known at delivery: {later})")]


def test_a_residual_reading_makes_them_unknown(policy):
    read = policy.reader.read({"day": "2026-03-01", "items": [ITEM]}, unknown_at=True)
    item = read["items"][0]
    assert read["checked"] is UNKNOWN and item["opened"] is UNKNOWN and item["arrived"] is UNKNOWN
    # an optional fact and one with a default are unknown too: no default when not known yet
    assert item["photo"] is UNKNOWN and item["count"] is UNKNOWN


def test_a_fact_without_a_stage_is_still_required(policy):
    with pytest.raises(RequestError) as error:
        policy.reader.read({"day": "2026-03-01", "checked": True, "items": [{"sku": "A", "returned": True}]},
                           unknown_at=True)
    assert problems(error.value) == [("$.items[0].seal", "missing (required when `returned` is true)")]


def test_only_the_stages_asked_for(policy):
    with pytest.raises(RequestError) as error:
        policy.reader.read({"day": "2026-03-01", "items": [ITEM]}, unknown_at={"inspection"})
    assert problems(error.value) == [("$.items[0].arrived", "missing")]
    read = policy.reader.read({"day": "2026-03-01", "items": [{**ITEM, "arrived": True}]}, unknown_at={"inspection"})
    assert read["items"][0]["opened"] is UNKNOWN and read["items"][0]["arrived"] is True


def test_null_keeps_its_meaning(policy):
    data = {"day": "2026-03-01", "checked": None, "items": [{**ITEM, "photo": None, "arrived": True}]}
    with pytest.raises(RequestError) as error:
        policy.reader.read(data, unknown_at=True)
    assert problems(error.value) == [("$.checked", "must not be null")]
    data["checked"] = True
    assert policy.reader.read(data, unknown_at=True)["items"][0]["photo"] is None  # given: no photo


def test_facts_of_a_kept_item_stay_ignored(policy):
    read = policy.reader.read({"day": "2026-03-01", "checked": True,
                               "items": [{"sku": "A", "returned": False, "arrived": True}]}, unknown_at=True)
    assert read["items"][0]["opened"] is None and read["items"][0]["seal"] is None


def test_a_flag_not_known_yet_reads_the_facts_it_guards_as_if_true():
    policy = load_policy_text(POLICY.replace("returned:   boolean", "returned:   boolean  at inspection"))
    read = policy.reader.read({"day": "2026-03-01", "checked": True,
                               "items": [{"sku": "A", "seal": True, "arrived": True}]}, unknown_at=True)
    item = read["items"][0]
    assert item["returned"] is UNKNOWN and item["opened"] is UNKNOWN and item["seal"] is True
    with pytest.raises(RequestError) as error:  # `seal` has no stage: it must be given
        policy.reader.read({"day": "2026-03-01", "checked": True,
                            "items": [{"sku": "A", "arrived": True}]}, unknown_at=True)
    assert problems(error.value) == [("$.items[0].seal", "missing (required when `returned` is true)")]


def test_the_marker_cannot_be_decided_with():
    for use in (bool, str, hash, len, lambda x: x == "new", lambda x: x < 3, lambda x: x + 1,
                lambda x: 1 - x, lambda x: x in {"a"}, lambda x: x.isoformat(), lambda x: f"{x}"):
        with pytest.raises(EvaluationError):
            use(UNKNOWN)
    assert repr(UNKNOWN) == "UNKNOWN"
    assert copy.deepcopy(UNKNOWN) is UNKNOWN and pickle.loads(pickle.dumps(UNKNOWN)) is UNKNOWN


def test_aputure_inspection_facts_have_the_stage(aputure):
    item = aputure.checked.records["Item"]
    staged = {name for name, spec in item.items() if spec.stage == "inspection"}
    assert staged == {"condition", "marks", "accessories_complete", "manuals_included", "warranty_card_blank",
                      "packing_material", "original_box", "upc_intact", "labels_tampered", "damage_cause"}
    with pytest.raises(RequestError):
        aputure.decide(before_inspection(EXAMPLE))
    assert aputure.decide(copy.deepcopy(EXAMPLE)).outcome == "approve_with_fee"
