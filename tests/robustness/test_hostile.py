"""Hostile policies: a `.rpl` file is code someone may hand you.

Compiling and deciding one never runs Python from it, never reads a file or the network. The
Python that runtime/codegen.py generates comes from the checked AST only: field names quoted
(the grammar keeps them to identifiers), every other literal passed in a table of constants.
Names and texts built to break out of quotes or to inject code are refused by the parser or inert.
"""
from __future__ import annotations

import ast as pyast
import random
import sys
import threading
from pathlib import Path

import attrs
import pytest

from rplang.compiler import ir
from rplang.compiler.graph import lower
from rplang.policy_lang.errors import PolicyError
from rplang.runtime import load_policy_text
from rplang.runtime.decide import CompiledPolicy

from ..conftest import ROOT
from .differential import Tally, audit_generated_code, compare
from .policygen import HOSTILE_NAMES, RandomChooser, generate


# ---- Watching what Python does while rpl works (audit hooks, PEP 578) -------------------------------

class _Watch:
    """Records the audit events of one thread while armed; the hook itself stays for the process."""

    armed_thread: int | None = None
    events: list = []

    @classmethod
    def hook(cls, event: str, args) -> None:
        if cls.armed_thread != threading.get_ident():
            return
        if event in ("open", "compile", "exec", "import", "os.system", "subprocess.Popen",
                     "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "pty.spawn", "ctypes.dlopen",
                     "urllib.Request", "pickle.find_class", "marshal.loads", "builtins.input",
                     "socket.connect", "socket.getaddrinfo", "socket.bind", "shutil.copyfile",
                     "os.remove", "os.rename", "os.mkdir") or event.startswith("socket."):
            cls.events.append((event, args))


if not getattr(sys, "_rpl_robustness_watch", False):
    sys.addaudithook(_Watch.hook)
    sys._rpl_robustness_watch = True


def warm_up() -> None:
    """Decide and explain the bundled requests once: what rpl imports on first use (the holiday
    calendars, the explainer) is no concern of a policy's."""
    import json

    from rplang.runtime import load_policy

    policy = load_policy(ROOT / "policies" / "aputure.rpl")
    for line in (ROOT / "policies" / "aputure" / "corpus.jsonl").read_text().splitlines()[:60]:
        decision = policy.decide(json.loads(line))
        decision.to_json_text()
        decision.explain_text()


def watched(action):
    """Run `action` and return what it did that an audit hook sees."""
    warm_up()
    _Watch.events = []
    _Watch.armed_thread = threading.get_ident()
    try:
        action()
    finally:
        _Watch.armed_thread = None
    return list(_Watch.events)


# What rpl generates: the rule code, the outputs code and the request reader's code.
GENERATED = ("<rpl rules", "<rpl outputs", "<rpl request reader", "<rpl explanation", "<rpl computation")


def assert_inert(events, policy_texts=()) -> None:
    """Only generated code was compiled and run; nothing was opened, imported or spawned."""
    for event, args in events:
        if event == "compile":
            source, filename = args[0], args[1]
            assert str(filename).startswith(GENERATED), f"compiled {filename}"
            text = source.decode() if isinstance(source, bytes) else str(source)
            for t in policy_texts:
                assert t not in text, f"the policy's text {t!r} is in the generated code"
        elif event == "exec":
            code = args[0]
            assert getattr(code, "co_filename", "").startswith(GENERATED), f"ran {code}"
        else:
            raise AssertionError(f"{event}{args}")


# ---- A policy built to break out -----------------------------------------------------------------

