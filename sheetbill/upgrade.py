"""Reading history in the form release 0.1.0 wrote it, once, so that it is written back in today's form.

Release 0.1.0 kept two facts only in prose: the invoice a credit-note or transfer line refers to was
part of its Reason ("credit for INV-000012: charge changed", "transfer from INV-000007 (Barmenia)"),
and a Reminders row recorded only its Amount Due, from which the interest had to be worked back.
Today those facts are columns (Invoice Lines: Related Invoice; Reminders: Principal, Fees,
Interest). When a history row lacks them, this module derives them here, from the old form, and
nowhere else; the run then writes the row back with the columns filled, so the next run reads
structure. Nothing here is used for rows that already have the columns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from .dunning import Installment, installment_status, plan_schedule
from .models import BillToType, InvoiceKind, InvoiceLine, PaymentPlan, Reminder
from .money import ZERO, quantize

_CREDIT_REASON = re.compile(r"^credit for (\S+?):\s*charge (?:changed|deleted)$")
_TRANSFER_REASON = re.compile(r"^transfer from (\S+) \(")


def related_invoice_of(line: InvoiceLine) -> str | None:
    """The invoice a 0.1.0 credit or transfer line names in its Reason, else ``None``."""
    return _related_in(line.reason or "")


def _related_in(reason: str) -> str | None:
    match = _CREDIT_REASON.match(reason) or _TRANSFER_REASON.match(reason)
    return match[1] if match else None


def upgrade_lines(lines: list[InvoiceLine]) -> list[InvoiceLine]:
    """``lines`` with Related Invoice filled in where only the Reason named it (each Reason text is
    looked at once: a year of lines has a few dozen)."""
    related_in: dict[str, str | None] = {}
    upgraded = []
    for line in lines:
        reason = line.reason
        if line.related_invoice is None and reason:
            related = related_in.get(reason, _UNSEEN)
            if related is _UNSEEN:
                related = related_in[reason] = _related_in(reason)
            if related:
                line = replace(line, related_invoice=related)
        upgraded.append(line)
    return upgraded


_UNSEEN = object()


def upgrade_reminders(book) -> list[Reminder]:
    """The Reminders history with Principal, Fees and Interest filled in where they are missing.

    Fees are the reminder fees of the invoice up to and including the row; a payer follow-up has
    none, and no interest. The interest of a customer reminder is the amount ``i`` for which
    ``Amount Due = principal + fees + i`` with ``i = interest(principal)`` as that reminder computed
    it (rate x days overdue / 365, rounded once; on a payment plan per missed installment); when no
    such amount exists the interest is taken as 0.
    """
    if all(r.principal is not None for r in book.reminders):
        return _charged_interest(book.reminders)
    invoices = {invoice.invoice_no: invoice for invoice in book.invoices}
    history: dict[str, list[Reminder]] = defaultdict(list)
    for reminder in sorted(book.reminders, key=lambda r: (r.date, r.level, r.row)):
        history[reminder.invoice_no].append(reminder)
    filled: dict[int, Reminder] = {}
    for invoice_no, items in history.items():
        invoice = invoices.get(invoice_no)
        fees = ZERO
        for reminder in items:
            fees += reminder.fee or ZERO
            if reminder.principal is not None:
                continue
            due = reminder.amount_due or ZERO
            if invoice is None or invoice.bill_to_type == BillToType.PAYER:
                filled[id(reminder)] = replace(reminder, principal=due, fees=ZERO, interest=ZERO)
                continue
            owed = quantize(fees, book.settings.currency)
            interest_due = _worked_back_interest(book, invoice, reminder, due - owed)
            filled[id(reminder)] = replace(reminder, principal=due - owed - interest_due, fees=owed,
                                           interest=interest_due)
    rows = [filled.get(id(reminder), reminder) for reminder in book.reminders]
    return _charged_interest(rows)


def _charged_interest(reminders: list[Reminder]) -> list[Reminder]:
    """Interest Charged where it is missing: what the Interest grew by since the invoice's previous
    reminder (earlier releases showed the interest accrued so far on every reminder, booking none)."""
    if all(r.interest_charged is not None for r in reminders):
        return reminders
    previous: dict[str, Decimal] = {}
    charged: dict[int, Reminder] = {}
    for reminder in sorted(reminders, key=lambda r: (r.date, r.level, r.row)):
        shown = reminder.interest or ZERO
        if reminder.interest_charged is None:
            charged[id(reminder)] = replace(reminder, interest_charged=max(ZERO, shown - previous.get(
                reminder.invoice_no, ZERO)))
        previous[reminder.invoice_no] = shown
    return [charged.get(id(reminder), reminder) for reminder in reminders]


def _worked_back_interest(book, invoice, reminder: Reminder, principal_and_interest: Decimal) -> Decimal:
    """The interest inside ``principal_and_interest`` as the reminder of 0.1.0 computed it."""
    settings = book.settings
    rate, currency = settings.default_interest_percent, settings.currency
    if rate is None or principal_and_interest <= 0:
        return ZERO
    plan = next((p for p in book.plans if p.invoice_no == invoice.invoice_no), None)
    if plan is not None:
        paid = sum((p.amount for p in book.payments if p.invoice_no == invoice.invoice_no and p.date <= reminder.date),
                   ZERO)
        credited = -sum((c.amount for c in book.invoices if c.kind == InvoiceKind.CREDIT_NOTE
                         and c.related == invoice.invoice_no and c.issue_date <= reminder.date), ZERO)
        missed = [i for i in plan_installments(plan, invoice.amount - credited, paid, reminder.date, currency)
                  if i.due_date < reminder.date and i.balance > 0]
        if missed:
            total = sum((interest(i.balance, rate, (reminder.date - i.due_date).days, currency) for i in missed), ZERO)
            owed = sum((i.balance for i in missed), ZERO)
            return total if owed + total == principal_and_interest else ZERO
    days = (reminder.date - invoice.due_date).days
    if days <= 0:
        return ZERO
    estimate = quantize(principal_and_interest / (1 + rate * days / Decimal(36500)), currency)
    step = Decimal(1).scaleb(estimate.as_tuple().exponent)
    for offset in range(-3, 4):
        balance = estimate + offset * step
        if balance + interest(balance, rate, days, currency) == principal_and_interest:
            return principal_and_interest - balance
    return ZERO


def plan_installments(plan: PaymentPlan, total: Decimal, allocated: Decimal, as_of: dt.date,
                      currency: str) -> list[Installment]:
    """The installments of ``plan`` over ``total``, with ``allocated`` spread over them in due-date order:
    how release 0.1.0 allocated a plan (today the ledger does, fees and interest first), kept to read
    its reminders back.

    The parts always add up to ``total`` and the balances to ``total - allocated`` (a negative
    allocation, a refund, is owed on the first installment; an overpayment lands on the last).
    """
    schedule = plan_schedule(plan, total, currency)  # 0.1.0 knew equal parts monthly only: the same split
    remaining = allocated
    result = []
    for index, (due, amount) in enumerate(schedule):
        if index == len(schedule) - 1 or (remaining < 0 and index == 0):
            take = remaining
        else:
            take = min(remaining, amount) if remaining > 0 else ZERO
        remaining -= take
        balance = amount - take
        result.append(Installment(plan.plan_id, plan.invoice_no, index + 1, len(schedule), due, amount, take,
                                  balance, installment_status(balance, take, due, as_of)))
    return result


def interest(balance: Decimal, percent: Decimal | None, days: int, currency: str) -> Decimal:
    """Default interest as release 0.1.0 computed it: balance x percent / 100 x days / 365, rounded once."""
    if percent is None or days <= 0 or balance <= 0:
        return ZERO
    return quantize(balance * percent * days / Decimal(36500), currency)
