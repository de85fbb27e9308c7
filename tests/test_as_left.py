"""A click does not look for credit notes among the charges of customers whose inputs are those of the run that
left the history as it is (:func:`sheetbill.billing.issue`'s ``as_left``): that run checked them against these
very lines. Whenever the history is not as that run left it, every billed charge is checked again.

The oracle is the same workbook billed without a memo (every charge checked): both must hold the same parts.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from sheetbill import billing, contract
from sheetbill.app import bill, update_overdue
from sheetbill.book import read_history
from sheetbill.decisions import Decisions
from sheetbill.io.xlsx import write_output_sheets
from sheetbill.io.xlsx.file import XlsxWorkbook
from sheetbill.io.xlsx.read import open_workbook
from sheetbill.models import InvoiceLine
from sheetbill.money import AmountPool
from sheetbill.outputs import invoice_lines_sheet
from sheetbill.sheets import Column, OutputSheet
from tests.io.test_xlsx_append import parts
from tests.io.test_xlsx_append_runs import _as_output, _generator

AS_OF = dt.date(2026, 12, 31)
ROOT = Path(__file__).resolve().parents[1]
CHARGES = 300


@pytest.fixture
def checked(monkeypatch) -> list[int]:
    """How many billed charges each run looked up to check them for credit notes."""
    counts: list[int] = []
    credits = billing._credits_for_changed_charges
    decided = Decisions.decided

    def counted_credits(book, decisions, active):
        counts.append(0)
        return credits(book, decisions, active)

    def counted_decided(self, charge_id):
        counts[-1] += 1
        return decided(self, charge_id)

    monkeypatch.setattr(billing, "_credits_for_changed_charges", counted_credits)
    monkeypatch.setattr(Decisions, "decided", counted_decided)
    return counts


def billed(tmp_path: Path) -> Path:
    """A workbook billed once, then a day's charges and payments typed in and billed."""
    generator = _generator()
    book = generator.write(tmp_path / "book.xlsx", CHARGES)
    bill(XlsxWorkbook(book), as_of=AS_OF)
    generator.append_day(book, CHARGES, 9, seed=1)
    bill(XlsxWorkbook(book), as_of=AS_OF)
    return book


def bill_both(book: Path, tmp_path: Path) -> None:
    """Bill ``book`` with its memo and a copy without one; both must write the same parts."""
    reference = shutil.copy(book, tmp_path / "reference.xlsx")
    bill(XlsxWorkbook(book), as_of=AS_OF)
    bill(XlsxWorkbook(reference, cache=False), as_of=AS_OF)
    assert parts(book) == parts(reference)


def table(book: Path, name: str) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(book)).get_sheet_by_name(name).to_python()


def credit_notes(book: Path) -> int:
    return sum(row[1] == "Credit Note" for row in table(book, "Invoices")[1:])


def test_a_click_checks_only_the_charges_of_customers_with_something_new(tmp_path: Path, checked) -> None:
    book = billed(tmp_path)
    _generator().append_day(book, CHARGES, 9, seed=2)
    billed_charges = {row[1] for row in table(book, "Invoice Lines")[1:]}
    checked.clear()
    bill_both(book, tmp_path)
    with_memo, without = checked
    assert without >= len(billed_charges) > 250
    assert 0 < with_memo < without / 2  # the charges of the customers with a new charge


def _set_quantity(book: Path, charge_id: str, quantity: int) -> None:
    """Change a charge's Quantity the way Excel does: the whole workbook saved again."""
    workbook = openpyxl.load_workbook(book)
    sheet = workbook["Charges"]
    header = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[header.index("Charge ID")].value == charge_id:
            row[header.index("Quantity")].value = quantity
    workbook.save(book)


def test_a_changed_charge_of_a_customer_is_credited_as_without_memo(tmp_path: Path, checked) -> None:
    book = billed(tmp_path)
    charge_id = table(book, "Invoice Lines")[5][1]
    _set_quantity(book, charge_id, 3)
    bill_both(book, tmp_path)
    assert credit_notes(book) > 0


