"""One reader of a request's JSON text for the API and the CLI (issue 15, 11): the same bytes
give the same request, or the same error, wherever they are read."""
from __future__ import annotations

import json
import math

import orjson
import pytest

from rplang.policy_lang import limits
from rplang.policy_lang.errors import RequestError
from rplang.runtime.request_text import read_request_json
from tests.cli.conftest import run
from tests.conftest import APUTURE, APUTURE_REQUESTS

EXAMPLE = (APUTURE_REQUESTS / "00-semantics-example.json").read_bytes()


def _problems(data) -> list[tuple[str, str]]:
    with pytest.raises(RequestError) as caught:
        read_request_json(data)
    return [(p.path, p.message) for p in caught.value.problems]


def test_a_leading_byte_order_mark_is_ignored_in_bytes_and_in_text():
    assert read_request_json(b"\xef\xbb\xbf{\"a\": 1}") == {"a": 1}
    assert read_request_json("\ufeff{\"a\": 1}") == {"a": 1}


def test_encoded_surrogates_are_not_utf8():
    ((path, message),) = _problems(b'{"a": "\xed\xa0\x80"}')  # CESU-8: json.loads(bytes) takes it
    assert path == "$" and message.startswith("not valid UTF-8") and "byte 7" in message


def test_other_encodings_are_not_utf8():
    ((path, message),) = _problems('{"a": "b"}'.encode("utf-16"))
    assert message.startswith("not valid UTF-8")


def test_a_duplicated_key_is_refused_with_its_path():
    assert _problems(b'{"a": 1, "b": {"c": [1, {"d": 1, "d": 2}]}, "a": 3}') == [
        ("$", "the key `a` is given twice"),
        ("$.b.c[1]", "the key `d` is given twice"),
    ]


def test_a_lone_surrogate_escape_is_refused_with_its_path():
    assert _problems('{"items": [{"sku": "A\\ud800"}]}') == [
        ("$.items[0].sku", "a lone surrogate `\\ud800`: not a Unicode character")]
    assert _problems('{"\\udc00": 1}') == [("$", "a lone surrogate `\\udc00` in a key: not a Unicode character")]
    assert read_request_json('{"a": "\\ud83d\\ude00"}') == {"a": "\U0001F600"}


def test_the_size_of_a_request_is_capped():
    with pytest.raises(RequestError) as caught:
        read_request_json(b'{"a": "' + b"x" * 100 + b'"}', max_bytes=50)
    assert caught.value.problems[0].message == "the request is 109 bytes; the limit is 50 bytes"


def test_an_integer_too_long_to_read_is_refused_with_its_place():
    """Python's own message said to call `sys.set_int_max_str_digits()`, and not where."""
    text = '{"sku": "' + "7" * 5000 + '",\n "n": ' + "1" * 5000 + "}"
    for data in (text, text.encode()):
        assert _problems(data) == [("$", "not valid JSON: a number of 5,000 digits, more than 4,300: "
                                         "line 2 column 7 (char 5018)")]


def test_deep_nesting_is_a_request_error():
    ((path, message),) = _problems(b"[" * 100_000 + b"]" * 100_000)
    assert path == "$" and "nested" in message


INPUTS = [
    b"\xef\xbb\xbf" + EXAMPLE,
    EXAMPLE.replace(b'"kind"', b'"kind": "return", "kind"', 1),
    EXAMPLE.replace(b'"LS-600D-PRO"', b'"LS-600D-PRO\xed\xa0\x80"', 1),
    EXAMPLE.replace(b'"LS-600D-PRO"', b'"LS-600D-PRO\\udfff"', 1),
    EXAMPLE.replace(b'"LS-600D-PRO"', b'"LS-600D-PRO\xff"', 1),
    EXAMPLE,
]


@pytest.mark.parametrize("data", INPUTS, ids=range(len(INPUTS)))
def test_the_api_and_the_cli_read_the_same_bytes_alike(data, aputure):
    try:
        expected = {"outputs": aputure.decide_json(data).outputs_json()}
    except RequestError as error:
        expected = {"error": error.to_json()}
    line = b" ".join(data.splitlines())
    result = run("eval", APUTURE, "--jsonl", "-", "--outputs-only", input=line + b"\n")
    (got,) = [json.loads(x) for x in result.out.splitlines()]
    if "error" in got:
        del got["error"]["line"]
    assert got == expected


# Text without escapes is read by orjson, and by the standard reader whenever orjson's reading
# could differ: the same requests and the same errors either way.
@pytest.mark.parametrize("text", [
    '{"a": 123456789012345678901234567890}',  # wider than 64 bits: orjson reads a float
    '{"a": 18446744073709551616, "b": -9223372036854775809}',
    '{"a": 18446744073709551615, "b": -9223372036854775808}',
    '{"a": 1.50, "b": 1E5, "c": -0, "d": 1e400, "e": true, "f": null}',
    '{ "a" : [ 1 , { "b" : "x:y. eE" } ] , "c" : "12:00" }',
    '{"a": "é€😀", "b": ["", "\u00e9"]}',
    # compact, as orjson writes them again byte for byte: read without counting marks
    '{"a":123456789012345678901234567890}',
    '{"a":18446744073709551615,"b":-9223372036854775808}',
    '{"a":1.5,"b":100000.0,"c":0,"e":true,"f":null,"g":[1,{"b":"x:y. eE"}]}',
    '{"a":"é€😀","b":["","é"]}',
])
def test_plain_text_is_read_as_the_standard_reader_reads_it(text):
    value = read_request_json(text.encode("utf-8"))
    assert value == json.loads(text)
    assert [type(v) for v in value.values()] == [type(v) for v in json.loads(text).values()]


