"""The bank import end to end: invoices issued, a statement imported, payments booked by the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sheetbill.app import SheetsInMemory, bill
from sheetbill.bank.camt_write import camt053
from sheetbill.bank.entries import BankEntry
from sheetbill.bank.matching import invoice_rf
from sheetbill.bank.references import format_rf, is_valid_rf
from sheetbill.bank_import import StatementFile, import_bank, payment_id
from sheetbill.memo import MemoStore
from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.run import run_billing
from tests.helpers import book, rows_of, sheet, with_outputs

AS_OF = dt.date(2026, 3, 1)
PAID_ON = dt.date(2026, 3, 5)
ACCOUNT = "DE89370400440532013000"
IBAN_WEBER = "DE02120300000000202051"
IBAN_KOCH = "DE02500105170137075030"
CHARGES = ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price")


def workbook():
    """Six customers, one invoice each (INV-000001 .. INV-000006), issued on AS_OF."""
    sheets = book(
        sheet("Settings", ("Setting", "Value"), ("Invoice Prefix", "INV-"), ("Payment Terms Days", 14)),
        sheet("Customers", ("Customer ID", "Name", "IBAN"), ("C1", "Anna Weber", IBAN_WEBER),
              ("C2", "Bernd Koch", None), ("C3", "Clara Wolf", None), ("C4", "Dieter Hahn", None),
              ("C5", "Eva Roth", None), ("C6", "Frank Lang", None)),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Session", 80), ("T", "Test", 25)),
        sheet("Charges", CHARGES, ("1", "2026-02-01", "C1", "S", 1, None), ("2", "2026-02-02", "C2", "S", 1, None),
              ("3", "2026-02-03", "C3", "T", 1, None), ("4", "2026-02-04", "C4", "S", 1, None),
              ("5", "2026-02-05", "C5", "S", 1, None), ("6", "2026-02-06", "C6", "T", 1, None),
              ("7", "2026-02-07", "C4", "T", 1, None)),
        sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount", "Type")),
    )
    return with_outputs(sheets, run(sheets).outputs)


def run(sheets, as_of=AS_OF):
    return run_billing(sheets, as_of=as_of, plugins=Plugins(get_plugin_manager(entry_points=False)))


def credit(ref, amount, *, name=None, iban=None, purpose=None, structured=None, status="BOOK"):
    return BankEntry(amount=Decimal(amount), currency="EUR", booking_date=PAID_ON, value_date=PAID_ON,
                     counterparty_name=name, counterparty_iban=iban, purpose=purpose, structured_reference=structured,
                     bank_reference=ref, status=status)


def statement(*entries, statement_id="S1"):
    return StatementFile(f"{statement_id}.xml", camt053(ACCOUNT, entries, statement_id=statement_id,
                                                        created=dt.datetime(2026, 3, 6, 8, 0)))


def do_import(sheets, *files, dry_run=False):
    memory = SheetsInMemory(sheets)
    outcome = import_bank(memory, files, dry_run=dry_run)
    return outcome, with_outputs(sheets, memory.written)


def test_rf_reference_of_an_invoice_has_valid_check_digits():
    rf = invoice_rf("INV-000001")
    assert rf is not None and rf.startswith("RF") and rf.endswith("INV000001") and is_valid_rf(rf)
    assert invoice_rf("X" * 22) is None


def test_every_rule_posts_to_the_right_invoice_and_the_rest_waits_for_review():
    sheets = workbook()
    invoices = {r["Customer ID"]: (r["Invoice No"], r["Amount"]) for r in rows_of(run(sheets).outputs, "Invoices")}
    assert invoices["C1"] == ("INV-000001", Decimal("80.00")) and invoices["C4"][1] == Decimal("105.00")
    file = statement(
        credit("R1", "80.00", name="Anna Weber", structured=invoice_rf("INV-000001")),           # rule 1
        credit("R2", "80.00", name="B. Koch", purpose="Rechnung inv 2 danke"),                   # rule 2, no zeros
        credit("R3", "25.00", name="C Wolf", purpose="RE-NR. INV - 000 003"),                    # rule 2, spaced
        credit("R4", "130.00", name="Eva Roth", purpose="INV-000004 und INV-000005"),             # rule 4
        credit("R5", "25.00", name="frank  LANG", purpose="Danke"),                              # rule 3 by name
        credit("R6", "99.00", name="Somebody Else", purpose="Spende"),                           # unknown payer
        credit("R7", "-12.00", name="Bank", purpose="Kontofuehrung"),                            # outgoing
    )
    outcome, after = do_import(sheets, file)
    posted = rows_of(outcome.outputs, "Bank Payments")
    assert [(p["Invoice No"], p["Amount"], p["Rule"]) for p in posted] == [
        ("INV-000001", Decimal("80.00"), "reference"),
        ("INV-000002", Decimal("80.00"), "invoice number"),
        ("INV-000003", Decimal("25.00"), "invoice number"),
        ("INV-000004", Decimal("105.00"), "several invoices"),
        ("INV-000005", Decimal("25.00"), "several invoices"),
        ("INV-000006", Decimal("25.00"), "amount"),
    ]
    assert posted[3]["Payment ID"] == payment_id(f"{ACCOUNT}:ref:R4", 0, 2) != posted[4]["Payment ID"]
    review = rows_of(outcome.outputs, "Bank Review")
    assert [(r["Amount"], r["Counterparty"]) for r in review] == [(Decimal("99.00"), "Somebody Else")]
    assert outcome.summary["matched_by_rule"] == {"reference": 1, "invoice number": 2, "amount": 1,
                                                  "several invoices": 1, "direct debit": 0,
                                                  "posted from review": 0}
    assert outcome.summary["outgoing_ignored"] == 1 and outcome.summary["left_for_review"] == 1

    # the ledger books them: everything paid
    statuses = {r["Invoice No"]: (r["Paid"], r["Status"]) for r in rows_of(run(after).outputs, "Invoices")}
    assert all(paid > 0 for paid, _ in statuses.values())
    assert statuses["INV-000004"][0] == Decimal("105.00")


def test_the_same_statement_twice_and_an_overlapping_one_add_nothing():
    sheets = workbook()
    first = credit("R1", "80.00", structured=invoice_rf("INV-000001"))
    outcome, after = do_import(sheets, statement(first, credit("R9", "5.00", name="Nobody")))
    assert outcome.summary["payments_posted"] == 1 and outcome.summary["left_for_review"] == 1
    again, after2 = do_import(after, statement(first, credit("R9", "5.00", name="Nobody")))
    assert again.summary["already_imported"] == 2 and again.summary["payments_posted"] == 0
    assert not again.written
    overlapping = statement(first, credit("R10", "80.00", purpose="INV000002"), statement_id="S2")
    third, after3 = do_import(after, overlapping)
    assert third.summary["already_imported"] == 1 and third.summary["payments_posted"] == 1
    assert len(rows_of(third.outputs, "Bank Payments")) == 2


def test_near_miss_numbers_and_equal_amounts_never_match_the_wrong_invoice():
    sheets = workbook()
    # INV-000002 (Koch) and INV-000001 (Weber) are both 80.00
    file = statement(
        credit("N1", "80.00", name="Unknown", purpose="INV-000009"),          # no such invoice
        credit("N2", "80.00", name="Unknown", purpose="Rechnung 2026"),        # a year, not invoice 2026
        credit("N3", "80.00", name="Unknown", purpose="Rg 1"),                 # bare 1: amount fits INV-000001 ...
        credit("N4", "80.00", name="Unknown", structured=format_rf("RF00INV000001")),  # bad check digits
        credit("N5", "80.00", name="Unknown", purpose="ohne Angabe"),         # equal amounts of two customers
    )
    outcome, _ = do_import(sheets, file)
    posted = rows_of(outcome.outputs, "Bank Payments")
    assert [(p["Entry ID"].rsplit(":", 1)[1], p["Invoice No"]) for p in posted] == [("N3", "INV-000001")]
    review = {r["Entry ID"].rsplit(":", 1)[1]: r for r in rows_of(outcome.outputs, "Bank Review")}
    assert set(review) == {"N1", "N2", "N4", "N5"}
    assert "not one of ours" in review["N4"]["Reason"]
    # the invoices open for 80.00, but not INV-000001, which N3 has just paid
    assert review["N5"]["Suggestions"] == "INV-000002; INV-000005"


def test_known_iban_and_learned_iban_identify_the_payer():
    sheets = workbook()
    outcome, after = do_import(sheets, statement(
        credit("I1", "80.00", name="A. W.", iban=IBAN_WEBER, purpose="Praxis"),               # Customers IBAN
        credit("I2", "80.00", name="Koch", iban=IBAN_KOCH, purpose="INV-000002")))            # rule 2, learns
    assert [p["Rule"] for p in rows_of(outcome.outputs, "Bank Payments")] == ["amount", "invoice number"]
    after["Charges"] = sheet("Charges", CHARGES, *after["Charges"].rows[1:], ("8", "2026-03-10", "C2", "T", 1, None))
    billed = with_outputs(after, run(after, dt.date(2026, 3, 10)).outputs)
    new = [r for r in rows_of(run(billed, dt.date(2026, 3, 10)).outputs, "Invoices") if r["Customer ID"] == "C2"]
    assert new[-1]["Amount"] == Decimal("25.00")
    later = credit("I3", "25.00", name="Someone", iban=IBAN_KOCH, purpose="Danke")
    outcome2, _ = do_import(billed, statement(later, statement_id="S2"))
    assert [(p["Invoice No"], p["Rule"]) for p in rows_of(outcome2.outputs, "Bank Payments")][-1] == \
        (new[-1]["Invoice No"], "amount")


def test_a_customers_iban_typed_with_dashes_recognises_the_payer():
    sheets = workbook()
    customers = sheets["Customers"]
    dashed = [list(row) for row in customers.rows]
    dashed[2][2] = "DE02-5001-0517-0137-0750-30"  # Bernd Koch's IBAN as some clerks type it
    sheets["Customers"] = sheet("Customers", *dashed)
    outcome, _ = do_import(sheets, statement(credit("D1", "80.00", name="B. K.", iban=IBAN_KOCH, purpose="Strom")))
    assert [(p["Invoice No"], p["Rule"]) for p in rows_of(outcome.outputs, "Bank Payments")] == \
        [("INV-000002", "amount")]


def test_overpayment_is_booked_and_becomes_credit():
    sheets = workbook()
    outcome, after = do_import(sheets, statement(credit("O1", "100.00", purpose="INV-000001")))
    assert rows_of(outcome.outputs, "Bank Payments")[0]["Amount"] == Decimal("100.00")
    accounts = {r["Party ID"]: r for r in rows_of(run(after).outputs, "Accounts")}
    assert accounts["C1"]["Unapplied Credit"] == Decimal("20.00")


def test_the_clerks_answer_in_bank_review_is_posted_by_the_next_import():
    sheets = workbook()
    outcome, after = do_import(sheets, statement(credit("Q1", "25.00", name="Unknown", purpose="Test")))
    (row,) = rows_of(outcome.outputs, "Bank Review")
    review = after["Bank Review"]
    header = list(review.rows[0])
    answered = list(review.rows[1])
    answered[header.index("Invoice No")] = "INV-000999"
    after["Bank Review"] = sheet("Bank Review", header, answered)
    wrong, _ = do_import(after)
    assert [p.code for p in wrong.problems] == ["bank-review-answer"] and wrong.exit_code == 1
    assert len(rows_of(wrong.outputs, "Bank Review")) == 1
    answered[header.index("Invoice No")] = "INV-000003"
    after["Bank Review"] = sheet("Bank Review", header, answered)
    right, final = do_import(after)
    assert rows_of(right.outputs, "Bank Review") == []
    (posted,) = rows_of(right.outputs, "Bank Payments")
    assert (posted["Invoice No"], posted["Rule"], posted["Entry ID"]) == ("INV-000003", "review", row["Entry ID"])
    again, _ = do_import(final, statement(credit("Q1", "25.00", name="Unknown", purpose="Test")))
    assert again.summary["already_imported"] == 1 and again.summary["payments_posted"] == 0


def test_an_answer_typed_loosely_is_posted_under_the_invoices_own_number():
    sheets = workbook()
    _, after = do_import(sheets, statement(credit("Q1", "25.00", name="Unknown", purpose="Test"),
                                           credit("Q2", "10.00", name="Unknown", purpose="Rest")))
    review = after["Bank Review"]
    header = list(review.rows[0])
    answers = [list(row) for row in review.rows[1:]]
    answers[0][header.index("Invoice No")] = "inv 000003"
    answers[1][header.index("Invoice No")] = "Inv-000006"
    after["Bank Review"] = sheet("Bank Review", header, *answers)
    outcome, final = do_import(after)
    assert outcome.problems == [] and rows_of(outcome.outputs, "Bank Review") == []
    assert [(p["Invoice No"], p["Amount"]) for p in rows_of(outcome.outputs, "Bank Payments")] == \
        [("INV-000003", Decimal("25.00")), ("INV-000006", Decimal("10.00"))]
    billed = run(final)
    balances = {r["Invoice No"]: r["Balance"] for r in rows_of(billed.outputs, "Invoices")}
    assert (balances["INV-000003"], balances["INV-000006"]) == (Decimal("0.00"), Decimal("15.00"))


def test_dry_run_writes_nothing_and_pending_entries_wait():
    sheets = workbook()
    outcome, _ = do_import(sheets, statement(credit("P1", "80.00", purpose="INV-000001", status="PDNG")),
                           dry_run=True)
    assert not outcome.written and outcome.summary["pending_not_imported"] == 1


def test_an_unreadable_file_is_a_problem_and_the_others_are_imported():
    sheets = workbook()
    outcome, _ = do_import(sheets, StatementFile("x.txt", b"hello"),
                           statement(credit("U1", "80.00", purpose="INV-000001")))
    assert [p.code for p in outcome.problems] == ["bank-file-unreadable"]
    assert outcome.summary["payments_posted"] == 1


def test_text_from_the_bank_stays_text():
    sheets = workbook()
    outcome, _ = do_import(sheets, statement(credit("T1", "80.00", name="=cmd|' /C calc'!A0",
                                                    purpose="=HYPERLINK(\"x\") INV-000001")))
    (row,) = rows_of(outcome.outputs, "Bank Payments")
    assert row["Counterparty"] == "=cmd|' /C calc'!A0" and isinstance(row["Counterparty"], str)


def test_a_bad_customers_iban_is_a_warning_the_customer_is_billed_and_the_iban_never_matches():
    from sheetbill.bank.references import iban_is_valid
    from sheetbill.bank_import import payers
    from sheetbill.i18n import language

    swapped = IBAN_WEBER[:-2] + IBAN_WEBER[-1] + IBAN_WEBER[-2]  # ...2015: two neighbouring digits swapped
    short = IBAN_KOCH[:-1]
    assert not iban_is_valid(swapped) and not iban_is_valid(short)
    sheets = book(
        sheet("Settings", ("Setting", "Value"), ("Invoice Prefix", "INV-"), ("Payment Terms Days", 14)),
        sheet("Customers", ("Customer ID", "Name", "IBAN"), ("C1", "Anna Weber", swapped), ("C2", "Bernd Koch", short),
              ("C3", "Clara Wolf", "12345"), ("C4", "Dieter Hahn", "de89 3704 0044 0532 0130 00")),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Session", 80)),
        sheet("Charges", CHARGES, *[(str(i), "2026-02-01", f"C{i}", "S", 1, None) for i in range(1, 5)]),
        sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount", "Type")),
    )
    result = run(sheets)
    assert sorted(r["Customer ID"] for r in rows_of(result.outputs, "Invoices")) == ["C1", "C2", "C3", "C4"]
    found = [p for p in result.problems if p.code == "bad-customer-iban"]
    assert [(p.severity, p.sheet, p.row, p.column) for p in found] == \
        [("warning", "Customers", 2, "IBAN"), ("warning", "Customers", 3, "IBAN"), ("warning", "Customers", 4, "IBAN")]
    assert "check digits" in found[0].message and "has 21 characters; an IBAN from DE has 22" in found[1].message
    assert "Prüfziffern" in found[0].in_language(language("de"))
    assert result.exit_code == 0  # warnings only
    known = {payer.customer_id: payer.ibans for payer in payers(result.book, [])}
    assert known == {"C1": (), "C2": (), "C3": (), "C4": ("DE89370400440532013000",)}
    # a credit from the typed (invalid) account is not matched to Anna Weber by amount
    outcome, _ = do_import(with_outputs(sheets, result.outputs),
                           statement(credit("X1", "80.00", name="A. W.", iban=swapped, purpose="Praxis")))
    assert rows_of(outcome.outputs, "Bank Payments") == [] and len(rows_of(outcome.outputs, "Bank Review")) == 1


def edited(sheets, invoice_no, column, value):
    """``sheets`` with one cell of ``invoice_no``'s Invoices row changed, as a hand edit would."""
    invoices = sheets["Invoices"]
    header = list(invoices.rows[0])
    rows = [list(r) for r in invoices.rows[1:]]
    for row in rows:
        if row[header.index("Invoice No")] == invoice_no:
            row[header.index(column)] = value
    return {**sheets, "Invoices": sheet("Invoices", header, *rows)}


