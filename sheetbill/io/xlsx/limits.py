"""Limits on what a workbook may make sheetbill read, checked before anything is parsed.

A hostile or broken file must end in a clear message, never in an exhausted machine: a zip bomb (a
small part that inflates to gigabytes), a part whose data does not match its CRC, or one stray cell
far away (``XFD1048576``) that would make a reader allocate the whole grid up to it. So, before a
sheet reaches python-calamine:

* every part's declared size is checked against :data:`MAX_PART_BYTES` and its compression ratio
  against :data:`MAX_RATIO` (:func:`check_declared_sizes`, when the zip is opened);
* each part the run reads is inflated once as a stream, which checks its real size (``zipfile``
  never inflates past the declared size) and its CRC, and, for a worksheet, finds the extent of its
  cells and, in the same pass, its error cells, which python-calamine does not report
  (:func:`scan_part`);
* a worksheet whose grid (rows times columns up to its farthest cell) is far larger than its cells
  is read cell by cell instead (:mod:`.sparse`), so a stray far-away cell costs nothing.

The grid limits are Excel's own: 1,048,576 rows, 16,384 columns, 32,767 characters a cell. The byte
limits can be lowered for tests (and raised for a machine with more memory) with the environment
variables ``SHEETBILL_MAX_PART_MB`` and ``SHEETBILL_MAX_RATIO``.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from xml.sax.saxutils import unescape

from .errors import WorkbookFormatError

MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
MAX_CELL_CHARS = 32_767

#: The largest inflated part (a worksheet of a million rows and twenty columns is about 800 MB).
MAX_PART_BYTES = int(float(os.environ.get("SHEETBILL_MAX_PART_MB", "2048")) * (1 << 20))
#: The largest inflated-to-compressed ratio of a part above :data:`RATIO_FLOOR` bytes. Excel's
#: sheets deflate 5 to 30 times; a run of identical empty styled cells about 150 times.
MAX_RATIO = float(os.environ.get("SHEETBILL_MAX_RATIO", "1000"))
RATIO_FLOOR = 1 << 20
#: A worksheet is read cell by cell when its grid has more cells than this and more than
#: :data:`GRID_PER_BYTE` per byte of its XML (each stored cell takes at least a few bytes).
GRID_FLOOR = 2_000_000
GRID_PER_BYTE = 1

_CHUNK = 1 << 20


class LimitError(WorkbookFormatError):
    """A part of the workbook is beyond a limit; the message names the part and the limit."""


def check_declared_sizes(name: str, entries: list[zipfile.ZipInfo]) -> None:
    """Refuse a package whose central directory declares a part beyond :data:`MAX_PART_BYTES` or
    :data:`MAX_RATIO` (``name`` is the file's name, for the message)."""
    for info in entries:
        if info.file_size > MAX_PART_BYTES:
            raise LimitError(f"{name}: part {info.filename} would inflate to {info.file_size:,} bytes, more "
                             f"than the limit of {MAX_PART_BYTES:,} (SHEETBILL_MAX_PART_MB)")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise LimitError(f"{name}: part {info.filename} inflates {info.file_size // max(info.compress_size, 1):,}"
                             f" times (a zip bomb?); the limit is {MAX_RATIO:g} (SHEETBILL_MAX_RATIO)")


@dataclass(frozen=True)
class Extent:
    """What a scan of a worksheet part found: its inflated size, its last row, its farthest column
    (both 1-based, as an upper bound), whether the grid up to them is too large to allocate, and its
    error cells (``#N/A``, ``#DIV/0!`` ...) as 0-based (row, column, text)."""

    size: int
    last_row: int
    last_col: int
    error_cells: tuple[tuple[int, int, str], ...] = ()

    @property
    def grid(self) -> int:
        """Cells in the rectangle from A1 to the farthest cell."""
        return self.last_row * self.last_col

    @property
    def sparse(self) -> bool:
        """True when the grid is far larger than the cells the part can hold: read it cell by cell."""
        return self.grid > max(GRID_FLOOR, GRID_PER_BYTE * self.size)


_LAST_ROW = b'<row r="'
#: Maps every capital letter to A and every digit to 0, so ``<c r="AA`` finds any cell in a column of two
#: or more letters and ``<c r="A0000000`` any cell in a row of seven or more digits, at the speed of a
#: plain byte search.
_SHAPE = bytes(65 if 65 <= b <= 90 else 48 if 48 <= b <= 57 else b for b in range(256))
_far_patterns: dict[int, tuple[re.Pattern[bytes], re.Pattern[bytes]]] = {}


def _far(digits: int) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Patterns for what reaches beyond a sheet whose rows have ``digits`` digits: a row element with
    more digits, and a cell in a column of two or three letters or in a row with more digits."""
    if digits not in _far_patterns:
        more = f"[0-9]{{{digits + 1},}}"
        _far_patterns[digits] = (re.compile(f'<row r="({more})"'.encode()),
                                 re.compile(f'<c r="(?:([A-Z]{{2,3}})([0-9]+)|[A-Z]({more}))"'.encode()))
    return _far_patterns[digits]


#: A cell whose first attribute is not its reference, where Excel writes ``<c r="...``.
_CELL_WITHOUT_LEADING_REF = re.compile(rb'<c (?!r=")')
_ERROR_CELL = re.compile(
    rb"""(<(?:[\w.-]+:)?c\s[^>]*?\bt\s*=\s*["']e["'][^>]*(?<!/)>)(.*?)</(?:[\w.-]+:)?c>""", re.S
)
_ERROR_CELL_REF = re.compile(rb"""\sr\s*=\s*["']([A-Z]{1,3})([0-9]+)["']""")
_CELL_VALUE = re.compile(rb"<(?:[\w.-]+:)?v>([^<]*)</(?:[\w.-]+:)?v>")


def _has_error_cell(data: bytes) -> bool:
    """Whether ``data`` may hold an error cell: a byte search, so stretches without one cost little."""
    return b't="e"' in data or b"t='e'" in data


def _error_cells_in(data: bytes) -> list[tuple[int, int, str]]:
    """0-based (row, column, text) of the error cells wholly inside ``data``."""
    found = []
    for match in _ERROR_CELL.finditer(data):
        ref, value = _ERROR_CELL_REF.search(match.group(1)), _CELL_VALUE.search(match.group(2))
        if ref and value:
            found.append((int(ref.group(2)) - 1, _column(ref.group(1)) - 1, unescape(value.group(1).decode("utf-8"))))
    return found


_ANY_REF = re.compile(rb"""<(?:[\w.-]+:)?(row|c)\b[^>]*?\sr\s*=\s*["']([A-Za-z]{0,3})([0-9]*)""")


def scan_part(source, part: str, worksheet: bool) -> Extent | None:
    """Inflate ``part`` of the open :class:`~.package.ZipSource` once as a stream, checking its size
    and CRC; for a worksheet, also find how far its cells reach and its error cells.

    Error cells are looked for only in the stretches that contain ``t="e"`` at all (a byte search),
    each up to its last row boundary, since a cell never straddles one; a stretch's incomplete last
    row is carried over to the next only when it holds such a cell.

    Raises :class:`LimitError` when the part is larger than :data:`MAX_PART_BYTES`, and
    ``WorkbookFormatError`` (from the package module) when its data is corrupt.
    """
    info = source.find(part)
    if info is None:
        return None
    size, last_row, last_col, rows, conventional = 0, 0, 1, 0, True
    tail, pending, error_cells = b"", b"", []
    try:
        with source.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > MAX_PART_BYTES:
                    raise LimitError(f"{source.path.name}: part {part} inflates to more than {MAX_PART_BYTES:,} "
                                     "bytes (SHEETBILL_MAX_PART_MB)")
                if not worksheet:
                    continue
                data = tail + chunk
                cut = data.rfind(b">") + 1
                data, tail = data[:cut], data[cut:]
                rows += data.count(b"<row")
                last = data.rfind(_LAST_ROW)
                if last >= 0:
                    end = data.find(b'"', last + len(_LAST_ROW))
                    digits = data[last + len(_LAST_ROW):end]
                    last_row = max(last_row, int(digits) if digits.isdigit() else 0)
                digits = len(str(last_row))
                shape = data.translate(_SHAPE)  # letters become A, digits 0: plain searches find the far refs
                if (b'<c r="AA' in shape or b'<c r="A' + b"0" * (digits + 1) in shape
                        or b'<row r="' + b"0" * (digits + 1) in shape):
                    far_row, far_cell = _far(digits)
                    for found in far_row.findall(data):
                        last_row = max(last_row, int(found))
                    for letters, row, long_row in far_cell.findall(data):
                        last_row = max(last_row, int(row or long_row))
                        if letters:
                            last_col = max(last_col, _column(letters))
                if last_col < 26 and b'<c r="' in data:
                    last_col = 26
                if conventional and (_CELL_WITHOUT_LEADING_REF.search(data) or b":c " in data):
                    conventional = False
                if pending or _has_error_cell(data):
                    # The data ends after a tag; its cells up to the last row boundary are complete.
                    region = pending + data
                    boundary = region.rfind(b"row>") + 4 if b"row>" in region else 0
                    if boundary and _has_error_cell(region[:boundary]):
                        error_cells += _error_cells_in(region[:boundary])
                    pending = region[boundary:] if _has_error_cell(region[boundary:]) else b""
            if pending:
                error_cells += _error_cells_in(pending + tail)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as err:
        raise WorkbookFormatError(f"{source.path.name}: part {part} is damaged ({err}); open and save the "
                                  "workbook in Excel, or use its .bak") from err
    if not worksheet:
        return Extent(size, 0, 0)
    if not conventional:
        last_row, last_col = _thorough_extent(source, part)
    return Extent(size, max(last_row, rows), last_col, tuple(error_cells))


def _thorough_extent(source, part: str) -> tuple[int, int]:
    """The farthest row and column any row or cell reference of ``part`` names, for sheets not
    written the way Excel writes them (another attribute order, a namespace prefix, no references)."""
    last_row, last_col, tail = 0, 1, b""
    with source.open(part) as stream:
        while chunk := stream.read(_CHUNK):
            data = tail + chunk
            cut = data.rfind(b">") + 1
            data, tail = data[:cut], data[cut:]
            for tag, letters, digits in _ANY_REF.findall(data):
                if digits:
                    last_row = max(last_row, int(digits))
                if tag == b"c" and letters:
                    last_col = max(last_col, _column(letters))
            last_col = max(last_col, data.count(b"<c") // max(1, data.count(b"<row")) + 1)
    return last_row, last_col


def _column(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number
