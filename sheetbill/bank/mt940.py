"""Reader for SWIFT MT940 account statements, including the German ``:86:`` structure.

A file may hold several statements, each ended by a line ``-``. Fields start with a tag at the
beginning of a line (``:20:``, ``:25:``, ``:28C:``, ``:60F:``, ``:61:``, ``:86:``, ``:62F:``...); any
other line continues the field before it. Header lines before the first tag (SWIFT or bank headers)
are skipped.

``:61:`` (statement line): value date ``YYMMDD``, optional entry date ``MMDD`` (its year is the value
date's, moved across the turn of the year when needed), the mark ``C``/``D`` or the reversals ``RC``
(negative) and ``RD`` (positive), an optional funds code, the amount with a decimal comma
(``15000,``), the transaction type (``NTRF``), the customer reference and, after ``//``, the bank
reference.

``:86:`` after a ``:61:`` describes that entry. The German form (DK/ZKA) is a three-digit business
transaction code followed by subfields ``?NN``; lines are wrapped at a fixed width, so they are joined
without a separator. Read from it: ``?00`` posting text, ``?20``-``?29`` purpose, ``?30`` bank code or
BIC, ``?31`` account or IBAN, ``?32``/``?33`` name. The purpose may carry SEPA keywords (``EREF+``,
``MREF+``, ``CRED+``, ``SVWZ+``...); then the text after ``SVWZ+`` is the purpose and ``EREF+`` the
end-to-end id, each running to the next keyword, and text before the first keyword is dropped. Any
other ``:86:`` is free text, kept with its line breaks. A ``:86:`` that follows no ``:61:`` (after the
closing balance) is statement information, not part of an entry.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from sheetbill.bank.entries import (
    BOOKED,
    BankEntry,
    Statement,
    StatementError,
    looks_like_iban,
    real_reference,
    with_entry_ids,
)

_TAG = re.compile(r"^:(\d{2}[A-Z]?):(.*)$")
_LINE = re.compile(
    r"^(?P<value>\d{6})(?P<entry>\d{4})?(?P<mark>RC|RD|C|D)(?P<funds>[A-Z])?(?P<amount>\d[\d,]*)"
    r"(?P<type>[NSF][A-Z0-9]{3})(?P<customer>.*?)(?://(?P<bank>[^\n]*))?(?:\n(?P<extra>.*))?$",
    re.DOTALL,
)
_BALANCE = re.compile(r"^(?P<mark>[CD])(?P<date>\d{6})(?P<currency>[A-Z]{3})(?P<amount>\d[\d,]*)")
_SUBFIELD = re.compile(r"\?(\d{2})")
_KEYWORD = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|IBAN|BIC|COAM|OAMT|SQTP|PURP)\+")
_PURPOSE = tuple(str(n) for n in range(20, 30))


@dataclass
class _Message:
    """The fields of one statement in file order: ``(tag, text)``."""

    fields: list[tuple[str, str]] = field(default_factory=list)


def looks_like_mt940(text: str) -> bool:
    """True when ``text`` has the tags of an MT940 statement."""
    return bool(re.search(r"^:20:", text, re.M)) and bool(re.search(r"^:(25|60[FM]|61):", text, re.M))


def decode(data: bytes) -> str:
    """The text of an MT940 file: UTF-8 when it decodes as such, else Windows-1252 (German banks)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def read_mt940(data: bytes) -> list[Statement]:
    """Every statement in the MT940 file ``data``."""
    return [_statement(message) for message in _messages(decode(data)) if message.fields]


def _messages(text: str) -> list[_Message]:
    """Split ``text`` into statements and fields; continuation lines are kept with ``\\n``."""
    messages = [_Message()]
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if line.strip() in ("-", "-}"):
            messages.append(_Message())
            continue
        match = _TAG.match(line)
        current = messages[-1].fields
        if match:
            current.append((match.group(1), match.group(2)))
        elif current:
            tag, value = current[-1]
            current[-1] = (tag, f"{value}\n{line}")
    return messages


