"""Sealed history: an issued invoice or line edited in the sheet is a Problem, never silently billed.

The issue's case: a patient paid an invoice of 68 in full; someone changed its Amount to 99 in the
Invoices sheet. A run must report ``edited-history`` (Invoices, the row, column Amount), compute
with 68, send no reminder and make no document until the row is restored.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import openpyxl

from sheetbill import seals as seals_module
from sheetbill.cli import main
from sheetbill.documents.build import build_documents
from sheetbill.documents.fonts import FontSet
from sheetbill.documents.templates import Templates
from sheetbill.io.xlsx.file import XlsxWorkbook
from sheetbill.models import Invoice
from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.run import run_billing
from sheetbill.seals import GENESIS, INVOICE_SEALED, make_seal, values_of, verify
from sheetbill.sheets import RawSheet
from tests.helpers import book, rows_of, sheet, with_outputs

D = dt.date
ROOT = Path(__file__).resolve().parents[1]
INVOICE_HEADER = ("Invoice No", "Kind", "Issue Date", "Due Date", "Bill To Type", "Bill To ID", "Bill To Name",
                  "Customer ID", "Amount", "Related Invoice")
LINE_HEADER = ("Invoice No", "Charge ID", "Date of Service", "Customer ID", "Service Code", "Billed Code",
               "Quantity", "Charge Amount", "Amount", "Adjustment", "Reason", "Payment ID", "Related Invoice")


def invoice(no, amount, issued):
    return (no, "Invoice", issued, issued + dt.timedelta(days=14), "Customer", "C1", "Ann Lee", "C1", amount, None)


def line(no, amount, day):
    return (no, None, day, "C1", None, None, None, None, amount, 0, "session", None, None)


def workbook():
    """Three issued invoices of Ann Lee; the one of 68 (INV-2) is paid in full."""
    return book(
        sheet("Settings", ("Setting", "Value"), ("Reminder Days", "14, 14, 14"), ("Reminder Fees", "0; 5; 10"),
              ("Payment Methods", "Bank transfer"), ("Bank IBAN", "DE89 3704 0044 0532 0130 00"),
              ("Company Name", "Praxis"), ("Language", "en")),
        sheet("Customers", ("Customer ID", "Name", "Email"), ("C1", "Ann Lee", "ann@example.org")),
        sheet("Payers", ("Payer ID", "Name")),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Session", 80)),
        sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code")),
        sheet("Invoices", INVOICE_HEADER, invoice("INV-1", 50, D(2026, 1, 1)), invoice("INV-2", 68, D(2026, 1, 15)),
              invoice("INV-3", 30, D(2026, 2, 1))),
        sheet("Invoice Lines", LINE_HEADER, line("INV-1", 50, D(2026, 1, 1)), line("INV-2", 40, D(2026, 1, 15)),
              line("INV-2", 28, D(2026, 1, 15)), line("INV-3", 30, D(2026, 2, 1))),
        sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount", "Type"),
              ("PM1", D(2026, 1, 20), "INV-2", 68, None), ("PM2", D(2026, 1, 20), "INV-1", 50, None),
              ("PM3", D(2026, 2, 5), "INV-3", 30, None)),
    )


LATER = D(2026, 6, 30)


def run(sheets, day=LATER):
    return run_billing(sheets, as_of=day, plugins=Plugins(get_plugin_manager(entry_points=False)))


def sealed():
    """The workbook after one run: every history row has a Seal."""
    return with_outputs(workbook(), run(workbook(), D(2026, 2, 10)).outputs)


def edited(sheets, name, row, header, value):
    """``sheets`` with one cell of sheet ``name`` (row number as in the workbook) set to ``value``."""
    rows = [list(r) for r in sheets[name].rows]
    rows[row - 1][rows[0].index(header)] = value
    return sheets | {name: RawSheet(name, rows)}


def seal_problems(result):
    return [p for p in result.problems if p.code in ("edited-history", "deleted-history")]


def test_every_history_row_is_sealed_and_a_rerun_is_clean_and_identical():
    sheets = sealed()
    assert all(r["Seal"] for r in rows_of(run(sheets).outputs, "Invoices"))
    assert all(r[-1] for r in sheets["Invoice Lines"].rows[1:])
    first = run(sheets)
    assert seal_problems(first) == [] and first.exit_code == 0
    again = run(with_outputs(sheets, first.outputs))
    assert [o.rows for o in again.outputs] == [o.rows for o in first.outputs]


def test_an_edited_amount_is_a_problem_computed_without_the_edit_and_restoring_it_is_clean():
    sheets = sealed()
    seal_before = sheets["Invoices"].rows[2][-1]
    tampered = edited(sheets, "Invoices", 3, "Amount", 99)
    result = run(tampered)
    assert result.exit_code == 1
    [problem] = seal_problems(result)
    assert (problem.code, problem.sheet, problem.row, problem.column) == ("edited-history", "Invoices", 3, "Amount")
    assert ".bak" in problem.message and "undo" in problem.message
    assert result.book.edited_invoices == {"INV-2"}
    assert result.overdue.issued == [] and result.overdue.handed_over == []
    receivable = result.receivables["INV-2"]
    assert receivable.invoice.amount == Decimal("68.00") and receivable.balance == 0
    written = next(r for r in rows_of(result.outputs, "Invoices") if r["Invoice No"] == "INV-2")
    assert written["Amount"] == 99 and written["Seal"] == seal_before  # the edit and its old Seal stay
    batch = build_documents(result.book, Templates.load("en"), FontSet.discover(packages=False))
    assert "INV-2" in batch.skipped and "INV-1" not in batch.skipped
    assert "INV-2" not in {d.key for d in batch.documents}
    restored = edited(with_outputs(tampered, result.outputs), "Invoices", 3, "Amount", 68.0)
    assert seal_problems(run(restored)) == [] and run(restored).exit_code == 0


def test_an_edited_unpaid_invoice_gets_no_reminder_until_restored():
    sheets = edited(sealed(), "Payments", 4, "Amount", 0)  # INV-3 is not paid: a reminder would be due
    assert run(sheets).overdue.issued
    result = run(edited(sheets, "Invoices", 4, "Due Date", D(2026, 1, 1)))
    assert [(p.row, p.column) for p in seal_problems(result)] == [(4, "Due Date")]
    assert result.overdue.issued == []
    [row] = [r for r in rows_of(result.outputs, "Overdue") if r["Invoice No"] == "INV-3"]
    assert "restore" in row["Next Action"]


def test_an_edited_line_names_its_column_and_its_invoice_is_held():
    result = run(edited(sealed(), "Invoice Lines", 3, "Amount", 45))
    [problem] = seal_problems(result)
    assert (problem.sheet, problem.row, problem.column) == ("Invoice Lines", 3, "Amount")
    assert result.book.edited_invoices == {"INV-2"}
    assert result.receivables["INV-2"].invoice.amount == Decimal("68.00")  # the Invoices row is intact
    assert result.issued.invoices == ()  # nothing credited or re-billed because of the edit


def test_a_sorted_sheet_is_not_an_edit():
    sheets = sealed()
    for name in ("Invoices", "Invoice Lines"):
        header, *rows = sheets[name].rows
        sheets = sheets | {name: RawSheet(name, [header, *reversed(rows)])}
    result = run(sheets)
    assert seal_problems(result) == [] and result.exit_code == 0


def test_a_deleted_row_is_reported_on_the_next_one_and_nothing_else_is_blamed():
    sheets = sealed()
    rows = sheets["Invoices"].rows
    result = run(sheets | {"Invoices": RawSheet("Invoices", [rows[0], rows[1], rows[3]])})
    problems = seal_problems(result)
    assert [(p.code, p.sheet, p.row) for p in problems if p.sheet == "Invoices"] == [("deleted-history", "Invoices", 3)]
    assert all(p.code != "edited-history" for p in problems)


def test_a_row_after_an_edited_one_is_not_blamed():
    result = run(edited(sealed(), "Invoices", 2, "Bill To Name", "Ann Lea"))
    assert [(p.row, p.column) for p in seal_problems(result)] == [(2, "Bill To Name")]


def test_a_float_read_back_row_verifies_like_the_computed_one():
    computed = Invoice("INV-9", "Invoice", D(2026, 1, 1), D(2026, 1, 15), "Customer", "C1", "Ann", "C1",
                       Decimal("80.00"))
    read_back = Invoice("INV-9", "Invoice", D(2026, 1, 1), D(2026, 1, 15), "Customer", "C1", "Ann", "C1", 80.0)
    seal = make_seal(GENESIS, values_of(computed, INVOICE_SEALED, 2))
    assert verify([values_of(read_back, INVOICE_SEALED, 2)], [seal], [0], len(INVOICE_SEALED)) == []
    edited_back = Invoice("INV-9", "Invoice", D(2026, 1, 1), D(2026, 1, 15), "Customer", "C1", "Ann", "C1", 80.5)
    [finding] = verify([values_of(edited_back, INVOICE_SEALED, 2)], [seal], [0], len(INVOICE_SEALED))
    assert finding.kind == "edited"


def test_an_old_workbook_gets_seals_on_its_next_run_and_then_reports_and_changes_nothing(tmp_path, capsys):
    workbook_path = tmp_path / "demo-medical.xlsx"
    shutil.copyfile(ROOT / "tests" / "data" / "release-0.1.0" / "demo-medical.xlsx", workbook_path)
    assert main(["bill", str(workbook_path), "--as-of", "2026-06-30"]) in (0, 1)
    capsys.readouterr()
    opened = openpyxl.load_workbook(workbook_path)
    for name in ("Invoices", "Invoice Lines"):
        header, *rows = opened[name].iter_rows(values_only=True)
        assert header[-1] == "Seal" and rows and all(row[-1] for row in rows)
    with XlsxWorkbook(workbook_path).read() as sheets:
        stored = {name: [row[-1] for row in sheets[name].rows[1:]] for name in ("Invoices", "Invoice Lines")}
        again = run(sheets)
    assert seal_problems(again) == []
    for name in ("Invoices", "Invoice Lines"):
        [output] = [o for o in again.outputs if o.name == name]
        assert [row[-1] for row in output.rows] == stored[name]
    assert main(["bill", str(workbook_path), "--as-of", "2026-06-30"]) in (0, 1)
    assert "nothing changed" in capsys.readouterr().out


def test_an_edit_the_column_fingerprint_misses_is_still_caught_for_the_row():
    sheets = sealed()
    row = list(sheets["Invoices"].rows[2])
    wanted = row[-1].split(".")[2][6]  # the fingerprint character of Bill To Name
    def fingerprint(name):
        return seals_module._columns(("",) * 6 + (name,))[6]
    name = next(f"Ann Lee {n}" for n in range(1000) if fingerprint(f"Ann Lee {n}") == wanted)
    [problem] = seal_problems(run(edited(sheets, "Invoices", 3, "Bill To Name", name)))
    assert (problem.code, problem.row, problem.column) == ("edited-history", 3, "")
    assert "row was changed" in problem.message


def test_an_invoice_edited_together_with_its_lines_is_left_out_of_the_accounts():
    sheets = edited(sealed(), "Invoices", 3, "Amount", 99)
    result = run(edited(sheets, "Invoice Lines", 3, "Amount", 71))
    assert {(p.sheet, p.column) for p in seal_problems(result)} == {("Invoices", "Amount"), ("Invoice Lines", "Amount")}
    assert "INV-2" not in result.receivables and result.overdue.issued == []
    written = next(r for r in rows_of(result.outputs, "Invoices") if r["Invoice No"] == "INV-2")
    assert written["Amount"] == 99 and written["Balance"] is None


def test_issue_order_is_by_issue_date_then_number_with_undated_rows_last():
    """seals.invoice_order against the rule written out: sorted by (issue date or never, number), ties in
    sheet order; random sheets with equal dates, equal numbers and rows without a date."""
    import random
    from types import SimpleNamespace

    rng = random.Random(20261130)
    for _ in range(20):
        invoices = [SimpleNamespace(issue_date=rng.choice([None, dt.date(2026, 1, rng.randrange(1, 5))]),
                                    invoice_no=f"INV-{rng.randrange(30):06d}") for _ in range(rng.randrange(200))]
        expected = sorted(range(len(invoices)), key=lambda i: (invoices[i].issue_date or dt.date.max,
                                                               invoices[i].invoice_no, i))
        assert seals_module.invoice_order(invoices) == expected


def test_prefix_digests_given_a_few_rows_at_a_time_are_those_of_all_rows_at_once(monkeypatch):
    """The handover digests the lines as they are parsed (:class:`PrefixDigests`); a next run digests all
    its lines at once (:func:`prefix_digests`): every way of cutting the rows gives the same digests."""
    import random

    monkeypatch.setattr(seals_module, "CHECKPOINT_ROWS", 5)
    rng = random.Random(7)
    rows = list(range(2, 60))
    seals = [None if rng.random() < 0.1 else f"{rng.getrandbits(40):010x}.abcd.EFG" for _ in rows]
    whole = seals_module.prefix_digests(rows, seals, list(range(len(rows))))
    assert len(whole) == len(rows) // 5
    for _ in range(20):
        digests, start = seals_module.PrefixDigests(), 0
        while start < len(rows):
            stop = start + rng.choice([0, 1, 3, 5, 7, 12])
            digests.add(rows[start:stop], seals[start:stop])
            start = stop
        assert digests.digests == whole
    assert seals_module.prefix_digests(rows, seals, list(range(len(rows)))[::-1]) != whole


def test_line_order_is_the_invoices_issue_order_then_the_sheet_order_with_lines_of_missing_invoices_last():
    """The definition, spelled out: a line's key is its invoice's place in issue order (issue date, then
    number; undated last), lines of invoices not listed after all others by invoice number, ties by position."""
    import random

    rng = random.Random(11)
    for _ in range(30):
        invoices = [Invoice(f"INV-{n:03d}", "invoice", rng.choice([None, dt.date(2026, 1, rng.randint(1, 5))]),
                            None, "customer", "C1", "", "C1", Decimal("1.00"), None)
                    for n in rng.sample(range(100), rng.randint(0, 12))]
        numbers = [invoice.invoice_no for invoice in invoices] + [f"INV-{n:03d}" for n in range(100, 104)]
        lines = [_Line(rng.choice(numbers)) for _ in range(rng.randint(0, 40))] if numbers else []
        listed = sorted(invoices, key=lambda i: (i.issue_date or dt.date.max, i.invoice_no))
        rank = {invoice.invoice_no: n for n, invoice in enumerate(listed)}
        expected = sorted(range(len(lines)), key=lambda i: (rank.get(lines[i].invoice_no, len(rank)),
                                                            lines[i].invoice_no, i))
        assert seals_module.line_order(invoices, lines) == expected


class _Line:
    def __init__(self, invoice_no: str):
        self.invoice_no = invoice_no


def test_rows_sealed_a_batch_at_a_time_are_chained_one_after_another_in_issue_order(monkeypatch):
    """A first run spells the rows it seals a batch at a time: each row's Seal is still the one
    :func:`make_seal` gives it after the row before it in issue order, from the start of the chain."""
    monkeypatch.setattr(seals_module, "_SEAL_BATCH", 3)
    day = D(2026, 2, 10)
    invoices = [Invoice(f"INV-{n}", "Invoice", day - dt.timedelta(days=n % 4), day, "Customer", "C1", "Ann Lee",
                        "C1", Decimal(n)) for n in range(1, 12)]
    found, _ = seals_module.seal_records(invoices, [], 2)
    tip, expected = GENESIS, {}
    for index in seals_module.invoice_order(invoices):
        expected[index] = make_seal(tip, values_of(invoices[index], INVOICE_SEALED, 2))
        tip = expected[index].split(".")[0]
    assert found == [expected[index] for index in range(len(invoices))]
    assert len(set(found)) == len(invoices)
