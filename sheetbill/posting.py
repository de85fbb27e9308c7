"""Posting payments: the stage that puts the Payments rows on the invoices they name and derives each
invoice's Paid, Balance and Status.

:func:`post_payments` takes every issued invoice (history and this run's) and the Payments rows and
returns a :class:`PostingReport`: one :class:`~sheetbill.models.InvoiceBalance` per invoice, the
Problems of rows that name no invoice, and Advice for overpaid invoices. It changes nothing it is
given.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .models import Advice, Invoice, InvoiceBalance, InvoiceKind, InvoiceStatus, Payment, PaymentType
from .money import ZERO, fmt
from .problems import Problem, error


@dataclass(frozen=True)
class PostingReport:
    """What posting payments found.

    Attributes:
        balances: every invoice's posted amounts, by invoice number.
        problems: Payments rows naming an unknown invoice.
        advice: overpaid invoices to refund or apply.
    """

    balances: dict[str, InvoiceBalance] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    advice: tuple[Advice, ...] = ()


def post_payments(invoices: Sequence[Invoice], payments: Sequence[Payment], currency: str) -> PostingReport:
    """Post ``payments`` to ``invoices`` and derive Paid, Balance and Status of every invoice."""
    by_no = {invoice.invoice_no: invoice for invoice in invoices}
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    last_payment: dict[str, dt.date] = {}
    problems: list[Problem] = []
    for payment in payments:
        if payment.invoice_no not in by_no:
            problems.append(error(f"unknown invoice {payment.invoice_no!r}", "Payments", payment.row, "Invoice No",
                                  code="unknown-invoice"))
            continue
        sums[payment.invoice_no][payment.type or PaymentType.PAYMENT] += payment.amount
        if payment.invoice_no not in last_payment or payment.date > last_payment[payment.invoice_no]:
            last_payment[payment.invoice_no] = payment.date
    credited: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for invoice in invoices:
        if invoice.kind == InvoiceKind.CREDIT_NOTE and invoice.related:
            credited[invoice.related] -= invoice.amount
    balances: dict[str, InvoiceBalance] = {}
    advice: list[Advice] = []
    for invoice in invoices:
        posted = sums[invoice.invoice_no]
        paid, written_off = posted[PaymentType.PAYMENT], posted[PaymentType.WRITE_OFF]
        transferred = posted[PaymentType.TRANSFER_TO_CUSTOMER]
        last = last_payment.get(invoice.invoice_no)
        if invoice.kind == InvoiceKind.CREDIT_NOTE:
            balances[invoice.invoice_no] = InvoiceBalance(invoice, paid, written_off, transferred, ZERO, ZERO,
                                                          InvoiceStatus.APPLIED, last)
            continue
        credit = credited[invoice.invoice_no]
        balance = invoice.amount - paid - written_off - transferred - credit
        status = status_of(invoice.amount, paid, written_off, transferred, credit, balance)
        balances[invoice.invoice_no] = InvoiceBalance(invoice, paid, written_off, transferred, credit, balance,
                                                      status, last)
        if balance < 0:
            advice.append(Advice(invoice.customer_id, invoice.invoice_no, "overpayment",
                                 f"{invoice.invoice_no} is overpaid by {fmt(-balance, currency)}: "
                                 "refund it or apply it to an open invoice"))
    return PostingReport(balances, tuple(problems), tuple(advice))


def status_of(amount: Decimal, paid: Decimal, written_off: Decimal, transferred: Decimal, credited: Decimal,
              balance: Decimal) -> InvoiceStatus:
    """The status of an invoice from its amounts: Overpaid, Cancelled, Paid, Written Off, Transferred,
    Partially Paid or Open."""
    if balance < 0:
        return InvoiceStatus.OVERPAID
    if credited and credited >= amount and not paid:
        return InvoiceStatus.CANCELLED
    if balance == 0:
        if paid:
            return InvoiceStatus.PAID
        if written_off:
            return InvoiceStatus.WRITTEN_OFF
        if transferred:
            return InvoiceStatus.TRANSFERRED
        return InvoiceStatus.PAID
    if paid or written_off or transferred or credited:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.OPEN
