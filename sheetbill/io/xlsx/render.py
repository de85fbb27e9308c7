"""Rendering a worksheet part: the head (frozen header, widths, bold header row), the data rows
and the tail, streamed as UTF-8, with a deflate flush point after the head and after the rows so a
later write can extend the part (:mod:`.append`).

Text is written as inline strings, so sharedStrings stays untouched and a text starting with ``=``
stays text. Dates and datetimes become Excel serial numbers in the workbook's date system.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from collections.abc import Iterator
from decimal import Decimal
from xml.sax.saxutils import quoteattr

from ...sheets import Column
from .deflate import FLUSH, RawSegment
from .package import XML_DECLARATION
from .plan import MIN_WIDTH, PlannedSheet
from .styles import StyleIds
from .workbook import DOC_REL_NS, MAIN_NS, MC_NS, SHEETBILL_NS, column_index, column_letter

_MAX_CELL_TEXT = 32_767

_ROWS_PER_CHUNK = 1024
#: The markup cached per distinct text or amount (:func:`_render_rows`) is let go, at the end of a chunk,
#: once there is more than this of it: most distinct texts of a large sheet are its IDs, each written
#: once, and kept all together they took 33 MiB at 100,000 charges (about ten times that at a million)
#: while the Invoice Lines were written, the peak of a first run.
_MARKUP_KEPT = 16_384

_EXCEL_EPOCH_1900 = _dt.date(1899, 12, 30).toordinal()
_EXCEL_EPOCH_1904 = _dt.date(1904, 1, 1).toordinal()

#: Text that needs escaping: markup characters, CR (XML would turn it into LF), characters XML 1.0
#: forbids, surrogates (refused), and literal ``_xHHHH_`` sequences Excel would otherwise decode.
_TEXT_NEEDS_CARE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")

_PLAIN_TYPES = frozenset({str, int, float, Decimal, bool, _dt.date, _dt.datetime})
#: Texts up to this length cannot exceed 32,767 UTF-16 code units, so need no length check.
_SHORT_TEXT = _MAX_CELL_TEXT // 2
#: Excel stores numbers as doubles: larger integers would silently lose their last digits.
_MAX_EXACT_INT = 2**53
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_EDGE_SPACE = " \t\n"


def _where(job: PlannedSheet, row: int, letter: str) -> str:
    """A cell's location for error messages."""
    header = job.columns[column_index(letter) - 1].header
    return f"sheet {job.name!r}, cell {letter}{row} (column {header!r})"


def _escape_cell_text(text: str, where: str) -> str:
    """Text as XML character data in Excel's conventions.

    ``& < >`` become entities; CR and characters XML 1.0 forbids become ``_xHHHH_``; a literal
    ``_xHHHH_`` becomes ``_x005F_xHHHH_`` so Excel does not decode it. Raises ValueError for more
    than 32,767 characters (counted in UTF-16, as Excel does) and for surrogate code points.
    """
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    if units > _MAX_CELL_TEXT:
        raise ValueError(f"{where}: text of {units:,} characters exceeds Excel's limit of 32,767 per cell")

    def replace(match: re.Match[str]) -> str:
        found = match.group()
        if found in _ENTITIES:
            return _ENTITIES[found]
        if len(found) > 1:
            return "_x005F" + found
        if "\ud800" <= found <= "\udfff":
            raise ValueError(f"{where}: text contains a lone surrogate (U+{ord(found):04X})")
        return f"_x{ord(found):04X}_"

    return _TEXT_NEEDS_CARE.sub(replace, text)


def date_serial(value: _dt.date, date1904: bool, where: str) -> int:
    """Excel's serial day number of a date, in the 1904 system or in the 1900 system with its
    phantom 1900-02-29 (serial 60), so 1900-03-01 is 61 and 1900-01-01 is 1."""
    if date1904:
        serial = value.toordinal() - _EXCEL_EPOCH_1904
        if serial < 0:
            raise ValueError(f"{where}: {value} is before 1904-01-01, the workbook's first date")
        return serial
    serial = value.toordinal() - _EXCEL_EPOCH_1900
    if serial < 61:
        serial -= 1
        if serial < 1:
            raise ValueError(f"{where}: {value} is before 1900-01-01, Excel's first date")
    return serial


def _datetime_serial(value: _dt.datetime, date1904: bool, where: str) -> str:
    """Excel's serial number (day plus fraction) of a naive datetime."""
    if value.utcoffset() is not None:
        raise ValueError(f"{where}: Excel has no time zones; convert {value} to a naive local time")
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return repr(date_serial(value.date(), date1904, where) + seconds / 86400)


