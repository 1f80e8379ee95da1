"""The plain limit: the hand-written Aputure decision with no validation at all.

    python benchmarks/plain_aputure.py < requests.jsonl

It trusts every request: it converts what the decision reads (dates, money) and nothing more,
decides with the baseline's `decide` (baseline_aputure.py) and writes the outputs as JSON lines,
as `rpl eval --jsonl --outputs-only` does. Its time is the floor of a JSON-lines decision in
Python: what is left once nothing is checked, explained or isolated. A malformed request gets a
traceback or a wrong answer here; that is the point of the comparison, not a model to follow.
"""
from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline_aputure import COMPLETENESS, ZERO, ParsedItem, ParsedRequest, decide  # noqa: E402

_day = date.fromisoformat


def plain_item(raw: dict) -> ParsedItem:
    bundled = raw.get("bundled_with") if raw["free"] else None
    if not raw["returned"]:
        return ParsedItem(raw["sku"], Decimal(raw["price"]), raw["free"], False, bundled)
    return ParsedItem(raw["sku"], Decimal(raw["price"]), raw["free"], True, bundled,
                      raw["condition"], tuple(raw["marks"]), all(raw[f] for f in COMPLETENESS),
                      raw["labels_tampered"], raw["damage_cause"])


def plain_request(raw: dict) -> ParsedRequest:
    order = raw["order"]
    received = raw.get("received_date")
    shipping = order.get("shipping_paid")
    return ParsedRequest(
        _day(raw["request_date"]), raw.get("kind") or "return",
        None if received is None else _day(received),
        _day(order["purchase_date"]), _day(order["delivery_date"]), order["currency"],
        order["payment_method"], ZERO if shipping is None else Decimal(shipping),
        order["proof_of_purchase"], tuple(plain_item(item) for item in raw["items"]))


def main() -> None:
    write, loads, dumps = sys.stdout.write, json.loads, json.dumps
    for line in sys.stdin:
        if line.strip():
            write(dumps(decide(plain_request(loads(line)))) + "\n")


if __name__ == "__main__":
    main()
