"""The wire format of xlwings' own spreadsheet clients, decoded into RawSheets and encoded from OutputSheets.

Two open-source xlwings clients post a workbook to a server and apply the "actions" it answers:
Excel's ``RunServerPython`` (VBA, ``addin/Remote.bas``) and Google Sheets' ``runPython`` (Apps
Script, ``js/xlwings.js``). This codec was written from reading those clients (xlwings 0.37.8) and is
exercised against the real Apps Script client under Node in the tests.

Request (JSON)::

    {"client": "VBA" | "Google Apps Script", "version": "0.37.8",
     "book": {"name": ..., "active_sheet_index": 0, "selection": "A1"},
     "names": [...],
     "sheets": [{"name": ..., "values": [[...], ...], "pictures": [...], "tables": [...]}, ...]}

Every sheet of the workbook is listed in workbook order (``sheet_position`` in the answer is the
index in this list). ``values`` is the block from A1 to the last used cell. What the clients send
for a cell, and what this codec makes of it:

* numbers as JSON numbers (floats; the core converts money through ``str``), booleans as booleans;
* dates as ISO strings ending in ``Z`` -- but both clients format the *local wall time* and only
  label it ``Z`` (VBA's ``ConvertToIso`` formats the local date; the Apps Script client shifts the
  instant so that its UTC fields show the spreadsheet's wall time). ``2026-01-31T00:00:00.000Z``
  is therefore the local date 2026-01-31 and is never shifted by a time zone;
* empty cells as ``""`` (Apps Script) or ``null`` (VBA); both become ``None``;
* error cells as their text (``"#N/A"``, ``"#DIV/0!"``...), which the core reports as Problems;
  ``NaN`` or infinities (not JSON, but Python's parser accepts them) become ``"#NUM!"`` likewise;
* VBA sends text of 16 to 100 digits as a bare JSON number; it arrives as an ``int`` and its text
  is unchanged;
* a sheet left out by ``include``/``exclude`` arrives as ``[[]]``. The VBA client also sends a
  completely empty sheet as ``[[]]``, so the two cannot be told apart there: a sheet the run
  needs that arrives as ``[[]]`` is refused (:class:`PayloadError`), never taken for an empty one,
  because billing without the Invoices history would issue every invoice again.

The VBA client counts rows in 16-bit ``Integer`` variables: a sheet with more than 32,767 rows
makes it fail with "Overflow" before anything is sent. The server cannot see that request, so the
answer warns (:data:`VBA_ROW_WARNING`) as soon as a sheet sheetbill writes comes near the limit.

Answer (JSON): ``{"actions": [...]}``; each action names a client function (``addSheet``,
``sheetClearContents``, ``rangeClearContents``, ``setNumberFormat``, ``setValues``,
``setRangeColor``, ``alert``) with a range given 0-based as ``sheet_position``, ``start_row``,
``start_column``, ``row_count``, ``column_count``.

Text is written as text: both clients hand values to the spreadsheet as if typed (VBA assigns
``Range.Value`` after trying ``ParseIso`` on every string; Apps Script calls ``Range.setValues``),
so ``=1+1`` would become a formula, ``00123`` a number and ``1-2-3`` a date. Every string is
therefore sent with a leading apostrophe, the spreadsheet's "this is text" prefix, which both Excel
and Google Sheets consume and do not store (reading the cell back gives the string without it).
The apostrophe is also not an ISO date, so VBA's ``ParseIso`` leaves it alone.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..sheets import CellValue, ColumnKind, OutputSheet, RawSheet

#: The clients this codec was tested against, by the ``client`` field of the payload.
CLIENTS = ("VBA", "Google Apps Script")
#: The xlwings client versions this codec was tested with (inclusive range).
CLIENT_VERSIONS = ("0.37.8", "0.37.8")
#: The VBA client fails on sheets with more rows than this (16-bit row counters).
VBA_MAX_ROWS = 32_767
#: From this many rows on, an answer to the VBA client warns that the limit is near.
VBA_ROW_WARNING = 30_000
#: Excel's and Google Sheets' grid.
MAX_ROWS = 1_048_576

#: Number formats by output column kind; ``None`` leaves the cell's format alone (text is written
#: as text by the apostrophe prefix; quantities show as typed).
NUMBER_FORMATS: dict[ColumnKind, str | None] = {
    "text": None,
    "int": "0",
    "money": "#,##0.00",
    "decimal": None,
    "percent": '0.00"%"',
    "date": "yyyy-mm-dd",
}
#: Header row fill.
HEADER_COLOR = "#D9E1F2"

_ISO_Z = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z")


class PayloadError(Exception):
    """A request sheetbill cannot answer with actions; ``message`` is for the clerk (shown by the client).

    Attributes:
        status: the HTTP status to answer with (4xx).
        message: plain text the clients show in their error box.
    """

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class ClientSheet:
    """One sheet as listed in the payload.

    Attributes:
        name: the sheet's name.
        position: its 0-based index in the payload (and in the workbook).
        values: the cells from A1, as sent.
        sent: False when the client left the values out (``[[]]``: excluded, or empty in Excel).
    """

    name: str
    position: int
    values: list[list[object]]
    sent: bool

    @property
    def extent(self) -> tuple[int, int]:
        """Rows and columns of the block the client sent (0, 0 when not sent)."""
        if not self.sent:
            return 0, 0
        return len(self.values), max((len(row) for row in self.values), default=0)


@dataclass(frozen=True)
class ClientBook:
    """The decoded payload: which client sent it and the workbook's sheets in order."""

    client: str
    version: str
    name: str
    active_sheet_index: int
    sheets: tuple[ClientSheet, ...]

    def find(self, name: str) -> ClientSheet | None:
        """The sheet called ``name`` (sheet names are unique ignoring case in both spreadsheets)."""
        key = name.casefold()
        return next((s for s in self.sheets if s.name.casefold() == key), None)


