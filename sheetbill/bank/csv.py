"""Readers for bank CSV exports: the savings banks' "CSV-CAMT" layout, and any other bank by a column map.

**CSV-CAMT** is what German savings banks (Sparkasse) offer for download in online banking: semicolon
separated, every value quoted, dates ``dd.mm.yy``, amounts with a decimal comma, Windows-1252 (newer
exports UTF-8), and one header line naming 17 columns. Read from it: ``Auftragskonto`` (the account),
``Buchungstag``, ``Valutadatum``, ``Buchungstext`` (posting text), ``Verwendungszweck`` (purpose),
``Glaeubiger ID``, ``Mandatsreferenz``, ``Kundenreferenz (End-to-End)``,
``Beguenstigter/Zahlungspflichtiger`` (the other party), ``Kontonummer/IBAN``, ``BIC (SWIFT-Code)``,
``Betrag``, ``Waehrung`` and ``Info`` (``Umsatz gebucht`` = booked, ``Umsatz vorgemerkt`` = pending).
Columns are found by name, so their order does not matter. Rows of several accounts become one
statement per account.

**Any other bank**: describe the columns with a :class:`ColumnMapping` (which header names hold the
date, amount, name, IBAN and purpose; the date format; decimal comma or point; the encoding).

Values are kept as the bank wrote them, padding included; an empty value becomes ``None``.
"""

from __future__ import annotations

import csv as _csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sheetbill.bank.entries import (
    BOOKED,
    PENDING,
    BankEntry,
    Statement,
    StatementError,
    looks_like_iban,
    with_entry_ids,
)

#: The columns that identify a CSV-CAMT export.
SPARKASSE_COLUMNS = ("Auftragskonto", "Buchungstag", "Valutadatum", "Verwendungszweck",
                     "Beguenstigter/Zahlungspflichtiger", "Betrag")
_STATUS = {"umsatz gebucht": BOOKED, "umsatz vorgemerkt": PENDING}


@dataclass(frozen=True)
class ColumnMapping:
    """Where a bank's CSV export keeps each value, by header name.

    Attributes:
        date: the booking date column.
        amount: the signed amount column (credits positive).
        name: the other party's name.
        iban: the other party's IBAN or account number.
        purpose: the remittance text.
        value_date: the value date column, if any.
        currency: the currency column, if any; otherwise every row is in ``default_currency``.
        end_to_end_id: the end-to-end reference column, if any.
        date_format: ``strptime`` format of the dates (``%d.%m.%Y``).
        decimal_comma: True for ``1.234,56``, False for ``1,234.56``.
        encoding: the file's encoding (``utf-8``, ``cp1252``); a UTF-8 byte-order mark is ignored.
        delimiter: the field separator.
        skip_lines: lines before the header line (some banks print the account and period there).
        default_currency: the currency when there is no currency column.
        account: the account the file belongs to, for :attr:`Statement.account` and entry ids.
    """

    date: str
    amount: str
    name: str | None = None
    iban: str | None = None
    purpose: str | None = None
    value_date: str | None = None
    currency: str | None = None
    end_to_end_id: str | None = None
    date_format: str = "%d.%m.%Y"
    decimal_comma: bool = True
    encoding: str = "utf-8"
    delimiter: str = ";"
    skip_lines: int = 0
    default_currency: str = "EUR"
    account: str | None = None


def decode(data: bytes) -> str:
    """The text of a German bank CSV: UTF-8 (with or without byte-order mark), else Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def looks_like_sparkasse(text: str) -> bool:
    """True when the first line of ``text`` is a CSV-CAMT header."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return ";" in first and all(f'"{name}"' in first or name in first.split(";") for name in SPARKASSE_COLUMNS)


