"""Planning a write: which sheet parts to write, which existing sheets they replace, and whether
their content changed at all.

Each written sheet carries a digest of what was written in an ignorable attribute of its root
element (Markup Compatibility: Excel, LibreOffice and openpyxl skip it, and any of them drops it
when it rewrites the sheet). A later write of the same content finds matching digests by inflating
a few hundred bytes per sheet and leaves the file alone.

A sheet part whose zip entry carries an append mark (:mod:`.append`) and whose recorded rows are
still the first rows of the new content is planned as an extension: the digest of those first rows is
taken on the way through the full digest, so growing a sheet costs one pass over its rows, as before.

A sheet with more rows than the grid holds continues on ``"<name> 2"``, ``"<name> 3"`` ... with the
header repeated. Continuation sheets left over from an earlier, longer write are emptied to their
header row rather than deleted: deleting would shift sheet positions that sheet-local names and the
active tab refer to, and break formulas pointing at them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ...sheets import MAX_COLUMNS, BarChart, Column, OutputSheet
from .append import AppendMark, read_mark
from .package import WorkbookFormatError, ZipSource, attributes, namespace_prefix, root_element
from .workbook import CT_WORKSHEET, SHEETBILL_NS, SheetEntry, WorkbookParts, column_letter, parse_cell_ref

#: Bump when the generated XML changes, so digests of older output no longer match.
_FORMAT_VERSION = 2

_BAD_SHEET_NAME_CHARS = frozenset("[]:*?/\\")
_DIGEST_HEAD_BYTES = 4096
_DIGEST_BATCH = 4096

MIN_WIDTH = {"text": 10, "int": 8, "money": 13, "decimal": 10, "percent": 9, "date": 11}

_CONTROL_CHARACTER = re.compile("[\x00-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass
class PlannedSheet:
    """One sheet part to write: an output sheet, one of its continuation sheets, or a stale
    continuation sheet being emptied to its header.

    `continues` names the output sheet a continuation sheet belongs to; `digest` fingerprints
    the content, `stored_digest` is the one found in the sheet this job replaces; `extends` is the
    append mark of that sheet's part when its recorded rows are the first rows of this content.
    `head` and `chain` are the digest chain's first link and its link after the last whole batch of
    rows, and `kept_as` the context of the output's kept rows (:class:`~sheetbill.sheets.KeptRows`),
    for the part's new append mark.
    """

    name: str
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[object]]
    chart: BarChart | None
    continues: str | None
    existing: SheetEntry | None
    digest: str
    stored_digest: str | None = None
    part: str = ""
    position: int = -1
    drawing_rel_id: str | None = None
    stamp: str | None = None
    extends: AppendMark | None = None
    head: bytes = b""
    chain: bytes = b""
    kept_as: str = ""

    @property
    def last_cell(self) -> str:
        """The bottom-right cell of the table, e.g. ``"K1001"``."""
        return f"{column_letter(len(self.columns))}{len(self.rows) + 1}"


def _check_sheet_name(name: str) -> None:
    """Refuse names Excel would reject (or, for "History", reserve)."""
    problem = None
    if not name or len(name) > 31:
        problem = "must be 1 to 31 characters long"
    elif any(char in _BAD_SHEET_NAME_CHARS for char in name):
        problem = "must not contain any of [ ] : * ? / \\"
    elif name[0] == "'" or name[-1] == "'":
        problem = "must not begin or end with an apostrophe"
    elif name.casefold() == "history":
        problem = "is reserved by Excel"
    elif _CONTROL_CHARACTER.search(name):
        problem = "contains a control character"
    if problem:
        raise ValueError(f"sheet name {name!r} {problem}")


def _check_columns(sheet: OutputSheet) -> None:
    """Refuse columns the writer cannot write: unknown kinds, bad widths, chart columns out of range."""
    if not sheet.columns or len(sheet.columns) > MAX_COLUMNS:
        raise ValueError(f"sheet {sheet.name!r} must have 1 to {MAX_COLUMNS} columns")
    for column in sheet.columns:
        if column.kind not in MIN_WIDTH:
            raise ValueError(
                f"sheet {sheet.name!r}: column {column.header!r} has unknown kind {column.kind!r}"
            )
        if column.width is not None and not 0 < column.width <= 255:
            raise ValueError(f"sheet {sheet.name!r}: column {column.header!r} width must be in (0, 255]")
    chart = sheet.chart
    if chart is not None:
        indexes = (chart.category_column, *chart.value_columns)
        if not all(0 <= index < len(sheet.columns) for index in indexes):
            raise ValueError(f"sheet {sheet.name!r}: chart columns out of range")
        parse_cell_ref(chart.anchor)


def _head(identity: tuple[object, ...]) -> bytes:
    """The start of a sheet part's digest chain: everything that determines its XML besides its rows."""
    return hashlib.sha256(repr((_FORMAT_VERSION, *identity)).encode()).digest()


