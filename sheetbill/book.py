"""Loading a workbook's sheets into typed records: the "read and validate" stage of a run.

:func:`load_book` takes the raw sheets a front end read and returns a :class:`Book` of typed
records plus the Problems found. Each table is read with the contract in :mod:`sheetbill.contract`;
then cross-references are checked (a charge's customer and service exist, a coverage's payer
exists, ...). A record with a problem is left out of the Book, so nothing downstream can bill half
of it. Only a broken configuration (a missing required column, an unusable currency) raises.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from decimal import Decimal
from functools import partial
from itertools import islice
from typing import Any

from . import contract, contract_bank
from .cells import COERCERS, MAX_AMOUNT, CellError, check_range, is_blank, normalize, to_text
from .continuations import merge_continuations
from .i18n import msg
from .mandates import Debit, Mandate, iban_reason, read_debits, read_mandates
from .memo import RunMemo
from .models import (
    BaseRate,
    Charge,
    Collection,
    Contact,
    Coverage,
    Customer,
    Invoice,
    InvoiceLine,
    Payer,
    PayerCode,
    Payment,
    PaymentPlan,
    Reminder,
    Service,
    Settings,
)
from .money import ZERO, AmountPool, is_currency_code, minor_unit
from .problems import ConfigurationError, Problem, error, warning
from .records import builder, share_values
from .rowmemo import KNOWN_SHEETS, SEAL_CHAINS, SEALS_VERIFIED, TableMemo, read_table_memo, seal_findings
from .seals import (
    INVOICE_SEALED,
    INVOICE_TAX_SEALED,
    LINE_SEALED,
    LINE_TAX_SEALED,
    Finding,
    invoice_order,
    line_order,
)
from .sheets import RawSheet
from .tables import ReadsAlike, duplicate_sheets, find_sheet, iter_records, read_table
from .tax import LineTax, check_tax_ids, invoice_tax_breakdown, resolve_service_tax, workbook_is_taxed
from .upgrade import upgrade_lines, upgrade_reminders

_SETTING_BY_KEY = {normalize(name): (name, *spec) for name, spec in contract.SETTING_FIELDS.items()}


@dataclass
class Book:
    """Everything a run knows, typed and cross-checked.

    Attributes:
        settings: the Settings sheet.
        customers, payers, services: by ID.
        coverage: Coverage rows whose customer and payer exist.
        payer_codes: by (payer ID, service code).
        charges: valid charges, in sheet order.
        charge_ids_skipped: the Charge IDs on the Charges sheet that are no valid charge this run (rows
            with problems), so that a charge with a typo is not taken for a deleted one.
        payments, plans, contacts: the clerk's records.
        amounts: the run's pool of shared amounts (see :class:`sheetbill.money.AmountPool`).
        invoices, lines: the issued history read back from the Invoices and Invoice Lines sheets.
        reminders, collections: the overdue-tracking history read back from the Reminders and
            Collections sheets (the dunning state).
        edited_invoices: invoices whose Invoices row, or one of whose lines, no longer matches its Seal:
            no reminder, hand-off or document is made for them until the row is restored.
        edited_charges: Charge IDs of edited lines: billing treats them as unchanged until restored.
        trusted: for each edited Invoices row, the invoice as the run computes with it (Amount = the
            sum of its lines), or None when its lines are edited too (it is left out of the ledger).
        taxes: in a taxed workbook (:func:`sheetbill.tax.workbook_is_taxed`), the tax of each service's
            lines by service code; empty in an untaxed one (nothing is taxed).
        mandates, debits: SEPA direct-debit mandates (Mandates) and the items sent for debit (Debits).
        history_as_left: the Invoices and Invoice Lines are exactly as the run that kept the memo this
            run read them with left them (:attr:`sheetbill.rowmemo.TableMemo.as_left`); False without a memo.
        lines_kept: how many of the first ``lines`` are the Invoice Lines sheets' rows as read, each
            in its place and written back as it is (every row a line, none upgraded, each with its
            Seal); 0 when that does not hold (see :class:`sheetbill.sheets.KeptRows`).
    """

    settings: Settings
    customers: dict[str, Customer] = field(default_factory=dict)
    payers: dict[str, Payer] = field(default_factory=dict)
    coverage: list[Coverage] = field(default_factory=list)
    services: dict[str, Service] = field(default_factory=dict)
    payer_codes: dict[tuple[str, str], PayerCode] = field(default_factory=dict)
    charges: list[Charge] = field(default_factory=list)
    charge_ids_skipped: set[str] = field(default_factory=set)
    payments: list[Payment] = field(default_factory=list)
    plans: list[PaymentPlan] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    base_rates: list[BaseRate] = field(default_factory=list)
    amounts: AmountPool = field(default_factory=lambda: AmountPool("EUR"))
    invoices: list[Invoice] = field(default_factory=list)
    lines: list[InvoiceLine] = field(default_factory=list)
    reminders: list[Reminder] = field(default_factory=list)
    collections: list[Collection] = field(default_factory=list)
    edited_invoices: set[str] = field(default_factory=set)
    edited_charges: set[str] = field(default_factory=set)
    trusted: dict[str, Invoice | None] = field(default_factory=dict)
    taxes: dict[str, LineTax] = field(default_factory=dict)
    mandates: list[Mandate] = field(default_factory=list)
    debits: list[Debit] = field(default_factory=list)
    history_as_left: bool = False
    lines_kept: int = 0

    @property
    def taxed(self) -> bool:
        """True when this run's lines carry tax (some service has a :class:`~sheetbill.tax.LineTax`)."""
        return bool(self.taxes)

    def computed_invoices(self) -> list[Invoice]:
        """The issued invoices as a run computes with them: nothing that was edited (see ``trusted``)."""
        if not self.trusted:
            return self.invoices
        kept = (self.trusted[inv.invoice_no] if inv.invoice_no in self.trusted else inv for inv in self.invoices)
        return [inv for inv in kept if inv is not None]


