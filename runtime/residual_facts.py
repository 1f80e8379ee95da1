"""Residual decisions, steps 1 and 2 (runtime/residual.py says all four): the facts a request
leaves unknown, and the rule instances they leave open, grouped by the facts they share; a group
whose facts have few values is evaluated under every assignment of them, so that only the
combinations of its instances that can really happen are kept.
"""
from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING

import attrs

from rplang.compiler import types as T

from . import explain
from .kleene import FAILURES, Kleene, KleeneEnv, Unknown, facts_of, unknown_in
from .request import PATH_KEY, UNKNOWN

if TYPE_CHECKING:
    from .decide import CompiledPolicy

# Limits of the exact enumeration; past them, every combination.
ASSIGNMENTS = 4096  # values of the unknown facts of one group tried one by one
COMBINATIONS = 1024  # combinations of the open instances of one group whose facts have many values


# ---- The unknown facts of a request -------------------------------------------------------------

@attrs.frozen
class UnknownFact:
    """A fact the request left out: where it is, its label, the stage it is known at."""
    path: str
    field: str
    label: str | None
    stage: str | None
    element: str  # the JSON path of its record
    element_name: str | None
    type: T.Type

    def domain(self) -> tuple | None:
        """Every value it can take, when there are few (yes/no, an enum); else None."""
        inner = self.type.inner if isinstance(self.type, T.OptionalType) else self.type
        values = (False, True) if inner is T.BOOLEAN else \
            inner.members if isinstance(inner, T.EnumType) else None
        if values is not None and isinstance(self.type, T.OptionalType):
            values = (None,) + tuple(values)
        return values

    def to_json(self) -> dict:
        domain = self.domain()
        return {"path": self.path, "field": self.field, "label": self.label, "stage": self.stage,
                "element": self.element, "element_name": self.element_name,
                "values": list(domain) if domain is not None else None}


def unknown_facts(policy: CompiledPolicy, request: dict) -> dict[str, UnknownFact]:
    checked = policy.checked
    found: dict[str, UnknownFact] = {}

    def walk(record: dict, fields: dict, depth: int):
        for name, spec in fields.items():
            value = record.get(name)
            if value is UNKNOWN:
                path = record.get(PATH_KEY, "$")
                fact = UnknownFact(f"{path}.{name}", name, spec.label, spec.stage, path,
                                   explain.element_name(None, record) if path != "$" else None, spec.type)
                found[fact.path] = fact
            elif value is not None and depth < 32:
                for child, type_ in _records_in(value, spec.type):
                    walk(child, checked.records[type_.name], depth + 1)

    walk(request, checked.request, 0)
    return found


def _records_in(value, type_: T.Type):
    inner = type_.inner if isinstance(type_, T.OptionalType) else type_
    if isinstance(inner, T.RecordType) and isinstance(value, dict):
        yield value, inner
    elif isinstance(inner, T.ListType) and isinstance(value, list):
        for x in value:
            yield from _records_in(x, inner.element)


# ---- Rule instances and their groups ------------------------------------------------------------

@attrs.define(eq=False)
class Instance:
    """One rule for one element (or for the request): true, or open on unknown facts."""
    seq: int
    index: int
    rule_node: object
    element: object
    truth: object  # True, or Unknown
    amounts: tuple  # per effect: a value, None, or Unknown
    whole_list: bool = False  # the rule's list itself is unknown: it stands for every element
    facts: frozenset = attrs.field(init=False)  # the unknown facts it depends on
    uncertain: bool = attrs.field(init=False)  # open, or true with amounts not known yet

    def __attrs_post_init__(self):
        self.facts = facts_of(self.truth, self.amounts)
        self.uncertain = self.truth is not True or unknown_in((self.amounts,)) is not None

    @property
    def found(self) -> tuple:
        return (self.index, self.element, self.amounts)


@attrs.define(eq=False)
class Group:
    """Open instances sharing unknown facts, and the combinations of them that can happen.

    A state gives, per member, (applies, amounts when it applies)."""
    members: list
    states: list
    enumerated: bool  # states come from the values of the facts (so each can really happen)


