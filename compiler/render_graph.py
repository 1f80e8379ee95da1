"""The rule graph as a picture: Mermaid or Graphviz DOT text (and SVG through Graphviz's `dot`).

The picture keeps the named nodes of the graph — request fields, parameters, derived values —
and draws each rule as its condition and the rule itself, ending in the outputs it gives, adds
to or sets. The unnamed subexpressions in between are folded into the edges: an edge from a
field to a condition means the condition reads the field. Given a decision, the picture shows
the path it took: the conditions that held and those that did not, the rules that fired and
the outputs with their values.
"""
from __future__ import annotations

import re
import shutil
import subprocess

import attrs

from rplang.policy_lang.errors import RplError

from . import ir
from . import types as T
from .graph import RuleGraph
from .show import show

KINDS = ("input", "parameter", "value", "condition", "rule", "output")
_WRAP = 42  # characters on a line of a node's label


@attrs.frozen
class PictureNode:
    """A node: kind is one of KINDS; state, with a decision, is on, off, true, false, fired or overridden."""
    id: str
    kind: str
    label: str
    state: str | None = None


@attrs.frozen
class PictureEdge:
    """`source` is used by, or leads to, `target`; `on_path` when the decision went along it."""
    source: str
    target: str
    label: str | None = None
    dashed: bool = False
    on_path: bool = False


@attrs.frozen
class Picture:
    """What is drawn, whatever the format."""
    title: str
    nodes: tuple[PictureNode, ...]
    edges: tuple[PictureEdge, ...]


@attrs.frozen
class DecisionPath:
    """What one decision did: the rules that fired or were overridden, and whether each rule's
    condition held (for a rule over a list: for how many of its elements)."""
    fired: frozenset[str]
    overridden: frozenset[str]
    conditions: dict  # rule name -> (elements for which it held, elements) or None if unknown
    outputs: dict  # output name -> value as in the decision JSON


def decision_path(decision) -> DecisionPath:
    """The path of a decision (a `runtime.Decision`), evaluating each rule's condition again."""
    policy = decision.policy
    fns, env = policy.evaluator.fns, decision._env
    conditions = {}
    for rule_node in policy.graph.rules:
        rule = rule_node.rule
        try:
            if rule_node.source is None:
                conditions[rule.name] = (int(bool(fns[rule_node.condition](env))), 1)
                continue
            elements = list(fns[rule_node.source](env))
            held = 0
            for element in elements:
                env.bound[rule.var] = element
                held += bool(fns[rule_node.condition](env))
            conditions[rule.name] = (held, len(elements))
        except (RplError, ArithmeticError, ValueError):  # a fact this request does not give
            conditions[rule.name] = None
        finally:
            if rule.var is not None:
                env.bound.pop(rule.var, None)
    return DecisionPath(frozenset(a.rule.rule.name for a in decision.applied),
                        frozenset(a.rule.rule.name for a in decision.overridden),
                        conditions, decision.outputs_json())


def picture(graph: RuleGraph, path: DecisionPath | None = None) -> Picture:
    """The nodes and edges to draw for a rule graph, and for one decision's path if given."""
    return _PictureBuilder(graph, path).build()


