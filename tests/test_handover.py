"""The Invoice Lines a run wrote, kept in the run memo as the next run would read them (sheetbill.handover).

The oracle is a full read of the written workbook without any memo (python-calamine, then the history
reader): the records the memo holds for the sheet's current token, in order, must be those records,
field for field (the spelling of amounts, the Seal and the sheet row included). The next run then reads
no line of the sheet: the token the memo holds is the sheet's own.
"""

from __future__ import annotations

import shutil
from functools import partial
from pathlib import Path

import pytest

from sheetbill import contract
from sheetbill.app import bill, memo_store
from sheetbill.book import read_history
from sheetbill.continuations import known_table
from sheetbill.io.xlsx import file as file_module
from sheetbill.io.xlsx import write_output_sheets
from sheetbill.io.xlsx.file import XlsxWorkbook
from sheetbill.io.xlsx.known import KnownPart
from sheetbill.io.xlsx.read import open_workbook
from sheetbill.models import InvoiceLine
from sheetbill.money import AmountPool
from sheetbill.plugins.manager import Plugins
from sheetbill.rowmemo import KNOWN_SHEETS, TableMemo
from tests.io.test_xlsx_append_runs import _generator

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2026-12-31"


def _spelled(records) -> list[tuple]:
    """Each record as every field's type and text (``Decimal('1.50')`` and ``Decimal('1.5')`` differ), its
    Seal (not compared by ``==``) and row."""
    return [(repr(record), record.seal, record.row) for record in records]


def _full_read(book: Path) -> list:
    with open_workbook(book, contract.sheets_a_run_reads()) as sheets:
        lines, problems = read_history(sheets, contract.INVOICE_LINES, InvoiceLine, AmountPool("EUR"))
    assert problems == []
    return lines


def _handed_over(book: Path) -> list | None:
    """The lines the memo of ``book`` holds for its Invoice Lines as they are now, in order; None when
    it holds none for the sheet's current token."""
    memo = memo_store(XlsxWorkbook(book), Plugins()).load()
    with open_workbook(book, contract.sheets_a_run_reads(), known=True) as sheets:
        token = known_table(sheets, contract.INVOICE_LINES_SHEET).known.seen()
    entries = [keys for seen, keys in memo.extras[KNOWN_SHEETS].values() if seen == token]
    if len(entries) != 1:
        return None
    blocks = TableMemo(memo.tables)
    return [record for key in entries[0] for _, record, _, _ in blocks.take(key)]


@pytest.mark.parametrize(("taxed", "sheet_rows"), [(False, None), (True, None), (False, 100)])
def test_the_lines_a_run_wrote_are_in_its_memo_as_a_full_read_reads_them(tmp_path: Path, taxed: bool,
                                                                         sheet_rows: int | None, monkeypatch) -> None:
    """With ``sheet_rows``, the grid is that high: the lines continue on sheets "Invoice Lines 2", ..."""
    if sheet_rows is not None:
        monkeypatch.setattr(file_module, "write_output_sheets", partial(write_output_sheets, _max_rows=sheet_rows))
    generator = _generator()
    book = generator.write(tmp_path / "book.xlsx", 400, taxed)
    bill(XlsxWorkbook(book), as_of=_date())
    first = _handed_over(book)
    assert first is not None and _spelled(first) == _spelled(_full_read(book))
    generator.append_day(book, 400, 12, seed=3)
    bill(XlsxWorkbook(book), as_of=_date())
    grown = _handed_over(book)
    full = _full_read(book)
    assert grown is not None and len(full) > len(first) and _spelled(grown) == _spelled(full)
    if sheet_rows is not None:
        with open_workbook(book, None) as sheets:
            assert f"{contract.INVOICE_LINES_SHEET} 3" in sheets


@pytest.mark.parametrize("demo", ["demo-medical.xlsx", "demo-utility.xlsx"])
def test_the_demo_workbooks_lines_are_handed_over_as_a_full_read_reads_them(tmp_path: Path, demo: str) -> None:
    """The demos' lines: credit notes, transfers, shares of several payers, tax exemptions, German texts."""
    import datetime as dt

    book = shutil.copy(ROOT / "workbooks" / demo, tmp_path / demo)
    for as_of in (dt.date(2026, 6, 30), dt.date(2026, 9, 30)):
        bill(XlsxWorkbook(book), as_of=as_of)
        handed = _handed_over(book)
        assert handed is not None and _spelled(handed) == _spelled(_full_read(book))
    assert any(line.related_invoice for line in handed) and any(line.payment_id for line in handed)


def test_the_next_run_reads_no_line_and_writes_what_a_run_without_memo_writes(tmp_path: Path, monkeypatch) -> None:
    generator = _generator()
    book = generator.write(tmp_path / "book.xlsx", 300)
    bill(XlsxWorkbook(book), as_of=_date())
    generator.append_day(book, 300, 9, seed=5)
    reference = shutil.copy(book, tmp_path / "reference.xlsx")
    read_rows: list[int] = []
    rows_since = KnownPart.rows_since

    def counted(self, seen):
        since = rows_since(self, seen)
        if since is not None and self.header and self.header[0] == "Invoice No" and "Charge ID" in self.header:
            read_rows.append(len(since[1]))
        return since

    monkeypatch.setattr(KnownPart, "rows_since", counted)
    bill(XlsxWorkbook(book), as_of=_date())
    assert read_rows == [0]  # the sheet was known, and none of its rows was read
    bill(XlsxWorkbook(reference, cache=False), as_of=_date())
    assert _parts(book) == _parts(reference)


def _date():
    import datetime as dt

    return dt.date.fromisoformat(AS_OF)


def _parts(book: Path) -> dict[str, bytes]:
    from tests.io.test_xlsx_append import parts

    return parts(book)
