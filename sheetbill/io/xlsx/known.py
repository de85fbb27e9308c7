"""Proving which rows of a sheet part sheetbill wrote are unchanged, and reading only the others.

A sheet part sheetbill writes carries an append mark (:mod:`.append`): its XML is deflated as a head
(root element, widths, header row), a rows segment and a tail, each ended by a full flush point, and a
later write that only adds rows copies the compressed rows segment as it is and deflates only the new
rows after it. So the compressed rows segment of a part that was only appended to *starts with* the
bytes of every earlier version's rows segment, and a full flush point stands at the end of each.

:class:`KnownPart` uses that for reading. Its :meth:`~KnownPart.seen` token is the rows segment's
compressed length, a digest of those bytes (with everything that decides what its cells read as: the
part's name, the styles part, the date system) and the data rows it holds. Given the token of an earlier
read, :meth:`~KnownPart.rows_since` checks that the segment still starts with those very bytes, ending
at a full flush point, and inflates and parses only the bytes after them: the rows appended since.
Equal bytes inflate to equal XML, so the earlier rows are what that read read; the caller takes their
outcomes from the run memo. The cells are typed as python-calamine types them (:func:`.sparse.cell_value`).

A part without an intact mark (another program saved the workbook), a head that is not a lone header row
at A1, cells that are not in consecutive rows after the earlier ones, a shared-string cell: the part is
not known, or :meth:`~KnownPart.rows_since` answers None, and the sheet is read in full as always.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from io import BytesIO

from ...sheets import CellValue
from .append import AppendMark, body_intact, read_mark
from .limits import MAX_PART_BYTES
from .package import ZipSource
from .sparse import date_reading, sheet_cells
from .workbook import WorkbookParts

#: The bytes a full flush point ends with: an empty stored block (its length 0 and its complement).
_FLUSH_END = b"\x00\x00\xff\xff"
_DIGEST_SIZE = 20


@dataclass(frozen=True)
class BodySeen:
    """What a read saw of a part's rows segment: its compressed ``length``, the ``digest`` of those
    bytes (keyed with the part's reading context) and the data ``rows`` it holds."""

    length: int
    digest: bytes
    rows: int


@dataclass(frozen=True)
class ReadingContext:
    """What, besides a part's own bytes, decides what its cells read as: a digest of the styles part and
    the date system (``context``), the cell formats that show dates (``date_styles``) and the epoch."""

    context: bytes
    date_styles: frozenset[int]
    epoch: object


class KnownPart:
    """A sheet part sheetbill wrote and may only have appended to since (see the module docstring).

    Made by :func:`known_part`; ``header`` is the part's header row (row 1 from column A), read from the
    head and tail segments alone.
    """

    def __init__(self, source: ZipSource, info: zipfile.ZipInfo, mark: AppendMark, reading: ReadingContext,
                 head: bytes, tail: bytes, header: list[CellValue]):
        self._source, self._info, self._mark, self._reading = source, info, mark, reading
        self._head, self._tail, self.header = head, tail, header
        self._key = hashlib.blake2b(info.filename.encode() + b"\0" + reading.context, digest_size=32).digest()
        self._now: BodySeen | None = None

    def _digests(self, length: int | None) -> tuple[bytes | None, bytes]:
        """The digest of the first ``length`` bytes of the rows segment (None when ``length`` is None) and
        of all of it, in one pass over the compressed bytes."""
        mark, digest = self._mark, hashlib.blake2b(key=self._key, digest_size=_DIGEST_SIZE)
        prefix, position = None, 0
        for chunk in self._source.raw_data(self._info, mark.head_end, mark.body_end):
            if length is not None and prefix is None and position <= length <= position + len(chunk):
                cut = length - position
                digest.update(chunk[:cut])
                prefix = digest.copy().digest()
                digest.update(chunk[cut:])
            else:
                digest.update(chunk)
            position += len(chunk)
        if length == 0:
            prefix = hashlib.blake2b(key=self._key, digest_size=_DIGEST_SIZE).digest()
        return prefix, digest.digest()

    def seen(self) -> BodySeen:
        """The token of the rows segment as it is now."""
        if self._now is None:
            _, full = self._digests(None)
            self._now = BodySeen(self._mark.body_end - self._mark.head_end, full, self._mark.rows)
        return self._now

    def data_rows(self) -> int:
        """The data rows the part holds (its append mark counts them)."""
        return self._mark.rows

    def unchanged_since(self, seen: object) -> int | None:
        """``seen.rows`` when the rows segment starts with the bytes ``seen`` describes, ending at a full
        flush point; else None. Nothing is inflated."""
        mark = self._mark
        if not isinstance(seen, BodySeen) or not 0 <= seen.length <= mark.body_end - mark.head_end \
                or not 0 <= seen.rows <= mark.rows:
            return None
        prefix, full = self._digests(seen.length)
        if self._now is None:
            self._now = BodySeen(mark.body_end - mark.head_end, full, mark.rows)
        if prefix != seen.digest:
            return None
        start = mark.head_end + seen.length
        if seen.length and b"".join(self._source.raw_data(self._info, start - len(_FLUSH_END), start)) != _FLUSH_END:
            return None
        return seen.rows

    def rows_since(self, seen: object) -> tuple[int, list[list[CellValue]]] | None:
        """(``seen.rows``, the data rows after them, each as wide as the header or wider), when the rows
        segment starts with the bytes ``seen`` describes, ending at a full flush point; else None."""
        if self.unchanged_since(seen) is None:
            return None
        assert isinstance(seen, BodySeen)  # checked by unchanged_since
        mark = self._mark
        start = mark.head_end + seen.length
        added = _inflate(self._source.raw_data(self._info, start, mark.body_end), mark.body_size)
        if added is None:
            return None
        rows = _rows(self._head + added + self._tail, self._reading)
        if rows is None or rows.get(1) != self.header:
            return None
        first, count = seen.rows + 2, mark.rows - seen.rows  # sheet rows: the header is row 1
        if any(not first <= number < first + count for number in rows if number != 1):
            return None
        width = len(self.header)
        return seen.rows, [_padded(rows.get(number, []), width) for number in range(first, first + count)]


def reading_context(book: WorkbookParts) -> ReadingContext:
    """The reading context of a workbook's sheet parts (see :class:`ReadingContext`)."""
    styles, date_styles, epoch = date_reading(book)
    digest = hashlib.blake2b(b"1904" if book.date1904 else b"1900", digest_size=32)
    if styles is not None and book.source.find(styles) is not None:
        digest.update(book.source.read(styles))
    return ReadingContext(digest.digest(), date_styles, epoch)


def known_part(source: ZipSource, part: str, reading: ReadingContext) -> KnownPart | None:
    """The part ``part`` as a :class:`KnownPart`, when its append mark is intact and its head holds a lone
    header row at A1 (and nothing else is in head and tail); else None."""
    info = source.find(part)
    mark = read_mark(info)
    if info is None or mark is None or info.file_size > MAX_PART_BYTES or not body_intact(source, info, mark):
        return None
    head = _inflate(source.raw_data(info, 0, mark.head_end), mark.head_size)
    tail = _inflate(source.raw_data(info, mark.body_end), info.file_size - mark.head_size - mark.body_size)
    if head is None or tail is None:
        return None
    rows = _rows(head + tail, reading)
    if rows is None or list(rows) != [1] or not rows[1] or rows[1][0] is None:
        return None
    return KnownPart(source, info, mark, reading, head, tail, rows[1])


def _inflate(chunks, limit: int) -> bytes | None:
    """The raw deflate data ``chunks`` inflated (at most ``limit`` bytes), None when it is not clean."""
    inflater, out, size = zlib.decompressobj(-zlib.MAX_WBITS), [], 0
    try:
        for chunk in chunks:
            data = inflater.decompress(chunk, limit - size + 1)
            if inflater.unconsumed_tail:
                return None
            size += len(data)
            if size > limit:
                return None
            out.append(data)
    except zlib.error:
        return None
    return b"".join(out)


def _rows(xml: bytes, reading: ReadingContext) -> dict[int, list[CellValue]] | None:
    """The cells of a worksheet's XML by sheet row (1-based), each row's cells from column A; None when it
    is not well-formed, or a cell is a shared string or stands outside its row or its order."""
    rows: dict[int, list[CellValue]] = {}
    try:
        for cell in sheet_cells(BytesIO(xml), (), reading.date_styles, reading.epoch):  # type: ignore[arg-type]
            cells = rows.setdefault(cell.in_row + 1, [])
            if cell.kind == "s" or cell.row != cell.in_row or cell.column < len(cells):
                return None
            cells.extend([None] * (cell.column - len(cells)))
            cells.append(None if cell.value == "" else cell.value)  # "" as the full read has it (read._read_grid)
    except Exception:  # noqa: BLE001 - anything unexpected: the sheet is read in full instead
        return None
    return {number: _trimmed(cells) for number, cells in rows.items()}


def _trimmed(cells: list[CellValue]) -> list[CellValue]:
    while cells and cells[-1] is None:
        cells.pop()
    return cells


def _padded(cells: Sequence[CellValue], width: int) -> list[CellValue]:
    return list(cells) + [None] * (width - len(cells))
