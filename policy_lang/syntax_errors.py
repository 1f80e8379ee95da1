"""Syntax errors in a policy owner's words: what was found, what could come there, and a fix.

Lark reports a syntax error as "unexpected token, expected one of these terminals". A policy
owner needs the mistake named instead ("missing `:` after the rule's name"), located where the
fix goes, with the fix. Three sources of names, tried in order:

1. the mistakes people bring from elsewhere, recognised by the text itself: `==`, `15 percent`,
   curly quotes, `$25.00`, a quote never closed;
2. a table of typical broken inputs (`syntax_examples.EXAMPLES`), matched with Lark's
   `UnexpectedInput.match_examples`: the parser state at the error names the place;
3. small repairs, tried on the declaration alone: a misspelled keyword replaced, a missing
   `:` or `then` or `)` inserted, a repeated word removed. A repair counts when the parser then
   gets past the place it stopped.
"""
from __future__ import annotations

import difflib
import re
from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .errors import Diagnostic
from .span import Source, Span
from . import syntax_examples
from .syntax_text import (DECLARATION_KEYWORDS, DECLARATION_LINE, INDENTED_LET, ISO_DATE, ISO_DATE_AT_END,
                          NUMERIC_DATE, Piece, RULE_PART_WORDS, date_hint, expected_hint, found_text,
                          keyword_terminals, numeric_date_hint, piece_after, piece_at, piece_before,
                          pieces_of, shortened, type_like, words_for)

# ---- Entry point -------------------------------------------------------------------------------

def describe_syntax_error(error: UnexpectedInput, source: Source, offset: int, lark: Lark,
                          hole: bool = False, end: int | None = None, text: str | None = None) -> Diagnostic:
    """Turn Lark's error in the declaration at [offset, end) of `text` into a plain-words diagnostic.

    `text` is the policy text as being parsed (repairs keep every offset of `source.text`);
    `hole` says the declaration is the expression of a `{...}` in a sentence.
    """
    text = source.text if text is None else text
    end = len(text) if end is None else end
    ctx = _Context(error, source, text, offset, end, lark, "expr" if hole else "policy")
    try:
        return ctx.describe()
    except RecursionError:  # deeply nested input: still report where, in plain words
        return Diagnostic("RPL001", "this cannot be read", ctx.span(ctx.pos, ctx.pos + 1), None)


