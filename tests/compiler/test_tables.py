"""Tables: the golden cases of mistakes (one a file, the expected diagnostic beside it, as in
tests/diagnostics), and the checks of a table's rows, its coverage and its lookups."""
import re
from pathlib import Path

import pytest

from rplang.compiler import compile_policy
from rplang.policy_lang.errors import PolicyError
from rplang.verify.static import check_policy_text

CASES = sorted((Path(__file__).parent / "tables").glob("*.rpl"))
EXPECTED = re.compile(r"#\s*(error|warning):\s*(RPL\d{3})\s*@\s*(\d+):(\d+)")


def diagnostics_of(case: Path):
    return check_policy_text(case.read_text(encoding="utf-8"), f"tables/{case.name}")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_reported_where_the_case_says(case):
    expected = sorted((m[0], m[1], int(m[2]), int(m[3])) for m in EXPECTED.findall(case.read_text(encoding="utf-8")))
    assert expected, f"{case.name} says nothing about what to expect"
    found = sorted((d.severity, d.code, d.span.line, d.span.column) for d in diagnostics_of(case))
    assert found == expected
    for d in diagnostics_of(case):
        assert d.hint and not d.message.endswith(".")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_rendered(case, snapshot):
    assert "\n\n".join(d.render() for d in diagnostics_of(case)) == snapshot


HEAD = """
enum Category: camera, drone
enum Region: east, west
request:
  category: Category
  region: Region
  seller: text
outcomes:
  approve "APPROVED"
"""


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as error:
        compile_policy(HEAD + text)
    return [f"{d.code}: {d.message}" for d in error.value.diagnostics]


def test_every_combination_of_enum_keys_must_have_a_row():
    assert problems("table t by Category, Region: integer\n  camera, east: 1\n  drone, west: 2\n") == [
        "RPL073: table `t` has no row for camera, west; drone, east"]


def test_every_combination_covered_needs_no_otherwise():
    graph = compile_policy(HEAD + "table t by Category, Region: integer\n  camera, east: 1\n  camera, west: 2\n"
                           "  drone, east: 3\n  drone, west: 4\nrule r:\n  when t[category, region] > 2\n  then approve\n")
    assert graph is not None


def test_a_row_with_too_few_values_or_keys():
    assert problems("table t by Category: fee: money, window: days\n  camera: 1.00\n  otherwise: 0.00, 3 days\n") == [
        "RPL071: this row has 1 value, but table `t` has 2"]
    assert problems("table t by Category, Region: integer\n  camera: 1\n  otherwise: 0\n") == [
        "RPL071: this row has 1 key, but table `t` is looked up by 2"]


def test_enum_values_as_cells_and_a_wrong_one():
    assert problems("table t by Category: Region\n  camera: east\n  drone: north\n") == [
        "RPL071: `north` is not a Region value"]


def test_two_otherwise_rows():
    assert problems("table t by text: integer\n  otherwise: 1\n  otherwise: 2\n") == [
        "RPL072: table `t` has two `otherwise` rows"]


def test_a_lookup_with_the_wrong_number_of_keys():
    assert problems("table t by Category: integer\n  otherwise: 1\nrule r:\n  when t[category, region] > 0\n"
                    "  then approve\n") == ["RPL074: table `t` is looked up by 1 key (Category), but this gives 2"]


def test_a_column_that_does_not_exist():
    assert problems("table t by Category: fee: money, window: days\n  otherwise: 0.00, 3 days\nrule r:\n"
                    "  when t[category].windw > 1 days\n  then approve\n") == [
        "RPL075: table `t` has no column `windw`"]


def test_a_table_and_a_request_field_of_one_name():
    assert problems("table seller by text: integer\n  otherwise: 1\n") == [
        "RPL010: `seller` is already a field of the request"]


def test_a_table_of_a_broken_type_reports_nothing_more():
    assert problems("table t by Category: percnt\n  camera: 15%\nrule r:\n  when t[category] > 1\n  then approve\n") == [
        "RPL070: unknown type `percnt` for a table's values"]


def test_a_table_called_like_a_function_or_named_alone():
    with pytest.raises(PolicyError) as error:
        compile_policy(HEAD + "table t by Category: integer\n  otherwise: 1\nlet a = t(category)\nlet b = t\n")
    assert [d.hint for d in error.value.diagnostics] == [
        "`t` is a table: look it up with brackets, `t[category]`",
        "`t` is a table: look a value up by its keys, like `t[...]`"]


def test_a_table_never_read_and_an_otherwise_row_no_key_reaches():
    text = HEAD + ("table unused by text: integer\n  otherwise: 1\n"
                   "table full by Region: integer\n  east: 1\n  west: 2\n  otherwise: 3\n"
                   "rule r:\n  cites \"r\"\n  when full[region] > 1\n  then approve\n")
    warnings = [(d.code, d.message) for d in check_policy_text(text) if d.code == "RPL160"]
    assert warnings == [("RPL160", "the table `unused` is never looked up"),
                        ("RPL160", "the `otherwise` row of `full` is never used: a row names every key")]