# --- decoding ---------------------------------------------------------------------------------------


def _version_tuple(text: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text.strip())
    return tuple(int(part) for part in match.groups()) if match else None


def supported_versions() -> str:
    """The supported client versions in words, for messages and docs."""
    low, high = CLIENT_VERSIONS
    return f"xlwings {low}" if low == high else f"xlwings {low} to {high}"


def decode_payload(data: object) -> ClientBook:
    """Check the shape of a decoded JSON request and return its workbook.

    :raises PayloadError: (400) for anything that is not a workbook payload of a supported client
        and version; the message says what to do.
    """
    if not isinstance(data, Mapping):
        raise PayloadError("This request is not a workbook from an xlwings client.")
    client, version = data.get("client"), data.get("version")
    if not isinstance(client, str) or not isinstance(version, str):
        raise PayloadError("This request is not a workbook from an xlwings client (client and version missing).")
    if client not in CLIENTS:
        raise PayloadError(f"The xlwings client {client!r} is not supported by this sheetbill server; "
                           f"use Excel's RunServerPython or the Google Sheets script.")
    parsed, low, high = _version_tuple(version), *(_version_tuple(v) for v in CLIENT_VERSIONS)
    if parsed is None or not low <= parsed <= high:
        raise PayloadError(f"This sheet uses the xlwings client {version}, but this sheetbill server supports "
                           f"{supported_versions()}. Install the matching xlwings client (the xlwings add-in, or "
                           f"xlwings.js in the sheet's Apps Script project).")
    book, sheets = data.get("book"), data.get("sheets")
    if not isinstance(book, Mapping) or not isinstance(sheets, list):
        raise PayloadError("The workbook payload has no book or no sheets.")
    decoded = []
    for position, sheet in enumerate(sheets):
        if not isinstance(sheet, Mapping) or not isinstance(sheet.get("name"), str):
            raise PayloadError(f"Sheet number {position + 1} in the payload has no name.")
        values = sheet.get("values")
        if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
            raise PayloadError(f"The sheet {sheet['name']!r} has no values table.")
        if len(values) > MAX_ROWS:
            raise PayloadError(f"The sheet {sheet['name']!r} has more rows than a spreadsheet can hold.")
        sent = not (len(values) == 0 or (len(values) == 1 and len(values[0]) == 0))
        decoded.append(ClientSheet(sheet["name"], position, values, sent))
    active = book.get("active_sheet_index")
    return ClientBook(client, version, str(book.get("name") or ""), active if isinstance(active, int) else 0,
                      tuple(decoded))


def cell_value(value: object) -> CellValue:
    """One cell as the core reads it (see the module docstring for what each client sends)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else "#NUM!"
    if isinstance(value, str):
        match = _ISO_Z.fullmatch(value)
        if match:
            fraction = (match[7] or "").ljust(6, "0")
            try:
                return dt.datetime(*(int(match[i]) for i in range(1, 7)), int(fraction))
            except ValueError:
                return value  # not a calendar date: the core reports the text
        return value
    return str(value)  # nested lists or objects have no place in a cell; the core reports the text


def trimmed_sheet(name: str, rows: list[list[CellValue]], first_row: int = 1, first_col: int = 1) -> RawSheet:
    """A block of cells as a :class:`RawSheet`, without leading and trailing blank rows and columns.

    ``first_row``/``first_col`` are the sheet position of ``rows[0][0]``; the result's say where the
    trimmed block starts, so Problems name the real cells. An all-blank block has no rows.
    """
    used = [i for i, row in enumerate(rows) if any(v is not None for v in row)]
    if not used:
        return RawSheet(name, [], first_row, first_col, name)
    rows = rows[used[0]: used[-1] + 1]
    filled = [[j for j, v in enumerate(row) if v is not None] for row in rows]
    left = min(cols[0] for cols in filled if cols)
    right = max(cols[-1] for cols in filled if cols)
    return RawSheet(name, [row[left: right + 1] for row in rows], first_row + used[0], first_col + left, name)


def raw_sheet(sheet: ClientSheet) -> RawSheet:
    """The sheet's cells as the core reads them (the clients send from A1; see :func:`trimmed_sheet`)."""
    rows = [[cell_value(v) for v in row] for row in sheet.values] if sheet.sent else []
    return trimmed_sheet(sheet.name, rows)


