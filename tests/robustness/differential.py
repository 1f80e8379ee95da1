"""Two evaluators, one answer: the compiled runtime against the reference interpreter.

They agree when both decide, with the same outcome, outputs and determining rules, or when both
refuse the request with an rpl error. Which error comes first is not part of the language: the
compiled runtime looks at the rules over one list element by element, the reference rule by rule,
so when a request trips two errors (a fact not given, a division by zero) each may report another.
Shared by the tests (hypothesis) and benchmarks/fuzz.py (long seeded runs).
"""
from __future__ import annotations

import ast as pyast
import json
import re
import types
from dataclasses import dataclass, field

from rplang.policy_lang.errors import PolicyError, RequestError, RplError
from rplang.runtime import load_policy_text
from rplang.runtime.explain import items_json
from rplang.runtime.reference import decide as reference_decide
from rplang.runtime.reference import element_key


class Disagreement(AssertionError):
    """The two evaluators differ, or one of them failed with something that is not an rpl error."""


@dataclass
class Tally:
    policies: int = 0  # generated
    rejected: int = 0  # refused by the checker (the generator makes some ill-typed ones)
    cases: int = 0  # (policy, request) pairs compared
    decided: int = 0  # of which both decided
    errors: int = 0  # of which both refused with the same rpl error
    rejections: dict = field(default_factory=dict)  # diagnostic code -> count

    def add(self, other: "Tally") -> None:
        for name in ("policies", "rejected", "cases", "decided", "errors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for code, n in other.rejections.items():
            self.rejections[code] = self.rejections.get(code, 0) + n


def compiled_result(policy, request: dict):
    """("decided", outcome, outputs, determining rules) or ("error", kind, paths)."""
    try:
        decision = policy.decide_checked(request)
        outputs = decision.outputs_json()
        rules = tuple((a.rule.rule.name, element_key(a.element)) for a in decision.applied)
        items = None if decision.items is None else \
            tuple((i["element"], i["outcome"], i["totals"]) for i in items_json(decision))
        return ("decided", decision.outcome, outputs, rules, items)
    except RplError as error:
        return _error(error)


def reference_result(policy, request: dict):
    try:
        decision = reference_decide(policy.checked, request)
        return ("decided", decision.outcome, decision.outputs, decision.determining, decision.items)
    except RplError as error:
        return _error(error)


def _error(error: RplError):
    paths = tuple(p.path for p in error.problems) if isinstance(error, RequestError) else ()
    return ("error", type(error).__name__, paths)


def compare(policy_text: str, requests, tally: Tally, explain: bool = False, audit: bool = True):
    """Compile `policy_text` and decide every request both ways; raise Disagreement on a difference.

    Returns the compiled policy, or None when the checker refused it.
    """
    tally.policies += 1
    try:
        policy = load_policy_text(policy_text, "<generated>")
    except PolicyError as error:
        tally.rejected += 1
        for d in error.diagnostics:
            tally.rejections[d.code] = tally.rejections.get(d.code, 0) + 1
        return None
    if audit:
        audit_generated_code(policy)
    for request in requests:
        converted = policy.read_request(request)  # the generator makes valid requests only
        compiled = compiled_result(policy, converted)
        reference = reference_result(policy, converted)
        tally.cases += 1
        if compiled != reference:  # refusals too: the same kind of error, at the same places
            raise Disagreement(f"the compiled runtime and the reference differ\n"
                               f"compiled:  {compiled}\nreference: {reference}\n"
                               f"request: {request}")
        if compiled[0] == "error":
            tally.errors += 1
            continue
        tally.decided += 1
        if explain:  # explaining never crashes
            decision = policy.decide_checked(converted)
            decision.explain_text()
            # values a fact shows may not be JSON yet (test_known_bugs.py): printed with repr here
            json.dumps(decision.to_json(), default=repr)
    return policy


# ---- What the generated Python may contain -------------------------------------------------------

# Names that no generated code may reach, whatever the policy says.
FORBIDDEN = frozenset({
    "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals",
    "locals", "vars", "input", "breakpoint", "help", "memoryview", "type", "object", "super",
    "classmethod", "staticmethod", "property", "exit", "quit", "os", "sys", "subprocess",
    "importlib", "builtins", "__builtins__", "__loader__", "__spec__",
})
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def audit_generated_code(policy) -> None:
    """The generated rule code holds no policy text and reaches nothing dangerous.

    - every string constant in it is a field name the policy declares (field names are quoted;
      every other literal is passed in the constants table `K`);
    - every name it reads is its own local, a parameter, or a key of its namespace;
    - no attribute it reads starts with `_` (no `__class__`, `__globals__`, `__subclasses__`);
    - its namespace holds no module and no dangerous builtin.
    """
    source = policy.rules_source
    tree = pyast.parse(source)
    namespace = policy._find_applying.__globals__
    builtins = namespace.get("__builtins__")
    if not isinstance(builtins, dict):
        raise Disagreement("the generated code runs with Python's full builtins")
    field_names = _field_names(policy.checked)
    reachable = set(namespace) | set(builtins)
    for node in pyast.walk(tree):
        if isinstance(node, (pyast.Import, pyast.ImportFrom, pyast.Global, pyast.Nonlocal)):
            raise Disagreement(f"generated code has `{pyast.unparse(node)}`")
        if isinstance(node, pyast.Constant) and isinstance(node.value, (str, bytes)):
            if node.value not in field_names:
                raise Disagreement(f"generated code holds the text {node.value!r}, not a field name")
        if isinstance(node, pyast.Attribute) and node.attr.startswith("_"):
            raise Disagreement(f"generated code reads the attribute `{node.attr}`")
        if isinstance(node, pyast.Name) and node.id in FORBIDDEN:
            raise Disagreement(f"generated code names `{node.id}`")
    local_names = _locals(tree)
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Name) and isinstance(node.ctx, pyast.Load):
            if node.id not in local_names and node.id not in reachable:
                raise Disagreement(f"generated code reads `{node.id}`, neither local nor given")
    for name, value in list(namespace.items()) + list(builtins.items()):
        if name in FORBIDDEN - {"__builtins__"} or isinstance(value, types.ModuleType):
            raise Disagreement(f"the generated code's namespace holds `{name}`")
        if isinstance(value, types.BuiltinFunctionType) and value.__name__ in FORBIDDEN:
            raise Disagreement(f"the generated code's namespace holds `{value.__name__}`")


def _field_names(checked) -> frozenset:
    names = set(checked.request)
    for fields in checked.records.values():
        names |= set(fields)
    return frozenset(names)


def _locals(tree) -> set:
    found = set()
    for node in pyast.walk(tree):
        if isinstance(node, pyast.arg):
            found.add(node.arg)
        elif isinstance(node, pyast.Name) and isinstance(node.ctx, pyast.Store):
            found.add(node.id)
    return found