class _PictureBuilder:
    def __init__(self, graph: RuleGraph, path: DecisionPath | None):
        self.graph, self.path = graph, path
        self.policy = graph.policy
        self.nodes: dict[str, PictureNode] = {}
        self.ids: dict[tuple[str, str], str] = {}
        self.edges: dict[tuple, PictureEdge] = {}

    def build(self) -> Picture:
        for name, param in self.policy.parameters.items():
            self.node("parameter", name, f"{name} = {show(param.value, param.type)}")
        for name, node_id in self.graph.values.items():
            self.node("value", name, name)
        for output in self.policy.outputs:
            self.node("output", output.name, self.output_label(output))
        for name, node_id in self.graph.values.items():
            for leaf in self.leaves(node_id):
                self.edge(leaf, self.id("value", name))
        for rule_node in self.graph.rules:
            self.rule(rule_node)
        for rule_node in self.graph.rules:
            for name in rule_node.rule.overrides:
                self.edge(self.id("rule", rule_node.rule.name), self.id("rule", name), "overrides", dashed=True,
                          on_path=self.path is not None and rule_node.rule.name in self.path.fired
                          and name in self.path.overridden)
        if self.path is not None:
            self.mark_path()
        order = {k: i for i, k in enumerate(KINDS)}
        nodes = sorted(self.nodes.values(), key=lambda n: order[n.kind])  # stable within a kind
        title = self.policy.name or "policy"
        return Picture(title, tuple(nodes), tuple(self.edges.values()))

    # nodes and edges
    def id(self, kind: str, name: str) -> str:
        key = (kind, name)
        if key not in self.ids:
            prefix = {"input": "in", "parameter": "p", "value": "v", "condition": "c", "rule": "r",
                      "output": "o"}[kind]
            base = f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', name)}"
            used = set(self.ids.values())
            candidate, n = base, 2
            while candidate in used:
                candidate, n = f"{base}_{n}", n + 1
            self.ids[key] = candidate
        return self.ids[key]

    def node(self, kind: str, name: str, label: str) -> str:
        node_id = self.id(kind, name)
        if node_id not in self.nodes:
            self.nodes[node_id] = PictureNode(node_id, kind, label)
        return node_id

    def edge(self, source: str, target: str, label: str | None = None, dashed: bool = False,
             on_path: bool = False) -> None:
        key = (source, target, label)
        if key not in self.edges:
            self.edges[key] = PictureEdge(source, target, label, dashed, on_path)

    def leaves(self, node_id: int) -> list[str]:
        """The named nodes an expression reads, through its unnamed subexpressions."""
        found: list[str] = []
        stack, seen = [node_id], set()
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            node = self.graph.nodes[current]
            named = self.named(node.expr)
            if named is None:
                stack.extend(reversed(node.uses))
            elif named not in found:
                found.append(named)
        return found

    def named(self, expr: ir.Expr) -> str | None:
        """The picture node of a named expression (a field, parameter or value), else None."""
        if isinstance(expr, ir.Input):
            return self.node("input", ".".join(expr.path), ".".join(expr.path))
        if isinstance(expr, ir.Param):
            return self.id("parameter", expr.name)
        if isinstance(expr, ir.Value):
            return self.id("value", expr.name)
        if isinstance(expr, ir.Const) and isinstance(expr.type, T.TableType):  # fixed, like a parameter
            table = self.policy.tables[expr.type.name]
            keys = ", ".join(t.name if isinstance(t, T.EnumType) else "text" for t in table.keys)
            rows = f"{table.row_count:,} row{'s' * (table.row_count != 1)}"
            return self.node("parameter", f"table {table.name}", f"table {table.name} by {keys} ({rows})")
        path = _element_field(expr)
        if path is not None:
            return self.node("input", path, path)
        return None

    def rule(self, rule_node) -> None:
        rule = rule_node.rule
        condition_text = _source_text(rule.condition)
        condition = self.node("condition", rule.name, condition_text)
        heading = f"rule {rule.name}"
        if rule.var is not None and rule.source is not None:
            heading += f"\nfor each {rule.var} in {_source_text(rule.source)}"
        if rule.citations:  # the clauses by name; a quoted text is too long for a node
            heading += "\ncites " + ", ".join(name or "a quoted text" for name, _ in rule.citations)
        rule_id = self.node("rule", rule.name, heading)
        for leaf in self.leaves(rule_node.condition):
            self.edge(leaf, condition)
        self.edge(condition, rule_id)
        if rule_node.source is not None:
            for leaf in self.leaves(rule_node.source):
                self.edge(leaf, rule_id, "for each", dashed=True)
        for effect, value_id in zip(rule.effects, rule_node.effect_values):
            if value_id is not None:
                for leaf in self.leaves(value_id):
                    self.edge(leaf, rule_id, dashed=True)
            output = self.id("output", "outcome" if effect.kind == "outcome" else effect.output or "")
            if effect.kind == "note" or output not in self.nodes:
                continue  # nothing to draw, or a policy without `output outcome`
            label = {"outcome": effect.output, "set": "set"}.get(effect.kind) or ("+" if effect.sign > 0 else "−")
            if effect.kind == "outcome" and self.policy.items is not None:  # docs/per-item.md
                label += " (its item)" if rule.per_item else " (every item)"
            self.edge(rule_id, output, label)

    def output_label(self, output) -> str:
        words = {"outcome": "", "total": " (total)", "set": ""}[output.kind]
        label = output.name + words
        items = self.policy.items
        if output.kind == "outcome" and items is not None:
            label += f"\nfor each {items.var} in {_source_text(items.source)}"
        if self.path is not None and output.name in self.path.outputs:
            value = self.path.outputs[output.name]
            shown = " to ".join(value) if isinstance(value, list) else ("none" if value is None else value)
            label += f"\n= {shown}"
        return label

    # the path of one decision
    def mark_path(self) -> None:
        path = self.path
        states: dict[str, str] = {}
        for rule_node in self.graph.rules:
            name = rule_node.rule.name
            held = path.conditions.get(name)
            condition_id, rule_id = self.id("condition", name), self.id("rule", name)
            node = self.nodes[condition_id]
            if held is None:
                states[condition_id] = "off"
                self.nodes[condition_id] = attrs.evolve(node, label=node.label + "\n(not known)")
            else:
                count, total = held
                states[condition_id] = "true" if count else "false"
                suffix = ("true" if count else "false") if rule_node.source is None \
                    else f"true for {count} of {total}"
                self.nodes[condition_id] = attrs.evolve(node, label=f"{node.label}\n[{suffix}]")
            states[rule_id] = ("fired" if name in path.fired else
                               "overridden" if name in path.overridden else "off")
        for output in self.policy.outputs:
            output_id = self.id("output", output.name)
            fed = any(e.target == output_id and states.get(e.source) == "fired" for e in self.edges.values())
            states[output_id] = "on" if fed or output.kind == "outcome" else "off"
        for key, edge in list(self.edges.items()):
            source, target = states.get(edge.source), states.get(edge.target)
            on = (target == "true" and edge.source not in states) \
                or (source == "true" and target in ("fired", "overridden")) \
                or (source == "fired" and target == "on") \
                or (source is None and target in ("fired", "overridden") and edge.dashed) \
                or edge.on_path
            self.edges[key] = attrs.evolve(edge, on_path=on)
        changed = True
        while changed:  # a field, parameter or value that leads into the path is on it too
            changed = False
            for key, edge in self.edges.items():
                if not edge.on_path and edge.target not in states and any(
                        e.source == edge.target and e.on_path for e in self.edges.values()):
                    self.edges[key] = attrs.evolve(edge, on_path=True)
                    changed = True
        for node_id, node in self.nodes.items():
            if node_id in states:
                self.nodes[node_id] = attrs.evolve(self.nodes[node_id], state=states[node_id])
            else:  # a field, parameter or value: on the path if it leads into it
                on = any(e.source == node_id and e.on_path for e in self.edges.values())
                self.nodes[node_id] = attrs.evolve(node, state="on" if on else "off")