def load_settings(sheet: RawSheet | None, as_of: dt.date | None) -> tuple[Settings, list[Problem]]:
    """Read the Settings sheet (``Setting`` / ``Value`` rows).

    Unknown settings are kept in ``Settings.extra`` by normalized name, for plugins. A bad value is
    a Problem and the default is used, except for the currency, which no run can do without. A
    setting named twice is a warning; the later row counts (a blank later row unsets it).
    """
    values: dict[str, Any] = {}
    extra: dict[str, object] = {}
    rows: dict[str, int] = {}
    problems: list[Problem] = []
    for item in iter_records(sheet, contract.SETTINGS):
        if isinstance(item, Problem):
            problems.append(item)
            continue
        key = normalize(item.values["setting"])
        raw_value = item.values.get("value")
        if key in rows:
            problems.append(warning(msg("{setting} is set again (first on row {row}); this later row is used",
                                        setting=item.values['setting'], row=rows[key]),
                                    "Settings", item.row, "Setting", code="setting-repeated"))
        rows[key] = item.row
        known = _SETTING_BY_KEY.get(key)
        if known is None:
            extra[key] = raw_value
            continue
        name, attribute, kind, _ = known
        if raw_value is None or is_blank(raw_value):
            values.pop(attribute, None)  # a later blank row unsets an earlier one
            continue
        try:
            value = COERCERS[kind](raw_value)
            low, high = contract.SETTING_RANGES.get(name, (None, None))
            check_range(value, kind, high, low)
            values[attribute] = value
        except CellError as err:
            problems.append(error(msg("{setting}: {problem}; the default is used", setting=name, problem=err.message),
                                  "Settings", item.row, "Value",
                                  code="bad-setting"))
    currency = str(values.get("currency", "EUR")).upper()
    if not is_currency_code(currency):
        raise ConfigurationError(
            f"Settings: Currency {currency!r} is not an ISO 4217 code such as EUR or USD",
            [error(msg("not an ISO 4217 currency code"), "Settings", rows.get("currency"), "Value",
                   code="bad-currency")],
        )
    values["currency"] = currency
    if as_of is not None:
        values["as_of"] = as_of
    settings = Settings(**values, extra=extra, rows=rows)
    if not settings.reminder_days or any(days < 0 for days in settings.reminder_days):
        problems.append(error(msg("Reminder Days must be whole numbers of days, e.g. 14, 14, 14; the default is used"),
                              "Settings", rows.get("reminderdays"), "Value", code="bad-setting"))
        settings = replace(settings, reminder_days=Settings().reminder_days)
    for key, message, code, severity in check_tax_ids(settings):
        make = error if severity == "error" else warning
        problems.append(make(message + ("; it is not printed" if severity == "error" else ""), "Settings",
                             rows.get(key), "Value", code=code))
        if severity == "error" and key == "vatid":
            settings = replace(settings, vat_id=None)
    return settings, problems


