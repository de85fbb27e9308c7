"""The bank import's open items, booked one group of parties at a time, against the whole ledger."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest

from sheetbill.book import load_book
from sheetbill.io.xlsx import read_workbook
from sheetbill.models import InvoiceKind
from sheetbill.open_items import OpenItems
from sheetbill.run import ledger_as_of, run_billing
from tests.helpers import book, sheet, with_outputs

WORKBOOKS = Path(__file__).resolve().parents[1] / "workbooks"


def whole_ledger(loaded):
    """Invoice No -> (open, oldest due, open installments) from one ledger of every party."""
    ledger, _ = ledger_as_of(loaded, dt.date.max)
    plans = {plan.invoice_no: plan for plan in loaded.plans}
    result = {}
    for invoice_no, receivable in ledger.receivables.items():
        if receivable.invoice.kind == InvoiceKind.CREDIT_NOTE:
            continue
        plan = plans.get(invoice_no)
        installments = () if plan is None or receivable.invoice.amount <= 0 else tuple(
            (i.number, i.balance) for i in receivable.installments(plan, loaded.settings.as_of) if i.balance > 0)
        result[invoice_no] = (receivable.balance, receivable.oldest_due, installments)
    return result


def settled_one_by_one(loaded, seed):
    """The same, each invoice settled on its own, in a random order."""
    accounts = OpenItems(loaded)
    items = list(accounts.items.values())
    random.Random(seed).shuffle(items)
    for item in items:
        accounts.settle([item])
    return {item.invoice_no: (item.open, item.due_date, item.installments) for item in accounts.items.values()}


@pytest.mark.parametrize("name", ["medical", "utility"])
def test_each_group_booked_alone_is_what_the_whole_ledger_books(name):
    sheets = read_workbook(WORKBOOKS / f"demo-{name}.xlsx")
    loaded, _ = load_book(with_outputs(sheets, run_billing(sheets).outputs))
    expected = whole_ledger(loaded)
    assert any(value[0] > 0 for value in expected.values()) and any(value[2] for value in expected.values())
    assert settled_one_by_one(loaded, 1) == expected


def test_payments_on_account_stay_with_their_customer():
    """Credit on account pays its customer's invoice and nobody else's, however the groups are booked."""
    charges = [("K1", "2026-01-05", "C1", "S", 1), ("K2", "2026-01-20", "C1", "S", 1),
               ("K3", "2026-01-06", "C2", "S", 1), ("K4", "2026-01-07", "C3", "S", 2)]
    sheets = book(
        sheet("Settings", ("Setting", "Value"), ("Invoice Prefix", "INV-")),
        sheet("Customers", ("Customer ID", "Name"), ("C1", "Anna"), ("C2", "Bernd"), ("C3", "Clara")),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Session", 80)),
        sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity"), *charges),
        sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount", "Type", "Customer ID"),
              ("P1", "2026-02-10", None, 100, "Payment", "C1"), ("P2", "2026-02-11", None, 30, "Payment", "C3")),
    )
    billed = with_outputs(sheets, run_billing(sheets, as_of=dt.date(2026, 1, 31)).outputs)
    loaded, problems = load_book(billed)
    assert not [p for p in problems if p.severity == "error"]
    expected = whole_ledger(loaded)
    customer_of = {invoice.invoice_no: invoice.customer_id for invoice in loaded.invoices}
    assert {customer_of[no]: value[0] for no, value in expected.items()} == {
        "C1": Decimal("60.00"), "C2": Decimal("80.00"), "C3": Decimal("130.00")}
    for seed in range(5):
        assert settled_one_by_one(loaded, seed) == expected


def test_a_credit_note_to_another_party_books_with_the_invoice_it_credits():
    """A credit note billed to C2 for C1's invoice, its rest credit of C2; another billed to C3 for C2's
    invoice: the three customers' accounts are one group, however their invoices are settled."""
    header = ("Invoice No", "Kind", "Issue Date", "Due Date", "Bill To Type", "Bill To ID", "Bill To Name",
              "Customer ID", "Amount", "Related Invoice")
    history = [
        ("INV-000001", "Invoice", "2026-01-10", "2026-01-24", "Customer", "C1", "Anna", "C1", 100, None),
        ("INV-000002", "Invoice", "2026-01-11", "2026-01-25", "Customer", "C2", "Bernd", "C2", 50, None),
        ("INV-000003", "Invoice", "2026-01-12", "2026-01-26", "Customer", "C3", "Clara", "C3", 70, None),
        ("INV-000004", "Credit Note", "2026-01-20", "2026-01-20", "Customer", "C2", "Bernd", "C2", -130, "INV-000001"),
        ("INV-000005", "Credit Note", "2026-01-21", "2026-01-21", "Customer", "C3", "Clara", "C3", -60, "INV-000002"),
    ]
    sheets = book(
        sheet("Settings", ("Setting", "Value"), ("Invoice Prefix", "INV-")),
        sheet("Customers", ("Customer ID", "Name"), ("C1", "Anna"), ("C2", "Bernd"), ("C3", "Clara")),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Session", 80)),
        sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity")),
        sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount", "Type")),
        sheet("Invoices", header, *history),
    )
    loaded, problems = load_book(sheets, as_of=dt.date(2026, 2, 1))
    assert problems == []
    expected = whole_ledger(loaded)
    # 100 of the first note pay INV-000001, its 30 left pay INV-000002 (C2's); the second note's 20 finish
    # INV-000002 and its 40 left reduce C3's INV-000003 from 70 to 30.
    assert {no: value[0] for no, value in expected.items()} == {
        "INV-000001": Decimal("0.00"), "INV-000002": Decimal("0.00"), "INV-000003": Decimal("30.00")}
    for seed in range(6):
        assert settled_one_by_one(loaded, seed) == expected


