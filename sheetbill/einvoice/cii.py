"""An :class:`~.model.EInvoice` as UN/CEFACT Cross Industry Invoice (CII D16B) XML.

This is the syntax of XRechnung-CII and of the XML a ZUGFeRD / Factur-X PDF embeds. Elements are
written in the order the CII schema demands; every amount carries two decimals. The output is
deterministic: the same invoice always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

from .model import PEPPOL_PROFILE, EInvoice, Line, Party, TaxBreakdown, amount_text, number_text

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
_PREFIXES = {"rsm": RSM, "ram": RAM, "qdt": QDT, "udt": UDT}


def _tag(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{_PREFIXES[prefix]}}}{local}"


def _el(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, _tag(name), attributes)
    if text is not None:
        element.text = text
    return element


def _date(parent: ET.Element, name: str, day: dt.date, qualified: bool = False) -> None:
    holder = _el(parent, name)
    _el(holder, "qdt:DateTimeString" if qualified else "udt:DateTimeString", day.strftime("%Y%m%d"), format="102")


def _money(parent: ET.Element, name: str, value: Decimal, currency: str | None = None) -> None:
    if currency:
        _el(parent, name, amount_text(value), currencyID=currency)
    else:
        _el(parent, name, amount_text(value))


def to_cii(invoice: EInvoice) -> bytes:
    """The CII XML of ``invoice``, UTF-8 with an XML declaration."""
    for prefix, uri in _PREFIXES.items():
        ET.register_namespace(prefix, uri)
    root = ET.Element(_tag("rsm:CrossIndustryInvoice"))
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:BusinessProcessSpecifiedDocumentContextParameter"), "ram:ID", PEPPOL_PROFILE)
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", invoice.guideline)
    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", invoice.number)
    _el(document, "ram:TypeCode", invoice.type_code)
    _date(document, "ram:IssueDateTime", invoice.issue_date)
    for note in invoice.notes:
        _el(_el(document, "ram:IncludedNote"), "ram:Content", note)
    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    for line in invoice.lines:
        _line(transaction, line)
    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    if invoice.buyer_reference:
        _el(agreement, "ram:BuyerReference", invoice.buyer_reference)
    _party(agreement, "ram:SellerTradeParty", invoice.seller, seller=True)
    _party(agreement, "ram:BuyerTradeParty", invoice.buyer, seller=False)
    _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    _settlement(transaction, invoice)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _line(transaction: ET.Element, line: Line) -> None:
    item = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
    document = _el(item, "ram:AssociatedDocumentLineDocument")
    _el(document, "ram:LineID", line.line_id)
    if line.note:
        _el(_el(document, "ram:IncludedNote"), "ram:Content", line.note)
    product = _el(item, "ram:SpecifiedTradeProduct")
    if line.seller_id:
        _el(product, "ram:SellerAssignedID", line.seller_id)
    _el(product, "ram:Name", line.name)
    agreement = _el(item, "ram:SpecifiedLineTradeAgreement")
    price = _el(agreement, "ram:NetPriceProductTradePrice")
    _el(price, "ram:ChargeAmount", number_text(line.price))
    if line.base_quantity != 1:
        _el(price, "ram:BasisQuantity", number_text(line.base_quantity), unitCode=line.unit)
    delivery = _el(item, "ram:SpecifiedLineTradeDelivery")
    _el(delivery, "ram:BilledQuantity", number_text(line.quantity), unitCode=line.unit)
    settlement = _el(item, "ram:SpecifiedLineTradeSettlement")
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _el(tax, "ram:TypeCode", "VAT")
    _el(tax, "ram:CategoryCode", line.category)
    if line.category != "O":
        _el(tax, "ram:RateApplicablePercent", number_text(line.rate))
    if line.start is not None:
        period = _el(settlement, "ram:BillingSpecifiedPeriod")
        _date(period, "ram:StartDateTime", line.start)
        _date(period, "ram:EndDateTime", line.end or line.start)
    summation = _el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _money(summation, "ram:LineTotalAmount", line.net)


def _party(agreement: ET.Element, name: str, party: Party, *, seller: bool) -> None:
    element = _el(agreement, name)
    if party.identifier:
        _el(element, "ram:ID", party.identifier)
    _el(element, "ram:Name", party.name)
    if seller and (party.contact_name or party.contact_phone or party.contact_email):
        contact = _el(element, "ram:DefinedTradeContact")
        if party.contact_name:
            _el(contact, "ram:PersonName", party.contact_name)
        if party.contact_phone:
            _el(_el(contact, "ram:TelephoneUniversalCommunication"), "ram:CompleteNumber", party.contact_phone)
        if party.contact_email:
            _el(_el(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", party.contact_email)
    address = _el(element, "ram:PostalTradeAddress")
    if party.address.postal_code:
        _el(address, "ram:PostcodeCode", party.address.postal_code)
    if party.address.street:
        _el(address, "ram:LineOne", party.address.street)
    if party.address.city:
        _el(address, "ram:CityName", party.address.city)
    _el(address, "ram:CountryID", party.address.country)
    if party.endpoint:
        _el(_el(element, "ram:URIUniversalCommunication"), "ram:URIID", party.endpoint, schemeID=party.endpoint_scheme)
    if party.vat_id:
        _el(_el(element, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_id, schemeID="VA")
    if seller and party.tax_number:
        _el(_el(element, "ram:SpecifiedTaxRegistration"), "ram:ID", party.tax_number, schemeID="FC")


def _settlement(transaction: ET.Element, invoice: EInvoice) -> None:
    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    if invoice.payment.reference:
        _el(settlement, "ram:PaymentReference", invoice.payment.reference)
    _el(settlement, "ram:InvoiceCurrencyCode", invoice.currency)
    means = _el(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
    _el(means, "ram:TypeCode", invoice.payment.means)
    if invoice.payment.iban:
        account = _el(means, "ram:PayeePartyCreditorFinancialAccount")
        _el(account, "ram:IBANID", invoice.payment.iban)
        if invoice.payment.account_name:
            _el(account, "ram:AccountName", invoice.payment.account_name)
        if invoice.payment.bic:
            _el(_el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", invoice.payment.bic)
    for breakdown in invoice.taxes:
        _tax(settlement, breakdown)
    if invoice.period_start is not None:
        period = _el(settlement, "ram:BillingSpecifiedPeriod")
        _date(period, "ram:StartDateTime", invoice.period_start)
        _date(period, "ram:EndDateTime", invoice.period_end or invoice.period_start)
    if invoice.payment_terms or invoice.due_date is not None:
        terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
        if invoice.payment_terms:
            _el(terms, "ram:Description", invoice.payment_terms)
        if invoice.due_date is not None:
            _date(terms, "ram:DueDateDateTime", invoice.due_date)
    total = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _money(total, "ram:LineTotalAmount", invoice.line_total)
    _money(total, "ram:TaxBasisTotalAmount", invoice.tax_exclusive)
    _money(total, "ram:TaxTotalAmount", invoice.tax_total, invoice.currency)
    if invoice.rounding:
        _money(total, "ram:RoundingAmount", invoice.rounding)
    _money(total, "ram:GrandTotalAmount", invoice.tax_inclusive)
    _money(total, "ram:DuePayableAmount", invoice.payable)
    if invoice.preceding:
        reference = _el(settlement, "ram:InvoiceReferencedDocument")
        _el(reference, "ram:IssuerAssignedID", invoice.preceding)
        if invoice.preceding_date is not None:
            _date(reference, "ram:FormattedIssueDateTime", invoice.preceding_date, qualified=True)


def _tax(settlement: ET.Element, breakdown: TaxBreakdown) -> None:
    tax = _el(settlement, "ram:ApplicableTradeTax")
    _money(tax, "ram:CalculatedAmount", breakdown.tax)
    _el(tax, "ram:TypeCode", "VAT")
    if breakdown.exemption_reason:
        _el(tax, "ram:ExemptionReason", breakdown.exemption_reason)
    _money(tax, "ram:BasisAmount", breakdown.basis)
    _el(tax, "ram:CategoryCode", breakdown.category)
    if breakdown.exemption_code:
        _el(tax, "ram:ExemptionReasonCode", breakdown.exemption_code)
    if breakdown.category != "O":
        _el(tax, "ram:RateApplicablePercent", number_text(breakdown.rate))
