"""E-invoices written by ``documents`` and sent by ``send``, checked with the official validators.

The workbook is the one of ``conftest.py``: a public body (XRechnung CII with a Leitweg-ID), an
employer (ZUGFeRD), an insurer and a business customer (XRechnung UBL), exempt and mixed-rate
invoices and two credit notes. Every file is run through the official CEN EN 16931 and KoSIT
XRechnung 3.0.2 rules (``../shared/oracles/einvoice``) in one process; the amounts, numbers, dates
and parties are compared with the Invoices sheet and with the PDF's text.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from sheetbill.documents.make import prepare, render_documents
from tests.einvoice.conftest import PAYERS, einvoice_inputs, fatal, invoices_and_lines, validate

RSM = "{urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100}"
RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"
UDT = "{urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100}"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
AS_OF = dt.date(2026, 6, 30)
XML_FILES = ["INV-000001.xml", "INV-000003.xml", "INV-000004.xml", "INV-000005.xml", "INV-000006.xml"]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The documents of the workbook, made once: (output folder, the DocumentSet, the report)."""
    out = tmp_path_factory.mktemp("einvoices")
    documents = prepare(einvoice_inputs(), out / "practice.xlsx", out / "docs")
    report, _ = render_documents(documents, day=AS_OF)
    return out / "docs", documents, report


@pytest.fixture(scope="module")
def verdicts(made):
    """The official validators' verdict on every e-invoice made, with the XRechnung rules."""
    folder, _, _ = made
    return validate([folder / name for name in XML_FILES] + [folder / "INV-000002.pdf"])


def embedded_xml(pdf: Path) -> bytes:
    """The factur-x.xml a ZUGFeRD PDF carries."""
    return PdfReader(pdf).attachments["factur-x.xml"][0]


def pdf_text(pdf: Path) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages)


def test_each_party_gets_its_format_beside_or_inside_the_pdf(made):
    folder, documents, report = made
    assert documents.problems == [] and documents.batch.skipped == {}
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([f"INV-00000{n}.pdf" for n in range(1, 7)] + XML_FILES)
    assert ET.fromstring((folder / "INV-000001.xml").read_bytes()).tag == f"{RSM}CrossIndustryInvoice"
    assert ET.fromstring((folder / "INV-000003.xml").read_bytes()).tag.endswith("}Invoice")
    assert ET.fromstring((folder / "INV-000005.xml").read_bytes()).tag.endswith("}CreditNote")
    hybrid = ET.fromstring(embedded_xml(folder / "INV-000002.pdf"))
    assert hybrid.find(f"{RSM}ExchangedDocument/{RAM}ID").text == "INV-000002"
    # PDF/A-3 with the XML as an associated file of relationship Data, as Factur-X requires
    reader = PdfReader(folder / "INV-000002.pdf")
    root = reader.trailer["/Root"]
    assert root["/AF"][0].get_object()["/AFRelationship"] == "/Data" and "/OutputIntents" in root
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp or "<pdfaid:part>3</pdfaid:part>" in xmp
    assert "EN 16931" in xmp and "factur-x.xml" in xmp


@pytest.mark.parametrize("name", [*XML_FILES, "INV-000002.pdf"])
def test_every_einvoice_passes_the_official_en16931_and_xrechnung_rules(verdicts, name):
    assert fatal(verdicts[name]) == []


def _cii_totals(root) -> dict[str, Decimal]:
    total = root.find(f"{RSM}SupplyChainTradeTransaction/{RAM}ApplicableHeaderTradeSettlement/"
                      f"{RAM}SpecifiedTradeSettlementHeaderMonetarySummation")
    return {el.tag.split("}")[1]: Decimal(el.text) for el in total}


def _ubl_totals(root) -> dict[str, Decimal]:
    total = root.find(f"{CAC}LegalMonetaryTotal")
    values = {el.tag.split("}")[1]: Decimal(el.text) for el in total}
    values["TaxTotalAmount"] = Decimal(root.find(f"{CAC}TaxTotal/{CBC}TaxAmount").text)
    return values


def test_the_amounts_are_the_invoices_sheets_net_tax_and_amount(made):
    folder, _, _ = made
    invoices, _ = invoices_and_lines()
    for row in invoices:
        number, kind, amount, net, tax = row[0], row[1], Decimal(row[8]), Decimal(row[10]), Decimal(row[11])
        sign = -1 if kind == "Credit Note" else 1
        if number == "INV-000002":
            root = ET.fromstring(embedded_xml(folder / "INV-000002.pdf"))
        else:
            root = ET.fromstring((folder / f"{number}.xml").read_bytes())
        if root.tag == f"{RSM}CrossIndustryInvoice":
            t = _cii_totals(root)
            got = (t["LineTotalAmount"], t["TaxBasisTotalAmount"], t["TaxTotalAmount"], t["GrandTotalAmount"],
                   t["DuePayableAmount"])
        else:
            t = _ubl_totals(root)
            got = (t["LineExtensionAmount"], t["TaxExclusiveAmount"], t["TaxTotalAmount"], t["TaxInclusiveAmount"],
                   t["PayableAmount"])
        assert got == (sign * net, sign * net, sign * tax, sign * (net + tax), sign * amount), number


