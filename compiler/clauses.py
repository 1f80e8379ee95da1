"""Clause texts that name parameters: `within {return_window_length} of the delivery date`.

The published text is rendered from the parameters, so the text and the engine cannot disagree.
"""
from __future__ import annotations

import re

from rplang.policy_lang.errors import Diagnostic, did_you_mean
from rplang.policy_lang.span import Span

from . import ir
from .show import show

_HOLE = re.compile(r"\{([^{}]*)\}")


def describe_period(start, end) -> str:
    if start is not None and end is not None:
        return f"from {start} to {end}"
    return f"from {start}" if start is not None else f"until {end}"


def describe_dated(param: ir.DatedParam) -> str:
    """`14 days (30 days from 2026-11-15 to 2026-12-31)`, or `15% until 2026-02-28, 20% from
    2026-03-01` when the periods cover every date."""
    periods = ", ".join(f"{show(value, param.type)} {describe_period(start, end)}"
                        for start, end, value, _ in param.periods)
    if param.value is None:
        return periods
    return f"{show(param.value, param.type)} ({periods})"


def render_clause(text: str, parameters: dict[str, ir.Param], span: Span | None,
                  broken: frozenset | set = frozenset()) -> tuple[str, list[Diagnostic]]:
    """The clause with each `{parameter}` replaced by its value; problems for unknown names
    (not for `broken` ones, whose own declaration was reported wrong)."""
    problems: list[Diagnostic] = []

    def value_of(match: re.Match) -> str:
        name = match.group(1).strip()
        param = parameters.get(name)
        if isinstance(param, ir.DatedParam):
            return describe_dated(param)
        if param is not None:
            return show(param.value, param.type)
        if name in broken:  # a parameter already reported as wrong: no second error about it
            return match.group(0)
        where = span
        if span is not None:
            found = span.text.find(match.group(0))
            if found >= 0:
                where = Span(span.source, span.start + found, span.start + found + len(match.group(0)))
        problems.append(Diagnostic(
            "RPL027", f"`{name}` in this clause is not a parameter", where,
            did_you_mean(name, parameters) or "a clause may show parameters, like `{return_window_length}`"))
        return match.group(0)

    return _HOLE.sub(value_of, text), problems
