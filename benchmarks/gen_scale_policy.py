"""Generate a policy with N rules: the general rules of a marketplace plus one rule per SKU, or
one rule per price band.

    python benchmarks/gen_scale_policy.py 10000 > /tmp/scale-10000.rpl
    python benchmarks/gen_scale_policy.py 10000 bands > /tmp/bands-10000.rpl

Each SKU rule charges its own restocking rate on that SKU when it comes back opened; a few
general rules (window, proof, condition) apply to every request. The SKU rules are what a
marketplace keeps one per product, so a decision must not scan them all. A band rule charges its
own handling fee on an item whose price falls in its band (`item.price >= 120.00 and item.price
< 120.50`): the same scale, found by a range of values rather than by one value.
"""
from __future__ import annotations

import random
import sys

HEADER = '''policy "Marketplace returns"
version "scale"
currency USD

clause window: "Returns are accepted within {window} of delivery."
clause sku_terms: "Some products carry their own restocking fee when returned opened."

parameter window = 30 days

enum Condition: sealed, opened, damaged
enum Category: electronics, apparel, home, toys

record Item:
  sku:        text
  category:   Category
  price:      money
  returned:   boolean
  condition:  Condition

request:
  request_date:   date
  delivery_date:  date
  items:          list of Item

let returned_items = each item in items where item.returned

outcomes:
  refuse            "REFUSED"           overrides all other rules
  approve_with_fee  "APPROVED WITH A FEE"
  approve           "APPROVED"

rule late:
  cites window
  when request_date > delivery_date + window
  then refuse
  because "requested {request_date}, after {delivery_date + window}"

rule damaged for each item in returned_items:
  cites window
  when item.condition is damaged
  then refuse
  because "{item.sku} came back damaged"

rule refund_item for each item in returned_items:
  cites window
  when item.condition is not damaged
  then add item.price to refund
  because "returned {item.sku}"

output outcome
output refund:          money total, at least 0.00
output restocking_fee:  money total
'''

SKU_RULE = '''
rule sku_{n} for each item in returned_items:
  cites sku_terms
  when item.sku is "SKU-{n:05d}" and item.condition is opened and item.price > {floor}.00
  then approve_with_fee
       add round(item.price * {rate}%) to restocking_fee
       subtract round(item.price * {rate}%) from refund
  because "{{item.sku}} opened: {rate}% restocking fee"
'''


BAND_RULE = '''
rule band_{n} for each item in returned_items:
  cites sku_terms
  when item.price >= {low} and item.price < {high} and item.condition is opened
  then approve_with_fee
       add {fee} to restocking_fee
       subtract {fee} from refund
  because "{{item.sku}} opened, priced from {low} to {high}: {fee} handling"
'''


def policy(rules: int, seed: int = 1, kind: str = "skus") -> str:
    rng = random.Random(seed)
    general = 3
    parts = [HEADER]
    for n in range(max(rules - general, 0)):
        if kind == "bands":  # bands of 0.05 from 5.00: 10,000 of them reach 505.00
            low = 500 + 5 * n
            parts.append(BAND_RULE.format(n=n, low=f"{low // 100}.{low % 100:02d}",
                                          high=f"{(low + 5) // 100}.{(low + 5) % 100:02d}",
                                          fee=f"{rng.choice([1, 2, 3, 5])}.00"))
        else:
            parts.append(SKU_RULE.format(n=n, rate=rng.choice([5, 10, 15, 20]), floor=rng.choice([0, 20, 50])))
    return "".join(parts)


def requests(count: int, skus: int, seed: int = 2) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        items = [{"sku": f"SKU-{rng.randrange(max(skus, 1)):05d}", "category": rng.choice(["electronics", "home"]),
                  "price": f"{rng.randint(5, 500)}.{rng.randint(0, 99):02d}", "returned": rng.random() < 0.8,
                  "condition": rng.choice(["sealed", "opened", "opened", "damaged"] if rng.random() < 0.1
                                          else ["sealed", "opened"])}
                 for _ in range(rng.randint(1, 4))]
        out.append({"request_date": "2026-03-20", "delivery_date": f"2026-03-{rng.randint(1, 19):02d}",
                    "items": items})
    return out


if __name__ == "__main__":
    sys.stdout.write(policy(int(sys.argv[1]) if len(sys.argv) > 1 else 100,
                            kind=sys.argv[2] if len(sys.argv) > 2 else "skus"))
