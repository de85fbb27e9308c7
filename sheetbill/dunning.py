"""The arithmetic and the facts of dunning, in one place: aging buckets, due dates of installments,
default interest, where a reminder can go and the payment reference.

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

from .models import Customer, InstallmentStatus, Invoice, Payer, PaymentPlan
from .money import ZERO, quantize, split_equal

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


def interest(balance: Decimal, percent: Decimal | None, days: int, currency: str) -> Decimal:
    """Default interest: balance x percent / 100 x days / 365, rounded once (zero without a rate)."""
    if percent is None or days <= 0 or balance <= 0:
        return ZERO
    return quantize(balance * percent * days / Decimal(36500), currency)


@dataclass(frozen=True)
class Installment:
    """One installment of a payment plan, with what was allocated to it.

    Attributes:
        plan_id, invoice_no: the plan and the invoice it splits.
        number, count: "2 of 6".
        due_date: first due date + (number - 1) x interval months.
        amount: the equal share (rounded down; the last one takes the remainder).
        paid: payments, write-offs and transfers on the invoice allocated in due-date order.
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

    @property
    def label(self) -> str:
        """``"2 of 6"``."""
        return f"{self.number} of {self.count}"


def plan_installments(plan: PaymentPlan, total: Decimal, allocated: Decimal, as_of: dt.date,
                      currency: str) -> list[Installment]:
    """The installments of ``plan`` over ``total``, with ``allocated`` spread over them in due-date order.

    The parts always add up to ``total`` and the balances to ``total - allocated`` (a negative
    allocation, a refund, is owed on the first installment; an overpayment lands on the last).
    """
    amounts = split_equal(total, plan.installments, currency)
    interval = plan.interval_months or 1
    remaining = allocated
    result = []
    for index, amount in enumerate(amounts):
        if index == len(amounts) - 1 or (remaining < 0 and index == 0):
            take = remaining
        else:
            take = min(remaining, amount) if remaining > 0 else ZERO
        remaining -= take
        due = add_months(plan.first_due_date, index * interval)
        balance = amount - take
        if balance <= 0:
            status = InstallmentStatus.PAID
        elif due < as_of:
            status = InstallmentStatus.OVERDUE
        elif take > 0:
            status = InstallmentStatus.PARTIALLY_PAID
        else:
            status = InstallmentStatus.OPEN
        result.append(Installment(plan.plan_id, plan.invoice_no, index + 1, len(amounts), due, amount, take,
                                  balance, status))
    return result


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
REFERENCE_FIELDS = ("invoice_no", "customer_id")


def reference_format_is_valid(template: str) -> bool:
    """True when ``template`` can be filled with only :data:`REFERENCE_FIELDS`."""
    try:
        template.format(invoice_no="X", customer_id="Y")
    except (KeyError, IndexError, ValueError, AttributeError):
        return False
    return True


def payment_reference(template: str | None, invoice: Invoice) -> str:
    """The payment reference of ``invoice``: Settings Payment Reference Format filled in, or the
    invoice number when the format is blank, unusable or fills in to nothing."""
    template = template or "{invoice_no}"
    if not reference_format_is_valid(template):
        return invoice.invoice_no
    return template.format(invoice_no=invoice.invoice_no, customer_id=invoice.customer_id).strip() \
        or invoice.invoice_no
