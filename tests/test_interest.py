"""Default interest (sheetbill.interest): rates, base rates, day counts and accrual on an open principal.

Base rates used here are test data, copied from the Bundesbank's announcements named next to them; the
package itself holds no base rate.
"""

from __future__ import annotations

import datetime as dt
import decimal
import time
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sheetbill.cells import CellError
from sheetbill.interest import (
    BaseRates,
    DayCount,
    InterestRate,
    MissingBaseRate,
    accrued_interest,
    booked_interest,
    interest_numerator,
    parse_day_count,
    parse_interest_rate,
)

d = dt.date
EIGHT = InterestRate(Decimal("8"))


def quotient(numerator: int | str, denominator: int) -> Decimal:
    """``numerator / denominator`` at the precision accrued_interest divides with."""
    with decimal.localcontext() as context:
        context.prec = 50
        return Decimal(numerator) / denominator


# --- the case -----------------------------------------------------------------------------


def test_a_partial_payment_lowers_the_principal_from_its_step_on():
    # 1,000.00 due 2026-01-31, half paid after 30 days, 60 days in all at 8 %:
    # 1000 x 8 % x 30/365 + 500 x 8 % x 30/365 = (240,000 + 120,000) / 36,500 = 9.8630... -> 9.86.
    # Days counted: 2026-02-01..2026-03-02 (30 days) on 1,000, 2026-03-03..2026-04-01 (30 days) on 500.
    steps = [(d(2026, 2, 1), Decimal("1000.00")), (d(2026, 3, 3), Decimal("500.00"))]
    assert interest_numerator(steps, d(2026, 1, 31), d(2026, 4, 1), EIGHT) == 360_000
    assert accrued_interest(steps, d(2026, 1, 31), d(2026, 4, 1), EIGHT) == quotient(360_000, 36_500)
    assert booked_interest(steps, d(2026, 1, 31), d(2026, 4, 1), EIGHT) == Decimal("9.86")
    # The old way, today's balance x all days (500 x 8 % x 60/365 = 6.58), under-claims.
    assert booked_interest([(d(2026, 1, 1), Decimal("500.00"))], d(2026, 1, 31), d(2026, 4, 1), EIGHT) \
        == Decimal("6.58")


def test_the_due_date_does_not_count_and_the_booking_date_does():
    one_thousand = [(d(2026, 1, 1), Decimal("1000.00"))]
    assert accrued_interest(one_thousand, d(2026, 1, 31), d(2026, 1, 31), EIGHT) == 0
    # One day (2026-02-01): 1000 x 8 / 36,500 = 0.2191... -> 0.22.
    assert interest_numerator(one_thousand, d(2026, 1, 31), d(2026, 2, 1), EIGHT) == 8000
    assert booked_interest(one_thousand, d(2026, 1, 31), d(2026, 2, 1), EIGHT) == Decimal("0.22")
    assert accrued_interest(one_thousand, d(2026, 2, 1), d(2026, 1, 31), EIGHT) == 0


def test_published_example_base_plus_five():
    # anleiter.de, "Wie berechnet man Verzugszinsen?": 1,000.00 EUR from a consumer, 25 days overdue, at
    # 5.12 % (base rate 0.12 % + 5 points) -> 3.51 EUR (Kapital x Tage x Prozentsatz / (365 x 100)).
    # The base rate was 0.12 % from 2012-01-01 (Bundesbank announcement), -0.13 % from 2013-01-01.
    rates = BaseRates([(d(2012, 1, 1), Decimal("0.12")), (d(2013, 1, 1), Decimal("-0.13"))])
    steps = [(d(2012, 5, 1), Decimal("1000.00"))]
    assert booked_interest(steps, d(2012, 5, 1), d(2012, 5, 26), parse_interest_rate("base + 5"), rates) \
        == Decimal("3.51")
    assert booked_interest(steps, d(2012, 5, 1), d(2012, 5, 26), parse_interest_rate("5,12 %")) == Decimal("3.51")


# --- base rates -----------------------------------------------------------------------------------


#: Bundesbank announcements: 3.19 % from 2008-07-01, 1.62 % from 2009-01-01 ("Anpassung des
#: Basiszinssatzes zum 1. Januar 2009 auf 1,62 %"; consumers' default rate 8.19 % then 6.62 %).
RATES_2008 = BaseRates([(d(2009, 1, 1), Decimal("1.62")), (d(2008, 7, 1), Decimal("3.19"))])


