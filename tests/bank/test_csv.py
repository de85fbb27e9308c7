"""Bank CSV: the Sparkasse CSV-CAMT oracle export, one built here, and a generic column mapping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from sheetbill.bank.csv import ColumnMapping, read_mapped_csv, read_sparkasse_csv
from sheetbill.bank.entries import StatementError
from tests.bank.oracle import as_expected, expected, wanted

NAME = "csv/sparkasse-freiburg-simple2.csv"
EXTRA = ("creditor_id", "mandate_reference", "posting_text")


def test_oracle_file_gives_exactly_the_expected_entries(oracles):
    sidecar = expected(oracles, NAME)
    [statement] = read_sparkasse_csv((oracles / "bank" / NAME).read_bytes())
    assert [as_expected(e, EXTRA) for e in statement.entries] == [wanted(e, EXTRA) for e in sidecar["entries"]]
    status = {"Umsatz gebucht": "BOOK", "Umsatz vorgemerkt": "PDNG"}
    assert [e.status for e in statement.entries] == [status[e["status"]] for e in sidecar["entries"]]
    assert statement.account == sidecar["statement"]["account"] and statement.account_iban is None


def test_oracle_entry_ids_are_unique_and_stable(oracles):
    data = (oracles / "bank" / NAME).read_bytes()
    first, again = read_sparkasse_csv(data)[0], read_sparkasse_csv(data)[0]
    ids = [e.entry_id for e in first.entries]
    assert len(set(ids)) == len(ids) == 18
    assert ids == [e.entry_id for e in again.entries]


HEADER = ('"Auftragskonto";"Buchungstag";"Valutadatum";"Buchungstext";"Verwendungszweck";"Glaeubiger ID";'
          '"Mandatsreferenz";"Kundenreferenz (End-to-End)";"Sammlerreferenz";"Lastschrift Ursprungsbetrag";'
          '"Auslagenersatz Ruecklastschrift";"Beguenstigter/Zahlungspflichtiger";"Kontonummer/IBAN";'
          '"BIC (SWIFT-Code)";"Betrag";"Waehrung";"Info"')
ROW = ('"DE89370400440532013000";"02.03.26";"02.03.26";"GUTSCHR. UEBERWEISUNG";"RF18539007547034 Rechnung 42";;;'
       '"RE-2026-0042";;;;"Jürgen Müller";"DE02120300000000202051";"BYLADEM1001";"1.190,00";"EUR";"Umsatz gebucht"')


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig"])
def test_a_sparkasse_export_in_either_encoding(encoding):
    data = f"{HEADER}\r\n{ROW}\r\n{ROW}\r\n".encode(encoding)
    [statement] = read_sparkasse_csv(data)
    entry = statement.entries[0]
    assert entry.amount == Decimal("1190.00")
    assert entry.booking_date == dt.date(2026, 3, 2)
    assert entry.counterparty_name == "Jürgen Müller"
    assert entry.counterparty_bic == "BYLADEM1001"
    assert entry.end_to_end_id == "RE-2026-0042"
    assert statement.account_iban == "DE89370400440532013000"
    # Two identical rows are two payments, told apart by a running number.
    assert statement.entries[1].entry_id == f"{entry.entry_id}#2"


def test_a_csv_without_the_sparkasse_columns_is_refused():
    with pytest.raises(StatementError, match="Betrag"):
        read_sparkasse_csv(b'"Auftragskonto";"Buchungstag";"Valutadatum"\n')


OTHER_BANK = """Kontoumsaetze Girokonto DE89 3704 0044 0532 0130 00
Zeitraum: 01.03.2026 - 31.03.2026
Date,Payee,Account,Reference,Amount
2026-03-02,Erika Mustermann,DE02120300000000202051,Invoice 42,"1,190.00"
2026-03-03,Stadtwerke,DE89370400440532013000,Strom März,-82.5
"""


def test_a_mapped_csv_with_decimal_point_and_iso_dates():
    mapping = ColumnMapping(date="Date", amount="Amount", name="Payee", iban="Account", purpose="Reference",
                            date_format="%Y-%m-%d", decimal_comma=False, delimiter=",", skip_lines=2,
                            encoding="cp1252", account="DE89370400440532013000")
    [statement] = read_mapped_csv(OTHER_BANK.encode("cp1252"), mapping)
    first, second = statement.entries
    assert (first.amount, first.booking_date, first.counterparty_name) == (
        Decimal("1190.00"), dt.date(2026, 3, 2), "Erika Mustermann")
    assert (second.amount, second.purpose, second.currency) == (Decimal("-82.5"), "Strom März", "EUR")
    assert statement.account_iban == "DE89370400440532013000"


def test_a_mapping_naming_a_missing_column_is_an_error():
    mapping = ColumnMapping(date="Datum", amount="Betrag")
    with pytest.raises(StatementError, match="'Datum'"):
        read_mapped_csv(b"Date;Amount\n01.03.2026;1,00\n", mapping)


def test_a_bad_amount_names_its_line():
    mapping = ColumnMapping(date="Datum", amount="Betrag")
    with pytest.raises(StatementError, match="line 3"):
        read_mapped_csv(b"Datum;Betrag\n01.03.2026;1,00\n02.03.2026;zehn\n", mapping)
