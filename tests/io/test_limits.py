"""Limits checked before a workbook is parsed (hardening issue, item 8): part sizes, CRCs, and sheets
whose grid is far larger than their cells (a stray cell at XFD1048576), read cell by cell."""

from __future__ import annotations

import collections
import os
import random
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import xlsxwriter

from sheetbill.io.xlsx import LazySheets, WorkbookFormatError, limits, open_workbook, read_workbook
from sheetbill.io.xlsx.package import ZipSource
from tests.robustness.corpus import CORPUS, _corrupt_raw

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "workbooks" / "demo-medical.xlsx"


def _trimmed(rows) -> list[list]:
    result = []
    for row in rows:
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        result.append(row)
    return result


def test_the_cell_by_cell_reader_gives_what_python_calamine_gives(monkeypatch):
    by_calamine = read_workbook(DEMO)
    monkeypatch.setattr(limits, "GRID_FLOOR", 0)
    monkeypatch.setattr(limits, "GRID_PER_BYTE", 0)  # every sheet counts as sparse now
    by_cells = read_workbook(DEMO)
    assert by_calamine.keys() == by_cells.keys()
    for name, sheet in by_calamine.items():
        other = by_cells[name]
        assert (other.first_row, other.first_col) == (sheet.first_row, sheet.first_col), name
        assert _trimmed(other.rows) == _trimmed(sheet.rows), name


def test_dates_times_and_escaped_text_read_cell_by_cell_as_python_calamine_reads_them(tmp_path, monkeypatch):
    """Serial numbers under a day (times), before the phantom 1900-02-29, whole and fractional (rounded
    to the millisecond, halves away from zero), in both date systems; texts with ``_xHHHH_`` escapes."""
    rng = random.Random(5)
    serials = [0, 0.5, 1e-12, 0.99999999999, 1, 1.5, 31, 32, 59, 59.5, 59.99999999999, 60, 60.5, 61, 61.25,
               45000.000000001, 2957003, 2957003.5, 2957004, 2958465.9999999,
               *(rng.uniform(0, 70000) for _ in range(400))]
    texts = ["a_x0001_b", "_x005F_x0041_", "_x00e4_", "_x12_", "plain"]
    for date1904 in (False, True):
        book = tmp_path / f"dates{date1904}.xlsx"
        workbook = xlsxwriter.Workbook(book, {"date_1904": date1904})
        sheet = workbook.add_worksheet("Charges")
        day, moment = workbook.add_format({"num_format": "yyyy-mm-dd"}), workbook.add_format({"num_format": "hh:mm"})
        for row, serial in enumerate(serials):
            sheet.write_number(row, 0, serial, day)
            sheet.write_number(row, 1, serial, moment)
            sheet.write_string(row, 2, texts[row % len(texts)])
        workbook.close()
        by_calamine = read_workbook(book)["Charges"].rows
        monkeypatch.setattr(limits, "GRID_FLOOR", 0)
        monkeypatch.setattr(limits, "GRID_PER_BYTE", 0)  # read cell by cell
        by_cells = read_workbook(book)["Charges"].rows
        monkeypatch.undo()
        assert [[(type(v), v) for v in row] for row in by_cells] == \
            [[(type(v), v) for v in row] for row in by_calamine]


def test_escapes_another_program_wrote_read_cell_by_cell_as_python_calamine_reads_them(tmp_path, monkeypatch):
    """python-calamine decodes ``_xHHHH_`` only for U+0000 to U+00FF (in either case); any other stays as
    written, and its closing ``_`` may open the next escape. (xlsxwriter escapes such texts itself, so the
    sheet's XML is written here as another program might write it.)"""
    texts = ["_x0041_", "_x00e9_", "_x4E2D_", "_xFFFE_", "_xD800_", "_x0100_x0041_", "_x0041_x0042_", "__x0041_",
             "a_x005F_x0041_b", "_X0041_", "_x0041", "plain"]
    cells = "".join(f'<row r="{row}"><c r="A{row}" t="inlineStr"><is><t>{text}</t></is></c></row>'
                    for row, text in enumerate(texts, start=1))
    xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/'
           f'spreadsheetml/2006/main"><sheetData>{cells}</sheetData></worksheet>').encode()
    plain = tmp_path / "plain.xlsx"
    workbook = xlsxwriter.Workbook(plain)
    workbook.add_worksheet("Charges").write_string(0, 0, "x")
    workbook.close()
    book = tmp_path / "escapes.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(book, "w") as target:
        for info in source.infolist():
            target.writestr(info, xml if info.filename == "xl/worksheets/sheet1.xml" else source.read(info))
    by_calamine = read_workbook(book)["Charges"].rows
    monkeypatch.setattr(limits, "GRID_FLOOR", 0)
    monkeypatch.setattr(limits, "GRID_PER_BYTE", 0)  # read cell by cell
    by_cells = read_workbook(book)["Charges"].rows
    assert [list(row) for row in by_cells] == [list(row) for row in by_calamine]
    assert [row[0] for row in by_calamine][:6] == ["A", "é", "_x4E2D_", "_xFFFE_", "_xD800_", "_x0100A"]