def test_a_group_without_payments_still_books_its_plan_fees_and_hand_off():
    """Only a group of invoices alone is owed just what they were issued for: a plan, a reminder's fee
    and interest, a hand-off's interest change what is open, with no payment in the group."""
    header = ("Invoice No", "Kind", "Issue Date", "Due Date", "Bill To Type", "Bill To ID", "Bill To Name",
              "Customer ID", "Amount", "Related Invoice")
    history = [(f"INV-00000{n}", "Invoice", "2026-01-10", "2026-01-24", "Customer", f"C{n}", f"Name {n}", f"C{n}",
                100, None) for n in range(1, 5)]
    sheets = book(
        sheet("Settings", ("Setting", "Value"), ("Invoice Prefix", "INV-")),
        sheet("Customers", ("Customer ID", "Name"), *[(f"C{n}", f"Name {n}") for n in range(1, 5)]),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Session", 80)),
        sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity")),
        sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount", "Type")),
        sheet("Payment Plans", ("Plan ID", "Invoice No", "Installments", "First Due Date", "Interval Months"),
              ("PL1", "INV-000001", 4, "2026-02-01", 1)),
        sheet("Invoices", header, *history),
        sheet("Reminders", ("Date", "Invoice No", "Level", "Fee", "Interest Charged"),
              ("2026-02-10", "INV-000002", 1, 5, 1.25)),
        sheet("Collections", ("Invoice No", "Customer ID", "Principal", "Interest", "Agency", "Handed Over On"),
              ("INV-000003", "C3", 100, 2.5, "Inkasso", "2026-03-01")),
    )
    loaded, problems = load_book(sheets, as_of=dt.date(2026, 3, 10))
    assert [p for p in problems if p.severity == "error"] == []
    expected = whole_ledger(loaded)
    assert expected["INV-000001"][2] and expected["INV-000001"][1] == dt.date(2026, 2, 1)  # the plan's
    assert expected["INV-000002"][0] > 100 and expected["INV-000003"][0] > 100  # fees on top
    assert expected["INV-000004"] == (Decimal("100.00"), dt.date(2026, 1, 24), ())  # invoices alone
    for seed in range(4):
        assert settled_one_by_one(loaded, seed) == expected
