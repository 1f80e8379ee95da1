"""Where a piece of policy text came from: file, offsets, line and column."""
from __future__ import annotations

import bisect

import attrs


@attrs.frozen
class Source:
    """The text of one policy file and its name, shared by every span into it."""

    name: str
    text: str = attrs.field(repr=False)
    # Where each line starts, found on first use: a policy with thousands of problems must not
    # count its lines again for each one. (Lines end at "\n" only, as people number them.)
    _line_starts: list = attrs.field(init=False, factory=list, eq=False, repr=False)

    def _starts(self) -> list[int]:
        if not self._line_starts:
            starts = [0]
            find = self.text.find
            i = find("\n")
            while i >= 0:
                starts.append(i + 1)
                i = find("\n", i + 1)
            self._line_starts[:] = starts  # one step: threads that race here store the same list
        return self._line_starts

    def line_text(self, line: int) -> str:
        starts = self._starts()
        if not 0 < line <= len(starts):
            return ""
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[starts[line - 1]:end].rstrip("\r")

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        starts = self._starts()
        line = bisect.bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1


@attrs.frozen
class Span:
    """A half-open range of characters [start, end) in a source."""

    source: Source = attrs.field(repr=False)
    start: int
    end: int

    @property
    def line(self) -> int:
        return self.source.position(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.position(self.start)[1]

    @property
    def end_position(self) -> tuple[int, int]:
        return self.source.position(self.end)

    @property
    def text(self) -> str:
        return self.source.text[self.start:self.end]

    def to(self, other: "Span") -> "Span":
        """The span from the start of this one to the end of `other`."""
        return Span(self.source, min(self.start, other.start), max(self.end, other.end))

    def location(self) -> str:
        return f"{self.source.name}:{self.line}:{self.column}"
