"""The .xlsx/.xlsm front end's file layer: fast reading and a surgical writer.

Reading
    :func:`read_workbook` reads sheets with python-calamine (an order of magnitude faster than
    openpyxl, see XLSX-NOTES) and hands the values over as calamine gives them: every number as
    ``float`` (an id typed as 7 arrives as ``7.0``), text as ``str``, ``bool``, and ``date``,
    ``datetime``, ``time`` or ``timedelta`` for cells with a date or time format. Empty cells
    become ``None``. python-calamine 0.9 reports error cells (``#N/A``, ``#DIV/0!`` ...) as empty,
    so their text is recovered from the sheet XML. Excel tables are read from the package itself:
    a sheet holding a table is read as that table, and a table named unlike its sheet is also
    returned under its own name.

Writing
    :func:`write_output_sheets` never loads the workbook into an object model. It copies every zip
    entry it does not own as its stored compressed bytes with its CRC, so macros, buttons, charts,
    images, sparklines, validation, conditional formats, comments, names and formulas with their
    cached values survive bit for bit. It streams the output sheets' XML (text as inline strings,
    so sharedStrings stays untouched and a text starting with ``=`` stays text), appends the cell
    formats it needs to styles.xml without reindexing, drops calcChain and asks Excel to
    recalculate on open.

    Each written sheet carries a digest of what was written in an ignorable attribute of its root
    element (Markup Compatibility: Excel, LibreOffice and openpyxl skip it, and any of them drops
    it when it rewrites the sheet). A later write of the same content finds matching digests by
    inflating a few hundred bytes per sheet and leaves the file alone.

Choices worth knowing
    * Number formats: ``int`` columns ``0``, ``money`` ``#,##0.00``, ``decimal`` General,
      ``date`` ``yyyy-mm-dd`` (``yyyy-mm-dd hh:mm:ss`` for datetimes), ``percent`` ``0.00"%"``:
      the value stays the percent number the core computed (80 shows as ``80.00%``), never
      divided by 100.
    * A sheet with more rows than the grid holds continues on ``"<name> 2"``, ``"<name> 3"`` ...
      with the header repeated. Continuation sheets left over from an earlier, longer write are
      emptied to their header row rather than deleted: deleting would shift sheet positions that
      sheet-local names and the active tab refer to, and break formulas pointing at them.
    * A chart is a clustered column chart (``c:barChart`` with ``barDir="col"``).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import numbers
import os
import posixpath
import re
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr, unescape

from python_calamine import CalamineWorkbook

from sheetbill.files import write_atomic
from sheetbill.io.xlsxpkg import (
    CONTENT_TYPES_PART,
    XML_DECLARATION,
    ContentTypes,
    Relationship,
    WorkbookFormatError,
    ZipSink,
    ZipSource,
    attributes,
    find_element,
    free_part_name,
    insert_child,
    iter_elements,
    namespace_prefix,
    next_rel_id,
    parse_rels,
    qname,
    relative_target,
    rels_part_of,
    render_rels,
    resolve_target,
    root_element,
    set_attribute,
)
from sheetbill.sheets import MAX_COLUMNS, MAX_ROWS, BarChart, CellValue, Column, OutputSheet, RawSheet

__all__ = [
    "WorkbookFormatError",
    "WorkbookLockedError",
    "normalize_name",
    "read_workbook",
    "write_output_sheets",
]

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
DRAWING_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
DRAWINGML_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
#: Namespace of sheetbill's own (ignorable) attributes.
SHEETBILL_NS = "urn:x-sheetbill:xlsx"

RT_OFFICE_DOCUMENT = f"{DOC_REL_NS}/officeDocument"
RT_STRICT_OFFICE_DOCUMENT = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
RT_WORKSHEET = f"{DOC_REL_NS}/worksheet"
RT_STYLES = f"{DOC_REL_NS}/styles"
RT_CALC_CHAIN = f"{DOC_REL_NS}/calcChain"
RT_TABLE = f"{DOC_REL_NS}/table"
RT_DRAWING = f"{DOC_REL_NS}/drawing"
RT_CHART = f"{DOC_REL_NS}/chart"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_XLSB_MAIN = "application/vnd.ms-excel.sheet.binary.macroEnabled.main"

#: Bump when the generated XML changes, so digests of older output no longer match.
_FORMAT_VERSION = 1
_MAX_CELL_TEXT = 32_767
_BAD_SHEET_NAME_CHARS = frozenset("[]:*?/\\")
_DIGEST_HEAD_BYTES = 4096
_ROWS_PER_CHUNK = 1024

_EXCEL_EPOCH_1900 = _dt.date(1899, 12, 30).toordinal()
_EXCEL_EPOCH_1904 = _dt.date(1904, 1, 1).toordinal()

_WORKBOOK_AFTER_DEFINED_NAMES = (
    "calcPr", "oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
    "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst",
)
_STYLESHEET_ORDER = (
    "numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs",
    "tableStyles", "colors", "extLst",
)
#: What an empty styles part needs before cell formats can point at font/fill/border 0:
#: block -> (child element, default children).
_STYLESHEET_DEFAULTS = {
    "fonts": ("font", '<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'),
    "fills": ("fill", '<fill><patternFill patternType="none"/></fill>'
                      '<fill><patternFill patternType="gray125"/></fill>'),
    "borders": ("border", "<border><left/><right/><top/><bottom/><diagonal/></border>"),
    "cellXfs": ("xf", '<xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'),
}
#: The styles part of a workbook that has none: Excel's defaults with the "Normal" cell style.
_NEW_STYLESHEET = (
    f'{XML_DECLARATION}<styleSheet xmlns="{MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)
_PLAIN_XF_ATTRIBUTES = frozenset({"numFmtId", "fontId", "fillId", "borderId", "xfId"})
_BUILTIN_FORMATS = {"text": 0, "decimal": 0, "int": 1, "money": 4}
_CUSTOM_FORMATS = {"percent": '0.00"%"', "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}
_MIN_WIDTH = {"text": 10, "int": 8, "money": 13, "decimal": 10, "percent": 9, "date": 11}

#: Text that needs escaping: markup characters, CR (XML would turn it into LF), characters XML 1.0
#: forbids, surrogates (refused), and literal ``_xHHHH_`` sequences Excel would otherwise decode.
_TEXT_NEEDS_CARE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\ud800-\udfff\ufffe\uffff]")
_OOXML_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")
_ERROR_CELL = re.compile(
    rb"""(<(?:[\w.-]+:)?c\s[^>]*?\bt\s*=\s*["']e["'][^>]*(?<!/)>)(.*?)</(?:[\w.-]+:)?c>""", re.S
)
_ERROR_CELL_REF = re.compile(rb"""\sr\s*=\s*["']([A-Z]{1,3})([0-9]+)["']""")
_CELL_VALUE = re.compile(rb"<(?:[\w.-]+:)?v>([^<]*)</(?:[\w.-]+:)?v>")


class WorkbookLockedError(Exception):
    """The workbook is open in Excel or LibreOffice (their lock file sits next to it)."""


def normalize_name(name: str) -> str:
    """The form in which sheet and table names are compared: casefolded, without spaces,
    underscores and hyphens (so "Invoice Lines", "invoice_lines" and "INVOICE-LINES" match)."""
    return re.sub(r"[\s_-]+", "", name).casefold()


# --------------------------------------------------------------------------------------------
# The workbook part
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sheet:
    """A ``<sheet>`` of the workbook: its name, position, id and the part that holds it."""

    name: str
    position: int
    sheet_id: int
    part: str
    content_type: str | None


@dataclass
class _Book:
    """What the reader and the writer need from the workbook part and the package around it."""

    source: ZipSource
    part: str
    xml: str
    prefix: str
    rels: list[Relationship]
    sheets: list[_Sheet]
    date1904: bool
    content_types: ContentTypes

    @property
    def worksheets(self) -> list[_Sheet]:
        """The sheets that are worksheets (not chart, dialog or macro sheets)."""
        return [sheet for sheet in self.sheets if sheet.content_type == CT_WORKSHEET]


def _decode_xml(data: bytes, part: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WorkbookFormatError(f"{part} is not UTF-8 XML") from exc


def _load_book(source: ZipSource) -> _Book:
    """Find and parse the workbook part; raise WorkbookFormatError for anything not an .xlsx/.xlsm."""
    file_name = source.path.name
    try:
        content_types = ContentTypes.parse(source.read(CONTENT_TYPES_PART))
        package_rels = parse_rels(source.read("_rels/.rels"))
    except KeyError as exc:
        raise WorkbookFormatError(f"{file_name} is a zip file but not an Office document") from exc
    if any(rel.type == RT_STRICT_OFFICE_DOCUMENT for rel in package_rels):
        raise WorkbookFormatError(
            f"{file_name} is saved as 'Strict Open XML'; save it as a normal Excel workbook (.xlsx)"
        )
    targets = [rel.target for rel in package_rels if rel.type == RT_OFFICE_DOCUMENT and not rel.external]
    info = source.find(resolve_target("", targets[0])) if targets else None
    if info is None:
        raise WorkbookFormatError(f"{file_name} has no workbook part")
    part = info.filename
    if (content_types.type_of(part) or "").startswith(CT_XLSB_MAIN) or part.casefold().endswith(".bin"):
        raise WorkbookFormatError(f"{file_name} is a binary workbook (.xlsb); save it as .xlsx or .xlsm")
    raw = source.read(part)
    xml = _decode_xml(raw, part)
    prefix, local, root_tag = root_element(xml)
    if local != "workbook" or namespace_prefix(root_tag, MAIN_NS) != prefix:
        raise WorkbookFormatError(f"{file_name}: {part} is not a SpreadsheetML workbook")
    rels_info = source.find(rels_part_of(part))
    rels = parse_rels(source.read(rels_info.filename)) if rels_info else []
    rel_targets = {rel.id: rel.target for rel in rels if not rel.external}
    tree = ET.fromstring(raw)
    main = f"{{{MAIN_NS}}}"
    sheets = []
    for position, element in enumerate(tree.iterfind(f"{main}sheets/{main}sheet")):
        rel_id = element.get(f"{{{DOC_REL_NS}}}id", "")
        sheet_part = resolve_target(part, rel_targets[rel_id]) if rel_id in rel_targets else ""
        sheet_info = source.find(sheet_part) if sheet_part else None
        sheets.append(
            _Sheet(
                name=element.get("name", ""),
                position=position,
                sheet_id=int(element.get("sheetId", "0")),
                part=sheet_info.filename if sheet_info else sheet_part,
                content_type=content_types.type_of(sheet_part) if sheet_info else None,
            )
        )
    properties = tree.find(f"{main}workbookPr")
    date1904 = properties is not None and properties.get("date1904", "0").lower() in ("1", "true")
    return _Book(source, part, xml, prefix, rels, sheets, date1904, content_types)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


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


def _parse_cell_ref(ref: str) -> tuple[int, int]:
    """0-based (row, column) of a cell reference like ``"B7"`` or ``"$B$7"``."""
    match = _CELL_REF.fullmatch(ref.strip())
    if match is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(match.group(2)) - 1, _column_index(match.group(1)) - 1


def _column_index(letters: str) -> int:
    """1-based column number of column letters (``"A"`` -> 1)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _column_letter(number: int) -> str:
    """Column letters of a 1-based column number (1 -> ``"A"``)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_tables(source: ZipSource, sheet: _Sheet) -> list[_Table]:
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
            (top, left), (bottom, right) = _parse_cell_ref(first), _parse_cell_ref(last or first)
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


def _error_cells(source: ZipSource, part: str) -> Iterator[tuple[int, int, str]]:
    """0-based (row, column, error text) of every error cell in a worksheet part.

    Streams the part and looks closer only at stretches that contain ``t="e"`` at all, so a
    sheet without errors costs one inflate and a byte search.
    """
    with source.open(part) as stream:
        pending = b""
        while True:
            chunk = stream.read(1 << 20)
            data = pending + chunk
            # Scan up to the last row boundary; a cell never straddles one.
            cut = data.rfind(b"row>") + 4 if chunk else len(data)
            if cut < 4:
                pending = data
                continue
            scan, pending = data[:cut], data[cut:]
            if b't="e"' in scan or b"t='e'" in scan:
                for match in _ERROR_CELL.finditer(scan):
                    ref, value = _ERROR_CELL_REF.search(match.group(1)), _CELL_VALUE.search(match.group(2))
                    if ref and value:
                        text = unescape(value.group(1).decode("utf-8"))
                        yield int(ref.group(2)) - 1, _column_index(ref.group(1).decode()) - 1, text
            if not chunk:
                return


def _read_grid(calamine: CalamineWorkbook, source: ZipSource, sheet: _Sheet) -> _Grid:
    """A worksheet's used range with empty cells as None and error cells as their text."""
    calamine_sheet = calamine.get_sheet_by_name(sheet.name)
    rows = calamine_sheet.to_python()
    top, left = calamine_sheet.start or (0, 0)
    if rows:
        for row, col, text in _error_cells(source, sheet.part):
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
    """

    def __init__(self, path: Path, wanted: Iterable[str] | None):
        keys = None if wanted is None else {normalize_name(name) for name in wanted}
        self._path = Path(path)
        self._source = ZipSource(self._path)
        self._calamine: CalamineWorkbook | None = None
        self._blocks: dict[str, tuple[_Sheet, _Table | None]] = {}
        try:
            book = _load_book(self._source)
            sheet_keys = {normalize_name(sheet.name) for sheet in book.worksheets}
            for sheet in book.worksheets:
                tables = _sheet_tables(self._source, sheet)
                if keys is None or normalize_name(sheet.name) in keys:
                    own = [t for t in tables if normalize_name(t.display_name) == normalize_name(sheet.name)]
                    self._blocks[sheet.name] = (sheet, (own or tables)[0] if tables else None)
                for table in tables:
                    key = normalize_name(table.display_name)
                    if key not in sheet_keys and (keys is None or key in keys):
                        self._blocks[table.display_name] = (sheet, table)
        except BaseException:
            self.close()
            raise

    def __getitem__(self, name: str) -> RawSheet:
        sheet, table = self._blocks[name]
        if self._calamine is None:
            self._calamine = CalamineWorkbook.from_path(str(self._path))
        grid = _read_grid(self._calamine, self._source, sheet)
        if table is not None:
            return _table_block(grid, table, name, sheet.name)
        return RawSheet(name=sheet.name, rows=grid.rows, first_row=grid.top + 1, first_col=grid.left + 1,
                        sheet=sheet.name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._blocks)

    def __len__(self) -> int:
        return len(self._blocks)

    def close(self) -> None:
        """Close the file."""
        if self._calamine is not None:
            self._calamine.close()
            self._calamine = None
        self._source.close()


@contextmanager
def open_workbook(path: Path, wanted: Iterable[str] | None = None) -> Iterator[LazySheets]:
    """The sheets of ``path`` (all, or those named in ``wanted``), each read when looked up."""
    sheets = LazySheets(path, wanted)
    try:
        yield sheets
    finally:
        sheets.close()


# --------------------------------------------------------------------------------------------
# Planning a write
# --------------------------------------------------------------------------------------------


@dataclass
class _Job:
    """One sheet part to write: an output sheet, one of its continuation sheets, or a stale
    continuation sheet being emptied to its header.

    `continues` names the output sheet a continuation sheet belongs to; `digest` fingerprints
    the content, `stored_digest` is the one found in the sheet this job replaces.
    """

    name: str
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[object]]
    chart: BarChart | None
    continues: str | None
    existing: _Sheet | None
    digest: str
    stored_digest: str | None = None
    part: str = ""
    position: int = -1
    drawing_rel_id: str | None = None
    stamp: str | None = None

    @property
    def last_cell(self) -> str:
        """The bottom-right cell of the table, e.g. ``"K1001"``."""
        return f"{_column_letter(len(self.columns))}{len(self.rows) + 1}"


def _check_sheet_name(name: str) -> None:
    """Refuse names Excel would reject (or, for "History", reserve)."""
    problem = None
    if not name or len(name) > 31:
        problem = "must be 1 to 31 characters long"
    elif any(char in _BAD_SHEET_NAME_CHARS for char in name):
        problem = "must not contain any of [ ] : * ? / \\"
    elif name[0] == "'" or name[-1] == "'":
        problem = "must not begin or end with an apostrophe"
    elif name.casefold() == "history":
        problem = "is reserved by Excel"
    elif _CONTROL_CHARACTER.search(name):
        problem = "contains a control character"
    if problem:
        raise ValueError(f"sheet name {name!r} {problem}")


def _check_columns(sheet: OutputSheet) -> None:
    if not sheet.columns or len(sheet.columns) > MAX_COLUMNS:
        raise ValueError(f"sheet {sheet.name!r} must have 1 to {MAX_COLUMNS} columns")
    for column in sheet.columns:
        if column.kind not in _MIN_WIDTH:
            raise ValueError(
                f"sheet {sheet.name!r}: column {column.header!r} has unknown kind {column.kind!r}"
            )
        if column.width is not None and not 0 < column.width <= 255:
            raise ValueError(f"sheet {sheet.name!r}: column {column.header!r} width must be in (0, 255]")
    chart = sheet.chart
    if chart is not None:
        indexes = (chart.category_column, *chart.value_columns)
        if not all(0 <= index < len(sheet.columns) for index in indexes):
            raise ValueError(f"sheet {sheet.name!r}: chart columns out of range")
        _parse_cell_ref(chart.anchor)


def _digest(identity: tuple[object, ...], rows: Sequence[Sequence[object]]) -> str:
    """A fingerprint of everything that determines a sheet part's XML.

    Hashing the ``repr`` of batches of rows runs in C and costs a fraction of rendering; types
    stay distinct (``1`` vs ``1.0`` vs ``Decimal('1')``) and a difference only makes us rewrite.
    """
    digest = hashlib.sha256(repr((_FORMAT_VERSION, *identity)).encode())
    for start in range(0, len(rows), 4096):
        digest.update(repr(rows[start : start + 4096]).encode("utf-8", "backslashreplace"))
    return digest.hexdigest()


def _stored_marks(source: ZipSource, sheet: _Sheet) -> dict[str, str]:
    """sheetbill's attributes (``digest``, ``continues``) on an existing sheet part's root element,
    read from the first few kilobytes of the part; empty for sheets sheetbill did not write."""
    if source.find(sheet.part) is None:
        return {}
    head = source.read_head(sheet.part, _DIGEST_HEAD_BYTES).decode("utf-8", "replace")
    try:
        _, _, root_tag = root_element(head)
    except WorkbookFormatError:
        return {}
    prefix = namespace_prefix(root_tag, SHEETBILL_NS)
    if not prefix:
        return {}
    return {name.partition(":")[2]: value for name, value in attributes(root_tag).items()
            if name.startswith(f"{prefix}:")}


def _plan(sheets: Sequence[OutputSheet], book: _Book, max_rows: int, stamp: str | None = None,
          stamp_sheet: str = "") -> list[_Job]:
    """Split the output sheets into sheet parts and match them to the sheets they replace.

    The job of ``stamp_sheet`` carries ``stamp`` (see :func:`read_stamp`), which counts as content."""
    existing = {sheet.name.casefold(): sheet for sheet in book.sheets}
    per_sheet = max_rows - 1
    jobs: list[_Job] = []

    def add(name: str, output: OutputSheet, rows: Sequence[Sequence[object]], chart: BarChart | None,
            continues: str | None, marks: dict[str, str] | None = None) -> None:
        sheet = existing.get(name.casefold())
        if sheet is not None and sheet.content_type != CT_WORKSHEET:
            raise ValueError(f"sheet {name!r} exists and is not a worksheet; it cannot be replaced")
        if marks is None:
            marks = _stored_marks(book.source, sheet) if sheet else {}
        own_stamp = stamp if stamp and not continues and name.casefold() == stamp_sheet.casefold() else None
        digest = _digest((name, output.columns, chart, continues, book.date1904, own_stamp), rows)
        jobs.append(_Job(name, output.columns, rows, chart, continues, sheet, digest, marks.get("digest"),
                         stamp=own_stamp))

    bases: list[tuple[str, int, OutputSheet]] = []
    for output in sheets:
        _check_sheet_name(output.name)
        _check_columns(output)
        rows = output.rows if isinstance(output.rows, (list, tuple)) else list(output.rows)
        base = existing.get(output.name.casefold())
        base_name = base.name if base else output.name
        parts = max(1, -(-len(rows) // per_sheet))
        bases.append((base_name, parts, output))
        add(base_name, output, rows if parts == 1 else rows[:per_sheet], output.chart, None)
        for index in range(1, parts):
            name = f"{base_name} {index + 1}"
            _check_sheet_name(name)
            add(name, output, rows[index * per_sheet : (index + 1) * per_sheet], None, base_name)
    names = {job.name.casefold() for job in jobs}
    if len(names) != len(jobs):
        raise ValueError("output sheet names must be unique (ignoring case), continuation sheets included")
    for base_name, parts, output in bases:
        pattern = re.compile(re.escape(base_name) + r" ([0-9]+)", re.IGNORECASE)
        for sheet in book.sheets:
            match = pattern.fullmatch(sheet.name)
            if not match or int(match.group(1)) <= parts or sheet.name.casefold() in names:
                continue
            marks = _stored_marks(book.source, sheet)
            if marks.get("continues", "").casefold() == base_name.casefold():
                add(sheet.name, output, (), None, base_name, marks)
    return jobs


# --------------------------------------------------------------------------------------------
# Styles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StyleIds:
    """Cell format (``s``) indexes: the bold header, and one per column kind plus "datetime"."""

    header: int
    kinds: dict[str, int]


def _prefixed(markup: str, prefix: str) -> str:
    """Put `prefix` on every element name of sheetbill-written `markup`."""
    return re.sub(r"<(/?)(\w)", rf"<\1{prefix}:\2", markup) if prefix else markup


def _append_children(xml: str, prefix: str, block: str, child: str, markup: str) -> str:
    """Append `markup` (elements called `child`) to the styleSheet's `block`, creating the block
    in schema order when missing, and set its ``count`` to the number of children."""
    name = qname(prefix, block)
    if find_element(xml, name) is None:
        later = _STYLESHEET_ORDER[_STYLESHEET_ORDER.index(block) + 1 :]
        followers = [qname(prefix, name_after) for name_after in later]
        xml = insert_child(xml, qname(prefix, "styleSheet"), f'<{name} count="0"></{name}>', followers)
    if markup:
        xml = insert_child(xml, name, markup)
    start, tag_end, end = find_element(xml, name)
    count = len(iter_elements(xml, qname(prefix, child), tag_end, end))
    return xml[:start] + set_attribute(xml[start:tag_end], "count", str(count)) + xml[tag_end:]


def _canonical(element_markup: str, prefix: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Children of one element as sorted (tag, sorted attributes): equal for equivalent fonts."""
    declaration = f'xmlns:{prefix}="{MAIN_NS}"' if prefix else f'xmlns="{MAIN_NS}"'
    element = ET.fromstring(f"<wrap {declaration}>{element_markup}</wrap>")[0]
    return sorted((child.tag, sorted(child.attrib.items())) for child in element)


def _ensure_styles(xml: str) -> tuple[str, _StyleIds]:
    """Add (or find) the number formats, bold font and cell formats sheetbill writes with.

    Existing entries are never reindexed or changed; identical entries are reused, so repeated
    writes do not grow the styles part.
    """
    prefix, local, _ = root_element(xml)
    if local != "styleSheet":
        raise WorkbookFormatError("the styles part is not a SpreadsheetML styleSheet")

    def q(local_name: str) -> str:
        return qname(prefix, local_name)

    for block, (child, default) in _STYLESHEET_DEFAULTS.items():
        span = find_element(xml, q(block))
        if span is None or not iter_elements(xml, q(child), span[1], span[2]):
            xml = _append_children(xml, prefix, block, child, _prefixed(default, prefix))

    # Number formats: reuse a custom format with the same code, else number above all others.
    span = find_element(xml, q("numFmts"))
    known: dict[str, int] = {}
    for start, tag_end, _ in iter_elements(xml, q("numFmt"), *(span[1:] if span else (0, 0))):
        attrs = attributes(xml[start:tag_end])
        known.setdefault(attrs.get("formatCode", ""), int(attrs.get("numFmtId", "0")))
    next_id = max([163, *known.values()]) + 1
    format_ids = dict(_BUILTIN_FORMATS)
    new_formats = []
    for kind, code in _CUSTOM_FORMATS.items():
        if code not in known:
            known[code] = next_id
            new_formats.append(f'<numFmt numFmtId="{next_id}" formatCode={quoteattr(code)}/>')
            next_id += 1
        format_ids[kind] = known[code]
    if new_formats:
        xml = _append_children(xml, prefix, "numFmts", "numFmt", _prefixed("".join(new_formats), prefix))

    # Bold font: the default font (font 0) plus <b/>.
    span = find_element(xml, q("fonts"))
    fonts = iter_elements(xml, q("font"), span[1], span[2])
    start, tag_end, end = fonts[0]
    first = xml[start:end]
    if tag_end == end:
        bold = f"{first[:-2].rstrip()}>{_prefixed('<b/>', prefix)}</{q('font')}>"
    else:
        bold = xml[start:tag_end] + _prefixed("<b/>", prefix) + xml[tag_end:end]
    wanted_font = _canonical(bold, prefix)
    if any(tag == f"{{{MAIN_NS}}}b" for tag, _ in _canonical(first, prefix)):
        bold_id = 0
    else:
        matches = [i for i, (s, _, e) in enumerate(fonts) if _canonical(xml[s:e], prefix) == wanted_font]
        bold_id = matches[0] if matches else len(fonts)
        if not matches:
            xml = _append_children(xml, prefix, "fonts", "font", bold)

    # Cell formats: reuse a plain one with the same number format and font.
    span = find_element(xml, q("cellStyleXfs"))
    has_style_xfs = span is not None and bool(iter_elements(xml, q("xf"), span[1], span[2]))
    span = find_element(xml, q("cellXfs"))
    existing = []
    for start, tag_end, end in iter_elements(xml, q("xf"), span[1], span[2]):
        attrs = {k: v for k, v in attributes(xml[start:tag_end]).items() if not k.startswith("apply")}
        existing.append(attrs if tag_end == end else None)
    wanted = {"header": (0, bold_id), **{kind: (number, 0) for kind, number in format_ids.items()}}
    ids: dict[str, int] = {}
    new_xfs = []
    for key, (number, font) in wanted.items():
        for index, attrs in enumerate(existing):
            if attrs is not None and _plain_xf(attrs, number, font):
                ids[key] = index
                break
        else:
            ids[key] = len(existing)
            existing.append({"numFmtId": str(number), "fontId": str(font)})
            new_xfs.append(
                f'<xf numFmtId="{number}" fontId="{font}" fillId="0" borderId="0"'
                + (' xfId="0"' if has_style_xfs else "")
                + (' applyNumberFormat="1"' if number else "")
                + (' applyFont="1"' if font else "")
                + "/>"
            )
    if new_xfs:
        xml = _append_children(xml, prefix, "cellXfs", "xf", _prefixed("".join(new_xfs), prefix))
    header = ids.pop("header")
    return xml, _StyleIds(header=header, kinds=ids)


def _plain_xf(attrs: dict[str, str], number: int, font: int) -> bool:
    """Whether a childless ``<xf>`` (apply* attributes removed) is exactly number format `number`
    in font `font` with the default fill, border and cell style, and nothing else (no
    quotePrefix, protection or alignment)."""
    return (
        set(attrs) <= _PLAIN_XF_ATTRIBUTES
        and attrs.get("numFmtId", "0") == str(number)
        and attrs.get("fontId", "0") == str(font)
        and all(attrs.get(name, "0") == "0" for name in ("fillId", "borderId", "xfId"))
    )


# --------------------------------------------------------------------------------------------
# Rendering sheet parts
# --------------------------------------------------------------------------------------------

_PLAIN_TYPES = frozenset({str, int, float, Decimal, bool, _dt.date, _dt.datetime})
#: Texts up to this length cannot exceed 32,767 UTF-16 code units, so need no length check.
_SHORT_TEXT = _MAX_CELL_TEXT // 2
#: Excel stores numbers as doubles: larger integers would silently lose their last digits.
_MAX_EXACT_INT = 2**53
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_EDGE_SPACE = " \t\n"


def _where(job: _Job, row: int, letter: str) -> str:
    """A cell's location for error messages."""
    header = job.columns[_column_index(letter) - 1].header
    return f"sheet {job.name!r}, cell {letter}{row} (column {header!r})"


def _escape_cell_text(text: str, where: str) -> str:
    """Text as XML character data in Excel's conventions.

    ``& < >`` become entities; CR and characters XML 1.0 forbids become ``_xHHHH_``; a literal
    ``_xHHHH_`` becomes ``_x005F_xHHHH_`` so Excel does not decode it. Raises ValueError for more
    than 32,767 characters (counted in UTF-16, as Excel does) and for surrogate code points.
    """
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    if units > _MAX_CELL_TEXT:
        raise ValueError(f"{where}: text of {units:,} characters exceeds Excel's limit of 32,767 per cell")

    def replace(match: re.Match[str]) -> str:
        found = match.group()
        if found in _ENTITIES:
            return _ENTITIES[found]
        if len(found) > 1:
            return "_x005F" + found
        if "\ud800" <= found <= "\udfff":
            raise ValueError(f"{where}: text contains a lone surrogate (U+{ord(found):04X})")
        return f"_x{ord(found):04X}_"

    return _TEXT_NEEDS_CARE.sub(replace, text)


def _date_serial(value: _dt.date, date1904: bool, where: str) -> int:
    """Excel's serial day number of a date, in the 1904 system or in the 1900 system with its
    phantom 1900-02-29 (serial 60), so 1900-03-01 is 61 and 1900-01-01 is 1."""
    if date1904:
        serial = value.toordinal() - _EXCEL_EPOCH_1904
        if serial < 0:
            raise ValueError(f"{where}: {value} is before 1904-01-01, the workbook's first date")
        return serial
    serial = value.toordinal() - _EXCEL_EPOCH_1900
    if serial < 61:
        serial -= 1
        if serial < 1:
            raise ValueError(f"{where}: {value} is before 1900-01-01, Excel's first date")
    return serial


def _datetime_serial(value: _dt.datetime, date1904: bool, where: str) -> str:
    """Excel's serial number (day plus fraction) of a naive datetime."""
    if value.utcoffset() is not None:
        raise ValueError(f"{where}: Excel has no time zones; convert {value} to a naive local time")
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return repr(_date_serial(value.date(), date1904, where) + seconds / 86400)


def _plain_value(value: object, where: str) -> object:
    """A subclass instance (IntEnum, StrEnum, numpy float ...) as its plain built-in value."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, _dt.datetime):
        return _dt.datetime.combine(value.date(), value.timetz())
    if isinstance(value, _dt.date):
        return _dt.date(value.year, value.month, value.day)
    if isinstance(value, Decimal):
        return Decimal(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"{where}: cannot write a {type(value).__name__} value ({value!r})")


def _render_rows(job: _Job, styles: _StyleIds, date1904: bool) -> Iterator[bytes]:
    """The ``<row>`` elements of a job's data rows, UTF-8 encoded, a batch of rows at a time.

    This loop runs once per cell (11 million times for a full sheet of 11 columns), so it
    dispatches on the exact type inline instead of calling a function per cell.
    """
    width = len(job.columns)
    letters = [_column_letter(number) for number in range(1, width + 1)]
    column_styles = [_style_attribute(styles.kinds[column.kind]) for column in job.columns]
    date_style = _style_attribute(styles.kinds["date"])
    datetime_style = _style_attribute(styles.kinds["datetime"])
    epoch, first_fast_serial = (_EXCEL_EPOCH_1904, 0) if date1904 else (_EXCEL_EPOCH_1900, 61)
    out: list[str] = []
    # The same few texts, amounts and dates fill most cells (IDs, reasons, prices, dates of
    # service): each one's markup is made once. Amounts are keyed by identity, not value, since
    # Decimal("80.0") == Decimal("80.00") but they are written differently; the rows keep them alive.
    text_markup: dict[str, str] = {}
    decimal_markup: dict[int, str] = {}
    date_markup: dict[_dt.date, str] = {}
    for number, row in enumerate(job.rows, start=2):
        if len(row) > width:
            raise ValueError(f"sheet {job.name!r}, row {number}: {len(row)} values for {width} columns")
        r = str(number)
        out.append(f'<row r="{r}">')
        for letter, style, value in zip(letters, column_styles, row, strict=False):
            if value is None:
                continue
            kind = value.__class__
            if kind is str:
                markup = text_markup.get(value)
                if markup is None:
                    if not value:
                        continue
                    text = value
                    if len(text) > _SHORT_TEXT or _TEXT_NEEDS_CARE.search(text):
                        text = _escape_cell_text(text, _where(job, number, letter))
                    space = ' xml:space="preserve"' if text[0] in _EDGE_SPACE or text[-1] in _EDGE_SPACE else ""
                    markup = text_markup[value] = f' t="inlineStr"><is><t{space}>{text}</t></is></c>'
                out += ('<c r="', letter, r, '"', style, markup)
                continue
            if kind is Decimal:
                markup = decimal_markup.get(id(value))
                if markup is None:
                    if not value.is_finite():
                        raise ValueError(f"{_where(job, number, letter)}: cannot write {value}")
                    markup = decimal_markup[id(value)] = f"><v>{value}</v></c>"
                out += ('<c r="', letter, r, '"', style, markup)
                continue
            if kind is _dt.date:
                markup = date_markup.get(value)
                if markup is None:
                    serial = value.toordinal() - epoch
                    if serial < first_fast_serial:
                        serial = _date_serial(value, date1904, _where(job, number, letter))
                    markup = date_markup[value] = f"{date_style}><v>{serial}</v></c>"
                out += ('<c r="', letter, r, '"', markup)
                continue
            if kind not in _PLAIN_TYPES:
                value = _plain_value(value, _where(job, number, letter))
                kind = value.__class__
            if kind is str:
                if not value:
                    continue
                if len(value) > _SHORT_TEXT or _TEXT_NEEDS_CARE.search(value):
                    value = _escape_cell_text(value, _where(job, number, letter))
                space = ' xml:space="preserve"' if value[0] in _EDGE_SPACE or value[-1] in _EDGE_SPACE else ""
                out += ('<c r="', letter, r, '"', style, ' t="inlineStr"><is><t', space, ">", value)
                out.append("</t></is></c>")
            elif kind is int:
                if not -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT:
                    raise ValueError(
                        f"{_where(job, number, letter)}: {value} has more digits than Excel keeps; "
                        "write it as text"
                    )
                out += ('<c r="', letter, r, '"', style, "><v>", str(value), "</v></c>")
            elif kind is Decimal:
                if not value.is_finite():
                    raise ValueError(f"{_where(job, number, letter)}: cannot write {value}")
                out += ('<c r="', letter, r, '"', style, "><v>", str(value), "</v></c>")
            elif kind is _dt.date:
                serial = value.toordinal() - epoch
                if serial < first_fast_serial:
                    serial = _date_serial(value, date1904, _where(job, number, letter))
                out += ('<c r="', letter, r, '"', date_style, "><v>", str(serial), "</v></c>")
            elif kind is bool:
                out += ('<c r="', letter, r, '"', style, ' t="b"><v>', "1" if value else "0", "</v></c>")
            elif kind is float:
                if not math.isfinite(value):
                    raise ValueError(f"{_where(job, number, letter)}: cannot write {value}")
                out += ('<c r="', letter, r, '"', style, "><v>", repr(value), "</v></c>")
            else:
                serial_text = _datetime_serial(value, date1904, _where(job, number, letter))
                out += ('<c r="', letter, r, '"', datetime_style, "><v>", serial_text, "</v></c>")
        out.append("</row>")
        if number % _ROWS_PER_CHUNK == 0:
            yield "".join(out).encode("utf-8")
            out.clear()
    if out:
        yield "".join(out).encode("utf-8")


def _style_attribute(index: int) -> str:
    return f' s="{index}"' if index else ""


def _column_width(column: Column) -> float:
    """The column's own width, else one that fits the header and its filter button."""
    if column.width is not None:
        return column.width
    return float(min(60, max(len(column.header) + 4, _MIN_WIDTH[column.kind])))


def _sheet_head(job: _Job, styles: _StyleIds) -> str:
    """Everything before the first data row: root element (with the digest), frozen header
    pane, column widths and the bold header row."""
    columns = "".join(
        f'<col min="{number}" max="{number}" width="{_column_width(column):g}" customWidth="1"/>'
        for number, column in enumerate(job.columns, start=1)
    )
    header = "".join(
        f'<c r="{_column_letter(number)}1"{_style_attribute(styles.header)} t="inlineStr"><is><t>'
        f"{_escape_cell_text(column.header, f'sheet {job.name!r}, header {number}')}</t></is></c>"
        for number, column in enumerate(job.columns, start=1)
        if column.header
    )
    continues = f" sb:continues={quoteattr(job.continues)}" if job.continues else ""
    if job.stamp:
        continues += f" sb:run={quoteattr(job.stamp)}"
    return (
        f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}" xmlns:r="{DOC_REL_NS}" xmlns:mc="{MC_NS}" '
        f'xmlns:sb="{SHEETBILL_NS}" mc:Ignorable="sb" sb:digest="{job.digest}"{continues}>'
        f'<dimension ref="A1:{job.last_cell}"/>'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{columns}</cols>'
        f'<sheetData><row r="1">{header}</row>'
    )


def _sheet_tail(job: _Job) -> str:
    drawing = f'<drawing r:id="{job.drawing_rel_id}"/>' if job.drawing_rel_id else ""
    return (
        f'</sheetData><autoFilter ref="A1:{job.last_cell}"/>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        f"{drawing}</worksheet>"
    )


def _sheet_part(job: _Job, styles: _StyleIds, date1904: bool) -> Iterator[bytes]:
    """The whole worksheet part, streamed."""
    yield _sheet_head(job, styles).encode("utf-8")
    yield from _render_rows(job, styles, date1904)
    yield _sheet_tail(job).encode("utf-8")


def _quote_sheet(name: str) -> str:
    """A sheet name as formulas and defined names reference it (always quoted)."""
    return "'" + name.replace("'", "''") + "'"


def _drawing_xml(chart: BarChart) -> bytes:
    """A drawing part holding one chart (relationship rId1), anchored at ``chart.anchor``."""
    row, col = _parse_cell_ref(chart.anchor)
    return (
        f'{XML_DECLARATION}<xdr:wsDr xmlns:xdr="{DRAWING_NS}" xmlns:a="{DRAWINGML_NS}">'
        f"<xdr:oneCellAnchor><xdr:from><xdr:col>{col}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
        '<xdr:ext cx="5400000" cy="3240000"/>'
        '<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="2" name="Chart 1"/>'
        "<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
        '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
        f'<a:graphic><a:graphicData uri="{CHART_NS}">'
        f'<c:chart xmlns:c="{CHART_NS}" xmlns:r="{DOC_REL_NS}" r:id="rId1"/>'
        "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:oneCellAnchor></xdr:wsDr>"
    ).encode()


def _chart_label(value: object) -> str:
    if isinstance(value, _dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _chart_number(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return None
    return str(value) if math.isfinite(value) else None


def _chart_xml(job: _Job) -> bytes:
    """A clustered column chart of the job's value columns over its category column.

    The series reference the sheet's cells and carry cached values, so readers that do not
    recalculate charts (and Excel before its first recalculation) show the data too.
    """
    chart = job.chart
    assert chart is not None
    sheet = _quote_sheet(job.name)
    last_row = max(2, len(job.rows) + 1)

    def cells(index: int) -> str:
        letter = _column_letter(index + 1)
        return escape(f"{sheet}!${letter}$2:${letter}${last_row}")

    def cell(row: Sequence[object], index: int) -> object:
        return row[index] if index < len(row) else None

    labels = "".join(
        f'<c:pt idx="{i}"><c:v>{escape(_chart_label(cell(row, chart.category_column)))}</c:v></c:pt>'
        for i, row in enumerate(job.rows)
    )
    categories = (
        f"<c:cat><c:strRef><c:f>{cells(chart.category_column)}</c:f><c:strCache>"
        f'<c:ptCount val="{len(job.rows)}"/>{labels}</c:strCache></c:strRef></c:cat>'
    )
    series = []
    for order, index in enumerate(chart.value_columns):
        letter = _column_letter(index + 1)
        points = "".join(
            f'<c:pt idx="{i}"><c:v>{number}</c:v></c:pt>'
            for i, row in enumerate(job.rows)
            if (number := _chart_number(cell(row, index))) is not None
        )
        series.append(
            f'<c:ser><c:idx val="{order}"/><c:order val="{order}"/>'
            f"<c:tx><c:strRef><c:f>{escape(f'{sheet}!${letter}$1')}</c:f><c:strCache>"
            f'<c:ptCount val="1"/><c:pt idx="0"><c:v>{escape(job.columns[index].header)}</c:v></c:pt>'
            f'</c:strCache></c:strRef></c:tx><c:invertIfNegative val="0"/>{categories}'
            f"<c:val><c:numRef><c:f>{cells(index)}</c:f><c:numCache><c:formatCode>General</c:formatCode>"
            f'<c:ptCount val="{len(job.rows)}"/>{points}</c:numCache></c:numRef></c:val></c:ser>'
        )
    return (
        f'{XML_DECLARATION}<c:chartSpace xmlns:c="{CHART_NS}" xmlns:a="{DRAWINGML_NS}" '
        f'xmlns:r="{DOC_REL_NS}">'
        '<c:roundedCorners val="0"/><c:chart>'
        f"<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:r><a:t>{escape(chart.title)}</a:t></a:r>"
        '</a:p></c:rich></c:tx><c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/>'
        '<c:plotArea><c:layout/><c:barChart><c:barDir val="col"/><c:grouping val="clustered"/>'
        f'<c:varyColors val="0"/>{"".join(series)}<c:gapWidth val="150"/>'
        '<c:axId val="50010001"/><c:axId val="50010002"/></c:barChart>'
        '<c:catAx><c:axId val="50010001"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="0"/>'
        '<c:tickLblPos val="nextTo"/><c:crossAx val="50010002"/><c:crosses val="autoZero"/>'
        '<c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        '<c:valAx><c:axId val="50010002"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="l"/><c:majorGridlines/>'
        '<c:numFmt formatCode="General" sourceLinked="1"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="50010001"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>'
        '</c:plotArea><c:legend><c:legendPos val="r"/><c:overlay val="0"/></c:legend>'
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>'
    ).encode()


# --------------------------------------------------------------------------------------------
# Assembling the new package
# --------------------------------------------------------------------------------------------


def _edit_workbook(book: _Book, jobs: list[_Job], new_sheets: list[str]) -> str:
    """workbook.xml with the new ``<sheet>`` elements appended, the autofilter names of the
    written sheets replaced, and ``fullCalcOnLoad`` set; everything else stays as it was."""
    xml = book.xml

    def q(local_name: str) -> str:
        return qname(book.prefix, local_name)

    if new_sheets:
        xml = insert_child(xml, q("sheets"), "".join(new_sheets))
    positions = {str(job.position) for job in jobs}
    filter_names = "".join(
        f'<{q("definedName")} name="_xlnm._FilterDatabase" localSheetId="{job.position}" hidden="1">'
        f"{escape(_quote_sheet(job.name))}!$A$1:${_column_letter(len(job.columns))}${len(job.rows) + 1}"
        f'</{q("definedName")}>'
        for job in jobs
    )
    span = find_element(xml, q("definedNames"))
    if span is None:
        followers = [q(name) for name in _WORKBOOK_AFTER_DEFINED_NAMES]
        block = f"<{q('definedNames')}>{filter_names}</{q('definedNames')}>"
        xml = insert_child(xml, q("workbook"), block, followers)
    else:
        for start, tag_end, end in reversed(iter_elements(xml, q("definedName"), span[1], span[2])):
            found = attributes(xml[start:tag_end])
            if found.get("name") == "_xlnm._FilterDatabase" and found.get("localSheetId") in positions:
                xml = xml[:start] + xml[end:]
        xml = insert_child(xml, q("definedNames"), filter_names)
    span = find_element(xml, q("calcPr"))
    if span is None:
        followers = [q(name) for name in _WORKBOOK_AFTER_DEFINED_NAMES[1:]]
        xml = insert_child(xml, q("workbook"), f'<{q("calcPr")} fullCalcOnLoad="1"/>', followers)
    else:
        start, tag_end, _ = span
        xml = xml[:start] + set_attribute(xml[start:tag_end], "fullCalcOnLoad", "1") + xml[tag_end:]
    return xml


def _reachable(source: ZipSource, rels_of: Callable[[str], list[Relationship]]) -> set[str]:
    """Casefolded names of the parts reachable from the package root through relationships."""
    seen: set[str] = set()
    pending = [""]
    while pending:
        part = pending.pop()
        for rel in rels_of(part):
            target = resolve_target(part, rel.target)
            if not rel.external and target.casefold() not in seen and source.find(target) is not None:
                seen.add(target.casefold())
                pending.append(target)
    return seen


def _write_package(book: _Book, jobs: list[_Job], stream: BinaryIO) -> None:
    """Write the new package: changed and new parts generated, every other entry copied raw.

    Parts that only the replaced sheets (or calcChain) led to -- their drawings, tables,
    comments, printer settings -- are dropped with their relationships and content types; parts
    still referenced from elsewhere (an image two drawings share) stay.
    """
    source = book.source
    folder = posixpath.dirname(book.part)
    content_types = ContentTypes.parse(source.read(CONTENT_TYPES_PART))
    rels = [rel for rel in book.rels if rel.type != RT_CALC_CHAIN]
    outputs: dict[str, tuple[str, Callable[[], Iterable[bytes]]]] = {}
    taken = {info.filename.casefold() for info in source.entries}

    def put(part: str, data: bytes) -> None:
        outputs[part.casefold()] = (part, lambda: [data])
        taken.add(part.casefold())

    styles_rel = next((rel for rel in rels if rel.type == RT_STYLES and not rel.external), None)
    styles_part = resolve_target(book.part, styles_rel.target) if styles_rel else ""
    if styles_rel and source.find(styles_part):
        styles_xml = _decode_xml(source.read(styles_part), styles_part)
    else:
        # The conventional name first: openpyxl, for one, looks for styles only there.
        conventional = posixpath.join(folder, "styles.xml")
        if not styles_part:
            styles_part = conventional if conventional.casefold() not in taken else free_part_name(
                posixpath.join(folder, "styles{}.xml"), taken
            )
        styles_xml = _NEW_STYLESHEET
        if styles_rel is None:
            rels.append(Relationship(next_rel_id(rels), RT_STYLES, relative_target(book.part, styles_part)))
        content_types.overrides[styles_part.casefold()] = (styles_part, CT_STYLES)
    new_styles, style_ids = _ensure_styles(styles_xml)
    if new_styles != styles_xml:
        put(styles_part, new_styles.encode("utf-8"))

    rel_prefix = namespace_prefix(root_element(book.xml)[2], DOC_REL_NS)
    id_attribute = f"{rel_prefix}:id" if rel_prefix else f'xmlns:r="{DOC_REL_NS}" r:id'
    new_sheets = []
    sheet_id = max((sheet.sheet_id for sheet in book.sheets), default=0) + 1
    position = len(book.sheets)
    for job in jobs:
        if job.existing is not None:
            job.part, job.position = job.existing.part, job.existing.position
            continue
        job.part = free_part_name(posixpath.join(folder, "worksheets/sheet{}.xml"), taken)
        taken.add(job.part.casefold())
        job.position, position = position, position + 1
        rel_id = next_rel_id(rels)
        rels.append(Relationship(rel_id, RT_WORKSHEET, relative_target(book.part, job.part)))
        new_sheets.append(f'<{qname(book.prefix, "sheet")} name={quoteattr(job.name)} sheetId="{sheet_id}" '
                          f'{id_attribute}="{rel_id}"/>')
        sheet_id += 1
        content_types.overrides[job.part.casefold()] = (job.part, CT_WORKSHEET)

    parsed: dict[str, list[Relationship]] = {}

    def original_rels(part: str) -> list[Relationship]:
        if part.casefold() not in parsed:
            info = source.find(rels_part_of(part))
            parsed[part.casefold()] = parse_rels(source.read(info.filename)) if info else []
        return parsed[part.casefold()]

    replaced = {job.part.casefold() for job in jobs if job.existing is not None}

    def updated_rels(part: str) -> list[Relationship]:
        if part.casefold() == book.part.casefold():
            return rels
        return [] if part.casefold() in replaced else original_rels(part)

    removed = _reachable(source, original_rels) - _reachable(source, updated_rels)
    removed |= {rels_part_of(part).casefold() for part in removed | replaced}
    taken -= removed
    for key in removed:
        content_types.overrides.pop(key, None)

    for job in jobs:
        if job.chart is None:
            continue
        drawing = free_part_name(posixpath.join(folder, "drawings/drawing{}.xml"), taken)
        taken.add(drawing.casefold())
        chart = free_part_name(posixpath.join(folder, "charts/chart{}.xml"), taken)
        job.drawing_rel_id = "rId1"
        to_drawing = Relationship("rId1", RT_DRAWING, relative_target(job.part, drawing))
        put(rels_part_of(job.part), render_rels([to_drawing]))
        put(drawing, _drawing_xml(job.chart))
        to_chart = Relationship("rId1", RT_CHART, relative_target(drawing, chart))
        put(rels_part_of(drawing), render_rels([to_chart]))
        put(chart, _chart_xml(job))
        content_types.overrides[drawing.casefold()] = (drawing, CT_DRAWING)
        content_types.overrides[chart.casefold()] = (chart, CT_CHART)
    for job in jobs:
        outputs[job.part.casefold()] = (job.part, lambda job=job: _sheet_part(job, style_ids, book.date1904))

    workbook_xml = _edit_workbook(book, jobs, new_sheets)
    if workbook_xml != book.xml:
        put(book.part, workbook_xml.encode("utf-8"))
    if rels != book.rels:
        rels_info = source.find(rels_part_of(book.part))
        put(rels_info.filename if rels_info else rels_part_of(book.part), render_rels(rels))
    if content_types != book.content_types:
        put(CONTENT_TYPES_PART, content_types.render())

    sink = ZipSink(stream)

    def emit(key: str) -> None:
        name, produce = outputs.pop(key)
        sink.write(name, produce())

    first = CONTENT_TYPES_PART.casefold()
    if first in outputs:
        emit(first)
    else:
        sink.copy(source, source.find(CONTENT_TYPES_PART))
    for info in source.entries:
        key = info.filename.casefold()
        if key == first:
            continue
        if key in outputs:
            emit(key)
        elif key not in removed:
            sink.copy(source, info)
    for key in list(outputs):
        emit(key)
    sink.close(source.comment)


# --------------------------------------------------------------------------------------------
# Writing safely
# --------------------------------------------------------------------------------------------


def _refuse_if_locked(target: Path) -> None:
    """Raise WorkbookLockedError when Excel's or LibreOffice's lock file sits next to `target`."""
    for lock, program in (
        (target.with_name(f"~${target.name}"), "Excel"),
        (target.with_name(f".~lock.{target.name}#"), "LibreOffice"),
    ):
        if lock.exists():
            raise WorkbookLockedError(
                f"{target.name} is open in {program} (lock file {lock.name}); close it there first, "
                "or force the write if the lock file is stale"
            )


def write_output_sheets(
    path: Path,
    sheets: Sequence[OutputSheet],
    *,
    out: Path | None = None,
    force: bool = False,
    backup: bool = True,
    stamp: str | None = None,
    stamp_sheet: str = "Problems",
    _max_rows: int = MAX_ROWS,
) -> bool:
    """Write `sheets` into the workbook at `path` (or into a copy at `out`).

    A sheet whose name matches an existing sheet (ignoring case) replaces it in place: same
    position, name and part, its old drawings, tables, comments and autofilter name dropped.
    Other sheets are appended. Every other part of the file is copied byte for byte.

    The write is atomic: a temporary file in the target's folder is fsynced and renamed over the
    target; with `backup` the previous target is first copied to ``<target>.bak``.

    Returns False, writing nothing, when every sheet already holds exactly this content (the
    digest stored by the previous write matches); with a different `out`, that file becomes a
    plain copy of `path`. Returns True when the sheets were written.

    A table longer than the grid continues on ``"<name> 2"``, ``"<name> 3"`` ... (header
    repeated); continuation sheets of an earlier, longer write are emptied to their header row.
    `_max_rows` (the grid's height, header included) exists for tests.

    `stamp` is stored on the output sheet `stamp_sheet` (see :func:`read_stamp` and
    :func:`input_stamp`): a front end records which inputs the outputs were computed from.

    Raises WorkbookLockedError when the target is open in Excel or LibreOffice (unless `force`),
    WorkbookFormatError when `path` is not an .xlsx/.xlsm workbook, ValueError for invalid sheet
    names, overlong text, NaN or infinite numbers (naming sheet, cell and column), and TypeError
    for values of other types.
    """
    source_path = Path(path)
    target = Path(out) if out is not None else source_path
    if _max_rows < 2:
        raise ValueError("_max_rows must leave room for the header and one row")
    if not force:
        _refuse_if_locked(target)
    in_place = target.exists() and os.path.samefile(source_path, target)
    with ZipSource(source_path) as source:
        version = _file_version(source_path)
        jobs = _plan(sheets, _load_book(source), _max_rows, stamp, stamp_sheet)
    changed = not all(job.existing is not None and job.stored_digest == job.digest for job in jobs)
    if not changed and in_place:
        return False
    if changed:
        write_atomic(target, lambda stream: _write_planned(source_path, version, jobs, stream), backup=backup)
    else:
        write_atomic(target, lambda stream: _copy_file(source_path, stream), backup=backup)
    return changed


def _file_version(path: Path) -> tuple[int, int, int]:
    """What tells one saved version of the file at ``path`` from another: inode, size, mtime."""
    found = path.stat()
    return found.st_ino, found.st_size, found.st_mtime_ns


def _write_planned(source_path: Path, version: tuple[int, int, int], jobs: list[_Job], stream: BinaryIO) -> None:
    """Write the package planned as ``jobs`` from the workbook at ``source_path`` into ``stream``.

    The workbook is opened again here, and closed before the new file is renamed over it (Windows
    cannot replace an open file); ``version`` makes sure it is still the file the plan was made from.
    """
    with ZipSource(source_path) as source:
        if _file_version(source_path) != version:
            raise WorkbookLockedError(f"{source_path.name} changed while sheetbill wrote it; run again")
        _write_package(_load_book(source), jobs, stream)


def _copy_file(path: Path, stream: BinaryIO) -> None:
    """Stream the file at ``path`` into ``stream``."""
    with open(path, "rb") as original:
        shutil.copyfileobj(original, stream)


def input_stamp(path: Path, inputs: Iterable[str], context: str) -> str:
    """A fingerprint of the parts of ``path`` that the input sheets ``inputs`` are made of.

    It hashes the stored (compressed) bytes of those sheets' parts, of the shared strings and of
    every table part, plus ``context`` (the command, the as-of date, the code's versions). Reading
    the bytes costs a fraction of parsing them, so a front end can tell in that time that nothing
    it reads has changed since it wrote ``stamp`` (:func:`read_stamp`). Anything rewritten, even to
    the same values, changes the fingerprint: the cautious direction, a full run.
    """
    wanted = {normalize_name(name) for name in inputs}
    digest = hashlib.sha256(context.encode())
    with ZipSource(Path(path)) as source:
        book = _load_book(source)
        parts = sorted(sheet.part for sheet in book.sheets if normalize_name(sheet.name) in wanted)
        parts += sorted(info.filename for info in source.entries
                        if info.filename.endswith("sharedStrings.xml") or info.filename.startswith("xl/tables/"))
        for part in parts:
            info = source.find(part)
            digest.update(part.encode() + b"\0")
            if info is not None:
                for chunk in source.raw_data(info):
                    digest.update(chunk)
    return digest.hexdigest()


def read_stamp(path: Path, sheet_name: str = "Problems") -> str | None:
    """The stamp that :func:`write_output_sheets` stored on ``sheet_name``; ``None`` when there is none
    (never written by sheetbill, or rewritten since by another program, which drops it)."""
    with ZipSource(Path(path)) as source:
        book = _load_book(source)
        for sheet in book.sheets:
            if sheet.name.casefold() == sheet_name.casefold():
                return _stored_marks(source, sheet).get("run")
    return None
