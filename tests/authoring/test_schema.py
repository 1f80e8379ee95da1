"""`rpl schema`: the request schema accepts what the request reader accepts, and nothing else."""
import copy
import json

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from rplang.compiler.schema import decision_schema, request_schema
from rplang.policy_lang.errors import RequestError
from rplang.cli import cli
from rplang.runtime import load_policy, load_policy_text
from tests.conftest import POLICIES

POLICY_NAMES = ["aputure", "electronics"]


@pytest.fixture(scope="module")
def compiled():
    return {name: load_policy(POLICIES / f"{name}.rpl") for name in POLICY_NAMES}


def _validator(schema: dict) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _requests(name: str) -> list[tuple[str, dict]]:
    folder = POLICIES / name / "requests"
    return [(p.name, json.loads(p.read_text())) for p in sorted(folder.glob("*.json")) if p.name != "expected.json"]


def _reader_accepts(policy, data) -> bool:
    try:
        policy.read_request(data)
    except RequestError:
        return False
    return True


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_bundled_request_validates(compiled, name):
    validator = _validator(request_schema(compiled[name].checked))
    requests = _requests(name)
    assert len(requests) > 20
    for file, data in requests:
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], file


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_bundled_decision_validates(compiled, name):
    validator = _validator(decision_schema(compiled[name].checked))
    for file, data in _requests(name):
        decision = compiled[name].decide(data).to_json()
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(decision)]
        assert errors == [], file


def _base() -> dict:
    return json.loads((POLICIES / "aputure" / "requests" / "00-semantics-example.json").read_text())


def _set(path, value):
    def change(data):
        *head, last = path
        for key in head:
            data = data[key]
        data[last] = value
    return change


def _drop(path):
    def change(data):
        *head, last = path
        for key in head:
            data = data[key]
        del data[last]
    return change


BAD = {
    "missing request_date": _drop(["request_date"]),
    "unknown field": _set(["refund_to"], "me"),
    "unknown field in a record": _set(["order", "coupon"], "X"),
    "misspelt enum value": _set(["kind"], "retrun"),
    "money as a JSON number": _set(["items", 0, "price"], 1890.0),
    "money with three decimals": _set(["items", 0, "price"], "1890.001"),
    "money with a comma": _set(["items", 0, "price"], "1,890.00"),
    "a negative amount": _set(["order", "shipping_paid"], "-1.00"),
    "money with 16 digits": _set(["items", 0, "price"], "1234567890123456"),
    "a date written another way": _set(["request_date"], "03/10/2026"),
    "a date that does not exist": _set(["request_date"], "2026-02-30"),
    "a date before 1900": _set(["order", "purchase_date"], "1899-12-31"),
    "null for a required field": _set(["order", "delivery_date"], None),
    "a number for a text": _set(["items", 0, "sku"], 42),
    "a string for a yes/no": _set(["items", 0, "free"], "false"),
    "a record that is a list": _set(["order"], []),
    "items that is an object": _set(["items"], {}),
    "an enum inside a list": _set(["items", 0, "marks"], ["crack", "chip"]),
    "a returned item without its condition": _drop(["items", 0, "condition"]),
    "a returned item with a null condition": _set(["items", 0, "condition"], None),
    "a returned item with a bad condition": _set(["items", 0, "condition"], "broken"),
    "a text longer than 10,000 characters": _set(["items", 0, "sku"], "x" * 10_001),
    "a request that is a list": lambda data: data.clear(),
}


@pytest.mark.parametrize("case", BAD, ids=list(BAD))
def test_bad_requests_do_not_validate_and_the_reader_refuses_them(compiled, case):
    policy = compiled["aputure"]
    validator = _validator(request_schema(policy.checked))
    data = _base()
    BAD[case](data)
    if case == "a request that is a list":
        data = []
    assert not validator.is_valid(data)
    assert not _reader_accepts(policy, data)


GOOD = {
    "a kept item's inspection facts are ignored, whatever they hold": _set(["items", 1, "condition"], 3),
    "an optional field may be null": _set(["received_date"], None),
    "an optional field may be missing": _drop(["received_date"]),
    "a field with a default may be missing": _drop(["kind"]),
    "a field with a default may be null": _set(["order", "shipping_paid"], None),
    "money without decimals": _set(["items", 0, "price"], "1890"),
    "money with one decimal": _set(["items", 0, "price"], "1890.5"),
}


