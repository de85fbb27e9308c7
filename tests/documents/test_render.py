"""Rendering documents: text layer, PNG pages, the EPC QR code, fonts, determinism, files never overwritten."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from sheetbill.documents import prepare, render_documents
from sheetbill.documents.fonts import FontSet
from sheetbill.documents.output import KEPT, NEW, UNCHANGED, write_documents
from sheetbill.documents.pdf import fingerprint_of, render_pdf
from sheetbill.plugins import hookimpl
from sheetbill.testing import make_plugins
from tests.documents.conftest import BIC, IBAN, JURGEN, YAMADA, has_cjk_font, history, inputs, plugins, workbook_path
from tests.helpers import sheet

pypdf = pytest.importorskip("pypdf")


def text_of(path: Path) -> str:
    """The text layer of a PDF, whitespace collapsed (pypdf puts NULs and spaces between CJK glyphs: removed)."""
    reader = pypdf.PdfReader(str(path))
    text = " ".join(page.extract_text() for page in reader.pages).replace("\x00", "")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"(?<=[\u3000-\u9fff]) (?=[\u3000-\u9fff])", "", text)


@pytest.fixture(scope="module")
def rendered(practice, fonts, tmp_path_factory):
    """The practice's documents written to a folder: (DocumentSet, WriteReport, print file)."""
    folder = tmp_path_factory.mktemp("practice")
    documents = prepare(practice, workbook_path(folder), fonts=fonts, plugins=plugins())
    report, print_file = render_documents(documents, day=dt.date(2026, 3, 1))
    return documents, report, print_file


def path_of(rendered, key: str) -> Path:
    documents, _, _ = rendered
    return documents.out_dir / f"{key}.pdf"


def test_every_document_of_the_workbook_gets_a_file_named_after_it(rendered, fonts):
    documents, report, _ = rendered
    expected = {"INV-000001", "INV-000002", "INV-000004", "INV-000001 follow-up 1", "INV-000002 reminder 1",
                "INV-000004 reminder 1"}
    if has_cjk_font(fonts):
        expected |= {"INV-000003", "INV-000003 reminder 1"}
    assert {w.document.key for w in report.written} == expected
    assert all(w.status == NEW and w.path.name == f"{w.document.key}.pdf" for w in report.written)
    assert documents.out_dir.name == "practice documents"


def test_customer_invoice_shows_amounts_iban_reference_and_why_the_rest_is_theirs(rendered):
    text = text_of(path_of(rendered, "INV-000002"))
    for expected in (JURGEN, "Lindenstraße 3", "INV-000002", "31 January 2026", "14 February 2026",
                     "Consultation", "Blood panel", "211.00 EUR",  # charged
                     "Billed to Nordkasse -128.80 EUR", "Your share 82.20 EUR",  # not paid on its date
                     "annual deductible + coinsurance (your percentage) 64.00 EUR",
                     "DE89 3704 0044 0532 0130 00", BIC, "INV-000002-C1", "Praxis Dr. Weber"):
        assert expected in text, expected


def test_payer_invoice_names_the_patient_member_id_and_code_system(rendered):
    text = text_of(path_of(rendered, "INV-000001"))
    for expected in ("Nordkasse", "Kassenweg 1", JURGEN, "Member ID M-4711", "Customer ID C1", "Code (GOÄ)", "3550",
                     "Total 128.80 EUR", "Dear Sir or Madam"):
        assert expected in text, expected


def test_reminder_and_follow_up(rendered):
    reminder = text_of(path_of(rendered, "INV-000002 reminder 1"))
    for expected in ("Payment reminder", "Overdue amount 82.20 EUR", "Total due 82.20 EUR", "15 March 2026",
                     "INV-000002-C1"):
        assert expected in reminder, expected
    follow_up = text_of(path_of(rendered, "INV-000001 follow-up 1"))
    assert "Follow-up on our claim" in follow_up and "128.80 EUR" in follow_up and "fees" not in follow_up


