"""Loading only what the accounts are made of: the read stage of a bank import.

A bank import asks one question of the workbook: what is open on each invoice, and who may be
paying it. :func:`load_accounts` reads the sheets that answer it -- Settings, Customers (names and
IBANs), Payments, Bank Payments, Payment Plans, Invoices, Reminders, Collections, Mandates and
Debits -- with the same contract, checks and Problems as :func:`sheetbill.book.load_book`, and
leaves out what only billing needs: Charges, Services, Payers, Coverage, Payer Codes, Contacts,
Base Rates and Invoice Lines. In a workbook of 100,000 invoices that is half the rows there are.

Customers IBANs are kept as typed, without the run's check (and its warning): the import checks
only the IBANs its credits carry (:func:`sheetbill.bank_import.payers`), not 100,000 of them.

The Seal of every Invoices row is verified as a run verifies it. An invoice whose row fails it
(someone edited an issued amount, date or party) is in ``book.edited_invoices`` and its Problem
is returned: the caller must not post money to it on the strength of edited figures. Invoice
Lines are not read, so an edited line is noticed by the next billing run, not by the import;
the amounts the import matches against are the Invoices rows', which their own seals cover.

The import reads every row itself, without the run memo: reading the rows column by column costs
less than taking them from the memo a run left (see docs/performance.md, "Bank import").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from . import contract
from .book import (
    Book,
    check_invoice_seals,
    load_settings,
    payment_record,
    plan_record,
    read_bank_payments,
    read_history,
    read_input,
)
from .mandates import read_debits, read_mandates
from .models import Collection, Customer, Invoice, Reminder
from .money import AmountPool
from .problems import Problem
from .sheets import RawSheet
from .tables import duplicate_sheets, find_sheet
from .upgrade import upgrade_reminders


def load_accounts(sheets: Mapping[str, RawSheet], *, as_of: dt.date | None = None) -> tuple[Book, list[Problem]]:
    """The Book of ``sheets`` with what the accounts need (see the module docstring) and its Problems."""
    problems: list[Problem] = duplicate_sheets(sheets, contract.INPUT_TABLES)
    settings, found = load_settings(find_sheet(sheets, contract.SETTINGS), as_of)
    problems += found
    book = Book(settings=settings, amounts=AmountPool(settings.currency))
    currency = settings.currency
    book.customers = {c.customer_id: c for c in read_input(sheets, contract.CUSTOMERS, Customer, problems)}
    book.payments = read_input(sheets, contract.PAYMENTS, payment_record, problems, currency=currency)
    book.payments += read_bank_payments(sheets, {p.payment_id for p in book.payments}, problems, currency)
    book.plans = read_input(sheets, contract.PAYMENT_PLANS, plan_record, problems)
    book.invoices, found = read_history(sheets, contract.INVOICES, Invoice, book.amounts)
    problems += found
    problems += _check_invoice_seals(book)
    book.reminders, found = read_history(sheets, contract.REMINDERS, Reminder, book.amounts)
    problems += found
    book.reminders = upgrade_reminders(book)
    book.collections, found = read_history(sheets, contract.COLLECTIONS, Collection, book.amounts)
    problems += found
    book.mandates = read_mandates(sheets, book.customers, settings.as_of, problems)
    book.debits = read_debits(sheets, problems)
    return book, problems


def _check_invoice_seals(book: Book) -> list[Problem]:
    """The Seals of the Invoices rows, as a run checks them; an edited invoice goes into
    ``book.edited_invoices``."""
    if not any(invoice.seal for invoice in book.invoices):
        return []  # history from before seals: sealed when a run writes it back
    return check_invoice_seals(book)[0]