def plain_value(value: object, where: str) -> object:
    """A subclass instance (IntEnum, StrEnum, numpy float ...) as its plain built-in value."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, _dt.datetime):
        return _dt.datetime.combine(value.date(), value.timetz())
    if isinstance(value, _dt.date):
        return _dt.date(value.year, value.month, value.day)
    if isinstance(value, Decimal):
        return Decimal(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(f"{where}: cannot write a {type(value).__name__} value ({value!r})")


# Longer than the package's 60-line limit on purpose: this is the per-cell hot loop, and splitting it
# into per-type functions would add a call per cell (see its docstring).
def _render_rows(job: PlannedSheet, styles: StyleIds, date1904: bool, first: int = 0) -> Iterator[bytes]:
    """The ``<row>`` elements of a job's data rows from index `first` on, UTF-8 encoded, a batch of
    rows at a time.

    This loop runs once per cell (11 million times for a full sheet of 11 columns), so it
    dispatches on the exact type inline instead of calling a function per cell.
    """
    width = len(job.columns)
    letters = [column_letter(number) for number in range(1, width + 1)]
    column_styles = [_style_attribute(styles.kinds[column.kind]) for column in job.columns]
    date_style = _style_attribute(styles.kinds["date"])
    datetime_style = _style_attribute(styles.kinds["datetime"])
    epoch, first_fast_serial = (_EXCEL_EPOCH_1904, 0) if date1904 else (_EXCEL_EPOCH_1900, 61)
    out: list[str] = []
    # The same few texts, amounts and dates fill most cells (IDs, reasons, prices, dates of
    # service): each one's markup is made once. Amounts are keyed by identity, not value, since
    # Decimal("80.0") == Decimal("80.00") but they are written differently; the rows keep them alive.
    text_markup: dict[str, str] = {}
    decimal_markup: dict[int, str] = {}
    date_markup: dict[_dt.date, str] = {}
    rows = job.rows if not first else job.rows[first:]  # a slice, not a walk past the rows before: see LineRows
    for number, row in enumerate(rows, start=first + 2):
        if len(row) > width:
            raise ValueError(f"sheet {job.name!r}, row {number}: {len(row)} values for {width} columns")
        r = str(number)
        out.append(f'<row r="{r}">')
        for letter, style, value in zip(letters, column_styles, row, strict=False):
            if value is None:
                continue
            kind = value.__class__
            if kind is str:
                markup = text_markup.get(value)
                if markup is None:
                    if not value:
                        continue
                    text = value
                    if len(text) > _SHORT_TEXT or _TEXT_NEEDS_CARE.search(text):
                        text = _escape_cell_text(text, _where(job, number, letter))
                    space = ' xml:space="preserve"' if text[0] in _EDGE_SPACE or text[-1] in _EDGE_SPACE else ""
                    markup = text_markup[value] = f' t="inlineStr"><is><t{space}>{text}</t></is></c>'
                out += ('<c r="', letter, r, '"', style, markup)
                continue
            if kind is Decimal:
                markup = decimal_markup.get(id(value))
                if markup is None:
                    if not value.is_finite():
                        raise ValueError(f"{_where(job, number, letter)}: cannot write {value}")
                    markup = decimal_markup[id(value)] = f"><v>{value}</v></c>"
                out += ('<c r="', letter, r, '"', style, markup)
                continue
            if kind is _dt.date:
                markup = date_markup.get(value)
                if markup is None:
                    serial = value.toordinal() - epoch
                    if serial < first_fast_serial:
                        serial = date_serial(value, date1904, _where(job, number, letter))
                    markup = date_markup[value] = f"{date_style}><v>{serial}</v></c>"
                out += ('<c r="', letter, r, '"', markup)
                continue
            if kind not in _PLAIN_TYPES:
                value = plain_value(value, _where(job, number, letter))
                kind = value.__class__
            if kind is str:
                if not value:
                    continue
                if len(value) > _SHORT_TEXT or _TEXT_NEEDS_CARE.search(value):
                    value = _escape_cell_text(value, _where(job, number, letter))
                space = ' xml:space="preserve"' if value[0] in _EDGE_SPACE or value[-1] in _EDGE_SPACE else ""
                out += ('<c r="', letter, r, '"', style, ' t="inlineStr"><is><t', space, ">", value)
                out.append("</t></is></c>")
            elif kind is int:
                if not -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT:
                    raise ValueError(
                        f"{_where(job, number, letter)}: {value} has more digits than Excel keeps; "
                        "write it as text"
                    )
                out += ('<c r="', letter, r, '"', style, "><v>", str(value), "</v></c>")
            elif kind is Decimal:
                if not value.is_finite():
                    raise ValueError(f"{_where(job, number, letter)}: cannot write {value}")
                out += ('<c r="', letter, r, '"', style, "><v>", str(value), "</v></c>")
            elif kind is _dt.date:
                serial = value.toordinal() - epoch
                if serial < first_fast_serial:
                    serial = date_serial(value, date1904, _where(job, number, letter))
                out += ('<c r="', letter, r, '"', date_style, "><v>", str(serial), "</v></c>")
            elif kind is bool:
                out += ('<c r="', letter, r, '"', style, ' t="b"><v>', "1" if value else "0", "</v></c>")
            elif kind is float:
                if not math.isfinite(value):
                    raise ValueError(f"{_where(job, number, letter)}: cannot write {value}")
                out += ('<c r="', letter, r, '"', style, "><v>", repr(value), "</v></c>")
            else:
                serial_text = _datetime_serial(value, date1904, _where(job, number, letter))
                out += ('<c r="', letter, r, '"', datetime_style, "><v>", serial_text, "</v></c>")
        out.append("</row>")
        if number % _ROWS_PER_CHUNK == 0:
            yield "".join(out).encode("utf-8")
            out.clear()
            if len(text_markup) > _MARKUP_KEPT:
                text_markup.clear()
            if len(decimal_markup) > _MARKUP_KEPT:
                decimal_markup.clear()
    if out:
        yield "".join(out).encode("utf-8")


def _style_attribute(index: int) -> str:
    """The ``s`` attribute of a cell in cell format ``index`` (none for the default, 0)."""
    return f' s="{index}"' if index else ""


def _column_width(column: Column) -> float:
    """The column's own width, else one that fits the header and its filter button."""
    if column.width is not None:
        return column.width
    return float(min(60, max(len(column.header) + 4, MIN_WIDTH[column.kind])))


