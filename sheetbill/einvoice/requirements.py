"""Who gets an e-invoice, and what the seller and the buyer must have for one.

A Customers or Payers row whose E-Invoice column says ``xrechnung``, ``xrechnung-ubl`` or ``zugferd``
gets e-invoices. What each needs, with the EN 16931 / XRechnung rule that demands it:

* the seller (Settings): Company Name (BT-27), Company Address with street, postal code and city
  (BT-35, BT-38, BT-37; BR-DE-3, BR-DE-4), Company Country (BT-40; blank: DE for EUR), Tax Number or VAT ID
  (BT-32 / BT-31, BR-S-02, BR-E-02), and VAT ID or a Seller Identifier (BT-29, BR-CO-26); for XRechnung
  also Contact Name, Contact Phone and Contact Email
  (BR-DE-2, -5, -6, -7), an Electronic Address (BT-34; default Company Email) and Bank IBAN for the
  payment instructions (BR-DE-1);
* the buyer: Name, a country (BT-55; blank means the seller's), and for XRechnung Street, Postal Code
  and City (BR-DE-8, BR-DE-9), a Buyer Reference (BT-10, BR-DE-15), which for a public body (Payers
  Type government) must be a valid Leitweg-ID, and an Electronic Address (BT-49; default its Email).

A Buyer Reference shaped like a Leitweg-ID is always checked, for every party. Each lack is a Problem
on the cell to fill in; ``sheetbill check`` and every run report them as warnings, and ``sheetbill
documents`` makes no document for an invoice whose e-invoice cannot be made (an error then).
The functions here read only the Book's records; they are part of every run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..compliance import sender_country
from ..models import Customer, Payer, PayerType, Settings
from ..problems import Problem, warning
from .leitweg import leitweg_problem, looks_like_leitweg_id
from .model import XRECHNUNG_FORMATS, Address, Party

#: Country names people type, for the two-letter codes e-invoices need (any two letters pass as a code).
COUNTRY_NAMES = {
    "germany": "DE", "deutschland": "DE", "austria": "AT", "österreich": "AT", "switzerland": "CH",
    "schweiz": "CH", "france": "FR", "frankreich": "FR", "netherlands": "NL", "niederlande": "NL",
    "belgium": "BE", "belgien": "BE", "luxembourg": "LU", "luxemburg": "LU", "italy": "IT", "italien": "IT",
    "spain": "ES", "spanien": "ES", "poland": "PL", "polen": "PL", "denmark": "DK", "dänemark": "DK",
    "czechia": "CZ", "czech republic": "CZ", "tschechien": "CZ", "united kingdom": "GB", "uk": "GB",
}
_POSTAL_CITY = re.compile(r"^(?:[A-Z]{1,2}[- ])?(\d{4,5})\s+(\S.*)$")
_SCHEME = re.compile(r"^([A-Z]{2}|\d{4}):\s*(\S+)$")
CODE = "einvoice-incomplete"


def wanted_format(party: Customer | Payer | None) -> str | None:
    """The e-invoice a party gets (a key of :data:`~.model.FORMATS`), or ``None``."""
    return (party.e_invoice or None) if party is not None else None


def country_code(text: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 code of ``text`` (``DE``, ``de``, ``Germany``), or ``None`` if unknown."""
    value = (text or "").strip()
    if re.fullmatch(r"[A-Za-z]{2}", value):
        return value.upper()
    return COUNTRY_NAMES.get(value.casefold())


def endpoint(text: str | None) -> tuple[str, str] | None:
    """An electronic address and its scheme: ``name@example.org`` is ``EM``; ``0204:991-12345-67`` or
    ``EM:name@example.org`` name theirs. ``None`` for blank or unusable text."""
    value = (text or "").strip()
    match = _SCHEME.match(value)
    if match:
        return match[2], match[1]
    if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        return value, "EM"
    return None


def split_address(text: str | None) -> tuple[str, str, str, str | None]:
    """Street, postal code, city and country code of a one-cell address such as ``Kastanienallee 21,
    10435 Berlin, Germany`` (parts separated by commas, semicolons or line breaks); "" for what is missing."""
    parts = [part.strip() for part in re.split(r"[,;\n]", text or "") if part.strip()]
    for index, part in enumerate(parts):
        match = _POSTAL_CITY.match(part)
        if match:
            rest = parts[index + 1:]
            country = country_code(rest[0]) if rest else None
            return ", ".join(parts[:index]), match[1], match[2], country
    return ", ".join(parts), "", "", None


def home_country(settings: Settings, in_address: str | None) -> str | None:
    """The practice's country: Company Country (or Country), else the country at the end of Company
    Address, else DE when the Currency is EUR (the rule :mod:`sheetbill.compliance` applies too)."""
    stated = sender_country(settings)
    if stated is not None:
        return country_code(stated)
    return in_address or ("DE" if settings.currency == "EUR" else None)


