"""An :class:`~.model.EInvoice` as OASIS UBL 2.1 XML: an ``Invoice``, or a ``CreditNote`` for type 381.

This is the syntax of XRechnung-UBL. Elements are written in the order the UBL 2.1 schema demands;
the credit note differs from the invoice in its root, its type code element, its line element
(``CreditNoteLine`` / ``CreditedQuantity``) and where the due date goes.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

from .model import PEPPOL_PROFILE, XRECHNUNG_FORMATS, EInvoice, Line, Party, TaxBreakdown, amount_text, number_text

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _el(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    prefix, local = name.split(":")
    element = ET.SubElement(parent, f"{{{CAC if prefix == 'cac' else CBC}}}{local}", attributes)
    if text is not None:
        element.text = text
    return element


def _money(parent: ET.Element, name: str, value: Decimal, currency: str) -> None:
    _el(parent, name, amount_text(value), currencyID=currency)


def _day(day: dt.date) -> str:
    return day.isoformat()


def to_ubl(invoice: EInvoice) -> bytes:
    """The UBL XML of ``invoice`` (``Invoice`` or ``CreditNote``), UTF-8 with an XML declaration."""
    credit = invoice.is_credit_note
    root_ns = NS_CREDIT_NOTE if credit else NS_INVOICE
    ET.register_namespace("ubl", root_ns)
    ET.register_namespace("cac", CAC)
    ET.register_namespace("cbc", CBC)
    root = ET.Element(f"{{{root_ns}}}{'CreditNote' if credit else 'Invoice'}")
    _el(root, "cbc:CustomizationID", invoice.guideline)
    if invoice.format in XRECHNUNG_FORMATS:
        _el(root, "cbc:ProfileID", PEPPOL_PROFILE)
    _el(root, "cbc:ID", invoice.number)
    _el(root, "cbc:IssueDate", _day(invoice.issue_date))
    if not credit and invoice.due_date is not None:
        _el(root, "cbc:DueDate", _day(invoice.due_date))
    _el(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode", invoice.type_code)
    for note in invoice.notes:
        _el(root, "cbc:Note", note)
    _el(root, "cbc:DocumentCurrencyCode", invoice.currency)
    if invoice.buyer_reference:
        _el(root, "cbc:BuyerReference", invoice.buyer_reference)
    if invoice.period_start is not None:
        period = _el(root, "cac:InvoicePeriod")
        _el(period, "cbc:StartDate", _day(invoice.period_start))
        _el(period, "cbc:EndDate", _day(invoice.period_end or invoice.period_start))
    if invoice.preceding:
        reference = _el(_el(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        _el(reference, "cbc:ID", invoice.preceding)
        if invoice.preceding_date is not None:
            _el(reference, "cbc:IssueDate", _day(invoice.preceding_date))
    _party(_el(root, "cac:AccountingSupplierParty"), invoice.seller, seller=True)
    _party(_el(root, "cac:AccountingCustomerParty"), invoice.buyer, seller=False)
    _payment(root, invoice)
    _taxes(root, invoice)
    total = _el(root, "cac:LegalMonetaryTotal")
    _money(total, "cbc:LineExtensionAmount", invoice.line_total, invoice.currency)
    _money(total, "cbc:TaxExclusiveAmount", invoice.tax_exclusive, invoice.currency)
    _money(total, "cbc:TaxInclusiveAmount", invoice.tax_inclusive, invoice.currency)
    if invoice.rounding:
        _money(total, "cbc:PayableRoundingAmount", invoice.rounding, invoice.currency)
    _money(total, "cbc:PayableAmount", invoice.payable, invoice.currency)
    for line in invoice.lines:
        _line(root, line, invoice.currency, credit)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _party(holder: ET.Element, party: Party, *, seller: bool) -> None:
    element = _el(holder, "cac:Party")
    if party.endpoint:
        _el(element, "cbc:EndpointID", party.endpoint, schemeID=party.endpoint_scheme)
    if party.identifier:
        _el(_el(element, "cac:PartyIdentification"), "cbc:ID", party.identifier)
    address = _el(element, "cac:PostalAddress")
    if party.address.street:
        _el(address, "cbc:StreetName", party.address.street)
    if party.address.city:
        _el(address, "cbc:CityName", party.address.city)
    if party.address.postal_code:
        _el(address, "cbc:PostalZone", party.address.postal_code)
    _el(_el(address, "cac:Country"), "cbc:IdentificationCode", party.address.country)
    if party.vat_id:
        scheme = _el(element, "cac:PartyTaxScheme")
        _el(scheme, "cbc:CompanyID", party.vat_id)
        _el(_el(scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
    if seller and party.tax_number:
        scheme = _el(element, "cac:PartyTaxScheme")
        _el(scheme, "cbc:CompanyID", party.tax_number)
        _el(_el(scheme, "cac:TaxScheme"), "cbc:ID", "FC")
    _el(_el(element, "cac:PartyLegalEntity"), "cbc:RegistrationName", party.name)
    if seller and (party.contact_name or party.contact_phone or party.contact_email):
        contact = _el(element, "cac:Contact")
        if party.contact_name:
            _el(contact, "cbc:Name", party.contact_name)
        if party.contact_phone:
            _el(contact, "cbc:Telephone", party.contact_phone)
        if party.contact_email:
            _el(contact, "cbc:ElectronicMail", party.contact_email)


def _payment(root: ET.Element, invoice: EInvoice) -> None:
    means = _el(root, "cac:PaymentMeans")
    _el(means, "cbc:PaymentMeansCode", invoice.payment.means)
    if invoice.is_credit_note and invoice.due_date is not None:
        _el(means, "cbc:PaymentDueDate", _day(invoice.due_date))
    if invoice.payment.reference:
        _el(means, "cbc:PaymentID", invoice.payment.reference)
    if invoice.payment.iban:
        account = _el(means, "cac:PayeeFinancialAccount")
        _el(account, "cbc:ID", invoice.payment.iban)
        if invoice.payment.account_name:
            _el(account, "cbc:Name", invoice.payment.account_name)
        if invoice.payment.bic:
            _el(_el(account, "cac:FinancialInstitutionBranch"), "cbc:ID", invoice.payment.bic)
    if invoice.payment_terms:
        _el(_el(root, "cac:PaymentTerms"), "cbc:Note", invoice.payment_terms)


def _category(parent: ET.Element, name: str, category: str, rate: Decimal, breakdown: TaxBreakdown | None = None):
    element = _el(parent, name)
    _el(element, "cbc:ID", category)
    if category != "O":
        _el(element, "cbc:Percent", number_text(rate))
    if breakdown is not None and breakdown.exemption_code:
        _el(element, "cbc:TaxExemptionReasonCode", breakdown.exemption_code)
    if breakdown is not None and breakdown.exemption_reason:
        _el(element, "cbc:TaxExemptionReason", breakdown.exemption_reason)
    _el(_el(element, "cac:TaxScheme"), "cbc:ID", "VAT")


def _taxes(root: ET.Element, invoice: EInvoice) -> None:
    total = _el(root, "cac:TaxTotal")
    _money(total, "cbc:TaxAmount", invoice.tax_total, invoice.currency)
    for breakdown in invoice.taxes:
        subtotal = _el(total, "cac:TaxSubtotal")
        _money(subtotal, "cbc:TaxableAmount", breakdown.basis, invoice.currency)
        _money(subtotal, "cbc:TaxAmount", breakdown.tax, invoice.currency)
        _category(subtotal, "cac:TaxCategory", breakdown.category, breakdown.rate, breakdown)


def _line(root: ET.Element, line: Line, currency: str, credit: bool) -> None:
    element = _el(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
    _el(element, "cbc:ID", line.line_id)
    if line.note:
        _el(element, "cbc:Note", line.note)
    _el(element, "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity", number_text(line.quantity),
        unitCode=line.unit)
    _money(element, "cbc:LineExtensionAmount", line.net, currency)
    if line.start is not None:
        period = _el(element, "cac:InvoicePeriod")
        _el(period, "cbc:StartDate", _day(line.start))
        _el(period, "cbc:EndDate", _day(line.end or line.start))
    item = _el(element, "cac:Item")
    _el(item, "cbc:Name", line.name)
    if line.seller_id:
        _el(_el(item, "cac:SellersItemIdentification"), "cbc:ID", line.seller_id)
    _category(item, "cac:ClassifiedTaxCategory", line.category, line.rate)
    price = _el(element, "cac:Price")
    _el(price, "cbc:PriceAmount", number_text(line.price), currencyID=currency)
    if line.base_quantity != 1:
        _el(price, "cbc:BaseQuantity", number_text(line.base_quantity), unitCode=line.unit)
