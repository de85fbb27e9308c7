"""Sending documents to the right party, exactly once: email with the PDF attached, or a letter.

``sheetbill send WORKBOOK`` delivers every invoice, credit note and reminder of the workbook, and every
statement of account in its documents folder (:func:`~sheetbill.documents.statements.add_issued_statements`),
that the **Sent** sheet does not list yet: by email when the recipient has a valid Email (reminders go
the way the Reminders history recorded), else into the day's print file of letters. The Sent
sheet (Document, Recipient, Channel, Address, Date, Message ID) is append-only history, read
back every run: a document listed there is never sent again.

The log is exact whatever happens (a crash, a dropped connection, a workbook open in Excel): each
accepted message is journaled the moment the server accepts it and folded into the Sent sheet at
the end of the run; :mod:`sheetbill.sent_log` explains how.

Failures
    A refused recipient is a Problem on the recipient's Email cell; the other messages still go. A
    dropped connection stops the run (what was accepted is logged); run ``send`` again. An invalid
    address is a Problem and nothing is sent to it.

SMTP comes from Settings (``SMTP Host``, ``SMTP Port``, ``SMTP Security`` = none, starttls or tls,
``SMTP User``, ``Sender Email``); the password only from the environment variable
``SHEETBILL_SMTP_PASSWORD`` or the system keyring (service ``sheetbill-smtp:<host>``, user = SMTP
User), never from the workbook; :func:`sheetbill.readiness.smtp_config` checks them, for ``sheetbill
check`` and dry runs too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path

from .documents import DocumentSet, delivery_of, prepare
from .documents.make import not_due
from .documents.model import Document
from .documents.output import write_documents, write_print_file
from .documents.statements import add_issued_statements
from .models import BillToType
from .problems import Problem, error, warning
from .readiness import KEYRING_SERVICE, PASSWORD_ENV, SmtpConfig, smtp_config
from .sent_log import JOURNAL_NAME, SENT_COLUMNS, SENT_SHEET, Journal, SentLog, SentRecord, fold_journal, read_sent

__all__ = [
    "JOURNAL_NAME", "KEYRING_SERVICE", "PASSWORD_ENV",
    "SENT_COLUMNS", "SENT_SHEET", "Journal", "SendOutcome", "SendReport", "SentLog", "SentRecord",
    "SmtpConfig", "build_message", "connect", "fold_journal", "message_id", "pending", "read_sent",
    "send_documents", "send_pending", "smtp_config",
]


# --- SMTP ---------------------------------------------------------------------------------------------------


def connect(config: SmtpConfig, timeout: float = 30.0) -> smtplib.SMTP:
    """An SMTP connection, secured and logged in as the settings say."""
    context = ssl.create_default_context()
    if config.security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(config.host, config.port, timeout=timeout)
        if config.security == "starttls":
            client.starttls(context=context)
    if config.user:
        client.login(config.user, config.password or "")
    return client


def message_id(document: Document, address: str, sender: str) -> str:
    """A Message-ID derived from the document, its content and the address: a resend carries the same one."""
    digest = hashlib.sha256(f"{document.key}\0{document.fingerprint()}\0{address}".encode()).hexdigest()[:32]
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "sheetbill.invalid"
    return f"<{digest}.sheetbill@{domain}>"


def _xml_attachment(document: Document, documents: DocumentSet) -> tuple[str, bytes] | None:
    """The XRechnung file that goes with ``document`` (name and bytes), if its recipient wants one and it
    was written (a ZUGFeRD invoice's XML is inside its PDF)."""
    einvoice = documents.batch.einvoices.get(document.key)
    if einvoice is None or einvoice.embedded:
        return None
    path = documents.out_dir / einvoice.file_name
    return (einvoice.file_name, path.read_bytes()) if path.exists() else None


_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")


def one_line(text: str) -> str:
    """``text`` for a mail header: line breaks (Alt+Enter in a cell) and other control characters become
    one space, so a cell can never end a header or add one."""
    return " ".join(_LINE_BREAKS.sub(" ", text).split())


def build_message(document: Document, pdf: bytes, address: str, config: SmtpConfig,
                  xml: tuple[str, bytes] | None = None) -> EmailMessage:
    """The email of ``document``: its subject and text from the template, the PDF attached, and its
    XRechnung file (``xml``: name and bytes) when its recipient gets one. Every header value is one
    line (:func:`one_line`), whatever the cells it comes from hold."""
    message = EmailMessage()
    sender_name = one_line(config.sender_name)
    message["From"] = formataddr((sender_name, config.sender)) if sender_name else config.sender
    message["To"] = formataddr((one_line(document.recipient_name), address))
    if config.reply_to:
        message["Reply-To"] = config.reply_to
    message["Subject"] = one_line(document.email_subject)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id(document, address, config.sender)
    message["X-Sheetbill-Document"] = one_line(document.key)
    message.set_content(document.email_body)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=document.file_name)
    if xml is not None:
        message.add_attachment(xml[1], maintype="application", subtype="xml", filename=xml[0])
    return message


