"""rplang: returns policies as code.

Load a policy once, decide return requests many times, and explain every decision:

    >>> from rplang import load_policy
    >>> policy = load_policy("policies/aputure.rpl")
    >>> decision = policy.decide(request)          # raises RequestError listing every problem
    >>> decision.outcome, decision.outputs["refund"]
    ('approve_with_fee', Decimal('1557.50'))
    >>> print(decision.explain_text())

This module is the embedding API, in one place; `rplang.runtime`, `rplang.compiler` and
`rplang.policy_lang` are the layers beneath it.
"""
from typing import TYPE_CHECKING

from rplang.policy_lang.errors import Diagnostic, PolicyError, RequestError, RequestProblem, RplError

if TYPE_CHECKING:
    from rplang.runtime import (CompiledPolicy, Decision, OutputValue, PolicyHistory, load_policy,
                                load_policy_text)

# The runtime's names are imported when first asked for: every `rpl` command imports this package,
# and one that decides nothing here (`rpl replay` finding its query cached) would pay a tenth of a
# second for the runtime and the compiler's classes.
_RUNTIME = frozenset({"CompiledPolicy", "Decision", "OutputValue", "PolicyHistory", "load_policy", "load_policy_text"})


def __getattr__(name: str):
    if name not in _RUNTIME:
        raise AttributeError(f"module 'rplang' has no attribute {name!r}")
    from rplang import runtime

    value = globals()[name] = getattr(runtime, name)
    return value


# The one place the version is written: pyproject.toml reads it from here (`version = {attr}`), and
# reading it from the installed metadata instead cost every start of `rpl` importlib.metadata.
__version__ = "0.2.0"

__all__ = ["CompiledPolicy", "Decision", "Diagnostic", "OutputValue", "PolicyError", "PolicyHistory",
           "RequestError", "RequestProblem", "RplError", "__version__", "load_policy",
           "load_policy_text"]