def _element_field(expr: ir.Expr) -> str | None:
    """`item.price`: a field of the element a rule or a list expression is looking at."""
    names = []
    while isinstance(expr, ir.FieldOf):
        names.append(expr.name)
        expr = expr.base
    if names and isinstance(expr, ir.Var):
        return ".".join([expr.name] + names[::-1])
    return None


def _source_text(expr: ir.Expr) -> str:
    if expr.span is not None:
        return " ".join(expr.span.text.split())
    if isinstance(expr, ir.Const):
        return str(expr.value).lower() if isinstance(expr.value, bool) else str(expr.value)
    return "…"


def _wrap(text: str, width: int = _WRAP) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return lines


# ---- Mermaid ------------------------------------------------------------------------------------

_MERMAID_SHAPES = {
    "input": ('[/"', '"/]'),
    "parameter": ('{{"', '"}}'),
    "value": ('(["', '"])'),
    "condition": ('{"', '"}'),
    "rule": ('("', '")'),
    "output": ('[["', '"]]'),
}
_MERMAID_CLASSES = {
    "input": "fill:#e3f2fd,stroke:#1565c0,color:#0d2a4a",
    "parameter": "fill:#fff3e0,stroke:#ef6c00,color:#4a2500",
    "value": "fill:#ede7f6,stroke:#5e35b1,color:#251450",
    "condition": "fill:#fffde7,stroke:#9e9d24,color:#33320a",
    "rule": "fill:#e8f5e9,stroke:#2e7d32,color:#0f2e12",
    "output": "fill:#fce4ec,stroke:#ad1457,color:#45081f",
}
_MERMAID_STATES = {
    "true": "stroke:#2e7d32,stroke-width:3px",
    "false": "stroke:#c62828,stroke-width:2px,stroke-dasharray:4 3",
    "fired": "stroke:#1b5e20,stroke-width:4px",
    "overridden": "stroke:#ef6c00,stroke-width:3px,stroke-dasharray:6 3",
    "off": "opacity:0.45",
    "on": "stroke-width:3px",
}


