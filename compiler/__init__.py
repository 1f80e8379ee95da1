"""The rpl compiler: resolve and type-check a parsed policy, then lower it to a rule graph."""
from __future__ import annotations

import contextlib
import gc
from typing import TYPE_CHECKING

from rplang.policy_lang import parse_policy

if TYPE_CHECKING:
    from .graph import RuleGraph, lower


def __getattr__(name: str):
    # The rule graph's module (and the classes of the IR it imports) when first asked for: a
    # module of the compiler's imported alone (the cache's sources digest, say) does not pay for it.
    if name in ("RuleGraph", "lower"):
        from . import graph

        return getattr(graph, name)
    raise AttributeError(f"module 'rplang.compiler' has no attribute {name!r}")


def compile_policy(text: str, filename: str = "<policy>") -> RuleGraph:
    """Text to rule graph: parse, check, lower. Raises PolicyError with every problem found."""
    from .checker import check_policy  # here: a policy loaded from the cache is never checked again
    from .graph import lower

    with without_garbage_collection():
        policy = parse_policy(text, filename)
        checked = check_policy(policy)
        return lower(checked)


@contextlib.contextmanager
def without_garbage_collection():
    """Compiling makes many objects and frees few: Python's collector, scanning them again and
    again, made compiling 10,000 rules take three times as long. It is paused meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compile_policy_cached(text: str, filename: str = "<policy>") -> RuleGraph:
    """`compile_policy`, reusing the checked policy of a text seen before (see `rplang.compiler.cache`)."""
    from . import cache
    from .graph import lower

    checked = cache.load(text, filename)
    if checked is None:
        from .checker import check_policy

        with without_garbage_collection():
            checked = check_policy(parse_policy(text, filename))
        cache.store(text, filename, checked)
    return lower(checked)


__all__ = ["RuleGraph", "compile_policy", "compile_policy_cached", "lower"]