def _statement(message: _Message) -> Statement:
    header: dict[str, str] = {}
    information: list[str] = []
    lines: list[tuple[str, str | None]] = []
    previous = ""
    for tag, value in message.fields:
        if tag == "61":
            lines.append((value, None))
        elif tag == "86" and previous == "61":
            lines[-1] = (lines[-1][0], value)
        elif tag == "86":
            information.append(value.strip())
        else:
            # The first of a kind counts: an intermediate :62M: must not hide the final :62F:'s absence.
            header.setdefault(tag[:2], value.strip())
        previous = tag
    opening = _balance(header.get("60"))
    closing = _balance(header.get("62"))
    currency = (opening or closing or (None, "EUR"))[1]
    account = header.get("25")
    entries = [_entry(line, details, currency) for line, details in lines]
    number = header.get("28")
    return Statement(
        format="MT940", account_iban=account if looks_like_iban(account) else None, account=account,
        statement_id="/".join(p for p in (header.get("20"), number) if p) or None, currency=currency,
        opening_balance=opening[0] if opening else None, closing_balance=closing[0] if closing else None,
        information="\n".join(information) or None, entries=with_entry_ids(account, entries),
    )


def _balance(value: str | None) -> tuple[Decimal, str] | None:
    """``C170914EUR12345,12`` -> ``(Decimal('12345.12'), 'EUR')``."""
    if not value:
        return None
    match = _BALANCE.match(value)
    if not match:
        raise StatementError(f"not an MT940 balance: {value!r}")
    amount = _amount(match.group("amount"))
    return (-amount if match.group("mark") == "D" else amount), match.group("currency")


def _entry(line: str, details: str | None, currency: str) -> BankEntry:
    match = _LINE.match(line)
    if not match:
        raise StatementError(f"not an MT940 statement line (:61:): {line!r}")
    value_date = _date(match.group("value"))
    amount = _amount(match.group("amount"))
    mark = match.group("mark")
    if mark in ("D", "RC"):
        amount = -amount
    fields = _details(details) if details is not None else {}
    return BankEntry(
        amount=amount, currency=currency, booking_date=_entry_date(value_date, match.group("entry")),
        value_date=value_date, bank_reference=real_reference(match.group("bank")),
        status=BOOKED, **({"transaction_code": match.group("type")} | fields),
    )


def _details(text: str) -> dict:
    """The BankEntry fields in a ``:86:`` text (German subfields, or free text)."""
    if not re.match(r"^\d{3}\?", text):
        return {"purpose": text.strip() or None}
    joined = text.replace("\n", "")
    code, rest = joined[:3], joined[3:]
    parts: dict[str, str] = {}
    pieces = _SUBFIELD.split(rest)
    for number, value in zip(pieces[1::2], pieces[2::2], strict=True):
        parts[number] = parts.get(number, "") + value
    purpose = "".join(parts.get(n, "") for n in _PURPOSE)
    sepa = _sepa_keywords(purpose)
    name = parts.get("32", "") + parts.get("33", "")
    bank = parts.get("30") or None
    return {
        "transaction_code": code,
        "additional_info": parts.get("00") or None,
        "purpose": (sepa.get("SVWZ") if sepa else purpose) or None,
        "end_to_end_id": _as_written(sepa.get("EREF")),
        "mandate_id": (sepa.get("MREF") or "").strip() or None,
        "creditor_id": (sepa.get("CRED") or "").strip() or None,
        "counterparty_name": name or None,
        "counterparty_iban": parts.get("31") or (sepa.get("IBAN") or "").strip() or None,
        "counterparty_bic": bank if bank and not bank.isdigit() else None,
    }


def _sepa_keywords(text: str) -> dict[str, str]:
    """``EREF+a SVWZ+b`` -> ``{"EREF": "a ", "SVWZ": "b"}``; empty when ``text`` has no keyword."""
    pieces = _KEYWORD.split(text)
    return {key: value for key, value in zip(pieces[1::2], pieces[2::2], strict=True)}


def _as_written(value: str | None) -> str | None:
    """``value`` unchanged (leading spaces are part of what the payer wrote), ``None`` for a placeholder."""
    return value if real_reference(value) else None


def _amount(text: str) -> Decimal:
    """``15000,`` -> ``Decimal('15000')``; MT940 writes a decimal comma and no thousands separator."""
    whole, _, cents = text.partition(",")
    return Decimal(f"{whole or '0'}.{cents or '0'}")


def _date(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%y%m%d").date()
    except ValueError as exc:
        raise StatementError(f"not an MT940 date: {text!r}") from exc


def _entry_date(value_date: dt.date, text: str | None) -> dt.date | None:
    """The entry (booking) date ``MMDD`` in the year that puts it nearest the value date."""
    if not text:
        return None
    month, day = int(text[:2]), int(text[2:])
    candidates = []
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidates.append(dt.date(year, month, day))
        except ValueError:
            continue
    if not candidates:
        raise StatementError(f"not an MT940 entry date: {text!r}")
    return min(candidates, key=lambda day_: abs((day_ - value_date).days))
