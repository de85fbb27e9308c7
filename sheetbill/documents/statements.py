"""Making statements of account: the ``sheetbill statements`` command, the Statement button, and sending.

:func:`make_statements` reads the workbook, books its history up to the as-of date
(:func:`sheetbill.app.statements_of_account`, nothing is issued) and writes one PDF per customer with
items in the period, open items or credit, into the same folder as the other documents. The period
runs from ``--from`` (default: the first day of the as-of month, a monthly statement) to the as-of
date.

Statements are not history in the workbook: the PDF in the documents folder is the record that a
statement was made. ``sheetbill send`` therefore finds them there (:func:`add_issued_statements`): each
``STATEMENT <customer> <from> to <as of>.pdf`` is rebuilt from its name, for the recipient and the
email's text, and delivered with the file as it was issued, exactly once like every other document
(the Sent log names it by its key).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..app import SheetsInMemory, statements_of_account
from ..book import Book
from ..ledger import LedgerReport
from ..run import ledger_as_of
from ..sheets import RawSheet
from ..statements import Statement, month_start, statement_of
from .build import admit
from .context import Context
from .fonts import FontSet
from .make import (
    ButtonAnswer,
    DocumentSet,
    DocumentsOutcome,
    answer_button,
    render_documents,
    templates_for,
)
from .model import DocumentBatch, default_out_dir
from .output import KEPT, NEW, UNCHANGED
from .statement import parse_statement_key, statement_document
from .templates import Templates


def build_statements(book: Book, templates: Templates, fonts: FontSet, statements: list[Statement]) -> DocumentBatch:
    """The documents of ``statements``; those that cannot be made are skipped with their Problems."""
    ctx = Context(book, templates, fonts)
    batch = DocumentBatch()
    for statement in statements:
        document, sources = statement_document(ctx, statement)
        admit(ctx, batch, document, sources)
    batch.problems[:0] = ctx.problems
    return batch


@dataclass
class StatementsOutcome(DocumentsOutcome):
    """What making statements did (the fields of :class:`DocumentsOutcome`), and the period.

    Attributes:
        start, end: the period the statements cover.
        customers: how many customers had something to show.
    """

    start: dt.date | None = None
    end: dt.date | None = None
    customers: int = 0

    def summary(self) -> str:
        """A few lines for a message box: the period and counts, then the first Problems."""
        text = super().summary().replace("Documents in", "Statements in", 1)
        period = f"Statements of account from {self.start} to {self.end}: {self.customers} customer(s)."
        return f"{period}\n{text}"


def make_statements_from(sheets: Mapping[str, RawSheet], workbook: Path, out: Path | None = None,
                         as_of: dt.date | None = None, *, start: dt.date | None = None,
                         customer: str | None = None, fonts: FontSet | None = None) -> StatementsOutcome:
    """Write the statements of account of ``sheets`` that have no file yet (see :func:`make_statements`)."""
    report = statements_of_account(SheetsInMemory(sheets), as_of=as_of, start=start,
                                   customers={customer} if customer else None)
    templates = templates_for(report.book, workbook)
    fonts = fonts or FontSet.discover(templates.fonts_dir)
    batch = build_statements(report.book, templates, fonts, report.statements)
    documents = DocumentSet(report.book, templates, fonts, batch, out or default_out_dir(workbook),
                            [*report.problems, *batch.problems])
    written, print_file = render_documents(documents, day=report.end)
    return StatementsOutcome(
        workbook, documents.out_dir, written=[w.path for w in written.by_status(NEW)],
        unchanged=[w.path for w in written.by_status(UNCHANGED)], kept=[w.path for w in written.by_status(KEPT)],
        skipped=dict(batch.skipped), print_file=print_file, problems=documents.problems + written.problems,
        start=report.start, end=report.end, customers=len(report.statements))


def make_statements(workbook: Path, out: Path | None = None, as_of: dt.date | None = None, *,
                    start: dt.date | None = None, customer: str | None = None) -> StatementsOutcome:
    """Write one statement of account per customer with something to show, into ``out`` (default
    ``<workbook stem> documents`` beside the workbook); an existing file is never changed.

    :param as_of: the statement's date and the period's last day (default Settings As Of Date, else today).
    :param start: the period's first day (default the first day of the as-of month).
    :param customer: only this Customer ID.
    :raises sheetbill.problems.ConfigurationError: for broken configuration (nothing is written).
    """
    from ..io.xlsx import read_workbook

    return make_statements_from(read_workbook(workbook), workbook, out, as_of, start=start, customer=customer)


def button(sheets: Mapping[str, RawSheet], *, workbook: Path | None = None,
           as_of: dt.date | None = None) -> ButtonAnswer:
    """The "Statement" button: this month's statements of account, next to the workbook.

    Without the workbook's path (the HTTP back end, an unsaved workbook) nothing is made and the
    answer says how to make them instead.
    """
    return answer_button("statements", "Making statements from here is not available", "sheetbill statements",
                         workbook, lambda: make_statements_from(sheets, workbook, None, as_of))


def add_issued_statements(documents: DocumentSet) -> int:
    """Add to ``documents`` every statement whose PDF is in their folder, rebuilt from its file name.

    Which statements exist is known only from their files (they are not workbook history); the
    rebuilt document gives the recipient, the delivery and the email's text, and the file as issued
    is what is attached. Returns how many were added.
    """
    wanted = []
    for path in sorted(documents.out_dir.glob("STATEMENT *.pdf")) if documents.out_dir.is_dir() else []:
        parsed = parse_statement_key(path.stem)
        if parsed is not None:
            wanted.append(parsed)
    ledgers: dict[dt.date, LedgerReport] = {}
    statements = []
    for customer_id, start, end in wanted:
        if end not in ledgers:
            ledgers[end], _ = ledger_as_of(documents.book, end)
        statements.append(statement_of(ledgers[end], customer_id, start, end))
    batch = build_statements(documents.book, documents.templates, documents.fonts, statements)
    documents.batch.documents.extend(batch.documents)
    documents.batch.skipped.update(batch.skipped)
    documents.problems.extend(p for p in batch.problems if p not in documents.problems)
    return len(batch.documents)


__all__ = ["StatementsOutcome", "add_issued_statements", "build_statements", "button", "make_statements",
           "make_statements_from", "month_start"]
