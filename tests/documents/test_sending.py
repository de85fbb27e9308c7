"""``send`` through a real SMTP server on 127.0.0.1: each document delivered exactly once.

The server (aiosmtpd) runs in the test process on a free port; its handler records every message it
accepts and can refuse a recipient or drop the connection in the middle of a message. The workbook
is a real .xlsx file, so the Sent sheet is written and read back the way a clerk's file is.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from collections import Counter
from pathlib import Path

import pytest

from sheetbill.cli import main
from sheetbill.io.xlsx import read_workbook
from sheetbill.sending import JOURNAL_NAME, SENT_SHEET, read_sent, send_pending
from tests.documents.conftest import history, inputs

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")
openpyxl = pytest.importorskip("openpyxl")

AS_OF = dt.date(2026, 3, 1)
CUSTOMERS = [("C1", "Jürgen Müller-Łukasiewicz", "Lindenstraße 3", "10115", "Berlin", "jurgen@example.org"),
             ("C2", "Taro Yamada", "Hauptstraße 9", "20095", "Hamburg", None),
             ("C3", "Anna Schmidt", "Am Markt 1", "04109", "Leipzig", "anna@example.org")]
EMAILED = {"INV-000001", "INV-000002", "INV-000004", "INV-000001 follow-up 1", "INV-000002 reminder 1",
           "INV-000004 reminder 1"}
LETTERS = {"INV-000003", "INV-000003 reminder 1"}


def send_command(workbook, as_of, dry_run):
    """``sheetbill send`` on the command line."""
    return main(["send", str(workbook), "--as-of", as_of.isoformat()] + (["--dry-run"] if dry_run else []))


class Recorder:
    """An SMTP handler that keeps what it accepts, and misbehaves on request."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.drop_after: int | None = None  # drop the connection at the DATA of message number drop_after + 1

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's name
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.drop_after is not None and len(self.messages) >= self.drop_after:
            self.drop_after = None
            server.transport.close()  # the client sees the connection drop before any reply
            return "421 gone"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted"

    def documents(self) -> Counter:
        """How often each document arrived."""
        return Counter(m["X-Sheetbill-Document"] for m in self.messages)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    """A running SMTP server on 127.0.0.1 and its recorder."""
    recorder = Recorder()
    controller = aiosmtpd_controller.Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


