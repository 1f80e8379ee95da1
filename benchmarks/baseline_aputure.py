"""Hand-written reference implementation ("oracle") of the Aputure return policy.

Implements the Aputure semantics (`../shared/aputure/SEMANTICS.md`, beside the repository) directly in plain Python, independently of
the rpl language, compiler and runtime.  Used to cross-check rpl and as a speed baseline.

    parse(request: dict) -> ParsedRequest    validate + convert (dates, Decimal money)
    decide(parsed) -> dict                   the `outputs` object of SEMANTICS.md
    decide_request(request: dict) -> dict    decide(parse(request))

Readings chosen where SEMANTICS.md is silent (see also tests/e2e/test_baseline_aputure.py):
- Unknown keys are rejected (a typo in an optional key such as `bundled_with` would
  otherwise silently change the decision).  JSON null for an optional field = absent.
- Money: a non-negative decimal string (digits, optional fraction); JSON numbers are
  rejected.  Amounts are computed exactly and printed rounded half-up to 2 decimals.
- `bundled_with` on a paid item is ignored.  A `bundled_with` naming a sku that is not a
  returned paid item (a kept item, a free item, or no item at all) deducts nothing.
- `free_items_deduction` and `restocking_fee` report the full amounts even when the refund
  is floored at 0.00.
- `credit_between` is given whenever `received_date` is given (also for a check payment).
- Inspection facts on kept items are neither used nor validated.
"""

from __future__ import annotations

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import NamedTuple

import holidays

__all__ = ["ParsedRequest", "ParsedItem", "parse", "decide", "decide_request",
           "business_day_after", "us_federal_holidays"]

# ---------------------------------------------------------------------------- constants

KINDS = frozenset({"return", "exchange"})
PAYMENT_METHODS = frozenset({"card", "paypal", "check", "other"})
PROOFS = frozenset({"valid", "missing", "suspect"})
CONDITIONS = frozenset({"new", "like_new", "used"})
MARKS = frozenset({"crack", "dent", "scratch"})
MISUSE_CAUSES = frozenset({"unauthorized_use", "modification", "moisture",
                           "foreign_object", "improper_installation", "improper_operation"})
EXTERNAL_CAUSES = frozenset({"fire", "flood", "high_wind", "lightning"})
DAMAGE_CAUSES = MISUSE_CAUSES | EXTERNAL_CAUSES | {"none"}
COMPLETENESS = ("accessories_complete", "manuals_included", "warranty_card_blank",
                "packing_material", "original_box", "upc_intact")
INSPECTION = COMPLETENESS + ("condition", "marks", "labels_tampered", "damage_cause")

WINDOW_DAYS = 14
FEE_RATE = Decimal("0.15")
CHECK_BUSINESS_DAYS = 10
CREDIT_FROM_DAYS, CREDIT_TO_DAYS = 7, 10

CENT = Decimal("0.01")
ZERO = Decimal("0")

_TOP_KEYS = frozenset({"request_date", "kind", "received_date", "order", "items"})
_ORDER_KEYS = frozenset({"purchase_date", "delivery_date", "currency", "payment_method",
                         "shipping_paid", "proof_of_purchase"})
_ITEM_KEYS = frozenset({"sku", "price", "free", "returned", "bundled_with"} | set(INSPECTION))

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONEY_RE = re.compile(r"\d+(\.\d+)?")
_CURRENCY_RE = re.compile(r"[A-Z]{3}")


# ---------------------------------------------------------------------------- parsed form

class ParsedItem(NamedTuple):
    sku: str
    price: Decimal
    free: bool
    returned: bool
    bundled_with: str | None
    # inspection facts: None on kept items (ignored there)
    condition: str | None = None
    marks: tuple[str, ...] = ()
    complete: bool = True           # all six completeness facts hold
    labels_tampered: bool = False
    damage_cause: str = "none"


class ParsedRequest(NamedTuple):
    request_date: datetime.date
    kind: str
    received_date: datetime.date | None
    purchase_date: datetime.date
    delivery_date: datetime.date
    currency: str
    payment_method: str
    shipping_paid: Decimal
    proof_of_purchase: str
    items: tuple[ParsedItem, ...]


# ---------------------------------------------------------------------------- parsing

def _obj(value, where):
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected an object")
    return value


