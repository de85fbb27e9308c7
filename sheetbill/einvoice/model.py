"""The e-invoice as EN 16931 sees it: one neutral record, written as CII (:mod:`.cii`) or UBL (:mod:`.ubl`).

The record is made by :mod:`.build` from the same Invoices and Invoice Lines history, parties and
settings the PDF is made from, so the amounts, parties, dates and IBAN are the same facts. Each
field names the business term (``BT-nn``) of EN 16931-1 it carries. Amounts are Decimals, already
rounded to the currency's minor unit (:mod:`sheetbill.money`); quantities and prices keep their digits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

XRECHNUNG_FORMATS = frozenset({"xrechnung", "xrechnung-ubl"})

#: BT-24, the specification identifiers.
XRECHNUNG_ID = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
EN16931_ID = "urn:cen.eu:en16931:2017"
#: BT-23 of XRechnung in UBL (the PEPPOL billing process).
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

TYPE_INVOICE, TYPE_CREDIT_NOTE = "380", "381"
#: UNTDID 4461 payment means: SEPA credit transfer, and "not defined" (credit notes: the money flows back).
MEANS_SEPA_TRANSFER, MEANS_NOT_DEFINED = "58", "1"
#: UN/ECE Recommendation 20: "one" (a unit of a service).
UNIT_ONE = "C62"


@dataclass(frozen=True)
class Address:
    """A postal address (BG-5, BG-8): street line, postal code, city, ISO 3166-1 alpha-2 country."""

    street: str
    postal_code: str
    city: str
    country: str


@dataclass(frozen=True)
class Party:
    """The seller (BG-4) or the buyer (BG-7).

    Attributes:
        name: BT-27 / BT-44.
        address: BG-5 / BG-8.
        vat_id: BT-31 / BT-48, the VAT identifier (``DE123456789``), or "".
        tax_number: BT-32, the seller's national tax number (Steuernummer), or "".
        endpoint, endpoint_scheme: BT-34 / BT-49, the electronic address and its scheme (``EM`` = email).
        contact_name, contact_phone, contact_email: BG-6, the seller's contact (XRechnung requires it).
        identifier: BT-46, the buyer's ID in the seller's books (Customer ID or Payer ID), or "".
    """

    name: str
    address: Address
    vat_id: str = ""
    tax_number: str = ""
    endpoint: str = ""
    endpoint_scheme: str = "EM"
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    identifier: str = ""


@dataclass(frozen=True)
class Line:
    """An invoice line (BG-25).

    The net price is given per base quantity so that ``quantity * price / base_quantity`` is exactly
    the line's net amount (EN 16931 and PEPPOL-EN16931-R120): a price per unit when it divides
    evenly, else the whole net amount per the whole quantity.

    Attributes:
        line_id: BT-126, 1, 2, ...
        name: BT-153, what was supplied (the service's description).
        seller_id: BT-155, the code billed (the payer's code or the practice's service code), or "".
        note: BT-127, e.g. the patient and member ID on payer invoices, or "".
        quantity: BT-129 (negative on a line that reduces the invoice).
        unit: BT-130.
        net: BT-131, the line's net amount (its sign follows the quantity).
        price: BT-146 (never negative); base_quantity: BT-149.
        category, rate: BT-151 / BT-152, the line's VAT category and rate in percent.
        start, end: BG-26, the date (or period) of service, when known.
    """

    line_id: str
    name: str
    quantity: Decimal
    net: Decimal
    price: Decimal
    base_quantity: Decimal
    category: str
    rate: Decimal
    unit: str = UNIT_ONE
    seller_id: str = ""
    note: str = ""
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True)
class TaxBreakdown:
    """One VAT breakdown (BG-23): per category and rate, the taxable amount and the tax.

    Attributes:
        category, rate: BT-118 / BT-119.
        basis: BT-116; tax: BT-117.
        exemption_reason: BT-120, the text (categories E, AE, K, G, O), or "".
        exemption_code: BT-121, e.g. ``VATEX-EU-132-1C``, or "".
    """

    category: str
    rate: Decimal
    basis: Decimal
    tax: Decimal
    exemption_reason: str = ""
    exemption_code: str = ""


@dataclass(frozen=True)
class Payment:
    """How to pay (BG-16): the means code (BT-81), the seller's IBAN (BT-84), BIC (BT-86), account
    name (BT-85) and the remittance information (BT-83)."""

    means: str
    iban: str = ""
    bic: str = ""
    account_name: str = ""
    reference: str = ""


@dataclass(frozen=True)
class EInvoice:
    """One invoice or credit note as an EN 16931 e-invoice.

    Amounts are as the recipient reads them: a credit note (type 381) states positive amounts, the
    credit it grants. ``line_total`` (BT-106) is the sum of the line nets, ``tax_exclusive`` (BT-109)
    the same (sheetbill has no document-level allowances or charges), ``tax_total`` (BT-110) the sum of
    the breakdown's tax, ``tax_inclusive`` (BT-112) their sum, ``rounding`` (BT-114) and ``payable``
    (BT-115) what is to be paid.

    Attributes:
        format: a key of :data:`FORMATS`.
        number: BT-1; type_code: BT-3; issue_date: BT-2; due_date: BT-9 (``None`` on credit notes).
        currency: BT-5.
        buyer_reference: BT-10 (the Leitweg-ID for German public bodies), or "".
        seller, buyer: BG-4, BG-7.
        lines, taxes: BG-25, BG-23.
        payment: BG-16; payment_terms: BT-20 (text), or "".
        preceding, preceding_date: BT-25 / BT-26, the invoice a credit note credits.
        notes: BT-22, e.g. the exemption note printed on the PDF.
        period_start, period_end: BG-14, the dates of service the invoice covers.
    """

    format: str
    number: str
    type_code: str
    issue_date: dt.date
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    taxes: tuple[TaxBreakdown, ...]
    line_total: Decimal
    tax_total: Decimal
    tax_inclusive: Decimal
    payable: Decimal
    payment: Payment
    due_date: dt.date | None = None
    buyer_reference: str = ""
    rounding: Decimal = Decimal("0")
    payment_terms: str = ""
    preceding: str = ""
    preceding_date: dt.date | None = None
    notes: tuple[str, ...] = ()
    period_start: dt.date | None = None
    period_end: dt.date | None = None

    @property
    def tax_exclusive(self) -> Decimal:
        """BT-109: the line total (no document-level allowances or charges)."""
        return self.line_total

    @property
    def is_credit_note(self) -> bool:
        """Type 381."""
        return self.type_code == TYPE_CREDIT_NOTE

    @property
    def guideline(self) -> str:
        """BT-24: XRechnung's identifier for XRechnung, else plain EN 16931 (the ZUGFeRD EN 16931 profile)."""
        return XRECHNUNG_ID if self.format in XRECHNUNG_FORMATS else EN16931_ID


def amount_text(value: Decimal) -> str:
    """An amount as EN 16931 writes it: two decimals, no exponent, ``.`` as decimal point."""
    value = value.quantize(Decimal("0.01"))
    return f"{abs(value) if value == 0 else value:f}"


def number_text(value: Decimal) -> str:
    """A quantity, price or percent without exponent and without trailing zeros (``19``, ``2.5``)."""
    text = f"{abs(value) if value == 0 else value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
