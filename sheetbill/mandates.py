"""SEPA direct-debit mandates and the debits sent under them, as the run reads them.

The Mandates sheet is typed by staff; the Debits sheet is written by ``sheetbill debit`` (a row per
item sent) and updated by ``sheetbill import-bank`` (collected, or returned with its reason and fee).
This module reads both into typed records and answers the questions every stage asks: which mandate
a customer is debited under (:func:`mandate_of`), which items have a debit pending
(:func:`pending_items`), and which mandates a return has ended (:data:`REVOKING_REASONS`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import contract_bank, wording
from .bank.references import electronic_iban, iban_fault
from .bank.target_days import next_target_day
from .i18n import Msg, msg
from .models import Advice
from .problems import Problem, error, warning
from .sheets import RawSheet
from .tables import find_sheet, read_table

#: Return reasons after which a mandate is no longer used: account closed (AC04), no mandate (MD01),
#: account blocked for direct debit (AC06), debtor deceased (MD07).
REVOKING_REASONS = frozenset({"AC04", "AC06", "MD01", "MD07"})
PENDING, COLLECTED, RETURNED = "pending", "collected", "returned"
#: The shortest pre-notification accepted: a CORE or B2B file must reach the bank one banking day
#: before the collection date, so the notice cannot be shorter than two days.
MIN_LEAD_DAYS = 2
DEFAULT_LEAD_DAYS = 14


@dataclass(frozen=True, slots=True)
class Mandate:
    """A row of Mandates (IBAN compacted, Scheme and Status with their defaults)."""

    mandate_id: str
    customer_id: str
    iban: str
    signed_on: dt.date
    bic: str | None = None
    scheme: str = "CORE"
    status: str = "active"
    last_used: dt.date | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class Debit:
    """A row of Debits: one invoice (or installment) sent for debit."""

    collection_date: dt.date
    invoice_no: str
    mandate_id: str
    amount: Decimal
    end_to_end_id: str
    installment: int | None = None
    file: str | None = None
    status: str = PENDING
    sequence: str | None = None
    customer_id: str | None = None
    return_reason: str | None = None
    returned_on: dt.date | None = None
    return_fee: Decimal | None = None
    row: int = 0


def _mandate(**values: Any) -> Mandate:
    values["iban"] = electronic_iban(values["iban"])
    values["scheme"] = values.get("scheme") or "CORE"
    values["status"] = values.get("status") or "active"
    return Mandate(**values)


def _debit(**values: Any) -> Debit:
    values["status"] = values.get("status") or PENDING
    return Debit(**values)


def read_mandates(sheets: Mapping[str, RawSheet], customers: Mapping[str, object], as_of: dt.date,
                  problems: list[Problem]) -> list[Mandate]:
    """The usable Mandates rows: a bad IBAN or an unknown customer skips the row, with a Problem."""
    records, found = read_table(find_sheet(sheets, contract_bank.MANDATES), contract_bank.MANDATES, _mandate)
    problems += found
    kept = []
    for mandate in records:
        why = iban_reason(mandate.iban)
        if why:
            problems.append(error(msg("IBAN {iban} {why}", iban=repr(mandate.iban), why=why), "Mandates", mandate.row,
                                  "IBAN", code="bad-iban"))
        elif mandate.customer_id not in customers:
            problems.append(error(f"unknown customer {mandate.customer_id!r}", "Mandates", mandate.row,
                                  "Customer ID", code="unknown-customer"))
        else:
            if mandate.signed_on > as_of:
                problems.append(warning(f"signed on {mandate.signed_on.isoformat()}, after the as-of date: not "
                                        "used before then", "Mandates", mandate.row, "Signed On",
                                        code="mandate-not-yet-signed"))
            kept.append(mandate)
    return kept


def iban_reason(iban: str) -> Msg | None:
    """Why ``iban`` is not a valid IBAN (:func:`sheetbill.bank.references.iban_fault`), as a message in
    the workbook's language, or ``None`` when it is valid."""
    fault = iban_fault(iban)
    if fault is None:
        return None
    if fault.kind == "shape":
        return msg("is not an IBAN: two letters, two check digits, then the account number "
                   "(e.g. DE89 3704 0044 0532 0130 00)")
    if fault.kind == "length":
        return msg("has {length} characters; an IBAN from {country} has {expected}", length=fault.length,
                   country=fault.country, expected=fault.expected)
    return msg("fails the IBAN check digits (a typo or two swapped digits?)")


