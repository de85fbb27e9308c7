"""Reading sheets with python-calamine, and the Excel tables and error cells it does not report.

Values are handed over as calamine gives them: every number as ``float`` (an id typed as 7 arrives
as ``7.0``), text as ``str``, ``bool``, and ``date``, ``datetime``, ``time`` or ``timedelta`` for
cells with a date or time format; empty cells become ``None``. python-calamine 0.9 reports error
cells (``#N/A``, ``#DIV/0!`` ...) as empty, so their text is recovered from the sheet XML. Excel
tables are read from the package itself: a sheet holding a table is read as that table, and a table
named unlike its sheet is also returned under its own name.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from xml.etree import ElementTree as ET

from python_calamine import CalamineWorkbook

from ...cells import normalize
from ...sheets import CellValue, LazyRows, RawSheet
from .known import KnownPart, ReadingContext, known_part, reading_context
from .limits import Extent, scan_part
from .package import WorkbookFormatError, ZipSource, format_errors, parse_rels, rels_part_of, resolve_target
from .sparse import read_sparse
from .workbook import (
    MAIN_NS,
    RT_TABLE,
    SheetEntry,
    WorkbookParts,
    load_workbook_parts,
    parse_cell_ref,
)

_OOXML_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")

@dataclass(frozen=True)
class _Table:
    """An Excel table (ListObject) as declared in its table part; rows and columns are 0-based,
    the last ones inclusive (its ``ref`` range)."""

    display_name: str
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    header_rows: int
    totals_rows: int
    column_names: tuple[str, ...]


@dataclass(frozen=True)
class _Grid:
    """A worksheet's used range as read: `rows` start at 0-based (`top`, `left`)."""

    rows: list[list[CellValue]]
    top: int
    left: int

    def cells(self, row: int, first_col: int, last_col: int) -> list[CellValue]:
        """The cells of sheet row `row` from `first_col` to `last_col` (0-based), padded with None."""
        width = last_col - first_col + 1
        index = row - self.top
        if not 0 <= index < len(self.rows):
            return [None] * width
        start, stop = first_col - self.left, last_col - self.left + 1
        cells = [None] * max(0, -start) + self.rows[index][max(start, 0) : max(stop, 0)]
        return cells + [None] * (width - len(cells))


def _sheet_tables(source: ZipSource, sheet: SheetEntry) -> list[_Table]:
    """The tables on `sheet`, in the order of its relationships."""
    rels_info = source.find(rels_part_of(sheet.part))
    if rels_info is None:
        return []
    tables = []
    for rel in parse_rels(source.read(rels_info.filename)):
        part = resolve_target(sheet.part, rel.target)
        if rel.type != RT_TABLE or rel.external or source.find(part) is None:
            continue
        element = ET.fromstring(source.read(part))
        first, _, last = element.get("ref", "").partition(":")
        try:
            (top, left), (bottom, right) = parse_cell_ref(first), parse_cell_ref(last or first)
        except ValueError as exc:
            raise WorkbookFormatError(f"{source.path.name}: table part {part} has no valid range") from exc
        names = tuple(
            _OOXML_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), column.get("name", ""))
            for column in element.iter(f"{{{MAIN_NS}}}tableColumn")
        )
        tables.append(
            _Table(
                display_name=element.get("displayName") or element.get("name", ""),
                first_row=top,
                first_col=left,
                last_row=bottom,
                last_col=right,
                header_rows=int(element.get("headerRowCount", "1")),
                totals_rows=int(element.get("totalsRowCount", "0")),
                column_names=names,
            )
        )
    return tables


def _read_grid(calamine: CalamineWorkbook, source: ZipSource, sheet: SheetEntry,
               error_cells: Iterable[tuple[int, int, str]]) -> _Grid:
    """A worksheet's used range with empty cells as None and error cells (0-based row, column, text, as
    :func:`~.limits.scan_part` found them) as their text."""
    try:
        calamine_sheet = calamine.get_sheet_by_name(sheet.name)
        rows = calamine_sheet.to_python()
    except Exception as err:  # python-calamine's own errors (bad XML, bad zip data) have no common base
        raise WorkbookFormatError(f"{source.path.name}: sheet {sheet.name!r} cannot be read ({str(err)[:160]}); "
                                  "open and save the workbook in Excel, or use its .bak") from err
    top, left = calamine_sheet.start or (0, 0)
    if rows:
        for row, col, text in error_cells:
            if 0 <= row - top < len(rows) and 0 <= col - left < len(rows[row - top]):
                rows[row - top][col - left] = text
    for index, row in enumerate(rows):
        if "" in row:
            rows[index] = [None if value == "" else value for value in row]
    return _Grid(rows, top, left)


