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
from sheetbill import contract, rowmemo
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


def _full_read(book: Path, spec=contract.INVOICE_LINES, factory=InvoiceLine) -> list:
    with open_workbook(book, contract.sheets_a_run_reads()) as sheets:
        records, problems = read_history(sheets, spec, factory, AmountPool("EUR"))
    assert problems == []
    return records


def _handed_over(book: Path, sheet: str = contract.INVOICE_LINES_SHEET) -> list | None:
    """The records the memo of ``book`` holds for its Invoice Lines (or ``sheet``) as they are now, in
    order; None when it holds none for the sheet's current token."""
    store = memo_store(XlsxWorkbook(book), Plugins())
    memo = store.load()
    with open_workbook(book, contract.sheets_a_run_reads(), known=True) as sheets:
        token = known_table(sheets, sheet).known.seen()
    entries = [keys for seen, keys in memo.extras[KNOWN_SHEETS].values() if seen == token]
    blocks = TableMemo(memo.tables)
    records = [record for key in entries[0] for record in blocks.take(key).records] if len(entries) == 1 else None
    store.close()
    return records


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


@pytest.mark.parametrize(("taxed", "sheet_rows"), [(False, None), (True, None), (False, 25)])
def test_the_invoices_a_run_rewrote_are_in_its_memo_as_a_full_read_reads_them(tmp_path: Path, taxed: bool,
                                                                              sheet_rows: int | None,
                                                                              monkeypatch) -> None:
    """With ``sheet_rows``, the grid is that high: the invoices continue on sheets "Invoices 2", ..."""
    if sheet_rows is not None:
        monkeypatch.setattr(file_module, "write_output_sheets", partial(write_output_sheets, _max_rows=sheet_rows))
    monkeypatch.setattr(rowmemo, "BLOCK_ROWS", 8)
    parsed: list[int] = []
    parse = rowmemo._parse_new

    def counted(sheet, spec, *args):
        outcomes = parse(sheet, spec, *args)
        if spec is contract.INVOICES:
            parsed.append(len(outcomes))
        return outcomes

    monkeypatch.setattr(rowmemo, "_parse_new", counted)
    generator = _generator()
    book = generator.write(tmp_path / "book.xlsx", 400, taxed)
    bill(XlsxWorkbook(book), as_of=_date())
    first = _handed_over(book, contract.INVOICES_SHEET)
    assert first is not None and _spelled(first) == _spelled(_full_read(book, contract.INVOICES, Invoice))
    generator.append_day(book, 400, 12, seed=3)  # payments too: Paid and Status change, the sheet is rewritten
    before = _paid(book)
    parsed.clear()
    bill(XlsxWorkbook(book), as_of=_date())
    assert _paid(book)[:len(before)] != before  # invoices read were paid: not an extension of the sheet
    again = _handed_over(book, contract.INVOICES_SHEET)
    full = _full_read(book, contract.INVOICES, Invoice)
    assert again is not None and len(full) > len(first) and _spelled(again) == _spelled(full)
    # the run read no invoice, and parsed only the blocks of the rows it wrote that hold its own invoices
    assert 0 < sum(parsed) < len(full) - len(first) + 8
    if sheet_rows is not None:
        with open_workbook(book, None) as sheets:
            assert f"{contract.INVOICES_SHEET} 3" in sheets
    # and the memo holds each invoice once: the blocks read before that are no block of the sheet now are gone
    store = memo_store(XlsxWorkbook(book), Plugins())
    kept = store.load()
    blocks = TableMemo(kept.tables)
    held = [record for key in list(kept.tables) for record in getattr(blocks.take(key), "records", ())
            if isinstance(record, Invoice)]
    store.close()
    assert _spelled(held) == _spelled(full)