def _keys(obj, allowed, where):
    extra = set(obj) - allowed
    if extra:
        raise ValueError(f"{where}: unknown key(s) {sorted(extra)}")


def _req(obj, key, where):
    if key not in obj or obj[key] is None:
        raise ValueError(f"{where}.{key}: required")
    return obj[key]


def _date(value, where):
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ValueError(f"{where}: expected a date YYYY-MM-DD, got {value!r}")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}: invalid date {value!r}") from None


def _money(value, where):
    # bool is an int subclass; any JSON number (int or float) is rejected
    if not isinstance(value, str):
        raise ValueError(f"{where}: money must be a decimal string, got {type(value).__name__}")
    if not _MONEY_RE.fullmatch(value):
        raise ValueError(f"{where}: invalid money string {value!r}")
    return Decimal(value)


def _bool(value, where):
    if type(value) is not bool:
        raise ValueError(f"{where}: expected true/false, got {value!r}")
    return value


def _enum(value, allowed, where):
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{where}: expected one of {sorted(allowed)}, got {value!r}")
    return value


def _currency(value, where):
    if not isinstance(value, str) or not _CURRENCY_RE.fullmatch(value):
        raise ValueError(f"{where}: expected an ISO 4217 code, got {value!r}")
    return value


def _text(value, where):
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _item(raw, where):
    _obj(raw, where)
    _keys(raw, _ITEM_KEYS, where)
    sku = _text(_req(raw, "sku", where), f"{where}.sku")
    price = _money(_req(raw, "price", where), f"{where}.price")
    free = _bool(_req(raw, "free", where), f"{where}.free")
    returned = _bool(_req(raw, "returned", where), f"{where}.returned")
    bundled = raw.get("bundled_with")
    if bundled is not None:
        bundled = _text(bundled, f"{where}.bundled_with")
        if not free:
            bundled = None          # only meaningful for a free item
    if not returned:
        return ParsedItem(sku, price, free, returned, bundled)
    marks = _req(raw, "marks", where)
    if not isinstance(marks, list):
        raise ValueError(f"{where}.marks: expected a list")
    marks = tuple(_enum(m, MARKS, f"{where}.marks[]") for m in marks)
    complete = True
    for fact in COMPLETENESS:
        if not _bool(_req(raw, fact, where), f"{where}.{fact}"):
            complete = False
    return ParsedItem(
        sku, price, free, returned, bundled,
        condition=_enum(_req(raw, "condition", where), CONDITIONS, f"{where}.condition"),
        marks=marks,
        complete=complete,
        labels_tampered=_bool(_req(raw, "labels_tampered", where), f"{where}.labels_tampered"),
        damage_cause=_enum(_req(raw, "damage_cause", where), DAMAGE_CAUSES,
                           f"{where}.damage_cause"),
    )


def parse(request: dict) -> ParsedRequest:
    """Validate a request (SEMANTICS.md "Request (JSON)") and convert it; ValueError if bad."""
    _obj(request, "request")
    _keys(request, _TOP_KEYS, "request")
    order = _obj(_req(request, "order", "request"), "order")
    _keys(order, _ORDER_KEYS, "order")
    items = _req(request, "items", "request")
    if not isinstance(items, list):
        raise ValueError("request.items: expected a list")
    kind = request.get("kind")
    received = request.get("received_date")
    shipping = order.get("shipping_paid")
    return ParsedRequest(
        request_date=_date(_req(request, "request_date", "request"), "request.request_date"),
        kind="return" if kind is None else _enum(kind, KINDS, "request.kind"),
        received_date=None if received is None else _date(received, "request.received_date"),
        purchase_date=_date(_req(order, "purchase_date", "order"), "order.purchase_date"),
        delivery_date=_date(_req(order, "delivery_date", "order"), "order.delivery_date"),
        currency=_currency(_req(order, "currency", "order"), "order.currency"),
        payment_method=_enum(_req(order, "payment_method", "order"), PAYMENT_METHODS,
                             "order.payment_method"),
        shipping_paid=ZERO if shipping is None else _money(shipping, "order.shipping_paid"),
        proof_of_purchase=_enum(_req(order, "proof_of_purchase", "order"), PROOFS,
                                "order.proof_of_purchase"),
        items=tuple(_item(it, f"items[{i}]") for i, it in enumerate(items)),
    )


