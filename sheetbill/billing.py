"""The billing run: read -> check -> adjudicate -> invoice -> post payments -> overdue -> outputs.

:func:`run_billing` is the one entry point every front end calls with the raw sheets it read; it
returns a :class:`RunResult` with the output sheets to write back. The run is a pure function of
the workbook (and the as-of date): issued invoices and lines are read back from the workbook as
history and never rewritten, so a second run with the same inputs produces identical outputs.

Invoicing rules:

* Every charge dated on or before the as-of date and not on an invoice yet is billed: one invoice
  per bill-to party and customer per run, issued on the as-of date, due after the party's terms.
* A billed charge that was edited (date, customer, service, quantity or amount) or deleted gets a
  Credit Note for its old lines, and the corrected charge is billed again; Advice says so.
* A "Transfer to Customer" payment on a payer invoice moves that amount onto a customer invoice
  whose line names the payer invoice (once: the line remembers the payment).
* Invoice numbers are ``<Invoice Prefix><running number>``: unique, increasing in issue order,
  never reused (the next number is one more than the largest ever issued with that prefix).
"""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal

from . import contract
from .adjudication import adjudicate_all, charge_amount
from .book import Book, load_book
from .models import Invoice, InvoiceLine
from .money import ZERO, D, fmt, plain_number, quantize, quantize_all
from .plugins.manager import Plugins
from .problems import Problem, error
from .sheets import OutputSheet, RawSheet

KIND_INVOICE = "Invoice"
KIND_CREDIT = "Credit Note"


def credit_reason(credited_invoice: str, changed: bool) -> str:
    """The Reason of a credit line: the invoice it credits and whether its charge was changed or deleted.

    Words for people; the credited invoice is also in the line's Related Invoice, and a reader that
    needs "changed" or "deleted" compares the Reason with this function's two answers, never parses it.
    """
    return f"credit for {credited_invoice}: charge {'changed' if changed else 'deleted'}"


@dataclass(frozen=True)
class Advice:
    """Something the clerk should do, for a customer (and an invoice, when it concerns one)."""

    customer_id: str
    invoice_no: str
    topic: str
    text: str


@dataclass(frozen=True)
class Account:
    """An invoice with the payments posted to it.

    Attributes:
        invoice: the issued invoice.
        paid: payments received (refunds negative).
        written_off: write-offs.
        transferred: moved to the customer by Transfer to Customer payments.
        credited: taken off by credit notes.
        balance: amount - paid - written off - transferred - credited.
        status: Open, Partially Paid, Paid, Overpaid, Written Off, Transferred, Cancelled, or for a
            credit note Applied.
        last_payment: date of the latest payment row, if any.
    """

    invoice: Invoice
    paid: Decimal
    written_off: Decimal
    transferred: Decimal
    credited: Decimal
    balance: Decimal
    status: str
    last_payment: dt.date | None = None


