"""Reading a worksheet cell by cell, for sheets whose grid is mostly empty.

python-calamine allocates the whole rectangle from the first to the farthest cell, so one stray
cell at ``XFD1048576`` would ask for hundreds of gigabytes. :mod:`.limits` sends such sheets here:
the cells are streamed out of the XML one at a time (through ``defusedxml``) and kept by row, and
the rows between them are empty without being stored. Values are typed the way python-calamine
types them: numbers as ``float``, shared and inline strings as ``str``, ``bool``, error cells as
their text, and numbers with a date format as ``date`` or ``datetime``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Iterator, Sequence
from typing import IO, NamedTuple
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import iterparse

from ...sheets import CellValue
from .package import resolve_target
from .workbook import MAIN_NS, WorkbookParts, parse_cell_ref

_M = f"{{{MAIN_NS}}}"
_RT_SHARED_STRINGS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
_RT_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
#: Excel's built-in date and time number formats.
_BUILTIN_DATES = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})
_DATE_CODE = re.compile(r"[dmyhs]", re.I)
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')
#: An escaped character in text (ECMA-376 ST_Xstring).
_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")


class SparseRows(Sequence[Sequence[CellValue]]):
    """The rows of a sheet from its first to its last used row; rows without cells are empty
    tuples, and only the rows with cells are stored."""

    def __init__(self, rows: dict[int, list[CellValue]], length: int):
        self._rows, self._length = rows, length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(self._length)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            rows = {i - start: row for i, row in self._rows.items() if start <= i < stop}
            return SparseRows(rows, max(0, stop - start))
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        return self._rows.get(index, ())

    def __iter__(self) -> Iterator[Sequence[CellValue]]:
        for index in range(self._length):
            yield self._rows.get(index, ())


def read_sparse(book: WorkbookParts, part: str) -> tuple[SparseRows, int, int]:
    """The cells of worksheet ``part`` as rows from the first used row and column: (rows, top, left),
    0-based."""
    _, date_styles, epoch = date_reading(book)
    cells: dict[int, dict[int, CellValue]] = {}
    with book.source.open(part) as stream:
        for cell in sheet_cells(stream, _shared_strings(book), date_styles, epoch):
            if cell.value is not None:
                cells.setdefault(cell.row, {})[cell.column] = cell.value
    if not cells:
        return SparseRows({}, 0), 0, 0
    top = min(cells)
    left = min(min(row) for row in cells.values())
    rows = {}
    for index, row in cells.items():
        width = max(row) - left + 1
        values: list[CellValue] = [None] * width
        for col, value in row.items():
            values[col - left] = value
        rows[index - top] = values
    return SparseRows(rows, max(cells) - top + 1), top, left


class Cell(NamedTuple):
    """A ``<c>`` element as :func:`sheet_cells` reads it: its 0-based ``row`` and ``column`` (from its
    reference, else after the cell before it), the 0-based row of the ``<row>`` element holding it
    (``in_row``), its type attribute ``t`` (``kind``) and its value (:func:`cell_value`)."""

    row: int
    column: int
    in_row: int
    kind: str
    value: CellValue


def sheet_cells(stream: IO[bytes], strings: Sequence[str], date_styles: Collection[int], epoch: dt.datetime
                ) -> Iterator[Cell]:
    """Every cell of a worksheet's XML, in document order, streamed (through ``defusedxml``)."""
    row_no = col_no = in_row = -1
    for event, element in iterparse(stream, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == f"{_M}row":
                ref = element.get("r")
                row_no = int(ref) - 1 if ref and ref.isdigit() else row_no + 1
                in_row, col_no = row_no, -1
            continue
        if tag == f"{_M}c":
            ref = element.get("r")
            if ref:
                row_no, col_no = parse_cell_ref(ref)
            else:
                col_no += 1
            yield Cell(row_no, col_no, in_row, element.get("t", "n"), cell_value(element, strings, date_styles, epoch))
            element.clear()
        elif tag == f"{_M}row":
            element.clear()


def cell_value(element: Element, strings: Sequence[str], date_styles: Collection[int], epoch: dt.datetime) -> CellValue:
    """The value of a ``<c>`` element, typed as python-calamine types it."""
    kind = element.get("t", "n")
    if kind == "inlineStr":
        inline = element.find(f"{_M}is")
        return _text(inline) if inline is not None else None
    raw = element.findtext(f"{_M}v")
    if raw is None or raw == "":
        return None
    if kind == "s":
        index = int(raw) if raw.strip().isdigit() else -1
        return strings[index] if 0 <= index < len(strings) else None
    if kind in ("str", "e"):
        return raw
    if kind == "b":
        return raw.strip() in ("1", "true")
    if kind == "d":
        try:
            return dt.datetime.fromisoformat(raw)
        except ValueError:
            return raw
    try:
        number = float(raw)
    except ValueError:
        return raw
    style = element.get("s")
    if style and style.isdigit() and int(style) in date_styles and 0 <= number < 2_958_466:
        try:
            return moment(number, epoch)
        except OverflowError:  # past 9999-12-31 (the 1904 system ends earlier): the number, as calamine has it
            return number
    return number


def moment(number: float, epoch: dt.datetime) -> dt.date | dt.datetime | dt.time:
    """A date-formatted serial number as python-calamine reads it: in the 1900 date system the days before
    the phantom 1900-02-29 (serial 60) count from 1899-12-31, as Excel shows them; a whole number is a date,
    any other a datetime rounded to the millisecond (half away from zero), under one day a time of day."""
    if epoch.year == 1899 and 1 <= number < 60:
        number += 1
    if number == int(number) and number >= 1:
        return (epoch + dt.timedelta(days=int(number))).date()
    milliseconds = math.floor(number * 86_400_000 + 0.5)
    if number < 1:
        return (dt.datetime.min + dt.timedelta(milliseconds=milliseconds % 86_400_000)).time()
    return epoch + dt.timedelta(milliseconds=milliseconds)


def _text(element: Element) -> str:
    """The text of a string item: its ``<t>`` runs, without phonetic runs, with the ``_xHHHH_`` escapes of
    characters XML cannot hold decoded (``_x0001_`` is U+0001, ``_x005F_x0041_`` the text ``_x0041_``), as
    python-calamine decodes them."""
    parts = [element.findtext(f"{_M}t") or ""]
    parts += [run.findtext(f"{_M}t") or "" for run in element.iterfind(f"{_M}r")]
    text = "".join(parts)
    return _unescaped(text) if "_x" in text else text


def _unescaped(text: str) -> str:
    """``text`` with its ``_xHHHH_`` escapes decoded as python-calamine decodes them: those of a character
    up to U+00FF; any other stays as it is, and its closing ``_`` may open the next escape
    (``_x0100_x0041_`` reads ``_x0100A``)."""
    out, position = [], 0
    while (match := _ESCAPED.search(text, position)) is not None:
        code = int(match.group(1), 16)
        if code <= 0xFF:
            out += (text[position:match.start()], chr(code))
            position = match.end()
        else:
            out.append(text[position:match.end() - 1])
            position = match.end() - 1
    out.append(text[position:])
    return "".join(out)


def _related_part(book: WorkbookParts, rel_type: str) -> str | None:
    rel = next((rel for rel in book.rels if rel.type == rel_type and not rel.external), None)
    if rel is None:
        return None
    part = resolve_target(book.part, rel.target)
    return part if book.source.find(part) is not None else None


def _shared_strings(book: WorkbookParts) -> list[str]:
    part = _related_part(book, _RT_SHARED_STRINGS)
    strings: list[str] = []
    if part is None:
        return strings
    with book.source.open(part) as stream:
        for _, element in iterparse(stream):
            if element.tag == f"{_M}si":
                strings.append(_text(element))
                element.clear()
    return strings


def date_reading(book: WorkbookParts) -> tuple[str | None, frozenset[int], dt.datetime]:
    """How a workbook's numbers read as dates: its styles part, the cell formats that show a date or
    time, and the epoch of its date system."""
    epoch = dt.datetime(1904, 1, 1) if book.date1904 else dt.datetime(1899, 12, 30)
    return _related_part(book, _RT_STYLES), frozenset(_date_styles(book)), epoch


def _date_styles(book: WorkbookParts) -> set[int]:
    """Indexes of the cell formats (``cellXfs``) that show a date or time."""
    part = _related_part(book, _RT_STYLES)
    if part is None:
        return set()
    from defusedxml.ElementTree import fromstring

    root = fromstring(book.source.read(part))
    custom = {}
    for fmt in root.iterfind(f"{_M}numFmts/{_M}numFmt"):
        code = _QUOTED.sub("", fmt.get("formatCode", ""))
        custom[int(fmt.get("numFmtId", "-1"))] = bool(_DATE_CODE.search(code))
    dates = set()
    for index, xf in enumerate(root.iterfind(f"{_M}cellXfs/{_M}xf")):
        number_format = int(xf.get("numFmtId", "0"))
        if number_format in _BUILTIN_DATES or custom.get(number_format):
            dates.add(index)
    return dates


