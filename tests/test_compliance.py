"""``sheetbill check`` names what a German invoice would lack under § 14 (4) UStG (§ 33 UStDV for small
amounts), and warns a German sender whose workbook has no tax information; ``bill`` reports neither."""

from __future__ import annotations

import datetime as dt

from sheetbill import app
from sheetbill.plugins.manager import Plugins, get_plugin_manager
from tests.helpers import book, sheet

AS_OF = dt.date(2026, 3, 1)


def workbook(settings=(), services_header=("Service Code", "Description", "Price", "Tax Rate"),
             services=(("HEAT", "District heating", 300, 19), ("READ", "Meter reading", 12, 19)),
             customers=(("C1", "Ahmet Öztürk", "Georg-Schwarz-Straße 31", "04177", "Leipzig"),
                        ("C2", "Peter Schulz", None, None, None))):
    return book(
        sheet("Settings", ("Setting", "Value"), *settings),
        sheet("Customers", ("Customer ID", "Name", "Street", "Postal Code", "City"), *customers),
        sheet("Services", services_header, *services),
        sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity"),
              ("1", "2026-02-01", "C1", "HEAT", 1), ("2", "2026-02-01", "C2", "HEAT", 1),
              ("3", "2026-02-01", "C2", "READ", 1)),
    )


def check(sheets):
    plugins = Plugins(get_plugin_manager(entry_points=False))
    return app.check(app.SheetsInMemory(sheets), as_of=AS_OF, plugins=plugins).result.problems


def requirements(problems):
    return sorted((p.sheet, p.row, p.column, p.message) for p in problems if p.code == "invoice-requirement-missing")


def test_check_names_each_missing_item_with_the_invoices_it_concerns():
    found = requirements(check(workbook()))
    assert [(sheet, row, column) for sheet, row, column, _ in found] == [
        ("Customers", 3, "Street"), *[("Settings", None, "Value")] * 3]
    messages = "\n".join(message for *_, message in found)
    for item in ("the sender's full name", "the sender's address", "the sender's Tax Number or VAT ID",
                 "the recipient's full address: fill in Street, Postal Code and City of Peter Schulz"):
        assert item in messages, item
    # the 357.00 EUR invoice to C1 lacks the tax number too; both lack the sender's name and address
    assert "2 invoices (INV-000001, INV-000002) would lack the sender's full name" in messages


def test_a_complete_sender_and_recipients_leave_nothing_to_report():
    settings = (("Company Name", "Stadtwerke Lindenau GmbH"), ("Company Address", "Am Wasserturm 3, 04179 Leipzig"),
                ("Tax Number", "231/114/50427"))
    customers = (("C1", "Ahmet Öztürk", "Georg-Schwarz-Straße 31", "04177", "Leipzig"),
                 ("C2", "Peter Schulz", "Hahnemannstraße 7", "04177", "Leipzig"))
    assert requirements(check(workbook(settings, customers=customers))) == []


def test_small_amounts_need_no_recipient_address_nor_tax_number():
    settings = (("Company Name", "Stadtwerke"), ("Company Address", "Am Wasserturm 3, 04179 Leipzig"))
    services = (("HEAT", "District heating", 100, 19), ("READ", "Meter reading", 12, 19))
    assert requirements(check(workbook(settings, services=services))) == []  # 119.00 and 133.28 EUR


def test_an_untaxed_german_workbook_is_warned_and_its_invoices_lack_the_tax():
    sheets = workbook((("Company Name", "Praxis"), ("Company Address", "Kastanienallee 21, 10435 Berlin")),
                      services_header=("Service Code", "Description", "Price"),
                      services=(("HEAT", "Consultation", 80), ("READ", "Report", 12)))
    problems = check(sheets)
    assert [p.code for p in problems if p.code == "tax-info-missing"] == ["tax-info-missing"]
    assert any("the net amount per tax rate, the rate and the tax (or the exemption reason)" in message
               for *_, message in requirements(problems))
    # billing the same workbook adds nothing to any amount and reports none of this
    plugins = Plugins(get_plugin_manager(entry_points=False))
    billed = app.bill(app.SheetsInMemory(sheets), as_of=AS_OF, plugins=plugins).result
    assert not [p for p in billed.problems if p.code in ("tax-info-missing", "invoice-requirement-missing")]
    assert [i.amount for i in billed.issued.invoices] == [80, 92]


def test_a_sender_outside_germany_is_not_held_to_section_14():
    sheets = workbook((("Country", "AT"),), services_header=("Service Code", "Description", "Price"),
                      services=(("HEAT", "Consultation", 80), ("READ", "Report", 12)))
    assert [p for p in check(sheets) if p.code in ("tax-info-missing", "invoice-requirement-missing")] == []
    usd = workbook((("Currency", "USD"),))
    assert requirements(check(usd)) == []
