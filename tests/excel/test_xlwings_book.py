"""Excel with local Python: the xlwings adapter and the button functions, against the minimal fake object
graph in fake_xlwings.py (no Excel on Linux), plus the conversion functions on their own."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from sheetbill import excel
from sheetbill.buttons import needed_sheet
from sheetbill.io.xlwings_book import cell_from_excel, excel_value, read_book
from sheetbill.run import run_billing
from tests.server.support import raw_sheets, tiny_workbook

from .fake_xlwings import Book, Cell

ROOT = Path(__file__).resolve().parents[2]


def test_cells_arrive_as_the_core_reads_them():
    berlin = dt.timezone(dt.timedelta(hours=1))
    assert cell_from_excel(12.5) == 12.5 and cell_from_excel(True) is True and cell_from_excel(None) is None
    assert cell_from_excel(dt.datetime(2026, 1, 31, tzinfo=berlin)) == dt.datetime(2026, 1, 31)
    assert cell_from_excel("#N/A") == "#N/A" and cell_from_excel(float("nan")) == "#NUM!"
    assert cell_from_excel(Decimal("1.5")) == "1.5"


def test_output_values_are_written_text_as_text():
    assert excel_value('=HYPERLINK("x")') == '\'=HYPERLINK("x")' and excel_value("00123") == "'00123"
    assert excel_value(Decimal("33.34")) == 33.34 and excel_value(7) == 7 and excel_value(None) is None
    assert excel_value(dt.date(2026, 3, 1)) == dt.datetime(2026, 3, 1) and excel_value("") is None


def test_only_needed_sheets_are_read_with_their_position():
    book = Book.from_cells({"Billing": [["Press"]], "Customers": [], "Payments": [["Payment ID"]]})
    sheet = book.sheets["Customers"]
    sheet.cells[(3, 2)] = Cell("Customer ID")
    sheet.cells[(3, 3)] = Cell("Name")
    sheet.cells[(4, 2)] = Cell("C1")
    sheets = read_book(book, needed_sheet)
    assert set(sheets) == {"Customers", "Payments"}
    customers = sheets["Customers"]
    assert (customers.first_row, customers.first_col) == (3, 2)
    assert customers.rows == [["Customer ID", "Name"], ["C1", None]]
    assert sheets["Payments"].rows == [["Payment ID"]]  # one cell still a table (ndim=2)


def stored(value: object) -> object:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    return None if value == "" else value


def test_pressing_bill_writes_what_a_file_run_computes():
    workbook = tiny_workbook()
    expected = run_billing(raw_sheets(workbook))
    book = Book.from_cells(workbook)
    assert excel.bill(book) is None
    for output in expected.outputs:
        table = book.table(output.name)
        assert table[0] == output.headers
        assert [[stored(v) for v in row] for row in output.rows] == \
            [(row + [None] * len(output.columns))[: len(output.columns)] for row in table[1:]]
        sheet = book.sheets[output.name]
        assert book.sheets[output.name].range((1, 1)).font.bold
        assert sheet.range((1, 1)).color == (0xD9, 0xE1, 0xF2)
        for index, column in enumerate(output.columns, start=1):
            if output.rows:
                fmt = sheet.range((2, index)).number_format
                assert fmt == {"date": "yyyy-mm-dd", "money": "#,##0.00", "int": "0"}.get(column.kind, "General")
    invoices = book.table("Invoices")
    assert '=HYPERLINK("http://x","y")' in {row[6] for row in invoices}  # text, not a formula
    assert {"00123", "TRUE", "1-2-3"} <= {str(v) for row in invoices for v in row}
    assert all(not isinstance(v, dict) for name in ("Invoices", "Invoice Lines") for r in book.table(name) for v in r)
    [alert] = book.app.alerts
    assert alert["title"] == "sheetbill: Bill" and alert["mode"] == "critical"  # one row had #N/A
    assert "invoice(s) issued" in alert["prompt"] and "#N/A" in alert["prompt"]
    assert book.app.status_bar_history[0].startswith("sheetbill: Bill") and book.app.status_bar_history[-1] is False
    assert book.app.screen_updating is True
    assert [s.name for s in book.sheets][: len(workbook)] == list(workbook)


def test_a_second_press_changes_nothing_and_clears_stale_rows():
    book = Book.from_cells(tiny_workbook())
    excel.bill(book)
    first = {name: book.table(name) for name in ("Invoices", "Invoice Lines")}
    problems = book.sheets["Problems"]
    for row in range(20, 25):
        problems.cells[(row, 1)] = Cell("stale")
    excel.bill(book)
    assert {name: book.table(name) for name in ("Invoices", "Invoice Lines")} == first
    assert all(cell.value != "stale" for cell in problems.cells.values())
    assert "0 invoice(s) issued" in book.app.alerts[-1]["prompt"]


def test_check_writes_only_problems_and_overdue_issues_nothing():
    book = Book.from_cells(tiny_workbook())
    excel.check(book)
    assert [s.name for s in book.sheets][-1] == "Problems" and "Invoices" not in [s.name for s in book.sheets]
    excel.overdue(book)
    assert len(book.table("Invoices")) == 1  # the header: overdue tracking bills nothing
    assert "no new invoices" in book.app.alerts[-1]["prompt"]


def test_a_broken_workbook_writes_nothing_and_says_why():
    workbook = tiny_workbook()
    workbook["Charges"] = [["Charge ID", "Customer ID"], ["1", "C1"]]
    book = Book.from_cells(workbook)
    assert excel.run_button("bill", book) is False
    assert [s.name for s in book.sheets] == list(workbook)
    assert "Nothing was written" in book.app.alerts[0]["prompt"] and book.app.alerts[0]["mode"] == "critical"


def test_failures_are_reported_in_a_message_box(monkeypatch):
    book = Book.from_cells(tiny_workbook())

    def broken(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr("sheetbill.io.xlwings_book.write_sheet", broken)
    assert excel.run_button("bill", book) is False
    assert "disk on fire" in book.app.alerts[0]["prompt"] and "WITHOUT saving" in book.app.alerts[0]["prompt"]
    monkeypatch.setattr("sheetbill.excel.press", broken)
    excel.run_button("bill", book)
    assert "Nothing was written" in book.app.alerts[1]["prompt"]
    assert book.app.status_bar_history[-1] is False


def test_documents_is_not_available_yet():
    book = Book.from_cells(tiny_workbook())
    excel.documents(book)
    assert "not available yet" in book.app.alerts[0]["prompt"]
    assert [s.name for s in book.sheets] == list(tiny_workbook())


def test_without_a_book_the_calling_workbook_is_used(monkeypatch):
    import xlwings

    book = Book.from_cells(tiny_workbook())
    monkeypatch.setattr(xlwings.Book, "caller", classmethod(lambda cls: book))
    excel.check()
    assert book.app.alerts and "Problems" in [s.name for s in book.sheets]


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_the_excel_front_end_runs_without_xlwings_pro():
    code = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "xlwings.pro" or name.startswith("xlwings.pro."):
            raise ImportError("xlwings.pro is not licensed here")
sys.meta_path.insert(0, Block())
import xlwings, sheetbill.excel
from tests.excel.fake_xlwings import Book
from tests.server.support import tiny_workbook
xlwings.Book.caller = classmethod(lambda cls, b=Book.from_cells(tiny_workbook()): b)
book = xlwings.Book.caller()
sheetbill.excel.bill()
assert "Invoices" in [s.name for s in book.sheets], book.app.alerts
assert not [m for m in sys.modules if m.startswith("xlwings.pro")]
print("ok")
"""
    result = _python(code)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_core_imports_no_front_end():
    code = """
import sys
import sheetbill.billing, sheetbill.buttons, sheetbill.cli, sheetbill.io.xlwings_json, sheetbill.excel
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("xlwings", "starlette", "uvicorn"))
print(loaded)
"""
    assert _python(code).stdout.strip() == "[]"


