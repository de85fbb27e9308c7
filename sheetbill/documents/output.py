"""Writing documents to disk: one PDF per document, never changed once written, and the print file.

Rules:

* Each document goes to ``<out>/<key>.pdf`` (``INV-000042.pdf``, ``INV-000042 reminder 2.pdf``),
  written to a temporary file in the same folder and renamed into place, so a crash never leaves
  half a PDF under the real name.
* An existing file is never overwritten. When the workbook now says something else for a document
  than its file does (the customer moved, a description was edited, a template changed), the file
  is kept as issued and a warning says so: what was sent is what the file shows. Whether the content
  is the same is decided by the fingerprint each PDF carries (see :mod:`.pdf`), so a newer fpdf2 or
  font build that lays out the same words with different bytes is not reported as a change.
* An e-invoice (:mod:`sheetbill.einvoice`) follows the same rules: XRechnung is written to
  ``<out>/<key>.xml`` beside the PDF, never overwritten (a file that differs is kept, with a warning);
  ZUGFeRD makes the PDF itself a PDF/A-3 with the XML embedded, when the PDF is first written (an
  issued PDF is never converted afterwards).
* The *print file* gathers every document of the run that goes by letter into one PDF to print,
  ``letters <date>.pdf`` (``letters <date> (2).pdf`` ... when a different one of that day exists).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files import write_atomic
from ..problems import Problem, error, warning
from .fonts import FontSet, clean_text
from .model import KIND_REMINDER, KIND_STATEMENT, Document
from .pdf import FINGERPRINT_PREFIX, fingerprint_of, render_pdf

NEW, UNCHANGED, KEPT = "new", "unchanged", "kept"


@dataclass
class Written:
    """One document and what happened to its file: ``new``, ``unchanged`` or ``kept`` (differs, left alone)."""

    document: Document
    path: Path
    status: str


@dataclass
class WriteReport:
    """The files of a run, the warnings about documents whose file says something else, and (``held``)
    the new letters left out of the print file because they are not due to go out, with why.

    ``written`` has one entry per document (its PDF); ``extras`` the XRechnung XML files beside them.
    """

    written: list[Written] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    extras: list[Written] = field(default_factory=list)
    held: dict[str, str] = field(default_factory=dict)

    def by_status(self, status: str) -> list[Written]:
        """The documents with ``status``."""
        return [w for w in self.written if w.status == status]


def write_documents(documents: Iterable[Document], out_dir: Path, fonts: FontSet,
                    einvoices: Mapping[str, Any] | None = None) -> WriteReport:
    """Render each document not on disk yet into ``out_dir``; leave existing files alone (see module doc).

    :param einvoices: per document key, its e-invoice (:class:`sheetbill.einvoice.build.EInvoiceFile`).
    """
    report = WriteReport()
    einvoices = einvoices or {}
    for document in documents:
        path = out_dir / document.file_name
        einvoice = einvoices.get(document.key)
        if path.resolve().parent != out_dir.resolve():  # safe_file_stem makes this impossible; never write outside
            report.problems.append(_failed(document, f"its file name {document.file_name!r} is not a plain name"))
            continue
        if path.exists():
            same = fingerprint_of(path.read_bytes()) == document.fingerprint()
            report.written.append(Written(document, path, UNCHANGED if same else KEPT))
            if not same:
                report.problems.append(_changed(path, document))
            elif einvoice is not None and not einvoice.embedded:
                _write_xml(report, document, out_dir / einvoice.file_name, einvoice.xml)
            continue
        try:
            if einvoice is not None and einvoice.embedded:
                from ..einvoice.zugferd import embed

                data = embed(render_pdf(document, fonts, pdfa=True), einvoice.xml, title=clean_text(
                    f"{document.title} {document.invoice_no}"), author=clean_text(document.company[0]) if
                    document.company else "", keywords=FINGERPRINT_PREFIX + document.fingerprint(),
                    lang=document.language)
            else:
                data = render_pdf(document, fonts)
        except Exception as err:  # one document that cannot be laid out never stops the others
            report.problems.append(_failed(document, f"it could not be laid out ({type(err).__name__}: {err})"))
            continue
        write_atomic(path, data)
        report.written.append(Written(document, path, NEW))
        if einvoice is not None and not einvoice.embedded:
            _write_xml(report, document, out_dir / einvoice.file_name, einvoice.xml)
    return report


def _write_xml(report: WriteReport, document: Document, path: Path, xml: bytes) -> None:
    """Write an XRechnung file beside its PDF unless it exists; one that says something else is kept."""
    if not path.exists():
        write_atomic(path, xml)
        report.extras.append(Written(document, path, NEW))
    elif path.read_bytes() == xml:
        report.extras.append(Written(document, path, UNCHANGED))
    else:
        report.extras.append(Written(document, path, KEPT))
        report.problems.append(_changed(path, document))
def _failed(document: Document, why: str) -> Problem:
    """The error that ``document`` was not made, on the sheet its history is in."""
    sheet = {KIND_REMINDER: "Reminders", KIND_STATEMENT: "Payments"}.get(document.kind, "Invoices")
    return error(f"{document.key} was not made: {why}; the other documents were made", sheet,
                 code="document-failed")


def _changed(path: Path, document: Document) -> Problem:
    """The warning that ``path`` says something else than the workbook now does for ``document``."""
    if document.kind == KIND_STATEMENT:
        return warning(f"{path.name} was issued before and the accounts now say something else for that period "
                       "(an item dated in it was entered or changed since, or an address, setting or template "
                       "changed): the issued file is kept unchanged. Make a statement as of a later date; to "
                       "replace the file anyway, move the old one out of the folder first", "Payments",
                       code="document-changed")
    return warning(f"{path.name} was issued before and the workbook now says something else for "
                   f"{document.key} (an address, name, description, setting or template changed since): the "
                   "issued file is kept unchanged. To send a correction, issue a credit note and a new "
                   "invoice; to replace the file anyway, move the old one out of the folder first",
                   "Reminders" if document.kind == KIND_REMINDER else "Invoices", code="document-changed")


def combine(paths: Sequence[Path]) -> bytes:
    """One PDF with the pages of ``paths`` in order (the print file)."""
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    for path in paths:
        writer.append(str(path))
    writer.add_metadata({"/Producer": "sheetbill", "/Creator": "sheetbill", "/Title": "letters"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def write_print_file(paths: Sequence[Path], out_dir: Path, day_text: str) -> Path | None:
    """Write the print file of ``paths`` as ``letters <day>.pdf`` in ``out_dir`` and return it
    (``None`` when there is nothing to print). An existing print file with the same pages is reused;
    a different one of the same day is kept and the new one numbered."""
    if not paths:
        return None
    data = combine(paths)
    number = 1
    while True:
        name = f"letters {day_text}.pdf" if number == 1 else f"letters {day_text} ({number}).pdf"
        path = out_dir / name
        if not path.exists():
            write_atomic(path, data)
            return path
        if path.read_bytes() == data:
            return path
        number += 1
