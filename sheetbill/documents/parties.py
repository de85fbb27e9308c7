"""Who a document is from and to: the letterhead, the recipient's address block, the payer's details.

The recipient of an invoice, credit note or reminder is the party the invoice is billed to, a
row of Customers or Payers; each printed text remembers its cell (:class:`~.model.Source`) so a
text no font can print becomes a Problem on that cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..book import Book
from ..contract import OWN_CODE_SYSTEMS
from ..dunning import postal_address
from ..models import BillToType, Coverage, Customer, Invoice, InvoiceLine, Payer, Settings
from .config import setting
from .model import Source, address_lines


@dataclass(frozen=True)
class Letterhead:
    """The sender: the letterhead lines (name first), the one-line return address, and their cells."""

    lines: tuple[str, ...]
    sender_line: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Recipient:
    """Who a document is for.

    Attributes:
        party: the Customers or Payers row (``None`` when the invoice names a party that is gone).
        name: the name printed and emailed to.
        email: the party's Email as the workbook has it (``None`` when blank).
        postal: the address block, name first.
        complete: whether Street, Postal Code and City are all filled in.
        sources: the cells the printed texts come from.
    """

    party: Customer | Payer | None
    name: str
    email: str | None
    postal: tuple[str, ...]
    complete: bool
    sources: tuple[Source, ...]


def letterhead(settings: Settings) -> Letterhead:
    """The practice's letterhead from Settings (Company Name, Company Address, Company Email)."""
    s = settings
    address = address_lines(s.company_address)
    lines = [line for line in (s.company_name, *address, s.company_email) if line]
    sender = " · ".join(line for line in (s.company_name, *address) if line)
    sources = (Source(s.company_name, "Settings", s.rows.get("companyname"), "Value"),
               Source(s.company_address, "Settings", s.rows.get("companyaddress"), "Value"),
               Source(s.company_email, "Settings", s.rows.get("companyemail"), "Value"))
    return Letterhead(tuple(lines), sender, sources)


def recipient(book: Book, invoice: Invoice) -> Recipient:
    """The party ``invoice`` is billed to, with its address block."""
    return party_recipient(book, invoice.bill_to_type, invoice.bill_to_id,
                           Source(invoice.bill_to_name, "Invoices", invoice.row, "Bill To Name"))


def party_recipient(book: Book, party_type: str, party_id: str, fallback: Source) -> Recipient:
    """The Customers or Payers row ``party_id`` with its address block; ``fallback`` names a party that is
    not on its sheet (its text is the name printed, its cell where a bad character is reported)."""
    is_payer = party_type == BillToType.PAYER
    party = (book.payers if is_payer else book.customers).get(party_id)
    sheet = "Payers" if is_payer else "Customers"
    if party is None:
        return Recipient(None, fallback.text, None, (fallback.text,), False, (fallback,))
    city = " ".join(p for p in (party.postal_code, party.city) if p)
    country = getattr(party, "country", None)
    home = str(setting(book.settings, "Company Country") or "DE")
    shown = None if country is None or _same_country(country, home) else country
    block = tuple(p for p in (party.name, party.street, city, shown) if p)
    complete = postal_address(party.street, party.postal_code, party.city) is not None
    sources = (Source(party.name, sheet, party.row, "Name"), Source(party.street or "", sheet, party.row, "Street"),
               Source(party.city or "", sheet, party.row, "City"), Source(country or "", sheet, party.row, "Country"))
    return Recipient(party, party.name, (party.email or "").strip() or None, block, complete, sources)


_COUNTRY_NAMES = {"de": {"de", "deu", "germany", "deutschland"}, "at": {"at", "aut", "austria", "österreich"},
                  "ch": {"ch", "che", "switzerland", "schweiz"}}


def _same_country(country: str, home: str) -> bool:
    """True when ``country`` (a code or a common name) is the sender's country ``home``: no country line."""
    key, home_key = country.strip().casefold(), home.strip().casefold()
    return key == home_key or key in _COUNTRY_NAMES.get(home_key, ())


def coverage_of(book: Book, invoice: Invoice, lines: list[InvoiceLine]) -> Coverage | None:
    """The customer's coverage with the payer of a payer invoice (active on the first date of service)."""
    candidates = [c for c in book.coverage if c.customer_id == invoice.customer_id and c.payer_id == invoice.bill_to_id]
    days = sorted(ln.date_of_service for ln in lines if ln.date_of_service)
    for coverage in candidates:
        if not days or coverage.active_on(days[0]):
            return coverage
    return candidates[0] if candidates else None


def code_system(book: Book, invoice: Invoice) -> str:
    """The payer's Code System, for the Code column header ("" for the practice's own codes)."""
    if invoice.bill_to_type != BillToType.PAYER:
        return ""
    payer = book.payers.get(invoice.bill_to_id)
    system = (payer.code_system or "").strip() if payer else ""
    return "" if system.casefold() in OWN_CODE_SYSTEMS else system


#: Customers Salutation words meaning a man or a woman (German and English); anything else is a greeting of its own.
_SALUTATIONS = {"herr": "male", "herrn": "male", "mr": "male", "mr.": "male", "frau": "female", "mrs": "female",
                "mrs.": "female", "ms": "female", "ms.": "female"}


def salutation_parts(party: Customer | Payer | None) -> dict[str, str]:
    """The placeholders of a personal greeting: ``salutation`` (``male``, ``female``, a free form or ""),
    ``person_title`` (Customers Title), ``last_name`` (the last word of the Name, a title in it left out)
    and ``titled_name`` (title and last name: ``Dr. Berger``)."""
    salutation = (getattr(party, "salutation", None) or "").strip()
    title = (getattr(party, "title", None) or "").strip()
    name = (party.name if party is not None else "").strip()
    words = [w for w in name.split() if w.casefold() not in {t.casefold() for t in title.split()}]
    last = words[-1].strip("()[],;") if words else name
    return {"salutation": _SALUTATIONS.get(salutation.casefold(), salutation), "person_title": title,
            "last_name": last, "titled_name": f"{title} {last}" if title else last}


def greeting_key(templates, values: dict[str, str], *, to_payer: bool) -> str:
    """The key of the letter's greeting in ``common``: for a payer the impersonal one; for a customer with
    Salutation Herr/Frau (Mr/Ms) the personal one (``greeting_male_titled`` when a Title is set); a free-form
    Salutation is used as the greeting line itself (``greeting_own``)."""
    if to_payer:
        return "letter.greeting_payer"
    kind = values.get("salutation", "")
    if kind in ("male", "female"):
        return f"letter.greeting_{kind}_titled" if values.get("person_title") else f"letter.greeting_{kind}"
    return "letter.greeting_own" if kind else "letter.greeting"
