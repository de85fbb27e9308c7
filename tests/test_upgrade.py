"""Workbooks billed by release 0.1.0 (committed under tests/data) keep working: their history is read
once in its old form (structure in prose) and written back with the structure in columns."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from sheetbill.cli import main

RELEASE = Path(__file__).parent / "data" / "release-0.1.0"


def rows(path: Path, sheet: str) -> list[dict]:
    table = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return [dict(zip(table[0], row, strict=False)) for row in table[1:]]


@pytest.fixture(params=["demo-medical.xlsx", "demo-utility.xlsx"])
def old_workbook(request, tmp_path: Path) -> Path:
    target = tmp_path / request.param
    shutil.copyfile(RELEASE / request.param, target)
    return target


def test_a_workbook_billed_by_release_0_1_0_reruns_without_issuing_anything(old_workbook, capsys):
    before = {sheet: len(rows(old_workbook, sheet)) for sheet in ("Invoices", "Invoice Lines", "Reminders")}
    main(["bill", str(old_workbook), "--as-of", "2026-06-30", "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["invoices_issued"] == summary["credit_notes_issued"] == summary["reminders_issued"] == 0
    after = {sheet: len(rows(old_workbook, sheet)) for sheet in before}
    assert after == before


def test_credit_and_transfer_lines_gain_their_related_invoice_column(old_workbook):
    old = rows(old_workbook, "Invoice Lines")
    assert "Related Invoice" not in old[0]
    main(["bill", str(old_workbook), "--as-of", "2026-06-30"])
    lines = rows(old_workbook, "Invoice Lines")
    linked = [line for line in lines if line["Related Invoice"]]
    assert linked, "the demo has transfer lines"
    for line in linked:  # the reason names the same invoice the column now holds
        assert line["Related Invoice"] in line["Reason"]
    assert all(line["Related Invoice"] == "" for line in lines
               if not line["Reason"].startswith(("credit for", "transfer from")))


def test_reminders_gain_principal_fees_and_interest_that_add_up_to_amount_due(old_workbook):
    main(["bill", str(old_workbook), "--as-of", "2026-06-30"])
    reminders = rows(old_workbook, "Reminders")
    assert reminders
    for reminder in reminders:
        parts = reminder["Principal"] + reminder["Fees"] + reminder["Interest"]
        assert round(parts, 2) == round(reminder["Amount Due"], 2)
