"""The functions Excel's buttons call through the xlwings add-in (Excel with local Python).

The macros of ``sheetbill.xlsm`` (``sheetbill/data/vba/Sheetbill.bas``) run, for example::

    RunPython "import sheetbill.excel; sheetbill.excel.bill()"

Each function takes the calling workbook (``xlwings.Book.caller()``), reads the sheets a run needs
through xlwings, presses the button (:func:`sheetbill.buttons.press`, the same code the HTTP back end
runs), writes sheetbill's sheets back and tells the clerk what happened in a message box, with
progress in the status bar. Nothing is written when the run cannot happen (a required column is
missing) or fails: the message box says why.

xlwings is imported only here and in :mod:`sheetbill.io.xlwings_book`, when a button is pressed;
the rest of sheetbill never needs it, and nothing here needs ``xlwings.pro``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .buttons import BUTTONS, FILE_BUTTONS, needed_sheet, press

#: How the "Import bank statement" macro passes the picked files: each path as hexadecimal digits, four per
#: UTF-16 code unit, paths joined by ".". Nothing but these characters ever reaches the Python command line
#: that xlwings' ``RunPython`` hands to a shell, whatever the file names are (quotes, ``&``, ``%``, newlines).
_ENCODED_PATHS = re.compile(r"(?:[0-9A-Fa-f]{4})+(?:\.(?:[0-9A-Fa-f]{4})+)*")


def bill(book: Any = None) -> None:
    """The "Bill" button: bill new charges, post payments, track overdue invoices, write the results."""
    run_button("bill", book)


def overdue(book: Any = None) -> None:
    """The "Update overdue" button: payments and overdue tracking only, no new invoices."""
    run_button("overdue", book)


def check(book: Any = None) -> None:
    """The "Check workbook" button: compute everything, write only the Problems sheet."""
    run_button("check", book)


def documents(book: Any = None) -> None:
    """The "Make documents" button: PDF documents not rendered yet, written next to the workbook."""
    run_button("documents", book)


def statement(book: Any = None) -> None:
    """The "Statement" button: this month's statements of account, written next to the workbook."""
    run_button("statement", book)


def import_bank(paths: str = "", book: Any = None) -> None:
    """The "Import bank statement" button: import the statement files the clerk picked.

    :param paths: the picked files as the macro encodes them (:func:`decode_paths`); they are read here
        as data, and only their names (never their folders) appear in messages.
    """
    run_button("import-bank", book, paths=paths)


def encode_paths(paths: Sequence[str]) -> str:
    """The picked files as the macro ``SheetbillImportBank`` passes them (the same encoding, for tests and
    for other callers): UTF-16 code units as four hexadecimal digits each, paths joined by ``.``."""
    return ".".join(path.encode("utf-16-be", "surrogatepass").hex().upper() for path in paths)


def decode_paths(encoded: str) -> list[str]:
    """The file paths in ``encoded`` (:func:`encode_paths`).

    :raises ValueError: for anything that is not that encoding (no files picked included).
    """
    if not isinstance(encoded, str) or not _ENCODED_PATHS.fullmatch(encoded):
        raise ValueError("no statement files were passed from the macro; pick them with the button's file dialog")
    return [bytes.fromhex(part).decode("utf-16-be") for part in encoded.split(".")]


def _statement_files(encoded: str) -> list[tuple[str, bytes]]:
    """The picked statement files, each as (its name, its bytes)."""
    return [(Path(path).name, Path(path).read_bytes()) for path in decode_paths(encoded)]


def _caller() -> Any:
    import xlwings

    return xlwings.Book.caller()


def _workbook_path(book: Any) -> Path | None:
    """The workbook's file when it is a local file (not a new, unsaved book or a web address)."""
    try:
        name = str(book.fullname)
    except Exception:
        return None
    return Path(name) if "://" not in name and Path(name).is_absolute() else None


def run_button(button: str, book: Any = None, *, as_of: dt.date | None = None, paths: str = "") -> bool:
    """Press ``button`` on ``book`` (default: the calling workbook); True when the run was clean.

    ``paths`` are the statement files of ``import-bank`` as the macro encodes them (:func:`decode_paths`).

    Any exception is shown to the clerk in a message box (this is their own machine, so the message
    may name the cause) and nothing more is written.
    """
    from .io.xlwings_book import read_book, set_status, show_message, write_outputs

    book = book if book is not None else _caller()
    label = BUTTONS.get(button) or FILE_BUTTONS[button]
    writing = False
    try:
        files = _statement_files(paths) if button in FILE_BUTTONS else ()
        set_status(book, f"sheetbill: {label}: reading the workbook...")
        sheets = read_book(book, needed_sheet)
        set_status(book, f"sheetbill: {label}: running...")
        result = press(button, sheets, as_of=as_of, workbook=_workbook_path(book), files=files)
        if result.outputs:
            set_status(book, f"sheetbill: {label}: writing {len(result.outputs)} sheet(s)...")
            writing = True
            write_outputs(book, result.outputs)
    except Exception as err:
        set_status(book, None)
        after = ("sheetbill's own sheets may be half-written: close the workbook WITHOUT saving, reopen it and "
                 "press the button again." if writing else "Nothing was written.")
        show_message(book, f"sheetbill could not finish ({type(err).__name__}: {err}). {after}",
                     f"sheetbill: {label}", ok=False)
        return False
    set_status(book, None)
    show_message(book, result.message, result.title, ok=result.ok)
    return result.ok
