"""The e-invoice of an invoice or credit note, from the same facts its PDF is made from.

:func:`einvoice_of` reads what :mod:`sheetbill.documents` reads for the PDF: the Invoices and
Invoice Lines history (amounts, Net, Tax, categories, exemption reasons), the party's row, Settings,
the IBAN as checked for the PDF's payment block and the same payment reference. The PDF's document is
passed in, so line descriptions and the credit note's words are literally the PDF's.

* The totals are the Invoices sheet's: Net (BT-106, BT-109), Tax (BT-110), Amount (BT-115), with the
  rounding amount (BT-114) where Amount differs from Net + Tax. The VAT breakdown is
  :func:`sheetbill.tax.invoice_tax_breakdown` of the lines; an invoice whose lines do not add up to its
  row is not made (edited history).
* A credit note is type 381 with positive amounts and names the invoice it credits (BT-25, BT-26).
* On payer invoices each line's note (BT-127) names the patient and member ID, exactly as the PDF's
  header does, and no more (no date of birth, no diagnosis).
* An invoice without tax information (history issued before the workbook had tax) gets no e-invoice:
  an e-invoice states the tax, and sheetbill does not guess it afterwards. Its PDF is made as before,
  with a warning on its Invoices row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ..documents.context import Context
from ..documents.invoice import description, reason_text
from ..documents.model import KIND_CREDIT_NOTE, Document
from ..documents.parties import coverage_of
from ..models import BillToType, Invoice, InvoiceLine
from ..money import ZERO
from ..problems import Problem, error, warning
from ..tax import ZERO_CATEGORIES, invoice_tax_breakdown
from .cii import to_cii
from .model import (
    MEANS_NOT_DEFINED,
    MEANS_SEPA_TRANSFER,
    TYPE_CREDIT_NOTE,
    TYPE_INVOICE,
    XRECHNUNG_FORMATS,
    EInvoice,
    Line,
    Payment,
    TaxBreakdown,
)
from .requirements import buyer_party, seller_party, wanted_format
from .ubl import to_ubl

ONE = Decimal(1)


@dataclass(frozen=True)
class EInvoiceFile:
    """An e-invoice ready to write: the document it belongs to, its format and its XML.

    XRechnung goes into ``<key>.xml`` beside the PDF; ZUGFeRD is embedded into the PDF itself.
    """

    key: str
    format: str
    xml: bytes
    invoice: EInvoice

    @property
    def file_name(self) -> str:
        """``<key>.xml``: the file beside the PDF (XRechnung), or the XML's name inside nothing else."""
        return f"{self.key}.xml"

    @property
    def embedded(self) -> bool:
        """True for ZUGFeRD: the XML goes into the PDF, not beside it."""
        return self.format not in XRECHNUNG_FORMATS


def xml_of(invoice: EInvoice) -> bytes:
    """The XML of ``invoice`` in its format's syntax (UBL for ``xrechnung-ubl``, else CII)."""
    return to_ubl(invoice) if invoice.format == "xrechnung-ubl" else to_cii(invoice)


