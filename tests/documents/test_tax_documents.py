"""Tax on documents: an exempt medical invoice (German) prints its exemption reason and the Tax Number;
a utility invoice prints net and VAT per rate; an untaxed workbook prints nothing of tax."""

from __future__ import annotations

import datetime as dt

import pytest

from sheetbill.documents import prepare, render_documents
from tests.documents.conftest import history, inputs, plugins, workbook_path
from tests.documents.test_render import text_of
from tests.helpers import sheet

EXEMPT = "Steuerfrei nach § 4 Nr. 14 UStG"


def documents_of(sheets, tmp_path, fonts):
    documents = prepare(sheets, workbook_path(tmp_path), fonts=fonts, plugins=plugins())
    report, _ = render_documents(documents, day=dt.date(2026, 2, 1))
    return {w.document.key: w for w in report.written}


def exempt_practice(language="de"):
    sheets = inputs(settings=[("Language", language), ("Tax Number", "21/815/08150")])
    sheets["Services"] = sheet("Services", ("Service Code", "Description", "Price", "Tax Category", "Tax Exemption"),
                               ("S1", "Beratung", 120, "E", EXEMPT), ("S2", "Blutbild", "45.50", "E", EXEMPT))
    return history(sheets, "2026-01-31")


def test_an_exempt_medical_invoice_prints_its_exemption_reason_and_the_tax_number(tmp_path, fonts):
    written = documents_of(exempt_practice(), tmp_path, fonts)
    text = text_of(written["INV-000004"].path)  # Anna Schmidt, self-pay: 45.50
    for expected in ("Steuernummer 21/815/08150", EXEMPT, "Blutbild", "45,50 EUR"):
        assert expected in text, expected
    assert "Umsatzsteuer" not in text  # exempt: no VAT line, the note says why
    payer = text_of(written["INV-000001"].path)
    assert EXEMPT in payer and "21/815/08150" in payer


def test_a_utility_invoice_prints_net_and_vat_per_rate(tmp_path, fonts):
    sheets = inputs(settings=[("Tax Number", "231/114/50427"), ("VAT ID", "DE136695976"), ("Default Notice", "yes")],
                    charges=[("1", "2026-01-05", "C3", "S1", 1, None), ("2", "2026-01-05", "C3", "S2", 2, None)])
    sheets["Services"] = sheet("Services", ("Service Code", "Description", "Price", "Tax Rate"),
                               ("S1", "District heating base fee", "14.90", 19), ("S2", "Water per m³", "2.15", 7))
    written = documents_of(history(sheets, "2026-01-31"), tmp_path, fonts)
    text = text_of(written["INV-000001"].path)
    # net prices: 14.90 at 19 % -> 2.83; 4.30 at 7 % -> 0.30; total 22.33
    for expected in ("Tax number 231/114/50427", "VAT ID DE136695976", "Net amount at 19 % 14.90 EUR",
                     "VAT 19 % 2.83 EUR", "Net amount at 7 % 4.30 EUR", "VAT 7 % 0.30 EUR", "Total 22.33 EUR",
                     "§ 286 (3) BGB"):
        assert expected in text, expected


def test_an_untaxed_workbook_prints_nothing_of_tax(tmp_path, fonts):
    written = documents_of(history(inputs(), "2026-01-31"), tmp_path, fonts)
    text = text_of(written["INV-000004"].path)
    assert not any(word in text for word in ("VAT", "Tax number", "Net amount", "§ 286"))


@pytest.mark.parametrize("language", ["en", "de"])
def test_small_business_prints_the_section_19_note(tmp_path, fonts, language):
    sheets = inputs(settings=[("Language", language), ("Small Business", "yes")])
    written = documents_of(history(sheets, "2026-01-31"), tmp_path, fonts)
    assert "§ 19 UStG" in text_of(written["INV-000004"].path)
