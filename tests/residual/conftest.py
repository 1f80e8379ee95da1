"""Shared by the residual-decision tests: small policies, Aputure requests without inspection."""
from __future__ import annotations

import copy
import json

import pytest

from rplang.runtime import load_policy_text
from rplang.runtime.kleene import KleeneEnv, Unknown
from rplang.runtime.residual import _kleene

from ..conftest import APUTURE_REQUESTS

INSPECTION = ("condition", "marks", "accessories_complete", "manuals_included", "warranty_card_blank",
              "packing_material", "original_box", "upc_intact", "labels_tampered", "damage_cause")
EXAMPLE = json.loads((APUTURE_REQUESTS / "00-semantics-example.json").read_text())


def before_inspection(request: dict, facts=INSPECTION) -> dict:
    """The request as the returns portal has it: the returned items' inspection facts left out."""
    request = copy.deepcopy(request)
    for item in request["items"]:
        if item.get("returned"):
            for name in facts:
                item.pop(name, None)
    return request


@pytest.fixture(scope="session")
def portal_example() -> dict:
    return before_inspection(EXAMPLE)


def values(policy_text: str, request: dict) -> dict:
    """Every `let` value of a policy, evaluated three-valued on a request read for a residual
    decision: True/False/values, or ("unknown", sorted fact paths)."""
    policy = load_policy_text(policy_text)
    converted = policy.reader.read(request, unknown_at=True)
    kleene = _kleene(policy)
    env = KleeneEnv(converted)
    out = {}
    for name, node in policy.graph.values.items():
        value = kleene.fns[node](env)
        out[name] = ("unknown", sorted(value.facts)) if isinstance(value, Unknown) else value
    return out
