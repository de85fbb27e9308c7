"""Overdue tracking: aging, reminders, payment plans and hand-off to a collection agency.

:func:`track_overdue` is the stage after posting payments. As of the run's as-of date it derives
what is open and overdue, issues the reminders that are due, tracks payment plans and hands
customers who do not respond to the collection agency, and returns an :class:`OverdueReport`.
``docs/overdue.md`` explains the rules with a worked timeline; the arithmetic is in
:mod:`sheetbill.dunning`, the sentences in :mod:`sheetbill.wording`.

State and idempotence. Overdue, Aging and Installments are derived afresh every run. Reminders and
Collections are append-only history, read back every run: the history *is* the dunning state (an
invoice's level is the level of its latest reminder), so a second run on the same day finds the
reminder it would issue already there and adds nothing, and deleting a derived sheet loses nothing.

The rules, in short:

* Open: an invoice (not a credit note, not cancelled) with a positive balance. An invoice on a
  payment plan is split into installments (equal, rounded down, remainder on the last); payments,
  write-offs and transfers are allocated to them in due-date order. Each open installment is aged on
  its own due date, so the plan invoice is overdue only through its overdue installments.
* Levels: Reminder Days ``14, 14, 14`` means reminder 1 on due date + 14, reminder 2 fourteen days
  after reminder 1, and the last level (the final notice) fourteen days after that. The dunning
  sequence of an invoice starts at its earliest overdue due date (of the invoice, or of its earliest
  overdue installment); reminders dated after that date belong to it. At most one level per invoice
  per run, never one when the invoice already has a reminder dated on or after the as-of date.
  A payment that clears the balance stops the sequence; a partial one does not reset it.
* Customers get reminders with fees (Reminder Fees per level: an amount or a percentage of the overdue
  principal, :class:`sheetbill.terms.FeeRule`) and, when Default Interest Percent is set, interest
  (overdue balance x rate x days overdue / 365, rounded once). Payer invoices get follow-up entries
  on the same schedule without fees, interest or collection agency. With Business Late Fee set,
  business debtors (payers, customers with Business = yes) owe it once per invoice (§ 288 (5) BGB),
  with the reminder fees set off against it.
* Holds: a Contacts row whose Hold Until is on or after the as-of date pauses the invoice it names,
  or, with Invoice No blank, every invoice billed to the customer. A "dispute" without Hold Until
  pauses until a later Contacts row for the same invoice (or the customer).
* Contact details: a reminder goes to a valid email, else to a full postal address (Street, Postal
  Code, City). Without either, it is not issued: Overdue says "update contact details" and a Problem
  names the customer's (or payer's) row.
* Hand-off: on or after final notice + Collection After Days, with the overdue balance still open,
  no payment and no Contacts row with outcome reached, promise to pay or dispute on or after the
  final notice's date, and no hold, the invoice goes to the agency: a Collections row (principal =
  the open balance, agency fee = Collection Fee Percent of it), status "In Collections", and no more
  reminders. Payments that arrive later still post; Collections shows them as Paid Since.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from . import wording
from .book import Book
from .contacts import ContactLog, contact_problems
from .dunning import (
    DEFAULT_REFERENCE_FORMAT,
    Installment,
    Recipient,
    aging_bucket,
    payment_reference,
    reference_format_is_valid,
    reminder_recipient,
)
from .i18n import Msg, language, msg
from .interest import ONE_DAY, MissingBaseRate, booked_interest, interest_steps, interest_terms
from .ledger import LedgerReport, Receivable
from .mandates import Debit, pending_items
from .models import (
    Advice,
    BillToType,
    Collection,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    PaymentPlan,
    PaymentType,
    Reminder,
)
from .money import ZERO, quantize, split_equal
from .problems import Problem, warning

#: Aging buckets, by days overdue; "Current" is not yet due (due today or later).
BUCKETS: tuple[str, ...] = ("Current", "1-30", "31-60", "61-90", "91-120", "120+")
#: Bill To Types the Aging sheet splits by (its columns).
BILL_TO_TYPES: tuple[str, ...] = (BillToType.CUSTOMER.value, BillToType.PAYER.value)

#: A Next Action and the day it is due (``None``: no date).
Action = tuple[Msg, dt.date | None]


@dataclass(frozen=True)
class OpenPiece:
    """An open amount of an invoice with its own due date: the whole balance, or one installment."""

    due_date: dt.date
    balance: Decimal
    installment: Installment | None = None


@dataclass
class OverdueReport:
    """What overdue tracking derived in a run.

    Attributes:
        installments: each planned invoice's installments, by invoice number, in plan order.
        issued: reminders and follow-ups issued by this run.
        handed_over: Collections rows added by this run.
        collections: every hand-off, history and new, by invoice number.
        statuses: the status of invoices that overdue tracking sets (In Collections).
        overdue_rows: the Overdue sheet's rows.
        aging: open balance by bucket and Bill To Type.
        open_balance: every open balance (what the Aging buckets add up to).
        overdue_balance: the part of it past due.
        problems, advice: what the clerk should know or do.
    """

    installments: dict[str, list[Installment]] = field(default_factory=dict)
    issued: list[Reminder] = field(default_factory=list)
    handed_over: list[Collection] = field(default_factory=list)
    collections: dict[str, Collection] = field(default_factory=dict)
    statuses: dict[str, InvoiceStatus] = field(default_factory=dict)
    overdue_rows: list[tuple] = field(default_factory=list)
    aging: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    open_balance: Decimal = ZERO
    overdue_balance: Decimal = ZERO
    problems: list[Problem] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    reminders_issued: int = 0
    follow_ups_issued: int = 0
    as_of: dt.date = dt.date.min


def track_overdue(book: Book, invoices: Sequence[Invoice], ledger: LedgerReport) -> OverdueReport:
    """Derive overdue state as of the run's date: reminders, hand-offs, installments, aging, Next Actions.

    :param book: the inputs and the Reminders and Collections history.
    :param invoices: every issued invoice and credit note (history and this run's).
    :param ledger: the accounts with every item up to the as-of date (:func:`sheetbill.ledger.build_ledger`).
    """
    tracker = _Dunning(book, invoices, ledger)
    tracker.report.as_of = book.settings.as_of
    tracker.check_settings()
    tracker.plans = ledger.plans
    tracker.report.problems.extend(contact_problems(book.contacts, tracker.invoices))
    tracker.walk()
    tracker.advise_plans()
    report = tracker.report
    report.installments = {no: report.installments[no] for no in tracker.plans if no in report.installments}
    report.follow_ups_issued = sum(1 for r in report.issued
                                   if tracker.invoices[r.invoice_no].bill_to_type == BillToType.PAYER)
    report.reminders_issued = len(report.issued) - report.follow_ups_issued
    return report


class _Dunning:
    """One run of overdue tracking: the indexes, built once (linear), and the per-invoice steps."""

    def __init__(self, book: Book, invoices: Sequence[Invoice], ledger: LedgerReport):
        self.book, self.ledger = book, ledger
        self.owed = ledger.account_balances()
        self.base_rate_reported = False
        self.settings = settings = book.settings
        self.language = language(settings.language)
        self.as_of, self.currency = settings.as_of, settings.currency
        self.days, self.levels = settings.reminder_days, len(settings.reminder_days)
        self.report = OverdueReport()
        self.terms = interest_terms(book, self.report.problems)
        self.invoices = {inv.invoice_no: inv for inv in invoices}
        self.reminders: dict[str, list[Reminder]] = defaultdict(list)
        for reminder in book.reminders:
            self.reminders[reminder.invoice_no].append(reminder)
        for history in self.reminders.values():
            history.sort(key=lambda r: (r.date, r.level, r.row))
        self.collections = self.report.collections
        self.collections.update({c.invoice_no: c for c in book.collections})
        self.last_payment: dict[str, dt.date] = {}
        for payment in book.payments:
            if (payment.type or PaymentType.PAYMENT) == PaymentType.PAYMENT and payment.amount > 0:
                known = self.last_payment.get(payment.invoice_no)
                if known is None or payment.date > known:
                    self.last_payment[payment.invoice_no] = payment.date
        self.contacts = ContactLog(book.contacts, self.as_of)
        self.reference_format = settings.payment_reference_format or DEFAULT_REFERENCE_FORMAT
        self.plans: dict[str, PaymentPlan] = {}
        self.reported: set[tuple[str, str]] = set()  # parties whose missing contact details were reported
        self.agency_reported = False
        self.pending_debits = pending_items(book.debits)
        self.debited = {invoice_no for invoice_no, _ in self.pending_debits}

    def debit_pending(self, invoice_no: str, installment: int | None) -> Debit | None:
        """The pending direct debit of the invoice (or installment), if one was sent: no reminder then."""
        return self.pending_debits.get((invoice_no, installment)) or self.pending_debits.get((invoice_no, None))

    def problem(self, problem: Problem) -> None:
        self.report.problems.append(problem)

    def check_settings(self) -> None:
        """Reminder Fees that do not match the levels, and a Payment Reference Format that cannot be filled."""
        rows = self.settings.rows
        fees = self.settings.reminder_fees
        if fees and len(fees) != self.levels:
            self.problem(warning(
                msg("Reminder Fees has {count} amounts for {levels} reminder levels: missing fees count as 0",
                    count=len(fees), levels=self.levels) if len(fees) < self.levels else
                msg("Reminder Fees has {count} amounts for {levels} reminder levels: the extra fees are ignored",
                    count=len(fees), levels=self.levels),
                "Settings", rows.get("reminderfees"), "Value", code="reminder-fees-mismatch"))
        if not reference_format_is_valid(self.reference_format):
            self.problem(warning(msg("Payment Reference Format may only use {invoice_no}, {customer_id} and {rf}; the "
                                     "invoice number is used instead"), "Settings",
                                 rows.get("paymentreferenceformat"), "Value", code="bad-reference-format"))
            self.reference_format = "{invoice_no}"

    # --- walking the open invoices ---------------------------------------------------------------------

    def walk(self) -> None:
        """Age every open invoice (or its installments) and dun the overdue ones."""
        aging = {bucket: dict.fromkeys(BILL_TO_TYPES, ZERO) for bucket in BUCKETS}
        for invoice in self.invoices.values():
            if invoice.kind != InvoiceKind.INVOICE:
                continue
            receivable = self.ledger.receivables[invoice.invoice_no]
            pieces = self.pieces(invoice, receivable)
            if receivable.balance <= 0 or receivable.status == InvoiceStatus.CANCELLED:
                continue
            overdue = self.age(invoice, receivable, pieces, aging)
            if not overdue and self.charges_only_due(invoice, receivable):
                overdue = [OpenPiece(invoice.due_date, ZERO)]
            if overdue:
                self.dun(invoice, receivable, overdue)
            elif len(pieces) == 1 and pieces[0].installment is None:
                self.remind_before_due(invoice, pieces[0])
            if invoice.invoice_no in self.collections:
                self.report.statuses[invoice.invoice_no] = InvoiceStatus.IN_COLLECTIONS
            elif invoice.invoice_no in self.debited:
                self.report.statuses[invoice.invoice_no] = InvoiceStatus.DEBIT_PENDING
        self.report.aging = aging

    def pieces(self, invoice: Invoice, receivable: Receivable) -> list[OpenPiece]:
        """The invoice's open principal by due date: its installments when on a plan, else one piece."""
        plan = self.plans.get(invoice.invoice_no)
        if plan is None or len(receivable.principal) < 2 and receivable.principal[0][1] is None:
            return [OpenPiece(invoice.due_date, receivable.principal_open)]
        installments = receivable.installments(plan, self.as_of)
        self.report.installments[invoice.invoice_no] = installments
        return [OpenPiece(i.due_date, i.balance, i) for i in installments]

    def age(self, invoice: Invoice, receivable: Receivable, pieces: list[OpenPiece],
            aging: dict[str, dict[str, Decimal]]) -> list[OpenPiece]:
        """Add the open principal pieces, and the open fees and interest (aged from the invoice's due
        date), to the aging buckets; return the overdue principal pieces."""
        overdue = []
        charges = receivable.fees_open + receivable.interest_open
        parts = [(p.due_date, p.balance, p) for p in pieces] + [(invoice.due_date, charges, None)]
        for due_date, amount, piece in parts:
            if amount <= 0:
                continue
            days = (self.as_of - due_date).days
            column = aging[aging_bucket(days)]
            column[invoice.bill_to_type] = column.get(invoice.bill_to_type, ZERO) + amount
            self.report.open_balance += amount
            if days > 0:
                self.report.overdue_balance += amount
                if piece is not None:
                    overdue.append(piece)
        return overdue

    def charges_only_due(self, invoice: Invoice, receivable: Receivable) -> bool:
        """True when the principal is paid, fees or interest are still open, and Dun Fees And Interest
        says to remind such an invoice (by default it is only shown on statements, never reminded or
        handed over)."""
        return (self.settings.dun_fees_and_interest and invoice.bill_to_type == BillToType.CUSTOMER
                and receivable.principal_open <= 0 and receivable.fees_open + receivable.interest_open > 0
                and invoice.due_date < self.as_of)

    def remind_before_due(self, invoice: Invoice, piece: OpenPiece) -> None:
        """A friendly reminder (level 0, no fee) Remind Before Due Days before a customer invoice's due
        date, once per invoice; not for payers, invoices on a plan, on hold or already reminded."""
        days = self.settings.remind_before_due_days
        if (days is None or invoice.bill_to_type == BillToType.PAYER or piece.balance <= 0
                or not invoice.due_date - dt.timedelta(days=days) <= self.as_of <= invoice.due_date
                or self.reminders.get(invoice.invoice_no) or self.contacts.pause(invoice) is not None):
            return
        recipient = self.recipient(invoice)
        if recipient is None:
            self.report_missing_contact(invoice)
            return
        text = self.language.render(wording.before_due_text(
            recipient=recipient.name, invoice_no=invoice.invoice_no, due_date=invoice.due_date,
            balance=piece.balance, details=self.details(invoice), currency=self.currency))
        reminder = Reminder(self.as_of, invoice.invoice_no, 0, recipient.name, recipient.channel, recipient.address,
                            piece.balance, ZERO, text, piece.balance, ZERO, ZERO, ZERO, None)
        self.reminders[invoice.invoice_no].append(reminder)
        self.report.issued.append(reminder)

    # --- dunning one invoice ----------------------------------------------------------------------------

    def interest_now(self, invoice: Invoice, receivable: Receivable, overdue: list[OpenPiece],
                     history: list[Reminder]) -> Decimal:
        """Default interest accrued up to the as-of date and not booked yet (customers only): day by day
        on the principal open each day; a missed installment of a plan from its own due date, less what
        its own reminders (``history``) booked."""
        terms = self.terms
        if terms is None or invoice.bill_to_type == BillToType.PAYER:
            return ZERO
        try:
            if overdue and overdue[0].installment is not None:
                accrued = sum((booked_interest([(p.due_date, p.balance)], p.due_date, self.as_of, *terms,
                                               currency=self.currency) for p in overdue), ZERO)
                booked = sum((r.interest_charged or ZERO for r in history), ZERO)
                return max(ZERO, accrued - booked)
            else:
                accrued = booked_interest(interest_steps(receivable.timeline), invoice.due_date, self.as_of,
                                          *terms, currency=self.currency)
        except MissingBaseRate as missing:
            if not self.base_rate_reported:
                self.base_rate_reported = True
                self.problem(warning(msg("Interest Rate is base + points, but Base Rates has no rate for {date}: add "
                                         "the Bundesbank's rate; no interest is charged until then", date=missing.day),
                                     "Base Rates", None, "Valid From",
                                     code="missing-base-rate"))
            return ZERO
        return max(ZERO, accrued - receivable.interest)

    def dun(self, invoice: Invoice, receivable: Receivable, overdue: list[OpenPiece]) -> None:
        """Dun ``invoice`` as a whole, or, on a payment plan, each overdue installment on its own (each
        has its own dunning level and its own reminders)."""
        if overdue[0].installment is None:
            self.dun_pieces(invoice, receivable, overdue, None, True)
            return
        for index, piece in enumerate(overdue):
            self.dun_pieces(invoice, receivable, [piece], piece.installment.number, index == 0)

    def history_of(self, invoice: Invoice, installment: int | None, due: dt.date) -> list[Reminder]:
        """The reminders of the dunning sequence of ``invoice`` (or of one of its installments) that
        started at ``due``. Reminders written before installments had levels of their own (no
        Installment) count for every installment overdue when they were issued."""
        history = self.reminders.get(invoice.invoice_no, [])
        return [r for r in history if r.date > due and (r.installment == installment or r.installment is None)]

    def dun_pieces(self, invoice: Invoice, receivable: Receivable, overdue: list[OpenPiece], installment: int | None,
                   first: bool) -> None:
        """Issue the reminder or hand-off that is due (at most one) and add the Overdue rows."""
        no = invoice.invoice_no
        is_customer = invoice.bill_to_type != BillToType.PAYER
        history = self.history_of(invoice, installment, overdue[0].due_date)
        level = min(history[-1].level, self.levels) if history else 0
        last = history[-1].date if history else None
        fees = receivable.fees_open
        charge = self.interest_now(invoice, receivable, overdue, history)
        shown = receivable.interest_open + charge if installment is None else \
            charge + sum((r.interest_charged or ZERO for r in history), ZERO)
        interests = [shown] + [ZERO] * (len(overdue) - 1)
        recipient = self.recipient(invoice)
        handed = self.collections.get(no)
        action: Action
        if no in self.book.edited_invoices:
            action = (wording.RESTORE_FIRST, None)
        elif handed is not None:
            action = (wording.with_agency(handed.agency, handed.handed_over_on), None)
        elif is_customer and self.owed.get((invoice.bill_to_type, invoice.bill_to_id), ZERO) <= 0:
            action = (wording.CREDIT_COVERS, None)
        elif (debit := self.debit_pending(no, installment)) is not None:
            action = (wording.debit_pending(debit.collection_date), None)
        elif (pause := self.contacts.pause(invoice)) is not None:
            action = pause
        elif level < self.levels:
            action, level, last, fees = self.next_reminder(invoice, overdue, interests, history, level, last,
                                                           recipient, fees, charge, installment)
        elif not is_customer:
            action = (wording.FOLLOW_UP, None)
        else:
            action = self.hand_off(invoice, receivable, last, fees, charge)
        self.overdue_rows(invoice, overdue, interests, recipient, fees if first else ZERO, level, last, action)

    def next_reminder(self, invoice: Invoice, overdue: list[OpenPiece], interests: list[Decimal],
                      history: list[Reminder], level: int, last: dt.date | None, recipient: Recipient | None,
                      fees: Decimal, charge: Decimal, installment: int | None
                      ) -> tuple[Action, int, dt.date | None, Decimal]:
        """Issue the next reminder level when it is due; the Next Action and the new level, date and fees."""
        day = overdue[0].due_date + dt.timedelta(days=self.days[0]) if last is None else \
            last + dt.timedelta(days=self.days[level])
        already = bool(history) and history[-1].date >= self.as_of
        if self.as_of < day or already:
            return (self.step_name(invoice, level + 1), day), level, last, fees
        if recipient is None:
            self.report_missing_contact(invoice)
            return (wording.UPDATE_CONTACT, self.as_of), level, last, fees
        fee = self.level_fee(invoice, level + 1, sum((piece.balance for piece in overdue), ZERO))
        fees += fee
        self.issue(invoice, overdue, interests, level + 1, recipient, fee, fees, charge, installment)
        return self.after_reminder(invoice, level + 1, self.as_of), level + 1, self.as_of, fees

    def overdue_rows(self, invoice: Invoice, overdue: list[OpenPiece], interests: list[Decimal],
                     recipient: Recipient | None, fees: Decimal, level: int, last: dt.date | None,
                     action: Action) -> None:
        """One Overdue row per overdue piece; fees on the first."""
        contact = recipient.address if recipient is not None else None
        for index, piece in enumerate(overdue):
            days = (self.as_of - piece.due_date).days
            self.report.overdue_rows.append((
                invoice.invoice_no, self.language.render(wording.installment_label(piece.installment))
                if piece.installment else None,
                str(invoice.bill_to_type), invoice.bill_to_name, invoice.customer_id, contact, piece.due_date, days,
                aging_bucket(days), piece.balance, quantize(fees, self.currency) if index == 0 else ZERO,
                interests[index], level, last, self.language.render(action[0]), action[1]))

    def step_name(self, invoice: Invoice, level: int) -> Msg:
        """The Next Action of a level that is not due yet."""
        return wording.step_name(level, self.levels, invoice.bill_to_type == BillToType.PAYER)

    def after_reminder(self, invoice: Invoice, level: int, last: dt.date) -> Action:
        """The Next Action after ``level`` was issued on ``last``."""
        if level < self.levels:
            return self.step_name(invoice, level + 1), last + dt.timedelta(days=self.days[level])
        if invoice.bill_to_type == BillToType.PAYER:
            return wording.FOLLOW_UP, None
        return wording.hand_off(self.settings.collection_agency), \
            last + dt.timedelta(days=self.settings.collection_after_days)

    def level_fee(self, invoice: Invoice, level: int, overdue: Decimal) -> Decimal:
        """The fee a reminder of ``level`` adds: the Reminder Fee for customers (none for payers); for a
        business debtor, when Business Late Fee is set, the flat fee of § 288 (5) BGB once per invoice,
        against which the reminder fees are set off (a level adds only what takes their sum above it)."""
        is_customer = invoice.bill_to_type != BillToType.PAYER
        fee = self.fee(level, overdue) if is_customer else ZERO
        flat = self.settings.business_late_fee
        if not flat or not self.is_business(invoice):
            return fee
        before = sum((self.fee(n, overdue) for n in range(1, level)), ZERO) if is_customer else ZERO
        owed_before = max(flat, before) if level > 1 else ZERO
        return quantize(max(flat, before + fee) - owed_before, self.currency)

    def is_business(self, invoice: Invoice) -> bool:
        """Payers, and customers with Business = yes, are business debtors (§ 288 (5) BGB)."""
        if invoice.bill_to_type == BillToType.PAYER:
            return True
        customer = self.book.customers.get(invoice.bill_to_id)
        return bool(customer is not None and customer.business)

    def fee(self, level: int, overdue: Decimal) -> Decimal:
        """The Reminder Fee of ``level`` on ``overdue`` principal (0 when the list is shorter)."""
        fees = self.settings.reminder_fees
        return fees[level - 1].fee(overdue, self.currency) if level <= len(fees) else ZERO

    def hand_off(self, invoice: Invoice, receivable: Receivable, final: dt.date | None, fees: Decimal,
                 interest_due: Decimal) -> Action:
        """After the final notice: hand the invoice to the agency when it is time and nobody responded."""
        agency = self.settings.collection_agency
        if final is None:  # pragma: no cover - the final level always has a reminder date
            return wording.hand_off(agency), None
        responded = self.response_after(invoice, final)
        if responded is not None:
            return wording.responded(responded), None
        day = max(final + dt.timedelta(days=self.settings.collection_after_days), final + ONE_DAY)
        if self.as_of < day:  # never on the final notice's own day: one step per invoice and day
            return wording.hand_off(agency), day
        if not agency:
            if not self.agency_reported:
                self.agency_reported = True
                self.problem(warning(msg("an invoice is due for hand-off but Collection Agency is blank: set it"),
                                     "Settings", self.settings.rows.get("collectionagency"), "Value",
                                     code="collection-agency-missing"))
            return wording.SET_AGENCY, self.as_of
        principal = receivable.principal_open
        handed = Collection(invoice.invoice_no, invoice.customer_id, principal, self.as_of,
                            quantize(fees, self.currency), interest_due, agency,
                            quantize(principal * self.settings.collection_fee_percent / 100, self.currency))
        self.collections[invoice.invoice_no] = handed
        self.report.handed_over.append(handed)
        return wording.with_agency(agency, self.as_of), None

    def response_after(self, invoice: Invoice, final: dt.date) -> dt.date | None:
        """The latest payment or response (Contacts) on or after the final notice, if any."""
        paid = self.last_payment.get(invoice.invoice_no)
        responded = self.contacts.response_since(invoice, final)
        if paid is not None and paid >= final:
            responded = max(paid, responded) if responded else paid
        return responded

    # --- reminders --------------------------------------------------------------------------------------

    def recipient(self, invoice: Invoice) -> Recipient | None:
        """Where a reminder for ``invoice`` goes: a valid email, else a full postal address."""
        party = (self.book.payers.get(invoice.bill_to_id) if invoice.bill_to_type == BillToType.PAYER
                 else self.book.customers.get(invoice.bill_to_id))
        return reminder_recipient(party)

    def report_missing_contact(self, invoice: Invoice) -> None:
        """One Problem per party whose reminder is due but has nowhere to go."""
        is_payer = invoice.bill_to_type == BillToType.PAYER
        key = (invoice.bill_to_type, invoice.bill_to_id)
        if key in self.reported:
            return
        self.reported.add(key)
        sheet = "Payers" if is_payer else "Customers"
        party = (self.book.payers if is_payer else self.book.customers).get(invoice.bill_to_id)
        if party is None:
            self.problem(warning(msg("{party} of invoice {invoice_no} is not on the {sheet} sheet: no reminder can be "
                                     "sent", party=repr(invoice.bill_to_id), invoice_no=invoice.invoice_no,
                                     sheet=sheet), sheet, None,
                                 "Payer ID" if is_payer else "Customer ID", code="unknown-party"))
            return
        if party.email and party.email.strip():
            found = msg("Email {email} is not a valid address and the postal address is incomplete",
                        email=repr(party.email.strip()))
        else:
            found = msg("no Email and an incomplete postal address")
        text = msg("{found}: a follow-up for {invoice_no} is due but cannot be issued; enter a valid Email or Street, "
                   "Postal Code and City", found=found, invoice_no=invoice.invoice_no) if is_payer else \
            msg("{found}: a reminder for {invoice_no} is due but cannot be issued; enter a valid Email or Street, "
                "Postal Code and City", found=found, invoice_no=invoice.invoice_no)
        self.problem(warning(text, sheet, party.row, "Email",
                             code="contact-details-missing"))

    def issue(self, invoice: Invoice, overdue: list[OpenPiece], interests: list[Decimal], level: int,
              recipient: Recipient, fee: Decimal, fees: Decimal, charge: Decimal,
              installment: int | None = None) -> None:
        """Add reminder ``level`` for ``invoice`` to the history."""
        balance = sum((p.balance for p in overdue), ZERO)
        is_payer = invoice.bill_to_type == BillToType.PAYER
        interest_due = sum(interests, ZERO) if installment is None else \
            self.ledger.receivables[invoice.invoice_no].interest_open + charge
        amount_due = balance + fees if is_payer else balance + fees + interest_due  # payers: only a late fee
        text = self.language.render(
            self.follow_up_text(invoice, overdue, level, balance, recipient) if is_payer else
            self.reminder_text(invoice, overdue, level, balance, fees, interest_due, amount_due, recipient))
        reminder = Reminder(self.as_of, invoice.invoice_no, level, recipient.name, recipient.channel,
                            recipient.address, amount_due, fee, text, balance, fees,
                            ZERO if is_payer else interest_due, ZERO if is_payer else charge, installment)
        self.reminders[invoice.invoice_no].append(reminder)
        self.report.issued.append(reminder)

    def details(self, invoice: Invoice) -> Msg:
        """How to pay ``invoice``, on one line."""
        return wording.payment_details(self.settings.payment_methods, self.settings.bank_iban,
                                       payment_reference(self.reference_format, invoice))

    @staticmethod
    def describe(invoice: Invoice, overdue: list[OpenPiece]) -> tuple[Msg, bool]:
        """What is overdue and whether it is several things."""
        installments = [p.installment for p in overdue if p.installment]
        return wording.what_is_overdue(invoice.invoice_no, invoice.issue_date, invoice.due_date, installments,
                                       [p.due_date for p in overdue])

    def reminder_text(self, invoice: Invoice, overdue: list[OpenPiece], level: int, balance: Decimal, fees: Decimal,
                      interest_due: Decimal, amount_due: Decimal, recipient: Recipient) -> Msg:
        """The Text of a customer reminder."""
        final = level == self.levels
        days = self.settings.collection_after_days if final else self.days[level]
        return wording.reminder_text(
            level=level, final=final, recipient=recipient.name, what=self.describe(invoice, overdue),
            balance=balance, fees=fees, rate=self.settings.default_interest_percent, interest=interest_due,
            amount_due=amount_due, pay_by=self.as_of + dt.timedelta(days=days), details=self.details(invoice),
            agency=self.settings.collection_agency, currency=self.currency)

    def follow_up_text(self, invoice: Invoice, overdue: list[OpenPiece], level: int, balance: Decimal,
                       recipient: Recipient) -> Msg:
        """The Text of a payer follow-up."""
        customer = self.book.customers.get(invoice.customer_id)
        who = f"{customer.name} ({invoice.customer_id})" if customer else invoice.customer_id
        return wording.follow_up_text(level=level, recipient=recipient.name,
                                      what=self.describe(invoice, overdue)[0], customer=who, balance=balance,
                                      details=self.details(invoice), currency=self.currency)

    def advise_plans(self) -> None:
        """Suggest a payment plan to each customer whose open balance reaches Payment Plan Threshold."""
        threshold = self.settings.payment_plan_threshold
        count = self.settings.max_installments
        if threshold is None or count < 1:
            return
        owed: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for invoice in self.invoices.values():
            if invoice.kind != InvoiceKind.INVOICE:
                continue
            receivable = self.ledger.receivables[invoice.invoice_no]
            if (invoice.bill_to_type != BillToType.CUSTOMER or receivable.balance <= 0
                    or receivable.status == InvoiceStatus.CANCELLED
                    or invoice.invoice_no in self.plans or invoice.invoice_no in self.collections):
                continue
            owed[invoice.customer_id] += receivable.balance
        for customer_id in sorted(owed):
            total = owed[customer_id]
            if total >= threshold:
                parts = split_equal(total, count, self.currency)
                self.report.advice.append(Advice(customer_id, "", "payment plan",
                                                 wording.plan_offer(total, parts, self.currency)))