def write_xlsx(path: Path, sheets) -> Path:
    """The sheets as an .xlsx workbook, as a clerk's file would hold them."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, raw in sheets.items():
        target = workbook.create_sheet(name)
        for row in raw.rows:
            target.append(list(row))
    workbook.save(path)
    return path


def practice_workbook(tmp_path: Path, port: int, *settings, customers=CUSTOMERS) -> Path:
    """The practice workbook after invoicing and the first reminders, with SMTP pointing at the test server."""
    smtp_settings = (("SMTP Host", "127.0.0.1"), ("SMTP Port", port), ("SMTP Security", "none"),
                     ("Sender Email", "billing@praxis.example"), *settings)
    sheets = history(inputs(settings=smtp_settings, customers=customers), "2026-01-31", "2026-03-01")
    return write_xlsx(tmp_path / "practice.xlsx", sheets)


def sent_rows(workbook: Path) -> list[tuple]:
    """The Sent sheet as read back from the file."""
    return read_sent(read_workbook(workbook)).rows


def test_send_delivers_every_document_once_by_email_or_letter(tmp_path, smtp, capsys):
    recorder, port = smtp
    workbook = practice_workbook(tmp_path, port)
    assert send_command(workbook, AS_OF, dry_run=False) == 0
    assert recorder.documents() == Counter(dict.fromkeys(EMAILED, 1))
    message = next(m for m in recorder.messages if m["X-Sheetbill-Document"] == "INV-000002")
    sender, = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Praxis Dr. Weber", "billing@praxis.example")
    assert message["To"] == "Jürgen Müller-Łukasiewicz <jurgen@example.org>"
    assert message["Subject"] == "Invoice INV-000002 from Praxis Dr. Weber"
    assert message["Message-ID"].endswith("@praxis.example>")
    body = message.get_body(("plain",)).get_content()
    assert "invoice INV-000002 of 31 January 2026 for 82.20 EUR, due on 14 February 2026" in body
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "INV-000002.pdf" and attachment.get_content_type() == "application/pdf"
    folder = tmp_path / "practice documents"
    assert attachment.get_content() == (folder / "INV-000002.pdf").read_bytes()
    reminder = next(m for m in recorder.messages if m["X-Sheetbill-Document"] == "INV-000002 reminder 1")
    assert reminder["Subject"] == "Payment reminder: invoice INV-000002 from Praxis Dr. Weber"
    payer = next(m for m in recorder.messages if m["X-Sheetbill-Document"] == "INV-000001")
    assert payer["To"] == "Nordkasse <claims@nordkasse.example>"

    rows = sent_rows(workbook)
    assert {row[0] for row in rows} == EMAILED | LETTERS
    letter = next(row for row in rows if row[0] == "INV-000003")
    assert letter[1:] == ("Taro Yamada", "letter", "Hauptstraße 9, 20095 Hamburg", AS_OF, "letters 2026-03-01.pdf")
    emailed = next(row for row in rows if row[0] == "INV-000002")
    assert emailed[2:5] == ("email", "jurgen@example.org", AS_OF) and emailed[5] == message["Message-ID"]
    assert (folder / "letters 2026-03-01.pdf").exists() and not (folder / JOURNAL_NAME).exists()
    assert "emailed: 6" in capsys.readouterr().out

    assert send_command(workbook, AS_OF, dry_run=False) == 0  # a second send sends nothing
    assert len(recorder.messages) == 6 and len(sent_rows(workbook)) == 8


def test_a_dropped_connection_leaves_an_exact_log_and_the_retry_sends_only_the_rest(tmp_path, smtp):
    recorder, port = smtp
    workbook = practice_workbook(tmp_path, port)
    recorder.drop_after = 2
    assert send_command(workbook, AS_OF, dry_run=False) == 1
    assert len(recorder.messages) == 2
    delivered = set(recorder.documents())
    logged = {row[0] for row in sent_rows(workbook) if row[2] == "email"}
    assert logged == delivered
    assert send_command(workbook, AS_OF, dry_run=False) == 0
    assert recorder.documents() == Counter(dict.fromkeys(EMAILED, 1))
    assert send_command(workbook, AS_OF, dry_run=False) == 0
    assert len(recorder.messages) == 6


def test_a_refused_recipient_is_a_problem_and_is_sent_once_it_is_accepted(tmp_path, smtp, capsys):
    recorder, port = smtp
    workbook = practice_workbook(tmp_path, port)
    recorder.refuse = {"anna@example.org"}
    assert send_command(workbook, AS_OF, dry_run=False) == 1
    out = capsys.readouterr().out
    assert "error: Customers row 4, column Email: the mail server refused anna@example.org (550" in out
    assert set(recorder.documents()) == EMAILED - {"INV-000004", "INV-000004 reminder 1"}
    recorder.refuse = set()
    assert send_command(workbook, AS_OF, dry_run=False) == 0
    assert recorder.documents() == Counter(dict.fromkeys(EMAILED, 1))


def test_when_the_workbook_is_open_the_journal_keeps_the_record_until_the_next_send(tmp_path, smtp, capsys):
    recorder, port = smtp
    workbook = practice_workbook(tmp_path, port)
    lock = workbook.with_name(f"~${workbook.name}")
    lock.write_text("clerk")
    assert send_command(workbook, AS_OF, dry_run=False) == 0
    assert "could not be written" in capsys.readouterr().out
    journal = tmp_path / "practice documents" / JOURNAL_NAME
    assert journal.exists() and SENT_SHEET not in read_workbook(workbook)
    lock.unlink()
    assert send_command(workbook, AS_OF, dry_run=False) == 0
    assert len(recorder.messages) == 6 and not journal.exists()
    assert {row[0] for row in sent_rows(workbook)} == EMAILED | LETTERS


def test_a_journal_line_cut_off_by_a_crash_is_ignored(tmp_path, smtp):
    recorder, port = smtp
    workbook = practice_workbook(tmp_path, port)
    journal = tmp_path / "practice documents" / JOURNAL_NAME
    journal.parent.mkdir()
    journal.write_text('{"document": "INV-000002", "recipient": "J", "channel": "email", "address": "jurgen@exa'
                       'mple.org", "date": "2026-03-01", "message_id": "<x@y>"}\n{"document": "INV-0000',
                       encoding="utf-8")
    assert send_command(workbook, AS_OF, dry_run=False) == 0
    assert set(recorder.documents()) == EMAILED - {"INV-000002"}  # the journal said it went out already


def test_dry_run_sends_and_writes_nothing(tmp_path, smtp, capsys):
    recorder, port = smtp
    workbook = practice_workbook(tmp_path, port)
    before = workbook.read_bytes()
    assert send_command(workbook, AS_OF, dry_run=True) == 0
    out = capsys.readouterr().out
    assert "would email INV-000002 to jurgen@example.org" in out and "would print INV-000003" in out
    assert recorder.messages == [] and workbook.read_bytes() == before
    assert not (tmp_path / "practice documents").exists() or not any((tmp_path / "practice documents").iterdir())


def test_send_pending_returns_what_a_front_end_shows(tmp_path, smtp, capsys):
    recorder, port = smtp
    customers = [CUSTOMERS[0], CUSTOMERS[1], ("C3", "Anna Schmidt", "Am Markt 1", "04109", "Leipzig", "anna@@example")]
    workbook = practice_workbook(tmp_path, port, customers=customers)
    planned = send_pending(workbook, AS_OF, dry_run=True)
    assert not planned.busy and planned.dry_run and recorder.messages == []
    routes = {document.key: channel for document, channel, _ in planned.report.planned}
    assert set(routes) == (EMAILED | LETTERS) - {"INV-000004"}  # its reminder went by letter, as recorded
    assert {(p.severity, p.code) for p in planned.problems} == {("error", "bad-email")}
    assert planned.exit_code == 1
    sent = send_pending(workbook, AS_OF, dry_run=False)
    assert {r.document for r in sent.report.emailed} == {key for key, channel in routes.items() if channel == "email"}
    assert {r.document for r in sent.report.letters} == {key for key, channel in routes.items() if channel == "letter"}
    assert sent.report.log_written and sent.exit_code == 1
    assert sent.report.print_file is not None and sent.report.print_file.exists()
    assert capsys.readouterr().out == ""  # the work prints nothing; the command line does


def test_invalid_addresses_and_missing_smtp_settings_are_problems(tmp_path, smtp, capsys):
    recorder, port = smtp
    customers = [CUSTOMERS[0], CUSTOMERS[1], ("C3", "Anna Schmidt", "Am Markt 1", "04109", "Leipzig", "anna@@example")]
    workbook = practice_workbook(tmp_path, port, customers=customers)
    assert send_command(workbook, AS_OF, dry_run=False) == 1
    out = capsys.readouterr().out
    assert "Customers row 4, column Email: Email 'anna@@example' is not a valid address" in out
    assert "INV-000004" not in recorder.documents()
    other = tmp_path / "other"
    other.mkdir()
    workbook = practice_workbook(other, port, ("SMTP Host", None))
    assert send_command(workbook, AS_OF, dry_run=False) == 1
    assert "SMTP Host is blank" in capsys.readouterr().out
    assert {row[0] for row in sent_rows(workbook)} == LETTERS  # letters do not need the mail server


def test_the_password_comes_from_the_environment_never_from_the_sheet(tmp_path, monkeypatch, capsys):
    from aiosmtpd.smtp import AuthResult

    seen = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    recorder = Recorder()
    controller = aiosmtpd_controller.Controller(recorder, hostname="127.0.0.1", port=free_port(),
                                                authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        workbook = practice_workbook(tmp_path, controller.port, ("SMTP User", "praxis"))
        monkeypatch.delenv("SHEETBILL_SMTP_PASSWORD", raising=False)
        monkeypatch.setitem(__import__("sys").modules, "keyring", None)  # no keyring either
        assert send_command(workbook, AS_OF, dry_run=False) == 1
        assert "SHEETBILL_SMTP_PASSWORD" in capsys.readouterr().out and recorder.messages == []
        monkeypatch.setenv("SHEETBILL_SMTP_PASSWORD", "s3cret")
        assert send_command(workbook, AS_OF, dry_run=False) == 0
        assert seen[-1] == (b"praxis", b"s3cret") and len(recorder.messages) == 6
    finally:
        controller.stop()


def test_documents_before_send_documents_from_are_not_sent(tmp_path, smtp):
    recorder, port = smtp
    workbook = practice_workbook(tmp_path, port, ("Send Documents From", "2026-02-01"))
    assert send_command(workbook, AS_OF, dry_run=False) == 0
    assert set(recorder.documents()) == {"INV-000001 follow-up 1", "INV-000002 reminder 1", "INV-000004 reminder 1"}


def test_a_statement_in_the_documents_folder_is_sent_once(tmp_path, smtp, capsys):
    recorder, port = smtp
    workbook = practice_workbook(tmp_path, port)
    key = "STATEMENT C3 2026-02-01 to 2026-03-01"
    assert main(["statements", str(workbook), "--as-of", AS_OF.isoformat(), "--from", "2026-02-01",
                 "--customer", "C3"]) == 0
    assert (tmp_path / "practice documents" / f"{key}.pdf").exists()
    assert send_command(workbook, AS_OF, dry_run=False) == 0
    assert recorder.documents() == Counter(dict.fromkeys(EMAILED | {key}, 1))
    message = next(m for m in recorder.messages if m["X-Sheetbill-Document"] == key)
    assert message["To"] == "Anna Schmidt <anna@example.org>"
    assert message["Subject"] == "Statement of account as of 1 March 2026 from Praxis Dr. Weber"
    attachment = next(message.iter_attachments())
    assert attachment.get_content() == (tmp_path / "practice documents" / f"{key}.pdf").read_bytes()
    assert key in {row[0] for row in sent_rows(workbook)}
    assert send_command(workbook, AS_OF, dry_run=False) == 0  # sent once: the Sent sheet lists it
    assert recorder.documents()[key] == 1 and len(recorder.messages) == len(EMAILED) + 1
