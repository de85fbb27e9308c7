"""Default interest: rates, the Base Rates table, day-count bases and interest on an open principal.

Pure functions and frozen records; no sheets and no runs, so every stage may import it.

Conventions, in full (``docs/interest.md`` says the same for users):

* **Which days count.** Interest for a booking from ``start`` to ``end`` runs for each day ``d`` with
  ``start < d <= end``: the due date itself (or the previous booking date) does not count, the booking
  date does. Each day counts on the principal open on that day and at the rate in force on that day.
* **The open principal** is a timeline of steps ``(from_day, amount)``: ``amount`` is open from
  ``from_day`` on, until the next step. Before the first step nothing is open. A principal of zero or
  less accrues nothing (an overpaid account earns the debtor no interest). A payment that should leave
  its own day on the old principal, as a booking date stays on it, starts its step the day after.
* **Rates** are annual percents: fixed (``8``) or the base rate plus points (``base + 5``, § 288 BGB),
  the base rate taken from the Base Rates table for each day. A rate below zero counts as zero: a
  default never earns the debtor interest.
* **Day-count bases** (:class:`DayCount`): act/365 (each calendar day is 1/365 of a year, also in a
  leap year), act/360 (each calendar day is 1/360), 30E/360 (below).
* **Rounding.** :func:`accrued_interest` is unrounded; :func:`booked_interest` rounds it once, half-up,
  with :func:`sheetbill.money.quantize`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import decimal
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from .cells import CellError, is_blank, to_decimal, to_percent, to_text
from .i18n import msg
from .money import ZERO, D, quantize
from .problems import Problem, error
from .sheets import CellValue

if TYPE_CHECKING:
    from .book import Book

__all__ = [
    "BaseRates", "DayCount", "InterestRate", "MissingBaseRate", "accrued_interest", "booked_interest",
    "interest_numerator", "parse_day_count", "parse_interest_rate",
]

_ONE_DAY = dt.timedelta(days=1)
_HUNDRED = Decimal(100)
# Far beyond a cent for any amount a ledger holds; the quotient is the only inexact step.
_PRECISION = 50

#: The forms :func:`parse_interest_rate` accepts, for the clerk's error message.
RATE_FORMS = msg("a fixed annual percent (8, 8 %, 8,5) or the base rate plus points (base + 5, Basiszinssatz + 9, "
                 "base - 0.5)")


# --- rates ----------------------------------------------------------------------------------------


class MissingBaseRate(ValueError):
    """A ``base + N`` rate is needed for a day before the first Valid From of the Base Rates table.

    Attributes:
        day: the first day that needs a base rate and has none.
    """

    def __init__(self, day: dt.date):
        super().__init__(f"no base rate for {day.isoformat()}: add a Base Rates row valid from that day "
                         "or earlier (from the Bundesbank's table)")
        self.day = day


class BaseRates:
    """The Base Rates table: the base rate (an annual percent, possibly negative) valid from each day on.

    Built from ``(valid_from, percent)`` pairs in any order; a rate holds from its Valid From until the
    next row's. The values come from the user's Base Rates sheet (the Bundesbank's published table);
    sheetbill holds none of its own.
    """

    def __init__(self, rows: Iterable[tuple[dt.date, Decimal]] = ()):
        pairs = sorted(rows)
        days = [day for day, _ in pairs]
        for earlier, later in zip(days, days[1:], strict=False):
            if earlier == later:
                raise ValueError(f"two base rates valid from {later.isoformat()}")
        self._days: tuple[dt.date, ...] = tuple(days)
        self._rates: tuple[Decimal, ...] = tuple(D(rate) for _, rate in pairs)

    def __len__(self) -> int:
        return len(self._days)

    def __repr__(self) -> str:
        return f"BaseRates({list(zip(self._days, self._rates, strict=True))!r})"

    def rate_on(self, day: dt.date) -> Decimal:
        """The base rate in force on ``day``; :class:`MissingBaseRate` before the first Valid From."""
        index = bisect.bisect_right(self._days, day) - 1
        if index < 0:
            raise MissingBaseRate(day)
        return self._rates[index]

    def changes(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """The Valid From days ``d`` with ``start < d <= end``: where the rate may change in a period."""
        return list(self._days[bisect.bisect_right(self._days, start):bisect.bisect_right(self._days, end)])


@dataclass(frozen=True)
class InterestRate:
    """An annual default-interest rate: a fixed percent or the base rate plus points.

    Attributes:
        percent: the fixed annual percent, or the points over the base rate when ``over_base``
            (negative points allowed).
        over_base: ``True`` for the ``base + points`` form (§ 288 BGB: 5 points for consumers, 9 for
            businesses).
    """

    percent: Decimal
    over_base: bool = False

    def __str__(self) -> str:
        if not self.over_base:
            return f"{self.percent} %"
        sign = "-" if self.percent < 0 else "+"
        return f"base {sign} {abs(self.percent)}"

    def percent_on(self, day: dt.date, base_rates: BaseRates | None) -> Decimal:
        """The annual percent in force on ``day``, never below zero (a default earns the debtor nothing)."""
        if not self.over_base:
            return max(self.percent, ZERO)
        if base_rates is None:
            raise MissingBaseRate(day)
        return max(base_rates.rate_on(day) + self.percent, ZERO)


_BASE_FORM = re.compile(r"(?:base|basis|basiszinssatz|basiszins)\s*([+-])\s*(\d+(?:[.,]\d+)?)\s*%?", re.I)
_FIXED_FORM = re.compile(r"[+-]?\d+(?:[.,]\d+)?\s*%?")


def parse_interest_rate(value: CellValue) -> InterestRate:
    """The Interest Rate setting: ``8``, ``8 %``, ``8,5``, ``base + 5``, ``Basiszinssatz + 9 %``, ...

    A number from a cell formatted as a percentage (0.08 for 8 %) means 8 %, as in
    :func:`sheetbill.cells.to_percent`; so does text ``"8"``. The base may be written ``base``,
    ``basis``, ``Basiszinssatz`` or ``Basiszins`` (any case); points may be negative (``base - 0.5``)
    and carry a ``%``. Anything else raises :class:`~sheetbill.cells.CellError` with the code
    ``bad-interest-rate``.
    """
    if isinstance(value, str):
        text = value.strip()
        match = _BASE_FORM.fullmatch(text)
        if match:
            points = to_decimal(match[2])
            return InterestRate(-points if match[1] == "-" else points, over_base=True)
        if not _FIXED_FORM.fullmatch(text):
            raise CellError(msg("{value} is not an interest rate: write {forms}", value=repr(text), forms=RATE_FORMS),
                            "bad-interest-rate")
    elif isinstance(value, bool) or value is None or isinstance(value, dt.date):
        raise CellError(msg("{value} is not an interest rate: write {forms}", value=repr(to_text(value)),
                            forms=RATE_FORMS), "bad-interest-rate")
    try:
        percent = to_percent(value)
    except CellError as err:
        raise CellError(msg("{value} is not an interest rate: write {forms}", value=repr(to_text(value)),
                            forms=RATE_FORMS), "bad-interest-rate") from err
    if not 0 <= percent <= 100:  # to_percent leaves text with a % sign unchecked
        raise CellError(msg("{value} is not an interest rate between 0 and 100 %: write {forms}",
                            value=repr(to_text(value)), forms=RATE_FORMS), "bad-interest-rate")
    return InterestRate(percent)


# --- day counts -----------------------------------------------------------------------------------


class DayCount(StrEnum):
    """How days become a fraction of a year.

    * ``act/365``: each calendar day is 1/365 of a year, in leap years too (act/365 fixed). The default.
    * ``act/360``: each calendar day is 1/360 of a year.
    * ``30E/360``: the Eurobond basis (ICMA; ISDA 2006 § 4.16(g)). Every month has 30 days, a year 360:
      the days from ``(y1, m1, d1)`` to ``(y2, m2, d2)`` are ``360(y2-y1) + 30(m2-m1) + (d2-d1)`` where a
      31st counts as the 30th. February is not stretched: 2026-01-31 to 2026-02-28 is 28 days and
      2026-02-28 to 2026-03-31 is 32. The German banks' variant that counts the end of February as
      the 30th is not used: it depends on where a period ends, so splitting a period at a payment
      would change the total; plain 30E/360 never does.
    """

    ACT_365 = "act/365"
    ACT_360 = "act/360"
    THIRTY_E_360 = "30E/360"

    @property
    def year_days(self) -> int:
        """The days in the basis year: 365 or 360."""
        return 365 if self is DayCount.ACT_365 else 360

    def days(self, start: dt.date, end: dt.date) -> int:
        """The days counted from ``start`` (excluded) to ``end`` (included) on this basis."""
        if self is DayCount.THIRTY_E_360:
            return _thirty_e_serial(end) - _thirty_e_serial(start)
        return (end - start).days


def _thirty_e_serial(day: dt.date) -> int:
    """A day's number on the 30E/360 calendar; 30E/360 days are differences of these numbers."""
    return 360 * day.year + 30 * day.month + min(day.day, 30)


_DAY_COUNTS = {
    "act/365": DayCount.ACT_365, "actual/365": DayCount.ACT_365, "act/365f": DayCount.ACT_365,
    "act/360": DayCount.ACT_360, "actual/360": DayCount.ACT_360,
    "30/360": DayCount.THIRTY_E_360, "30e/360": DayCount.THIRTY_E_360,
}


def parse_day_count(value: CellValue) -> DayCount:
    """The Interest Basis setting: ``act/365`` (also when blank), ``act/360`` or ``30/360`` (30E/360).

    Case and spaces do not matter; ``actual/365``, ``act/365F``, ``actual/360`` and ``30E/360`` are
    accepted too. Anything else raises :class:`~sheetbill.cells.CellError` with the code
    ``bad-interest-basis``.
    """
    if is_blank(value):
        return DayCount.ACT_365
    key = re.sub(r"\s+", "", to_text(value)).casefold()
    if key in _DAY_COUNTS:
        return _DAY_COUNTS[key]
    raise CellError(msg("{value} is not an interest basis: write act/365, act/360 or 30/360",
                        value=repr(to_text(value))),
                    "bad-interest-basis")


# --- accrual --------------------------------------------------------------------------------------


def _check_steps(steps: Sequence[tuple[dt.date, Decimal]]) -> list[dt.date]:
    """The step days, checked to be strictly increasing."""
    days = [day for day, _ in steps]
    for earlier, later in zip(days, days[1:], strict=False):
        if later <= earlier:
            raise ValueError(f"open principal steps out of order: {earlier.isoformat()}, {later.isoformat()}")
    return days


def _periods(steps: Sequence[tuple[dt.date, Decimal]], start: dt.date, end: dt.date, rate: InterestRate,
             base_rates: BaseRates | None) -> Iterator[tuple[dt.date, dt.date, Decimal]]:
    """Split ``(start, end]`` into periods ``(a, b]`` of constant principal and rate; yield ``(a, b, principal)``.

    A change on day ``c`` (a step, a new base rate) ends a period on ``c - 1``.
    """
    days = _check_steps(steps)
    cuts = {end}
    cuts.update(day - _ONE_DAY for day in days if start < day <= end)
    if rate.over_base and base_rates is not None:
        cuts.update(day - _ONE_DAY for day in base_rates.changes(start, end))
    previous = start
    for cut in sorted(cuts):
        if cut > previous:
            index = bisect.bisect_right(days, cut) - 1
            yield previous, cut, steps[index][1] if index >= 0 else ZERO
            previous = cut


def interest_numerator(open_principal: Sequence[tuple[dt.date, Decimal]], start: dt.date, end: dt.date,
                       rate: InterestRate, base_rates: BaseRates | None = None,
                       basis: DayCount = DayCount.ACT_365) -> Decimal:
    """The exact sum over ``(start, end]`` of principal x annual percent x days counted.

    :func:`accrued_interest` is this divided once by ``100 x basis.year_days``. It is exact (no
    division), so it is additive: splitting ``(start, end]`` at any day gives the same sum. Raises
    :class:`MissingBaseRate` when a ``base + N`` rate is needed (principal open) on a day before the
    first Valid From.
    """
    total = ZERO
    with decimal.localcontext() as context:
        context.prec = _PRECISION
        for first, last, principal in _periods(open_principal, start, end, rate, base_rates):
            if principal <= 0:
                continue
            try:
                percent = rate.percent_on(last, base_rates)
            except MissingBaseRate as err:
                raise MissingBaseRate(first + _ONE_DAY) from err
            total += principal * percent * basis.days(first, last)
    return total


def accrued_interest(open_principal: Sequence[tuple[dt.date, Decimal]], start: dt.date, end: dt.date,
                     rate: InterestRate, base_rates: BaseRates | None = None,
                     basis: DayCount = DayCount.ACT_365) -> Decimal:
    """Default interest for each day ``d`` with ``start < d <= end``, unrounded.

    Args:
        open_principal: steps ``(from_day, amount)`` in increasing order of day: ``amount`` is open
            from ``from_day`` on (e.g. ``[(2026-02-01, 1000.00), (2026-03-03, 500.00)]``).
        start: the due date or the previous booking date (not counted).
        end: the booking date (counted).
        rate: the annual rate; a ``base + N`` rate reads ``base_rates`` for each day.
        base_rates: the Base Rates table (needed only for ``base + N``).
        basis: the day-count basis.

    Each period of constant principal and rate contributes principal x percent / 100 x days /
    ``basis.year_days``; the sum is divided once, to 50 significant digits (1/365 has no finite
    decimal). Raises :class:`MissingBaseRate` as :func:`interest_numerator` does.
    """
    numerator = interest_numerator(open_principal, start, end, rate, base_rates, basis)
    with decimal.localcontext() as context:
        context.prec = _PRECISION
        return numerator / (_HUNDRED * basis.year_days)


def booked_interest(open_principal: Sequence[tuple[dt.date, Decimal]], start: dt.date, end: dt.date,
                    rate: InterestRate, base_rates: BaseRates | None = None,
                    basis: DayCount = DayCount.ACT_365, currency: str = "EUR") -> Decimal:
    """The interest booked at a reminder or hand-off: :func:`accrued_interest` rounded once, half-up,
    to the minor unit of ``currency`` by :func:`sheetbill.money.quantize`."""
    return quantize(accrued_interest(open_principal, start, end, rate, base_rates, basis), currency)


#: A change of principal on day d counts for interest from the next day on.
ONE_DAY = dt.timedelta(days=1)


def interest_terms(book: Book, problems: list[Problem]) -> tuple[InterestRate, BaseRates, DayCount] | None:
    """The default interest of the workbook: Interest Rate (or, when blank, Default Interest Percent as a
    fixed rate), the Base Rates sheet and Interest Basis; ``None`` when no interest is charged. A setting
    that cannot be read is a Problem on its row, and no interest is charged (a rate must never be guessed)."""
    settings = book.settings
    rows = settings.rows
    try:
        basis = parse_day_count(settings.interest_basis)
    except CellError as err:
        problems.append(error(msg("Interest Basis: {problem}", problem=err.message), "Settings",
                              rows.get("interestbasis"), "Value",
                              code=err.code))
        return None
    if settings.interest_rate is not None and str(settings.interest_rate).strip():
        try:
            rate = parse_interest_rate(settings.interest_rate)
        except CellError as err:
            problems.append(error(msg("Interest Rate: {problem}", problem=err.message), "Settings",
                                  rows.get("interestrate"), "Value",
                                  code=err.code))
            return None
    elif settings.default_interest_percent is not None:
        rate = InterestRate(settings.default_interest_percent)
    else:
        return None
    return rate, BaseRates((r.valid_from, r.rate) for r in book.base_rates), basis


def interest_steps(timeline: list[tuple[dt.date, Decimal]]) -> list[tuple[dt.date, Decimal]]:
    """The ledger's principal timeline (the open principal after each change on its day) as interest
    steps: a change on day ``d`` counts from ``d + 1`` on, so the day a payment arrives still bears
    interest on what it pays; one step per day, the last change of the day winning."""
    steps: dict[dt.date, Decimal] = {}
    for index, (day, amount) in enumerate(timeline):
        steps[day if index == 0 else day + ONE_DAY] = amount
    return sorted(steps.items())
