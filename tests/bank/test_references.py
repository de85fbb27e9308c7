"""RF creditor references (ISO 11649) and SEPA creditor identifiers."""

from __future__ import annotations

import random

import pytest

from sheetbill.bank.references import (
    creditor_id_check_digits,
    creditor_id_problem,
    creditor_reference,
    electronic_iban,
    format_rf,
    iban_fault,
    iban_is_valid,
    invoice_key,
    invoice_keys,
    is_valid_creditor_id,
    is_valid_rf,
    key_numbers,
)


@pytest.mark.parametrize("reference", ["RF18539007547034", "RF18 5390 0754 7034", "rf18 5390 0754 7034",
                                       "RF712348231", "RF18000000000539007547034"])
def test_known_valid_rf_references(reference):
    assert is_valid_rf(reference)


def test_making_a_reference_gives_the_standards_example():
    assert creditor_reference("539007547034") == "RF18539007547034"
    assert creditor_reference("5390 0754 7034") == "RF18539007547034"
    assert format_rf("RF18539007547034") == "RF18 5390 0754 7034"
    assert is_valid_rf(creditor_reference("re-2026-0042".replace("-", "")))


def test_every_one_character_typo_is_detected():
    good = "RF18539007547034"
    for position in range(2, len(good)):
        for replacement in "0123456789":
            typo = good[:position] + replacement + good[position + 1:]
            if typo != good:
                assert not is_valid_rf(typo), typo


@pytest.mark.parametrize("reference", ["", "RF", "RF18", "RF1853900754703400000000000", "XX18539007547034",
                                       "RF18-5390-0754-7034"])
def test_malformed_references_are_invalid(reference):
    assert not is_valid_rf(reference)


@pytest.mark.parametrize("base", ["", "A" * 22, "RE-2026"])
def test_bases_that_cannot_become_references(base):
    with pytest.raises(ValueError):
        creditor_reference(base)


def test_the_creditor_id_example_is_valid():
    assert is_valid_creditor_id("DE98ZZZ09999999999")
    assert is_valid_creditor_id("de98 zzz 09999999999")
    assert creditor_id_check_digits("DE", "09999999999") == "98"


def test_the_business_code_is_not_part_of_the_check():
    assert is_valid_creditor_id("DE98ABC09999999999")


def test_one_changed_digit_is_invalid():
    assert "check digits" in creditor_id_problem("DE98ZZZ09999999998")
    assert not is_valid_creditor_id("DE97ZZZ09999999999")


@pytest.mark.parametrize("value", ["", "DE98ZZZ", "DE98ZZZ0999999999", "9898ZZZ09999999999"])
def test_malformed_creditor_ids(value):
    assert creditor_id_problem(value) is not None


def test_iban_check():
    assert iban_is_valid("DE89 3704 0044 0532 0130 00")
    assert not iban_is_valid("DE89 3704 0044 0532 0130 01")


@pytest.mark.parametrize(("invoice_no", "key"), [
    ("INV-000123", "INV000123"), ("inv-000-123", "INV000123"), ("INV/2026 001", "INV2026001"),
    ("INV–000123", "INV000123"), ("Rg.-Nr. 12", "RGNR12"), ("A-Ü-1", "A1"), ("7700", "7700"), ("--", ""),
])
def test_an_invoice_key_keeps_only_ascii_letters_and_digits(invoice_no, key):
    assert invoice_key(invoice_no) == key


@pytest.mark.parametrize("seed", range(8))
def test_the_keys_of_a_sheet_of_invoice_numbers_are_each_numbers_key(seed):
    """All at once or one by one alike: plain numbers (the fast pass), and sheets with one odd number
    (a slash, a dash, an umlaut, a line break, ß, empty), which are keyed one by one."""
    rng = random.Random(seed)
    odd = ["INV/2026 001", "INV–000123", "A-Ü-1", "Rg\nNr5", "straße-9", "", "--", "inv-00a7"]
    numbers = [rng.choice(("INV-{:06d}", "inv-{}", "R{}", "{}", "AB-{}-C")).format(rng.randrange(10**6))
               for _ in range(rng.randrange(0, 30))]
    for sheet in (numbers, [*numbers, rng.choice(odd)], [rng.choice(odd)]):
        keys = invoice_keys(sheet)
        assert keys == [invoice_key(number) for number in sheet]
        assert key_numbers(keys) == [key[len(key.rstrip("0123456789")):] for key in keys]


@pytest.mark.parametrize("typed", ["DE89370400440532013000", "de89 3704 0044 0532 0130 00",
                                   "DE89-3704-0044-0532-0130-00", "DE89.3704.0044.0532.0130.00",
                                   " de89\t37040044 0532013000 "])
def test_an_iban_however_typed_has_one_electronic_form(typed):
    assert electronic_iban(typed) == "DE89370400440532013000" and iban_fault(typed) is None
