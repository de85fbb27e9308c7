"""The billing run on in-memory sheets: invoicing, reruns, corrections, payments (no file I/O here)."""

import datetime as dt
import gc
from decimal import Decimal

import pytest

from sheetbill import app
from sheetbill import run as run_module
from sheetbill.models import Charge
from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.problems import ConfigurationError
from sheetbill.run import RunMode, run_billing
from tests.helpers import book, rows_of, sheet, with_outputs

AS_OF = dt.date(2026, 3, 1)
CHARGE_HEADER = ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price")


def inputs(*charges, payments=(), settings=()):
    return book(
        sheet("Settings", ("Setting", "Value"), ("Invoice Prefix", "R-"), ("Payment Terms Days", 14), *settings),
        sheet("Customers", ("Customer ID", "Name", "Email"), ("C1", "Ann Lee", "ann@example.org"),
              ("C2", '=HYPERLINK("http://x","y")', None)),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Session", 80), ("T", "Test", "12,50")),
        sheet("Charges", CHARGE_HEADER, *charges),
        sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount", "Type"), *payments),
    )


def run(sheets, as_of=AS_OF, **options):
    return run_billing(sheets, as_of=as_of, plugins=Plugins(get_plugin_manager(entry_points=False)), **options)


def test_each_customer_gets_one_invoice_with_rounded_lines():
    result = run(inputs(("1", "2026-02-01", "C1", "S", 1, None), ("2", "2026-02-03", "C1", "T", 3, None),
                        ("3", "2026-02-04", "C2", "T", "0.5", None), ("4", "2026-02-05", "C2", "S", 1, 33.335)))
    invoices = rows_of(result.outputs, "Invoices")
    assert [(i["Invoice No"], i["Bill To ID"], i["Amount"]) for i in invoices] == [
        ("R-000001", "C1", Decimal("117.50")), ("R-000002", "C2", Decimal("39.59"))]
    assert invoices[0]["Issue Date"] == AS_OF and invoices[0]["Due Date"] == dt.date(2026, 3, 15)
    assert invoices[1]["Bill To Name"] == '=HYPERLINK("http://x","y")'  # text, kept as typed
    lines = rows_of(result.outputs, "Invoice Lines")
    assert [ln["Amount"] for ln in lines] == [Decimal("80.00"), Decimal("37.50"), Decimal("6.25"), Decimal("33.34")]
    assert result.exit_code == 0


def test_rerun_with_the_same_inputs_changes_nothing_and_new_charges_continue_numbering():
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None))
    first = run(sheets)
    after = with_outputs(sheets, first.outputs)
    second = run(after)
    assert second.new_invoices == []
    for a, b in zip(first.outputs, second.outputs, strict=True):
        assert (a.name, [tuple(r) for r in a.rows]) == (b.name, [tuple(r) for r in b.rows])
    after["Charges"] = sheet("Charges", CHARGE_HEADER, ("1", "2026-02-01", "C1", "S", 1, None),
                             ("2", "2026-02-20", "C1", "T", 1, None))
    third = run(after)
    assert [i.invoice_no for i in third.new_invoices] == ["R-000002"]


def test_future_charges_wait_for_their_date():
    result = run(inputs(("1", "2026-03-02", "C1", "S", 1, None)))
    assert result.new_invoices == []
    later = run(inputs(("1", "2026-03-02", "C1", "S", 1, None)), as_of=dt.date(2026, 3, 2))
    assert len(later.new_invoices) == 1


