"""An in-memory Google Sheets API v4 emulator served over real HTTP on 127.0.0.1.

sheetbill's Google Sheets sync is tested with gspread's real client talking real HTTP, so the
emulator has to answer the way Google does in the places that matter: A1 ranges (quoted sheet
names, whole rows and columns, clipping to the grid), the shape of value responses (trailing
empty cells and rows trimmed, no ``values`` key for an empty range, update counts that ignore
``null`` cells), value input and render options, grid and 10,000,000-cell limits, error bodies in
Google's ``{"error": {"code", "message", "status"}}`` shape, and atomic ``batchUpdate`` requests.
The conformance test replays gspread's own recorded test suite against it to keep it honest.

It also lets a test misbehave on purpose: a per-minute quota that answers 429, injected faults
(an error status with an optional ``Retry-After``, or a connection dropped before or after the
request took effect), a hook that runs before each write request (a person typing in the sheet
mid-sync), and a log of every request.

What it deliberately does not do: evaluate formulas beyond plain arithmetic and HYPERLINK, apply
formatting (formatting requests are validated, recorded and acknowledged), or emulate Drive.
Dates are numbers: a cell holds a serial day number (days since 1899-12-30), optionally with the
text it was typed as, so ``SERIAL_NUMBER`` and ``FORMATTED_STRING`` both answer sensibly.
"""

from __future__ import annotations

import ast
import copy
import datetime as dt
import hashlib
import json
import operator
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

#: Google's limit on the cells of all sheets of one spreadsheet together.
MAX_CELLS = 10_000_000
#: Google's limit on the columns of one sheet (column ZZZ).
MAX_COLUMNS = 18_278
#: Day zero of spreadsheet serial dates.
SERIAL_EPOCH = dt.date(1899, 12, 30)

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """An error answer, rendered in Google's JSON error shape."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON body Google sends with this error."""
        status = _STATUS_NAMES.get(self.code, "UNKNOWN")
        return {"error": {"code": self.code, "message": self.message, "status": status}}


# --------------------------------------------------------------------------------------------
# A1 notation
# --------------------------------------------------------------------------------------------

