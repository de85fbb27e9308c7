"""Reminders and payer follow-ups as documents, from the Reminders history.

Each Reminders row is one letter. What it asks for is what the row recorded when overdue tracking
issued it (Principal, Fees, Interest, Amount Due), never recomputed, so the letter does not change
when payments are entered later. The letter adds the level's wording, the hand-off on the final
notice, the missed installments of a payment plan (the ledger's allocation, as overdue tracking
saw it) and the offer of a payment plan.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..dunning import Installment
from ..models import BillToType, Invoice, PaymentPlan, Reminder
from ..money import ZERO, split_equal
from ..problems import warning
from .context import Context
from .model import KIND_REMINDER, Document, Source, Table
from .parties import letterhead, recipient


def reminder_document(ctx: Context, reminder: Reminder) -> tuple[Document, list[Source]] | None:
    """The letter of one Reminders row and the cells its texts come from (``None`` for an unknown invoice)."""
    invoice = ctx.invoices.get(reminder.invoice_no)
    if invoice is None:
        ctx.problems.append(warning(f"reminder for unknown invoice {reminder.invoice_no!r}: no document",
                                    "Reminders", reminder.row, "Invoice No", code="unknown-invoice"))
        return None
    t = ctx.templates
    is_payer = invoice.bill_to_type == BillToType.PAYER
    to = recipient(ctx.book, invoice)
    head = letterhead(ctx.settings)
    reference = ctx.reference(invoice)
    final = reminder.level >= len(ctx.settings.reminder_days)
    plan = next((p for p in ctx.book.plans if p.invoice_no == invoice.invoice_no), None)
    missed = missed_installments(ctx, invoice, plan, reminder.date) if plan is not None else []
    if reminder.installment is not None:  # a reminder about one installment (each has its own level)
        missed = [i for i in missed if i.number == reminder.installment] or missed
    values = _values(ctx, invoice, reminder, to.party, reference, missed)
    section = "follow_up" if is_payer else _level_section(ctx, reminder.level, final)
    title = t.text("reminder", f"{section}.title", values)
    values["title"] = title
    paragraphs = (t.text("reminder", "plan.text" if missed and not is_payer else f"{section}.text", values),)
    facts = ((t.text("common", "labels.reminder_date"), ctx.f.date(reminder.date)),
             (t.text("common", "labels.invoice_no"), invoice.invoice_no),
             (t.text("common", "labels.customer_id"), invoice.customer_id))
    amount_due = reminder.amount_due or ZERO
    block = ctx.payment_block(amount_due, reference, _pay_by(ctx, reminder, final), to_payer=is_payer) \
        if amount_due > 0 else None
    document = Document(
        key=_key(invoice, reminder, is_payer), kind=KIND_REMINDER,
        invoice_no=invoice.invoice_no, date=reminder.date, recipient_type=invoice.bill_to_type,
        recipient_id=invoice.bill_to_id, recipient_name=to.name, email=to.email, postal=to.postal,
        postal_complete=to.complete, sender_line=head.sender_line, company=head.lines, title=title, facts=facts,
        paragraphs=paragraphs, table=_table(ctx, invoice, missed, values),
        totals=_totals(ctx, reminder, is_payer), closing_paragraphs=_closing(ctx, reminder, plan, final, values),
        payment=block, email_subject=t.text("reminder", "email.subject", values),
        email_body=t.text("reminder", "email.body", values), amount=amount_due,
        channel=(reminder.channel or "").strip().casefold() or None,
        address=(reminder.address or "").strip() or None, language=t.language,
        **ctx.letter(values, to_payer=is_payer))
    return document, [*to.sources, *head.sources]


def _key(invoice: Invoice, reminder: Reminder, is_payer: bool) -> str:
    """The document's name: one per reminder, never the same for two (installments are named)."""
    what = "follow-up" if is_payer else "reminder"
    if reminder.installment is not None:
        return f"{invoice.invoice_no} installment {reminder.installment} {what} {reminder.level}"
    return f"{invoice.invoice_no} {what} {reminder.level}"


def replaced_reminders(book) -> dict[str, str]:
    """Per reminder document key, why it is no longer due to go out: a later reminder of the same invoice
    (and installment) replaces it, or the invoice has been handed to the collection agency (which then
    writes to the customer). Issued letters stay history; this only keeps them out of today's post."""
    invoices = {invoice.invoice_no: invoice for invoice in book.invoices}
    handed = {collection.invoice_no for collection in book.collections}
    latest: dict[tuple[str, int | None], int] = {}
    for reminder in book.reminders:
        series = (reminder.invoice_no, reminder.installment)
        latest[series] = max(latest.get(series, 0), reminder.level)
    why: dict[str, str] = {}
    for reminder in book.reminders:
        invoice = invoices.get(reminder.invoice_no)
        if invoice is None:
            continue
        key = _key(invoice, reminder, invoice.bill_to_type == BillToType.PAYER)
        if reminder.invoice_no in handed:
            why[key] = REPLACED_BY_AGENCY
        elif reminder.level < latest[(reminder.invoice_no, reminder.installment)]:
            why[key] = REPLACED_BY_LATER
    return why


#: Why a reminder is not due to go out (:func:`replaced_reminders`), as the summaries count them.
REPLACED_BY_LATER = "a later reminder replaces it"
REPLACED_BY_AGENCY = "the invoice is with the collection agency"


def amounts(reminder: Reminder) -> tuple[Decimal, Decimal, Decimal]:
    """``(principal, fees, interest)`` of a reminder as its row recorded them.

    A row without Principal (one a test or a plugin made without it) asks for its whole Amount Due.
    """
    fees, interest_due = reminder.fees or ZERO, reminder.interest or ZERO
    due = reminder.amount_due or ZERO
    principal = reminder.principal if reminder.principal is not None else due - fees - interest_due
    return principal, fees, interest_due


