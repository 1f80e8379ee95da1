"""A decision: the outcome, the outputs, and the rules that determined them, explained on demand."""
from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Union

import attrs
import orjson

from rplang.compiler.graph import RuleNode
from rplang.compiler.types import DateRange

from . import explain

if TYPE_CHECKING:
    from .decide import CompiledPolicy
    from .evaluate import Env


@attrs.frozen
class Application:
    """One rule applying, for one element when the rule runs for each element of a list."""
    rule: RuleNode
    element: object  # the bound element (a converted record), or None
    amounts: tuple  # per effect: its value, or None
    overridden_by: str | None = None


# What the generated rule code finds: (rule index, element, effect values), cheap to make.
Found = tuple

#: A value of a decision's outputs, as Python sees it: money and percentages as `Decimal`, dates
#: as `datetime.date`, a range of dates as a `DateRange` (first, last), an outcome, a text or an
#: enum value as `str`, lists and sets of these, records as dicts; `None` where nothing set it.
OutputValue = Union[Decimal, datetime.date, DateRange, str, int, bool, list[object],
                    frozenset[object], dict[str, object], None]


class Decision:
    """The decision on one request: its outcome and outputs, and the rules that determined them.

    Made by `CompiledPolicy.decide`; everything else is worked out on demand, so a decision whose
    explanation nobody reads costs nothing more.

    Attributes:
        outcome: the outcome's name, as declared under `outcomes:` (`"approve_with_fee"`).
        outputs: every output by name, as Python values (see `OutputValue`).
        policy: the compiled policy (the version, for a history) that decided.
        version_note: for a folder of versions, which version decided and why; else `None`.
        items: for a policy whose outcomes apply to each item (`outcomes for each item in ...`),
            each item's decision (`runtime/items.py`); else `None`.
    """
    outcome: str
    outputs: dict[str, OutputValue]
    policy: CompiledPolicy
    version_note: dict[str, str] | None
    items: tuple[Any, ...] | None

    __slots__ = ("outcome", "outputs", "_applied", "_overridden", "policy", "_env", "_applications",
                 "version_note", "items")

    def __init__(self, outcome: str, outputs: dict[str, OutputValue], applied: list[Found],
                 overridden: list[tuple[Found, str]], policy: CompiledPolicy, env: Env, items=None):
        self.outcome, self.outputs, self.policy, self._env = outcome, outputs, policy, env
        self._applied, self._overridden = applied, overridden
        self._applications: tuple[Application, ...] | None = None
        self.version_note = None  # set by a PolicyHistory: which version decided, and why
        self.items = items  # per-item outcomes (runtime/items.py): each item's ItemDecision, else None

    @property
    def applied(self) -> tuple[Application, ...]:
        """The rules that determined the decision, in the order of the policy file."""
        if self._applications is None:
            rules = self.policy.graph.rules
            self._applications = tuple(Application(rules[i], element, amounts)
                                       for i, element, amounts in self._applied)
        return self._applications

    def rule_names(self) -> list[str]:
        """The names of the rules that determined the decision, as its explanation names them,
        without making their `Application`s (the decision log records them for every decision)."""
        rules = self.policy.graph.rules
        return [rules[index].rule.name for index, _, _ in self._applied]

    @property
    def overridden(self) -> tuple[Application, ...]:
        """The rules that applied but were overridden, and by what."""
        rules = self.policy.graph.rules
        return tuple(Application(rules[i], element, amounts, by)
                     for (i, element, amounts), by in self._overridden)

    def outputs_json(self) -> dict[str, Any]:
        """The outputs as JSON values: money as strings with two decimals, dates ISO, unset `null`."""
        result: dict[str, Any] = self.policy.outputs_json(self.outputs)
        return result

    def explanation(self) -> list[dict[str, Any]]:
        """Every rule that determined the decision, as JSON: its clause, sentence, facts and effects."""
        return explain.explanation_entries(self)

    def computation(self) -> dict[str, Any]:
        """Each total, step by step, as JSON: what was added and subtracted, and the floor."""
        return explain.computation(self)

    def to_json(self) -> dict[str, Any]:
        """The decision as `rpl eval` prints it: `{"outputs", "explanation", "computation"}`, and
        `"items"` when the policy decides item by item (docs/per-item.md), `"terms"` when it has
        dated terms. Keys and formats are stable."""
        data = explain.explained(self)
        if self.items is not None:
            data["items"] = explain.items_json(self)
        if self.policy.has_dated_terms:
            data["terms"] = explain.terms(self)
        return data

    def to_json_bytes(self) -> bytes:
        """`to_json()` as compact JSON in UTF-8, byte for byte `orjson.dumps(self.to_json())`
        (`rpl eval --jsonl` writes it, `rpl serve` answers with it), written without making the
        dicts: each rule's entry and the computation by generated code that fills its values in
        around parts encoded once. Raises TypeError where `orjson.dumps` would (a text that is
        not valid Unicode, an integer wider than 64 bits)."""
        more = ""  # the members after the computation, written before it is: one text is made
        if self.items is not None:
            more = ',"items":' + orjson.dumps(explain.items_json(self)).decode()
        if self.policy.has_dated_terms:
            more += ',"terms":' + orjson.dumps(explain.terms(self)).decode()
        return self.policy.explanation_code.text(self._applied, self._env, self.outputs, more).encode()

    def to_json_text(self) -> str:
        """`to_json()` as JSON text (UTF-8 characters kept as they are)."""
        return json.dumps(self.to_json(), ensure_ascii=False)

    def explain_text(self, locale: str = "en_US") -> str:
        """The explanation for people, as `rpl explain` prints it; money grouped as `locale` writes it."""
        return explain.explain_text(self, locale)


