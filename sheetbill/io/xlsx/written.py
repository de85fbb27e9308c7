"""The sheets a write just wrote, with the rows it appended as a read would give them, without reading them.

A run reads the history sheets sheetbill wrote only where they grew (:mod:`.known`), so the rows the
*last* run appended are the only ones a run reads and parses. The run that appended them had them in
hand: :class:`WrittenPart` is the :class:`~sheetbill.sheets.KnownRows` of a sheet part as the writer
just wrote it, whose :meth:`~WrittenPart.rows_since` gives the rows after an earlier read's token (every
row, for ``None``: a part written whole) from the values the writer rendered, typed as python-calamine
reads them back (:func:`column_plans`), instead of inflating and parsing the part. The core hands those
rows to the run memo (:mod:`sheetbill.handover`), so the next run reads none of them.

The proof that the part's first rows are those an earlier read saw is the part's own
(:meth:`.known.KnownPart.unchanged_since`); the rows after them are the rows the writer was given for
the part, which the part holds when it holds as many rows and the file is the one the write made.
"""

from __future__ import annotations

import datetime as dt
import numbers
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

    def rows_since(self, seen: Hashable) -> tuple[int, Sequence[tuple[CellValue, ...]]] | None:
        """(the rows unchanged since ``seen``, the rows after them as a read gives them); ``seen`` None
        counts none unchanged. None when the part does not hold the rows written or a value would not
        read back as :func:`column_plans` says. The rows after them are converted a slice at a time, when
        asked for (:class:`_ReadBack`)."""
        before = self.unchanged_since(seen)
        if before is None or self._part.data_rows() != len(self._rows) or len(self._columns) != len(self.header):
            return None
        rows = self._rows[before:]
        plans = column_plans(rows, self._columns)
        return None if plans is None else (before, _ReadBack(rows, plans, self._date1904))


#: How a column's values read back (:func:`column_plans`): as they are, text (empty text is an empty
#: cell), numbers (as floats), dates (what their serial numbers read as), a mix of numbers and text, or
#: values of subclasses (their plain values, then as a mix).
_AS_WRITTEN, _TEXT, _NUMBERS, _DATES, _MIXED, _SUBCLASSES = range(6)
#: Rows looked at, and converted, at a time.
_SLICE_ROWS = 2048


def column_plans(rows: Sequence[Sequence[object]], columns: Sequence[Column]) -> list[int] | None:
    """How each column of ``rows`` (as rendered, :mod:`.render`) reads back in python-calamine, from the
    types of its values, a slice of rows at a time: an empty text is an empty cell, numbers are floats,
    dates are what their serial numbers read as, subclasses (a StrEnum) their plain values. None when a
    value is of another type (a datetime), a number stands in a date column or a text holds U+FFFE or
    U+FFFF: those are read, not predicted."""
    width = len(columns)
    kinds: list[set[type]] = [set() for _ in columns]
    for start in range(0, len(rows), _SLICE_ROWS):
        block = _padded(rows[start:start + _SLICE_ROWS], width)
        if block is None:
            return None
        for index, cells in enumerate(zip(*block, strict=True)):
            found = set(map(type, cells))
            kinds[index] |= found
            if any(issubclass(kind, str) for kind in found) and \
                    _ESCAPED_ABOVE_FF.search("".join(value for value in cells if isinstance(value, str))):
                return None
    plans = [_plan(found - {type(None)}, column) for found, column in zip(kinds, columns, strict=True)]
    return None if None in plans else plans  # type: ignore[return-value]


