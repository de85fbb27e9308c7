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
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from operator import attrgetter

from .adjudication import listed_amount
from .book import Book
from .decisions import Decision, Decisions
from .i18n import msg
from .models import Advice, BillToType, Charge, Invoice, InvoiceKind, InvoiceLine, PaymentType
from .money import ZERO, quantize, quantum
from .problems import Problem, error
from .tax import (
    LineTax,
    TaxBreakdown,
    allocate_tax,
    charge_gross_and_net,
    invoice_tax_breakdown,
    net_of,
    tax_of,
)
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
        unbilled: the Charge IDs of the charges with a decision that no line bills after this run (held,
            refused, or with nothing to bill); every other charge with a decision is billed, by lines
            issued before and not credited or by this run's invoices. The few left, not the million billed.
            With customers as the last run left them (see :func:`issue`), only the due charges of the
            others.
    """

    invoices: tuple[Invoice, ...] = ()
    lines: tuple[InvoiceLine, ...] = ()
    problems: tuple[Problem, ...] = ()
    advice: tuple[Advice, ...] = ()
    unbilled: frozenset[str] = frozenset()


def credit_reason(credited_invoice: str, changed: bool) -> str:
    """The Reason of a credit-note line: the one wording, so documents can recognise it without parsing."""
    return f"credit for {credited_invoice}: charge {'changed' if changed else 'deleted'}"


def transfer_reason(source: Invoice) -> str:
    """The Reason of a transfer line: which payer invoice the amount comes from."""
    return f"transfer from {source.invoice_no} ({source.bill_to_name})"


def _fingerprint_of_charge(decision_amount: Decimal, charge) -> tuple:
    """What an invoice line records of its charge; a difference means the charge was edited. Tuples of
    them compare value by value, and Decimals by number: a quantity of 1 and of 1.00 is the same."""
    return (charge.date, charge.customer_id, charge.service_code, charge.quantity, decision_amount)


def _fingerprint_of_line(line: InvoiceLine) -> tuple:
    """The charge as it was when the line was issued (compare :func:`_fingerprint_of_charge`)."""
    return (line.date_of_service, line.customer_id, line.service_code, line.quantity, line.charge_amount)


class _Numbering:
    """Hands out invoice numbers after the largest one ever issued with the prefix."""

    def __init__(self, prefix: str, digits: int, known: Iterable[str]):
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
    ordered: list[InvoiceLine] = []
    for _, group in _invoices_in_issue_order(invoices, lines):
        ordered += group
    return ordered


def _invoices_in_issue_order(invoices: Sequence[Invoice], lines: Sequence[InvoiceLine]
                             ) -> list[tuple[str, list[InvoiceLine]]]:
    """Each invoice number with its lines (in sheet order), in the order the invoices were issued.

    The lines of one invoice share their place: ordering the invoices and keeping each one's lines in
    sheet order is the stable sort of the lines by (issue date, number), over a tenth of the keys.
    """
    issued = {inv.invoice_no: inv.issue_date for inv in invoices}
    never = dt.date.max
    by_invoice: dict[str, list[InvoiceLine]] = {}
    for invoice_no, run in groupby(lines, _invoice_no):
        by_invoice.setdefault(invoice_no, []).extend(run)
    return [(no, by_invoice[no]) for no in sorted(by_invoice, key=lambda no: (issued.get(no, never), no))]


_invoice_no = attrgetter("invoice_no")


def active_lines(invoices: Sequence[Invoice], lines: Sequence[InvoiceLine], left_out: Container[str] = frozenset()
                 ) -> dict[str, tuple[InvoiceLine, ...]]:
    """For each Charge ID, the lines that currently bill it (after the latest credit note), in issue order;
    the lines of the customers ``left_out`` are not looked at.

    Tuples: a run holds one for every charge ever billed, most of one or two lines."""
    if left_out:
        lines = [line for line in lines if line.customer_id not in left_out]
    kinds = {inv.invoice_no: inv.kind for inv in invoices}
    active: dict[str, tuple[InvoiceLine, ...]] = {}
    for invoice_no, group in _invoices_in_issue_order(invoices, lines):
        credit_note = kinds.get(invoice_no) == InvoiceKind.CREDIT_NOTE
        for line in group:
            if not line.charge_id:
                continue
            if credit_note:
                active[line.charge_id] = ()
            else:
                active[line.charge_id] = (*active.get(line.charge_id, ()), line)
    return active


#: A line before it has an invoice number: InvoiceLine's fields from ``charge_id`` to ``related_invoice``;
#: a line with tax adds ``net``, ``tax_category``, ``tax_rate``, ``tax_exemption`` and whether its gross
#: is left to the invoice's tax (a whole charge billed at net prices: :func:`_with_invoice_tax`).
_LineFields = tuple
_Pending = _LineFields
_UNTAXED = ()
#: The fourth part of the key of a new invoice with tax (one without has three): lines with and without
#: tax (a transfer from an invoice issued before tax) are never on one invoice.
_TAXED = "taxed"


def issue(book: Book, decisions: Decisions, as_left: Container[str] = frozenset(),
          due: Mapping[str, Sequence[Charge]] | None = None) -> IssueReport:
    """Issue invoices for unbilled charges, credit notes for changed ones, and transfer invoices.

    Of a charge billed already only its decision's charge amount is looked at (and its problems and
    advice, as every charge's): the decisions the adjudication kept from the last run are not made.

    ``as_left``: customers whose charges (and row, coverage and the settings) are those of the run that
    left the history exactly as it is now, no row of it edited (a "settled" run, see
    :func:`sheetbill.run.run_stages`). That run checked their billed charges against these very lines,
    billed again what had changed and billed everything of theirs it could; and every line bills a
    charge of the customer it names, or bills it no more. So neither their lines nor their charges are
    looked at: ``due`` gives the due charges of each customer (:attr:`sheetbill.adjudication.Adjudicated.due`),
    of which only the others' are. Without ``as_left``, every line and every decision is.
    """
    if as_left and due is None:
        raise ValueError("customers as left need the due charges of the others")
    problems = decisions.problems()
    advice = [Advice(customer_id, "", "coverage", text) for customer_id, text in decisions.advice()]
    active = active_lines(book.invoices, book.lines, as_left)
    credits = _credits_for_changed_charges(book, decisions, active)
    charge_ids = decisions if not as_left else (charge.charge_id for customer_id, charges in due.items()
                                               if customer_id not in as_left for charge in charges)
    pending, unbilled = _unbilled_shares(book, decisions, active, charge_ids)
    del active
    problems += _transfers(book, pending)
    invoices, lines = _number_and_issue(book, credits, pending)
    return IssueReport(tuple(invoices), tuple(lines), tuple(problems), tuple(advice), unbilled)


def _credits_for_changed_charges(book: Book, decisions: Decisions,
                                 active: dict[str, tuple[InvoiceLine, ...]]) -> dict[str, list[_LineFields]]:
    """Credit-note lines, by credited invoice, for billed charges that changed or disappeared.

    ``active`` is updated: a credited charge has no active lines any more, so it is billed again.
    """
    as_of = book.settings.as_of
    decided = decisions.decided  # once per billed charge: looked up once
    changed: list[str] = []
    for charge_id, lines in active.items():
        if not lines:
            continue
        if charge_id in book.edited_charges:
            continue  # an edited line says nothing about its charge: unchanged until the line is restored
        found = decided(charge_id)
        if found is not None and found[0].date <= as_of:
            charge, amount = found
            now = _fingerprint_of_charge(amount, charge)
            for line in lines:
                if _fingerprint_of_line(line) != now:
                    break
            else:
                continue
            if amount is not None and book.taxed and any(line.net is None for line in lines):
                # a line issued before tax compares with the charge as priced: turning tax on re-taxes nothing
                before = _fingerprint_of_charge(listed_amount(book, charge), charge)
                if all(_fingerprint_of_line(line) == (now if line.net is not None else before) for line in lines):
                    continue
        elif charge_id in book.charge_ids_skipped:
            continue  # the row is there but has a problem this run: leave its invoice alone
        # every charge dated on or before the as-of date has a decision: this one is gone, or dated later now
        changed.append(charge_id)
    changed_ids = set(changed)
    present = {charge.charge_id for charge in book.charges if charge.charge_id in changed_ids} if changed else set()
    credits: dict[str, list[_LineFields]] = defaultdict(list)
    for charge_id in sorted(changed):
        for line in active[charge_id]:
            credits[line.invoice_no].append((
                line.charge_id, line.date_of_service, line.customer_id, line.service_code, line.billed_code,
                line.quantity, line.charge_amount, book.amounts.money(-line.amount),
                book.amounts.money(-line.adjustment), credit_reason(line.invoice_no, charge_id in present), None,
                line.invoice_no, *_reversed_tax(book, line)))
        active[charge_id] = ()
    return credits


def _reversed_tax(book: Book, line: InvoiceLine) -> tuple:
    """A credited line's tax, reversed: its net negated, its category, rate and reason as issued."""
    if line.net is None:
        return _UNTAXED
    return (book.amounts.money(-line.net), line.tax_category, line.tax_rate, line.tax_exemption, False)


