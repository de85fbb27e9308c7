"""BankEntry and entry ids: the same entry read twice is recognised, different entries are not confused."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from sheetbill.bank.entries import BankEntry, entry_id, real_reference, with_entry_ids

ENTRY = BankEntry(amount=Decimal("119.00"), currency="EUR", booking_date=dt.date(2026, 3, 2),
                  value_date=dt.date(2026, 3, 2), counterparty_name="Erika Mustermann",
                  counterparty_iban="DE02120300000000202051", purpose="Rechnung 42")


def test_the_bank_reference_is_the_id_when_there_is_one():
    assert entry_id("DE89 3704", dataclasses.replace(ENTRY, bank_reference=" 2026030200042 ")) == (
        "DE893704:ref:2026030200042")


@pytest.mark.parametrize("placeholder", ["NONREF", "NOTPROVIDED", "", "  "])
def test_placeholders_are_no_reference(placeholder):
    assert real_reference(placeholder) is None
    assert ":h:" in entry_id("A", dataclasses.replace(ENTRY, bank_reference=placeholder))


def test_the_hash_is_stable_and_sees_every_identifying_field():
    base = entry_id("A", ENTRY)
    assert base == entry_id("A", dataclasses.replace(ENTRY, status="BOOK", additional_info="GUTSCHRIFT"))
    changes = {"amount": Decimal("119.01"), "booking_date": dt.date(2026, 3, 3), "value_date": None,
               "counterparty_name": "Erika", "counterparty_iban": "DE89370400440532013000", "purpose": "Rechnung 43",
               "end_to_end_id": "X", "currency": "CHF"}
    for name, value in changes.items():
        assert entry_id("A", dataclasses.replace(ENTRY, **{name: value})) != base, name
    assert entry_id("B", ENTRY) != base


def test_identical_entries_get_running_numbers():
    ids = [e.entry_id for e in with_entry_ids("A", [ENTRY, ENTRY, ENTRY])]
    assert ids == [entry_id("A", ENTRY), f"{entry_id('A', ENTRY)}#2", f"{entry_id('A', ENTRY)}#3"]


def test_entries_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ENTRY.amount = Decimal("1")  # type: ignore[misc]
    assert ENTRY.is_credit and not dataclasses.replace(ENTRY, amount=Decimal("-1")).is_credit