@pytest.mark.parametrize("text", [
    '{"a": "x:y", "a": "z"}',  # the `:` within the text dropped too
    '{"a": {"b": 1, "b": {"c": 2}}}',
    '{"k": 1, "k": 1}',
    '{"a":"x:y","a":"z"}',  # compact
    '{"k":1,"k":1}',
])
def test_a_key_given_twice_is_refused_in_text_without_escapes(text):
    assert [message for _, message in _problems(text.encode())] in (
        ["the key `a` is given twice"], ["the key `b` is given twice"], ["the key `k` is given twice"])


@pytest.mark.parametrize("text", ['{"a": 1,}', '{"a": "\t"}', "[1, 2", '{"a": 01}'])
def test_text_orjson_refuses_gets_the_standard_readers_error(text):
    with pytest.raises(ValueError) as caught:
        json.loads(text)
    assert _problems(text.encode()) == [("$", f"not valid JSON: {caught.value}")]


def test_nan_which_orjson_refuses_is_read_as_the_standard_reader_reads_it():
    assert math.isnan(read_request_json(b'{"a": NaN}')["a"])


def test_nesting_orjson_reads_but_cannot_write_again_is_the_standard_readers():
    text = "[" * limits.MAX_JSON_DEPTH + "]" * limits.MAX_JSON_DEPTH  # orjson reads 1,024 levels and writes 254
    assert read_request_json(text.encode()) == json.loads(text)


def _at_stack_depth(frames: int, call):
    """`call()` run `frames` Python calls deeper than here."""
    return call() if frames == 0 else _at_stack_depth(frames - 1, call)


@pytest.mark.parametrize("nested", ["[" * 1000 + "]" * 1000, '{"a":' * 600 + "1" + "}" * 600,
                                    "[" * 256 + "]" * 256])
def test_json_nested_past_the_limit_is_refused_however_deep_the_stack_it_is_read_from(nested):
    # a reader's own limit counts the frames already on the stack: at 1,000 levels the same line
    # was read in one place and refused in another
    for frames in (0, 300, 600):
        assert _at_stack_depth(frames, lambda: _problems(nested)) == [("$", "not valid JSON: nested too deeply")]


def test_json_nested_to_the_limit_is_read_and_brackets_in_text_do_not_count():
    nested = "[" * limits.MAX_JSON_DEPTH + "]" * limits.MAX_JSON_DEPTH
    value = read_request_json(nested)
    for _ in range(limits.MAX_JSON_DEPTH - 1):
        (value,) = value
    assert value == []
    brackets = '{"a": "' + "[" * 1000 + '", "b": "\\"' + "{" * 1000 + '"}'
    assert read_request_json(brackets) == {"a": "[" * 1000, "b": '"' + "{" * 1000}


def test_compact_bytes_that_are_not_utf8_get_the_decoders_error():
    ((path, message),) = _problems(b'{"a":"\xed\xa0\x80"}')
    assert path == "$" and message == "not valid UTF-8: invalid continuation byte at byte 6"
    ((path, message),) = _problems(b'{"a":"\xe9"}')
    assert message == "not valid UTF-8: invalid continuation byte at byte 6"


@pytest.mark.parametrize("depth", [limits.MAX_JSON_DEPTH - 1, limits.MAX_JSON_DEPTH, limits.MAX_JSON_DEPTH + 1])
def test_compact_bytes_nested_past_the_limit_are_refused(depth):
    # the bytes are not counted for nesting: what orjson can write again is within the limit
    for text in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        if depth > limits.MAX_JSON_DEPTH:
            assert _problems(text.encode()) == [("$", "not valid JSON: nested too deeply")]
        else:
            assert read_request_json(text.encode()) == json.loads(text)


@pytest.mark.parametrize("value", [
    {"a": "x:y", "b": [1, 2.5, {"c": None}], "d": {}, "e": [], "f": "é€😀"},
    {"a": 18446744073709551615, "b": 1e300, "c": True},
])
def test_requests_written_with_two_spaces_are_read_as_the_standard_reader_reads_them(value):
    for text in (json.dumps(value, indent=2, ensure_ascii=False), orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()):
        assert text.startswith('{\n  "')
        read = read_request_json(text.encode("utf-8"))
        assert read == json.loads(text)
        assert [type(v) for v in read.values()] == [type(v) for v in json.loads(text).values()]


@pytest.mark.parametrize("text", [
    '{\n  "k": 1,\n  "k": 1\n}',
    '{\n  "a": {\n    "b": 1,\n    "b": 1\n  }\n}',
])
def test_a_key_given_twice_is_refused_in_text_written_with_two_spaces(text):
    assert [message for _, message in _problems(text.encode())] in (
        ["the key `k` is given twice"], ["the key `b` is given twice"])


def test_a_wide_integer_written_with_two_spaces_keeps_its_digits():
    assert read_request_json(b'{\n  "n": 123456789012345678901234567890\n}') == {"n": 123456789012345678901234567890}
