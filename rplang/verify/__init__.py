"""rpl verify: a policy's properties proven with the Z3 solver, or refuted by a request the runtime
decides; two versions compared; static checks for `rpl check`.

    verify_policy(policy, Bounds(max_items=3)) -> [Result]   # proven | refuted | unsupported | unknown
    compare(old, new, ["outcome", "refund"]) -> Comparison

Passes: symbolic (the decision as solver terms) -> prove / compare (questions, minimised
models) -> concretize (a model as request JSON) -> replay (the runtime decides it).
"""
from .compare import Comparison, compare
from .domain import Bounds, Unsupported
from .prove import Result, verify_policy

__all__ = ["Bounds", "Comparison", "Result", "Unsupported", "compare", "verify_policy"]