def read_debits(sheets: Mapping[str, RawSheet], problems: list[Problem]) -> list[Debit]:
    """The Debits rows (sheetbill's own; a row someone broke is reported and left out)."""
    records, found = read_table(find_sheet(sheets, contract_bank.DEBITS), contract_bank.DEBITS, _debit)
    problems += found
    return records


def revoked_mandates(debits: list[Debit]) -> set[str]:
    """Mandates a return ended (:data:`REVOKING_REASONS`)."""
    return {d.mandate_id for d in debits if d.status == RETURNED and (d.return_reason or "")[:4] in REVOKING_REASONS}


def mandate_of(customer_id: str, mandates: list[Mandate], debits: list[Debit], day: dt.date) -> Mandate | None:
    """The mandate ``customer_id`` is debited under on ``day``: the latest signed active one that no
    return has ended; ``None`` when there is none."""
    ended = revoked_mandates(debits)
    usable = [m for m in mandates if m.customer_id == customer_id and m.status == "active"
              and m.signed_on <= day and m.mandate_id not in ended]
    return max(usable, key=lambda m: (m.signed_on, m.row)) if usable else None


def pending_items(debits: list[Debit]) -> dict[tuple[str, int | None], Debit]:
    """The items with a debit sent and neither collected nor returned, by (invoice no, installment)."""
    return {(d.invoice_no, d.installment): d for d in debits if d.status == PENDING}


def debit_advice(debits: list[Debit], currency: str) -> list[Advice]:
    """Advice for every returned debit: the item is open again, the fee, and a mandate that ended."""
    ended = revoked_mandates(debits)
    return [Advice(d.customer_id or "", d.invoice_no, "Returned debit",
                   wording.debit_returned(d.invoice_no, d.return_reason or "no reason given",
                                          d.return_fee or Decimal(0), currency,
                                          d.mandate_id if d.mandate_id in ended else None))
            for d in debits if d.status == RETURNED]


def lead_days(extra: Mapping[str, object], rows: Mapping[str, int], problems: list[Problem]) -> int:
    """Settings Debit Lead Days (default 14); below :data:`MIN_LEAD_DAYS` or not a number is a Problem."""
    raw = extra.get("debitleaddays")
    if raw is None or str(raw).strip() == "":
        return DEFAULT_LEAD_DAYS
    try:
        days = int(float(str(raw).strip()))
    except ValueError:
        problems.append(warning(f"Debit Lead Days {raw!r} is not a number of days; {DEFAULT_LEAD_DAYS} is used",
                                "Settings", rows.get("debitleaddays"), "Value", code="bad-setting"))
        return DEFAULT_LEAD_DAYS
    if days < MIN_LEAD_DAYS:
        problems.append(warning(f"Debit Lead Days {days} is shorter than a debit can be announced; {MIN_LEAD_DAYS} "
                                "is used", "Settings", rows.get("debitleaddays"), "Value", code="bad-setting"))
        return MIN_LEAD_DAYS
    return days


def debit_date(issue_date: dt.date, due_date: dt.date, days: int) -> dt.date:
    """The day an item is debited, as the invoice announces it: its due date, but not before the
    pre-notification period (``days`` after the issue date) is over, moved to the next TARGET day
    when it is a weekend or TARGET holiday (:func:`sheetbill.bank.target_days.next_target_day`)."""
    return next_target_day(max(due_date, issue_date + dt.timedelta(days=days)))


def masked_iban(iban: str) -> str:
    """An IBAN for print with all but its country, check digits and last four characters hidden:
    ``DE02 **** **** **** **20 51``."""
    value = electronic_iban(iban)
    hidden = value[:4] + "*" * (len(value) - 8) + value[-4:]
    return " ".join(hidden[i:i + 4] for i in range(0, len(hidden), 4))
