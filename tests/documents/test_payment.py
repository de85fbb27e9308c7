"""IBAN, BIC and creditor reference checks, and the EPC QR code text."""

from decimal import Decimal

import pytest

from sheetbill.documents import payment


@pytest.mark.parametrize("iban", ["DE89 3704 0044 0532 0130 00", "de89370400440532013000",
                                  "GB82 WEST 1234 5698 7654 32", "NL91ABNA0417164300", "AT611904300234573201"])
def test_valid_ibans(iban):
    assert payment.iban_problem(iban) is None


@pytest.mark.parametrize(("iban", "why"), [
    ("DE89 3704 0044 0532 0130 01", "check digits"),  # one digit off
    ("DE89 3704 0044 0532 0103 00", "check digits"),  # two digits swapped
    ("DE89 3704 0044 0532 0130", "22"),  # too short for Germany
    ("12345", "not an IBAN"),
    ("", "not an IBAN"),
])
def test_invalid_ibans_say_why(iban, why):
    assert why in payment.iban_problem(iban)


def test_iban_is_printed_in_groups_of_four():
    assert payment.format_iban("de89370400440532013000") == "DE89 3704 0044 0532 0130 00"


def test_bic_shape():
    assert payment.bic_is_valid("COBADEFFXXX") and payment.bic_is_valid("COBADEFF")
    assert not payment.bic_is_valid("COBADE") and not payment.bic_is_valid("1OBADEFFXXX")


def test_creditor_reference_round_trip():
    reference = payment.creditor_reference("539007547034")
    assert reference == "RF18539007547034"  # the example of ISO 11649
    assert payment.is_creditor_reference("RF18 5390 0754 7034")
    assert not payment.is_creditor_reference("RF19539007547034")


def test_epc_payload_with_bic_and_unstructured_reference():
    text = payment.epc_payload(name="Praxis Dr. Weber", iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX",
                               amount=Decimal("82.2"), reference="INV-000002-C1")
    assert text.split("\n") == ["BCD", "001", "1", "SCT", "COBADEFFXXX", "Praxis Dr. Weber", "DE89370400440532013000",
                                "EUR82.20", "", "", "INV-000002-C1"]


def test_epc_payload_without_bic_uses_version_2_and_structured_reference():
    text = payment.epc_payload(name="X", iban="DE89370400440532013000", amount=Decimal("1"),
                               reference="RF18539007547034")
    lines = text.split("\n")
    assert lines[1] == "002" and lines[4] == "" and lines[9] == "RF18539007547034" and len(lines) == 10


@pytest.mark.parametrize("amount", ["0", "-5", "1000000000"])
def test_epc_payload_refuses_amounts_out_of_range(amount):
    with pytest.raises(ValueError):
        payment.epc_payload(name="X", iban="DE89370400440532013000", amount=Decimal(amount), reference="R")


def test_epc_payload_refuses_a_bad_iban():
    with pytest.raises(ValueError):
        payment.epc_payload(name="X", iban="DE00370400440532013000", amount=Decimal(1), reference="R")
