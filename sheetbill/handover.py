"""What a run wrote, handed to the next run: the Invoice Lines it appended and the Invoices it rewrote, parsed
once, as it writes them.

A run reads the Invoice Lines sheet only where it grew since the last run read it (:mod:`sheetbill.rowmemo`,
known sheets), and that growth is the lines the last run appended itself. So the lines a run issues were
parsed twice, the second time by the next run, after reading them out of the file; the first click after a
first run read and parsed every line of the year. When the front end can give the rows it just wrote as
a read would give them (the .xlsx file's :mod:`sheetbill.io.xlsx.written`), the run parses them now, with
the same reading as the next run's (:func:`sheetbill.book.history_reading`), and keeps them in the run
memo under the sheet's new token. The next run then finds the whole sheet known and reads none of it.
What the memo holds is what that read would have parsed, so the next run's result is the same.

The run also hands over that the lines it wrote verify (:mod:`sheetbill.seals`), when they do by
construction: every line it read verified (it reported no edited or deleted history) and it sealed the
lines it issued itself, chained after them. It keeps the digests of the sheet's rows and seals in issue
order (:class:`sheetbill.seals.PrefixDigests`), as a run keeps those of the history it verified, so the
next run does not check them again: the first click after a first run would otherwise verify every line
of the year. It does so only when the sheet's rows are in issue order (as a run writes them), so that the
digests are computed as the lines come, and only for rows it can name: when it cannot, the next run
checks the lines as before.

The Invoices sheet is not only appended to: a run rewrites it whole whenever a payment changes an invoice's
Paid or Status, so the next run could prove no row of it unchanged and read all of it again. The run hands
its rows over too, parsed from what it wrote, when the invoices it read come back from them exactly as it
read them (record, Seal and row), followed by the ones it issued: the Seals it verified are then still
those of the same records, and the next run verifies the invoices after them (this run's), as it would have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from operator import attrgetter

from . import contract
from .book import history_reading
from .continuations import known_table
from .memo import RunMemo
from .models import Invoice, InvoiceLine
from .money import minor_unit
from .rowmemo import KNOWN_SHEETS, SEAL_CHAINS, SEALS_VERIFIED, Outcome, TableMemo, remember_written
from .run import RunResult
from .seals import PrefixDigests, issue_ranks
from .sheets import RawSheet

#: Problems that say a run found its history edited or deleted (then nothing is said to verify).
_HISTORY_CODES = frozenset({"edited-history", "deleted-history"})


def hand_over(memo: RunMemo, written: Mapping[str, RawSheet], result: RunResult) -> None:
    """Keep in ``memo`` (a run's, after its :func:`sheetbill.book.load_book`) the Invoice Lines and the
    Invoices of ``written`` (the sheets as the run's write left them) as the next run would read them
    (:func:`hand_over_lines`, :func:`hand_over_invoices`); ``result``: the run's."""
    hand_over_lines(memo, written, result)
    hand_over_invoices(memo, written, result)


def hand_over_lines(memo: RunMemo, written: Mapping[str, RawSheet], result: RunResult) -> bool:
    """Keep in ``memo`` (a run's, after its :func:`sheetbill.book.load_book`) the Invoice Lines of
    ``written`` (the sheets as the run's write left them) as the next run would read them, and, when they
    verify by construction, that they do; ``result``: the run's. False, and ``memo`` unchanged, when the
    front end cannot give them."""
    sheet = known_table(written, contract.INVOICE_LINES_SHEET)
    if sheet is None:
        return False
    rows = _sheets_memo(memo)
    make, reads, context = history_reading(contract.INVOICE_LINES, InvoiceLine, result.book.amounts)
    chains = memo.own.get(SEAL_CHAINS)
    read = chains.get(contract.INVOICE_LINES_SHEET) if isinstance(chains, dict) else None
    chain = _ChainAsWritten(result, read) if _history_verified(result) else None
    if not remember_written(sheet, contract.INVOICE_LINES, make, rows, context, reads,
                            chain.add if chain is not None else None):
        return False
    _keep(memo, rows)
    digests = chain.digests() if chain is not None else None
    if digests is not None:
        verified = memo.extras.get(SEALS_VERIFIED)
        memo.extras[SEALS_VERIFIED] = {**(verified if isinstance(verified, dict) else {}),
                                       contract.INVOICE_LINES_SHEET: (minor_unit(result.book.settings.currency),
                                                                      digests)}
    return True


def hand_over_invoices(memo: RunMemo, written: Mapping[str, RawSheet], result: RunResult) -> bool:
    """Keep in ``memo`` the Invoices of ``written`` as the next run would read them, when the rows of the
    invoices ``result``'s run read come back as it read them (each record, its Seal and its row), then
    those it issued. A run rewrites the sheet whole whenever an invoice's Paid or Status changed, so
    without this the next run would read every row of it again. That it verified the Seals of those
    rows stays as its read left it: the next run checks the invoices after them (this run's) as before.
    False, and ``memo`` unchanged, when the front end cannot give them or a row read comes back other
    than it was read (a row sealed only now, rows moved): then the next run reads the sheet."""
    sheet = known_table(written, contract.INVOICES_SHEET)
    if sheet is None:
        return False
    rows = _sheets_memo(memo)
    make, reads, context = history_reading(contract.INVOICES, Invoice, result.book.amounts)
    read = result.book.invoices
    alike = [True]

    def compare(first: int, outcomes: list[Outcome]) -> None:
        given = [outcome[1] for outcome in outcomes[:max(0, len(read) - first)]]
        if any(record is None or record != was or record.seal != was.seal
               for record, was in zip(given, read[first:first + len(given)], strict=True)):
            alike[0] = False

    if not remember_written(sheet, contract.INVOICES, make, rows, context, reads, compare, whole=True) \
            or not alike[0]:
        return False
    _keep(memo, rows)
    return True


def _sheets_memo(memo: RunMemo) -> TableMemo:
    """A read memo over ``memo``'s blocks and known sheets (this run's, after its read), to remember a
    sheet the run wrote in."""
    known = memo.extras.get(KNOWN_SHEETS)
    return TableMemo(memo.tables, None, known if isinstance(known, dict) else {})


def _keep(memo: RunMemo, rows: TableMemo) -> None:
    """Bring ``memo`` up to what ``rows`` (:func:`_sheets_memo`) remembered of a sheet written: its blocks
    and its token, without the blocks it let go."""
    for key in rows.released:
        memo.tables.pop(key, None)
    memo.tables.update(rows.kept)
    memo.extras[KNOWN_SHEETS] = {**rows.known, **rows.known_now}


def _history_verified(result: RunResult) -> bool:
    """Whether every line ``result``'s run read verified: it reported no edited or deleted history and no
    Problem of an Invoice Lines sheet at all (a line it skipped is not written as it issues lines)."""
    lines = contract.INVOICE_LINES_SHEET
    return not any(problem.code in _HISTORY_CODES or problem.sheet == lines or problem.sheet.startswith(f"{lines} ")
                   for problem in result.problems)


class _ChainAsWritten:
    """The :func:`sheetbill.seals.prefix_digests` of the Invoice Lines a run wrote, as the next run computes
    them, from the lines it read (``result.book.lines``, the rows before the ones it appended) and the lines
    it appended, given a block at a time as they are parsed (:meth:`add`). Nothing (:meth:`digests` None)
    when a row cannot be named: a block that does not follow the rows given so far, a row with Problems,
    or a line out of issue order (the next run's order is computed from the invoices it reads: this
    run's, history and new).

    ``read``: the chain the run's read computed of the lines it read, with their number, when their rows
    were in issue order (:attr:`sheetbill.rowmemo.TableMemo.chains`): the lines read are then not hashed
    again. Their rows and Seals are those the read chained (upgrading history fills in a Related Invoice,
    nothing else), and in issue order still: adding the run's own invoices to those read changes no
    order among them."""

    def __init__(self, result: RunResult, read: tuple[int, PrefixDigests] | None = None):
        self._rank = issue_ranks(result.invoices)
        self._read: Sequence[InvoiceLine] = result.book.lines
        self._read_chain = read[1] if read is not None and read[0] == len(self._read) else None
        self._chain = PrefixDigests()
        self._given = 0
        self._last = 0
        self._broken = False

    def add(self, first: int, outcomes: list[Outcome]) -> None:
        """The outcomes of the data rows from index ``first`` on, as the next run parses them."""
        if self._broken:
            return
        if self._given == 0 and first and first == len(self._read):
            if self._read_chain is not None:
                self._chain, self._given = self._read_chain, first
                self._last = self._rank.get(self._read[-1].invoice_no, len(self._rank))
            else:
                self._lines(self._read, first)
        if first != self._given:
            self._broken = True
            return
        if any(found for _, _, _, found in outcomes):
            self._broken = True
            return
        self._lines([outcome[1] for outcome in outcomes], first + len(outcomes))

    def _lines(self, lines: Sequence[InvoiceLine], given: int) -> None:
        last, rank = len(self._rank), self._rank
        ranks = [rank.get(no, last) for no in map(attrgetter("invoice_no"), lines)]  # one rank per invoice
        if ranks and (ranks[0] < self._last or any(later < earlier for earlier, later in pairwise(ranks))):
            self._broken = True
            return
        self._chain.add([line.row for line in lines], [line.seal for line in lines])
        self._last, self._given = (ranks[-1] if ranks else self._last), given

    def digests(self) -> list[bytes] | None:
        """The digests of the sheet's rows, every checkpoint of them, or None (see the class)."""
        return None if self._broken or not self._given else self._chain.digests
