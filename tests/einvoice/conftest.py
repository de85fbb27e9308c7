"""A small workbook whose history already carries tax, with parties that want e-invoices, built in memory.

Seller: Praxis Dr. Weber (exempt medical care, § 4 Nr. 14 UStG) that also sells taxed goods.
Payers: the Jobcenter (government, XRechnung CII, Leitweg-ID), an employer (ZUGFeRD) and an insurer
(XRechnung UBL); a business customer (XRechnung UBL) gets a mixed-rate invoice and a credit note.
The history is typed as a billing run writes it (Net, Tax, categories), so these tests do not depend
on how billing computes tax.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import book, sheet

#: Where CI puts the official validators (beside the repository); a user's clone does not have them.
ORACLE = Path(__file__).resolve().parents[2].parent / "shared" / "oracles" / "einvoice" / "validate.py"

SETTINGS = (
    ("Company Name", "Praxis Dr. Weber"), ("Company Address", "Kastanienallee 21, 10435 Berlin, Germany"),
    ("Company Email", "billing@praxis.example"), ("Bank IBAN", "DE89 3704 0044 0532 0130 00"),
    ("Bank BIC", "COBADEFFXXX"), ("Language", "de"), ("Tax Number", "13/123/45678"),
    ("VAT ID", "DE136695976"), ("Contact Name", "Katharina Weber"), ("Contact Phone", "+49 30 1234567"),
    ("Payment Reference Format", "{invoice_no}"),
)
EXEMPT = "Steuerfrei nach § 4 Nr. 14 UStG"
PAYERS = [
    ("GOV", "Jobcenter Berlin Mitte", "government", "rechnung@jobcenter.example", "Seydelstraße 2", "10117", "Berlin",
     "xrechnung", "991-33333TEST-33", None, None),
    ("EMP", "Klinikum Lindenau gGmbH", "employer", "personal@klinikum.example", "Am Klinikum 1", "04179", "Leipzig",
     "zugferd", "KST-4711", "DE811111111", None),
    ("INS", "Nordkasse", "insurer", "claims@nordkasse.example", "Kassenweg 1", "20099", "Hamburg",
     "xrechnung-ubl", "NK-2026-17", None, None),
]
INVOICE_HEADER = ("Invoice No", "Kind", "Issue Date", "Due Date", "Bill To Type", "Bill To ID", "Bill To Name",
                  "Customer ID", "Amount", "Related Invoice", "Net", "Tax")
LINE_HEADER = ("Invoice No", "Charge ID", "Date of Service", "Customer ID", "Service Code", "Billed Code", "Quantity",
               "Charge Amount", "Amount", "Adjustment", "Reason", "Related Invoice", "Net", "Tax Category",
               "Tax Rate", "Tax Exemption")


def invoices_and_lines():
    """The Invoices and Invoice Lines history: (invoice rows, line rows)."""
    invoices = [
        ("INV-000001", "Invoice", "2026-01-31", "2026-03-02", "Payer", "GOV", "Jobcenter Berlin Mitte", "C1",
         "150.00", None, "150.00", "0.00"),
        ("INV-000002", "Invoice", "2026-01-31", "2026-03-02", "Payer", "EMP", "Klinikum Lindenau gGmbH", "C2",
         "238.00", None, "200.00", "38.00"),
        ("INV-000003", "Invoice", "2026-01-31", "2026-03-02", "Payer", "INS", "Nordkasse", "C1", "96.00", None,
         "96.00", "0.00"),
        ("INV-000004", "Invoice", "2026-01-31", "2026-02-14", "Customer", "C3", "Hofladen Schmidt GmbH", "C3",
         "221.45", None, "195.00", "26.45"),
        ("INV-000005", "Credit Note", "2026-02-15", "2026-02-15", "Customer", "C3", "Hofladen Schmidt GmbH", "C3",
         "-59.50", "INV-000004", "-50.00", "-9.50"),
        ("INV-000006", "Credit Note", "2026-02-15", "2026-02-15", "Payer", "GOV", "Jobcenter Berlin Mitte", "C1",
         "-45.00", "INV-000001", "-45.00", "0.00"),
    ]
    lines = [
        ("INV-000001", "1", "2026-01-05", "C1", "CONS", "CONS", 1, "105.00", "105.00", None, "", None, "105.00", "E",
         0, EXEMPT),
        ("INV-000001", "2", "2026-01-12", "C1", "PHYSIO", "PHYSIO", 3, "45.00", "45.00", None, "", None, "45.00", "E",
         0, EXEMPT),
        ("INV-000002", "3", "2026-01-20", "C2", "CHECK", "CHECK", 2, "238.00", "238.00", None, "", None, "200.00", "S",
         19, None),
        ("INV-000003", "4", "2026-01-22", "C1", "CONS", "1", 1, "120.00", "96.00", None, "", None, "96.00", "E", 0,
         EXEMPT),
        ("INV-000004", "5", "2026-01-25", "C3", "CREAM", "CREAM", 3, "35.70", "35.70", None, "", None, "30.00", "S", 19,
         None),
        ("INV-000004", "6", "2026-01-25", "C3", "BOOK", "BOOK", 1, "26.75", "26.75", None, "", None, "25.00", "S", 7,
         None),
        ("INV-000004", "7", "2026-01-26", "C3", "CHECK", "CHECK", 1, "119.00", "119.00", None, "", None, "100.00", "S",
         19, None),
        ("INV-000004", "8", "2026-01-26", "C3", "CONS", "CONS", 1, "40.00", "40.00", None, "", None, "40.00", "E", 0,
         EXEMPT),
        ("INV-000005", "7", "2026-01-26", "C3", "CHECK", "CHECK", 1, "119.00", "-59.50", None,
         "credit for INV-000004", "INV-000004", "-50.00", "S", 19, None),
        ("INV-000006", "2", "2026-01-12", "C1", "PHYSIO", "PHYSIO", 3, "45.00", "-45.00", None,
         "credit for INV-000001", "INV-000001", "-45.00", "E", 0, EXEMPT),
    ]
    return invoices, lines


def einvoice_inputs(settings=(), payers=None, customers=None, invoices=None, lines=None):
    """The workbook's sheets; ``settings`` rows override the defaults by name."""
    names = {name for name, _ in settings}
    rows = [row for row in SETTINGS if row[0] not in names] + [row for row in settings if row[1] is not None]
    default_invoices, default_lines = invoices_and_lines()
    return book(
        sheet("Settings", ("Setting", "Value"), *rows),
        sheet("Customers", ("Customer ID", "Name", "Street", "Postal Code", "City", "Country", "Email", "E-Invoice",
                            "Buyer Reference", "VAT ID"),
              *(customers or [
                  ("C1", "Max Mustermann", "Lindenstraße 3", "10115", "Berlin", "DE", "max@example.org", None, None,
                   None),
                  ("C2", "Erika Beispiel", "Am Markt 1", "04109", "Leipzig", "DE", None, None, None, None),
                  ("C3", "Hofladen Schmidt GmbH", "Dorfstraße 7", "14467", "Potsdam", "Germany",
                   "einkauf@hofladen.example", "xrechnung-ubl", "PO-4711", "DE999999999")])),
        sheet("Payers", ("Payer ID", "Name", "Type", "Email", "Street", "Postal Code", "City", "E-Invoice",
                         "Buyer Reference", "VAT ID", "Electronic Address"), *(payers or PAYERS)),
        sheet("Coverage", ("Customer ID", "Payer ID", "Member ID"), ("C1", "GOV", "BG-12345//0001"),
              ("C1", "INS", "NK-778"), ("C2", "EMP", "PN-20817")),
        sheet("Services", ("Service Code", "Description", "Price", "Tax Rate", "Tax Category", "Tax Exemption"),
              ("CONS", "Beratung", 105, 0, "E", EXEMPT), ("PHYSIO", "Physiotherapie", 15, 0, "E", EXEMPT),
              ("CHECK", "Betriebsärztliche Untersuchung", 100, 19, "S", None),
              ("CREAM", "Hautcreme", 10, 19, "S", None), ("BOOK", "Ratgeber (Buch)", 25, 7, "S", None)),
        sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code")),
        sheet("Invoices", INVOICE_HEADER, *(invoices or default_invoices)),
        sheet("Invoice Lines", LINE_HEADER, *(lines or default_lines)),
    )


def validate(paths: list[Path], xrechnung: bool = True) -> dict[str, dict]:
    """The official validator's verdict on each file (one process for all, so stylesheets compile once)."""
    if not ORACLE.exists():
        pytest.skip(f"the official e-invoice validators are not here ({ORACLE}); CI has them beside the repository")
    for module in ("saxonche", "lxml"):
        try:
            __import__(module)
        except ImportError:
            pytest.skip(f"the validator needs {module} (pip install -e .[dev])")
    args = [sys.executable, str(ORACLE), *map(str, paths), "--json"] + (["--xrechnung"] if xrechnung else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == len(paths), done.stdout[-2000:] + done.stderr[-2000:]
    return {Path(r["file"]).name: r for r in results}


def fatal(result: dict) -> list[str]:
    """The fatal findings of one validator result, as readable lines."""
    return [f"{f['ruleset']}:{f['rule']} {f['text']}" for f in result["findings"] if f["flag"] in ("fatal", "error")]


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def money(text: str) -> Decimal:
    return Decimal(text)
