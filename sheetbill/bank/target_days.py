"""TARGET2 business days: the days SEPA direct debits are settled on.

SEPA collections settle on TARGET days (EPC SEPA Core Direct Debit Rulebook: the "Settlement Date"
is a TARGET day). The ECB's TARGET calendar closes on Saturdays and Sundays and on six holidays a
year: New Year's Day (1 January), Good Friday, Easter Monday, Labour Day (1 May), Christmas Day
(25 December) and 26 December (ECB, "TARGET closing days"; the same list since 2002). Easter is
computed (Gregorian calendar, the anonymous "Meeus/Jones/Butcher" algorithm), never tabulated, so
the calendar holds for any year.

Every place that picks a collection date (:func:`sheetbill.mandates.debit_date` for the date an
invoice announces, :mod:`sheetbill.debits` for the date a file asks for) and the direct-debit writer
(:func:`sheetbill.bank.sepa.pain008`, which refuses another day) use these functions.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

_ONE_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=512)
def easter_sunday(year: int) -> dt.date:
    """Easter Sunday of ``year`` in the Gregorian calendar (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@lru_cache(maxsize=512)
def target_holidays(year: int) -> frozenset[dt.date]:
    """The TARGET closing days of ``year`` besides weekends."""
    easter = easter_sunday(year)
    return frozenset({dt.date(year, 1, 1), easter - 2 * _ONE_DAY, easter + _ONE_DAY, dt.date(year, 5, 1),
                      dt.date(year, 12, 25), dt.date(year, 12, 26)})


def is_target_day(day: dt.date) -> bool:
    """True when TARGET2 is open on ``day``: a weekday that is not one of :func:`target_holidays`."""
    return day.weekday() < 5 and day not in target_holidays(day.year)


def next_target_day(day: dt.date) -> dt.date:
    """``day`` itself when it is a TARGET day, else the first TARGET day after it."""
    while not is_target_day(day):
        day += _ONE_DAY
    return day


def first_collection_day(submitted: dt.date) -> dt.date:
    """The earliest collection date of a file submitted on ``submitted``: it must reach the bank one
    TARGET day before the collection (D-1), and the bank takes it on the first TARGET day on or after
    ``submitted``."""
    return next_target_day(next_target_day(submitted) + _ONE_DAY)
