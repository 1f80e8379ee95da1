"""The one reader of a request's JSON text: the API (`decide_json`), `rpl eval`, `rpl eval --jsonl`,
`rpl diff` and the policy tests all read requests here, so the same bytes give the same request,
or the same error, wherever they are read.

- bytes must be UTF-8 (strictly: not the encoded surrogates `json.loads(bytes)` would take);
- a leading byte order mark is ignored (RFC 8259 allows it), in bytes and in text alike;
- a key given twice in one object is refused with its path: which value was meant is ambiguous;
- a `\\uD800`-style escape that is not half of a pair is refused with its path: it is not a
  character, and no output could print it;
- the size of a request is capped (`limits.MAX_REQUEST_BYTES`, or the caller's cap) before it
  is parsed, and so is its nesting (`limits.MAX_JSON_DEPTH`): how deep a JSON reader goes before
  it gives up depends on the stack it starts from, so the same line could be read in one place
  and refused in another.
"""
from __future__ import annotations

import json
import re
import sys
import threading

import orjson

from rplang.policy_lang import limits
from rplang.policy_lang.errors import RequestError, RequestProblem

_BOM = "\ufeff"
_BOM_BYTES = _BOM.encode("utf-8")
# a surrogate written as an escape: the only way one gets into parsed JSON text
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_request_json(data: str | bytes, max_bytes: int = limits.MAX_REQUEST_BYTES) -> object:
    """A request's JSON text (or its UTF-8 bytes) as data; anything else is a RequestError."""
    size = len(data) if isinstance(data, bytes) or data.isascii() else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise _error("$", f"the request is {size:,} bytes; the limit is {max_bytes:,} bytes")
    untried = True  # orjson's reading not yet tried (and found unsure) on these bytes
    if isinstance(data, bytes):
        # orjson reads the bytes themselves, when the reading below would come to orjson's too:
        # decoding first, and counting marks in text, cost as much as orjson's reading. Nesting
        # needs no count here: orjson writes 254 levels, fewer than the limit, and what it cannot
        # write again is read below
        if b"\\" not in data and not data.startswith(_BOM_BYTES):
            value = _plain_json(data)
            if value is not _UNSURE:
                return value
            untried = False  # their text would be as unsure: the standard reader's, after the checks
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _error("$", f"not valid UTF-8: {error.reason} at byte {error.start}") from None
    else:
        text = data
    if text.startswith(_BOM):
        text = text[1:]
    if text.count("[") + text.count("{") > limits.MAX_JSON_DEPTH and _depth(text) > limits.MAX_JSON_DEPTH:
        raise _error("$", "not valid JSON: nested too deeply")
    if untried and "\\" not in text:  # orjson's reading, in a fraction of the time, when it has no doubt
        value = _plain_json(text)
        if value is not _UNSURE:
            return value
    decoding = _decoding
    decoding.duplicated = False
    try:
        value = decoding.decode(text)
    except RecursionError:
        raise _error("$", "not valid JSON: nested too deeply") from None
    except json.JSONDecodeError as error:
        raise _error("$", f"not valid JSON: {error}") from None
    except ValueError:  # Python's limit on the digits of an integer, whose message says to raise it
        raise _error("$", f"not valid JSON: {_too_many_digits(text)}") from None
    if decoding.duplicated or ("\\u" in text and _SURROGATE_ESCAPE.search(text)):
        problems = _problems(value)
        if problems:
            raise RequestError(problems[:limits.MAX_PROBLEMS])
    return value


def _too_many_digits(text: str) -> str:
    """Where an integer is longer than Python reads (`sys.get_int_max_str_digits`), as the JSON
    reader says where its errors are."""
    most = sys.get_int_max_str_digits()
    for found in _NUMBERS.finditer(text):
        if found.group()[0] != '"' and len(found.group()) > most:
            at = found.start()
            line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
            return (f"a number of {len(found.group()):,} digits, more than {most:,}: "
                    f"line {line} column {column} (char {at})")
    return f"a number of more than {most:,} digits"


_NUMBERS = re.compile(r'"(?:[^"\\]|\\.)*"|\d+')


