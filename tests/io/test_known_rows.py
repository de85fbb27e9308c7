"""Reading only the rows appended to sheetbill's own sheet since the last read (sheetbill.io.xlsx.known).

The oracle is python-calamine reading the whole sheet: the rows a known part says were added since an
earlier read must be, cell for cell and type for type, the rows calamine reads there; whatever does not
prove the earlier rows unchanged (rows rewritten, a foreign token, a part re-saved without its mark, a
changed cell inside the copied bytes) must answer None, so the sheet is read in full.
"""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from sheetbill.continuations import merge_continuations
from sheetbill.io.xlsx import write_output_sheets
from sheetbill.io.xlsx.known import BodySeen
from sheetbill.io.xlsx.read import open_workbook
from sheetbill.sheets import LazyRows, OutputSheet
from tests.io.test_xlsx_append import COLUMNS, extended, new_workbook, random_row, rebuild, sheet_part_name

NAME = "Invoice Lines"


def _calamine(book: Path) -> list[list[object]]:
    """The sheet as the full read has it: calamine's rows, empty text as None."""
    rows = CalamineWorkbook.from_path(str(book)).get_sheet_by_name(NAME).to_python()
    return [[None if value == "" else value for value in row] for row in rows]


def _write(book: Path, rows: list[list[object]]) -> None:
    write_output_sheets(book, [OutputSheet(NAME, COLUMNS, rows)], backup=False)


def _known(book: Path):
    """The sheet as a run's read hands it over (the part stays open while the test asks it)."""
    opened = open_workbook(book, [NAME], known=True)
    sheets = opened.__enter__()
    return opened, sheets[NAME]


def _grown(tmp_path: Path, seed: int, extra: list[list[object]] | None = None):
    """A sheet written, its token seen by a read, then grown by a second write (the append path)."""
    rng = random.Random(seed)
    book = new_workbook(tmp_path / "book.xlsx")
    rows = [random_row(rng, n) for n in range(rng.randrange(1, 300))]
    _write(book, rows)
    opened, sheet = _known(book)
    seen = sheet.known.seen()
    opened.__exit__(None, None, None)
    before = tmp_path / "before.xlsx"
    before.write_bytes(book.read_bytes())
    added = extra if extra is not None else [random_row(rng, 10_000 + n) for n in range(rng.randrange(1, 60))]
    _write(book, rows + added)
    assert extended(before, book, sheet_part_name(book, NAME)), "the second write took the append path"
    return book, rows, added, seen


@pytest.mark.parametrize("seed", range(6))
def test_the_rows_added_since_a_read_are_the_rows_calamine_reads_there(tmp_path: Path, seed: int) -> None:
    book, rows, added, seen = _grown(tmp_path, seed)
    full = _calamine(book)
    opened, sheet = _known(book)
    try:
        assert isinstance(sheet.rows, LazyRows)
        assert sheet.rows[0] == [cell for cell in full[0] if cell is not None]
        before, new_rows = sheet.known.rows_since(seen)
        assert before == len(rows)
        expected = full[1 + len(rows):]
        assert len(new_rows) == len(expected) == len(added)
        for got, want in zip(new_rows, expected, strict=True):
            width = max(len(got), len(want))
            got, want = got + [None] * (width - len(got)), want + [None] * (width - len(want))
            assert [(type(v), v) for v in got] == [(type(v), v) for v in want]
        assert sheet.known.seen() != seen and sheet.known.seen().rows == len(rows) + len(added)
        assert list(sheet.rows) == full  # asked for more than the header, the whole sheet is read
    finally:
        opened.__exit__(None, None, None)


def test_texts_that_need_escaping_and_every_value_type_read_as_calamine_reads_them(tmp_path: Path) -> None:
    added = [["_x0041_ literal", 1, Decimal("12.50"), dt.date(2026, 2, 28), 0.25, "ctrl\x01char", Decimal("7")],
             [" lead", None, None, dt.datetime(2026, 5, 6, 7, 8, 9), True, "=SUM(A1)", 3.5],
             ["", None, None, None, None, None, None],
             ["& < > ü €", -2, Decimal("-0.01"), dt.date(1900, 3, 1), False, "tab\tend ", Decimal("1.5E+3")]]
    book, rows, _, seen = _grown(tmp_path, 1, extra=added)
    full = _calamine(book)
    opened, sheet = _known(book)
    try:
        _, new_rows = sheet.known.rows_since(seen)
        for got, want in zip(new_rows, full[1 + len(rows):], strict=True):
            want = want + [None] * (len(got) - len(want))
            assert [(type(v), v) for v in got] == [(type(v), v) for v in want]
    finally:
        opened.__exit__(None, None, None)


