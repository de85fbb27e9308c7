"""The rows a write just wrote, as a read gives them, without reading them (sheetbill.io.xlsx.written).

The oracle is python-calamine reading the written file: the rows a written part gives (every row, or the
rows after an earlier read's token) must be, cell for cell and type for type, the rows calamine reads
there. Values whose reading is not predicted (a datetime, a number in a date column, a subclass) give
no rows, and neither does a file changed since the write. (The writer escapes U+FFFE and U+FFFF as
``_xFFFE_``, which python-calamine does not decode: texts with them are not predicted either.)
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from sheetbill.continuations import known_table
from sheetbill.io.xlsx import write_output_sheets
from sheetbill.io.xlsx.file import XlsxWorkbook
from sheetbill.io.xlsx.read import open_workbook
from sheetbill.io.xlsx.written import WrittenSheets
from sheetbill.sheets import OutputSheet
from tests.io.test_xlsx_append import COLUMNS, TEXTS, random_row

NAME = "Invoice Lines"
class _Text(str):
    """A text of a subclass (a StrEnum): written as its plain value."""


class _Number(int):
    """A number of a subclass (an IntEnum): written as its plain value."""


#: Values at the edges of what the writer writes: escapes, signed zero, the 1900 system's first days,
#: subclasses.
EDGES = [
    [_Text("subclass"), _Number(7), None, None, _Number(1), _Text(""), None],
    ["_x0041_ literal", 1, Decimal("-0.00"), dt.date(1900, 1, 1), 0.25, "ctrl\x01char\r", Decimal("7")],
    [" lead", None, Decimal("0.00"), dt.date(1900, 2, 28), True, "=SUM(A1)", 3.5],
    ["", None, None, None, None, "", None],
    ["& < > ü €", -2, Decimal("99999999999999.99"), dt.date(1900, 3, 1), False, "tab\tend ", Decimal("1.5E+3")],
    ["ẞ 中 \x7f", 2**40, Decimal("1E+2"), dt.date(9000, 12, 31), 0, "  ", Decimal("-0")],
]


def _book(path: Path, date1904: bool = False) -> Path:
    workbook = xlsxwriter.Workbook(path, {"date_1904": date1904})
    workbook.add_worksheet("Charges").write_row("A1", ["Charge", "Amount"])
    workbook.close()
    return path


def _rows(rng: random.Random, count: int, start: int = 0, date1904: bool = False) -> list[list[object]]:
    """Random rows of every value type the writer writes, datetimes as dates (a datetime is not predicted),
    without dates the date system cannot hold."""
    rows = [random_row(rng, start + n) for n in range(count)]
    for row in rows:
        if isinstance(row[3], dt.datetime):
            row[3] = row[3].date()
        if date1904 and isinstance(row[3], dt.date) and row[3] < dt.date(1904, 1, 1):
            row[3] = None
    return rows


def _calamine(book: Path, names: tuple[str, ...] = (NAME,)) -> list[list[object]]:
    """The table as the full read has it: calamine's rows (continuation sheets joined), empty text as None."""
    reader = CalamineWorkbook.from_path(str(book))
    tables = [[[None if value == "" else value for value in row] for row in reader.get_sheet_by_name(name).to_python()]
              for name in names if name in reader.sheet_names]
    return tables[0] + [row for table in tables[1:] for row in table[1:]]


def _typed(rows) -> list[list[tuple[type, object]]]:
    width = len(COLUMNS)
    return [[(type(value), repr(value)) for value in list(row) + [None] * (width - len(row))] for row in rows]  # -0.0


def _write(book: Path, rows: list[list[object]], max_rows: int = 1_048_576) -> dict:
    rendered: dict = {}
    write_output_sheets(book, [OutputSheet(NAME, COLUMNS, rows)], backup=False, rendered=rendered, _max_rows=max_rows)
    return rendered


