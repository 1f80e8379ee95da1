"""The impact of a policy change: decide the same requests under both versions and compare."""
from __future__ import annotations

import difflib
import heapq
from decimal import Decimal

import attrs

from rplang.policy_lang.errors import RplError

from .decide import CompiledPolicy
from .request_text import read_request_json


@attrs.frozen
class ChangedRequest:
    """A request decided differently, with both decisions."""
    line: int
    kind: str  # "outcome" (a flip), "money" (an amount changed), or "other"
    outputs_before: dict
    outputs_after: dict
    explanation_before: str
    explanation_after: str
    money_delta: str | None = None  # the largest change of an amount, signed, when one changed
    items: tuple = ()  # outcomes per item: each item whose outcome or amounts changed
    place: str | None = None  # how a report names it where it is not a line of a file (a Parquet row, a key)


@attrs.define
class Impact:
    """How many decisions changed, how, and by how much."""
    total: int = 0
    rejected: int = 0
    changed: int = 0
    outcome_changes: dict = attrs.field(factory=dict)  # (before, after) -> count
    money: dict = attrs.field(factory=dict)  # output -> {"changed": n, "delta": Decimal}
    other_changes: dict = attrs.field(factory=dict)  # output -> count
    examples: list[ChangedRequest] = attrs.field(factory=list)  # the most severe first
    money_changed: int = 0  # decisions in which an amount changed
    examples: list[ChangedRequest] = attrs.field(factory=list)
    item_outcome_changes: dict = attrs.field(factory=dict)  # outcomes per item: (before, after) -> items

    def to_json(self) -> dict:
        data = {
            "requests": self.total, "rejected": self.rejected, "changed": self.changed,
            "outcome_changed": sum(self.outcome_changes.values()), "money_changed": self.money_changed,
            "outcomes": [{"from": a, "to": b, "count": n} for (a, b), n in sorted(self.outcome_changes.items())],
            "money": {k: {"changed": v["changed"], "total_delta": f"{v['delta']:.2f}"} for k, v in self.money.items()},
            "other_outputs": self.other_changes,
            # `items` only where items changed, `place` only where given: `rpl diff`'s reads as before
            "examples": [{k: v for k, v in attrs.asdict(e).items() if k not in ("items", "place") or v}
                         for e in self.examples],
        }
        if self.item_outcome_changes:
            data["item_outcomes"] = [{"from": a, "to": b, "count": n}
                                     for (a, b), n in sorted(self.item_outcome_changes.items(), key=str)]
        return data


@attrs.frozen
class _Candidate:
    """A changed request kept as a possible example: its request, not yet explained."""
    line: int
    data: object
    before: dict
    after: dict
    delta: Decimal  # the largest change of an amount, signed (0 when none changed)


class Decided:
    """One policy's decisions on the lines of a corpus, made as they are first asked for and then
    kept: when edit after edit is compared with the same saved policy (the workbench), its side of
    the comparison is the same every time."""

    def __init__(self, policy: CompiledPolicy):
        self.policy = policy
        self._lines: dict[int, tuple] = {}  # line number -> (line, request, decision or error)

    def decide(self, number: int, line: str) -> tuple[object, object]:
        """The request of line `number` and its decision; raises the RplError it met."""
        kept = self._lines.get(number)
        if kept is None or kept[0] != line:
            data, result = None, None
            try:
                data = read_request_json(line)
                result = self.policy.decide(data)
            except RplError as error:
                result = error
            kept = self._lines[number] = (line, data, result)
        if isinstance(kept[2], RplError):
            raise kept[2]
        return kept[1], kept[2]


def compare(before: CompiledPolicy, after: CompiledPolicy, lines, show: int = 3,
            decided: Decided | None = None) -> Impact:
    """Decide each JSON line under both policies; a line either rejects is counted, not compared.
    `decided`, the decisions of `before` kept from an earlier comparison, saves deciding them again.

    The examples are the most severe changes: up to `show` per outcome transition (in the
    order of the lines), then the `show` largest changes of an amount, then `show` others. A
    line may be the error its reader met instead (a line too long, skipped unread): rejected."""
    def decide_afresh(number: int, line: str) -> tuple[object, object]:  # kept nowhere: `rpl diff`
        data = read_request_json(line)
        return data, before.decide(data)

    decide_before = decided.decide if decided is not None and decided.policy is before else decide_afresh
    impact = Impact()
    money_outputs = [name for name, t in after.output_types.items()
                     if name in before.output_types and _is_money(t)]
    flips: dict[tuple, list[_Candidate]] = {}
    by_amount: list[tuple[Decimal, int, _Candidate]] = []  # a heap of the largest changes
    others: list[_Candidate] = []
    for number, line in enumerate(lines, 1):
        if isinstance(line, RplError):
            impact.total += 1
            impact.rejected += 1
            continue
        if not line.strip():
            continue
        impact.total += 1
        try:
            data, old = decide_before(number, line)
            new = after.decide(data)
        except RplError:  # a request refused, or one either policy cannot decide
            impact.rejected += 1
            continue
        a, b = old.outputs_json(), new.outputs_json()
        items = _item_changes(old, new)
        if a == b and not items:
            continue
        for item in items:
            key = (item["outcome_before"], item["outcome_after"])
            if key[0] != key[1]:
                impact.item_outcome_changes[key] = impact.item_outcome_changes.get(key, 0) + 1
        impact.changed += 1
        delta = Decimal(0)
        for name in set(a) | set(b):
            if a.get(name) == b.get(name) or name == "outcome":
                continue
            if name in money_outputs:
                entry = impact.money.setdefault(name, {"changed": 0, "delta": Decimal("0.00")})
                entry["changed"] += 1
                change = Decimal(b[name] or "0") - Decimal(a[name] or "0")
                entry["delta"] += change
                delta = max(delta, change, key=abs)
            else:
                impact.other_changes[name] = impact.other_changes.get(name, 0) + 1
        impact.money_changed += delta != 0
        candidate = _Candidate(number, data, a, b, delta)
        if a.get("outcome") != b.get("outcome"):
            key = (a.get("outcome"), b.get("outcome"))
            impact.outcome_changes[key] = impact.outcome_changes.get(key, 0) + 1
            kept = flips.setdefault(key, [])
            if len(kept) < show:
                kept.append(candidate)
        elif delta:
            heapq.heappush(by_amount, (abs(delta), -number, candidate))
            if len(by_amount) > show:
                heapq.heappop(by_amount)
        elif len(others) < show:
            others.append(candidate)
    chosen = [(c, "outcome") for key in sorted(flips, key=lambda k: (-impact.outcome_changes[k], k))
              for c in flips[key]]
    chosen += [(c, "money") for _, _, c in sorted(by_amount, reverse=True)]
    chosen += [(c, "other") for c in others]
    impact.examples = [_explained(before, after, c, kind) for c, kind in chosen]
    return impact


