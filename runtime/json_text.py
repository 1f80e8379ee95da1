"""Decision JSON written as text by generated code, exactly as orjson writes the same values.

A decision's JSON (`Decision.to_json_bytes`) is mostly constant: a rule's name, clause and
citation, a fact's text. Generated code writes those parts once, encoded here when it is
generated, and fills in the values a decision found; `json_text` writes each such value as
`orjson.dumps` would, so that the bytes are those of `orjson.dumps(decision.to_json())`.
"""
from __future__ import annotations

import orjson


def json_text(value: object) -> str:
    """`value` as orjson writes it, as text. A text with nothing to escape (no quote, backslash
    or character that is not printable) is written in place, as orjson writes it; anything else
    is orjson's to write, which raises TypeError on what it cannot (a text with lone surrogates,
    an integer wider than 64 bits, a value that is not JSON) as `orjson.dumps` of the whole would."""
    if value.__class__ is str and '"' not in value and "\\" not in value and value.isprintable():
        return f'"{value}"'
    return orjson.dumps(value).decode()


def constant_json(value: object) -> str:
    """A constant part of the JSON, written once when the code is generated."""
    return orjson.dumps(value).decode()


def members_json(values: dict) -> str:
    """The members of a JSON object whose values are JSON text already (`"key":value,...`)."""
    return ",".join([json_text(k) + ":" + v for k, v in values.items()])


def escaped_text(text: str) -> str:
    """A text as JSON writes it between its quotes (JSON escapes character by character, so that
    the parts of a sentence may be escaped apart)."""
    return orjson.dumps(text).decode()[1:-1]
