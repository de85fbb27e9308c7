"""Who gets an e-invoice and what it needs: the Leitweg-ID check, the Problems ``check`` reports
(naming the cell to fill in), untaxed history, and what ``documents`` does when something is missing."""

from __future__ import annotations

import datetime as dt

import pytest

from sheetbill.documents.make import prepare, render_documents
from sheetbill.einvoice.leitweg import check_digits, leitweg_problem, looks_like_leitweg_id
from sheetbill.einvoice.requirements import country_code, endpoint, split_address
from sheetbill.run import run_billing
from tests.einvoice.conftest import PAYERS, einvoice_inputs, invoices_and_lines

AS_OF = dt.date(2026, 6, 30)


# The Leitweg-IDs of the KoSIT XRechnung test suite's invoices (BT-10), and KoSIT's test ID with letters.
@pytest.mark.parametrize("text", ["04011000-12345-03", "99000000-18188-18", "1234567890-54321-40",
                                  "04011000-12349-88", "991-33333TEST-33", "04011000-1234512345-06"])
def test_published_leitweg_ids_pass(text):
    assert leitweg_problem(text) is None and looks_like_leitweg_id(text)


def test_a_typing_error_or_a_wrong_shape_is_named():
    assert "check digits 04" in leitweg_problem("04011000-12345-04")
    assert "check digits" in leitweg_problem("04011000-12354-03")  # two digits swapped
    assert "is not a Leitweg-ID" in leitweg_problem("Jobcenter Mitte")
    assert "is not a Leitweg-ID" in leitweg_problem("1-12345-03")  # coarse address too short
    assert check_digits("04011000", "12345") == "03" and check_digits("991", "33333TEST") == "33"


def test_addresses_countries_and_electronic_addresses():
    assert split_address("Kastanienallee 21, 10435 Berlin, Germany") == ("Kastanienallee 21", "10435", "Berlin", "DE")
    assert split_address("Am Wasserturm 3; 04179 Leipzig") == ("Am Wasserturm 3", "04179", "Leipzig", None)
    assert split_address("Somewhere") == ("Somewhere", "", "", None)
    assert country_code("de") == "DE" and country_code("Österreich") == "AT" and country_code("Atlantis") is None
    assert endpoint("a@b.example") == ("a@b.example", "EM")
    assert endpoint("0204:991-33333TEST-33") == ("991-33333TEST-33", "0204")
    assert endpoint("not an address") is None


def problems_of(sheets):
    return [p for p in run_billing(sheets, as_of=AS_OF).problems if p.code in ("einvoice-incomplete",
                                                                                "bad-leitweg-id")]


def test_a_complete_workbook_has_no_einvoice_problems():
    assert problems_of(einvoice_inputs()) == []


def test_check_names_the_cell_of_each_thing_a_party_or_the_seller_lacks():
    payers = [PAYERS[0][:8] + ("991-33333TEST-34", None, None),  # wrong check digits
              PAYERS[1][:4] + (None, None, None, "zugferd", None, None, None),  # ZUGFeRD needs no street
              PAYERS[2][:3] + (None, None, None, None, "xrechnung-ubl", None, None, None)]  # XRechnung does
    sheets = einvoice_inputs(settings=(("Contact Phone", None), ("Tax Number", None), ("VAT ID", None)),
                             payers=payers)
    found = {(p.sheet, p.row, p.column, p.code) for p in problems_of(sheets)}
    assert found == {
        ("Payers", 2, "Buyer Reference", "bad-leitweg-id"),
        ("Payers", 4, "Street", "einvoice-incomplete"), ("Payers", 4, "Postal Code", "einvoice-incomplete"),
        ("Payers", 4, "City", "einvoice-incomplete"), ("Payers", 4, "Buyer Reference", "einvoice-incomplete"),
        ("Payers", 4, "Electronic Address", "einvoice-incomplete"),
        ("Settings", None, "Value", "einvoice-incomplete"),  # Contact Phone and Tax Number have no row now
    }
    messages = " ".join(p.message for p in problems_of(sheets))
    assert "Contact Phone" in messages and "Tax Number or VAT ID" in messages and "should be 33" in messages


def test_a_government_payer_needs_a_leitweg_id_not_just_any_reference():
    payers = [PAYERS[0][:8] + ("Sozialamt Mitte", None, None)]
    problem, = problems_of(einvoice_inputs(payers=payers))
    assert (problem.code, problem.column) == ("bad-leitweg-id", "Buyer Reference")


def test_an_invoice_whose_einvoice_cannot_be_made_is_not_made_and_the_error_says_why(tmp_path):
    payers = [PAYERS[0][:8] + (None, None, None), *PAYERS[1:]]
    documents = prepare(einvoice_inputs(payers=payers), tmp_path / "practice.xlsx", tmp_path / "out")
    assert documents.batch.skipped == {"INV-000001": "its e-invoice cannot be made",
                                       "INV-000006": "its e-invoice cannot be made"}
    errors = [p for p in documents.problems if p.severity == "error"]
    assert {(p.sheet, p.row, p.column) for p in errors} == {("Payers", 2, "Buyer Reference")}
    assert all("wants an e-invoice" in p.message for p in errors)
    render_documents(documents, day=AS_OF)
    assert not (tmp_path / "out" / "INV-000001.pdf").exists() and (tmp_path / "out" / "INV-000003.xml").exists()


def test_untaxed_history_gets_its_pdf_but_no_einvoice(tmp_path):
    invoices, lines = invoices_and_lines()
    legacy = [row[:10] + (None, None) if row[0] == "INV-000001" else row for row in invoices]
    untaxed = [row[:12] + (None, None, None, None) if row[0] == "INV-000001" else row for row in lines]
    documents = prepare(einvoice_inputs(invoices=legacy, lines=untaxed), tmp_path / "p.xlsx", tmp_path / "out")
    problem = next(p for p in documents.problems if p.code == "einvoice-no-tax")
    assert (problem.severity, problem.sheet, problem.row, problem.column) == ("warning", "Invoices", 2, "Net")
    render_documents(documents, day=AS_OF)
    assert (tmp_path / "out" / "INV-000001.pdf").exists() and not (tmp_path / "out" / "INV-000001.xml").exists()


def test_parties_without_an_einvoice_column_get_only_pdfs(tmp_path):
    payers = [row[:7] + (None, None, None, None) for row in PAYERS]
    customers = [("C1", "Max Mustermann", "Lindenstraße 3", "10115", "Berlin", "DE", "max@example.org", None, None,
                  None), ("C2", "Erika Beispiel", "Am Markt 1", "04109", "Leipzig", "DE", None, None, None, None),
                 ("C3", "Hofladen Schmidt GmbH", "Dorfstraße 7", "14467", "Potsdam", "DE", None, None, None, None)]
    documents = prepare(einvoice_inputs(payers=payers, customers=customers), tmp_path / "p.xlsx", tmp_path / "out")
    render_documents(documents, day=AS_OF)
    assert documents.batch.einvoices == {} and {p.suffix for p in (tmp_path / "out").iterdir()} == {".pdf"}
    assert documents.problems == []