def test_number_dates_parties_and_iban_are_those_the_pdf_prints(made):
    folder, _, _ = made
    root = ET.fromstring((folder / "INV-000001.xml").read_bytes())
    text = pdf_text(folder / "INV-000001.pdf")
    assert root.find(f"{RSM}ExchangedDocument/{RAM}ID").text == "INV-000001" and "INV-000001" in text
    issued = root.find(f"{RSM}ExchangedDocument/{RAM}IssueDateTime/{UDT}DateTimeString").text
    assert issued == "20260131" and "Datum 31.01.2026" in text
    settlement = root.find(f"{RSM}SupplyChainTradeTransaction/{RAM}ApplicableHeaderTradeSettlement")
    due = settlement.find(f"{RAM}SpecifiedTradePaymentTerms/{RAM}DueDateDateTime/{UDT}DateTimeString").text
    assert due == "20260302" and "Fällig am 02.03.2026" in text
    iban = settlement.find(f"{RAM}SpecifiedTradeSettlementPaymentMeans/{RAM}PayeePartyCreditorFinancialAccount/"
                           f"{RAM}IBANID").text
    assert iban == "DE89370400440532013000" and "DE89 3704 0044 0532 0130 00" in text
    agreement = root.find(f"{RSM}SupplyChainTradeTransaction/{RAM}ApplicableHeaderTradeAgreement")
    assert agreement.find(f"{RAM}BuyerReference").text == "991-33333TEST-33"
    seller = agreement.find(f"{RAM}SellerTradeParty")
    buyer = agreement.find(f"{RAM}BuyerTradeParty")
    assert seller.find(f"{RAM}Name").text == "Praxis Dr. Weber" and "Praxis Dr. Weber" in text
    assert buyer.find(f"{RAM}Name").text == PAYERS[0][1] and PAYERS[0][1] in text
    address = seller.find(f"{RAM}PostalTradeAddress")
    assert [address.find(f"{RAM}{tag}").text for tag in ("PostcodeCode", "LineOne", "CityName", "CountryID")] == [
        "10435", "Kastanienallee 21", "Berlin", "DE"]
    assert settlement.find(f"{RAM}PaymentReference").text == "INV-000001"


def test_exempt_lines_carry_category_e_and_the_reason_and_the_patient_but_no_more(made):
    folder, _, _ = made
    root = ET.fromstring((folder / "INV-000001.xml").read_bytes())
    taxes = root.findall(f"{RSM}SupplyChainTradeTransaction/{RAM}ApplicableHeaderTradeSettlement/"
                         f"{RAM}ApplicableTradeTax")
    assert [(t.find(f"{RAM}CategoryCode").text, t.find(f"{RAM}ExemptionReason").text) for t in taxes] == [
        ("E", "Steuerfrei nach § 4 Nr. 14 UStG")]
    notes = [n.text for n in root.iter(f"{RAM}Content")]
    assert notes == ["Patient/in: Max Mustermann; Versichertennummer: BG-12345//0001"] * 2  # as the PDF's header
    whole = (folder / "INV-000001.xml").read_text()
    assert "max@example.org" not in whole and "Lindenstraße" not in whole  # the patient's contact stays out


def test_a_mixed_rate_invoice_has_one_breakdown_per_rate(made):
    folder, _, _ = made
    root = ET.fromstring((folder / "INV-000004.xml").read_bytes())
    subtotals = [(s.find(f"{CAC}TaxCategory/{CBC}ID").text, s.find(f"{CAC}TaxCategory/{CBC}Percent").text,
                  s.find(f"{CBC}TaxableAmount").text, s.find(f"{CBC}TaxAmount").text)
                 for s in root.iter(f"{CAC}TaxSubtotal")]
    assert subtotals == [("S", "19", "130.00", "24.70"), ("S", "7", "25.00", "1.75"), ("E", "0", "40.00", "0.00")]


def test_credit_notes_are_type_381_and_name_the_invoice_they_credit(made):
    folder, _, _ = made
    ubl = ET.fromstring((folder / "INV-000005.xml").read_bytes())
    assert ubl.find(f"{CBC}CreditNoteTypeCode").text == "381"
    reference = ubl.find(f"{CAC}BillingReference/{CAC}InvoiceDocumentReference")
    assert (reference.find(f"{CBC}ID").text, reference.find(f"{CBC}IssueDate").text) == ("INV-000004", "2026-01-31")
    cii = ET.fromstring((folder / "INV-000006.xml").read_bytes())
    assert cii.find(f"{RSM}ExchangedDocument/{RAM}TypeCode").text == "381"
    referenced = cii.find(f"{RSM}SupplyChainTradeTransaction/{RAM}ApplicableHeaderTradeSettlement/"
                          f"{RAM}InvoiceReferencedDocument/{RAM}IssuerAssignedID")
    assert referenced.text == "INV-000001"


