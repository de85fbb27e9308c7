"""History tables longer than a sheet: "Invoice Lines" continues on "Invoice Lines 2", "Invoice Lines 3", ...

Excel's grid ends at 1,048,576 rows, so an output table with more rows is written on continuation sheets
(each repeating the header). Reading it back, :func:`merge_continuations` joins them into one table.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

from .cells import normalize
from .sheets import CellValue, KnownRows, LazyRows, RawSheet


def merge_continuations(sheets: Mapping[str, RawSheet], name: str) -> RawSheet | None:
    """One sheet of a table that continues on ``"<name> 2"``, ``"<name> 3"``, ... (beyond the grid).

    Continuation sheets repeat the header; their rows are appended in order. Problem rows of the
    continuation refer to the first sheet's numbering plus offset, which is acceptable for output
    sheets (their rows are not typed by staff).
    """
    parts = _table_sheets(sheets, name)
    return None if parts is None else _merged(parts)


def known_table(sheets: Mapping[str, RawSheet], name: str) -> RawSheet | None:
    """:func:`merge_continuations` of a table whose every sheet has :class:`~sheetbill.sheets.KnownRows`
    (so no rows are read); None when a sheet of it has none, or there is no such table."""
    parts = _table_sheets(sheets, name)
    return None if parts is None or any(part.known is None for part in parts) else _merged(parts)


def _table_sheets(sheets: Mapping[str, RawSheet], name: str) -> list[RawSheet] | None:
    """The sheet ``name`` and its continuation sheets, in order, each looked up once; None without it."""
    names = {normalize(n): n for n in sheets}
    if normalize(name) not in names:
        return None
    parts = [sheets[names[normalize(name)]]]
    number = 2
    while (key := normalize(f"{name} {number}")) in names:
        parts.append(sheets[names[key]])
        number += 1
    return parts


def _merged(parts: Sequence[RawSheet]) -> RawSheet:
    """The table of ``parts`` (a sheet and its continuations) as one sheet: with their rows read only when
    asked for and :class:`_KnownParts` when each has KnownRows, else with their rows joined now."""
    first = parts[0]
    if len(parts) == 1:
        return first
    if all(part.known is not None for part in parts):
        return RawSheet(first.name, LazyRows(first.rows[0], lambda: _joined(parts)), first.first_row, first.first_col,
                        first.sheet, known=_KnownParts(parts))
    return RawSheet(first.name, _joined(parts), first.first_row, first.first_col, first.sheet)


def _joined(parts: Sequence[RawSheet]) -> list[Sequence[CellValue]]:
    """The rows of a table's sheets as one: the first sheet's, then each continuation's without its header."""
    rows: list[Sequence[CellValue]] = list(parts[0].rows)
    for part in parts[1:]:
        rows.extend(part.rows[1:])
    return rows


class _KnownParts:
    """The :class:`~sheetbill.sheets.KnownRows` of a table continued on other sheets, each of them known:
    only the last sheet may have grown since a read (the rows before it would move otherwise); a new or
    removed continuation sheet proves nothing."""

    def __init__(self, parts: Sequence[RawSheet]):
        self._known: list[KnownRows] = [part.known for part in parts if part.known is not None]

    def seen(self) -> tuple[Hashable, ...]:
        return tuple(known.seen() for known in self._known)

    def data_rows(self) -> int:
        return sum(known.data_rows() for known in self._known)

    def _before_last(self, seen: Hashable) -> int | None:
        """The data rows of every sheet but the last, when ``seen`` is a token of as many sheets and those
        sheets are the same as then; else None."""
        if not isinstance(seen, tuple) or len(seen) != len(self._known):
            return None
        before = 0
        for known, was in zip(self._known[:-1], seen[:-1], strict=True):
            if known.seen() != was:
                return None
            before += known.data_rows()
        return before

    def unchanged_since(self, seen: Hashable) -> int | None:
        if seen is None:  # no earlier read: every row is new, if every sheet can say so
            return 0 if all(known.unchanged_since(None) == 0 for known in self._known) else None
        before = self._before_last(seen)
        last = None if before is None else self._known[-1].unchanged_since(seen[-1])  # type: ignore[index]
        return None if last is None or before is None else before + last

    def rows_since(self, seen: Hashable) -> tuple[int, Sequence[Sequence[CellValue]]] | None:
        if seen is None:
            parts = [known.rows_since(None) for known in self._known]
            return None if any(part is None for part in parts) else \
                (0, _Joined([part[1] for part in parts if part is not None]))
        before = self._before_last(seen)
        last = None if before is None else self._known[-1].rows_since(seen[-1])  # type: ignore[index]
        return None if last is None or before is None else (before + last[0], last[1])


class _Joined(Sequence[Sequence[CellValue]]):
    """The rows of several sequences as one, each taken by slices (a front end's rows may be converted
    only when sliced)."""

    def __init__(self, parts: Sequence[Sequence[Sequence[CellValue]]]):
        self._parts = parts
        self._starts = [0]
        for part in parts:
            self._starts.append(self._starts[-1] + len(part))

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, index):  # type: ignore[override]
        if not isinstance(index, slice):
            return self[index:index + 1][0] if index >= 0 else self[len(self) + index]
        start, stop, step = index.indices(len(self))
        if step != 1:
            return [self[i] for i in range(start, stop, step)]
        rows: list[Sequence[CellValue]] = []
        for part, first in zip(self._parts, self._starts, strict=False):
            if first < stop and start < first + len(part):
                rows.extend(part[max(start - first, 0):stop - first])
        return rows