def _table_block(grid: _Grid, table: _Table, name: str, sheet_name: str) -> RawSheet:
    """The RawSheet of a table: header row plus data rows, without the totals row.

    Blank rows at the bottom of the table (past the sheet's used range) are not returned. A
    table without a header row gets its column names as a header, placed at the row above it.
    """
    last_row = min(table.last_row - table.totals_rows, grid.top + len(grid.rows) - 1)
    rows = [grid.cells(row, table.first_col, table.last_col) for row in range(table.first_row, last_row + 1)]
    names = list(table.column_names)
    if table.header_rows:
        header = rows[0] if rows else [None] * (table.last_col - table.first_col + 1)
        rows[:1] = [[names[i] if cell is None and i < len(names) else cell for i, cell in enumerate(header)]]
        first_row = table.first_row + 1
    else:
        rows.insert(0, names)
        first_row = table.first_row
    return RawSheet(
        name=name, rows=rows, first_row=first_row, first_col=table.first_col + 1, sheet=sheet_name
    )


def read_workbook(path: Path, wanted: Iterable[str] | None = None) -> dict[str, RawSheet]:
    """Read sheets (all, or those whose normalized name is in `wanted`) into RawSheets.

    The key is the sheet name as the workbook spells it. Values are as python-calamine gives
    them (``str``, ``float``, ``bool``, ``date``, ``datetime``, ``time``, ``timedelta``); empty
    cells are ``None`` and error cells their text (``"#N/A"``). ``first_row``/``first_col`` give
    the 1-based position of the used range's top-left cell. Chart, dialog and macro sheets are
    skipped.

    A sheet holding Excel tables is read as one of them -- the table named like the sheet, else
    the first -- with the table's header row and without its totals row. Every table whose
    normalized name differs from all sheet names is also returned under its own name (with
    ``sheet`` naming the sheet that holds it), so a "Charges" table on a sheet "Data" is found.

    Raises WorkbookFormatError when the file is not an .xlsx/.xlsm workbook.
    """
    with open_workbook(path, wanted) as sheets:
        return {name: sheets[name] for name in sheets}