# ---------------------------------------------------------------------------- calendar

@lru_cache(maxsize=None)
def us_federal_holidays(year: int) -> frozenset[datetime.date]:
    """US federal holidays falling in `year`, on their actual and observed dates.

    Built from three calendar years and filtered by the date's own year, so that an
    observed date that moves into the neighbouring year (New Year's Day 2028 is a
    Saturday, observed Friday 2027-12-31) is found whichever year `holidays` files it under.
    """
    cal = holidays.US(years=(year - 1, year, year + 1))  # observed dates included by default
    return frozenset(d for d in cal if d.year == year)


def is_business_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in us_federal_holidays(day.year)


@lru_cache(maxsize=4096)
def business_day_after(start: datetime.date, n: int) -> datetime.date:
    """The n-th business day after `start`, counting from the next day."""
    day = start
    one = datetime.timedelta(days=1)
    while n > 0:
        day += one
        if is_business_day(day):
            n -= 1
    return day


# ---------------------------------------------------------------------------- decision

def _fmt(amount: Decimal) -> str:
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount == 0:
        return "0.00"           # never "-0.00"
    return format(amount, "f")


def _fee(price: Decimal) -> Decimal:
    return (price * FEE_RATE).quantize(CENT, rounding=ROUND_HALF_UP)


def refusal_reasons(p: ParsedRequest) -> list[str]:
    """Ids of all refusal rules that apply (empty when nothing refuses)."""
    reasons = []
    if (p.request_date - p.delivery_date).days > WINDOW_DAYS:
        reasons.append("window")
    if p.proof_of_purchase != "valid":
        reasons.append("proof")
    returned = [it for it in p.items if it.returned]
    if any(it.damage_cause in MISUSE_CAUSES for it in returned):
        reasons.append("misuse")
    if any(it.damage_cause in EXTERNAL_CAUSES for it in returned):
        reasons.append("external")
    if any(it.labels_tampered for it in returned):
        reasons.append("tamper")
    if any(it.condition == "used" or it.marks for it in returned):
        reasons.append("condition")
    return reasons


_REFUSED = {"outcome": "refuse", "refund": "0.00", "restocking_fee": "0.00",
            "free_items_deduction": "0.00", "refund_method": None,
            "check_not_before": None, "credit_between": None}


def decide(p: ParsedRequest) -> dict:
    """The `outputs` object of SEMANTICS.md for a parsed request."""
    if refusal_reasons(p):
        return dict(_REFUSED)

    items = p.items
    fee = ZERO
    with_fee = False
    paid_returned = ZERO
    returned_paid_skus = set()
    for it in items:
        if it.returned:
            if not it.complete:
                with_fee = True
                fee += _fee(it.price)
            if not it.free:
                paid_returned += it.price
                returned_paid_skus.add(it.sku)

    outcome = "approve_with_fee" if with_fee else "approve"
    if p.kind == "exchange":
        return {"outcome": outcome, "refund": "0.00", "restocking_fee": _fmt(fee),
                "free_items_deduction": "0.00", "refund_method": None,
                "check_not_before": None, "credit_between": None}

    deduction = ZERO
    if returned_paid_skus:
        for it in items:
            if it.free and not it.returned and (
                    it.bundled_with is None or it.bundled_with in returned_paid_skus):
                deduction += it.price
    refund = paid_returned - deduction - fee
    if refund < 0:
        refund = ZERO

    if p.payment_method == "check":
        method = "check"
        not_before = business_day_after(p.purchase_date, CHECK_BUSINESS_DAYS).isoformat()
    else:
        method = "original_payment"
        not_before = None
    credit = None
    if p.received_date is not None:
        credit = [(p.received_date + datetime.timedelta(days=CREDIT_FROM_DAYS)).isoformat(),
                  (p.received_date + datetime.timedelta(days=CREDIT_TO_DAYS)).isoformat()]
    return {"outcome": outcome, "refund": _fmt(refund), "restocking_fee": _fmt(fee),
            "free_items_deduction": _fmt(deduction), "refund_method": method,
            "check_not_before": not_before, "credit_between": credit}


def decide_request(request: dict) -> dict:
    return decide(parse(request))


if __name__ == "__main__":      # python benchmarks/baseline_aputure.py < requests.jsonl
    import json
    import sys
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(decide_request(json.loads(line))))
