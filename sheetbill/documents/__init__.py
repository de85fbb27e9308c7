"""Invoices, credit notes, reminders and statements of account as PDF documents, and their commands.

The pieces:

* :mod:`.templates` -- wording and labels per document kind and language (TOML, editable per office);
* :mod:`.model` -- the records a document is made of (:class:`Document`, tables, the payment block)
  and the date and amount formats;
* :mod:`.context` -- what building every document of a workbook shares (history indexed, bank checked);
* :mod:`.parties` -- the letterhead and the recipient's address block;
* :mod:`.invoice` -- invoices and credit notes; :mod:`.reminder` -- reminders and payer follow-ups;
  :mod:`.statement` -- statements of account;
* :mod:`.build` -- every document of a workbook, and the check that every text can be printed;
* :mod:`.delivery` -- whether a document goes by email or by letter;
* :mod:`.fonts` -- the embedded fonts; :mod:`.payment` -- IBAN/BIC checks and the EPC QR code text;
* :mod:`.pdf` -- the A4 layout (fpdf2); :mod:`.output` -- files that are never changed once written,
  and the print file;
* :mod:`.make` -- making a workbook's documents, for the command line and the Excel button;
  :mod:`.statements` -- the same for statements of account (``sheetbill statements``, the Statement button).

:func:`make_documents` renders every document of a workbook that has no file yet, into
``<workbook stem> documents/`` beside the workbook, and puts those that go by letter into one
print file; the command line (``sheetbill documents``) says what it did. Sending (email, and the letters' record
in the Sent sheet) is :mod:`sheetbill.sending`. ``docs/documents.md`` is the guide for offices.
"""

from __future__ import annotations

from .config import SETTINGS, is_valid_email, setting
from .delivery import Delivery, delivery_of
from .make import (
    ButtonAnswer,
    DocumentSet,
    DocumentsOutcome,
    button,
    make_documents,
    make_documents_from,
    prepare,
    render_documents,
)
from .model import Document, DocumentBatch, default_out_dir

__all__ = [
    "ButtonAnswer", "Delivery", "Document", "DocumentBatch", "DocumentSet", "DocumentsOutcome", "SETTINGS", "button",
    "default_out_dir", "delivery_of", "is_valid_email", "make_documents",
    "make_documents_from", "prepare", "render_documents", "setting",
]
