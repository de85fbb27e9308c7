"""MT940: the oracle statements, German :86: subfields, SEPA keywords, signs and dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sheetbill.bank.entries import StatementError
from sheetbill.bank.mt940 import read_mt940
from tests.bank.oracle import as_expected, expected, wanted

MT940_FILES = [
    "mt940/betterplace-sepa_snippet.sta",
    "mt940/self-provided-details_60-63.sta",
    "mt940/self-provided-gv_codes.sta",
    "mt940/jejik-ing.sta",
]

#: Where this reader and the sidecar part on purpose: (file, entry index) -> why.
DELIBERATE = {
    ("mt940/jejik-ing.sta", 6): "the sidecar (from the mt-940 package) glues the statement-level :86: after :62F: "
                                "and the '-XXX' trailer onto the last entry; here they are Statement.information",
}


@pytest.mark.parametrize("name", MT940_FILES)
def test_oracle_file_gives_exactly_the_expected_entries(oracles, name):
    sidecar = expected(oracles, name)
    statements = read_mt940((oracles / "bank" / name).read_bytes())
    got = [as_expected(e) for s in statements for e in s.entries]
    want = [wanted(e) for e in sidecar["entries"]]
    assert len(got) == len(want)
    for index, (mine, theirs) in enumerate(zip(got, want, strict=True)):
        if (name, index) in DELIBERATE:
            continue
        assert mine == theirs, f"entry {index}"
    last = statements[-1]
    assert last.account == sidecar["statement"]["account"]
    assert str(last.opening_balance) == sidecar["statement"]["opening_balance"]


def test_statement_level_information_is_kept_apart_from_the_last_entry(oracles):
    name = "mt940/jejik-ing.sta"
    statement = read_mt940((oracles / "bank" / name).read_bytes())[0]
    theirs = expected(oracles, name)["entries"][6]["remittance_information"]
    assert statement.information == "D000004C000002D25,24C28,71\n-XXX"
    assert f"{statement.entries[6].purpose}\n{statement.information}" == theirs
    assert statement.closing_balance == Decimal("3.47")


def test_oracle_sepa_keywords_and_bank_details(oracles):
    statements = read_mt940((oracles / "bank" / "mt940/self-provided-gv_codes.sta").read_bytes())
    paypal = statements[0].entries[0]
    assert paypal.mandate_id == "12AB234CD6E7F"
    assert paypal.creditor_id == "AB12CDE0000000000000000034"
    assert paypal.transaction_code == "835"
    first = read_mt940((oracles / "bank" / "mt940/betterplace-sepa_snippet.sta").read_bytes())[0]
    assert first.statement_id == "T089414086000001/00004/00001"
    assert first.entries[0].counterparty_bic == "DRESDEFF508"
    assert first.entries[0].bank_reference == "0724710333343453"
    assert first.entries[0].additional_info == "GUTSCHRIFT"


SNIPPET = """:20:STARTUMS
:25:DE89370400440532013000
:28C:00001/001
:60F:C261230EUR1000,00
:61:2612310102CR119,00NTRFNONREF//BANKREF-1
:86:166?00SEPA-GUTSCHRIFT?109310?20EREF+RE-2026-0042?21SVWZ+RF18 5390 0754 7
?22034 Rechnung 42?30BYLADEM1001?31DE02120300000000202051?32Erika Muster
?33mann
:61:261231RC5,00NMSCNONREF
:86:Storno Gutschrift
:61:261231RD2,50NMSCNONREF
:61:261231D20,NCHGNONREF
:62F:C261231EUR1096,50
-
"""


def test_a_german_statement_built_here():
    [statement] = read_mt940(SNIPPET.encode("cp1252"))
    assert statement.account_iban == "DE89370400440532013000"
    assert (statement.opening_balance, statement.closing_balance) == (Decimal("1000.00"), Decimal("1096.50"))
    credit, reversed_credit, reversed_debit, fee = statement.entries
    assert credit.amount == Decimal("119.00")
    assert (credit.value_date, credit.booking_date) == (dt.date(2026, 12, 31), dt.date(2027, 1, 2))
    assert credit.purpose == "RF18 5390 0754 7034 Rechnung 42"
    assert credit.end_to_end_id == "RE-2026-0042"
    assert (credit.counterparty_name, credit.counterparty_iban) == ("Erika Mustermann", "DE02120300000000202051")
    assert credit.entry_id == "DE89370400440532013000:ref:BANKREF-1"
    assert reversed_credit.amount == Decimal("-5.00") and reversed_credit.purpose == "Storno Gutschrift"
    assert reversed_debit.amount == Decimal("2.50") and reversed_debit.purpose is None
    assert fee.amount == Decimal("-20") and fee.transaction_code == "NCHG"
    assert sum(e.amount for e in statement.entries) == statement.closing_balance - statement.opening_balance


def test_entry_date_in_the_year_before_the_value_date():
    text = ":20:X\n:25:123/456\n:60F:C260101EUR0,\n:61:2601021231D1,00NTRFNONREF\n-\n"
    [entry] = read_mt940(text.encode())[0].entries
    assert entry.booking_date == dt.date(2025, 12, 31)


def test_a_malformed_statement_line_is_an_error():
    with pytest.raises(StatementError, match=":61:"):
        read_mt940(b":20:X\n:25:123/456\n:60F:C260101EUR0,\n:61:hello\n-\n")