def _sheet_head(job: PlannedSheet, styles: StyleIds) -> str:
    """Everything before the first data row: root element (with the digest), frozen header
    pane, column widths and the bold header row."""
    columns = "".join(
        f'<col min="{number}" max="{number}" width="{_column_width(column):g}" customWidth="1"/>'
        for number, column in enumerate(job.columns, start=1)
    )
    header = "".join(
        f'<c r="{column_letter(number)}1"{_style_attribute(styles.header)} t="inlineStr"><is><t>'
        f"{_escape_cell_text(column.header, f'sheet {job.name!r}, header {number}')}</t></is></c>"
        for number, column in enumerate(job.columns, start=1)
        if column.header
    )
    continues = f" sb:continues={quoteattr(job.continues)}" if job.continues else ""
    if job.stamp:
        continues += f" sb:run={quoteattr(job.stamp)}"
    return (
        f'{XML_DECLARATION}<worksheet xmlns="{MAIN_NS}" xmlns:r="{DOC_REL_NS}" xmlns:mc="{MC_NS}" '
        f'xmlns:sb="{SHEETBILL_NS}" mc:Ignorable="sb" sb:digest="{job.digest}"{continues}>'
        f'<dimension ref="A1:{job.last_cell}"/>'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{columns}</cols>'
        f'<sheetData><row r="1">{header}</row>'
    )


def _sheet_tail(job: PlannedSheet) -> str:
    """Everything after the last data row: the autofilter, page margins and the chart drawing."""
    drawing = f'<drawing r:id="{job.drawing_rel_id}"/>' if job.drawing_rel_id else ""
    return (
        f'</sheetData><autoFilter ref="A1:{job.last_cell}"/>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        f"{drawing}</worksheet>"
    )


def sheet_part(job: PlannedSheet, styles: StyleIds, date1904: bool, reused: RawSegment | None = None,
               ) -> Iterator[bytes | object]:
    """The whole worksheet part, streamed: head, :data:`FLUSH`, rows, :data:`FLUSH`, tail.

    With `reused` (the compressed rows of an earlier write of this sheet, the first
    ``job.extends.rows`` rows), only the rows after those are rendered."""
    yield _sheet_head(job, styles).encode("utf-8")
    yield FLUSH
    first = 0
    if reused is not None:
        if job.extends is None:
            raise ValueError(f"sheet {job.name!r}: reused rows without an append mark")
        yield reused
        first = job.extends.rows
    yield from _render_rows(job, styles, date1904, first)
    yield FLUSH
    yield _sheet_tail(job).encode("utf-8")
