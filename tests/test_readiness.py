"""``check`` and dry runs validate what the real commands will need: the Bank IBAN, Email cells and the
SMTP settings (a dry run that promises documents the real run cannot send is a lie)."""

from __future__ import annotations

import pytest

from sheetbill.bank.references import iban_problem
from sheetbill.cli import main
from sheetbill.documents import payment
from tests.documents.conftest import CHARGES, history, inputs

openpyxl = pytest.importorskip("openpyxl")

CUSTOMERS = [("C1", "Jürgen Müller", "Lindenstraße 3", "10115", "Berlin", "jurgen@example.org"),
             ("C2", "Taro Yamada", "Hauptstraße 9", "20095", "Hamburg", None),
             ("C3", "Anna Schmidt", "Am Markt 1", "04109", "Leipzig", "anna@example.org")]


def workbook(tmp_path, *settings, customers=CUSTOMERS, billed=True):
    sheets = inputs(settings=settings, customers=customers, charges=CHARGES)
    if billed:
        sheets = history(sheets, "2026-01-31")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, raw in sheets.items():
        target = book.create_sheet(name)
        for row in raw.rows:
            target.append(list(row))
    path = tmp_path / "office.xlsx"
    book.save(path)
    return path


def test_check_reports_a_bad_iban_and_an_email_that_is_not_an_address(tmp_path, capsys):
    customers = [CUSTOMERS[0], CUSTOMERS[1], ("C3", "Anna Schmidt", "Am Markt 1", "04109", "Leipzig",
                                              "anna(at)example.org")]
    path = workbook(tmp_path, ("Bank IBAN", "DE89 3704 0044 0532 0130 01"), customers=customers, billed=False)
    assert main(["check", str(path), "--as-of", "2026-01-31"]) == 1
    out = capsys.readouterr().out
    assert "Settings row" in out and "Bank IBAN 'DE89 3704 0044 0532 0130 01' fails the IBAN check digits" in out
    assert "Customers row 4, column Email: Email 'anna(at)example.org' is not a valid address" in out


def test_check_reports_smtp_settings_the_send_would_stop_at(tmp_path, capsys, monkeypatch):
    path = workbook(tmp_path, ("SMTP Host", "mail.example.org"), ("SMTP Security", "ssl"), billed=False)
    assert main(["check", str(path), "--as-of", "2026-01-31"]) == 1
    assert "SMTP Security 'ssl' must be one of none, starttls, tls" in capsys.readouterr().out
    monkeypatch.delenv("SHEETBILL_SMTP_PASSWORD", raising=False)
    monkeypatch.setitem(__import__("sys").modules, "keyring", None)
    path = workbook(tmp_path, ("SMTP Host", "mail.example.org"), ("SMTP User", "praxis"), billed=False)
    assert main(["check", str(path), "--as-of", "2026-01-31"]) == 1
    assert "no password for SMTP User 'praxis'" in capsys.readouterr().out
    path = workbook(tmp_path, billed=False)  # no SMTP at all: a warning, since documents may go another way
    assert main(["check", str(path), "--as-of", "2026-01-31"]) == 0
    assert "SMTP Host is blank" in capsys.readouterr().out


def test_a_dry_run_send_with_a_blank_smtp_host_promises_only_the_letters(tmp_path, capsys):
    path = workbook(tmp_path)
    assert main(["send", str(path), "--as-of", "2026-01-31", "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "SMTP Host is blank" in out
    assert "dry run: 1 documents would go out" in out  # Taro Yamada's letter; the emails cannot go
    assert "would email" not in out


def test_one_iban_rule_for_documents_and_direct_debits():
    assert payment.iban_problem is iban_problem
    assert iban_problem("DE89 3704 0044 0532 0130 00") is None
    assert "has 21 characters" in iban_problem("DE89 3704 0044 0532 0130 0")
    assert "check digits" in iban_problem("DE89370400440532013001")