def test_a_base_rate_change_in_the_middle_of_a_period_splits_it():
    # 1,000.00 due 2008-12-16, booked 2009-01-15, base + 5:
    # 2008-12-17..12-31: 15 days at 8.19 %; 2009-01-01..01-15: 15 days at 6.62 %.
    # 1000 x (8.19 x 15 + 6.62 x 15) = 222,150; / 36,500 = 6.0863... -> 6.09 (not 30 days at 6.62 %: 5.44).
    steps = [(d(2008, 12, 17), Decimal("1000.00"))]
    consumer = parse_interest_rate("base + 5")
    assert interest_numerator(steps, d(2008, 12, 16), d(2009, 1, 15), consumer, RATES_2008) == 222_150
    assert booked_interest(steps, d(2008, 12, 16), d(2009, 1, 15), consumer, RATES_2008) == Decimal("6.09")
    assert RATES_2008.rate_on(d(2008, 12, 31)) == Decimal("3.19")
    assert RATES_2008.rate_on(d(2009, 1, 1)) == Decimal("1.62")
    assert RATES_2008.changes(d(2008, 7, 1), d(2009, 1, 1)) == [d(2009, 1, 1)]


def test_base_plus_points_with_a_negative_base_rate_and_a_leap_year():
    # Base rate -0.88 % from 2016-07-01 to 2022-12-31 (Bundesbank announcements, e.g. "Basiszinssatz bleibt
    # unverändert bei -0,88 %" for 2020-07-01); consumers 4.12 %, businesses 8.12 %.
    # 2,500.00 from 2020-03-31 to 2020-06-30: 30 + 31 + 30 = 91 days, over 365 although 2020 is a leap year.
    # 2500 x 4.12 x 91 = 937,300; / 36,500 = 25.679... -> 25.68. Businesses: 2500 x 8.12 x 91 / 36,500 = 50.61.
    rates = BaseRates([(d(2016, 7, 1), Decimal("-0.88")), (d(2023, 1, 1), Decimal("1.62"))])
    steps = [(d(2020, 4, 1), Decimal("2500.00"))]
    assert interest_numerator(steps, d(2020, 3, 31), d(2020, 6, 30), parse_interest_rate("base + 5"), rates) \
        == 937_300
    assert booked_interest(steps, d(2020, 3, 31), d(2020, 6, 30), parse_interest_rate("base + 5"), rates) \
        == Decimal("25.68")
    assert booked_interest(steps, d(2020, 3, 31), d(2020, 6, 30), parse_interest_rate("Base+9"), rates) \
        == Decimal("50.61")
    # base - 0.5 on a base of -0.88 is -1.38 %: a default never earns the debtor interest.
    assert accrued_interest(steps, d(2020, 3, 31), d(2020, 6, 30), parse_interest_rate("base - 0.5"), rates) == 0


def test_a_float_base_rate_is_taken_as_written():
    assert BaseRates([(d(2016, 7, 1), -0.88)]).rate_on(d(2020, 1, 1)) == Decimal("-0.88")


def test_a_base_rate_before_the_first_valid_from_is_missing():
    steps = [(d(2008, 6, 1), Decimal("100.00"))]
    with pytest.raises(MissingBaseRate) as caught:
        accrued_interest(steps, d(2008, 6, 20), d(2008, 7, 10), parse_interest_rate("base + 5"), RATES_2008)
    assert caught.value.day == d(2008, 6, 21)
    assert isinstance(caught.value, ValueError)
    with pytest.raises(MissingBaseRate):
        accrued_interest(steps, d(2008, 7, 1), d(2008, 7, 10), parse_interest_rate("base + 5"), None)
    # Not needed where nothing is open, nor for a fixed rate.
    later = [(d(2008, 7, 5), Decimal("100.00"))]
    assert accrued_interest(later, d(2008, 6, 20), d(2008, 7, 10), parse_interest_rate("base + 5"), RATES_2008) > 0
    assert accrued_interest(steps, d(2008, 6, 20), d(2008, 7, 10), EIGHT) > 0


def test_two_base_rates_from_one_day_are_refused():
    with pytest.raises(ValueError, match="2009-01-01"):
        BaseRates([(d(2009, 1, 1), Decimal("1.62")), (d(2009, 1, 1), Decimal("1.00"))])


