"""TARGET2 business days for SEPA collection dates, against the ECB's published TARGET closing days and
an independent calendar (the ``holidays`` package's ECB/TARGET2 calendar)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from sheetbill.bank.target_days import (
    easter_sunday,
    first_collection_day,
    is_target_day,
    next_target_day,
    target_holidays,
)
from sheetbill.mandates import debit_date

ROOT = Path(__file__).resolve().parents[2]

#: The TARGET closing days the ECB publishes for 2025 to 2027 (besides Saturdays and Sundays): New Year's
#: Day, Good Friday, Easter Monday, Labour Day, Christmas Day, 26 December.
PUBLISHED = {
    2025: ["2025-01-01", "2025-04-18", "2025-04-21", "2025-05-01", "2025-12-25", "2025-12-26"],
    2026: ["2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-12-25", "2026-12-26"],
    2027: ["2027-01-01", "2027-03-26", "2027-03-29", "2027-05-01", "2027-12-25", "2027-12-26"],
}


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_the_closing_days_are_the_published_ones(year):
    assert sorted(target_holidays(year)) == [dt.date.fromisoformat(d) for d in PUBLISHED[year]]
    day, open_days = dt.date(year, 1, 1), 0
    while day.year == year:
        expected = day.weekday() < 5 and day.isoformat() not in PUBLISHED[year]
        assert is_target_day(day) is expected, day
        open_days += expected
        day += dt.timedelta(days=1)
    # 2025: 261 weekdays, all six holidays on weekdays; 2026: 26 Dec is a Saturday; 2027: three on weekends
    assert open_days == {2025: 255, 2026: 256, 2027: 258}[year]


def test_easter_is_computed_for_any_year():
    # Easter Sundays from published tables, including the extremes of the Gregorian computus
    known = {1818: "1818-03-22", 1943: "1943-04-25", 2000: "2000-04-23", 2008: "2008-03-23", 2011: "2011-04-24",
             2019: "2019-04-21", 2024: "2024-03-31", 2038: "2038-04-25", 2285: "2285-03-22"}
    for year, day in known.items():
        assert easter_sunday(year) == dt.date.fromisoformat(day)
    source = (ROOT / "sheetbill" / "bank" / "target_days.py").read_text()
    assert not re.search(r"20[0-9]{2}, [0-9]{1,2}, [0-9]{1,2}", source)  # no tabulated dates


def test_the_calendar_agrees_with_an_independent_one_for_a_century():
    holidays = pytest.importorskip("holidays", reason="the holidays package (a dev dependency) is not installed")
    ecb = holidays.ECB(years=range(2002, 2101))
    for year in range(2002, 2101):
        assert target_holidays(year) == frozenset(d for d in ecb if d.year == year), year


def test_a_collection_date_moves_to_the_next_target_day():
    assert next_target_day(dt.date(2026, 4, 3)) == dt.date(2026, 4, 7)  # Good Friday -> past Easter Monday
    assert next_target_day(dt.date(2026, 12, 24)) == dt.date(2026, 12, 24)  # Christmas Eve is open
    assert next_target_day(dt.date(2026, 12, 25)) == dt.date(2026, 12, 28)  # Fri 25, Sat 26, Sun 27
    assert next_target_day(dt.date(2027, 12, 25)) == dt.date(2027, 12, 27)
    assert next_target_day(dt.date(2027, 12, 31)) == dt.date(2027, 12, 31)
    assert next_target_day(dt.date(2028, 1, 1)) == dt.date(2028, 1, 3)  # Saturday 1 January 2028
    assert next_target_day(dt.date(2027, 5, 1)) == dt.date(2027, 5, 3)


def test_a_file_sent_today_is_collected_one_target_day_after_the_bank_has_it():
    assert first_collection_day(dt.date(2026, 3, 2)) == dt.date(2026, 3, 3)  # Monday -> Tuesday
    assert first_collection_day(dt.date(2026, 3, 6)) == dt.date(2026, 3, 9)  # Friday -> Monday
    assert first_collection_day(dt.date(2026, 3, 7)) == dt.date(2026, 3, 10)  # Saturday: the bank has it Monday
    assert first_collection_day(dt.date(2026, 4, 2)) == dt.date(2026, 4, 7)  # Thursday before Easter
    assert first_collection_day(dt.date(2026, 12, 24)) == dt.date(2026, 12, 28)


def test_the_announced_debit_date_is_a_target_day():
    # due on Good Friday 2026, issued long before: announced for the Tuesday after Easter
    assert debit_date(dt.date(2026, 3, 1), dt.date(2026, 4, 3), 14) == dt.date(2026, 4, 7)
    # the pre-notification period ends on 26 December 2026 (a Saturday and a holiday): Monday 28th
    assert debit_date(dt.date(2026, 12, 12), dt.date(2026, 12, 20), 14) == dt.date(2026, 12, 28)
    assert debit_date(dt.date(2026, 3, 2), dt.date(2026, 3, 16), 14) == dt.date(2026, 3, 16)  # a Monday stays
