"""What all generated code shares: the only words of a policy in it are field names, checked and
quoted; every other value is passed in a table of constants and read as `K[i]`.

Used by the rule code and the outputs code (runtime/codegen.py) and the request reader's fast
path (runtime/request.py).
"""
from __future__ import annotations

import re

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def quoted(name: str) -> str:
    """A field name as a Python string literal; ValueError for anything else. The grammar only
    makes such names; this is checked again where they become code."""
    if not _FIELD_NAME.match(name):
        raise ValueError(f"not a field name: {name!r}")
    return repr(name)


class Constants:
    """A table of constants, read in generated code as `NAME[i]`, or as names `NAME_i` of the
    code's globals (`named`: one step to read rather than three, for code that reads many).
    Equal values written alike share a slot (`1.0` and `1.00` do not: they print differently)."""

    def __init__(self, name: str = "K", named: bool = False):
        self.name, self.named = name, named
        self.values: list = []
        self._slots: dict = {}

    def namespace(self) -> dict:
        """The globals the generated code reads its constants from."""
        if self.named:
            return {f"{self.name}_{slot}": value for slot, value in enumerate(self.values)}
        return {self.name: self.values}

    def add(self, value) -> str:
        key = None if isinstance(value, (list, dict, set)) else (type(value), value, str(value))
        slot = self._slots.get(key) if key is not None else None
        if slot is None:
            slot = self.reserve()
            self.values[slot] = value
            if key is not None:
                self._slots[key] = slot
        return f"{self.name}_{slot}" if self.named else f"{self.name}[{slot}]"

    def reserve(self) -> int:
        """A slot for a value that exists only once the code is compiled (in a table read as
        `NAME[i]`, not `named`)."""
        self.values.append(None)
        return len(self.values) - 1
