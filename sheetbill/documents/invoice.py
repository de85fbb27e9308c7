"""Invoices and credit notes as documents, from the Invoices and Invoice Lines history.

* The recipient comes from Customers or Payers; on payer invoices the customer, date of birth,
  member ID (from Coverage) and the fields the payer's plugin asks for are printed too.
* On customer invoices, what each insurer paid for the same charges (their payer-invoice lines)
  is shown beside the customer's share, and why the rest is the customer's (the lines' reasons:
  deductible, coinsurance, copay, ...).
* A line's reason is printed in the office's words. Credit and transfer lines name the invoice
  they concern in Related Invoice; the wording is chosen from that column and
  :func:`sheetbill.billing.credit_reason`, never read back out of the Reason text.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from ..billing import credit_reason
from ..ledger import SourceType
from ..models import BillToType, Invoice, InvoiceKind, InvoiceLine, Payer
from ..money import ZERO
from .context import Context
from .model import KIND_CREDIT_NOTE, KIND_INVOICE, Document, Source, Table
from .parties import Recipient, code_system, coverage_of, letterhead, recipient
from .taxes import breakdown_of, rate_cell, shows_nets, tax_facts, tax_notes, tax_totals, taxed_with_rate
from .templates import Templates

#: The width of each column of the lines table, for each layout.
_WIDTHS_PLAIN = (25, 22, 56, 10, 24, 24, 24)
_WIDTHS_INSURED = (25, 20, 48, 10, 23, 23, 24)
_WIDTHS_CUSTOMER = (25, 22, 60, 12, 26, 26)


# --- reasons ------------------------------------------------------------------------------------------------


def reason_text(ctx: Context, line: InvoiceLine) -> str:
    """An invoice line's reason in the customer's words.

    A credit line issued by billing says which invoice it credits and whether the charge was
    changed or deleted; a transfer line which payer invoice the money came from (Related Invoice)
    and that invoice's payer. Any other reason is translated word by word (:func:`reason_words`).
    """
    t = ctx.templates
    if not line.reason:
        return ""
    related = line.related_invoice
    if related:
        for changed in (True, False):
            if line.reason == credit_reason(related, changed):
                return (t.text("common", "reasons.credit", {"invoice_no": related}) + ": "
                        + t.text("common", f"reasons.{'changed' if changed else 'deleted'}"))
        source = ctx.invoices.get(related)
        if line.payment_id and source is not None:
            return t.text("common", "reasons.transfer", {"invoice_no": related, "payer": source.bill_to_name})
    return reason_words(t, line.reason)


def reason_words(templates: Templates, reason: str) -> str:
    """``reason`` with each known word in the office's language (``deductible + coinsurance`` ->
    ``annual deductible + coinsurance (your percentage)``); unknown words are kept as written."""
    words = templates.data["common"]
    suffixes: list[str] = []
    main = reason.strip()
    while main.endswith(")") and "(" in main:
        start = main.rindex("(")
        suffixes.insert(0, main[start + 1:-1].strip())
        main = main[:start].strip()

    def word(token: str) -> str:
        key = f"reasons.{token.strip().casefold()}"
        return str(words[key]) if key in words else token.strip()

    text = " + ".join(word(token) for token in main.split(" + ")) if main else ""
    for suffix in suffixes:
        inner = " + ".join(word(token) for token in suffix.split(" + "))
        text = f"{text} ({inner})" if text else inner
    return text


def description(ctx: Context, line: InvoiceLine) -> str:
    """What the line is for: the service's description, else the reason (transfer lines)."""
    service = ctx.book.services.get(line.service_code or "")
    if service is not None:
        return service.description
    return reason_text(ctx, line) if line.reason else (line.service_code or "")


