"""Tables as written: the declaration and its rows, lookups, and the syntax errors people make."""
from decimal import Decimal

import pytest

from rplang.policy_lang import ast, parse_policy
from rplang.policy_lang.errors import PolicyError

HEAD = "enum Category: camera, drone\nrequest:\n  category: Category\n  table: text\n  by: text\n"


def test_a_table_its_columns_its_rows_and_a_lookup():
    policy = parse_policy(HEAD + 'table fees by text, Category: fee: money, window: days from "fees.csv"\n'
                                 '  "acme", camera: 1.00, 3 days\n  otherwise: 0.00, 14 days\n'
                                 'let x = fees[table, category].fee + fees[by, camera].fee\n')
    table = policy.declarations[2]
    assert table == ast.Table(
        "fees", (ast.NamedType("text"), ast.NamedType("Category")),
        (ast.TableColumn("fee", ast.NamedType("money")), ast.TableColumn("window", ast.NamedType("days"))),
        "fees.csv",
        (ast.TableRow((ast.Literal("text", "acme"), ast.Name("camera")),
                      (ast.Literal("money", Decimal("1.00")), ast.Literal("duration", 3))),
         ast.TableRow(None, (ast.Literal("money", Decimal("0.00")), ast.Literal("duration", 14)))))
    let = policy.declarations[3]
    assert let.value.left == ast.Field(ast.Lookup("fees", (ast.Name("table"), ast.Name("category"))), "fee")


def test_fields_called_table_by_and_otherwise_still_parse():
    policy = parse_policy("request:\n  table: text\n  by: text\n  otherwise: boolean\nlet x = table\n")
    assert [f.name for f in policy.declarations[0].fields] == ["table", "by", "otherwise"]


@pytest.mark.parametrize("row, message, hint", [
    ("  camera 15%", "missing `:` after `camera`", "write `camera:`"),
    ("  otherwise 0%", "missing `:` after `otherwise`", "write `otherwise:`"),
])
def test_a_row_without_its_colon(row, message, hint):
    with pytest.raises(PolicyError) as error:
        parse_policy(HEAD + "table rate by Category: percent\n" + row + "\n")
    (d,) = error.value.diagnostics
    assert (d.message, d.hint) == (message, hint)
