"""Marshalling shared by the peer engines: the request dict in, plain engine-friendly data out.

Nothing here decides anything: it only changes representations, the way an application that
embeds one of these engines would have to.

- dates (ISO text)  -> day numbers (``date.toordinal()``), so "days from A to B" is ``B - A``;
- money (decimal text, at most 2 decimals) -> integer cents, so the engines compute exactly;
- the defaults of the contract are filled in: ``kind`` = "return", ``bundled_with`` = null;
- every other field is passed on as it is (inspection facts included, on kept items too:
  each encoding looks at them only for returned items, as the policy says).

And back: integer cents -> the contract's amount text ("1557.50").
"""
from __future__ import annotations

from datetime import date

_day = date.fromisoformat


def day(text: str) -> int:
    return _day(text).toordinal()


def cents(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def money(amount_cents: int) -> str:
    return f"{amount_cents // 100}.{amount_cents % 100:02d}"


def plain_item(item: dict) -> dict:
    out = dict(item)
    out["price"] = cents(item["price"])
    if "bundled_with" not in out:
        out["bundled_with"] = None
    return out


def plain(request: dict) -> dict:
    """The request as the CEL, Rego, Zen and rule-engine encodings read it."""
    order = request["order"]
    return {
        "request_day": day(request["request_date"]),
        "delivery_day": day(order["delivery_date"]),
        "kind": request.get("kind") or "return",
        "proof": order["proof_of_purchase"],
        "items": [plain_item(item) for item in request["items"]],
    }


# The refusal reasons, named as the rules of policies/aputure.rpl name them, in its order.
REASONS = ("window", "proof", "misuse", "external_damage", "tampering", "condition")
