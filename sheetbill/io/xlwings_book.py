"""An open Excel workbook through xlwings: read the input sheets, write sheetbill's sheets back.

Used by :mod:`sheetbill.excel` when a button calls Python through the xlwings add-in's ``RunPython``
(Excel with local Python on Windows or macOS), and by :mod:`sheetbill.lite`, whose scripts get an
``xw.Book`` from the xlwings Lite add-in (Python in Excel through Pyodide); the few differences of
that engine come in as a :class:`SheetStyle`. Only the open-source xlwings API is used (``Book``,
``Sheet``, ``Range``, ``App``); nothing from ``xlwings.pro`` is imported.

Reading: each sheet a run needs is read from its used range with
``options(ndim=2, empty=None, err_to_str=True)``: always a table of rows, empty cells as ``None``,
numbers as floats, date cells as ``datetime`` (xlwings' defaults), error cells as their text
(``"#N/A"``) so the core reports them. The core converts those values exactly as it converts a
file's (money via ``str``, datetimes to dates); this module does not interpret them.

Writing: each output sheet is cleared (contents only, so stale rows of a longer earlier run go),
its columns get their number formats, then header and rows are written in one block, and the header
is made bold, filled and frozen. Text is written as text by a leading apostrophe on every string:
Excel enters ``Range.Value`` strings as if typed, so ``=1+1`` would become a formula, ``00123`` a
number and ``2026-01-31`` a date. The apostrophe is Excel's own "this is text" prefix; it is not part
of the stored value (``Range.Value`` reads the string back without it), and it works whatever the
cell's format was. (Formatting the cells as Text ``@`` first was the alternative; it is undone by
anyone who reformats the column, and the prefix is what the server path must use anyway, because
the Google Sheets client has no other way, so both front ends behave the same.) Text columns get the
``General`` format, so an old Text format does not keep the apostrophe visible.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..sheets import CellValue, OutputSheet, RawSheet
from .xlwings_json import NUMBER_FORMATS, trimmed_sheet

#: The header fill (the same as the server's), as an RGB tuple.
HEADER_RGB = (0xD9, 0xE1, 0xF2)
#: Rows per round trip to Excel when reading or writing big sheets.
CHUNK_ROWS = 10_000


def cell_from_excel(value: Any) -> CellValue:
    """One cell as xlwings hands it over, as the core reads it.

    Floats, booleans, strings (error cells arrive as ``"#N/A"``...) and ``None`` pass unchanged;
    datetimes lose a time zone xlwings may attach (Excel has none: the wall time is the value);
    anything unexpected becomes its text for the core to report.
    """
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, float) and not math.isfinite(value):
            return "#NUM!"
        return value
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date | dt.time):
        return value
    return str(value)


def cells_from_excel(values: Any) -> list[list[CellValue]]:
    """A used range's value (read with ``ndim=2``) as rows of core cells."""
    if values is None:
        return []
    return [[cell_from_excel(v) for v in row] for row in values]


def read_book(book: Any, wanted: Callable[[str], bool]) -> dict[str, RawSheet]:
    """The sheets of ``book`` (an ``xlwings.Book``) for which ``wanted(name)`` holds, by name."""
    sheets: dict[str, RawSheet] = {}
    for sheet in book.sheets:
        if not wanted(sheet.name):
            continue
        used = sheet.used_range
        values = used.options(ndim=2, empty=None, err_to_str=True, chunksize=CHUNK_ROWS).value
        sheets[sheet.name] = trimmed_sheet(sheet.name, cells_from_excel(values), used.row, used.column)
    return sheets


