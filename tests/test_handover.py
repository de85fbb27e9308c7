"""The Invoice Lines a run wrote, kept in the run memo as the next run would read them (sheetbill.handover).

The oracle is a full read of the written workbook without any memo (python-calamine, then the history
reader): the records the memo holds for the sheet's current token, in order, must be those records,
field for field (the spelling of amounts, the Seal and the sheet row included). The next run then reads
no line of the sheet: the token the memo holds is the sheet's own.

That the lines verify is handed over too: the memo's digests must be those a full read's lines give in
issue order, and those lines must verify when every one of them is checked (the claim is true).
"""

from __future__ import annotations

import datetime as dt
import shutil
from functools import partial
from pathlib import Path

import pytest

from sheetbill import book as book_module
from sheetbill import contract
from sheetbill import seals as seals_module
from sheetbill.app import bill, memo_store
from sheetbill.book import read_history
from sheetbill.continuations import known_table
from sheetbill.io.xlsx import file as file_module
from sheetbill.io.xlsx import write_output_sheets
from sheetbill.io.xlsx.file import XlsxWorkbook
from sheetbill.io.xlsx.known import KnownPart
from sheetbill.io.xlsx.read import open_workbook
from sheetbill.models import Invoice, InvoiceLine
from sheetbill.money import AmountPool
from sheetbill.plugins.manager import Plugins
from sheetbill.rowmemo import KNOWN_SHEETS, SEALS_VERIFIED, TableMemo
from sheetbill.seals import LINE_SEALED, LINE_TAX_SEALED, line_order, prefix_digests, spell_sealed, verify
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


class _Counted(TableMemo):
    """The read memo, noting how many sealed rows each run did not verify again."""

    unchecked: list[int] = []

    def __init__(self, *args):
        super().__init__(*args)
        _Counted.unchecked.append(0)

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name == "unchecked" and value:
            _Counted.unchecked[-1] = value


def _full_check(book: Path) -> tuple[list, list[bytes]]:
    """The Seal findings of every line of ``book`` checked (no memo), and the digests of its lines' rows and
    seals in issue order: what a next run computes and compares with what the memo says verified."""
    amounts = AmountPool("EUR")
    with open_workbook(book, contract.sheets_a_run_reads()) as sheets:
        invoices, problems = read_history(sheets, contract.INVOICES, Invoice, amounts)
        lines, more = read_history(sheets, contract.INVOICE_LINES, InvoiceLine, amounts)
    assert problems == more == []
    order = line_order(invoices, lines)
    seals = [line.seal for line in lines]
    findings = verify(spell_sealed(lines, LINE_SEALED, LINE_TAX_SEALED, 2), seals, order,
                      len(LINE_SEALED) + len(LINE_TAX_SEALED), len(LINE_SEALED))
    return findings, prefix_digests([line.row for line in lines], seals, order)


@pytest.mark.parametrize(("taxed", "sheet_rows"), [(False, None), (True, None), (False, 100)])
def test_the_lines_a_run_wrote_are_handed_over_as_verified_and_not_checked_again(
        tmp_path: Path, taxed: bool, sheet_rows: int | None, monkeypatch) -> None:
    if sheet_rows is not None:
        monkeypatch.setattr(file_module, "write_output_sheets", partial(write_output_sheets, _max_rows=sheet_rows))
    monkeypatch.setattr(seals_module, "CHECKPOINT_ROWS", 16)
    monkeypatch.setattr(book_module, "TableMemo", _Counted)
    _Counted.unchecked = []
    generator = _generator()
    book = generator.write(tmp_path / "book.xlsx", 400, taxed)
    for seed in (None, 3, 4):
        if seed is not None:
            generator.append_day(book, 400, 12, seed=seed)
        bill(XlsxWorkbook(book), as_of=_date())
        findings, digests = _full_check(book)
        memo = memo_store(XlsxWorkbook(book), Plugins()).load()
        assert findings == [] and len(digests) > 10
        assert memo.extras[SEALS_VERIFIED][contract.INVOICE_LINES_SHEET] == (2, digests)
    lines = len(_full_read(book))
    # the second and third runs checked only the lines after the last checkpoint the run before handed over
    assert _Counted.unchecked[0] == 0 and 0 < lines - _Counted.unchecked[2] <= 16 + 12 * 3


def test_a_run_that_found_an_edited_line_hands_over_no_claim_and_the_edit_stays_reported(tmp_path: Path,
                                                                                         monkeypatch) -> None:
    import openpyxl

    monkeypatch.setattr(seals_module, "CHECKPOINT_ROWS", 2)

    book = shutil.copy(ROOT / "workbooks" / "demo-medical.xlsx", tmp_path / "demo.xlsx")
    bill(XlsxWorkbook(book), as_of=_date())
    opened = openpyxl.load_workbook(book)
    sheet = opened[contract.INVOICE_LINES_SHEET]
    amount = [cell.value for cell in sheet[1]].index("Amount") + 1
    sheet.cell(3, amount).value = float(sheet.cell(3, amount).value) + 1
    opened.save(book)
    for day in range(3):  # found, then found again, with the memo, by the runs of the next days
        outcome = bill(XlsxWorkbook(book), as_of=_date() + dt.timedelta(days=day))
        edited = [p for p in outcome.result.problems if p.code == "edited-history"]
        assert [(p.sheet, p.row, p.column) for p in edited] == [(contract.INVOICE_LINES_SHEET, 3, "Amount")]
    assert _full_check(book)[0]  # the line does not verify


def _date():
    import datetime as dt

    return dt.date.fromisoformat(AS_OF)


def _parts(book: Path) -> dict[str, bytes]:
    from tests.io.test_xlsx_append import parts

    return parts(book)