def _unbilled_shares(book: Book, decisions: Decisions, active: dict[str, tuple[InvoiceLine, ...]],
                     charge_ids: Iterable[str]) -> tuple[dict[tuple, list[_Pending]], frozenset[str]]:
    """New lines, by (bill-to type, bill-to ID, customer, untaxed), for every charge of ``charge_ids`` (with
    a decision; a customer's in the order they were decided) not billed
    yet, and the Charge IDs of those that stay unbilled (held, refused, nothing to bill: see
    :attr:`IssueReport.unbilled`); in a taxed workbook each line carries its net
    (:func:`sheetbill.tax.share_nets`) and tax."""
    pending: dict[tuple, list[_Pending]] = defaultdict(list)
    unbilled: set[str] = set()
    taxes, money = book.taxes, book.amounts.money
    gross_prices = book.settings.prices_include_tax
    for charge_id in charge_ids:
        if active.get(charge_id):
            continue  # billed: its decision is not made (see :class:`sheetbill.decisions.Decisions`)
        decision = decisions[charge_id]
        if decision.held or decision.problems or not decision.shares:
            unbilled.add(charge_id)
            continue
        charge = decision.charge
        service_code = charge.service_code
        quantity = book.amounts.number(charge.quantity)
        line_tax = taxes.get(service_code) if taxes else None
        shares = decision.shares
        if line_tax is None:
            for share in shares:
                pending[(share.bill_to_type, share.bill_to_id, charge.customer_id)].append((
                    charge.charge_id, charge.date, charge.customer_id, service_code,
                    share.billed_code or service_code, quantity, decision.charge_amount, money(share.amount),
                    money(share.adjustment), share.reason))
            continue
        nets = _nets_of_shares(book, decision, line_tax)
        # with net prices, a party billed the whole charge gets its tax from the invoice's sum
        free = not gross_prices and len(shares) == 1 and not shares[0].adjustment and bool(line_tax.rate)
        # the category as plain text, as the line reads back from its sheet: the same row in every run, so
        # the sheet is extended rather than rewritten
        for share, net in zip(shares, nets, strict=True):
            pending[(share.bill_to_type, share.bill_to_id, charge.customer_id, _TAXED)].append((
                charge.charge_id, charge.date, charge.customer_id, service_code, share.billed_code or service_code,
                quantity, decision.charge_amount, money(share.amount), money(share.adjustment), share.reason,
                None, None, money(net), str(line_tax.category), line_tax.rate, line_tax.exemption, free))
    return pending, frozenset(unbilled)