def _hostile_policy(marker: Path) -> tuple[str, list[str]]:
    touch = f"open('{marker}', 'w').write('pwned')"
    texts = [
        f"'); {touch} #",
        f'"); {touch}; ("',
        f"'''); {touch}; ('''",
        f"\\n{touch}\\n",
        f"{{__import__('os').system('touch {marker}')}}",
        f"${{{touch}}} `touch {marker}` $(touch {marker})",
    ]
    quoted = ['"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"' for t in texts]
    policy = f"""policy {quoted[0]}
version {quoted[1]}
currency USD
clause __import__: {quoted[2]}
enum exec: __builtins__, __class__, None, True, lambda, K, R, env, applying
record __dict__:
  __globals__: exec
  open: text {quoted[3]}
  eval: money
request:
  import: list of __dict__
  os: text
  sys: exec = None
let __subclasses__ = each R in import where R.open is {quoted[4]}
outcomes:
  K {quoted[5]} overrides all other rules
  V "fine"
rule __init__ for each env in __subclasses__:
  cites __import__
  when env.__globals__ in {{__builtins__, lambda}} or os is {quoted[1]}
  then K
       add env.eval to applying
       set class to {quoted[0]}
  because {quoted[3]}
rule def:
  cites {quoted[4]}
  when sys is not None and os is not {quoted[2]}
  then note
  because "{{os}} {{sys}} {quoted[5][1:-1].replace('{', '{{').replace('}', '}}')}"
output outcome
output applying: money total
output class: optional text
"""
    return policy, texts


def test_a_policy_built_to_break_out_is_inert(tmp_path):
    marker = tmp_path / "pwned"
    text, texts = _hostile_policy(marker)
    requests = [
        {"import": [{"__globals__": "lambda", "open": texts[4], "eval": "1.00"},
                    {"__globals__": "K", "open": texts[0], "eval": "2.00"}],
         "os": texts[1], "sys": "True"},
        {"import": [], "os": texts[0]},
    ]
    def work():
        policy = load_policy_text(text)
        for request in requests:
            decision = policy.decide(request)
            decision.to_json_text()
            decision.explain_text()
        work.policy = policy

    work()  # once first: what rpl imports on first use is no concern of the policy's
    events = watched(work)
    assert not marker.exists()
    assert_inert(events, texts)
    policy = work.policy
    audit_generated_code(policy)
    for t in texts:
        assert t not in policy.rules_source
    outputs = policy.decide(requests[0]).outputs_json()
    assert outputs == {"outcome": "K", "applying": "1.00", "class": texts[0]}


@pytest.mark.parametrize("name", [
    "a'b", 'a"b', "a]", "a)", "a;b", "a b c", "x']); __import__('os').system('id'); (['", "ａ", "é",
    "a-b", "1a", "a.b.c d", "a\\nb", "__import__('os')", "{a}", "a\x00b", "a\u2028b",
])
def test_names_built_to_break_out_are_refused(name):
    """Field names, enum values, rule names: the grammar takes only `[A-Za-z_][A-Za-z0-9_]*`."""
    for text in (f"request:\n  {name}: integer\n",
                 f"enum E: a, {name}\nrequest:\n  e: E\n",
                 f"request:\n  n: integer\nrule {name}:\n  when n > 1\n  then note\n",
                 f"request:\n  n: integer\nlet {name} = n\n"):
        with pytest.raises(PolicyError) as caught:
            load_policy_text(text)
        assert all(d.span is not None for d in caught.value.diagnostics)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_names_that_mean_something_to_python_are_inert(name, tmp_path):
    """`__import__`, `K`, `exec`, `None`, ... as a field, a value, a variable, an enum value."""
    text = f"""enum E: {name}, other
record Item:
  {name}: E
request:
  {name}: list of Item
let v_{name} = each {name} in {name} where {name}.{name} in {{{name}}}
rule r_{name} for each {name} in v_{name}:
  when {name}.{name} in {{{name}}}
  then set out to {name}.{name}
output out: optional E
"""
    def work():
        policy = load_policy_text(text)
        decision = policy.decide({name: [{name: name}, {name: "other"}]})
        assert decision.outputs_json() == {"out": name}
        decision.to_json_text()
        work.policy = policy

    work()
    assert_inert(watched(work))
    audit_generated_code(work.policy)


def test_code_is_never_generated_from_a_name_that_is_not_an_identifier(tmp_path):
    """Past the parser, codegen checks every field name again before it quotes it."""
    marker = tmp_path / "pwned"
    policy = load_policy_text("request:\n  n: integer\nrule r:\n  when n > 1\n  then note\n")
    checked = policy.checked
    evil = f"n'] or __import__('os').system('touch {marker}') or R['n"
    rule = checked.rules[0]

    def poison(e):
        if isinstance(e, ir.Input):
            return attrs.evolve(e, path=(evil,))
        if isinstance(e, ir.Op):
            return attrs.evolve(e, args=tuple(poison(a) for a in e.args))
        return e

    poisoned = attrs.evolve(checked, rules=(attrs.evolve(rule, condition=poison(rule.condition)),))
    with pytest.raises(Exception):
        CompiledPolicy(lower(poisoned)).decide({"n": 5})
    assert not marker.exists()