@pytest.mark.parametrize("date1904", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_the_rows_written_are_the_rows_calamine_reads(tmp_path: Path, seed: int, date1904: bool) -> None:
    rng = random.Random(seed)
    book = _book(tmp_path / "book.xlsx", date1904)
    edges = [row for row in EDGES if not date1904 or row[3] is None or row[3].year > 1904]
    if date1904:  # its first day is serial 0, which python-calamine reads as a time of day
        edges += [["first", None, None, dt.date(1904, 1, 1), None, None, None],
                  ["second", None, None, dt.date(1904, 1, 2), None, None, None]]
    rows = _rows(rng, rng.randrange(1, 400), 0, date1904) + edges
    rendered = _write(book, rows)
    with open_workbook(book, [NAME], known=True) as sheets:
        sheet = WrittenSheets(sheets, rendered, sheets.date1904)[NAME]
        before, written = sheet.known.rows_since(None)
        seen = sheet.known.seen()
    assert before == 0 and _typed(written) == _typed(_calamine(book)[1:])
    added = _rows(rng, rng.randrange(1, 50), 10_000, date1904) + [[f"T{n}", None, None, None, None, text, None]
                                                          for n, text in enumerate(TEXTS)]
    rendered = _write(book, rows + added)
    with open_workbook(book, [NAME], known=True) as sheets:
        sheet = WrittenSheets(sheets, rendered, sheets.date1904)[NAME]
        before, new_rows = sheet.known.rows_since(seen)
        assert sheet.known.rows_since(("not", "a", "token")) is None
    assert before == len(rows) and _typed(new_rows) == _typed(_calamine(book)[1 + len(rows):])


@pytest.mark.parametrize("odd", [dt.datetime(2026, 5, 6, 7, 8, 9), "not\ufffea character", _Text("sub\uffffclass")])
def test_a_value_whose_reading_is_not_predicted_gives_no_rows(tmp_path: Path, odd: object) -> None:
    book = _book(tmp_path / "book.xlsx")
    rows = _rows(random.Random(1), 20)
    rows[5][5] = odd
    rendered = _write(book, rows)
    with open_workbook(book, [NAME], known=True) as sheets:
        assert WrittenSheets(sheets, rendered, sheets.date1904)[NAME].known.rows_since(None) is None


def test_a_number_in_a_date_column_gives_no_rows(tmp_path: Path) -> None:
    """Calamine reads it as a date: not predicted from the number."""
    book = _book(tmp_path / "book.xlsx")
    rows = _rows(random.Random(2), 20)
    rows[3][3] = Decimal("45000")
    rendered = _write(book, rows)
    assert _calamine(book)[4][3] == dt.date(2023, 3, 15)
    with open_workbook(book, [NAME], known=True) as sheets:
        assert WrittenSheets(sheets, rendered, sheets.date1904)[NAME].known.rows_since(None) is None


def test_a_table_on_continuation_sheets_gives_every_row_and_then_the_grown_ones(tmp_path: Path) -> None:
    rng = random.Random(3)
    book = _book(tmp_path / "book.xlsx")
    names = (NAME, f"{NAME} 2", f"{NAME} 3")
    rows = _rows(rng, 120)
    rendered = _write(book, rows, max_rows=50)  # three sheets of 49, 49 and 22 rows
    with open_workbook(book, names, known=True) as sheets:
        sheet = known_table(WrittenSheets(sheets, rendered, sheets.date1904), NAME)
        before, written = sheet.known.rows_since(None)
        seen = sheet.known.seen()
        assert before == 0 and _typed(written) == _typed(_calamine(book, names)[1:])
        every = list(written)
        for start, stop in ((0, 49), (40, 60), (45, 120), (97, 99), (100, 130)):  # slices across the sheets
            assert _typed(written[start:stop]) == _typed(every[start:stop])
        assert _typed([written[48], written[49], written[-1]]) == _typed([every[48], every[49], every[-1]])
    added = _rows(rng, 10, 1000)
    rendered = _write(book, rows + added, max_rows=50)  # the third sheet grew
    with open_workbook(book, names, known=True) as sheets:
        sheet = known_table(WrittenSheets(sheets, rendered, sheets.date1904), NAME)
        before, new_rows = sheet.known.rows_since(seen)
    assert before == len(rows) and _typed(new_rows) == _typed(_calamine(book, names)[1 + len(rows):])
    with open_workbook(book, names, known=True) as sheets:  # read as a run reads it: no rows without a token
        assert known_table(sheets, NAME).known.rows_since(None) is None


def test_a_file_changed_since_the_write_gives_no_sheets(tmp_path: Path) -> None:
    book = _book(tmp_path / "book.xlsx")
    workbook = XlsxWorkbook(book, cache=False)
    with workbook.written() as sheets:
        assert dict(sheets) == {}  # nothing written yet
    workbook.write([OutputSheet(NAME, COLUMNS, _rows(random.Random(4), 30))], stamp=None)
    with workbook.written() as sheets:
        assert sheets[NAME].known.rows_since(None)[0] == 0
    _write(book, _rows(random.Random(5), 31))  # another write since: the rows are not the ones written
    with workbook.written() as sheets:
        assert dict(sheets) == {}


def test_a_part_that_holds_other_rows_than_written_gives_none(tmp_path: Path) -> None:
    book = _book(tmp_path / "book.xlsx")
    rows = _rows(random.Random(6), 30)
    rendered = _write(book, rows)
    rendered[NAME.casefold()] = (rows[:-1], COLUMNS)
    with open_workbook(book, [NAME], known=True) as sheets:
        assert WrittenSheets(sheets, rendered, sheets.date1904)[NAME].known.rows_since(None) is None