def load_book(sheets: Mapping[str, RawSheet], *, as_of: dt.date | None = None,
              memo: RunMemo | None = None) -> tuple[Book, list[Problem]]:
    """Read and cross-check every input table, and the issued history, from ``sheets``.

    One sheet at a time, each let go once parsed: with a front end that reads sheets on demand, the
    cells of a million charges and of the history are never held at the same time. With ``memo`` (the
    last run's, see :mod:`sheetbill.memo`), blocks of rows unchanged since are not parsed again, and
    ``memo.tables`` is replaced by this run's blocks; the Book and Problems are the same either way.
    """
    problems: list[Problem] = duplicate_sheets(sheets, contract.INPUT_TABLES)
    settings, found = load_settings(find_sheet(sheets, contract.SETTINGS), as_of)
    problems += found
    book = Book(settings=settings, amounts=AmountPool(settings.currency))
    rows = TableMemo(memo.tables, memo.extras.get(SEALS_VERIFIED), memo.extras.get(KNOWN_SHEETS)) \
        if memo is not None else None
    problems += _load_parties(book, sheets, rows)
    problems += _load_charges(book, sheets, rows)
    problems += _load_history(book, sheets, rows)
    if memo is not None and rows is not None:
        book.history_as_left = {contract.INVOICES.name, contract.INVOICE_LINES.name} <= rows.as_left
        memo.tables = rows.kept
        memo.extras[SEALS_VERIFIED] = rows.verified_now
        memo.extras[KNOWN_SHEETS] = rows.known_now
        memo.own[SEAL_CHAINS] = rows.chains
    book.mandates = read_mandates(sheets, book.customers, settings.as_of, problems)
    book.debits = read_debits(sheets, problems)
    return book, problems


#: Amounts that are money as such (not unit prices, which may carry more digits than the currency):
#: more decimals than the currency's minor unit is a typo to report, never something to round away.
_EXACT_AMOUNTS = {
    "Payments": ("amount",),
    "Bank Payments": ("amount",),
    "Coverage": ("copay", "annual_deductible", "out_of_pocket_max", "annual_budget"),
    "Payer Codes": ("allowed_amount", "copay"),
}


def read_input(sheets: Mapping[str, RawSheet], spec, factory, problems: list[Problem],
           sheet: RawSheet | None = None, currency: str = "EUR", memo: TableMemo | None = None) -> list[Any]:
    """The records of one input table (unchanged blocks of rows from ``memo``); its Problems are added to
    ``problems``. A record whose amount has more decimals than the currency allows (79.996 EUR) is
    left out whole, with a Problem."""
    sheet = sheet or find_sheet(sheets, spec)
    records, found = (read_table(sheet, spec, factory) if memo is None
                      else read_table_memo(sheet, spec, factory, memo, ""))
    problems.extend(found)
    exact = _EXACT_AMOUNTS.get(spec.name)
    if not exact:
        return records
    places = minor_unit(currency)
    headers = {f.name: f.header for f in spec.fields}
    kept = []
    for record in records:
        bad = [name for name in exact if (value := getattr(record, name)) is not None
               and value.normalize().as_tuple().exponent < -places]
        for name in bad:
            problems.append(error(msg("{amount} has more than {places} decimals, the smallest unit of {currency}: "
                                      "correct the amount", amount=str(getattr(record, name)), places=places,
                                      currency=currency), spec.name, record.row, headers[name],
                                  code="too-many-decimals"))
        if not bad:
            kept.append(record)
    return kept


