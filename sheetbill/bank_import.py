"""The bank import use-case: statement files in, matched credits posted, the rest left for review.

:func:`import_bank` reads statement files (:func:`sheetbill.bank.detect.read_statement_file`),
matches every new credit to an invoice (:mod:`sheetbill.bank.matching`) and writes two sheets that
sheetbill owns:

* **Bank Payments** -- one row per posted credit (or per invoice of a split credit), with the
  Payments columns, so the ledger books them exactly like Payments rows, plus the bank's entry id,
  the rule that matched it, the payer and the purpose. The Payment ID is derived from the bank's
  entry id (:func:`payment_id`), and an entry whose id is already on Bank Payments or Bank Review
  is not imported again: the same statement imported twice, or overlapping statements, add nothing.
* **Bank Review** -- the credits no rule could match, with the reason and suggestions. The clerk
  types the Invoice No (or a Customer ID, for credit on their account) into the row; the next import
  posts it and drops the row. Unanswered rows are tried again with every import (a new invoice may
  make them match).

Why a sheet of its own rather than rows appended to Payments: Payments is typed by staff and may
carry their formats, formulas, validation and extra columns; sheetbill only ever writes whole sheets
it owns, on every front end (the .xlsx writer, Google Sheets, Excel), and so cannot lose anything
there. The ledger reads Bank Payments beside Payments (:func:`sheetbill.book.load_book`).

Debits on the statement (money out) are not payments and are ignored; entries the bank reports as
pending are left until they are booked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from . import contract, contract_bank
from .accounts_book import load_accounts
from .bank.csv import ColumnMapping
from .bank.detect import read_statement_file
from .bank.entries import PENDING, BankEntry, Statement, StatementError
from .bank.matching import RULES, Asked, Match, Matcher, Payer, invoice_key, name_key
from .bank.references import electronic_iban, iban_fault
from .book import Book
from .cells import normalize
from .debit_statement import DIRECT_DEBIT, RETURNED_DEBIT, DebitTracker, DebitUpdate
from .mandates import Debit
from .models import Invoice, InvoiceKind, PaymentType
from .open_items import OpenItems
from .outputs import canonical
from .problems import Problem, error
from .run import collector_paused
from .sheets import OutputSheet, RawSheet
from .tables import find_sheet, read_table

#: The Method written on Bank Payments rows.
METHOD = "bank transfer"


@dataclass(frozen=True)
class StatementFile:
    """A statement file handed to the import: its name (for messages) and its bytes."""

    name: str
    data: bytes


@dataclass
class ImportOutcome:
    """What an import did, for a front end to present.

    Attributes:
        summary: counts (entries read, matched by rule, left for review, already imported, ...).
        matches: the decision for every credit looked at (new entries and review rows).
        problems: unreadable files, review answers that name nothing, bad Settings.
        outputs: the Bank Payments and Bank Review sheets (written, or that would have been).
        written: True when the workbook changed.
        dry_run: True when nothing was to be written.
    """

    summary: dict
    matches: list[Match] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    outputs: tuple[OutputSheet, ...] = ()
    written: bool = False
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        """0 without errors, 1 when a file or a row could not be used."""
        return 1 if any(p.severity == "error" for p in self.problems) else 0


def payment_id(entry_id: str, part: int = 0, parts: int = 1) -> str:
    """The Payment ID of a bank entry: ``B-`` and 12 hex digits of a hash of its entry id (the same
    entry always gets the same ID), with ``-1``, ``-2``... when the credit is split over invoices."""
    digest = hashlib.sha256(entry_id.encode("utf-8")).hexdigest()[:12].upper()
    return f"B-{digest}" if parts == 1 else f"B-{digest}-{part + 1}"


def column_mapping(book: Book, problems: list[Problem]) -> ColumnMapping | None:
    """The Settings' CSV column mapping (``Bank CSV ...``), or ``None`` when Bank CSV Date is not set."""
    def value(name: str) -> str | None:
        raw = book.settings.extra.get(normalize(name))
        text = str(raw).strip() if raw is not None else ""
        return text or None

    date, amount = value("Bank CSV Date"), value("Bank CSV Amount")
    if date is None:
        return None
    row = book.settings.rows.get(normalize("Bank CSV Amount"))
    if amount is None:
        problems.append(error("Bank CSV Date is set but Bank CSV Amount is not: the CSV mapping is not used",
                              "Settings", row, "Value", code="bad-setting"))
        return None
    formats = {"DD.MM.YYYY": "%d.%m.%Y", "DD.MM.YY": "%d.%m.%y", "YYYY-MM-DD": "%Y-%m-%d",
               "DD/MM/YYYY": "%d/%m/%Y", "MM/DD/YYYY": "%m/%d/%Y"}
    date_format = formats.get((value("Bank CSV Date Format") or "DD.MM.YYYY").upper())
    if date_format is None:
        problems.append(error(f"Bank CSV Date Format must be one of {', '.join(formats)}; DD.MM.YYYY is used",
                              "Settings", book.settings.rows.get(normalize("Bank CSV Date Format")), "Value",
                              code="bad-setting"))
        date_format = "%d.%m.%Y"
    delimiter = {"comma": ",", ",": ",", "tab": "\t", ";": ";", "semicolon": ";"}.get(
        (value("Bank CSV Delimiter") or ";").casefold(), ";")
    skip = value("Bank CSV Skip Lines")
    return ColumnMapping(
        date=date, amount=amount, name=value("Bank CSV Name"), iban=value("Bank CSV IBAN"),
        purpose=value("Bank CSV Purpose"), date_format=date_format,
        decimal_comma=(value("Bank CSV Decimal") or "comma").casefold() != "point",
        encoding=value("Bank CSV Encoding") or "utf-8", delimiter=delimiter,
        skip_lines=int(float(skip)) if skip and skip.replace(".", "").isdigit() else 0,
        default_currency=book.settings.currency)


