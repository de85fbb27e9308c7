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


def test_entries_built_once_with_their_ids_are_those_built_and_then_given_ids():
    """built_with_ids (a reader's field dictionaries, each built once) gives what with_entry_ids gives
    for the entries built first: hashes from the fields, bank references, ids a reader set, repeats
    numbered #2, #3 in file order, fields left out of a dictionary taken as None."""
    import random

    from sheetbill.bank.entries import built_with_ids, new_entry

    rng = random.Random(20261130)
    for _ in range(20):
        described = []
        for _ in range(rng.randrange(30)):
            values = {"amount": Decimal(rng.choice(["10.00", "-5.50", "0.00"])), "currency": "EUR",
                      "booking_date": rng.choice([None, dt.date(2026, 3, 2)]),
                      "purpose": rng.choice([None, "Rechnung 1", "Miete"]),
                      "bank_reference": rng.choice([None, "NONREF", "R1", "R2"])}
            if rng.random() < 0.3:
                values["counterparty_name"] = rng.choice(["Anna", "Bernd"])
            if rng.random() < 0.2:
                values["entry_id"] = rng.choice(["X:ref:B/1", "X:ref:B/2", ""])
            described.append(values)
        expected = with_entry_ids("DE89 3704", [new_entry(**values) for values in described])
        assert built_with_ids("DE89 3704", [dict(values) for values in described]) == expected
        assert [entry_id("A", values) for values in described] == \
            [entry_id("A", new_entry(**values)) for values in described]
