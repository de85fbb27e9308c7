"""The Invoice Lines rows a run names as kept (:attr:`sheetbill.book.Book.lines_kept`, handed to the front end as
:class:`sheetbill.sheets.KeptRows`) are the rows it read, each made again exactly as the sheet holds it; a
sheet whose rows are not all read back as they stand keeps none.

The reference is the sheet as read: the kept rows of the output, read back the way a file front end reads
them, must be the rows the run was given.
"""

from __future__ import annotations

import random

import pytest

from sheetbill.book import load_book
from sheetbill.run import run_billing
from sheetbill.sheets import RawSheet
from tests.helpers import as_read_back, with_outputs
from tests.test_memo import AS_OF, _add_rows, _inputs, _raw

LINES = "Invoice Lines"


def billed_twice() -> tuple[dict[str, RawSheet], object]:
    """A workbook billed once, with more charges typed in, and the run that bills them."""
    rng = random.Random(11)
    tables = _inputs(rng, 120)
    first = run_billing(_raw(tables), as_of=AS_OF)
    _add_rows(rng, tables, 15, 500)
    sheets = with_outputs(_raw(tables), first.outputs)
    return sheets, run_billing(sheets, as_of=AS_OF)


def output(result, name: str):
    return next(sheet for sheet in result.outputs if sheet.name == name)


def test_the_lines_read_are_kept_and_are_the_rows_written_back() -> None:
    sheets, result = billed_twice()
    read = sheets[LINES].rows[1:]
    lines = output(result, LINES)
    assert lines.kept.count == len(read) > 100
    assert len(lines.rows) > len(read)  # the new charges' lines follow them
    assert as_read_back(lines).rows[1:len(read) + 1] == read
    assert lines.kept.context.endswith("|EUR")


def _changed(sheets: dict[str, RawSheet], row: int, values: dict[str, object]) -> dict[str, RawSheet]:
    rows = [list(cells) for cells in sheets[LINES].rows]
    for header, value in values.items():
        rows[row][rows[0].index(header)] = value
    return {**sheets, LINES: RawSheet(LINES, rows)}


@pytest.mark.parametrize("values", [
    {"Seal": None},  # history from before seals: sealed as it is written back
    {"Amount": "eighty"},  # a cell that is no amount: the row is no line
    # 0.1.0's form: the credited invoice named in the Reason alone, upgraded as it is read
    {"Reason": "credit for INV-000001: charge changed", "Related Invoice": None},
])
def test_a_row_not_written_back_as_it_stands_keeps_no_line(values: dict[str, object]) -> None:
    sheets, _ = billed_twice()
    assert load_book(sheets, as_of=AS_OF)[0].lines_kept == len(sheets[LINES].rows) - 1
    changed = _changed(sheets, 7, values)
    book, _ = load_book(changed, as_of=AS_OF)
    assert book.lines_kept == 0
    assert output(run_billing(changed, as_of=AS_OF), LINES).kept.count == 0
