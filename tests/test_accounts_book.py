"""The import's focused read (:func:`sheetbill.accounts_book.load_accounts`) against the run's full one."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from sheetbill.accounts_book import load_accounts
from sheetbill.book import load_book
from sheetbill.io.xlsx import read_workbook
from sheetbill.open_items import OpenItems
from sheetbill.run import run_billing
from tests.helpers import with_outputs

WORKBOOKS = Path(__file__).resolve().parents[1] / "workbooks"


def billed_demo(name):
    sheets = read_workbook(WORKBOOKS / f"demo-{name}.xlsx")
    return with_outputs(sheets, run_billing(sheets).outputs)


def test_the_accounts_read_alone_are_the_accounts_the_run_reads():
    for name in ("medical", "utility"):
        sheets = billed_demo(name)
        full, full_problems = load_book(sheets)
        accounts, problems = load_accounts(sheets)
        assert accounts.customers == full.customers and accounts.invoices == full.invoices
        assert accounts.payments == full.payments and accounts.plans == full.plans
        assert accounts.reminders == full.reminders and accounts.collections == full.collections
        assert accounts.mandates == full.mandates and accounts.debits == full.debits
        assert [asdict(i) for i in OpenItems(accounts).all()] == [asdict(i) for i in OpenItems(full).all()]
        assert accounts.charges == [] and accounts.lines == []  # what only billing needs is not read
        kept = {(p.sheet, p.row, p.code) for p in full_problems if p.sheet not in ("Charges", "Services",
                                                                                   "Invoice Lines", "Coverage")}
        assert {(p.sheet, p.row, p.code) for p in problems} <= kept