def _depth(text: str) -> int:
    """How deep arrays and objects nest in a JSON text, brackets within quoted text not counted."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_QUOTED.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_UNSURE = object()
_TWO_SPACES = b'{\n  "'


def _plain_json(text: str | bytes) -> object:
    """Text (or UTF-8 bytes) without a backslash as orjson reads it, or _UNSURE where the
    standard reader must read it: when orjson refuses it or cannot write it again (the standard
    reader then says why, in its words), when bytes are not strictly UTF-8 (it says where), when
    a key may be given twice (orjson keeps the last value without a word), and when an integer
    was wider than 64 bits (orjson reads it as a float, the standard reader keeps every digit).

    Without escapes, the value written again has every `:` of the text, a key's or within a
    text, unless a key given twice was dropped with its `:`; and every `.`, `e` and `E`, unless
    an integer became a float (always written with one of them). Bytes written again exactly
    as given (compact JSON, as most JSON lines are) need no counting: nothing was dropped or
    changed, and orjson writes only UTF-8."""
    try:
        value = orjson.loads(text)
        # written with two spaces of indentation, as `JSON.stringify(request, null, 2)` and
        # `json.dumps(request, indent=2)` write it: written again so, nothing was dropped or
        # changed (tried first: such bytes are never compact, and writing them compact is a waste)
        if isinstance(text, bytes) and text.startswith(_TWO_SPACES) \
                and orjson.dumps(value, option=orjson.OPT_INDENT_2) == text:
            return value
        again = orjson.dumps(value)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):  # the latter: nested deeper than it writes
        return _UNSURE
    if isinstance(text, bytes):
        if again == text:
            return value
        try:  # a mark counted in UTF-8 bytes is counted in their text: no multi-byte sequence has one
            text.decode("utf-8")
        except UnicodeDecodeError:
            return _UNSURE
        marks = _MARK_BYTES
    else:
        marks = _MARKS
    for mark, counted in marks:
        if again.count(counted) != text.count(mark):
            return _UNSURE
    return value


_MARKS = tuple((mark, mark.encode()) for mark in ":.eE")
_MARK_BYTES = tuple((mark.encode(), mark.encode()) for mark in ":.eE")


class _Decoding(threading.local):
    """Each thread's JSON decoder, made once (`json.loads` with a hook makes one a call), and
    whether the text it last decoded gave a key twice in one object."""

    def __init__(self):
        self.duplicated = False
        self.decode = json.JSONDecoder(object_pairs_hook=self._pairs).decode

    def _pairs(self, items: list) -> dict:
        value = dict(items)
        if len(value) != len(items):
            value = _Duplicated(value)
            value.twice = _twice(items)
            self.duplicated = True
        return value


_decoding = _Decoding()


class _Duplicated(dict):
    """An object in which a key was given twice (`twice`: those keys, in order)."""

    twice: list


def _twice(items: list) -> list:
    seen, twice = set(), []
    for key, _ in items:
        if key in seen and key not in twice:
            twice.append(key)
        seen.add(key)
    return twice


def _problems(value: object) -> list[RequestProblem]:
    """Every key given twice and every lone surrogate, with its path (an explicit stack: the
    value may be nested as deep as the JSON parser allows)."""
    problems = []
    stack = [("$", value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key in getattr(node, "twice", ()):
                problems.append(RequestProblem(path, f"the key `{_shown(key)}` is given twice"))
            children = []
            for key, child in node.items():
                found = _SURROGATE.search(key)
                if found:
                    problems.append(RequestProblem(
                        path, f"a lone surrogate `{_escaped(found.group())}` in a key: not a Unicode character"))
                children.append((f"{path}.{_shown(key)}", child))
            stack.extend(reversed(children))
        elif isinstance(node, list):
            stack.extend(reversed([(f"{path}[{i}]", child) for i, child in enumerate(node)]))
        elif isinstance(node, str):
            found = _SURROGATE.search(node)
            if found:
                problems.append(RequestProblem(
                    path, f"a lone surrogate `{_escaped(found.group())}`: not a Unicode character"))
    return problems


def _escaped(character: str) -> str:
    return f"\\u{ord(character):04x}"


def _shown(key: str) -> str:
    """A key as it can be printed: a lone surrogate as its escape."""
    return _SURROGATE.sub(lambda m: _escaped(m.group()), key)


def _error(path: str, message: str) -> RequestError:
    return RequestError([RequestProblem(path, message)])
