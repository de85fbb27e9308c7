"""The xlwings Lite scripts in CPython, against the stand-in Book with xlwings Lite's differences (the
same runs inside real Pyodide are in test_pyodide.py)."""

from __future__ import annotations

import datetime as dt
import inspect
import typing

import pytest

from sheetbill import excel, lite
from tests.excel.fake_xlwings import Book
from tests.server.support import tiny_workbook

from .lite_book import LiteBook


def test_scripts_take_the_book_and_an_optional_as_of_date():
    xlwings = pytest.importorskip("xlwings")
    for script in (lite.bill, lite.update_overdue, lite.check, lite.statement, lite.import_bank):
        assert list(inspect.signature(script).parameters) == ["book", "as_of"]
        assert inspect.signature(script).parameters["as_of"].default is None
        # what xlwings Lite resolves to inject the book and to draw a date picker in App Mode
        assert typing.get_type_hints(script) == {"book": xlwings.Book, "as_of": dt.date | None, "return": type(None)}
        assert script.__doc__.startswith("# ")


def test_bill_writes_what_excel_with_local_python_writes_in_lite_style():
    desktop, book = Book.from_cells(tiny_workbook()), LiteBook.from_cells(tiny_workbook())
    excel.bill(desktop)
    assert lite.bill(book) is None
    written = [sheet.name for sheet in book.sheets if sheet.writes]
    assert written == [sheet.name for sheet in desktop.sheets if sheet.writes] and "Invoices" in written
    for name in written:
        assert book.table(name) == desktop.table(name)
        sheet = book.sheets[name]
        assert sheet.range((1, 1)).color == lite.HEADER_HEX and sheet.range((1, 1)).font.bold
        assert sheet.frozen == "1:1"
    assert book.sheets["Invoices"].widths[1] == lite.points(desktop.sheets["Invoices"].widths[1])
    assert book.app.screen_updating_set == [False]  # suspended; Lite resumes by itself
    [alert] = book.app.alerts
    assert alert == {**desktop.app.alerts[0]}


def test_a_column_width_in_characters_becomes_points():
    assert lite.points(8.43) == pytest.approx(48, abs=0.1)  # Excel's default column: 64 px
    assert lite.points(0) == 3.75


@pytest.mark.parametrize("as_of", [dt.date(2026, 3, 31), dt.datetime(2026, 3, 31, 9, 30), "2026-03-31"])
def test_the_date_field_sets_the_as_of_date(as_of):
    book = LiteBook.from_cells(tiny_workbook())
    assert lite.run_script("bill", book, as_of) is False  # the tiny workbook has an #N/A on purpose
    assert "as of 2026-03-31" in book.app.alerts[0]["prompt"]


def test_check_writes_only_problems_and_overdue_issues_nothing(capsys):
    book = LiteBook.from_cells(tiny_workbook())
    lite.check(book)
    assert [s.name for s in book.sheets if s.writes] == ["Problems"]
    lite.update_overdue(book)
    assert len(book.table("Invoices")) == 1
    assert "no new invoices" in book.app.alerts[-1]["prompt"]
    assert "sheetbill: Update overdue" in capsys.readouterr().out  # also in the add-in's output pane


def test_a_broken_workbook_writes_nothing_and_says_why():
    workbook = tiny_workbook()
    workbook["Charges"] = [["Charge ID", "Customer ID"], ["1", "C1"]]
    book = LiteBook.from_cells(workbook)
    assert lite.run_script("bill", book) is False
    assert not [s for s in book.sheets if s.writes]
    assert "Nothing was written" in book.app.alerts[0]["prompt"] and book.app.alerts[0]["mode"] == "critical"


def test_a_failure_while_writing_says_so(monkeypatch):
    book = LiteBook.from_cells(tiny_workbook())

    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr("sheetbill.io.xlwings_book.write_sheet", broken)
    assert lite.run_script("bill", book) is False
    assert "WITHOUT saving" in book.app.alerts[0]["prompt"]


def test_without_an_alert_the_message_is_printed(capsys):
    book = Book.from_cells(tiny_workbook())
    del book.app.alerts  # an engine whose alert fails
    lite.check(book)
    assert "Checked the workbook" in capsys.readouterr().out


def test_a_sheet_button_runs_its_script_with_the_workbook_date():
    pressed = lite.sheet_button("check", "[CheckButton]Billing!J4")
    assert pressed.__name__ == "check_sheet_button" and list(inspect.signature(pressed).parameters) == ["book"]
    book = LiteBook.from_cells(tiny_workbook())
    pressed(book)
    assert [s.name for s in book.sheets if s.writes] == ["Problems"]
    with pytest.raises(KeyError):
        lite.sheet_button("documents", "[Docs]Billing!J5")


def test_statement_writes_every_customers_account_as_a_sheet_that_adds_up():
    from pathlib import Path

    from python_calamine import CalamineWorkbook

    root = Path(__file__).resolve().parents[2]
    cells = {}
    workbook = CalamineWorkbook.from_path(str(root / "workbooks" / "demo-medical.xlsx"))
    for name in workbook.sheet_names:
        cells[name] = workbook.get_sheet_by_name(name).to_python()
    book = LiteBook.from_cells(cells)
    assert lite.run_statement(book, dt.date(2026, 5, 31)) is True
    assert [s.name for s in book.sheets if s.writes] == ["Statements"]
    table = book.table("Statements")
    header, rows = table[0], [dict(zip(table[0], row, strict=False)) for row in table[1:]]
    assert header[:4] == ["Customer ID", "Name", "Date", "Item"]
    by_customer: dict[str, list[dict]] = {}
    for row in rows:
        by_customer.setdefault(row["Customer ID"], []).append(row)
    assert by_customer, "customers with May activity or open items"
    for lines in by_customer.values():  # opening + items = closing, and every running balance agrees
        balance = lines[0]["Balance"]
        assert lines[0]["Item"] == "Opening balance"
        for line in lines[1:]:
            if line["Item"] == "Closing balance":
                assert round(line["Balance"] - balance, 2) == 0
                break
            balance += line["Amount"]
            assert round(line["Balance"] - balance, 2) == 0
    assert "Statements of account 2026-05-01 to 2026-05-31" in book.app.alerts[-1]["prompt"]


def test_import_reads_the_statement_files_in_xlwings_lites_file_store(tmp_path):
    from tests.excel.test_xlwings_book import _statement

    book = LiteBook.from_cells(tiny_workbook())
    lite.bill(book)
    invoice = book.table("Invoices")[1]
    assert lite.run_import(book, tmp_path / "missing") is False
    assert "Import/Export" in book.app.alerts[-1]["prompt"] and "Bank Payments" not in [s.name for s in book.sheets]
    (tmp_path / "june").mkdir()
    (tmp_path / "june" / "camt053 June.XML").write_bytes(_statement(invoice))
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")  # not a statement: left alone
    assert lite.statement_files(tmp_path) == [("june/camt053 June.XML", _statement(invoice))]
    assert lite.run_import(book, tmp_path) is True
    assert [row[2] for row in book.table("Bank Payments")[1:]] == [invoice[0]]
    assert book.sheets["Bank Payments"].frozen == "1:1"
    assert "Matched by reference: 1" in book.app.alerts[-1]["prompt"]
    assert lite.run_import(book, tmp_path) is True  # the file stays in the store: nothing imported twice
    assert len(book.table("Bank Payments")) == 2 and "Already imported: 1" in book.app.alerts[-1]["prompt"]