@pytest.mark.parametrize(("name", "last_row", "width"), [("far-cell-xfd", 1_048_576, 16_384),
                                                         ("far-cell-cv", 1_048_576, 100)])
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="measures the peak through /proc (Linux)")
def test_a_stray_far_away_cell_costs_nothing(tmp_path, name, last_row, width):
    """(The peak comes from /proc, not getrusage: Linux counts the forking parent's memory in a child's
    ru_maxrss, and a test session's parent is large.)"""
    book = tmp_path / "far.xlsx"
    CORPUS[name](DEMO, book)
    probe = (
        "from sheetbill.io.xlsx import read_workbook\n"
        f"sheet = read_workbook({str(book)!r}, ['Charges'])['Charges']\n"
        "peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM'))\n"
        "print(sheet.first_row + len(sheet.rows) - 1, len(sheet.rows[-1]), peak)\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert run.returncode == 0, run.stderr
    rows, last_width, peak_kib = map(int, run.stdout.split())
    assert (rows, last_width) == (last_row, width)
    assert peak_kib < 300 * 1024  # python-calamine alone asked for 4 GB (CV) and 549 GB (XFD)


def test_a_declared_size_beyond_the_limit_is_refused_naming_the_part(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_PART_BYTES", 1 << 20)
    book = tmp_path / "bomb.xlsx"
    CORPUS["bomb-in-sheet"](DEMO, book)
    with pytest.raises(limits.LimitError, match=r"part xl/worksheets/sheet\d+\.xml would inflate to"):
        read_workbook(book)


def test_a_part_larger_than_it_declares_is_refused(tmp_path, monkeypatch):
    """A central directory that understates a part's size: zipfile never inflates past it, and the CRC
    check of the streamed inflate says the part is damaged."""
    book = tmp_path / "liar.xlsx"
    CORPUS["bomb-in-sheet"](DEMO, book)
    data = bytearray(book.read_bytes())
    with zipfile.ZipFile(book) as z:
        info = next(i for i in z.infolist() if i.file_size > 10 << 20)
    small = (4096).to_bytes(4, "little")
    index = 0
    while (index := data.find(b"PK\x01\x02", index)) != -1:  # central directory: claim 4 KiB
        length = int.from_bytes(data[index + 28:index + 30], "little")
        if data[index + 46:index + 46 + length].decode() == info.filename:
            data[index + 24:index + 28] = small
        index += 4
    book.write_bytes(bytes(data))
    with pytest.raises(WorkbookFormatError, match="damaged"):
        read_workbook(book)


def test_a_ratio_beyond_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_RATIO", 50)
    book = tmp_path / "bomb.xlsx"
    CORPUS["bomb-in-sheet"](DEMO, book)
    with pytest.raises(limits.LimitError, match="inflates .* times"):
        read_workbook(book)


def test_the_limits_are_excels_own():
    assert (limits.MAX_ROWS, limits.MAX_COLUMNS, limits.MAX_CELL_CHARS) == (1_048_576, 16_384, 32_767)


def _error_workbook(path: Path, seed: int) -> dict[tuple[int, int], str]:
    """A sheet of a few thousand rows with error cells here and there (in columns A to AB, some rows
    long, some short); returns the error cells by 0-based (row, column)."""
    rng = random.Random(seed)
    expected = {}
    with xlsxwriter.Workbook(path) as workbook:
        sheet = workbook.add_worksheet("Data")
        for row in range(3_000):
            sheet.write_row(row, 0, [f"text {row} & <more>" * rng.randrange(1, 4), row])
            if rng.random() < 0.05:
                column = rng.randrange(2, 28)
                error = rng.choice(["#N/A", "#DIV/0!", "#VALUE!", "#REF!"])
                sheet.write_formula(row, column, "=1/0", None, error)
                expected[row, column] = error
    return expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_one_scan_finds_every_error_cell_whatever_the_chunks(tmp_path, monkeypatch, seed):
    """The limit scan finds the error cells in the same pass, in stretches cut wherever the inflated
    stream's chunks end: the same cells as ElementTree finds in the whole part, for chunks smaller than a
    cell up to larger than the part."""
    book = tmp_path / "errors.xlsx"
    expected = _error_workbook(book, seed)
    with zipfile.ZipFile(book) as package:
        root = ET.fromstring(package.read("xl/worksheets/sheet1.xml"))
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    by_tree = {}
    for cell in root.iter(f"{main}c"):
        if cell.get("t") == "e":
            letters = "".join(ch for ch in cell.get("r") if ch.isalpha())
            column = 0
            for letter in letters:
                column = column * 26 + ord(letter) - 64
            by_tree[int(cell.get("r")[len(letters):]) - 1, column - 1] = cell.find(f"{main}v").text
    assert by_tree == expected and len(expected) > 100
    for chunk in (7, 61, 500, 4_093, 65_536, 1 << 20):
        monkeypatch.setattr(limits, "_CHUNK", chunk)
        with ZipSource(book) as source:
            extent = limits.scan_part(source, "xl/worksheets/sheet1.xml", worksheet=True)
        assert {(row, column): text for row, column, text in extent.error_cells} == expected, chunk
        assert len(extent.error_cells) == len(expected)
        assert (extent.last_row, extent.last_col) == (3_000, 28)


def test_reading_a_sheet_inflates_its_part_once_besides_python_calamine(tmp_path, monkeypatch):
    """The limit checks and the error cells come from one pass over each part read; the error cells
    still reach the rows."""
    book = tmp_path / "errors.xlsx"
    expected = _error_workbook(book, 4)
    opened = _counting_opens(monkeypatch)
    rows = read_workbook(book)["Data"].rows
    assert sum(opened.values()) == 1
    assert {(r, c): value for r, row in enumerate(rows) for c, value in enumerate(row)
            if isinstance(value, str) and value.startswith("#")} == expected


def _three_sheets(path: Path) -> Path:
    """Sheets "Big" (enough rows that python-calamine takes a while), "Damaged" (its CRC is wrong) and
    "After"."""
    plain = path.with_name("plain.xlsx")
    with xlsxwriter.Workbook(plain) as workbook:
        big = workbook.add_worksheet("Big")
        for row in range(20_000):
            big.write_row(row, 0, [f"row {row}", row, row * 0.5])
        workbook.add_worksheet("Damaged").write_row(0, 0, ["broken", 1])
        workbook.add_worksheet("After").write_row(0, 0, ["after", 2])
    _corrupt_raw(plain, path, "xl/worksheets/sheet2.xml", "crc")
    return path


def _counting_opens(monkeypatch) -> collections.Counter:
    """How often each worksheet part is opened (inflated) from now on, by (part, thread name)."""
    opened = collections.Counter()
    real_open = ZipSource.open

    def counting_open(self, name):
        if name.startswith("xl/worksheets/"):
            opened[name, threading.current_thread().name.partition("_")[0]] += 1
        return real_open(self, name)

    monkeypatch.setattr(ZipSource, "open", counting_open)
    return opened


def test_the_sheets_after_one_are_scanned_beside_its_parse_once_and_a_damaged_one_fails_its_own_lookup(
        tmp_path, monkeypatch):
    """When python-calamine starts on "Big", the scans of "Damaged" and "After" are queued on the scanning
    thread; their lookups use those scans (each part is inflated once), and the damaged part's error is
    raised by its own lookup, not by the one that queued it."""
    book = _three_sheets(tmp_path / "three.xlsx")
    opened = _counting_opens(monkeypatch)
    with open_workbook(book) as sheets:
        assert len(sheets["Big"].rows) == 20_000
        assert sheets["After"].rows == [["after", 2.0]]
        with pytest.raises(WorkbookFormatError, match="sheet2.xml is damaged"):
            sheets["Damaged"]
        assert len(sheets["Big"].rows) == 20_000  # a second lookup reads (and scans) again
    main = threading.main_thread().name
    assert opened == {("xl/worksheets/sheet1.xml", main): 2, ("xl/worksheets/sheet2.xml", "sheetbill-scan"): 1,
                      ("xl/worksheets/sheet3.xml", "sheetbill-scan"): 1}


def test_reading_with_scans_ahead_gives_what_reading_one_sheet_at_a_time_gives(monkeypatch):
    scanned_ahead = read_workbook(DEMO)
    monkeypatch.setattr(LazySheets, "_scan_ahead", lambda self, current: None)
    assert read_workbook(DEMO) == scanned_ahead