def _load_parties(book: Book, sheets: Mapping[str, RawSheet], memo: TableMemo | None = None) -> list[Problem]:
    """Customers, Payers, Services, Coverage and Payer Codes, cross-checked."""
    problems: list[Problem] = []
    currency = book.settings.currency
    book.customers = {c.customer_id: checked_iban(c, problems)
                      for c in read_input(sheets, contract.CUSTOMERS, Customer, problems, memo=memo)}
    book.payers = {p.payer_id: p for p in read_input(sheets, contract.PAYERS, Payer, problems, memo=memo)}
    book.services = {s.service_code: s for s in read_input(sheets, contract.SERVICES, Service, problems, memo=memo)}
    problems += _resolve_taxes(book)
    for coverage in read_input(sheets, contract.COVERAGE, Coverage, problems, currency=currency, memo=memo):
        if coverage.customer_id not in book.customers:
            problems.append(error(msg("unknown customer {customer}", customer=repr(coverage.customer_id)), "Coverage",
                                  coverage.row,
                                  "Customer ID", code="unknown-customer"))
        elif coverage.payer_id not in book.payers:
            problems.append(error(msg("unknown payer {payer}", payer=repr(coverage.payer_id)), "Coverage",
                                  coverage.row, "Payer ID",
                                  code="unknown-payer"))
        elif coverage.valid_from and coverage.valid_to and coverage.valid_to < coverage.valid_from:
            problems.append(error(msg("Valid To is before Valid From"), "Coverage", coverage.row, "Valid To",
                                  code="coverage-dates-reversed"))
        else:
            book.coverage.append(coverage)
    for code in read_input(sheets, contract.PAYER_CODES, PayerCode, problems, currency=currency, memo=memo):
        if code.payer_id not in book.payers:
            problems.append(error(msg("unknown payer {payer}", payer=repr(code.payer_id)), "Payer Codes", code.row,
                                  "Payer ID",
                                  code="unknown-payer"))
        elif code.service_code not in book.services:
            problems.append(error(msg("unknown service {service}", service=repr(code.service_code)), "Payer Codes",
                                  code.row,
                                  "Service Code", code="unknown-service"))
        else:
            book.payer_codes[(code.payer_id, code.service_code)] = code
    return problems


def checked_iban(customer: Customer, problems: list[Problem]) -> Customer:
    """``customer`` with its IBAN, or without it (and a warning) when the IBAN is not valid: the IBAN
    only serves to recognise the customer's bank payments, so a typo there must neither match
    someone else's payments nor keep the customer from being billed."""
    why = iban_reason(customer.iban) if customer.iban else None
    if why is None:
        return customer
    problems.append(warning(msg("IBAN {iban} {why}: it is not used to recognise this customer's bank payments "
                                "until it is corrected", iban=repr(customer.iban), why=why),
                            contract.CUSTOMERS.name, customer.row, "IBAN", code="bad-customer-iban"))
    return replace(customer, iban=None)


def _resolve_taxes(book: Book) -> list[Problem]:
    """The tax of every service's lines, in a taxed workbook; a service whose tax cannot be told is
    left out (its charges are not billed) with an error naming the column."""
    if not workbook_is_taxed(book.settings, book.services.values()):
        return []
    problems: list[Problem] = []
    for code, service in list(book.services.items()):
        line_tax, found = resolve_service_tax(service, book.settings)
        make = warning if line_tax is not None else error
        for column, message, problem_code in found:
            if not column:  # a Default Tax setting is wrong
                problems.append(make(message, "Settings", book.settings.rows.get("defaulttaxcategory"), "Value",
                                     code=problem_code))
            else:
                problems.append(make(message + ("" if line_tax is not None else "; its charges are not billed"),
                                     "Services", service.row, column, code=problem_code))
        if line_tax is None:
            del book.services[code]
        else:
            book.taxes[code] = line_tax
    return problems