def excel_value(value: object) -> object:
    """One output value as written through xlwings: text with the apostrophe prefix, ``Decimal`` as
    a float (Excel stores doubles; the value is already rounded), dates as datetimes."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return "'" + value
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    return "'" + str(value)


def _find_sheet(book: Any, name: str) -> Any | None:
    key = name.casefold()
    return next((s for s in book.sheets if s.name.casefold() == key), None)


def _runs(output: OutputSheet) -> Iterable[tuple[int, int, str]]:
    """(first column, count, format) of adjacent columns sharing a number format, 0-based."""
    current: tuple[int, int, str] | None = None
    for index, column in enumerate(output.columns):
        fmt = NUMBER_FORMATS.get(column.kind) or "General"
        if current and current[2] == fmt and current[0] + current[1] == index:
            current = (current[0], current[1] + 1, fmt)
            continue
        if current:
            yield current
        current = (index, 1, fmt)
    if current:
        yield current


def write_outputs(book: Any, outputs: Sequence[OutputSheet], style: SheetStyle | None = None) -> None:
    """Write each output sheet into ``book``, adding missing sheets at the end (see the module docstring).

    Screen updating is suspended meanwhile where the engine lets it be read back (xlwings Lite can
    only suspend it until its next sync, and then resumes by itself).
    """
    app = book.app
    try:
        screen = app.screen_updating
    except NotImplementedError:
        screen = None
    app.screen_updating = False
    try:
        for output in outputs:
            write_sheet(book, output, style)
    finally:
        if screen is not None:
            app.screen_updating = screen


@dataclass(frozen=True)
class SheetStyle:
    """How an engine takes the header look: Excel with local Python by default.

    Attributes:
        header_color: the header fill, as xlwings accepts it (an RGB tuple, or ``"#RRGGBB"``).
        column_width: a column's width in Excel characters, as the engine's ``column_width`` wants it.
        freeze: freezes a sheet's header row and returns False where it could not; ``None`` for
            :func:`freeze_header` (Excel's object model on Windows and macOS).
    """

    header_color: object = HEADER_RGB
    column_width: Callable[[float], float] = float
    freeze: Callable[[Any], bool] | None = None


def write_sheet(book: Any, output: OutputSheet, style: SheetStyle | None = None) -> None:
    """Write one output sheet (added after the last sheet when missing)."""
    style = style or SheetStyle()
    sheet = _find_sheet(book, output.name)
    if sheet is None:
        sheet = book.sheets.add(output.name, after=book.sheets[len(book.sheets) - 1])
    sheet.clear_contents()
    width, height = len(output.columns), 1 + len(output.rows)
    if output.rows:
        for first, count, fmt in _runs(output):
            sheet.range((2, first + 1), (height, first + count)).number_format = fmt
    rows = [[excel_value(h) for h in output.headers]]
    rows += [[excel_value(row[i] if i < len(row) else None) for i in range(width)] for row in output.rows]
    sheet.range((1, 1), (height, width)).options(chunksize=CHUNK_ROWS).value = rows
    header = sheet.range((1, 1), (1, width))
    header.font.bold = True
    header.color = style.header_color
    for index, column in enumerate(output.columns, start=1):
        if column.width:
            sheet.range((1, index)).column_width = style.column_width(column.width)
    (style.freeze or freeze_header)(sheet)


def freeze_header(sheet: Any) -> bool:
    """Freeze the header row, where the platform allows; False when it could not.

    xlwings' own ``freeze_panes`` is implemented only by its PRO engines, so this uses Excel's
    object model: ``Window.SplitRow``/``FreezePanes`` on Windows (the sheet must be active, so the
    previously active sheet is re-activated), the same properties through AppleScript on macOS.
    Failing to freeze is not an error: the data is written either way.
    """
    try:
        book = sheet.book
        active = book.sheets.active
        sheet.activate()
        window = book.app.api.ActiveWindow if sys.platform.startswith("win") else None
        if window is not None:
            window.FreezePanes = False
            window.SplitColumn = 0
            window.SplitRow = 1
            window.FreezePanes = True
        elif sys.platform == "darwin":
            mac_window = book.app.api.active_window
            mac_window.split_row.set(1)
            mac_window.freeze_panes.set(True)
        else:
            return False
        active.activate()
        return True
    except Exception:  # a missing window or object model difference must not lose a finished run
        return False


def set_status(book: Any, text: str | None) -> None:
    """Show ``text`` in Excel's status bar (``None`` hands the bar back to Excel)."""
    try:
        book.app.status_bar = text if text is not None else False
    except Exception:
        pass  # the status bar is a courtesy


def show_message(book: Any, message: str, title: str, ok: bool) -> None:
    """A message box over Excel (``App.alert``: MsgBox on Windows, a dialog on macOS)."""
    book.app.alert(message, title=title, buttons="ok", mode="info" if ok else "critical")
