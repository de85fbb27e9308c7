"""What a run wrote, handed to the next run: the Invoice Lines it appended, parsed once, as it writes them.

A run reads the Invoice Lines sheet only where it grew since the last run read it (:mod:`sheetbill.rowmemo`,
known sheets), and that growth is the lines the last run appended itself. So the lines a run issues were
parsed twice, the second time by the next run, after reading them out of the file; the first click after a
first run read and parsed every line of the year. When the front end can give the rows it just wrote as
a read would give them (the .xlsx file's :mod:`sheetbill.io.xlsx.written`), the run parses them now, with
the same reading as the next run's (:func:`sheetbill.book.history_reading`), and keeps them in the run
memo under the sheet's new token. The next run then finds the whole sheet known and reads none of it.
What the memo holds is what that read would have parsed, so the next run's result is the same.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import contract
from .book import history_reading
from .continuations import known_table
from .memo import RunMemo
from .models import InvoiceLine
from .money import AmountPool
from .rowmemo import KNOWN_SHEETS, TableMemo, remember_written
from .sheets import RawSheet


def hand_over_lines(memo: RunMemo, written: Mapping[str, RawSheet], amounts: AmountPool) -> bool:
    """Keep in ``memo`` (a run's, after its :func:`sheetbill.book.load_book`) the Invoice Lines of
    ``written`` (the sheets as the run's write left them) as the next run would read them; ``amounts``:
    the run's pool (its currency). False, and ``memo`` unchanged, when the front end cannot give them."""
    sheet = known_table(written, contract.INVOICE_LINES_SHEET)
    if sheet is None:
        return False
    known = memo.extras.get(KNOWN_SHEETS)
    known = known if isinstance(known, dict) else {}
    rows = TableMemo(memo.tables, None, known)
    make, reads, context = history_reading(contract.INVOICE_LINES, InvoiceLine, amounts)
    if not remember_written(sheet, contract.INVOICE_LINES, make, rows, context, reads):
        return False
    memo.tables.update(rows.kept)
    memo.extras[KNOWN_SHEETS] = {**known, **rows.known_now}
    return True