@pytest.mark.parametrize("demo", ["demo-medical.xlsx", "demo-utility.xlsx"])
def test_the_demo_workbooks_lines_are_handed_over_as_a_full_read_reads_them(tmp_path: Path, demo: str) -> None:
    """The demos' lines and invoices: credit notes, transfers, shares of several payers, tax exemptions,
    German texts."""
    import datetime as dt

    book = shutil.copy(ROOT / "workbooks" / demo, tmp_path / demo)
    for as_of in (dt.date(2026, 6, 30), dt.date(2026, 9, 30)):
        bill(XlsxWorkbook(book), as_of=as_of)
        handed = _handed_over(book)
        assert handed is not None and _spelled(handed) == _spelled(_full_read(book))
        invoices = _handed_over(book, contract.INVOICES_SHEET)
        assert invoices is not None and _spelled(invoices) == _spelled(_full_read(book, contract.INVOICES, Invoice))
    assert any(line.related_invoice for line in handed) and any(line.payment_id for line in handed)
    assert demo != "demo-medical.xlsx" or any(invoice.related for invoice in invoices)  # its credit notes


def test_the_next_run_reads_no_line_or_invoice_and_writes_what_a_run_without_memo_writes(tmp_path: Path,
                                                                                          monkeypatch) -> None:
    generator = _generator()
    book = generator.write(tmp_path / "book.xlsx", 300)
    bill(XlsxWorkbook(book), as_of=_date())
    generator.append_day(book, 300, 9, seed=5)
    reference = shutil.copy(book, tmp_path / "reference.xlsx")
    read_rows: list[int] = []
    rows_since = KnownPart.rows_since

    def counted(self, seen):
        since = rows_since(self, seen)
        if since is not None and self.header and self.header[0] == "Invoice No":
            read_rows.append(("lines" if "Charge ID" in self.header else "invoices", len(since[1])))
        return since

    monkeypatch.setattr(KnownPart, "rows_since", counted)
    bill(XlsxWorkbook(book), as_of=_date())
    assert sorted(read_rows) == [("invoices", 0), ("lines", 0)]  # both sheets known, none of their rows read
    bill(XlsxWorkbook(reference, cache=False), as_of=_date())
    assert _parts(book) == _parts(reference)


class _Counted(TableMemo):
    """The read memo of each run, noting how many sealed rows of each sheet the run did not verify again."""

    runs: list[dict[str, int]] = []

    def __init__(self, *args):
        super().__init__(*args)
        _Counted.runs.append({})


def _counting(findings):
    """``seal_findings`` noting, for each sheet, how many of its rows it did not verify again."""

    def counted(sheet, records, sealed, taxed, order, places, memo):
        before = memo.unchecked
        found = findings(sheet, records, sealed, taxed, order, places, memo)
        _Counted.runs[-1][sheet] = memo.unchecked - before
        return found

    return counted


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
    monkeypatch.setattr(book_module, "seal_findings", _counting(book_module.seal_findings))
    _Counted.runs = []
    hashed = [0]
    add = seals_module.PrefixDigests.add

    def counted(self, rows, seals):
        hashed[0] += len(rows)
        add(self, rows, seals)

    monkeypatch.setattr(seals_module.PrefixDigests, "add", counted)
    generator = _generator()
    book = generator.write(tmp_path / "book.xlsx", 400, taxed)
    invoices, lines_written, chained = [], [], []
    for seed in (None, 3, 4):
        if seed is not None:
            generator.append_day(book, 400, 12, seed=seed)
        hashed[0] = 0
        bill(XlsxWorkbook(book), as_of=_date())
        chained.append(hashed[0])
        lines_written.append(len(_full_read(book)))
        findings, digests = _full_check(book)
        store = memo_store(XlsxWorkbook(book), Plugins())
        memo = store.load()
        store.close()
        assert findings == [] and len(digests) > 10
        assert memo.extras[SEALS_VERIFIED][contract.INVOICE_LINES_SHEET] == (2, digests)
        invoices.append(len(_full_read(book, contract.INVOICES, Invoice)))
    lines = len(_full_read(book))
    checked = [run.get(contract.INVOICE_LINES_SHEET, 0) for run in _Counted.runs]
    # the second and third runs checked only the lines after the last checkpoint the run before handed over
    assert checked[0] == 0 and 0 < lines - checked[2] <= 16 + 12 * 3
    # and only the invoices after the last checkpoint of those the run before read (it verified them, and
    # handed them over with the sheet it rewrote): the second run read none verified, it was the first's
    invoices_checked = [run.get(contract.INVOICES_SHEET, 0) for run in _Counted.runs]
    assert invoices_checked[:2] == [0, 0] and 0 <= invoices[0] - invoices_checked[2] < 16
    assert invoices[0] < invoices[1] < invoices[2]
    # each run chained the invoices and lines it read, and then only the lines it appended: the handover goes
    # on from the chain its read computed
    assert chained == [lines_written[0], invoices[0] + lines_written[1], invoices[1] + lines_written[2]]


