"""Syntax highlighting: the Pygments lexer and the TextMate grammar classify every token."""
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error, Token

from rplang.policy_lang.highlight import RplLexer
from tests.authoring.textmate import Grammar
from tests.conftest import POLICIES, ROOT

BUNDLED = sorted(POLICIES.rglob("*.rpl"))
GRAMMAR = ROOT / "editors" / "vscode" / "syntaxes" / "rpl.tmLanguage.json"


def _id(path: Path) -> str:
    return str(path.relative_to(POLICIES))


# ---- Pygments -----------------------------------------------------------------------------------

def test_the_lexer_is_registered_through_the_entry_point():
    assert isinstance(get_lexer_by_name("rpl"), RplLexer)
    assert isinstance(get_lexer_for_filename("aputure.rpl"), RplLexer)


@pytest.mark.parametrize("path", BUNDLED, ids=_id)
def test_pygments_classifies_every_token(path):
    text = path.read_text()
    tokens = list(RplLexer().get_tokens_unprocessed(text))
    assert "".join(value for _, _, value in tokens) == text
    unclassified = [(text.count("\n", 0, i) + 1, value) for i, kind, value in tokens
                    if value.strip() and (kind in Error or kind in (Token, Token.Text))]
    assert unclassified == []


def test_pygments_token_kinds():
    text = ('rule late for each item in items:\n'
            '  when request_date > order.delivery_date + 14 days and item.price >= 0.00\n'
            '  then add round(item.price * 15%) to fee\n'
            '  because "late {item.sku} {{literal}}"  # why\n')
    kinds = {value: kind for _, kind, value in RplLexer().get_tokens_unprocessed(text) if value.strip()}
    assert kinds["rule"] is Token.Keyword.Declaration
    assert kinds["late"] is Token.Name.Function
    assert kinds["when"] is Token.Keyword
    assert kinds["and"] is Token.Operator.Word
    assert kinds["delivery_date"] is Token.Name.Attribute
    assert kinds["days"] is Token.Keyword.Type and kinds["14"] is Token.Number.Integer
    assert kinds["15%"] in Token.Number
    assert kinds["0.00"] is Token.Number.Float
    assert kinds["round"] is Token.Name.Builtin
    assert kinds["{"] is Token.String.Interpol and kinds["sku"] is Token.Name.Attribute
    assert kinds["{{"] is Token.String.Escape
    assert kinds["# why"] is Token.Comment.Single


# ---- TextMate -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def grammar():
    return Grammar(GRAMMAR)


@pytest.mark.parametrize("path", BUNDLED, ids=_id)
def test_textmate_classifies_every_token(grammar, path):
    unclassified = [(line, text, " ".join(scopes)) for line, text, scopes in grammar.tokenize(path.read_text())
                    if text.strip() and (scopes == ("source.rpl",) or any("invalid" in s for s in scopes))]
    assert unclassified == []


def test_textmate_scopes(grammar):
    text = ('parameter window = 14 days  # the window\n'
            'clause late: "Request after {window},\n'
            '  from the delivery date."\n'
            'record Item:\n'
            '  price:  money  "price"\n'
            'rule late:\n'
            '  when request_date > 2026-03-01 and not item.free\n')
    scopes = {}
    for _, token, token_scopes in grammar.tokenize(text):
        scopes.setdefault(token.strip(), token_scopes[-1])
    assert scopes["parameter"] == "storage.type.declaration.rpl"
    assert scopes["window"] == "variable.other.constant.rpl"
    assert scopes["days"] == "support.type.duration.rpl"
    assert scopes["# the window"] == "comment.line.number-sign.rpl"
    assert scopes["{"] == "punctuation.section.interpolation.begin.rpl"
    assert scopes["from the delivery date."] == "string.quoted.double.rpl"  # a text across lines
    assert scopes["Item"] == "entity.name.type.rpl"
    assert scopes["price"] == "variable.other.property.rpl"
    assert scopes["money"] == "support.type.rpl"
    assert scopes["2026-03-01"] == "constant.other.date.rpl"
    assert scopes["not"] == "keyword.operator.word.rpl"
    assert scopes["when"] == "keyword.control.rpl"


def test_textmate_marks_what_is_not_rpl(grammar):
    tokens = grammar.tokenize("let x = a ; b\n")
    assert ("invalid.illegal.rpl" in [s[-1] for _, t, s in tokens if t == ";"])


def test_properties_are_highlighted(grammar):
    text = "property late_refused: request_date > last_day implies outcome is refuse\n"
    kinds = {value: kind for _, kind, value in RplLexer().get_tokens_unprocessed(text) if value.strip()}
    assert kinds["property"] is Token.Keyword.Declaration and kinds["late_refused"] is Token.Name.Function
    assert kinds["implies"] is Token.Operator.Word
    scopes = {token.strip(): token_scopes[-1] for _, token, token_scopes in grammar.tokenize(text)}
    assert scopes["property"] == "storage.type.declaration.rpl"
    assert scopes["implies"] == "keyword.operator.word.rpl"