@dataclass
class RunResult:
    """What a run produced.

    Attributes:
        book: the typed inputs.
        new_invoices: invoices and credit notes issued by this run.
        accounts: every invoice with payments posted, by invoice number.
        outputs: the sheets sheetbill owns, to write back.
        problems: everything wrong, with locations.
        advice: what the clerk should do.
        summary: counts and totals for people and ``--json``.
        extras: results of later stages (overdue tracking) by name.
    """

    book: Book
    new_invoices: list[Invoice] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=dict)
    outputs: list[OutputSheet] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 when nothing was skipped, 1 when some rows were skipped as Problems."""
        return 1 if any(p.severity == "error" for p in self.problems) else 0


#: Later stages (overdue tracking) hook in here: each gets the result and adds outputs and advice.
Stage = Callable[[RunResult], None]


def _fingerprint_of_charge(book: Book, decision_amount: Decimal, charge) -> tuple:
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


def lines_in_issue_order(book: Book) -> list[InvoiceLine]:
    """Every invoice line in the order its invoice was issued (issue date, then number).

    Not the sheet's order: a clerk may sort or filter the Invoice Lines sheet in Excel, and which
    lines bill a charge now (after its latest credit note) must not depend on that.
    """
    issued = {inv.invoice_no: inv.issue_date for inv in book.invoices}
    never = dt.date.max
    return sorted(book.lines, key=lambda line: (issued.get(line.invoice_no, never), line.invoice_no))


def active_lines(book: Book) -> dict[str, list[InvoiceLine]]:
    """For each Charge ID, the lines that currently bill it (after the latest credit note)."""
    kinds = {inv.invoice_no: inv.kind for inv in book.invoices}
    active: dict[str, list[InvoiceLine]] = {}
    for line in lines_in_issue_order(book):
        if not line.charge_id:
            continue
        if kinds.get(line.invoice_no) == KIND_CREDIT:
            active[line.charge_id] = []
        else:
            active.setdefault(line.charge_id, []).append(line)
    return active


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a run.

    A run allocates millions of small objects (records, Decimals, lines) and frees almost none
    until it ends, which makes the collector rescan the young heap over and over: measured at
    100,000 charges it took about 45 % of the run. Nothing a run builds depends on cycle collection.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_billing(sheets: Mapping[str, RawSheet], *, as_of: dt.date | None = None, plugins: Plugins | None = None,
                stages: tuple[Stage, ...] | None = None, bill_charges: bool = True) -> RunResult:
    """Run the whole billing run over ``sheets`` and return the outputs to write back.

    :param sheets: every sheet the front end read (inputs and sheetbill's own history sheets).
    :param as_of: the run's date; default Settings ``As Of Date``, else today.
    :param plugins: the plugin facade (default: built-ins plus installed plugins).
    :param stages: later stages to run after billing; default overdue tracking.
    :param bill_charges: False to issue nothing new (``sheetbill overdue``): payments are posted and
        the later stages run over the invoices already issued.
    :raises ConfigurationError: when the workbook cannot be billed at all (nothing is written).
    """
    with collector_paused():
        book, problems = load_book(sheets, as_of=as_of)
        del sheets  # the raw cells are not needed any more: let a caller's temporary be freed
        return _run(book, problems, plugins, stages, bill_charges)


def _run(book: Book, problems: list[Problem], plugins: Plugins | None, stages: tuple[Stage, ...] | None,
         bill_charges: bool) -> RunResult:
    plugins = plugins if plugins is not None else Plugins()
    result = RunResult(book=book, problems=problems)
    if bill_charges:
        bill(result, plugins)
    result.advice.extend(correction_advice(book))
    post_payments(result)
    if stages is None:
        from .overdue import track_overdue

        stages = (track_overdue,)
    for stage in stages:
        stage(result)
    result.outputs.append(problems_sheet(result.problems))
    result.outputs.append(advice_sheet(result.advice))
    currency = book.settings.currency
    result.outputs = [canonical(output, currency) for output in result.outputs]
    # The two largest sheets are canonical by construction (history is read back canonical, new
    # lines are built canonical), which spares a pass and a copy over a million rows.
    result.outputs[:0] = billing_outputs(result)
    return result


def canonical(output: OutputSheet, currency: str) -> OutputSheet:
    """``output`` with every number in one spelling: money at the currency's minor unit, other decimals
    without trailing zeros, whole numbers as ``int``.

    History rows come back from a workbook as floats (``80.0``) while new rows are computed
    (``Decimal('80.00')``); both must be written identically, or a rerun with nothing new would
    rewrite the workbook. Amounts already have at most the minor unit's digits, so this rounds
    nothing. It works column by column, since it touches every cell of the largest sheets.
    """
    kinds = [column.kind for column in output.columns]
    if not output.rows or not any(kind in ("money", "decimal", "percent", "int") for kind in kinds):
        return output
    width = len(kinds)
    columns = list(zip(*(tuple(row) + (None,) * (width - len(row)) for row in output.rows), strict=True))
    for index, kind in enumerate(kinds):
        if kind == "money":
            columns[index] = quantize_all(columns[index], currency)
        elif kind in ("decimal", "percent", "int"):
            columns[index] = [_plain_number(value) for value in columns[index]]
    return replace(output, rows=list(zip(*columns, strict=True)))


def _plain_number(value: object) -> object:
    """A number in the spelling of :func:`sheetbill.money.plain_number`; anything else as it is."""
    if value is None or isinstance(value, (str, bool)) or not isinstance(value, (Decimal, int, float)):
        return value
    return value if type(value) is int else plain_number(D(value))


def bill(result: RunResult, plugins: Plugins) -> None:
    """Issue invoices for unbilled charges, credit notes for changed ones, and transfer invoices."""
    book = result.book
    settings = book.settings
    as_of = settings.as_of
    decisions = adjudicate_all(book, plugins, until=as_of)
    active = active_lines(book)
    by_no = {inv.invoice_no: inv for inv in book.invoices}
    numbering = _Numbering(settings.invoice_prefix, settings.invoice_digits,
                           [inv.invoice_no for inv in book.invoices] + [ln.invoice_no for ln in book.lines])
    charges = {c.charge_id: c for c in book.charges}
    # Lines are collected as field tuples (everything but the invoice number) and built once numbered.
    pending: dict[tuple[str, str, str], list[tuple]] = defaultdict(list)  # (type, id, customer) -> lines
    credits: dict[str, list[tuple]] = defaultdict(list)  # credited invoice -> credit line fields

    for decision in decisions.values():
        result.problems.extend(decision.problems)
        for text in decision.advice:
            result.advice.append(Advice(decision.charge.customer_id, "", "coverage", text))

    # Credit billed charges that changed or disappeared.
    for charge_id, lines in sorted(active.items()):
        if not lines:
            continue
        charge = charges.get(charge_id)
        if charge is None and charge_id in book.charge_ids_present:
            continue  # the row is there but has a problem this run: leave its invoice alone
        if charge is not None and charge.date > as_of:
            changed = True
        elif charge is not None:
            now = _fingerprint_of_charge(book, charge_amount(book, charge), charge)
            changed = any(_fingerprint_of_line(line) != now for line in lines)
        else:
            changed = True
        if not changed:
            continue
        for line in lines:
            credits[line.invoice_no].append((
                line.charge_id, line.date_of_service, line.customer_id, line.service_code, line.billed_code,
                line.quantity, line.charge_amount, book.amounts.money(-line.amount),
                book.amounts.money(-line.adjustment),
                credit_reason(line.invoice_no, charge is not None), None, line.invoice_no))
        active[charge_id] = []

    # Bill every adjudicated charge that has no active lines.
    for charge_id, decision in decisions.items():
        if active.get(charge_id) or decision.held or decision.problems:
            continue
        charge = decision.charge
        service = book.services[charge.service_code]
        quantity = book.amounts.number(charge.quantity)
        for share in decision.shares:
            pending[(share.bill_to_type, share.bill_to_id, charge.customer_id)].append((
                charge.charge_id, charge.date, charge.customer_id, charge.service_code, share.billed_code
                or service.service_code, quantity, decision.charge_amount, book.amounts.money(share.amount),
                book.amounts.money(share.adjustment),
                share.reason))

    # Transfers to the customer.
    transferred = {ln.payment_id for ln in book.lines if ln.payment_id}
    for payment in book.payments:
        if payment.type != "Transfer to Customer" or payment.payment_id in transferred:
            continue
        source = by_no.get(payment.invoice_no)
        if source is None:
            continue  # reported by post_payments
        if source.bill_to_type != "Payer":
            result.problems.append(error("a Transfer to Customer must name a payer invoice", "Payments",
                                         payment.row, "Invoice No", code="transfer-not-payer-invoice"))
            continue
        pending[("Customer", source.customer_id, source.customer_id)].append((
            None, payment.date, source.customer_id, None, None, None, None, book.amounts.money(payment.amount),
            book.amounts.money(ZERO),
            f"transfer from {source.invoice_no} ({source.bill_to_name})", payment.payment_id, source.invoice_no))

    # Number and issue: credit notes first (they correct what was issued before), then invoices.
    for credited_no in sorted(credits):
        original = by_no.get(credited_no)
        if original is None:
            continue
        number = numbering.next()
        lines = [InvoiceLine(number, *fields) for fields in credits[credited_no]]
        _issue(result, Invoice(number, KIND_CREDIT, as_of, as_of, original.bill_to_type, original.bill_to_id,
                               original.bill_to_name, original.customer_id,
                               sum((ln.amount for ln in lines), ZERO), credited_no), lines)
    order = {"Payer": 0, "Customer": 1}
    for key in sorted(pending, key=lambda k: (k[2], order[k[0]], k[1])):
        bill_to_type, bill_to_id, customer_id = key
        number = numbering.next()
        lines = [InvoiceLine(number, *fields) for fields in pending[key]]
        if bill_to_type == "Payer":
            payer = book.payers[bill_to_id]
            name = payer.name
            terms = payer.payment_terms_days if payer.payment_terms_days is not None else settings.payment_terms_days
        else:
            name = book.customers[bill_to_id].name if bill_to_id in book.customers else bill_to_id
            terms = settings.payment_terms_days
        sources = {ln.related_invoice for ln in lines if ln.payment_id}
        related = next(iter(sources)) if len(sources) == len(lines) == 1 else None
        _issue(result, Invoice(number, KIND_INVOICE, as_of, as_of + dt.timedelta(days=terms), bill_to_type,
                               bill_to_id, name, customer_id, sum((ln.amount for ln in lines), ZERO), related),
               lines)


def correction_advice(book: Book) -> list[Advice]:
    """Advice for every credit note issued on the as-of date, derived from the history.

    Derived rather than emitted when the credit note is issued, so that running again on the same
    day (the second click) gives the same Advice sheet, and the next day's run no longer repeats it.
    """
    as_of = book.settings.as_of
    today = {inv.invoice_no: inv for inv in book.invoices if inv.issue_date == as_of}
    rebilled: dict[str, str] = {}
    for line in lines_in_issue_order(book):
        if line.charge_id and line.invoice_no in today and today[line.invoice_no].kind == KIND_INVOICE:
            rebilled[line.charge_id] = line.invoice_no  # in issue order: the last one is the rebill
    advice = []
    for line in book.lines:
        credit = today.get(line.invoice_no)
        if credit is None or credit.kind != KIND_CREDIT or not line.charge_id:
            continue
        again = rebilled.get(line.charge_id)
        again = again if again != credit.related else None
        text = (f"charge {line.charge_id} was changed after billing: {credit.related} is credited by "
                f"{credit.invoice_no} and the corrected charge is billed on {again}" if again else
                f"charge {line.charge_id} was deleted after billing: {credit.related} is credited by "
                f"{credit.invoice_no}")
        advice.append(Advice(line.customer_id, credit.related or "", "correction", text))
    return advice


def _issue(result: RunResult, invoice: Invoice, lines: list[InvoiceLine]) -> None:
    result.book.invoices.append(invoice)
    result.book.lines.extend(lines)
    result.new_invoices.append(invoice)


def post_payments(result: RunResult) -> None:
    """Post Payments rows to invoices and derive Paid, Balance and Status of every invoice."""
    book = result.book
    by_no = {inv.invoice_no: inv for inv in book.invoices}
    sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    last_payment: dict[str, dt.date] = {}
    for payment in book.payments:
        if payment.invoice_no not in by_no:
            result.problems.append(error(f"unknown invoice {payment.invoice_no!r}", "Payments", payment.row,
                                         "Invoice No", code="unknown-invoice"))
            continue
        sums[payment.invoice_no][payment.type or "Payment"] += payment.amount
        if payment.invoice_no not in last_payment or payment.date > last_payment[payment.invoice_no]:
            last_payment[payment.invoice_no] = payment.date
    credited: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for invoice in book.invoices:
        if invoice.kind == KIND_CREDIT and invoice.related:
            credited[invoice.related] -= invoice.amount
    currency = book.settings.currency
    for invoice in book.invoices:
        posted = sums[invoice.invoice_no]
        paid, written_off = posted["Payment"], posted["Write-off"]
        transferred = posted["Transfer to Customer"]
        if invoice.kind == KIND_CREDIT:
            account = Account(invoice, paid, written_off, transferred, ZERO, ZERO, "Applied",
                              last_payment.get(invoice.invoice_no))
        else:
            credit = credited[invoice.invoice_no]
            balance = invoice.amount - paid - written_off - transferred - credit
            account = Account(invoice, paid, written_off, transferred, credit, balance,
                              _status(invoice.amount, paid, written_off, transferred, credit, balance),
                              last_payment.get(invoice.invoice_no))
            if balance < 0:
                result.advice.append(Advice(invoice.customer_id, invoice.invoice_no, "overpayment",
                                            f"{invoice.invoice_no} is overpaid by {fmt(-balance, currency)}: "
                                            "refund it or apply it to an open invoice"))
        result.accounts[invoice.invoice_no] = account


def _status(amount: Decimal, paid: Decimal, written_off: Decimal, transferred: Decimal, credited: Decimal,
            balance: Decimal) -> str:
    """The status word of an invoice from its amounts (see :class:`Account`)."""
    if balance < 0:
        return "Overpaid"
    if credited and credited >= amount and not paid:
        return "Cancelled"
    if balance == 0:
        if paid:
            return "Paid"
        if written_off:
            return "Written Off"
        if transferred:
            return "Transferred"
        return "Paid"
    if paid or written_off or transferred or credited:
        return "Partially Paid"
    return "Open"


def billing_outputs(result: RunResult) -> list[OutputSheet]:
    """The Invoices and Invoice Lines sheets: all history, with payments posted.

    Their numbers are already in the canonical spelling of :func:`canonical` (history is read back
    so, new lines are built so); only Paid and Balance, sums of typed payments, are quantized here.
    """
    currency = result.book.settings.currency
    invoices = []
    for invoice in result.book.invoices:
        account = result.accounts[invoice.invoice_no]
        invoices.append((invoice.invoice_no, invoice.kind, invoice.issue_date, invoice.due_date,
                         invoice.bill_to_type, invoice.bill_to_id, invoice.bill_to_name, invoice.customer_id,
                         invoice.amount, quantize(account.paid, currency), quantize(account.balance, currency),
                         result.extras.get("status", {}).get(invoice.invoice_no, account.status), invoice.related))
    lines = [(ln.invoice_no, ln.charge_id, ln.date_of_service, ln.customer_id, ln.service_code, ln.billed_code,
              ln.quantity, ln.charge_amount, ln.amount, ln.adjustment, ln.reason, ln.payment_id, ln.related_invoice)
             for ln in result.book.lines]
    return [OutputSheet(contract.INVOICES_SHEET, contract.INVOICE_COLUMNS, invoices),
            OutputSheet(contract.INVOICE_LINES_SHEET, contract.INVOICE_LINE_COLUMNS, lines)]


def problems_sheet(problems: list[Problem]) -> OutputSheet:
    """The Problems sheet: errors first, then warnings, each where it is."""
    rows = [(p.severity, p.sheet, p.row, p.column, p.message)
            for p in sorted(problems, key=lambda p: (p.severity != "error", p.sheet, p.row or 0, p.column))]
    return OutputSheet(contract.PROBLEMS_SHEET, contract.PROBLEM_COLUMNS, rows)


def advice_sheet(advice: list[Advice]) -> OutputSheet:
    """The Advice sheet, per customer, without repeats."""
    unique = sorted(set(advice), key=lambda a: (a.customer_id, a.invoice_no, a.topic, a.text))
    return OutputSheet(contract.ADVICE_SHEET, contract.ADVICE_COLUMNS,
                       [(a.customer_id, a.invoice_no or None, a.topic, a.text) for a in unique])


def summarize(result: RunResult) -> dict:
    """Counts and totals of a run, for the CLI and ``--json``."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for invoice in result.new_invoices:
        if invoice.kind == KIND_INVOICE:
            totals[invoice.bill_to_type] += invoice.amount
    summary = {
        "as_of": result.book.settings.as_of.isoformat(),
        "currency": result.book.settings.currency,
        "invoices_issued": sum(1 for i in result.new_invoices if i.kind == KIND_INVOICE),
        "credit_notes_issued": sum(1 for i in result.new_invoices if i.kind == KIND_CREDIT),
        "totals_by_bill_to_type": {k: str(v) for k, v in sorted(totals.items())},
        "errors": sum(1 for p in result.problems if p.severity == "error"),
        "warnings": sum(1 for p in result.problems if p.severity == "warning"),
        "advice": len(set(result.advice)),
    }
    summary.update(result.summary)
    return summary