def test_a_second_documents_run_writes_nothing_new(made):
    folder, documents, _ = made
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    again = prepare(einvoice_inputs(), folder.parent / "practice.xlsx", folder)
    report, _ = render_documents(again, day=AS_OF)
    assert [w for w in [*report.written, *report.extras] if w.status != "unchanged"] == []
    assert report.problems == [] and {p.name: p.read_bytes() for p in folder.iterdir()} == before


def _broken(xml: bytes, pattern: str, replacement: str) -> bytes:
    changed, count = re.subn(pattern, replacement, xml.decode(), count=1)
    assert count == 1
    return changed.encode()


def test_the_validator_rejects_a_broken_invoice(made, tmp_path):
    folder, _, _ = made
    xml = (folder / "INV-000001.xml").read_bytes()
    no_reference = tmp_path / "no-buyer-reference.xml"
    no_reference.write_bytes(_broken(xml, r"<ram:BuyerReference>[^<]*</ram:BuyerReference>", ""))
    wrong_total = tmp_path / "wrong-total.xml"
    wrong_total.write_bytes(_broken(xml, r"<ram:GrandTotalAmount>150.00<", "<ram:GrandTotalAmount>151.00<"))
    found = validate([no_reference, wrong_total])
    assert any("BR-DE-15" in line for line in fatal(found["no-buyer-reference.xml"]))
    assert any("BR-CO-15" in line for line in fatal(found["wrong-total.xml"]))


def test_send_attaches_the_xml_once_and_sends_the_hybrid_pdf(tmp_path):
    from tests.documents.test_sending import Recorder, free_port, write_xlsx

    controller_module = pytest.importorskip("aiosmtpd.controller")
    from sheetbill.io.xlsx import read_workbook
    from sheetbill.sending import read_sent, send_pending

    recorder = Recorder()
    controller = controller_module.Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings = (("SMTP Host", "127.0.0.1"), ("SMTP Port", controller.port), ("SMTP Security", "none"),
                    ("Sender Email", "billing@praxis.example"))
        workbook = write_xlsx(tmp_path / "practice.xlsx", einvoice_inputs(settings=settings))
        outcome = send_pending(workbook, AS_OF)
        assert outcome.problems == []
        assert recorder.documents() == Counter({f"INV-00000{n}": 1 for n in (1, 2, 3, 4, 5, 6)})
        by_key = {m["X-Sheetbill-Document"]: m for m in recorder.messages}
        files = {key: [(a.get_filename(), a.get_content_type()) for a in m.iter_attachments()]
                 for key, m in by_key.items()}
        assert files["INV-000001"] == [("INV-000001.pdf", "application/pdf"), ("INV-000001.xml", "application/xml")]
        assert files["INV-000002"] == [("INV-000002.pdf", "application/pdf")]
        attached = [a for a in by_key["INV-000001"].iter_attachments()][1].get_content()
        folder = tmp_path / "practice documents"
        assert (attached if isinstance(attached, bytes) else attached.encode()) == (
            folder / "INV-000001.xml").read_bytes()
        hybrid = next(by_key["INV-000002"].iter_attachments()).get_content()
        assert PdfReader(io.BytesIO(hybrid)).attachments["factur-x.xml"][0] == embedded_xml(folder / "INV-000002.pdf")
        assert len(read_sent(read_workbook(workbook)).rows) == 6
        assert send_pending(workbook, AS_OF).problems == []  # a second send sends nothing
        assert len(recorder.messages) == 6
    finally:
        controller.stop()


def test_an_xrechnung_invoice_that_would_go_by_letter_is_a_warning_on_the_email_cell(tmp_path):
    from tests.documents.test_sending import write_xlsx

    pytest.importorskip("openpyxl")
    from sheetbill.sending import send_pending

    no_email = [PAYERS[0][:3] + (None,) + PAYERS[0][4:10] + ("0204:991-33333TEST-33",), *PAYERS[1:]]
    workbook = write_xlsx(tmp_path / "practice.xlsx", einvoice_inputs(payers=no_email))
    outcome = send_pending(workbook, AS_OF, dry_run=True)
    letters = {document.key for document, channel, _ in outcome.report.planned if channel == "letter"}
    assert letters == {"INV-000001", "INV-000006"}
    warned = [p for p in outcome.problems if p.code == "einvoice-by-letter"]
    assert {(p.sheet, p.row, p.column) for p in warned} == {("Payers", 2, "Email")} and len(warned) == 2