def payers(book: Book, posted: Sequence[dict], asked: Asked | None = None) -> list[Payer]:
    """Every customer with the IBANs known to be theirs: the Customers IBAN column when it is a valid
    IBAN (a typo there must not match someone else's payments), and the IBAN of every earlier bank
    payment posted to them (learned).

    With ``asked`` (:class:`sheetbill.bank.matching.Asked`), only the customers a credit asked for
    can be recognised by: an IBAN or a name asked. The IBANs of the others are neither checked nor
    indexed, which spares an import the check of every Customers IBAN.
    """
    learned: dict[str, set[str]] = defaultdict(set)
    customer_of = {invoice.invoice_no: invoice.customer_id for invoice in book.invoices} if posted else {}
    for row in posted:
        customer = row.get("customer_id") or customer_of.get(row.get("invoice_no") or "")
        iban = electronic_iban(str(row["iban"])) if row.get("iban") else ""
        if customer and iban and (asked is None or iban in asked.ibans):
            learned[customer].add(iban)
    result = []
    for customer in book.customers.values():
        typed = electronic_iban(customer.iban) if customer.iban else ""
        if typed and ((asked is not None and typed not in asked.ibans) or iban_fault(customer.iban) is not None):
            typed = ""
        known = learned.get(customer.customer_id)
        ibans = tuple(sorted(known | {typed} if typed else known)) if known else (typed,) if typed else ()
        if asked is not None and not ibans and name_key(customer.name) not in asked.names:
            continue
        result.append(Payer(customer.customer_id, customer.name, ibans))
    return result


def import_bank(workbook, files: Iterable[StatementFile], *, as_of: dt.date | None = None,
                dry_run: bool = False) -> ImportOutcome:
    """Import ``files`` into ``workbook`` (a :class:`sheetbill.app.Workbook`); see the module docstring.

    :raises ConfigurationError: when the workbook cannot be read at all (nothing is written).
    """
    # No run memo: reading the rows column by column costs less than taking them from a memo a run left
    # (measured: a first import of 10,000 credits against 100,000 invoices took about 5 s, one with the
    # memo about 7 s), and an import leaves none (packing what it read would cost the next run more).
    with collector_paused():  # as for a run: millions of small objects, no cycles to collect
        return _import(workbook, files, as_of, dry_run)


