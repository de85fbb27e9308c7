"""Workbooks for the .xlsx adapter tests, built with XlsxWriter the way users' files look."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import xlsxwriter
from PIL import Image

#: Bytes standing in for a VBA project: the writer must carry them over unchanged, not run them.
_FAKE_VBA = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8


@pytest.fixture
def png(tmp_path: Path) -> Path:
    """A tiny PNG image."""
    image_path = tmp_path / "logo.png"
    Image.new("RGB", (4, 3), (200, 30, 30)).save(image_path)
    return image_path


def build_rich_workbook(path: Path, png: Path) -> Path:
    """A workbook with most of what users put in theirs.

    Sheets: "Customers" (styles, a formula with a cached value, merged cells, comment, data
    validation, conditional format, image, chart, sparkline, a sheet-local name), "Data" (an
    Excel table "Charges" at C4 with a totals row), "Payments" (a table named like its sheet),
    "Invoices" (an old output sheet with a table, comment and the same image, to be replaced).
    """
    workbook = xlsxwriter.Workbook(path)
    bold = workbook.add_format({"bold": True, "bg_color": "#DDEEFF"})
    money = workbook.add_format({"num_format": "#,##0.00"})
    date = workbook.add_format({"num_format": "dd.mm.yyyy"})
    red = workbook.add_format({"font_color": "#9C0006"})

    customers = workbook.add_worksheet("Customers")
    customers.write_row("A1", ["Id", "Name", "Balance", "Since"], bold)
    for row, (ident, name, balance, since) in enumerate(
        [(1, "Ada", 120.5, dt.date(2023, 1, 5)), (2, "Bo & Co", 99.25, dt.date(2022, 7, 1)),
         (3, "Cy", 230.0, dt.date(2024, 2, 29))],
        start=1,
    ):
        customers.write_number(row, 0, ident)
        customers.write_string(row, 1, name)
        customers.write_number(row, 2, balance, money)
        customers.write_datetime(row, 3, dt.datetime.combine(since, dt.time()), date)
    customers.write_formula("C5", "=SUM(C2:C4)", money, 449.75)
    customers.merge_range("A7:D7", "Merged note", bold)
    customers.write_comment("B2", "VIP customer")
    customers.data_validation("E2:E4", {"validate": "list", "source": ["open", "closed"]})
    customers.conditional_format("C2:C4", {"type": "cell", "criteria": ">", "value": 100, "format": red})
    customers.insert_image("G2", png)
    chart = workbook.add_chart({"type": "column"})
    chart.add_series({"categories": "=Customers!$B$2:$B$4", "values": "=Customers!$C$2:$C$4"})
    customers.insert_chart("G10", chart)
    customers.write_row("F2", [1, 3, 2])
    customers.add_sparkline("I2", {"range": "Customers!F2:H2"})
    workbook.define_name("Rate", "=0.19")
    workbook.define_name("Customers!LocalTotal", "=Customers!$C$2:$C$4")

    data = workbook.add_worksheet("Data")
    data.write("A1", "Charges are below")
    data.add_table(
        "C4:F7",
        {
            "name": "Charges",
            "total_row": True,
            "columns": [
                {"header": "Charge Id"},
                {"header": "Customer"},
                {"header": "Amount", "total_function": "sum"},
                {"header": "Date"},
            ],
            "data": [["C-1", 1, 10.5, dt.date(2024, 3, 1)], ["C-2", 2, 20.25, dt.date(2024, 3, 2)]],
        },
    )
    data.write_datetime("F5", dt.datetime(2024, 3, 1), date)
    data.write_datetime("F6", dt.datetime(2024, 3, 2), date)

    payments = workbook.add_worksheet("Payments")
    payments.add_table(
        "B2:C4",
        {"name": "Payments", "columns": [{"header": "Payment_Id"}, {"header": "Amount"}],
         "data": [["P-1", 5], ["P-2", 7.5]]},
    )

    invoices = workbook.add_worksheet("Invoices")
    invoices.add_table("A1:B6", {"name": "OldInvoices", "columns": [{"header": "Old"}, {"header": "Stuff"}],
                                 "data": [[f"I-{i}", i] for i in range(5)]})
    invoices.write_comment("A2", "old comment")
    invoices.insert_image("E2", png)
    workbook.close()
    return path


@pytest.fixture
def rich_workbook(tmp_path: Path, png: Path) -> Path:
    """The rich .xlsx workbook (see :func:`build_rich_workbook`)."""
    return build_rich_workbook(tmp_path / "book.xlsx", png)


@pytest.fixture
def vba_project() -> bytes:
    """The content of the macro workbook's VBA project."""
    return _FAKE_VBA


@pytest.fixture
def macro_workbook(tmp_path: Path, vba_project: bytes) -> Path:
    """An .xlsm with a (fake) VBA project and a form-control button."""
    vba = tmp_path / "vbaProject.bin"
    vba.write_bytes(vba_project)
    path = tmp_path / "macros.xlsm"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("Start")
    sheet.write("A1", "Press the button")
    sheet.insert_button("B3", {"macro": "RunBilling", "caption": "Bill now"})
    workbook.add_vba_project(str(vba))
    workbook.close()
    return path