def einvoice_of(ctx: Context, invoice: Invoice, document: Document) -> tuple[EInvoiceFile | None, list[Problem]]:
    """The e-invoice of ``invoice`` (whose PDF is ``document``), or ``None`` with the Problems why not.

    ``None`` without Problems: the party wants no e-invoice. A warning alone (untaxed history): the
    PDF is still made. An error: neither is made until the workbook is fixed.
    """
    party = (ctx.book.payers if invoice.bill_to_type == BillToType.PAYER else ctx.book.customers).get(
        invoice.bill_to_id)
    fmt = wanted_format(party)
    if fmt is None or party is None:
        return None, []
    if invoice.net is None or invoice.tax is None:
        return None, [warning(f"{invoice.invoice_no} has no Net and Tax (the workbook had no tax set up when it was "
                              "issued): an e-invoice states the tax, so it gets only its PDF. Set up tax (Services "
                              "Tax Rate, or the Default Tax settings) for the invoices to come", "Invoices",
                              invoice.row, "Net", code="einvoice-no-tax")]
    seller, seller_lacks = seller_party(ctx.settings, fmt)
    buyer, reference, buyer_lacks = buyer_party(party, ctx.settings, fmt)
    lines = sorted(ctx.lines.get(invoice.invoice_no, []), key=lambda ln: (ln.date_of_service or dt.date.min, ln.row))
    problems = [_as_error(p, invoice) for p in (*seller_lacks, *buyer_lacks)]
    breakdown = invoice_tax_breakdown(lines, ctx.currency)
    if breakdown is None or breakdown.net != invoice.net or breakdown.tax != invoice.tax \
            or breakdown.amount != invoice.amount:
        problems.append(error(f"{invoice.invoice_no}: its lines do not add up to its Net, Tax and Amount: no "
                              "e-invoice and no document is made", "Invoices", invoice.row, "Net",
                              code="einvoice-not-made"))
    elif any(s.category in ZERO_CATEGORIES and not s.exemption_reason for s in breakdown.subtotals):
        problems.append(error(f"{invoice.invoice_no}: a line without tax names no exemption reason (BR-E-10): fill "
                              "in Tax Exemption on the service or Default Tax Exemption", "Services", None,
                              "Tax Exemption", code="einvoice-not-made"))
    if problems:
        return None, problems
    sign = -ONE if document.kind == KIND_CREDIT_NOTE else ONE
    e_lines = tuple(_line(ctx, invoice, document, line, index, sign) for index, line in enumerate(lines, 1))
    taxes = tuple(TaxBreakdown(s.category, s.rate, sign * s.basis, sign * s.tax, s.exemption_reason or "")
                  for s in breakdown.subtotals)
    credit = sign < 0
    payable = sign * invoice.amount
    line_total, tax_total = sign * invoice.net, sign * invoice.tax
    iban = ctx.bank["iban"]
    if credit or not iban:
        payment = Payment(MEANS_NOT_DEFINED, reference=ctx.reference(invoice))
    else:
        payment = Payment(MEANS_SEPA_TRANSFER, iban, ctx.bank["bic"], ctx.settings.company_name,
                          ctx.reference(invoice))
    days = [ln.date_of_service for ln in lines if ln.date_of_service]
    related = ctx.invoices.get(invoice.related or "")
    e_invoice = EInvoice(
        format=fmt, number=invoice.invoice_no, type_code=TYPE_CREDIT_NOTE if credit else TYPE_INVOICE,
        issue_date=invoice.issue_date, currency=ctx.currency, seller=seller, buyer=buyer, lines=e_lines,
        taxes=taxes, line_total=line_total, tax_total=tax_total, tax_inclusive=line_total + tax_total,
        payable=payable, rounding=payable - line_total - tax_total, payment=payment,
        due_date=None if credit else invoice.due_date, buyer_reference=reference,
        payment_terms=" ".join(document.closing_paragraphs) if credit else "",
        preceding=invoice.related or "" if credit else "",
        preceding_date=related.issue_date if credit and related else None,
        period_start=min(days) if days else None, period_end=max(days) if days else None)
    return EInvoiceFile(document.key, fmt, xml_of(e_invoice), e_invoice), []


def _as_error(problem: Problem, invoice: Invoice) -> Problem:
    """A lack that stops an invoice's e-invoice, as an error that says which invoice waits for it."""
    return error(f"{invoice.invoice_no} is not made (its recipient wants an e-invoice): {problem.message}",
                 problem.sheet, problem.row, problem.column, code=problem.code)


def _line(ctx: Context, invoice: Invoice, document: Document, line: InvoiceLine, index: int, sign: Decimal) -> Line:
    """One invoice line: what was supplied, how much, at which price, in which tax category."""
    net = sign * (line.net if line.net is not None else line.amount)
    count = abs(line.quantity) if line.quantity else ONE
    quantity = -count if net < 0 else count
    price, base = abs(net) / count, ONE
    if price != price.quantize(Decimal("0.0001")) or price * count != abs(net):
        price, base = abs(net), count
    name = description(ctx, line) or line.service_code or line.billed_code or f"{document.key} {index}"
    return Line(line_id=str(index), name=name, quantity=quantity, net=net, price=_plain(price),
                base_quantity=base, category=str(line.tax_category or "S"),
                rate=line.tax_rate if line.tax_rate is not None else ZERO,
                seller_id=line.billed_code or line.service_code or "", note=_note(ctx, invoice, document, line),
                start=line.date_of_service, end=line.date_of_service)


def _plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros beyond the cents (``30.0000`` -> ``30.00``)."""
    cents = value.quantize(Decimal("0.01"))
    return cents if cents == value else value.normalize()


def _note(ctx: Context, invoice: Invoice, document: Document, line: InvoiceLine) -> str:
    """The line's note: on payer invoices the patient and member ID (as the PDF's header shows them);
    on credit notes why the line is credited (as the PDF's small print says)."""
    t = ctx.templates
    if document.kind == KIND_CREDIT_NOTE:
        return reason_text(ctx, line)
    if invoice.bill_to_type != BillToType.PAYER:
        return ""
    customer = ctx.book.customers.get(invoice.customer_id)
    parts = [f"{t.text('common', 'labels.customer')}: {customer.name if customer else invoice.customer_id}"]
    coverage = coverage_of(ctx.book, invoice, ctx.lines.get(invoice.invoice_no, []))
    if coverage and coverage.member_id:
        parts.append(f"{t.text('common', 'labels.member_id')}: {coverage.member_id}")
    return "; ".join(parts)
