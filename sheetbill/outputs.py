"""The sheets a run writes back, made from the stages' reports.

Every output sheet of a run is built here, from typed reports, in one spelling per kind of number
(:func:`canonical`), so that history read back from a workbook and rows computed afresh are written
identically and a rerun with nothing new rewrites nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from operator import attrgetter

from . import __version__, contract
from .i18n import Language
from .ledger import LedgerReport
from .models import (
    Advice,
    Collection,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentType,
    Reminder,
)
from .money import ZERO, D, RoundedAmounts, plain_number, quantize, quantize_all
from .overdue import OverdueReport
from .problems import Problem
from .sheets import BarChart, KeptRows, OutputSheet
from .wording import advice_topic


def invoices_sheet(invoices: Sequence[Invoice], ledger: LedgerReport, statuses: Mapping[str, InvoiceStatus],
                   currency: str, seals: Sequence[str | None] | None = None) -> OutputSheet:
    """The Invoices sheet: all history, each invoice with its account items, so that on every row
    Balance = Amount + Fees + Interest - Paid - Credited - Written Off - Transferred.

    A credit note's own amounts are its Amount (negative) and nothing else: where its credit went is
    on the credited invoice (Credited) and in Allocations. ``seals``: each row's Seal (default: the
    record's own, see :func:`sheetbill.seals.seal_records`).
    """
    rounded = RoundedAmounts(currency)
    rows = []
    seals = seals if seals is not None else [invoice.seal for invoice in invoices]
    for invoice, seal in zip(invoices, seals, strict=True):
        item = ledger.receivables.get(invoice.invoice_no)
        if item is None and invoice.kind != InvoiceKind.CREDIT_NOTE:  # edited, left out of the ledger
            amounts, status = (None,) * 7, ""
        elif item is None:  # a credit note
            amounts = (ZERO,) * 7
            status = InvoiceStatus.APPLIED
        else:
            amounts = (item.fees, item.interest, item.paid, item.credited, item.written_off, item.transferred,
                       item.balance)
            status = statuses.get(invoice.invoice_no, item.status)
        rows.append((invoice.invoice_no, str(invoice.kind), invoice.issue_date, invoice.due_date,
                     str(invoice.bill_to_type), invoice.bill_to_id, invoice.bill_to_name, invoice.customer_id,
                     invoice.amount, *(a if a is None else rounded(a) for a in amounts), str(status) or None,
                     invoice.related, invoice.net, invoice.tax, seal))
    return OutputSheet(contract.INVOICES_SHEET, contract.INVOICE_COLUMNS, rows)


def allocations_sheet(ledger: LedgerReport) -> OutputSheet:
    """The Allocations sheet: which credit paid which part of which invoice, in booking order."""
    rows = [(a.date, str(a.source_type), a.source, a.invoice_no, a.installment, str(a.part), a.amount)
            for a in ledger.allocations]
    return OutputSheet(contract.ALLOCATIONS_SHEET, contract.ALLOCATION_COLUMNS, rows)


def accounts_sheet(ledger: LedgerReport, names: Mapping[tuple[str, str], str], overdue: OverdueReport,
                   currency: str) -> OutputSheet:
    """The Accounts sheet: one row per party with items; its Balances foot to the invoices' balances
    less the unapplied credits."""
    rounded = RoundedAmounts(currency)
    levels: dict[str, int] = {}
    for row in overdue.overdue_rows:
        levels[row[0]] = max(levels.get(row[0], 0), row[12] or 0)
    open_items: dict[tuple[str, str], list] = defaultdict(list)
    for item in ledger.receivables.values():
        if item.balance > 0:
            open_items[(item.invoice.bill_to_type, item.invoice.bill_to_id)].append(item)
    rows = []
    for key, account in sorted(ledger.accounts.items()):
        items = open_items.get(key, [])
        owed = sum((i.balance for i in items), ZERO)
        balance = owed - account.unapplied_credit
        level = max((levels.get(i.invoice.invoice_no, 0) for i in items), default=0)
        oldest = min((i.oldest_due for i in items), default=None)
        collected = any(i.invoice.invoice_no in overdue.collections for i in items)
        status = ("In Collections" if collected else "Credit" if balance < 0 else "Settled" if balance == 0
                  else "Overdue" if oldest is not None and oldest < overdue.as_of else "Open")
        rows.append((str(account.party_type), account.party_id, names.get(key, ""), rounded(account.invoiced),
                     rounded(account.fees), rounded(account.interest), rounded(account.paid),
                     rounded(account.credited), rounded(account.written_off), rounded(account.transferred),
                     rounded(balance), rounded(account.unapplied_credit), oldest, level or None, status))
    return OutputSheet(contract.ACCOUNTS_SHEET, contract.ACCOUNT_COLUMNS, rows)


def invoice_lines_sheet(lines: Sequence[InvoiceLine], seals: Sequence[str | None] | None = None,
                        kept: int = 0, currency: str = "") -> OutputSheet:
    """The Invoice Lines sheet: every line ever issued (canonical by construction), each with its Seal
    (``seals``; default: the record's own). Its rows are a :class:`LineRows`, made as they are read.

    ``kept``: how many of the first ``lines`` are the rows of the sheet as read, written back as they are
    (:attr:`sheetbill.book.Book.lines_kept`), with amounts spelled for ``currency``: named to the front end
    (:class:`~sheetbill.sheets.KeptRows`), which need not look at them again."""
    seals = seals if seals is not None else [ln.seal for ln in lines]
    if len(seals) != len(lines):
        raise ValueError(f"{len(lines)} invoice lines but {len(seals)} seals")
    if not 0 <= kept <= len(lines):
        raise ValueError(f"{kept} kept rows of {len(lines)} invoice lines")
    return OutputSheet(contract.INVOICE_LINES_SHEET, contract.INVOICE_LINE_COLUMNS, LineRows(lines, seals),
                       kept=KeptRows(kept, f"sheetbill {__version__}|{InvoiceLine.__qualname__}|{currency}"))


#: An Invoice Lines row without its Seal: the line's fields in the sheet's column order.
_LINE_VALUES = attrgetter("invoice_no", "charge_id", "date_of_service", "customer_id", "service_code", "billed_code",
                          "quantity", "charge_amount", "amount", "adjustment", "reason", "payment_id",
                          "related_invoice", "net", "tax_category", "tax_rate", "tax_exemption")


class LineRows(Sequence):
    """The rows of the Invoice Lines sheet, each made when it is read and not kept.

    A run writes every line ever issued, but the writer only fingerprints the rows of the lines it read
    back (a batch at a time) and renders the new ones: at a million charges, keeping the rows as tuples
    would hold 1.5 million of them (about 290 MB) for that. A slice is a view too. Each row holds the
    line's own objects and its seal, nothing made anew, so that the writer's caches of markup by object
    identity stay right while the lines are alive. Equal to any sequence of the same rows.
    """

    __slots__ = ("_lines", "_seals", "_span")

    def __init__(self, lines: Sequence[InvoiceLine], seals: Sequence[str | None], span: range | None = None):
        self._lines, self._seals = lines, seals
        self._span = range(len(lines)) if span is None else span

    def __len__(self) -> int:
        return len(self._span)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return LineRows(self._lines, self._seals, self._span[index])
        at = self._span[index]
        return (*_LINE_VALUES(self._lines[at]), self._seals[at])

    def __iter__(self):
        span = self._span
        if span.step == 1:
            lines, seals = self._lines[span.start:span.stop], self._seals[span.start:span.stop]
        else:
            lines, seals = [self._lines[at] for at in span], [self._seals[at] for at in span]
        for values, seal in zip(map(_LINE_VALUES, lines), seals, strict=True):
            yield (*values, seal)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(map(tuple.__eq__, self, map(tuple, other)))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LineRows({len(self)} rows)"


def problems_sheet(problems: Iterable[Problem], language: Language) -> OutputSheet:
    """The Problems sheet: errors first, then warnings, each where it is, the messages in ``language``."""
    rows = [(p.severity, p.sheet, p.row, p.column, p.in_language(language), p.code)
            for p in sorted(problems, key=lambda p: (p.severity != "error", p.sheet, p.row or 0, p.column))]
    return OutputSheet(contract.PROBLEMS_SHEET, contract.PROBLEM_COLUMNS, rows)


def advice_sheet(advice: Iterable[Advice], language: Language) -> OutputSheet:
    """The Advice sheet, per customer, without repeats, its topics and texts in ``language``."""
    unique = sorted({(a.customer_id, a.invoice_no or "", language.render(advice_topic(a.topic)),
                      language.render(a.text))
                     for a in advice})
    return OutputSheet(contract.ADVICE_SHEET, contract.ADVICE_COLUMNS,
                       [(customer, invoice_no or None, topic, text) for customer, invoice_no, topic, text in unique])


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


def overdue_sheets(report: OverdueReport, history: Sequence[Reminder], collections: Sequence[Collection],
                   payments: Sequence[Payment], ledger: LedgerReport, currency: str) -> list[OutputSheet]:
    """Overdue, Aging, Reminders, Installments and Collections, in that order.

    :param history: the Reminders rows read back; :param collections: the Collections rows read back.
    """
    q = currency
    aging_rows = [(bucket, quantize(v["Customer"], q), quantize(v["Payer"], q), quantize(sum(v.values(), ZERO), q))
                  for bucket, v in report.aging.items()]
    reminders = [(r.date, r.invoice_no, r.level, r.recipient, r.channel, r.address, quantize(r.amount_due or ZERO, q),
                  quantize(r.fee or ZERO, q), r.text, r.principal, r.fees, r.interest, r.interest_charged,
                  r.installment)
                 for r in [*history, *report.issued]]
    installments = [(i.plan_id, i.invoice_no, i.number, i.due_date, i.amount, i.paid, i.balance, str(i.status))
                    for plan in report.installments.values() for i in plan]
    return [
        OutputSheet(contract.OVERDUE_SHEET, contract.OVERDUE_COLUMNS, report.overdue_rows),
        OutputSheet(contract.AGING_SHEET, contract.AGING_COLUMNS, aging_rows,
                    BarChart("Open balance by age", 0, (1, 2), anchor="F2")),
        OutputSheet(contract.REMINDERS_SHEET, contract.REMINDER_COLUMNS, reminders),
        OutputSheet(contract.INSTALLMENTS_SHEET, contract.INSTALLMENT_COLUMNS, installments),
        OutputSheet(contract.COLLECTIONS_SHEET, contract.COLLECTION_COLUMNS,
                    _collection_rows(report, collections, payments, ledger, currency)),
    ]


def _collection_rows(report: OverdueReport, collections: Sequence[Collection], payments: Sequence[Payment],
                     ledger: LedgerReport, currency: str) -> list[tuple]:
    """Every hand-off (history, then this run's) with what was paid since and the balance now."""
    q = currency
    since: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for payment in payments:
        handed = report.collections.get(payment.invoice_no)
        if handed is not None and (payment.type or PaymentType.PAYMENT) == PaymentType.PAYMENT \
                and payment.date > handed.handed_over_on:
            since[payment.invoice_no] += payment.amount
    rows = []
    for c in [*collections, *report.handed_over]:
        balance = ledger.receivables.get(c.invoice_no)
        rows.append((c.invoice_no, c.customer_id, quantize(c.principal, q), quantize(c.fees or ZERO, q),
                     quantize(c.interest or ZERO, q), c.agency, quantize(c.agency_fee or ZERO, q), c.handed_over_on,
                     quantize(since[c.invoice_no], q), balance.balance if balance else None))
    return rows