def missed_installments(ctx: Context, invoice: Invoice, plan: PaymentPlan, day: dt.date) -> list[Installment]:
    """The installments of ``plan`` overdue and open on ``day``, as the accounts stood then (the same
    allocation overdue tracking used when it issued the reminder)."""
    receivable = ctx.ledger_on(day).receivables.get(invoice.invoice_no)
    if receivable is None:
        return []
    return [i for i in receivable.installments(plan, day) if i.due_date < day and i.balance > 0]


def _level_section(ctx: Context, level: int, final: bool) -> str:
    """The templates section of a customer reminder's level (``levels.1``, ``levels.final``, ...)."""
    if level == 0:
        return "levels.before_due"
    if final:
        return "levels.final"
    if level == 1:
        return "levels.1"
    return f"levels.{level}" if f"levels.{level}.title" in ctx.templates.data["reminder"] else "levels.other"


def _pay_by(ctx: Context, reminder: Reminder, final: bool) -> dt.date:
    """The date to pay by: the next level's wait after this one, or the hand-off wait after the final notice;
    the invoice's due date for a friendly reminder before it (level 0)."""
    s = ctx.settings
    if reminder.level == 0 and reminder.invoice_no in ctx.invoices:
        return ctx.invoices[reminder.invoice_no].due_date
    days = s.collection_after_days if final else s.reminder_days[min(reminder.level, len(s.reminder_days) - 1)]
    return reminder.date + dt.timedelta(days=max(days, 1))


def _values(ctx: Context, invoice: Invoice, reminder: Reminder, party, reference: str,
            missed: list[Installment]) -> dict[str, str]:
    """The placeholders of a reminder's texts: the invoice's, the amounts, the dates and the plan's."""
    f = ctx.f
    principal, fees, interest_due = amounts(reminder)
    pay_by = f.date(_pay_by(ctx, reminder, reminder.level >= len(ctx.settings.reminder_days)))
    values = ctx.values(invoice, party, reference) | {
        "level": str(reminder.level), "reminder_date": f.date(reminder.date), "overdue_amount": f.amount(principal),
        "fees": f.amount(fees), "interest": f.amount(interest_due), "total_due": f.amount(reminder.amount_due or ZERO),
        "pay_by": pay_by, "agency": ctx.settings.collection_agency or "", "handoff_date": pay_by,
    }
    if missed:
        values["due_date"] = f.date(missed[0].due_date)
        values["installment"] = ", ".join(f"{i.number}/{i.count}" for i in missed)
        values["plan_id"] = missed[0].plan_id
    return values


def _table(ctx: Context, invoice: Invoice, missed: list[Installment], values: dict[str, str]) -> Table:
    """The missed installments of a plan, else the invoice reminded of."""
    f, t = ctx.f, ctx.templates
    if missed:
        rows = tuple((t.text("reminder", "plan.installment_line", values | {"number": str(i.number),
                                                                           "count": str(i.count)}),
                      f.date(i.due_date), f.amount(i.balance)) for i in missed)
        return Table((t.text("reminder", "plan.installment"), t.text("common", "labels.due_date"),
                      t.text("common", "columns.amount")), (110, 30, 30), ("L", "L", "R"), rows)
    return Table((t.text("common", "labels.invoice_no"), t.text("common", "labels.issue_date"),
                  t.text("common", "labels.due_date"), t.text("common", "columns.amount")),
                 (50, 40, 40, 40), ("L", "L", "L", "R"),
                 ((invoice.invoice_no, f.date(invoice.issue_date), f.date(invoice.due_date),
                   f.amount(invoice.amount)),))


def _totals(ctx: Context, reminder: Reminder, is_payer: bool) -> tuple[tuple[str, str, bool], ...]:
    """Overdue amount, fees and interest (customers only, when there are any) and the total due."""
    f, t = ctx.f, ctx.templates
    principal, fees, interest_due = amounts(reminder)
    label = "open_amount" if reminder.level == 0 else "overdue_amount"
    totals = [(t.text("reminder", label), f.amount(principal), False)]
    if not is_payer:
        if fees:
            totals.append((t.text("reminder", "fees"), f.amount(fees), False))
        if interest_due:
            totals.append((t.text("reminder", "interest"), f.amount(interest_due), False))
    totals.append((t.text("reminder", "total_due"), f.amount(reminder.amount_due or ZERO), True))
    return tuple(totals)


def _closing(ctx: Context, reminder: Reminder, plan: PaymentPlan | None, final: bool,
             values: dict[str, str]) -> tuple[str, ...]:
    """The paragraphs after the totals: pay request, hand-off notice, plan offer, "already paid"."""
    t, s = ctx.templates, ctx.settings
    is_payer = ctx.invoices[reminder.invoice_no].bill_to_type == BillToType.PAYER
    amount_due = reminder.amount_due or ZERO
    closing = [t.text("reminder", "pay_request", values)]
    if final and not is_payer:
        closing.append(t.text("reminder", "levels.final.handoff" if s.collection_agency
                              else "levels.final.handoff_no_agency", values))
    threshold = s.payment_plan_threshold
    if (not is_payer and plan is None and threshold is not None and amount_due >= threshold
            and s.max_installments > 1):
        parts = split_equal(amount_due, s.max_installments, ctx.currency)
        contact = f" ({s.company_email})" if s.company_email else ""
        closing.append(t.text("reminder", "plan_offer", values | {
            "max_installments": str(s.max_installments), "installment_amount": ctx.f.amount(parts[0]),
            "contact": contact}))
    closing.append(t.text("reminder", "already_paid", values))
    return tuple(closing)
