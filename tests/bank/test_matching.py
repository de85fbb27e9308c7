"""Rule 2 of the matcher on its own: invoice numbers in the purpose text, however they end and are written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sheetbill.bank.entries import BankEntry
from sheetbill.bank.matching import INVOICE_NUMBER, Matcher, OpenItem

DUE = dt.date(2026, 3, 15)
NUMBERS = ("INV-000010", "INV-000100", "INV-000101", "INV-001000", "INV-2026-000120", "R-90", "7700", "B-5")


def matcher() -> Matcher:
    items = [OpenItem(no, f"C{n}", DUE, Decimal(10 + n)) for n, no in enumerate(NUMBERS)]
    return Matcher(items, [])


@pytest.mark.parametrize(("purpose", "invoice_no"), [
    ("Rechnung INV-000010", "INV-000010"),
    ("inv 10 danke", "INV-000010"),
    ("INV0000100", "INV-000100"),
    ("Rg. inv-000-101", "INV-000101"),
    ("INV 1000", "INV-001000"),
    ("001000", "INV-001000"),
    ("INV-2026-000120", "INV-2026-000120"),
    ("inv2026000120", "INV-2026-000120"),
    ("R 90", "R-90"),
    ("Nr. 7700", "7700"),
    ("b5", "B-5"),
])
def test_an_invoice_number_ending_in_zeros_is_found_however_it_is_written(purpose, invoice_no):
    amount = Decimal("1.00")  # no amount fits: the number alone must name the invoice
    match = matcher().match(BankEntry(amount, "EUR", purpose=purpose, entry_id="E1"))
    assert (match.rule, [a.invoice_no for a in match.allocations]) == (INVOICE_NUMBER, [invoice_no])


@pytest.mark.parametrize("purpose", ["INV-000001", "INV-000011", "INV-0001001", "R-9", "R-900", "770"])
def test_a_near_miss_names_nothing(purpose):
    match = matcher().match(BankEntry(Decimal("1.00"), "EUR", purpose=purpose, entry_id="E1"))
    assert match.rule == "" and match.allocations == ()
