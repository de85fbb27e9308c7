"""Statements of account: the numbers (checked by hand), the German letter, the command, the button.

Anna Schmidt (C3) is invoiced 45.50 on 31 January (INV-000004, due 14 February) and pays 20.00 on
10 February. The first reminder on 1 March books a fee of 2.50. On 15 March her charge is corrected
to 40.00: billing issues credit note INV-000005 (-45.50) for INV-000004 and invoice INV-000006 (40.00,
due 29 March). The credit note pays the rest of INV-000004 (25.50 principal, then the 2.50 fee) and
its remaining 17.50 is applied to INV-000006, which keeps 22.50 open.

By hand, for March: opening balance 45.50 - 20.00 = 25.50; + 2.50 fee = 28.00; + 40.00 invoice = 68.00;
- 45.50 credit note = 22.50 closing balance, which is what INV-000006 has open.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from sheetbill import buttons, excel
from sheetbill.cli import main
from sheetbill.documents.statement import parse_statement_key, statement_key
from sheetbill.documents.statements import make_statements_from
from sheetbill.run import accounts_as_of
from sheetbill.statements import month_start, statement_of, statements
from tests.documents.conftest import BIC, CHARGES, IBAN, history, inputs, workbook_path
from tests.helpers import sheet

pypdf = pytest.importorskip("pypdf")

MARCH_1, MARCH_31 = dt.date(2026, 3, 1), dt.date(2026, 3, 31)
KEY = "STATEMENT C3 2026-03-01 to 2026-03-31"
CHARGE_HEADERS = ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price")


def account_history(language: str = "en"):
    """The practice's sheets after the story of the module docstring."""
    sheets = dict(inputs(settings=(("Reminder Fees", "2.50; 5; 10"), ("Language", language))))
    sheets["Payments"] = sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount"),
                               ("P-1", "2026-02-10", "INV-000004", 20))
    sheets = dict(history(sheets, "2026-01-31", "2026-03-01"))
    corrected = [row if row[0] != "4" else ("4", "2026-01-07", "C3", "S2", 1, 40) for row in CHARGES]
    sheets["Charges"] = sheet("Charges", CHARGE_HEADERS, *corrected)
    return history(sheets, "2026-03-15")


@pytest.fixture(scope="module")
def english():
    return account_history("en")


@pytest.fixture(scope="module")
def german():
    return account_history("de")


def text_of(path: Path) -> str:
    """The text layer of a PDF, whitespace collapsed."""
    reader = pypdf.PdfReader(str(path))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def rows(statement):
    return [(line.item.date.isoformat(), line.item.kind, line.item.reference, line.item.invoice_no,
             line.item.amount, line.balance) for line in statement.lines]


def test_the_statement_lists_every_item_of_the_period_with_the_running_balance(english):
    _, ledger, problems = accounts_as_of(english, MARCH_31)
    assert [p for p in problems if p.severity == "error"] == []
    statement = statement_of(ledger, "C3", MARCH_1, MARCH_31)
    assert statement.opening == Decimal("25.50")  # 45.50 invoiced - 20.00 paid before March
    assert rows(statement) == [
        ("2026-03-01", "Fee", "INV-000004", "INV-000004", Decimal("2.50"), Decimal("28.00")),
        ("2026-03-15", "Invoice", "INV-000006", "INV-000006", Decimal("40.00"), Decimal("68.00")),
        ("2026-03-15", "Credit Note", "INV-000005", "INV-000004", Decimal("-45.50"), Decimal("22.50")),
    ]
    assert statement.closing == Decimal("22.50") == ledger.account_balances()[("Customer", "C3")]
    assert [(o.invoice_no, o.issue_date, o.due_date, o.open) for o in statement.open_items] == [
        ("INV-000006", dt.date(2026, 3, 15), dt.date(2026, 3, 29), Decimal("22.50"))]
    assert statement.unapplied_credit == 0