def _nets_of_shares(book: Book, decision: Decision, line_tax: LineTax) -> list[Decimal]:
    """Each share's net: derived once from its gross; the last party with an amount gets the rest of the
    billed net, so the parties' nets foot to the charge's net (less the net of any write-off)."""
    currency = book.settings.currency
    shares = decision.shares
    listed = listed_amount(book, decision.charge)
    gross, net = charge_gross_and_net(listed, line_tax, book.settings.prices_include_tax, currency)
    if len(shares) == 1 and shares[0].amount == gross:
        return [net]  # one party billed the whole charge: its net (most charges, so without the rest)
    billed = sum((share.amount for share in shares), ZERO)
    if billed != gross:  # a write-off: the billed part's net, derived once
        net = net_of(billed, line_tax.rate, currency)
    amounts = [share.amount for share in shares]
    last = max((i for i, a in enumerate(amounts) if a), default=len(amounts) - 1)
    nets = [net_of(a, line_tax.rate, currency) for a in amounts]
    nets[last] = net - sum((n for i, n in enumerate(nets) if i != last), ZERO)
    return nets


def _transfers(book: Book, pending: dict[tuple, list[_Pending]]) -> list[Problem]:
    """Add a customer line for every Transfer to Customer payment not moved yet; Problems for bad ones.

    The amount moved carries the tax of the payer invoice it comes from: one line per category and
    rate of that invoice, in proportion to their gross (:func:`transfer_parts`)."""
    if not any(payment.type == PaymentType.TRANSFER_TO_CUSTOMER for payment in book.payments):
        return []
    by_no = {inv.invoice_no: inv for inv in book.invoices}
    transferred = {ln.payment_id for ln in book.lines if ln.payment_id}
    # a transfer line that was edited may have lost its Payment ID: move nothing from its payer
    # invoice again until it is restored
    held = {ln.related_invoice for ln in book.lines if ln.invoice_no in book.edited_invoices} | book.edited_invoices
    problems: list[Problem] = []
    breakdowns: dict[str, TaxBreakdown | None] = {}
    for payment in book.payments:
        if payment.type != PaymentType.TRANSFER_TO_CUSTOMER or payment.payment_id in transferred:
            continue
        source = by_no.get(payment.invoice_no)
        if source is None or source.invoice_no in held:
            continue  # reported by posting, or by reading (edited history)
        if source.bill_to_type != BillToType.PAYER:
            problems.append(error(msg("a Transfer to Customer must name a payer invoice"), "Payments", payment.row,
                                  "Invoice No", code="transfer-not-payer-invoice"))
            continue
        if source.net is not None and not breakdowns:
            breakdowns.update(_breakdowns_of_taxed_invoices(book))
        breakdown = breakdowns.get(source.invoice_no)
        parts = transfer_parts(book.amounts.money(payment.amount), breakdown, book.settings.currency)
        for amount, taxed in parts:
            key = (BillToType.CUSTOMER, source.customer_id, source.customer_id, *((_TAXED,) if taxed else ()))
            pending[key].append((
                None, payment.date, source.customer_id, None, None, None, None, book.amounts.money(amount),
                book.amounts.money(ZERO), transfer_reason(source), payment.payment_id, source.invoice_no,
                *taxed))
    return problems