class LazySheets(Mapping[str, RawSheet]):
    """The sheets of a workbook, each read only when it is looked up, and not kept.

    Same content as :func:`read_workbook`, but a caller that takes one sheet at a time and lets
    it go (the core reads a million charges, then the history) never holds every sheet's cells at
    once. Each lookup reads the sheet again. Use through :func:`open_workbook`.

    python-calamine parses a sheet's XML without holding the GIL, so when it starts on a sheet, the limit
    scans of the blocks after it that were never scanned are queued on a thread of their own (with a file
    handle of their own) and run beside the parse. Every sheet is still scanned before python-calamine sees
    it, and a scan's error is raised by its own sheet's lookup. python-calamine itself stays on the
    caller's thread, so its large allocations come from the same memory arena as the rest of the run.

    With ``known``, a sheet sheetbill wrote whose append mark is intact (:mod:`.known`) comes with its header
    row and a :class:`~sheetbill.sheets.KnownRows` (``RawSheet.known``), and its other rows are read only
    when asked for: a caller that can prove most rows unchanged reads only the rows added since.
    """

    def __init__(self, path: Path, wanted: Iterable[str] | None, known: bool = False):
        keys = None if wanted is None else {normalize(name) for name in wanted}
        self._path = Path(path)
        self._known = known
        self._reading: ReadingContext | None = None
        self._source = ZipSource(self._path)
        self._calamine: CalamineWorkbook | None = None
        self._blocks: dict[str, tuple[SheetEntry, _Table | None]] = {}
        self._scanner: ThreadPoolExecutor | None = None
        self._scan_source: ZipSource | None = None  # the scanning thread's own handle
        self._scans: dict[str, Future[Extent | None]] = {}  # by part: scans queued ahead, not yet used
        self._seen: set[str] = set()  # parts scanned (or queued) once already
        try:
            with format_errors(self._path):
                self._book = book = load_workbook_parts(self._source)
                self._index(book, keys)
        except BaseException:
            self.close()
            raise

    def _index(self, book: WorkbookParts, keys: set[str] | None) -> None:
        """Find the blocks (sheets and tables) to read."""
        sheet_keys = {normalize(sheet.name) for sheet in book.worksheets}
        for sheet in book.worksheets:
            tables = _sheet_tables(self._source, sheet)
            if keys is None or normalize(sheet.name) in keys:
                own = [t for t in tables if normalize(t.display_name) == normalize(sheet.name)]
                self._blocks[sheet.name] = (sheet, (own or tables)[0] if tables else None)
            for table in tables:
                key = normalize(table.display_name)
                if key not in sheet_keys and (keys is None or key in keys):
                    self._blocks[table.display_name] = (sheet, table)

    def __getitem__(self, name: str) -> RawSheet:
        sheet, table = self._blocks[name]
        if self._known and table is None:
            with format_errors(self._path):
                part = self._known_part(sheet)
            if part is not None:
                return RawSheet(name=sheet.name, rows=LazyRows(part.header, partial(self._aligned_rows, sheet)),
                                sheet=sheet.name, known=part)
        with format_errors(self._path):
            grid = self._grid(sheet)
        if table is not None:
            return _table_block(grid, table, name, sheet.name)
        return RawSheet(name=sheet.name, rows=grid.rows, first_row=grid.top + 1, first_col=grid.left + 1,
                        sheet=sheet.name)

    def _known_part(self, sheet: SheetEntry) -> KnownPart | None:
        """``sheet``'s part as a :class:`~.known.KnownPart`, when it is one."""
        if self._reading is None:
            self._reading = reading_context(self._book)
        return known_part(self._source, sheet.part, self._reading)

    def _aligned_rows(self, sheet: SheetEntry) -> list[list[CellValue]]:
        """All rows of ``sheet`` from A1 (for a sheet handed over with its header row first)."""
        with format_errors(self._path):
            grid = self._grid(sheet)
        rows = [[None] * grid.left + row for row in grid.rows] if grid.left else grid.rows
        return [[] for _ in range(grid.top)] + rows if grid.top else rows

    def _grid(self, sheet: SheetEntry) -> _Grid:
        """Check the sheet's part against the limits (size, CRC, extent), then read it: with
        python-calamine, or cell by cell when its grid is mostly empty (a stray far-away cell)."""
        self._seen.add(sheet.part)
        ahead = self._scans.pop(sheet.part, None)
        extent = ahead.result() if ahead is not None else scan_part(self._source, sheet.part, worksheet=True)
        if extent is not None and extent.sparse:
            rows, top, left = read_sparse(self._book, sheet.part)
            return _Grid(rows, top, left)  # type: ignore[arg-type]
        if self._calamine is None:
            for info in self._source.entries:  # what python-calamine parses when it opens the file
                if info.filename.endswith(".xml") and not info.filename.startswith(("xl/worksheets/", "xl/drawings",
                                                                                    "xl/charts")):
                    scan_part(self._source, info.filename, worksheet=False)
            try:
                self._calamine = CalamineWorkbook.from_path(str(self._path))
            except Exception as err:
                raise WorkbookFormatError(f"{self._path.name} cannot be read ({str(err)[:160]}); open and save it "
                                          "in Excel, or use its .bak") from err
        self._scan_ahead(sheet.part)
        return _read_grid(self._calamine, self._source, sheet, extent.error_cells if extent else ())

    def _scan_ahead(self, current: str) -> None:
        """Queue the scans of the blocks' parts after ``current`` that were never scanned, so they run while
        python-calamine parses ``current``. A part whose zip entry differs between the two handles (the file
        was replaced meanwhile) is left to its own lookup."""
        parts = list(dict.fromkeys(sheet.part for sheet, _ in self._blocks.values()))
        later = [part for part in parts[parts.index(current) + 1:] if part not in self._seen]
        if not later:
            return
        if self._scanner is None or self._scan_source is None:
            self._scan_source = ZipSource(self._path)
            self._scanner = ThreadPoolExecutor(1, thread_name_prefix="sheetbill-scan")
        source, scanner = self._scan_source, self._scanner
        for part in later:
            mine, theirs = self._source.find(part), source.find(part)
            if mine is None or theirs is None or _entry_key(mine) != _entry_key(theirs):
                continue
            self._seen.add(part)
            self._scans[part] = scanner.submit(scan_part, source, part, True)

    @property
    def date1904(self) -> bool:
        """Whether the workbook counts dates from 1904 (else from 1900)."""
        return self._book.date1904

    def __iter__(self) -> Iterator[str]:
        return iter(self._blocks)

    def __len__(self) -> int:
        return len(self._blocks)

    def close(self) -> None:
        """Close the file."""
        if self._scanner is not None:
            self._scanner.shutdown(wait=True, cancel_futures=True)
            self._scanner = None
        if self._scan_source is not None:
            self._scan_source.close()
            self._scan_source = None
        if self._calamine is not None:
            self._calamine.close()
            self._calamine = None
        self._source.close()


def _entry_key(info: zipfile.ZipInfo) -> tuple[int, int, int, int]:
    return info.CRC, info.compress_size, info.file_size, info.header_offset


@contextmanager
def open_workbook(path: Path, wanted: Iterable[str] | None = None, known: bool = False) -> Iterator[LazySheets]:
    """The sheets of ``path`` (all, or those named in ``wanted``), each read when looked up (with ``known``,
    sheetbill's own sheets with :class:`~sheetbill.sheets.KnownRows`, see :class:`LazySheets`)."""
    sheets = LazySheets(path, wanted, known)
    try:
        yield sheets
    finally:
        sheets.close()