def test_a_full_statement_starts_from_zero_and_names_the_payment(english):
    _, ledger, _ = accounts_as_of(english, MARCH_31)
    statement = statement_of(ledger, "C3", dt.date(2026, 1, 1), MARCH_31)
    assert statement.opening == 0
    assert rows(statement)[:2] == [
        ("2026-01-31", "Invoice", "INV-000004", "INV-000004", Decimal("45.50"), Decimal("45.50")),
        ("2026-02-10", "Payment", "P-1", "INV-000004", Decimal("-20.00"), Decimal("25.50"))]
    assert statement.closing == Decimal("22.50")


def test_nothing_dated_after_the_as_of_date_is_booked(english):
    book, ledger, _ = accounts_as_of(english, dt.date(2026, 3, 10))
    assert book.settings.as_of == dt.date(2026, 3, 10)
    statement = statement_of(ledger, "C3", MARCH_1, dt.date(2026, 3, 10))
    assert [r[1] for r in rows(statement)] == ["Fee"] and statement.closing == Decimal("28.00")
    assert "INV-000006" not in ledger.receivables


def test_only_customers_with_something_to_show_and_only_those_asked_for(english):
    _, ledger, _ = accounts_as_of(english, MARCH_31)
    assert [s.customer_id for s in statements(ledger, MARCH_1, MARCH_31)] == ["C1", "C2", "C3"]
    assert [s.customer_id for s in statements(ledger, MARCH_1, MARCH_31, {"C3"})] == ["C3"]
    paid = dict(english)
    paid["Payments"] = sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount"),
                             ("P-1", "2026-02-10", "INV-000004", 20), ("P-2", "2026-03-20", "INV-000006", "22.50"))
    _, ledger, _ = accounts_as_of(paid, dt.date(2026, 4, 30))
    april = statements(ledger, dt.date(2026, 4, 1), dt.date(2026, 4, 30))
    assert "C3" not in [s.customer_id for s in april]  # paid up and nothing happened in April
    assert month_start(dt.date(2026, 4, 30)) == dt.date(2026, 4, 1)


def test_keys_name_customer_and_period_and_can_be_read_back():
    key = statement_key("K 17", MARCH_1, MARCH_31)
    assert key == "STATEMENT K 17 2026-03-01 to 2026-03-31"
    assert parse_statement_key(key) == ("K 17", MARCH_1, MARCH_31)
    assert parse_statement_key("INV-000001") is None
    assert parse_statement_key("STATEMENT C1 2026-04-01 to 2026-03-31") is None


@pytest.fixture(scope="module")
def german_statement(german, fonts, tmp_path_factory):
    """The German statement of C3 for March, written to a folder."""
    workbook = workbook_path(tmp_path_factory.mktemp("statements"))
    outcome = make_statements_from(german, workbook, as_of=MARCH_31, customer="C3", fonts=fonts)
    return outcome


def test_the_german_statement_says_it_in_german(german_statement):
    outcome = german_statement
    assert [path.name for path in outcome.written] == [f"{KEY}.pdf"]
    assert (outcome.start, outcome.end, outcome.customers) == (MARCH_1, MARCH_31, 1)
    text = text_of(outcome.written[0])
    for expected in ("Kontoauszug", "Kundennummer C3", "Zeitraum 01.03.2026 – 31.03.2026", "Guten Tag Anna Schmidt,",
                     "Kontoübersicht bei uns vom 01.03.2026 bis zum 31.03.2026", "Buchung", "Beleg", "Saldo",
                     "01.03.2026 Anfangssaldo 25,50 EUR", "Mahngebühr INV-000004 2,50 EUR 28,00 EUR",
                     "Rechnung INV-000006 40,00 EUR 68,00 EUR", "Gutschrift INV-000005", "-45,50 EUR 22,50 EUR",
                     "zu Rechnung INV-000004", "Endsaldo 22,50 EUR", "Offene Posten",
                     "Rechnung INV-000006 vom 15.03.2026, fällig am 29.03.2026 22,50 EUR",
                     "Bitte überweisen Sie den Endsaldo von 22,50 EUR unter Angabe des Verwendungszwecks C3.",
                     "Verwendungszweck C3", "DE89 3704 0044 0532 0130 00", "Mit freundlichen Grüßen"):
        assert expected in text, expected