def _breakdowns_of_taxed_invoices(book: Book) -> dict[str, TaxBreakdown | None]:
    """The tax breakdown of every issued invoice with tax, by number."""
    lines: dict[str, list[InvoiceLine]] = defaultdict(list)
    for line in book.lines:
        if line.net is not None:
            lines[line.invoice_no].append(line)
    return {no: invoice_tax_breakdown(ls, book.settings.currency) for no, ls in lines.items()}


def transfer_parts(amount: Decimal, breakdown: TaxBreakdown | None, currency: str = "EUR"
                   ) -> list[tuple[Decimal, tuple]]:
    """How a transferred ``amount`` is taxed: untaxed when its payer invoice was; else split over the
    invoice's categories and rates in proportion to their gross (the last takes the rest), each part's
    net derived once. Returns ``(amount, (net, category, rate, exemption, False))`` per line (``()``:
    untaxed)."""
    if breakdown is None or not breakdown.subtotals:
        return [(amount, _UNTAXED)]
    groups = [s for s in breakdown.subtotals if s.basis + s.tax] or list(breakdown.subtotals[:1])
    total = sum((s.basis + s.tax for s in groups), ZERO)
    parts: list[tuple[Decimal, tuple]] = []
    left = amount
    for index, subtotal in enumerate(groups):
        part = left if index == len(groups) - 1 or not total else quantize(
            amount * (subtotal.basis + subtotal.tax) / total, currency)
        left -= part
        parts.append((part, (net_of(part, subtotal.rate, currency), str(subtotal.category), subtotal.rate,
                             subtotal.exemption_reason, False)))
    return parts


def _number_and_issue(book: Book, credits: dict[str, list[_LineFields]],
                      pending: dict[tuple, list[_Pending]]) -> tuple[list[Invoice], list[InvoiceLine]]:
    """Number the new documents: credit notes first (they correct what was issued before), then invoices.

    ``pending`` is emptied on the way: each invoice's fields are let go once its lines are made (a first
    run makes a million and a half lines, and does not hold their fields beside them)."""
    settings, as_of = book.settings, book.settings.as_of
    by_no = {inv.invoice_no: inv for inv in book.invoices}
    known = set(map(_invoice_no, book.invoices))
    known.update(map(_invoice_no, book.lines))  # mostly the same numbers: each is matched once
    numbering = _Numbering(settings.invoice_prefix, settings.invoice_digits, known)
    invoices: list[Invoice] = []
    lines: list[InvoiceLine] = []
    if book.taxed:
        foot_shared_tax(pending, settings.currency, book.amounts.money)
    for credited_no in sorted(credits):
        original = by_no.get(credited_no)
        if original is None:
            continue
        number = numbering.next()
        new = [_line(number, fields) for fields in credits[credited_no]]
        invoices.append(_invoice(book, new, original.net is not None, number, InvoiceKind.CREDIT_NOTE, as_of,
                                 original.bill_to_type, original.bill_to_id, original.bill_to_name,
                                 original.customer_id, credited_no))
        lines += new
    for key in sorted(pending, key=lambda k: (k[2], _ISSUE_ORDER[k[0]], k[1], len(k))):
        bill_to_type, bill_to_id, customer_id = key[:3]
        number = numbering.next()
        taxed = len(key) > 3
        fields_of_lines = pending.pop(key)
        new = [_line(number, fields) for fields in _with_invoice_tax(book, fields_of_lines)] if taxed else [
            InvoiceLine(number, *fields) for fields in fields_of_lines]
        name, terms = _party_name_and_terms(book, bill_to_type, bill_to_id)
        sources = {ln.related_invoice for ln in new if ln.payment_id}
        related = next(iter(sources)) if len(sources) == len(new) == 1 else None
        invoices.append(_invoice(book, new, taxed, number, InvoiceKind.INVOICE, terms.due_date(as_of),
                                 bill_to_type, bill_to_id, name, customer_id, related))
        lines += new
    return invoices, lines