def test_an_edited_charge_is_credited_and_billed_again():
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None), ("2", "2026-02-02", "C1", "T", 1, None))
    after = with_outputs(sheets, run(sheets).outputs)
    after["Charges"] = sheet("Charges", CHARGE_HEADER, ("1", "2026-02-01", "C1", "S", 2, None),
                             ("2", "2026-02-02", "C1", "T", 1, None))
    result = run(after)
    assert [(i.invoice_no, i.kind, i.amount, i.related) for i in result.new_invoices] == [
        ("R-000002", "Credit Note", Decimal("-80.00"), "R-000001"),
        ("R-000003", "Invoice", Decimal("160.00"), None)]
    invoices = {i["Invoice No"]: i for i in rows_of(result.outputs, "Invoices")}
    assert invoices["R-000001"]["Balance"] == Decimal("12.50")  # only the unchanged charge is left to pay
    assert _reasons(result, "R-000002") == ["credit for R-000001: charge changed"]
    assert [str(a.text) for a in result.advice if a.topic == "correction"] == [
        "charge 1 was changed after billing: R-000001 is credited by R-000002 "
        "and the corrected charge is billed on R-000003"]
    again = run(with_outputs(after, result.outputs))
    assert again.new_invoices == []


@pytest.mark.parametrize("quantity", ["1.00", 1.0, "1,0"])
def test_a_quantity_typed_again_in_another_spelling_is_not_a_change(quantity):
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None), ("2", "2026-02-02", "C1", "T", "0.50", None))
    after = with_outputs(sheets, run(sheets).outputs)
    after["Charges"] = sheet("Charges", CHARGE_HEADER, ("1", "2026-02-01", "C1", "S", quantity, None),
                             ("2", "2026-02-02", "C1", "T", "0.5", None))
    result = run(after)
    assert result.new_invoices == [] and result.problems == []


def test_a_deleted_charge_is_credited_and_the_invoice_cancelled():
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None))
    after = with_outputs(sheets, run(sheets).outputs)
    after["Charges"] = sheet("Charges", CHARGE_HEADER)
    result = run(after)
    assert [(i.kind, i.amount) for i in result.new_invoices] == [("Credit Note", Decimal("-80.00"))]
    status = {i["Invoice No"]: i["Status"] for i in rows_of(result.outputs, "Invoices")}
    assert status == {"R-000001": "Cancelled", "R-000002": "Applied"}
    assert _reasons(result, "R-000002") == ["credit for R-000001: charge deleted"]


def test_a_billed_charge_moved_past_the_as_of_date_is_credited_and_billed_on_its_new_date():
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None))
    after = with_outputs(sheets, run(sheets).outputs)
    after["Charges"] = sheet("Charges", CHARGE_HEADER, ("1", "2026-03-10", "C1", "S", 1, None))
    result = run(after)
    assert [(i.invoice_no, i.kind, i.amount) for i in result.new_invoices] == [
        ("R-000002", "Credit Note", Decimal("-80.00"))]
    assert _reasons(result, "R-000002") == ["credit for R-000001: charge changed"]
    later = run(with_outputs(after, result.outputs), as_of=dt.date(2026, 3, 10))
    assert [(i.invoice_no, i.kind, i.amount) for i in later.new_invoices] == [("R-000003", "Invoice", Decimal("80.00"))]


def _reasons(result, invoice_no: str) -> list[str]:
    """The Reasons of one invoice's lines on the Invoice Lines sheet a run wrote."""
    return [ln["Reason"] for ln in rows_of(result.outputs, "Invoice Lines") if ln["Invoice No"] == invoice_no]


@pytest.mark.parametrize("typed_id", ["1", " 1 ", 1.0, 1])  # as text, padded, as a number cell
def test_a_billed_charge_with_a_typo_is_not_taken_for_deleted(typed_id):
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None))
    after = with_outputs(sheets, run(sheets).outputs)
    after["Charges"] = sheet("Charges", CHARGE_HEADER, (typed_id, "2026-02-01", "C1", "S", "two", None))
    result = run(after)
    assert result.new_invoices == []
    assert [(p.sheet, p.row, p.column) for p in result.problems] == [("Charges", 2, "Quantity")]
    assert result.exit_code == 1


