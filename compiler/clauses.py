"""Clause texts that name parameters: `within {return_window_length} of the delivery date`.

The published text is rendered from the parameters, so the text and the engine cannot disagree.
"""
from __future__ import annotations

import re

from policy_lang.errors import Diagnostic, did_you_mean
from policy_lang.span import Span

from . import ir
from .show import show

_HOLE = re.compile(r"\{([^{}]*)\}")


def render_clause(text: str, parameters: dict[str, ir.Param], span: Span | None
                  ) -> tuple[str, list[Diagnostic]]:
    """The clause with each `{parameter}` replaced by its value; problems for unknown names."""
    problems: list[Diagnostic] = []

    def value_of(match: re.Match) -> str:
        name = match.group(1).strip()
        param = parameters.get(name)
        if param is not None:
            return show(param.value, param.type)
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
