"""Every page of every demo document says something: no page with only the footer, the payment box or
the closing, and the payment box always shares its page with the totals (``make demo``'s documents)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from sheetbill.cli import main
from sheetbill.documents.make import prepare, render_documents
from sheetbill.io.xlsx import read_workbook

pypdf = pytest.importorskip("pypdf")
WORKBOOKS = Path(__file__).resolve().parents[2] / "workbooks"
DEMOS = [WORKBOOKS / "demo-medical.xlsx", WORKBOOKS / "demo-utility.xlsx"]
AS_OF = dt.date(2026, 6, 30)


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Each demo billed as ``make demo`` bills it, then every document rendered: (document, pages' text)."""
    out = []
    for demo in DEMOS:
        if not demo.exists():
            pytest.skip(f"{demo.name} has not been generated")
        workbook = tmp_path_factory.mktemp("demo") / demo.name
        shutil.copyfile(demo, workbook)
        assert main(["bill", str(workbook), "--as-of", AS_OF.isoformat()]) <= 1
        documents = prepare(read_workbook(workbook), workbook, None, AS_OF)
        report, _ = render_documents(documents, day=AS_OF)
        for written in report.written:
            pages = [words(page.extract_text()) for page in pypdf.PdfReader(written.path).pages]
            out.append((written.document, pages))
    return out


def body(document, page: str) -> str:
    """A page's text without its footer (``<key> · Page n of m``)."""
    footer = words(document.page_label.replace("{page}", r"\d+").replace("{pages}", r"\d+"))
    return words(re.sub(re.escape(words(document.key)) + r"\s*·\s*" + footer.replace(r"\\d+", r"\d+"), "", page))


def test_no_demo_page_holds_only_the_footer_the_payment_box_or_the_closing(rendered):
    assert len(rendered) > 100
    for document, pages in rendered:
        closing = words(f"{document.closing} {document.signature}")
        for number, page in enumerate(pages, start=1):
            text = body(document, page)
            assert text, f"{document.key} page {number} has only the footer"
            assert text != closing, f"{document.key} page {number} has only the closing"
            if document.payment is not None and document.payment.heading in text.split(" ")[:3]:
                assert number == 1 or any(label in text for label, _, _ in document.totals), \
                    f"{document.key} page {number} starts with the payment box, without the totals"


def test_the_payment_box_shares_its_page_with_the_totals(rendered):
    checked = 0
    for document, pages in rendered:
        if document.payment is None or not document.totals:
            continue
        label, value = document.payment.rows[0]
        box = next(i for i, page in enumerate(pages) if words(f"{label} {value}") in page)
        last_total = words(f"{document.totals[-1][0]} {document.totals[-1][1]}")
        assert last_total in pages[box], f"{document.key}: the payment box is on page {box + 1}, the totals are not"
        checked += 1
    assert checked > 50
