"""Money policy: every amount is a ``Decimal``, and rounding happens in exactly one place.

Policy, in full:

* Amounts are ``Decimal`` from the moment they leave a cell. A float from a sheet is converted
  through ``str`` (``D(0.1) == Decimal("0.1")``), never through ``Decimal(float)``, which would carry
  the binary error (``0.1000000000000000055511151231257827``) into the books.
* An amount is rounded **once per line**, half-up (``0.125 -> 0.13``, never banker's rounding), to
  the minor unit of the run's currency, by :func:`quantize`. Nothing else in sheetbill rounds money.
* Totals are sums of rounded lines, so an invoice always equals the sum of the lines shown on it.
* Splitting an amount (shares, installments) uses :func:`split_equal`, whose parts always add up to
  the cent.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

ZERO = Decimal("0")

#: ISO 4217 currencies whose minor unit is not 2 digits. Everything else uses cents.
_MINOR_UNITS = {
    "BHD": 3, "CLF": 4, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}


def D(value: object) -> Decimal:
    """Convert a number from a cell or a literal to ``Decimal`` without float error.

    Floats go through ``str``; ints and strings directly. Raises ``InvalidOperation`` (a
    ``ValueError`` subclass is not guaranteed, so callers catch :class:`ArithmeticError`) for text
    that is not a number, and ``ValueError`` for NaN and infinities, which have no place in money.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueError("a yes/no value is not an amount")
    elif isinstance(value, (int, str)):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise ValueError(f"not a number: {value!r}")
    if not result.is_finite():
        raise ValueError("not a finite number")
    return result


def minor_unit(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (ISO 4217); 2 unless listed otherwise."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def is_currency_code(code: str) -> bool:
    """True when ``code`` has the shape of an ISO 4217 code (three letters)."""
    return len(code) == 3 and code.isascii() and code.isalpha()


@cache
def quantum(currency: str) -> Decimal:
    """The smallest amount of ``currency``: ``Decimal('0.01')`` for EUR."""
    return Decimal(1).scaleb(-minor_unit(currency))


def quantize(amount: Decimal, currency: str = "EUR") -> Decimal:
    """Round ``amount`` half-up to the minor unit of ``currency``: the one place money is rounded."""
    try:
        return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)
    except InvalidOperation as error:  # pragma: no cover - only for absurdly large numbers
        raise ValueError(f"amount out of range: {amount}") from error


def quantize_all(values: Iterable[object], currency: str = "EUR") -> list[object]:
    """:func:`quantize` over a column of amounts (``None`` and text pass through unchanged).

    Used to give amounts read back from a sheet (floats) and computed amounts one spelling
    (``80.0`` and ``Decimal('80')`` both become ``Decimal('80.00')``); in a loop of its own because it
    runs over every cell of the largest sheets.
    """
    places = quantum(currency)
    result: list[object] = []
    append = result.append
    for value in values:
        kind = type(value)
        if kind is Decimal:
            append(value.quantize(places, rounding=ROUND_HALF_UP))
        elif value is None or kind is str or kind is bool:
            append(value)
        else:
            append(D(value).quantize(places, rounding=ROUND_HALF_UP))
    return result


