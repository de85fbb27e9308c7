"""A minimal stand-in for the part of the xlwings object graph sheetbill.excel uses (Book, Sheets, Sheet,
Range, App), because no Excel runs on Linux. It is the one permitted stand-in; it mimics the real
behaviour that matters to the adapter and nothing more:

* ``Range.value`` returns a scalar for one cell and a flat list for one row unless ``ndim=2`` is
  given, as xlwings does; empty cells are ``None``; numbers are floats, dates datetimes.
* Assigning ``Range.value`` enters values as Excel does for ``Range.Value``: a leading apostrophe
  makes text and is not stored, ``=...`` becomes a formula, numeric text a number, date-like text a
  date, TRUE/FALSE a boolean.
* ``used_range`` is the block from the first to the last non-empty cell (A1 for an empty sheet).
* ``Sheet.freeze_panes.freeze_at`` raises ``NotImplementedError`` like the open-source engines, and
  there is no ``App.api`` (so freezing is skipped, as it may be on a platform it does not support).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field


@dataclass
class Cell:
    value: object = None
    formula: str | None = None
    number_format: str = "General"
    bold: bool = False
    color: tuple | None = None


def enter(text: object) -> tuple[object, str | None]:
    """What Excel stores for a value assigned to Range.Value: (value, formula)."""
    if not isinstance(text, str):
        return text, None
    if text.startswith("'"):
        return text[1:], None
    if text.startswith("="):
        return None, text
    stripped = text.strip()
    if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", stripped):
        return float(stripped), None
    if stripped.upper() in ("TRUE", "FALSE"):
        return stripped.upper() == "TRUE", None
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", stripped)
    if match:
        return dt.datetime(int(match[1]), int(match[2]), int(match[3])), None
    return (None if text == "" else text), None


class Font:
    def __init__(self, rng: Range):
        self._range = rng

    @property
    def bold(self) -> bool:
        return all(c.bold for c in self._range.cells())

    @bold.setter
    def bold(self, value: bool) -> None:
        for cell in self._range.cells(create=True):
            cell.bold = value


class FreezePanes:
    def freeze_at(self, frozen_range):
        raise NotImplementedError()


class Range:
    def __init__(self, sheet: Sheet, first: tuple[int, int], last: tuple[int, int] | None = None, **options):
        self.sheet, self.first, self.last = sheet, first, last or first
        self._options = options

    @property
    def row(self) -> int:
        return self.first[0]

    @property
    def column(self) -> int:
        return self.first[1]

    @property
    def shape(self) -> tuple[int, int]:
        return self.last[0] - self.first[0] + 1, self.last[1] - self.first[1] + 1

    def options(self, convert=None, **options) -> Range:
        return Range(self.sheet, self.first, self.last, **{**self._options, **options})

    def cells(self, create: bool = False):
        for r in range(self.first[0], self.last[0] + 1):
            for c in range(self.first[1], self.last[1] + 1):
                cell = self.sheet.cells.get((r, c))
                if cell is None and create:
                    cell = self.sheet.cells[(r, c)] = Cell()
                if cell is not None:
                    yield cell

    @property
    def value(self):
        rows, cols = self.shape
        empty = self._options.get("empty")
        table = []
        for r in range(rows):
            row = []
            for c in range(cols):
                cell = self.sheet.cells.get((self.first[0] + r, self.first[1] + c))
                value = None if cell is None else (cell.formula if cell.formula else cell.value)
                row.append(empty if value is None else value)
            table.append(row)
        if self._options.get("ndim") == 2:
            return table
        if rows == 1 and cols == 1:
            return table[0][0]
        if rows == 1:
            return table[0]
        if cols == 1:
            return [row[0] for row in table]
        return table

    @value.setter
    def value(self, data) -> None:
        if not isinstance(data, list):
            data = [[data]]
        elif data and not isinstance(data[0], list):
            data = [data]
        self.sheet.writes += 1
        for i, row in enumerate(data):
            for j, item in enumerate(row):
                cell = self.sheet.cells.setdefault((self.first[0] + i, self.first[1] + j), Cell())
                cell.value, cell.formula = enter(item)

    @property
    def number_format(self) -> str:
        return next(iter(self.cells()), Cell()).number_format

    @number_format.setter
    def number_format(self, value: str) -> None:
        for cell in self.cells(create=True):
            cell.number_format = value

    @property
    def font(self) -> Font:
        return Font(self)

    @property
    def color(self):
        return next(iter(self.cells()), Cell()).color

    @color.setter
    def color(self, value) -> None:
        for cell in self.cells(create=True):
            cell.color = value

    @property
    def column_width(self) -> float:
        return self.sheet.widths.get(self.first[1], 8.43)

    @column_width.setter
    def column_width(self, value: float) -> None:
        for c in range(self.first[1], self.last[1] + 1):
            self.sheet.widths[c] = value


@dataclass
class Sheet:
    name: str
    book: Book
    cells: dict = field(default_factory=dict)
    widths: dict = field(default_factory=dict)
    writes: int = 0

    def range(self, first, last=None) -> Range:
        return Range(self, first, last)

    @property
    def used_range(self) -> Range:
        filled = [key for key, cell in self.cells.items() if cell.value is not None or cell.formula]
        if not filled:
            return Range(self, (1, 1))
        rows, cols = [r for r, _ in filled], [c for _, c in filled]
        return Range(self, (min(rows), min(cols)), (max(rows), max(cols)))

    def clear_contents(self) -> None:
        for cell in self.cells.values():
            cell.value, cell.formula = None, None

    @property
    def freeze_panes(self) -> FreezePanes:
        return FreezePanes()

    def activate(self) -> None:
        self.book.sheets.active = self


class Sheets:
    def __init__(self, book: Book):
        self.book, self._sheets, self.active = book, [], None

    def __iter__(self):
        return iter(list(self._sheets))

    def __len__(self) -> int:
        return len(self._sheets)

    def __getitem__(self, key):
        if isinstance(key, int):
            return self._sheets[key]
        return next(s for s in self._sheets if s.name.casefold() == key.casefold())

    def add(self, name=None, before=None, after=None) -> Sheet:
        sheet = Sheet(name or f"Sheet{len(self._sheets) + 1}", self.book)
        index = self._sheets.index(after) + 1 if after is not None else 0
        self._sheets.insert(index, sheet)
        self.active = sheet
        return sheet


class App:
    def __init__(self):
        self.status_bar_history: list[object] = []
        self.alerts: list[dict] = []
        self.screen_updating = True

    @property
    def status_bar(self):
        return self.status_bar_history[-1] if self.status_bar_history else False

    @status_bar.setter
    def status_bar(self, value) -> None:
        self.status_bar_history.append(value)

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        return "ok"


class Book:
    def __init__(self, name: str = "billing.xlsm", fullname: str | None = None):
        self.name, self.fullname, self.app = name, fullname or name, App()
        self.sheets = Sheets(self)

    @classmethod
    def from_cells(cls, workbook: dict[str, list[list[object]]]) -> Book:
        """A book whose sheets hold ``workbook``'s cells as Excel would (typed values, no parsing)."""
        book = cls()
        for name, rows in workbook.items():
            sheet = book.sheets.add(name, after=book.sheets[len(book.sheets) - 1] if len(book.sheets) else None)
            for i, row in enumerate(rows, start=1):
                for j, value in enumerate(row, start=1):
                    if value is not None and value != "":
                        sheet.cells[(i, j)] = Cell(value)
        book.sheets.active = book.sheets[0]
        return book

    def table(self, name: str) -> list[list[object]]:
        """A sheet's stored values from A1 to the last used cell (formulas as ``{"formula": ...}``)."""
        sheet = self.sheets[name]
        used = sheet.used_range
        out = []
        for r in range(1, used.last[0] + 1):
            row = []
            for c in range(1, used.last[1] + 1):
                cell = sheet.cells.get((r, c))
                row.append(None if cell is None else ({"formula": cell.formula} if cell.formula else cell.value))
            out.append(row)
        return out