def _load_charges(book: Book, sheets: Mapping[str, RawSheet], memo: TableMemo | None = None) -> list[Problem]:
    """Charges (cross-checked), Payments, Payment Plans and Contacts."""
    problems: list[Problem] = []
    currency = book.settings.currency
    charges_sheet = find_sheet(sheets, contract.CHARGES)
    present = _ids_in_column(charges_sheet, "Charge ID")
    charges = read_input(sheets, contract.CHARGES, Charge, problems, charges_sheet, memo=memo)
    del charges_sheet
    for charge in charges:
        if charge.customer_id not in book.customers:
            problems.append(error(msg("unknown customer {customer}: add the customer first",
                                      customer=repr(charge.customer_id)),
                                  "Charges", charge.row, "Customer ID", code="unknown-customer"))
        elif charge.service_code not in book.services:
            problems.append(error(msg("unknown service {service}: add it to Services",
                                      service=repr(charge.service_code)),
                                  "Charges", charge.row, "Service Code", code="unknown-service"))
        elif _line_too_large(book, charge):
            problems.append(error(msg("quantity x price is {amount}, too large for a cell to hold exactly (at most "
                                      "{most})", amount=f"{_line_too_large(book, charge):.15g}",
                                      most=f"{MAX_AMOUNT - 1:,}"), "Charges", charge.row, "Quantity",
                                  code="out-of-range"))
        else:
            book.charges.append(charge)
    share_values(book.charges, "customer_id", {customer_id: customer_id for customer_id in book.customers})
    for charge in book.charges:
        present.discard(charge.charge_id)
    book.charge_ids_skipped = set(present)  # a copy the size of what is left: a few, not a million
    del present
    book.payments = read_input(sheets, contract.PAYMENTS, payment_record, problems, currency=currency, memo=memo)
    book.payments += read_bank_payments(sheets, {p.payment_id for p in book.payments}, problems, currency, memo)
    book.plans = read_input(sheets, contract.PAYMENT_PLANS, plan_record, problems, memo=memo)
    book.base_rates = read_input(sheets, contract.BASE_RATES, BaseRate, problems, memo=memo)
    for contact in read_input(sheets, contract.CONTACTS, Contact, problems, memo=memo):
        if contact.customer_id not in book.customers:
            problems.append(warning(msg("unknown customer {customer}", customer=repr(contact.customer_id)), "Contacts",
                                    contact.row,
                                    "Customer ID", code="unknown-customer"))
        book.contacts.append(contact)
    return problems


def _line_too_large(book: Book, charge: Charge) -> Decimal | None:
    """Price x quantity when it reaches :data:`~sheetbill.cells.MAX_AMOUNT` (an invoice line no cell
    holds exactly, so history could not give it back), else None."""
    price = charge.price if charge.price is not None else book.services[charge.service_code].price
    total = abs(price * charge.quantity)
    return total if total >= MAX_AMOUNT else None


def payment_record(**values: Any) -> Payment:
    """A Payments row; Invoice No may be blank (the Customer ID then says whose it is)."""
    return Payment(**({"invoice_no": None} | values))


def plan_record(**values: Any) -> PaymentPlan:
    """A Payment Plans row; Installments may be blank when Shares are given."""
    return PaymentPlan(**({"installments": None} | values))


_BANK_ONLY = ("entry_id", "rule", "counterparty", "iban", "purpose")


def _bank_payment(**values: Any) -> Payment:
    """A Bank Payments row as a payment (the bank's details stay on the sheet)."""
    for name in _BANK_ONLY:
        values.pop(name, None)
    return Payment(**({"invoice_no": None} | values), sheet=contract_bank.BANK_PAYMENTS_SHEET)


def read_bank_payments(sheets: Mapping[str, RawSheet], taken: set[str], problems: list[Problem],
                   currency: str, memo: TableMemo | None = None) -> list[Payment]:
    """The Bank Payments rows (written by ``sheetbill import-bank``), booked like Payments rows; a row
    whose Payment ID is also on the Payments sheet is left out, with a Problem."""
    kept = []
    for payment in read_input(sheets, contract_bank.BANK_PAYMENTS, _bank_payment, problems, currency=currency,
                              memo=memo):
        if payment.payment_id in taken:
            problems.append(error(msg("Payment ID {payment_id} is also on the Payments sheet; this row is not booked",
                                      payment_id=repr(payment.payment_id)), contract_bank.BANK_PAYMENTS_SHEET,
                                  payment.row, "Payment ID", code="duplicate-key"))
        else:
            kept.append(payment)
    return kept


def _load_history(book: Book, sheets: Mapping[str, RawSheet], memo: TableMemo | None = None) -> list[Problem]:
    """The issued history: invoices, lines, reminders, hand-offs (0.1.0's form upgraded on the way)."""
    problems: list[Problem] = []
    book.invoices, found = read_history(sheets, contract.INVOICES, Invoice, book.amounts, memo)
    problems += found
    book.lines, found = read_history(sheets, contract.INVOICE_LINES, InvoiceLine, book.amounts, memo)
    problems += found
    read, lines_read_whole = book.lines, not found
    problems += check_seals(book, memo)
    issued = {invoice.invoice_no for invoice in book.invoices}
    orphans: dict[str, int] = {}
    for line in book.lines:
        if line.invoice_no not in issued:
            orphans.setdefault(line.invoice_no, line.row)
    for invoice_no, row in orphans.items():
        problems.append(error(msg("invoice {invoice_no} has lines but is missing from the Invoices sheet (this sheet "
                                  "is written by sheetbill: undo the deletion)", invoice_no=invoice_no),
                              contract.INVOICE_LINES_SHEET, row, "Invoice No", code="deleted-history"))
    book.reminders, found = read_history(sheets, contract.REMINDERS, Reminder, book.amounts, memo)
    problems += found
    book.lines = upgrade_lines(book.lines)
    if lines_read_whole and all(map(_seal_of, read)) and all(map(operator.is_, read, book.lines)):
        book.lines_kept = len(read)
    book.reminders = upgrade_reminders(book)
    book.collections, found = read_history(sheets, contract.COLLECTIONS, Collection, book.amounts, memo)
    problems += found
    return problems


