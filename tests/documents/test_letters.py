"""How a letter addresses its reader, in English and German: greeting, address block, headers, footer,
payment offer and how letters to payers name the customer."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest

from sheetbill.documents import prepare
from sheetbill.documents.pdf import render_pdf
from tests.documents.conftest import history, inputs, plugins, workbook_path
from tests.helpers import sheet

pypdf = pytest.importorskip("pypdf")

CUSTOMERS = ("Customer ID", "Name", "Street", "Postal Code", "City", "Country", "Email", "Salutation", "Title")
PEOPLE = [
    ("C1", "Thomas Berger", "Lindenstraße 3", "10115", "Berlin", "DE", "berger@example.org", "Herr", "Dr."),
    ("C2", "Lena Fischer", "Hauptstraße 9", "20095", "Hamburg", "Deutschland", "lena@example.org", "Frau", None),
    ("C3", "Alex Kim", "Rue de la Paix 1", "75002", "Paris", "FR", "alex@example.org", None, None),
]
CHARGES = [("1", "2026-01-05", "C1", "S1", 1, None), ("2", "2026-01-06", "C2", "S1", 1, None),
           ("3", "2026-01-07", "C3", "S2", 1, None)]


def documents_in(language: str, tmp_path, fonts, payer_type: str = "insurer", methods: str = "Bank transfer, or "
                 "card at the reception"):
    sheets = inputs(settings=(("Language", language), ("Payment Methods", methods)), charges=CHARGES)
    sheets["Customers"] = sheet("Customers", CUSTOMERS, *PEOPLE)
    sheets["Payers"] = sheet("Payers", ("Payer ID", "Name", "Type", "Code System", "Email", "Street", "Postal Code",
                                        "City"),
                             ("INS", "Nordkasse", payer_type, "GOÄ", "claims@nordkasse.example", "Kassenweg 1",
                              "20099", "Hamburg"))
    sheets = history(sheets, "2026-01-31")
    documents = prepare(sheets, workbook_path(tmp_path), fonts=fonts, plugins=plugins())
    return {(d.recipient_id, d.kind): d for d in documents.documents}


@pytest.mark.parametrize(("language", "greetings"), [
    ("de", {"C1": "Sehr geehrter Herr Dr. Berger,", "C2": "Sehr geehrte Frau Fischer,",
            "C3": "Guten Tag Alex Kim,", "INS": "Sehr geehrte Damen und Herren,"}),
    ("en", {"C1": "Dear Dr. Berger,", "C2": "Dear Ms Fischer,", "C3": "Dear Alex Kim,", "INS": "Dear Sir or Madam,"}),
])
def test_the_greeting_follows_salutation_and_title(language, greetings, tmp_path, fonts):
    documents = documents_in(language, tmp_path, fonts)
    assert {who: documents[(who, "invoice")].greeting for who in greetings} == greetings


def test_a_free_form_salutation_is_the_greeting_line(tmp_path, fonts):
    people = [PEOPLE[0][:7] + ("Liebe Frau Kim", None)]
    sheets = inputs(settings=(("Language", "de"),), charges=CHARGES[:1])
    sheets["Customers"] = sheet("Customers", CUSTOMERS, *people)
    documents = prepare(history(sheets, "2026-01-31"), workbook_path(tmp_path), fonts=fonts, plugins=plugins())
    assert [d.greeting for d in documents.documents if d.recipient_id == "C1"] == ["Liebe Frau Kim,"]


def test_no_country_line_for_the_senders_country(tmp_path, fonts):
    documents = documents_in("de", tmp_path, fonts)
    assert documents[("C1", "invoice")].postal == ("Thomas Berger", "Lindenstraße 3", "10115 Berlin")
    assert documents[("C2", "invoice")].postal[-1] == "20095 Hamburg"  # Deutschland is DE
    assert documents[("C3", "invoice")].postal[-1] == "FR"


def test_german_payer_invoice_headers_are_distinct_and_payers_are_not_offered_the_reception(tmp_path, fonts):
    documents = documents_in("de", tmp_path, fonts)
    payer = documents[("INS", "invoice")]
    assert len(set(payer.table.headers)) == len(payer.table.headers), payer.table.headers
    assert "Rechnungsbetrag" not in payer.table.headers and "Preis" in payer.table.headers
    assert all("reception" not in value for _, value in payer.payment.rows)
    customer = documents[("C1", "invoice")]
    assert any("reception" in value for _, value in customer.payment.rows)


@pytest.mark.parametrize(("payer_type", "german", "english"), [
    ("insurer", "an Ihr Mitglied Thomas Berger", "to your member Thomas Berger"),
    ("employer", "an Ihre Mitarbeiterin/Ihren Mitarbeiter Thomas Berger", "to your employee Thomas Berger"),
    ("government", "an die leistungsberechtigte Person Thomas Berger", "to the beneficiary Thomas Berger"),
])
def test_letters_to_payers_name_the_customer_by_the_payers_type(payer_type, german, english, tmp_path, fonts):
    de = documents_in("de", tmp_path / "de", fonts, payer_type)[("INS", "invoice")]
    en = documents_in("en", tmp_path / "en", fonts, payer_type)[("INS", "invoice")]
    assert german in " ".join(de.paragraphs) and english in " ".join(en.paragraphs)


def test_the_german_footer_names_the_document_in_german(tmp_path, fonts):
    sheets = history(inputs(settings=(("Language", "de"),)), "2026-01-31", "2026-03-01")
    documents = prepare(sheets, workbook_path(tmp_path), fonts=fonts, plugins=plugins())
    reminder = next(d for d in documents.documents if d.kind == "reminder" and d.recipient_type == "Customer")
    assert f"Zahlungserinnerung {reminder.invoice_no} · Seite 1 von 1" in _first_page(reminder, documents.fonts)
    assert "reminder" not in _first_page(reminder, documents.fonts)
    statement = dataclasses.replace(reminder, invoice_no="", title="Kontoauszug")
    assert "Kontoauszug · Seite 1 von 1" in _first_page(statement, documents.fonts)


def _first_page(document, fonts) -> str:
    reader = pypdf.PdfReader(io.BytesIO(render_pdf(document, fonts)))
    return re.sub(r"\s+", " ", reader.pages[0].extract_text())
