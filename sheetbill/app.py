"""The use-cases every front end calls, over one workbook interface.

A front end (the command line on an .xlsx file, the Excel buttons, the HTTP back end for the xlwings
and Apps Script clients, the Google Sheets sync) adapts its workbook to :class:`Workbook` and calls
:func:`bill`, :func:`update_overdue` or :func:`check`; it then presents the :class:`RunOutcome`. What
a run reads (:func:`sheetbill.contract.run_reads`), when a repeated run may be skipped (the stamp),
and what is written back are decided here, once, for all of them.

:func:`statements_of_account` computes the statements of account from history alone (nothing is
issued or written). The documents and sending use-cases (``sheetbill documents``, ``sheetbill
statements``, ``sheetbill send``) live with their optional dependencies in :mod:`sheetbill.documents`
and :mod:`sheetbill.sending`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from . import __version__, contract
from .book import Book
from .compliance import check_invoice_requirements
from .handover import hand_over
from .i18n import language
from .memo import MemoStore, RunMemo
from .outputs import canonical, problems_sheet
from .plugins.manager import Plugins
from .problems import Problem
from .readiness import readiness_problems
from .run import RunMode, RunResult, accounts_as_of, collector_paused, run_billing, summarize
from .sheets import OutputSheet, RawSheet
from .statements import Statement, month_start, statements


class Workbook(Protocol):
    """What a use-case needs of a workbook, whatever holds it (a file, an Excel book, a request).

    ``read`` hands over the sheets :func:`sheetbill.contract.run_reads` names, on demand; ``write``
    puts output sheets back atomically and says whether anything changed; ``input_stamp`` and
    ``stored_stamp`` let a repeated run with unchanged inputs be recognised without reading them
    (a front end that cannot tell returns ``None``, and every run is computed).

    A front end may also offer ``memo_store(plugins: str) -> MemoStore | None`` (optional: a workbook
    without it, or returning None, keeps no memo): where the run memo of this workbook is kept
    (:class:`sheetbill.memo.MemoStore`), so a run need not redo what the last run did; and
    ``written() -> AbstractContextManager[Mapping[str, RawSheet]]``: the sheets as its last ``write`` left
    them, those it wrote with :class:`~sheetbill.sheets.KnownRows` that give the rows it wrote as a read
    would (:mod:`sheetbill.handover` keeps them in the memo, so the next run need not read them).
    """

    def read(self) -> AbstractContextManager[Mapping[str, RawSheet]]:
        """The sheets a run reads, as a mapping that may load each sheet when it is asked for."""
        ...

    def write(self, outputs: Sequence[OutputSheet], *, stamp: str | None) -> bool:
        """Write ``outputs`` (and ``stamp``); False when everything was already so."""
        ...

    def input_stamp(self, context: str) -> str | None:
        """A fingerprint of the input sheets as stored, with ``context``; ``None`` when not available."""
        ...

    def stored_stamp(self) -> str | None:
        """The stamp the last write stored, ``None`` when there is none."""
        ...


@dataclass(frozen=True)
class RunOutcome:
    """What a use-case did, for a front end to present.

    Attributes:
        command: ``bill``, ``overdue`` or ``check``.
        result: the run, or ``None`` when it was skipped as unchanged.
        summary: counts and totals (:func:`sheetbill.run.summarize`); empty when skipped.
        written: True when the workbook was changed.
        dry_run: True when nothing was to be written.
        unchanged: True when the inputs were those of the last run, which was therefore not repeated.
        outputs: the sheets written (or that would have been).
        exit_code: 0 no problems, 1 rows skipped as Problems.
    """

    command: str
    result: RunResult | None
    summary: dict = field(default_factory=dict)
    written: bool = False
    dry_run: bool = False
    unchanged: bool = False
    outputs: tuple[OutputSheet, ...] = ()
    exit_code: int = 0

    @property
    def problems(self) -> list[Problem]:
        """The run's Problems (none when skipped)."""
        return self.result.problems if self.result is not None else []


class SheetsInMemory:
    """A :class:`Workbook` over sheets a front end already read (Excel through xlwings, an HTTP request):
    ``written`` collects what a use-case writes back, for the front end to apply."""

    def __init__(self, sheets: Mapping[str, RawSheet]):
        self.sheets = {name: sheet for name, sheet in sheets.items() if contract.run_reads(name)}
        self.written: list[OutputSheet] = []

    @contextmanager
    def read(self) -> Iterator[Mapping[str, RawSheet]]:
        """The sheets a run reads."""
        yield self.sheets

    def write(self, outputs: Sequence[OutputSheet], *, stamp: str | None) -> bool:
        """Collect ``outputs``."""
        self.written = list(outputs)
        return bool(outputs)

    def input_stamp(self, context: str) -> None:
        """Not available: the sheets are in memory, every press is computed."""
        return None

    def stored_stamp(self) -> None:
        """Not available."""
        return None


