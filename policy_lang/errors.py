"""The one family of errors rpl raises about a policy or a request, and how they are shown."""
from __future__ import annotations

from typing import Iterable

import attrs

from .span import Span

# The source line of a diagnostic is shown with a picture of each control character (`␛` for
# ESC), one column wide as the character was: the line is printed to a terminal, which would run
# an escape. C1 controls and lone surrogates (which no output could encode) have no picture.
_SHOWN = {**{code: 0x2400 + code for code in range(0x20) if code != 0x09}, 0x7F: 0x2421,
          **{code: 0xFFFD for code in [*range(0x80, 0xA0), *range(0xD800, 0xE000)]}}


@attrs.frozen
class Diagnostic:
    """One problem: a stable code, a message, the text it is about, and a hint to fix it."""

    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    severity: str = "error"

    def render(self) -> str:
        """`file:line:col: message`, the source line, an underline, and `help: ...`."""
        if self.span is None:
            head = f"{self.severity}[{self.code}]: {self.message}"
            return head + (f"\n  help: {self.hint}" if self.hint else "")
        span = self.span
        line_no, col = span.line, span.column
        end_line, end_col = span.end_position
        text = span.source.line_text(line_no).translate(_SHOWN)
        width = (end_col - col) if end_line == line_no else (len(text) - col + 1)
        gutter = " " * len(str(line_no))
        out = [
            f"{span.location()}: {self.severity}[{self.code}]: {self.message}",
            f"{gutter} |",
            f"{line_no} | {text}",
            f"{gutter} | {' ' * (col - 1)}{'^' * max(1, width)}",
        ]
        if self.hint:
            out.append(f"{gutter} = help: {self.hint}")
        return "\n".join(out)

    def to_json(self) -> dict:
        """The problem as `rpl check --format json` gives it: code, severity, message, hint, and
        where (`file`, 1-based `line` and `column`, `end_line`, `end_column`; `null` if nowhere)."""
        data: dict = {"code": self.code, "severity": self.severity, "message": self.message,
                      "hint": self.hint, "file": None, "line": None, "column": None,
                      "end_line": None, "end_column": None}
        if self.span is not None:
            end_line, end_col = self.span.end_position
            data.update(file=self.span.source.name, line=self.span.line,
                        column=self.span.column, end_line=end_line, end_column=end_col)
        return data


class RplError(Exception):
    """Base of every error rpl raises on purpose; anything else is a bug in rpl."""


class PolicyError(RplError):
    """A policy file is broken: one or more diagnostics, all reported together."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = tuple(diagnostics)
        super().__init__(self.render())

    def render(self) -> str:
        """Every problem as `rpl check` prints it, one after the other."""
        return "\n\n".join(d.render() for d in self.diagnostics)


@attrs.frozen
class RequestProblem:
    """One thing wrong with a request: where (a JSON path), what was received, what was expected."""

    path: str
    message: str
    received: object = None

    def render(self) -> str:
        """`path: message`, as one line of a RequestError."""
        return f"{self.path}: {self.message}"

    def to_json(self) -> dict:
        """`{"path", "message", "received"}`: where, what is wrong, and the value received."""
        return {"path": self.path, "message": self.message, "received": self.received}


class RequestError(RplError):
    """A request does not fit the policy's request schema; every problem is listed."""

    def __init__(self, problems: Iterable[RequestProblem]):
        self.problems = tuple(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """`the request has N problems`, then one line a problem."""
        n = len(self.problems)
        head = f"the request has {n} problem{'s' if n != 1 else ''}"
        return "\n".join([head] + [f"  {p.render()}" for p in self.problems])

    def to_json(self) -> dict:
        """`{"kind": "request_error", "message", "problems": [...]}`, as `rpl eval` prints it."""
        return {"kind": "request_error", "message": f"the request has {len(self.problems)} problem"
                + ("s" if len(self.problems) != 1 else ""),
                "problems": [p.to_json() for p in self.problems]}


class EvaluationError(RplError):
    """The policy could not be applied to a request: a division by zero, the least of no values."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A `did you mean` hint from the closest known name, or None.

    Close, as rustc's `find_best_match_for_name` decides: the same name in other letter case
    first; else at most one edit (a letter added, left out, changed, or two swapped) for every
    three letters of `word`, at least one; the fewest edits win. A short word must also keep
    most of its letters: `id` is not a misspelt `kind`, nor `ib` of `id`, and a letter alone is
    only another case of one."""
    names = list(dict.fromkeys(candidates))
    folded = word.casefold()
    same = [name for name in names if name.casefold() == folded and name != word]
    if same:
        return f"did you mean `{same[0]}`?"
    most = max(len(word), 3) // 3
    scored = []
    for name in names:
        if name == word or abs(len(name) - len(word)) > most:
            continue
        edits = _edits(folded, name.casefold(), most)
        if edits <= most and edits < len(word) and _shared_letters(folded, name.casefold()) * 2 > len(word):
            scored.append((edits, name))
    if not scored:
        return None
    import difflib
    import os

    # ties to the longest start in common (`USA`: `US`, not `SA`), the most alike by difflib's
    # measure, then by name: never the order of a set
    _, best = min(scored, key=lambda found: (
        found[0], -len(os.path.commonprefix([folded, found[1].casefold()])),
        -difflib.SequenceMatcher(None, word, found[1]).ratio(), found[1]))
    return f"did you mean `{best}`?"


def _edits(a: str, b: str, most: int) -> int:
    """The edits that make `a` into `b` (optimal string alignment: a swap of two neighbours is one),
    or `most + 1` once it is sure to be more than `most`."""
    before, row = None, list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (x != y))
            if before is not None and i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > most and min(row) > most:  # a swap reaches back two rows
            return most + 1
        before, row = row, current
    return row[-1]


def _shared_letters(a: str, b: str) -> int:
    from collections import Counter

    return sum((Counter(a) & Counter(b)).values())
