"""Replaying a counterexample: the runtime decides the request, and the property is evaluated on
that request and its decision by the reference interpreter, with the outputs in scope."""
from __future__ import annotations

from rplang.compiler import ir
from rplang.compiler.checked import CheckedProperty
from rplang.policy_lang.errors import EvaluationError, RplError
from rplang.runtime.decide import CompiledPolicy
from rplang.runtime.reference import _Walker
from rplang.runtime.request import PATH_KEY


class _PropertyWalker(_Walker):
    """The reference interpreter, reading a decision's outputs where a property names them (and
    dated parameters, which only rules read through the runtime until now)."""

    def __init__(self, policy, request: dict, outputs: dict, items=()):
        super().__init__(policy, request)
        self.outputs = outputs
        self.items = {item.element.get(PATH_KEY): item for item in items or ()}

    def _eval(self, e: ir.Expr, scope: dict) -> object:
        if isinstance(e, ir.Output):
            return self.outputs[e.name]
        if isinstance(e, ir.ItemOutput):
            item = self.items.get(self._eval(e.element, scope).get(PATH_KEY))
            if item is None:
                raise EvaluationError("a property read the decision of an element that is not one of the items")
            return item.outcome if e.name == "outcome" else item.totals[e.name]
        if isinstance(e, ir.DatedParam):  # the value in force on the request's terms date
            return e.value_on(self._eval(self.policy.terms, {}))[0]
        return super()._eval(e, scope)


def holds(policy: CompiledPolicy, prop: CheckedProperty, request_json: dict) -> bool:
    """Whether the property holds on the runtime's decision of the request.

    A property that cannot be evaluated (it reads a fact not given) does not hold; a request the
    runtime cannot decide raises its error.
    """
    request = policy.read_request(request_json)
    decision = policy.decide_checked(request)
    try:
        return _PropertyWalker(policy.checked, request, decision.outputs, decision.items).truth(prop.condition, {})
    except (RplError, ArithmeticError):
        return False


def outputs_json(policy: CompiledPolicy, request_json: dict) -> dict:
    """The runtime's decision of a request, its outputs as decision JSON prints them."""
    return policy.decide(request_json).outputs_json()
