"""Syntax errors in a policy owner's words: what was found, what could come there, and a fix."""
from __future__ import annotations

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .errors import Diagnostic
from .span import Source, Span

# How each kind of token is called in a message.
_TOKEN_WORDS = {
    "NAME": "a name", "STRING": "a quoted text", "DATE": "a date like 2026-03-02",
    "DURATION": "a duration like `14 days`", "PERCENT": "a percentage like `15%`",
    "DECIMAL": "an amount like `0.00`", "INT": "a whole number", "COMPARE": "a comparison",
    "ADD_OP": "`+` or `-`", "MUL_OP": "`*` or `/`", "AGGREGATE": "`sum of`, `count of`, ...",
    "QUANTIFIER": "`any`, `every` or `no`", "DAYS_FROM": "`days from`",
    "OVERRIDES_ALL": "`overrides all other rules`", "TOTAL": "`total`",
    "DATE_RANGE_TYPE": "`date range`", "$END": "the end of the file",
}

# The words that may start a declaration, to say what a stray line should have been.
DECLARATION_KEYWORDS = ("policy", "version", "currency", "calendar", "clause", "parameter",
                        "enum", "record", "request", "let", "outcomes", "rule", "output")


def _words_for(terminal: str, lark: Lark) -> str:
    if terminal in _TOKEN_WORDS:
        return _TOKEN_WORDS[terminal]
    for t in lark.terminals:
        if t.name == terminal and t.pattern.type == "str":
            return f"`{t.pattern.value}`"
    return terminal.lower()


def _expected(terminals, lark: Lark) -> list[str]:
    words = sorted({_words_for(t, lark) for t in terminals})
    return words


def _found(token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type == "STRING":
        return "a quoted text"
    return f"`{token}`"


def describe_syntax_error(error: UnexpectedInput, source: Source, offset: int, lark: Lark,
                          hole: bool = False) -> Diagnostic:
    """Turn Lark's error at `offset` into the source into a located, plain-words diagnostic."""
    if isinstance(error, UnexpectedCharacters):
        start = offset + error.pos_in_stream
        char = source.text[start:start + 1]
        span = Span(source, start, start + 1)
        if char == '"':
            return Diagnostic("RPL002", "this quoted text is never closed", span,
                              'end the text with a `"` on the same declaration')
        if char == "=" and source.text[start:start + 2] == "==":
            return Diagnostic("RPL001", "`==` is not rpl", Span(source, start, start + 2),
                              "write `is` to compare values, like `kind is return`")
        if char == "!" :
            return Diagnostic("RPL001", "`!=` is not rpl", Span(source, start, start + 2),
                              "write `is not`, like `kind is not exchange`")
        if char == "%":
            return Diagnostic("RPL001", "a `%` must follow a number directly", span,
                              "write percentages like `15%`")
        return Diagnostic("RPL001", f"unexpected character `{char}`", span,
                          _hint_for_expected(error.allowed or (), lark))
    if isinstance(error, UnexpectedToken):
        token = error.token
        if token.type == "$END":
            end = offset + len(source.text[offset:].rstrip()) if not hole else offset
            span = Span(source, max(end - 1, 0), max(end, 1))
            return Diagnostic("RPL001", "the declaration ends too early", span,
                              _hint_for_expected(error.expected, lark))
        start = offset + token.start_pos
        span = Span(source, start, offset + token.end_pos)
        expected = error.expected
        if str(token) in DECLARATION_KEYWORDS and "NAME" not in expected:
            return Diagnostic("RPL001", f"the declaration before this `{token}` is not finished",
                              span, _hint_for_expected(expected, lark))
        return Diagnostic("RPL001", f"unexpected {_found(token)}", span,
                          _hint_for_expected(expected, lark))
    if isinstance(error, UnexpectedEOF):
        end = offset + len(source.text)
        return Diagnostic("RPL001", "the declaration ends too early",
                          Span(source, max(end - 1, 0), end), None)
    return Diagnostic("RPL001", "this text cannot be read", None, None)


def _hint_for_expected(expected, lark: Lark) -> str | None:
    words = _expected(expected, lark)
    if not words:
        return None
    if len(words) > 8:
        return None
    if len(words) == 1:
        return f"expected {words[0]} here"
    return f"expected one of: {', '.join(words)}"