@pytest.mark.parametrize(("sheet_name", "column", "edit"), [
    (contract.INVOICE_LINES_SHEET, "Amount", lambda value: float(value) + 1),
    (contract.INVOICES_SHEET, "Bill To Name", lambda value: "Someone Else"),
])
def test_an_edit_of_history_stays_reported_by_the_runs_after_the_one_that_found_it(tmp_path: Path, sheet_name: str,
                                                                                   column: str, edit,
                                                                                   monkeypatch) -> None:
    """A run that found an edited line hands over no claim that the lines verify; the Invoices it hands over
    come with no such claim at all: the runs of the next days find the edit again, from the memo."""
    import openpyxl

    monkeypatch.setattr(seals_module, "CHECKPOINT_ROWS", 2)
    book = shutil.copy(ROOT / "workbooks" / "demo-medical.xlsx", tmp_path / "demo.xlsx")
    bill(XlsxWorkbook(book), as_of=_date())
    opened = openpyxl.load_workbook(book)
    sheet = opened[sheet_name]
    at = [cell.value for cell in sheet[1]].index(column) + 1
    sheet.cell(3, at).value = edit(sheet.cell(3, at).value)
    opened.save(book)
    for day in range(3):  # found, then found again, with the memo, by the runs of the next days
        outcome = bill(XlsxWorkbook(book), as_of=_date() + dt.timedelta(days=day))
        edited = [p for p in outcome.result.problems if p.code == "edited-history"]
        assert [(p.sheet, p.row, p.column) for p in edited] == [(sheet_name, 3, column)]
    assert _handed_over(book, contract.INVOICES_SHEET) is not None
    assert sheet_name != contract.INVOICE_LINES_SHEET or _full_check(book)[0]  # the line does not verify


def test_invoices_sealed_only_as_they_are_written_back_are_not_handed_over(tmp_path: Path) -> None:
    """History from before Seals: a run seals it as it writes it back, so its invoices do not come back as
    read, and the next run reads the sheet (and writes what a run without memo writes)."""
    import openpyxl

    generator = _generator()
    book = generator.write(tmp_path / "book.xlsx", 300)
    bill(XlsxWorkbook(book), as_of=_date())
    opened = openpyxl.load_workbook(book)
    for name in (contract.INVOICES_SHEET, contract.INVOICE_LINES_SHEET):
        sheet = opened[name]
        seal = [cell.value for cell in sheet[1]].index("Seal") + 1
        for row in range(2, sheet.max_row + 1):
            sheet.cell(row, seal).value = None
    opened.save(book)
    bill(XlsxWorkbook(book), as_of=_date())
    assert _handed_over(book, contract.INVOICES_SHEET) is None
    assert all(invoice.seal for invoice in _full_read(book, contract.INVOICES, Invoice))
    generator.append_day(book, 300, 9, seed=5)
    reference = shutil.copy(book, tmp_path / "reference.xlsx")
    bill(XlsxWorkbook(book), as_of=_date())
    bill(XlsxWorkbook(reference, cache=False), as_of=_date())
    assert _parts(book) == _parts(reference)


def _date():
    import datetime as dt

    return dt.date.fromisoformat(AS_OF)


def _paid(book: Path) -> list:
    """The Paid column of the Invoices sheet, as read."""
    with open_workbook(book, None) as sheets:
        rows = sheets[contract.INVOICES_SHEET].rows
        column = list(rows[0]).index("Paid")
        return [row[column] for row in rows[1:]]


def _parts(book: Path) -> dict[str, bytes]:
    from tests.io.test_xlsx_append import parts

    return parts(book)