def _linked(link: bytes, rows: Sequence[Sequence[object]]) -> bytes:
    """The chain after ``link`` and ``rows`` (a whole batch, or the rest after the last whole batch)."""
    return hashlib.sha256(link + repr(_listed(rows)).encode("utf-8", "backslashreplace")).digest()


def _closed(link: bytes, rest: Sequence[Sequence[object]]) -> str:
    """The digest of a part whose whole batches end in ``link`` and whose other rows are ``rest``."""
    return _linked(link, rest).hex() if len(rest) else link.hex()


def _digest(link: bytes, rows: Sequence[Sequence[object]], prefix: int | None = None, start: int = 0
            ) -> tuple[str, str | None, bytes]:
    """A fingerprint of a sheet part's XML: of its identity (``link`` is :func:`_head`'s, or with
    ``start`` the chain after the first ``start`` rows, a multiple of :data:`_DIGEST_BATCH`) and its
    ``rows``; the fingerprint the part with only the first ``prefix`` rows would have (None when there
    are fewer rows, or ``prefix`` is before ``start``); and the chain after its last whole batch.

    A chain over batches of 4,096 rows: each link is SHA-256 of the link before and the ``repr`` of a
    batch (hashing a ``repr`` runs in C and costs a fraction of rendering; types stay distinct: ``1``,
    ``1.0`` and ``Decimal('1')``, and a difference only makes us rewrite). The digest is the last link,
    hashed with the rows after it when there are any. So the digest of a grown part goes on from the
    chain its last write recorded (:class:`.append.AppendMark`) without its earlier rows, and the
    prefix's digest branches off within a single batch.
    """
    if prefix is not None and not start <= prefix <= len(rows):
        prefix = None
    whole = len(rows) - len(rows) % _DIGEST_BATCH
    prefix_digest = None
    for at in range(start, whole, _DIGEST_BATCH):
        if prefix is not None and at <= prefix < at + _DIGEST_BATCH:
            prefix_digest = _closed(link, rows[at:prefix])
        link = _linked(link, rows[at:at + _DIGEST_BATCH])
    if prefix is not None and prefix >= whole:
        prefix_digest = _closed(link, rows[whole:prefix])
    return _closed(link, rows[whole:]), prefix_digest, link


def _listed(rows: Sequence[Sequence[object]]) -> list | tuple:
    """``rows`` as a list (a slice of a list or tuple is one already; a view such as
    :class:`sheetbill.outputs.LineRows` makes its rows), so that equal rows are spelled alike."""
    return rows if isinstance(rows, (list, tuple)) else list(rows)


def stored_marks(source: ZipSource, sheet: SheetEntry) -> dict[str, str]:
    """sheetbill's attributes (``digest``, ``continues``) on an existing sheet part's root element,
    read from the first few kilobytes of the part; empty for sheets sheetbill did not write."""
    if source.find(sheet.part) is None:
        return {}
    head = source.read_head(sheet.part, _DIGEST_HEAD_BYTES).decode("utf-8", "replace")
    try:
        _, _, root_tag = root_element(head)
    except WorkbookFormatError:
        return {}
    prefix = namespace_prefix(root_tag, SHEETBILL_NS)
    if not prefix:
        return {}
    return {name.partition(":")[2]: value for name, value in attributes(root_tag).items()
            if name.startswith(f"{prefix}:")}