def raw_sheets(book: ClientBook, wanted: Callable[[str], bool]) -> dict[str, RawSheet]:
    """The sheets a run reads, by name.

    :param wanted: which sheet names the run reads (e.g. :func:`sheetbill.buttons.needed_sheet`).
    :raises PayloadError: (400) when a wanted sheet exists in the workbook but its values were not sent.
    """
    missing = [s.name for s in book.sheets if wanted(s.name) and not s.sent]
    if missing:
        names = ", ".join(repr(n) for n in missing)
        raise PayloadError(
            f"sheetbill needs the sheet(s) {names}, but the request left them out. Add them to the 'include' "
            f"list of the button's script (or take them out of 'exclude'). In Excel a completely empty sheet "
            f"is left out too: give it its header row. Nothing was written.")
    return {s.name: raw_sheet(s) for s in book.sheets if wanted(s.name)}


# --- encoding ---------------------------------------------------------------------------------------


def _action(func: str, position: int = 0, *, args: Sequence[object] = (), values: list | None = None,
            start_row: int = 0, start_column: int = 0, row_count: int = 1, column_count: int = 1) -> dict:
    return {"func": func, "args": list(args), "values": values, "sheet_position": position,
            "start_row": start_row, "start_column": start_column, "row_count": row_count,
            "column_count": column_count}


def wire_value(value: object) -> object:
    """One output cell as sent to the clients: text with the apostrophe prefix, amounts as numbers,
    dates as ISO dates (both clients enter them as dates), empty as ``""``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value else ""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return "'" + str(value)


def _format_runs(output: OutputSheet) -> list[tuple[int, int, str]]:
    """(first column, column count, format) for runs of adjacent columns sharing a number format."""
    runs: list[tuple[int, int, str]] = []
    for index, column in enumerate(output.columns):
        fmt = NUMBER_FORMATS.get(column.kind)
        if fmt is None:
            continue
        if runs and runs[-1][2] == fmt and runs[-1][0] + runs[-1][1] == index:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1, fmt)
        else:
            runs.append((index, 1, fmt))
    return runs


def encode_response(book: ClientBook, outputs: Sequence[OutputSheet], message: str, *, title: str = "sheetbill",
                    ok: bool = True) -> dict:
    """The answer that writes ``outputs`` into the client's workbook and shows ``message``.

    Each output sheet is added at the end if the workbook lacks it; rows and columns left over from
    the previous run are cleared (the whole sheet's contents when its values were not sent, so its
    extent is unknown); number formats are set before the values, then the values (header and rows)
    in one block, then the header fill; the message box comes last.
    """
    actions: list[dict] = []
    count = len(book.sheets)
    long_sheets: list[tuple[str, int]] = []
    for output in outputs:
        sheet = book.find(output.name)
        width = len(output.columns)
        height = 1 + len(output.rows)
        if sheet is None:
            position = count
            actions.append(_action("addSheet", position, args=[position, output.name]))
            count += 1
        else:
            position = sheet.position
            if not sheet.sent:
                actions.append(_action("sheetClearContents", position))
            else:
                old_rows, old_cols = sheet.extent
                if old_rows > height and old_cols:
                    actions.append(_action("rangeClearContents", position, start_row=height,
                                           row_count=old_rows - height, column_count=old_cols))
                if old_cols > width:
                    actions.append(_action("rangeClearContents", position, start_column=width,
                                           row_count=min(old_rows, height), column_count=old_cols - width))
        if output.rows:
            for first, span, fmt in _format_runs(output):
                actions.append(_action("setNumberFormat", position, args=[fmt], start_row=1, start_column=first,
                                       row_count=len(output.rows), column_count=span))
        values = [[wire_value(h) for h in output.headers]]
        values += [[wire_value(row[i] if i < len(row) else None) for i in range(width)] for row in output.rows]
        actions.append(_action("setValues", position, values=values, row_count=height, column_count=width))
        actions.append(_action("setRangeColor", position, args=[HEADER_COLOR], column_count=width))
        if height >= VBA_ROW_WARNING:
            long_sheets.append((output.name, height))
    if book.client == "VBA" and long_sheets:
        names = ", ".join(f"{name} ({rows:,} rows)" for name, rows in long_sheets)
        message += (f"\n\nWarning: {names}. Excel's server client cannot send a sheet with more than "
                    f"{VBA_MAX_ROWS:,} rows; past that, use the RunPython buttons or the sheetbill command line.")
    actions.append(_action("alert", args=[message, title, "ok", "info" if ok else "critical", ""]))
    return {"actions": actions}


def alert_only(message: str, *, title: str = "sheetbill", ok: bool = False) -> dict:
    """An answer that writes nothing and shows ``message``."""
    return {"actions": [_action("alert", args=[message, title, "ok", "info" if ok else "critical", ""])]}