_seal_of = operator.attrgetter("seal")


def _then(read: Callable[[Any], Any], spell: Callable[[Any], Any], cell: Any) -> Any:
    return spell(read(cell))


def history_reading(spec, factory, amounts: AmountPool) -> tuple[Callable[..., Any], dict[str, ReadsAlike], str]:
    """How :func:`read_history` reads ``spec``'s rows into ``factory`` records: the record builder, the
    reads of its amount and quantity columns, and the memo context (see
    :func:`sheetbill.rowmemo.read_table_memo`).

    An empty history cell is None, whatever the record's default: those fields default to None in the
    builder's twin class. Amounts and quantities are given the run's shared spelling as they are read.
    """
    in_spec = {f.name for f in spec.fields}
    blank = frozenset(f.name for f in fields(factory) if f.default is MISSING and f.name in in_spec)
    reads: dict[str, ReadsAlike] = {}
    for fld in spec.fields:
        if fld.kind == "money":
            reads[fld.name] = ReadsAlike(partial(_then, fld.read, amounts.money))
        elif fld.kind == "decimal":
            reads[fld.name] = ReadsAlike(partial(_then, fld.read, amounts.number))
    return builder(factory, blank), reads, f"{factory.__qualname__}|{amounts.currency}"


def read_history(sheets: Mapping[str, RawSheet], spec, factory, amounts: AmountPool,
             memo: TableMemo | None = None) -> tuple[list[Any], list[Problem]]:
    """Read an output sheet back as history; its problems are errors too (someone edited it).

    Amounts come back as floats (``80.0``); they are given the spelling a run computes
    (``Decimal('80.00')``, quantities ``1``), so history is written back exactly as it was and an
    unchanged sheet is recognised as unchanged.
    """
    sheet = merge_continuations(sheets, spec.name)
    make, reads, context = history_reading(spec, factory, amounts)
    records, problems = (read_table(sheet, spec, make, reads) if memo is None else
                         read_table_memo(sheet, spec, make, memo, context, reads))
    problems = [replace(problem, message=f"{problem.message} (this sheet is written by sheetbill: undo the edit)",
                        code="edited-history") for problem in problems]
    return records, problems


def check_seals(book: Book, memo: TableMemo | None = None) -> list[Problem]:
    """Verify the Seal of every sealed Invoices and Invoice Lines row (see :mod:`sheetbill.seals`).

    An edited row is an ``edited-history`` error naming its column; its invoice goes into
    ``book.edited_invoices`` (and an edited line's charge into ``book.edited_charges``). A row whose
    predecessor was deleted is a ``deleted-history`` error. Rows without a Seal (history from before
    seals) are trusted as read; they are sealed when written back. With ``memo``, a prefix of history
    that verified in the last run and is unchanged since is not checked again
    (:func:`sheetbill.rowmemo.seal_findings`).
    """
    places = minor_unit(book.settings.currency)
    if not any(inv.seal for inv in book.invoices) and not any(line.seal for line in book.lines):
        return []  # history from before seals: sealed when written back
    line_columns = LINE_SEALED + LINE_TAX_SEALED
    problems, edited_rows = check_invoice_seals(book, memo)
    edited_lines: set[str] = set()
    for finding in seal_findings(contract.INVOICE_LINES_SHEET, book.lines, LINE_SEALED, LINE_TAX_SEALED,
                                 line_order(book.invoices, book.lines), places, memo):
        line = book.lines[finding.index]
        problems += seal_problems(finding, contract.INVOICE_LINES_SHEET, line.row, line.invoice_no, line_columns)
        if finding.kind == "edited":
            book.edited_invoices.add(line.invoice_no)
            edited_lines.add(line.invoice_no)
            if line.charge_id:
                book.edited_charges.add(line.charge_id)
    if edited_rows:
        edited_lines_of: dict[str, list[InvoiceLine]] = {}
        for line in book.lines:
            if line.invoice_no in edited_rows:
                edited_lines_of.setdefault(line.invoice_no, []).append(line)
        for invoice in book.invoices:
            if invoice.invoice_no in edited_rows:
                book.trusted[invoice.invoice_no] = _trusted(invoice, edited_lines_of, edited_lines,
                                                           book.settings.currency)
    return problems


