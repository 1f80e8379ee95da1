"""Where a piece of policy text came from: file, offsets, line and column."""
from __future__ import annotations

import attrs


@attrs.frozen
class Source:
    """The text of one policy file and its name, shared by every span into it."""

    name: str
    text: str = attrs.field(repr=False)

    def line_text(self, line: int) -> str:
        # Lines end at "\n" only, as `position` counts them (`splitlines` would also split at
        # form feeds and other separators, and show the wrong line).
        lines = self.text.split("\n")
        return lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = self.text.count("\n", 0, offset) + 1
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return line, column


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