@pytest.mark.parametrize("payments, status, balance", [
    ((), "Open", "80.00"),
    ((("P1", "2026-03-05", "R-000001", 30, "Payment"),), "Partially Paid", "50.00"),
    ((("P1", "2026-03-05", "R-000001", "80,00", None),), "Paid", "0.00"),
    ((("P1", "2026-03-05", "R-000001", 100, "Payment"),), "Paid", "0.00"),
    ((("P1", "2026-03-05", "R-000001", 50, "Payment"), ("P2", "2026-03-06", "R-000001", 30, "Write-off")),
     "Paid", "0.00"),
    ((("P1", "2026-03-06", "R-000001", 80, "write-off"),), "Written Off", "0.00"),
])
def test_payments_set_paid_balance_and_status(payments, status, balance):
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None))
    after = with_outputs(sheets, run(sheets).outputs)
    after["Payments"] = sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount", "Type"), *payments)
    result = run(after)
    invoice = rows_of(result.outputs, "Invoices")[0]
    assert (invoice["Status"], invoice["Balance"]) == (status, Decimal(balance))
    credit = [a for a in result.advice if a.topic == "credit"]
    overpaid = sum(Decimal(str(p[3]).replace(",", ".")) for p in payments if (p[4] or "Payment") == "Payment") \
        > Decimal("80")
    assert bool(credit) == overpaid  # 100.00 on an 80.00 invoice: 20.00 of credit to refund or keep


def test_a_payment_for_an_unknown_invoice_is_a_problem_on_its_row():
    result = run(inputs(("1", "2026-02-01", "C1", "S", 1, None),
                        payments=[("P1", "2026-03-05", "R-999", 10, "Payment")]))
    assert [(p.sheet, p.row, p.column) for p in result.problems] == [("Payments", 2, "Invoice No")]


@pytest.mark.parametrize("charge, column", [
    (("1", "2026-02-01", "C9", "S", 1, None), "Customer ID"),
    (("1", "2026-02-01", "C1", "X", 1, None), "Service Code"),
    (("1", "2026-02-30", "C1", "S", 1, None), "Date"),
    (("1", "2026-02-01", "C1", "S", 0, None), "Quantity"),
    (("1", "2026-02-01", "C1", "S", 1, "abc"), "Price"),
    ((None, "2026-02-01", "C1", "S", 1, None), "Charge ID"),
])
def test_bad_charges_are_skipped_whole_with_a_located_problem(charge, column):
    result = run(inputs(charge, ("2", "2026-02-01", "C1", "T", 1, None)))
    assert [(p.sheet, p.row, p.column) for p in result.problems] == [("Charges", 2, column)]
    assert [ln.charge_id for ln in result.lines] == ["2"]


def test_duplicate_charge_ids_bill_only_the_first():
    result = run(inputs(("1", "2026-02-01", "C1", "S", 1, None), ("1", "2026-02-02", "C1", "T", 1, None)))
    assert [ln.amount for ln in result.lines] == [Decimal("80.00")]
    assert result.problems[0].row == 3


def test_a_bad_currency_is_broken_configuration():
    with pytest.raises(ConfigurationError, match="Currency"):
        run(inputs(("1", "2026-02-01", "C1", "S", 1, None), settings=[("Currency", "Euro")]))


def test_invoice_numbers_never_reuse_a_number_seen_anywhere():
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None))
    after = with_outputs(sheets, run(sheets).outputs)
    after["Invoices"] = sheet("Invoices", ("Invoice No", "Kind", "Issue Date", "Due Date", "Bill To Type",
                                           "Bill To ID", "Customer ID", "Amount"),
                              ("R-000041", "Invoice", AS_OF, AS_OF, "Customer", "C1", "C1", 5))
    after["Charges"] = sheet("Charges", CHARGE_HEADER, ("1", "2026-02-01", "C1", "S", 1, None),
                             ("2", "2026-02-02", "C1", "T", 1, None))
    result = run(after)
    assert [i.invoice_no for i in result.new_invoices if i.kind == "Invoice"][-1] == "R-000042"


