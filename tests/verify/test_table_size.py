"""Tables in the verifier: a lookup is a chain of tests, one per row; each counterexample is
replayed through the runtime (conftest.verified). A table too large for that is reported as not
checked, never proven by leaving it out."""
from .conftest import status, verified

POLICY = '''
policy "tables"
enum Category: camera, drone, light
request:
  category: Category
  seller:   text
  price:    money
outcomes:
  refuse  "REFUSED" overrides all other rules
  approve "APPROVED"
output fee: money total
output outcome
table rate by Category: percent
  camera:  15%
  drone:   5%
  light:   0%
table seller_fee by text, Category: fee: money, blocked: boolean
  "acme", camera:  2.00, false
  "shady", drone:  0.00, true
  otherwise:       1.00, false
rule blocked:
  cites "blocked"
  when seller_fee[seller, category].blocked
  then refuse
  because "blocked"
rule fee:
  cites "fee"
  when price > 0.00 and price < 1000.00
  then approve add round(price * rate[category]) + seller_fee[seller, category].fee to fee
  because "fee"
PROPERTIES
'''


def test_properties_over_tables_are_proven_or_refuted():
    text = POLICY.replace("PROPERTIES", "\n".join([
        "property fee_bounded: fee <= round(price * 15%) + 2.00",
        "property light_is_cheap: category is light implies fee <= 2.00",
        "property never_blocked: outcome is approve or price <= 0.00 or price >= 1000.00",
        "property fee_below_a_dollar: fee <= 1.00",
    ]))
    assert status(text) == {"fee_bounded": "proven", "light_is_cheap": "proven",
                            "never_blocked": "refuted", "fee_below_a_dollar": "refuted"}
    refuted = verified(text)["never_blocked"].request
    assert (refuted["seller"], refuted["category"]) == ("shady", "drone")


def test_a_table_too_large_cannot_be_checked():
    rows = "\n".join(f'  "s{i}", camera:  1.00, false' for i in range(501))
    text = POLICY.replace('  "acme", camera:  2.00, false', rows).replace(
        "PROPERTIES", "property fee_small: fee <= price + 2.00")
    (result,) = verified(text).values()
    assert result.status == "unsupported"
    assert result.message == ("property fee_small cannot be checked: the table `seller_fee` of more than 500 rows "
                              "is not supported")