def run_context(mode: RunMode, as_of: dt.date | None, plugins: Plugins) -> str:
    """Everything besides the input sheets that a run's outputs depend on: the code's and plugins'
    versions, the mode and the as-of date (when not given, today's, since the default is today)."""
    day = as_of.isoformat() if as_of else f"settings-or-{dt.date.today().isoformat()}"
    return f"sheetbill {__version__}|bill_charges={mode == RunMode.BILL}|as_of={day}|{plugin_versions(plugins)}"


def plugin_versions(plugins: Plugins) -> str:
    """Every registered plugin with its version, as text (what a run's outputs depend on besides sheetbill)."""
    return ",".join(f"{info.name}={info.version}" for info in plugins.describe())


def memo_store(workbook: Workbook, plugins: Plugins) -> MemoStore | None:
    """Where ``workbook``'s run memo is kept, when its front end keeps one (the optional ``memo_store``
    of :class:`Workbook`), else None."""
    store = getattr(workbook, "memo_store", None)
    return store(plugin_versions(plugins)) if callable(store) else None


@contextmanager
def _closing(store: MemoStore | None) -> Iterator[None]:
    """Close ``store``'s memo file (if a memo was loaded and not saved) when the run ends, however it ends."""
    try:
        yield
    finally:
        if store is not None:
            store.close()


def _load_memo(store: MemoStore | None) -> RunMemo | None:
    """The last run's memo from ``store`` (a fresh one when there is none usable); None without a store."""
    if store is None:
        return None
    return store.load() or RunMemo()


def bill(workbook: Workbook, *, as_of: dt.date | None = None, dry_run: bool = False,
         plugins: Plugins | None = None) -> RunOutcome:
    """Bill every new charge, post payments, track overdue invoices and write every output sheet back."""
    return _run("bill", workbook, RunMode.BILL, as_of, dry_run, plugins)


def update_overdue(workbook: Workbook, *, as_of: dt.date | None = None, dry_run: bool = False,
                   plugins: Plugins | None = None) -> RunOutcome:
    """Post payments and track overdue invoices without issuing new invoices; write the outputs back."""
    return _run("overdue", workbook, RunMode.OVERDUE, as_of, dry_run, plugins)


def check(workbook: Workbook, *, as_of: dt.date | None = None, write_problems: bool = False,
          plugins: Plugins | None = None) -> RunOutcome:
    """Compute the whole run and report its Problems, and what ``documents`` and ``send`` would refuse
    (Bank IBAN, Email cells, SMTP settings); write nothing, or with ``write_problems`` only the Problems
    sheet (so a clerk in the workbook can go to each cell)."""
    plugins = plugins if plugins is not None else Plugins()
    store = memo_store(workbook, plugins)
    with collector_paused(), _closing(store), workbook.read() as sheets:
        result = run_billing(sheets, as_of=as_of, plugins=plugins, memo=_load_memo(store))
    _add_check_findings(result)
    outputs = tuple(o for o in result.outputs if o.name == contract.PROBLEMS_SHEET) if write_problems else ()
    written = workbook.write(outputs, stamp=None) if outputs else False
    return RunOutcome("check", result, summarize(result), written, not write_problems, False, outputs,
                      result.exit_code)


def _add_check_findings(result: RunResult) -> None:
    """Add to a check's Problems what the invoices it would issue lack under § 14 (4) UStG
    (:mod:`sheetbill.compliance`) and what ``documents`` and ``send`` would refuse
    (:mod:`sheetbill.readiness`), so ``check`` validates everything the real commands need; its
    Problems sheet is rebuilt with them."""
    found = check_invoice_requirements(result.book, result.issued.invoices)
    found += [p for p in readiness_problems(result.book) if p not in result.problems and p not in found]
    if not found:
        return
    result.problems.extend(found)
    result.outputs = [canonical(problems_sheet(result.problems, language(result.book.settings.language)),
                                 result.book.settings.currency)
                      if output.name == contract.PROBLEMS_SHEET else output for output in result.outputs]


