"""Issuing: the stage that turns adjudicated charges into invoices, credit notes and transfers.

:func:`issue` takes the Book (inputs and issued history) and the adjudication's decisions and returns
an :class:`IssueReport` with only what this run issues; it changes neither. The rules:

* Every charge dated on or before the as-of date and not on an invoice yet is billed: one invoice
  per bill-to party and customer per run, issued on the as-of date, due after the party's terms.
* A billed charge that was edited (date, customer, service, quantity or amount) or deleted gets a
  Credit Note for its old lines, and the corrected charge is billed again; Advice says so.
* A "Transfer to Customer" payment on a payer invoice moves that amount onto a customer invoice
  whose line names the payer invoice in Related Invoice (once: the line remembers the payment).
* Invoice numbers are ``<Invoice Prefix><running number>``: unique, increasing in issue order,
  never reused (the next number is one more than the largest ever issued with that prefix).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .adjudication import Decision
from .book import Book
from .models import Advice, BillToType, Invoice, InvoiceKind, InvoiceLine, PaymentType
from .money import ZERO
from .problems import Problem, error
from .terms import PaymentTerms

#: Bill-to parties in the order their invoices are numbered within a customer.
_ISSUE_ORDER = {BillToType.PAYER: 0, BillToType.CUSTOMER: 1}


@dataclass(frozen=True)
class IssueReport:
    """What a run issues.

    Attributes:
        invoices: new invoices and credit notes, in number order.
        lines: their lines.
        problems: why some charges or transfers were not billed.
        advice: coverage advice from the adjudication's decisions.
    """

    invoices: tuple[Invoice, ...] = ()
    lines: tuple[InvoiceLine, ...] = ()
    problems: tuple[Problem, ...] = ()
    advice: tuple[Advice, ...] = ()


def credit_reason(credited_invoice: str, changed: bool) -> str:
    """The Reason of a credit-note line: the one wording, so documents can recognise it without parsing."""
    return f"credit for {credited_invoice}: charge {'changed' if changed else 'deleted'}"


def transfer_reason(source: Invoice) -> str:
    """The Reason of a transfer line: which payer invoice the amount comes from."""
    return f"transfer from {source.invoice_no} ({source.bill_to_name})"


def _fingerprint_of_charge(decision_amount: Decimal, charge) -> tuple:
    """What an invoice line records of its charge; a difference means the charge was edited."""
    return (charge.date, charge.customer_id, charge.service_code, charge.quantity.normalize(), decision_amount)


def _fingerprint_of_line(line: InvoiceLine) -> tuple:
    """The charge as it was when the line was issued (compare :func:`_fingerprint_of_charge`)."""
    quantity = line.quantity.normalize() if line.quantity is not None else None
    return (line.date_of_service, line.customer_id, line.service_code, quantity, line.charge_amount)


class _Numbering:
    """Hands out invoice numbers after the largest one ever issued with the prefix."""

    def __init__(self, prefix: str, digits: int, known: list[str]):
        self.prefix, self.digits = prefix, digits
        pattern = re.compile(re.escape(prefix) + r"(\d+)$")
        numbers = [int(m[1]) for no in known if (m := pattern.match(no))]
        self.last = max(numbers, default=0)

    def next(self) -> str:
        self.last += 1
        return f"{self.prefix}{self.last:0{self.digits}d}"


def lines_in_issue_order(invoices: Sequence[Invoice], lines: Sequence[InvoiceLine]) -> list[InvoiceLine]:
    """Every invoice line in the order its invoice was issued (issue date, then number).

    Not the sheet's order: a clerk may sort or filter the Invoice Lines sheet in Excel, and which
    lines bill a charge now (after its latest credit note) must not depend on that.
    """
    issued = {inv.invoice_no: inv.issue_date for inv in invoices}
    never = dt.date.max
    return sorted(lines, key=lambda line: (issued.get(line.invoice_no, never), line.invoice_no))


def active_lines(invoices: Sequence[Invoice], lines: Sequence[InvoiceLine]) -> dict[str, list[InvoiceLine]]:
    """For each Charge ID, the lines that currently bill it (after the latest credit note)."""
    kinds = {inv.invoice_no: inv.kind for inv in invoices}
    active: dict[str, list[InvoiceLine]] = {}
    for line in lines_in_issue_order(invoices, lines):
        if not line.charge_id:
            continue
        if kinds.get(line.invoice_no) == InvoiceKind.CREDIT_NOTE:
            active[line.charge_id] = []
        else:
            active.setdefault(line.charge_id, []).append(line)
    return active


#: A line before it has an invoice number: InvoiceLine's fields after ``invoice_no``.
_LineFields = tuple


def issue(book: Book, decisions: Mapping[str, Decision]) -> IssueReport:
    """Issue invoices for unbilled charges, credit notes for changed ones, and transfer invoices."""
    problems = [problem for decision in decisions.values() for problem in decision.problems]
    advice = [Advice(d.charge.customer_id, "", "coverage", text) for d in decisions.values() for text in d.advice]
    active = active_lines(book.invoices, book.lines)
    credits = _credits_for_changed_charges(book, decisions, active)
    pending = _unbilled_shares(book, decisions, active)
    problems += _transfers(book, pending)
    invoices, lines = _number_and_issue(book, credits, pending)
    return IssueReport(tuple(invoices), tuple(lines), tuple(problems), tuple(advice))


def _credits_for_changed_charges(book: Book, decisions: Mapping[str, Decision],
                                 active: dict[str, list[InvoiceLine]]) -> dict[str, list[_LineFields]]:
    """Credit-note lines, by credited invoice, for billed charges that changed or disappeared.

    ``active`` is updated: a credited charge has no active lines any more, so it is billed again.
    """
    charges = {c.charge_id: c for c in book.charges}
    as_of = book.settings.as_of
    credits: dict[str, list[_LineFields]] = defaultdict(list)
    for charge_id, lines in sorted(active.items()):
        if not lines:
            continue
        if charge_id in book.edited_charges:
            continue  # an edited line says nothing about its charge: unchanged until the line is restored
        charge = charges.get(charge_id)
        if charge is None and charge_id in book.charge_ids_present:
            continue  # the row is there but has a problem this run: leave its invoice alone
        if charge is not None and charge.date <= as_of:
            decision = decisions.get(charge_id)
            amount = decision.charge_amount if decision is not None else None
            now = _fingerprint_of_charge(amount, charge)
            if all(_fingerprint_of_line(line) == now for line in lines):
                continue
        for line in lines:
            credits[line.invoice_no].append((
                line.charge_id, line.date_of_service, line.customer_id, line.service_code, line.billed_code,
                line.quantity, line.charge_amount, book.amounts.money(-line.amount),
                book.amounts.money(-line.adjustment), credit_reason(line.invoice_no, charge is not None), None,
                line.invoice_no))
        active[charge_id] = []
    return credits


def _unbilled_shares(book: Book, decisions: Mapping[str, Decision],
                     active: dict[str, list[InvoiceLine]]) -> dict[tuple[str, str, str], list[_LineFields]]:
    """New lines, by (bill-to type, bill-to ID, customer), for every adjudicated charge not billed yet."""
    pending: dict[tuple[str, str, str], list[_LineFields]] = defaultdict(list)
    for charge_id, decision in decisions.items():
        if active.get(charge_id) or decision.held or decision.problems:
            continue
        charge = decision.charge
        service_code = charge.service_code
        quantity = book.amounts.number(charge.quantity)
        for share in decision.shares:
            pending[(share.bill_to_type, share.bill_to_id, charge.customer_id)].append((
                charge.charge_id, charge.date, charge.customer_id, service_code, share.billed_code or service_code,
                quantity, decision.charge_amount, book.amounts.money(share.amount),
                book.amounts.money(share.adjustment), share.reason))
    return pending


def _transfers(book: Book, pending: dict[tuple[str, str, str], list[_LineFields]]) -> list[Problem]:
    """Add a customer line for every Transfer to Customer payment not moved yet; Problems for bad ones."""
    by_no = {inv.invoice_no: inv for inv in book.invoices}
    transferred = {ln.payment_id for ln in book.lines if ln.payment_id}
    # a transfer line that was edited may have lost its Payment ID: move nothing from its payer
    # invoice again until it is restored
    held = {ln.related_invoice for ln in book.lines if ln.invoice_no in book.edited_invoices} | book.edited_invoices
    problems: list[Problem] = []
    for payment in book.payments:
        if payment.type != PaymentType.TRANSFER_TO_CUSTOMER or payment.payment_id in transferred:
            continue
        source = by_no.get(payment.invoice_no)
        if source is None or source.invoice_no in held:
            continue  # reported by posting, or by reading (edited history)
        if source.bill_to_type != BillToType.PAYER:
            problems.append(error("a Transfer to Customer must name a payer invoice", "Payments", payment.row,
                                  "Invoice No", code="transfer-not-payer-invoice"))
            continue
        pending[(BillToType.CUSTOMER, source.customer_id, source.customer_id)].append((
            None, payment.date, source.customer_id, None, None, None, None, book.amounts.money(payment.amount),
            book.amounts.money(ZERO), transfer_reason(source), payment.payment_id, source.invoice_no))
    return problems


def _number_and_issue(book: Book, credits: dict[str, list[_LineFields]],
                      pending: dict[tuple[str, str, str], list[_LineFields]]
                      ) -> tuple[list[Invoice], list[InvoiceLine]]:
    """Number the new documents: credit notes first (they correct what was issued before), then invoices."""
    settings, as_of = book.settings, book.settings.as_of
    by_no = {inv.invoice_no: inv for inv in book.invoices}
    numbering = _Numbering(settings.invoice_prefix, settings.invoice_digits,
                           [inv.invoice_no for inv in book.invoices] + [ln.invoice_no for ln in book.lines])
    invoices: list[Invoice] = []
    lines: list[InvoiceLine] = []
    for credited_no in sorted(credits):
        original = by_no.get(credited_no)
        if original is None:
            continue
        number = numbering.next()
        new = [InvoiceLine(number, *fields) for fields in credits[credited_no]]
        invoices.append(Invoice(number, InvoiceKind.CREDIT_NOTE, as_of, as_of, original.bill_to_type,
                                original.bill_to_id, original.bill_to_name, original.customer_id,
                                sum((ln.amount for ln in new), ZERO), credited_no))
        lines += new
    for key in sorted(pending, key=lambda k: (k[2], _ISSUE_ORDER[k[0]], k[1])):
        bill_to_type, bill_to_id, customer_id = key
        number = numbering.next()
        new = [InvoiceLine(number, *fields) for fields in pending[key]]
        name, terms = _party_name_and_terms(book, bill_to_type, bill_to_id)
        sources = {ln.related_invoice for ln in new if ln.payment_id}
        related = next(iter(sources)) if len(sources) == len(new) == 1 else None
        invoices.append(Invoice(number, InvoiceKind.INVOICE, as_of, terms.due_date(as_of), bill_to_type,
                                bill_to_id, name, customer_id, sum((ln.amount for ln in new), ZERO), related))
        lines += new
    return invoices, lines


def _party_name_and_terms(book: Book, bill_to_type: str, bill_to_id: str) -> tuple[str, PaymentTerms]:
    """The name an invoice is addressed to and its payment terms: the party's own, else the Settings'."""
    settings = book.settings
    if bill_to_type == BillToType.PAYER:
        payer = book.payers[bill_to_id]
        return payer.name, payer.payment_terms or settings.payment_terms
    customer = book.customers.get(bill_to_id)
    if customer is None:
        return bill_to_id, settings.payment_terms
    return customer.name, customer.payment_terms or settings.payment_terms


def correction_advice(invoices: Sequence[Invoice], lines: Sequence[InvoiceLine], as_of: dt.date) -> list[Advice]:
    """Advice for every credit note issued on the as-of date, derived from the history.

    Derived rather than emitted when the credit note is issued, so that running again on the same
    day (the second click) gives the same Advice sheet, and the next day's run no longer repeats it.
    """
    today = {inv.invoice_no: inv for inv in invoices if inv.issue_date == as_of}
    rebilled: dict[str, str] = {}
    for line in lines_in_issue_order(invoices, lines):
        if line.charge_id and line.invoice_no in today and today[line.invoice_no].kind == InvoiceKind.INVOICE:
            rebilled[line.charge_id] = line.invoice_no  # in issue order: the last one is the rebill
    advice = []
    for line in lines:
        credit = today.get(line.invoice_no)
        if credit is None or credit.kind != InvoiceKind.CREDIT_NOTE or not line.charge_id:
            continue
        again = rebilled.get(line.charge_id)
        again = again if again != credit.related else None
        text = (f"charge {line.charge_id} was changed after billing: {credit.related} is credited by "
                f"{credit.invoice_no} and the corrected charge is billed on {again}" if again else
                f"charge {line.charge_id} was deleted after billing: {credit.related} is credited by "
                f"{credit.invoice_no}")
        advice.append(Advice(line.customer_id, credit.related or "", "correction", text))
    return advice