def test_japanese_name_is_printed_with_the_fallback_font(rendered, fonts):
    if not has_cjk_font(fonts):
        pytest.skip("no CJK font package installed (pip install noto-cjk-sans-jp-regular)")
    text = text_of(path_of(rendered, "INV-000003"))
    assert YAMADA in text and "Hauptstraße 9" in text and "120.00 EUR" in text
    fonts_used = {str(f) for page in pypdf.PdfReader(str(path_of(rendered, "INV-000003"))).pages
                  for f in page["/Resources"]["/Font"].values()}
    assert len(fonts_used) >= 2  # body font and the fallback, both embedded


def test_without_a_font_for_a_name_the_document_is_not_made_and_the_cell_is_named(practice, latin_fonts, tmp_path):
    documents = prepare(practice, workbook_path(tmp_path), fonts=latin_fonts, plugins=plugins())
    problems = [p for p in documents.problems if p.sheet == "Customers"]
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.severity, problem.row, problem.column) == ("error", 3, "Name")
    assert "'山' (U+5C71)" in problem.message and "noto-cjk-sans-jp-regular" in problem.message
    assert set(documents.batch.skipped) == {"INV-000003", "INV-000003 reminder 1"}


def test_right_to_left_names_are_refused_rather_than_printed_backwards(tmp_path, fonts):
    customers = [("C1", "Jürgen", "Weg 1", "10115", "Berlin", "j@example.org"),
                 ("C2", "דוד כהן", "Weg 2", "10115", "Berlin", None), ("C3", "Anna", "Weg 3", "10115", "Berlin", None)]
    sheets = history(inputs(customers=customers), "2026-01-31")
    documents = prepare(sheets, workbook_path(tmp_path), fonts=fonts, plugins=plugins())
    assert [(p.sheet, p.row, p.column) for p in documents.problems] == [("Customers", 3, "Name")]
    assert "right-to-left" in documents.problems[0].message


