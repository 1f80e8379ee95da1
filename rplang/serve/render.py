"""JSON bytes for the wire: orjson, with the standard library for what orjson refuses.

A decision's JSON holds only strings, numbers, booleans, None, lists and objects, so both encoders
give the same document `rpl eval` prints; orjson only does it faster.
"""
from __future__ import annotations

import json

import orjson

_standard = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def dumps(data: object) -> bytes:
    try:
        return orjson.dumps(data)
    except TypeError:  # an integer wider than 64 bits, which JSON allows and orjson does not
        return _standard(data).encode("utf-8")
