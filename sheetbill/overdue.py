"""Overdue tracking: aging, reminders, payment plans and hand-off to a collection agency.

:func:`track_overdue` is the stage :func:`sheetbill.billing.run_billing` runs after billing and
payment posting. As of the run's as-of date it derives what is open and overdue, issues the
reminders that are due, tracks payment plans and hands customers who do not respond to the
collection agency. ``docs/overdue.md`` explains the rules with a worked timeline.

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
* Customers get reminders with fees (Reminder Fees per level) and, when Default Interest Percent is
  set, interest (overdue balance x rate x days overdue / 365, rounded once). Payer invoices get
  follow-up entries on the same schedule without fees, interest or collection agency.
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
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from . import contract
from .billing import KIND_INVOICE, Account, Advice, RunResult, run_billing
from .dunning import (
    Installment,
    Recipient,
    aging_bucket,
    interest,
    payment_reference,
    plan_installments,
    reference_format_is_valid,
    reminder_recipient,
)
from .models import Collection, Contact, Invoice, PaymentPlan, Reminder
from .money import ZERO, fmt, quantize, split_equal
from .plugins.manager import Plugins
from .problems import Problem, error, warning
from .sheets import BarChart, OutputSheet, RawSheet

#: Aging buckets, by days overdue; "Current" is not yet due (due today or later).
BUCKETS: tuple[str, ...] = ("Current", "1-30", "31-60", "61-90", "91-120", "120+")
#: Bill To Types the Aging sheet splits by (its columns).
BILL_TO_TYPES: tuple[str, ...] = ("Customer", "Payer")
#: Contacts outcomes that count as the customer responding after the final notice.
RESPONSE_OUTCOMES = frozenset({"reached", "promise to pay", "dispute"})
#: Invoice status of an invoice with the collection agency (while its balance is open).
IN_COLLECTIONS = "In Collections"
FOLLOW_UP = "follow up the claim with the payer"
UPDATE_CONTACT = "update contact details"

_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class _Piece:
    """An open amount of an invoice with its own due date: the whole balance, or one installment."""

    due_date: dt.date
    balance: Decimal
    installment: Installment | None = None


@dataclass
class OverdueReport:
    """What overdue tracking derived in a run (``result.extras["overdue"]``), for front ends and tests.

    Attributes:
        installments: each planned invoice's installments, by invoice number.
        issued: reminders and follow-ups issued by this run.
        handed_over: Collections rows added by this run.
        aging: open balance by bucket and Bill To Type.
        open_balance: every open balance (what the Aging buckets add up to).
        overdue_balance: the part of it past due.
    """

    installments: dict[str, list[Installment]] = field(default_factory=dict)
    issued: list[Reminder] = field(default_factory=list)
    handed_over: list[Collection] = field(default_factory=list)
    aging: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    open_balance: Decimal = ZERO
    overdue_balance: Decimal = ZERO


# --- the contact log ------------------------------------------------------------------------------------


@dataclass
class _Scope:
    """What the Contacts rows of one scope (an invoice, or a customer as a whole) say."""

    hold: dt.date | None = None  # the latest Hold Until
    latest: Contact | None = None  # the latest row
    response: dt.date | None = None  # the latest row with a response outcome


class ContactLog:
    """The Contacts rows dated on or before the as-of date, indexed so each question is O(1).

    A row with an Invoice No concerns that invoice; a row without one concerns every invoice billed
    to the customer.
    """

    def __init__(self, contacts: list[Contact], as_of: dt.date):
        self.as_of = as_of
        self._by_invoice: dict[str, _Scope] = defaultdict(_Scope)
        self._by_customer: dict[str, _Scope] = defaultdict(_Scope)
        for contact in contacts:
            if contact.date > as_of:
                continue
            scope = (self._by_invoice[contact.invoice_no] if contact.invoice_no
                     else self._by_customer[contact.customer_id])
            if contact.hold_until and (scope.hold is None or contact.hold_until > scope.hold):
                scope.hold = contact.hold_until
            if scope.latest is None or (contact.date, contact.row) > (scope.latest.date, scope.latest.row):
                scope.latest = contact
            if contact.outcome in RESPONSE_OUTCOMES and (scope.response is None or contact.date > scope.response):
                scope.response = contact.date

    def _scopes(self, invoice: Invoice) -> list[_Scope]:
        scopes = [self._by_invoice.get(invoice.invoice_no)]
        if invoice.bill_to_type == "Customer":
            scopes.append(self._by_customer.get(invoice.customer_id))
        return [s for s in scopes if s is not None]

    def pause(self, invoice: Invoice) -> tuple[str, dt.date | None] | None:
        """Why dunning of ``invoice`` is paused (Next Action and its date), or ``None``."""
        scopes = self._scopes(invoice)
        holds = [s.hold for s in scopes if s.hold is not None and s.hold >= self.as_of]
        if holds:
            until = max(holds)
            return f"on hold until {until.isoformat()}", until + _ONE_DAY
        latest = max((s.latest for s in scopes if s.latest is not None), key=lambda c: (c.date, c.row),
                     default=None)
        if latest is not None and latest.outcome == "dispute" and latest.hold_until is None:
            return (f"disputed on {latest.date.isoformat()}: settle the dispute and log the outcome in Contacts",
                    None)
        return None

    def response_since(self, invoice: Invoice, day: dt.date) -> dt.date | None:
        """The latest Contacts row on or after ``day`` with outcome reached, promise to pay or dispute."""
        dates = [s.response for s in self._scopes(invoice) if s.response is not None and s.response >= day]
        return max(dates, default=None)


# --- the stage -------------------------------------------------------------------------------------------


def track_overdue(result: RunResult) -> None:
    """Derive overdue state as of the run's date and append the overdue sheets to ``result.outputs``.

    Adds the Overdue, Aging, Reminders, Installments and Collections sheets, Problems and Advice,
    ``result.summary`` counts (``reminders_issued``, ``follow_ups_issued``, ``handed_to_collections``,
    ``open_balance``, ``overdue_balance``), the "In Collections" status of handed-over invoices in
    ``result.extras["status"]`` and the :class:`OverdueReport` in ``result.extras["overdue"]``.
    """
    _Tracker(result).run()


def overdue_only(sheets: Mapping[str, RawSheet], *, as_of: dt.date | None = None,
                 plugins: Plugins | None = None) -> RunResult:
    """Overdue tracking alone (``sheetbill overdue``): post payments and track, issue no invoices."""
    return run_billing(sheets, as_of=as_of, plugins=plugins, bill_charges=False)


class _Tracker:
    """One run of overdue tracking over a :class:`RunResult`; every index is built once (linear)."""

    def __init__(self, result: RunResult):
        self.result = result
        self.book = result.book
        self.settings = settings = result.book.settings
        self.as_of = settings.as_of
        self.currency = settings.currency
        self.days = settings.reminder_days
        self.levels = len(settings.reminder_days)
        self.report = OverdueReport()
        self.invoices = {inv.invoice_no: inv for inv in self.book.invoices}
        self.reminders: dict[str, list[Reminder]] = defaultdict(list)
        for reminder in self.book.reminders:
            self.reminders[reminder.invoice_no].append(reminder)
        for history in self.reminders.values():
            history.sort(key=lambda r: (r.date, r.level, r.row))
        self.collections = {c.invoice_no: c for c in self.book.collections}
        self.last_payment: dict[str, dt.date] = {}
        for payment in self.book.payments:
            if (payment.type or "Payment") == "Payment" and payment.amount > 0:
                known = self.last_payment.get(payment.invoice_no)
                if known is None or payment.date > known:
                    self.last_payment[payment.invoice_no] = payment.date
        self.contacts = ContactLog(self.book.contacts, self.as_of)
        self.reference_format = settings.payment_reference_format or "{invoice_no}"
        self.plans: dict[str, PaymentPlan] = {}
        self.overdue_rows: list[tuple] = []
        self.reported: set[tuple[str, str]] = set()  # parties whose missing contact details were reported
        self.agency_reported = False

    def problem(self, problem: Problem) -> None:
        self.result.problems.append(problem)

    # --- checks -------------------------------------------------------------------------------------

    def check_settings(self) -> None:
        """Reminder Fees that do not match the levels, and a Payment Reference Format that cannot be filled."""
        rows = self.settings.rows
        fees = self.settings.reminder_fees
        if fees and len(fees) != self.levels:
            self.problem(warning(
                f"Reminder Fees has {len(fees)} amounts for {self.levels} reminder levels: "
                + ("missing fees count as 0" if len(fees) < self.levels else "the extra fees are ignored"),
                "Settings", rows.get("reminderfees"), "Value", code="reminder-fees-mismatch"))
        if not reference_format_is_valid(self.reference_format):
            self.problem(warning("Payment Reference Format may only use {invoice_no} and {customer_id}; "
                                 "the invoice number is used instead", "Settings",
                                 rows.get("paymentreferenceformat"), "Value", code="bad-reference-format"))
            self.reference_format = "{invoice_no}"

    def check_plans(self) -> None:
        """Keep the valid Payment Plans rows, one per invoice, and report the others where they are."""
        maximum = self.settings.max_installments
        for plan in self.book.plans:
            invoice = self.invoices.get(plan.invoice_no)
            if invoice is None:
                self.problem(error(f"unknown invoice {plan.invoice_no!r}: the plan is ignored", "Payment Plans",
                                   plan.row, "Invoice No", code="unknown-invoice"))
            elif invoice.kind != KIND_INVOICE or invoice.bill_to_type != "Customer":
                self.problem(error(f"{plan.invoice_no} is not a customer invoice: a payment plan splits what a "
                                   "customer owes; the plan is ignored", "Payment Plans", plan.row, "Invoice No",
                                   code="plan-not-customer-invoice"))
            elif plan.invoice_no in self.plans:
                first = self.plans[plan.invoice_no]
                self.problem(error(f"{plan.invoice_no} already has plan {first.plan_id} (row {first.row}); "
                                   "this row is ignored", "Payment Plans", plan.row, "Invoice No",
                                   code="plan-duplicate"))
            else:
                if plan.installments > maximum:
                    self.problem(warning(f"{plan.installments} installments is more than Max Installments "
                                         f"({maximum}); the plan is used as agreed", "Payment Plans", plan.row,
                                         "Installments", code="plan-over-max"))
                self.plans[plan.invoice_no] = plan

    def check_contacts(self) -> None:
        """Contacts rows naming an unknown invoice, or another customer's invoice."""
        for contact in self.book.contacts:
            if not contact.invoice_no:
                continue
            invoice = self.invoices.get(contact.invoice_no)
            if invoice is None:
                self.problem(warning(f"unknown invoice {contact.invoice_no!r}", "Contacts", contact.row,
                                     "Invoice No", code="unknown-invoice"))
            elif invoice.customer_id != contact.customer_id:
                self.problem(warning(f"{contact.invoice_no} is an invoice of customer {invoice.customer_id}, "
                                     f"not {contact.customer_id}", "Contacts", contact.row, "Customer ID",
                                     code="contact-wrong-customer"))

    # --- the run ------------------------------------------------------------------------------------------

    def run(self) -> None:
        self.check_settings()
        self.check_plans()
        self.check_contacts()
        aging = {bucket: dict.fromkeys(BILL_TO_TYPES, ZERO) for bucket in BUCKETS}
        for invoice in self.book.invoices:
            if invoice.kind != KIND_INVOICE:
                continue
            account = self.result.accounts[invoice.invoice_no]
            pieces = self.pieces(invoice, account)
            if account.balance <= 0 or account.status == "Cancelled":
                continue
            overdue = []
            for piece in pieces:
                if piece.balance <= 0:
                    continue
                days = (self.as_of - piece.due_date).days
                column = aging[aging_bucket(days)]
                column[invoice.bill_to_type] = column.get(invoice.bill_to_type, ZERO) + piece.balance
                self.report.open_balance += piece.balance
                if days > 0:
                    overdue.append(piece)
                    self.report.overdue_balance += piece.balance
            if overdue:
                self.dun(invoice, account, overdue)
            if invoice.invoice_no in self.collections:
                self.result.extras.setdefault("status", {})[invoice.invoice_no] = IN_COLLECTIONS
        self.report.aging = aging
        self.advise_plans()
        self.result.outputs.extend(self.outputs())
        issued = self.report.issued
        self.result.summary.update({
            "reminders_issued": sum(1 for r in issued if self.invoices[r.invoice_no].bill_to_type != "Payer"),
            "follow_ups_issued": sum(1 for r in issued if self.invoices[r.invoice_no].bill_to_type == "Payer"),
            "handed_to_collections": len(self.report.handed_over),
            "open_balance": str(self.report.open_balance),
            "overdue_balance": str(self.report.overdue_balance),
        })
        self.result.extras["overdue"] = self.report

    def pieces(self, invoice: Invoice, account: Account) -> list[_Piece]:
        """The invoice's open amounts by due date: its installments when on a plan, else its balance."""
        plan = self.plans.get(invoice.invoice_no)
        if plan is None:
            return [_Piece(invoice.due_date, account.balance)]
        installments = plan_installments(plan, invoice.amount - account.credited,
                                         account.paid + account.written_off + account.transferred, self.as_of,
                                         self.currency)
        self.report.installments[invoice.invoice_no] = installments
        return [_Piece(i.due_date, i.balance, i) for i in installments]

    # --- dunning --------------------------------------------------------------------------------------------

    def dun(self, invoice: Invoice, account: Account, overdue: list[_Piece]) -> None:
        """Issue the reminder or hand-off that is due for ``invoice`` (at most one) and add its Overdue rows."""
        no = invoice.invoice_no
        is_customer = invoice.bill_to_type != "Payer"
        history = self.reminders.get(no, [])
        anchor = overdue[0].due_date
        sequence = [r for r in history if r.date > anchor]
        level = min(sequence[-1].level, self.levels) if sequence else 0
        last = sequence[-1].date if sequence else None
        fees = sum((r.fee for r in history), ZERO)
        rate = self.settings.default_interest_percent if is_customer else None
        interests = [interest(p.balance, rate, (self.as_of - p.due_date).days, self.currency) for p in overdue]
        recipient = self.recipient(invoice)
        handed = self.collections.get(no)
        action: tuple[str, dt.date | None]
        if handed is not None:
            action = (self.with_agency(handed.agency, handed.handed_over_on), None)
        elif (pause := self.contacts.pause(invoice)) is not None:
            action = pause
        elif level < self.levels:
            day = anchor + dt.timedelta(days=self.days[0]) if last is None else \
                last + dt.timedelta(days=self.days[level])
            already = bool(history) and history[-1].date >= self.as_of
            if self.as_of < day or already:
                action = (self.step_name(invoice, level + 1), day)
            elif recipient is None:
                self.report_missing_contact(invoice)
                action = (UPDATE_CONTACT, self.as_of)
            else:
                fee = self.fee(level + 1) if is_customer else ZERO
                fees += fee
                self.issue(invoice, overdue, interests, level + 1, recipient, fee, fees)
                level, last = level + 1, self.as_of
                action = self.after_reminder(invoice, level, last)
        elif not is_customer:
            action = (FOLLOW_UP, None)
        else:
            action = self.hand_off(invoice, account, last, fees, sum(interests, ZERO))
        contact = recipient.address if recipient is not None else None
        for index, piece in enumerate(overdue):
            days = (self.as_of - piece.due_date).days
            self.overdue_rows.append((
                no, piece.installment.label if piece.installment else None, invoice.bill_to_type,
                invoice.bill_to_name, invoice.customer_id, contact, piece.due_date, days, aging_bucket(days),
                piece.balance, quantize(fees, self.currency) if index == 0 else ZERO, interests[index], level, last,
                action[0], action[1]))

    def step_name(self, invoice: Invoice, level: int) -> str:
        """The Next Action of a level that is not due yet."""
        if invoice.bill_to_type == "Payer":
            return FOLLOW_UP
        return "final notice" if level == self.levels else f"reminder {level}"

    def after_reminder(self, invoice: Invoice, level: int, last: dt.date) -> tuple[str, dt.date | None]:
        """The Next Action after ``level`` was issued on ``last``."""
        if level < self.levels:
            return self.step_name(invoice, level + 1), last + dt.timedelta(days=self.days[level])
        if invoice.bill_to_type == "Payer":
            return FOLLOW_UP, None
        return self.hand_off_name(), last + dt.timedelta(days=self.settings.collection_after_days)

    def hand_off_name(self) -> str:
        agency = self.settings.collection_agency
        return f"hand over to the collection agency {agency}" if agency else "hand over to the collection agency"

    def fee(self, level: int) -> Decimal:
        """The Reminder Fee of ``level`` (0 when the list is shorter)."""
        fees = self.settings.reminder_fees
        return quantize(fees[level - 1], self.currency) if level <= len(fees) else ZERO

    def hand_off(self, invoice: Invoice, account: Account, final: dt.date | None, fees: Decimal,
                 interest_due: Decimal) -> tuple[str, dt.date | None]:
        """After the final notice: hand the invoice to the agency when it is time and nobody responded."""
        if final is None:  # pragma: no cover - the final level always has a reminder date
            return self.hand_off_name(), None
        no = invoice.invoice_no
        paid = self.last_payment.get(no)
        responded = self.contacts.response_since(invoice, final)
        if paid is not None and paid >= final:
            responded = max(paid, responded) if responded else paid
        if responded is not None:
            return (f"responded on {responded.isoformat()} after the final notice: agree a payment plan or "
                    "settle the balance (no automatic hand-off)", None)
        day = max(final + dt.timedelta(days=self.settings.collection_after_days), final + _ONE_DAY)
        if self.as_of < day:  # never on the final notice's own day: one step per invoice and day
            return self.hand_off_name(), day
        agency = self.settings.collection_agency
        if not agency:
            if not self.agency_reported:
                self.agency_reported = True
                self.problem(warning("an invoice is due for hand-off but Collection Agency is blank: set it",
                                     "Settings", self.settings.rows.get("collectionagency"), "Value",
                                     code="collection-agency-missing"))
            return "set Collection Agency in Settings to hand over", self.as_of
        principal = account.balance
        handed = Collection(no, invoice.customer_id, principal, self.as_of, quantize(fees, self.currency),
                            interest_due, agency,
                            quantize(principal * self.settings.collection_fee_percent / 100, self.currency))
        self.collections[no] = handed
        self.report.handed_over.append(handed)
        return self.with_agency(agency, self.as_of), None

    @staticmethod
    def with_agency(agency: str | None, since: dt.date) -> str:
        """The Next Action of an invoice with the agency."""
        name = f"the collection agency {agency}" if agency else "the collection agency"
        return f"with {name} since {since.isoformat()}"

    # --- reminders --------------------------------------------------------------------------------------------

    def recipient(self, invoice: Invoice) -> Recipient | None:
        """Where a reminder for ``invoice`` goes: a valid email, else a full postal address."""
        party = (self.book.payers.get(invoice.bill_to_id) if invoice.bill_to_type == "Payer"
                 else self.book.customers.get(invoice.bill_to_id))
        return reminder_recipient(party)

    def report_missing_contact(self, invoice: Invoice) -> None:
        """One Problem per party whose reminder is due but has nowhere to go."""
        is_payer = invoice.bill_to_type == "Payer"
        key = (invoice.bill_to_type, invoice.bill_to_id)
        if key in self.reported:
            return
        self.reported.add(key)
        sheet = "Payers" if is_payer else "Customers"
        party = (self.book.payers if is_payer else self.book.customers).get(invoice.bill_to_id)
        if party is None:
            self.problem(warning(f"{invoice.bill_to_id!r} of invoice {invoice.invoice_no} is not on the {sheet} "
                                 "sheet: no reminder can be sent", sheet, None,
                                 "Payer ID" if is_payer else "Customer ID", code="unknown-party"))
            return
        what = "a reminder" if not is_payer else "a follow-up"
        if party.email and party.email.strip():
            found = f"Email {party.email.strip()!r} is not a valid address and the postal address is incomplete"
        else:
            found = "no Email and an incomplete postal address"
        self.problem(warning(f"{found}: {what} for {invoice.invoice_no} is due but cannot be issued; enter a "
                             "valid Email or Street, Postal Code and City", sheet, party.row, "Email",
                             code="contact-details-missing"))

    def issue(self, invoice: Invoice, overdue: list[_Piece], interests: list[Decimal], level: int,
              recipient: Recipient, fee: Decimal, fees: Decimal) -> None:
        """Add reminder ``level`` for ``invoice`` to the history."""
        balance = sum((p.balance for p in overdue), ZERO)
        is_payer = invoice.bill_to_type == "Payer"
        interest_due = sum(interests, ZERO)
        amount_due = balance if is_payer else balance + fees + interest_due
        text = (self.follow_up_text(invoice, overdue, level, balance, recipient) if is_payer
                else self.reminder_text(invoice, overdue, level, balance, fees, interest_due, amount_due, recipient))
        reminder = Reminder(self.as_of, invoice.invoice_no, level, recipient.name, recipient.channel,
                            recipient.address, amount_due, fee, text, balance, ZERO if is_payer else fees,
                            ZERO if is_payer else interest_due)
        self.reminders[invoice.invoice_no].append(reminder)
        self.report.issued.append(reminder)

    def reference(self, invoice: Invoice) -> str:
        """The payment reference of ``invoice`` (Payment Reference Format filled in)."""
        return payment_reference(self.reference_format, invoice)

    def payment_details(self, invoice: Invoice) -> str:
        """How to pay: methods, IBAN and reference."""
        parts = [self.settings.payment_methods] if self.settings.payment_methods else []
        if self.settings.bank_iban:
            parts.append(f"IBAN {self.settings.bank_iban}")
        parts.append(f"payment reference {self.reference(invoice)}")
        return ", ".join(parts)

    @staticmethod
    def describe(invoice: Invoice, overdue: list[_Piece]) -> tuple[str, str]:
        """What is overdue, naming the missed installments of a plan, and its verb ("is" or "are")."""
        first = overdue[0].installment
        if first is None:
            return (f"invoice {invoice.invoice_no} of {invoice.issue_date.isoformat()} (due "
                    f"{invoice.due_date.isoformat()})", "is")
        numbers = [str(p.installment.number) for p in overdue if p.installment]
        dates = ", ".join(p.due_date.isoformat() for p in overdue)
        which = f"installment {numbers[0]}" if len(numbers) == 1 else \
            f"installments {', '.join(numbers[:-1])} and {numbers[-1]}"
        return (f"{which} of {first.count} (due {dates}) of payment plan {first.plan_id} for invoice "
                f"{invoice.invoice_no}", "is" if len(numbers) == 1 else "are")

    def reminder_text(self, invoice: Invoice, overdue: list[_Piece], level: int, balance: Decimal, fees: Decimal,
                      interest_due: Decimal, amount_due: Decimal, recipient: Recipient) -> str:
        """The text of a customer reminder: amounts, due date, how to pay; the final notice names the agency."""
        currency = self.currency
        final = level == self.levels
        title = "Final notice" if final else f"Reminder {level}"
        days = self.settings.collection_after_days if final else self.days[level]
        pay_by = (self.as_of + dt.timedelta(days=days)).isoformat()
        what, verb = self.describe(invoice, overdue)
        text = [f"{title}. Dear {recipient.name}, {what} {verb} overdue: "
                f"{fmt(balance, currency)} is still open."]
        if fees:
            text.append(f"Reminder fees: {fmt(fees, currency)}.")
        rate = self.settings.default_interest_percent
        if rate is not None:
            text.append(f"Interest at {rate:f} % a year: {fmt(interest_due, currency)}.")
        text.append(f"Please pay {fmt(amount_due, currency)} by {pay_by} ({self.payment_details(invoice)}).")
        if final:
            agency = self.settings.collection_agency
            text.append("Without payment by then, the claim will be handed over to "
                        + (f"the collection agency {agency}." if agency else "a collection agency."))
        return " ".join(text)

    def follow_up_text(self, invoice: Invoice, overdue: list[_Piece], level: int, balance: Decimal,
                       recipient: Recipient) -> str:
        """The text of a payer follow-up: the claim, the customer, the amount; no fees, no interest."""
        customer = self.book.customers.get(invoice.customer_id)
        who = f"{customer.name} ({invoice.customer_id})" if customer else invoice.customer_id
        what, _ = self.describe(invoice, overdue)
        return (f"Follow-up {level}. Dear {recipient.name}, our {what} for {who} over "
                f"{fmt(balance, self.currency)} is unpaid. Please let us know the status of the claim "
                f"or pay ({self.payment_details(invoice)}).")

    # --- advice and outputs -----------------------------------------------------------------------------------

    def advise_plans(self) -> None:
        """Suggest a payment plan to each customer whose open balance reaches Payment Plan Threshold."""
        threshold = self.settings.payment_plan_threshold
        count = self.settings.max_installments
        if threshold is None or count < 1:
            return
        owed: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for invoice in self.book.invoices:
            account = self.result.accounts[invoice.invoice_no]
            if (invoice.kind != KIND_INVOICE or invoice.bill_to_type != "Customer" or account.balance <= 0
                    or account.status == "Cancelled" or invoice.invoice_no in self.plans
                    or invoice.invoice_no in self.collections):
                continue
            owed[invoice.customer_id] += account.balance
        for customer_id in sorted(owed):
            total = owed[customer_id]
            if total < threshold:
                continue
            parts = split_equal(total, count, self.currency)
            offer = f"{count} x {fmt(parts[0], self.currency)}"
            if parts[-1] != parts[0]:
                offer += f" (the last one {fmt(parts[-1], self.currency)})"
            self.result.advice.append(Advice(
                customer_id, "", "payment plan",
                f"open balance of {fmt(total, self.currency)} is at or above the Payment Plan Threshold: "
                f"offer {offer} and record the plan in Payment Plans"))

    def outputs(self) -> list[OutputSheet]:
        """Overdue, Aging, Reminders, Installments and Collections, in that order."""
        q = self.currency
        aging_rows = [(bucket, quantize(v["Customer"], q), quantize(v["Payer"], q),
                       quantize(sum(v.values(), ZERO), q)) for bucket, v in self.report.aging.items()]
        reminders = [(r.date, r.invoice_no, r.level, r.recipient, r.channel, r.address,
                      quantize(r.amount_due or ZERO, q), quantize(r.fee or ZERO, q), r.text, r.principal, r.fees,
                      r.interest)
                     for r in [*self.book.reminders, *self.report.issued]]
        installments = [(i.plan_id, i.invoice_no, i.number, i.due_date, i.amount, i.paid, i.balance, i.status)
                        for invoice_no in self.plans for i in self.report.installments.get(invoice_no, ())]
        since: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for payment in self.book.payments:
            handed = self.collections.get(payment.invoice_no)
            if handed is not None and (payment.type or "Payment") == "Payment" \
                    and payment.date > handed.handed_over_on:
                since[payment.invoice_no] += payment.amount
        collections = []
        for c in [*self.book.collections, *self.report.handed_over]:
            account = self.result.accounts.get(c.invoice_no)
            collections.append((c.invoice_no, c.customer_id, quantize(c.principal, q), quantize(c.fees or ZERO, q),
                                quantize(c.interest or ZERO, q), c.agency, quantize(c.agency_fee or ZERO, q),
                                c.handed_over_on, quantize(since[c.invoice_no], q),
                                account.balance if account else None))
        chart = BarChart("Open balance by age", 0, (1, 2), anchor="F2")
        return [
            OutputSheet(contract.OVERDUE_SHEET, contract.OVERDUE_COLUMNS, self.overdue_rows),
            OutputSheet(contract.AGING_SHEET, contract.AGING_COLUMNS, aging_rows, chart),
            OutputSheet(contract.REMINDERS_SHEET, contract.REMINDER_COLUMNS, reminders),
            OutputSheet(contract.INSTALLMENTS_SHEET, contract.INSTALLMENT_COLUMNS, installments),
            OutputSheet(contract.COLLECTIONS_SHEET, contract.COLLECTION_COLUMNS, collections),
        ]