def test_pages_render_to_png_and_the_qr_code_decodes_to_the_epc_fields(rendered, pdftoppm, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    subprocess.run([pdftoppm, "-r", "150", "-png", str(path_of(rendered, "INV-000002")), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages and Image.open(pages[0]).size == (1241, 1754)  # A4 at 150 dpi
    codes = [r.text for page in pages for r in zxingcpp.read_barcodes(Image.open(page))]
    assert len(codes) == 1
    assert codes[0].split("\n") == ["BCD", "001", "1", "SCT", BIC, "Praxis Dr. Weber", IBAN, "EUR82.20", "", "",
                                    "INV-000002-C1"]


def test_the_reminder_qr_code_asks_for_the_total_due(rendered, pdftoppm, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    subprocess.run([pdftoppm, "-r", "120", "-png", str(path_of(rendered, "INV-000004 reminder 1")),
                    str(tmp_path / "page")], check=True)
    codes = [r.text for page in sorted(tmp_path.glob("page*.png")) for r in zxingcpp.read_barcodes(Image.open(page))]
    assert [c.split("\n")[7] for c in codes] == ["EUR45.50"]


def test_rendering_is_deterministic_within_and_across_processes(rendered):
    documents, _, _ = rendered
    document = next(d for d in documents.documents if d.key == "INV-000002")
    first = render_pdf(document, documents.fonts)
    assert first == render_pdf(document, documents.fonts) == path_of(rendered, "INV-000002").read_bytes()
    assert fingerprint_of(first) == document.fingerprint()
    assert b"/CreationDate (D:20260131000000Z)" in first
    script = ("import sys\nfrom pathlib import Path\nsys.path.insert(0, '.')\n"
              "from sheetbill.documents import prepare\nfrom sheetbill.documents.pdf import render_pdf\n"
              "from tests.documents.conftest import history, inputs, plugins\n"
              "docs = prepare(history(inputs(), '2026-01-31', '2026-03-01'), Path('x/practice.xlsx'), "
              "plugins=plugins())\n"
              "doc = next(d for d in docs.documents if d.key == 'INV-000002')\n"
              "sys.stdout.buffer.write(render_pdf(doc, docs.fonts))\n")
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True,
                           cwd=Path(__file__).resolve().parents[2]).stdout
    assert other == first


def test_an_issued_file_is_never_overwritten(rendered, fonts, tmp_path):
    documents, _, _ = rendered
    again = write_documents(documents.documents, documents.out_dir, fonts)
    assert {w.status for w in again.written} == {UNCHANGED} and not again.problems
    practice = history(inputs(customers=[("C1", JURGEN, "Neue Straße 7", "10115", "Berlin", "jurgen@example.org"),
                                         ("C2", YAMADA, "Hauptstraße 9", "20095", "Hamburg", None),
                                         ("C3", "Anna Schmidt", "Am Markt 1", "04109", "Leipzig", "anna@example.org")]),
                       "2026-01-31", "2026-03-01")
    before = path_of(rendered, "INV-000002").read_bytes()
    moved = prepare(practice, documents.out_dir.parent / "practice.xlsx", fonts=fonts, plugins=plugins())
    report = write_documents(moved.documents, moved.out_dir, fonts)
    kept = {w.document.key for w in report.by_status(KEPT)}
    assert kept == {"INV-000002", "INV-000002 reminder 1"}
    assert path_of(rendered, "INV-000002").read_bytes() == before
    assert len(report.problems) == 2 and all(p.severity == "warning" for p in report.problems)
    assert "kept unchanged" in report.problems[0].message


def test_the_print_file_holds_every_letter_of_the_run(rendered, fonts):
    _, report, print_file = rendered
    if not has_cjk_font(fonts):
        assert print_file is None  # the only letters are 山田太郎's, which cannot be printed
        return
    assert print_file.name == "letters 2026-03-01.pdf"
    letters = [w.path for w in report.written if w.document.recipient_id == "C2"]
    pages = sum(len(pypdf.PdfReader(str(p)).pages) for p in letters)
    assert len(pypdf.PdfReader(str(print_file)).pages) == pages
    assert YAMADA in text_of(print_file)


def test_final_notice_with_fees_interest_hand_off_and_plan_offer(tmp_path, fonts):
    settings = (("Default Interest Percent", 5), ("Payment Plan Threshold", 50))
    sheets = history(inputs(settings=settings), "2026-01-31", "2026-03-01", "2026-03-15", "2026-03-29")
    documents = prepare(sheets, workbook_path(tmp_path), fonts=fonts, plugins=plugins())
    final = next(d for d in documents.documents if d.key == "INV-000002 reminder 3")
    totals = {label: value for label, value, _ in final.totals}
    assert final.title == "Final notice"
    assert totals["Overdue amount"] == "82.20 EUR" and totals["Reminder fees"] == "15.00 EUR"
    recorded = next(r for r in documents.book.reminders if r.invoice_no == "INV-000002" and r.level == 3)
    interest = recorded.amount_due - Decimal("97.20")  # 82.20 + 15.00 fees
    assert interest == Decimal("0.48")  # 82.20 x 5 % x 43 days / 365, rounded once
    assert totals["Default interest"] == "0.48 EUR" and totals["Total due"] == f"{recorded.amount_due} EUR"
    text = " ".join(final.closing_paragraphs)
    assert "Inkasso Nord" in text and "12 April 2026" in text  # hand-off after Collection After Days (14)
    assert "payment plan of up to 6 monthly installments" in text


def test_credit_note(tmp_path, fonts):
    sheets = history(inputs(), "2026-01-31")
    sheets["Charges"] = sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price"),
                              ("1", "2026-01-05", "C1", "S1", 1, None), ("2", "2026-01-05", "C1", "S2", 2, None),
                              ("3", "2026-01-06", "C2", "S1", 1, None))
    sheets = history(sheets, "2026-02-10")
    documents = prepare(sheets, workbook_path(tmp_path), fonts=fonts, plugins=plugins())
    credit = next(d for d in documents.documents if d.kind == "credit_note")
    assert credit.title == "Credit note" and credit.payment is None
    assert ("For invoice", "INV-000004") in credit.facts
    assert credit.totals == (("Total", "-45.50 EUR", True),)
    assert credit.table.notes == ("credit for invoice INV-000004: service cancelled",)
    path = write_documents([credit], documents.out_dir, fonts).written[0].path
    assert "Invoice INV-000004 is cancelled by it: there is nothing to pay for it." in text_of(path)  # unpaid


def test_a_credit_note_on_a_paid_invoice_says_the_money_is_credit_to_refund_or_keep(tmp_path, fonts):
    sheets = history(inputs(), "2026-01-31")
    sheets["Payments"] = sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount"),
                               ("P1", "2026-02-03", "INV-000004", "45.50"))
    sheets["Charges"] = sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price"),
                              ("1", "2026-01-05", "C1", "S1", 1, None), ("2", "2026-01-05", "C1", "S2", 2, None),
                              ("3", "2026-01-06", "C2", "S1", 1, None))
    sheets = history(sheets, "2026-02-10")
    documents = prepare(sheets, workbook_path(tmp_path), fonts=fonts, plugins=plugins())
    credit = next(d for d in documents.documents if d.kind == "credit_note")
    assert credit.closing_paragraphs == (
        "45.50 EUR is credit on your account: we will refund it to you or set it off against your next invoice.",)


