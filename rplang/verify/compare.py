"""Two versions of a policy over the same symbolic requests: proven to decide alike within the
bounds, or one example request per kind of change (approve -> refuse, refund up, refund down...)."""
from __future__ import annotations

import time
from decimal import Decimal

import attrs
import z3

from rplang.runtime.decide import CompiledPolicy

from .domain import Bounds, Unsupported
from .items import outcome_names
from .prove import CounterexampleMismatch, Session, Unsettled, find
from .symbolic import equal


@attrs.frozen
class Change:
    """One kind of change, and a request on which the two versions show it."""
    output: str
    kind: str  # e.g. "approve -> refuse", "up", "down", "changes"
    request: dict
    old: dict
    new: dict

    def to_json(self) -> dict:
        return {"output": self.output, "change": self.kind, "request": self.request,
                "old": self.old, "new": self.new}


@attrs.frozen
class Comparison:
    """The result: equivalent (no change found within the bounds), or the changes found."""
    outputs: tuple[str, ...]
    changes: tuple[Change, ...]
    unknown: tuple[tuple[str, Unsettled], ...]  # kinds of change the solver could not settle, and why
    seconds: float

    @property
    def equivalent(self) -> bool:
        return not self.changes and not self.unknown

    def to_json(self) -> dict:
        return {"equivalent": self.equivalent, "outputs": list(self.outputs),
                "changes": [c.to_json() for c in self.changes], "unknown": [kind for kind, _ in self.unknown],
                "seconds": round(self.seconds, 3)}


def _schema(policy: CompiledPolicy):
    checked = policy.checked

    def shape(fields):
        return tuple((n, s.type, s.present_when) for n, s in fields.items())
    return shape(checked.request), {name: shape(f) for name, f in checked.records.items()}


def compare(old: CompiledPolicy, new: CompiledPolicy, outputs: list[str] | None = None,
            bounds: Bounds = Bounds(), timeout_ms: int | None = None) -> Comparison:
    """Every kind of change of the named outputs (all outputs the two share, by default);
    `timeout_ms` per question to the solver."""
    started = time.perf_counter()
    if _schema(old) != _schema(new):
        raise Unsupported("comparing versions whose requests have different fields")
    before = Session(old, bounds)
    after = Session(new, bounds, before.texts, before.request)
    for session in (before, after):
        if session.problem is not None:
            raise Unsupported(session.problem)
    shared = [o.name for o in old.checked.outputs if o.name in {n.name for n in new.checked.outputs}]
    names = outputs or shared
    for name in names:
        if name not in shared:
            raise Unsupported(f"the output `{name}`, which both versions must have,")
    kinds = {o.name: o.kind for o in old.checked.outputs}
    old_names = outcome_names(old.checked)
    changes, unknown = [], []
    base = after.base()
    for name in names:
        a, b = before.decision.outputs[name], after.decision.outputs[name]
        questions = []
        if kinds[name] == "outcome":
            new_names = outcome_names(new.checked)
            for i, x in enumerate(old_names):
                for j, y in enumerate(new_names):
                    if x != y:
                        questions.append((f"{x} -> {y}", z3.And(a == i, b == j)))
        elif kinds[name] == "total":
            questions += [("up", b > a), ("down", b < a)]
        else:
            questions.append(("changes", z3.Not(equal(a, b))))
        for kind, goal in questions:
            found = find(before, [goal], base, timeout_ms)
            if found is None:
                continue
            if isinstance(found, Unsettled):
                unknown.append((f"{name}: {kind}", found))
                continue
            old_out, new_out = old.decide(found).outputs_json(), new.decide(found).outputs_json()
            if not _shows(kinds[name], kind, old_out[name], new_out[name]):
                raise CounterexampleMismatch(f"{name} {kind}: the runtime decides {old_out[name]!r} "
                                             f"and {new_out[name]!r} on {found}")
            changes.append(Change(name, kind, found, old_out, new_out))
    return Comparison(tuple(names), tuple(changes), tuple(unknown), time.perf_counter() - started)


def _shows(kind: str, change: str, old, new) -> bool:
    """Whether the runtime's two outputs show the change the solver found."""
    if kind == "outcome":
        return change == f"{old} -> {new}"
    if kind == "total":
        return (Decimal(new) > Decimal(old)) if change == "up" else (Decimal(new) < Decimal(old))
    return old != new