def to_mermaid(pic: Picture) -> str:
    """A Mermaid flowchart, left to right (GitHub renders it in Markdown)."""
    out = [f"%% {pic.title}: rule graph (rpl graph)", "flowchart LR"]
    for kind, style in _MERMAID_CLASSES.items():
        out.append(f"  classDef {kind} {style}")
    if any(n.state for n in pic.nodes):
        for state, style in _MERMAID_STATES.items():
            out.append(f"  classDef {state} {style}")
    for node in pic.nodes:
        left, right = _MERMAID_SHAPES[node.kind]
        label = "<br/>".join(_mermaid_text(line) for line in _wrap(node.label))
        out.append(f"  {node.id}{left}{label}{right}")
    on_path = []
    for index, edge in enumerate(pic.edges):
        arrow = "-.->" if edge.dashed else "-->"
        if edge.on_path:
            arrow = "==>"
            on_path.append(index)
        label = f"|{_mermaid_text(edge.label)}|" if edge.label else ""
        out.append(f"  {edge.source} {arrow}{label} {edge.target}")
    for kind in KINDS:
        members = [n.id for n in pic.nodes if n.kind == kind]
        if members:
            out.append(f"  class {','.join(members)} {kind}")
    for state in _MERMAID_STATES:
        members = [n.id for n in pic.nodes if n.state == state]
        if members:
            out.append(f"  class {','.join(members)} {state}")
    if on_path:
        out.append(f"  linkStyle {','.join(map(str, on_path))} stroke:#1b5e20,stroke-width:3px")
    return "\n".join(out) + "\n"


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: quotes and markup characters as entities."""
    return (text.replace("#", "#35;").replace("&", "#38;").replace('"', "#34;").replace("<", "#60;")
            .replace(">", "#62;").replace("|", "#124;"))


# ---- Graphviz -----------------------------------------------------------------------------------

_DOT_SHAPES = {
    "input": {"shape": "parallelogram", "style": "filled", "fillcolor": "#e3f2fd", "color": "#1565c0"},
    "parameter": {"shape": "hexagon", "style": "filled", "fillcolor": "#fff3e0", "color": "#ef6c00"},
    "value": {"shape": "box", "style": "rounded,filled", "fillcolor": "#ede7f6", "color": "#5e35b1"},
    "condition": {"shape": "diamond", "style": "filled", "fillcolor": "#fffde7", "color": "#9e9d24"},
    "rule": {"shape": "box", "style": "filled,bold", "fillcolor": "#e8f5e9", "color": "#2e7d32"},
    "output": {"shape": "doubleoctagon", "style": "filled", "fillcolor": "#fce4ec", "color": "#ad1457"},
}
_DOT_STATES = {
    "true": {"penwidth": "3", "color": "#2e7d32"},
    "false": {"penwidth": "2", "color": "#c62828", "style": "filled,dashed"},
    "fired": {"penwidth": "4", "color": "#1b5e20"},
    "overridden": {"penwidth": "3", "color": "#ef6c00", "style": "filled,dashed"},
    "off": {"fontcolor": "#9e9e9e", "color": "#bdbdbd", "fillcolor": "#f5f5f5"},
    "on": {"penwidth": "2"},
}


def to_dot(pic: Picture) -> str:
    """A Graphviz digraph, left to right."""
    out = [f"// {pic.title}: rule graph (rpl graph)",
           "digraph rules {",
           "  rankdir=LR;",
           f"  label={_dot_string(pic.title)}; labelloc=t; fontname=\"Helvetica\";",
           '  node [fontname="Helvetica", fontsize=11];',
           '  edge [fontname="Helvetica", fontsize=10, color="#607d8b"];']
    for kind in KINDS:
        members = [n for n in pic.nodes if n.kind == kind]
        if not members:
            continue
        out.append(f"  // {kind}s")
        for node in members:
            attributes = {"label": "\n".join(_wrap(node.label)), **_DOT_SHAPES[kind],
                          **_DOT_STATES.get(node.state, {})}
            out.append(f"  {node.id} [{', '.join(f'{k}={_dot_string(v)}' for k, v in attributes.items())}];")
    out.append("  // edges")
    for edge in pic.edges:
        attributes = []
        if edge.label:
            attributes.append(f"label={_dot_string(edge.label)}")
        if edge.dashed:
            attributes.append("style=dashed")
        if edge.on_path:
            attributes.append('color="#1b5e20", penwidth=3')
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        out.append(f"  {edge.source} -> {edge.target}{suffix};")
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


class GraphvizMissing(RuntimeError):
    """Graphviz's `dot` is not installed, so there is no SVG."""


GRAPHVIZ_HELP = ("Graphviz is not installed: `rpl graph --format svg` runs its `dot` program.\n"
                 "Install it with `apt-get install graphviz` (Debian, Ubuntu), `brew install graphviz`\n"
                 "(macOS), `choco install graphviz` (Windows) or see https://graphviz.org/download/;\n"
                 "or draw without it: `--format mermaid` (GitHub shows it) or `--format dot`.")


def to_svg(dot_text: str) -> str:
    """SVG through Graphviz's `dot`; raises GraphvizMissing if it is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing(GRAPHVIZ_HELP)
    done = subprocess.run([dot, "-Tsvg"], input=dot_text.encode("utf-8"), capture_output=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout.decode("utf-8")
