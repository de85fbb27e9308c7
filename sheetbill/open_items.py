"""What is open on each invoice, for the bank import: the ledger of one group of parties at a time.

A bank import needs the open amount of the invoices its credits name or point to -- a few thousand
of a workbook's 100,000s -- not the accounts of every party. A party's account depends on its own
items only: its invoices and credit notes, the payments booked to it, the reminders and hand-offs of
its invoices and their plans (see :mod:`sheetbill.ledger`). So :class:`OpenItems` groups the items
of the ledger (:func:`sheetbill.run.ledger_inputs`) by the parties they touch -- a credit note
touches its own and its invoice's -- and books a group with :func:`sheetbill.ledger.build_ledger`
the first time one of its invoices is asked for. The result is the full ledger's, invoice by
invoice (a test compares them); the rules stay in the ledger, in one place.

Like :func:`sheetbill.bank_import.open_items` it leaves out credit notes and invoices whose
Invoices row was edited after issue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from .bank.matching import OpenItem
from .book import Book
from .ledger import LedgerReport, build_ledger, payment_account
from .models import BillToType, Collection, Invoice, InvoiceKind, Payment, PaymentPlan, Reminder
from .run import ledger_inputs

Party = tuple[str, str | None]


class OpenItems:
    """Every invoice that can be paid, as an :class:`OpenItem`; :meth:`settle` fills in what is open.

    Before :meth:`settle`, an item's ``open`` is its issued amount and its ``due_date`` the invoice's
    (what :class:`sheetbill.bank.matching.Matcher` indexes without the ledger).
    """

    def __init__(self, book: Book):
        self.inputs = ledger_inputs(book, dt.date.max)
        self.as_of = book.settings.as_of
        inputs = self.inputs
        self.by_no: dict[str, Invoice] = {invoice.invoice_no: invoice for invoice in inputs.invoices}
        self.items: dict[str, OpenItem] = {}
        # hoisted: an enum member looked up on its class costs more than the rest of a comparison
        credit_note, customer, edited = InvoiceKind.CREDIT_NOTE, BillToType.CUSTOMER, book.edited_invoices
        for invoice in inputs.invoices:
            if invoice.kind == credit_note or invoice.invoice_no in edited:
                continue
            payer = invoice.customer_id if invoice.bill_to_type == customer else invoice.bill_to_id
            self.items[invoice.invoice_no] = OpenItem(invoice.invoice_no, payer, invoice.due_date, invoice.amount)
        self._groups = _Groups()
        parties = [(invoice.bill_to_type, invoice.bill_to_id) for invoice in inputs.invoices]  # _party of each
        join = self._groups.join
        for invoice, party in zip(inputs.invoices, parties, strict=True):
            if invoice.related:  # a credit note joins its invoice's party; every other party is its own
                join(party, self._party_of(invoice.related))
        self._payment_parties = [self._payment_party(p.invoice_no, p.customer_id) for p in inputs.payments]
        self._settled: set[Party] = set()
        self._records = _Records()
        self._sort_into_groups(parties)

    def _sort_into_groups(self, parties: list[Party]) -> None:
        """Every item of the ledger's inputs into the records of its group (``parties``: each invoice's)."""
        inputs, find, records = self.inputs, self._groups.find, self._records
        invoices, joined = records.invoices, self._groups.parent
        for invoice, party in zip(inputs.invoices, parties, strict=True):
            root = find(party) if party in joined else party  # a party never joined is its own group
            group = invoices.get(root)
            if group is None:
                invoices[root] = [invoice]
            else:
                group.append(invoice)
        for payment, party in zip(inputs.payments, self._payment_parties, strict=True):
            records.payments.setdefault(find(party), []).append(payment)
        for reminder in inputs.reminders:
            if reminder.invoice_no in self.by_no:
                records.reminders.setdefault(find(_party(self.by_no[reminder.invoice_no])), []).append(reminder)
        for collection in inputs.collections:
            if collection.invoice_no in self.by_no:
                records.collections.setdefault(find(_party(self.by_no[collection.invoice_no])), []).append(collection)
        for invoice_no, plan in inputs.plans.items():
            if invoice_no in self.by_no:
                records.plans.setdefault(find(_party(self.by_no[invoice_no])), {})[invoice_no] = plan

    def all(self) -> list[OpenItem]:
        """Every item, settled."""
        self.settle(self.items.values())
        return list(self.items.values())

    def settle(self, items: Iterable[OpenItem]) -> None:
        """Fill in the open amount, installments and oldest due date of ``items`` (and of every other
        item of their groups), booking each group not booked yet; an item settled before is left as it
        is (the import takes what it matches off it)."""
        wanted = {self._groups.find(_party(self.by_no[item.invoice_no])) for item in items}
        wanted -= self._settled
        if wanted:
            self._book(wanted)

    def _book(self, roots: set[Party]) -> None:
        group = self._records
        self._settled |= roots
        roots = {root for root in roots if not self._invoices_alone(root)}
        if not roots:
            return
        invoices = [invoice for root in roots for invoice in group.invoices.get(root, ())]
        ledger = build_ledger(invoices, [p for root in roots for p in group.payments.get(root, ())],
                              [r for root in roots for r in group.reminders.get(root, ())],
                              [c for root in roots for c in group.collections.get(root, ())],
                              {no: plan for root in roots for no, plan in group.plans.get(root, {}).items()},
                              currency=self.inputs.currency, apply_credits=self.inputs.apply_credits)
        self._fill(ledger, invoices)

    def _invoices_alone(self, root: Party) -> bool:
        """True when the group of ``root`` holds its invoices and nothing else (no credit note, payment,
        reminder, hand-off or plan), as most groups do: the ledger would book each invoice's amount,
        open from its due date, and nothing more, which its item says before it is settled."""
        records = self._records
        if root in records.payments or root in records.reminders or root in records.collections or \
                root in records.plans:
            return False
        return all(invoice.kind != InvoiceKind.CREDIT_NOTE for invoice in records.invoices.get(root, ()))

    def _fill(self, ledger: LedgerReport, invoices: list[Invoice]) -> None:
        plans = self.inputs.plans
        for invoice in invoices:
            item = self.items.get(invoice.invoice_no)
            receivable = ledger.receivables.get(invoice.invoice_no)
            if item is None or receivable is None:
                continue
            item.open, item.due_date = receivable.balance, receivable.oldest_due
            plan = plans.get(invoice.invoice_no)
            if plan is not None:
                item.installments = tuple((i.number, i.balance) for i in receivable.installments(plan, self.as_of)
                                          if i.balance > 0)

    def _party_of(self, invoice_no: str | None) -> Party | None:
        invoice = self.by_no.get(invoice_no or "")
        return _party(invoice) if invoice is not None else None

    def _payment_party(self, invoice_no: str | None, customer_id: str | None) -> Party:
        """The account a payment is booked to (:func:`sheetbill.ledger.payment_account`)."""
        return payment_account(self.by_no.get(invoice_no or ""), customer_id)


def _party(invoice: Invoice) -> Party:
    return (invoice.bill_to_type, invoice.bill_to_id)


@dataclass
class _Records:
    """The items of each group's accounts by the group's root party, in the ledger's input order (a
    group without payments, reminders, hand-offs or plans, as most are, has no entry there)."""

    invoices: dict[Party, list[Invoice]] = field(default_factory=dict)
    payments: dict[Party, list[Payment]] = field(default_factory=dict)
    reminders: dict[Party, list[Reminder]] = field(default_factory=dict)
    collections: dict[Party, list[Collection]] = field(default_factory=dict)
    plans: dict[Party, dict[str, PaymentPlan]] = field(default_factory=dict)


class _Groups:
    """Parties joined into groups whose accounts share an item (union-find)."""

    def __init__(self) -> None:
        self.parent: dict[Party, Party] = {}

    def find(self, party: Party) -> Party:
        """The root of ``party``'s group (a party never joined is its own)."""
        parent = self.parent.get(party, party)
        while parent != party:
            grand = self.parent.get(parent, parent)
            self.parent[party] = grand
            party, parent = parent, grand
        return party

    def join(self, party: Party, other: Party | None = None) -> None:
        root = self.find(party)
        if other is not None:
            other_root = self.find(other)
            if other_root != root:
                self.parent[other_root] = root

