"""Verifying policies in tests: every counterexample is decided by the runtime and must violate
its property; small bounds here, larger ones under `-m fuzz`."""
from pathlib import Path

import pytest

pytest.importorskip("z3")

from rplang.runtime import load_policy_text  # noqa: E402
from rplang.verify.domain import Bounds  # noqa: E402
from rplang.verify.prove import verify_policy  # noqa: E402
from rplang.verify.replay import holds  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
APUTURE = ROOT / "policies" / "aputure.rpl"


def verified(text: str, max_items: int = 2, **bounds) -> dict:
    """Each property's result by name; each counterexample replayed through the runtime."""
    policy = load_policy_text(text, "<test>")
    results = {r.name: r for r in verify_policy(policy, Bounds(max_items=max_items, **bounds))}
    properties = {p.name: p for p in policy.checked.properties}
    for result in results.values():
        if result.status == "refuted":
            assert not holds(policy, properties[result.name], result.request), result.request
            assert policy.decide(result.request).outputs_json() == result.outputs
    return results


def status(text: str, max_items: int = 2, **bounds) -> dict:
    return {name: r.status for name, r in verified(text, max_items, **bounds).items()}
