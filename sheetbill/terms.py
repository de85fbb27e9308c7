"""The grammar of the terms offices write: payment terms and reminder fees.

Payment terms (Settings ``Payment Terms Days``, Payers and Customers ``Payment Terms Days``) say
when an invoice issued on a day falls due. Accepted, case and spaces ignored:

=====================  ==================================================  ==========================
written                means                                               issued 2026-01-20, due
=====================  ==================================================  ==========================
``30``                 30 days after the issue date                        2026-02-19
``EOM``                the last day of the issue month                     2026-01-31
``EOM + 15``           15 days after the end of the issue month            2026-02-15
``15th next month``    that day of the following month (clamped to its     2026-02-15
                       last day: ``31st next month`` in January is the
                       28th or 29th of February)
=====================  ==================================================  ==========================

A reminder fee (each level of Settings ``Reminder Fees``) is a fixed amount, a percentage of the
overdue principal, or a percentage with a floor and a cap: ``5``, ``2%``, ``2% min 5``,
``2% min 5 max 50`` (``max`` alone is allowed too). Anything else is a :class:`TermsError`, which the
Settings reader turns into a Problem on the row: terms are never guessed.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .money import quantize

ZERO = Decimal("0")


class TermsError(ValueError):
    """Text that is not in the grammar; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    """When an invoice falls due, counted from its issue date.

    Attributes:
        days: days after the issue date (``30``), or after the end of the month for ``EOM + n``.
        end_of_month: count from the last day of the issue month (``EOM``, ``EOM + 15``).
        day_of_next_month: a fixed day of the following month (``15th next month``).
    """

    days: int = 30
    end_of_month: bool = False
    day_of_next_month: int | None = None

    def due_date(self, issue_date: dt.date) -> dt.date:
        """The due date of an invoice issued on ``issue_date``."""
        if self.day_of_next_month is not None:
            year, month = (issue_date.year + 1, 1) if issue_date.month == 12 else (issue_date.year,
                                                                                   issue_date.month + 1)
            day = min(self.day_of_next_month, calendar.monthrange(year, month)[1])
            return dt.date(year, month, day)
        start = issue_date
        if self.end_of_month:
            start = issue_date.replace(day=calendar.monthrange(issue_date.year, issue_date.month)[1])
        return start + dt.timedelta(days=self.days)

    def __str__(self) -> str:
        if self.day_of_next_month is not None:
            return f"{_ordinal(self.day_of_next_month)} next month"
        if self.end_of_month:
            return f"EOM + {self.days}" if self.days else "EOM"
        return str(self.days)


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


_DAYS = re.compile(r"(\d+)(?:days?)?")
_EOM = re.compile(r"eom(?:\+(\d+)(?:days?)?)?")
_NEXT_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?(?:of)?(?:the)?nextmonth")

PAYMENT_TERMS_GRAMMAR = "30 (days), EOM, EOM + 15 or 15th next month"
#: The most days payment terms may give (ten years): anything longer is a typo, never a due date.
MAX_TERMS_DAYS = 3650


def parse_payment_terms(text: str) -> PaymentTerms:
    """The :class:`PaymentTerms` written in ``text`` (see the module docstring), or :class:`TermsError`."""
    key = re.sub(r"\s+", "", str(text)).casefold()
    days = _DAYS.fullmatch(key) or _EOM.fullmatch(key)
    if days and len(days[1] or "") > len(str(MAX_TERMS_DAYS)) or days and int(days[1] or 0) > MAX_TERMS_DAYS:
        raise TermsError(f"{str(text).strip()!r} is out of range: payment terms give at most {MAX_TERMS_DAYS} days")
    if match := _DAYS.fullmatch(key):
        return PaymentTerms(int(match[1]))
    if match := _EOM.fullmatch(key):
        return PaymentTerms(int(match[1] or 0), end_of_month=True)
    if match := _NEXT_MONTH.fullmatch(key):
        day = int(match[1])
        if 1 <= day <= 31:
            return PaymentTerms(0, day_of_next_month=day)
    raise TermsError(f"{str(text).strip()!r} is not a payment term: write {PAYMENT_TERMS_GRAMMAR}")


@dataclass(frozen=True, slots=True)
class FeeRule:
    """One reminder level's fee: a fixed amount, or a percentage of the overdue principal with an
    optional floor (``min``) and cap (``max``).

    Attributes:
        amount: the fixed fee (when ``percent`` is ``None``).
        percent: percent of the overdue principal (2 for 2 %).
        minimum, maximum: bounds of the percentage fee.
    """

    amount: Decimal = ZERO
    percent: Decimal | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def fee(self, principal: Decimal, currency: str) -> Decimal:
        """The fee on ``principal`` overdue, rounded to the currency's minor unit."""
        if self.percent is None:
            return quantize(self.amount, currency)
        fee = principal * self.percent / Decimal(100)
        if self.minimum is not None:
            fee = max(fee, self.minimum)
        if self.maximum is not None:
            fee = min(fee, self.maximum)
        return quantize(fee, currency)

    def __str__(self) -> str:
        if self.percent is None:
            return str(self.amount)
        parts = [f"{self.percent}%"]
        if self.minimum is not None:
            parts.append(f"min {self.minimum}")
        if self.maximum is not None:
            parts.append(f"max {self.maximum}")
        return " ".join(parts)


_NUMBER = r"(\d+(?:[.,]\d+)?)"
_FEE = re.compile(rf"{_NUMBER}(%)?(?:min{_NUMBER})?(?:max{_NUMBER})?")

FEE_GRAMMAR = "5, 2%, 2% min 5 or 2% min 5 max 50"


def _number(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as err:  # pragma: no cover - the pattern admits only digits
        raise TermsError(f"{text!r} is not a number") from err


def parse_fee(text: str) -> FeeRule:
    """One reminder level's :class:`FeeRule` (``5``, ``2%``, ``2% min 5``, ``2% min 5 max 50``)."""
    key = re.sub(r"\s+", "", str(text)).casefold()
    match = _FEE.fullmatch(key)
    if match is None or (not match[2] and (match[3] or match[4])):
        raise TermsError(f"{str(text).strip()!r} is not a reminder fee: write {FEE_GRAMMAR}")
    if not match[2]:
        return FeeRule(_number(match[1]))
    minimum = _number(match[3]) if match[3] else None
    maximum = _number(match[4]) if match[4] else None
    if minimum is not None and maximum is not None and minimum > maximum:
        raise TermsError(f"{str(text).strip()!r}: the minimum {minimum} is more than the maximum {maximum}")
    return FeeRule(percent=_number(match[1]), minimum=minimum, maximum=maximum)


def parse_fees(text: str) -> tuple[FeeRule, ...]:
    """Reminder Fees: one :class:`FeeRule` per level, separated by ``;`` or ``, ``; plain amounts
    may also be separated by spaces or bare commas, as in ``0 5 10`` or ``0,5,10``."""
    text = str(text).strip()
    if re.search(r"[%a-zA-Z]", text):
        parts = re.split(r";|,\s+", text)
    elif ";" in text or ", " in text or " " in text:
        parts = re.split(r";|,\s+|\s+", text)
    elif re.fullmatch(r"[\d,]+", text) and "," in text:
        parts = text.split(",")  # "0,5,10": a list, not a decimal comma
    else:
        parts = [text]
    return tuple(parse_fee(part) for part in parts if part.strip())
