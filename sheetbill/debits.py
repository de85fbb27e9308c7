"""The direct-debit use-case: ``sheetbill debit`` writes pain.008 files and records them in Debits.

:func:`debit_run` finds every customer invoice, and every installment of a payment plan, that is
open, belongs to a customer with an active mandate (:func:`sheetbill.mandates.mandate_of`) and whose
announced debit date (:func:`sheetbill.mandates.debit_date`: the due date, not before the
pre-notification period is over) is on or before the collection date asked for. Each is collected
on its announced date (a TARGET day), or on the first TARGET day a file sent today can be collected on
when that has passed (:func:`sheetbill.bank.target_days.first_collection_day`). It writes one pain.008
message per collection date and scheme (:func:`sheetbill.bank.sepa.pain008`), a payment-information
block per sequence type (``FRST`` for a mandate's first debit, ``RCUR`` after it), and appends a
Debits row per item with Status ``pending``.

**Exactly once**: an item with a Debits row that is pending or collected is never sent again; only
a returned debit makes it due again (with a new End-to-End ID). While a debit is pending the item
gets no reminders and shows as Debit Pending; it counts as paid when ``sheetbill import-bank`` finds
the collection on a statement.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from . import contract_bank
from .bank.references import creditor_id_problem, iban_problem, invoice_key, normalize
from .bank.sepa import VERSIONS, Collection, DirectDebit, pain008
from .bank.target_days import first_collection_day
from .bank_import import raw_rows
from .book import Book, load_book
from .mandates import COLLECTED, PENDING, RETURNED, Mandate, debit_date, lead_days, mandate_of
from .models import BillToType, InvoiceKind
from .outputs import canonical
from .problems import ConfigurationError, Problem, error
from .run import collector_paused, ledger_as_of
from .sheets import OutputSheet
from .tables import find_sheet

#: How far ahead a collection date may be by default: the furthest banks accept a CORE file.
DEFAULT_HORIZON_DAYS = 14


@dataclass(frozen=True)
class DebitFile:
    """A pain.008 file to hand to the bank: its name and bytes, with what it holds."""

    name: str
    data: bytes
    collection_date: dt.date
    scheme: str
    count: int
    total: Decimal


@dataclass
class DebitOutcome:
    """What a debit run did, for a front end to present.

    Attributes:
        files: the pain.008 files (written by the front end; the CLI puts them into ``--out``).
        rows: the new Debits rows.
        problems: what kept an item from being debited.
        outputs: the Debits sheet (written, or that would have been).
        written: True when the workbook changed.
        dry_run: True when nothing was to be written.
    """

    files: list[DebitFile] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    outputs: tuple[OutputSheet, ...] = ()
    written: bool = False
    dry_run: bool = False

    @property
    def summary(self) -> dict:
        """Counts and totals for people and ``--json``."""
        return {"files": [{"name": f.name, "collection_date": f.collection_date.isoformat(), "scheme": f.scheme,
                           "debits": f.count, "total": str(f.total)} for f in self.files],
                "debits": len(self.rows), "total": str(sum((f.total for f in self.files), Decimal("0.00"))),
                "errors": sum(1 for p in self.problems if p.severity == "error")}

    @property
    def exit_code(self) -> int:
        """0 without errors, 1 when an item could not be debited."""
        return 1 if any(p.severity == "error" for p in self.problems) else 0


@dataclass(frozen=True)
class DebitSettings:
    """The creditor's side of a debit: from Settings (Company Name, Bank IBAN, Bank BIC, Creditor ID,
    Debit Lead Days, Debit Format)."""

    creditor_name: str
    creditor_iban: str
    creditor_bic: str | None
    creditor_id: str
    lead_days: int
    version: str


def debit_settings(book: Book, problems: list[Problem]) -> DebitSettings:
    """The creditor's settings; what makes debiting impossible raises :class:`ConfigurationError`."""
    settings, rows = book.settings, book.settings.rows
    extra = settings.extra
    found: list[Problem] = []
    creditor_id = normalize(str(extra.get("creditorid") or ""))
    why = creditor_id_problem(creditor_id) if creditor_id else "is missing: set your SEPA creditor identifier"
    if why:
        found.append(error(f"Creditor ID {creditor_id!r} {why}", "Settings", rows.get("creditorid"), "Value",
                           code="bad-setting"))
    iban = normalize(settings.bank_iban or "")
    why = iban_problem(iban) if iban else "is missing: set the account the debits are paid into"
    if why:
        found.append(error(f"Bank IBAN {iban!r} {why}", "Settings", rows.get("bankiban"), "Value", code="bad-iban"))
    if not (settings.company_name or "").strip():
        found.append(error("Company Name is missing: it is the creditor's name on every debit", "Settings",
                           rows.get("companyname"), "Value", code="bad-setting"))
    version = str(extra.get("debitformat") or VERSIONS[0]).strip()
    if version not in VERSIONS:
        found.append(error(f"Debit Format {version!r} must be {' or '.join(VERSIONS)}", "Settings",
                           rows.get("debitformat"), "Value", code="bad-setting"))
    if found:
        raise ConfigurationError("direct debits need these Settings", found)
    bic = normalize(str(extra.get("bankbic") or getattr(settings, "bank_bic", "") or "")) or None
    return DebitSettings(settings.company_name.strip(), iban, bic, creditor_id,
                         lead_days(extra, rows, problems), version)