def instances(policy: CompiledPolicy, kleene: Kleene, env: KleeneEnv) -> list[Instance]:
    out: list[Instance] = []
    fns = kleene.fns
    for index, rule_node in enumerate(policy.graph.rules):
        rule = rule_node.rule
        condition = fns[rule_node.condition]
        effects = [fns[v] if v is not None else None for v in rule_node.effect_values]
        if rule.var is None:
            targets = [(None, env)]
        else:
            xs = fns[rule_node.source](env)
            if isinstance(xs, Unknown):  # which elements it runs over is not known yet
                amounts = tuple(xs if f is not None else None for f in effects)
                out.append(Instance(len(out), index, rule_node, None, xs, amounts, whole_list=True))
                continue
            targets = [(x, env.with_bound(rule.var, x)) for x in xs]
        for element, e in targets:
            truth = condition(e)
            if truth is False:
                continue
            amounts = tuple(_amount(f, e, truth) for f in effects)
            out.append(Instance(len(out), index, rule_node, element, truth, amounts))
    return out


def _amount(fn, env, truth):
    if fn is None:
        return None
    try:
        return fn(env)
    except FAILURES:
        if truth is True:
            raise
        return Unknown(truth.facts)  # it may never be computed: only if the rule applies


def groups(kleene: Kleene, request: dict, facts: dict, uncertain: list[Instance], as_of=None) -> list[Group]:
    parent: dict[str, str] = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for inst in uncertain:
        first, *rest = sorted(inst.facts)
        for other in rest:
            parent[root(other)] = root(first)
    by_root: dict[str, list] = {}
    for inst in uncertain:
        by_root.setdefault(root(min(inst.facts)), []).append(inst)
    groups = []
    for members in by_root.values():
        group = _enumerate_group(kleene, request, facts, members, as_of)
        if group is not None:
            groups.append(group)
        else:  # too many combinations: each instance on its own (bounds stay sound)
            groups += [_every_combination([m]) for m in members]
    return groups


def _enumerate_group(kleene: Kleene, request: dict, facts: dict, members: list, as_of=None) -> Group | None:
    names = sorted(set().union(*(m.facts for m in members)))
    domains = [facts[n].domain() if n in facts else None for n in names]
    if all(d is not None for d in domains) and math.prod(len(d) for d in domains) <= ASSIGNMENTS \
            and not any(m.whole_list for m in members):
        states: dict = {}
        complete = True
        for values in itertools.product(*domains):
            env = KleeneEnv(request, dict(zip(names, values)), as_of)
            state = _state(kleene, env, members)
            if state is _UNDECIDED:
                complete = False
                break
            if state is not None:
                states.setdefault(freeze(state), state)
        if complete and states:
            return Group(members, list(states.values()), True)
    open_count = sum(m.truth is not True for m in members)
    if 2 ** open_count > COMBINATIONS:
        return None
    return _every_combination(members)


_UNDECIDED = object()


def _state(kleene: Kleene, env: KleeneEnv, members: list):
    """Each member's (applies, amounts) once its facts are assigned; None if this assignment
    cannot be decided at all (an error), _UNDECIDED if something stays unknown."""
    fns = kleene.fns
    state = []
    try:
        for m in members:
            rule_node = m.rule_node
            e = env.with_bound(rule_node.rule.var, m.element) if rule_node.rule.var else env
            truth = fns[rule_node.condition](e)
            if truth is not True and truth is not False:
                return _UNDECIDED
            amounts = None
            if truth:
                amounts = tuple(fns[v](e) if v is not None else None for v in rule_node.effect_values)
                if unknown_in((amounts,)) is not None:
                    return _UNDECIDED
            state.append((truth, amounts))
    except FAILURES:
        return None
    return tuple(state)


def _every_combination(members: list) -> Group:
    options = [((True, m.amounts),) if m.truth is True else ((True, m.amounts), (False, None))
               for m in members]
    return Group(members, list(itertools.product(*options)), False)


def freeze(value):
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return ("#record", id(value))
    return value
