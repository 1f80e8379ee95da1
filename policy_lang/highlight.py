"""A Pygments lexer for rpl policies, registered as `rpl` through the `pygments.lexers` entry point.

    >>> from pygments.lexers import get_lexer_by_name
    >>> lexer = get_lexer_by_name("rpl")

It follows the grammar's words (rpl.lark): the declaration keywords, the words of rules and
examples, the built-in types, and the literals (dates, durations, percentages, amounts). Quoted
texts highlight their `{...}` holes as expressions. Pygments must be installed (`pip install
rplang[highlight]`); rpl itself does not need it.
"""
from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import (Comment, Error, Keyword, Name, Number, Operator, Punctuation, String,
                            Whitespace)

from .ast import MONTHS

DECLARATION_WORDS = ("policy", "version", "currency", "calendar", "clause", "parameter", "enum",
                     "record", "request", "let", "outcomes", "rule", "output", "example", "property",
                     "table")
RULE_WORDS = ("cites", "when", "then", "because", "overrides", "for", "each", "in", "where", "if",
              "else", "add", "to", "subtract", "from", "set", "note", "expect", "with", "rules", "request",
              "total", "at", "least", "let")
OPERATOR_WORDS = ("and", "or", "not", "is", "given", "empty", "through", "of", "implies")
TYPE_WORDS = ("date", "money", "percent", "integer", "boolean", "text", "optional", "list")
FUNCTIONS = ("round", "max", "min")
AGGREGATES = ("sum", "count", "min", "max")
QUANTIFIERS = ("any", "every", "no")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


class RplLexer(RegexLexer):
    """Lexer for rpl, the returns-policy language."""

    name = "rpl"
    aliases = ["rpl"]
    filenames = ["*.rpl"]
    mimetypes = ["text/x-rpl"]

    tokens = {
        "root": [
            (r"\n", Whitespace),  # alone, so that the rules for a line's start see the indentation
            # a table's `otherwise` row, then a field of a record or of the request: `  name:`
            (r"^([ \t]+)(otherwise)(?=[ \t]*:)", bygroups(Whitespace, Keyword)),
            (rf"^([ \t]+)({_NAME})([ \t]*)(:)", bygroups(Whitespace, Name.Attribute, Whitespace, Punctuation)),
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            # a declaration and the name it declares
            (rf"^(rule|clause|property)(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (rf"^(parameter)(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Constant)),
            (rf"^(let|output)(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Variable)),
            (rf"^(enum|record)(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Class)),
            (r'^(policy|version|calendar)(?=[ \t]+")', Keyword.Declaration),
            (r"^(currency)([ \t]+)([A-Z]{3})\b", bygroups(Keyword.Declaration, Whitespace, Name.Constant)),
            (r"^(currency|terms)([ \t]+)(by)\b", bygroups(Keyword.Declaration, Whitespace, Keyword.Declaration)),
            (r"^(request|outcomes)(?=\s*:)", Keyword.Declaration),
            (r"^(example)\b", Keyword.Declaration),
            (rf"^(table)(\s+)({_NAME})(\s+)(by)\b", bygroups(Keyword.Declaration, Whitespace, Name.Constant,
                                                        Whitespace, Keyword)),
            (r"\boverrides\s+all\s+other\s+rules\b", Keyword),
            (r"\bdays\s+from\b", Operator.Word),
            (r"\bdate\s+range\b", Keyword.Type),
            (r'"', String.Double, "string"),
            include("expression"),
        ],
        "expression": [
            (r"\s+", Whitespace),
            (r"#.*?$", Comment.Single),
            (r"\d{4}-\d{2}-\d{2}(?![\d-])", Number.Other),  # a date
            (rf"\b({'|'.join(MONTHS)})[ \t]+\d{{1,2}}\b", Number.Other),  # a day of the year
            (r"\bend\s+of\s+month\s+of\b|\b(start|end)\s+of\b|\b(year|month|day|weekday)(?=\s+of\b)",
             Name.Builtin),  # parts of dates
            (r"(\d+)([ \t]+)((?:business[ \t]+)?days?)\b", bygroups(Number.Integer, Whitespace, Keyword.Type)),
            (r"\d+(\.\d+)?%", Number),
            (r"\d+\.\d+", Number.Float),
            (r"\d+", Number.Integer),
            (r"\bdays\s+from\b", Operator.Word),
            (words(("true", "false", "null", "none"), suffix=r"\b"), Keyword.Constant),
            (rf"\b({'|'.join(AGGREGATES)})(?=\s+of\b)", Name.Builtin),
            (rf"\b({'|'.join(QUANTIFIERS)})(?=\s+{_NAME}\s+in\b)", Keyword),
            (rf"\b({'|'.join(FUNCTIONS)})(?=\s*\()", Name.Builtin),
            (words(OPERATOR_WORDS, suffix=r"\b"), Operator.Word),
            (words(RULE_WORDS, suffix=r"\b"), Keyword),
            (words(TYPE_WORDS, suffix=r"\b"), Keyword.Type),
            (rf"(\.)({_NAME})", bygroups(Punctuation, Name.Attribute)),
            (r"[A-Z][A-Za-z0-9_]*", Name.Class),
            (_NAME, Name),
            (r"<=|>=|[<>=+\-*/]", Operator),
            (r"[:,()\[\]]", Punctuation),
            (r"\{", Punctuation, "braces"),
            (r'"', String.Double, "string"),
            (r".", Error),
        ],
        "braces": [
            (r"\}", Punctuation, "#pop"),
            include("expression"),
        ],
        "string": [
            (r'"', String.Double, "#pop"),
            (r"\\.", String.Escape),
            (r"\{\{|\}\}", String.Escape),
            (r"\{", String.Interpol, "hole"),
            (r'[^"\\{}]+', String.Double),
            (r"\}", String.Double),
        ],
        "hole": [
            (r"\}", String.Interpol, "#pop"),
            include("expression"),
        ],
    }