def check_invoice_seals(book: Book, memo: TableMemo | None = None) -> tuple[list[Problem], set[str]]:
    """The Seals of the Invoices rows (part of :func:`check_seals`): the Problems, and the invoices whose
    rows were edited (also added to ``book.edited_invoices``)."""
    columns = INVOICE_SEALED + INVOICE_TAX_SEALED
    problems: list[Problem] = []
    edited: set[str] = set()
    for finding in seal_findings(contract.INVOICES_SHEET, book.invoices, INVOICE_SEALED, INVOICE_TAX_SEALED,
                                 invoice_order(book.invoices), minor_unit(book.settings.currency), memo):
        invoice = book.invoices[finding.index]
        problems += seal_problems(finding, contract.INVOICES_SHEET, invoice.row, invoice.invoice_no, columns)
        if finding.kind == "edited":
            book.edited_invoices.add(invoice.invoice_no)
            edited.add(invoice.invoice_no)
    return problems, edited


def _trusted(invoice: Invoice, lines: Mapping[str, list[InvoiceLine]], edited_lines: set[str],
             currency: str) -> Invoice | None:
    """An edited Invoices row as computed with: its Amount is always the sum of its lines (and its Net and
    Tax their tax breakdown), so those are used; None when its lines are edited too or it has none
    (nothing unedited says what it was)."""
    own = lines.get(invoice.invoice_no)
    if not own or invoice.invoice_no in edited_lines:
        return None
    amount = sum((line.amount for line in own), ZERO)
    breakdown = invoice_tax_breakdown(own, currency)
    if breakdown is None:
        return replace(invoice, amount=amount, net=None, tax=None)
    return replace(invoice, amount=amount, net=breakdown.net, tax=breakdown.tax)


def seal_problems(finding: Finding, sheet: str, row: int, invoice_no: str,
                   sealed: tuple[tuple[str, str, str], ...]) -> list[Problem]:
    """The Problems of one row whose Seal does not verify."""
    if finding.kind == "deleted":
        return [error(msg("the row issued before this one is missing from {sheet} (deleted?): this sheet is written "
                          "by sheetbill; undo the deletion, or copy the row back from a copy of the workbook made "
                          "before the deletion (the <workbook>.bak a run keeps is the workbook as it was before that "
                          "run)", sheet=sheet), sheet, row, "", code="deleted-history")]
    restore = msg("undo the edit, or copy the row back from a copy of the workbook made before the edit (the "
                  "<workbook>.bak a run keeps is the workbook as it was before that run); until it is restored, "
                  "{invoice_no} is computed without the edit and gets no reminder, hand-off or document",
                  invoice_no=invoice_no)
    if not finding.columns:
        return [error(msg("this row was changed after it was issued (its Seal no longer matches): {restore}",
                          restore=restore), sheet, row, "", code="edited-history")]
    headers = [sealed[i][1] if i < len(sealed) else "Seal" for i in finding.columns]
    return [error(msg("{column} was changed after the row was issued (its Seal no longer matches): {restore}",
                      column=header, restore=restore), sheet, row, header, code="edited-history")
            for header in headers]


def _ids_in_column(sheet: RawSheet | None, header: str) -> set[str]:
    """Every non-blank value of one column, as text."""
    if sheet is None or not sheet.rows:
        return set()
    wanted = normalize(header)
    index = next((i for i, cell in enumerate(sheet.rows[0]) if normalize(cell) == wanted), None)
    if index is None:
        return set()
    ids: set[str] = set()
    for row in islice(sheet.rows, 1, None):  # is_blank and to_text, inline for text: once per charge
        value = row[index] if index < len(row) else None
        if value.__class__ is str:
            value = value.strip()
            if value:
                ids.add(value)
        elif value is not None and not is_blank(value):
            ids.add(to_text(value))
    return ids

