"""The buttons office staff press, as plain functions shared by every spreadsheet front end.

Excel with local Python (:mod:`sheetbill.excel`, called through xlwings ``RunPython``) and the HTTP
back end for xlwings' own clients (:mod:`sheetbill.server`) both turn a button press into the
same call here: :func:`press` takes the raw sheets the front end read and returns the sheets to
write back plus a short message for a message box. Keeping the buttons in one place means the two
front ends cannot drift apart, and :data:`BUTTONS` is the allow-list the server exposes.

This module imports no front end (no xlwings, no web framework), like the rest of the core.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import contract
from .problems import ConfigurationError, Problem
from .sheets import OutputSheet, RawSheet

#: Every button, by the name used in ``RunPython`` calls and server URLs, with its label.
BUTTONS: dict[str, str] = {
    "bill": "Bill",
    "overdue": "Update overdue",
    "check": "Check workbook",
    "documents": "Make documents",
    "statement": "Statement",
}
#: Buttons that take files besides the workbook: the HTTP back end's clients send them in the request, the
#: Excel workbook with macros lets the clerk pick them (:func:`sheetbill.excel.import_bank`).
FILE_BUTTONS: dict[str, str] = {"import-bank": "Import bank statement"}

#: A message box shows at most this many problems; the Problems sheet has them all.
PROBLEMS_SHOWN = 5
#: Message boxes truncate long text (Excel's MsgBox stops near 1,024 characters).
MESSAGE_LIMIT = 900

def needed_sheet(name: str) -> bool:
    """True when a run reads the sheet ``name`` (:func:`sheetbill.contract.run_reads`). Front ends read
    and send only these sheets."""
    return contract.run_reads(name)


@dataclass(frozen=True)
class ButtonResult:
    """What a button press produced.

    Attributes:
        button: the button's name (a key of :data:`BUTTONS`).
        outputs: the sheets to write back, in order; empty when nothing may be written.
        message: a few lines for the message box: the summary and the first problems.
        ok: False when the run could not happen or had errors (the message box says so loudly).
        summary: the run's counts and totals (:func:`sheetbill.run.summarize`), empty when the
            run could not happen.
    """

    button: str
    outputs: list[OutputSheet] = field(default_factory=list)
    message: str = ""
    ok: bool = True
    summary: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The message box title."""
        return f"sheetbill: {BUTTONS.get(self.button) or FILE_BUTTONS.get(self.button, self.button)}"


def press(button: str, sheets: Mapping[str, RawSheet], *, as_of: dt.date | None = None, plugins=None,
          workbook: Path | None = None, files: Sequence[tuple[str, bytes]] = ()) -> ButtonResult:
    """Run ``button`` over ``sheets`` and say what to write back and what to tell the clerk.

    * ``bill``: the whole billing run; every output sheet is written.
    * ``overdue``: payments and overdue tracking only, no new invoices; every output sheet is written.
    * ``check``: the whole run computed, only the Problems sheet written (so the clerk can go to
      each cell), nothing else changed.
    * ``documents``: renders the documents not rendered yet next to the workbook
      (:func:`sheetbill.documents.button`); nothing is written into the workbook.
    * ``statement``: renders this month's statements of account next to the workbook
      (:func:`sheetbill.documents.statements.button`); nothing is written into the workbook.
    * ``import-bank``: imports the statement ``files`` (name and bytes each) with
      :func:`sheetbill.bank_import.import_bank`; Bank Payments, Bank Review (and Debits) are written.

    A workbook that cannot be run at all (a required column is missing) gives ``ok=False``, no
    outputs and the reason. Other exceptions propagate: the front end reports them without detail.

    :param workbook: the workbook's path where the front end knows it (Excel with local Python),
        for documents written next to it.
    :raises KeyError: for a button not in :data:`BUTTONS`.
    """
    if button not in BUTTONS and button not in FILE_BUTTONS:
        raise KeyError(button)
    if button == "documents":
        return _documents(sheets, workbook, as_of)
    if button == "statement":
        return _statement(sheets, workbook, as_of)
    if button == "import-bank":
        return _import_bank(sheets, files, as_of)
    from . import app

    book = app.SheetsInMemory(sheets)
    try:
        if button == "check":
            outcome = app.check(book, as_of=as_of, write_problems=True, plugins=plugins)
        elif button == "overdue":
            outcome = app.update_overdue(book, as_of=as_of, plugins=plugins)
        else:
            outcome = app.bill(book, as_of=as_of, plugins=plugins)
    except ConfigurationError as err:
        lines = [f"Nothing was written: {err}"]
        lines += [f"- {problem}" for problem in err.problems[:PROBLEMS_SHOWN]]
        return ButtonResult(button, [], _clip("\n".join(lines)), ok=False)
    summary = outcome.summary
    return ButtonResult(button, book.written, summary_message(button, summary, outcome.problems),
                        ok=summary["errors"] == 0, summary=summary)