# --- the run ------------------------------------------------------------------------------------------------


@dataclass
class SendReport:
    """What a ``send`` run did: documents emailed, put into the print file, not due to go out (``held``,
    with why), and the Problems."""

    emailed: list[SentRecord] = field(default_factory=list)
    letters: list[SentRecord] = field(default_factory=list)
    planned: list[tuple[Document, str, str]] = field(default_factory=list)
    print_file: Path | None = None
    problems: list[Problem] = field(default_factory=list)
    held: dict[str, str] = field(default_factory=dict)
    log_written: bool = False
    stopped: str = ""

    @property
    def exit_code(self) -> int:
        """0 when everything due went out, 1 when something could not be sent."""
        return 1 if any(p.severity == "error" for p in self.problems) else 0


def pending(documents: DocumentSet, log: SentLog, held: dict[str, str] | None = None) -> list[Document]:
    """The documents the Sent log does not list yet and that are due to go out now: not dated before
    Settings Send Documents From, not a reminder replaced by a later one or by the hand-off to the
    collection agency (:func:`sheetbill.documents.make.not_due`). Those left out go into ``held`` with why."""
    why = not_due(documents)
    due = []
    for document in documents.documents:
        if document.key in log:
            continue
        if document.key in why:
            if held is not None:
                held[document.key] = why[document.key]
            continue
        due.append(document)
    return due


def send_documents(documents: DocumentSet, log: SentLog, journal: Journal, *, day: dt.date, dry_run: bool = False,
                   connector=connect) -> SendReport:
    """Deliver every pending document (see the module docstring); records each one in ``journal`` and ``log``.

    :param connector: opens the SMTP connection (tests pass one for a local server).
    """
    report = SendReport(problems=list(log.problems))
    if "\0unreadable" in log:
        return report
    todo = pending(documents, log, report.held)
    report.problems.extend(p for p in documents.problems if p not in report.problems)
    routes: list[tuple[Document, str, str]] = []
    for document in todo:
        delivery, problem = delivery_of(document, documents.book)
        if delivery is None:
            report.problems.append(_as_error(problem))
            continue
        routes.append((document, delivery.channel, delivery.address))
    report.planned = routes
    for document, channel, _ in routes:
        einvoice = documents.batch.einvoices.get(document.key)
        if channel == "letter" and einvoice is not None and not einvoice.embedded:
            report.problems.append(warning(
                f"{document.key} goes by letter, but its XRechnung file {einvoice.file_name} cannot be printed: enter "
                "the recipient's Email (or upload the file to its portal yourself)", *_party_cell(document, documents),
                code="einvoice-by-letter"))
    if dry_run and any(channel == "email" for _, channel, _ in routes):
        _, problems = smtp_config(documents.book.settings)  # what the real run would stop at
        if problems:
            report.problems.extend(problems)
            report.planned = [route for route in routes if route[1] != "email"]
    if dry_run or not routes:
        return report
    written = write_documents([d for d, _, _ in routes], documents.out_dir, documents.fonts, documents.batch.einvoices)
    report.problems.extend(written.problems)
    paths = {w.document.key: w.path for w in written.written}
    letters = [(d, address) for d, channel, address in routes if channel == "letter"]
    if letters:
        report.print_file = write_print_file([paths[d.key] for d, _ in letters], documents.out_dir, day.isoformat())
        for document, address in letters:
            record = SentRecord(document.key, document.recipient_name, "letter", address, day,
                                report.print_file.name if report.print_file else "")
            journal.append(record)
            log.add(record)
            report.letters.append(record)
    emails = [(d, address) for d, channel, address in routes if channel == "email"]
    if emails:
        _send_emails(emails, paths, documents, log, journal, report, day, connector)
    return report


def _as_error(problem: Problem) -> Problem:
    """``problem`` as an error: a document that cannot be delivered is not sent."""
    return replace(problem, severity="error")


