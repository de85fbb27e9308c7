"""read_statement_file: the format comes from the content, whatever the file is called."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sheetbill.bank.camt import read_camt
from sheetbill.bank.csv import ColumnMapping, read_sparkasse_csv
from sheetbill.bank.detect import detect_format, read_statement_file
from sheetbill.bank.entries import StatementError
from sheetbill.bank.mt940 import read_mt940
from tests.bank.test_camt import BILLION_LAUGHS, CAMT_FILES
from tests.bank.test_mt940 import MT940_FILES

ORACLE_FILES = [(n, "camt", read_camt) for n in CAMT_FILES] + [(n, "mt940", read_mt940) for n in MT940_FILES] + [
    ("csv/sparkasse-freiburg-simple2.csv", "csv-camt", read_sparkasse_csv)]


@pytest.mark.parametrize(("name", "kind", "reader"), ORACLE_FILES, ids=[n for n, _, _ in ORACLE_FILES])
def test_every_oracle_file_is_recognised_by_content(oracles, name, kind, reader):
    data = (oracles / "bank" / name).read_bytes()
    assert detect_format(data) == kind
    assert read_statement_file(data, "download.bin") == reader(data)


def test_unknown_content_is_an_error_naming_the_file():
    with pytest.raises(StatementError, match=r"^umsatz\.pdf: .*column mapping"):
        read_statement_file(b"%PDF-1.7 ...", "umsatz.pdf")


def test_hostile_xml_is_refused_through_the_front_door_too():
    with pytest.raises(StatementError, match="refused"):
        read_statement_file(BILLION_LAUGHS, "statement.xml")


def test_xml_that_is_not_camt_is_an_error():
    with pytest.raises(StatementError, match="not a camt"):
        read_statement_file(b"<invoice/>", "x.xml")


def test_a_mapping_decides_the_reader():
    mapping = ColumnMapping(date="Datum", amount="Betrag", purpose="Text")
    [statement] = read_statement_file("Datum;Betrag;Text\n02.03.2026;-1,50;Gebühr\n".encode(), "bank.csv", mapping)
    assert statement.entries[0].amount == Decimal("-1.50") and statement.entries[0].purpose == "Gebühr"
