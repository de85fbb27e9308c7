"""Limits checked before a workbook is parsed (hardening issue, item 8): part sizes, CRCs, and sheets
whose grid is far larger than their cells (a stray cell at XFD1048576), read cell by cell."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sheetbill.io.xlsx import WorkbookFormatError, limits, read_workbook
from tests.robustness.corpus import CORPUS

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
