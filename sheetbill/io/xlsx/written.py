"""The sheets a write just wrote, with the rows it appended as a read would give them, without reading them.

A run reads the history sheets sheetbill wrote only where they grew (:mod:`.known`), so the rows the
*last* run appended are the only ones a run reads and parses. The run that appended them had them in
hand: :class:`WrittenPart` is the :class:`~sheetbill.sheets.KnownRows` of a sheet part as the writer
just wrote it, whose :meth:`~WrittenPart.rows_since` gives the rows after an earlier read's token (every
row, for ``None``: a part written whole) from the values the writer rendered, typed as python-calamine
reads them back (:func:`read_back`), instead of inflating and parsing the part. The core hands those
rows to the run memo (:mod:`sheetbill.handover`), so the next run reads none of them.

The proof that the part's first rows are those an earlier read saw is the part's own
(:meth:`.known.KnownPart.unchanged_since`); the rows after them are the rows the writer was given for
the part, which the part holds when it holds as many rows and the file is the one the write made.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Hashable, Iterator, Mapping, Sequence
from decimal import Decimal

from ...sheets import CellValue, Column, RawSheet
from .known import KnownPart
from .render import date_serial, plain_value
from .sparse import moment

#: The column kinds written with a date format: a number there reads back as a date.
_DATE_KINDS = frozenset({"date"})
#: Cell values a column of numbers and texts may hold, and those of them read back as they are.
_NUMBERS_AND_TEXT = frozenset({str, Decimal, int, float, bool})
_AS_IS = frozenset({str, bool, float})
#: The value types the writer writes as they are (others as their plain value, :func:`.render.plain_value`).
_PLAIN = frozenset({str, Decimal, int, float, bool, dt.date, dt.datetime})
#: Characters the writer escapes as ``_xHHHH_`` above U+00FF, which python-calamine does not decode.
_ESCAPED_ABOVE_FF = re.compile("[\ufffe\uffff]")


class WrittenPart:
    """A :class:`~.known.KnownPart` the writer just wrote with ``rows`` (its data rows as rendered, of
    ``columns``), in a workbook of date system ``date1904``."""

    def __init__(self, part: KnownPart, rows: Sequence[Sequence[object]], columns: Sequence[Column],
                 date1904: bool):
        self._part, self._rows, self._columns, self._date1904 = part, rows, columns, date1904
        self.header = part.header

    def seen(self) -> Hashable:
        return self._part.seen()

    def data_rows(self) -> int:
        return self._part.data_rows()

    def unchanged_since(self, seen: Hashable) -> int | None:
        return 0 if seen is None else self._part.unchanged_since(seen)

    def rows_since(self, seen: Hashable) -> tuple[int, list[tuple[CellValue, ...]]] | None:
        """(the rows unchanged since ``seen``, the rows after them as a read gives them); ``seen`` None
        counts none unchanged. None when the part does not hold the rows written or a value would not
        read back as :func:`read_back` says."""
        before = self.unchanged_since(seen)
        if before is None or self._part.data_rows() != len(self._rows):
            return None
        added = read_back(self._rows[before:], self._columns, self._date1904)
        if added is None or len(self._columns) != len(self.header):
            return None
        return before, added


def read_back(rows: Sequence[Sequence[object]], columns: Sequence[Column], date1904: bool
              ) -> list[tuple[CellValue, ...]] | None:
    """``rows`` as rendered (:mod:`.render`) and read back by python-calamine, as wide as ``columns``: an
    empty text is an empty cell, numbers are floats, dates are what their serial numbers read as. None when
    a value is of another type (a subclass, a datetime) or a number stands in a date column: those are
    read, not predicted. Column by column, each column's types looked at once."""
    width = len(columns)
    if not rows:
        return []
    if any(length != width for length in set(map(len, rows))):
        if max(map(len, rows)) > width:
            return None
        rows = [list(row) + [None] * (width - len(row)) for row in rows]
    read: list[Sequence[CellValue]] = []
    for column, cells in zip(columns, zip(*rows, strict=True), strict=True):
        kinds = set(map(type, cells)) - {type(None)}
        if not kinds <= _PLAIN:  # subclasses (a StrEnum) are written as their plain value
            try:
                cells = [value if value is None or value.__class__ in _PLAIN else plain_value(value, "")
                         for value in cells]
            except TypeError:
                return None
            kinds = set(map(type, cells)) - {type(None)}
        if not kinds:
            read.append(cells)
        elif kinds == {str}:
            if _ESCAPED_ABOVE_FF.search("".join(filter(None, cells))):
                return None
            read.append([None if value == "" else value for value in cells] if "" in cells else cells)
        elif kinds == {dt.date}:
            days = _days_read(cells, date1904)
            if days is None:
                return None
            read.append(days)
        elif column.kind in _DATE_KINDS or not kinds <= _NUMBERS_AND_TEXT:
            return None  # a number in a date column reads as a date; other types are not predicted
        elif kinds <= {float, bool}:
            read.append(cells)
        elif kinds <= {Decimal, int, float}:  # equal numbers read alike: each distinct one converted once
            floats = {value: None if value is None else float(value) for value in set(cells)}
            if 0 in floats:  # but 0 and -0 are equal, and read as 0.0 and -0.0
                read.append([floats[value] if value else None if value is None else float(value) for value in cells])
            else:
                read.append(list(map(floats.__getitem__, cells)))
        else:
            if _ESCAPED_ABOVE_FF.search("".join(value for value in cells if value.__class__ is str)):
                return None
            read.append([value if value.__class__ in _AS_IS and value != "" else None if value in (None, "")
                         else float(value) for value in cells])
    return list(zip(*read, strict=True))


def _days_read(cells: Sequence[object], date1904: bool) -> list[CellValue] | None:
    """A column of dates (and blanks) as their serial numbers read back; None when one cannot be written."""
    epoch = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    days: dict[object, CellValue] = {None: None}
    try:
        for value in set(cells) - {None}:
            days[value] = moment(float(date_serial(value, date1904, "")), epoch)  # type: ignore[arg-type]
    except ValueError:  # before the date system's first day: the write refused it
        return None
    return [days[value] for value in cells]


class WrittenSheets(Mapping[str, RawSheet]):
    """The sheets of a workbook file as a write just left it (``sheets``, read with known parts), the parts
    the write rendered (``rendered``: by sheet name, casefolded, the rows and columns) as
    :class:`WrittenPart`."""

    def __init__(self, sheets: Mapping[str, RawSheet], rendered: Mapping[str, tuple[Sequence, Sequence[Column]]],
                 date1904: bool):
        self._sheets, self._rendered, self._date1904 = sheets, rendered, date1904

    def __getitem__(self, name: str) -> RawSheet:
        sheet = self._sheets[name]
        written = self._rendered.get(sheet.name.casefold())
        if written is None or not isinstance(sheet.known, KnownPart):
            return RawSheet(sheet.name, sheet.rows, sheet.first_row, sheet.first_col, sheet.sheet)
        rows, columns = written
        return RawSheet(sheet.name, sheet.rows, sheet.first_row, sheet.first_col, sheet.sheet,
                        known=WrittenPart(sheet.known, rows, columns, self._date1904))

    def __iter__(self) -> Iterator[str]:
        return iter(self._sheets)

    def __len__(self) -> int:
        return len(self._sheets)
