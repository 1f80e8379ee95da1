"""The one reader of a policy's text, for the CLI, the API and every tool.

- Only a regular file is read, and at most its limit (`limits.MAX_POLICY_BYTES`): a pipe would
  wait for a writer, and a device like /dev/zero never ends. Such a path is a `NotAFile`, which
  the commands report as a bad command line (exit 64).
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

import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import Diagnostic, PolicyError
from .limits import MAX_POLICY_BYTES
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
# Control characters but the tab and the line ends: C0, DEL and C1 (in code, the grammar reads
# none of them but the form feed, as a space).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_QUOTED_OR_COMMENT = re.compile(r'"(?:\\.|[^"\\])*"|#[^\n]*')
# Half of a UTF-16 pair alone: no file holds one, but a text given by an editor or a JSON body may.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_BOM = "\ufeff"


class NotAFile(PolicyError):
    """A path given for a policy that is there but is no file (a folder where one is not read, a
    pipe, a device): the caller named the wrong thing; the policy is not at fault."""

    def __init__(self, path: str | Path, kind: str):
        self.path, self.kind = str(path), kind
        super().__init__([Diagnostic("RPL000", f"`{path}` is {kind}, not a policy file",
                                     None, "name a .rpl file")])


def file_kind(mode: int) -> str:
    """What a path that is not a regular file is, in words, from its `st_mode`."""
    return ("a folder" if stat.S_ISDIR(mode) else "a pipe" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a device")


def open_file(path: str | Path) -> BinaryIO:
    """The file at `path` opened to be read, if it is a regular file; a pipe (which would wait for
    a writer), a device (/dev/zero never ends), a folder or a socket is a `NotAFile`, unread.
    Raises OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a pipe's open would wait
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotAFile(path, file_kind(mode))
    return open(fd, "rb")


def read_policy_bytes(path: str | Path, limit: int = MAX_POLICY_BYTES) -> bytes:
    """The bytes of a policy file, never more than `limit`: a path that is no file is a
    `NotAFile` (see `open_file`); one that cannot be read or is longer than `limit` a PolicyError
    (RPL000, RPL090)."""
    try:
        with open_file(path) as f:
            return read_policy_stream(f, f"`{path}`", limit)
    except OSError as error:
        raise PolicyError([Diagnostic("RPL000", f"cannot read the policy `{path}`: {error.strerror or error}")]) from None


def read_policy_stream(stream: BinaryIO, name: str, limit: int = MAX_POLICY_BYTES) -> bytes:
    """The bytes of a policy from a stream (stdin, a file), never more than `limit` (one more is
    read, to see that there are more): longer is a PolicyError (RPL090). Raises OSError."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise PolicyError([Diagnostic(
            "RPL090", f"the policy {name} is longer than the limit of {limit:,} bytes", None,
            "split it into smaller policies, or move long texts out of it")])
    return data


def read_policy_file(path: str | Path) -> str:
    """The text of a policy file (read by `read_policy_bytes`, decoded by `policy_text`); a file
    that cannot be read, or is not UTF-8, is a PolicyError (RPL000) that says where."""
    path = Path(path)
    return policy_text(read_policy_bytes(path), path)


def policy_text(data: bytes, path: str | Path) -> str:
    """A policy's bytes as text: UTF-8, else a PolicyError (RPL000) with the place of the first bad
    byte. A leading byte order mark is dropped, as it is from a request: Notepad and PowerShell
    write one, and it is no character of the policy."""
    try:
        text = data.decode("utf-8")
        return text[1:] if text.startswith(_BOM) else text
    except UnicodeDecodeError as error:
        shown = data.decode("utf-8", "replace")
        at = len(data[:error.start].decode("utf-8", "replace"))
        raise PolicyError([Diagnostic(
            "RPL000", f"cannot read the policy `{path}`: not UTF-8 text ({error.reason} at byte {error.start:,})",
            Span(Source(str(path), shown), at, at + 1), "save the file as UTF-8")]) from None


def encodable(text: str) -> bool:
    """Whether a text can be written as UTF-8: it holds no lone surrogate, as a JSON body's
    `"\\ud800"` may, or a text read with surrogateescape where a byte was not UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_characters(source: Source) -> list[Diagnostic]:
    """Errors for characters rpl does not read: a lone carriage return, a bidi control outside
    comments, a control character in quoted text, a lone surrogate."""
    text = source.text
    problems = [Diagnostic(
        "RPL008", "a carriage return alone: lines end with a line feed here", Span(source, m.start(), m.start() + 1),
        "save the file with `\\n` (or `\\r\\n`) line ends") for m in _LONE_CR.finditer(text)] if "\r" in text else []
    problems += [Diagnostic(
        "RPL008", f"the control character U+{ord(text[at]):04X} in quoted text: a reader does not see it, and a "
        "terminal that shows the explanation runs it", Span(source, at, at + 1),
        "remove it (a tab, and a line break written as one, are kept)") for at in _controls_in_quoted_text(text)]
    problems += [Diagnostic(
        "RPL008", f"a lone surrogate U+{ord(m.group()):04X}: half of a UTF-16 pair, not a character",
        Span(source, m.start(), m.start() + 1), "remove it: no file can hold it")
        for m in _LONE_SURROGATE.finditer(text)]
    problems += [Diagnostic(
        "RPL008", f"the invisible character {_name(text[at])} changes how the text around it is displayed",
        Span(source, at, at + 1), "remove it: what a reader sees would not be what rpl reads")
        for at, in_comment in bidi_controls(text) if not in_comment]
    return problems


def _controls_in_quoted_text(text: str) -> list[int]:
    """The offsets of control characters inside quoted text (in code, the grammar refuses them;
    in a comment, they do nothing)."""
    if not _CONTROL.search(text):
        return []
    return [m.start() + c.start() for m in _QUOTED_OR_COMMENT.finditer(text) if m.group()[0] == '"'
            for c in _CONTROL.finditer(m.group())]


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
