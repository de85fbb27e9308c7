"""SEPA direct debit end to end: a debit run, its collection confirmed by a statement, returns with fee."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pytest

from sheetbill.app import SheetsInMemory
from sheetbill.bank.camt_write import camt053
from sheetbill.bank.entries import BankEntry
from sheetbill.bank.references import is_valid_creditor_id
from sheetbill.bank_import import StatementFile, import_bank
from sheetbill.debits import debit_run, end_to_end_id
from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.problems import ConfigurationError
from sheetbill.run import run_billing
from tests.helpers import book, rows_of, sheet, with_outputs

AS_OF = dt.date(2026, 3, 2)  # a Monday; invoices due 2026-03-16 (Monday), announced for that day
ACCOUNT = "DE89370400440532013000"
CREDITOR_ID = "DE98ZZZ09999999999"
MANDATES = ("Mandate ID", "Customer ID", "IBAN", "BIC", "Signed On", "Scheme", "Status", "Last Used")


def inputs(*settings, mandates=None):
    return book(
        sheet("Settings", ("Setting", "Value"), ("Company Name", "Stadtwerke Musterstadt"), ("Bank IBAN", ACCOUNT),
              ("Creditor ID", CREDITOR_ID), ("Invoice Prefix", "INV-"), ("Payment Terms Days", 14),
              ("Reminder Days", "7; 14"), ("As Of Date", "2026-03-02"), *settings),
        sheet("Customers", ("Customer ID", "Name", "Email"), ("C1", "Anna Weber", "anna@example.org"),
              ("C2", "Bernd Koch", "bernd@example.org"), ("C3", "Clara Wolf", "clara@example.org")),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Strom", 80), ("T", "Wasser", 25)),
        sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price"),
              ("1", "2026-02-01", "C1", "S", 1, None), ("2", "2026-02-02", "C2", "T", 1, None),
              ("3", "2026-02-03", "C3", "S", 1, None)),
        sheet("Mandates", MANDATES, *(mandates if mandates is not None else (
            ("M-1", "C1", "DE02 1203 0000 0000 2020 51", None, "2026-01-10", None, None, None),
            ("M-2", "C2", "DE02500105170137075030", "INGDDEFFXXX", "2026-01-11", "CORE", "active", "2025-12-01"),
        ))),
    )


def run(sheets, as_of=AS_OF):
    return run_billing(sheets, as_of=as_of, plugins=Plugins(get_plugin_manager(entry_points=False)))


def billed(*settings, mandates=None):
    sheets = inputs(*settings, mandates=mandates)
    return with_outputs(sheets, run(sheets).outputs)


def debit(sheets, **kwargs):
    memory = SheetsInMemory(sheets)
    outcome = debit_run(memory, **kwargs)
    return outcome, with_outputs(sheets, memory.written)


def bank(sheets, *entries, statement_id="S1"):
    memory = SheetsInMemory(sheets)
    data = camt053(ACCOUNT, entries, statement_id=statement_id, created=dt.datetime(2026, 3, 20, 7, 0))
    outcome = import_bank(memory, [StatementFile(f"{statement_id}.xml", data)])
    return outcome, with_outputs(sheets, memory.written)


def entry(ref, amount, day, **fields):
    return BankEntry(amount=Decimal(amount), currency="EUR", booking_date=day, value_date=day, bank_reference=ref,
                     status="BOOK", **fields)


def test_debit_run_writes_one_file_per_date_and_scheme_with_first_and_recurring_blocks():
    assert is_valid_creditor_id(CREDITOR_ID)
    outcome, after = debit(billed())
    (file,) = outcome.files
    assert (file.collection_date, file.scheme, file.count, file.total) == (dt.date(2026, 3, 16), "CORE", 2,
                                                                          Decimal("105.00"))
    text = file.data.decode()
    assert "<SeqTp>FRST</SeqTp>" in text and "<SeqTp>RCUR</SeqTp>" in text  # M-2 was used before sheetbill
    assert "pain.008.001.08" in text and CREDITOR_ID in text
    rows = rows_of(outcome.outputs, "Debits")
    assert [(r["Invoice No"], r["Mandate ID"], r["Amount"], r["Status"], r["Sequence"], r["File"]) for r in rows] == [
        ("INV-000001", "M-1", Decimal("80.00"), "pending", "FRST", file.name),
        ("INV-000002", "M-2", Decimal("25.00"), "pending", "RCUR", file.name)]
    assert rows[0]["End-to-End ID"] == end_to_end_id("INV-000001", None, 0) == "INV000001"
    # exactly once: a second run finds nothing due
    again, _ = debit(after)
    assert again.files == [] and again.rows == [] and not again.written


def test_items_announced_later_wait_for_their_date():
    outcome, _ = debit(billed(), collection_date=dt.date(2026, 3, 13))
    assert outcome.files == []


DASHED = [("M-1", "C1", "de02-1203.0000-0000 2020-51", None, "2026-01-10", None, None, None),
          ("M-2", "C2", "DE02500105170137075030", "INGDDEFFXXX", "2026-01-11", "CORE", "active", "2025-12-01")]


def test_a_mandate_iban_typed_with_dashes_and_dots_is_debited_in_its_electronic_form():
    outcome, after = debit(billed(mandates=DASHED))
    data = outcome.files[0].data.decode()
    assert "<IBAN>DE02120300000000202051</IBAN>" in data and "de02-1203" not in data
    assert [r["Mandate ID"] for r in rows_of(outcome.outputs, "Debits")] == ["M-1", "M-2"]


def test_every_file_validates_against_the_pain_schema_in_both_versions(pain_validator, tmp_path):
    for version in ("pain.008.001.08", "pain.008.001.02"):
        outcome, _ = debit(billed(("Debit Format", version), mandates=DASHED))
        path = tmp_path / f"{version}.xml"
        path.write_bytes(outcome.files[0].data)
        assert version in outcome.files[0].data.decode()
        result = subprocess.run([sys.executable, str(pain_validator), str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_debits_need_a_valid_creditor_id():
    with pytest.raises(ConfigurationError) as caught:
        debit(billed(("Creditor ID", "DE99ZZZ09999999999")))
    assert "Creditor ID" in str(caught.value.problems[0])


def test_a_bad_mandate_iban_is_a_problem_and_its_customer_is_not_debited():
    sheets = billed(mandates=[("M-1", "C1", "DE02120300000000202052", None, "2026-01-10", None, None, None)])
    outcome, _ = debit(sheets)
    assert outcome.files == []
    problems = run(sheets).problems
    assert any(p.code == "bad-iban" and p.sheet == "Mandates" for p in problems)


def test_pending_debits_get_no_reminders_and_count_as_paid_only_once_collected():
    _, after = debit(billed())
    later = dt.date(2026, 4, 10)
    result = run(after, later)
    statuses = {r["Invoice No"]: r["Status"] for r in rows_of(result.outputs, "Invoices")}
    assert statuses == {"INV-000001": "Debit Pending", "INV-000002": "Debit Pending", "INV-000003": "Open"}
    reminded = {r["Invoice No"] for r in rows_of(result.outputs, "Reminders")}
    assert reminded == {"INV-000003"}
    actions = {r["Invoice No"]: r["Next Action"] for r in rows_of(result.outputs, "Overdue")}
    assert actions["INV-000001"].startswith("no reminder: debit pending")

    # the statement shows the batch collection on the collection date
    batch = entry("COLL1", "105.00", dt.date(2026, 3, 16), transaction_code="PMNT-IDDT-ESDD",
                  counterparty_name="Stadtwerke Musterstadt")
    outcome, collected = bank(after, batch)
    assert outcome.summary["matched_by_rule"]["direct debit"] == 1
    posted = rows_of(outcome.outputs, "Bank Payments")
    assert [(p["Invoice No"], p["Amount"], p["Rule"], p["Method"]) for p in posted] == [
        ("INV-000001", Decimal("80.00"), "direct debit", "direct debit"),
        ("INV-000002", Decimal("25.00"), "direct debit", "direct debit")]
    assert {r["Status"] for r in rows_of(outcome.outputs, "Debits")} == {"collected"}
    statuses = {r["Invoice No"]: r["Status"] for r in rows_of(run(collected, later).outputs, "Invoices")}
    assert statuses["INV-000001"] == statuses["INV-000002"] == "Paid"


def test_a_return_reopens_the_item_with_its_fee_revokes_for_md01_and_is_debited_again_for_am04():
    _, after = debit(billed(("Return Debit Fee", "3,50")))
    batch = entry("COLL1", "105.00", dt.date(2026, 3, 16), transaction_code="PMNT-IDDT-ESDD")
    _, collected = bank(after, batch)
    returns = (
        entry("RET1", "-88.00", dt.date(2026, 3, 19), transaction_code="PMNT-IDDT-UPDD", return_reason="AM04",
              end_to_end_id="INV000001", counterparty_name="Anna Weber"),  # the bank charged 8.00
        entry("RET2", "-25.00", dt.date(2026, 3, 19), transaction_code="PMNT-IDDT-UPDD", return_reason="MD01",
              end_to_end_id="INV000002"),  # no charge shown: Settings' 3.50
    )
    outcome, returned = bank(collected, *returns, statement_id="S2")
    assert outcome.summary["returned_debits"] == 2
    new = [r for r in rows_of(outcome.outputs, "Bank Payments") if r["Rule"] == "returned debit"]
    assert [(r["Invoice No"], r["Type"], r["Amount"]) for r in new] == [
        ("INV-000001", "Returned Debit", Decimal("80.00")), ("INV-000001", "Return Fee", Decimal("8.00")),
        ("INV-000002", "Returned Debit", Decimal("25.00")), ("INV-000002", "Return Fee", Decimal("3.50"))]
    debits = {r["Invoice No"]: r for r in rows_of(outcome.outputs, "Debits")}
    assert debits["INV-000001"]["Status"] == "returned" and debits["INV-000001"]["Return Reason"].startswith("AM04")
    result = run(returned, dt.date(2026, 3, 20))
    invoices = {r["Invoice No"]: r for r in rows_of(result.outputs, "Invoices")}
    assert (invoices["INV-000001"]["Balance"], invoices["INV-000001"]["Fees"]) == (Decimal("88.00"), Decimal("8.00"))
    assert invoices["INV-000002"]["Balance"] == Decimal("28.50")
    advice = [r for r in rows_of(result.outputs, "Advice") if r["Topic"] == "Returned debit"]
    assert len(advice) == 2 and "mandate M-2 is no longer used" in advice[1]["Advice"]
    assert "no longer used" not in advice[0]["Advice"]
    # the next debit run takes INV-000001 again (insufficient funds), never INV-000002 (no mandate)
    again, _ = debit(with_outputs(returned, run(returned, dt.date(2026, 3, 20)).outputs), as_of=dt.date(2026, 3, 20))
    rows = rows_of(again.outputs, "Debits")[2:]
    assert [(r["Invoice No"], r["Amount"], r["End-to-End ID"], r["Sequence"]) for r in rows] == [
        ("INV-000001", Decimal("88.00"), "INV000001-R1", "FRST")]
    # the same return statement imported again adds nothing
    twice, _ = bank(returned, *returns, statement_id="S2")
    assert twice.summary["already_imported"] == 2 and twice.summary["returned_debits"] == 0


def test_invoices_of_customers_with_a_mandate_carry_the_pre_notification(tmp_path):
    pytest.importorskip("fpdf")
    from sheetbill.documents import prepare
    from sheetbill.documents.fonts import FontSet

    documents = prepare(billed(), tmp_path / "utility.xlsx", fonts=FontSet.discover(),
                        plugins=Plugins(get_plugin_manager(entry_points=False)))
    by_key = {doc.key: doc for doc in documents.documents}
    first = by_key["INV-000001"]
    text = " ".join(first.closing_paragraphs)
    assert "80.00 EUR by SEPA direct debit on 16 March 2026" in text
    assert "DE02 **** **** **** **20 51" in text and "M-1" in text and CREDITOR_ID in text
    assert "Please pay" not in text
    assert first.payment.qr_payload is None
    assert dict(first.payment.rows)["Mandate reference"] == "M-1"
    third = by_key["INV-000003"]  # no mandate: the transfer request with the RF reference
    assert "Please pay" in " ".join(third.closing_paragraphs)
    assert dict(third.payment.rows)["Reference"].startswith("RF") and third.payment.qr_payload


def test_collection_dates_are_target_days_around_easter(pain_validator, tmp_path):
    sheets = inputs()
    issued = with_outputs(sheets, run(sheets, dt.date(2026, 3, 20)).outputs)  # due on Good Friday, 2026-04-03
    invoices = [r for r in rows_of(run(issued, dt.date(2026, 3, 20)).outputs, "Invoices") if r["Customer ID"] == "C1"]
    assert invoices[0]["Due Date"] == dt.date(2026, 4, 3)
    outcome, _ = debit(issued, as_of=dt.date(2026, 3, 20), collection_date=dt.date(2026, 4, 10))
    (file,) = outcome.files
    assert file.collection_date == dt.date(2026, 4, 7)  # not Good Friday, not Easter Monday
    # a run on Good Friday itself for items announced earlier: the bank has the file on Tuesday 7 April,
    # so the first possible collection is Wednesday 8 April
    late, _ = debit(billed(), as_of=dt.date(2026, 4, 3))
    assert [f.collection_date for f in late.files] == [dt.date(2026, 4, 8)]
    for number, written in enumerate([file, *late.files]):
        path = tmp_path / f"{number}.xml"
        path.write_bytes(written.data)
        result = subprocess.run([sys.executable, str(pain_validator), str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
