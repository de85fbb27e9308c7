"""What a bank statement says about the direct debits sent: collections confirmed, debits returned.

:class:`DebitTracker` holds the Debits rows during an import (:mod:`sheetbill.bank_import`):

* a credit that carries the End-to-End ID of a pending debit, or a direct-debit batch credit whose
  amount is the sum of the pending debits of one file (or one collection date), confirms them: each
  becomes ``collected`` and is posted to Bank Payments (rule ``direct debit``), which is when the
  item counts as paid;
* a returned debit (an R-transaction: a debit entry with a return reason, or with the bank
  transaction code of a returned or reversed direct debit) that names a debit's End-to-End ID makes
  it ``returned`` with the reason code, the day and the bank's return charge (the part of the return
  above the debit's amount, else Settings Return Debit Fee). A return of a debit that was already
  posted as collected is posted as a negative Bank Payments row of type ``Returned Debit``, which
  reopens the item; the fee is booked on the invoice as a Return Fee. A return for a closed
  account or a missing mandate (AC04, MD01, ...) ends the mandate. Each return is Advice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from .bank.entries import BankEntry
from .bank.matching import Allocation, Match
from .bank.references import normalize
from .mandates import COLLECTED, PENDING, RETURNED, REVOKING_REASONS, Debit

DIRECT_DEBIT = "direct debit"
RETURNED_DEBIT = "returned debit"
#: Bank transaction codes of a direct debit collected (ISO family IDDT/RDDT, sub-family ESDD/BBDD) and
#: of a return (UPDD unpaid, RRTN reversal, reject), and the German MT940 business codes.
_COLLECTION_CODES = ("ESDD", "BBDD", "IDDT", "171", "174")
_RETURN_CODES = ("UPDD", "RRTN", "PRDD", "RJCT", "109", "159", "181", "184")

#: Return reason codes (ISO 20022 ExternalReturnReason1Code) in words, for Advice.
REASONS = {
    "AC01": "wrong account number", "AC04": "account closed", "AC06": "account blocked",
    "AG01": "direct debit forbidden on this account", "AM04": "insufficient funds", "AM05": "duplicate",
    "MD01": "no mandate", "MD02": "mandate data missing or wrong", "MD06": "refund requested by the customer",
    "MD07": "customer deceased", "MS02": "refused by the customer", "MS03": "reason not given",
    "RR01": "debtor details missing", "SL01": "bank's specific service",
}


def reason_text(code: str | None) -> str:
    """``AM04 insufficient funds`` for ``AM04``; the code alone when unknown."""
    code = (code or "").strip().upper()
    return f"{code} {REASONS[code]}" if code in REASONS else (code or "no reason given")


@dataclass
class DebitUpdate:
    """A change to one Debits row: its new status and, for a return, reason, day and fee."""

    status: str
    return_reason: str | None = None
    returned_on: dt.date | None = None
    return_fee: Decimal | None = None


class DebitTracker:
    """The Debits rows during one import, by End-to-End ID, and what the statement changed."""

    def __init__(self, debits: Sequence[Debit], default_fee: Decimal | None):
        self.debits = {normalize(d.end_to_end_id): d for d in debits}
        self.default_fee = default_fee
        self.updates: dict[str, DebitUpdate] = {}
        self.by_file: dict[str, list[Debit]] = defaultdict(list)
        self.by_date: dict[dt.date, list[Debit]] = defaultdict(list)
        for debit in debits:
            if debit.status == PENDING:
                self.by_file[debit.file or ""].append(debit)
                self.by_date[debit.collection_date].append(debit)
        self.returns: list[tuple[Debit, DebitUpdate]] = []

    def status(self, debit: Debit) -> str:
        """The debit's status with this import's changes."""
        update = self.updates.get(normalize(debit.end_to_end_id))
        return update.status if update else debit.status

    def confirm(self, entry: BankEntry) -> Match | None:
        """The collection ``entry`` confirms (a match with rule ``direct debit``), or ``None``."""
        debit = self.debits.get(normalize(entry.end_to_end_id or ""))
        if debit is not None and self.status(debit) == PENDING and entry.amount == debit.amount:
            return self._collected(entry, [debit])
        code = (entry.transaction_code or "").upper()
        if not any(part in code for part in _COLLECTION_CODES) and not entry.mandate_id:
            return None
        day = entry.booking_date or entry.value_date
        groups = [*self.by_file.values(), *(self.by_date.get(day + dt.timedelta(days=n), []) for n in (0, -1, 1, -2, 2))
                  ] if day else list(self.by_file.values())
        for group in groups:
            pending = [d for d in group if self.status(d) == PENDING]
            if pending and sum((d.amount for d in pending), Decimal(0)) == entry.amount:
                return self._collected(entry, pending)
        return None

    def _collected(self, entry: BankEntry, debits: list[Debit]) -> Match:
        for debit in debits:
            self.updates[normalize(debit.end_to_end_id)] = DebitUpdate(COLLECTED)
        return Match(entry, DIRECT_DEBIT, tuple(Allocation(d.invoice_no, None, d.amount) for d in debits))

    def returned(self, entry: BankEntry) -> tuple[Debit, DebitUpdate, bool] | None:
        """The debit ``entry`` returns, its update, and whether it had been posted as collected."""
        if entry.amount >= 0:
            return None
        code = (entry.transaction_code or "").upper()
        if not entry.return_reason and not any(part in code for part in _RETURN_CODES):
            return None
        debit = self.debits.get(normalize(entry.end_to_end_id or ""))
        if debit is None or self.status(debit) == RETURNED:
            return None
        was_collected = self.status(debit) == COLLECTED
        charge = -entry.amount - debit.amount
        fee = charge if charge > 0 else self.default_fee
        update = DebitUpdate(RETURNED, reason_text(entry.return_reason), entry.booking_date or entry.value_date, fee)
        self.updates[normalize(debit.end_to_end_id)] = update
        self.returns.append((debit, update))
        return debit, update, was_collected

    def revokes(self, update: DebitUpdate) -> bool:
        """True when the return's reason ends the mandate."""
        return (update.return_reason or "")[:4] in REVOKING_REASONS

    def updated_rows(self, rows: list[tuple]) -> list[tuple]:
        """The Debits sheet's rows (as stored, in the contract's column order) with this import's changes."""
        result = []
        for row in rows:
            update = self.updates.get(normalize(str(row[5] or "")))
            if update is not None:
                row = (*row[:7], update.status, *row[8:10], update.return_reason or row[10],
                       update.returned_on or row[11], update.return_fee if update.return_fee is not None else row[12])
            result.append(row)
        return result
