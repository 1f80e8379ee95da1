"""Hover: what a name is, in the words of the checked policy (types, labels, values, clause text)."""
from __future__ import annotations

from lsprotocol import types as lsp

from rplang.compiler import ir
from rplang.compiler.checked import CheckedPolicy
from rplang.compiler.show import show
from rplang.policy_lang import ast

from .index import Key
from .queries import Analysis, symbol_at


def register(server) -> None:
    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    def hover(ls, params: lsp.HoverParams) -> lsp.Hover | None:
        analysis = ls.analysis(params.text_document.uri)
        offset = analysis.lines.offset(params.position)
        found = symbol_at(analysis, offset)
        if found is None:
            return None
        text = describe(analysis, found.key)
        if text is None:
            return None
        where = analysis.lines.range(found.start, found.end) if analysis.current else None
        return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, text), where)


def describe(analysis: Analysis, key: Key) -> str | None:
    """Markdown about a symbol: a heading line, then what the checker knows of it."""
    kind, owner, name = key
    checked = analysis.checked_policy
    declared = analysis.index.declaration(key) if analysis.index else None
    node = declared.node if declared else None
    explain = _EXPLAIN.get(kind)
    lines = explain(name, owner, checked, node) if explain else []
    # As written: a clause only when its text has `{parameter}`s (else the text above is the same).
    as_written = kind in ("let", "rule", "variable") or (kind == "clause" and "{" in getattr(node, "text", ""))
    if declared is not None and as_written and declared.span is not None:
        lines.append(f"```rpl\n{declared.span.text.strip()}\n```")
    return "\n\n".join(lines) if lines else None


def _field(name, owner, checked: CheckedPolicy | None, node):
    where = "request" if owner == "request" else owner
    head = f"**field** `{name}` of the {where}" if owner == "request" else f"**field** `{owner}.{name}`"
    spec = None
    if checked is not None:
        spec = (checked.request if owner == "request" else checked.records.get(owner, {})).get(name)
    if spec is None:
        written = node.span.text.split(":", 1)[-1].strip() if node is not None and node.span else ""
        return [head + (f": `{written}`" if written else "")]
    out = [f"{head}: {spec.type.describe()}"]
    facts = []
    if spec.label:
        facts.append(f"label \"{spec.label}\"")
    if spec.has_default:
        facts.append(f"default {show(spec.default, spec.type)}")
    if spec.present_when:
        facts.append(f"given when `{spec.present_when}`")
    if spec.stage:
        facts.append(f"known at {spec.stage}")
    if facts:
        out.append("; ".join(facts))
    return out


def _parameter(name, owner, checked, node):
    param = checked.parameters.get(name) if checked else None
    if param is None:
        return [f"**parameter** `{name}`"]
    if isinstance(param, ir.DatedParam):
        out = [f"**parameter** `{name}`: {param.type.describe()}, by date"]
        for start, end, value, label in param.periods:
            when = " ".join(w for w in (f"from {start}" if start else "", f"until {end}" if end else "") if w)
            out.append(f"- {when}: **{show(value, param.type)}**" + (f" ({label})" if label else ""))
        if param.value is not None:
            out.append(f"- other dates: **{show(param.value, param.type)}**")
        return ["\n".join(out)]
    return [f"**parameter** `{name}` = {show(param.value, param.type)}", param.type.describe()]


def _let(name, owner, checked, node):
    value = checked.values.get(name) if checked else None
    return [f"**let** `{name}`" + (f": {value.type.describe()}" if value is not None else "")]


def _clause(name, owner, checked, node):
    text = checked.clauses.get(name) if checked else (node.text if node is not None else None)
    return [f"**clause** `{name}`"] + ([f"> {text}"] if text else [])


def _enum(name, owner, checked, node):
    members = node.members if isinstance(node, ast.EnumDecl) else ()
    return [f"**enum** `{name}`: " + ", ".join(f"`{m}`" for m in members)]