def _import(workbook, files: Iterable[StatementFile], as_of: dt.date | None, dry_run: bool) -> ImportOutcome:
    with workbook.read() as sheets:
        book, problems = load_accounts(sheets, as_of=as_of)
        own = (contract_bank.BANK_PAYMENTS_SHEET, contract_bank.BANK_REVIEW_SHEET)
        problems = [p for p in problems
                    if p.sheet in own or (p.sheet == contract.INVOICES_SHEET and p.code == "edited-history")]
        posted_sheet = find_sheet(sheets, contract_bank.BANK_PAYMENTS)
        posted_rows = raw_rows(posted_sheet, contract_bank.BANK_PAYMENT_COLUMNS)
        posted, _ = read_table(posted_sheet, contract_bank.BANK_PAYMENTS)
        debit_rows = raw_rows(find_sheet(sheets, contract_bank.DEBITS), contract_bank.DEBIT_COLUMNS)
        review, found = read_table(find_sheet(sheets, contract_bank.BANK_REVIEW), contract_bank.BANK_REVIEW)
        problems += found
    posted_values = [row.values for row in posted]
    mapping = column_mapping(book, problems)
    read = [_read_file(statement_file, mapping) for statement_file in files]
    review_entries = [_entry_of_review(row.values) for row in review]
    # The statements are read before the matcher is built, so it indexes what their credits can ask.
    asked = Asked.by([*review_entries, *(entry for statements in read if not isinstance(statements, Problem)
                                         for statement in statements for entry in statement.entries)])
    accounts = OpenItems(book)  # what is open on an invoice is booked when a credit points to it
    matcher = Matcher(accounts.items, payers(book, posted_values, asked), settle=accounts.settle,
                      asked=asked)
    seen = {str(values["entry_id"]) for values in posted_values}
    debits = DebitTracker(book.debits, _return_fee(book, problems))
    invoices = _Invoices(book)
    counts: Counter[str] = Counter()
    matches: list[Match] = []
    new_rows: list[tuple] = []
    left: list[tuple] = []

    # The clerk's answers first (they were there before the new statement), then unanswered rows again.
    for row, entry in zip(review, review_entries, strict=True):
        values = row.values
        seen.add(entry.entry_id)
        invoice_no, customer_id = values.get("invoice_no"), values.get("customer_id")
        if invoice_no or customer_id:
            invoice = invoices.find(invoice_no) if invoice_no else None
            why = _answer_problem(book, invoice, invoice_no, customer_id)
            if why is None:  # posted under the number as the Invoices sheet spells it, not as typed
                match = matcher.post_answer(entry, invoice.invoice_no if invoice else None, customer_id)
                counts["posted from review"] += 1
                matches.append(match)
                new_rows += _payment_rows(match)
                continue
            problems.append(error(why, contract_bank.BANK_REVIEW_SHEET, row.row,
                                  "Invoice No" if invoice_no else "Customer ID", code="bank-review-answer"))
            left.append(_review_row(values, entry, values.get("reason") or "", values.get("suggestions") or ""))
            continue
        match = matcher.match(entry)
        matches.append(match)
        if match.matched:
            counts[match.rule] += 1
            new_rows += _payment_rows(match)
        else:
            left.append(_review_row(values, entry, match.reason, "; ".join(match.suggestions)))

    for statements in read:
        if isinstance(statements, Problem):
            problems.append(statements)
            continue
        counts["files"] += 1
        for statement in statements:
            for entry in statement.entries:
                counts["entries read"] += 1
                if entry.entry_id in seen:
                    counts["already imported"] += 1
                    continue
                if (entry.status or "").upper() == PENDING:
                    counts["pending, not imported"] += 1
                    continue
                if not entry.is_credit:
                    returned = debits.returned(entry)
                    if returned is None:
                        counts["outgoing ignored"] += 1
                        continue
                    seen.add(entry.entry_id)
                    counts["returned debits"] += 1
                    new_rows += _return_rows(entry, *returned)
                    continue
                seen.add(entry.entry_id)
                match = debits.confirm(entry) or matcher.match(entry)
                matches.append(match)
                if match.matched:
                    counts[match.rule] += 1
                    new_rows += _payment_rows(match)
                else:
                    counts["left for review"] += 1
                    left.append(_review_row({}, entry, match.reason, "; ".join(match.suggestions)))

    currency = book.settings.currency
    outputs = (canonical(OutputSheet(contract_bank.BANK_PAYMENTS_SHEET, contract_bank.BANK_PAYMENT_COLUMNS,
                                     [*posted_rows, *new_rows]), currency),
               canonical(OutputSheet(contract_bank.BANK_REVIEW_SHEET, contract_bank.BANK_REVIEW_COLUMNS, left),
                         currency))
    if debits.updates:
        outputs += (canonical(OutputSheet(contract_bank.DEBITS_SHEET, contract_bank.DEBIT_COLUMNS,
                                          debits.updated_rows(debit_rows)), currency),)
    changed = bool(new_rows) or bool(debits.updates) or len(left) != len(review) or any(
        r.values.get("invoice_no") or r.values.get("customer_id") for r in review)
    written = False if dry_run or not changed else workbook.write(outputs, stamp=None)
    summary = _summary(counts, new_rows, left, currency)
    return ImportOutcome(summary, matches, problems, outputs, written, dry_run)


