"""Where a document goes: by email to an address, or by letter to a postal address.

The same rule decides for the print file of ``sheetbill documents`` and for ``sheetbill send``;
the email check is :func:`sheetbill.dunning.is_valid_email`, the one overdue tracking uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..book import Book
from ..models import BillToType
from ..problems import Problem, warning
from .config import is_valid_email
from .model import Document


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
    is_payer = document.recipient_type == BillToType.PAYER
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