def _rewrite_invoices_without_the_last(book: Path, count: int) -> None:
    """Delete the last ``count`` Invoices rows with sheetbill's own writer: the part keeps an append mark."""
    rows = table(book, "Invoices")
    header, kept = rows[0], rows[1:-count]
    kinds = ["date" if any(isinstance(r[i], dt.date) for r in kept) else "text" for i in range(len(header))]
    clean = [[value if value != "" else None for value in row] for row in kept]
    for row in clean:
        for index, value in enumerate(row):
            if isinstance(value, float):
                row[index] = Decimal(str(value))
    write_output_sheets(book, [OutputSheet("Invoices", tuple(Column(str(h), k) for h, k in zip(header, kinds,
                                                                                              strict=True)), clean)],
                        backup=False)


def test_invoices_deleted_since_the_last_run_have_every_charge_checked(tmp_path: Path, checked) -> None:
    """The last invoices deleted (their lines stay, reported as orphans): the history is not as the memo's run
    left it, although the sheets that remain start with the rows it wrote."""
    book = billed(tmp_path)
    _rewrite_invoices_without_the_last(book, 3)
    _generator().append_day(book, CHARGES, 9, seed=3)  # an input changed too: the run is not skipped
    billed_charges = {row[1] for row in table(book, "Invoice Lines")[1:]}
    checked.clear()
    bill_both(book, tmp_path)
    assert checked[0] >= len(billed_charges)


def _add_line_in_excel(book: Path) -> None:
    """Type a copy of the first line at another amount and without a Seal, and save the workbook (Excel
    saves every part again)."""
    workbook = openpyxl.load_workbook(book)
    sheet = workbook["Invoice Lines"]
    header = [cell.value for cell in sheet[1]]
    copied = [cell.value for cell in sheet[2]]
    copied[header.index("Charge Amount")] = 999
    copied[header.index("Amount")] = 999
    copied[header.index("Seal")] = None
    sheet.append(copied)
    workbook.save(book)


def _add_line_by_appending(book: Path) -> None:
    """The same line appended the way sheetbill's writer extends a sheet: the part keeps its first rows and
    its append mark, as a tool that only adds rows leaves it."""
    with open_workbook(book, contract.sheets_a_run_reads()) as sheets:
        lines, problems = read_history(sheets, contract.INVOICE_LINES, InvoiceLine, AmountPool("EUR"))
    assert problems == []
    forged = replace(lines[0], charge_amount=Decimal("999.00"), amount=Decimal("999.00"), seal=None)
    write_output_sheets(book, [invoice_lines_sheet([*lines, forged], None, len(lines), "EUR")], backup=False)
    _generator().append_day(book, CHARGES, 9, seed=4)  # an input changed too: the run is not skipped


@pytest.mark.parametrize("add_line", [_add_line_in_excel, _add_line_by_appending])
def test_a_line_added_to_the_history_has_every_charge_checked(tmp_path: Path, checked, add_line) -> None:
    """A line added to Invoice Lines (no Seal: trusted as read) billing a charge of a customer with nothing new
    at another amount: the charge is credited, as a run without memo credits it."""
    book = billed(tmp_path)
    add_line(book)
    checked.clear()
    bill_both(book, tmp_path)
    assert checked[0] > 250
    assert credit_notes(book) > 0


def test_a_line_added_before_an_overdue_run_has_every_charge_checked_by_the_next_billing(tmp_path: Path,
                                                                                         checked) -> None:
    """``sheetbill overdue`` writes the history back (the added line included) but issues nothing: the history
    it leaves was not checked with the decisions it passes on, so the next billing run checks every charge."""
    book = billed(tmp_path)
    _add_line_in_excel(book)
    update_overdue(XlsxWorkbook(book), as_of=AS_OF)
    _generator().append_day(book, CHARGES, 9, seed=6)
    checked.clear()
    bill_both(book, tmp_path)
    assert checked[0] > 250
    assert credit_notes(book) > 0


