"""Excel without installing Python: sheetbill's buttons as xlwings Lite scripts.

xlwings Lite is an Excel add-in that runs Python inside Excel through Pyodide (WebAssembly) on
Windows, macOS and Excel on the web. A workbook's ``main.py`` there needs one line::

    from sheetbill.lite import bill, check, import_bank, statement, update_overdue  # noqa: F401

and the add-in shows the scripts as buttons ("Bill", "Update overdue", "Check workbook", ...),
each with a date field for the as-of date in App Mode (empty means the workbook's As Of Date
setting, then today, as everywhere else). Each script reads the sheets a run needs from the open
workbook through :mod:`sheetbill.io.xlwings_book`, presses the button
(:func:`sheetbill.buttons.press`, the code every other front end runs), writes sheetbill's sheets
back and tells the clerk what happened. Nothing is written when the run cannot happen.

What differs from Excel with local Python (:mod:`sheetbill.excel`), from reading xlwings' Office.js
engine (``xlwings/pro/_xlremote.py``, 0.37): there is no status bar (progress is not shown), screen
updating can be suspended but not read back, column widths are in points rather than characters,
colours are sent as ``#RRGGBB`` (older Lite releases refuse RGB tuples), and the header row is
frozen with ``freeze_panes.freeze_at("1:1")``. The message goes to ``App.alert`` and is printed
too, so it is in the add-in's output pane whatever the Lite release shows.

This path imports only what Pyodide has: no python-calamine, no threads, no files on the PC (the
workbook is in memory; bank statements are read from xlwings Lite's own file store, ``/data``), no
compiled module of a dependency (pluggy, defusedxml and babel are pure Python). Documents
(PDF files), sending mail and the Google Sheets sync need the desktop or the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .buttons import BUTTONS, FILE_BUTTONS, needed_sheet, press

try:
    import xlwings as xw
    from xlwings import script
except ImportError:  # outside Excel (tests, benchmarks) the scripts stay plain functions
    xw = None

    def script(f=None, **options):
        """Stands in for ``xlwings.script`` where xlwings is not installed: marks nothing."""
        return f if f is not None else (lambda g: g)


#: The header fill as Office.js takes it (the same colour as the other front ends).
HEADER_HEX = "#D9E1F2"


def points(characters: float) -> float:
    """A column width in Excel characters (what sheetbill's sheets specify) as points (Office.js).

    Excel's default column, 8.43 characters of the default font, is 64 pixels or 48 points: a
    character is 7 pixels plus 5 pixels of padding, and a pixel is 0.75 points.
    """
    return round((characters * 7 + 5) * 0.75, 2)


def freeze_header_row(sheet: Any) -> bool:
    """Freeze the first row of ``sheet`` as xlwings Lite does; False when the engine cannot."""
    try:
        sheet.freeze_panes.freeze_at("1:1")
        return True
    except Exception:  # freezing is a courtesy: a finished run must not be lost over it
        return False


def lite_style():
    """The header look as xlwings Lite's engine takes it."""
    from .io.xlwings_book import SheetStyle

    return SheetStyle(header_color=HEADER_HEX, column_width=points, freeze=freeze_header_row)


def tell(book: Any, message: str, title: str, ok: bool) -> None:
    """Show ``message`` to the clerk: printed into the add-in's output, and as an alert where the
    Lite release has one."""
    print(f"{title}\n{message}")
    try:
        book.app.alert(message, title=title, buttons="ok", mode="info" if ok else "critical")
    except Exception:  # an engine without alerts: the printed text is there
        pass


def run_script(button: str, book: Any, as_of: dt.date | None = None) -> bool:
    """Press ``button`` on ``book`` (the workbook xlwings Lite passes in); True when the run was clean.

    Any exception is shown to the clerk and nothing more is written.
    """
    from .io.xlwings_book import read_book

    return _press_and_write(book, f"sheetbill: {BUTTONS[button]}",
                            lambda: press(button, read_book(book, needed_sheet), as_of=_date(as_of)))


def _press_and_write(book: Any, title: str, compute: Callable[[], Any]) -> bool:
    """Run ``compute`` (a button's use-case, or None when it has told the clerk why it did nothing), write its
    outputs into ``book`` and tell the clerk; any exception is shown and nothing more is written."""
    from .io.xlwings_book import write_outputs

    writing = False
    try:
        result = compute()
        if result is None:
            return False
        if result.outputs:
            writing = True
            write_outputs(book, result.outputs, lite_style())
    except Exception as err:
        after = ("sheetbill's own sheets may be half-written: close the workbook WITHOUT saving, reopen it and "
                 "press the button again." if writing else "Nothing was written.")
        tell(book, f"sheetbill could not finish ({type(err).__name__}: {err}). {after}", title, ok=False)
        return False
    tell(book, result.message, result.title, ok=result.ok)
    return result.ok


#: Where xlwings Lite puts the files the clerk drops on *xlwings Lite menu > Files > Import/Export*.
LITE_FILES = Path("/data")
#: The statement files the import script reads there (the Excel button's file dialog offers the same).
STATEMENT_SUFFIXES = (".xml", ".sta", ".mt940", ".txt", ".csv")


def statement_files(folder: Path) -> list[tuple[str, bytes]]:
    """Every statement file under ``folder`` (sub-folders included), as (name relative to ``folder``,
    bytes), in name order. Statements imported before may stay there: their entries are recognised and
    counted as already imported."""
    if not folder.is_dir():
        return []
    found = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in STATEMENT_SUFFIXES)
    return [(path.relative_to(folder).as_posix(), path.read_bytes()) for path in found]