def test_random_hostile_policies_are_inert(tmp_path):
    """Random policies full of hostile names and texts: compiling and deciding opens nothing."""
    tally = Tally()
    generated = [generate(RandomChooser(random.Random(seed)), explainable=True) for seed in range(40)]
    for policy, requests in generated[:5]:  # first uses import modules: no concern of a policy's
        compare(policy.text, [requests.request() for _ in range(3)], Tally(), explain=True)
    for policy, requests in generated:
        batch = [requests.request() for _ in range(3)]
        compiled = []
        assert_inert(watched(lambda: compiled.append(compare(policy.text, batch, tally, explain=True,
                                                             audit=False))))
        if compiled[0] is not None:
            audit_generated_code(compiled[0])
    assert tally.cases > 60


# ---- What the source of rpl may do at all --------------------------------------------------------

# Calls that can run code or reach outside, and the only modules allowed to make them.
ALLOWED = {
    "exec": {"runtime/codegen.py",  # the generated rule code, from the checked AST
             "runtime/codegen_explain.py",  # the explanations' code, from the same checked rules
             "runtime/codegen_computation.py",  # the computation's, from the rules' effects
             "runtime/request.py"},  # the request reader's fast path, from the checked schema
    "compile": {"runtime/codegen.py", "runtime/codegen_explain.py", "runtime/codegen_computation.py",
                "runtime/request.py"},
    # the process's own C library (no file is loaded), for glibc's mallopt: `rpl eval --jobs`
    # keeps freed blocks' memory
    "ctypes.CDLL": {"rplang/stream_workers.py"},
    # the user's cache: entries signed with the user's key, checked before anything is read, and
    # only a checked policy's classes let out (compiler/cache.py, policy_lang/user_cache.py)
    "pickle.Unpickler": {"compiler/cache.py"},
    "pickle.dumps": {"compiler/cache.py"},
    "Lark.load": {"policy_lang/grammar.py"},  # Lark's parse tables (a pickle), signed in the same cache
    "subprocess.run": {"compiler/render_graph.py"},  # graphviz `dot` for `rpl graph`, DOT escaped
}
DANGEROUS = {"eval", "exec", "compile", "__import__", "breakpoint", "pickle.load", "pickle.loads",
             "pickle.dump", "pickle.dumps", "pickle.Unpickler", "Lark.load", "marshal.loads", "os.system", "os.popen", "subprocess.run",
             "subprocess.Popen", "subprocess.call", "subprocess.check_output", "importlib.import_module",
             "socket.socket", "urllib.request.urlopen", "shelve.open", "ctypes.CDLL"}


def _calls(path: Path):
    """Calls of dangerous functions, and classes built on them (an Unpickler's subclass loads)."""
    tree = pyast.parse(path.read_text(encoding="utf-8"))
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Call):
            name = pyast.unparse(node.func)
            if name in DANGEROUS:
                yield name
        elif isinstance(node, pyast.ClassDef):
            yield from (base for base in map(pyast.unparse, node.bases) if base in DANGEROUS)


def test_only_codegen_runs_code_and_nothing_reaches_outside():
    found = {}
    for package in ("policy_lang", "compiler", "runtime"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _calls(path):
                found.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    for name, where in found.items():
        assert where <= ALLOWED.get(name, set()), f"`{name}` called in {sorted(where)}"
    for imported in ("subprocess", "socket", "urllib", "http", "ctypes", "marshal", "shelve"):
        for package in ("policy_lang", "compiler", "runtime"):
            for path in (ROOT / package).rglob("*.py"):
                if str(path.relative_to(ROOT)) in ALLOWED.get(f"{imported}.run", set()):
                    continue
                tree = pyast.parse(path.read_text(encoding="utf-8"))
                for node in pyast.walk(tree):
                    if isinstance(node, (pyast.Import, pyast.ImportFrom)):
                        names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                        assert not any(n.split(".")[0] == imported for n in names), f"{path} imports {imported}"