def test_a_transfer_to_customer_moves_the_rest_onto_a_customer_invoice_once():
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None))
    sheets["Payers"] = sheet("Payers", ("Payer ID", "Name", "Type"), ("P1", "Acme Health", "insurer"))
    sheets["Coverage"] = sheet("Coverage", ("Customer ID", "Payer ID", "Covered Percent"), ("C1", "P1", 100))
    first = run(sheets)
    assert [(i.invoice_no, i.bill_to_type, i.amount) for i in first.new_invoices] == [
        ("R-000001", "Payer", Decimal("80.00"))]
    after = with_outputs(sheets, first.outputs)
    after["Payments"] = sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount", "Type"),
                              ("P1", "2026-03-05", "R-000001", 60, "Payment"),
                              ("P2", "2026-03-05", "R-000001", 20, "Transfer to Customer"))
    second = run(after)
    assert [(i.invoice_no, i.bill_to_type, i.bill_to_id, i.amount, i.related) for i in second.new_invoices] == [
        ("R-000002", "Customer", "C1", Decimal("20.00"), "R-000001")]
    line = [ln for ln in second.lines if ln.invoice_no == "R-000002"][0]
    assert (line.payment_id, line.reason) == ("P2", "transfer from R-000001 (Acme Health)")
    statuses = {i["Invoice No"]: (i["Status"], i["Balance"]) for i in rows_of(second.outputs, "Invoices")}
    assert statuses["R-000001"] == ("Paid", Decimal("0.00"))
    third = run(with_outputs(after, second.outputs))
    assert third.new_invoices == []  # the transfer is remembered by its payment ID


def test_sorting_the_history_sheets_in_excel_changes_nothing():
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None), ("2", "2026-02-02", "C2", "T", 1, None))
    after = with_outputs(sheets, run(sheets).outputs)
    after["Charges"] = sheet("Charges", CHARGE_HEADER, ("1", "2026-02-01", "C1", "S", 2, None),
                             ("2", "2026-02-02", "C2", "T", 1, None))
    corrected = with_outputs(after, run(after).outputs)  # charge 1 credited and billed again
    lines = corrected["Invoice Lines"]
    header, rows = lines.rows[0], list(lines.rows[1:])
    rows.sort(key=lambda row: str(row[0]), reverse=True)  # the clerk sorted by invoice number, Z to A
    corrected["Invoice Lines"] = sheet("Invoice Lines", header, *rows)
    invoices = corrected["Invoices"]
    corrected["Invoices"] = sheet("Invoices", invoices.rows[0], *reversed(invoices.rows[1:]))
    result = run(corrected)
    assert result.new_invoices == []
    assert [a for a in result.advice if a.topic == "correction"] == [
        a for a in run(after).advice if a.topic == "correction"]


def test_an_invoice_deleted_from_the_invoices_sheet_is_reported_and_its_charge_not_rebilled():
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None))
    after = with_outputs(sheets, run(sheets).outputs)
    after["Invoices"] = sheet("Invoices", after["Invoices"].rows[0])  # the clerk deleted the row
    result = run(after)
    assert result.new_invoices == []
    assert [(p.sheet, p.row, p.column) for p in result.problems] == [("Invoice Lines", 2, "Invoice No")]
    assert result.problems[0].code == "deleted-history"


