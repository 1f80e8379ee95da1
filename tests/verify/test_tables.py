"""A property that reads a table is reported as not checked, never proven by leaving the table out."""
from .conftest import verified

POLICY = '''
policy "tables"
enum Category: camera, drone
request:
  category: Category
  price:    money
outcomes:
  approve "APPROVED"
output fee: money total
table rate by Category: percent
  camera:  15%
  drone:   5%
rule fee:
  cites "fee"
  when price > 0.00
  then approve add round(price * rate[category]) to fee
  because "fee"
property fee_small: fee <= price
'''


def test_a_property_over_a_table_cannot_be_checked():
    (result,) = verified(POLICY).values()
    assert result.status == "unsupported"
    assert result.message == "property fee_small cannot be checked: the table `rate` is not supported"
