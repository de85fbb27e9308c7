"""A small practice workbook with history (invoices, a credit note, reminders), built in memory.

Customers: Jürgen Müller-Łukasiewicz (insured, email), 山田太郎 (self-pay, letter only) and Anna
Schmidt (self-pay, email). One insurer bills in its own code system. Billing runs on 31 January
(invoices), 1 March (first reminders) and 15 March (a corrected charge gives a credit note).
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from sheetbill.documents.fonts import FontSet
from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.run import run_billing
from tests.helpers import book, sheet, with_outputs

IBAN = "DE89370400440532013000"
BIC = "COBADEFFXXX"
JURGEN = "Jürgen Müller-Łukasiewicz"
YAMADA = "山田太郎"

SETTINGS = (
    ("Company Name", "Praxis Dr. Weber"), ("Company Address", "Kastanienallee 21; 10435 Berlin"),
    ("Company Email", "billing@praxis.example"), ("Currency", "EUR"), ("Bank IBAN", "DE89 3704 0044 0532 0130 00"),
    ("Bank BIC", BIC), ("Payment Reference Format", "{invoice_no}-{customer_id}"), ("Language", "en"),
    ("Payment Terms Days", 14), ("Reminder Days", "14, 14, 14"), ("Reminder Fees", "0; 5; 10"),
    ("Collection Agency", "Inkasso Nord"), ("Payment Plan Threshold", 100), ("Payment Methods", "Bank transfer"),
)
CHARGES = [("1", "2026-01-05", "C1", "S1", 1, None), ("2", "2026-01-05", "C1", "S2", 2, None),
           ("3", "2026-01-06", "C2", "S1", 1, None), ("4", "2026-01-07", "C3", "S2", 1, None)]


def inputs(settings=(), customers=None, charges=None):
    """The input sheets; ``settings`` rows override the defaults by name."""
    names = {name for name, _ in settings}
    rows = [row for row in SETTINGS if row[0] not in names] + list(settings)
    customers = customers or [
        ("C1", JURGEN, "Lindenstraße 3", "10115", "Berlin", "jurgen@example.org"),
        ("C2", YAMADA, "Hauptstraße 9", "20095", "Hamburg", None),
        ("C3", "Anna Schmidt", "Am Markt 1", "04109", "Leipzig", "anna@example.org"),
    ]
    return book(
        sheet("Settings", ("Setting", "Value"), *rows),
        sheet("Customers", ("Customer ID", "Name", "Street", "Postal Code", "City", "Email"), *customers),
        sheet("Payers", ("Payer ID", "Name", "Type", "Code System", "Email", "Street", "Postal Code", "City"),
              ("INS", "Nordkasse", "insurer", "GOÄ", "claims@nordkasse.example", "Kassenweg 1", "20099", "Hamburg")),
        sheet("Coverage", ("Customer ID", "Payer ID", "Member ID", "Covered Percent", "Annual Deductible"),
              ("C1", "INS", "M-4711", 80, 50)),
        sheet("Services", ("Service Code", "Description", "Price"), ("S1", "Consultation", 120),
              ("S2", "Blood panel", "45.50")),
        sheet("Payer Codes", ("Payer ID", "Service Code", "Payer Code"), ("INS", "S1", "1"), ("INS", "S2", "3550")),
        sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price"),
              *(charges or CHARGES)),
    )


def plugins() -> Plugins:
    """Built-in payers only (no installed entry points), as the billing tests use."""
    return Plugins(get_plugin_manager(entry_points=False))


def history(sheets, *days: str):
    """``sheets`` after a billing run on each of ``days`` (outputs read back as a file would give them)."""
    for day in days:
        result = run_billing(sheets, as_of=dt.date.fromisoformat(day), plugins=plugins())
        sheets = with_outputs(sheets, result.outputs)
    return sheets


@pytest.fixture(scope="session")
def practice():
    """The workbook after invoicing (31 Jan) and the first reminders (1 Mar)."""
    return history(inputs(), "2026-01-31", "2026-03-01")


@pytest.fixture(scope="session")
def fonts() -> FontSet:
    """Every installed font (with the CJK fallback when its package is installed)."""
    return FontSet.discover()


@pytest.fixture(scope="session")
def latin_fonts() -> FontSet:
    """Only the body font: what an installation without the CJK font package has."""
    return FontSet.discover(packages=False)


def has_cjk_font(fonts: FontSet) -> bool:
    """True when some installed font prints Japanese."""
    return any(face.has("山") for face in fonts.fallbacks)


@pytest.fixture(scope="session")
def pdftoppm() -> str:
    """The pdftoppm program (poppler-utils); the test is skipped without it."""
    path = shutil.which("pdftoppm")
    if path is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed: apt-get install -y poppler-utils")
    return path


def workbook_path(tmp_path: Path) -> Path:
    """Where a test's workbook would be (documents go beside it)."""
    return tmp_path / "practice.xlsx"