def _import_bank(sheets: Mapping[str, RawSheet], files: Sequence[tuple[str, bytes]],
                 as_of: dt.date | None) -> ButtonResult:
    """Import bank statement files into Bank Payments and Bank Review."""
    from . import app
    from .bank_import import StatementFile, import_bank

    book = app.SheetsInMemory(sheets)
    if not files:
        return ButtonResult("import-bank", [], "Choose one or more statement files (camt.053, MT940, CSV) to import.",
                            ok=False)
    try:
        outcome = import_bank(book, [StatementFile(name, data) for name, data in files], as_of=as_of)
    except ConfigurationError as err:
        return ButtonResult("import-bank", [], _clip(f"Nothing was written: {err}"), ok=False)
    summary = outcome.summary
    lines = [f"{summary['entries_read']} entries read from {summary['files']} file(s).",
             *(f"Matched by {rule}: {count}" for rule, count in summary["matched_by_rule"].items() if count),
             f"Left for review: {summary['left_for_review']} (see the Bank Review sheet)",
             f"Already imported: {summary['already_imported']}"]
    if summary.get("returned_debits"):
        lines.append(f"Returned debits: {summary['returned_debits']}")
    lines += [f"- {problem}" for problem in outcome.problems[:PROBLEMS_SHOWN]]
    lines.append("Press Update overdue to book the payments.")
    return ButtonResult("import-bank", book.written, _clip("\n".join(lines)), ok=outcome.exit_code == 0,
                        summary=summary)


def _documents(sheets: Mapping[str, RawSheet], workbook: Path | None, as_of: dt.date | None) -> ButtonResult:
    """Render the documents not rendered yet next to the workbook (when its path is known)."""
    from .documents import button

    answer = button(sheets, workbook=workbook, as_of=as_of)
    return ButtonResult("documents", [], _clip(answer.text), ok=answer.ok)


def _statement(sheets: Mapping[str, RawSheet], workbook: Path | None, as_of: dt.date | None) -> ButtonResult:
    """Render this month's statements of account next to the workbook (when its path is known)."""
    from .documents.statements import button

    answer = button(sheets, workbook=workbook, as_of=as_of)
    return ButtonResult("statement", [], _clip(answer.text), ok=answer.ok)


def summary_message(button: str, summary: Mapping, problems: list[Problem]) -> str:
    """The message box text of a run: what happened, in a few lines, then the first problems."""
    currency = summary.get("currency", "")
    lines: list[str] = []
    if button == "check":
        lines.append(f"Checked the workbook as of {summary.get('as_of')}. Only the Problems sheet was updated.")
    else:
        if button == "bill":
            issued = f"{summary.get('invoices_issued', 0)} invoice(s) issued"
            if summary.get("credit_notes_issued"):
                issued += f", {summary['credit_notes_issued']} credit note(s)"
            lines.append(f"{issued} as of {summary.get('as_of')}.")
            for bill_to, total in summary.get("totals_by_bill_to_type", {}).items():
                lines.append(f"Billed to {bill_to.lower()}s: {total} {currency}")
        else:
            lines.append(f"Overdue tracking updated as of {summary.get('as_of')}; no new invoices.")
        for key in ("reminders_issued", "handed_to_collections"):
            if key in summary:
                lines.append(f"{key.replace('_', ' ').capitalize()}: {summary[key]}")
        if summary.get("advice"):
            lines.append(f"Advice: {summary['advice']} (see the Advice sheet)")
    errors, warnings = summary.get("errors", 0), summary.get("warnings", 0)
    if errors or warnings:
        lines.append(f"Problems: {errors} error(s), {warnings} warning(s); see the Problems sheet.")
        ordered = sorted(problems, key=lambda p: p.severity != "error")
        lines += [f"- {problem}" for problem in ordered[:PROBLEMS_SHOWN]]
    else:
        lines.append("No problems found.")
    return _clip("\n".join(lines))


def _clip(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"