def plain_number(value: Decimal) -> Decimal:
    """A non-money number (a quantity) in one spelling, without trailing zeros or exponent:
    ``Decimal('1.0')`` -> ``Decimal('1')``, ``Decimal('2.50')`` -> ``Decimal('2.5')``,
    ``Decimal('1E+2')`` -> ``Decimal('100')``."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


class AmountPool:
    """One shared object per distinct amount: a run has millions of equal amounts (a service's
    price, its copay) and a ``Decimal`` costs about 100 bytes.

    Only values in one spelling may share a pool, since equal Decimals with different exponents
    (``80.00`` and ``80``) compare and hash alike: :meth:`money` takes amounts rounded by
    :func:`quantize`, :meth:`number` takes quantities in the :func:`plain_number` spelling.
    """

    def __init__(self, currency: str):
        self.currency = currency
        self._money: dict[Decimal, Decimal] = {}
        self._numbers: dict[Decimal, Decimal] = {}
        #: What :meth:`money` gave for each amount asked: equal amounts (``80.0`` and ``80.00`` read back)
        #: round to the same spelling, so a history of 100,000s of amounts is rounded once per distinct one.
        self._money_of: dict[Decimal, Decimal] = {}

    def money(self, amount: Decimal) -> Decimal:
        """``amount`` rounded by :func:`quantize`, shared."""
        shared = self._money_of.get(amount)
        if shared is None:
            value = quantize(amount, self.currency)
            if not value:
                value = abs(value)  # one zero: never "-0.00"
            shared = self._money_of[amount] = self._money.setdefault(value, value)
        return shared

    def number(self, value: Decimal) -> Decimal:
        """``value`` in the :func:`plain_number` spelling, shared."""
        plain = plain_number(value)
        if not plain:
            plain = abs(plain)
        return self._numbers.setdefault(plain, plain)


class RoundedAmounts:
    """:func:`quantize` for the amounts of an output sheet, one shared object per distinct result.

    An output sheet rounds an amount per cell, most of them equal (zeros above all): a million invoices
    and accounts would each hold new Decimals of the same few values (about 100 bytes each). The result
    is exactly :func:`quantize`'s, the sign of a zero included (unlike :class:`AmountPool`, which gives
    one zero).
    """

    def __init__(self, currency: str):
        self.currency = currency
        self._zero = quantize(Decimal(0), currency)
        self._minus_zero = quantize(Decimal("-0"), currency)
        self._of: dict[Decimal, Decimal] = {}
        self._results: dict[Decimal, Decimal] = {}

    def __call__(self, amount: Decimal) -> Decimal:
        if not amount:
            return self._minus_zero if amount.is_signed() else self._zero
        rounded = self._of.get(amount)  # equal amounts (80.0, 80.00) round alike
        if rounded is None:
            rounded = quantize(amount, self.currency)
            if not rounded:  # 0.004 and -0.004: zeros of their own signs
                rounded = self._minus_zero if rounded.is_signed() else self._zero
            else:  # equal results of one exponent are spelled alike
                rounded = self._results.setdefault(rounded, rounded)
            self._of[amount] = rounded
        return rounded


def round_down(amount: Decimal, currency: str = "EUR") -> Decimal:
    """Truncate ``amount`` to the minor unit (used for equal installments, remainder on the last)."""
    return amount.quantize(quantum(currency), rounding=ROUND_DOWN)


def split_equal(total: Decimal, parts: int, currency: str = "EUR") -> list[Decimal]:
    """Split ``total`` into ``parts`` equal amounts rounded down, the remainder on the last.

    ``split_equal(Decimal("590.00"), 6)`` gives five times 98.33 and 98.35; the parts always add up
    to ``total`` exactly.
    """
    if parts < 1:
        raise ValueError("cannot split into fewer than one part")
    each = round_down(total / parts, currency)
    return [each] * (parts - 1) + [total - each * (parts - 1)]


def split_shares(total: Decimal, percents: Iterable[Decimal], currency: str = "EUR") -> list[Decimal]:
    """Split ``total`` by ``percents`` (which add up to 100), each part rounded down, the remainder on
    the last: ``split_shares(Decimal("1000.00"), [30, 50, 20])`` gives 300.00, 500.00 and 200.00."""
    percents = list(percents)
    if not percents:
        raise ValueError("cannot split into fewer than one part")
    parts = [round_down(total * Decimal(p) / 100, currency) for p in percents[:-1]]
    return parts + [total - sum(parts, Decimal(0))]


def fmt(amount: Decimal, currency: str = "EUR") -> str:
    """Show an amount for people: ``1,234.50 EUR``."""
    digits = minor_unit(currency)
    return f"{quantize(amount, currency):,.{digits}f} {currency}"