# --- day counts -----------------------------------------------------------------------------------


def test_the_three_bases_on_one_period():
    # 1,000.00 at 6 % from 2026-01-31 to 2026-03-31: 59 calendar days (28 in February, 31 in March).
    # act/365: 1000 x 6 x 59 / 36,500 = 9.698... -> 9.70; act/360: 354,000 / 36,000 = 9.833... -> 9.83;
    # 30E/360: 28 + 32 = 60 days (below) -> 360,000 / 36,000 = 10.00.
    steps = [(d(2026, 1, 1), Decimal("1000.00"))]
    six = InterestRate(Decimal("6"))
    results = {basis: booked_interest(steps, d(2026, 1, 31), d(2026, 3, 31), six, basis=basis) for basis in DayCount}
    assert results == {DayCount.ACT_365: Decimal("9.70"), DayCount.ACT_360: Decimal("9.83"),
                       DayCount.THIRTY_E_360: Decimal("10.00")}


def test_thirty_e_360_days():
    # 30E/360 (ISDA 2006 § 4.16(g), "Eurobond basis"; QuantLib's Thirty360 European; cbonds.com glossary):
    # 360 (y2 - y1) + 30 (m2 - m1) + (d2 - d1), a 31st counting as the 30th, February as it is.
    days = DayCount.THIRTY_E_360.days
    assert days(d(2026, 1, 31), d(2026, 2, 28)) == 28   # 30 + 28 - 30
    assert days(d(2026, 2, 28), d(2026, 3, 31)) == 32   # 30 + 30 - 28: February is not stretched to 30 days
    assert days(d(2026, 1, 31), d(2026, 3, 31)) == 60   # 28 + 32: splitting never changes a count
    # Published examples (wer-weiss-was.de, "Zinstage Berechnung", an online calculator's answers):
    # 28.02 to 05.03 is 7 days, 30.03 to 31.03 is 0 days.
    assert days(d(2026, 2, 28), d(2026, 3, 5)) == 7
    assert days(d(2026, 3, 30), d(2026, 3, 31)) == 0
    # rhetos.de ("30/360 - deutsche (kaufmännische) Zinsmethode") counts a period ending on 28.02 with a
    # 30-day February: 10.01.2001 to 28.02.2001 is 50 days there, 28.02.2001 to 10.03.2001 is 10. Plain 30E/360
    # gives 48 and 12 (the same 60 in all): sheetbill does not use that February rule (see DayCount).
    assert days(d(2001, 1, 10), d(2001, 2, 28)) == 48
    assert days(d(2001, 2, 28), d(2001, 3, 10)) == 12
    assert days(d(2025, 12, 31), d(2026, 12, 31)) == 360


def test_act_365_counts_a_leap_year_as_366_days_over_365():
    # All of 2024 (366 days) at 5 %: 1000 x 5 x 366 / 36,500 = 50.136... -> 50.14.
    steps = [(d(2024, 1, 1), Decimal("1000.00"))]
    five = InterestRate(Decimal("5"))
    assert booked_interest(steps, d(2023, 12, 31), d(2024, 12, 31), five) == Decimal("50.14")
    assert booked_interest(steps, d(2023, 12, 31), d(2024, 12, 31), five, basis=DayCount.ACT_360) \
        == Decimal("50.83")  # 1,830,000 / 36,000 = 50.833...


def test_zero_or_negative_principal_accrues_nothing():
    for amount in ("0.00", "-250.00"):
        steps = [(d(2026, 1, 1), Decimal(amount))]
        assert accrued_interest(steps, d(2026, 1, 31), d(2026, 12, 31), EIGHT) == 0
    assert accrued_interest([], d(2026, 1, 31), d(2026, 12, 31), EIGHT) == 0
    # Nothing is open before the first step; an overpayment (negative) stops interest until the next step.
    steps = [(d(2026, 3, 1), Decimal("100.00")), (d(2026, 3, 11), Decimal("-5.00")), (d(2026, 3, 21), Decimal("100"))]
    # 2026-03-01..03-10 and 2026-03-21..03-31: 10 + 11 days on 100 at 8 %.
    assert interest_numerator(steps, d(2026, 1, 31), d(2026, 3, 31), EIGHT) == 100 * 8 * 21