HOSTILE_NAMES = ["a'); import os #.xml", 'quote " and \\ backslash.xml', "new\nline & %PATH% | $(x) `y`.xml",
                 "Umsätze März €.xml", "emoji \U0001F4B6.xml"]


def test_picked_paths_travel_as_hex_digits_only_and_come_back_unchanged():
    paths = ["C:\\Users\\Jörg\\Bank\\" + name for name in HOSTILE_NAMES]
    encoded = excel.encode_paths(paths)
    assert set(encoded) <= set("0123456789ABCDEF.")
    assert excel.encode_paths(["a'"]) == "00610027"  # what the macro's SheetbillHex gives, see test_xlsm
    assert excel.decode_paths(encoded) == paths
    for bad in ["", "0061'", "006", "0061..0062", "0061.", "import os", "00610027')"]:
        with pytest.raises(ValueError):
            excel.decode_paths(bad)


def _issued_book() -> tuple[Book, list]:
    book = Book.from_cells(tiny_workbook())
    excel.bill(book)
    return book, book.table("Invoices")[1]


def _statement(invoice: list) -> bytes:
    from sheetbill.bank.camt_write import camt053
    from sheetbill.bank.entries import BankEntry
    from sheetbill.bank.references import invoice_rf

    day = dt.date(2026, 3, 5)
    return camt053("DE89370400440532013000", [
        BankEntry(Decimal(str(invoice[8])), "EUR", day, day, "Ann Lee", structured_reference=invoice_rf(invoice[0]),
                  bank_reference="B1", status="BOOK")], statement_id="S1", created=dt.datetime(2026, 3, 6))


def test_the_import_button_imports_picked_files_with_hostile_names(tmp_path):
    book, invoice = _issued_book()
    data = _statement(invoice)
    paths = []
    for index, name in enumerate(HOSTILE_NAMES):
        folder = tmp_path / f"d{index}"
        folder.mkdir()
        (folder / name).write_bytes(data)  # the same statement under every name: imported once
        paths.append(str(folder / name))
    assert excel.import_bank(excel.encode_paths(paths), book) is None
    rows = book.table("Bank Payments")
    assert rows[0][:4] == ["Payment ID", "Date", "Invoice No", "Amount"]
    assert [row[2] for row in rows[1:]] == [invoice[0]]
    alert = book.app.alerts[-1]
    assert alert["title"] == "sheetbill: Import bank statement" and alert["mode"] != "critical", alert
    assert "Matched by reference: 1" in alert["prompt"] and "Already imported: 4" in alert["prompt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d0", "d1", "d2", "d3", "d4"]


def test_the_import_button_without_files_or_with_a_missing_file_writes_nothing(tmp_path):
    book, _ = _issued_book()
    before = [s.name for s in book.sheets]
    excel.import_bank("", book)
    assert "Nothing was written" in book.app.alerts[-1]["prompt"] and book.app.alerts[-1]["mode"] == "critical"
    excel.import_bank(excel.encode_paths([str(tmp_path / "gone.xml")]), book)
    assert "gone.xml" in book.app.alerts[-1]["prompt"] and "Nothing was written" in book.app.alerts[-1]["prompt"]
    assert [s.name for s in book.sheets] == before
