"""What an invoice or credit note prints about tax, from its lines' tax (:mod:`sheetbill.tax`).

Nothing here prints anything for an untaxed invoice (no line with a Net): a workbook without tax
gets its documents exactly as before. A taxed one gets

* the sender's Tax Number and VAT ID beside the invoice number (§ 14 (4) Nr. 2 UStG);
* per category and rate, the net amount and the tax (§ 14 (4) Nr. 7 and 8 UStG), the rounding amount
  where the lines' gross differs from Net + Tax by a cent (EN 16931 BT-114);
* a rate column when lines of the invoice carry tax, and with net prices the line nets;
* each exemption reason as a note ("Steuerfrei nach § 4 Nr. 14 UStG", the § 19 UStG note).

The § 286 (3) BGB note on default (Settings Default Notice) is printed on customer invoices of any workbook.
"""

from __future__ import annotations

from decimal import Decimal

from ..models import BillToType, Invoice, InvoiceKind, InvoiceLine
from ..tax import TaxBreakdown, TaxCategory, invoice_tax_breakdown
from .context import Context


def breakdown_of(ctx: Context, lines: list[InvoiceLine]) -> TaxBreakdown | None:
    """The invoice's tax breakdown; None when it is untaxed."""
    return invoice_tax_breakdown(lines, ctx.currency)


def tax_facts(ctx: Context, breakdown: TaxBreakdown | None) -> list[tuple[str, str]]:
    """The sender's Tax Number and VAT ID, on a taxed document."""
    if breakdown is None:
        return []
    t, s = ctx.templates, ctx.settings
    facts = []
    if s.tax_number:
        facts.append((t.text("common", "tax.tax_number"), s.tax_number))
    if s.vat_id:
        facts.append((t.text("common", "tax.vat_id"), s.vat_id))
    return facts


def _rate(ctx: Context, rate: Decimal) -> str:
    return ctx.f.number(rate)


def taxed_with_rate(breakdown: TaxBreakdown | None) -> bool:
    """True when some line of the invoice carries tax at a rate above 0 (the lines then show their rate)."""
    return breakdown is not None and any(s.rate for s in breakdown.subtotals)


def rate_cell(ctx: Context, line: InvoiceLine) -> str:
    """A line's VAT column: its rate, or its category when it carries none (E, AE, ...)."""
    if line.net is None:
        return ""
    if line.tax_rate or line.tax_category in (None, TaxCategory.STANDARD):
        return ctx.templates.text("common", "tax.rate", {"rate": _rate(ctx, line.tax_rate or Decimal(0))})
    return str(line.tax_category)


def tax_totals(ctx: Context, breakdown: TaxBreakdown | None) -> list[tuple[str, str, bool]]:
    """The totals rows before the invoice's total: net and tax per rate, amounts without tax per
    category (when there is more than one kind), and the rounding amount."""
    if breakdown is None:
        return []
    t, f = ctx.templates, ctx.f
    rows: list[tuple[str, str, bool]] = []
    several = len(breakdown.subtotals) > 1
    for subtotal in breakdown.subtotals:
        if subtotal.rate:
            rate = _rate(ctx, subtotal.rate)
            rows.append((t.text("common", "tax.net_at", {"rate": rate}), f.amount(subtotal.basis), False))
            rows.append((t.text("common", "tax.tax_at", {"rate": rate}), f.amount(subtotal.tax), False))
        elif several:
            rows.append((t.text("common", "tax.untaxed", {"category": subtotal.category}), f.amount(subtotal.basis),
                         False))
    if breakdown.rounding:
        rows.append((t.text("common", "tax.rounding"), f.amount(breakdown.rounding), False))
    return rows


def tax_notes(ctx: Context, invoice: Invoice, breakdown: TaxBreakdown | None) -> list[str]:
    """The notes after the totals: each exemption reason once, and on customer invoices the § 286 (3)
    BGB note when Settings Default Notice is yes."""
    notes: list[str] = []
    if breakdown is not None:
        for subtotal in breakdown.subtotals:
            for reason in (subtotal.exemption_reason or "").split("; "):
                if reason and reason not in notes:
                    notes.append(reason)
    if (ctx.settings.default_notice and invoice.bill_to_type == BillToType.CUSTOMER
            and invoice.kind == InvoiceKind.INVOICE and invoice.amount > 0):
        notes.append(ctx.templates.text("common", "notices.default"))
    return notes


def shows_nets(ctx: Context, breakdown: TaxBreakdown | None) -> bool:
    """With net prices, a taxed invoice's lines show their nets (then Net, VAT and the total follow)."""
    return breakdown is not None and not ctx.settings.prices_include_tax and taxed_with_rate(breakdown)