def test_no_money_is_posted_to_an_invoice_whose_row_was_edited_after_issue():
    sheets = edited(workbook(), "INV-000001", "Amount", 8.0)
    outcome, after = do_import(sheets, statement(credit("E1", "8.00", purpose="INV-000001"),
                                                 credit("E2", "80.00", purpose="INV-000002")))
    assert [(p.code, p.sheet, p.column) for p in outcome.problems] == [("edited-history", "Invoices", "Amount")]
    assert [r["Invoice No"] for r in rows_of(outcome.outputs, "Bank Payments")] == ["INV-000002"]
    (waiting,) = rows_of(outcome.outputs, "Bank Review")
    assert waiting["Entry ID"] == outcome.matches[0].entry.entry_id
    review = after["Bank Review"]
    header, answered = list(review.rows[0]), list(review.rows[1])
    answered[header.index("Invoice No")] = "INV-000001"
    refused, _ = do_import({**after, "Bank Review": sheet("Bank Review", header, answered)})
    assert [p.code for p in refused.problems if p.sheet == "Bank Review"] == ["bank-review-answer"]
    assert "edited" in next(p.message for p in refused.problems if p.sheet == "Bank Review")


class _SheetsWithMemo(SheetsInMemory):
    """Sheets in memory whose run memo is kept in ``folder``, as the .xlsx front end keeps one."""

    def __init__(self, sheets, folder):
        super().__init__(sheets)
        self.folder = folder

    def memo_store(self, plugins):
        return MemoStore(self.folder / "book.xlsx", plugins, folder=self.folder)


def test_an_import_neither_uses_nor_leaves_a_run_memo(tmp_path, monkeypatch):
    """Reading the rows costs the import less than taking them from a run's memo: it opens none and leaves
    none, and decides alike whether one is there or not."""
    sheets = workbook()
    file = statement(credit("M1", "80.00", purpose="INV-000001"), credit("M2", "25.00", iban=IBAN_WEBER))
    plain, _ = do_import(sheets, file)
    without = import_bank(_SheetsWithMemo(sheets, tmp_path), [file])
    assert not list(tmp_path.iterdir())  # no memo was there, and the import left none
    bill(_SheetsWithMemo(sheets, tmp_path), as_of=AS_OF)  # the run before: it leaves its memo
    memos = list(tmp_path.iterdir())
    kept = memos[0].read_bytes()

    def opened(*_args):
        raise AssertionError("the import opened the run memo")

    monkeypatch.setattr(MemoStore, "load", opened)
    used = import_bank(_SheetsWithMemo(sheets, tmp_path), [file])
    assert list(tmp_path.iterdir()) == memos and memos[0].read_bytes() == kept
    assert (without.summary, without.outputs) == (plain.summary, plain.outputs) == (used.summary, used.outputs)