def test_the_statement_page_renders_and_its_qr_code_asks_for_the_closing_balance(german_statement, pdftoppm,
                                                                                  tmp_path):
    subprocess.run([pdftoppm, "-r", "100", "-png", str(german_statement.written[0]), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    subprocess.run([pdftoppm, "-r", "150", "-png", str(german_statement.written[0]), str(tmp_path / "qr")],
                   check=True)
    codes = [r.text for page in sorted(tmp_path.glob("qr*.png")) for r in zxingcpp.read_barcodes(Image.open(page))]
    assert [code.split("\n") for code in codes] == [
        ["BCD", "001", "1", "SCT", BIC, "Praxis Dr. Weber", IBAN, "EUR22.50", "", "", "C3"]]


def test_a_customer_in_credit_gets_no_payment_block(english, latin_fonts, tmp_path):
    credit = dict(english)
    credit["Payments"] = sheet("Payments", ("Payment ID", "Date", "Invoice No", "Amount"),
                               ("P-1", "2026-02-10", "INV-000004", 20), ("P-2", "2026-03-20", "INV-000006", 30))
    outcome = make_statements_from(credit, workbook_path(tmp_path), as_of=MARCH_31, customer="C3", fonts=latin_fonts)
    text = text_of(outcome.written[0])
    assert "Closing balance -7.50 EUR" in text and "Credit not applied yet -7.50 EUR" in text
    assert "Your account is in credit by 7.50 EUR" in text and "Scan with your banking app" not in text


def write_xlsx(path: Path, sheets) -> Path:
    """The sheets as an .xlsx workbook."""
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, raw in sheets.items():
        target = workbook.create_sheet(name)
        for row in raw.rows:
            target.append(list(row))
    workbook.save(path)
    return path


def test_the_command_writes_one_pdf_per_customer_and_a_second_run_finds_them(english, tmp_path, capsys):
    workbook = write_xlsx(tmp_path / "practice.xlsx", english)
    assert main(["statements", str(workbook), "--as-of", "2026-03-31"]) == 0
    out = capsys.readouterr().out
    assert "statements of account from 2026-03-01 to 2026-03-31" in out and "written:   3" in out
    folder = tmp_path / "practice documents"
    assert sorted(p.name for p in folder.glob("STATEMENT *.pdf")) == [
        f"STATEMENT {c} 2026-03-01 to 2026-03-31.pdf" for c in ("C1", "C2", "C3")]
    assert main(["statements", str(workbook), "--as-of", "2026-03-31", "--from", "2026-01-01", "--customer",
                 "C3"]) == 0
    assert "written:   1" in capsys.readouterr().out
    assert (folder / "STATEMENT C3 2026-01-01 to 2026-03-31.pdf").exists()
    assert main(["statements", str(workbook), "--as-of", "2026-03-31"]) == 0
    assert "unchanged: 3" in capsys.readouterr().out
    assert main(["statements", str(workbook), "--as-of", "2026-03-31", "--from", "2026-04-01"]) == 2


def test_the_button_makes_the_statements_beside_the_workbook(english, tmp_path):
    assert buttons.BUTTONS["statement"] == "Statement" and callable(excel.statement)
    workbook = workbook_path(tmp_path)
    pressed = buttons.press("statement", english, workbook=workbook, as_of=MARCH_31)
    assert pressed.ok and pressed.outputs == []
    assert pressed.message.startswith("Statements of account from 2026-03-01 to 2026-03-31: 3 customer(s).")
    assert (tmp_path / "practice documents" / f"{KEY}.pdf").exists()
    remote = buttons.press("statement", english, as_of=MARCH_31)  # the HTTP back end does not know the path
    assert not remote.ok and "not available" in remote.message
