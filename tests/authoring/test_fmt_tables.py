"""`rpl fmt` lays a table out as a table: rows a line each, keys and values in aligned columns."""
from rplang.policy_lang.format import format_policy

WRITTEN = '''policy "t"
enum Category: camera, drone, light
request:
  category: Category
  seller: text
table restocking_rate by Category:percent
  camera: 15%
  drone:     15%
    otherwise: 0%  # the rest
table terms by text,Category: fee: money,   window: days
  "acme", camera: 1.00, 30 days
  "bigshop-international", drone: 12.50,7 days
  otherwise: 0.00, 14 days
let x = restocking_rate[ category ] + terms["a" , category].fee
'''

FORMATTED = '''policy "t"
enum Category: camera, drone, light

request:
  category:  Category
  seller:    text

table restocking_rate by Category: percent
  camera:     15%
  drone:      15%
  otherwise:  0%  # the rest

table terms by text, Category: fee: money, window: days
  "acme", camera:                  1.00,   30 days
  "bigshop-international", drone:  12.50,  7 days
  otherwise:                       0.00,   14 days

let x = restocking_rate[category] + terms["a", category].fee
'''


def test_a_table_is_aligned_in_columns():
    assert format_policy(WRITTEN) == FORMATTED


def test_formatting_a_table_again_changes_nothing():
    assert format_policy(FORMATTED) == FORMATTED


def test_a_table_from_a_file_keeps_its_rows_below():
    text = 'table fee by text: money from "sellers.csv"\n  otherwise: 0.00\n'
    assert format_policy(text) == 'table fee by text: money from "sellers.csv"\n  otherwise: 0.00\n'
