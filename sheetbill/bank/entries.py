"""The records every statement reader returns: :class:`BankEntry` and :class:`Statement`.

A bank entry is one movement on the account as the bank reports it: a signed amount (credits
positive, debits negative, always ``Decimal``), its dates, the other party, and the references that
let the money be matched to an invoice. Readers fill what their format carries and leave the rest
``None``; values are kept as the bank wrote them (no trimming of padded names), so what is shown to a
clerk is what the bank statement says.

Each entry carries an ``entry_id`` that stays the same when the same file, or an overlapping later
statement of the same format, is read again, so an import can skip what it has seen. It is built by
:func:`entry_id` from the bank's own reference for the entry when there is one; otherwise from a hash
of the account, dates, amount, counterparty and purpose, with a running number for entries that are
identical in all of these (two equal payments on one day stay two entries).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from sheetbill.records import builder

#: References that banks write where they have none; they identify nothing.
NO_REFERENCE = frozenset({"", "NONREF", "NOTPROVIDED", "NOT PROVIDED"})

#: Entry status codes used on :attr:`BankEntry.status` (ISO 20022 ``Sts``).
BOOKED, PENDING, INFORMATION = "BOOK", "PDNG", "INFO"


class StatementError(ValueError):
    """A statement file cannot be read: unknown format, hostile or broken XML, a malformed line."""


@dataclass(frozen=True, slots=True)
class BankEntry:
    """One movement on the account, as reported by the bank.

    Attributes:
        amount: signed amount; a credit (money in) is positive, a debit negative.
        currency: ISO 4217 code (``EUR``).
        booking_date: the day the bank booked the entry, ``None`` when the file does not say.
        value_date: the day the amount counts for interest, ``None`` when the file does not say.
        counterparty_name: the other party: the debtor of a credit, the creditor of a debit.
        counterparty_iban: the other party's account as given (an IBAN, or a national account
            number on bank-internal entries).
        counterparty_bic: the other party's bank (BIC), if given.
        purpose: the unstructured remittance text (camt ``RmtInf/Ustrd``, MT940 ``SVWZ+`` or
            ``?20``-``?29``, the CSV ``Verwendungszweck``).
        structured_reference: the structured creditor reference (``RmtInf/Strd/CdtrRefInf/Ref``;
            an ISO 11649 ``RF..`` reference or a national one).
        end_to_end_id: the payer's end-to-end reference (``EndToEndId``, MT940 ``EREF+``).
        bank_reference: the bank's own reference for the entry (``AcctSvcrRef``, the MT940 bank
            reference after ``//``).
        transaction_code: the bank transaction code (``PMNT-RCDT-ESCT``, a proprietary code, or the
            MT940 business transaction code such as ``166``).
        return_reason: the reason code of a returned or refunded payment (``AC04``, ``MD06``...).
        status: ``BOOK`` (booked), ``PDNG`` (pending) or ``INFO``, or the bank's own word.
        mandate_id: the SEPA mandate reference of a direct debit, if given.
        creditor_id: the SEPA creditor identifier of a direct debit, if given.
        additional_info: the bank's posting text or additional entry information
            (``AddtlNtryInf``, MT940 ``?00``, CSV ``Buchungstext``).
        entry_id: stable identifier of this entry (see :func:`entry_id`).
    """

    amount: Decimal
    currency: str
    booking_date: dt.date | None = None
    value_date: dt.date | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    counterparty_bic: str | None = None
    purpose: str | None = None
    structured_reference: str | None = None
    end_to_end_id: str | None = None
    bank_reference: str | None = None
    transaction_code: str | None = None
    return_reason: str | None = None
    status: str | None = None
    mandate_id: str | None = None
    creditor_id: str | None = None
    additional_info: str | None = None
    entry_id: str = ""

    @property
    def is_credit(self) -> bool:
        """True for money in."""
        return self.amount > 0


#: Builds a :class:`BankEntry` as ``BankEntry(...)`` does, at the price of an unfrozen class
#: (:func:`sheetbill.records.builder`): a statement can hold 10,000s of entries.
new_entry = builder(BankEntry)
_ENTRY_FIELDS = tuple(fld.name for fld in fields(BankEntry) if fld.name != "entry_id")


@dataclass(frozen=True)
class Statement:
    """One statement, report or notification of one account, with its entries in file order.

    Attributes:
        format: what it was read from (``camt.053.001.02``, ``MT940``, ``CSV-CAMT``, ``CSV``).
        account_iban: the account's IBAN, ``None`` when the file names the account otherwise.
        account: the account as the file names it (an IBAN, or bank code/account number).
        statement_id: the statement's own identifier (camt ``Id``, MT940 ``:20:``/``:28C:``).
        currency: the account currency, if stated.
        opening_balance: signed opening balance, if present.
        closing_balance: signed closing (booked) balance, if present.
        information: statement-level free text (MT940 ``:86:`` after the closing balance).
        entries: the entries.
    """

    format: str
    account_iban: str | None = None
    account: str | None = None
    statement_id: str | None = None
    currency: str | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    information: str | None = None
    entries: tuple[BankEntry, ...] = field(default_factory=tuple)


def real_reference(value: str | None) -> str | None:
    """``value`` stripped, or ``None`` when it is empty or a placeholder such as ``NONREF``."""
    if value is None:
        return None
    text = value.strip()
    return None if text.upper() in NO_REFERENCE else text


def entry_id(account: str | None, entry: BankEntry | dict[str, Any]) -> str:
    """The identifier of ``entry`` on ``account``: ``<account>:ref:<bank reference>`` or a content hash.

    The hash form, ``<account>:h:<20 hex digits>``, covers account, currency, both dates, amount,
    counterparty name and account, end-to-end id and purpose. :func:`with_entry_ids` adds the
    running number that keeps identical entries apart. ``entry`` may also be the fields a BankEntry
    is about to be built from (a field left out is None, as in the BankEntry).
    """
    value_of = entry.get if isinstance(entry, dict) else entry.__getattribute__
    prefix = (account or "").replace(" ", "")
    reference = real_reference(value_of("bank_reference"))
    if reference:
        return f"{prefix}:ref:{reference}"
    parts = (
        prefix, value_of("currency"), _iso(value_of("booking_date")), _iso(value_of("value_date")),
        str(value_of("amount")), value_of("counterparty_name") or "", value_of("counterparty_iban") or "",
        value_of("end_to_end_id") or "", value_of("purpose") or "", value_of("structured_reference") or "",
    )
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:20]
    return f"{prefix}:h:{digest}"


def with_entry_ids(account: str | None, entries: list[BankEntry]) -> tuple[BankEntry, ...]:
    """``entries`` with :attr:`BankEntry.entry_id` filled in; repeats get ``#2``, ``#3``... in file order.

    An entry whose ``entry_id`` is already set (a reader that knows better, e.g. a batch split into
    its transactions) keeps it, apart from the running number.
    """
    result = []
    for entry, ident in zip(entries, _running(entry.entry_id or entry_id(account, entry) for entry in entries),
                            strict=True):
        if ident != entry.entry_id:
            entry = new_entry(**{name: getattr(entry, name) for name in _ENTRY_FIELDS}, entry_id=ident)
        result.append(entry)
    return tuple(result)


def built_with_ids(account: str | None, described: list[dict[str, Any]]) -> tuple[BankEntry, ...]:
    """The entries ``described`` (each the fields of a BankEntry, with ``entry_id`` when the reader
    knows better), each built once with the id :func:`with_entry_ids` would give it (a reader of
    10,000s of entries need not build each twice). The dictionaries get their ``entry_id``."""
    ids = _running(values.get("entry_id") or entry_id(account, values) for values in described)
    result = []
    for values, ident in zip(described, ids, strict=True):
        values["entry_id"] = ident
        result.append(new_entry(**values))
    return tuple(result)


def _running(bases: Iterable[str]) -> list[str]:
    """Each id of ``bases``, and for its second, third... occurrence the id with ``#2``, ``#3``..."""
    seen: Counter[str] = Counter()
    result = []
    for base in bases:
        seen[base] += 1
        result.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
    return result


def looks_like_iban(value: str | None) -> bool:
    """True when ``value`` has the shape of an IBAN (no check-digit test: readers keep what banks write)."""
    return bool(value) and re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", value.replace(" ", "")) is not None


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""
