"""The import graph of rplang: no cycle, and every arrow pointing down the layers.

policy_lang <- compiler <- runtime <- tools (everything else under rplang/). Imports made only
for type annotations (under `if TYPE_CHECKING:`) are not arrows: they never run.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Where each package of the namespace lives in the repository (pyproject's package-dir).
FOLDERS = {"rplang": "rplang", "rplang.policy_lang": "policy_lang", "rplang.compiler": "compiler",
           "rplang.runtime": "runtime"}
LAYERS = {"rplang.policy_lang": 0, "rplang.compiler": 1, "rplang.runtime": 2}
TOOLS = 3


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            if any(part in ("node_modules", "__pycache__") for part in path.parts):
                continue
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join((package, *parts))
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _layer(module: str) -> int:
    return next((layer for package, layer in LAYERS.items()
                 if module == package or module.startswith(package + ".")), TOOLS)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str, path: Path) -> set[str]:
    """The modules of rplang that `module` imports, at the top or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:  # `from package import module` imports the module
                targets.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return {t for t in targets if t in MODULES and t != module}


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}
# Upward arrows allowed, each with its reason: none.
KNOWN_UPWARD: dict[str, set[str]] = {}


def test_every_module_of_the_namespace_is_found():
    assert {"rplang", "rplang.cli", "rplang.policy_lang.parser", "rplang.compiler.checker",
            "rplang.runtime.decide", "rplang.runtime.decision"} <= set(MODULES)


def test_no_module_imports_a_layer_by_its_old_top_level_name():
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for name in names:
                assert name.split(".")[0] not in ("policy_lang", "compiler", "runtime", "rpl"), \
                    f"{module} imports `{name}`: import it as rplang.{name}"


def _cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            connect(v)
    return found


def test_the_import_graph_has_no_cycle():
    assert _cycles() == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_layers(module):
    upward = sorted(t for t in GRAPH[module] - KNOWN_UPWARD.get(module, set()) if _layer(t) > _layer(module))
    assert upward == [], f"{module} (layer {_layer(module)}) imports a layer above it: {upward}"


def test_the_known_upward_arrows_are_still_there():
    """An exception that is no longer needed is taken out of KNOWN_UPWARD."""
    for module, targets in KNOWN_UPWARD.items():
        assert targets <= GRAPH[module]


def test_the_check_can_fail():
    """The graph check sees a cycle and an upward arrow when there is one."""
    saved = {k: set(v) for k, v in GRAPH.items()}
    try:
        GRAPH["rplang.policy_lang.span"].add("rplang.policy_lang.errors")
        GRAPH["rplang.policy_lang.errors"].add("rplang.policy_lang.span")
        assert any({"rplang.policy_lang.errors", "rplang.policy_lang.span"} <= set(c) for c in _cycles())
    finally:
        GRAPH.clear()
        GRAPH.update(saved)
    assert _layer("rplang.runtime.decide") > _layer("rplang.compiler.checker")
