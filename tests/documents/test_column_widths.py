"""A document table's columns: a date, quantity, rate or amount is never broken over two lines."""

from __future__ import annotations

import pytest

fpdf = pytest.importorskip("fpdf")

from sheetbill.documents.model import Table  # noqa: E402
from sheetbill.documents.pdf import TABLE_PADDING, TABLE_SIZE, column_widths  # noqa: E402

WIDTH = 175.0
HEADERS = ("Date", "Code", "Service", "Qty", "Charged", "VAT", "Amount")
RELATIVE = (25, 22, 60, 12, 26, 9, 26)  # a customer's invoice with a tax rate column


def pdf():
    document = fpdf.FPDF()
    document.set_font("helvetica", size=TABLE_SIZE)
    return document


def table(*rows):
    return Table(HEADERS, RELATIVE, ("L", "L", "L", "R", "R", "R", "R"), tuple(rows))


def test_every_column_but_the_description_holds_its_longest_cell_on_one_line():
    document = pdf()
    row = ("30 September 2026", "HEAT-BASE", "District heating base fee (monthly)", "9,120", "1,135.44 EUR",
           "19 %", "1,135.44 EUR")
    widths = column_widths(document, table(row), WIDTH)
    assert sum(widths) == pytest.approx(WIDTH)
    for index, text in enumerate(row):
        if index != 2:
            assert widths[index] - 2 * TABLE_PADDING >= document.get_string_width(text), HEADERS[index]
    assert widths[2] >= WIDTH / 4


def test_short_cells_keep_the_tables_own_proportions():
    widths = column_widths(pdf(), table(("1.6.", "A", "x", "1", "1 EUR", "7 %", "1 EUR")), WIDTH)
    assert widths == pytest.approx([WIDTH * w / sum(RELATIVE) for w in RELATIVE])


def test_cells_too_long_for_any_layout_shrink_every_column_alike_to_the_tables_width():
    widths = column_widths(pdf(), table(("9" * 60, "A", "x", "9" * 60, "1 EUR", "7 %", "1 EUR")), WIDTH)
    assert sum(widths) == pytest.approx(WIDTH) and widths[2] < WIDTH / 4


def test_in_the_widest_layout_columns_with_room_to_spare_give_it_up_before_a_date_wraps():
    """A patient's invoice with Charged, Insurance, VAT and Your share: the description at its quarter
    is not enough, so the amount columns, wider than their cells, give up what they do not use."""
    headers = ("Date", "Code", "Service", "Qty", "Charged", "Insurance", "VAT", "Your share")
    relative = (25, 20, 48, 10, 23, 23, 9, 24)
    row = ("25 September 2026", "GOÄ 3", "Eingehende Beratung, auch mittels Fernsprecher", "1", "26.81 EUR",
           "20.11 EUR", "19 %", "6.70 EUR")
    document = pdf()
    widths = column_widths(document, Table(headers, relative, ("L",) * 3 + ("R",) * 5, (row,)), WIDTH)
    assert sum(widths) == pytest.approx(WIDTH)
    for index, text in enumerate(row):
        if index != 2:
            assert widths[index] - 2 * TABLE_PADDING >= document.get_string_width(text), headers[index]
    assert widths[2] >= WIDTH / 4 - 1e-9
