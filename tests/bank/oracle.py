"""Reading the oracles' ``<file>.expected.json`` sidecars and putting parsed entries in their terms."""

from __future__ import annotations

import json
from pathlib import Path

from sheetbill.bank.entries import BankEntry

#: The keys every sidecar entry has, compared for every file.
KEYS = ("amount", "currency", "booking_date", "value_date", "counterparty_name", "counterparty_iban",
        "remittance_information", "end_to_end_id")


def expected(oracles: Path, name: str) -> dict:
    """The sidecar of ``bank/<name>``."""
    return json.loads((oracles / "bank" / f"{name}.expected.json").read_text(encoding="utf-8"))


def as_expected(entry: BankEntry, extra: tuple[str, ...] = ()) -> dict:
    """``entry`` with the sidecar's keys; ``remittance_information`` is the purpose, else the structured
    reference, as the sidecars define it."""
    values = {
        "amount": f"{entry.amount:.2f}",
        "currency": entry.currency,
        "booking_date": entry.booking_date.isoformat() if entry.booking_date else None,
        "value_date": entry.value_date.isoformat() if entry.value_date else None,
        "counterparty_name": entry.counterparty_name,
        "counterparty_iban": entry.counterparty_iban,
        "remittance_information": entry.purpose or entry.structured_reference,
        "end_to_end_id": entry.end_to_end_id,
        "structured_reference": entry.structured_reference,
        "creditor_id": entry.creditor_id,
        "mandate_reference": entry.mandate_id,
        "posting_text": entry.additional_info,
    }
    return {key: values[key] for key in KEYS + extra}


def wanted(entry: dict, extra: tuple[str, ...] = ()) -> dict:
    """The sidecar entry cut to the compared keys."""
    return {key: entry[key] for key in KEYS + extra}
