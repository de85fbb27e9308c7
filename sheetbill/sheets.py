"""The neutral shapes in which front ends hand sheets to the core and take results back.

A front end (an .xlsx file, an Excel book through xlwings, a Google spreadsheet) reads each
sheet into a :class:`RawSheet`: the cell values exactly as the source holds them, plus where
the block of cells starts, so every Problem can name the real sheet row and column.  The core
answers with :class:`OutputSheet` objects: typed columns and rows of plain Python values, which
each front end writes in its own way (text always as text, never as a formula).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

#: A cell value as a front end hands it over. ``None`` or ``""`` is an empty cell. Numbers
#: arrive as ``int`` or ``float`` (never trusted as money until converted through ``str``),
#: dates as ``date`` or ``datetime`` when the source knows they are dates, else as serial
#: numbers or text; the core's coercion handles all of these.
CellValue = None | str | int | float | bool | _dt.date | _dt.datetime | _dt.time | Decimal

#: How an output column is shown: its number format and how its values are written.
ColumnKind = Literal["text", "int", "money", "decimal", "percent", "date"]

#: Excel's grid: rows and columns per sheet.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384


class KnownRows(Protocol):
    """What a front end proves about a sheet sheetbill wrote: which rows are the same as when it was
    read before. :meth:`seen` is a token of the sheet's data rows as they are now; given the token of
    an earlier read, :meth:`rows_since` says how many data rows are unchanged since then (the first
    ones) and gives the data rows after them, read; None when it cannot prove that the first rows
    are unchanged (another program saved the sheet, rows were rewritten, the token is not its own)."""

    def seen(self) -> Hashable:
        """The token of the sheet's data rows as they are now (picklable, compared by equality)."""

    def rows_since(self, seen: Hashable) -> tuple[int, Sequence[Sequence[CellValue]]] | None:
        """(data rows unchanged since the read that saw ``seen``, the data rows after them), or None.
        ``seen`` None stands for no earlier read: (0, every data row) from a front end that has the rows
        without reading them (a sheet it just wrote), None from others."""

    def unchanged_since(self, seen: Hashable) -> int | None:
        """The data rows unchanged since the read that saw ``seen`` (as :meth:`rows_since` counts them),
        without reading the rows after them; None when it cannot prove that."""

    def data_rows(self) -> int:
        """How many data rows the sheet holds now."""


class LazyRows(Sequence[Sequence[CellValue]]):
    """A sheet's rows whose header row is known at once and whose other rows are read by ``load`` the
    first time anything but the header is asked for (then kept). For sheets whose data rows a run may
    never need (:class:`KnownRows`)."""

    def __init__(self, header: Sequence[CellValue], load: Callable[[], Sequence[Sequence[CellValue]]]):
        self._header, self._load, self._rows = header, load, None

    def _all(self) -> Sequence[Sequence[CellValue]]:
        if self._rows is None:
            self._rows = self._load()
        return self._rows

    def __bool__(self) -> bool:
        return True

    def __getitem__(self, index):  # type: ignore[override]
        if index == 0 and not isinstance(index, slice):
            return self._header
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[Sequence[CellValue]]:
        return iter(self._all())


@dataclass(frozen=True)
class RawSheet:
    """One input block as read from a workbook.

    Attributes:
        name: the sheet's name as the workbook spells it (or the Excel table's name when the
            block came from a table that is not on a sheet of the same name).
        rows: the cells, row by row, starting with the header row. Rows may be ragged.
        first_row: the 1-based sheet row number of ``rows[0]`` (the header row).
        first_col: the 1-based sheet column number of ``rows[i][0]``.
        sheet: the name of the sheet that holds the block (for Problem locations).
        known: for a sheet sheetbill wrote and only appended to since, what the front end can prove
            about its rows without reading them (:class:`KnownRows`); None when it proves nothing.
    """

    name: str
    rows: Sequence[Sequence[CellValue]]
    first_row: int = 1
    first_col: int = 1
    sheet: str = ""
    known: KnownRows | None = None

    @property
    def location_sheet(self) -> str:
        """The sheet name Problems should cite."""
        return self.sheet or self.name


@dataclass(frozen=True)
class Column:
    """An output column: its header and how its values are formatted."""

    header: str
    kind: ColumnKind = "text"
    width: float | None = None


@dataclass(frozen=True)
class BarChart:
    """A clustered bar chart drawn beside an output table.

    Attributes:
        title: the chart title.
        category_column: 0-based index of the column holding the category labels.
        value_columns: 0-based indexes of the columns plotted as series (header = series name).
        anchor: the top-left cell of the chart, e.g. ``"H2"``.
    """

    title: str
    category_column: int
    value_columns: tuple[int, ...]
    anchor: str = "H2"


@dataclass(frozen=True)
class KeptRows:
    """What the core says of the first rows of an output sheet it read back as history: the first
    ``count`` rows are the data rows its sheet and continuation sheets held when the run read them, in
    order and each in its place, made again from what was read (so a front end that wrote them knows
    them without looking at them). ``context`` names everything besides a row's cells that the row's
    values depend on (the record type, the currency's spelling of amounts, sheetbill's version): a
    front end takes its rows as they stand only when it wrote them under the same ``context``, and
    records ``context`` with what it writes (``count`` 0: nothing is kept this time)."""

    count: int
    context: str


@dataclass(frozen=True)
class OutputSheet:
    """A sheet the core owns and a front end writes: header row plus one row per record.

    ``rows`` hold ``None``, ``str``, ``int``, ``Decimal``, ``date`` or ``bool`` values in column
    order. A front end writes strings as text (a leading ``=`` stays text), ``Decimal`` exactly,
    dates as dates with a date format, and freezes and bolds the header row. ``kept``: see
    :class:`KeptRows` (a front end may ignore it; the rows are the content either way).
    """

    name: str
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[object]] = field(default_factory=list)
    chart: BarChart | None = None
    kept: KeptRows | None = None

    @property
    def headers(self) -> list[str]:
        """The header row."""
        return [column.header for column in self.columns]