def _run(command: str, workbook: Workbook, mode: RunMode, as_of: dt.date | None, dry_run: bool,
         plugins: Plugins | None) -> RunOutcome:
    """Read, run, write back; or recognise a repeated run and do nothing.

    A run whose input sheets, as-of date and code are exactly those of the run that last wrote the
    workbook would compute the same outputs (runs are idempotent), so it is skipped: the stamp the
    last write stored is compared with a fingerprint of the input sheets as stored, which costs less
    than reading them. A workbook saved by another program since has no stamp and gets a full run.
    Otherwise the run starts from the workbook's run memo (when its front end keeps one) and, after a
    successful write, keeps the updated memo for the next run.
    """
    plugins = plugins if plugins is not None else Plugins()
    stamp = None
    if not dry_run:
        stamp = workbook.input_stamp(run_context(mode, as_of, plugins))
        stored = workbook.stored_stamp()
        if stamp is not None and stored and stored.rpartition(":")[0] == stamp:
            return RunOutcome(command, None, unchanged=True, exit_code=int(stored.rpartition(":")[2]))
    store = memo_store(workbook, plugins)
    memo = _load_memo(store)
    with collector_paused(), _closing(store):  # see collector_paused: the same holds for reading and writing
        with workbook.read() as sheets:
            result = run_billing(sheets, as_of=as_of, plugins=plugins, mode=mode, memo=memo,
                                 remember_decisions=memo is not None, keep_charges=False)
        outputs = tuple(result.outputs)
        written = False if dry_run else workbook.write(
            outputs, stamp=f"{stamp}:{result.exit_code}" if stamp is not None else None)
        if store is not None and memo is not None and not dry_run:
            _hand_over(workbook, memo, result)
            store.save(memo)
    return RunOutcome(command, result, summarize(result), written, dry_run, False, outputs, result.exit_code)


def _hand_over(workbook: Workbook, memo: RunMemo, result: RunResult) -> None:
    """Keep in ``memo`` the history lines and invoices the run just wrote, when ``workbook``'s front end can give
    them as a read would (the optional ``written`` of :class:`Workbook`; see :mod:`sheetbill.handover`)."""
    written = getattr(workbook, "written", None)
    if callable(written):
        with written() as sheets:
            hand_over(memo, sheets, result)


@dataclass(frozen=True)
class StatementsReport:
    """The statements of account of a workbook for one period.

    Attributes:
        book: the workbook's inputs and history as read.
        start, end: the period (both days included); ``end`` is the as-of date.
        statements: one per customer with items in the period, open items or credit, by Customer ID.
        problems: what was wrong reading and booking the history.
    """

    book: Book
    start: dt.date
    end: dt.date
    statements: list[Statement]
    problems: list[Problem]


def statements_sheet(report: StatementsReport) -> OutputSheet:
    """The statements of ``report`` as one sheet: per customer an opening row, every item with the
    running balance, a closing row, then the open items with their due dates."""
    rows: list[tuple] = []
    for statement in report.statements:
        customer = report.book.customers.get(statement.customer_id)
        name = customer.name if customer else ""
        rows.append((statement.customer_id, name, statement.start, "Opening balance", None, None, None,
                     statement.opening, None))
        for line in statement.lines:
            item = line.item
            rows.append((statement.customer_id, name, item.date, item.kind, item.reference, item.invoice_no,
                         item.amount, line.balance, None))
        rows.append((statement.customer_id, name, statement.end, "Closing balance", None, None, None,
                     statement.closing, None))
        for item in statement.open_items:
            rows.append((statement.customer_id, name, item.issue_date, "Open item", item.invoice_no, item.invoice_no,
                         item.open, None, item.due_date))
        if statement.unapplied_credit:
            rows.append((statement.customer_id, name, statement.end, "Unapplied credit", None, None,
                         statement.unapplied_credit, None, None))
    return canonical(OutputSheet(contract.STATEMENTS_SHEET, contract.STATEMENT_COLUMNS, rows),
                     report.book.settings.currency)


def write_statements_sheet(workbook: Workbook, *, as_of: dt.date | None = None,
                           start: dt.date | None = None) -> tuple[StatementsReport, bool]:
    """The Statement use-case as a sheet (xlwings Lite, where no PDF file can be written): every
    customer's statement of account from ``start`` (default: the as-of month) to ``as_of``, written
    into the Statements sheet. Returns the statements and whether the sheet changed."""
    report = statements_of_account(workbook, as_of=as_of, start=start)
    return report, workbook.write([statements_sheet(report)], stamp=None)


def statements_of_account(workbook: Workbook, *, as_of: dt.date | None = None, start: dt.date | None = None,
                          customers: set[str] | None = None) -> StatementsReport:
    """Every customer's statement of account from ``start`` to ``as_of``, from history alone.

    Nothing is issued and nothing is written: the accounts are the history's items up to ``as_of``
    (:func:`sheetbill.run.accounts_as_of`).

    :param as_of: the last day of the period (default Settings As Of Date, else today).
    :param start: the first day (default the first day of the as-of month: a monthly statement).
    :param customers: only these Customer IDs (``None``: every customer with something to show).
    :raises ValueError: when ``start`` is after the as-of date.
    """
    with collector_paused(), workbook.read() as sheets:
        book, ledger, problems = accounts_as_of(sheets, as_of)
    end = book.settings.as_of
    first = start or month_start(end)
    if first > end:
        raise ValueError(f"the period cannot start ({first}) after the as-of date ({end})")
    return StatementsReport(book, first, end, statements(ledger, first, end, customers), problems)