#: The most net moved between two parties of a charge to make their invoices' tax foot (7 % needs up to 8 cents).
_MOST_SHIFT = 15


def foot_shared_tax(pending: dict[tuple, list[_Pending]], currency: str, money=lambda amount: amount) -> None:
    """Make the tax of a customer's new invoices foot: when charges are shared between parties (a payer
    and the customer), the invoices' taxes per category and rate must add up to the tax of all their
    nets together, as one invoice would have it. Each invoice's tax is rounded on its own (BR-CO-17),
    so they may not; then a few cents of net are moved between the two parties' lines of one shared
    charge (the charge's net and each party's gross stay as they are) until they do. What the move
    leaves between a party's gross and its net + tax is its invoice's rounding amount (BT-114)."""
    by_customer: dict[str, list[tuple]] = defaultdict(list)
    for key in pending:
        if len(key) > 3:
            by_customer[key[2]].append(key)
    for keys in by_customer.values():
        if len(keys) < 2:
            continue
        groups: dict[tuple, dict[tuple, list[int]]] = defaultdict(lambda: defaultdict(list))
        for key in keys:
            for index, fields in enumerate(pending[key]):
                if len(fields) > 12 and fields[14]:
                    groups[(fields[13], fields[14])][key].append(index)
        for (_, rate), where in groups.items():
            if len(where) > 1:
                _foot_group(pending, where, rate, currency, money)


def _foot_group(pending: dict[tuple, list[_Pending]], where: dict[tuple, list[int]], rate: Decimal,
                currency: str, money) -> None:
    """:func:`foot_shared_tax` for one category and rate: of the moves that make the taxes foot, the one
    that leaves the smallest rounding amounts (gross - net - tax of each invoice's lines of this rate)."""
    bases = {key: sum((pending[key][i][12] for i in indexes), ZERO) for key, indexes in where.items()}
    grosses = {key: sum((pending[key][i][7] for i in indexes), ZERO) for key, indexes in where.items()}
    whole = tax_of(sum(bases.values(), ZERO), rate, currency)
    if sum((tax_of(b, rate, currency) for b in bases.values()), ZERO) == whole:
        return
    lines_of_charge: dict[str, dict[tuple, int]] = defaultdict(dict)
    for key, indexes in where.items():
        for index in indexes:
            charge_id = pending[key][index][0]
            if charge_id is not None:
                lines_of_charge[charge_id].setdefault(key, index)
    pairs: dict[tuple[tuple, tuple], tuple[int, int]] = {}
    for found in lines_of_charge.values():
        keys = sorted(found, key=str)
        for a in keys:
            for b in keys:
                if a != b:
                    pairs.setdefault((a, b), (found[a], found[b]))
    cent = quantum(currency)
    best: tuple | None = None
    for (key_a, key_b), (index_a, index_b) in sorted(pairs.items(), key=lambda kv: str(kv[0])):
        for steps in range(1, _MOST_SHIFT + 1):
            delta = cent * steps
            moved = dict(bases)
            moved[key_a] += delta
            moved[key_b] -= delta
            taxes = {key: tax_of(b, rate, currency) for key, b in moved.items()}
            if sum(taxes.values(), ZERO) != whole:
                continue
            cost = (max(abs(grosses[k] - moved[k] - taxes[k]) for k in moved), steps)
            if best is None or cost < best[0]:
                best = (cost, key_a, index_a, key_b, index_b, delta)
    if best is not None:
        _, key_a, index_a, key_b, index_b, delta = best
        _add_net(pending, key_a, index_a, delta, money)
        _add_net(pending, key_b, index_b, -delta, money)


