"""Statements of account as documents, from :class:`sheetbill.statements.Statement`.

A statement is a letter to a customer: the opening balance, every item of the period with its
date, kind, reference, amount and the running balance, the closing balance, the invoices still
open with their due dates, the credit not applied yet, and, when the customer owes something, how
to pay it with an EPC QR code for the closing balance. The payment reference is the Customer ID:
a payment that names the customer rather than an invoice pays the oldest open items first
(:mod:`sheetbill.ledger`), which is what paying a statement's balance means.

The document is named ``STATEMENT <customer ID> <from> to <as of>`` (:func:`statement_key`), so the
same period always gives the same file and the file's name says which statement it is: sending
rebuilds it from that name (:func:`parse_statement_key`).
"""

from __future__ import annotations

import datetime as dt
import re

from ..models import BillToType
from ..statements import Statement
from .context import Context
from .model import KIND_STATEMENT, Document, Source, Table
from .parties import letterhead, party_recipient, salutation_parts

#: The templates key of each kind of account item (:attr:`sheetbill.ledger.AccountItem.kind`).
ITEM_KINDS = {"Invoice": "invoice", "Fee": "fee", "Interest": "interest", "Credit Note": "credit_note",
              "Payment": "payment", "Refund": "refund", "Write-off": "write_off", "Transfer": "transfer"}

_KEY = re.compile(r"^STATEMENT (?P<customer>.+) (?P<start>\d{4}-\d{2}-\d{2}) to (?P<end>\d{4}-\d{2}-\d{2})$")


def statement_key(customer_id: str, start: dt.date, end: dt.date) -> str:
    """The document key (and file stem) of a statement: ``STATEMENT C1 2026-03-01 to 2026-03-31``."""
    return f"STATEMENT {customer_id} {start.isoformat()} to {end.isoformat()}"


def parse_statement_key(key: str) -> tuple[str, dt.date, dt.date] | None:
    """``(customer ID, from, as of)`` of a statement key, or ``None`` when ``key`` is not one."""
    match = _KEY.match(key)
    if match is None:
        return None
    try:
        start, end = dt.date.fromisoformat(match["start"]), dt.date.fromisoformat(match["end"])
    except ValueError:
        return None
    return (match["customer"], start, end) if start <= end else None


def statement_document(ctx: Context, statement: Statement) -> tuple[Document, list[Source]]:
    """The letter of ``statement`` and the cells its texts come from."""
    t, f = ctx.templates, ctx.f
    to = party_recipient(ctx.book, BillToType.CUSTOMER, statement.customer_id,
                         Source(statement.customer_id, "Payments", None, "Customer ID"))
    head = letterhead(ctx.settings)
    values = _values(ctx, statement, to.name)
    closing = statement.closing
    block = ctx.payment_block(closing, statement.customer_id, None) if closing > 0 else None
    document = Document(
        key=statement_key(statement.customer_id, statement.start, statement.end), kind=KIND_STATEMENT,
        invoice_no="", date=statement.end, recipient_type=BillToType.CUSTOMER, recipient_id=statement.customer_id,
        recipient_name=to.name, email=to.email, postal=to.postal, postal_complete=to.complete,
        sender_line=head.sender_line, company=head.lines, title=t.text("statement", "title", values),
        facts=((t.text("statement", "statement_date"), f.date(statement.end)),
               (t.text("common", "labels.customer_id"), statement.customer_id),
               (t.text("statement", "period"), t.text("statement", "period_value", values))),
        paragraphs=(t.text("statement", "intro", values),), table=_table(ctx, statement),
        totals=((t.text("statement", "opening_balance"), f.amount(statement.opening), False),
                (t.text("statement", "closing_balance"), f.amount(closing), True)),
        breakdown_heading=t.text("statement", "open_items_heading") if _open_lines(ctx, statement) else "",
        breakdown=_open_lines(ctx, statement), closing_paragraphs=_closing(ctx, statement, values), payment=block,
        email_subject=t.text("statement", "email.subject", values),
        email_body=t.text("statement", "email.body", values), amount=closing, language=t.language,
        **ctx.letter(values, to_payer=False))
    return document, [*to.sources, *head.sources]


def _values(ctx: Context, statement: Statement, name: str) -> dict[str, str]:
    """The placeholders of a statement's texts."""
    f, s = ctx.f, ctx.settings
    return {
        "company_name": s.company_name, "company_address": s.company_address, "company_email": s.company_email,
        "customer_id": statement.customer_id, "recipient_name": name, "from_date": f.date(statement.start),
        "as_of_date": f.date(statement.end), "opening_balance": f.amount(statement.opening),
        "closing_balance": f.amount(statement.closing), "credit": f.amount(-statement.closing),
        "reference": statement.customer_id, "currency": ctx.currency,
        **salutation_parts(ctx.book.customers.get(statement.customer_id)),
    }


def _table(ctx: Context, statement: Statement) -> Table:
    """Date, item, reference, amount and the running balance; the opening balance is the first row."""
    t, f = ctx.templates, ctx.f
    rows = [(f.date(statement.start), t.text("statement", "opening_balance"), "", "", f.amount(statement.opening))]
    notes = [""]
    for line in statement.lines:
        item = line.item
        rows.append((f.date(item.date), t.text("statement", f"kinds.{ITEM_KINDS.get(item.kind, 'invoice')}"),
                     item.reference, f.amount(item.amount), f.amount(line.balance)))
        about = item.invoice_no and item.invoice_no != item.reference
        notes.append(t.text("statement", "for_invoice", {"invoice_no": item.invoice_no}) if about else "")
    headers = tuple(t.text("statement", f"columns.{name}") for name in ("date", "item", "reference", "amount",
                                                                         "balance"))
    return Table(headers, (28, 52, 40, 27, 28), ("L", "L", "L", "R", "R"), tuple(rows), tuple(notes))


def _open_lines(ctx: Context, statement: Statement) -> tuple[tuple[str, str], ...]:
    """The open invoices with their due dates and open amounts, then the credit not applied yet."""
    t, f = ctx.templates, ctx.f
    lines = [(t.text("statement", "open_item", {"invoice_no": o.invoice_no, "issue_date": f.date(o.issue_date),
                                                "due_date": f.date(o.due_date)}), f.amount(o.open))
             for o in statement.open_items]
    if statement.unapplied_credit:
        lines.append((t.text("statement", "unapplied_credit"), f.amount(-statement.unapplied_credit)))
    return tuple(lines)


def _closing(ctx: Context, statement: Statement, values: dict[str, str]) -> tuple[str, ...]:
    """What to do about the closing balance, and whom to ask."""
    t = ctx.templates
    if statement.closing > 0:
        first = t.text("statement", "pay_request", values)
    elif statement.closing < 0:
        first = t.text("statement", "in_credit", values)
    else:
        first = t.text("statement", "settled", values)
    return first, t.text("statement", "questions", values)
