"""The open-item ledger: every party's account as items, and which credit paid which debit.

:func:`build_ledger` replays, in date order, everything that moves money on an account: invoices
issued, reminder fees and interest booked (from the Reminders and Collections history), payments,
write-offs, transfers, refunds and credit notes. Each credit is **allocated** to debit parts
(§ 366/367 BGB): first to the invoice it names, and within an invoice to the fees, then the
interest, then the principal (a payment plan's installments oldest first). What a credit cannot
place is the party's **unapplied credit**; with Apply Credits ``automatic`` (the default) it is
applied to the party's oldest open items as soon as there are any, with ``manual`` it waits for
the clerk. Interest accrued but not booked is never paid by an allocation: it keeps accruing on the
principal that remains.

The result, a :class:`LedgerReport`, is the only source of invoice and account balances: on every
invoice ``Balance = Amount + Fees + Interest - Paid - Credited - Written Off - Transferred``, and
an account's Balance is the sum of its invoices' balances minus its unapplied credit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from .book import Book
from .dunning import Installment, installment_status, plan_schedule
from .i18n import Money, msg
from .models import (
    BillToType,
    Collection,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentPlan,
    PaymentType,
    Reminder,
)
from .money import ZERO
from .problems import Problem, error, warning


class SourceType(StrEnum):
    """What an allocation's money came from (the Allocations sheet's Source Type)."""

    PAYMENT = "Payment"
    CREDIT_NOTE = "Credit Note"
    CREDIT = "Credit"
    WRITE_OFF = "Write-off"
    TRANSFER = "Transfer"


class Part(StrEnum):
    """Which part of an invoice an allocation pays (the order of § 367 BGB)."""

    FEE = "Fee"
    INTEREST = "Interest"
    PRINCIPAL = "Principal"


class ApplyCredits(StrEnum):
    """The Apply Credits setting."""

    AUTOMATIC = "automatic"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Allocation:
    """One amount of one credit placed on one part of one invoice: a row of the Allocations sheet."""

    date: dt.date
    source_type: SourceType
    source: str
    invoice_no: str
    installment: int | None
    part: Part
    amount: Decimal


@dataclass(frozen=True, slots=True)
class AccountItem:
    """One item of a party's account, as a statement of account lists it.

    ``amount`` is positive for what the party owes more (an invoice, a fee, interest, a refund paid out
    to them) and negative for what reduces it (a payment, a credit note, a write-off, a transfer).
    ``kind`` is ``Invoice``, ``Fee``, ``Interest``, ``Credit Note``, ``Payment``, ``Refund``,
    ``Write-off`` or ``Transfer``; ``reference`` the invoice number or the Payment ID.
    """

    date: dt.date
    party_type: str
    party_id: str
    kind: str
    reference: str
    invoice_no: str | None
    amount: Decimal


@dataclass(slots=True)
class Receivable:
    """An invoice as an open item: what was charged on it and what was allocated to it.

    ``principal`` holds the open principal per installment (one entry without a plan), in due-date
    order; ``timeline`` the open principal after each change, for interest accrued day by day.
    """

    invoice: Invoice
    fees: Decimal = ZERO
    interest: Decimal = ZERO
    fees_open: Decimal = ZERO
    interest_open: Decimal = ZERO
    principal: list[list] = field(default_factory=list)  # [due date, installment no or None, open, amount]
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    credit_notes: Decimal = ZERO
    written_off: Decimal = ZERO
    transferred: Decimal = ZERO
    timeline: list[tuple[dt.date, Decimal]] = field(default_factory=list)

    @property
    def principal_open(self) -> Decimal:
        """The principal not paid yet."""
        return sum((part[2] for part in self.principal), ZERO)

    @property
    def balance(self) -> Decimal:
        """Amount + Fees + Interest - everything allocated."""
        return self.principal_open + self.fees_open + self.interest_open

    @property
    def oldest_due(self) -> dt.date:
        """The due date of the oldest part still open (fees and interest count from the invoice's)."""
        open_parts = [part[0] for part in self.principal if part[2] > 0]
        return min(open_parts) if open_parts else self.invoice.due_date

    def installments(self, plan: PaymentPlan, as_of: dt.date) -> list[Installment]:
        """The plan's installments as the ledger allocated to them: amount, paid, open and status on
        ``as_of`` (Overdue when past due with something open)."""
        result = []
        for due, number, open_amount, amount in self.principal:
            paid = amount - open_amount
            status = installment_status(open_amount, paid, due, as_of)
            result.append(Installment(plan.plan_id, self.invoice.invoice_no, number, len(self.principal), due,
                                      amount, paid, open_amount, status))
        return result

    @property
    def status(self) -> InvoiceStatus:
        """The status, always consistent with the balance."""
        invoice = self.invoice
        if self.balance > 0:
            touched = self.paid or self.credited or self.written_off or self.transferred
            return InvoiceStatus.PARTIALLY_PAID if touched else InvoiceStatus.OPEN
        if self.credit_notes >= invoice.amount > 0 and not self.paid:
            return InvoiceStatus.CANCELLED
        if self.paid or self.credited:
            return InvoiceStatus.PAID
        if self.written_off:
            return InvoiceStatus.WRITTEN_OFF
        if self.transferred:
            return InvoiceStatus.TRANSFERRED
        return InvoiceStatus.PAID


@dataclass(slots=True)
class PartyAccount:
    """A customer's or payer's account: the sums of its items and its unapplied credit."""

    party_type: BillToType
    party_id: str
    invoiced: Decimal = ZERO
    fees: Decimal = ZERO
    interest: Decimal = ZERO
    paid: Decimal = ZERO
    credited: Decimal = ZERO
    written_off: Decimal = ZERO
    transferred: Decimal = ZERO
    credit: list[list] = field(default_factory=list)  # FIFO of [source type, source, amount]

    @property
    def unapplied_credit(self) -> Decimal:
        """Money and credit notes not placed on any invoice yet."""
        return sum((entry[2] for entry in self.credit), ZERO)


@dataclass
class LedgerReport:
    """The accounts after every item up to the as-of date.

    Attributes:
        receivables: every invoice (not credit notes) as an open item, by invoice number.
        accounts: every party's account, by (party type, party ID).
        allocations: every allocation, in the order they were made.
        items: every account item in booking order (what a statement of account lists).
        plans: the valid payment plans, by invoice number.
        problems, advice: what the clerk should know or do.
    """

    receivables: dict[str, Receivable] = field(default_factory=dict)
    accounts: dict[tuple[str, str], PartyAccount] = field(default_factory=dict)
    allocations: list[Allocation] = field(default_factory=list)
    items: list[AccountItem] = field(default_factory=list)
    plans: dict[str, PaymentPlan] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    advice: list[tuple[str, str, str, str]] = field(default_factory=list)

    def account_of(self, invoice: Invoice) -> PartyAccount:
        """The account ``invoice`` is an item of."""
        return self.accounts[(invoice.bill_to_type, invoice.bill_to_id)]

    def account_balances(self) -> dict[tuple[str, str], Decimal]:
        """What each party owes in all: its open items less its unapplied credit (negative: in credit)."""
        owed: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        for receivable in self.receivables.values():
            owed[(receivable.invoice.bill_to_type, receivable.invoice.bill_to_id)] += receivable.balance
        return {key: owed[key] - account.unapplied_credit for key, account in self.accounts.items()}


@dataclass(frozen=True)
class _Event:
    """Something that moves money on an account, in replay order."""

    date: dt.date
    order: int  # 0 invoices issued, 1 fees and interest booked, 2 credit notes, 3 money
    sequence: int
    kind: str
    record: object


def valid_payments(book: Book, invoices: Mapping[str, Invoice], problems: list[Problem]) -> list[Payment]:
    """The Payments rows that can be booked; the others reported on their cell and left out whole.

    A row names an invoice, or (type Payment or Refund) a customer; a write-off or transfer needs the
    invoice it is for; a Customer ID next to an Invoice No must be that invoice's customer.
    """
    valid = []
    for payment in book.payments:
        invoice = invoices.get(payment.invoice_no or "")
        kind = payment.type or PaymentType.PAYMENT
        if payment.invoice_no and invoice is None:
            problems.append(error(msg("unknown invoice {invoice_no}", invoice_no=repr(payment.invoice_no)),
                                  payment.sheet, payment.row, "Invoice No", code="unknown-invoice"))
        elif not payment.invoice_no and not payment.customer_id:
            problems.append(error(msg("a payment needs the Invoice No it pays or the Customer ID who paid"),
                                  payment.sheet, payment.row, "Invoice No", code="payment-unassigned"))
        elif not payment.invoice_no and kind in (PaymentType.WRITE_OFF, PaymentType.TRANSFER_TO_CUSTOMER,
                                                 PaymentType.RETURNED_DEBIT, PaymentType.RETURN_FEE):
            problems.append(error(msg("a {type} needs the Invoice No it is for", type=str(kind)), payment.sheet,
                                  payment.row, "Invoice No", code="payment-unassigned"))
        elif not payment.invoice_no and payment.customer_id not in book.customers:
            problems.append(error(msg("unknown customer {customer}", customer=repr(payment.customer_id)),
                                  payment.sheet, payment.row, "Customer ID", code="unknown-customer"))
        elif invoice is not None and payment.customer_id and payment.customer_id != invoice.customer_id:
            problems.append(error(msg("{invoice_no} is an invoice of customer {customer}, not {other}",
                                      invoice_no=invoice.invoice_no, customer=invoice.customer_id,
                                      other=payment.customer_id), payment.sheet, payment.row, "Customer ID",
                                  code="payment-wrong-customer"))
        elif invoice is not None and invoice.kind == InvoiceKind.CREDIT_NOTE:
            problems.append(error(msg("{invoice_no} is a credit note: name the invoice it credits, or the customer",
                                      invoice_no=invoice.invoice_no), payment.sheet, payment.row, "Invoice No",
                                  code="unknown-invoice"))
        else:
            valid.append(payment)
    return valid


def payment_account(invoice: Invoice | None, customer_id: str | None) -> tuple[str, str | None]:
    """The account (party type, party ID) a payment is booked to: its invoice's bill-to party, or, without
    an invoice, the customer it names."""
    return (invoice.bill_to_type, invoice.bill_to_id) if invoice else (BillToType.CUSTOMER, customer_id)


def build_ledger(invoices: Sequence[Invoice], payments: Sequence[Payment], reminders: Sequence[Reminder],
                 collections: Sequence[Collection], plans: Mapping[str, PaymentPlan], *, currency: str,
                 apply_credits: ApplyCredits = ApplyCredits.AUTOMATIC) -> LedgerReport:
    """Replay every item and return the accounts (see the module docstring)."""
    ledger = _Replay(invoices, plans, currency, apply_credits)
    for event in _events(invoices, payments, reminders, collections):
        ledger.apply(event)
        if apply_credits == ApplyCredits.AUTOMATIC:
            ledger.apply_credits(event.date)
    ledger.advise()
    return ledger.report


def _events(invoices: Sequence[Invoice], payments: Sequence[Payment], reminders: Sequence[Reminder],
            collections: Sequence[Collection]) -> list[_Event]:
    """Every dated item, in replay order."""
    events = []
    for index, invoice in enumerate(invoices):
        if invoice.kind == InvoiceKind.CREDIT_NOTE:
            events.append(_Event(invoice.issue_date, 2, index, "credit note", invoice))
        else:
            events.append(_Event(invoice.issue_date, 0, index, "invoice", invoice))
    for index, reminder in enumerate(reminders):
        events.append(_Event(reminder.date, 1, index, "reminder", reminder))
    for index, handed in enumerate(collections):
        events.append(_Event(handed.handed_over_on, 1, len(reminders) + index, "collection", handed))
    for payment in payments:
        events.append(_Event(payment.date, 3, payment.row, "payment", payment))
    # Every item is booked whatever its date: a payment typed with a later date than the run's is
    # still money received (as in every earlier release), never silently left out.
    return sorted(events, key=lambda e: (e.date, e.order, e.sequence))


class _Replay:
    """The accounts while items are replayed."""

    def __init__(self, invoices: Sequence[Invoice], plans: Mapping[str, PaymentPlan], currency: str,
                 apply_credits: ApplyCredits):
        self.report = LedgerReport(plans=dict(plans))
        self.currency, self.mode = currency, apply_credits
        self.by_no = {invoice.invoice_no: invoice for invoice in invoices}
        # Each account's invoices, and the accounts that hold credit: every question about one party
        # is answered from its own few items, never by scanning every invoice (a run has 100,000s).
        self.items_of: dict[tuple[str, str], list[Receivable]] = defaultdict(list)
        self.dirty: set[tuple[str, str]] = set()  # accounts whose credit may now pay something
        for invoice in invoices:
            self._account(invoice.bill_to_type, invoice.bill_to_id)

    def _account(self, party_type: str, party_id: str) -> PartyAccount:
        key = (party_type, party_id)
        if key not in self.report.accounts:
            self.report.accounts[key] = PartyAccount(BillToType(party_type), party_id)
        return self.report.accounts[key]

    def apply(self, event: _Event) -> None:
        """Book one item."""
        if event.kind == "invoice":
            self._issue(event.record)
        elif event.kind == "credit note":
            self._credit_note(event.record)
        elif event.kind in ("reminder", "collection"):
            self._book_fees_and_interest(event)
        else:
            self._money(event.record)

    def _issue(self, invoice: Invoice) -> None:
        receivable = Receivable(invoice)
        plan = self.report.plans.get(invoice.invoice_no)
        if plan is not None and invoice.amount > 0:
            receivable.principal = [[due, i + 1, amount, amount] for i, (due, amount)
                                    in enumerate(plan_schedule(plan, invoice.amount, self.currency))]
        else:
            receivable.principal = [[invoice.due_date, None, invoice.amount, invoice.amount]]
        receivable.timeline.append((invoice.issue_date, invoice.amount))
        self.report.receivables[invoice.invoice_no] = receivable
        self.items_of[(invoice.bill_to_type, invoice.bill_to_id)].append(receivable)
        self.dirty.add((invoice.bill_to_type, invoice.bill_to_id))
        self._item(invoice.issue_date, invoice.bill_to_type, invoice.bill_to_id, "Invoice", invoice.invoice_no,
                   invoice.invoice_no, invoice.amount)
        self._account(invoice.bill_to_type, invoice.bill_to_id).invoiced += invoice.amount

    def _book_fees_and_interest(self, event: _Event) -> None:
        record = event.record
        receivable = self.report.receivables.get(record.invoice_no)
        if receivable is None:
            return
        fee = (record.fee if isinstance(record, Reminder) else ZERO) or ZERO
        charged = (record.interest_charged if isinstance(record, Reminder) else record.interest) or ZERO
        receivable.fees += fee
        receivable.fees_open += fee
        receivable.interest += charged
        receivable.interest_open += charged
        account = self.report.account_of(receivable.invoice)
        self.dirty.add((account.party_type, account.party_id))
        account.fees += fee
        account.interest += charged
        invoice = receivable.invoice
        if fee:
            self._item(event.date, invoice.bill_to_type, invoice.bill_to_id, "Fee", invoice.invoice_no,
                       invoice.invoice_no, fee)
        if charged:
            self._item(event.date, invoice.bill_to_type, invoice.bill_to_id, "Interest", invoice.invoice_no,
                       invoice.invoice_no, charged)

    def _credit_note(self, note: Invoice) -> None:
        account = self._account(note.bill_to_type, note.bill_to_id)
        amount = -note.amount
        account.credited += amount
        self._item(note.issue_date, note.bill_to_type, note.bill_to_id, "Credit Note", note.invoice_no, note.related,
                   note.amount)
        target = self.report.receivables.get(note.related or "")
        left = amount
        if target is not None:
            left = self._allocate(target, amount, note.issue_date, SourceType.CREDIT_NOTE, note.invoice_no,
                                  (Part.PRINCIPAL, Part.INTEREST, Part.FEE))
            target.credit_notes += amount - left
        if left > 0:
            self._credit(account, note.invoice_no, left)

    def _money(self, payment: Payment) -> None:
        kind = payment.type or PaymentType.PAYMENT
        invoice = self.by_no.get(payment.invoice_no or "")
        account = self._account(*payment_account(invoice, payment.customer_id))
        if kind == PaymentType.REFUND or (kind == PaymentType.PAYMENT and payment.amount < 0):
            self._refund(account, payment)
            return
        if kind in (PaymentType.RETURNED_DEBIT, PaymentType.RETURN_FEE):
            self._returned_debit(account, invoice, payment, kind)
            return
        source_type = {PaymentType.PAYMENT: SourceType.PAYMENT, PaymentType.WRITE_OFF: SourceType.WRITE_OFF,
                       PaymentType.TRANSFER_TO_CUSTOMER: SourceType.TRANSFER}[kind]
        left = payment.amount
        if kind == PaymentType.PAYMENT:
            self._item(payment.date, account.party_type, account.party_id, "Payment", payment.payment_id,
                       payment.invoice_no, -payment.amount)
        if invoice is not None and invoice.invoice_no in self.report.receivables:
            order = (Part.PRINCIPAL, Part.INTEREST, Part.FEE) if kind != PaymentType.PAYMENT else \
                (Part.FEE, Part.INTEREST, Part.PRINCIPAL)
            left = self._allocate(self.report.receivables[invoice.invoice_no], left, payment.date, source_type,
                                  payment.payment_id, order)
        if kind == PaymentType.PAYMENT:
            account.paid += payment.amount
            if left > 0 and invoice is None:  # a payment for the customer as a whole: oldest items first
                left = self._to_oldest(account, left, payment.date, SourceType.PAYMENT, payment.payment_id)
            if left > 0:
                self._credit(account, payment.payment_id, left)
        else:
            booked = payment.amount - max(left, ZERO)
            self._item(payment.date, account.party_type, account.party_id, str(source_type), payment.payment_id,
                       payment.invoice_no, -booked)
        if kind != PaymentType.PAYMENT and left > 0:
            facts = {"amount": Money(payment.amount, self.currency), "invoice_no": payment.invoice_no or "",
                     "booked": Money(payment.amount - left, self.currency)}
            text = msg("the write-off of {amount} is more than was open on {invoice_no} ({booked} was booked)",
                       **facts) if kind == PaymentType.WRITE_OFF else \
                msg("the transfer of {amount} is more than was open on {invoice_no} ({booked} was booked)", **facts)
            self.report.problems.append(warning(text, payment.sheet,
                payment.row, "Amount", code="allocation-exceeds-balance"))

    def _returned_debit(self, account: PartyAccount, invoice: Invoice | None, payment: Payment,
                        kind: PaymentType) -> None:
        """A direct debit the bank returned: the money collected is taken back off the invoice (its
        latest paid principal first, so the item is open again), or its return fee is charged on it."""
        receivable = self.report.receivables.get(invoice.invoice_no) if invoice is not None else None
        if receivable is None:
            return  # valid_payments lets no such row through
        amount = payment.amount
        self.dirty.add((account.party_type, account.party_id))
        if kind == PaymentType.RETURN_FEE:
            receivable.fees += amount
            receivable.fees_open += amount
            account.fees += amount
            self._item(payment.date, account.party_type, account.party_id, "Return Fee", payment.payment_id,
                       invoice.invoice_no, amount)
            return
        left = amount
        for piece in reversed(receivable.principal):
            back = min(left, piece[3] - piece[2])
            if back > 0:
                piece[2] += back
                left -= back
                self.report.allocations.append(Allocation(payment.date, SourceType.PAYMENT, payment.payment_id,
                                                          invoice.invoice_no, piece[1], Part.PRINCIPAL, -back))
        taken = amount - left
        receivable.paid -= taken
        account.paid -= amount
        receivable.timeline.append((payment.date, receivable.principal_open))
        self._item(payment.date, account.party_type, account.party_id, "Returned Debit", payment.payment_id,
                   invoice.invoice_no, amount)
        for entry in reversed(account.credit):  # what the collection left as credit goes back too
            back = min(left, entry[2])
            entry[2] -= back
            left -= back
        account.credit = [entry for entry in account.credit if entry[2] > 0]

    def _refund(self, account: PartyAccount, payment: Payment) -> None:
        amount = abs(payment.amount)
        if amount > account.unapplied_credit:
            self.report.problems.append(error(
                msg("a refund of {amount} is more than the {credit} credit {customer} had on {date}; the row is "
                    "not booked", amount=Money(amount, self.currency),
                    credit=Money(account.unapplied_credit, self.currency), customer=account.party_id,
                    date=payment.date), payment.sheet, payment.row, "Amount",
                code="refund-exceeds-credit"))
            return
        account.paid -= amount
        self._item(payment.date, account.party_type, account.party_id, "Refund", payment.payment_id,
                   payment.invoice_no, amount)
        while amount > 0:
            entry = account.credit[0]
            take = min(entry[2], amount)
            entry[2] -= take
            amount -= take
            if entry[2] == 0:
                account.credit.pop(0)

    def _item(self, day: dt.date, party_type: str, party_id: str, kind: str, reference: str,
              invoice_no: str | None, amount: Decimal) -> None:
        self.report.items.append(AccountItem(day, str(party_type), party_id, kind, reference, invoice_no, amount))

    def _allocate(self, receivable: Receivable, amount: Decimal, day: dt.date, source_type: SourceType,
                  source: str, order: Sequence[Part]) -> Decimal:
        """Place up to ``amount`` on ``receivable``'s open parts in ``order``; return what is left."""
        left = amount
        for part in order:
            if left <= 0:
                break
            if part == Part.FEE:
                take = min(left, receivable.fees_open)
                receivable.fees_open -= take
                self._record(receivable, day, source_type, source, None, part, take)
                left -= take
            elif part == Part.INTEREST:
                take = min(left, receivable.interest_open)
                receivable.interest_open -= take
                self._record(receivable, day, source_type, source, None, part, take)
                left -= take
            else:
                for piece in receivable.principal:
                    if left <= 0:
                        break
                    take = min(left, piece[2])
                    piece[2] -= take
                    left -= take
                    self._record(receivable, day, source_type, source, piece[1], part, take)
                receivable.timeline.append((day, receivable.principal_open))
        return left

    def _record(self, receivable: Receivable, day: dt.date, source_type: SourceType, source: str,
                installment: int | None, part: Part, amount: Decimal) -> None:
        if amount <= 0:
            return
        self.report.allocations.append(Allocation(day, source_type, source, receivable.invoice.invoice_no,
                                                  installment, part, amount))
        if source_type == SourceType.PAYMENT:
            receivable.paid += amount
        elif source_type in (SourceType.CREDIT_NOTE, SourceType.CREDIT):
            receivable.credited += amount
        elif source_type == SourceType.WRITE_OFF:
            receivable.written_off += amount
            self.report.account_of(receivable.invoice).written_off += amount
        else:
            receivable.transferred += amount
            self.report.account_of(receivable.invoice).transferred += amount

    def _credit(self, account: PartyAccount, source: str, amount: Decimal) -> None:
        """Keep ``amount`` as the account's unapplied credit, remembering where it came from."""
        account.credit.append([SourceType.CREDIT, source, amount])
        self.dirty.add((account.party_type, account.party_id))

    def _open_items(self, account: PartyAccount, day: dt.date) -> list[Receivable]:
        """The account's invoices issued by ``day`` with something open, oldest due first."""
        items = [r for r in self.items_of.get((account.party_type, account.party_id), ())
                 if r.invoice.issue_date <= day and r.balance > 0]
        return sorted(items, key=lambda r: (r.oldest_due, r.invoice.invoice_no))

    def _to_oldest(self, account: PartyAccount, amount: Decimal, day: dt.date, source_type: SourceType,
                   source: str) -> Decimal:
        left = amount
        for receivable in self._open_items(account, day):
            if left <= 0:
                break
            left = self._allocate(receivable, left, day, source_type, source, (Part.FEE, Part.INTEREST,
                                                                               Part.PRINCIPAL))
        return left

    def apply_credits(self, day: dt.date) -> None:
        """Apply unapplied credit to the oldest open items (Apply Credits: automatic), for the accounts the
        last item touched (only their credit or their open items changed)."""
        dirty, self.dirty = self.dirty, set()
        for key in dirty:
            account = self.report.accounts[key]
            while account.credit and self._open_items(account, day):
                entry = account.credit[0]
                entry[2] = self._to_oldest(account, entry[2], day, SourceType.CREDIT, entry[1])
                if entry[2] > 0:
                    break
                account.credit.pop(0)

    def advise(self) -> None:
        """Advice where credit waits: where it could go (manual), or that it could be refunded."""
        for account in self.report.accounts.values():
            credit = account.unapplied_credit
            if credit <= 0 or account.party_type != BillToType.CUSTOMER:
                continue
            open_items = [r for r in self.items_of.get((account.party_type, account.party_id), ()) if r.balance > 0]
            if open_items:
                names = ", ".join(r.invoice.invoice_no for r in sorted(open_items, key=lambda r: r.oldest_due))
                text = msg("{customer} has {credit} of unapplied credit and open invoices {invoices}: apply it "
                           "(Apply Credits: automatic) or refund it", customer=account.party_id,
                           credit=Money(credit, self.currency), invoices=names)
            else:
                text = msg("{customer} has {credit} of credit and nothing open: refund it (a Payments row of type "
                           "Refund) or keep it for the next invoice", customer=account.party_id,
                           credit=Money(credit, self.currency))
            self.report.advice.append((account.party_id, "", "credit", text))