def insurer_shares(ctx: Context, invoice: Invoice, line: InvoiceLine) -> list[tuple[Invoice, InvoiceLine]]:
    """The payer-invoice lines for the same charge as a customer line (same charge, date and amount,
    issued on or before the customer invoice; the latest such issue)."""
    found = [(inv, ln) for inv, ln in ctx.payer_lines.get(line.charge_id or "", [])
             if ln.date_of_service == line.date_of_service and ln.charge_amount == line.charge_amount
             and inv.issue_date <= invoice.issue_date]
    if not found:
        return []
    latest = max(inv.issue_date for inv, _ in found)
    return [(inv, ln) for inv, ln in found if inv.issue_date == latest]


# --- the document -------------------------------------------------------------------------------------------


def invoice_document(ctx: Context, invoice: Invoice) -> tuple[Document, list[Source]]:
    """The document of an invoice or credit note, and the cells its texts come from.

    :raises sheetbill.plugins.manager.PluginError: when the payer's plugin fails to give its fields.
    """
    t = ctx.templates
    kind = KIND_CREDIT_NOTE if invoice.kind == InvoiceKind.CREDIT_NOTE else KIND_INVOICE
    lines = sorted(ctx.lines.get(invoice.invoice_no, []), key=lambda ln: (ln.date_of_service or dt.date.min, ln.row))
    to = recipient(ctx.book, invoice)
    head = letterhead(ctx.settings)
    sources = [*to.sources, *head.sources]
    is_payer = invoice.bill_to_type == BillToType.PAYER
    reference = ctx.reference(invoice)
    values = ctx.values(invoice, to.party, reference)
    facts = _facts(ctx, invoice, kind, to, lines, sources)
    taxes = breakdown_of(ctx, lines)
    facts[2:2] = tax_facts(ctx, taxes)
    if is_payer or kind == KIND_CREDIT_NOTE:
        table = _plain_table(ctx, invoice, lines, kind, is_payer)
        totals, breakdown, payers = [(t.text("common", "totals.total"), ctx.f.amount(invoice.amount), True)], [], []
    else:
        table, totals, breakdown, payers = _customer_table(ctx, invoice, lines)
    if taxes is not None:
        table = _with_tax_columns(ctx, table, lines, taxes, nets=not payers and not is_payer)
        totals[-1:-1] = tax_totals(ctx, taxes)
    for line in lines:
        service = ctx.book.services.get(line.service_code or "")
        if service is not None:
            sources.append(Source(service.description, "Services", service.row, "Description"))
    paragraphs, closing, block = _letter_text(ctx, invoice, kind, values, payers, reference)
    closing[0:0] = tax_notes(ctx, invoice, taxes)
    document = Document(
        key=invoice.invoice_no, kind=kind, invoice_no=invoice.invoice_no, date=invoice.issue_date,
        recipient_type=invoice.bill_to_type, recipient_id=invoice.bill_to_id, recipient_name=to.name,
        email=to.email, postal=to.postal, postal_complete=to.complete, sender_line=head.sender_line,
        company=head.lines, title=t.text(kind, "title", values), facts=tuple(facts), paragraphs=tuple(paragraphs),
        table=table, totals=tuple(totals),
        breakdown_heading=t.text("common", "breakdown.heading") if breakdown else "",
        breakdown=tuple(breakdown), closing_paragraphs=tuple(closing), payment=block,
        email_subject=t.text(kind, "email.subject", values), email_body=t.text(kind, "email.body", values),
        amount=invoice.amount, language=t.language, **ctx.letter(values, to_payer=is_payer))
    return document, sources