def _read_file(statement_file: StatementFile, mapping: ColumnMapping | None) -> list[Statement] | Problem:
    """The statements in ``statement_file``, or the Problem that it cannot be read."""
    try:
        return read_statement_file(statement_file.data, statement_file.name, mapping)
    except StatementError as err:
        return error(str(err), "", None, "", code="bank-file-unreadable")


def _return_fee(book: Book, problems: list[Problem]) -> Decimal | None:
    """Settings Return Debit Fee, or ``None``; a value that is not an amount is a Problem."""
    raw = book.settings.extra.get(normalize("Return Debit Fee"))
    if raw is None or str(raw).strip() == "":
        return None
    try:
        fee = Decimal(str(raw).strip().replace(",", "."))
    except ArithmeticError:
        fee = Decimal(-1)
    if fee < 0 or fee.as_tuple().exponent < -2:
        problems.append(error(f"Return Debit Fee {raw!r} is not an amount; no fee is charged", "Settings",
                              book.settings.rows.get(normalize("Return Debit Fee")), "Value", code="bad-setting"))
        return None
    return fee.quantize(Decimal("0.01"))


def _return_rows(entry: BankEntry, debit: Debit, update: DebitUpdate, was_collected: bool) -> list[tuple]:
    """The Bank Payments rows of a returned debit: the collection taken back (when it had been posted)
    and the return fee, both on the invoice."""
    date = entry.booking_date or entry.value_date
    parts = [(PaymentType.RETURNED_DEBIT, debit.amount)] if was_collected else []
    if update.return_fee:
        parts.append((PaymentType.RETURN_FEE, update.return_fee))
    return [(payment_id(entry.entry_id, index, len(parts)), date, debit.invoice_no, amount, str(kind),
             "direct debit", debit.end_to_end_id, None, entry.entry_id, RETURNED_DEBIT,
             _clean(entry.counterparty_name), _clean(entry.counterparty_iban), _clean(update.return_reason))
            for index, (kind, amount) in enumerate(parts)]


def _summary(counts: Counter[str], new_rows: list[tuple], left: list[tuple], currency: str) -> dict:
    matched = {rule: counts[rule] for rule in (*RULES, DIRECT_DEBIT, "posted from review")}
    return {
        "currency": currency,
        "files": counts["files"],
        "entries_read": counts["entries read"],
        "matched": sum(matched.values()),
        "matched_by_rule": matched,
        "left_for_review": len(left),
        "new_for_review": counts["left for review"],
        "already_imported": counts["already imported"],
        "outgoing_ignored": counts["outgoing ignored"],
        "pending_not_imported": counts["pending, not imported"],
        "returned_debits": counts["returned debits"],
        "payments_posted": len(new_rows),
        "amount_posted": str(sum((row[3] for row in new_rows if row[4] == PaymentType.PAYMENT), Decimal("0.00"))),
    }


class _Invoices:
    """Every invoice by its number and by its :func:`invoice_key`, indexed when first asked (only an
    import with answers in Bank Review asks)."""

    def __init__(self, book: Book):
        self._book = book
        self._by_no: dict[str, Invoice] | None = None
        self._by_key: dict[str, Invoice] = {}

    def find(self, invoice_no: str) -> Invoice | None:
        """The invoice numbered ``invoice_no``, else the first whose number has its key, else None."""
        if self._by_no is None:
            self._by_no = {invoice.invoice_no: invoice for invoice in self._book.invoices}
            for invoice in reversed(self._book.invoices):
                self._by_key[invoice_key(invoice.invoice_no)] = invoice
        return self._by_no.get(invoice_no) or self._by_key.get(invoice_key(invoice_no))