_REF_PART = re.compile(r"^([A-Za-z]{0,3})([0-9]{0,7})$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE = re.compile(r"^([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*)$")


def column_letters(index: int) -> str:
    """0-based column index to letters: 0 -> "A", 26 -> "AA"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """Column letters to a 0-based index: "A" -> 0."""
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1


def quote_title(title: str) -> str:
    """A sheet title as Google prints it in ranges: quoted only when it has to be."""
    if _PLAIN_TITLE.match(title) and not _CELL_LIKE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class Box:
    """A rectangle of cells, 0-based, end-exclusive; ``None`` ends are unbounded."""

    r0: int
    c0: int
    r1: int | None
    c1: int | None

    def a1(self, title: str) -> str:
        """The box (which must be bounded) in A1 notation on sheet ``title``."""
        start = f"{column_letters(self.c0)}{self.r0 + 1}"
        assert self.r1 is not None and self.c1 is not None
        if self.r1 == self.r0 + 1 and self.c1 == self.c0 + 1:
            return f"{quote_title(title)}!{start}"
        return f"{quote_title(title)}!{start}:{column_letters(self.c1 - 1)}{self.r1}"


def _span(a: int | None, b: int | None) -> tuple[int, int | None]:
    if a is not None and b is not None:
        return min(a, b), max(a, b) + 1
    if a is not None:
        return a, None
    if b is not None:
        return 0, b + 1
    return 0, None


def parse_ref(ref: str) -> Box | None:
    """Parse the cell part of an A1 range ("B2", "A1:C", "A:B", "2:3", "A2:2"); None if not A1."""
    parts = ref.split(":")
    if len(parts) > 2:
        return None
    cells: list[tuple[int | None, int | None]] = []
    for part in parts:
        match = _REF_PART.match(part)
        if not match or not (match.group(1) or match.group(2)):
            return None
        if match.group(2) and int(match.group(2)) == 0:
            return None
        row = int(match.group(2)) - 1 if match.group(2) else None
        col = column_index(match.group(1)) if match.group(1) else None
        cells.append((row, col))
    if len(cells) == 1:
        row, col = cells[0]
        if row is None or col is None:
            return None
        return Box(row, col, row + 1, col + 1)
    (row_a, col_a), (row_b, col_b) = cells
    r0, r1 = _span(row_a, row_b)
    c0, c1 = _span(col_a, col_b)
    return Box(r0, c0, r1, c1)


def split_range(text: str) -> tuple[str | None, str | None]:
    """Split "'It''s'!A1:B2" into (sheet title, cell part); either may be None."""
    if text.startswith("'"):
        title, pos = [], 1
        while pos < len(text):
            char = text[pos]
            if char == "'":
                if text[pos + 1 : pos + 2] == "'":
                    title.append("'")
                    pos += 2
                    continue
                pos += 1
                break
            title.append(char)
            pos += 1
        else:
            raise ApiError(400, f"Unable to parse range: {text}")
        rest = text[pos:]
        if not rest:
            return "".join(title), None
        if rest.startswith("!"):
            return "".join(title), rest[1:]
        raise ApiError(400, f"Unable to parse range: {text}")
    if "!" in text:
        title, ref = text.rsplit("!", 1)
        return title, ref
    return None, text


# --------------------------------------------------------------------------------------------
# Cell values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula (entered with USER_ENTERED and a leading ``=``) and its value."""

    text: str
    value: Any


@dataclass(frozen=True)
class Entered:
    """A number typed as text (USER_ENTERED "2,000,000.01", "2020-01-01", "12%").

    ``value`` is the number (a serial day number for dates); ``text`` is how it is displayed.
    """

    value: int | float
    text: str
    is_date: bool = False


_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_HYPERLINK = re.compile(r'^HYPERLINK\(\s*"[^"]*"\s*,\s*"([^"]*)"\s*\)$', re.IGNORECASE)


def serial_of(day: dt.date | dt.datetime) -> int | float:
    """A date or datetime as a spreadsheet serial number."""
    if isinstance(day, dt.datetime):
        delta = day - dt.datetime.combine(SERIAL_EPOCH, dt.time())
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return (day - SERIAL_EPOCH).days


def _arithmetic(node: ast.AST) -> Any:
    if isinstance(node, ast.Expression):
        return _arithmetic(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_arithmetic(node.left), _arithmetic(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_arithmetic(node.operand))
    raise ValueError("not arithmetic")


def evaluate_formula(text: str) -> Any:
    """The value of a formula: plain arithmetic and HYPERLINK only; anything else is an error value."""
    body = text[1:].strip()
    link = _HYPERLINK.match(body)
    if link:
        return link.group(1)
    try:
        value = _arithmetic(ast.parse(body.replace("^", "**"), mode="eval"))
    except (SyntaxError, ValueError, ZeroDivisionError, TypeError):
        return "#ERROR!"
    return _tidy_number(value)


def _tidy_number(value: int | float) -> int | float:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def parse_user_entered(value: Any) -> Any:
    """Interpret a value as if a person typed it (valueInputOption=USER_ENTERED)."""
    if not isinstance(value, str):
        return parse_raw(value)
    if value == "":
        return None
    if value.startswith("="):
        return Formula(value, evaluate_formula(value))
    if value.startswith("'"):
        return value[1:]
    text = value.strip()
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    if text.endswith("%") and _NUMBER.match(text[:-1]) and any(c.isdigit() for c in text):
        return Entered(_tidy_number(float(text[:-1].replace(",", "")) / 100), text)
    if _NUMBER.match(text) and any(c.isdigit() for c in text):
        number = float(text.replace(",", ""))
        if "," in text:
            return Entered(_tidy_number(number), text)
        if "." in text or "e" in text.lower():
            return number
        return int(text)
    for pattern, order in ((_ISO_DATE, (0, 1, 2)), (_US_DATE, (2, 0, 1))):
        match = pattern.match(text)
        if match:
            parts = [int(match.group(i + 1)) for i in range(3)]
            try:
                day = dt.date(parts[order[0]], parts[order[1]], parts[order[2]])
            except ValueError:
                return value
            return Entered(serial_of(day), text, is_date=True)
    return value


def parse_raw(value: Any) -> Any:
    """Store a value exactly as given (valueInputOption=RAW): text stays text, "" empties the cell."""
    if value == "" or value is None:
        return None
    if isinstance(value, (str, bool, int, float)):
        return value
    raise ApiError(
        400, f"Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), {value!r}"
    )


def format_number(value: int | float) -> str:
    """A number as the "Automatic" format shows it."""
    value = _tidy_number(value)
    if isinstance(value, int):
        return str(value)
    if abs(value) >= 1e15 or (value and abs(value) < 1e-10):
        return f"{value:.2E}"
    return f"{value:.10f}".rstrip("0").rstrip(".")


def render(cell: Any, value_render: str, date_render: str) -> Any:
    """A stored cell as the values API returns it for the given render options."""
    if cell is None:
        return ""
    if isinstance(cell, Formula):
        if value_render == "FORMULA":
            return cell.text
        cell = cell.value
    if isinstance(cell, Entered):
        if value_render == "FORMATTED_VALUE" or (cell.is_date and date_render == "FORMATTED_STRING"):
            return cell.text
        return _tidy_number(cell.value)
    if isinstance(cell, bool):
        if value_render == "FORMATTED_VALUE":
            return "TRUE" if cell else "FALSE"
        return cell
    if isinstance(cell, (int, float)):
        return format_number(cell) if value_render == "FORMATTED_VALUE" else _tidy_number(cell)
    return cell


def python_cell(value: Any) -> Any:
    """Store a Python value handed to the emulator's own API.

    Dates become serial numbers shown as dates, text stays text (pass a :class:`Formula` for a
    formula), and "" or None leave the cell empty.
    """
    if isinstance(value, (Formula, Entered)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return Entered(serial_of(value), value.isoformat(), is_date=True)
    if isinstance(value, Decimal):
        return _tidy_number(float(value))
    return parse_raw(value)


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    for row in rows:
        while row and row[-1] == "":
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


# --------------------------------------------------------------------------------------------
# Spreadsheets
# --------------------------------------------------------------------------------------------


class Sheet:
    """One sheet: its properties (the API's SheetProperties JSON) and its cells, row by row.

    Rows are shared with the spreadsheet snapshot a request started from; a row is copied the
    first time a request changes it (see :meth:`row_for_write`), which keeps atomic requests cheap.
    """

    def __init__(self, props: dict[str, Any]) -> None:
        self.props = props
        self.rows: list[list[Any]] = []
        self.notes: dict[tuple[int, int], str] = {}
        self.merges: list[dict[str, Any]] = []
        self.protected_ranges: list[dict[str, Any]] = []
        self.basic_filter: dict[str, Any] | None = None
        self.charts: list[dict[str, Any]] = []
        #: Formatting, validation, chart and other requests acknowledged but not applied to values.
        self.recorded: list[dict[str, Any]] = []
        #: repeatCell formats in order: (box, userEnteredFormat, the fields they set).
        self.formats: list[tuple[Box, dict[str, Any], dict[str, Any]]] = []
        self._owned: dict[int, list[Any]] = {}

    @property
    def sheet_id(self) -> int:
        """The sheet's id."""
        return self.props["sheetId"]

    @property
    def title(self) -> str:
        """The sheet's title."""
        return self.props["title"]

    @property
    def row_count(self) -> int:
        """Rows in the grid."""
        return self.props["gridProperties"]["rowCount"]

    @property
    def column_count(self) -> int:
        """Columns in the grid."""
        return self.props["gridProperties"]["columnCount"]

    def clone(self) -> Sheet:
        """A copy sharing row lists until they are written."""
        twin = Sheet(copy.deepcopy(self.props))
        twin.rows = list(self.rows)
        twin.notes = dict(self.notes)
        twin.merges = list(self.merges)
        twin.protected_ranges = list(self.protected_ranges)
        twin.basic_filter = self.basic_filter
        twin.charts = list(self.charts)
        twin.recorded = list(self.recorded)
        twin.formats = list(self.formats)
        return twin

    def row_for_write(self, index: int) -> list[Any]:
        """Row ``index`` as a list this sheet may change (creating rows up to it if needed)."""
        while len(self.rows) <= index:
            fresh: list[Any] = []
            self._owned[id(fresh)] = fresh
            self.rows.append(fresh)
        row = self.rows[index]
        if id(row) not in self._owned:
            row = list(row)
            self._owned[id(row)] = row
            self.rows[index] = row
        return row

    def cell(self, r: int, c: int) -> Any:
        """The stored value of one cell (None when empty)."""
        if r < len(self.rows):
            row = self.rows[r]
            if c < len(row):
                return row[c]
        return None

    def set_cell(self, r: int, c: int, value: Any) -> None:
        """Store one cell."""
        if value is None and self.cell(r, c) is None:
            return
        row = self.row_for_write(r)
        if len(row) <= c:
            row.extend([None] * (c + 1 - len(row)))
        row[c] = value

    def write_block(self, r0: int, c0: int, block: Sequence[Sequence[Any]], skip: object) -> None:
        """Store a block of already converted values; cells equal to ``skip`` are left alone."""
        for offset, values in enumerate(block):
            if not values:
                continue
            r = r0 + offset
            if r >= len(self.rows) and c0 == 0 and skip not in values:
                fresh = list(values)
                self._owned[id(fresh)] = fresh
                while len(self.rows) < r:
                    self.row_for_write(len(self.rows))
                self.rows.append(fresh)
                continue
            row = self.row_for_write(r)
            end = c0 + len(values)
            if len(row) < end:
                row.extend([None] * (end - len(row)))
            if skip in values:
                for c, value in enumerate(values, start=c0):
                    if value is not skip:
                        row[c] = value
            else:
                row[c0:end] = values

    def clear_box(self, box: Box) -> None:
        """Empty every cell of a bounded box."""
        assert box.r1 is not None and box.c1 is not None
        for r in range(box.r0, min(box.r1, len(self.rows))):
            if any(v is not None for v in self.rows[r][box.c0 : box.c1]):
                row = self.row_for_write(r)
                row[box.c0 : box.c1] = [None] * len(row[box.c0 : box.c1])

    def read_box(self, box: Box) -> list[list[Any]]:
        """The stored values of a bounded box, row by row (rows may be short)."""
        assert box.r1 is not None and box.c1 is not None
        return [row[box.c0 : box.c1] for row in self.rows[box.r0 : box.r1]]

    def resize(self, rows: int, columns: int) -> None:
        """Change the grid size, dropping cells that fall outside it."""
        grid = self.props["gridProperties"]
        if rows < len(self.rows):
            del self.rows[rows:]
        if columns < grid["columnCount"]:
            for r, row in enumerate(self.rows):
                if len(row) > columns:
                    del self.row_for_write(r)[columns:]
        self.notes = {k: v for k, v in self.notes.items() if k[0] < rows and k[1] < columns}
        grid["rowCount"], grid["columnCount"] = rows, columns

    def to_json(self) -> dict[str, Any]:
        """The sheet as spreadsheets.get shows it (without grid data)."""
        props = copy.deepcopy(self.props)
        grid = props.get("gridProperties", {})
        for key in ("frozenRowCount", "frozenColumnCount"):
            if not grid.get(key):
                grid.pop(key, None)
        for key in ("hideGridlines", "rowGroupControlAfter", "columnGroupControlAfter"):
            if grid.get(key) is False:
                grid.pop(key)
        for key in ("hidden", "rightToLeft"):
            if props.get(key) is False:
                props.pop(key)
        out: dict[str, Any] = {"properties": props}
        if self.merges:
            out["merges"] = copy.deepcopy(self.merges)
        if self.protected_ranges:
            out["protectedRanges"] = copy.deepcopy(self.protected_ranges)
        if self.basic_filter:
            out["basicFilter"] = copy.deepcopy(self.basic_filter)
        if self.charts:
            out["charts"] = copy.deepcopy(self.charts)
        return out

    def format_of(self, r: int, c: int) -> dict[str, Any]:
        """The userEnteredFormat of one cell: every repeatCell over it, applied in order."""
        style: dict[str, Any] = {}
        for box, given, fields in self.formats:
            if box.r0 <= r < (box.r1 if box.r1 is not None else r + 1) and box.c0 <= c < (
                box.c1 if box.c1 is not None else c + 1
            ):
                if not fields or "*" in fields:
                    style = copy.deepcopy(given)
                else:
                    for name, sub in fields.items():
                        _masked_set(style, given, name, sub)
        return style

    def grid_data(self, box: Box) -> dict[str, Any]:
        """GridData for a bounded box: userEnteredValue, effectiveValue, formattedValue, note."""
        assert box.r1 is not None and box.c1 is not None
        row_data: list[dict[str, Any]] = []
        for r in range(box.r0, box.r1):
            values: list[dict[str, Any]] = []
            for c in range(box.c0, box.c1):
                cell: dict[str, Any] = {}
                value = self.cell(r, c)
                if value is not None:
                    cell["userEnteredValue"] = _extended_value(value, entered=True)
                    cell["effectiveValue"] = _extended_value(value, entered=False)
                    cell["formattedValue"] = render(value, "FORMATTED_VALUE", "FORMATTED_STRING")
                if (r, c) in self.notes:
                    cell["note"] = self.notes[(r, c)]
                style = self.format_of(r, c)
                if style:
                    cell["userEnteredFormat"] = style
                values.append(cell)
            while values and not values[-1]:
                values.pop()
            row_data.append({"values": values} if values else {})
        while row_data and not row_data[-1]:
            row_data.pop()
        data: dict[str, Any] = {"startRow": box.r0, "startColumn": box.c0}
        if row_data:
            data["rowData"] = row_data
        return data


def _masked_set(target: dict[str, Any], source: Mapping[str, Any], name: str, sub: dict[str, Any]) -> None:
    """Copy field ``name`` (restricted to the mask ``sub``) from source to target; absent clears it."""
    if name not in source:
        target.pop(name, None)
    elif not sub:
        target[name] = copy.deepcopy(source[name])
    else:
        inner = target.setdefault(name, {})
        for key, deeper in sub.items():
            _masked_set(inner, source[name], key, deeper)


def _extended_value(value: Any, *, entered: bool) -> dict[str, Any]:
    if isinstance(value, Formula):
        if entered:
            return {"formulaValue": value.text}
        value = value.value
    if isinstance(value, Entered):
        value = value.value
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, (int, float)):
        return {"numberValue": value}
    return {"stringValue": value}


class Spreadsheet:
    """One spreadsheet: properties, sheets in tab order, named ranges and the requests it saw."""

    def __init__(self, spreadsheet_id: str, title: str) -> None:
        self.id = spreadsheet_id
        self.props: dict[str, Any] = {
            "title": title,
            "locale": "en_US",
            "autoRecalc": "ON_CHANGE",
            "timeZone": "Etc/GMT",
        }
        self.sheets: list[Sheet] = []
        self.named_ranges: list[dict[str, Any]] = []
        #: Every spreadsheets.batchUpdate request applied, in order (for assertions).
        self.applied_requests: list[dict[str, Any]] = []
        self.next_id = 1

    def clone(self) -> Spreadsheet:
        """A copy that a request can change and either commit or drop."""
        twin = Spreadsheet(self.id, "")
        twin.props = copy.deepcopy(self.props)
        twin.sheets = [sheet.clone() for sheet in self.sheets]
        twin.named_ranges = copy.deepcopy(self.named_ranges)
        twin.applied_requests = list(self.applied_requests)
        twin.next_id = self.next_id
        return twin

    def new_id(self) -> int:
        """A fresh id for sheets, named ranges and protected ranges."""
        self.next_id += 1
        return 1_000_000 + self.next_id * 7919

    def cell_count(self) -> int:
        """Cells in all grids together (what the 10,000,000-cell limit counts)."""
        return sum(sheet.row_count * sheet.column_count for sheet in self.sheets)

    def by_id(self, sheet_id: Any) -> Sheet:
        """The sheet with this id, or a 400 error naming it."""
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise ApiError(400, f"No grid with id: {sheet_id}")

    def by_title(self, title: str) -> Sheet | None:
        """The sheet with this title (exact match first, then ignoring case)."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        for sheet in self.sheets:
            if sheet.title.lower() == title.lower():
                return sheet
        return None

    def resolve(self, text: str) -> tuple[Sheet, Box]:
        """An A1 range or named range to its sheet and (possibly unbounded) box."""
        title, ref = split_range(text)
        if title is None:
            assert ref is not None
            sheet = self.by_title(ref)
            if sheet is not None:
                return sheet, Box(0, 0, None, None)
            box = parse_ref(ref)
            if box is not None and self.sheets:
                return self.sheets[0], box
            return self._named(ref, text)
        sheet = self.by_title(title)
        if sheet is None:
            raise ApiError(400, f"Unable to parse range: {text}")
        if ref is None:
            return sheet, Box(0, 0, None, None)
        box = parse_ref(ref)
        if box is None:
            return self._named(ref, text)
        return sheet, box

    def _named(self, name: str, text: str) -> tuple[Sheet, Box]:
        for named in self.named_ranges:
            if named["name"] == name:
                sheet = self.by_id(named["range"].get("sheetId", 0))
                return sheet, grid_box(named["range"])
        raise ApiError(400, f"Unable to parse range: {text}")

    def check_cells(self, where: str) -> None:
        """Refuse a change that takes the spreadsheet past the cell limit."""
        if self.cell_count() > MAX_CELLS:
            raise ApiError(
                400,
                f"{where}This action would increase the number of cells in the workbook above the "
                f"limit of {MAX_CELLS} cells.",
            )

    def reindex(self) -> None:
        """Renumber the sheets' ``index`` after a change of tab order."""
        for index, sheet in enumerate(self.sheets):
            sheet.props["index"] = index

    def to_json(self) -> dict[str, Any]:
        """The spreadsheet as spreadsheets.get shows it (without grid data)."""
        out: dict[str, Any] = {
            "spreadsheetId": self.id,
            "properties": copy.deepcopy(self.props),
            "sheets": [sheet.to_json() for sheet in self.sheets],
        }
        if self.named_ranges:
            out["namedRanges"] = copy.deepcopy(self.named_ranges)
            for named in out["namedRanges"]:
                if named["range"].get("sheetId") == 0:  # proto3 JSON leaves out a zero id
                    del named["range"]["sheetId"]
        out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{self.id}/edit"
        return out


def grid_box(grid_range: Mapping[str, Any]) -> Box:
    """An API GridRange as a box (missing indexes are unbounded)."""
    return Box(
        grid_range.get("startRowIndex", 0),
        grid_range.get("startColumnIndex", 0),
        grid_range.get("endRowIndex"),
        grid_range.get("endColumnIndex"),
    )


def clip(sheet: Sheet, box: Box) -> Box:
    """Bound a box by the sheet's grid; a box starting outside the grid is an error."""
    if box.r0 >= sheet.row_count or box.c0 >= sheet.column_count:
        raise ApiError(
            400,
            f"Range ({Box(box.r0, box.c0, box.r0 + 1, box.c0 + 1).a1(sheet.title)}) exceeds grid limits. "
            f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}",
        )
    r1 = sheet.row_count if box.r1 is None else min(box.r1, sheet.row_count)
    c1 = sheet.column_count if box.c1 is None else min(box.c1, sheet.column_count)
    return Box(box.r0, box.c0, r1, c1)


# --------------------------------------------------------------------------------------------
# Request log, faults, quota
# --------------------------------------------------------------------------------------------


@dataclass
class LoggedRequest:
    """One request the emulator received.

    Attributes:
        method: HTTP method.
        kind: which API method it was, e.g. "values.batchGet", "spreadsheets.batchUpdate".
        spreadsheet_id: the spreadsheet addressed (None for create).
        range: the decoded A1 range of single-range value methods.
        query: query parameters, each with all its values.
        body_size: request body in bytes.
        body: the parsed JSON body (None without a body).
        status: the status answered (None while in flight or when the connection was dropped).
        dropped: the connection was closed without an answer.
    """

    method: str
    kind: str
    spreadsheet_id: str | None
    range: str | None
    query: dict[str, list[str]]
    body_size: int
    body: Any
    status: int | None = None
    dropped: bool = False

    @property
    def is_write(self) -> bool:
        """Whether the request can change the spreadsheet."""
        return self.method != "GET"

    @property
    def value_input_option(self) -> str | None:
        """The valueInputOption of a values write (query or body)."""
        if "valueInputOption" in self.query:
            return self.query["valueInputOption"][0]
        if isinstance(self.body, dict):
            return self.body.get("valueInputOption")
        return None


@dataclass
class Fault:
    """A misbehaviour injected for requests that ``match``.

    Either answer ``status`` (with ``Retry-After`` when ``retry_after`` is set) or, with
    ``drop``, close the connection without answering. With ``after`` the request takes effect
    first and only its answer is lost or replaced. ``times`` limits how often the fault fires
    (None: always).
    """

    match: Callable[[LoggedRequest], bool]
    status: int = 503
    retry_after: float | None = None
    drop: bool = False
    after: bool = False
    times: int | None = 1
    fired: int = 0

    def take(self, request: LoggedRequest, after: bool) -> bool:
        """Whether this fault fires for ``request`` now (counting the firing)."""
        if self.after != after or (self.times is not None and self.fired >= self.times):
            return False
        if not self.match(request):
            return False
        self.fired += 1
        return True


_DROP = object()
_SKIP = object()


# --------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------

_ROUTES = [
    ("POST", re.compile(r"/v4/spreadsheets$"), "spreadsheets.create"),
    ("GET", re.compile(r"/v4/spreadsheets/([^/:]+)$"), "spreadsheets.get"),
    ("POST", re.compile(r"/v4/spreadsheets/([^/:]+):batchUpdate$"), "spreadsheets.batchUpdate"),
    ("GET", re.compile(r"/v4/spreadsheets/([^/:]+)/values:batchGet$"), "values.batchGet"),
    ("POST", re.compile(r"/v4/spreadsheets/([^/:]+)/values:batchUpdate$"), "values.batchUpdate"),
    ("POST", re.compile(r"/v4/spreadsheets/([^/:]+)/values:batchClear$"), "values.batchClear"),
    ("POST", re.compile(r"/v4/spreadsheets/([^/:]+)/values/(.+):append$"), "values.append"),
    ("POST", re.compile(r"/v4/spreadsheets/([^/:]+)/values/(.+):clear$"), "values.clear"),
    ("GET", re.compile(r"/v4/spreadsheets/([^/:]+)/values/(.+)$"), "values.get"),
    ("PUT", re.compile(r"/v4/spreadsheets/([^/:]+)/values/(.+)$"), "values.update"),
]


class SheetsEmulator:
    """The emulator: spreadsheets in memory behind a threaded HTTP server on 127.0.0.1.

    Use it as a context manager (or call :meth:`start` / :meth:`stop`); point clients at
    :attr:`url` (it stands in for ``https://sheets.googleapis.com``).

    Attributes:
        log: every request received, in order.
        faults: injected faults, tried in order; see :class:`Fault`.
        before_write: called with the request before any write request is applied.
        quota_per_minute: accepted requests per minute window before answering 429 (None: no limit).
        quota_retry_after: the Retry-After seconds sent with a quota 429 (None: no header).
        clock: seconds, for the quota windows; tests may substitute a fake clock.
    """

    def __init__(self) -> None:
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.log: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self.before_write: Callable[[LoggedRequest], None] | None = None
        self.quota_per_minute: int | None = None
        self.quota_retry_after: float | None = None
        self.clock: Callable[[], float] = time.monotonic
        #: Exceptions raised by the emulator's own code (answered with 500); tests may assert it is empty.
        self.internal_errors: list[Exception] = []
        self._quota_window = -1
        self._quota_used = 0
        self._lock = threading.RLock()
        self._created = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SheetsEmulator:
        """Start serving on an ephemeral port."""
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.emulator = self  # type: ignore[attr-defined]
        server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SheetsEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API root to use instead of https://sheets.googleapis.com."""
        assert self._server is not None, "the emulator is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- direct access for tests -----------------------------------------------------------

    def create_spreadsheet(
        self,
        title: str = "Untitled spreadsheet",
        sheets: Mapping[str, Sequence[Sequence[Any]]] | Iterable[str] | None = None,
        *,
        spreadsheet_id: str | None = None,
        rows: int = 1000,
        columns: int = 26,
    ) -> str:
        """Create a spreadsheet and return its id.

        ``sheets`` maps titles to Python rows (dates become serial numbers), or lists titles;
        without it the spreadsheet has one empty "Sheet1". Each grid is ``rows`` x ``columns``,
        grown to fit its data.
        """
        with self._lock:
            # Lowercase hex, never random text: a test that checks that no cell content (say "C9")
            # reaches the logs must not trip over an id that happens to contain it.
            self._created += 1
            spreadsheet_id = spreadsheet_id or hashlib.sha256(f"spreadsheet {self._created}".encode()).hexdigest()[:44]
            book = Spreadsheet(spreadsheet_id, title)
            content: Mapping[str, Sequence[Sequence[Any]]]
            if sheets is None:
                content = {"Sheet1": []}
            elif isinstance(sheets, Mapping):
                content = sheets
            else:
                content = {name: [] for name in sheets}
            for index, (name, data) in enumerate(content.items()):
                width = max((len(row) for row in data), default=0)
                sheet = Sheet(
                    {
                        "sheetId": 0 if index == 0 else book.new_id(),
                        "title": name,
                        "index": index,
                        "sheetType": "GRID",
                        "gridProperties": {
                            "rowCount": max(rows, len(data)),
                            "columnCount": max(columns, width),
                        },
                    }
                )
                sheet.write_block(0, 0, [[python_cell(v) for v in row] for row in data], _SKIP)
                book.sheets.append(sheet)
            book.check_cells("")
            self.spreadsheets[spreadsheet_id] = book
            return spreadsheet_id

    def spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        """The spreadsheet as it is now (do not change it directly; use the methods here)."""
        with self._lock:
            return self._book(spreadsheet_id)

    def sheet(self, spreadsheet_id: str, title: str) -> Sheet:
        """One sheet as it is now."""
        with self._lock:
            sheet = self._book(spreadsheet_id).by_title(title)
            if sheet is None:
                raise KeyError(title)
            return sheet

    def titles(self, spreadsheet_id: str) -> list[str]:
        """The sheet titles in tab order."""
        with self._lock:
            return [sheet.title for sheet in self._book(spreadsheet_id).sheets]

    def get_values(
        self,
        spreadsheet_id: str,
        range_: str,
        value_render: str = "UNFORMATTED_VALUE",
        date_render: str = "SERIAL_NUMBER",
    ) -> list[list[Any]]:
        """A range's values as the values API would return them (trimmed)."""
        with self._lock:
            book = self._book(spreadsheet_id)
            sheet, box = book.resolve(range_)
            box = clip(sheet, box)
            stored = sheet.read_box(box)
            return _trim([[render(v, value_render, date_render) for v in row] for row in stored])

    def put_values(self, spreadsheet_id: str, range_: str, rows: Sequence[Sequence[Any]]) -> None:
        """Write Python values at ``range_`` as a person would, growing the grid if needed.

        Values are stored as :func:`python_cell` says. Safe to call from :attr:`before_write` to
        simulate someone typing mid-sync.
        """
        with self._lock:
            book = self._book(spreadsheet_id).clone()
            sheet, box = book.resolve(range_)
            width = max((len(row) for row in rows), default=0)
            sheet.resize(max(sheet.row_count, box.r0 + len(rows)), max(sheet.column_count, box.c0 + width))
            sheet.write_block(box.r0, box.c0, [[python_cell(v) for v in row] for row in rows], _SKIP)
            self.spreadsheets[spreadsheet_id] = book

    def formula_cells(self, spreadsheet_id: str) -> list[tuple[str, str]]:
        """Every cell holding a formula, as (A1 cell, formula text)."""
        found = []
        with self._lock:
            for sheet in self._book(spreadsheet_id).sheets:
                for r, row in enumerate(sheet.rows):
                    for c, value in enumerate(row):
                        if isinstance(value, Formula):
                            found.append((Box(r, c, r + 1, c + 1).a1(sheet.title), value.text))
        return found

    def writes(self) -> list[LoggedRequest]:
        """The logged requests that could change a spreadsheet."""
        with self._lock:
            return [entry for entry in self.log if entry.is_write]

    # -- request handling ------------------------------------------------------------------

    def _book(self, spreadsheet_id: str) -> Spreadsheet:
        book = self.spreadsheets.get(spreadsheet_id)
        if book is None:
            raise ApiError(404, "Requested entity was not found.")
        return book

    def handle(self, method: str, target: str, body: bytes) -> Any:
        """Answer one HTTP request: (status, headers, JSON payload) or the drop marker."""
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        entry = LoggedRequest(method, "unknown", None, None, query, len(body), None)
        with self._lock:
            self.log.append(entry)
            try:
                if body:
                    try:
                        entry.body = json.loads(body)
                    except ValueError as error:
                        raise ApiError(400, f"Invalid JSON payload received. {error}") from None
                route = self._route(method, parts.path, entry)
                if self._over_quota():
                    headers = {}
                    if self.quota_retry_after is not None:
                        headers["Retry-After"] = f"{self.quota_retry_after:g}"
                    return self._answer(entry, 429, headers, ApiError(429, _QUOTA_MESSAGE).body())
                fault = self._fault(entry, after=False)
                if fault is not None:
                    return self._fault_answer(entry, fault)
                if entry.is_write and self.before_write is not None:
                    self.before_write(entry)
                status, payload = 200, route(entry)
            except ApiError as error:
                status, payload = error.code, error.body()
            except Exception as error:  # a bug in the emulator: answer 500 and keep it for the test to see
                self.internal_errors.append(error)
                status, payload = 500, ApiError(500, f"Emulator bug: {error!r}").body()
            fault = self._fault(entry, after=True)
            if fault is not None:
                return self._fault_answer(entry, fault)
            return self._answer(entry, status, {}, payload)

    def _answer(self, entry: LoggedRequest, status: int, headers: dict[str, str], payload: Any) -> Any:
        entry.status = status
        return status, headers, payload

    def _fault(self, entry: LoggedRequest, after: bool) -> Fault | None:
        for fault in self.faults:
            if fault.take(entry, after):
                return fault
        return None

    def _fault_answer(self, entry: LoggedRequest, fault: Fault) -> Any:
        if fault.drop:
            entry.dropped = True
            return _DROP
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        message = "Injected fault." if fault.status != 429 else _QUOTA_MESSAGE
        return self._answer(entry, fault.status, headers, ApiError(fault.status, message).body())

    def _over_quota(self) -> bool:
        if self.quota_per_minute is None:
            return False
        window = int(self.clock() // 60)
        if window != self._quota_window:
            self._quota_window, self._quota_used = window, 0
        if self._quota_used >= self.quota_per_minute:
            return True
        self._quota_used += 1
        return False

    def _route(self, method: str, path: str, entry: LoggedRequest) -> Callable[[LoggedRequest], Any]:
        for route_method, pattern, kind in _ROUTES:
            match = pattern.search(path)
            if match and route_method == method:
                entry.kind = kind
                if match.groups():
                    entry.spreadsheet_id = unquote(match.group(1))
                if len(match.groups()) > 1:
                    entry.range = unquote(match.group(2))
                return getattr(self, "_" + kind.replace(".", "_"))
        raise ApiError(404, f"Method not found: {method} {path}")

    def _param(self, entry: LoggedRequest, name: str, default: str) -> str:
        return entry.query.get(name, [default])[0]

    def _flag(self, entry: LoggedRequest, name: str) -> bool:
        return self._param(entry, name, "false").lower() == "true"

    # -- spreadsheets ----------------------------------------------------------------------

    def _spreadsheets_create(self, entry: LoggedRequest) -> Any:
        body = entry.body or {}
        title = body.get("properties", {}).get("title", "Untitled spreadsheet")
        sheets = [
            s.get("properties", {}).get("title", f"Sheet{i + 1}")
            for i, s in enumerate(body.get("sheets", []))
        ]
        spreadsheet_id = self.create_spreadsheet(title, sheets or None)
        return self._book(spreadsheet_id).to_json()

    def _spreadsheets_get(self, entry: LoggedRequest) -> Any:
        book = self._book(entry.spreadsheet_id or "")
        out = book.to_json()
        mask = parse_mask(self._param(entry, "fields", ""))
        with_data = self._flag(entry, "includeGridData") or "data" in mask.get("sheets", {})
        ranges = entry.query.get("ranges", [])
        if ranges or with_data:
            wanted: dict[int, list[Box]] = {}
            for text in ranges:
                sheet, box = book.resolve(text)
                wanted.setdefault(sheet.sheet_id, []).append(clip(sheet, box))
            sheets_out = []
            for sheet, sheet_json in zip(book.sheets, out["sheets"], strict=True):
                if ranges and sheet.sheet_id not in wanted:
                    continue
                if with_data:
                    boxes = wanted.get(sheet.sheet_id) or [clip(sheet, Box(0, 0, None, None))]
                    sheet_json["data"] = [sheet.grid_data(box) for box in boxes]
                sheets_out.append(sheet_json)
            out["sheets"] = sheets_out
        if mask:
            out = apply_mask(out, mask)
        return out

    def _spreadsheets_batchUpdate(self, entry: LoggedRequest) -> Any:
        book = self._book(entry.spreadsheet_id or "")
        body = entry.body or {}
        work = book.clone()
        replies = []
        for index, request in enumerate(body.get("requests", [])):
            if not isinstance(request, dict) or len(request) != 1:
                raise ApiError(400, f"Invalid requests[{index}]: exactly one kind of request is required.")
            ((kind, payload),) = request.items()
            handler = getattr(_BatchRequests, kind, None)
            where = f"Invalid requests[{index}].{kind}: "
            try:
                if kind != "addSheet":
                    _check_sheet_ids(work, payload)
                reply = handler(work, payload) if handler else _BatchRequests.record(work, payload)
            except ApiError as error:
                raise ApiError(error.code, where + error.message) from None
            work.check_cells(where)
            work.applied_requests.append(request)
            replies.append({kind: reply} if reply else {})
        self.spreadsheets[book.id] = work
        out: dict[str, Any] = {"spreadsheetId": book.id, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            out["updatedSpreadsheet"] = work.to_json()
        return out

    # -- values ----------------------------------------------------------------------------

    def _read(self, book: Spreadsheet, text: str, entry: LoggedRequest) -> dict[str, Any]:
        sheet, box = book.resolve(text)
        box = clip(sheet, box)
        value_render = self._param(entry, "valueRenderOption", "FORMATTED_VALUE")
        date_render = self._param(entry, "dateTimeRenderOption", "SERIAL_NUMBER")
        major = self._param(entry, "majorDimension", "ROWS")
        return _value_range(sheet, box, value_render, date_render, major)

    def _values_get(self, entry: LoggedRequest) -> Any:
        return self._read(self._book(entry.spreadsheet_id or ""), entry.range or "", entry)

    def _values_batchGet(self, entry: LoggedRequest) -> Any:
        book = self._book(entry.spreadsheet_id or "")
        ranges = [self._read(book, text, entry) for text in entry.query.get("ranges", [])]
        return {"spreadsheetId": book.id, "valueRanges": ranges}

    def _write(
        self, book: Spreadsheet, text: str, data: Mapping[str, Any], input_option: str, entry: LoggedRequest
    ) -> dict[str, Any]:
        if input_option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "Invalid valueInputOption: " + repr(input_option))
        values = data.get("values")
        if values is None:
            values = []
        if not isinstance(values, list) or not all(isinstance(row, list) for row in values):
            raise ApiError(
                400,
                f"Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), "
                f"{json.dumps(values)}",
            )
        if data.get("majorDimension") == "COLUMNS":
            width = max((len(col) for col in values), default=0)
            values = [[col[r] if r < len(col) else None for col in values] for r in range(width)]
        sheet, box = book.resolve(text)
        convert = parse_raw if input_option == "RAW" else parse_user_entered
        block = [[_SKIP if v is None else convert(v) for v in row] for row in values]
        height, width = len(block), max((len(row) for row in block), default=0)
        anchor = box.r1 == box.r0 + 1 and box.c1 == box.c0 + 1
        if not anchor and box.r1 is not None and box.r0 + height > box.r1:
            raise ApiError(
                400,
                f"Requested writing within range [{clip(sheet, box).a1(sheet.title)}], but tried writing to "
                f"row [{box.r1 + 1}]",
            )
        if not anchor and box.c1 is not None and box.c0 + width > box.c1:
            raise ApiError(
                400,
                f"Requested writing within range [{clip(sheet, box).a1(sheet.title)}], but tried writing to "
                f"column [{column_letters(box.c1)}]",
            )
        target = Box(box.r0, box.c0, box.r0 + max(height, 1), box.c0 + max(width, 1))
        if target.r1 > sheet.row_count or target.c1 > sheet.column_count:  # type: ignore[operator]
            raise ApiError(
                400,
                f"Range ({target.a1(sheet.title)}) exceeds grid limits. Max rows: {sheet.row_count}, "
                f"max columns: {sheet.column_count}",
            )
        sheet.write_block(box.r0, box.c0, block, _SKIP)
        return _update_counts(book, sheet, box.r0, box.c0, block, entry, self)

    def _values_update(self, entry: LoggedRequest) -> Any:
        book = self._book(entry.spreadsheet_id or "").clone()
        option = self._param(entry, "valueInputOption", "")
        if not option:
            raise ApiError(400, "'valueInputOption' is required but not specified")
        result = self._write(book, entry.range or "", entry.body or {}, option, entry)
        self.spreadsheets[book.id] = book
        return result

    def _values_batchUpdate(self, entry: LoggedRequest) -> Any:
        body = entry.body or {}
        book = self._book(entry.spreadsheet_id or "").clone()
        option = body.get("valueInputOption", "")
        if not option:
            raise ApiError(400, "'valueInputOption' is required but not specified")
        responses = [
            self._write(book, data.get("range", ""), data, option, entry) for data in body.get("data", [])
        ]
        self.spreadsheets[book.id] = book
        out: dict[str, Any] = {"spreadsheetId": book.id}
        if responses:
            touched = [cell for r in responses for cell in r.pop("_cells", ())]
            out.update(
                totalUpdatedRows=len({(title, row) for title, row, _ in touched}),
                totalUpdatedColumns=len({(title, col) for title, _, col in touched}),
                totalUpdatedCells=sum(r.get("updatedCells", 0) for r in responses),
                totalUpdatedSheets=len({title for title, _, _ in touched}),
            )
        out["responses"] = responses
        return out

    def _clear(self, book: Spreadsheet, text: str) -> str:
        sheet, box = book.resolve(text)
        box = clip(sheet, box)
        sheet.clear_box(box)
        return box.a1(sheet.title)

    def _values_clear(self, entry: LoggedRequest) -> Any:
        book = self._book(entry.spreadsheet_id or "").clone()
        cleared = self._clear(book, entry.range or "")
        self.spreadsheets[book.id] = book
        return {"spreadsheetId": book.id, "clearedRange": cleared}

    def _values_batchClear(self, entry: LoggedRequest) -> Any:
        book = self._book(entry.spreadsheet_id or "").clone()
        cleared = [self._clear(book, text) for text in (entry.body or {}).get("ranges", [])]
        self.spreadsheets[book.id] = book
        return {"spreadsheetId": book.id, "clearedRanges": cleared}

    def _values_append(self, entry: LoggedRequest) -> Any:
        book = self._book(entry.spreadsheet_id or "").clone()
        option = self._param(entry, "valueInputOption", "")
        if not option:
            raise ApiError(400, "'valueInputOption' is required but not specified")
        sheet, box = book.resolve(entry.range or "")
        box = clip(sheet, box)
        table = _find_table(sheet, box)
        out: dict[str, Any] = {"spreadsheetId": book.id}
        if table is None:
            start_row, start_col = box.r0, box.c0
        else:
            out["tableRange"] = table.a1(sheet.title)
            start_row, start_col = table.r1, table.c0
        data = entry.body or {}
        values = data.get("values") or []
        if data.get("majorDimension") == "COLUMNS":
            height = max((len(col) for col in values), default=0)
            width = len(values)
        else:
            height = len(values)
            width = max((len(row) for row in values), default=0)
        assert start_row is not None
        if self._param(entry, "insertDataOption", "OVERWRITE") == "INSERT_ROWS":
            _BatchRequests.insertDimension(
                book,
                {
                    "range": {
                        "sheetId": sheet.sheet_id,
                        "dimension": "ROWS",
                        "startIndex": start_row,
                        "endIndex": start_row + height,
                    }
                },
            )
        grid = sheet.props["gridProperties"]
        if start_row + height > grid["rowCount"] or start_col + width > grid["columnCount"]:
            sheet.resize(
                max(grid["rowCount"], start_row + height), max(grid["columnCount"], start_col + width)
            )
            book.check_cells("")
        target = Box(start_row, start_col, start_row + 1, start_col + 1).a1(sheet.title)
        out["updates"] = self._write(book, target, data, option, entry)
        self.spreadsheets[book.id] = book
        return out


_QUOTA_MESSAGE = (
    "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per user' of service "
    "'sheets.googleapis.com'."
)


def _value_range(sheet: Sheet, box: Box, value_render: str, date_render: str, major: str) -> dict[str, Any]:
    stored = sheet.read_box(box)
    if value_render == "UNFORMATTED_VALUE" and date_render == "SERIAL_NUMBER":
        rows = [[_fast_unformatted(v) for v in row] for row in stored]
    else:
        rows = [[render(v, value_render, date_render) for v in row] for row in stored]
    if major == "COLUMNS":
        width = max((len(row) for row in rows), default=0)
        rows = [[row[c] if c < len(row) else "" for row in rows] for c in range(width)]
    out: dict[str, Any] = {"range": box.a1(sheet.title), "majorDimension": major}
    rows = _trim(rows)
    if rows:
        out["values"] = rows
    return out


def _fast_unformatted(value: Any) -> Any:
    if value is None:
        return ""
    if value.__class__ is str or value.__class__ is int:
        return value
    return render(value, "UNFORMATTED_VALUE", "SERIAL_NUMBER")


def _update_counts(
    book: Spreadsheet,
    sheet: Sheet,
    r0: int,
    c0: int,
    block: list[list[Any]],
    entry: LoggedRequest,
    emulator: SheetsEmulator,
) -> dict[str, Any]:
    rows_hit = [i for i, row in enumerate(block) if any(v is not _SKIP for v in row)]
    cols_hit = {c for row in block for c, v in enumerate(row) if v is not _SKIP}
    cells = sum(1 for row in block for v in row if v is not _SKIP)
    out: dict[str, Any] = {"spreadsheetId": book.id}
    if entry.kind == "values.batchUpdate":
        # Which cells were written, for the request's totals (removed before answering).
        out["_cells"] = [(sheet.title, r0 + r, c0 + c) for r in rows_hit for c in cols_hit]
    if cells:
        height = max(rows_hit) + 1
        width = max(cols_hit) + 1
        box = Box(r0, c0, r0 + height, c0 + width)
        out.update(
            updatedRange=box.a1(sheet.title),
            updatedRows=len(rows_hit),
            updatedColumns=len(cols_hit),
            updatedCells=cells,
        )
        if emulator._flag(entry, "includeValuesInResponse") or (
            isinstance(entry.body, dict) and entry.body.get("includeValuesInResponse")
        ):
            value_render = emulator._param(entry, "responseValueRenderOption", "FORMATTED_VALUE")
            date_render = emulator._param(entry, "responseDateTimeRenderOption", "SERIAL_NUMBER")
            out["updatedData"] = _value_range(sheet, box, value_render, date_render, "ROWS")
    return out


def _find_table(sheet: Sheet, box: Box) -> Box | None:
    """The "table" values:append appends to: the data block ending at the last filled row."""
    assert box.c1 is not None
    last = None
    for r in range(min(len(sheet.rows), box.r1 or len(sheet.rows)) - 1, box.r0 - 1, -1):
        if any(v is not None for v in sheet.rows[r][box.c0 : box.c1]):
            last = r
            break
    if last is None:
        return None
    row = sheet.rows[last]
    end = max(c for c in range(box.c0, min(box.c1, len(row))) if row[c] is not None)
    start = end
    while start > box.c0 and row[start - 1] is not None:
        start -= 1
    top = last
    while top > box.r0 and any(v is not None for v in sheet.rows[top - 1][start : end + 1]):
        top -= 1
    return Box(top, start, last + 1, end + 1)


# --------------------------------------------------------------------------------------------
# spreadsheets.batchUpdate requests
# --------------------------------------------------------------------------------------------


def _check_sheet_ids(book: Spreadsheet, payload: Any) -> None:
    """Every sheetId a request mentions must exist (except in addSheet's new properties)."""
    for sheet_id in _sheet_ids(payload):
        book.by_id(sheet_id)


def _sheet_ids(payload: Any) -> Iterator[Any]:
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "sheetId":
                yield value
            else:
                yield from _sheet_ids(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from _sheet_ids(item)


def _apply_fields(target: dict[str, Any], source: Mapping[str, Any], fields: str) -> None:
    """Update ``target`` from ``source`` under a FieldMask ("title,gridProperties.rowCount", "*")."""
    mask = parse_mask(fields)
    if "*" in mask:
        target.update(copy.deepcopy(dict(source)))
        return
    for name, sub in mask.items():
        _masked_set(target, source, name, sub)


class _BatchRequests:
    """Handlers of spreadsheets.batchUpdate requests: ``handler(book, payload) -> reply``."""

    @staticmethod
    def record(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        """Formatting, validation, charts, groups...: checked for sheet ids, recorded, acknowledged."""
        for sheet_id in set(_sheet_ids(payload)):
            book.by_id(sheet_id).recorded.append(payload)
        return {}

    @staticmethod
    def repeatCell(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        """Record the request and remember the cell format it sets over its range."""
        _BatchRequests.record(book, payload)
        span = payload.get("range", {})
        sheet = book.by_id(span.get("sheetId", 0))
        fields = parse_mask(payload.get("fields", "*"))
        cell = payload.get("cell", {})
        if "userEnteredFormat" in fields or "*" in fields:
            sheet.formats.append(
                (grid_box(span), cell.get("userEnteredFormat", {}), fields.get("userEnteredFormat", {}))
            )
        return {}

    @staticmethod
    def addChart(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        """Keep the chart (with a new chartId) on the sheet its anchor cell is on."""
        chart = copy.deepcopy(payload.get("chart", {}))
        anchor = chart.get("position", {}).get("overlayPosition", {}).get("anchorCell", {})
        chart.setdefault("chartId", book.new_id())
        book.by_id(anchor.get("sheetId", 0)).charts.append(chart)
        return {"chart": copy.deepcopy(chart)}

    @staticmethod
    def addSheet(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        props = copy.deepcopy(payload.get("properties", {}))
        title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
        if book.by_title(title) is not None:
            raise ApiError(400, f'A sheet with the name "{title}" already exists. Please enter another name.')
        sheet_id = props.get("sheetId", book.new_id())
        if any(sheet.sheet_id == sheet_id for sheet in book.sheets):
            raise ApiError(400, f"A sheet with the id {sheet_id} already exists.")
        grid = {"rowCount": 1000, "columnCount": 26, **props.get("gridProperties", {})}
        props.update(
            title=title, sheetId=sheet_id, sheetType=props.get("sheetType", "GRID"), gridProperties=grid
        )
        _check_grid(grid)
        sheet = Sheet(props)
        index = min(props.get("index", len(book.sheets)), len(book.sheets))
        book.sheets.insert(index, sheet)
        book.reindex()
        _check_visible(book)
        return {"properties": sheet.to_json()["properties"]}

    @staticmethod
    def deleteSheet(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        sheet = book.by_id(payload.get("sheetId"))
        if len(book.sheets) == 1:
            raise ApiError(400, "You can't remove all the sheets in a document.")
        book.sheets.remove(sheet)
        book.named_ranges = [n for n in book.named_ranges if n["range"].get("sheetId", 0) != sheet.sheet_id]
        book.reindex()
        _check_visible(book)
        return {}

    @staticmethod
    def updateSheetProperties(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        source = payload.get("properties", {})
        sheet = book.by_id(source.get("sheetId"))
        fields = payload.get("fields", "")
        if not fields:
            raise ApiError(400, "At least one field must be updated, but none were specified.")
        new = copy.deepcopy(sheet.props)
        _apply_fields(new, source, fields)
        new["sheetId"] = sheet.sheet_id
        title = new.get("title", "")
        other = book.by_title(title)
        if not title or (other is not None and other is not sheet and other.title.lower() == title.lower()):
            raise ApiError(400, f'A sheet with the name "{title}" already exists. Please enter another name.')
        grid = new.setdefault("gridProperties", {})
        _check_grid(grid)
        old_index = book.sheets.index(sheet)
        new_index = new.get("index", old_index)
        sheet.resize(grid["rowCount"], grid["columnCount"])
        sheet.props = new
        if new_index != old_index:
            book.sheets.remove(sheet)
            book.sheets.insert(
                min(new_index if new_index < old_index else new_index - 1, len(book.sheets)), sheet
            )
        book.reindex()
        _check_visible(book)
        return {}

    @staticmethod
    def updateSpreadsheetProperties(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        _apply_fields(book.props, payload.get("properties", {}), payload.get("fields", "*"))
        return {}

    @staticmethod
    def appendDimension(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        sheet = book.by_id(payload.get("sheetId"))
        length = payload.get("length", 0)
        if payload.get("dimension") == "ROWS":
            sheet.resize(sheet.row_count + length, sheet.column_count)
        else:
            sheet.resize(sheet.row_count, sheet.column_count + length)
        _check_grid(sheet.props["gridProperties"])
        return {}

    @staticmethod
    def insertDimension(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        span = payload.get("range", {})
        sheet = book.by_id(span.get("sheetId"))
        start, end = span.get("startIndex", 0), span.get("endIndex", 0)
        grid = sheet.props["gridProperties"]
        if span.get("dimension") == "ROWS":
            if start < len(sheet.rows):
                sheet.rows[start:start] = [[] for _ in range(end - start)]
            grid["rowCount"] += end - start
        else:
            for r, row in enumerate(sheet.rows):
                if len(row) > start:
                    sheet.row_for_write(r)[start:start] = [None] * (end - start)
            grid["columnCount"] += end - start
        _check_grid(grid)
        return {}

    @staticmethod
    def deleteDimension(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        span = payload.get("range", {})
        sheet = book.by_id(span.get("sheetId"))
        grid = sheet.props["gridProperties"]
        if span.get("dimension") == "ROWS":
            start, end = span.get("startIndex", 0), span.get("endIndex", grid["rowCount"])
            if end - start >= grid["rowCount"]:
                raise ApiError(400, "You can't delete all the rows on the sheet.")
            del sheet.rows[start:end]
            grid["rowCount"] -= end - start
        else:
            start, end = span.get("startIndex", 0), span.get("endIndex", grid["columnCount"])
            if end - start >= grid["columnCount"]:
                raise ApiError(400, "You can't delete all the columns on the sheet.")
            for r, row in enumerate(sheet.rows):
                if len(row) > start:
                    del sheet.row_for_write(r)[start:end]
            grid["columnCount"] -= end - start
        return {}

    @staticmethod
    def updateCells(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        if "range" in payload:
            sheet = book.by_id(payload["range"].get("sheetId", 0))
            r0, c0 = payload["range"].get("startRowIndex", 0), payload["range"].get("startColumnIndex", 0)
        else:
            start = payload.get("start", {})
            sheet = book.by_id(start.get("sheetId", 0))
            r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
        fields = {f.strip() for f in payload.get("fields", "").split(",")}
        for r, row in enumerate(payload.get("rows", []), start=r0):
            for c, cell in enumerate(row.get("values", []), start=c0):
                if fields & {"*", "userEnteredValue"}:
                    sheet.set_cell(r, c, _from_extended(cell.get("userEnteredValue")))
                if fields & {"*", "note"}:
                    if cell.get("note"):
                        sheet.notes[(r, c)] = cell["note"]
                    else:
                        sheet.notes.pop((r, c), None)
        return {}

    @staticmethod
    def mergeCells(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        span = payload.get("range", {})
        sheet = book.by_id(span.get("sheetId", 0))
        box = clip(sheet, grid_box(span))
        assert box.r1 is not None and box.c1 is not None
        kind = payload.get("mergeType", "MERGE_ALL")
        if kind == "MERGE_ROWS":
            parts = [Box(r, box.c0, r + 1, box.c1) for r in range(box.r0, box.r1)]
        elif kind == "MERGE_COLUMNS":
            parts = [Box(box.r0, c, box.r1, c + 1) for c in range(box.c0, box.c1)]
        else:
            parts = [box]
        for part in parts:
            assert part.r1 is not None and part.c1 is not None
            for r in range(part.r0, part.r1):
                for c in range(part.c0, part.c1):
                    if (r, c) != (part.r0, part.c0):
                        sheet.set_cell(r, c, None)
            sheet.merges.append(
                {
                    "sheetId": sheet.sheet_id,
                    "startRowIndex": part.r0,
                    "endRowIndex": part.r1,
                    "startColumnIndex": part.c0,
                    "endColumnIndex": part.c1,
                }
            )
        return {}

    @staticmethod
    def unmergeCells(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        span = payload.get("range", {})
        sheet = book.by_id(span.get("sheetId", 0))
        box = clip(sheet, grid_box(span))
        assert box.r1 is not None and box.c1 is not None

        def inside(merge: Mapping[str, Any]) -> bool:
            return (
                merge["startRowIndex"] < box.r1
                and merge["endRowIndex"] > box.r0  # type: ignore[operator]
                and merge["startColumnIndex"] < box.c1
                and merge["endColumnIndex"] > box.c0  # type: ignore[operator]
            )

        sheet.merges = [merge for merge in sheet.merges if not inside(merge)]
        return {}

    @staticmethod
    def addNamedRange(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        named = copy.deepcopy(payload.get("namedRange", {}))
        if any(n["name"] == named.get("name") for n in book.named_ranges):
            raise ApiError(400, f"Named range with name {named.get('name')} already exists.")
        named.setdefault("namedRangeId", f"nr{book.new_id()}")
        book.named_ranges.append(named)
        return {"namedRange": copy.deepcopy(named)}

    @staticmethod
    def updateNamedRange(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        source = payload.get("namedRange", {})
        for named in book.named_ranges:
            if named["namedRangeId"] == source.get("namedRangeId"):
                _apply_fields(named, source, payload.get("fields", "*"))
                return {}
        raise ApiError(400, f"No named range with id {source.get('namedRangeId')}")

    @staticmethod
    def deleteNamedRange(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        before = len(book.named_ranges)
        book.named_ranges = [n for n in book.named_ranges if n["namedRangeId"] != payload.get("namedRangeId")]
        if len(book.named_ranges) == before:
            raise ApiError(400, f"No named range with id {payload.get('namedRangeId')}")
        return {}

    @staticmethod
    def addProtectedRange(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        protected = copy.deepcopy(payload.get("protectedRange", {}))
        sheet = book.by_id(protected.get("range", {}).get("sheetId", 0))
        protected.setdefault("protectedRangeId", book.new_id())
        protected["requestingUserCanEdit"] = True
        sheet.protected_ranges.append(protected)
        return {"protectedRange": copy.deepcopy(protected)}

    @staticmethod
    def deleteProtectedRange(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        wanted = payload.get("protectedRangeId")
        for sheet in book.sheets:
            for protected in sheet.protected_ranges:
                if protected["protectedRangeId"] == wanted:
                    sheet.protected_ranges = [p for p in sheet.protected_ranges if p is not protected]
                    return {}
        raise ApiError(400, f"No protected range with id: {wanted}")

    @staticmethod
    def setBasicFilter(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        span = payload.get("filter", {}).get("range", {})
        book.by_id(span.get("sheetId", 0)).basic_filter = copy.deepcopy(payload.get("filter"))
        return {}

    @staticmethod
    def clearBasicFilter(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        book.by_id(payload.get("sheetId", 0)).basic_filter = None
        return {}

    @staticmethod
    def sortRange(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        span = payload.get("range", {})
        sheet = book.by_id(span.get("sheetId", 0))
        box = clip(sheet, grid_box(span))
        assert box.r1 is not None and box.c1 is not None
        block = [[sheet.cell(r, c) for c in range(box.c0, box.c1)] for r in range(box.r0, box.r1)]
        for spec in reversed(payload.get("sortSpecs", [])):
            column = spec.get("dimensionIndex", 0) - box.c0
            descending = spec.get("sortOrder") == "DESCENDING"
            filled = [row for row in block if row[column] is not None]
            empty = [row for row in block if row[column] is None]
            filled.sort(key=lambda row: _sort_key(row[column]), reverse=descending)
            block = filled + empty
        sheet.write_block(box.r0, box.c0, block, _SKIP)
        return {}

    @staticmethod
    def copyPaste(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        source_range, target_range = payload.get("source", {}), payload.get("destination", {})
        source = book.by_id(source_range.get("sheetId", 0))
        box = clip(source, grid_box(source_range))
        block = [list(row) + [None] * (box.c1 - box.c0 - len(row)) for row in source.read_box(box)]  # type: ignore[operator]
        target = book.by_id(target_range.get("sheetId", 0))
        target.write_block(
            target_range.get("startRowIndex", 0), target_range.get("startColumnIndex", 0), block, _SKIP
        )
        return {}

    @staticmethod
    def cutPaste(book: Spreadsheet, payload: Any) -> dict[str, Any]:
        source_range, target = payload.get("source", {}), payload.get("destination", {})
        source = book.by_id(source_range.get("sheetId", 0))
        box = clip(source, grid_box(source_range))
        block = [list(row) + [None] * (box.c1 - box.c0 - len(row)) for row in source.read_box(box)]  # type: ignore[operator]
        source.clear_box(box)
        book.by_id(target.get("sheetId", 0)).write_block(
            target.get("rowIndex", 0), target.get("columnIndex", 0), block, _SKIP
        )
        return {}


def _sort_key(value: Any) -> tuple[int, Any]:
    value = value.value if isinstance(value, (Formula, Entered)) else value
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value).lower())


def _from_extended(value: Mapping[str, Any] | None) -> Any:
    if not value:
        return None
    if "formulaValue" in value:
        return Formula(value["formulaValue"], evaluate_formula(value["formulaValue"]))
    for key in ("stringValue", "numberValue", "boolValue"):
        if key in value:
            return parse_raw(value[key])
    return None


def _check_grid(grid: Mapping[str, Any]) -> None:
    if grid.get("rowCount", 1) < 1 or grid.get("columnCount", 1) < 1:
        raise ApiError(400, "The grid must have at least one row and one column.")
    if grid.get("columnCount", 0) > MAX_COLUMNS:
        raise ApiError(
            400,
            f"This action would increase the number of columns in the sheet above the limit of "
            f"{MAX_COLUMNS}.",
        )
    if grid.get("frozenRowCount", 0) >= grid["rowCount"]:
        raise ApiError(400, "You can't freeze all visible rows on the sheet.")
    if grid.get("frozenColumnCount", 0) >= grid["columnCount"]:
        raise ApiError(400, "You can't freeze all visible columns on the sheet.")


def _check_visible(book: Spreadsheet) -> None:
    if all(sheet.props.get("hidden") for sheet in book.sheets):
        raise ApiError(400, "You can't hide all the sheets in a document.")


# --------------------------------------------------------------------------------------------
# Field masks
# --------------------------------------------------------------------------------------------


def parse_mask(text: str) -> dict[str, Any]:
    """A field mask ("sheets.properties,namedRanges", "sheets(data/rowData)") as a tree of dicts."""
    tokens = re.findall(r"[A-Za-z0-9_*]+|[.,/()]", text)
    position = 0

    def parse_list() -> dict[str, Any]:
        nonlocal position
        tree: dict[str, Any] = {}
        while position < len(tokens) and tokens[position] != ")":
            node = tree
            while True:
                name = tokens[position]
                position += 1
                node = node.setdefault(name, {})
                if position < len(tokens) and tokens[position] in "./":
                    position += 1
                    continue
                break
            if position < len(tokens) and tokens[position] == "(":
                position += 1
                _merge(node, parse_list())
                position += 1
            if position < len(tokens) and tokens[position] == ",":
                position += 1
        return tree

    return parse_list()


def _merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        _merge(target.setdefault(key, {}), value)


def apply_mask(value: Any, mask: dict[str, Any]) -> Any:
    """Keep only the masked fields of a JSON value."""
    if not mask or "*" in mask:
        return value
    if isinstance(value, list):
        return [apply_mask(item, mask) for item in value]
    if isinstance(value, dict):
        return {key: apply_mask(value[key], sub) for key, sub in mask.items() if key in value}
    return value


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, lets the emulator answer, writes the answer (or drops the connection)."""

    protocol_version = "HTTP/1.1"
    # One buffered write per answer, sent at once: headers and body in separate small segments
    # would wait for the client's delayed ACK (40 ms per request).
    wbufsize = -1
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Stay quiet: the emulator keeps its own log."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        outcome = self.server.emulator.handle(self.command, self.path, body)  # type: ignore[attr-defined]
        if outcome is _DROP:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status, headers, payload = outcome
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