def run_import(book: Any, folder: Path = LITE_FILES, as_of: dt.date | None = None) -> bool:
    """Import the statement files under ``folder`` (:func:`statement_files`) into ``book``; True when clean."""
    from .io.xlwings_book import read_book

    title = f"sheetbill: {FILE_BUTTONS['import-bank']}"

    def compute() -> Any:
        files = statement_files(folder)
        if not files:
            tell(book, f"No statement file ({', '.join(STATEMENT_SUFFIXES)}) in xlwings Lite's files. Add it with "
                       "xlwings Lite menu > Files > Import/Export, then press the button again. Nothing was written.",
                 title, ok=False)
            return None
        return press("import-bank", read_book(book, needed_sheet), as_of=_date(as_of), files=files)

    return _press_and_write(book, title, compute)


def run_statement(book: Any, as_of: dt.date | None = None) -> bool:
    """Write every customer's statement of account of the as-of month into the Statements sheet."""
    from . import app
    from .io.xlwings_book import read_book, write_outputs

    title = "sheetbill: Statement"
    try:
        workbook = app.SheetsInMemory(read_book(book, needed_sheet))
        report, _ = app.write_statements_sheet(workbook, as_of=_date(as_of))
        write_outputs(book, workbook.written, lite_style())
    except Exception as err:
        tell(book, f"sheetbill could not finish ({type(err).__name__}: {err}). Nothing was written.", title,
             ok=False)
        return False
    owed = sum(1 for s in report.statements if s.closing > 0)
    tell(book, f"Statements of account {report.start.isoformat()} to {report.end.isoformat()}: "
               f"{len(report.statements)} customer(s), {owed} with a balance to pay; see the Statements sheet.",
         title, ok=True)
    return True


def _date(value: dt.date | str | None) -> dt.date | None:
    """The as-of date as a date (a date and time is cut to its day; older Lite releases pass text)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


@script(name="Bill")
def bill(book: xw.Book, as_of: dt.date | None = None) -> None:
    """# Bill
    Bill new charges, post payments, track overdue invoices and write sheetbill's sheets.
    Leave the date empty to bill as of the workbook's As Of Date setting (or today)."""
    run_script("bill", book, as_of)


@script(name="Update overdue")
def update_overdue(book: xw.Book, as_of: dt.date | None = None) -> None:
    """# Update overdue
    Post payments and track overdue invoices (reminders, hand-offs); no new invoices."""
    run_script("overdue", book, as_of)


@script(name="Statement")
def statement(book: xw.Book, as_of: dt.date | None = None) -> None:
    """# Statement
    Every customer's statement of account for the month of the date (opening balance, every item,
    closing balance, open items), written into the Statements sheet."""
    run_statement(book, as_of)


@script(name="Import bank statement")
def import_bank(book: xw.Book, as_of: dt.date | None = None) -> None:
    """# Import bank statement
    Import the bank statement files (camt.053, MT940, CSV) added under xlwings Lite menu > Files >
    Import/Export: matched credits go to Bank Payments, the others to Bank Review. Then press Update overdue."""
    run_import(book, LITE_FILES, as_of)


@script(name="Check workbook")
def check(book: xw.Book, as_of: dt.date | None = None) -> None:
    """# Check workbook
    Compute everything and write only the Problems sheet, so you can go to each cell."""
    run_script("check", book, as_of)


def sheet_button(button: str, reference: str, *, show_taskpane: bool = False):
    """A script that a shape on a sheet runs (xlwings Lite's sheet buttons), for ``main.py``::

        bill_button = sheet_button("bill", "[BillButton]Billing!J2")

    ``reference`` is xlwings Lite's ``"[shape name]Sheet!Cell"``: the shape's name and the cell its
    hyperlink points to. The run uses the workbook's As Of Date (a shape has no date field).

    :param button: ``bill``, ``overdue`` or ``check``.
    :raises KeyError: for any other button.
    """
    if button not in BUTTONS or button == "documents":
        raise KeyError(button)
    label = BUTTONS[button]

    def pressed(book: xw.Book) -> None:
        run_script(button, book)

    pressed.__name__ = pressed.__qualname__ = f"{button}_sheet_button"
    pressed.__doc__ = f"# {label}\nRun by the button on the sheet ({reference})."
    return script(name=f"{label} (sheet button)", button=reference, show_taskpane=show_taskpane)(pressed)