def _facts(ctx: Context, invoice: Invoice, kind: str, to: Recipient, lines: list[InvoiceLine],
           sources: list[Source]) -> list[tuple[str, str]]:
    """The label/value pairs beside the address; adds the cells of what it prints to ``sources``."""
    f, t, book = ctx.f, ctx.templates, ctx.book
    customer = book.customers.get(invoice.customer_id)
    if customer:
        sources.append(Source(customer.name, "Customers", customer.row, "Name"))
    number_label = "labels.credit_note_no" if kind == KIND_CREDIT_NOTE else "labels.invoice_no"
    facts = [(t.text("common", number_label), invoice.invoice_no),
             (t.text("common", "labels.issue_date"), f.date(invoice.issue_date))]
    if kind == KIND_CREDIT_NOTE:
        if invoice.related:
            facts.append((t.text("common", "labels.related_invoice"), invoice.related))
    else:
        facts.append((t.text("common", "labels.due_date"), f.date(invoice.due_date)))
    if invoice.bill_to_type == BillToType.PAYER:
        facts.append((t.text("common", "labels.customer"), customer.name if customer else invoice.customer_id))
        if customer and customer.date_of_birth:
            facts.append((t.text("common", "labels.date_of_birth"), f.date(customer.date_of_birth)))
        coverage = coverage_of(book, invoice, lines)
        if coverage and coverage.member_id:
            facts.append((t.text("common", "labels.member_id"), coverage.member_id))
            sources.append(Source(coverage.member_id, "Coverage", coverage.row, "Member ID"))
        if ctx.plugins is not None and isinstance(to.party, Payer):
            extra = ctx.plugins.invoice_fields(to.party.plugin, payer=to.party, customer_id=invoice.customer_id,
                                               member_id=coverage.member_id if coverage else None)
            for label, value in extra.items():
                facts.append((label, value))
                sources.append(Source(f"{label} {value}", "Payers", to.party.row, "Plugin"))
    facts.append((t.text("common", "labels.customer_id"), invoice.customer_id))
    return facts


def _letter_text(ctx: Context, invoice: Invoice, kind: str, values: dict[str, str], payers: list[str],
                 reference: str):
    """The paragraphs before the table, those after the totals, and the payment block (or ``None``)."""
    t = ctx.templates
    paragraphs: list[str] = []
    closing: list[str] = []
    block = None
    if kind == KIND_CREDIT_NOTE:
        paragraphs.append(t.text(kind, "intro", values))
        closing.extend(_what_happens_to_the_credit(ctx, invoice, values))
        return paragraphs, closing, block
    if invoice.bill_to_type == BillToType.PAYER:
        paragraphs.append(t.text(kind, "intro_payer", values))
    else:
        paragraphs.append(t.text(kind, "intro_customer", values))
        if payers:
            paragraphs.append(t.text(kind, "intro_customer_insured", values | {"payer_names": ", ".join(payers)}))
    if invoice.amount > 0:
        notice = ctx.debit_notice(invoice) if invoice.bill_to_type == BillToType.CUSTOMER else None
        if notice is not None:
            closing.append(t.text(kind, "debit_notice", values | notice))
            block = ctx.debit_block(invoice.amount, notice)
        else:
            closing.append(t.text(kind, "pay_request", values))
            block = ctx.payment_block(invoice.amount, reference, invoice.due_date,
                                      to_payer=invoice.bill_to_type == BillToType.PAYER)
    return paragraphs, closing, block


def _what_happens_to_the_credit(ctx: Context, note: Invoice, values: dict[str, str]) -> list[str]:
    """What a credit note does with the money, according to the account on its date: the credited
    invoice is cancelled (nothing to pay) or reduced (what is still open), the rest of the credit is
    set off against named invoices, and what is left is credit to refund or keep."""
    t, f = ctx.templates, ctx.f
    ledger = ctx.ledger_on(note.issue_date)
    credited = ledger.receivables.get(note.related or "")
    mine = [a for a in ledger.allocations if a.source == note.invoice_no]
    to_related = sum((a.amount for a in mine if a.source_type == SourceType.CREDIT_NOTE), ZERO)
    applied = [a for a in mine if a.source_type == SourceType.CREDIT]
    left = -note.amount - to_related - sum((a.amount for a in applied), ZERO)
    texts: list[str] = []
    if credited is not None and to_related:
        if credited.balance <= 0 and not credited.paid:
            texts.append(t.text(KIND_CREDIT_NOTE, "settle_cancelled", values))
        elif credited.balance > 0:
            still_open = f.amount(credited.balance)
            texts.append(t.text(KIND_CREDIT_NOTE, "settle_reduced", values | {"still_open": still_open}))
    if applied:
        names = ", ".join(dict.fromkeys(a.invoice_no for a in applied))
        texts.append(t.text(KIND_CREDIT_NOTE, "settle_applied", values | {
            "applied": f.amount(sum((a.amount for a in applied), ZERO)), "applied_to": names}))
    if left > 0:
        texts.append(t.text(KIND_CREDIT_NOTE, "settle_refund", values | {"credit": f.amount(left)}))
    return texts or [t.text(KIND_CREDIT_NOTE, "settle", values)]


