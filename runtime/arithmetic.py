"""Arithmetic on amounts and percentages, exact for every amount a request may hold.

Python's default decimal context keeps 28 digits: a product of two amounts the request reader
accepts can need more, and would be rounded without a word. Every operation on amounts runs in
one wide context instead, which raises rather than rounds when even that is not enough.
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow

from rplang.policy_lang.errors import EvaluationError

AMOUNTS = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
CENT = Decimal("0.01")
ZERO = Decimal(0)
ZERO_CENTS = Decimal("0.00")
HUNDRED = Decimal(100)

add = AMOUNTS.add
subtract = AMOUNTS.subtract
multiply = AMOUNTS.multiply
divide = AMOUNTS.divide
minus = AMOUNTS.minus


def round_cent(amount: Decimal) -> Decimal:
    """Half up to the cent: the rounding the language's `round(...)` promises."""
    return amount.quantize(CENT, ROUND_HALF_UP, context=AMOUNTS)


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