def _add_net(pending: dict[tuple, list[_Pending]], key: tuple, index: int, delta: Decimal, money) -> None:
    fields = pending[key][index]
    pending[key][index] = (*fields[:12], money(fields[12] + delta), *fields[13:])


def _line(number: str, fields: _LineFields) -> InvoiceLine:
    if len(fields) <= 12:
        return InvoiceLine(number, *fields)
    return InvoiceLine(number, *fields[:12], 0, None, *fields[12:16])


def _invoice(book: Book, lines: list[InvoiceLine], taxed: bool, number: str, kind: str, due: dt.date,
             bill_to_type: str, bill_to_id: str, name: str, customer_id: str, related: str | None) -> Invoice:
    """A new document: Amount the sum of its lines; with ``taxed`` lines, Net and Tax from its tax
    breakdown (None untaxed)."""
    as_of = book.settings.as_of
    amount = sum((ln.amount for ln in lines), ZERO)
    breakdown = invoice_tax_breakdown(lines, book.settings.currency) if taxed else None
    net, tax = (None, None) if breakdown is None else (book.amounts.money(breakdown.net),
                                                       book.amounts.money(breakdown.tax))
    return Invoice(number, kind, as_of, due, bill_to_type, bill_to_id, name, customer_id, amount, related,
                   net=net, tax=tax)


def _with_invoice_tax(book: Book, pending: list[_Pending]) -> list[_LineFields]:
    """The lines of one new invoice; a line whose gross is left to the invoice (a whole charge at net
    prices) gets its part of the invoice's tax per category and rate (:func:`sheetbill.tax.allocate_tax`),
    so that such an invoice's Amount is exactly Net + Tax (BR-CO-17) with no rounding amount."""
    if not any(len(fields) > 16 and fields[16] for fields in pending):
        return pending
    currency = book.settings.currency
    groups: dict[tuple, list[int]] = defaultdict(list)
    for index, fields in enumerate(pending):
        if len(fields) > 12:
            groups[(fields[13], fields[14])].append(index)
    result = list(pending)
    for (_, rate), indexes in groups.items():
        free = [i for i in indexes if pending[i][16]]
        if not free:
            continue
        basis = sum((result[i][12] for i in indexes), ZERO)
        fixed_tax = sum((result[i][7] - result[i][12] for i in indexes if not pending[i][16]), ZERO)
        parts = allocate_tax([result[i][12] for i in free], rate, currency)
        parts[-1] += tax_of(basis, rate, currency) - fixed_tax - sum(parts, ZERO)
        for index, part in zip(free, parts, strict=True):
            fields = result[index]
            result[index] = (*fields[:7], book.amounts.money(fields[12] + part), *fields[8:])
    return result


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
    if not any(invoice.kind == InvoiceKind.CREDIT_NOTE for invoice in today.values()):
        return []
    todays_lines = [line for line in lines if line.invoice_no in today]
    # Each charge's documents of today in issue order (today's lines keep their places relative to each
    # other): a charge whose last one is a credit note was deleted (even when it was billed again earlier
    # today); otherwise the first invoice after a credit note is the corrected charge's.
    events: dict[str, list[Invoice]] = defaultdict(list)
    for line in lines_in_issue_order(list(today.values()), todays_lines):
        document = today[line.invoice_no]
        if line.charge_id and document not in events[line.charge_id]:
            events[line.charge_id].append(document)
    advice = []
    for line in todays_lines:
        credit = today[line.invoice_no]
        if credit is None or credit.kind != InvoiceKind.CREDIT_NOTE or not line.charge_id:
            continue
        history = events[line.charge_id]
        deleted = history[-1].kind == InvoiceKind.CREDIT_NOTE
        later = history[history.index(credit) + 1:]
        again = None if deleted else next((i.invoice_no for i in later if i.kind == InvoiceKind.INVOICE), None)
        text = msg("charge {charge_id} was changed after billing: {invoice_no} is credited by {credit_note} and the "
                   "corrected charge is billed on {again}", charge_id=line.charge_id, invoice_no=credit.related or "",
                   credit_note=credit.invoice_no, again=again) if again else \
            msg("charge {charge_id} was deleted after billing: {invoice_no} is credited by {credit_note}",
                charge_id=line.charge_id, invoice_no=credit.related or "", credit_note=credit.invoice_no)
        advice.append(Advice(line.customer_id, credit.related or "", "correction", text))
    return advice