def test_rows_rewritten_or_a_token_not_its_own_prove_nothing(tmp_path: Path) -> None:
    book, rows, added, seen = _grown(tmp_path, 2)
    opened, sheet = _known(book)
    try:
        assert sheet.known.rows_since(BodySeen(seen.length, bytes(len(seen.digest)), seen.rows)) is None
        assert sheet.known.rows_since(BodySeen(seen.length + 1, seen.digest, seen.rows)) is None
        assert sheet.known.rows_since(("not", "a", "token")) is None
        assert sheet.known.rows_since(sheet.known.seen()) == (len(rows) + len(added), [])
    finally:
        opened.__exit__(None, None, None)
    changed = [list(row) for row in rows + added]
    changed[0][0] = "edited"  # a row in the middle rewritten: the write cannot append
    _write(book, changed)
    opened, sheet = _known(book)
    try:
        assert sheet.known is not None and sheet.known.rows_since(seen) is None
    finally:
        opened.__exit__(None, None, None)


def test_a_part_without_its_mark_or_with_other_bytes_is_not_known(tmp_path: Path) -> None:
    book, _, _, _ = _grown(tmp_path, 3)
    resaved = rebuild(book, tmp_path / "resaved.xlsx", comment=lambda name, comment: b"")
    opened, sheet = _known(resaved)
    try:
        assert sheet.known is None and not isinstance(sheet.rows, LazyRows)
    finally:
        opened.__exit__(None, None, None)
    part = sheet_part_name(book, NAME)
    with zipfile.ZipFile(book) as archive:
        xml = archive.read(part)
    edited = rebuild(book, tmp_path / "edited.xlsx", replace={part: xml.replace(b"<v>", b"<v>1", 1)})
    opened, sheet = _known(edited)
    try:
        assert sheet.known is None  # the mark no longer agrees with the entry
    finally:
        opened.__exit__(None, None, None)
    opened, sheet = _known(book)  # without known=True nothing changes for other callers
    opened.__exit__(None, None, None)
    with open_workbook(book, [NAME]) as sheets:
        assert sheets[NAME].known is None and sheets[NAME].rows == _calamine(book)


def test_a_table_continued_on_more_sheets_is_known_while_only_its_last_sheet_grows(tmp_path: Path) -> None:
    rng = random.Random(7)
    book = new_workbook(tmp_path / "book.xlsx")
    rows = [random_row(rng, n) for n in range(70)]

    def write(rows: list[list[object]]) -> None:
        write_output_sheets(book, [OutputSheet(NAME, COLUMNS, rows)], backup=False, _max_rows=50)

    def merged():
        opened = open_workbook(book, [NAME, f"{NAME} 2", f"{NAME} 3"], known=True)
        return opened, merge_continuations(opened.__enter__(), NAME)

    def full() -> list[list[object]]:
        reader = CalamineWorkbook.from_path(str(book))
        names = [name for name in (NAME, f"{NAME} 2", f"{NAME} 3") if name in reader.sheet_names]
        tables = [[[None if v == "" else v for v in row] for row in reader.get_sheet_by_name(name).to_python()]
                  for name in names]
        return tables[0] + [row for table in tables[1:] for row in table[1:]]

    write(rows)
    opened, sheet = merged()
    seen = sheet.known.seen()
    opened.__exit__(None, None, None)
    added = [random_row(rng, 1000 + n) for n in range(12)]
    write(rows + added)  # 82 rows: the second sheet grew from 20 to 32
    opened, sheet = merged()
    try:
        before, new_rows = sheet.known.rows_since(seen)
        expected = full()
        assert before == len(rows) and len(new_rows) == len(added)
        for got, want in zip(new_rows, expected[1 + len(rows):], strict=True):
            want = want + [None] * (len(got) - len(want))
            assert [(type(v), v) for v in got] == [(type(v), v) for v in want]
        assert list(sheet.rows) == expected
        seen = sheet.known.seen()
    finally:
        opened.__exit__(None, None, None)
    write(rows + added + [random_row(rng, 2000 + n) for n in range(30)])  # a third sheet: proves nothing
    opened, sheet = merged()
    try:
        assert sheet.known.rows_since(seen) is None
    finally:
        opened.__exit__(None, None, None)
