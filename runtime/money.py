"""Money as a reader sees it: the digits of the request's currency and the grouping of a locale,
by Babel's rules (JPY has no minor unit: 148,650 JPY), never changing an amount.

A value with more digits than its currency has (a policy that rounds JPY to cents, say) is shown
as computed, and the explanation says so: formatting never rounds what the policy did not.
"""
from __future__ import annotations

import functools
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, is_currency, parse_pattern

DEFAULT_LOCALE = "en_US"


@functools.lru_cache(maxsize=64)
def parse_locale(name: str) -> Locale:
    """A locale by its name (`en_US`, `de-DE`, `ja`); a ValueError naming it if Babel knows none."""
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(f"unknown locale `{name}`: give one like `en_US`, `de_DE` or `ja_JP`") from None


@functools.lru_cache(maxsize=256)
def currency_code(text: object) -> str | None:
    """The ISO code a request's text names (`"JPY"`, `" jpy "`), or None if Babel knows no such currency."""
    if not isinstance(text, str):
        return None
    code = text.strip().upper()
    return code if len(code) == 3 and is_currency(code) else None


@functools.lru_cache(maxsize=8192)
def _shown(value: Decimal, digits: int, locale: str) -> str:
    """Babel's rendering of one amount with `digits` decimals; amounts repeat (the same price in
    each step, total and sentence, and from one request to the next), and Babel takes ~25 µs."""
    pattern = parse_pattern("#,##0" + ("." + "0" * digits if digits > 0 else ""))
    return pattern.apply(value, parse_locale(locale))


class MoneyFormat:
    """How one explanation shows money: in `currency` (an ISO code), for readers of `locale`."""

    def __init__(self, currency: str, locale: str = DEFAULT_LOCALE):
        self.currency = currency
        self.locale = locale
        parse_locale(locale)  # an unknown locale is an error here, not at the first amount
        # Babel gives 2 for a code it does not know: shown as the policy computed it, with cents
        self.digits = get_currency_precision(currency) if currency else 2
        self.more_digits = False  # an amount was shown with more digits than the currency has

    def amount(self, value: Decimal) -> str:
        """`148650.00` in JPY as `148,650`; `148650.50` in JPY as `148,650.50` (as computed)."""
        digits = self.digits
        if value != value.quantize(Decimal(1).scaleb(-digits)):
            digits = -value.as_tuple().exponent
            self.more_digits = True
        # -0 equals 0 (one cache entry for both): no amount is shown as "-0"
        return _shown(value.copy_abs() if value.is_zero() else value, digits, self.locale)

    def text(self, text: str) -> str:
        """An amount of the decision's JSON (`-1890.00`), shown."""
        try:
            return self.amount(Decimal(text))
        except InvalidOperation:
            return text

    def note(self) -> str | None:
        """What the reader must know when an amount has more digits than its currency."""
        if not self.more_digits:
            return None
        return (f"Note: {self.currency} amounts have {self.digits} decimal places; amounts with more are shown "
                f"as the policy computed them, not rounded.")
