"""The macro-enabled workbook ``sheetbill.xlsm``: a workbook's sheets plus a "Billing" sheet of buttons.

:func:`build_xlsm` copies every sheet of a source workbook (the packaged template for
``sheetbill new --xlsm FILE``, the demo workbook for ``workbooks/sheetbill.xlsm``), puts a "Billing"
sheet first with a labelled button per :data:`sheetbill.buttons.BUTTONS` and
:data:`sheetbill.buttons.FILE_BUTTONS` (form controls) bound to the macros of
``sheetbill/data/vba/Sheetbill.bas``, and adds a VBA project compiled from that text on this
machine (:mod:`sheetbill.vba_project`): the project carries no compiled code, so Excel compiles it
from source when it first opens the file.

Cells are copied by value (text always as text, numbers, booleans, dates with a date format), with a
bold, frozen header row; formulas and formatting of the source are not copied (sheetbill's input
sheets hold typed values). The workbook is written with XlsxWriter, deterministically: the same
inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

from .buttons import BUTTONS, FILE_BUTTONS
from .files import write_atomic
from .vba_project import Module, VbaProject

BILLING_SHEET = "Billing"
#: The button macros by button name (Sub names in Sheetbill.bas).
MACROS = {"bill": "SheetbillBill", "overdue": "SheetbillOverdue", "check": "SheetbillCheck",
          "documents": "SheetbillDocuments", "statement": "SheetbillStatement", "import-bank": "SheetbillImportBank"}
#: Every button of the Billing sheet with its label, in order.
LABELS = {**BUTTONS, **FILE_BUTTONS}
DESCRIPTIONS = {
    "bill": "Bill every new charge, post payments, update overdue tracking; writes Invoices, Invoice Lines, "
            "Problems, Advice and the overdue sheets.",
    "overdue": "Post payments and update reminders, payment plans and collections; issues no new invoices.",
    "check": "Check every input sheet; writes only the Problems sheet.",
    "documents": "Make the PDF documents of invoices and reminders (where this sheetbill version offers it).",
    "statement": "Make this month's statement of account for every customer with activity, open items or credit "
                 "(PDFs beside the workbook; `sheetbill send` delivers them).",
    "import-bank": "Pick one or more bank statement files (camt.052/.053/.054, MT940, CSV): credits matched to "
                   "invoices go to Bank Payments, the others to Bank Review; then press Update overdue.",
}
_FIXED_TIME = dt.datetime(2026, 1, 1)


def vba_text(name: str = "Sheetbill.bas") -> str:
    """A VBA source shipped with sheetbill (``sheetbill/data/vba``)."""
    return (files("sheetbill") / "data" / "vba" / name).read_text(encoding="utf-8")


def vba_project(sheet_count: int) -> bytes:
    """The ``vbaProject.bin`` of a workbook with ``sheet_count`` sheets named ``Sheet1``... by code name."""
    modules = [Module("ThisWorkbook", document=True, base="workbook")]
    modules += [Module(f"Sheet{i}", document=True) for i in range(1, sheet_count + 1)]
    modules.append(Module("Sheetbill", vba_text()))
    return VbaProject(modules).to_bytes()


def default_source() -> Path | None:
    """The packaged template workbook, if this installation has one."""
    template = files("sheetbill") / "data" / "template.xlsx"
    return Path(str(template)) if template.is_file() else None


def _read_cells(source: Path) -> list[tuple[str, list[list[object]]]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(source))
    sheets = []
    for name in book.sheet_names:
        if name == BILLING_SHEET:
            continue
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        sheets.append((name, [list(row) for row in rows]))
    return sheets


def _contract_cells() -> list[tuple[str, list[list[object]]]]:
    """Empty input sheets with their headers, for an installation without a template."""
    from .contract import INPUT_TABLES

    return [(spec.name, [[f.header for f in spec.fields]]) for spec in INPUT_TABLES]


def build_xlsm(target: Path, source: Path | None = None, *, overwrite: bool = False) -> Path:
    """Write the macro-enabled workbook ``target`` (must end in ``.xlsm``) from ``source``'s sheets.

    :param source: the workbook whose sheets are copied; default the packaged template, else empty
        input sheets with the contract's headers.
    :raises FileExistsError: when ``target`` exists and ``overwrite`` is False.
    :raises ValueError: when ``target`` does not end in ``.xlsm`` (Excel refuses macros otherwise).
    """
    import xlsxwriter

    target = Path(target)
    if target.suffix.lower() != ".xlsm":
        raise ValueError(f"{target.name}: a workbook with macros must end in .xlsm")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists")
    source = source or default_source()
    sheets = _read_cells(source) if source is not None else _contract_cells()

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_numbers": False, "strings_to_urls": False})
    workbook.set_properties({"title": "sheetbill", "created": _FIXED_TIME})
    workbook.set_vba_name("ThisWorkbook")
    formats = {
        "title": workbook.add_format({"bold": True, "font_size": 16}),
        "bold": workbook.add_format({"bold": True}),
        "header": workbook.add_format({"bold": True, "bg_color": "#D9E1F2"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
        "wrap": workbook.add_format({"text_wrap": True, "valign": "top"}),
        "input": workbook.add_format({"bg_color": "#FFF2CC", "border": 1}),
    }
    _billing_sheet(workbook, formats)
    for index, (name, rows) in enumerate(sheets, start=2):
        worksheet = workbook.add_worksheet(name)
        worksheet.set_vba_name(f"Sheet{index}")
        _copy_cells(worksheet, rows, formats)
    workbook.add_vba_project(io.BytesIO(vba_project(1 + len(sheets))), is_stream=True)
    workbook.close()
    write_atomic(target, buffer.getvalue())
    return target


def _billing_sheet(workbook, formats: dict) -> None:
    sheet = workbook.add_worksheet(BILLING_SHEET)
    sheet.set_vba_name("Sheet1")
    sheet.set_column("A:A", 4)
    sheet.set_column("B:B", 24)
    sheet.set_column("C:C", 4)
    sheet.set_column("D:D", 90)
    sheet.write_string("B1", "sheetbill", formats["title"])
    sheet.write_string("B2", "Press a button. sheetbill reads the input sheets and writes only its own sheets; "
                             "a message box tells you what happened.")
    for offset, button in enumerate(LABELS):
        row = 3 + offset * 3
        sheet.insert_button(row, 1, {"macro": MACROS[button], "caption": LABELS[button], "width": 170,
                                     "height": 40, "x_offset": 2, "y_offset": 2})
        sheet.write_string(row, 3, DESCRIPTIONS[button], formats["wrap"])
    below = 3 + len(LABELS) * 3 + 1  # the first row under the buttons, 1-based
    sheet.write_string(f"B{below}", "Needs Python with sheetbill and the xlwings add-in on this PC (docs/excel.md).")
    sheet.write_string(f"B{below + 2}", "Optional: a sheetbill server instead of Python on this PC", formats["bold"])
    sheet.write_string(f"B{below + 3}", "Server URL")
    sheet.write_blank(f"D{below + 3}", None, formats["input"])
    sheet.write_string(f"B{below + 4}", "Server token")
    sheet.write_blank(f"D{below + 4}", None, formats["input"])
    sheet.write_string(f"B{below + 5}", "Leave both empty to run Python on this PC. The token is stored in this file: "
                                        "share the file only with people who may use the server.")
    workbook.define_name("SheetbillServerUrl", f"={BILLING_SHEET}!$D${below + 3}")
    workbook.define_name("SheetbillServerToken", f"={BILLING_SHEET}!$D${below + 4}")
    sheet.activate()


def _copy_cells(worksheet, rows: Sequence[Sequence[object]], formats: dict) -> None:
    widths: dict[int, int] = {}
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            fmt = formats["header"] if r == 0 else None
            if value is None or value == "":
                continue
            if isinstance(value, bool):
                worksheet.write_boolean(r, c, value, fmt)
            elif isinstance(value, int | float):
                worksheet.write_number(r, c, value, fmt)
            elif isinstance(value, dt.datetime):
                worksheet.write_datetime(r, c, value, fmt or formats["date" if value.time() == dt.time() else
                                                                     "datetime"])
            elif isinstance(value, dt.date):
                worksheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), fmt or formats["date"])
            else:
                worksheet.write_string(r, c, str(value), fmt)
            widths[c] = max(widths.get(c, 8), min(len(str(value)) + 2, 50))
    for c, width in widths.items():
        worksheet.set_column(c, c, width)
    if rows:
        worksheet.freeze_panes(1, 0)
