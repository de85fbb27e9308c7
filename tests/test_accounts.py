"""Accounts that add up: the cases a clerk met before the ledger, each as the clerk sees it now.

Every workbook here holds issued invoices (no charges to bill) and the Payments, Contacts and
settings of the case; amounts in the assertions are worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.run import run_billing
from tests.helpers import book, rows_of, sheet, with_outputs

D = dt.date
M = Decimal
INVOICE_HEADER = ("Invoice No", "Kind", "Issue Date", "Due Date", "Bill To Type", "Bill To ID", "Bill To Name",
                  "Customer ID", "Amount", "Related Invoice")
PAYMENT_HEADER = ("Payment ID", "Date", "Invoice No", "Amount", "Type", "Customer ID")


def invoice(no, amount, due, *, customer="C1", kind="Invoice", related=None):
    """An issued customer invoice (issued 30 days before it is due)."""
    return (no, kind, due - dt.timedelta(days=30), due, "Customer", customer, "Ann Lee", customer, amount, related)


def workbook(*invoices, payments=(), settings=(), customers=(("C1", "Ann Lee", "ann@example.org"),)):
    return book(
        sheet("Settings", ("Setting", "Value"), ("Reminder Days", "14, 14, 14"), ("Reminder Fees", "0; 5; 10"),
              ("Collection After Days", 14), ("Collection Agency", "Inkasso Nord"), *settings),
        sheet("Customers", ("Customer ID", "Name", "Email"), *customers),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Session", 80)),
        sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code")),
        sheet("Invoices", INVOICE_HEADER, *invoices),
        sheet("Payments", PAYMENT_HEADER, *payments),
    )


def run(sheets, day):
    return run_billing(sheets, as_of=day, plugins=Plugins(get_plugin_manager(entry_points=False)))


def step(sheets, day):
    """Run on ``day``, write back, run again: the second run must add nothing and write the same."""
    first = run(sheets, day)
    after = with_outputs(sheets, first.outputs)
    second = run(after, day)
    assert second.overdue.issued == [] and second.overdue.handed_over == []
    assert [(o.name, [tuple(r) for r in o.rows]) for o in first.outputs] == \
        [(o.name, [tuple(r) for r in o.rows]) for o in second.outputs]
    return first, after


def by_no(result, sheet_name="Invoices", key="Invoice No"):
    return {row[key]: row for row in rows_of(result.outputs, sheet_name)}


def test_a_patient_who_overpaid_is_not_reminded_on_her_next_invoice():
    # 20,00 EUR typed on a 10.00 invoice: 10.00 is credit, and it pays the next 10.00 invoice.
    sheets = workbook(invoice("A", 10, D(2026, 1, 31)), invoice("B", 10, D(2026, 3, 31)),
                      payments=[("P1", D(2026, 1, 20), "A", "20,00 €", "Payment", None)])
    for day in (D(2026, 4, 14), D(2026, 4, 28), D(2026, 5, 12), D(2026, 6, 30)):
        result, sheets = step(sheets, day)
        assert rows_of(result.outputs, "Reminders") == [] and rows_of(result.outputs, "Collections") == []
    invoices = by_no(result)
    assert (invoices["A"]["Paid"], invoices["A"]["Balance"], invoices["A"]["Status"]) == (M("20.00") - 10, 0, "Paid")
    assert (invoices["B"]["Credited"], invoices["B"]["Balance"], invoices["B"]["Status"]) == (M("10.00"), 0, "Paid")
    account = by_no(result, "Accounts", "Party ID")["C1"]
    assert (account["Paid"], account["Balance"], account["Unapplied Credit"], account["Status"]) == (
        M("20.00"), 0, 0, "Settled")
    allocations = [(a["Source Type"], a["Source"], a["Invoice No"], a["Amount"])
                   for a in rows_of(result.outputs, "Allocations")]
    assert allocations == [("Payment", "P1", "A", M("10.00")), ("Credit", "P1", "B", M("10.00"))]


def test_paying_exactly_what_a_reminder_asks_settles_the_invoice():
    # ERPNext's dunning case: 100.00 + fee 10.00 + interest 0.41 = 110.41.
    # 10 % a year for 15 days on 100.00: 100 x 0.10 x 15 / 365 = 0.4109... -> 0.41.
    settings = [("Reminder Days", "15, 15"), ("Reminder Fees", "10; 10"), ("Interest Rate", "10")]
    sheets = workbook(invoice("INV-1", 100, D(2026, 1, 31)), settings=settings)
    result, sheets = step(sheets, D(2026, 2, 15))
    [reminder] = rows_of(result.outputs, "Reminders")
    assert (reminder["Principal"], reminder["Fees"], reminder["Interest"], reminder["Amount Due"]) == (
        M("100.00"), M("10.00"), M("0.41"), M("110.41"))
    sheets["Payments"] = sheet("Payments", PAYMENT_HEADER, ("P1", D(2026, 2, 20), "INV-1", "110.41", None, None))
    result, _ = step(sheets, D(2026, 3, 31))
    row = by_no(result)["INV-1"]
    assert (row["Amount"], row["Fees"], row["Interest"], row["Paid"], row["Balance"], row["Status"]) == (
        M("100.00"), M("10.00"), M("0.41"), M("110.41"), 0, "Paid")
    assert not [a for a in result.advice if a.topic == "credit"]
    parts = [(a["Part"], a["Amount"]) for a in rows_of(result.outputs, "Allocations")]
    assert parts == [("Fee", M("10.00")), ("Interest", M("0.41")), ("Principal", M("100.00"))]  # § 367 BGB


def test_interest_after_a_partial_payment_runs_on_what_is_still_open():
    # 1,000.00 due 2026-01-31, 500.00 paid on 2026-03-02 (30 days later), reminder on 2026-04-01:
    # 1000 x 8 % x 30/365 + 500 x 8 % x 30/365 = 6.5753 + 3.2877 = 9.863 -> 9.86 (not 500 x 60 days = 6.58).
    settings = [("Reminder Days", "60, 14, 14"), ("Interest Rate", "8 %")]
    sheets = workbook(invoice("INV-1", 1000, D(2026, 1, 31)), settings=settings,
                      payments=[("P1", D(2026, 3, 2), "INV-1", 500, None, None)])
    result, _ = step(sheets, D(2026, 4, 1))
    [reminder] = rows_of(result.outputs, "Reminders")
    assert (reminder["Principal"], reminder["Interest"], reminder["Interest Charged"]) == (
        M("500.00"), M("9.86"), M("9.86"))
    assert by_no(result)["INV-1"]["Interest"] == M("9.86")


def test_an_amount_with_more_decimals_than_cents_is_a_problem_and_the_payment_is_skipped():
    sheets = workbook(invoice("INV-1", 80, D(2026, 1, 31)),
                      payments=[("P1", D(2026, 1, 20), "INV-1", "79.996", None, None)])
    result = run(sheets, D(2026, 1, 31))
    assert [(p.code, p.sheet, p.row, p.column) for p in result.problems] == [
        ("too-many-decimals", "Payments", 2, "Amount")]
    row = by_no(result)["INV-1"]
    assert (row["Paid"], row["Balance"], row["Status"]) == (0, M("80.00"), "Open")


def test_a_payment_with_a_customer_id_pays_the_oldest_open_items_and_a_refund_pays_back_credit():
    sheets = workbook(invoice("A", 30, D(2026, 1, 31)), invoice("B", 50, D(2026, 2, 28)),
                      payments=[("P1", D(2026, 3, 5), None, 100, None, "C1"),
                                ("R1", D(2026, 3, 6), None, 20, "Refund", "C1")])
    result = run(sheets, D(2026, 3, 31))
    invoices = by_no(result)
    assert (invoices["A"]["Paid"], invoices["B"]["Paid"]) == (M("30.00"), M("50.00"))
    account = by_no(result, "Accounts", "Party ID")["C1"]
    assert (account["Paid"], account["Unapplied Credit"], account["Balance"]) == (M("80.00"), 0, 0)


def test_with_apply_credits_manual_the_credit_waits_and_advice_says_where_it_could_go():
    sheets = workbook(invoice("A", 10, D(2026, 1, 31)), invoice("B", 10, D(2026, 3, 31)),
                      payments=[("P1", D(2026, 1, 20), "A", 20, None, None)], settings=[("Apply Credits", "manual")])
    result = run(sheets, D(2026, 4, 30))
    assert by_no(result)["B"]["Balance"] == M("10.00")
    assert rows_of(result.outputs, "Reminders") == []  # the account as a whole owes nothing
    account = by_no(result, "Accounts", "Party ID")["C1"]
    assert (account["Unapplied Credit"], account["Balance"], account["Status"]) == (M("10.00"), 0, "Settled")
    assert any(a.topic == "credit" and "B" in str(a.text) for a in result.advice)


def test_a_refund_larger_than_the_credit_is_a_problem():
    sheets = workbook(invoice("A", 10, D(2026, 1, 31)), payments=[("R1", D(2026, 1, 20), None, 5, "Refund", "C1")])
    result = run(sheets, D(2026, 1, 31))
    assert [p.code for p in result.problems] == ["refund-exceeds-credit"]


def test_every_invoice_row_and_every_account_adds_up():
    sheets = workbook(invoice("A", 100, D(2026, 1, 31)), invoice("B", 40, D(2026, 2, 28)),
                      invoice("CN", -40, D(2026, 3, 1), kind="Credit Note", related="B"),
                      payments=[("P1", D(2026, 2, 1), "A", 60, None, None), ("P2", D(2026, 2, 2), "A", 10, "Write-off",
                                                                             None),
                                ("P3", D(2026, 3, 10), "B", 40, None, None)])
    result = run(sheets, D(2026, 3, 31))
    for row in rows_of(result.outputs, "Invoices"):
        if row["Kind"] == "Invoice":
            assert row["Balance"] == row["Amount"] + row["Fees"] + row["Interest"] - row["Paid"] - row["Credited"] \
                - row["Written Off"] - row["Transferred"]
    invoices = by_no(result)
    # B was paid by its credit note and paid again: the 40.00 payment is credit, and pays A's 30.00.
    assert (invoices["B"]["Credited"], invoices["B"]["Paid"], invoices["B"]["Status"]) == (M("40.00"), 0, "Cancelled")
    assert (invoices["A"]["Paid"], invoices["A"]["Written Off"], invoices["A"]["Credited"], invoices["A"]["Balance"]) \
        == (M("60.00"), M("10.00"), M("30.00"), 0)
    account = by_no(result, "Accounts", "Party ID")["C1"]  # 140 invoiced - 100 paid - 40 credited - 10 off
    assert (account["Balance"], account["Unapplied Credit"], account["Status"]) == (M("-10.00"), M("10.00"), "Credit")


# --- the property: whatever happens, the accounts add up ---------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CENTS = st.integers(min_value=1, max_value=50_000).map(lambda c: M(c) / 100)
START = D(2026, 1, 31)


@st.composite
def histories(draw):
    """Invoices of two customers, credit notes, payments (partial, over, with and without invoice number,
    refunds, write-offs) and as-of dates, in the order a clerk types them."""
    count = draw(st.integers(1, 5))
    invoices, notes = [], []
    for index in range(count):
        customer = draw(st.sampled_from(["C1", "C2"]))
        due = START + dt.timedelta(days=draw(st.integers(0, 90)))
        amount = draw(CENTS)
        invoices.append(invoice(f"I{index}", amount, due, customer=customer))
        if draw(st.booleans()) and draw(st.booleans()):
            part = min(amount, draw(CENTS))
            notes.append(invoice(f"N{index}", -part, due + dt.timedelta(days=draw(st.integers(1, 40))),
                                 customer=customer, kind="Credit Note", related=f"I{index}"))
    payments = []
    for index in range(draw(st.integers(0, 6))):
        target = draw(st.sampled_from(invoices))
        kind = draw(st.sampled_from([None, None, None, "Write-off", "Refund"]))
        named = kind == "Write-off" or draw(st.booleans())
        day = START + dt.timedelta(days=draw(st.integers(-20, 150)))
        payments.append((f"P{index}", day, target[0] if named else None, draw(CENTS), kind,
                         None if named else target[5]))
    days = sorted(draw(st.lists(st.integers(0, 200), min_size=1, max_size=3, unique=True)))
    apply = draw(st.sampled_from(["automatic", "manual"]))
    return invoices + notes, payments, [START + dt.timedelta(days=d) for d in days], apply


def _adds_up(result):
    invoices = rows_of(result.outputs, "Invoices")
    allocations = rows_of(result.outputs, "Allocations")
    for row in invoices:
        if row["Kind"] != "Invoice":
            continue
        assert row["Balance"] == row["Amount"] + row["Fees"] + row["Interest"] - row["Paid"] - row["Credited"] \
            - row["Written Off"] - row["Transferred"]
        allocated = sum((a["Amount"] for a in allocations if a["Invoice No"] == row["Invoice No"]), M(0))
        assert allocated == row["Paid"] + row["Credited"] + row["Written Off"] + row["Transferred"]
        settled = row["Status"] in ("Paid", "Cancelled", "Written Off", "Transferred")
        assert settled == (row["Balance"] == 0), row
        assert row["Balance"] >= 0
    accounts = rows_of(result.outputs, "Accounts")
    assert sum((a["Balance"] for a in accounts), M(0)) == \
        sum((r["Balance"] for r in invoices if r["Kind"] == "Invoice"), M(0)) - \
        sum((a["Unapplied Credit"] for a in accounts), M(0))
    owed = {a["Party ID"]: a["Balance"] for a in accounts}
    for reminder in result.overdue.issued:
        customer = next(r["Customer ID"] for r in invoices if r["Invoice No"] == reminder.invoice_no)
        assert owed[customer] > 0, "a customer who is owed money was reminded"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_whatever_is_typed_the_accounts_add_up_and_a_second_run_changes_nothing(history):
    invoices, payments, days, apply = history
    sheets = workbook(*invoices, payments=payments,
                      customers=(("C1", "Ann Lee", "ann@example.org"), ("C2", "Bo Kim", "bo@example.org")),
                      settings=[("Interest Rate", "9"), ("Apply Credits", apply)])
    for day in days:
        result, sheets = step(sheets, day)
        _adds_up(result)


def test_open_fees_after_the_principal_is_paid_are_not_dunned_unless_the_setting_says_so():
    # Reminder 2 books a 5.00 fee. With the principal written off and the fee unpaid, only the fee is
    # open: by default it is not reminded again and never handed over; Dun Fees And Interest says yes.
    history = [invoice("INV-1", 100, D(2026, 1, 31))]
    sheets = workbook(*history)
    for day in (D(2026, 2, 14), D(2026, 2, 28)):
        _, sheets = step(sheets, day)  # reminder 1 (no fee), reminder 2 (fee 5.00)
    sheets["Payments"] = sheet("Payments", PAYMENT_HEADER, ("P1", D(2026, 3, 2), "INV-1", 5, None, None),
                               ("W1", D(2026, 3, 2), "INV-1", 100, "Write-off", None))
    result, after = step(sheets, D(2026, 3, 31))  # the 5.00 paid the fee: nothing is open
    assert by_no(result)["INV-1"]["Balance"] == 0
    sheets["Payments"] = sheet("Payments", PAYMENT_HEADER, ("W1", D(2026, 3, 2), "INV-1", 100, "Write-off", None))
    result, _ = step(sheets, D(2026, 3, 31))  # principal written off, the 5.00 fee still open
    row = by_no(result)["INV-1"]
    assert (row["Fees"], row["Written Off"], row["Balance"]) == (M("5.00"), M("100.00"), M("5.00"))
    assert [r["Level"] for r in rows_of(result.outputs, "Reminders")] == [1, 2]  # no more reminders
    assert rows_of(result.outputs, "Collections") == []
    sheets["Settings"] = sheet("Settings", ("Setting", "Value"), ("Reminder Days", "14, 14, 14"),
                               ("Reminder Fees", "0; 5; 10"), ("Dun Fees And Interest", "yes"))
    result, _ = step(sheets, D(2026, 3, 31))
    final = rows_of(result.outputs, "Reminders")[-1]
    assert (final["Level"], final["Principal"], final["Fees"], final["Amount Due"]) == (
        3, 0, M("15.00"), M("15.00"))