def test_a_charge_changed_then_deleted_on_the_same_day_is_advised_as_deleted_and_credited():
    sheets = inputs(("1", "2026-02-01", "C1", "S", 1, None))
    billed = with_outputs(sheets, run(sheets, as_of=dt.date(2026, 2, 20)).outputs)
    billed["Charges"] = sheet("Charges", CHARGE_HEADER, ("1", "2026-02-01", "C1", "S", 2, None))
    changed = with_outputs(billed, run(billed).outputs)  # R-000002 credits R-000001, R-000003 bills it again
    changed["Charges"] = sheet("Charges", CHARGE_HEADER)
    result = run(changed)  # the same day: R-000004 credits R-000003
    assert [(i.invoice_no, i.kind, i.related) for i in result.new_invoices] == [
        ("R-000004", "Credit Note", "R-000003")]
    assert sorted(str(a.text) for a in result.advice if a.topic == "correction") == [
        "charge 1 was deleted after billing: R-000001 is credited by R-000002",
        "charge 1 was deleted after billing: R-000003 is credited by R-000004"]


def test_a_run_that_does_not_keep_the_charges_frees_them_before_the_accounts(monkeypatch):
    live_charges = []
    build_ledger = run_module.build_ledger

    def counting(*args, **kwargs):
        gc.collect()  # only what is still reachable counts, and only this test's charges
        live_charges.append(sum(type(thing) is Charge and thing.charge_id.startswith("freed-")
                                for thing in gc.get_objects()))
        return build_ledger(*args, **kwargs)

    monkeypatch.setattr(run_module, "build_ledger", counting)
    sheets = inputs(("freed-1", "2026-02-01", "C1", "S", 1, None), ("freed-2", "2026-02-02", "C2", "T", 2, None),
                    ("freed-3", "2026-02-03", "C1", "T", 1, None), ("freed-4", "2026-03-05", "C1", "S", 1, None))
    dropped = run(sheets, keep_charges=False)
    overdue = run(sheets, keep_charges=False, mode=RunMode.OVERDUE)
    kept = run(sheets)
    assert live_charges == [0, 0, 4]  # the count can tell: the last run holds its four
    assert overdue.book.charges == []
    assert dropped.book.charges == [] and len(kept.book.charges) == 4
    for a, b in zip(kept.outputs, dropped.outputs, strict=True):
        assert (a.name, [tuple(r) for r in a.rows]) == (b.name, [tuple(r) for r in b.rows])
    again = app.bill(app.SheetsInMemory(dict(sheets)), as_of=AS_OF,
                     plugins=Plugins(get_plugin_manager(entry_points=False)))
    assert again.result.book.charges == []  # what the front ends run: they only write the result


def test_the_charges_of_a_customer_hold_its_one_customer_id_object():
    cells = [(str(n), "2026-02-01", "".join(["C", "1" if n % 3 else "2"]), "S", 1, None) for n in range(1, 10)]
    charges = run(inputs(*cells)).book.charges
    assert len(charges) == 9 and len({id(charge.customer_id) for charge in charges}) == 2
    customers = run(inputs(*cells)).book.customers
    assert all(charge.customer_id is customers[charge.customer_id].customer_id for charge in charges)


def test_the_charges_no_line_bills_are_the_unbilled_ones_whatever_their_decision_says():
    """``IssueReport.unbilled`` is what a run keeps the shares of: a held decision, and one that (against
    its contract) has no share to bill, are unbilled; one with a share gets its line."""
    from sheetbill.billing import issue
    from sheetbill.book import load_book
    from sheetbill.decisions import Decision, Decisions, Share

    book, _ = load_book(inputs(("1", "2026-02-01", "C1", "S", 1, None), ("2", "2026-02-02", "C1", "S", 1, None),
                               ("3", "2026-02-03", "C1", "S", 1, None)), as_of=AS_OF)
    first, second, third = book.charges
    decisions = Decisions()
    decisions.add(Decision(first, Decimal("80.00"), [Share("Customer", "C1", Decimal("80.00"), Decimal("0"),
                                                          "self-pay", "S")]))
    decisions.add(Decision(second, Decimal("80.00"), held="prior authorization"))
    decisions.add(Decision(third, Decimal("80.00")))
    issued = issue(book, decisions)
    assert [line.charge_id for line in issued.lines] == ["1"] and issued.unbilled == {"2", "3"}