def _plan(kinds: set[type], column: Column) -> int | None:
    """The plan of a column whose values (blanks aside) are of the types ``kinds``."""
    if not kinds <= _PLAIN:
        plain = set(map(_plain_type, kinds))
        return _SUBCLASSES if None not in plain and column.kind not in _DATE_KINDS and \
            plain <= _NUMBERS_AND_TEXT else None
    if not kinds or (kinds <= {float, bool} and column.kind not in _DATE_KINDS):
        return _AS_WRITTEN
    if kinds == {str}:
        return _TEXT
    if kinds == {dt.date}:
        return _DATES
    if column.kind in _DATE_KINDS or not kinds <= _NUMBERS_AND_TEXT:
        return None  # a number in a date column reads as a date; a datetime or other type is not predicted
    return _NUMBERS if kinds <= {Decimal, int, float} else _MIXED


def _plain_type(kind: type) -> type | None:
    """The type of the plain value :func:`.render.plain_value` writes for a value of type ``kind``; None
    for a date or time, or a type it does not write."""
    if issubclass(kind, str):
        return str
    if issubclass(kind, (dt.date, dt.time)):
        return None
    if issubclass(kind, Decimal):
        return Decimal
    if issubclass(kind, numbers.Integral):
        return int
    return float if issubclass(kind, numbers.Real) else None


def _padded(rows: Sequence[Sequence[object]], width: int) -> Sequence[Sequence[object]] | None:
    """``rows`` each ``width`` wide (blanks added), None when one is wider."""
    lengths = set(map(len, rows))
    if lengths <= {width}:
        return rows
    return None if max(lengths) > width else [list(row) + [None] * (width - len(row)) for row in rows]


def _converted(rows: Sequence[Sequence[object]], plans: Sequence[int], date1904: bool,
               days: dict[object, CellValue]) -> list[tuple[CellValue, ...]]:
    """``rows`` read back by the column ``plans`` (``days``: dates read so far, shared between calls)."""
    block = _padded(rows, len(plans))
    if not block:
        return []
    read: list[Sequence[CellValue]] = []
    for plan, cells in zip(plans, zip(*block, strict=True), strict=True):
        if plan == _AS_WRITTEN:
            read.append(cells)
        elif plan == _TEXT:
            read.append([None if value == "" else value for value in cells] if "" in cells else cells)
        elif plan == _DATES:
            read.append(_days_read(cells, date1904, days))
        elif plan == _NUMBERS:  # equal numbers read alike: each distinct one converted once
            floats = {value: None if value is None else float(value) for value in set(cells)}
            if 0 in floats:  # but 0 and -0 are equal, and read as 0.0 and -0.0
                read.append([floats[value] if value else None if value is None else float(value) for value in cells])
            else:
                read.append(list(map(floats.__getitem__, cells)))
        else:
            if plan == _SUBCLASSES:
                cells = [value if value is None or value.__class__ in _PLAIN else plain_value(value, "")
                         for value in cells]
            read.append([value if value.__class__ in _AS_IS and value != "" else None if value in (None, "")
                         else float(value) for value in cells])
    return list(zip(*read, strict=True))


def _days_read(cells: Sequence[object], date1904: bool, days: dict[object, CellValue]) -> list[CellValue]:
    """A column of dates (and blanks) as their serial numbers read back."""
    epoch = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    days.setdefault(None, None)
    for value in set(cells).difference(days):
        days[value] = moment(float(date_serial(value, date1904, "")), epoch)  # type: ignore[arg-type]
    return [days[value] for value in cells]


class _ReadBack(Sequence[tuple[CellValue, ...]]):
    """Rows as read back by their column plans (:func:`column_plans`), a slice at a time when asked for, so
    that a million written rows are never held converted at once."""

    def __init__(self, rows: Sequence[Sequence[object]], plans: Sequence[int], date1904: bool):
        self._rows, self._plans, self._date1904 = rows, plans, date1904
        self._days: dict[object, CellValue] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return _converted(self._rows[index], self._plans, self._date1904, self._days)
        return _converted([self._rows[index]], self._plans, self._date1904, self._days)[0]

    def __iter__(self) -> Iterator[tuple[CellValue, ...]]:
        for start in range(0, len(self._rows), _SLICE_ROWS):
            yield from self[start:start + _SLICE_ROWS]


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
