"""How a sentence shows an amount (compiler/show.py): to the cent, grouped by thousands, never
`-0.00`; an amount in cents already is grouped without rounding, and reads exactly as rounding
it first would."""
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rplang.compiler.show import money


def _rounded_first(value: Decimal) -> str:
    with localcontext() as context:
        context.prec = 100
        return f"{value.quantize(Decimal('0.01'), ROUND_HALF_UP):,.2f}".replace("-0.00", "0.00")


@pytest.mark.parametrize("amount, shown", [
    ("1890.00", "1,890.00"), ("-1890.00", "-1,890.00"), ("999.99", "999.99"), ("1234567.89", "1,234,567.89"),
    ("-100.00", "-100.00"), ("999999.99", "999,999.99"), ("-999999.99", "-999,999.99"),
    ("1000000.00", "1,000,000.00"), ("-0.00", "0.00"), ("12.5", "12.50"), ("283.505", "283.51"),
    ("1E+3", "1,000.00"),
])
def test_amounts_read_as_written_to_the_cent(amount, shown):
    assert money(Decimal(amount)) == shown


@given(st.integers(min_value=-10**20, max_value=10**20), st.sampled_from([0, 1, 2, 3]))
def test_an_amount_in_cents_reads_as_rounding_it_first(units, places):
    value = Decimal(units).scaleb(-places)
    assert money(value) == _rounded_first(value)
