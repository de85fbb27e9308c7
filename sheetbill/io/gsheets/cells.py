"""Cell values between Google's JSON and sheetbill: what a write sends (``valueInputOption=RAW``),
how a read becomes a :class:`~sheetbill.sheets.RawSheet`, and how two contents are compared."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ...sheets import RawSheet

_SERIAL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_EPOCH_DT = dt.datetime(1899, 12, 30)


def quote_title(title: str) -> str:
    """A sheet title quoted for A1 notation ("It's" -> "'It''s'")."""
    return "'" + title.replace("'", "''") + "'"


def _serial(value: dt.date | dt.datetime) -> int | float:
    """Google's serial number of a date (whole days) or datetime (day plus fraction)."""
    if isinstance(value, dt.datetime):
        days = (value.replace(tzinfo=None) - _SERIAL_EPOCH_DT) / dt.timedelta(days=1)
        return int(days) if days.is_integer() else days
    return (value - _SERIAL_EPOCH).days


def cell_json(value: object) -> Any:
    """An output value as written with valueInputOption=RAW, and as Google then reads it back.

    Text stays text (a leading "=" included), numbers are JSON numbers (whole ones as integers,
    the way Google returns them), dates are serial day numbers shown by a date format, and an
    empty cell is "".
    """
    if value is None:
        return ""
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, (dt.date, dt.datetime)):
        return _serial(value)
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    return str(value)


def trimmed(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows without trailing empty cells or trailing empty rows: how Google returns values."""
    out = []
    for row in rows:
        end = len(row)
        while end and row[end - 1] == "":
            end -= 1
        out.append(list(row[:end]))
    while out and not out[-1]:
        out.pop()
    return out


def raw_sheet(title: str, values: Sequence[Sequence[Any]]) -> RawSheet:
    """A sheet's values (as batchGet returns them from A1) as a RawSheet for the core.

    Empty cells become None; numbers stay numbers (date columns hold serial numbers, which the
    core's coercion turns into dates) and text stays text. Leading empty rows and columns are
    dropped, and ``first_row``/``first_col`` say where the block starts.
    """
    rows = [[None if cell == "" else cell for cell in row] for row in values]
    first_row = 1
    while rows and all(cell is None for cell in rows[0]):
        rows.pop(0)
        first_row += 1
    skip = min(
        (next((i for i, c in enumerate(row) if c is not None), len(row)) for row in rows if row), default=0
    )
    if skip:
        rows = [row[skip:] for row in rows]
    return RawSheet(title, rows, first_row, skip + 1, title)


def same_types(left: Sequence[Sequence[Any]], right: Sequence[Sequence[Any]]) -> bool:
    """True unless a yes/no cell equals a number cell (Python's True == 1) somewhere."""
    for row_l, row_r in zip(left, right, strict=False):
        for a, b in zip(row_l, row_r, strict=False):
            if (a.__class__ is bool) != (b.__class__ is bool):
                return False
    return True