def _explained(before: CompiledPolicy, after: CompiledPolicy, c: _Candidate, kind: str) -> ChangedRequest:
    old, new = before.decide(c.data), after.decide(c.data)
    return ChangedRequest(c.line, kind, c.before, c.after, old.explain_text(), new.explain_text(),
                          f"{c.delta:+.2f}" if c.delta else None, tuple(_item_changes(old, new)))
def _item_changes(old, new) -> list[dict]:
    """Outcomes per item (docs/per-item.md): each item, by its JSON path, whose outcome or
    amounts differ; an item one version does not decide has the outcome None there."""
    if old.items is None and new.items is None:
        return []
    before = {i["element"]: i for i in (old.to_json().get("items") or [])}
    after = {i["element"]: i for i in (new.to_json().get("items") or [])}
    changes = []
    for element in list(before) + [e for e in after if e not in before]:
        a, b = before.get(element, {}), after.get(element, {})
        if a.get("outcome") != b.get("outcome") or a.get("totals") != b.get("totals"):
            changes.append({"element": element, "name": (a or b)["name"],
                            "outcome_before": a.get("outcome"), "outcome_after": b.get("outcome"),
                            "totals_before": a.get("totals"), "totals_after": b.get("totals")})
    return changes


def _item_change_text(change: dict) -> str:
    what = [f"{change['outcome_before']} -> {change['outcome_after']}"] \
        if change["outcome_before"] != change["outcome_after"] else []
    a, b = change["totals_before"] or {}, change["totals_after"] or {}
    what += [f"{name} {a.get(name, '-')} -> {b.get(name, '-')}" for name in dict.fromkeys([*a, *b])
             if a.get(name) != b.get(name)]
    return f"{change['name'] or change['element']} ({change['element']}): {', '.join(what)}"


def _is_money(t) -> bool:
    from rplang.compiler import types as T

    return (t.inner if isinstance(t, T.OptionalType) else t) in (T.MONEY,)


def impact_text(impact: Impact, old_name: str, new_name: str, markdown: bool = False) -> str:
    """A report for people; with `markdown`, one to paste into a pull request (each example a
    collapsible section holding a unified diff of the two explanations, which GitHub colours)."""
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
    if impact.item_outcome_changes:
        lines.append("")
        changes = sorted(impact.item_outcome_changes.items(), key=str)
        if markdown:
            lines += ["| item outcome before | item outcome after | items |", "|---|---|---:|"]
            lines += [f"| {a} | {b} | {n} |" for (a, b), n in changes]
        else:
            lines.append("item outcome changes:")
            lines += [f"  {a} -> {b}: {n}" for (a, b), n in changes]
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
    for number, e in enumerate(impact.examples):
        diff = explanation_diff(e, old_name, new_name)
        heading = f"{e.place or f'request on line {e.line}'}: {_what_changed(e)}"
        lines.append("")
        if markdown:
            lines += [f"<details{' open' if number == 0 else ''}><summary>{heading}</summary>", ""]
            lines += [f"- item {_item_change_text(c)}" for c in e.items] + ([""] if e.items else [])
            lines += ["```diff", *diff, "```", "", "</details>"]
        else:
            lines.append(heading)
            lines += [f"  item {_item_change_text(c)}" for c in e.items]
            lines += [f"  {d}" for d in diff]
    return "\n".join(lines)


def _what_changed(e: ChangedRequest) -> str:
    if e.kind == "outcome":
        return f"{e.outputs_before.get('outcome')} → {e.outputs_after.get('outcome')}"
    if e.kind == "money":
        return f"an amount changes by {e.money_delta}"
    changed = [k for k in e.outputs_after if e.outputs_before.get(k) != e.outputs_after[k]]
    return "outputs change: " + ", ".join(changed) if changed else "items change"


def explanation_diff(e: ChangedRequest, old_name: str, new_name: str) -> list[str]:
    """A unified diff of the two explanations, whole (every line as context)."""
    # lines end with `\n` only: `splitlines` would also break inside a request's text (at `\r`,
    # U+2028 and others), and show a diff of lines the explanation does not have
    before, after = e.explanation_before.split("\n"), e.explanation_after.split("\n")
    return list(difflib.unified_diff(before, after, old_name, new_name, n=max(len(before), len(after)),
                                     lineterm=""))
