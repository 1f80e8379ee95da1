"""The impact of a policy change: decide the same requests under both versions and compare."""
from __future__ import annotations

from decimal import Decimal

import attrs

from rplang.policy_lang.errors import RplError

from .decide import CompiledPolicy
from .request_text import read_request_json


@attrs.frozen
class ChangedRequest:
    """A request decided differently, with both decisions."""
    line: int
    outputs_before: dict
    outputs_after: dict
    explanation_before: str
    explanation_after: str


@attrs.define
class Impact:
    """How many decisions changed, how, and by how much."""
    total: int = 0
    rejected: int = 0
    changed: int = 0
    outcome_changes: dict = attrs.field(factory=dict)  # (before, after) -> count
    money: dict = attrs.field(factory=dict)  # output -> {"changed": n, "delta": Decimal}
    other_changes: dict = attrs.field(factory=dict)  # output -> count
    examples: list[ChangedRequest] = attrs.field(factory=list)

    def to_json(self) -> dict:
        return {
            "requests": self.total, "rejected": self.rejected, "changed": self.changed,
            "outcomes": [{"from": a, "to": b, "count": n} for (a, b), n in sorted(self.outcome_changes.items())],
            "money": {k: {"changed": v["changed"], "total_delta": f"{v['delta']:.2f}"} for k, v in self.money.items()},
            "other_outputs": self.other_changes,
            "examples": [attrs.asdict(e) for e in self.examples],
        }


def compare(before: CompiledPolicy, after: CompiledPolicy, lines, show: int = 3) -> Impact:
    """Decide each JSON line under both policies; a line either rejects is counted, not compared."""
    impact = Impact()
    money_outputs = [name for name, t in after.output_types.items()
                     if name in before.output_types and _is_money(t)]
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        impact.total += 1
        try:
            data = read_request_json(line)
            old, new = before.decide(data), after.decide(data)
        except RplError:  # a request refused, or one either policy cannot decide
            impact.rejected += 1
            continue
        a, b = old.outputs_json(), new.outputs_json()
        if a == b:
            continue
        impact.changed += 1
        if a.get("outcome") != b.get("outcome"):
            key = (a.get("outcome"), b.get("outcome"))
            impact.outcome_changes[key] = impact.outcome_changes.get(key, 0) + 1
        for name in set(a) | set(b):
            if a.get(name) == b.get(name) or name == "outcome":
                continue
            if name in money_outputs:
                entry = impact.money.setdefault(name, {"changed": 0, "delta": Decimal("0.00")})
                entry["changed"] += 1
                entry["delta"] += Decimal(b[name] or "0") - Decimal(a[name] or "0")
            else:
                impact.other_changes[name] = impact.other_changes.get(name, 0) + 1
        if len(impact.examples) < show:
            impact.examples.append(ChangedRequest(number, a, b, old.explain_text(), new.explain_text()))
    return impact


def _is_money(t) -> bool:
    from rplang.compiler import types as T

    return (t.inner if isinstance(t, T.OptionalType) else t) in (T.MONEY,)


def impact_text(impact: Impact, old_name: str, new_name: str, markdown: bool = False) -> str:
    """A report for people; with `markdown`, one to paste into a pull request."""
    lines = []
    title = f"Impact of {new_name} against {old_name}"
    lines.append(f"## {title}" if markdown else title)
    lines.append("")
    lines.append(f"{impact.changed} of {impact.total} decisions change"
                 + (f" ({impact.rejected} requests rejected by either version, not compared)" if impact.rejected else "")
                 + ".")
    if impact.outcome_changes:
        lines.append("")
        if markdown:
            lines += ["| outcome before | outcome after | requests |", "|---|---|---:|"]
            lines += [f"| {a} | {b} | {n} |" for (a, b), n in sorted(impact.outcome_changes.items())]
        else:
            lines.append("outcome changes:")
            lines += [f"  {a} -> {b}: {n}" for (a, b), n in sorted(impact.outcome_changes.items())]
    if impact.money:
        lines.append("")
        if markdown:
            lines += ["| amount | requests changed | total change |", "|---|---:|---:|"]
            lines += [f"| {k} | {v['changed']} | {v['delta']:+.2f} |" for k, v in sorted(impact.money.items())]
        else:
            lines.append("amounts:")
            lines += [f"  {k}: {v['changed']} changed, total {v['delta']:+.2f}" for k, v in sorted(impact.money.items())]
    if impact.other_changes:
        lines.append("")
        lines.append("other outputs changed: " + ", ".join(f"{k} ({n})" for k, n in sorted(impact.other_changes.items())))
    for e in impact.examples:
        lines.append("")
        lines.append(f"### request on line {e.line}" if markdown else f"request on line {e.line}:")
        lines += _side_by_side(e.explanation_before, e.explanation_after, markdown)
    return "\n".join(lines)


def _side_by_side(before: str, after: str, markdown: bool) -> list[str]:
    a, b = before.splitlines(), after.splitlines()
    width = min(max([len(x) for x in a] + [6]), 70)
    rows = [f"{'before':<{width}} | after", f"{'-' * width}-+-{'-' * 20}"]
    for i in range(max(len(a), len(b))):
        left = a[i] if i < len(a) else ""
        right = b[i] if i < len(b) else ""
        mark = " " if left == right else "*"
        rows.append(f"{left[:width]:<{width}} {mark} {right}")
    return ["```", *rows, "```"] if markdown else [f"  {r}" for r in rows]
