"""The one reader of a policy's text, for the CLI, the API and every tool.

- A file is read as bytes and decoded as UTF-8 here, with no newline translation: what
  `load_policy_text` gets from a string, every command gets from the file.
- Lines end with `\\n` or `\\r\\n`. A carriage return alone is refused with its location: editors
  and readers disagree on whether it ends a line, so a condition after it could be read as part
  of a comment by one and as code by another.
- Bidirectional control characters (the "Trojan Source" attack) reorder how text is displayed,
  so what a reviewer sees is not what rpl reads: refused outside comments (in code and in quoted
  text), and warned about inside them (`RPL150`, by the static checks).
"""
from __future__ import annotations

import re
from pathlib import Path

from .errors import Diagnostic, PolicyError
from .span import Source, Span

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI_NAMES = {"\u061c": "ARABIC LETTER MARK", "\u200e": "LEFT-TO-RIGHT MARK", "\u200f": "RIGHT-TO-LEFT MARK",
               "\u202a": "LEFT-TO-RIGHT EMBEDDING", "\u202b": "RIGHT-TO-LEFT EMBEDDING",
               "\u202c": "POP DIRECTIONAL FORMATTING", "\u202d": "LEFT-TO-RIGHT OVERRIDE",
               "\u202e": "RIGHT-TO-LEFT OVERRIDE", "\u2066": "LEFT-TO-RIGHT ISOLATE",
               "\u2067": "RIGHT-TO-LEFT ISOLATE", "\u2068": "FIRST STRONG ISOLATE",
               "\u2069": "POP DIRECTIONAL ISOLATE"}
_ANY_BIDI = re.compile(f"[{_BIDI}]")
# quoted text and comments as the grammar reads them, or a bidi control outside both
_LEXEMES = re.compile(f'"(?:\\\\.|[^"\\\\])*"|#[^\\n]*|[{_BIDI}]')
_LONE_CR = re.compile(r"\r(?!\n)")


def read_policy_file(path: str | Path) -> str:
    """The text of a policy file; a file that cannot be read, or is not UTF-8, is a PolicyError
    (RPL000) that says where."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise PolicyError([Diagnostic("RPL000", f"cannot read the policy `{path}`: {error.strerror or error}")]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        shown = data.decode("utf-8", "replace")
        at = len(data[:error.start].decode("utf-8", "replace"))
        raise PolicyError([Diagnostic(
            "RPL000", f"cannot read the policy `{path}`: not UTF-8 text ({error.reason} at byte {error.start:,})",
            Span(Source(str(path), shown), at, at + 1), "save the file as UTF-8")]) from None


def check_characters(source: Source) -> list[Diagnostic]:
    """Errors for characters rpl does not read: a lone carriage return, a bidi control outside
    comments."""
    text = source.text
    problems = [Diagnostic(
        "RPL008", "a carriage return alone: lines end with a line feed here", Span(source, m.start(), m.start() + 1),
        "save the file with `\\n` (or `\\r\\n`) line ends") for m in _LONE_CR.finditer(text)] if "\r" in text else []
    problems += [Diagnostic(
        "RPL008", f"the invisible character {_name(text[at])} changes how the text around it is displayed",
        Span(source, at, at + 1), "remove it: what a reader sees would not be what rpl reads")
        for at, in_comment in bidi_controls(text) if not in_comment]
    return problems


def bidi_controls(text: str) -> list[tuple[int, bool]]:
    """(offset, whether in a comment) of every bidirectional control character."""
    if not _ANY_BIDI.search(text):
        return []
    found = []
    for m in _LEXEMES.finditer(text):
        lexeme = m.group()
        if lexeme[0] in '"#':
            found += [(m.start() + b.start(), lexeme[0] == "#") for b in _ANY_BIDI.finditer(lexeme)]
        else:
            found.append((m.start(), False))
    return found


def comment_warnings(source: Source) -> list[Diagnostic]:
    """Warnings for bidi controls inside comments: harmless to rpl, misleading to a reader."""
    return [Diagnostic(
        "RPL150", f"a comment holds the invisible character {_name(source.text[at])}, which changes how "
        "the text around it is displayed", Span(source, at, at + 1),
        "remove it, unless the comment is in a right-to-left language and needs it", severity="warning")
        for at, in_comment in bidi_controls(source.text) if in_comment]


def _name(character: str) -> str:
    return f"U+{ord(character):04X} {_BIDI_NAMES[character]}"
