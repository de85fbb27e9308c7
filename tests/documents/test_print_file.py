"""The print file holds only the letters due to go out now: the first ``documents`` run on a workbook with
history leaves out reminders replaced by a later one or by the hand-off to the collection agency, and
documents dated before Send Documents From, and says how many it left out and why."""

from __future__ import annotations

import datetime as dt

import pytest

from sheetbill.documents.make import make_documents_from, prepare, render_documents
from tests.documents.conftest import history, inputs, plugins, workbook_path

pypdf = pytest.importorskip("pypdf")

CUSTOMERS = [("C1", "Jürgen Müller", "Lindenstraße 3", "10115", "Berlin", "jurgen@example.org"),
             ("C2", "Taro Yamada", "Hauptstraße 9", "20095", "Hamburg", None),
             ("C3", "Anna Schmidt", "Am Markt 1", "04109", "Leipzig", "anna@example.org")]
DAYS = ("2026-01-31", "2026-03-01", "2026-03-15", "2026-03-29", "2026-04-12")


def first_run(tmp_path, fonts, days, *settings):
    sheets = history(inputs(settings=settings, customers=CUSTOMERS), *days)
    documents = prepare(sheets, workbook_path(tmp_path), fonts=fonts, plugins=plugins())
    report, print_file = render_documents(documents, day=dt.date.fromisoformat(days[-1]))
    pages = {w.document.key: len(pypdf.PdfReader(w.path).pages) for w in report.written}
    printed = len(pypdf.PdfReader(print_file).pages) if print_file else 0
    return report, pages, printed


def test_reminders_for_an_invoice_with_the_agency_stay_out_of_the_print_file(tmp_path, latin_fonts):
    report, pages, printed = first_run(tmp_path, latin_fonts, DAYS)
    letters = {"INV-000003 reminder 1", "INV-000003 reminder 2", "INV-000003 reminder 3"}
    assert letters <= set(pages)  # the files are made: they are history
    assert {key: why for key, why in report.held.items() if key in letters} == dict.fromkeys(
        letters, "the invoice is with the collection agency")
    assert printed == pages["INV-000003"]  # only the invoice itself is due


def test_a_reminder_replaced_by_a_later_one_stays_out_and_the_later_one_goes(tmp_path, latin_fonts):
    report, pages, printed = first_run(tmp_path, latin_fonts, DAYS[:3])
    assert report.held == {"INV-000003 reminder 1": "a later reminder replaces it"}
    assert printed == pages["INV-000003"] + pages["INV-000003 reminder 2"]


def test_documents_before_send_documents_from_stay_out_and_the_summary_says_why(tmp_path, latin_fonts):
    report, pages, printed = first_run(tmp_path, latin_fonts, DAYS[:3], ("Send Documents From", "2026-03-01"))
    assert report.held == {"INV-000003": "dated before Send Documents From",
                           "INV-000003 reminder 1": "a later reminder replaces it"}
    assert printed == pages["INV-000003 reminder 2"]
    sheets = history(inputs(settings=(("Send Documents From", "2026-03-01"),), customers=CUSTOMERS), *DAYS[:3])
    outcome = make_documents_from(sheets, tmp_path / "again" / "book.xlsx", None, dt.date(2026, 3, 15),
                                  plugins=plugins())
    assert ("Not in the print file: 2 (1 a later reminder replaces it, 1 dated before Send Documents From)."
            in outcome.summary())
