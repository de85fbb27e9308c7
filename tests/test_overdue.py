"""Overdue tracking on in-memory sheets: dunning timeline, holds, plans, interest, aging, collections.

Each run is fed the previous run's output sheets read back as a front end would (amounts as
floats), and every day of the timeline is run twice: the second run must add nothing and write
identical sheets. Amounts in the assertions are computed by hand.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sheetbill.dunning import add_months, aging_bucket, is_valid_email
from sheetbill.models import PaymentPlan
from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.run import overdue_only, run_billing
from sheetbill.upgrade import plan_installments
from tests.helpers import book, rows_of, sheet, with_outputs

D = dt.date
IBAN = "DE02 1203 0000 0000 2020 51"
INVOICE_HEADER = ("Invoice No", "Kind", "Issue Date", "Due Date", "Bill To Type", "Bill To ID", "Bill To Name",
                  "Customer ID", "Amount", "Related Invoice")
CUSTOMER_HEADER = ("Customer ID", "Name", "Email", "Street", "Postal Code", "City")
ANN = ("C1", "Ann Lee", "ann@example.org", None, None, None)
PAYMENT_HEADER = ("Payment ID", "Date", "Invoice No", "Amount", "Type")
CONTACT_HEADER = ("Date", "Customer ID", "Invoice No", "Channel", "Outcome", "Hold Until", "Note")
PLAN_HEADER = ("Plan ID", "Invoice No", "Installments", "First Due Date", "Interval Months")
DUE = D(2026, 1, 31)


def invoice(no, amount, due=DUE, *, customer="C1", payer=None, kind="Invoice", related=None):
    """An issued invoice row (issued 30 days before it is due)."""
    bill_to = ("Payer", payer, "Health Ins") if payer else ("Customer", customer, "Ann Lee")
    return (no, kind, due - dt.timedelta(days=30), due, *bill_to, customer, amount, related)


def workbook(*invoices, customers=(ANN,), payments=(), plans=(), contacts=(), settings=()):
    """A workbook with issued invoices (no charges to bill) and the overdue settings of the examples."""
    return book(
        sheet("Settings", ("Setting", "Value"), ("Reminder Days", "14, 14, 14"), ("Reminder Fees", "0; 5; 10"),
              ("Collection After Days", 14), ("Collection Agency", "Inkasso Nord"),
              ("Collection Fee Percent", 10), ("Payment Methods", "Bank transfer"), ("Bank IBAN", IBAN),
              ("Payment Reference Format", "{customer_id}-{invoice_no}"), *settings),
        sheet("Customers", CUSTOMER_HEADER, *customers),
        sheet("Payers", ("Payer ID", "Name", "Email"), ("P1", "Health Ins", "claims@ins.example")),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Session", 80)),
        sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code")),
        sheet("Invoices", INVOICE_HEADER, *invoices),
        sheet("Payments", PAYMENT_HEADER, *payments),
        sheet("Payment Plans", PLAN_HEADER, *plans),
        sheet("Contacts", CONTACT_HEADER, *contacts),
    )


def run(sheets, day):
    return run_billing(sheets, as_of=day, plugins=Plugins(get_plugin_manager(entry_points=False)))


def step(sheets, day):
    """Run ``day`` twice; the second run must issue nothing and write the same sheets. Returns both."""
    first = run(sheets, day)
    after = with_outputs(sheets, first.outputs)
    second = run(after, day)
    assert second.overdue.issued == []
    assert second.overdue.handed_over == []
    assert [(o.name, [tuple(r) for r in o.rows]) for o in first.outputs] == \
        [(o.name, [tuple(r) for r in o.rows]) for o in second.outputs]
    return first, with_outputs(sheets, second.outputs)


def overdue(result):
    return rows_of(result.outputs, "Overdue")


def reminders(result):
    return rows_of(result.outputs, "Reminders")


def only(rows):
    assert len(rows) == 1, rows
    return rows[0]


# --- helpers ----------------------------------------------------------------------------------------------


def test_buckets_months_and_email_syntax():
    assert [aging_bucket(d) for d in (-3, 0, 1, 30, 31, 60, 61, 90, 91, 120, 121)] == [
        "Current", "Current", "1-30", "1-30", "31-60", "31-60", "61-90", "61-90", "91-120", "91-120", "120+"]
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2026, 1, 31), 2) == D(2026, 3, 31)
    assert add_months(D(2026, 11, 15), 3) == D(2027, 2, 15)
    assert [is_valid_email(e) for e in ("ann@example.org", "a.b+c@mail.example.co", "ann@example", "ann(at)x.org",
                                        "a@@b.org", "", None, "ann@exa mple.org")] == [
        True, True, False, False, False, False, False, False]


def test_equal_installments_rounded_down_remainder_on_last_and_payments_in_due_date_order():
    plan = PaymentPlan("P1", "INV-1", 6, D(2026, 2, 15))
    parts = plan_installments(plan, Decimal("590.00"), Decimal("150.00"), D(2026, 3, 20), "EUR")
    assert [p.amount for p in parts] == [Decimal("98.33")] * 5 + [Decimal("98.35")]
    assert [p.paid for p in parts] == [Decimal("98.33"), Decimal("51.67")] + [Decimal("0")] * 4
    assert [p.balance for p in parts][:2] == [Decimal("0.00"), Decimal("46.66")]
    assert [p.status for p in parts] == ["Paid", "Overdue", "Open", "Open", "Open", "Open"]
    assert sum(p.balance for p in parts) == Decimal("440.00")
    on_due_date = plan_installments(plan, Decimal("590.00"), Decimal("150.00"), D(2026, 3, 15), "EUR")
    assert on_due_date[1].status == "Partially Paid"  # due today is not overdue yet


# --- the timeline ---------------------------------------------------------------------------------------


def test_one_invoice_from_due_date_through_three_levels_to_the_collection_agency():
    sheets = workbook(invoice("INV-1", 100))

    result, sheets = step(sheets, D(2026, 1, 31))  # due today: not overdue yet
    assert overdue(result) == []
    assert rows_of(result.outputs, "Aging")[0] == {"Bucket": "Current", "Customer": Decimal("100.00"),
                                                   "Payer": Decimal("0.00"), "Total": Decimal("100.00")}

    result, sheets = step(sheets, D(2026, 2, 1))
    row = only(overdue(result))
    assert (row["Days Overdue"], row["Aging Bucket"], row["Dunning Level"], row["Next Action"],
            row["Next Action Date"]) == (1, "1-30", 0, "reminder 1", D(2026, 2, 14))
    assert row["Contact"] == "ann@example.org"

    result, sheets = step(sheets, D(2026, 2, 13))
    assert reminders(result) == []

    result, sheets = step(sheets, D(2026, 2, 14))  # due date + 14
    first = only(reminders(result))
    assert (first["Date"], first["Level"], first["Recipient"], first["Channel"], first["Address or Email"],
            first["Amount Due"], first["Fee"]) == (D(2026, 2, 14), 1, "Ann Lee", "email", "ann@example.org",
                                                   Decimal("100.00"), Decimal("0.00"))
    for part in ("Reminder 1", "invoice INV-1 of 2026-01-01 (due 2026-01-31) is overdue", "100.00 EUR",
                 "Bank transfer", f"IBAN {IBAN}", "payment reference C1-INV-1", "by 2026-02-28"):
        assert part in first["Text"]
    assert result.summary["reminders_issued"] == 1
    row = only(overdue(result))
    assert (row["Dunning Level"], row["Last Reminder"], row["Next Action"], row["Next Action Date"]) == (
        1, D(2026, 2, 14), "reminder 2", D(2026, 2, 28))

    result, sheets = step(sheets, D(2026, 2, 27))
    assert len(reminders(result)) == 1

    result, sheets = step(sheets, D(2026, 2, 28))
    second = reminders(result)[-1]
    assert (second["Level"], second["Fee"], second["Amount Due"]) == (2, Decimal("5.00"), Decimal("105.00"))
    assert only(overdue(result))["Fees"] == Decimal("5.00")

    result, sheets = step(sheets, D(2026, 3, 14))
    final = reminders(result)[-1]
    assert (final["Level"], final["Fee"], final["Amount Due"]) == (3, Decimal("10.00"), Decimal("115.00"))
    assert final["Text"].startswith("Final notice")
    assert "handed over to the collection agency Inkasso Nord" in final["Text"]
    row = only(overdue(result))
    assert (row["Fees"], row["Next Action"], row["Next Action Date"]) == (
        Decimal("15.00"), "hand over to the collection agency Inkasso Nord", D(2026, 3, 28))

    result, sheets = step(sheets, D(2026, 3, 27))
    assert rows_of(result.outputs, "Collections") == []

    result, sheets = step(sheets, D(2026, 3, 28))  # final notice + Collection After Days
    assert only(rows_of(result.outputs, "Collections")) == {
        "Invoice No": "INV-1", "Customer ID": "C1", "Principal": Decimal("100.00"), "Fees": Decimal("15.00"),
        "Interest": Decimal("0.00"), "Agency": "Inkasso Nord", "Agency Fee": Decimal("10.00"),
        "Handed Over On": D(2026, 3, 28), "Paid Since": Decimal("0.00"), "Balance": Decimal("115.00")}
    assert result.summary["handed_to_collections"] == 1
    assert only(rows_of(result.outputs, "Invoices"))["Status"] == "In Collections"
    assert only(overdue(result))["Next Action"] == "with the collection agency Inkasso Nord since 2026-03-28"

    sheets["Payments"] = sheet("Payments", PAYMENT_HEADER, ("1", D(2026, 4, 10), "INV-1", 40, "Payment"))
    result, sheets = step(sheets, D(2026, 4, 30))  # no more reminders; a later payment still posts
    assert len(reminders(result)) == 3
    handed = only(rows_of(result.outputs, "Collections"))
    assert (handed["Principal"], handed["Paid Since"], handed["Balance"]) == (
        Decimal("100.00"), Decimal("40.00"), Decimal("75.00"))  # the 40.00 paid the 15.00 fees first
    assert only(rows_of(result.outputs, "Invoices"))["Status"] == "In Collections"


def test_a_late_first_run_issues_one_level_only_and_the_next_waits_its_days():
    result, sheets = step(workbook(invoice("INV-1", 100)), D(2026, 4, 30))
    assert [r["Level"] for r in reminders(result)] == [1]
    result, sheets = step(sheets, D(2026, 5, 13))
    assert [r["Level"] for r in reminders(result)] == [1]
    result, _ = step(sheets, D(2026, 5, 14))
    assert [r["Level"] for r in reminders(result)] == [1, 2]


def test_a_partial_payment_does_not_reset_the_sequence_and_a_full_one_stops_it():
    _, sheets = step(workbook(invoice("INV-1", 100)), D(2026, 2, 14))
    sheets["Payments"] = sheet("Payments", PAYMENT_HEADER, ("1", D(2026, 2, 20), "INV-1", 30, "Payment"))
    result, sheets = step(sheets, D(2026, 2, 28))
    second = reminders(result)[-1]
    assert (second["Level"], second["Amount Due"]) == (2, Decimal("75.00"))  # 70 open + 5 fee
    assert "70.00 EUR is still open" in second["Text"]
    sheets["Payments"] = sheet("Payments", PAYMENT_HEADER, ("1", D(2026, 2, 20), "INV-1", 30, "Payment"),
                               ("2", D(2026, 3, 5), "INV-1", 70, "Payment"))
    result, _ = step(sheets, D(2026, 3, 14))  # 70.00 pays the 5.00 fee first: 5.00 principal stays open
    assert [r["Level"] for r in reminders(result)] == [1, 2, 3]
    sheets["Payments"] = sheet("Payments", PAYMENT_HEADER, ("1", D(2026, 2, 20), "INV-1", 30, "Payment"),
                               ("2", D(2026, 3, 5), "INV-1", 75, "Payment"))
    result, _ = step(sheets, D(2026, 3, 14))  # paying exactly what reminder 2 asked settles the invoice
    assert [r["Level"] for r in reminders(result)] == [1, 2]
    assert only(rows_of(result.outputs, "Invoices"))["Status"] == "Paid"
    assert overdue(result) == []
    assert only(rows_of(result.outputs, "Invoices"))["Status"] == "Paid"


# --- holds, disputes, contact details ---------------------------------------------------------------------


def test_a_hold_on_the_invoice_pauses_reminders_through_its_date():
    sheets = workbook(invoice("INV-1", 100),
                      contacts=[(D(2026, 2, 10), "C1", "INV-1", "phone", "promise to pay", D(2026, 2, 20), None)])
    result, sheets = step(sheets, D(2026, 2, 14))
    assert reminders(result) == []
    row = only(overdue(result))
    assert (row["Next Action"], row["Next Action Date"]) == ("on hold until 2026-02-20", D(2026, 2, 21))
    result, sheets = step(sheets, D(2026, 2, 20))
    assert reminders(result) == []
    result, _ = step(sheets, D(2026, 2, 21))
    assert [(r["Date"], r["Level"]) for r in reminders(result)] == [(D(2026, 2, 21), 1)]


def test_a_hold_without_invoice_number_pauses_every_invoice_of_the_customer():
    sheets = workbook(invoice("INV-1", 100), invoice("INV-2", 50, D(2026, 1, 20)), invoice("INV-3", 70, payer="P1"),
                      contacts=[(D(2026, 2, 1), "C1", None, "letter", "other", D(2026, 3, 1), "on holiday")])
    result, _ = step(sheets, D(2026, 2, 14))
    assert [r["Invoice No"] for r in reminders(result)] == ["INV-3"]  # the payer's claim is not paused
    assert {r["Invoice No"]: r["Next Action"] for r in overdue(result) if r["Bill To Type"] == "Customer"} == {
        "INV-1": "on hold until 2026-03-01", "INV-2": "on hold until 2026-03-01"}


def test_a_dispute_pauses_until_a_later_contact():
    sheets = workbook(invoice("INV-1", 100),
                      contacts=[(D(2026, 2, 10), "C1", "INV-1", "phone", "dispute", None, "says never got it")])
    result, sheets = step(sheets, D(2026, 3, 1))
    assert reminders(result) == []
    assert only(overdue(result))["Next Action"].startswith("disputed on 2026-02-10")
    sheets["Contacts"] = sheet("Contacts", CONTACT_HEADER,
                               (D(2026, 2, 10), "C1", "INV-1", "phone", "dispute", None, "says never got it"),
                               (D(2026, 3, 2), "C1", None, "email", "reached", None, "copy sent"))
    result, _ = step(sheets, D(2026, 3, 2))
    assert [(r["Date"], r["Level"]) for r in reminders(result)] == [(D(2026, 3, 2), 1)]


def test_no_reminder_without_a_valid_email_or_full_address_and_a_problem_names_the_customer_row():
    bob = ("C2", "Bob Roe", "bob(at)example.org", "Main St 1", None, "Springfield")
    sheets = workbook(invoice("INV-2", 80, customer="C2"), customers=(ANN, bob))
    result, sheets = step(sheets, D(2026, 2, 14))
    assert reminders(result) == []
    row = only(overdue(result))
    assert (row["Next Action"], row["Next Action Date"], row["Contact"]) == (
        "update contact details", D(2026, 2, 14), None)
    problem = only([p for p in result.problems if p.sheet == "Customers"])
    assert (problem.severity, problem.row, problem.column) == ("warning", 3, "Email")
    assert problem.code == "contact-details-missing"
    assert "INV-2" in problem.message and "bob(at)example.org" in problem.message

    sheets["Customers"] = sheet("Customers", CUSTOMER_HEADER, ANN,
                                ("C2", "Bob Roe", "bob(at)example.org", "Main St 1", "12345", "Springfield"))
    result, _ = step(sheets, D(2026, 2, 15))
    letter = only(reminders(result))
    assert (letter["Channel"], letter["Address or Email"]) == ("letter", "Main St 1, 12345 Springfield")
    assert not [p for p in result.problems if p.sheet == "Customers"]


# --- hand-off blocked by a response -------------------------------------------------------------------------


def _after_final_notice():
    sheets = workbook(invoice("INV-1", 100))
    for day in (D(2026, 2, 14), D(2026, 2, 28), D(2026, 3, 14)):
        _, sheets = step(sheets, day)
    return sheets


def test_a_response_after_the_final_notice_prevents_the_hand_off():
    sheets = _after_final_notice()
    sheets["Contacts"] = sheet("Contacts", CONTACT_HEADER,
                               (D(2026, 3, 20), "C1", "INV-1", "phone", "promise to pay", None, None))
    result, _ = step(sheets, D(2026, 4, 15))
    assert rows_of(result.outputs, "Collections") == []
    assert only(overdue(result))["Next Action"].startswith("responded on 2026-03-20 after the final notice")
    assert only(rows_of(result.outputs, "Invoices"))["Status"] == "Open"


def test_a_payment_after_the_final_notice_prevents_the_hand_off_but_no_answer_does_not():
    sheets = _after_final_notice()
    sheets["Payments"] = sheet("Payments", PAYMENT_HEADER, ("1", D(2026, 3, 16), "INV-1", 10, "Payment"))
    result, _ = step(sheets, D(2026, 3, 28))
    assert rows_of(result.outputs, "Collections") == []

    sheets = _after_final_notice()
    sheets["Contacts"] = sheet("Contacts", CONTACT_HEADER,
                               (D(2026, 3, 20), "C1", "INV-1", "phone", "no answer", None, None))
    result, _ = step(sheets, D(2026, 3, 28))
    assert only(rows_of(result.outputs, "Collections"))["Principal"] == Decimal("100.00")


# --- payment plans --------------------------------------------------------------------------------------------


def test_a_plan_invoice_is_overdue_only_through_its_missed_installment():
    sheets = workbook(invoice("INV-1", Decimal("590.00")),
                      plans=[("P1", "INV-1", 6, D(2026, 2, 15), 1)],
                      payments=[("1", D(2026, 2, 14), "INV-1", 98.33, "Payment")])
    result, sheets = step(sheets, D(2026, 2, 14))  # the invoice's own due date + 14 does not count
    assert overdue(result) == [] and reminders(result) == []

    result, sheets = step(sheets, D(2026, 3, 20))
    installments = rows_of(result.outputs, "Installments")
    assert [(i["No"], i["Due Date"], i["Amount"], i["Paid"], i["Status"]) for i in installments[:3]] == [
        (1, D(2026, 2, 15), Decimal("98.33"), Decimal("98.33"), "Paid"),
        (2, D(2026, 3, 15), Decimal("98.33"), Decimal("0"), "Overdue"),
        (3, D(2026, 4, 15), Decimal("98.33"), Decimal("0"), "Open")]
    assert installments[-1]["Amount"] == Decimal("98.35")
    row = only(overdue(result))
    assert (row["Installment"], row["Due Date"], row["Days Overdue"], row["Balance"], row["Next Action Date"]) == (
        "2 of 6", D(2026, 3, 15), 5, Decimal("98.33"), D(2026, 3, 29))
    aging = {a["Bucket"]: a["Customer"] for a in rows_of(result.outputs, "Aging")}
    assert (aging["Current"], aging["1-30"], aging["31-60"]) == (Decimal("393.34"), Decimal("98.33"), Decimal("0.00"))

    result, sheets = step(sheets, D(2026, 3, 29))
    reminder = only(reminders(result))
    assert reminder["Amount Due"] == Decimal("98.33")
    assert "installment 2 of 6 (due 2026-03-15) of payment plan P1 for invoice INV-1 is overdue" in reminder["Text"]
    # Each installment has its own dunning level: installment 2 gets reminder 2 (fee 5.00) on its own
    # schedule, installment 3 (due 2026-04-15) its own reminder 1 fourteen days after its due date.
    result, sheets = step(sheets, D(2026, 4, 20))
    second = reminders(result)[-1]
    assert (second["Installment"], second["Level"], second["Principal"], second["Fees"], second["Amount Due"]) == (
        2, 2, Decimal("98.33"), Decimal("5.00"), Decimal("103.33"))
    assert "installment 2 of 6 (due 2026-03-15)" in second["Text"]
    result, sheets = step(sheets, D(2026, 4, 29))
    assert [(r["Installment"], r["Level"]) for r in reminders(result)] == [(2, 1), (2, 2), (3, 1)]
    from sheetbill.documents.reminder import _key
    from sheetbill.models import Invoice, Reminder
    inv = Invoice("INV-1", "Invoice", D(2026, 1, 1), D(2026, 1, 31), "Customer", "C1", "Ann Lee", "C1",
                  Decimal("590.00"))
    keys = {_key(inv, Reminder(r["Date"], "INV-1", r["Level"], installment=r["Installment"]), False)
            for r in reminders(result)}
    assert keys == {"INV-1 installment 2 reminder 1", "INV-1 installment 2 reminder 2",
                    "INV-1 installment 3 reminder 1"}  # one document each, none named like another


def test_a_plan_agreed_after_reminders_restarts_dunning_at_its_first_missed_installment():
    _, sheets = step(workbook(invoice("INV-1", Decimal("300.00"))), D(2026, 2, 14))
    sheets["Payment Plans"] = sheet("Payment Plans", PLAN_HEADER, ("P1", "INV-1", 3, D(2026, 3, 15), 1))
    result, _ = step(sheets, D(2026, 3, 20))
    assert [r["Level"] for r in reminders(result)] == [1]
    row = only(overdue(result))
    assert (row["Installment"], row["Dunning Level"], row["Last Reminder"], row["Next Action"],
            row["Next Action Date"]) == ("1 of 3", 0, None, "reminder 1", D(2026, 3, 29))


def test_at_most_one_level_per_invoice_and_day_even_with_zero_reminder_days():
    sheets = workbook(invoice("INV-1", 100), settings=[("Reminder Days", "14, 0, 14")])
    result, sheets = step(sheets, D(2026, 2, 14))
    assert [r["Level"] for r in reminders(result)] == [1]
    assert only(overdue(result))["Next Action Date"] == D(2026, 2, 14)
    result, _ = step(sheets, D(2026, 2, 15))
    assert [(r["Date"], r["Level"]) for r in reminders(result)] == [(D(2026, 2, 14), 1), (D(2026, 2, 15), 2)]


def test_plan_problems_name_their_rows():
    sheets = workbook(invoice("INV-1", 100), invoice("INV-2", 300, payer="P1"),
                      plans=[("P1", "INV-9", 3, D(2026, 2, 15), 1), ("P2", "INV-1", 12, D(2026, 2, 15), 1),
                             ("P3", "INV-2", 2, D(2026, 2, 15), 1), ("P4", "INV-1", 2, D(2026, 2, 15), 1)])
    result = run(sheets, D(2026, 2, 1))
    found = [(p.severity, p.row, p.column) for p in result.problems if p.sheet == "Payment Plans"]
    assert found == [("error", 2, "Invoice No"), ("warning", 3, "Installments"), ("error", 4, "Invoice No"),
                     ("error", 5, "Invoice No")]
    assert {i["Plan ID"] for i in rows_of(result.outputs, "Installments")} == {"P2"}


def test_advice_offers_a_plan_from_the_threshold():
    sheets = workbook(invoice("INV-1", Decimal("590.00")), settings=[("Payment Plan Threshold", 500)])
    result = run(sheets, D(2026, 2, 1))
    advice = only([a for a in result.advice if a.topic == "payment plan"])
    assert (advice.customer_id, str(advice.text)) == (
        "C1", "open balance of 590.00 EUR is at or above the Payment Plan Threshold: offer 6 x 98.33 EUR "
              "(the last one 98.35 EUR) and record the plan in Payment Plans")
    at = run(workbook(invoice("INV-1", 300), invoice("INV-2", 200, D(2026, 3, 1)),
                      settings=[("Payment Plan Threshold", 500)]), D(2026, 2, 1))
    assert [str(a.text)[:60] for a in at.advice if a.topic == "payment plan"] == [
        "open balance of 500.00 EUR is at or above the Payment Plan T"]
    below = run(workbook(invoice("INV-1", Decimal("499.99")), settings=[("Payment Plan Threshold", 500)]),
                D(2026, 2, 1))
    assert not [a for a in below.advice if a.topic == "payment plan"]
    planned = run(workbook(invoice("INV-1", Decimal("590.00")), plans=[("P1", "INV-1", 6, D(2026, 2, 15), 1)],
                           settings=[("Payment Plan Threshold", 500)]), D(2026, 2, 1))
    assert not [a for a in planned.advice if a.topic == "payment plan"]  # already on a plan


# --- interest and payers ---------------------------------------------------------------------------------------


def test_interest_is_balance_times_rate_times_days_over_365_rounded_once():
    sheets = workbook(invoice("INV-1", Decimal("590.00")), settings=[("Default Interest Percent", 8)])
    result, sheets = step(sheets, D(2026, 2, 14))
    reminder = only(reminders(result))
    # 590.00 x 8 % x 14 / 365 = 1.8104... -> 1.81
    assert reminder["Amount Due"] == Decimal("591.81")
    assert "Interest at 8 % a year: 1.81 EUR" in reminder["Text"]
    result, _ = step(sheets, D(2026, 3, 17))
    # 590.00 x 8 % x 45 / 365 = 5.8191... -> 5.82
    assert only(overdue(result))["Interest"] == Decimal("5.82")


def test_payer_invoices_get_follow_ups_without_fees_interest_or_agency():
    sheets = workbook(invoice("INV-7", 300, payer="P1"), settings=[("Default Interest Percent", 8)])
    for day in (D(2026, 2, 14), D(2026, 2, 28), D(2026, 3, 14)):
        result, sheets = step(sheets, day)
        row = only(overdue(result))
        assert (row["Fees"], row["Interest"], row["Next Action"]) == (
            Decimal("0.00"), Decimal("0.00"), "follow up the claim with the payer")
    follow_ups = reminders(result)
    assert [(r["Level"], r["Recipient"], r["Address or Email"], r["Fee"], r["Amount Due"]) for r in follow_ups] == [
        (level, "Health Ins", "claims@ins.example", Decimal("0.00"), Decimal("300.00")) for level in (1, 2, 3)]
    assert follow_ups[0]["Text"].startswith("Follow-up 1.") and "Ann Lee (C1)" in follow_ups[0]["Text"]
    assert "Interest" not in follow_ups[-1]["Text"] and "collection agency" not in follow_ups[-1]["Text"]
    assert result.summary["reminders_issued"] == 0 and result.summary["follow_ups_issued"] == 1
    result, _ = step(sheets, D(2026, 5, 30))
    assert rows_of(result.outputs, "Collections") == []
    assert len(reminders(result)) == 3
    assert only(rows_of(result.outputs, "Invoices"))["Status"] == "Open"


# --- aging ---------------------------------------------------------------------------------------------------------


def test_aging_buckets_foot_to_the_open_balance_of_the_invoices():
    sheets = workbook(
        invoice("A", 50, D(2026, 7, 15)), invoice("B", 20, D(2026, 6, 30)), invoice("C", 30, D(2026, 6, 29)),
        invoice("D", 200, D(2026, 5, 31), payer="P1"), invoice("E", Decimal("12.34"), D(2026, 5, 30)),
        invoice("F", 400, D(2026, 3, 1), payer="P1"), invoice("G", 10, D(2026, 3, 2)),
        invoice("H", 80, D(2026, 4, 1)), invoice("I", 100, D(2026, 4, 15)), invoice("J", 50, D(2026, 4, 15)),
        invoice("K", 70, D(2026, 4, 15)), invoice("K-CN", -70, D(2026, 4, 20), kind="Credit Note", related="K"),
        payments=[("1", D(2026, 4, 2), "H", 80, "Payment"), ("2", D(2026, 4, 3), "I", 60, "Payment"),
                  ("3", D(2026, 4, 3), "J", 60, "Payment")])
    result = run(sheets, D(2026, 6, 30))
    aging = {a["Bucket"]: (a["Customer"], a["Payer"], a["Total"]) for a in rows_of(result.outputs, "Aging")}
    m = Decimal
    assert aging == {
        "Current": (m("70.00"), m("0.00"), m("70.00")),      # A 50 (due later) + B 20 (due today)
        "1-30": (m("30.00"), m("200.00"), m("230.00")),      # C 1 day, D 30 days
        "31-60": (m("12.34"), m("0.00"), m("12.34")),        # E 31 days
        "61-90": (m("40.00"), m("0.00"), m("40.00")),        # I 76 days, 100 - 60 paid
        "91-120": (m("0.00"), m("0.00"), m("0.00")),         # G 120 days, paid by J's 10.00 overpaid (credit)
        "120+": (m("0.00"), m("400.00"), m("400.00")),       # F 121 days
    }
    invoices = rows_of(result.outputs, "Invoices")
    open_total = sum(i["Balance"] for i in invoices
                     if i["Kind"] == "Invoice" and i["Balance"] > 0 and i["Status"] != "Cancelled")
    assert open_total == sum(total for _, _, total in aging.values()) == m("752.34")
    assert result.summary["open_balance"] == "752.34"
    assert result.summary["overdue_balance"] == "682.34"
    g = next(i for i in invoices if i["Invoice No"] == "G")
    assert (g["Credited"], g["Balance"], g["Status"]) == (m("10.00"), m("0.00"), "Paid")
    aging_sheet = next(o for o in result.outputs if o.name == "Aging")
    assert aging_sheet.chart is not None and aging_sheet.chart.value_columns == (1, 2)


# --- billing, then overdue only ------------------------------------------------------------------------------------


def test_overdue_only_issues_no_invoices_but_reminders_for_billed_ones():
    charges = sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code"), ("1", D(2026, 1, 1), "C1", "S"))
    sheets = workbook()
    sheets["Charges"] = charges
    billed = run(sheets, D(2026, 1, 1))
    assert [(i.invoice_no, i.due_date, i.amount) for i in billed.new_invoices] == [
        ("INV-000001", D(2026, 1, 31), Decimal("80.00"))]
    sheets = with_outputs(sheets, billed.outputs)
    sheets["Charges"] = sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code"),
                              ("1", D(2026, 1, 1), "C1", "S"), ("2", D(2026, 2, 10), "C1", "S"))
    result = overdue_only(sheets, as_of=D(2026, 2, 14), plugins=Plugins(get_plugin_manager(entry_points=False)))
    assert result.new_invoices == []
    assert [(r["Invoice No"], r["Level"], r["Amount Due"]) for r in reminders(result)] == [
        ("INV-000001", 1, Decimal("80.00"))]
    assert result.summary["reminders_issued"] == 1
