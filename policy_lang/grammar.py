"""The grammar (`rpl.lark`), loaded once: Lark's LALR tables built, or read back from the user's
cache, and its single-child rules made cheaper to build."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from lark import Lark
from lark.parse_tree_builder import ExpandSingleChild, PropagatePositions

GRAMMAR = Path(__file__).with_name("rpl.lark")
# The grammar's words (`true`, `not`, `each`): never a name a hole or an editor may offer.
KEYWORDS = frozenset(re.findall(r'"([A-Za-z_]+)"', GRAMMAR.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The parser of `rpl.lark`, for a whole policy (`start="policy"`) or an expression (`"expr"`)."""
    grammar = GRAMMAR.read_text(encoding="utf-8")
    lark = _cached_tables(grammar)
    if lark is None:
        lark = Lark(grammar, parser="lalr", start=["policy", "expr"], propagate_positions=True,
                    maybe_placeholders=True)
        _store_tables(grammar, lark)
    _skip_unit_positions(lark)
    return lark


class _UnitPositions:
    """Lark's positions for a `?rule`, skipped when the rule matched one child, which it returns
    as it is: that child's positions are already the rule's. Each operand passes through ten
    such rules (`expr` down to `atom`), and recomputing them was a fifth of the parse."""

    __slots__ = ("positions",)

    def __init__(self, positions: PropagatePositions):
        self.positions = positions

    def __call__(self, children):
        if len(children) == 1:
            return children[0]
        return self.positions(children)


def _skip_unit_positions(lark: Lark) -> None:
    """Wrap the callbacks of the `?rules` whose children reach `ExpandSingleChild` unfiltered.

    The parser holds this same dict of callbacks. Should a Lark version build them differently,
    nothing matches here and Lark's own callbacks stay: slower, never different.
    """
    callbacks = getattr(lark, "_callbacks", None)
    if not isinstance(callbacks, dict):
        return
    for rule, callback in callbacks.items():
        if type(callback) is PropagatePositions and callback.node_filter is None \
                and type(callback.node_builder) is ExpandSingleChild:
            callbacks[rule] = _UnitPositions(callback)


# Building the parse tables takes about 0.4 s; Lark saves them as a pickle, kept in the user's
# cache and signed there (`user_cache`): read back only if the signature holds.

def _tables_name(grammar: str) -> str:
    import hashlib
    import lark

    return f"grammar-{hashlib.sha256((lark.__version__ + grammar).encode('utf-8')).hexdigest()}"


def _cached_tables(grammar: str) -> Lark | None:
    import io

    from . import user_cache

    data = user_cache.read(_tables_name(grammar))
    if data is None:
        return None
    try:
        return Lark.load(io.BytesIO(data))
    except Exception:  # noqa: BLE001 (tables that cannot be read are built again)
        return None


def _store_tables(grammar: str, lark: Lark) -> None:
    import io

    from . import user_cache

    data = io.BytesIO()
    try:
        lark.save(data)
    except Exception:  # noqa: BLE001 (tables that cannot be saved are built again next time)
        return
    user_cache.write(_tables_name(grammar), data.getvalue())
