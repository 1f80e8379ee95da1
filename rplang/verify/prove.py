"""Proving properties: each is proven for every request within the bounds, or refuted by a
counterexample the runtime decides, as small and round as the solver finds."""
from __future__ import annotations

import contextlib
import signal
import time
from typing import Iterator

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
OUT_OF_TIME = ("timeout", "canceled")  # Z3's reasons for an answer not found within the time limit
CTRL_C = "interrupted from keyboard"  # Z3's reason when it caught Ctrl-C during a check


@attrs.frozen
class Unsettled:
    """The solver's answer "unknown", and its reason (out of time, or a question it cannot decide)."""
    reason: str

    def message(self, timeout_ms: int) -> str:
        if self.reason in OUT_OF_TIME:
            return (f"the solver did not settle it within {timeout_ms / 1000:g} s; nothing is claimed "
                    "(a longer --timeout may settle it)")
        return f"the solver cannot settle it ({self.reason}); nothing is claimed"


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

    def verify(self, prop: CheckedProperty, timeout_ms: int | None = None) -> Result:
        started = time.perf_counter()
        timeout_ms = timeout_ms or SOLVER_TIMEOUT_MS

        def result(status, message=None, request=None, outputs=None):
            return Result(prop.name, status, message, request, outputs, time.perf_counter() - started)

        if self.problem is not None:
            return result("unsupported", f"property {prop.name} cannot be checked: {self.problem} is not supported")
        try:
            value, failure = self.condition(prop.condition)
        except Unsupported as error:
            return result("unsupported", f"property {prop.name} cannot be checked: {error} is not supported")
        found = find(self, [z3.Or(failure, z3.Not(value))], timeout_ms=timeout_ms)
        if found is None:
            return result("proven")
        if isinstance(found, Unsettled):
            return result("unknown", found.message(timeout_ms))
        if replay.holds(self.policy, prop, found):
            raise CounterexampleMismatch(f"property {prop.name}: the runtime does not violate it on {found}")
        return result("refuted", None, found, replay.outputs_json(self.policy, found))


def possible(session: Session, goal: list, timeout_ms: int) -> bool | None:
    """Whether some request within the bounds meets `goal`; None when the solver cannot tell."""
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(*session.base(), *goal)
    answer = _check(solver)
    return None if answer == z3.unknown else answer == z3.sat


def find(session: Session, goal: list, extra_base: list = (), timeout_ms: int | None = None):
    """A request within the bounds meeting `goal`, minimised: None if there is none, Unsettled if
    the solver cannot tell."""
    solver = z3.Solver()
    solver.set("timeout", timeout_ms or SOLVER_TIMEOUT_MS)
    solver.add(*session.base(), *extra_base, *goal)
    answer = _check(solver)
    if answer == z3.unsat:
        return None
    if answer != z3.sat:
        return Unsettled(solver.reason_unknown())
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
        if _check(solver) == z3.sat:
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
    if _check(optimize) == z3.sat:
        return optimize.model()
    return model


# Ctrl-C stops a run, however it arrives: Z3 catches it during a check and answers "unknown",
# which `_check` raises again; Python raises it where the program is, and inside a z3 object's
# `__del__` it would be printed as ignored and lost, so it is remembered there for the next check.
_pressed: list[int] = []


def _check(solver) -> z3.CheckSatResult:
    if _pressed:
        raise KeyboardInterrupt
    answer = solver.check()
    if answer == z3.unknown and solver.reason_unknown() == CTRL_C:
        raise KeyboardInterrupt
    return answer


@contextlib.contextmanager
def ctrl_c_stops():
    """Within it (in the main thread), Ctrl-C raises KeyboardInterrupt, never lost in a `__del__`."""
    def pressed(signum, frame):
        _pressed.append(signum)
        while frame is not None:
            if frame.f_code.co_name == "__del__":
                return  # raised here it would be lost: the next check raises it
            frame = frame.f_back
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, pressed)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _pressed.clear()


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


def verify_policy(policy: CompiledPolicy, bounds: Bounds = Bounds(), timeout_ms: int | None = None) -> list[Result]:
    """Every property of the policy, proven or refuted."""
    return list(each_property(policy, bounds, timeout_ms))


def each_property(policy: CompiledPolicy, bounds: Bounds = Bounds(),
                  timeout_ms: int | None = None) -> Iterator[Result]:
    """Each property's result as soon as it is known; `timeout_ms` per question to the solver."""
    session = Session(policy, bounds)
    for prop in policy.checked.properties:
        yield session.verify(prop, timeout_ms)
