"""Table lookups in the verifier: an if-then-else over the rows, the `otherwise` row last. Known-true
properties are proven, known-false ones refuted by a request the runtime decides to break them
(conftest.verified); one key, several keys and columns, text keys, a CSV file."""
import pytest

from rplang.runtime import load_policy_text

from .conftest import status, verified

POLICY = '''
policy "tables"
version "1"
currency USD

enum Category: camera, drone, light
enum Region: east, west

request:
  category: Category
  region:   Region
  seller:   text
  price:    money
  day:      date

outcomes:
  refuse  "REFUSED" overrides all other rules
  approve "APPROVED"

table restocking_rate by Category: percent
  camera:     15%
  drone:      12.5%
  otherwise:  0%

table shipping_fee by Region, Category: money
  east, camera:  9.00
  east, drone:   12.00
  east, light:   3.00
  west, camera:  10.00
  west, drone:   14.00
  west, light:   4.00

table seller_terms by text: window: days, pays_shipping: boolean
  "acme":     30 days, true
  "bolt":     20 days, false
  otherwise:  14 days, false

rule restocking:
  cites "fee"
  when restocking_rate[category] > 0%
  then add round(price * restocking_rate[category]) to fee
  because "fee"

rule shipping:
  cites "shipping"
  when not seller_terms[seller].pays_shipping
  then add shipping_fee[region, category] to shipping
  because "shipping"

rule late:
  cites "window"
  when day > 2026-01-01 + seller_terms[seller].window
  then refuse
  because "late"

output outcome
output fee: money total
output shipping: money total
'''

CASES = [
    ("light_free", "category is light implies fee is 0.00", "proven"),
    ("drone_rate", "outcome is approve and category is drone and price is 1.00 implies fee is 0.13", "proven"),  # half up
    ("drone_rate_wrong", "outcome is approve and category is drone implies fee is round(price * 12%)", "refuted"),
    ("fee_at_most_15", "fee <= round(price * 15%)", "proven"),
    ("fee_at_most_12_wrong", "fee <= round(price * 12.5%)", "refuted"),
    ("shipping_by_both_keys", "outcome is approve and region is west and category is drone and seller is not \"acme\" "
     "implies shipping is 14.00", "proven"),
    ("shipping_at_most_14", "shipping <= 14.00", "proven"),
    ("shipping_below_14_wrong", "shipping < 14.00", "refuted"),
    ("acme_pays", "seller is \"acme\" implies shipping is 0.00", "proven"),
    ("nobody_pays_wrong", "outcome is approve implies shipping > 0.00", "refuted"),
    ("otherwise_window", "seller is not \"acme\" and seller is not \"bolt\" and day is 2026-01-16 "
     "implies outcome is refuse", "proven"),
    ("acme_window", "seller is \"acme\" and day <= 2026-01-31 implies outcome is approve", "proven"),
    ("bolt_window_wrong", "seller is \"bolt\" and day <= 2026-01-31 implies outcome is approve", "refuted"),
    ("lookup_in_property", "seller_terms[seller].window >= 14 days and restocking_rate[category] < 20%", "proven"),
]


@pytest.mark.parametrize("name, condition, expected", CASES, ids=[c[0] for c in CASES])
def test_lookup(name, condition, expected):
    assert status(POLICY + f"\nproperty {name}: {condition}\n", max_items=1) == {name: expected}


def test_a_counterexample_names_a_row_of_a_text_table():
    result = verified(POLICY + '\nproperty p: seller is "bolt" and day <= 2026-01-31 implies outcome is approve\n',
                      max_items=1)["p"]
    assert result.request["seller"] == "bolt" and result.request["day"] == "2026-01-22"


def test_a_table_from_a_csv_file(tmp_path):
    (tmp_path / "rates.csv").write_text("category,rate\ncamera,15%\ndrone,10%\nlight,0%\n", encoding="utf-8")
    text = POLICY.replace('''table restocking_rate by Category: percent
  camera:     15%
  drone:      12.5%
  otherwise:  0%''', 'table restocking_rate by Category: percent from "rates.csv"')
    path = tmp_path / "p.rpl"
    path.write_text(text + "\nproperty drone_10: outcome is approve and category is drone implies "
                    "fee is round(price * 10%)\nproperty drone_15_wrong: outcome is approve and category is drone "
                    "implies fee is round(price * 15%)\n", encoding="utf-8")
    from rplang.runtime import load_policy
    from rplang.verify import Bounds, verify_policy
    from rplang.verify.replay import holds

    policy = load_policy(path)
    results = {r.name: r for r in verify_policy(policy, Bounds(max_items=1))}
    assert {n: r.status for n, r in results.items()} == {"drone_10": "proven", "drone_15_wrong": "refuted"}
    (wrong,) = [p for p in policy.checked.properties if p.name == "drone_15_wrong"]
    assert not holds(policy, wrong, results["drone_15_wrong"].request)


def test_a_table_of_dates_and_enum_values():
    text = POLICY + '''
table season_end by Region: date
  east:  2026-03-31
  west:  2026-04-30

table carrier by Region: Category
  east:  camera
  west:  light

property east_ends_first: region is east implies season_end[region] < 2026-04-01
property west_is_light: carrier[region] is light implies region is west
property always_camera_wrong: carrier[region] is camera
'''
    assert status(text, max_items=1) == {"east_ends_first": "proven", "west_is_light": "proven",
                                         "always_camera_wrong": "refuted"}
    load_policy_text(text, "<t>")  # the runtime reads it too
