"""What a document says, resolved: the records every document kind is made of, and the formats.

:class:`Document` is the finished content of one document, every label already in the office's
language, every amount already formatted, so the PDF renderer only lays it out and the same
content always gives the same PDF. Its :meth:`Document.fingerprint` is a hash of what is printed:
two renderings say the same thing exactly when their fingerprints match, whatever fpdf2 version
or font build produced the bytes.

The documents themselves are made by :mod:`.invoice` (invoices and credit notes),
:mod:`.reminder` (reminders and payer follow-ups) and :mod:`.statement` (statements of account),
from the parties of :mod:`.parties`, all of them for a whole workbook by :mod:`.build`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..money import ZERO, quantize
from ..problems import Problem
from .templates import Templates

#: The kinds of document (:attr:`Document.kind`).
KIND_INVOICE, KIND_CREDIT_NOTE, KIND_REMINDER, KIND_STATEMENT = "invoice", "credit_note", "reminder", "statement"


#: Characters no file name may hold on Windows, macOS or Linux (and control characters).
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
#: Names Windows reserves for devices, whatever the extension.
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)
#: The longest file stem written, in UTF-8 bytes (file systems allow 255 per name; room for ".pdf" and more).
MAX_STEM_BYTES = 150


def safe_file_stem(name: str) -> str:
    """``name`` as the stem of a file in one folder: never a path, never a reserved or over-long name.

    Path separators, characters Windows forbids and control characters become ``_``; leading dots and
    spaces and trailing dots and spaces go (no hidden files, no ``..``); a Windows device name (``CON``,
    ``LPT1``) gets a leading ``_``; a stem longer than :data:`MAX_STEM_BYTES` is cut and ends in a short
    hash of the whole name, so two long names stay apart. A clean name (``INV-000001 reminder 2``)
    is returned unchanged, so existing files keep their names.
    """
    stem = _UNSAFE_CHARS.sub("_", name).strip(" .")
    if _RESERVED.match(stem):
        stem = f"_{stem}"
    if len(stem.encode("utf-8")) > MAX_STEM_BYTES:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]
        cut = stem.encode("utf-8")[:MAX_STEM_BYTES - 11].decode("utf-8", "ignore").rstrip(" .")
        stem = f"{cut}~{digest}"
    return stem or "document"


@dataclass(frozen=True)
class Table:
    """A table of a document: headers, relative column widths, alignment and rows of text.

    ``notes`` holds, per row, a second line in small print under the row ("" for none): on
    customer invoices, why the share is theirs.
    """

    headers: tuple[str, ...]
    widths: tuple[float, ...]
    align: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PaymentBlock:
    """How to pay: label/value rows (amount, methods, account holder, IBAN, BIC, reference) and the
    EPC QR code text (``None`` when there is none: not EUR, no IBAN, nothing to pay)."""

    heading: str
    rows: tuple[tuple[str, str], ...]
    qr_payload: str | None = None
    qr_caption: str = ""


@dataclass(frozen=True)
class Document:
    """One document, resolved to the words and numbers it prints.

    Attributes:
        key: the stable name of the document (``INV-000001``, ``INV-000001 reminder 2``); its file is
            ``<key>.pdf`` and the Sent sheet names it.
        kind: ``invoice``, ``credit_note``, ``reminder`` or ``statement``.
        invoice_no: the invoice (or credit note) it is or concerns ("" for a statement of account).
        date: the document's date (issue date, or the reminder's date): also the PDF's creation date.
        recipient_type, recipient_id, recipient_name: who it is for (``Customer`` or ``Payer``).
        email: the recipient's email as the workbook has it (``None`` when blank).
        postal: the address block (name first); ``postal_complete`` when Street, Postal Code and City are set.
        sender_line: the one-line return address printed above the address window.
        company: the letterhead lines (name first).
        title, facts: the heading and the label/value pairs beside the address (numbers, dates, IDs).
        greeting, paragraphs: the text before the table; ``closing_paragraphs`` after the totals.
        table, totals: the lines and the totals (label, amount, bold).
        breakdown_heading, breakdown: on customer invoices, the customer's share by reason.
        payment: how to pay, or ``None`` (credit notes).
        closing, signature, page_label: the letter's end and the page footer (``{page}``/``{pages}``).
        email_subject, email_body: the message the document is sent with.
        amount: the amount the document asks for (negative for a credit note).
        channel, address: how it goes out (``email`` or ``letter``) and where; set for reminders by the
            Reminders history, for invoices from the recipient's Email (else the postal address).
        language: the template language.
    """

    key: str
    kind: str
    invoice_no: str
    date: dt.date
    recipient_type: str
    recipient_id: str
    recipient_name: str
    email: str | None
    postal: tuple[str, ...]
    postal_complete: bool
    sender_line: str
    company: tuple[str, ...]
    title: str
    facts: tuple[tuple[str, str], ...]
    greeting: str
    paragraphs: tuple[str, ...]
    table: Table | None
    totals: tuple[tuple[str, str, bool], ...]
    breakdown_heading: str = ""
    breakdown: tuple[tuple[str, str], ...] = ()
    closing_paragraphs: tuple[str, ...] = ()
    payment: PaymentBlock | None = None
    closing: str = ""
    signature: str = ""
    page_label: str = ""
    email_subject: str = ""
    email_body: str = ""
    amount: Decimal = ZERO
    channel: str | None = None
    address: str | None = None
    language: str = "en"

    @property
    def file_name(self) -> str:
        """``<key>.pdf``: stable, so the same document always lands in the same file; a key made of
        hostile cells (``../x``, ``C:\\x``, ``CON``) is made safe by :func:`safe_file_stem`."""
        return f"{safe_file_stem(self.key)}.pdf"

    def printed(self) -> dict:
        """Everything the PDF shows, as plain data (what :meth:`fingerprint` hashes)."""
        data = asdict(self)
        for name in ("email", "email_subject", "email_body", "channel", "address", "amount", "postal_complete",
                     "recipient_type", "recipient_id", "recipient_name", "language", "kind"):
            data.pop(name)
        return data

    def fingerprint(self) -> str:
        """SHA-256 of :meth:`printed`: equal exactly when two renderings say the same."""
        text = json.dumps(self.printed(), sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def texts(self) -> list[str]:
        """Every string the PDF prints (for the font check)."""
        found: list[str] = []

        def walk(value: object) -> None:
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    walk(item)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)

        walk(self.printed())
        return found


@dataclass(frozen=True)
class Source:
    """Where a printed text came from, so a text that cannot be printed is a Problem on its cell."""

    text: str
    sheet: str
    row: int | None
    column: str


@dataclass
class DocumentBatch:
    """The documents built from a workbook, the sources of their texts, and what was wrong.

    Attributes:
        documents: the documents that can be made, in the order they were built.
        sources: per document key, where its texts came from.
        problems: what is wrong (templates, settings, texts no font can print, plugin errors).
        skipped: per document key (or invoice number), why it is not made.
        einvoices: per document key, the e-invoice that goes with it
            (:class:`sheetbill.einvoice.build.EInvoiceFile`) when its recipient wants one.
    """

    documents: list[Document] = field(default_factory=list)
    sources: dict[str, list[Source]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    einvoices: dict[str, Any] = field(default_factory=dict)


class Formats:
    """Dates, amounts and quantities the way the template's language writes them."""

    def __init__(self, templates: Templates, currency: str):
        self.templates, self.currency = templates, currency
        self.months = list(templates.raw("common", "months"))
        self.point = str(templates.raw("common", "decimal_point"))
        self.thousands = str(templates.raw("common", "thousands_separator"))

    def date(self, day: dt.date | None) -> str:
        """``day`` in the template's date format ("" for none)."""
        if day is None:
            return ""
        return self.templates.text("common", "date", {
            "day": day.day, "day2": f"{day.day:02d}", "month": day.month, "month2": f"{day.month:02d}",
            "month_name": self.months[day.month - 1], "year": day.year})

    def number(self, value: Decimal, places: int | None = None) -> str:
        """``value`` with the language's separators; ``places`` fixed digits, else as few as needed."""
        text = f"{value:,.{places}f}" if places is not None else f"{value.normalize():,f}"
        return text.replace(",", "\0").replace(".", self.point).replace("\0", self.thousands)

    def amount(self, value: Decimal) -> str:
        """An amount rounded to the currency's minor unit, e.g. ``1.234,50 EUR``."""
        rounded = quantize(value, self.currency)
        places = max(0, -rounded.as_tuple().exponent)
        return self.templates.text("common", "amount", {"amount": self.number(rounded, places),
                                                         "currency": self.currency})

    def quantity(self, value: Decimal | None) -> str:
        """A quantity without trailing zeros ("" for none)."""
        return "" if value is None else self.number(value)


def address_lines(address: str | None) -> list[str]:
    """A one-cell address split into its lines (at ``;`` or line breaks), blanks dropped."""
    return [part.strip() for part in re.split(r"[;\n]", address or "") if part.strip()]


def default_out_dir(workbook: Path) -> Path:
    """``<workbook stem> documents`` beside the workbook: where documents go by default."""
    return workbook.with_name(f"{workbook.stem} documents")