def _answer_problem(book: Book, invoice: Invoice | None, invoice_no: str | None, customer_id: str | None) -> str | None:
    """Why the clerk's answer in Bank Review (``invoice_no`` as typed, ``invoice`` the one it names)
    cannot be posted, or ``None``."""
    if invoice_no:
        if invoice is None:
            return f"unknown invoice {invoice_no!r}: type an invoice number from the Invoices sheet"
        if invoice.kind == InvoiceKind.CREDIT_NOTE:
            return f"{invoice_no} is a credit note: name the invoice it credits, or the customer"
        if invoice.invoice_no in book.edited_invoices:
            return f"{invoice.invoice_no}'s Invoices row was edited after it was issued: restore it first"
        if customer_id and customer_id != invoice.customer_id:
            return f"{invoice_no} is an invoice of customer {invoice.customer_id}, not {customer_id}"
        return None
    if customer_id not in book.customers:
        return f"unknown customer {customer_id!r}: type a Customer ID from the Customers sheet"
    return None


def _payment_rows(match: Match) -> list[tuple]:
    """The Bank Payments rows of a match, one per allocation, in the contract's column order."""
    entry = match.entry
    date = entry.booking_date or entry.value_date
    reference = entry.structured_reference or entry.end_to_end_id
    rows = []
    for index, allocation in enumerate(match.allocations):
        rows.append((payment_id(entry.entry_id, index, len(match.allocations)), date, allocation.invoice_no,
                     allocation.amount, str(PaymentType.PAYMENT),
                     "direct debit" if match.rule == DIRECT_DEBIT else METHOD, _clean(reference),
                     allocation.customer_id if allocation.invoice_no is None else None, entry.entry_id, match.rule,
                     _clean(entry.counterparty_name), _clean(entry.counterparty_iban), _clean(entry.purpose)))
    return rows


def _review_row(values: Mapping, entry: BankEntry, reason: str, suggestions: str) -> tuple:
    """A Bank Review row for ``entry`` (the clerk's answer columns kept from ``values``)."""
    return (entry.entry_id, entry.booking_date or entry.value_date, entry.amount, _clean(entry.counterparty_name),
            _clean(entry.counterparty_iban), _clean(entry.purpose), _clean(entry.structured_reference),
            reason, suggestions, values.get("invoice_no"), values.get("customer_id"))


def _entry_of_review(values: Mapping) -> BankEntry:
    """The bank entry a Bank Review row stands for, rebuilt from its columns."""
    reference = values.get("reference")
    return BankEntry(amount=values["amount"], currency="", booking_date=values["date"],
                     counterparty_name=values.get("counterparty"), counterparty_iban=values.get("iban"),
                     purpose=values.get("purpose"), structured_reference=reference,
                     entry_id=str(values["entry_id"]))


def _clean(text: str | None) -> str | None:
    """Bank text for a cell: padding and line breaks folded to single spaces, blank as ``None``."""
    if text is None:
        return None
    folded = " ".join(str(text).split())
    return folded or None


def raw_rows(sheet: RawSheet | None, columns: Sequence) -> list[tuple]:
    """The rows of ``sheet`` as stored, reordered to ``columns`` by header (so a clerk's edits and rows
    sheetbill cannot read are written back as they were); blank rows dropped."""
    if sheet is None or not sheet.rows:
        return []
    header = {normalize(str(cell)): index for index, cell in enumerate(sheet.rows[0]) if cell is not None}
    where = [header.get(normalize(column.header)) for column in columns]
    rows = []
    for raw in sheet.rows[1:]:
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in raw):
            continue
        row = []
        for column, index in zip(columns, where, strict=True):
            cell = raw[index] if index is not None and index < len(raw) else None
            if column.kind == "date" and isinstance(cell, dt.datetime):
                cell = cell.date()
            row.append(cell)
        rows.append(tuple(row))
    return rows
