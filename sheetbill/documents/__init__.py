"""Invoices, credit notes and reminders as PDF documents, and the ``sheetbill documents`` command.

The pieces:

* :mod:`.templates` -- wording and labels per document kind and language (TOML, editable per office);
* :mod:`.model` -- what each document says, built from the workbook's history;
* :mod:`.fonts` -- the embedded fonts and the check that every text can be printed;
* :mod:`.payment` -- IBAN/BIC checks and the EPC QR code text;
* :mod:`.pdf` -- the A4 layout (fpdf2);
* :mod:`.output` -- files that are never changed once written, and the print file.

:func:`documents_command` renders every document of a workbook that has no file yet, into
``<workbook stem> documents/`` beside the workbook, and puts those that go by letter into one
print file. Sending (email, and the letters' record in the Sent sheet) is :mod:`sheetbill.sending`.
``docs/documents.md`` is the guide for offices.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..book import Book, load_book
from ..plugins.manager import Plugins
from ..problems import Problem, warning
from ..sheets import RawSheet
from .config import SETTINGS, is_valid_email, setting
from .fonts import FontSet
from .model import Builder, Built, Document, default_out_dir
from .output import NEW, WriteReport, write_documents, write_print_file
from .templates import Templates

__all__ = [
    "Delivery", "Document", "DocumentSet", "default_out_dir", "delivery_of", "documents_command", "is_valid_email",
    "prepare", "render_documents", "setting", "SETTINGS",
]

@dataclass(frozen=True)
class Delivery:
    """How a document goes out: ``email`` to an address, or ``letter`` to a postal address."""

    channel: str
    address: str


def delivery_of(document: Document, book: Book) -> tuple[Delivery | None, Problem | None]:
    """Where ``document`` goes, or the Problem why it cannot go anywhere.

    Reminders go the way the Reminders history recorded. Invoices and credit notes go by email
    when the recipient's Email is a valid address, by letter when it is blank and Street, Postal
    Code and City are filled in. An Email that is not an address is a Problem (it is not replaced
    by a letter: the clerk should correct it).
    """
    is_payer = document.recipient_type == "Payer"
    sheet = "Payers" if is_payer else "Customers"
    party = (book.payers if is_payer else book.customers).get(document.recipient_id)
    row = party.row if party is not None else None
    if document.channel:
        if document.channel == "email":
            if is_valid_email(document.address):
                return Delivery("email", document.address.strip()), None
            return None, warning(f"{document.key}: {document.address!r} is not a valid email address",
                                 sheet, row, "Email", code="bad-email")
        if document.channel == "letter":
            return Delivery("letter", document.address or ", ".join(document.postal[1:])), None
        return None, warning(f"{document.key}: unknown channel {document.channel!r}", "Reminders", None, "Channel",
                             code="edited-history")
    email = document.email
    if email:
        if is_valid_email(email):
            return Delivery("email", email.strip()), None
        return None, warning(f"Email {email!r} is not a valid address: {document.key} cannot be sent; correct it "
                             "(or clear it to send letters)", sheet, row, "Email", code="bad-email")
    if document.postal_complete:
        return Delivery("letter", ", ".join(document.postal[1:])), None
    return None, warning(f"no Email and no complete postal address (Street, Postal Code, City): {document.key} "
                         "cannot be sent", sheet, row, "Email", code="contact-details-missing")


@dataclass
class DocumentSet:
    """A workbook's documents, ready to write or send.

    Attributes:
        book: the workbook's history as read.
        templates, fonts: what the documents are worded and set in.
        built: the documents, and the Problems of those that could not be made.
        out_dir: where their files go.
    """

    book: Book
    templates: Templates
    fonts: FontSet
    built: Built
    out_dir: Path
    problems: list[Problem] = field(default_factory=list)

    @property
    def documents(self) -> list[Document]:
        """The documents that can be made."""
        return self.built.documents


def prepare(sheets: Mapping[str, RawSheet], workbook: Path, out_dir: Path | None = None,
            as_of: dt.date | None = None, *, fonts: FontSet | None = None, book: Book | None = None,
            plugins: Plugins | None = None) -> DocumentSet:
    """Read the workbook's history and build all its documents (nothing is written yet).

    :param sheets: the workbook's sheets as a front end read them.
    :param workbook: the workbook's path (templates and the default output folder are relative to it).
    :param out_dir: where documents go (default ``<workbook stem> documents`` beside the workbook).
    :param fonts: the fonts to use (default: discovered; tests pass a reduced set).
    :param book: an already loaded Book (e.g. ``RunResult.book`` right after a billing run).
    :param plugins: the plugin facade (default: built-ins plus installed plugins), for payer invoice fields.
    """
    if book is None:
        book, _ = load_book(sheets, as_of=as_of)
    settings = book.settings
    folder = setting(settings, "Document Templates")
    office = (workbook.parent / str(folder)).resolve() if folder else None
    templates = Templates.load(settings.language, office, settings_rows=settings.rows)
    fonts = fonts or FontSet.discover(templates.fonts_dir)
    built = Builder(book, templates, fonts, plugins if plugins is not None else Plugins()).build()
    return DocumentSet(book, templates, fonts, built, out_dir or default_out_dir(workbook), list(built.problems))


def render_documents(documents: DocumentSet, *, day: dt.date) -> tuple[WriteReport, Path | None]:
    """Write every document without a file yet, and the print file of the new ones that go by letter."""
    report = write_documents(documents.documents, documents.out_dir, documents.fonts)
    letters = []
    for written in report.by_status(NEW):
        delivery, _ = delivery_of(written.document, documents.book)
        if delivery is not None and delivery.channel == "letter":
            letters.append(written.path)
    return report, write_print_file(letters, documents.out_dir, day.isoformat())


def documents_command(workbook: Path, out: Path | None, as_of: dt.date | None) -> int:
    """``sheetbill documents WORKBOOK [--out DIR]``: render every document that has no file yet.

    Prints what was written and the Problems; returns 0, or 1 when some document could not be made.
    Broken configuration raises :class:`~sheetbill.problems.ConfigurationError` (the CLI exits 2).
    """
    from ..io.xlsx import read_workbook

    sheets = read_workbook(workbook)
    documents = prepare(sheets, workbook, out, as_of)
    day = as_of or documents.book.settings.as_of
    report, print_file = render_documents(documents, day=day)
    problems = documents.problems + report.problems
    new, same, kept = (len(report.by_status(s)) for s in ("new", "unchanged", "kept"))
    print(f"{workbook}: documents in {documents.out_dir}")
    print(f"  written:   {new}")
    print(f"  unchanged: {same}")
    if kept:
        print(f"  kept (the workbook now says something else): {kept}")
    if documents.built.skipped:
        print(f"  not made:  {len(documents.built.skipped)} (see the problems)")
    if print_file is not None:
        print(f"  print file for letters: {print_file.name}")
    for problem in problems:
        print(f"    {problem}", file=sys.stdout)
    return 1 if any(p.severity == "error" for p in problems) else 0
