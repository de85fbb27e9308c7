"""The arithmetic and the facts of dunning, in one place: aging buckets, due dates of installments,
where a reminder can go and the payment reference (default interest is :mod:`sheetbill.interest`).

Pure functions and frozen records, with no knowledge of sheets or runs: overdue tracking
(:mod:`sheetbill.overdue`) decides with them what is due, and the documents
(:mod:`sheetbill.documents`) print with them what was decided, so the two can never disagree.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from .bank.references import invoice_rf
from .models import Customer, InstallmentStatus, Invoice, Payer, PaymentPlan
from .money import split_equal, split_shares

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def aging_bucket(days_overdue: int) -> str:
    """The aging bucket of an amount ``days_overdue`` days past its due date (0 or less: Current)."""
    if days_overdue <= 0:
        return "Current"
    for limit, name in ((30, "1-30"), (60, "31-60"), (90, "61-90"), (120, "91-120")):
        if days_overdue <= limit:
            return name
    return "120+"


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, kept at the month's end when the day does not exist (Jan 31 -> Feb 28)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def is_valid_email(text: str | None) -> bool:
    """True when ``text`` has the syntax of an email address (``name@example.org``)."""
    return bool(text) and _EMAIL.fullmatch(text.strip()) is not None


def postal_address(street: str | None, postal_code: str | None, city: str | None,
                   country: str | None = None) -> str | None:
    """The address on one line when Street, Postal Code and City are all filled in, else ``None``."""
    parts = [(p or "").strip() for p in (street, postal_code, city)]
    if not all(parts):
        return None
    text = f"{parts[0]}, {parts[1]} {parts[2]}"
    return f"{text}, {country.strip()}" if country and country.strip() else text


@dataclass(frozen=True)
class Installment:
    """One installment of a payment plan, with what was allocated to it.

    Attributes:
        plan_id, invoice_no: the plan and the invoice it splits.
        number, count: "2 of 6".
        due_date: first due date + (number - 1) x interval months.
        amount: the equal share (rounded down; the last one takes the remainder).
        paid: what was allocated to it (the ledger pays the oldest installment first).
        balance: amount - paid.
        status: Paid, Overdue (past due with a balance), Partially Paid or Open.
    """

    plan_id: str
    invoice_no: str
    number: int
    count: int
    due_date: dt.date
    amount: Decimal
    paid: Decimal
    balance: Decimal
    status: InstallmentStatus


def installment_status(balance: Decimal, paid: Decimal, due: dt.date, as_of: dt.date) -> InstallmentStatus:
    """An installment's status on ``as_of``: Paid, Overdue (past due with something open), Partially
    Paid or Open."""
    if balance <= 0:
        return InstallmentStatus.PAID
    if due < as_of:
        return InstallmentStatus.OVERDUE
    return InstallmentStatus.PARTIALLY_PAID if paid > 0 else InstallmentStatus.OPEN


@dataclass(frozen=True)
class Recipient:
    """Where a reminder goes: the party's name, ``email`` or ``letter``, and the address."""

    name: str
    channel: str
    address: str




def reminder_recipient(party: Customer | Payer | None) -> Recipient | None:
    """Where a reminder to ``party`` goes: a valid email, else a full postal address, else nowhere."""
    if party is None:
        return None
    if is_valid_email(party.email):
        return Recipient(party.name, "email", party.email.strip())
    address = postal_address(party.street, party.postal_code, party.city, getattr(party, "country", None))
    return Recipient(party.name, "letter", address) if address else None


#: The placeholders a Payment Reference Format may use.
REFERENCE_FIELDS = ("invoice_no", "customer_id", "rf")
#: The payment reference when Payment Reference Format is blank: the invoice's RF creditor reference.
DEFAULT_REFERENCE_FORMAT = "{rf}"


def reference_format_is_valid(template: str) -> bool:
    """True when ``template`` can be filled with only :data:`REFERENCE_FIELDS`."""
    try:
        template.format(invoice_no="X", customer_id="Y", rf="Z")
    except (KeyError, IndexError, ValueError, AttributeError):
        return False
    return True


def payment_reference(template: str | None, invoice: Invoice) -> str:
    """The payment reference of ``invoice``: Settings Payment Reference Format filled in; when it is
    blank, the invoice's ISO 11649 RF creditor reference (``{rf}``, :func:`sheetbill.bank.references.invoice_rf`,
    which the bank import reads back with its check digits); the invoice number when the format is
    unusable or fills in to nothing, or the number cannot be made an RF reference."""
    template = template or DEFAULT_REFERENCE_FORMAT
    if not reference_format_is_valid(template):
        return invoice.invoice_no
    rf = invoice_rf(invoice.invoice_no) or invoice.invoice_no
    return template.format(invoice_no=invoice.invoice_no, customer_id=invoice.customer_id, rf=rf).strip() \
        or invoice.invoice_no


def plan_schedule(plan: PaymentPlan, total: Decimal, currency: str) -> list[tuple[dt.date, Decimal]]:
    """Due date and amount of each installment of ``plan`` over ``total``: the Shares (else equal parts,
    each rounded down, the remainder on the last), every Interval Days days when given, else every
    Interval Months months (default 1) from the First Due Date."""
    if plan.shares:
        amounts = split_shares(total, plan.shares, currency)
    else:
        amounts = split_equal(total, plan.installments or 1, currency)
    if plan.interval_days:
        dates = [plan.first_due_date + dt.timedelta(days=i * plan.interval_days) for i in range(len(amounts))]
    else:
        dates = [add_months(plan.first_due_date, i * (plan.interval_months or 1)) for i in range(len(amounts))]
    return list(zip(dates, amounts, strict=True))