def end_to_end_id(invoice_no: str, installment: int | None, attempt: int) -> str:
    """The End-to-End ID of a debit: the invoice number's letters and digits, the installment, and for
    a repeated debit after a return the attempt (``INV000123-2-R1``); at most 35 characters."""
    text = invoice_key(invoice_no)[:24] + (f"-{installment}" if installment else "") + \
        (f"-R{attempt}" if attempt else "")
    return text[:35]


def debit_run(workbook, *, collection_date: dt.date | None = None, as_of: dt.date | None = None,
              dry_run: bool = False) -> DebitOutcome:
    """Debit every due item (see the module docstring); ``workbook`` is a :class:`sheetbill.app.Workbook`.

    :param collection_date: the last announced debit date collected now (default: the as-of date +
        14 days, the furthest ahead banks take a file).
    :raises ConfigurationError: when Settings lack what every debit needs (nothing is written).
    """
    problems: list[Problem] = []
    with collector_paused(), workbook.read() as sheets:
        book, read = load_book(sheets, as_of=as_of)
        problems += [p for p in read if p.sheet in ("Mandates", contract_bank.DEBITS_SHEET)]
        old_rows = raw_rows(find_sheet(sheets, contract_bank.DEBITS), contract_bank.DEBIT_COLUMNS)
    creditor = debit_settings(book, problems)
    today = book.settings.as_of
    until = collection_date or today + dt.timedelta(days=DEFAULT_HORIZON_DAYS)
    earliest = first_collection_day(today)
    batches: dict[tuple[dt.date, str, str], list[tuple[DirectDebit, tuple]]] = defaultdict(list)
    used = {d.mandate_id for d in book.debits if d.status != RETURNED}
    for item in due_items(book, creditor.lead_days, until):
        invoice, installment, amount, announced, mandate, attempt = item
        day = max(announced, earliest)  # both TARGET days
        sequence = "RCUR" if mandate.mandate_id in used or mandate.last_used else "FRST"
        ident = end_to_end_id(invoice.invoice_no, installment, attempt)
        customer = book.customers[invoice.customer_id]
        text = f"{invoice.invoice_no}" + (f" installment {installment}" if installment else "")
        debit = DirectDebit(ident, amount, mandate.mandate_id, mandate.signed_on, customer.name, mandate.iban,
                            mandate.bic, text)
        row = (day, invoice.invoice_no, installment, mandate.mandate_id, amount, ident, None, PENDING, sequence,
               invoice.customer_id, None, None, None)
        try:  # what a bank would refuse is refused per item, so one bad mandate does not stop the others
            pain008("CHECK", dt.datetime.combine(today, dt.time()), Collection(
                creditor.creditor_name, creditor.creditor_iban, creditor.creditor_id, day, (debit,),
                creditor.creditor_bic, mandate.scheme, sequence), version=creditor.version)
        except ValueError as err:
            problems.append(error(f"{invoice.invoice_no} cannot be debited under mandate {mandate.mandate_id}: {err}",
                                  "Mandates", mandate.row, "Mandate ID", code="debit-not-possible"))
            continue
        batches[(day, mandate.scheme, sequence)].append((debit, row))
    outcome = DebitOutcome(problems=problems, dry_run=dry_run)
    by_file: dict[tuple[dt.date, str], list[tuple[str, list]]] = defaultdict(list)
    for (day, scheme, sequence), items in sorted(batches.items()):
        by_file[(day, scheme)].append((sequence, items))
    for (day, scheme), groups in by_file.items():
        outcome.files.append(_file(creditor, day, scheme, groups, today, outcome))
    currency = book.settings.currency
    outcome.outputs = (canonical(OutputSheet(contract_bank.DEBITS_SHEET, contract_bank.DEBIT_COLUMNS,
                                             [*old_rows, *outcome.rows]), currency),)
    if outcome.rows and not dry_run:
        outcome.written = workbook.write(outcome.outputs, stamp=None)
    return outcome


