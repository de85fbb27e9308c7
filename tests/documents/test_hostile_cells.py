"""Documents from cells a clerk (or an attacker) typed: very long texts and names that look like paths.

A Service Description of thousands of characters wraps across pages instead of failing the whole run;
one document that cannot be laid out is a Problem and the others are still made; file names derived
from cells (Invoice Prefix, Customer ID) never leave the output folder.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from sheetbill.documents import output
from sheetbill.documents.make import prepare, render_documents
from sheetbill.documents.model import MAX_STEM_BYTES, safe_file_stem
from tests.documents.conftest import history, inputs, plugins, workbook_path
from tests.helpers import sheet

pypdf = pytest.importorskip("pypdf")

LONG = "Therapy session " + "with a long clinical note " * 120  # ~3,100 characters


def text_of(path: Path) -> str:
    reader = pypdf.PdfReader(path)
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def with_services(*rows):
    sheets = dict(inputs())
    sheets["Services"] = sheet("Services", ("Service Code", "Description", "Price"), *rows)
    return sheets


def test_a_very_long_service_description_wraps_across_pages_and_every_document_is_made(tmp_path, latin_fonts):
    sheets = history(with_services(("S1", LONG, 120), ("S2", "Blood panel", "45.50")), "2026-01-31")
    documents = prepare(sheets, workbook_path(tmp_path), fonts=latin_fonts, plugins=plugins())
    report, _ = render_documents(documents, day=dt.date(2026, 1, 31))
    made = {w.document.key for w in report.written}
    assert {"INV-000001", "INV-000002", "INV-000004"} <= made
    assert not [p for p in report.problems if p.code == "document-failed"]
    path = next(w.path for w in report.written if w.document.key == "INV-000002")
    assert len(pypdf.PdfReader(path).pages) > 1
    words = text_of(path).split()
    assert words.count("clinical") == words.count("note") == 120  # nothing cut off


def test_one_document_that_cannot_be_laid_out_is_a_problem_and_the_others_are_made(tmp_path, latin_fonts,
                                                                                    monkeypatch):
    real = output.render_pdf

    def render(document, fonts):
        if document.key == "INV-000002":
            raise ValueError("The row with index 1 is too high and cannot be rendered on a single page")
        return real(document, fonts)

    monkeypatch.setattr(output, "render_pdf", render)
    sheets = history(inputs(), "2026-01-31")
    documents = prepare(sheets, workbook_path(tmp_path), fonts=latin_fonts, plugins=plugins())
    report, _ = render_documents(documents, day=dt.date(2026, 1, 31))
    assert {w.document.key for w in report.written} == {"INV-000001", "INV-000004"}
    [failed] = [p for p in report.problems if p.code == "document-failed"]
    assert failed.severity == "error" and "INV-000002" in failed.message and failed.sheet == "Invoices"


@pytest.mark.parametrize("prefix", ["../../pwn-", "/tmp/abs/path-", "a/b/", "..\\..\\win-", "C:\\evil-"])
def test_an_invoice_prefix_that_looks_like_a_path_never_writes_outside_the_output_folder(tmp_path, latin_fonts,
                                                                                          prefix):
    sheets = history(inputs(settings=(("Invoice Prefix", prefix),)), "2026-01-31")
    out = tmp_path / "deep" / "out"
    documents = prepare(sheets, tmp_path / "deep" / "book.xlsx", out, fonts=latin_fonts, plugins=plugins())
    before = set(tmp_path.rglob("*"))
    report, _ = render_documents(documents, day=dt.date(2026, 1, 31))
    assert len(report.by_status(output.NEW)) == 3
    new = set(tmp_path.rglob("*")) - before
    assert new and all(path.parent == out for path in new if path.is_file())
    for written in report.written:
        assert written.path.parent == out and "/" not in written.path.name and "\\" not in written.path.name


@pytest.mark.parametrize("name", ["..", "../../etc/passwd", "/abs/x", "a\\b", "CON", "nul.txt", "LPT1", " .hidden",
                                  "x" * 400, "ü" * 300, "tab\tand\nnewline", ":*?\"<>|"])
def test_file_stems_are_plain_names(name):
    stem = safe_file_stem(name)
    assert stem and stem not in (".", "..") and not stem.startswith((".", " "))
    assert not set(stem) & set('/\\:*?"<>|\t\n\r\0')
    assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
    assert len(stem.encode("utf-8")) <= MAX_STEM_BYTES
    assert (Path("/out") / f"{stem}.pdf").resolve().parent == Path("/out")


def test_clean_names_keep_their_file_names_and_long_names_stay_apart():
    for name in ("INV-000001", "INV-000001 reminder 2", "STATEMENT C1 2026-03-01 to 2026-03-31", "R-2026/"[:-1]):
        assert safe_file_stem(name) == name
    assert safe_file_stem("x" * 400 + "a") != safe_file_stem("x" * 400 + "b")


def test_an_invoice_shows_what_was_known_on_its_date_not_a_later_insurer_payment(tmp_path, latin_fonts):
    def customer_invoice_text(sheets):
        documents = prepare(sheets, workbook_path(tmp_path), tmp_path / f"out{len(list(tmp_path.iterdir()))}",
                            fonts=latin_fonts, plugins=plugins())
        report, _ = render_documents(documents, day=dt.date(2026, 3, 31))
        return text_of(next(w.path for w in report.written if w.document.key == "INV-000002"))

    def paid_on(day: str):
        sheets = dict(inputs())
        sheets["Payments"] = sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount"),
                                   ("P1", day, "INV-000001", "128.80"))
        return history(sheets, "2026-01-31", "2026-03-31")

    later = customer_invoice_text(paid_on("2026-02-20"))  # Nordkasse paid three weeks after the invoice
    assert "Billed to Nordkasse -128.80 EUR" in later and "Paid by" not in later
    same_day = customer_invoice_text(paid_on("2026-01-31"))
    assert "Paid by Nordkasse -128.80 EUR" in same_day
