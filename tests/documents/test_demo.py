"""The demo workbook's documents: ``sheetbill documents workbooks/demo-medical.xlsx`` end to end."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sheetbill.cli import main
from sheetbill.documents.fonts import FontSet
from sheetbill.io.xlsx import read_workbook
from tests.documents.conftest import has_cjk_font

DEMO = Path(__file__).resolve().parents[2] / "workbooks" / "demo-medical.xlsx"
pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.skipif(not DEMO.exists(), reason="workbooks/demo-medical.xlsx has not been generated")


def text_of(path: Path) -> str:
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(str(path)).pages).replace("\x00", "")
    text = re.sub(r"\s+", " ", text)
    return re.sub(r"(?<=[\u3000-\u9fff]) (?=[\u3000-\u9fff])", "", text)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A copy of the demo workbook after ``documents`` ran on it twice: (workbook, folder, outputs)."""
    folder = tmp_path_factory.mktemp("demo")
    workbook = folder / DEMO.name
    shutil.copyfile(DEMO, workbook)
    first = main(["documents", str(workbook)])
    files = {p.name: p.read_bytes() for p in (folder / "demo-medical documents").iterdir()}
    second = main(["documents", str(workbook)])
    return workbook, folder / "demo-medical documents", (first, second, files)


def test_every_invoice_of_the_demo_gets_its_document_and_a_rerun_changes_nothing(demo):
    workbook, folder, (first, second, files) = demo
    table = read_workbook(workbook)["Invoices"].rows
    amount = table[0].index("Amount")
    zero_payer = {row[0] for row in table[1:] if row[4] == "Payer" and not row[amount]}
    assert zero_payer, "the demo has a payer invoice where everything was adjusted"
    rows = [row for row in table[1:] if row[0] not in zero_payer]  # recorded, never rendered or sent
    made = {p.stem for p in folder.glob("*.pdf") if not p.name.startswith("letters")}
    assert not zero_payer & made
    missing = {row[0] for row in rows} - made
    if has_cjk_font(FontSet.discover()):
        assert first == second == 0 and missing == set()
    else:  # only 山田太郎's invoices wait for a font, with a Problem on his Name cell
        assert first == second == 1
        assert missing == {row[0] for row in rows if row[4] == "Customer" and row[5] == "P-1003"}
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files  # nothing rewritten


def test_demo_payer_invoice_text_and_qr_code(demo, tmp_path):
    _, folder, _ = demo
    text = text_of(folder / "INV-000001.pdf")
    for expected in ("Barmenia Zusatzversicherung", "Jürgen Müller-Łukasiewicz", "Member ID BZ-0055120",
                     "Total 94.00 EUR", "DE89 3704 0044 0532 0130 00", "INV-000001 / P-1001"):
        assert expected in text, expected
    pdftoppm = shutil.which("pdftoppm")
    zxingcpp = pytest.importorskip("zxingcpp")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    from PIL import Image

    subprocess.run([pdftoppm, "-r", "120", "-png", str(folder / "INV-000001.pdf"), str(tmp_path / "p")], check=True)
    codes = [r.text for page in sorted(tmp_path.glob("p*.png")) for r in zxingcpp.read_barcodes(Image.open(page))]
    assert [c.split("\n") for c in codes] == [["BCD", "002", "1", "SCT", "", "Praxis Dr. med. Katharina Weber",
                                               "DE89370400440532013000", "EUR94.00", "", "",
                                               "INV-000001 / P-1001"]]


def test_demo_names_in_other_scripts(demo):
    workbook, folder, _ = demo
    rows = read_workbook(workbook)["Invoices"].rows[1:]
    yamada = next(row[0] for row in rows if row[5] == "P-1003" and row[4] == "Customer")
    if not has_cjk_font(FontSet.discover()):
        assert not (folder / f"{yamada}.pdf").exists()
        return
    text = text_of(folder / f"{yamada}.pdf")
    assert "山田太郎 (Taro Yamada)" in text and "Torstraße 88" in text
    oberg = next(row[0] for row in rows if row[5] == "P-1008" and row[4] == "Customer")
    assert "Lars Øberg" in text_of(folder / f"{oberg}.pdf")
