"""Named syntax errors: typical broken inputs, next to the grammar, matched by parser state.

Each entry says how to report one kind of mistake, and lists broken inputs that stop the
parser in the same place. Lark's `UnexpectedInput.match_examples` finds the entry whose inputs
stop the parser in the state of the error at hand (see `syntax_errors.py`, which uses it).
"""
from __future__ import annotations

from functools import lru_cache

import attrs
from lark import Lark
from lark.exceptions import UnexpectedInput


@attrs.frozen
class Named:
    """How to report one kind of syntax error.

    `where` says what to underline: `token` (what the parser stopped at), `gap` (the place just
    after the previous word, where something is missing) or `previous` (the word before).
    Messages and hints may use {token}, {previous}, {keyword} (the declaration's first word) and
    {name} (its second). `when_type` says the entry fits only if the token may be a type.
    """
    message: str
    hint: str | None
    where: str = "token"
    code: str = "RPL001"
    when_type: bool = False


# Each entry: how to report, and broken inputs that stop the parser in the same place.
EXAMPLES: list[tuple[Named, list[str]]] = [
    (Named("missing `:` after the rule's name", "write `rule {previous}:` and then the rule's parts", "gap"),
     ["rule a cites x", "rule a when x", "rule a then x", 'rule a because "x"', "rule a overrides b",
      "rule a\n", "rule a b", "rule a = x"]),
    (Named("missing `each` after `for`", "write `for each item in items:`", "gap"),
     ["rule a for item in items:", "rule a for\n"]),
    (Named("missing `in` after `for each {previous}`", "write `for each {previous} in items:`", "gap"),
     ["rule a for each i items:", "rule a for each i\n", "rule a for each i: x"]),
    (Named("missing `:` after the list the rule goes through", "write `rule {name} for each item in items:`", "gap"),
     ["rule a for each i in items when x", "rule a for each i in items\n", "rule a for each i in items cites x",
      "rule a for each i in o.items when x", "rule a for each i in o.items\n"]),
    (Named("`cites` must be followed by a clause's name or a quoted text",
           "write `cites late_request` or `cites \"the text of the clause\"`", "previous"),
     ["rule a:\n cites\n", "rule a:\n cites 12", "rule a for each i in s:\n cites\n",
      "rule a for each i in s:\n cites 12"]),
    (Named("`cites a,` must be followed by another clause's name or a quoted text",
           "write `cites late_request, window`, or remove the `,`", "previous"),
     ["rule a:\n cites x,\n", "rule a:\n cites x, 12", "rule a for each i in s:\n cites x,\n when y",
      "rule a:\n cites x,\n when true", "rule a:\n cites x,\n when y > 1"]),
    (Named("`currency by` must be followed by the text of the request that names its currency",
           "write `currency by order.currency`", "previous"),
     ["currency by\n", "currency by 12", "currency by\nrule a:"]),
    (Named("`when` must be followed by a condition", "write `when request_date > last_request_day`", "previous"),
     ["rule a:\n when\n", "rule a for each i in s:\n when\n"]),
    (Named("`then` must be followed by what the rule does",
           "write `then refuse`, `then add item.price to refund` or `then note`", "previous"),
     ["rule a:\n when x\n then\n", "rule a for each i in s:\n when x\n then\n"]),
    (Named("the sentence after `because` must be in double quotes", 'write `because "..."`'),
     ["rule a:\n because x", "rule a:\n because\n", "rule a:\n because 12",
      "rule a for each i in s:\n because x", "rule a for each i in s:\n because\n",
      "rule a:\n when x\n then y\n because z", "rule a for each i in s:\n when x\n then y\n because z"]),
    (Named("missing `:` after the clause's name", 'write `clause {previous}: "..."`', "gap"),
     ['clause a "x"', "clause a\n", "clause a x"]),
    (Named("the text of a clause must be in double quotes", 'write `clause {name}: "the text as published"`'),
     ["clause a: x", "clause a:\n", "clause a: 14 days"]),
    (Named("missing `=` after the parameter's name", "write `parameter {previous} = ...`", "gap"),
     ["parameter a\n", "parameter a b"]),
    # `parameter a 15%` reads as the start of a value by date (`15% from 2026-03-01`)
    (Named("missing `=` between the parameter's name and its value",
           "write `parameter {name} = {previous}`; a value by date needs its period: "
           "`{previous} from 2026-03-01`", "previous"),
     ["parameter a 1", "parameter a 14 days", "parameter a 15%", "parameter a 15%\nenum", "parameter a 1 x"]),
    (Named("the parameter has no value", "write a value like `14 days`, `15%` or `25.00`", "previous"),
     ["parameter a =\n", "parameter a = :"]),
    (Named("missing `=` after the value's name", "write `let {previous} = ...`", "gap"),
     ["let a 1", "let a\n", "let a b", "let a 14 days"]),
    (Named("the value has no definition", "write what it is after `=`, like `let last_day = "
           "order.delivery_date + 14 days`", "previous"),
     ["let a =\n", "let a = :"]),
    # after the general case of the same place: a `:` for a `=` is told apart by the token itself
    (Named("write `=` after the name, not `:`", "write `{keyword} {previous} = ...`"),
     ["parameter a: 1", "let a: 1"]),
    (Named("`{keyword}` must be followed by a name", "write a name of letters, digits and `_` after `{keyword}`"),
     ["parameter = 1", "let = 1", "rule :", 'clause : "x"', "enum : a", "record :", "output :",
      "rule\n", "parameter\n", "let\n", "enum\n", "record\n", "output\n", "clause\n"]),
    (Named("missing `:` after the enum's name", "write `enum {previous}: value, value, ...`", "gap"),
     ["enum K a, b", "enum K\n", "enum K = a"]),
    (Named("missing `,` between two values of the enum", "separate the values with commas: `{previous}, {token}`", "gap"),
     ["enum K: a b", "enum K: a, b c"]),
    (Named("the list of values ends with a `,`", "remove the last `,` or add the missing value", "previous"),
     ["enum K: a,\n", "enum K: a, b,\n"]),
    (Named("two `,` in a row", "remove one `,`, or add the missing value between them"),
     ["enum K: a,,b", "enum K: a, b,,c"]),
    (Named("the enum has no values", "write `enum {name}: value, value, ...`", "previous"),
     ["enum K:\n"]),
    (Named("missing `:` after the record's name", "write `record {previous}:` and its fields on the next lines", "gap"),
     ["record R\n a: text", "record R\n", "record R a: text"]),
    (Named("missing `:` after `request`", "write `request:` and its fields on the next lines", "gap"),
     ["request\n a: text", "request a: text"]),
    (Named("missing `:` between the field's name and its type", "write `{previous}: {token}`", "gap", when_type=True),
     ["record R:\n a text", "request:\n a text", "record R:\n a: text\n b text", "request:\n a: text\n b text"]),
    (Named("the field has no type", "write its type after the `:`, like `price: money`", "previous"),
     ["record R:\n a:\n", "request:\n a:\n", "record R:\n a: = 1", "request:\n a: = 1"]),
    (Named("the field has no name", "write the field's name before the `:`, like `price: money`"),
     ["record R:\n a: text\n : text", "request:\n a: text\n : text", "record R:\n : text",
      "request:\n : text", 'request:\n a: text "x"\n : text', 'record R:\n a: text "x"\n : text',
      "request:\n a: K = v\n : text", "record R:\n a: K = v\n : text", "record R:\n a: text when b\n : text",
      'record R:\n a: text when b "x"\n : text', 'request:\n a: K = v "x"\n : text',
      "request:\n a: list of K\n : text", "request:\n a: optional date\n : text"]),
    (Named("this has no fields", "list the fields, one a line, like `price: money`", "previous"),
     ["record R:\n", "request:\n"]),
    (Named("missing `:` after `outcomes`", "write `outcomes:` and one outcome a line", "gap"),
     ['outcomes\n a "A"', "outcomes\n"]),
    (Named("an outcome's heading must be in double quotes", 'write the heading in quotes, like `{previous} "..."`'),
     ["outcomes:\n a A", 'outcomes:\n a\n b "B"', "outcomes:\n a\n", 'outcomes:\n a "A"\n b B',
      'outcomes:\n a "A" overrides all other rules\n b B', 'outcomes:\n a "A"\n b "B"\n c C']),
    (Named("missing `:` after the output's name", "write `output {previous}: {token} ...`", "gap"),
     ["output x money total", "output x money", "output x optional date"]),
]


@lru_cache(maxsize=4)
def _example_errors(lark: Lark) -> dict[str, UnexpectedInput]:
    errors = {}
    for _, examples in EXAMPLES:
        for text in examples:
            try:
                lark.parse(text, start="policy")
            except UnexpectedInput as error:
                errors[text] = error
    return errors


def named(error: UnexpectedInput, lark: Lark) -> Named | None:
    """The entry of the table whose broken inputs stop the parser where `error` did, if any."""
    errors = _example_errors(lark)

    def replay(text: str):
        if text in errors:
            raise errors[text].with_traceback(None)

    if error.state is None:
        return None
    try:
        return error.match_examples(replay, EXAMPLES, use_accepts=True)
    except Exception:  # a table that no longer fits the grammar must not hide the error itself
        return None