def test_steps_out_of_order_are_a_programming_error():
    with pytest.raises(ValueError, match="out of order"):
        accrued_interest([(d(2026, 3, 1), Decimal(1)), (d(2026, 2, 1), Decimal(2))], d(2026, 1, 1), d(2026, 4, 1),
                         EIGHT)


def test_ten_years_are_computed_per_period_not_per_day():
    rates = BaseRates([(d(2015 + half // 2, 1 + 6 * (half % 2), 1), Decimal(half) / 10) for half in range(24)])
    steps = [(d(2015, 1, 1), Decimal("1000000.00"))]
    began = time.perf_counter()
    for _ in range(200):
        accrued_interest(steps, d(2015, 1, 1), d(2025, 12, 31), parse_interest_rate("base + 9"), rates)
    assert time.perf_counter() - began < 1.0


# --- parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "expected"), [
    (8, InterestRate(Decimal("8"))),
    ("8", InterestRate(Decimal("8"))),
    ("8 %", InterestRate(Decimal("8"))),
    ("8%", InterestRate(Decimal("8"))),
    ("8,5", InterestRate(Decimal("8.5"))),
    ("8.5 %", InterestRate(Decimal("8.5"))),
    (Decimal("8.5"), InterestRate(Decimal("8.5"))),
    (0.08, InterestRate(Decimal("8"))),        # a percent-formatted cell stores 8 % as 0.08
    (0.085, InterestRate(Decimal("8.5"))),
    (0, InterestRate(Decimal("0"))),
    ("base + 5", InterestRate(Decimal("5"), over_base=True)),
    ("Base+9", InterestRate(Decimal("9"), over_base=True)),
    ("basis + 5", InterestRate(Decimal("5"), over_base=True)),
    ("Basiszinssatz + 5", InterestRate(Decimal("5"), over_base=True)),
    ("Basiszins + 9 %", InterestRate(Decimal("9"), over_base=True)),
    ("BASE + 8,5", InterestRate(Decimal("8.5"), over_base=True)),
    ("base - 0.5", InterestRate(Decimal("-0.5"), over_base=True)),
    ("  base+5  ", InterestRate(Decimal("5"), over_base=True)),
])
def test_accepted_interest_rates(cell, expected):
    assert parse_interest_rate(cell) == expected


@pytest.mark.parametrize("cell", ["base plus five", "5 EUR", "%", "", "   ", "base", "base + ", "base * 5",
                                  "five", "-3", "-3 %", "150 %", "base + 5 EUR", None, True, d(2026, 1, 1), -1, 101])
def test_junk_interest_rates_are_refused_with_the_accepted_forms(cell):
    with pytest.raises(CellError) as caught:
        parse_interest_rate(cell)
    assert caught.value.code == "bad-interest-rate"
    assert "base + 5" in str(caught.value) and "8 %" in str(caught.value)


def test_an_interest_rate_reads_back_as_written():
    assert [str(parse_interest_rate(text)) for text in ("8 %", "base + 5", "base - 0.5")] \
        == ["8 %", "base + 5", "base - 0.5"]


@pytest.mark.parametrize(("cell", "expected"), [
    ("act/365", DayCount.ACT_365), ("ACT/365", DayCount.ACT_365), ("actual / 365", DayCount.ACT_365),
    ("Act/365F", DayCount.ACT_365), (None, DayCount.ACT_365), ("", DayCount.ACT_365),
    ("act/360", DayCount.ACT_360), ("Actual/360", DayCount.ACT_360),
    ("30/360", DayCount.THIRTY_E_360), ("30E/360", DayCount.THIRTY_E_360),
])
def test_accepted_interest_bases(cell, expected):
    assert parse_day_count(cell) is expected


@pytest.mark.parametrize("cell", ["act/act", "30U/360", "365", "360", "daily", 30, "base + 5"])
def test_junk_interest_bases_are_refused(cell):
    with pytest.raises(CellError) as caught:
        parse_day_count(cell)
    assert caught.value.code == "bad-interest-basis"
    assert "act/365" in str(caught.value)


# --- properties -----------------------------------------------------------------------------------

FIRST, LAST = d(2015, 1, 1), d(2030, 12, 31)
#: Test data: a base rate each half-year, from before any generated day on, some of them negative.
HALF_YEARLY = BaseRates([(d(2014 + half // 2, 1 + 6 * (half % 2), 1), Decimal(half - 12) / 4) for half in range(40)])

days_ = st.dates(min_value=FIRST, max_value=LAST)
amounts = st.decimals(min_value=-1000, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
steps_ = st.lists(st.tuples(days_, amounts), max_size=6, unique_by=lambda step: step[0]).map(sorted)
rates = st.one_of(
    st.decimals(min_value=0, max_value=20, places=2).map(InterestRate),
    st.decimals(min_value=-2, max_value=10, places=2).map(lambda points: InterestRate(points, over_base=True)),
)
bases = st.sampled_from(list(DayCount))


@settings(max_examples=300, deadline=None)
@given(steps=steps_, cut=st.lists(days_, min_size=3, max_size=3).map(sorted), rate=rates, basis=bases)
def test_splitting_a_period_at_any_day_keeps_the_sum(steps, cut, rate, basis):
    start, middle, end = cut
    whole = interest_numerator(steps, start, end, rate, HALF_YEARLY, basis)
    parts = (interest_numerator(steps, start, middle, rate, HALF_YEARLY, basis)
             + interest_numerator(steps, middle, end, rate, HALF_YEARLY, basis))
    assert parts == whole  # exact: the numerator has no division
    # The interest itself divides once by 365 or 360 (no finite decimal), so it agrees to 50 digits.
    with decimal.localcontext() as context:
        context.prec = 50
        split = (accrued_interest(steps, start, middle, rate, HALF_YEARLY, basis)
                 + accrued_interest(steps, middle, end, rate, HALF_YEARLY, basis))
        total = accrued_interest(steps, start, end, rate, HALF_YEARLY, basis)
        assert abs(split - total) <= total * Decimal("1E-45")


@settings(max_examples=200, deadline=None)
@given(steps=steps_, extra=st.decimals(min_value=0, max_value=10**5, places=2), cut=st.lists(days_, min_size=3,
       max_size=3).map(sorted), rate=rates, basis=bases)
def test_interest_is_monotone_in_principal_and_end_date(steps, extra, cut, rate, basis):
    start, end, later = cut
    more = [(day, amount + extra) for day, amount in steps]
    base = accrued_interest(steps, start, end, rate, HALF_YEARLY, basis)
    assert accrued_interest(more, start, end, rate, HALF_YEARLY, basis) >= base
    assert accrued_interest(steps, start, later, rate, HALF_YEARLY, basis) >= base
    assert base >= 0


@settings(max_examples=100, deadline=None)
@given(amount=amounts, start=days_, length=st.integers(min_value=0, max_value=400), rate=rates, basis=bases)
def test_a_constant_principal_accrues_principal_rate_days_over_the_year(amount, start, length, rate, basis):
    end = start + dt.timedelta(days=length)
    steps = [(FIRST, amount)]
    assume(not (rate.over_base and HALF_YEARLY.changes(start, end)))  # one rate; changes: see the examples
    expected = max(amount, 0) * rate.percent_on(end, HALF_YEARLY) * basis.days(start, end)
    assert interest_numerator(steps, start, end, rate, HALF_YEARLY, basis) == expected


# --- the user docs --------------------------------------------------------------------------------


def test_the_worked_example_in_the_docs():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "interest.md").read_text(encoding="utf-8")
    # The doc's example rows (3.19 % from 2008-07-01, 1.62 % from 2009-01-01) are RATES_2008.
    assert "| 2008-07-01 | 3.19 |" in doc and "| 2009-01-01 | 1.62 |" in doc
    steps = [(d(2008, 12, 17), Decimal("1000.00")), (d(2009, 1, 6), Decimal("600.00"))]
    consumer = parse_interest_rate("base + 5")
    assert interest_numerator(steps, d(2008, 12, 16), d(2009, 1, 31), consumer, RATES_2008) == 259_222
    assert booked_interest(steps, d(2008, 12, 16), d(2009, 1, 31), consumer, RATES_2008) == Decimal("7.10")
    assert "259,222 / 36,500 = 7.10197… → **7.10**" in doc
    assert "3.37 + 0.91 + 2.83 = 7.11" in doc
    assert booked_interest([(d(2008, 12, 17), Decimal("600.00"))], d(2008, 12, 16), d(2009, 1, 31),
                           InterestRate(Decimal("6.62"))) == Decimal("5.01")