# --- the lines table ----------------------------------------------------------------------------------------


def _base(ctx: Context, invoice: Invoice, lines: list[InvoiceLine]):
    """The headers and cells every layout starts with: date, code, description, quantity."""
    f, t = ctx.f, ctx.templates
    system = code_system(ctx.book, invoice)
    code_header = t.text("common", "columns.code") + (f" ({system})" if system else "")
    headers = (t.text("common", "columns.date"), code_header, t.text("common", "columns.description"),
               t.text("common", "columns.quantity"))
    rows = [(f.date(ln.date_of_service), ln.billed_code or "", description(ctx, ln), f.quantity(ln.quantity))
            for ln in lines]
    return headers, rows


def _with_tax_columns(ctx: Context, table: Table, lines: list[InvoiceLine], taxes, nets: bool) -> Table:
    """A taxed invoice's lines table: a rate column before the amounts when some line carries tax, and
    on a customer's own invoice (no payer, no insurer's share beside it) with net prices the line nets
    in the last column instead of the gross charged (Net, VAT and the total follow in the totals)."""
    if not taxed_with_rate(taxes):
        return table
    headers, rows = list(table.headers), [list(row) for row in table.rows]
    widths = list(table.widths)
    if shows_nets(ctx, taxes) and nets:
        headers[-1] = ctx.templates.text("common", "tax.net_column")
        for row, line in zip(rows, lines, strict=True):
            row[-1] = ctx.f.amount(line.net) if line.net is not None else row[-1]
        if headers[4] == ctx.templates.text("common", "columns.charged"):
            del headers[4], widths[4]
            for row in rows:
                del row[4]
    headers.insert(len(headers) - 1, ctx.templates.text("common", "tax.rate_column"))
    for row, line in zip(rows, lines, strict=True):
        row.insert(len(row) - 1, rate_cell(ctx, line))
    return _table(tuple(headers), (*widths[:-1], 9, widths[-1]), [tuple(row) for row in rows], table.notes)


def _table(headers: tuple[str, ...], widths: tuple[float, ...], rows: list[tuple[str, ...]],
           notes: tuple[str, ...]) -> Table:
    """A lines table: the first four columns left-aligned, the amounts right-aligned."""
    return Table(headers, widths, ("L", "L", "L", "R") + ("R",) * (len(headers) - 4), tuple(rows), notes)


def _plain_table(ctx: Context, invoice: Invoice, lines: list[InvoiceLine], kind: str, is_payer: bool) -> Table:
    """The lines of a payer invoice or a credit note: charged, the payer's adjustment, amount."""
    f, t = ctx.f, ctx.templates
    headers, base_rows = _base(ctx, invoice, lines)
    headers += (t.text("common", "columns.charged"),)
    rows = [base + (f.amount(ln.charge_amount) if ln.charge_amount is not None else "",)
            for base, ln in zip(base_rows, lines, strict=True)]
    if is_payer and any(ln.adjustment for ln in lines):
        headers += (t.text("common", "columns.adjustment"),)
        rows = [row + (f.amount(-ln.adjustment) if ln.adjustment else "",) for row, ln in zip(rows, lines, strict=True)]
    headers += (t.text("common", "columns.amount"),)
    rows = [row + (f.amount(ln.amount),) for row, ln in zip(rows, lines, strict=True)]
    notes = tuple(reason_text(ctx, ln) if kind == KIND_CREDIT_NOTE else "" for ln in lines)
    return _table(headers, _WIDTHS_PLAIN[:len(headers) - 1] + (24,), rows, notes)