def test_a_line_edited_to_name_another_customer_is_looked_at_as_without_memo(tmp_path: Path, checked) -> None:
    """Lines whose Customer ID was edited (to a customer with nothing new) still bill their charge. Billed once
    with the edit, the history is as that run left it; then another charge of the charge's customer changes
    (the Charges sheet rewritten alone, so the history keeps its append marks): with an edited line in the
    history, the lines of the customers with nothing new are looked at too, as a run without memo looks at
    them, and the edited lines' charge is not billed again."""
    book = billed(tmp_path)
    workbook = openpyxl.load_workbook(book)
    lines = workbook["Invoice Lines"]
    header = [c.value for c in lines[1]]
    customer, charge = header.index("Customer ID"), header.index("Charge ID")
    owner, billed_charge = lines[2][customer].value, lines[2][charge].value
    other = next(row[customer].value for row in lines.iter_rows(min_row=3) if row[customer].value not in (owner, None))
    for row in lines.iter_rows(min_row=2):
        if row[charge].value == billed_charge:  # every line of the charge (a payer's share and the customer's)
            row[customer].value = other
    workbook.save(book)
    bill_both(book, tmp_path)
    charges = table(book, "Charges")
    names = charges[0]
    changed = next(row for row in charges[1:] if row[names.index("Customer ID")] == owner
                   and row[names.index("Charge ID")] != billed_charge)
    changed[names.index("Quantity")] = 2
    write_output_sheets(book, [_as_output("Charges", charges)], backup=False)

    def lines_of_the_charge() -> int:
        return sum(row[charge] == billed_charge for row in table(book, "Invoice Lines")[1:])

    before = lines_of_the_charge()
    bill_both(book, tmp_path)
    assert credit_notes(book) > 0
    assert lines_of_the_charge() == before  # not billed again


def test_the_problems_and_advice_of_customers_with_nothing_new_stay_as_without_memo(tmp_path: Path,
                                                                                    monkeypatch) -> None:
    """The demo practice billed, then a payment typed in (the Payments sheet rewritten alone): every customer
    is as the last run left it, so no decision on a charge is made or taken from the memo but those with a
    problem (a held charge) or advice (coverage ended, not covered, prior authorization); the Problems and
    Advice sheets are those of a run without memo."""
    import sheetbill.run as run_module

    adjudications = []
    adjudicate = run_module.adjudicate_all

    def noted(*args, **kwargs):
        adjudicated = adjudicate(*args, **kwargs)
        adjudications.append((kwargs.get("settled"), adjudicated.customers_reused, len(adjudicated.decisions)))
        return adjudicated

    monkeypatch.setattr(run_module, "adjudicate_all", noted)
    book = shutil.copy(ROOT / "workbooks" / "demo-medical.xlsx", tmp_path / "demo.xlsx")
    as_of = dt.date(2026, 6, 30)
    bill(XlsxWorkbook(book), as_of=as_of)
    payments = table(book, "Payments")
    payments.append(["PAY-9999", as_of, payments[1][2], 1.5, "Payment", "Bank transfer", "typed in", ""])
    write_output_sheets(book, [_as_output("Payments", payments)], backup=False)
    reference = shutil.copy(book, tmp_path / "reference.xlsx")
    adjudications.clear()
    bill(XlsxWorkbook(book), as_of=as_of)
    bill(XlsxWorkbook(reference, cache=False), as_of=as_of)
    assert parts(book) == parts(reference)
    (settled, reused, decided), (_, _, all_decided) = adjudications
    assert settled and reused > 5 and 0 < decided < all_decided / 4
    assert len(table(book, "Advice")) > 5 and len(table(book, "Problems")) > 1
