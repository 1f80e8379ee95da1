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
from rplang.policy_lang.errors import Diagnostic, PolicyError, RequestError, RequestProblem, RplError
from rplang.runtime import (CompiledPolicy, Decision, OutputValue, PolicyHistory, load_policy,
                            load_policy_text)

# The one place the version is written: pyproject.toml reads it from here (`version = {attr}`), and
# reading it from the installed metadata instead cost every start of `rpl` importlib.metadata.
__version__ = "0.2.0"

__all__ = ["CompiledPolicy", "Decision", "Diagnostic", "OutputValue", "PolicyError", "PolicyHistory",
           "RequestError", "RequestProblem", "RplError", "__version__", "load_policy",
           "load_policy_text"]