class _Context:
    """One syntax error in its declaration: where it is, what comes before, and repairs to try."""

    def __init__(self, error, source, text, offset, end, lark, start):
        self.error, self.source, self.text = error, source, text
        self.offset, self.end, self.lark, self.start = offset, end, lark, start
        self.pieces = pieces_of(text, offset, end)
        if isinstance(error, UnexpectedToken):
            token = error.token
            if token.type == "$END" or token.start_pos is None:
                last = self.pieces[-1] if self.pieces else None
                self.pos = last.end if last else offset
                self.token_end = self.pos
            else:
                self.pos = offset + token.start_pos
                self.token_end = offset + (token.end_pos if token.end_pos is not None else token.start_pos + len(token))
        else:
            self.pos = offset + (error.pos_in_stream or 0)
            self.token_end = self.pos + 1
        self.previous = piece_before(self.pieces, self.pos)
        first = self.pieces[0] if self.pieces else None
        self.keyword = first.text if first is not None and first.kind == "word" else ""

    # -- spans
    def span(self, start: int, end: int) -> Span:
        start = max(0, min(start, len(self.source.text)))
        return Span(self.source, start, max(start, min(end, len(self.source.text))))

    def token_span(self) -> Span:
        if self.token_end <= self.pos and self.previous is not None:
            return self.span(self.previous.start, self.previous.end)
        return self.span(self.pos, max(self.token_end, self.pos + 1))

    def gap_span(self) -> Span:
        at = self.previous.end if self.previous is not None else self.pos
        return self.span(at, at)

    # -- parsing variants of the declaration
    def parse(self, variant: str) -> int | None:
        """Parse a variant of the declaration; None if it parses, else where it stops (variant offsets)."""
        try:
            self.lark.parse(variant, start=self.start)
        except UnexpectedToken as e:
            if e.token.type == "$END" or e.token.start_pos is None:
                pieces = pieces_of(variant, 0, len(variant))
                return pieces[-1].end if pieces else 0
            return e.token.start_pos
        except UnexpectedInput as e:
            return e.pos_in_stream or 0
        except Exception:  # a variant the AST cannot take is no repair
            return -1
        return None

    def repaired(self, start: int, end: int, replacement: str) -> bool:
        """Whether replacing [start, end) of the declaration gets the parser past where it stopped."""
        chunk = self.text[self.offset:self.end]
        a, b = start - self.offset, end - self.offset
        variant = chunk[:a] + replacement + chunk[b:]
        stop = self.parse(variant)
        if stop is None:
            return True
        shift = len(replacement) - (b - a)
        if stop < b + shift:  # stopped at the repair or before it
            return False
        line_end = self.text.find("\n", self.token_end)
        line_end = self.end if line_end < 0 else min(line_end, self.end)
        return stop - shift >= line_end - self.offset  # past the rest of the line it stopped on

    # -- the diagnosis
    def describe(self) -> Diagnostic:
        for check in (self.rule_let_out_of_place, self.unclosed_string, self.odd_characters, self.foreign_operators, self.units,
                      self.dates, self.dates_joined_with_to, self.header_words, self.keyword_as_name, self.misspelled_keyword,
                      self.repeated_word,
                      self.table, self.missing_word):
            found = check()
            if found is not None:
                return found
        return self.generic()

    def rule_let_out_of_place(self) -> Diagnostic | None:
        """`let` after `cites` or `when` in a rule: read as a new declaration, cut short by the
        rule's next part."""
        if not isinstance(self.error, UnexpectedToken) or self.token_text() not in RULE_PART_WORDS:
            return None
        lets = list(INDENTED_LET.finditer(self.source.text, 0, self.pos))
        if not lets or DECLARATION_LINE.search(self.source.text, lets[-1].end(), self.pos):
            return None
        let = lets[-1]
        return Diagnostic("RPL001", "a rule's `let` lines come first", self.span(let.start(1), let.end(1)),
                          "move them right after the rule's first line (`rule late for each item in items:`), "
                          "before `cites`")

    def dates_joined_with_to(self) -> Diagnostic | None:
        """`2023-10-27 to 2023-12-30`: a range of dates is written with `through`."""
        if not isinstance(self.error, UnexpectedToken) or self.token_text() != "to":
            return None
        date_before = ISO_DATE_AT_END.search(self.text[max(0, self.pos - 16):self.pos].rstrip())
        if date_before is None:
            return None
        return Diagnostic("RPL001", "two dates are joined with `through`, not `to`", self.token_span(),
                          f"write `{date_before.group()} through ...`: a range of dates, both days in it")

    def _fmt(self, template: str | None, token_text: str) -> str | None:
        if template is None:
            return None
        previous = self.previous.text if self.previous is not None else ""
        name = self.pieces[1].text if len(self.pieces) > 1 and self.pieces[1].kind == "word" else "name"
        return template.format(token=token_text, previous=previous, keyword=self.keyword, name=name)

    def token_text(self) -> str:
        piece = piece_at(self.pieces, self.pos)
        if isinstance(self.error, UnexpectedToken) and self.error.token.type != "$END":
            return shortened(str(self.error.token))
        return shortened(piece.text) if piece is not None else ""

    def unclosed_string(self) -> Diagnostic | None:
        """A quote never closed: Lark either finds no closing quote, or takes the next text's opening
        quote as the closing one and stops on the words after it."""
        if isinstance(self.error, UnexpectedCharacters) and self.text[self.pos:self.pos + 1] == '"':
            return self._unclosed_at(self.pos)
        for piece in reversed([p for p in self.pieces if p.kind == "string" and p.start < self.pos]):
            if "\n" not in piece.text:
                continue
            eol = self.text.find("\n", piece.start)
            first_line = self.text[piece.start:eol].rstrip()
            if len(first_line) < 1:
                continue
            closed = first_line + '"'
            if self.repaired(piece.start, piece.start + len(first_line), closed):
                return self._unclosed_at(piece.start)
        return None

    def _unclosed_at(self, quote: int) -> Diagnostic:
        eol = self.text.find("\n", quote)
        eol = len(self.text) if eol < 0 else eol
        line_end = quote + len(self.text[quote:eol].rstrip())
        return Diagnostic("RPL002", "this quoted text is never closed", self.span(quote, max(line_end, quote + 1)),
                          'end the text with a `"` on the same line')

    def odd_characters(self) -> Diagnostic | None:
        if not isinstance(self.error, UnexpectedCharacters):
            return None
        char = self.text[self.pos:self.pos + 1]
        span = self.span(self.pos, self.pos + 1)
        if char in "“”„":
            return Diagnostic("RPL002", f"`{char}` is a curly quote", span,
                              'write straight double quotes `"`; text pasted from a word processor often has curly ones')
        if char in "‘’'`":
            return Diagnostic("RPL002", "quoted text is written between double quotes", span,
                              'write `"..."`, not `\'...\'`')
        if char in "$€£¥":
            number = piece_after(self.pieces, self.pos + 1)
            amount = number.text if number is not None and number.kind == "number" else "25.00"
            return Diagnostic("RPL005", "write amounts without a currency sign", span,
                              f"write `{amount}`; the currency is set once for the policy, like `currency USD`")
        if char == "%":
            number = piece_before(self.pieces, self.pos)
            if number is not None and number.kind == "number":
                return Diagnostic("RPL005", "a `%` must follow the number directly", self.span(number.start, self.pos + 1),
                                  f"write `{number.text}%`, with no space")
            return Diagnostic("RPL005", "a `%` must follow a number directly", span, "write percentages like `15%`")
        if char in "!&|":
            return self.foreign_operators()
        if char == "\t":
            return None
        shown = char if char.isprintable() else repr(char)
        return Diagnostic("RPL001", f"`{shown}` cannot be used here", span,
                          expected_hint(self.error.allowed or (), self.lark))

    def foreign_operators(self) -> Diagnostic | None:
        two = self.text[self.pos:self.pos + 2]
        one = two[:1]
        if not one:
            return None
        if one == "=" and self.text[self.pos - 1:self.pos] == "=" and isinstance(self.error, UnexpectedToken):
            return Diagnostic("RPL007", "`==` is not rpl", self.span(self.pos - 1, self.pos + 1),
                              "write one `=` to give a value, and `is` to compare values")
        in_expression = isinstance(self.error, UnexpectedCharacters) or (
            "EQUAL" not in self.error.expected and self._in_expression())
        if two == "==":
            return Diagnostic("RPL007", "`==` is not rpl", self.span(self.pos, self.pos + 2),
                              "write `is` to compare values, like `kind is return`")
        if two == "!=":
            return Diagnostic("RPL007", "`!=` is not rpl", self.span(self.pos, self.pos + 2),
                              "write `is not`, like `kind is not exchange`")
        if two in ("=>", "=<"):
            return Diagnostic("RPL007", f"`{two}` is not rpl", self.span(self.pos, self.pos + 2),
                              f"write `{two[::-1]}`")
        if two in ("&&", "||") or one in "&|":
            word = "and" if one == "&" else "or"
            width = 2 if two in ("&&", "||") else 1
            return Diagnostic("RPL007", f"`{self.text[self.pos:self.pos + width]}` is not rpl",
                              self.span(self.pos, self.pos + width), f"write `{word}`")
        if one == "!":
            return Diagnostic("RPL007", "`!` is not rpl", self.span(self.pos, self.pos + 1), "write `not`")
        if one == "=" and in_expression and isinstance(self.error, UnexpectedToken) \
                and not (self.previous is not None and self.previous.text == "="):
            return Diagnostic("RPL007", "`=` does not compare", self.span(self.pos, self.pos + 1),
                              "write `is` to compare values, like `kind is return`")
        if two == "<>":
            return Diagnostic("RPL007", "`<>` is not rpl", self.span(self.pos, self.pos + 2), "write `is not`")
        return None

    def _last_keyword(self) -> str | None:
        for piece in reversed([p for p in self.pieces if p.end <= self.pos]):
            if piece.text in ("if", "then", "else", "when", "because", "cites", "let", "parameter", "rule"):
                return piece.text
        return None

    def _in_expression(self) -> bool:
        """Whether the parser stopped in an expression: after `when`, `if`, `and`..., or a value's `=`."""
        seen_equals = False
        for piece in reversed([p for p in self.pieces if p.end <= self.pos]):
            if piece.text in ("when", "if", "where", "and", "or", "not", "is", "then", "else"):
                return piece.text != "then" or self.keyword != "rule"
            if piece.text in ("because", "cites", "overrides"):
                return False
            if piece.text == "=":
                seen_equals = True
            if piece.text in ("let", "parameter"):
                return seen_equals
        return False

    def units(self) -> Diagnostic | None:
        """A number with its unit written as a word: `15 percent`, `14 dys`, `2 weeks`, `25.00 USD`."""
        if not isinstance(self.error, UnexpectedToken):
            return None
        word = piece_at(self.pieces, self.pos)
        number = self.previous
        if word is not None and word.text == "," and number is not None and number.kind == "number":
            following = piece_after(self.pieces, word.end)
            if following is not None and following.kind == "number" and re.fullmatch(r"\d{3}(\.\d+)?", following.text):
                return Diagnostic("RPL005", "write numbers without a thousands separator",
                                  self.span(number.start, following.end),
                                  f"write `{number.text}{following.text}`")
        # the pair where the parser stopped, then the pairs before it on its line (a value may
        # go on after a number, so the parser can stop a few words later)
        line_start = self.text.rfind("\n", 0, self.pos) + 1
        before = [p for p in self.pieces if line_start <= p.start and p.end <= self.token_end]
        pairs = [(number, word)] + [(a, b) for a, b in reversed(list(zip(before, before[1:]))) if (a, b) != (number, word)]
        for first, second in pairs:
            if first is None or second is None or first.kind != "number" or second.kind != "word":
                continue
            found = self._unit_problem(first, second)
            if found is not None:
                return found
        return None

    def _unit_problem(self, number: Piece, word: Piece) -> Diagnostic | None:
        if self.text[number.end:word.start].strip() or " " in number.text or "\t" in number.text:
            return None  # words apart, or a whole duration (`30 days`) followed by a word
        n, w = number.text, word.text.lower()
        span = self.span(number.start, word.end)
        if number.end == word.start and w in ("day", "days", "business"):
            return Diagnostic("RPL005", f"put a space between `{n}` and `{word.text}`", span,
                              f"write `{n} {word.text}`")
        following = piece_after(self.pieces, word.end)
        if word.text in ("day", "days") or (word.text == "business" and following is not None
                                              and following.text in ("day", "days")):
            return None  # a number of days as rpl writes it
        if w in ("percent", "pct", "per", "procent", "percentage", "pc"):
            after = piece_after(self.pieces, word.end)
            if w == "per" and after is not None and after.text.lower() == "cent":
                span = self.span(number.start, after.end)
            return Diagnostic("RPL005", f"write percentages with `%`: `{n}%`", span, f"write `{n}%`, not `{span.text}`")
        if "%" in n or "." in n:
            if w.upper() in ("USD", "EUR", "GBP", "CAD", "AUD") or w in ("dollars", "dollar", "euros", "euro"):
                return Diagnostic("RPL005", "write amounts without a currency", span,
                                  f"write `{n}`; the currency is set once, like `currency USD`")
            return None
        count = int(n)
        units = {"week": 7, "weeks": 7, "wk": 7, "wks": 7, "month": 30, "months": 30, "year": 365, "years": 365}
        if w in units:
            days = count * units[w]
            exact = w.startswith("w")
            hint = f"write `{days} days`" if exact else f"write the number of days, like `{days} days`"
            return Diagnostic("RPL005", "durations are counted in days", span, hint)
        if w in ("hour", "hours", "minute", "minutes", "h"):
            return Diagnostic("RPL005", "durations are counted in whole days", span, "write a number of days, like `1 day`")
        if difflib.get_close_matches(w, ["business", "bussiness", "buisness"], n=1, cutoff=0.7):
            return Diagnostic("RPL005", f"`{word.text}` is not a unit", self.span(word.start, word.end),
                              f"write `{n} business days`")
        if difflib.get_close_matches(w, ["days", "day", "calendar"], n=1, cutoff=0.6) or w in ("d", "dd"):
            unit = "day" if count == 1 else "days"
            return Diagnostic("RPL005", f"`{word.text}` is not a unit", self.span(word.start, word.end),
                              f"write `{n} {unit}`")
        return None

    def dates(self) -> Diagnostic | None:
        """`2026-3-2`, `03/02/2026`, `March 2, 2026`: a date in another format than YYYY-MM-DD."""
        line_start = self.text.rfind("\n", 0, self.pos) + 1
        for m in NUMERIC_DATE.finditer(self.text, line_start, self.end):
            if m.start() <= self.pos <= m.end() and not ISO_DATE.fullmatch(m.group()):
                return Diagnostic("RPL004", f"`{m.group()}` is not a date rpl can read",
                                  self.span(m.start(), m.end()), numeric_date_hint(m))
        months = ("january february march april may june july august september october november december "
                  "jan feb mar apr jun jul aug sep sept oct nov dec").split()
        line_start = self.text.rfind("\n", 0, self.pos) + 1
        on_line = [p for p in self.pieces if line_start <= p.start and p.end <= max(self.token_end, self.pos)]
        for piece in reversed(on_line):
            if piece is not None and piece.kind == "word" and piece.text.lower() in months:
                following = piece_after(self.pieces, piece.end)
                if following is None or following.kind != "number":
                    continue
                month = months.index(piece.text.lower()) % 12 + 1 if piece.text.lower() != "sept" else 9
                return Diagnostic("RPL004", "dates are written YYYY-MM-DD", self.span(piece.start, following.end),
                                  date_hint(self.text[piece.start:self.end], month))
        return None

    def header_words(self) -> Diagnostic | None:
        """`policy Aputure`, `currency usd`: header words are keywords only before what they take."""
        word = piece_at(self.pieces, self.pos)
        if word is None or word.kind != "word" or word != (self.pieces[0] if self.pieces else None):
            return None
        if word.text in ("policy", "version", "calendar"):
            what = {"policy": "the policy's name", "version": "the version", "calendar": "the calendar's name"}
            return Diagnostic("RPL001", f"{what[word.text]} must follow `{word.text}` in double quotes",
                              self.span(word.start, word.end), f'write `{word.text} "..."` on one line')
        if word.text == "currency":
            return Diagnostic("RPL001", "the currency must be a three-letter code in capitals",
                              self.span(word.start, word.end), "write `currency USD` on one line")
        return None

    def keyword_as_name(self) -> Diagnostic | None:
        """`when` right before `then`: a keyword where a name may come is read as a name, so the
        parser stops one word later; the mistake is the word before it, left without its part."""
        if not isinstance(self.error, UnexpectedToken) or self.previous is None:
            return None
        before = piece_before(self.pieces, self.previous.start)
        p, q = self.previous, before
        for word, after in ((p, self.token_text()), (q, p.text)):
            if word is not None and word.text == "list" and after != "of" and type_like(after):
                return Diagnostic("RPL001", "missing `of` after `list`", self.span(word.end, word.end),
                                  f"write `list of {after}`")
        if self.keyword == "outcomes" and "all" in (self.token_text(), p.text) and p.text != "overrides":
            where = p if p.text == "all" else piece_at(self.pieces, self.pos)
            return Diagnostic("RPL001", "missing `overrides` before `all other rules`",
                              self.span(where.start, where.end), "write `overrides all other rules`")
        if p.text == "overrides" and self.keyword == "outcomes":
            return Diagnostic("RPL001", "write `overrides all other rules` in full", self.span(p.start, p.end),
                              "it says that this outcome overrides every rule of the outcomes after it")
        if p.text == "optional" or (p.text == "of" and q is not None and q.text == "list"):
            what = "`optional`" if p.text == "optional" else "`list of`"
            return Diagnostic("RPL001", f"{what} must be followed by a type", self.span(p.start, p.end),
                              f"write {what[:-1]} date`, or another type")
        keywords = set(keyword_terminals(self.lark).values()) | set(DECLARATION_KEYWORDS)
        if q is None or p.kind != "word" or p.text not in keywords:
            return None
        if q.text == p.text and self.repaired(p.start, p.end, ""):
            return Diagnostic("RPL001", f"`{p.text}` is written twice", self.span(p.start, p.end), "remove one")
        if q.text in DECLARATION_KEYWORDS and q.text not in ("policy", "version", "currency", "calendar", "terms", "effective"):
            return Diagnostic("RPL001", f"`{q.text}` must be followed by a name", self.span(q.end, q.end),
                              f"`{p.text}` is a word of the language; write a name after `{q.text}`")
        needs = {
            "when": ("`when` must be followed by a condition", "write `when request_date > last_request_day`"),
            "then": ("`then` must be followed by what the rule does",
                     "write `then refuse`, `then add item.price to refund` or `then note`"),
            "cites": ("`cites` must be followed by a clause's name or a quoted text",
                      "write `cites late_request` or `cites \"the text of the clause\"`"),
            "because": ("the sentence after `because` must be in double quotes", 'write `because "..."`'),
            "and": ("`and` must be followed by another condition", "remove `and`, or add the missing condition"),
            "or": ("`or` must be followed by another condition", "remove `or`, or add the missing condition"),
            "set": ("`set` must be followed by an output's name", "write `set refund_method to ...`"),
            "add": ("`add` must be followed by an amount", "write `add item.price to refund`"),
            "subtract": ("`subtract` must be followed by an amount", "write `subtract item.price from refund`"),
            "optional": ("`optional` must be followed by a type", "write `optional date`"),
            "each": ("`each` must be followed by a name for the element", "write `for each item in items`"),
        }
        if q.text not in needs:
            return None
        message, hint = needs[q.text]
        return Diagnostic("RPL001", message, self.span(q.start, q.end), hint)

    def keyword_expected(self, keyword: str) -> bool:
        return keyword in self.keywords_expected()

    def keywords_expected(self) -> dict[str, str]:
        if not isinstance(self.error, UnexpectedToken):
            return {}
        keywords = keyword_terminals(self.lark)
        return {keywords[t]: t for t in self.error.expected if t in keywords}

    def misspelled_keyword(self) -> Diagnostic | None:
        if not isinstance(self.error, UnexpectedToken):
            return None
        word = piece_at(self.pieces, self.pos)
        expected = self.keywords_expected()
        keywords = set(keyword_terminals(self.lark).values()) | set(DECLARATION_KEYWORDS)
        if word is not None and word.kind == "word" and word.text not in keywords:
            guesses = difflib.get_close_matches(word.text.lower(), list(expected), n=3, cutoff=0.7)
            guesses += difflib.get_close_matches(word.text.lower(), sorted(keywords), n=3, cutoff=0.75)
            for guess in dict.fromkeys(guesses):
                if self.repaired(word.start, word.end, guess):
                    return Diagnostic("RPL006", f"unknown word `{word.text}`", self.span(word.start, word.end),
                                      f"did you mean `{guess}`?")
        previous = self.previous
        if previous is not None and previous.kind == "word":
            if previous.text not in keywords:
                for guess in difflib.get_close_matches(previous.text.lower(), sorted(keywords), n=3, cutoff=0.7):
                    if self.repaired(previous.start, previous.end, guess):
                        return Diagnostic("RPL006", f"unknown word `{previous.text}`",
                                          self.span(previous.start, previous.end), f"did you mean `{guess}`?")
        return None

    def repeated_word(self) -> Diagnostic | None:
        """`when when`, `: :`, or a word repeated one word before the parser stops (`boolean boolean when`)."""
        if not isinstance(self.error, UnexpectedToken) or self.previous is None:
            return None
        word = piece_at(self.pieces, self.pos)
        pairs = [(self.previous, word), (piece_before(self.pieces, self.previous.start), self.previous)]
        for first, second in pairs:
            if first is None or second is None or first.text != second.text:
                continue
            if self.repaired(second.start, second.end, ""):
                what = "the quoted text" if second.kind == "string" else f"`{second.text}`"
                return Diagnostic("RPL001", f"{what} is written twice", self.span(second.start, second.end),
                                  "remove one")
        return None

    def table(self) -> Diagnostic | None:
        named = syntax_examples.named(self.error, self.lark) if self.start == "policy" else None
        if named is None:
            return None
        token_text = self.token_text()
        if named.when_type and not type_like(token_text):
            return None
        span = {"token": self.token_span, "gap": self.gap_span}.get(
            named.where, lambda: self.span(self.previous.start, self.previous.end) if self.previous else self.token_span())()
        return Diagnostic(named.code, self._fmt(named.message, token_text), span, self._fmt(named.hint, token_text))

    def missing_word(self) -> Diagnostic | None:
        """Insert each word the parser would take here; name the one that lets it go on."""
        if not isinstance(self.error, UnexpectedToken):
            return None
        order = [")", "}", ":", "=", ",", "then", "else", "to", "from", "of", "in", "each", "where", "is", "at",
                 "because"]
        literal = {}
        for t in self.error.expected:
            word = words_for(t, self.lark)
            if word is not None and word.startswith("`"):
                literal[word.strip("`")] = t
        at = self.previous.end if self.previous is not None else self.pos
        if self.previous is not None and self.previous.text in ("sum", "count", "min", "max") \
                and self.repaired(at, at, " of "):
            return Diagnostic("RPL001", f"missing `of` after `{self.previous.text}`", self.gap_span(),
                              f"write `{self.previous.text} of ...`")
        token = piece_at(self.pieces, self.pos)
        if token is not None and token.kind == "op" and token.text not in "({":
            return None  # a sign where a word was missing: the parser's own words say more
        starts_line = token is not None and not self.text[self.text.rfind("\n", 0, token.start) + 1:token.start].strip()
        effect_word = token is not None and token.text in ("add", "subtract", "set", "note")
        in_if = self._last_keyword() == "if"
        if token is not None and token.kind == "word" and "is" not in literal and self._in_expression() \
                and not starts_line:
            literal["is"] = "IS"  # Lark leaves `is` out of what it expects after a name; try it too
        for word in order:
            if word not in literal:
                continue
            if word == "then" and not (starts_line or effect_word or in_if):
                continue  # any name could be an outcome: only a new line or an effect's word says `then`
            if not self.repaired(at, at, f" {word} ") and not self.repaired(at, at, f" {word} x "):
                continue
            token_text = self.token_text()
            if word in ")}":
                opener = self._unclosed_bracket("(" if word == ")" else "{")
                if opener is not None:
                    return Diagnostic("RPL001", f"this `{opener.text}` is never closed", self.span(opener.start, opener.end),
                                      f"add `{word}` after `{self.previous.text}`" if self.previous else f"add `{word}`")
            if word in (":", "=", ","):
                where = f" after `{self.previous.text}`" if self.previous is not None else ""
                fix = None
                if self.previous is not None:
                    fix = f"write `{self.previous.text} = ...`" if word == "=" else f"write `{self.previous.text}{word}`"
                return Diagnostic("RPL001", f"missing `{word}`{where}", self.gap_span(), fix)
            if word == "else":
                return Diagnostic("RPL001", "missing `else`", self.gap_span(),
                                  'words shown only when the condition holds end with `else ""`: '
                                  '`{if CONDITION then "words" else ""}`' if self.start == "expr" else
                                  "an `if` needs both branches: `if CONDITION then A else B`")
            if self.error.token.type == "STRING":
                return Diagnostic("RPL001", f"missing `{word}` before the quoted text", self.token_span(),
                                  f"write `{word} \"...\"`")
            if word == "then" and in_if:
                return Diagnostic("RPL001", f"missing `then` before `{token_text}`", self.token_span(),
                                  "an `if` is written `if CONDITION then A else B`")
            if word == "then" and token_text and self.token_end > self.pos:
                return Diagnostic("RPL001", f"missing `then` before `{token_text}`", self.token_span(),
                                  f"write `then {token_text}` to say what happens; use `and` or `or` to combine conditions")
            if token_text and self.token_end > self.pos:
                return Diagnostic("RPL001", f"missing `{word}` before `{token_text}`", self.token_span(),
                                  f"write `{word} {token_text}`")
            return Diagnostic("RPL001", f"missing `{word}`", self.gap_span(), f"add `{word}` here")
        return None

    def _unclosed_bracket(self, opener: str) -> Piece | None:
        closer = {"(": ")", "{": "}"}[opener]
        stack = []
        for p in self.pieces:
            if p.start >= self.pos:
                break
            if p.text == opener:
                stack.append(p)
            elif p.text == closer and stack:
                stack.pop()
        return stack[-1] if stack else None

    def generic(self) -> Diagnostic:
        error = self.error
        if isinstance(error, UnexpectedToken):
            hint = expected_hint(error.expected, self.lark)
            if error.token.type == "$END":
                what = f"the {self.keyword}" if self.keyword in DECLARATION_KEYWORDS else "the declaration"
                if self.keyword == "request" and len(self.pieces) > 1 and self.pieces[1].text == "outcome":
                    what = "the `request outcome:` list"  # docs/per-item.md
                if self.start == "expr":
                    what = "the value in `{...}`"
                return Diagnostic("RPL001", f"{what} ends too early", self.token_span(), hint)
            token = error.token
            if str(token) in DECLARATION_KEYWORDS and "NAME" not in error.expected:
                return Diagnostic("RPL001", f"the declaration before this `{token}` is not finished",
                                  self.token_span(), hint)
            if token.type == "NAME" and piece_after(self.pieces, self.token_end) is not None \
                    and piece_after(self.pieces, self.token_end).text == "=" and self.keyword_expected("let"):
                return Diagnostic("RPL001", f"`{token}` does not start a declaration", self.token_span(),
                                  f"write `parameter {token} = ...` for a fixed value, or `let {token} = ...`")
            return Diagnostic("RPL001", f"{found_text(token)} cannot come here", self.token_span(), hint)
        if isinstance(error, UnexpectedEOF):
            return Diagnostic("RPL001", "the declaration ends too early", self.token_span(), None)
        return Diagnostic("RPL001", "this cannot be read", self.span(self.pos, self.pos + 1), None)