def _customer_table(ctx: Context, invoice: Invoice, lines: list[InvoiceLine]):
    """A customer invoice: what the insurers paid for the same charges, and why the rest is the customer's.

    Returns the table, the totals, the customer's share by reason and the names of insurers that paid.
    """
    f, t = ctx.f, ctx.templates
    insurance: list[Decimal | None] = []
    paid_by: dict[str, Decimal] = defaultdict(lambda: ZERO)
    claims: dict[str, set[str]] = defaultdict(set)
    adjustments = charged = ZERO
    for line in lines:
        shares = insurer_shares(ctx, invoice, line) if line.charge_id else []
        if line.charge_id and line.charge_amount is not None:
            charged += line.charge_amount
        insurance.append(sum((ln.amount for _, ln in shares), ZERO) if shares else None)
        for inv, ln in shares:
            paid_by[inv.bill_to_name] += ln.amount
            claims[inv.bill_to_name].add(inv.invoice_no)
            adjustments += ln.adjustment
    insured = any(value is not None for value in insurance)
    headers, base_rows = _base(ctx, invoice, lines)
    headers += (t.text("common", "columns.charged"),)
    rows = [base + (f.amount(ln.charge_amount) if ln.charge_amount is not None else "",)
            for base, ln in zip(base_rows, lines, strict=True)]
    if insured:
        headers += (t.text("common", "columns.insurance"),)
        rows = [row + (f.amount(value) if value is not None else "",)
                for row, value in zip(rows, insurance, strict=True)]
    headers += (t.text("common", "columns.your_share" if insured else "columns.amount"),)
    rows = [row + (f.amount(ln.amount),) for row, ln in zip(rows, lines, strict=True)]
    notes = tuple(reason_text(ctx, ln) if ln.charge_id else "" for ln in lines)
    table = _table(headers, _WIDTHS_INSURED if insured else _WIDTHS_CUSTOMER, rows, notes)
    payers = sorted(paid_by) if insured else []
    if insured:
        totals = [(t.text("common", "totals.charged"), f.amount(charged), False)]
        settled = _settled_on(ctx, invoice.issue_date, claims)
        totals += [(t.text("common", "totals.insurance" if settled[name] else "totals.insurance_billed",
                           {"payer": name}), f.amount(-paid_by[name]), False)
                   for name in payers if paid_by[name]]
        if adjustments:
            totals.append((t.text("common", "totals.adjustment"), f.amount(-adjustments), False))
        totals.append((t.text("common", "totals.your_share"), f.amount(invoice.amount), True))
    else:
        totals = [(t.text("common", "totals.total"), f.amount(invoice.amount), True)]
    return table, totals, _breakdown(ctx, lines, insured), payers


def _settled_on(ctx: Context, day: dt.date, claims: dict[str, set[str]]) -> dict[str, bool]:
    """Per insurer, whether its invoices for these charges were paid by the end of ``day``: a document
    shows what was known on its date ("Paid by" only then, else "Billed to"); later payments are for
    statements and reminders."""
    receivables = ctx.ledger_on(day).receivables
    return {name: all(number in receivables and receivables[number].balance <= 0 for number in numbers)
            for name, numbers in claims.items()}


def _breakdown(ctx: Context, lines: list[InvoiceLine], insured: bool) -> list[tuple[str, str]]:
    """The customer's share by reason, when insurers paid or there is more than one reason."""
    by_reason: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        if line.amount:
            by_reason[reason_text(ctx, line) or "-"] += line.amount
    if not (insured or len(by_reason) > 1):
        return []
    return [(ctx.templates.text("common", "breakdown.line", {"reason": reason}), ctx.f.amount(amount))
            for reason, amount in by_reason.items()]
