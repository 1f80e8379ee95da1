"""Where things are, in the editor's terms: the one place that converts positions.

Python counts a string in code points; LSP counts a line's characters in UTF-16 code units,
unless client and server agreed on UTF-8 bytes or UTF-32 (Neovim and Helix ask for UTF-8 first);
and LSP ends a line at `\\r\\n`, `\\r` or `\\n`. Every feature speaks character offsets into the
document's text (as the spans of the parser do) and converts here, at the edge.
"""
from __future__ import annotations

import bisect
import re

from lsprotocol import types as lsp

from rplang.policy_lang.span import Span

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _units_utf16(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _units_utf8(ch: str) -> int:
    code = ord(ch)
    return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4


_UNITS = {"utf-16": _units_utf16, "utf-8": _units_utf8, "utf-32": lambda ch: 1}


class Lines:
    """The lines of one version of a document, to convert offsets and LSP positions both ways."""

    def __init__(self, text: str, encoding: str = "utf-16"):
        self.text = text
        self.encoding = encoding if encoding in _UNITS else "utf-16"
        self._units = _UNITS[self.encoding]
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def _line_end(self, line: int) -> int:
        """The offset where a line's text stops (before its line break)."""
        if line + 1 < len(self.starts):
            end = self.starts[line + 1]
            return end - (2 if self.text[end - 2:end] == "\r\n" else 1)
        return len(self.text)

    def position(self, offset: int) -> lsp.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        offset = min(offset, self._line_end(line))  # an offset inside `\r\n` is its line's end
        return lsp.Position(line, self._length(self.text[start:offset]))

    def offset(self, position: lsp.Position) -> int:
        """The offset of an LSP position; one past a line's end clamps to that end, as LSP says."""
        if position.line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[position.line], self._line_end(position.line)
        units, offset = 0, start
        while offset < end and units < position.character:
            units += self._units(self.text[offset])
            offset += 1
        return offset

    def _length(self, text: str) -> int:
        if text.isascii():
            return len(text)
        return sum(map(self._units, text))

    def range(self, start: int, end: int) -> lsp.Range:
        return lsp.Range(self.position(start), self.position(end))

    def span_range(self, span: Span) -> lsp.Range:
        return self.range(span.start, span.end)

    def whole(self) -> lsp.Range:
        return self.range(0, len(self.text))