def _member(name, owner, checked, node):
    members = node.members if isinstance(node, ast.EnumDecl) else ()
    return [f"**{owner}** value `{name}`", "one of " + ", ".join(f"`{m}`" for m in members)]


def _record(name, owner, checked, node):
    fields = checked.records.get(name, {}) if checked else {}
    rows = [f"- `{f.name}`: {f.type.describe()}" for f in fields.values()]
    return [f"**record** `{name}`"] + (["\n".join(rows)] if rows else [])


def _outcome(name, owner, checked, node):
    outcomes = checked.outcomes if checked else ()
    found = next((o for o in outcomes if o.name == name), None)
    if found is None:
        return [f"**outcome** `{name}`"]
    out = [f"**outcome** `{name}` \"{found.label}\"",
           f"rank {found.rank + 1} of {len(outcomes)} (1 is the strongest)"]
    if found.overrides_all:
        out.append("overrides all other rules: when a rule gives it, no rule of another outcome applies")
    weaker = [o.name for o in outcomes if o.rank > found.rank]
    if weaker:
        out.append("stronger than " + ", ".join(f"`{w}`" for w in weaker))
    if found.rank == len(outcomes) - 1:
        out.append("the outcome when no rule gives one")
    return out


def _rule(name, owner, checked, node):
    rule = next((r for r in checked.rules if r.name == name), None) if checked else None
    if rule is None:
        return [f"**rule** `{name}`"]
    out = [f"**rule** `{name}`" + (f" → `{rule.outcome}`" if rule.outcome else "")]
    for clause, text in rule.citations:
        out.append(f"cites `{clause}`:" if clause else "cites:")
        out.append(f"> {text}")
    if rule.overrides:
        out.append("overrides " + ", ".join(f"`{o}`" for o in rule.overrides))
    return out


def _output(name, owner, checked, node):
    output = next((o for o in checked.outputs if o.name == name), None) if checked else None
    if output is None:
        return [f"**output** `{name}`"]
    if output.kind == "outcome":
        return [f"**output** `{name}`: the outcome"]
    what = output.type.describe() if output.type is not None else ""
    out = [f"**output** `{name}`: {what}" + (", a total rules add to" if output.kind == "total" else ", set by rules")]
    if output.floor is not None:
        out.append(f"at least {show(output.floor, output.type)}")
    return out


_HOVER_ROWS = 8  # rows of a table shown on hover, in the order written


def _table(name, owner, checked, node):
    table = checked.tables.get(name) if checked else None
    if table is None:
        return [f"**table** `{name}`"]
    keys = ", ".join(t.name if hasattr(t, "members") else "text" for t in table.keys)
    columns = ", ".join(f"{n}: {t.describe()}" if n else t.describe() for n, t in table.columns)
    source = f", from `{table.file.replace(chr(92), '/').rsplit('/', 1)[-1]}`" if table.file else ""
    head = f"**table** `{name}` by {keys}: {columns} ({table.row_count:,} row{'s' * (table.row_count != 1)}{source})"
    lines = []
    first = table.indexes[0]
    for key in list(dict.keys(first))[:_HOVER_ROWS]:
        cells = (key,) if len(table.keys) == 1 else key
        written = ", ".join(show(k, t) for k, t in zip(cells, table.keys))
        lines.append(f"- {written}: " + ", ".join(show(index[key], t) for index, (_, t)
                                                in zip(table.indexes, table.columns)))
    if table.row_count > _HOVER_ROWS:
        lines.append(f"- ... {table.row_count - _HOVER_ROWS:,} more")
    if first.has_otherwise:
        lines.append("- otherwise: " + ", ".join(show(index.otherwise, t) for index, (_, t)
                                                 in zip(table.indexes, table.columns)))
    return [head, "\n".join(lines)] if lines else [head]


def _variable(name, owner, checked, node):
    return [f"**variable** `{name}`"]


_EXPLAIN = {"field": _field, "parameter": _parameter, "let": _let, "clause": _clause, "enum": _enum,
            "member": _member, "record": _record, "outcome": _outcome, "rule": _rule, "output": _output,
            "variable": _variable, "table": _table}