def plan_sheets(sheets: Sequence[OutputSheet], book: WorkbookParts, max_rows: int, stamp: str | None = None,
          stamp_sheet: str = "") -> list[PlannedSheet]:
    """Split the output sheets into sheet parts and match them to the sheets they replace.

    The job of ``stamp_sheet`` carries ``stamp`` (see :func:`read_stamp`), which counts as content. The
    rows an output sheet's :class:`~sheetbill.sheets.KeptRows` names are not looked at where their parts
    are as this writer left them (:func:`_kept_parts`): the digest goes on from each part's recorded chain."""
    existing = {sheet.name.casefold(): sheet for sheet in book.sheets}
    per_sheet = max_rows - 1
    jobs: list[PlannedSheet] = []

    def add(name: str, output: OutputSheet, rows: Sequence[Sequence[object]], chart: BarChart | None,
            continues: str | None, marks: dict[str, str] | None = None, kept: bool = False) -> None:
        sheet = existing.get(name.casefold())
        if sheet is not None and sheet.content_type != CT_WORKSHEET:
            raise ValueError(f"sheet {name!r} exists and is not a worksheet; it cannot be replaced")
        if marks is None:
            marks = stored_marks(book.source, sheet) if sheet else {}
        own_stamp = stamp if stamp and not continues and name.casefold() == stamp_sheet.casefold() else None
        mark = read_mark(book.source.find(sheet.part)) if sheet else None
        head = _head((name, output.columns, chart, continues, book.date1904, own_stamp))
        if kept and mark is not None and mark.digest_head == head.hex() and 0 < mark.rows <= len(rows):
            # the part's rows are the first rows here, as written: the chain goes on after them
            start = mark.rows - mark.rows % _DIGEST_BATCH
            digest, _, chain = _digest(bytes.fromhex(mark.digest_chain), rows, None, start) if len(rows) > mark.rows \
                else (mark.digest, None, bytes.fromhex(mark.digest_chain))
            prefix_digest: str | None = mark.digest
        else:
            digest, prefix_digest, chain = _digest(head, rows, mark.rows if mark else None)
        jobs.append(PlannedSheet(name, output.columns, rows, chart, continues, sheet, digest, marks.get("digest"),
                                 stamp=own_stamp, extends=mark if mark and prefix_digest == mark.digest else None,
                                 head=head, chain=chain, kept_as=output.kept.context if output.kept else ""))

    bases: list[tuple[str, int, OutputSheet]] = []
    for output in sheets:
        _check_sheet_name(output.name)
        _check_columns(output)
        rows = output.rows if isinstance(output.rows, Sequence) else list(output.rows)
        base = existing.get(output.name.casefold())
        base_name = base.name if base else output.name
        parts = max(1, -(-len(rows) // per_sheet))
        bases.append((base_name, parts, output))
        kept = _kept_parts(output, base_name, existing, book, per_sheet)
        add(base_name, output, rows if parts == 1 else rows[:per_sheet], output.chart, None, kept=0 in kept)
        for index in range(1, parts):
            name = f"{base_name} {index + 1}"
            _check_sheet_name(name)
            add(name, output, rows[index * per_sheet : (index + 1) * per_sheet], None, base_name, kept=index in kept)
    names = {job.name.casefold() for job in jobs}
    if len(names) != len(jobs):
        raise ValueError("output sheet names must be unique (ignoring case), continuation sheets included")
    for base_name, parts, output in bases:
        pattern = re.compile(re.escape(base_name) + r" ([0-9]+)", re.IGNORECASE)
        for sheet in book.sheets:
            match = pattern.fullmatch(sheet.name)
            if not match or int(match.group(1)) <= parts or sheet.name.casefold() in names:
                continue
            marks = stored_marks(book.source, sheet)
            if marks.get("continues", "").casefold() == base_name.casefold():
                add(sheet.name, output, (), None, base_name, marks)
    return jobs


def _kept_parts(output: OutputSheet, base_name: str, existing: dict[str, SheetEntry], book: WorkbookParts,
                per_sheet: int) -> frozenset[int]:
    """The parts (0 for the sheet, 1 for its first continuation sheet, ...) whose rows are the first rows
    the output puts in them, as this writer wrote them: every part the output's kept rows were read from
    (the sheet and its continuation sheets, in order, as a read joins them) has an intact append mark
    written under the output's context, their rows add up to the kept rows, and each holds the rows the
    output puts in it (every part before the last one with rows is full). Empty otherwise."""
    kept = output.kept
    if kept is None or kept.count <= 0 or not kept.context:
        return frozenset()
    found: list[int] = []
    held, number = 0, 1
    while (sheet := existing.get((base_name if number == 1 else f"{base_name} {number}").casefold())) is not None:
        mark = read_mark(book.source.find(sheet.part))
        if mark is None or mark.kept_as != kept.context or (mark.rows and held != (number - 1) * per_sheet):
            return frozenset()
        if mark.rows:
            found.append(number - 1)
        held += mark.rows
        number += 1
    return frozenset(found) if held == kept.count else frozenset()