def seller_party(settings: Settings, fmt: str) -> tuple[Party, list[Problem]]:
    """The seller from Settings, and what it lacks for an e-invoice of format ``fmt``."""
    s, rows = settings, settings.rows
    problems: list[Problem] = []

    def lack(name: str, what: str) -> None:
        problems.append(warning(f"e-invoices need {what}: fill in {name}", "Settings",
                                rows.get(name.replace(" ", "").casefold()), "Value", code=CODE))

    xrechnung = fmt in XRECHNUNG_FORMATS
    street, postal, city, in_address = split_address(s.company_address)
    country = home_country(s, in_address) or ""
    if not s.company_name:
        lack("Company Name", "the seller's name (BT-27)")
    if not (postal and city) or (xrechnung and not street):
        lack("Company Address", "the seller's street, postal code and city, e.g. 'Hauptstraße 1, 10115 Berlin'")
    if not country:
        lack("Company Country", "the seller's country as a two-letter code such as DE")
    if not (s.tax_number or s.vat_id):
        lack("Tax Number", "the seller's Tax Number or VAT ID (BR-S-02, BR-E-02)")
    if not (s.vat_id or s.seller_identifier):
        lack("Seller Identifier", "the seller's VAT ID or, without one, a Seller Identifier such as the practice's "
             "Institutionskennzeichen (BR-CO-26)")
    contact_email = s.contact_email or s.company_email
    address = endpoint(s.electronic_address or s.company_email)
    if xrechnung:
        if not s.contact_name:
            lack("Contact Name", "a contact person of the seller (XRechnung BR-DE-2)")
        if not s.contact_phone:
            lack("Contact Phone", "the contact's phone number (XRechnung BR-DE-6)")
        if not endpoint(contact_email):
            lack("Contact Email", "the contact's email address (XRechnung BR-DE-7)")
        if address is None:
            lack("Electronic Address", "the seller's electronic address, e.g. an email address (BT-34)")
        if not (s.bank_iban or "").strip():
            lack("Bank IBAN", "the account to pay to (XRechnung BR-DE-1)")
    value, scheme = address or ("", "EM")
    party = Party(s.company_name, Address(street, postal, city, country), vat_id=(s.vat_id or "").strip(),
                  tax_number=(s.tax_number or "").strip(), endpoint=value, endpoint_scheme=scheme,
                  contact_name=s.contact_name, contact_phone=s.contact_phone, contact_email=contact_email,
                  identifier=s.seller_identifier)
    return party, problems


def buyer_party(party: Customer | Payer, settings: Settings, fmt: str) -> tuple[Party, str, list[Problem]]:
    """The buyer from its Customers or Payers row, its buyer reference, and what it lacks for ``fmt``."""
    sheet = "Payers" if isinstance(party, Payer) else "Customers"
    problems: list[Problem] = []

    def lack(column: str, text: str) -> None:
        problems.append(warning(f"{party.name}: {text}", sheet, party.row, column, code=CODE))

    xrechnung = fmt in XRECHNUNG_FORMATS
    country = country_code(party.country) if party.country else home_country(
        settings, split_address(settings.company_address)[3])
    if country is None:
        lack("Country", f"Country {party.country!r} is not a two-letter country code such as DE")
    if xrechnung:
        for column, value in (("Street", party.street), ("Postal Code", party.postal_code), ("City", party.city)):
            if not value:
                lack(column, f"XRechnung needs the buyer's {column} (BR-DE-8, BR-DE-9)")
    reference = (party.buyer_reference or "").strip()
    government = isinstance(party, Payer) and party.type == PayerType.GOVERNMENT
    if not reference and xrechnung:
        lack("Buyer Reference", "XRechnung needs a Buyer Reference (BR-DE-15): the Leitweg-ID for a public body, "
             "else the reference the buyer gave you")
    elif reference and (government and xrechnung or looks_like_leitweg_id(reference)):
        why = leitweg_problem(reference)
        if why:
            problems.append(warning(f"{party.name}: Buyer Reference {reference!r} {why}", sheet, party.row,
                                    "Buyer Reference", code="bad-leitweg-id"))
    address = endpoint(party.electronic_address or party.email)
    if party.electronic_address and endpoint(party.electronic_address) is None:
        lack("Electronic Address", f"Electronic Address {party.electronic_address!r} is neither an email address "
             "nor SCHEME:ID (e.g. 0204:991-12345-67)")
    elif address is None and xrechnung:
        lack("Electronic Address", "XRechnung needs the buyer's electronic address (BT-49): an Electronic Address "
             "or an Email")
    value, scheme = address or ("", "EM")
    identifier = party.payer_id if isinstance(party, Payer) else party.customer_id
    buyer = Party(party.name, Address(party.street or "", party.postal_code or "", party.city or "", country or ""),
                  vat_id=(party.vat_id or "").strip(), endpoint=value, endpoint_scheme=scheme, identifier=identifier)
    return buyer, reference, problems


def requirement_problems(settings: Settings, parties: Iterable[Customer | Payer]) -> list[Problem]:
    """What every party that wants e-invoices lacks, and what the seller lacks for them (each once)."""
    problems: list[Problem] = []
    formats: set[str] = set()
    for party in parties:
        fmt = wanted_format(party)
        if fmt is None:
            continue
        formats.add(fmt)
        problems.extend(buyer_party(party, settings, fmt)[2])
    if formats:
        strictest = "xrechnung" if formats & XRECHNUNG_FORMATS else "zugferd"
        problems.extend(seller_party(settings, strictest)[1])
    return problems
