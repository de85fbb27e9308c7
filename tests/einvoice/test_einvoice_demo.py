"""``make demo``'s e-invoices pass the official rules, and say what the Invoices sheet says.

Both demo workbooks are billed and their documents made as ``make demo`` does (a copy each, as of
30 June 2026). Every XRechnung file and every ZUGFeRD PDF is then checked with the official CEN
EN 16931 and KoSIT XRechnung 3.0.2 rules in one validator process, and its totals are compared
with the Invoices sheet's Net, Tax and Amount.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from sheetbill.cli import main
from sheetbill.io.xlsx import read_workbook
from tests.einvoice.conftest import fatal, validate

WORKBOOKS = Path(__file__).resolve().parents[2] / "workbooks"
DEMOS = ("demo-medical.xlsx", "demo-utility.xlsx")
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Per demo: its billed copy, its documents folder and the files after the first documents run."""
    folder = tmp_path_factory.mktemp("demo")
    made = {}
    for name in DEMOS:
        workbook = folder / name
        shutil.copyfile(WORKBOOKS / name, workbook)
        assert main(["bill", str(workbook), "--as-of", "2026-06-30"]) <= 1
        assert main(["documents", str(workbook), "--as-of", "2026-06-30"]) <= 1
        out = folder / f"{workbook.stem} documents"
        made[name] = (workbook, out, {p.name: p.read_bytes() for p in out.iterdir()})
    return made


def einvoices(out: Path) -> dict[str, Path]:
    """Every e-invoice in a documents folder: XRechnung files and PDFs with a factur-x.xml, by invoice number."""
    found = {p.stem: p for p in out.glob("*.xml")}
    for pdf in out.glob("*.pdf"):
        if not pdf.name.startswith("letters") and "factur-x.xml" in PdfReader(pdf).attachments:
            found[pdf.stem] = pdf
    return found


def xml_of(path: Path) -> ET.Element:
    data = PdfReader(path).attachments["factur-x.xml"][0] if path.suffix == ".pdf" else path.read_bytes()
    return ET.fromstring(data)


def kind(root: ET.Element) -> str:
    local = root.tag.split("}")[1]
    if local == "CrossIndustryInvoice":
        code = next(el.text for el in root.iter() if el.tag.endswith("}TypeCode"))
        return f"CII {code}"
    return f"UBL {local}"


def test_the_demos_make_every_kind_of_einvoice(demo):
    kinds = Counter()
    for _, out, _ in demo.values():
        for path in einvoices(out).values():
            kinds[(path.suffix, kind(xml_of(path)))] += 1
    assert set(kinds) == {(".xml", "CII 380"), (".xml", "CII 381"), (".xml", "UBL Invoice"),
                          (".xml", "UBL CreditNote"), (".pdf", "CII 380")}, kinds


def test_every_demo_einvoice_passes_the_official_rules(demo):
    paths = [path for _, out, _ in demo.values() for path in einvoices(out).values()]
    verdicts = validate(paths)
    failures = {name: fatal(result) for name, result in verdicts.items() if fatal(result)}
    assert failures == {} and len(verdicts) == len(paths) >= 30


def test_every_demo_einvoice_states_the_invoices_sheets_net_tax_and_amount(demo):
    for workbook, out, _ in demo.values():
        table = read_workbook(workbook)["Invoices"].rows
        header = table[0]
        rows = {row[0]: dict(zip(header, row, strict=False)) for row in table[1:]}
        for number, path in einvoices(out).items():
            row, root = rows[number], xml_of(path)
            sign = -1 if row["Kind"] == "Credit Note" else 1
            values = {el.tag.split("}")[1]: Decimal(el.text) for el in root.iter()
                      if el.tag.split("}")[1] in ("TaxBasisTotalAmount", "TaxExclusiveAmount", "DuePayableAmount",
                                                   "PayableAmount")}
            tax = [Decimal(el.text) for el in root.iter() if el.tag.split("}")[1] in ("TaxTotalAmount", "TaxAmount")]
            net = values.get("TaxBasisTotalAmount", values.get("TaxExclusiveAmount"))
            due = values.get("DuePayableAmount", values.get("PayableAmount"))
            money = [Decimal(str(row[c])).quantize(Decimal("0.01")) for c in ("Net", "Tax", "Amount")]
            assert (net, tax[0], due) == tuple(sign * m for m in money), number


def test_a_second_documents_run_writes_nothing_new(demo):
    for workbook, out, files in demo.values():
        assert main(["documents", str(workbook), "--as-of", "2026-06-30"]) <= 1
        assert {p.name: p.read_bytes() for p in out.iterdir()} == files