def _send_emails(emails: Sequence[tuple[Document, str]], paths: Mapping[str, Path], documents: DocumentSet,
                 log: SentLog, journal: Journal, report: SendReport, day: dt.date, connector) -> None:
    """Email each of ``emails`` over one connection, journaling each the moment the server accepts it."""
    config, problems = smtp_config(documents.book.settings)
    report.problems.extend(problems)
    if config is None:
        return
    try:
        client = connector(config)
    except (OSError, smtplib.SMTPException) as err:
        report.problems.append(error(f"cannot connect to the mail server {config.host}:{config.port} ({err}); "
                                     f"{len(emails)} documents were not emailed", "Settings",
                                     documents.book.settings.rows.get("smtphost"), "Value", code="smtp-unreachable"))
        report.stopped = str(err)
        return
    index = 0
    try:
        for index, (document, address) in enumerate(emails):  # noqa: B007 - index is read after a drop
            try:
                message = build_message(document, paths[document.key].read_bytes(), address, config,
                                        _xml_attachment(document, documents))
            except (ValueError, TypeError) as err:  # a header the email library refuses: this message only
                report.problems.append(error(f"{document.key} to {address} was not sent: its email could not be "
                                             f"built ({err})", *_party_cell(document, documents),
                                             code="message-invalid"))
                continue
            try:
                refused = client.send_message(message, from_addr=config.sender, to_addrs=[address])
            except smtplib.SMTPRecipientsRefused as err:
                code, text = next(iter(err.recipients.values()), (0, b""))
                report.problems.append(_refused(document, documents, address, code, text))
                continue
            except smtplib.SMTPResponseException as err:
                if err.smtp_code == 421:  # the server is closing the connection
                    raise smtplib.SMTPServerDisconnected(f"{err.smtp_code} {_text(err.smtp_error)}") from err
                report.problems.append(error(f"{document.key} to {address} was not accepted by the mail server: "
                                             f"{err.smtp_code} {_text(err.smtp_error)}",
                                             *_party_cell(document, documents), code="recipient-refused"))
                continue
            if refused:
                code, text = next(iter(refused.values()))
                report.problems.append(_refused(document, documents, address, code, text))
                continue
            record = SentRecord(document.key, document.recipient_name, "email", address, day, message["Message-ID"])
            journal.append(record)
            log.add(record)
            report.emailed.append(record)
        index = len(emails)
    except (smtplib.SMTPServerDisconnected, OSError) as err:
        report.stopped = str(err) or type(err).__name__
        report.problems.append(error(f"the connection to the mail server broke off ({report.stopped}); "
                                     f"{len(emails) - index} documents were not emailed: run send again to send the "
                                     "rest (what was sent is in the Sent log)", "Settings",
                                     documents.book.settings.rows.get("smtphost"), "Value", code="smtp-broke-off"))
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            client.quit()


def _text(value: object) -> str:
    """A server reply as text."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _party_cell(document: Document, documents: DocumentSet) -> tuple[str, int | None, str]:
    """The Email cell of the document's recipient: where a refused address is reported."""
    is_payer = document.recipient_type == BillToType.PAYER
    party = (documents.book.payers if is_payer else documents.book.customers).get(document.recipient_id)
    return ("Payers" if is_payer else "Customers", party.row if party else None, "Email")


def _refused(document: Document, documents: DocumentSet, address: str, code: int, text: object) -> Problem:
    """The Problem of an address the mail server refused."""
    return error(f"the mail server refused {address} ({code} {_text(text)}): {document.key} was not sent; check "
                 "the address", *_party_cell(document, documents), code="recipient-refused")


@dataclass
class SendOutcome:
    """What ``send`` did, for a front end to present.

    Attributes:
        workbook: the workbook sent from.
        dry_run: nothing was sent or written; ``report.planned`` says what would have gone out.
        busy: another ``send`` held the workbook's lock, so nothing was done.
        report: what went out (``emailed``, ``letters``, ``planned``, ``print_file``), whether the Sent
            sheet was written (``log_written``), why the run stopped early (``stopped``) and the Problems.
    """

    workbook: Path
    dry_run: bool
    busy: bool = False
    report: SendReport = field(default_factory=SendReport)

    @property
    def problems(self) -> list[Problem]:
        """Everything that was wrong."""
        return self.report.problems

    @property
    def exit_code(self) -> int:
        """0 when everything due went out (or would have, in a dry run), 1 when something could not."""
        return 1 if self.busy else self.report.exit_code


def send_pending(workbook: Path, as_of: dt.date | None = None, dry_run: bool = False) -> SendOutcome:
    """Deliver every document of the workbook file the Sent sheet does not list yet (see the module docstring).

    :param as_of: the day of the run (default: the workbook's As Of setting, else today).
    :param dry_run: only say what would go out; nothing is sent or written.
    :raises sheetbill.problems.ConfigurationError: for broken configuration (nothing is sent).
    """
    from .io.xlsx import read_workbook

    sheets = read_workbook(workbook)
    documents = prepare(sheets, workbook, None, as_of)
    add_issued_statements(documents)
    day = as_of or documents.book.settings.as_of
    journal = Journal(documents.out_dir / JOURNAL_NAME)
    with contextlib.nullcontext(True) if dry_run else journal.locked() as ok:
        if not ok:
            return SendOutcome(workbook, dry_run, busy=True)
        log = read_sent(sheets)
        for record in journal.records():
            log.add(record)
        report = send_documents(documents, log, journal, day=day, dry_run=dry_run)
        if not dry_run:
            report.log_written, problem = fold_journal(workbook, log, journal)
            if problem:
                report.problems.append(problem)
    return SendOutcome(workbook, dry_run, report=report)
