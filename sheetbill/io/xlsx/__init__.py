"""The .xlsx/.xlsm front end's file layer: fast reading and a surgical writer.

Reading
    :func:`read_workbook` and :func:`open_workbook` read sheets with python-calamine (an order of
    magnitude faster than openpyxl, see docs/performance.md), with Excel tables and error cells recovered
    from the package itself (:mod:`.read`).

Writing
    :func:`write_output_sheets` never loads the workbook into an object model: it replaces or
    appends sheetbill's own sheets and copies every other zip entry as its stored compressed bytes,
    so macros, charts, formulas and formatting survive bit for bit (:mod:`.write`). A write of
    unchanged content leaves the file alone (:mod:`.plan`); a sheet that only grew since sheetbill
    wrote it is extended, its stored rows copied compressed (:mod:`.append`, :mod:`.deflate`).

Stamps
    :func:`input_stamp` and :func:`read_stamp` tell a front end whether anything it reads changed
    since its last run (:mod:`.stamp`).

Limits
    Part sizes, CRCs and how far a sheet's cells reach are checked before anything is parsed; a
    sheet with a stray far-away cell is read cell by cell (:mod:`.limits`, :mod:`.sparse`).

The modules, bottom up: :mod:`.errors`, :mod:`.limits` (what a file may make sheetbill read),
:mod:`.package` (zip container, relationships, content types, XML splicing), :mod:`.workbook` (the
workbook part, shared names), :mod:`.sparse` (cell-by-cell reading), :mod:`.read`, :mod:`.plan`,
:mod:`.styles`, :mod:`.render` (worksheet XML), :mod:`.charts`, :mod:`.write`, :mod:`.stamp`;
:mod:`.deflate` (segmented deflate on a second thread) and :mod:`.append` (append marks) sit between
:mod:`.package` and :mod:`.plan`.
"""

from .file import XlsxWorkbook
from .package import WorkbookFormatError
from .read import LazySheets, open_workbook, read_workbook
from .stamp import input_stamp, read_stamp
from .write import WorkbookChangedError, WorkbookLockedError, write_output_sheets

__all__ = [
    "XlsxWorkbook",
    "LazySheets",
    "WorkbookFormatError",
    "WorkbookChangedError",
    "WorkbookLockedError",
    "input_stamp",
    "open_workbook",
    "read_stamp",
    "read_workbook",
    "write_output_sheets",
]
