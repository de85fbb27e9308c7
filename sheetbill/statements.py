"""Statements of account as data: each customer's account over a period, from the ledger's items.

A statement lists what moved a customer's account from ``start`` to ``end`` (both included): the
**opening balance** (the sum of every item dated before ``start``), each item in the period with
its date, kind, reference and amount and the **running balance** after it, the **closing
balance**, the invoices still open on ``end`` (open amount and the due date of their oldest open
part) and the credit not applied to any invoice yet. Every number is a sum of
:class:`~sheetbill.ledger.AccountItem` amounts or read off the ledger's receivables; nothing is
stored, so a statement is recomputed from history whenever it is needed.

The ledger a statement is built from holds the history up to ``end`` only
(:func:`sheetbill.run.ledger_as_of`), so the closing balance is what the customer owed at the end
of that day: their open items less their unapplied credit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from .ledger import AccountItem, LedgerReport
from .models import BillToType
from .money import ZERO


@dataclass(frozen=True)
class StatementLine:
    """One item of a statement: the ledger's item and the customer's balance after it."""

    item: AccountItem
    balance: Decimal


@dataclass(frozen=True)
class OpenItem:
    """An invoice open at the end of the period: its number, dates and what is still open on it
    (principal, fees and interest)."""

    invoice_no: str
    issue_date: dt.date
    due_date: dt.date
    open: Decimal


@dataclass(frozen=True)
class Statement:
    """One customer's statement of account.

    Attributes:
        customer_id: whose account it is.
        start, end: the period, both days included.
        opening: the balance before ``start`` (positive: the customer owed that much).
        lines: the items dated in the period, in booking order, with the running balance.
        closing: the balance at the end of ``end`` (``opening`` plus the period's items).
        open_items: the invoices open at the end of ``end``, oldest due first.
        unapplied_credit: money and credit notes not placed on any invoice yet.
    """

    customer_id: str
    start: dt.date
    end: dt.date
    opening: Decimal
    lines: tuple[StatementLine, ...]
    closing: Decimal
    open_items: tuple[OpenItem, ...]
    unapplied_credit: Decimal

    @property
    def has_content(self) -> bool:
        """True when there is anything to tell: items in the period, open items or credit."""
        return bool(self.lines or self.open_items or self.unapplied_credit)


def month_start(day: dt.date) -> dt.date:
    """The first day of ``day``'s month: where a statement's period starts unless told otherwise."""
    return day.replace(day=1)


def statement_of(ledger: LedgerReport, customer_id: str, start: dt.date, end: dt.date,
                 grouped: tuple[dict, dict] | None = None) -> Statement:
    """The statement of ``customer_id``'s account from ``start`` to ``end`` (see the module docstring).

    ``grouped`` holds the ledger's items and receivables by party, when many statements are made at
    once, so each one reads only its own customer's."""
    party = (str(BillToType.CUSTOMER), customer_id)
    opening = ZERO
    lines: list[StatementLine] = []
    balance = ZERO
    items = grouped[0].get(party, ()) if grouped else ledger.items
    for item in items:
        if (item.party_type, item.party_id) != party or item.date > end:
            continue
        if item.date < start:
            opening += item.amount
            balance = opening
            continue
        balance += item.amount
        lines.append(StatementLine(item, balance))
    open_items = sorted(
        (OpenItem(r.invoice.invoice_no, r.invoice.issue_date, r.oldest_due, r.balance)
         for r in (grouped[1].get(party, ()) if grouped else ledger.receivables.values())
         if (str(r.invoice.bill_to_type), r.invoice.bill_to_id) == party and r.balance > 0),
        key=lambda o: (o.due_date, o.invoice_no))
    account = ledger.accounts.get(party)
    credit = account.unapplied_credit if account is not None else ZERO
    return Statement(customer_id, start, end, opening, tuple(lines), balance, tuple(open_items), credit)


def statements(ledger: LedgerReport, start: dt.date, end: dt.date,
               customer_ids: set[str] | None = None) -> list[Statement]:
    """The statement of every customer with items in the period, open items or credit, by customer ID.

    :param customer_ids: only these customers (``None``: every customer with an account).
    """
    ids = sorted({party_id for party_type, party_id in ledger.accounts if party_type == BillToType.CUSTOMER})
    items: dict[tuple[str, str], list] = defaultdict(list)
    for item in ledger.items:
        items[(item.party_type, item.party_id)].append(item)
    receivables: dict[tuple[str, str], list] = defaultdict(list)
    for receivable in ledger.receivables.values():
        receivables[(str(receivable.invoice.bill_to_type), receivable.invoice.bill_to_id)].append(receivable)
    made = []
    for customer_id in ids:
        if customer_ids is not None and customer_id not in customer_ids:
            continue
        statement = statement_of(ledger, customer_id, start, end, grouped=(items, receivables))
        if statement.has_content:
            made.append(statement)
    return made