def test_tables_are_highlighted(grammar):
    from tests.runtime.test_tables import POLICY

    kinds = {}
    for _, kind, value in RplLexer().get_tokens_unprocessed(POLICY):
        kinds.setdefault(value, kind)  # the first: the declaration's
    assert kinds["table"] is Token.Keyword.Declaration and kinds["restocking_rate"] is Token.Name.Constant
    assert kinds["otherwise"] is Token.Keyword
    unclassified = [(line, text) for line, text, scopes in grammar.tokenize(POLICY)
                    if text.strip() and (scopes == ("source.rpl",) or any("invalid" in s for s in scopes))]
    assert unclassified == []
    scopes = {}
    for _, token, token_scopes in grammar.tokenize(POLICY):
        scopes.setdefault(token.strip(), token_scopes[-1])
    assert scopes["table"] == "storage.type.declaration.rpl"
    assert scopes["restocking_rate"] == "variable.other.constant.rpl"
    assert scopes["by"] == "keyword.other.rpl"
    assert scopes["otherwise"] == "keyword.other.rpl"


# ---- words chosen by a condition inside a sentence ----------------------------------------------

_WORDS = 'rule r:\n  because "refund{if opened then "; opened" else ""}, in full"  # why\n'


def test_pygments_reads_quoted_words_inside_a_sentence():
    kinds = [(value, kind) for _, kind, value in RplLexer().get_tokens_unprocessed(_WORDS) if value.strip()]
    assert ("if", Token.Keyword) in kinds and ("else", Token.Keyword) in kinds
    assert ("; opened", Token.String.Double) in kinds
    assert (", in full", Token.String.Double) in kinds  # the sentence goes on after the hole
    assert ("# why", Token.Comment.Single) in kinds


def test_textmate_reads_quoted_words_inside_a_sentence(grammar):
    scopes = {token.strip(): token_scopes for _, token, token_scopes in grammar.tokenize(_WORDS)}
    assert scopes["; opened"][-1] == "string.quoted.double.rpl"
    assert "meta.interpolation.rpl" in scopes["; opened"]
    assert scopes[", in full"][-1] == "string.quoted.double.rpl"
    assert "meta.interpolation.rpl" not in scopes[", in full"]
    assert scopes["# why"][-1] == "comment.line.number-sign.rpl"


_HEADERS = "currency USD\ncurrency by order.currency\nterms by order.purchase_date\n"


def test_pygments_reads_the_currency_and_terms_headers():
    kinds = [(value, kind) for _, kind, value in RplLexer().get_tokens_unprocessed(_HEADERS) if value.strip()]
    assert kinds[:5] == [("currency", Token.Keyword.Declaration), ("USD", Token.Name.Constant),
                         ("currency", Token.Keyword.Declaration), ("by", Token.Keyword.Declaration),
                         ("order", Token.Name)]
    assert ("terms", Token.Keyword.Declaration) in kinds


def test_textmate_reads_the_currency_and_terms_headers(grammar):
    tokens = [(token, scopes[-1]) for _, token, scopes in grammar.tokenize(_HEADERS) if token.strip()]
    assert tokens[2:5] == [("currency", "storage.type.declaration.rpl"), ("by", "storage.type.declaration.rpl"),
                           ("order", "variable.other.rpl")]
    assert ("terms", "storage.type.declaration.rpl") in tokens


def test_dates_are_highlighted(grammar):
    text = ("parameter season = november 1 through january 31\n"
            "rule r:\n"
            "  let d = purchased\n"
            "  when weekday of d is saturday and d <= end of month of d and d <= end of season for d\n")
    kinds = {value: kind for _, kind, value in RplLexer().get_tokens_unprocessed(text) if value.strip()}
    assert kinds["november 1"] is Token.Number.Other and kinds["january 31"] is Token.Number.Other
    assert kinds["weekday"] is Token.Name.Builtin and kinds["end of month of"] is Token.Name.Builtin
    assert kinds["end of"] is Token.Name.Builtin and kinds["let"] is Token.Keyword
    scopes = {token.strip(): token_scopes[-1] for _, token, token_scopes in grammar.tokenize(text)}
    assert scopes["november 1"] == "constant.other.date.rpl" and scopes["let"] == "keyword.other.rpl"
    assert scopes["weekday"] == "support.function.date.rpl"
    assert scopes["end of month of"] == "support.function.date.rpl" and scopes["end of"] == "support.function.date.rpl"
