"""Embedding rplang in a returns portal: load once, decide each request, read typed outputs."""
from __future__ import annotations

import datetime
import sys
from decimal import Decimal

from rplang import PolicyError, RequestError, load_policy


def refund_for(policy_path: str, request: dict[str, object]) -> Decimal | None:
    """The refund a request gets, or None when the request cannot be decided."""
    try:
        policy = load_policy(policy_path)
    except PolicyError as error:
        print(error.render(), file=sys.stderr)
        return None
    try:
        decision = policy.decide(request)
    except RequestError as error:
        for problem in error.problems:
            print(problem.path, problem.message, file=sys.stderr)
        return None
    refund = decision.outputs["refund"]
    return refund if isinstance(refund, Decimal) else None


if __name__ == "__main__":
    request: dict[str, object] = {
        "request_date": datetime.date(2026, 3, 10),
        "order": {"purchase_date": "2026-02-27", "delivery_date": datetime.date(2026, 3, 3),
                  "currency": "USD", "proof_of_purchase": "valid", "payment_method": "card",
                  "shipping_paid": Decimal("0.00")},
        "items": [{"sku": "LS-600D-PRO", "price": Decimal("1890.00"), "free": False,
                   "returned": True, "condition": "new", "marks": [], "labels_tampered": False,
                   "damage_cause": "none", "accessories_complete": True, "manuals_included": True,
                   "warranty_card_blank": True, "packing_material": True, "original_box": True,
                   "upc_intact": True}],
    }
    print(refund_for(sys.argv[1] if len(sys.argv) > 1 else "policies/aputure.rpl", request))
