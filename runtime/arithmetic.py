"""Arithmetic on amounts, percentages and whole numbers, exact for every value a request may hold.

Python's default decimal context keeps 28 digits: a product of two amounts the request reader
accepts can need more, and would be rounded without a word. Addition, subtraction and
multiplication of amounts run in one wide context instead (`limits.MAX_COMPUTED_DIGITS`), which
raises rather than rounds (it traps `Inexact`) when even that is not enough; only a division
and `round(...)` round, in a context of their own. Whole numbers are held to the same number
of digits (`whole`): squaring a request's number again and again would otherwise grow without
bound, taking time and memory until it could not even be printed.
"""
from __future__ import annotations

from decimal import (ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, DivisionByZero, Inexact, InvalidOperation,
                     Overflow)

from rplang.policy_lang.errors import EvaluationError
from rplang.policy_lang.limits import MAX_COMPUTED_DIGITS

_TRAPS = [InvalidOperation, DivisionByZero, Overflow]
AMOUNTS = Context(prec=MAX_COMPUTED_DIGITS, rounding=ROUND_HALF_EVEN, traps=_TRAPS + [Inexact])  # + - *
ROUNDING = Context(prec=MAX_COMPUTED_DIGITS, rounding=ROUND_HALF_EVEN, traps=_TRAPS)  # a division, a rounding
CENT = Decimal("0.01")
ZERO = Decimal(0)
ZERO_CENTS = Decimal("0.00")
HUNDRED = Decimal(100)
_LARGEST_WHOLE = 10 ** MAX_COMPUTED_DIGITS - 1

add = AMOUNTS.add
subtract = AMOUNTS.subtract
multiply = AMOUNTS.multiply
divide = ROUNDING.divide
minus = AMOUNTS.minus


def round_cent(amount: Decimal) -> Decimal:
    """Half up to the cent: the rounding the language's `round(...)` promises."""
    return amount.quantize(CENT, ROUND_HALF_UP, context=ROUNDING)


def whole(number: int) -> int:
    """A whole number computed while deciding, if it has at most MAX_COMPUTED_DIGITS digits."""
    if -_LARGEST_WHOLE <= number <= _LARGEST_WHOLE:
        return number
    raise too_large()


def too_large() -> EvaluationError:
    return EvaluationError(f"number too large: a value computed for this request has more than "
                           f"{MAX_COMPUTED_DIGITS} digits, more than rpl computes exactly")


def failure(error: ArithmeticError) -> EvaluationError:
    """The rpl error for an arithmetic error met while deciding."""
    if isinstance(error, (Inexact, Overflow)):
        return too_large()
    return EvaluationError(f"the policy could not compute a value: {error}")


def total(amounts) -> Decimal:
    result = ZERO
    for amount in amounts:
        result = add(result, amount)
    return result


def least(values):
    """`min of`: the least of a list, which must not be empty."""
    values = list(values)
    if not values:
        raise EvaluationError("`min of` an empty list: there is no least value")
    return min(values)


def greatest(values):
    """`max of`: the greatest of a list, which must not be empty."""
    values = list(values)
    if not values:
        raise EvaluationError("`max of` an empty list: there is no greatest value")
    return max(values)
