"""Every document of a workbook, built from its history and checked before anything is written.

:func:`build_documents` makes the invoices and credit notes (:mod:`.invoice`) and the reminders
and follow-ups (:mod:`.reminder`) of a Book and keeps only those that can be made: no two with
the same name, none that shows payment details while the IBAN is invalid, none with text that no
document font can print (that one is a Problem on the cell the text came from).

Documents are built only from history, never from what a run is about to issue, so rendering is
repeatable: the same workbook gives the same documents on any day.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from ..book import Book
from ..models import BillToType, Reminder
from ..plugins.manager import PluginError, Plugins
from ..problems import Problem, error, warning
from .context import Context
from .fonts import FALLBACK_HINT, FontSet, clean_text
from .invoice import invoice_document
from .model import KIND_CREDIT_NOTE, KIND_INVOICE, KIND_REMINDER, Document, DocumentBatch, Source
from .reminder import reminder_document
from .templates import Templates


def build_documents(book: Book, templates: Templates, fonts: FontSet, plugins: Plugins | None = None,
                    invoice_nos: Iterable[str] | None = None, *, reminders: bool = True) -> DocumentBatch:
    """Every invoice, credit note and reminder of ``book`` (or only those of ``invoice_nos``).

    :param book: the Book as the billing run read it (history included).
    :param templates: the templates of the office's language.
    :param fonts: the fonts, to refuse text that cannot be printed.
    :param plugins: the plugin facade, for the fields payer plugins add to their invoices (``None``: none).
    :param reminders: also build the letters of the Reminders history.
    """
    ctx = Context(book, templates, fonts, plugins)
    wanted = set(invoice_nos) if invoice_nos is not None else None
    batch = DocumentBatch()
    candidates = _invoices(ctx, wanted, batch)
    if reminders:
        candidates += _reminders(ctx, wanted)
    seen: set[str] = set()
    for document, sources in candidates:
        if document.key in seen:
            batch.problems.append(warning(f"two documents would be named {document.key!r}; only the first is made",
                                          "Reminders" if document.kind == KIND_REMINDER else "Invoices",
                                          code="document-name-taken"))
            continue
        seen.add(document.key)
        admit(ctx, batch, document, sources)
    _einvoices(ctx, batch)
    batch.problems[:0] = ctx.problems + [p for p in templates.problems if p not in ctx.problems]
    return batch


def _einvoices(ctx: Context, batch: DocumentBatch) -> None:
    """The e-invoice of every invoice and credit note whose recipient wants one (:mod:`sheetbill.einvoice`);
    a document whose e-invoice cannot be made is not made either (an error says what to fill in)."""
    from ..einvoice.build import einvoice_of

    kept = []
    for document in batch.documents:
        invoice = ctx.invoices.get(document.invoice_no)
        if document.kind not in (KIND_INVOICE, KIND_CREDIT_NOTE) or invoice is None:
            kept.append(document)
            continue
        made, problems = einvoice_of(ctx, invoice, document)
        batch.problems.extend(p for p in problems if p not in batch.problems)
        if any(p.severity == "error" for p in problems):
            batch.skipped[document.key] = "its e-invoice cannot be made"
            batch.sources.pop(document.key, None)
            continue
        if made is not None:
            batch.einvoices[document.key] = made
        kept.append(document)
    batch.documents[:] = kept


def admit(ctx: Context, batch: DocumentBatch, document: Document, sources: list[Source]) -> bool:
    """Add ``document`` to ``batch`` unless it shows payment details while the IBAN is invalid or has text
    no font can print (then it is recorded as skipped, with the Problems); True when it was added."""
    if document.payment is not None and ctx.bank["invalid"]:
        batch.skipped[document.key] = "Bank IBAN is invalid"
        return False
    bad = unprintable(ctx.fonts, ctx.templates, document, sources)
    if bad:
        batch.problems.extend(p for p in bad if p not in batch.problems)
        batch.skipped[document.key] = "text that cannot be printed"
        return False
    batch.documents.append(document)
    batch.sources[document.key] = sources
    return True


def _invoices(ctx: Context, wanted: set[str] | None, batch: DocumentBatch) -> list[tuple[Document, list[Source]]]:
    """The invoices and credit notes; one whose payer plugin fails is a Problem and skipped."""
    made = []
    for invoice in ctx.book.invoices:
        if wanted is not None and invoice.invoice_no not in wanted:
            continue
        if invoice.amount == 0 and invoice.bill_to_type == BillToType.PAYER:
            continue  # everything adjusted: recorded in Invoices, nothing to send the payer
        if invoice.invoice_no in ctx.book.edited_invoices:
            batch.skipped[invoice.invoice_no] = "its issued history was edited: restore the row (see Problems)"
            continue
        try:
            made.append(invoice_document(ctx, invoice))
        except PluginError as err:
            payer = ctx.book.payers.get(invoice.bill_to_id)
            batch.problems.append(error(f"{invoice.invoice_no} is not made: {err}", "Payers",
                                        payer.row if payer else None, "Plugin", code="plugin-error"))
            batch.skipped[invoice.invoice_no] = "plugin error"
    return made


def _reminders(ctx: Context, wanted: set[str] | None) -> list[tuple[Document, list[Source]]]:
    """The letters of the Reminders history, invoice by invoice, each invoice's oldest first."""
    history: dict[str, list[Reminder]] = defaultdict(list)
    for reminder in sorted(ctx.book.reminders, key=lambda r: (r.date, r.level, r.row)):
        history[reminder.invoice_no].append(reminder)
    made = []
    for invoice_no, items in history.items():
        if wanted is not None and invoice_no not in wanted or invoice_no in ctx.book.edited_invoices:
            continue
        made += [letter for letter in (reminder_document(ctx, r) for r in items) if letter is not None]
    return made


def unprintable(fonts: FontSet, templates: Templates, document: Document, sources: list[Source]) -> list[Problem]:
    """Problems for each text of ``document`` that no font can print, on the cell it came from."""
    problems: list[Problem] = []
    by_text = {clean_text(s.text): s for s in sources if s.text}
    reported: set[str] = set()
    for text in document.texts():
        bad = fonts.unrenderable(text)
        if not bad:
            continue
        source = next((s for key, s in by_text.items() if key and key in clean_text(text)), None)
        chars = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad)
        label = source.text if source else text
        if label in reported:
            continue
        reported.add(label)
        message = (f"{label!r} has characters no document font can print correctly: {chars}; "
                   "documents that show it are not made. To fix it, " + _hint(bad))
        if source is not None:
            problems.append(error(message, source.sheet, source.row, source.column, code="unprintable-text"))
        else:
            problems.append(error(message, "Settings", templates.settings_row, "Value", code="unprintable-text"))
    return problems


def _hint(chars: list[str]) -> str:
    """How to fix characters no font prints: Latin letters for scripts without a shaper, else more fonts."""
    if any(unicodedata.bidirectional(ch) in ("R", "AL") or unicodedata.category(ch) in ("Mn", "Mc") for ch in chars):
        return ("write the name in Latin letters (right-to-left and combining scripts need a text shaper "
                "documents do not have yet)")
    return FALLBACK_HINT