def test_a_bad_iban_is_a_problem_on_the_settings_row_and_holds_documents_with_payment_details(tmp_path, fonts):
    sheets = history(inputs(settings=[("Bank IBAN", "DE89 3704 0044 0532 0130 01")]), "2026-01-31")
    documents = prepare(sheets, workbook_path(tmp_path), fonts=fonts, plugins=plugins())
    problem = next(p for p in documents.problems if p.sheet == "Settings")
    assert (problem.severity, problem.column) == ("error", "Value")
    assert problem.row == next(i for i, row in enumerate(sheets["Settings"].rows, 1) if row[0] == "Bank IBAN")
    assert "check digits" in problem.message
    assert documents.documents == [] and "INV-000001" in documents.batch.skipped


def test_no_qr_code_without_euro(tmp_path, latin_fonts):
    sheets = history(inputs(settings=[("Currency", "CHF")]), "2026-01-31")
    documents = prepare(sheets, workbook_path(tmp_path), fonts=latin_fonts, plugins=plugins())
    invoice = next(d for d in documents.documents if d.key == "INV-000002")
    assert invoice.payment.qr_payload is None and ("IBAN", "DE89 3704 0044 0532 0130 00") in invoice.payment.rows


class ClinicNet:
    """A payer plugin that adds its own fields to its invoices."""

    @hookimpl
    def sheetbill_payer_names(self):
        return ["clinicnet"]

    @hookimpl
    def sheetbill_invoice_fields(self, member_id):
        return {"Provider No": "PRV-77", "Card": f"#{member_id}"}


def test_payer_plugins_add_fields_to_their_invoices(practice, latin_fonts, tmp_path):
    sheets = dict(practice)
    sheets["Payers"] = sheet("Payers", ("Payer ID", "Name", "Type", "Plugin", "Code System"),
                             ("INS", "Nordkasse", "insurer", "clinicnet", "GOÄ"))
    documents = prepare(sheets, workbook_path(tmp_path), fonts=latin_fonts, plugins=make_plugins(ClinicNet()))
    invoice = next(d for d in documents.documents if d.key == "INV-000001")
    assert ("Provider No", "PRV-77") in invoice.facts and ("Card", "#M-4711") in invoice.facts


def test_discover_finds_fonts_in_the_office_folder(tmp_path):
    import ttf_opensans

    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "Extra.ttf").write_bytes(Path(ttf_opensans.OPENSANS_BOLD.path).read_bytes())
    found = FontSet.discover(tmp_path / "fonts", packages=False)
    assert [face.name for face in found.fallbacks] == ["Extra"]
