"""JSON bytes for the wire: the encoder of `rpl eval --jsonl` (orjson, with the standard library
for what orjson refuses).

A decision's JSON holds only strings, numbers, booleans, None, lists and objects, so both encoders
give the same document `rpl eval` prints; orjson only does it faster.
"""
from __future__ import annotations

from rplang.stream import dumps

__all__ = ["dumps"]
