"""The Sent log: which documents went out, kept exactly even when a run is cut short.

The **Sent** sheet (Document, Recipient, Channel, Address, Date, Message ID) is append-only history,
read back every run: a document listed there is never sent again (:mod:`sheetbill.sending`).

When the log is written, and why
    An .xlsx workbook can only be saved whole (the writer is atomic, but a save costs a full
    rewrite of the file, and fails while Excel has the workbook open). Saving it after every message
    would be slow, and a crash during a save could still lose the one fact that matters: that a
    message went out. So each accepted message is first recorded in a *journal*, one JSON line
    appended and fsynced to ``<workbook stem> documents/.sent-journal.jsonl`` the moment the mail
    server accepts it (letters when their print file is written). At the end of the run the journal
    is folded into the Sent sheet in one save and then removed. Every run reads the Sent sheet
    *and* any journal left over (after a crash, a dropped connection or a workbook that was open in
    Excel), so the log is exact whatever happened: a retry sends only what is missing.

    The one window no client can close: the server received a message but the connection dropped
    before its "250 OK" reached us. That message is not in the journal and is sent again on the
    retry, with the same Message-ID (it is derived from the document, its content and the address),
    so mail programs show it once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .cells import COERCERS, CellError, is_blank, normalize, to_text
from .continuations import merge_continuations
from .problems import Problem, error, warning
from .sheets import Column, OutputSheet, RawSheet

SENT_SHEET = "Sent"
#: The Sent sheet: append-only history of every document sent (add it to contract.HISTORY_SHEETS).
SENT_COLUMNS = (
    Column("Document", "text", 28), Column("Recipient", "text", 28), Column("Channel", "text", 9),
    Column("Address", "text", 44), Column("Date", "date", 12), Column("Message ID", "text", 60),
)
#: The journal's file name, in the documents folder.
JOURNAL_NAME = ".sent-journal.jsonl"


@dataclass(frozen=True)
class SentRecord:
    """One row of the Sent sheet: a document that went out, to whom, how and when."""

    document: str
    recipient: str
    channel: str
    address: str
    date: dt.date | None
    message_id: str

    def row(self) -> tuple:
        """The record as a Sent sheet row."""
        return (self.document, self.recipient, self.channel, self.address, self.date, self.message_id)

    def to_json(self) -> str:
        """One journal line."""
        data = dict(zip(("document", "recipient", "channel", "address", "date", "message_id"), self.row(),
                        strict=True))
        data["date"] = self.date.isoformat() if self.date else None
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> SentRecord:
        """A journal line back as a record (raises ``ValueError`` for a damaged line)."""
        data = json.loads(line)
        day = dt.date.fromisoformat(data["date"]) if data.get("date") else None
        return cls(str(data["document"]), str(data.get("recipient") or ""), str(data.get("channel") or ""),
                   str(data.get("address") or ""), day, str(data.get("message_id") or ""))


@dataclass
class SentLog:
    """The Sent sheet as read plus what the journal and this run added.

    ``rows`` keeps every row of the sheet as it was (a row someone damaged is kept, not dropped, and
    its document still counts as sent: sending it twice would be worse than a Problem).
    """

    rows: list[tuple] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    added: list[SentRecord] = field(default_factory=list)

    def __contains__(self, key: str) -> bool:
        return key in self.keys

    def add(self, record: SentRecord) -> None:
        """Count ``record`` as sent (it is written to the sheet by :meth:`output`)."""
        if record.document in self.keys:
            return
        self.keys.add(record.document)
        self.rows.append(record.row())
        self.added.append(record)

    def output(self) -> OutputSheet:
        """The whole Sent sheet to write back: the history, then this run's records."""
        return OutputSheet(SENT_SHEET, SENT_COLUMNS, list(self.rows))


def read_sent(sheets: Mapping[str, RawSheet]) -> SentLog:
    """The Sent sheet (and its continuation sheets) as a :class:`SentLog`."""
    log = SentLog()
    sheet = merge_continuations(dict(sheets), SENT_SHEET)
    if sheet is None or not sheet.rows:
        return log
    header = [normalize(cell) for cell in sheet.rows[0]]
    index = {normalize(c.header): header.index(normalize(c.header)) for c in SENT_COLUMNS
             if normalize(c.header) in header}
    if "document" not in index:
        log.problems.append(error("the Sent sheet has no Document column: it is written by sheetbill, undo the edit "
                                  "(nothing is sent until it is fixed)", SENT_SHEET, sheet.first_row, "Document",
                                  code="edited-history"))
        log.keys.add("\0unreadable")
        return log
    for offset, cells in enumerate(sheet.rows[1:], start=1):
        def cell(name: str, cells=cells):
            position = index.get(name)
            return cells[position] if position is not None and position < len(cells) else None

        if all(is_blank(c) for c in cells):
            continue
        document = cell("document")
        row_no = sheet.first_row + offset
        if is_blank(document):
            log.problems.append(warning("a Sent row without a Document (this sheet is written by sheetbill: undo "
                                        "the edit)", SENT_SHEET, row_no, "Document", code="edited-history"))
            continue
        day = cell("date")
        try:
            day = None if is_blank(day) else COERCERS["date"](day)
        except CellError:
            log.problems.append(warning(f"Date {to_text(day)!r} is not a date (this sheet is written by sheetbill)",
                                        SENT_SHEET, row_no, "Date", code="edited-history"))
            day = to_text(day)
        values = [to_text(document), *(None if is_blank(cell(n)) else to_text(cell(n))
                                       for n in ("recipient", "channel", "address")), day,
                  None if is_blank(cell("messageid")) else to_text(cell("messageid"))]
        log.keys.add(values[0])
        log.rows.append(tuple(values))
    return log


class Journal:
    """The sidecar journal: one fsynced JSON line per document sent, until folded into the Sent sheet."""

    def __init__(self, path: Path):
        self.path = path

    def records(self) -> list[SentRecord]:
        """The records of a journal left by an earlier run (a line cut off by a crash is skipped)."""
        if not self.path.exists():
            return []
        records = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    records.append(SentRecord.from_json(line))
        return records

    def append(self, record: SentRecord) -> None:
        """Record ``record`` durably before anything else happens."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as stream:
            stream.write(record.to_json() + "\n")
            stream.flush()
            os.fsync(stream.fileno())

    def clear(self) -> None:
        """Remove the journal once its records are in the Sent sheet."""
        self.path.unlink(missing_ok=True)

    @contextlib.contextmanager
    def locked(self) -> Iterator[bool]:
        """Hold an exclusive lock for the run (True), or yield False when another ``send`` holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(".send.lock")
        with open(lock_path, "a+") as handle:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows: no advisory lock, one clerk sends at a time
                yield True
                return
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def fold_journal(workbook: Path, log: SentLog, journal: Journal, writer=None) -> tuple[bool, Problem | None]:
    """Write the Sent sheet (history plus this run) into the workbook, then remove the journal.

    Returns whether the sheet was written and, when the workbook could not be written (open in
    Excel), a Problem; the journal then stays and the next run folds it in.
    """
    if not log.added and not journal.path.exists():
        return False, None
    if writer is None:
        from .io.xlsx import write_output_sheets as writer
    from .files import workbook_lock

    try:
        with workbook_lock(workbook, wait=30):  # a billing run on the workbook finishes first
            writer(workbook, [log.output()])
    except Exception as err:  # locked or unwritable: the journal keeps the record until the next run
        return False, warning(f"the Sent sheet could not be written ({err}); what was sent is kept in "
                              f"{journal.path} and written at the next send", SENT_SHEET, code="sent-not-written")
    journal.clear()
    return True, None
