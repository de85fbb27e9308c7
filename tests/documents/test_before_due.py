"""The friendly reminder before the due date (Settings Remind Before Due Days) as a document."""

from __future__ import annotations

from sheetbill.cells import to_date
from sheetbill.documents import prepare
from tests.documents.conftest import history, inputs, plugins, workbook_path


def test_a_friendly_reminder_before_the_due_date_is_a_document_of_its_own(tmp_path, latin_fonts):
    # Invoices of 31 Jan are due 14 Feb (Payment Terms Days 14); 3 days before, on 11 Feb, the
    # customers with an open invoice get a friendly reminder: level 0, no fee, pay by the due date.
    sheets = history(inputs(settings=[("Remind Before Due Days", 3)]), "2026-01-31", "2026-02-10", "2026-02-11")
    rows = sheets["Reminders"].rows
    header = rows[0]
    found = [dict(zip(header, row, strict=False)) for row in rows[1:]]
    assert {(to_date(r["Date"]).isoformat(), r["Invoice No"], r["Level"], r["Fee"]) for r in found} == {
        ("2026-02-11", "INV-000002", 0, 0), ("2026-02-11", "INV-000004", 0, 0), ("2026-02-11", "INV-000003", 0, 0)}
    documents = prepare(sheets, workbook_path(tmp_path), fonts=latin_fonts, plugins=plugins())
    by_key = {d.key: d for d in documents.batch.documents}
    letter = by_key["INV-000002 reminder 0"]
    assert letter.title == "Payment due soon"
    assert letter.paragraphs == ("A friendly reminder: our invoice INV-000002 is due on 14 February 2026.",)
    assert ("Open amount", "82.20 EUR", False) in letter.totals
    assert "14 February 2026" in " ".join(letter.closing_paragraphs)  # pay by the due date
