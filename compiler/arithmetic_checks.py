"""The expression checker's arithmetic and comparisons: types and units, and the hints for the
mistakes policy owners make with them (a date written as numbers, a percentage written as an
amount, a whole number compared with days)."""
from __future__ import annotations

import datetime

from rplang.policy_lang import ast

from . import ir
from . import types as T
from .expression_support import (DATE_LIKE, NUMBERS, ORDERED, UNKNOWN, arith_type, as_percent, broken,
                                 strip_optional, test_word)


class ArithmeticChecks:
    """`ExpressionChecker`'s part for `-x`, `+ - * /` and `< <= > >= is`; it provides `expr`,
    `error`, `expect` and the names in scope."""

    def _Negate(self, e: ast.Negate, expected):
        operand = self.expr(e.operand, expected)
        if operand.type not in NUMBERS and not broken(operand):
            self.error("RPL030", f"cannot negate {operand.type.describe()}", e.span, None)
        if isinstance(operand, ir.Const) and operand.value is not None:
            return ir.Const(-operand.value, operand.type)
        return ir.Op("neg", (operand,), operand.type)

    def _Arith(self, e: ast.Arith, expected):
        date = self._date_written_as_numbers(e)
        if date is not None:
            return date
        left = self.expr(e.left, expected if e.op in "+-" else None)
        right = self.expr(e.right, self._right_hint(e.op, left.type))
        if broken(left, right):
            return ir.Op(e.op, (left, right), UNKNOWN)
        for node, part in ((left, e.left), (right, e.right)):
            if isinstance(node.type, T.OptionalType):
                self._may_be_missing(node, part.span)
        result = arith_type(e.op, left.type, right.type)
        if result is None:
            self._arith_error(e, left, right)
            return ir.Op(e.op, (left, right), UNKNOWN)
        return ir.Op(e.op, (left, right), result)

    def _date_written_as_numbers(self, e: ast.Arith):
        """`2026-3-2` or `03/02/2026` reads as arithmetic on whole numbers; say how to write the date."""
        if e.span is None or e.op not in "-/":
            return None
        text = e.span.text
        m = DATE_LIKE.fullmatch(text)
        if m is None:
            return None
        if m.group(1):
            year, month, day = (int(g) for g in m.group(1, 2, 3))
            hint = "write dates as YYYY-MM-DD"
            try:
                hint += f": `{datetime.date(year, month, day).isoformat()}`"
            except ValueError:
                pass
        else:
            a, b, year = (int(g) for g in m.group(4, 5, 6))
            options = []
            for month, day in ((a, b), (b, a)):
                try:
                    options.append(datetime.date(year, month, day).isoformat())
                except ValueError:
                    pass
            options = list(dict.fromkeys(options))
            hint = "write dates as YYYY-MM-DD"
            if len(options) == 1:
                hint += f": `{options[0]}`"
            elif options:
                hint += f": `{options[0]}` or `{options[1]}`, as you mean it"
        self.error("RPL004", f"`{text}` is not a date rpl can read", e.span, hint)
        return ir.Const(datetime.date(1970, 1, 1), T.DATE)

    @staticmethod
    def _right_hint(op, left_type):
        return left_type if op in "+-" and left_type in (T.MONEY,) else None

    def _arith_error(self, e: ast.Arith, left: ir.Expr, right: ir.Expr):
        lt, rt = strip_optional(left.type), strip_optional(right.type)
        words = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[e.op]
        if e.op == "*" and lt is rt is T.MONEY:
            for side in (right, left):
                if self._percent_written_as_amount(side):
                    return
        hint = None
        if e.op == "-" and lt is rt is T.DATE:
            hint = "write `days from A to B` for the number of days between two dates"
        elif T.DATE in (lt, rt) and T.INTEGER in (lt, rt):
            hint = "add a number of days, like `14 days` or `10 business days`"
        elif {lt, rt} & {T.DAYS, T.BUSINESS_DAYS} and {lt, rt} & {T.MONEY, T.PERCENT, T.EXACT_MONEY}:
            hint = "days can only be added to or subtracted from a date"
        elif T.DATE in (lt, rt) and e.op in "*/":
            hint = "a percentage applies to an amount of money, not to a date"
        elif T.DATE in (lt, rt) and {lt, rt} & {T.MONEY, T.PERCENT}:
            hint = "a date takes a number of days, like `+ 14 days`"
        elif lt is T.INTEGER and rt is T.MONEY or lt is T.MONEY and rt is T.INTEGER:
            hint = "write amounts with cents, like `5.00`"
        elif e.op == "/" and lt in (T.MONEY, T.EXACT_MONEY):
            hint = "an amount can be divided by a whole number or a percentage"
        self.error("RPL030", f"cannot {words} {lt.describe()} and {rt.describe()}", e.span, hint)

    def _percent_written_as_amount(self, side: ir.Expr) -> bool:
        """`0.15` meant as 15%: report it once, at the value as written."""
        if isinstance(side, ir.Param) and side.name in self.param_values:
            written = self.param_values[side.name]
            if ("percent", side.name) not in self.reported:
                self.reported.add(("percent", side.name))
                self.error("RPL030", f"`{side.name}` is used as a percentage, but `{written.span.text}` is an amount",
                           written.span, f"write `{as_percent(side.value)}`, not `{written.span.text}`")
            return True
        if isinstance(side, ir.Const) and side.type is T.MONEY and side.span is not None:
            self.error("RPL030", f"`{side.span.text}` is an amount, not a percentage", side.span,
                       f"write `{as_percent(side.value)}`, not `{side.span.text}`")
            return True
        return False

    def _Compare(self, e: ast.Compare, expected):
        test = self._test_misspelled(e)
        if test is not None:
            return test
        if isinstance(e.left, ast.Name) and self._lookup(e.left.name) is None:
            right = self.expr(e.right, None)  # an enum value written first: `check is payment_method`
            left = self.expr(e.left, right.type)
        else:
            left = self.expr(e.left, None)
            right = self.expr(e.right, left.type)
        op = {"is": "==", "is not": "!="}.get(e.op, e.op)
        if broken(left, right):
            return ir.Op(op, (left, right), T.BOOLEAN)
        lt, rt = strip_optional(left.type), strip_optional(right.type)
        for node, part in ((left, e.left), (right, e.right)):
            if isinstance(node.type, T.OptionalType) and op not in ("==", "!="):
                self._may_be_missing(node, part.span)
        money = (T.MONEY, T.EXACT_MONEY)
        if lt in money and rt in money and lt is not rt and op not in ("==", "!="):
            exact, node = (left, e.left) if lt is T.EXACT_MONEY else (right, e.right)
            self._unrounded(exact, node.span)
        elif op in ("==", "!="):
            if lt != rt and not (lt in money and rt in money):
                self._compare_error(e, lt, rt)
        elif lt != rt or lt not in ORDERED:
            if lt == rt:
                self.error("RPL030", f"{lt.describe()} has no order: use `is` or `is not`", e.span, None)
            else:
                self._compare_error(e, lt, rt)
        return ir.Op(op, (left, right), T.BOOLEAN)

    def _test_misspelled(self, e: ast.Compare):
        """`x is give`: report the word, and go on as if `is given` was written (it narrows `x`)."""
        if e.op not in ("is", "is not") or not isinstance(e.right, ast.Name) or self._lookup(e.right.name) is not None:
            return None
        word = test_word(e.right.name)
        if not word or word[0] == e.right.name or any(e.right.name in t.members for t in self.enums.values()):
            return None
        operand = self.expr(e.left, None)
        self.error("RPL020", f"unknown name `{e.right.name}`", e.right.span, f"did you mean `{e.op} {word[0]}`?")
        negated = e.op == "is not"
        op = {"given": ("not_given", "given"), "empty": ("not_empty", "empty")}[word[0]][0 if negated else 1]
        return ir.Op(op, (operand,), T.BOOLEAN)

    def _compare_error(self, e, lt, rt):
        pair = {lt, rt}
        if pair == {T.MONEY, T.INTEGER}:
            hint = "write amounts with cents, like `0.00`"
        elif pair in ({T.DATE, T.DAYS}, {T.DATE, T.INTEGER}, {T.DATE, T.BUSINESS_DAYS}):
            hint = "compare a date with a date, like `request_date > order.delivery_date + 14 days`"
        elif isinstance(lt, T.EnumType) and rt is T.TEXT:
            hint = f"write the value without quotes; the {lt.name} values are {', '.join(lt.members)}"
        elif T.INTEGER in pair and pair & {T.DAYS, T.BUSINESS_DAYS}:
            days = e.right if rt in (T.DAYS, T.BUSINESS_DAYS) else e.left
            count = days.value if isinstance(days, ast.Literal) else "15"
            hint = (f"a count of days (`days from ... to ...`) is a whole number: compare it with `{count}`, "
                    f"or compare dates, like `request_date > order.delivery_date + {count} days`")
        elif T.BOOLEAN in pair:
            hint = "a yes/no fact is a condition on its own: write `item.opened` or `not item.opened`"
        elif T.DATE in pair:
            hint = "a date compares with another date, like `request_date > last_request_day`"
        elif pair & {T.MONEY, T.EXACT_MONEY}:
            hint = "an amount compares with another amount, like `item.price > 100.00`"
        else:
            hint = f"compare {lt.describe()} with {lt.describe()} of the same kind"
        self.error("RPL030", f"cannot compare {lt.describe()} with {rt.describe()}", e.span, hint)

