"""Proving properties: each is proven for every request within the bounds, or refuted by a
counterexample the runtime decides, as small and round as the solver finds."""
from __future__ import annotations

import time

import attrs
import z3

from rplang.compiler import types as T
from rplang.compiler.checked import CheckedProperty
from rplang.runtime.decide import CompiledPolicy

from . import replay
from .concretize import request_json
from .domain import Bounds, Texts, Unsupported
from .symbolic import Compiler, RequestBuilder, SymList, SymRecord, Opt

SOLVER_TIMEOUT_MS = 60_000  # per question; beyond, the answer is "unknown", never "proven"
POLISH_TIMEOUT_MS = 3_000  # for rounding the counterexample's amounts and dates


@attrs.frozen
class Result:
    """What became of one property: proven, refuted (with a request), unsupported or unknown."""
    name: str
    status: str
    message: str | None = None
    request: dict | None = None
    outputs: dict | None = None
    seconds: float = 0.0

    def to_json(self) -> dict:
        data = {"property": self.name, "status": self.status, "seconds": round(self.seconds, 3)}
        if self.message is not None:
            data["message"] = self.message
        if self.request is not None:
            data["request"] = self.request
            data["outputs"] = self.outputs
        return data


class CounterexampleMismatch(Exception):
    """The runtime does not reproduce the solver's counterexample: a bug of the encoding."""


class Session:
    """One policy's decision over the symbolic requests of the bounds; asks the solver questions."""

    def __init__(self, policy: CompiledPolicy, bounds: Bounds = Bounds(), texts: Texts | None = None,
                 request=None, exact_business_days: bool = True):
        self.policy, self.bounds = policy, bounds
        self.texts = texts or Texts()
        self.request = request or RequestBuilder(policy.checked, bounds).build()
        self.compiler = Compiler(policy.checked, self.request, bounds, self.texts, exact_business_days)
        self.problem: str | None = None
        try:
            self.decision = self.compiler.decision()
        except Unsupported as error:
            self.problem, self.decision = str(error), None

    def condition(self, expr) -> tuple:
        """A boolean expression over the request and the decision: (term, when it cannot be evaluated)."""
        saved, self.compiler.failures = self.compiler.failures, []
        try:
            value = self.compiler.expr(expr, {}, z3.BoolVal(True))
            failure = z3.Or(*self.compiler.failures) if self.compiler.failures else z3.BoolVal(False)
        finally:
            self.compiler.failures = saved
        return value, failure

    def base(self) -> list:
        """What every request within the bounds satisfies, and that the runtime decides it."""
        return [*self.request.constraints, *self.compiler.definitions, z3.Not(self.decision.failure)]

    def verify(self, prop: CheckedProperty) -> Result:
        started = time.perf_counter()

        def result(status, message=None, request=None, outputs=None):
            return Result(prop.name, status, message, request, outputs, time.perf_counter() - started)

        if self.problem is not None:
            return result("unsupported", f"property {prop.name} cannot be checked: {self.problem} is not supported")
        try:
            value, failure = self.condition(prop.condition)
        except Unsupported as error:
            return result("unsupported", f"property {prop.name} cannot be checked: {error} is not supported")
        found = find(self, [z3.Or(failure, z3.Not(value))])
        if found is None:
            return result("proven")
        if found == "unknown":
            return result("unknown", "the solver gave up within its time limit; nothing is claimed")
        if replay.holds(self.policy, prop, found):
            raise CounterexampleMismatch(f"property {prop.name}: the runtime does not violate it on {found}")
        return result("refuted", None, found, replay.outputs_json(self.policy, found))


def possible(session: Session, goal: list, timeout_ms: int) -> bool | None:
    """Whether some request within the bounds meets `goal`; None when the solver cannot tell."""
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(*session.base(), *goal)
    answer = solver.check()
    return None if answer == z3.unknown else answer == z3.sat


def find(session: Session, goal: list, extra_base: list = (), timeout_ms: int | None = None):
    """A request within the bounds meeting `goal`, minimised: None if there is none, "unknown" if
    the solver cannot tell."""
    solver = z3.Solver()
    solver.set("timeout", timeout_ms or SOLVER_TIMEOUT_MS)
    solver.add(*session.base(), *extra_base, *goal)
    answer = solver.check()
    if answer == z3.unsat:
        return None
    if answer != z3.sat:
        return "unknown"
    model = _minimise(solver, session)
    return request_json(model, session.policy.checked, session.request.root, session.texts)


def _minimise(solver: z3.Solver, session: Session) -> z3.ModelRef:
    """Fewest list elements, then whole amounts, then early dates and small amounts; each step
    kept only when the solver confirms it in time, so the last model found always stands."""
    model = solver.model()

    def tighten(constraints) -> bool:
        nonlocal model
        solver.push()
        solver.add(*constraints)
        if solver.check() == z3.sat:
            model = solver.model()
            return True
        solver.pop()
        return False

    lengths = list(session.request.lengths.values())
    if lengths:
        total = z3.Sum(*lengths)
        for k in range(model.eval(total).as_long()):
            if tighten([total <= k]):
                break
    money, dates, others = _leaves(session)
    solver.set("timeout", POLISH_TIMEOUT_MS)
    for step in (100, 10):
        if money and tighten([m % step == 0 for m in money]):
            break
    optimize = z3.Optimize()
    optimize.set("timeout", POLISH_TIMEOUT_MS)
    optimize.add(*solver.assertions())
    first = session.bounds.first_day.toordinal()
    for terms in ([d - first for d in dates], money, others):
        if terms:
            optimize.minimize(z3.Sum(*terms))
    if optimize.check() == z3.sat:
        return optimize.model()
    return model


def _leaves(session: Session):
    """The request's money, date and text/number variables, to make a counterexample round."""
    money, dates, others = [], [], []

    def walk(fields: dict, record: SymRecord):
        for name, spec in fields.items():
            visit(spec.type, record.fields[name])

    def visit(t, value):
        if isinstance(value, Opt):
            value = value.value
        t = t.inner if isinstance(t, T.OptionalType) else t
        if isinstance(t, T.RecordType):
            walk(session.policy.checked.records[t.name], value)
        elif isinstance(value, SymList):
            for _, x in value.slots:
                visit(t.element, x)
        elif t is T.MONEY:
            money.append(value)
        elif t is T.DATE:
            dates.append(value)
        elif t is T.TEXT:
            others.append(value)

    walk(session.policy.checked.request, session.request.root)
    return money, dates, others


def verify_policy(policy: CompiledPolicy, bounds: Bounds = Bounds()) -> list[Result]:
    """Every property of the policy, proven or refuted."""
    session = Session(policy, bounds)
    return [session.verify(p) for p in policy.checked.properties]