def read_sparkasse_csv(data: bytes) -> list[Statement]:
    """The statements (one per account) of a Sparkasse CSV-CAMT export."""
    header, rows = _rows(decode(data), ";")
    missing = [c for c in SPARKASSE_COLUMNS if c not in header]
    if missing:
        raise StatementError(f"not a CSV-CAMT export (missing columns: {', '.join(missing)})")
    by_account: dict[str, list[BankEntry]] = {}
    for number, row in enumerate(rows, start=2):
        entry = BankEntry(
            amount=_amount(row["Betrag"], True, number),
            currency=_value(row, "Waehrung") or "EUR",
            booking_date=_date(row["Buchungstag"], "%d.%m.%y", number),
            value_date=_date(row.get("Valutadatum"), "%d.%m.%y", number),
            counterparty_name=_value(row, "Beguenstigter/Zahlungspflichtiger"),
            counterparty_iban=_value(row, "Kontonummer/IBAN"),
            counterparty_bic=_value(row, "BIC (SWIFT-Code)"),
            purpose=_value(row, "Verwendungszweck"),
            end_to_end_id=_value(row, "Kundenreferenz (End-to-End)"),
            mandate_id=_value(row, "Mandatsreferenz"),
            creditor_id=_value(row, "Glaeubiger ID"),
            additional_info=_value(row, "Buchungstext"),
            status=_STATUS.get((row.get("Info") or "").strip().lower(), _value(row, "Info")),
        )
        by_account.setdefault(row["Auftragskonto"].strip(), []).append(entry)
    return [
        Statement(format="CSV-CAMT", account=account, account_iban=account if looks_like_iban(account) else None,
                  currency=entries[0].currency, entries=with_entry_ids(account, entries))
        for account, entries in by_account.items()
    ]


def read_mapped_csv(data: bytes, mapping: ColumnMapping) -> list[Statement]:
    """The one statement of a CSV export described by ``mapping``."""
    try:
        text = data.decode(mapping.encoding).lstrip("\ufeff")
    except (UnicodeDecodeError, LookupError) as exc:
        raise StatementError(f"the file is not {mapping.encoding}: {exc}") from exc
    text = "\n".join(text.splitlines()[mapping.skip_lines:])
    header, rows = _rows(text, mapping.delimiter)
    wanted = [c for c in (mapping.date, mapping.amount, mapping.name, mapping.iban, mapping.purpose,
                          mapping.value_date, mapping.currency, mapping.end_to_end_id) if c]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise StatementError(f"the CSV has no column {', '.join(repr(c) for c in missing)}")
    entries = [_mapped_entry(row, mapping, number) for number, row in enumerate(rows, start=mapping.skip_lines + 2)]
    return [Statement(format="CSV", account=mapping.account,
                      account_iban=mapping.account if looks_like_iban(mapping.account) else None,
                      currency=entries[0].currency if entries else mapping.default_currency,
                      entries=with_entry_ids(mapping.account, entries))]


def _mapped_entry(row: dict[str, str], mapping: ColumnMapping, number: int) -> BankEntry:
    def get(column: str | None) -> str | None:
        return _value(row, column) if column else None

    return BankEntry(
        amount=_amount(row[mapping.amount], mapping.decimal_comma, number),
        currency=get(mapping.currency) or mapping.default_currency,
        booking_date=_date(row[mapping.date], mapping.date_format, number),
        value_date=_date(get(mapping.value_date), mapping.date_format, number),
        counterparty_name=get(mapping.name),
        counterparty_iban=get(mapping.iban),
        purpose=get(mapping.purpose),
        end_to_end_id=get(mapping.end_to_end_id),
        status=BOOKED,
    )


def _rows(text: str, delimiter: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header names and the data rows of ``text`` (rows as dicts by header name); blank lines are skipped."""
    reader = _csv.DictReader(io.StringIO(text), delimiter=delimiter)
    rows = [row for row in reader if any(isinstance(v, str) and v.strip() for v in row.values())]
    return list(reader.fieldnames or []), rows


def _value(row: dict[str, str], column: str) -> str | None:
    value = row.get(column)
    return value if value and value.strip() else None


def _amount(text: str, decimal_comma: bool, number: int) -> Decimal:
    """``-1.234,56`` (decimal comma) or ``-1,234.56`` as a Decimal."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    cleaned = cleaned.replace(".", "").replace(",", ".") if decimal_comma else cleaned.replace(",", "")
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:
        raise StatementError(f"line {number}: not an amount: {text!r}") from exc


def _date(text: str | None, fmt: str, number: int) -> dt.date | None:
    if not text or not text.strip():
        return None
    try:
        return dt.datetime.strptime(text.strip(), fmt).date()
    except ValueError as exc:
        raise StatementError(f"line {number}: not a date in the form {fmt}: {text!r}") from exc