@pytest.mark.parametrize("case", GOOD, ids=list(GOOD))
def test_what_the_reader_accepts_validates(compiled, case):
    policy = compiled["aputure"]
    data = _base()
    GOOD[case](data)
    assert _validator(request_schema(policy.checked)).is_valid(data)
    assert _reader_accepts(policy, data)


# Values put in place of each field in turn: the schema and the reader must agree on every one.
REPLACEMENTS = [None, True, False, 0, 7, -3, 1.5, "", "x", "12.50", "12", "-1.00", "2026-03-10",
                "2026-13-01", "0999-01-01", "3000-01-01", "15%", "return", "valid", "card", "new",
                "none", "crack", [], ["crack"], [1], {}, {"sku": "A"}]


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield prefix + (key,)
            yield from _paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield prefix + (index,)
            yield from _paths(inner, prefix + (index,))


@pytest.mark.parametrize("name,file", [(n, f) for n in POLICY_NAMES for f in
                                       ("00-semantics-example.json", "04-bought-nov-15-holiday-day-31-approved.json")
                                       if (POLICIES / n / "requests" / f).exists()])
def test_schema_and_reader_agree_on_every_change_of_one_field(compiled, name, file):
    policy = compiled[name]
    validator = _validator(request_schema(policy.checked))
    base = json.loads((POLICIES / name / "requests" / file).read_text())
    checked = 0
    for path in list(_paths(base)):
        for replacement in REPLACEMENTS + ["<drop>"]:
            data = copy.deepcopy(base)
            target = data
            for key in path[:-1]:
                target = target[key]
            if replacement == "<drop>":
                if isinstance(target, list):
                    continue
                del target[path[-1]]
            else:
                target[path[-1]] = copy.deepcopy(replacement)
            assert validator.is_valid(data) == _reader_accepts(policy, data), (path, replacement)
            checked += 1
    assert checked > 300


def test_present_when_is_expressed_with_if_then(compiled):
    item = request_schema(compiled["aputure"].checked)["$defs"]["Item"]
    (rule,) = item["allOf"]
    assert rule["if"] == {"properties": {"returned": {"const": True}}, "required": ["returned"]}
    assert "condition" in rule["then"]["required"]
    assert item["additionalProperties"] is False
    assert item["properties"]["condition"] == {"description": "condition; known when `returned` is true"}


def test_types_defaults_and_labels(compiled):
    schema = request_schema(compiled["aputure"].checked)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["request_date", "order", "items"]
    assert schema["properties"]["kind"]["default"] == "return"
    assert schema["properties"]["request_date"]["format"] == "date"
    assert schema["properties"]["request_date"]["description"] == "requested"
    order = schema["$defs"]["Order"]["properties"]
    assert order["shipping_paid"]["default"] == "0.00"
    assert order["shipping_paid"]["pattern"] == r"^[0-9]{1,15}(\.[0-9]{1,2})?$"
    assert schema["$defs"]["Kind"]["enum"] == ["return", "exchange"]
    electronics = request_schema(compiled["electronics"].checked)
    assert electronics["properties"]["used_return_label"]["default"] is False


def test_integer_and_percent_fields_as_the_reader_reads_them():
    policy = load_policy_text(
        'request:\n  count: integer\n  rate: optional percent\n'
        'outcomes:\n  ok "OK"\noutput outcome\n', "small.rpl")
    validator = _validator(request_schema(policy.checked))
    for data in [{"count": 3}, {"count": -3, "rate": "15%"}, {"count": 10**15 - 1, "rate": "2.5"},
                 {"count": 1, "rate": None}, {"count": 10**15}, {"count": True}, {"count": "3"},
                 {"count": 1, "rate": "1000%"}, {"count": 1, "rate": 15}, {}]:
        assert validator.is_valid(data) == _reader_accepts(policy, data), data


# ---- the command -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", POLICY_NAMES)
def test_schema_command(name):
    result = CliRunner().invoke(cli, ["schema", str(POLICIES / f"{name}.rpl")])
    assert result.exit_code == 0
    Draft202012Validator.check_schema(json.loads(result.stdout))
    result = CliRunner().invoke(cli, ["schema", "--decision", str(POLICIES / f"{name}.rpl")])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"].startswith("A decision of")
