"""Documents read the history's columns, never its prose; and what making documents reports back."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from sheetbill import buttons
from sheetbill.billing import credit_reason
from sheetbill.documents import button, make_documents_from, prepare
from sheetbill.documents.context import Context
from sheetbill.documents.invoice import reason_text
from sheetbill.documents.reminder import reminder_document
from tests.documents.conftest import plugins, workbook_path


@pytest.fixture(scope="module")
def documents(practice, latin_fonts, tmp_path_factory):
    return prepare(practice, workbook_path(tmp_path_factory.mktemp("history")), fonts=latin_fonts, plugins=plugins())


@pytest.fixture
def ctx(documents):
    return Context(documents.book, documents.templates, documents.fonts)


def a_line(documents, **changes):
    """The first invoice line of the practice, changed."""
    return replace(documents.book.lines[0], **changes)


def test_credit_wording_comes_from_related_invoice_and_billings_own_wording(documents, ctx):
    changed = a_line(documents, reason=credit_reason("INV-000009", True), related_invoice="INV-000009")
    deleted = a_line(documents, reason=credit_reason("INV-000009", False), related_invoice="INV-000009")
    assert reason_text(ctx, changed) == "credit for invoice INV-000009: service changed"
    assert reason_text(ctx, deleted) == "credit for invoice INV-000009: service cancelled"


def test_a_reason_that_only_looks_like_a_credit_or_transfer_is_printed_as_written(documents, ctx):
    for reason in ("credit for INV-000009: charge changed", "transfer from INV-000001 (Nordkasse)"):
        assert reason_text(ctx, a_line(documents, reason=reason, related_invoice=None, payment_id=None)) == reason


def test_a_transfer_names_the_payer_of_its_related_invoice(documents, ctx):
    payer_invoice = next(i for i in documents.book.invoices if i.bill_to_type == "Payer")
    line = a_line(documents, reason="transfer (typed by hand)", related_invoice=payer_invoice.invoice_no,
                  payment_id="P9")
    assert reason_text(ctx, line) == f"not paid by Nordkasse on invoice {payer_invoice.invoice_no}"


def test_a_reminder_asks_for_what_its_row_recorded(documents, ctx):
    recorded = next(r for r in documents.book.reminders if r.invoice_no == "INV-000002")
    row = replace(recorded, principal=Decimal("70.00"), fees=Decimal("7.00"), interest=Decimal("3.00"),
                  amount_due=Decimal("80.00"))
    document, _ = reminder_document(ctx, row)
    assert document.totals == (("Overdue amount", "70.00 EUR", False), ("Reminder fees", "7.00 EUR", False),
                               ("Default interest", "3.00 EUR", False), ("Total due", "80.00 EUR", True))
    assert document.amount == Decimal("80.00")


def test_a_reminder_for_an_unknown_invoice_is_a_problem_not_a_document(documents, ctx):
    recorded = documents.book.reminders[0]
    assert reminder_document(ctx, replace(recorded, invoice_no="INV-999999")) is None
    assert [p.code for p in ctx.problems if p.code == "unknown-invoice"] == ["unknown-invoice"]


def test_making_documents_reports_what_it_wrote_and_a_second_run_finds_them_unchanged(practice, tmp_path):
    workbook = workbook_path(tmp_path)
    first = make_documents_from(practice, workbook, as_of=dt.date(2026, 3, 1), plugins=plugins())
    assert first.written and all(path.exists() for path in first.written) and not first.unchanged
    assert first.out_dir == tmp_path / "practice documents"
    assert first.exit_code == (1 if first.skipped else 0)
    second = make_documents_from(practice, workbook, as_of=dt.date(2026, 3, 1), plugins=plugins())
    assert second.written == [] and sorted(second.unchanged) == sorted(first.written)
    assert second.print_file is None


def test_the_button_renders_beside_the_workbook_and_says_so(practice, tmp_path):
    workbook = workbook_path(tmp_path)
    answer = button(practice, workbook=workbook)
    assert answer.ok and answer.outcome is not None and answer.outcome.written
    assert str(answer).startswith(f"Documents in {tmp_path / 'practice documents'}: ")
    pressed = buttons.press("documents", practice, workbook=workbook)
    assert pressed.outputs == [] and "unchanged" in pressed.message


def test_the_button_without_the_workbooks_location_makes_nothing(practice, tmp_path):
    answer = button(practice, workbook=None)
    assert not answer.ok and answer.outcome is None
    assert list(tmp_path.iterdir()) == []
