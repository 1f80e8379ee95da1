"""Deterministic generator of realistic Aputure return requests (SEMANTICS.md format).

    python benchmarks/gen_corpus.py --count 20000 --seed 1 > requests.jsonl

One JSON request per line.  The same --count/--seed always gives the same bytes (only
random.Random(seed) is used; no sets, no clock).  The mix is mostly approvals, with some
restocking fees, some refusals, some exchanges, check payments, free items, 1-4 items per
order, realistic skus and prices, and purchase dates across 2025-2027.
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import sys
from decimal import ROUND_HALF_UP, Decimal

# (sku, USD price)
PAID = [
    ("LS-1200D-PRO", "2999.00"), ("LS-600D-PRO", "1890.00"), ("LS-600X-PRO", "1999.00"),
    ("LS-600C-PRO", "2499.00"), ("LS-300X", "1099.00"), ("LS-C300D-II", "1099.00"),
    ("NOVA-P300C", "1699.00"), ("NOVA-P600C", "3999.00"), ("AMARAN-100D", "149.00"),
    ("AMARAN-100X", "169.00"), ("AMARAN-200D", "399.00"), ("AMARAN-200X", "399.00"),
    ("AMARAN-150C", "299.00"), ("AMARAN-300C", "549.00"), ("AMARAN-F22C", "699.00"),
    ("AMARAN-COB-60D", "119.00"), ("INFINIBAR-PB12", "599.00"), ("MC-PRO", "299.00"),
    ("MC-4KIT", "349.00"), ("ACCENT-B7C", "39.00"), ("MT-PRO", "139.00"),
    ("F10-FRESNEL", "249.00"), ("SPOTLIGHT-MINI-ZOOM", "349.00"), ("LIGHT-DOME-II", "189.00"),
    ("LIGHT-DOME-MINI-II", "129.00"), ("LANTERN-90", "139.00"), ("LS-GRID-40", "99.99"),
    ("F10-BARNDOORS", "79.00"), ("CLAMP-ADAPTER", "12.30"), ("V-MOUNT-PLATE", "59.90"),
]
# (sku, USD retail value)
FREE = [
    ("FREE-BAG", "49.00"), ("FREE-V-MOUNT-PLATE", "79.00"), ("FREE-LIGHT-STAND", "89.00"),
    ("FREE-SOFTBOX", "119.00"), ("FREE-DIFFUSER", "19.90"), ("FREE-GRID", "39.00"),
]
# currency -> (weight, rate from USD, decimals in the generated strings)
CURRENCIES = {"USD": (80, Decimal("1"), 2), "EUR": (8, Decimal("0.92"), 2),
              "GBP": (5, Decimal("0.79"), 2), "CAD": (4, Decimal("1.36"), 2),
              "JPY": (3, Decimal("150"), 0)}
SHIPPING_USD = ["0.00", "0.00", "9.99", "15.00", "19.90", "25.00", "30.00", "45.00"]

COMPLETENESS = ("accessories_complete", "manuals_included", "warranty_card_blank",
                "packing_material", "original_box", "upc_intact")
MISUSE = ("unauthorized_use", "modification", "moisture", "foreign_object",
          "improper_installation", "improper_operation")
EXTERNAL = ("fire", "flood", "high_wind", "lightning")
MARKS = ("crack", "dent", "scratch")

FIRST_DAY = datetime.date(2025, 1, 1)
LAST_DAY = datetime.date(2027, 12, 31)
CENT = Decimal("0.01")


def _convert(usd: str, currency: str, rng: random.Random, discount: bool) -> str:
    _, rate, decimals = CURRENCIES[currency]
    amount = Decimal(usd)
    if discount:                                  # a sale price: odd cents
        amount = (amount * Decimal(rng.choice(("0.85", "0.9", "0.95")))).quantize(
            CENT, rounding=ROUND_HALF_UP)
    if currency == "USD":
        return f"{amount:.2f}"
    if decimals == 0:
        return str(int((amount * rate / 100).to_integral_value(ROUND_HALF_UP) * 100))
    return f"{(amount * rate).quantize(CENT, rounding=ROUND_HALF_UP):.2f}"


def _inspection(rng: random.Random, ignored: bool = False) -> dict:
    """Inspection facts; mostly perfect, sometimes incomplete, rarely refusable."""
    facts = {"condition": "new", "marks": []}
    facts.update({k: True for k in COMPLETENESS})
    facts["labels_tampered"] = False
    facts["damage_cause"] = "none"
    r = rng.random()
    if r < 0.10 or ignored and r < 0.5:           # incomplete: fee
        for k in rng.sample(COMPLETENESS, rng.choice((1, 1, 1, 2, 3))):
            facts[k] = False
    if rng.random() < 0.12:
        facts["condition"] = "like_new"
    r = rng.random()
    if r < (0.5 if ignored else 0.025):           # refusable defect
        kind = rng.randrange(5)
        if kind == 0:
            facts["condition"] = "used"
        elif kind == 1:
            facts["marks"] = sorted(rng.sample(MARKS, rng.choice((1, 1, 2))))
        elif kind == 2:
            facts["labels_tampered"] = True
        elif kind == 3:
            facts["damage_cause"] = rng.choice(MISUSE)
        else:
            facts["damage_cause"] = rng.choice(EXTERNAL)
    return facts


def _iso(day: datetime.date) -> str:
    return day.isoformat()


def generate(rng: random.Random) -> dict:
    span = (LAST_DAY - FIRST_DAY).days
    purchase = FIRST_DAY + datetime.timedelta(days=rng.randrange(span + 1))
    delivery = purchase + datetime.timedelta(days=rng.choice((1, 2, 2, 3, 3, 4, 5, 7)))
    r = rng.random()
    if r < 0.03:                                  # requested before delivery
        request = max(purchase, delivery - datetime.timedelta(days=rng.randint(1, 2)))
    elif r < 0.08:                                # late
        request = delivery + datetime.timedelta(days=rng.randint(15, 40))
    elif r < 0.12:                                # right at the boundary
        request = delivery + datetime.timedelta(days=rng.choice((13, 14, 14, 15)))
    else:
        request = delivery + datetime.timedelta(days=rng.randint(0, 14))

    currency = rng.choices(list(CURRENCIES), weights=[w for w, _, _ in CURRENCIES.values()])[0]
    payment = rng.choices(("card", "paypal", "check", "other"), weights=(68, 20, 8, 4))[0]
    proof = rng.choices(("valid", "missing", "suspect"), weights=(970, 15, 15))[0]

    order = {"purchase_date": _iso(purchase), "delivery_date": _iso(delivery),
             "currency": currency, "payment_method": payment}
    if rng.random() < 0.85:
        order["shipping_paid"] = _convert(rng.choice(SHIPPING_USD), currency, rng, False)
    order["proof_of_purchase"] = proof

    n_paid = rng.choices((1, 2, 3, 4), weights=(55, 25, 12, 8))[0]
    n_free = 0
    if n_paid < 4 and rng.random() < 0.3:
        n_free = rng.choice((1, 1, 2)) if n_paid < 3 else 1
    paid = rng.sample(PAID, n_paid)
    free = rng.sample(FREE, n_free)

    items = []
    paid_returned = [rng.random() < 0.85 for _ in paid]
    if not any(paid_returned) and rng.random() < 0.9:
        paid_returned[rng.randrange(n_paid)] = True
    for (sku, usd), returned in zip(paid, paid_returned):
        item = {"sku": sku, "price": _convert(usd, currency, rng, rng.random() < 0.1),
                "free": False, "returned": returned}
        if returned:
            item.update(_inspection(rng))
        elif rng.random() < 0.1:                  # kept item with (ignored) facts
            item.update(_inspection(rng, ignored=True))
        items.append(item)
    for sku, usd in free:
        item = {"sku": sku, "price": _convert(usd, currency, rng, False), "free": True}
        if rng.random() < 0.7:
            item["bundled_with"] = rng.choice(paid)[0]
        item["returned"] = rng.random() < 0.5
        if item["returned"]:
            item.update(_inspection(rng))
        items.append(item)
    if len(items) > 1 and rng.random() < 0.5:
        rng.shuffle(items)

    request_obj = {"request_date": _iso(request)}
    kind = rng.choices(("absent", "return", "exchange"), weights=(55, 33, 12))[0]
    if kind != "absent":
        request_obj["kind"] = kind
    if rng.random() < 0.75:
        received = request + datetime.timedelta(days=rng.randint(2, 12))
        request_obj["received_date"] = _iso(received)
    request_obj["order"] = order
    request_obj["items"] = items
    return request_obj


def generate_lines(count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        yield json.dumps(generate(rng), separators=(",", ":"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    out = sys.stdout
    for line in generate_lines(args.count, args.seed):
        out.write(line)
        out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