def due_items(book: Book, days: int, until: dt.date):
    """(invoice, installment, amount, announced date, mandate, attempt) of every item to debit now."""
    ledger, _ = ledger_as_of(book, dt.date.max)
    plans = {plan.invoice_no: plan for plan in book.plans}
    sent: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    for debit in book.debits:
        sent[(debit.invoice_no, debit.installment)].append(debit.status)
    today = book.settings.as_of
    for invoice in book.invoices:
        if invoice.kind != InvoiceKind.INVOICE or invoice.bill_to_type != BillToType.CUSTOMER:
            continue
        if invoice.invoice_no in book.edited_invoices:
            continue
        receivable = ledger.receivables.get(invoice.invoice_no)
        if receivable is None or receivable.balance <= 0:
            continue
        mandate = mandate_of(invoice.customer_id, book.mandates, book.debits, today)
        if mandate is None:
            continue
        plan = plans.get(invoice.invoice_no)
        pieces: list[tuple[int | None, Decimal, dt.date]]
        if plan is not None:
            pieces = [(i.number, i.balance, i.due_date) for i in receivable.installments(plan, today) if i.balance > 0]
        else:
            pieces = [(None, receivable.balance, invoice.due_date)]
        for installment, amount, due in pieces:
            history = sent.get((invoice.invoice_no, installment), [])
            if PENDING in history or COLLECTED in history:
                continue
            announced = debit_date(invoice.issue_date, due, days)
            if announced <= until:
                yield invoice, installment, amount, announced, mandate, history.count(RETURNED)


def _file(creditor: DebitSettings, day: dt.date, scheme: str, groups: list[tuple[str, list]], today: dt.date,
          outcome: DebitOutcome) -> DebitFile:
    """One pain.008 message for ``day`` and ``scheme``; its rows get the file's name."""
    collections = []
    idents = []
    for sequence, items in groups:
        collections.append(Collection(creditor.creditor_name, creditor.creditor_iban, creditor.creditor_id, day,
                                      tuple(debit for debit, _ in items), creditor.creditor_bic, scheme, sequence))
        idents += [debit.end_to_end_id for debit, _ in items]
    digest = hashlib.sha256("|".join(idents).encode()).hexdigest()[:8].upper()
    message_id = f"SB-{day:%Y%m%d}-{scheme}-{digest}"
    data = pain008(message_id, dt.datetime.combine(today, dt.time(0, 0)), collections, version=creditor.version)
    name = f"{message_id}.xml"
    total = Decimal("0.00")
    count = 0
    for _, items in groups:
        for debit, row in items:
            outcome.rows.append((*row[:6], name, *row[7:]))
            total += debit.amount
            count += 1
    return DebitFile(name, data, day, scheme, count, total)


def mandates_by_customer(book: Book, day: dt.date) -> Mapping[str, Mandate]:
    """The mandate each customer is debited under on ``day`` (customers without one are left out)."""
    result = {}
    for customer_id in book.customers:
        mandate = mandate_of(customer_id, book.mandates, book.debits, day)
        if mandate is not None:
            result[customer_id] = mandate
    return result


