"""The run: one pipeline of stages with typed hand-offs, composed here and nowhere else.

::

    raw sheets --read-->  Book + Problems                  (book.load_book)
      Book --adjudicate--> decisions per charge              (adjudication.adjudicate_all)
      Book, decisions --issue--> IssueReport                 (billing.issue: invoices, lines, credit notes)
      invoices, Payments, history --book--> LedgerReport     (ledger.build_ledger: items, allocations, credit)
      Book, invoices, ledger --track--> OverdueReport        (overdue.track_overdue: reminders, hand-offs)
      ... + this run's reminders --book--> LedgerReport      (the accounts as written)
      reports --render--> OutputSheets                       (outputs: Invoices, Allocations, Accounts, ...)

Each stage is a function from typed inputs to a typed report; none changes what it is given, and
none imports a later one. The run is a pure function of the workbook and the as-of date: issued
invoices, lines, reminders and hand-offs are read back as history and written again unchanged, so a
second run with the same inputs produces identical outputs.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from . import contract
from .adjudication import adjudicate_all
from .billing import IssueReport, correction_advice, issue
from .book import Book, load_book
from .decision_memo import DecisionMemo, packed, unpacked, without_billed_shares
from .einvoice.requirements import requirement_problems
from .i18n import language, msg
from .ledger import ApplyCredits, LedgerReport, Receivable, build_ledger, valid_payments
from .mandates import debit_advice
from .memo import RunMemo, park
from .models import (
    Advice,
    BillToType,
    Collection,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    Payment,
    PaymentPlan,
    Reminder,
)
from .money import ZERO, minor_unit
from .outputs import (
    accounts_sheet,
    advice_sheet,
    allocations_sheet,
    canonical,
    invoice_lines_sheet,
    invoices_sheet,
    overdue_sheets,
    problems_sheet,
)
from .overdue import OverdueReport, track_overdue
from .plans import valid_plans
from .plugins.manager import Plugins
from .problems import Problem, error
from .seals import seal_records
from .sheets import OutputSheet, RawSheet

#: Where a :class:`~sheetbill.memo.RunMemo` keeps the adjudication's :class:`DecisionMemo`.
DECISIONS = "decisions"
#: Where it keeps whether the run that kept it issued with those decisions (a billing run): only then were
#: the billed charges of every customer they give checked against the history that run left.
DECISIONS_ISSUED = "decisions-issued"


class RunMode(StrEnum):
    """What a run does: ``bill`` issues what is due and tracks overdue invoices; ``overdue`` issues no
    new invoices (payments are posted and overdue tracking runs over what was issued before)."""

    BILL = "bill"
    OVERDUE = "overdue"


@dataclass
class RunResult:
    """What a run produced.

    Attributes:
        book: the typed inputs and history as read.
        issued: what this run issued.
        ledger: every account with every item, this run's reminder fees and interest included.
        overdue: what overdue tracking derived and issued.
        problems: everything wrong, with locations and codes, in the order the stages found them.
        advice: what the clerk should do.
        outputs: the sheets sheetbill owns, to write back.
        decision_memo: the adjudication's decisions per customer, to pass to the next run
            (``run_billing(..., decision_memo=...)``) so that it decides only what changed; a run in
            :attr:`RunMode.OVERDUE` adjudicates nothing and passes on the memo it was given. None when
            the run kept it in its :class:`~sheetbill.memo.RunMemo` (``run_billing(..., memo=...)``).
    """

    book: Book
    issued: IssueReport
    ledger: LedgerReport
    overdue: OverdueReport
    problems: list[Problem] = field(default_factory=list)
    advice: list[Advice] = field(default_factory=list)
    outputs: list[OutputSheet] = field(default_factory=list)
    decision_memo: DecisionMemo | None = None

    @property
    def new_invoices(self) -> list:
        """Invoices and credit notes issued by this run."""
        return list(self.issued.invoices)

    @property
    def invoices(self) -> list[Invoice]:
        """Every invoice and credit note: the history read, then this run's."""
        return [*self.book.invoices, *self.issued.invoices]

    @property
    def lines(self) -> list[InvoiceLine]:
        """Every invoice line: the history read, then this run's."""
        return [*self.book.lines, *self.issued.lines]

    @property
    def receivables(self) -> dict[str, Receivable]:
        """Every invoice as an open item (amounts, allocations, balance, status), by invoice number."""
        return self.ledger.receivables

    @property
    def exit_code(self) -> int:
        """0 when nothing was skipped, 1 when some rows were skipped as Problems."""
        return 1 if any(p.severity == "error" for p in self.problems) else 0

    @property
    def summary(self) -> dict:
        """Counts and totals for people and ``--json`` (:func:`summarize`)."""
        return summarize(self)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a run.

    A run allocates millions of small objects (records, Decimals, lines) and frees almost none
    until it ends, which makes the collector rescan the young heap over and over: measured at
    100,000 charges it took about 45 % of the run. Nothing a run builds depends on cycle collection.

    When the run ends, what it made is frozen (:func:`gc.freeze`) before the collector is enabled again:
    otherwise the collector's next young collection would scan every object the run made at once
    (measured: 0.4 s at the end of a daily click of 100,000 charges). A one-off command ends with them
    frozen. In a process that runs many times (the HTTP back end) the next run unfreezes them and
    collects once before it pauses the collector: by then the last run's objects are mostly freed, so
    that collection is short, and whatever among them became cyclic garbage is freed. (Objects another
    program froze are unfrozen too: sheetbill never forks, so it loses nothing by it.)
    """
    was_enabled = gc.isenabled()
    gc.disable()
    if was_enabled and gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()


def run_billing(sheets: Mapping[str, RawSheet], *, as_of: dt.date | None = None, plugins: Plugins | None = None,
                mode: RunMode = RunMode.BILL, memo: RunMemo | None = None,
                decision_memo: DecisionMemo | None = None, remember_decisions: bool = True,
                keep_charges: bool = True) -> RunResult:
    """Run the pipeline over ``sheets`` and return the outputs to write back.

    :param sheets: every sheet the front end read (inputs and sheetbill's own history sheets).
    :param as_of: the run's date; default Settings ``As Of Date``, else today.
    :param plugins: the plugin facade (default: built-ins plus installed plugins).
    :param mode: :attr:`RunMode.BILL` (default) or :attr:`RunMode.OVERDUE` (issue nothing new).
    :param memo: the last run's memo of this workbook (:mod:`sheetbill.memo`), updated in place for the
        next run (parsed rows, verified seals, and the decisions under ``extras["decisions"]``); it spares
        work, never changes the result.
    :param decision_memo: the previous run's :attr:`RunResult.decision_memo` (default: the one ``memo``
        keeps): customers whose charges, coverage and row are unchanged (and settings, services, payers and
        plugin versions too) are not adjudicated again. The result is the same with or without it.
    :param remember_decisions: build :attr:`RunResult.decision_memo` for a next run (False when nobody
        keeps it: it costs time and memory).
    :param keep_charges: False lets the run drop the charges (:attr:`RunResult.book` then has none) and
        their decisions as soon as the invoices are issued, for a caller that only writes the result: at a
        million charges they hold some 400 MB in a daily click and 1 GB in a first run, which the accounts
        and the output sheets need not share memory with.
    :raises ConfigurationError: when the workbook cannot be billed at all (nothing is written).
    """
    with collector_paused():
        book, problems = load_book(sheets, as_of=as_of, memo=memo)
        del sheets  # the raw cells are not needed any more: let a caller's temporary be freed
        earlier = unpacked(memo.extras.get(DECISIONS)) if memo is not None and decision_memo is None else None
        issued_with = earlier is not None and memo.extras.get(DECISIONS_ISSUED) is True
        if memo is not None:
            memo.extras[DECISIONS_ISSUED] = False  # until this run keeps decisions it issued with

        def keep(decisions: DecisionMemo) -> None:
            # Kept packed: a memo is loaded and saved by every import too, which never looks at them; the
            # buckets of customers whose decisions were all reused keep their bytes.
            nonlocal earlier
            memo.extras[DECISIONS] = packed(decisions, earlier[1] if earlier is not None else None)
            memo.extras[DECISIONS_ISSUED] = mode == RunMode.BILL
            earlier = None
            park(memo)  # the rows parsed anew, charges too, no longer held by the memo as objects

        # the decisions read are held by ``earlier`` alone, let go when this run's are kept
        return run_stages(book, problems, plugins if plugins is not None else Plugins(), mode,
                          earlier[0] if earlier is not None else decision_memo,
                          remember_decisions or memo is not None, keep_charges, issued_with,
                          keep if memo is not None else None)


def overdue_only(sheets: Mapping[str, RawSheet], *, as_of: dt.date | None = None,
                 plugins: Plugins | None = None) -> RunResult:
    """Overdue tracking alone (``sheetbill overdue``): post payments and track, issue no invoices."""
    return run_billing(sheets, as_of=as_of, plugins=plugins, mode=RunMode.OVERDUE)


#: The sheets a party's account is made of (what :func:`accounts_as_of` reports Problems of).
ACCOUNT_SHEETS = frozenset({contract.SETTINGS.name, contract.PAYMENTS.name, contract.PAYMENT_PLANS.name,
                            *contract.HISTORY_SHEETS})


def accounts_as_of(sheets: Mapping[str, RawSheet], as_of: dt.date | None = None,
                   ) -> tuple[Book, LedgerReport, list[Problem]]:
    """The accounts from history alone, as they stood at the end of ``as_of``: read -> ledger.

    Nothing is issued: no invoices, no reminders, no hand-offs; only what the history sheets
    (Invoices, Reminders, Collections) and Payments hold is booked (:func:`ledger_as_of`). This is
    what a statement of account shows.

    :param sheets: every sheet the front end read.
    :param as_of: the last day booked (default Settings ``As Of Date``, else today).
    :returns: the Book as read, the ledger, and the Problems of the sheets the accounts are made of
        (Settings, Payments, Payment Plans and the history) and of booking; Problems of the other
        input sheets (charges, services, coverage) concern billing, not accounts, and are left out.
    """
    book, problems = load_book(sheets, as_of=as_of)
    ledger, checks = ledger_as_of(book, book.settings.as_of)
    read = [p for p in problems if p.sheet in ACCOUNT_SHEETS]
    return book, ledger, [*read, *checks, *ledger.problems]


def ledger_as_of(book: Book, as_of: dt.date) -> tuple[LedgerReport, list[Problem]]:
    """The ledger of ``book``'s history with every item dated after ``as_of`` left out.

    Unlike a run (which books a payment even when it is dated after the run's day), a statement
    as of a day must not show what happened later, so invoices, credit notes, fees, interest and
    money dated later are not booked. Plans and payments are checked against every invoice, as a
    run checks them; the checks' Problems are returned beside the ledger.
    """
    inputs = ledger_inputs(book, as_of)
    return build_ledger(inputs.invoices, inputs.payments, inputs.reminders, inputs.collections, inputs.plans,
                        currency=inputs.currency, apply_credits=inputs.apply_credits), inputs.checks


@dataclass(frozen=True)
class LedgerInputs:
    """What :func:`ledger_as_of` books (the arguments of :func:`sheetbill.ledger.build_ledger`), and the
    Problems of checking plans and payments."""

    invoices: list[Invoice]
    payments: list[Payment]
    reminders: list[Reminder]
    collections: list[Collection]
    plans: dict[str, PaymentPlan]
    currency: str
    apply_credits: ApplyCredits
    checks: list[Problem]


def ledger_inputs(book: Book, as_of: dt.date) -> LedgerInputs:
    """The items of ``book``'s history dated up to ``as_of`` that its ledger books (see :func:`ledger_as_of`)."""
    by_no = {invoice.invoice_no: invoice for invoice in book.invoices}
    checks: list[Problem] = []
    plans = valid_plans(book, by_no, checks)
    payments = valid_payments(book, by_no, checks)
    mode = _apply_credits(book, checks)
    invoices = [invoice for invoice in book.invoices if invoice.issue_date <= as_of]
    issued = {invoice.invoice_no for invoice in invoices} | {""}
    return LedgerInputs(
        invoices, [p for p in payments if p.date <= as_of and (p.invoice_no or "") in issued],
        [r for r in book.reminders if r.date <= as_of and r.invoice_no in issued],
        [c for c in book.collections if c.handed_over_on <= as_of and c.invoice_no in issued],
        {no: plan for no, plan in plans.items() if no in issued}, book.settings.currency, mode, checks)


def run_stages(book: Book, problems: list[Problem], plugins: Plugins, mode: RunMode,
               decision_memo: DecisionMemo | None = None, remember_decisions: bool = True,
               keep_charges: bool = True, memo_left_history: bool = False,
               keep_memo: Callable[[DecisionMemo], None] | None = None) -> RunResult:
    """The stages after reading, in order; see the module docstring. Without ``keep_charges``, ``book``
    loses its charges once the invoices are issued (see :func:`run_billing`). ``memo_left_history``: the
    ``decision_memo`` was kept by the run whose memo the book was read with, and that run issued with it
    (a billing run), so where the history is as that run left it (:attr:`Book.history_as_left`), a
    customer whose decisions it gives was billed from these very lines (see :func:`sheetbill.billing.issue`).

    ``keep_memo`` is given the decisions' memo for the next run as soon as the invoices are issued (and
    :attr:`RunResult.decision_memo` is then None): what it keeps of them (packed) is all that stays of them,
    so that the memory their objects take, scattered among that of the decisions let go after issuing, is
    free for the stages after (measured at 1,000,000 charges: a first run held 380 MiB of such memory
    half-used while it wrote; the daily click peaked 15 MiB lower)."""
    settings = book.settings
    memo = decision_memo  # a run that adjudicates nothing passes the memo on unchanged
    del decision_memo
    if mode == RunMode.BILL:
        # the customers whose decisions come from the memo are as the run that kept it left them, lines and all
        settled = memo_left_history and book.history_as_left and not book.edited_charges and not book.edited_invoices
        adjudicated = adjudicate_all(book, plugins, until=settings.as_of, memo=memo,
                                     remember=remember_decisions, settled=settled)
        as_left = adjudicated.reused if settled else frozenset()
        issued = issue(book, adjudicated.decisions, as_left, adjudicated.due)
        # the customers as the last run left them keep its memo entries, its billed shares already left out
        memo = without_billed_shares(adjudicated.pending, adjudicated.due, issued.unbilled, as_left)
        del adjudicated  # the decisions of every charge: not needed after issuing
    else:
        issued = IssueReport()
    if keep_memo is not None and memo is not None:
        keep_memo(memo)
        memo = None
    if not keep_charges:
        book.charges = []  # no stage after issuing looks at them
    invoices = [*book.computed_invoices(), *issued.invoices]
    lines = [*book.lines, *issued.lines]
    by_no = {invoice.invoice_no: invoice for invoice in invoices}
    checks: list[Problem] = []
    plans = valid_plans(book, by_no, checks)
    payments = valid_payments(book, by_no, checks)
    mode_of_credit = _apply_credits(book, checks)
    checks.extend(requirement_problems(settings, [*book.customers.values(), *book.payers.values()]))

    def accounts(reminders, collections):
        return build_ledger(invoices, payments, reminders, collections, plans, currency=settings.currency,
                            apply_credits=mode_of_credit)

    ledger = accounts(book.reminders, book.collections)
    overdue = track_overdue(book, invoices, ledger)
    if overdue.issued or overdue.handed_over:
        # The fees and interest this run books are items of the accounts too: derive the accounts and
        # every overdue figure again with them, exactly as the next run will read them back, so that
        # a second run with the same inputs writes the same sheets.
        after = replace(book, reminders=[*book.reminders, *overdue.issued],
                        collections=[*book.collections, *overdue.handed_over])
        ledger = accounts(after.reminders, after.collections)
        issued_now, handed_now = overdue.issued, overdue.handed_over
        overdue = track_overdue(after, invoices, ledger)
        overdue.issued, overdue.handed_over = issued_now, handed_now
        overdue.reminders_issued, overdue.follow_ups_issued = _counts(issued_now, by_no)
    problems = [*problems, *issued.problems, *checks, *ledger.problems, *overdue.problems]
    advice = [*issued.advice, *correction_advice(invoices, lines, settings.as_of),
              *(Advice(*row) for row in ledger.advice), *overdue.advice,
              *debit_advice(book.debits, settings.currency)]
    result = RunResult(book, issued, ledger, overdue, problems, advice, decision_memo=memo)
    currency = settings.currency
    lang = language(settings.language)
    derived = [*overdue_sheets(overdue, book.reminders, book.collections, book.payments, ledger, currency),
               allocations_sheet(ledger)]
    accounts = accounts_sheet(ledger, _party_names(book), overdue, currency)
    notes = [problems_sheet(problems, lang), advice_sheet(advice, lang)]
    # History is written as it was read, edits included (with their old Seals, so restoring a value
    # makes its row verify again); rows without a Seal get one.
    shown = [*book.invoices, *issued.invoices]
    invoice_seals, line_seals = seal_records(shown, lines, minor_unit(currency))
    # The largest sheets are canonical by construction (history is read back canonical, new lines are
    # built canonical, the accounts' amounts are rounded as they are put in), which spares a pass and a
    # copy over a million rows.
    result.outputs = [invoices_sheet(shown, ledger, overdue.statuses, currency, invoice_seals),
                      invoice_lines_sheet(lines, line_seals, book.lines_kept, currency),
                      *(canonical(output, currency) for output in derived),
                      accounts, *(canonical(output, currency) for output in notes)]
    return result


def _counts(issued, by_no) -> tuple[int, int]:
    """Customer reminders and payer follow-ups among ``issued``."""
    follow_ups = sum(1 for r in issued if by_no[r.invoice_no].bill_to_type == BillToType.PAYER)
    return len(issued) - follow_ups, follow_ups


def _apply_credits(book: Book, problems: list[Problem]) -> ApplyCredits:
    """The Apply Credits setting; an unknown word is a Problem and the default is used."""
    try:
        return ApplyCredits(str(book.settings.apply_credits).strip().casefold())
    except ValueError:
        problems.append(error(msg("Apply Credits {value} must be automatic or manual; automatic is used",
                                  value=repr(book.settings.apply_credits)), "Settings",
                              book.settings.rows.get("applycredits"), "Value", code="bad-setting"))
        return ApplyCredits.AUTOMATIC


def _party_names(book: Book) -> dict[tuple[str, str], str]:
    """Every party's name by (party type, ID)."""
    names = {(BillToType.CUSTOMER, c.customer_id): c.name for c in book.customers.values()}
    names.update({(BillToType.PAYER, p.payer_id): p.name for p in book.payers.values()})
    return {(str(k[0]), k[1]): v for k, v in names.items()}


def summarize(result: RunResult) -> dict:
    """Counts and totals of a run, for the CLI, the buttons and ``--json``."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for invoice in result.issued.invoices:
        if invoice.kind == InvoiceKind.INVOICE:
            totals[invoice.bill_to_type] += invoice.amount
    overdue = result.overdue
    return {
        "as_of": result.book.settings.as_of.isoformat(),
        "currency": result.book.settings.currency,
        "invoices_issued": sum(1 for i in result.issued.invoices if i.kind == InvoiceKind.INVOICE),
        "credit_notes_issued": sum(1 for i in result.issued.invoices if i.kind == InvoiceKind.CREDIT_NOTE),
        "totals_by_bill_to_type": {str(k): str(v) for k, v in sorted(totals.items())},
        "errors": sum(1 for p in result.problems if p.severity == "error"),
        "warnings": sum(1 for p in result.problems if p.severity == "warning"),
        "advice": len(set(result.advice)),
        "reminders_issued": overdue.reminders_issued,
        "follow_ups_issued": overdue.follow_ups_issued,
        "handed_to_collections": len(overdue.handed_over),
        "open_balance": str(overdue.open_balance),
        "overdue_balance": str(overdue.overdue_balance),
    }
