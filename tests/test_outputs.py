"""The output sheets as a run hands them to the writer (sheetbill.outputs).

The largest sheets (Invoices, Invoice Lines, Accounts) are not passed through ``canonical``: they are
canonical by construction. The oracle is ``canonical`` itself: applied to them, it must change no value
and no type. The Invoice Lines rows are made as they are read (``LineRows``); the oracle is the list of
tuples of each line's fields in the sheet's column order, spelled out here.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sheetbill import contract
from sheetbill.app import bill
from sheetbill.io.xlsx.file import XlsxWorkbook
from sheetbill.outputs import LineRows, canonical, invoice_lines_sheet

ROOT = Path(__file__).resolve().parents[1]
BY_CONSTRUCTION = (contract.INVOICES_SHEET, contract.INVOICE_LINES_SHEET, contract.ACCOUNTS_SHEET)


def _spelled(rows) -> list[list[tuple[type, str]]]:
    return [[(type(value), repr(value)) for value in row] for row in rows]


@pytest.mark.parametrize("demo", ["demo-medical.xlsx", "demo-utility.xlsx"])
def test_the_sheets_left_out_of_canonical_are_canonical_by_construction(tmp_path: Path, demo: str) -> None:
    """A first run, then runs that read the history back (amounts as the reader gives them) and add
    payments, fees and interest: canonical changes no value or type of these sheets in any of them."""
    book = shutil.copy(ROOT / "workbooks" / demo, tmp_path / demo)
    checked = 0
    for as_of in (dt.date(2026, 6, 30), dt.date(2026, 9, 30), dt.date(2027, 3, 31)):
        result = bill(XlsxWorkbook(book, cache=False), as_of=as_of).result
        assert result is not None
        currency = result.book.settings.currency
        for output in result.outputs:
            if output.name in BY_CONSTRUCTION:
                assert _spelled(output.rows) == _spelled(canonical(output, currency).rows), output.name
                checked += len(output.rows)
    assert checked > 100


def test_invoice_lines_rows_are_each_lines_fields_and_seal_in_column_order(tmp_path: Path) -> None:
    """The rows of the Invoice Lines sheet as a view: each row, any slice of them (slices of slices,
    steps, negative indexes) and their iteration give the tuples spelled out from the lines."""
    book = shutil.copy(ROOT / "workbooks" / "demo-medical.xlsx", tmp_path / "demo.xlsx")
    result = bill(XlsxWorkbook(book, cache=False), as_of=dt.date(2026, 9, 30)).result
    lines = result.lines
    seals = [f"seal {n}" for n in range(len(lines))]
    fields = [column.header.lower().replace(" ", "_")
              for column in contract.INVOICE_LINE_COLUMNS[:-1]]
    assert fields[:3] == ["invoice_no", "charge_id", "date_of_service"]
    expected = [(*(getattr(line, name) for name in fields), seal) for line, seal in zip(lines, seals, strict=True)]
    rows = invoice_lines_sheet(lines, seals).rows
    assert isinstance(rows, LineRows) and len(rows) == len(expected) > 20
    assert list(rows) == expected and rows == expected and rows != expected[1:]
    assert rows[0] == expected[0] and rows[-1] == expected[-1]
    for part in (slice(3, None), slice(None, 7), slice(2, 19, 3), slice(None, None, -1), slice(5, 5)):
        assert list(rows[part]) == expected[part] and len(rows[part]) == len(expected[part])
    assert list(rows[4:][2:9][1:]) == expected[4:][2:9][1:]
    with pytest.raises(ValueError):
        invoice_lines_sheet(lines, seals[1:])
