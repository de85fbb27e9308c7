"""pain.008 direct-debit files: schema-valid in both versions, deterministic, bad input refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from sheetbill.bank.sepa import Collection, DirectDebit, pain008, sepa_text

CREATED = dt.datetime(2026, 11, 29, 10, 30, 0)
FIRST = DirectDebit(end_to_end_id="RE-2026-0001", amount=Decimal("123.45"), mandate_id="M-001",
                    mandate_signed=dt.date(2024, 1, 15), debtor_name="Jürgen Müller-Łukasiewicz",
                    debtor_iban="DE02 1203 0000 0000 2020 51", debtor_bic="BYLADEM1001",
                    remittance="Rechnung RE-2026-0001 RF18539007547034")
SECOND = DirectDebit(end_to_end_id="RE-2026-0002", amount=Decimal("9.90"), mandate_id="M-002",
                     mandate_signed=dt.date(2025, 2, 1), debtor_name="Anna Schmidt & Co. KG",
                     debtor_iban="DE89370400440532013000")
CORE = Collection(creditor_name="Praxis Dr. Weber", creditor_iban="DE89370400440532013000",
                  creditor_id="DE98ZZZ09999999999", collection_date=dt.date(2026, 12, 14),
                  transactions=(FIRST, SECOND), creditor_bic="COBADEFFXXX", sequence="FRST")
B2B = dataclasses.replace(CORE, scheme="B2B", sequence="RCUR", creditor_bic=None, transactions=(SECOND,))
OOFF = dataclasses.replace(CORE, sequence="OOFF", transactions=(dataclasses.replace(FIRST, debtor_bic=None),))
FNAL = dataclasses.replace(CORE, sequence="FNAL", transactions=(SECOND,))


def _validate(validator: Path, *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(validator), *map(str, files)], capture_output=True, text=True,
                          timeout=120)


def test_both_versions_are_schema_valid(pain_validator, tmp_path):
    files = []
    for version in ("pain.008.001.08", "pain.008.001.02"):
        for label, batches in {"core": [CORE], "mixed": [CORE, B2B, OOFF, FNAL]}.items():
            path = tmp_path / f"{version}-{label}.xml"
            path.write_bytes(pain008("MSG-20261129-1", CREATED, batches, version=version))
            files.append(path)
    result = _validate(pain_validator, *files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("valid") == len(files)


def test_a_broken_file_is_rejected_by_the_validator(pain_validator, tmp_path):
    text = pain008("MSG-1", CREATED, CORE, version="pain.008.001.02").decode()
    broken = tmp_path / "broken.xml"
    broken.write_text(text.replace("<SeqTp>FRST</SeqTp>", "<SeqTp>NEXT</SeqTp>")
                      .replace("<IBAN>DE02120300000000202051</IBAN>", "<IBAN>DE02-1203</IBAN>"), encoding="utf-8")
    result = _validate(pain_validator, broken)
    assert result.returncode == 1
    assert "SeqTp" in result.stdout and "IBAN" in result.stdout and "2 errors" in result.stdout


def _values(data: bytes, path: str) -> list[str]:
    root = ET.fromstring(data)
    namespace = root.tag[1:].split("}")[0]
    return [e.text for e in root.iterfind(path.replace("X:", f"{{{namespace}}}"))]


def test_output_is_deterministic_and_sums_foot():
    data = pain008("MSG-1", CREATED, [CORE, B2B])
    assert data == pain008("MSG-1", CREATED, [CORE, B2B])
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:'
                           b'xsd:pain.008.001.08">')
    assert _values(data, "X:CstmrDrctDbtInitn/X:GrpHdr/X:CtrlSum") == ["143.25"]
    assert _values(data, "X:CstmrDrctDbtInitn/X:PmtInf/X:CtrlSum") == ["133.35", "9.90"]
    assert _values(data, "X:CstmrDrctDbtInitn/X:PmtInf/X:PmtInfId") == ["MSG-1-001", "MSG-1-002"]
    assert _values(data, ".//X:DbtrAcct/X:Id/X:IBAN")[0] == "DE02120300000000202051"
    assert _values(data, ".//X:Dbtr/X:Nm")[0] == "Jürgen Müller-Lukasiewicz"
    assert _values(data, ".//X:CdtrAgt/X:FinInstnId/X:BICFI") == ["COBADEFFXXX"]
    assert _values(data, ".//X:CdtrAgt/X:FinInstnId/X:Othr/X:Id") == ["NOTPROVIDED"]


def test_version_02_names_the_bic_element_bic():
    data = pain008("MSG-1", CREATED, CORE, version="pain.008.001.02")
    assert _values(data, ".//X:DbtrAgt/X:FinInstnId/X:BIC") == ["BYLADEM1001"]
    assert _values(data, ".//X:DbtrAgt/X:FinInstnId/X:Othr/X:Id") == ["NOTPROVIDED"]


BAD = {
    "creditor id": (dataclasses.replace(CORE, creditor_id="DE98ZZZ09999999998"), "creditor id"),
    "creditor IBAN": (dataclasses.replace(CORE, creditor_iban="DE89370400440532013001"), "IBAN"),
    "sequence": (dataclasses.replace(CORE, sequence="NEXT"), "sequence type"),
    "scheme": (dataclasses.replace(CORE, scheme="COR1"), "scheme"),
    "no debits": (dataclasses.replace(CORE, transactions=()), "at least one"),
    "three decimals": (dataclasses.replace(CORE, transactions=(dataclasses.replace(FIRST, amount=Decimal("1.234")),)),
                       "amount"),
    "zero": (dataclasses.replace(CORE, transactions=(dataclasses.replace(FIRST, amount=Decimal("0")),)), "amount"),
    "id with //": (dataclasses.replace(CORE, transactions=(dataclasses.replace(FIRST, end_to_end_id="RE//1"),)),
                   "end-to-end id"),
    "long mandate": (dataclasses.replace(CORE, transactions=(dataclasses.replace(FIRST, mandate_id="M" * 36),)),
                     "mandate id"),
    "late mandate": (dataclasses.replace(CORE, transactions=(
        dataclasses.replace(FIRST, mandate_signed=dt.date(2027, 1, 1)),)), "after the collection date"),
    "holiday": (dataclasses.replace(CORE, collection_date=dt.date(2026, 12, 25)), "not a TARGET2 business day"),
    "weekend": (dataclasses.replace(CORE, collection_date=dt.date(2026, 12, 13)), "next one is 2026-12-14"),
    "unwritable name": (dataclasses.replace(CORE, transactions=(dataclasses.replace(FIRST, debtor_name="山田太郎"),)),
                        "Latin letters"),
}


@pytest.mark.parametrize("case", BAD)
def test_input_a_bank_would_reject_is_refused(case):
    batch, message = BAD[case]
    with pytest.raises(ValueError, match=message):
        pain008("MSG-1", CREATED, batch)


def test_unknown_version_is_refused():
    with pytest.raises(ValueError, match="pain.008.003.02"):
        pain008("MSG-1", CREATED, CORE, version="pain.008.003.02")


def test_text_is_written_in_the_sepa_character_set():
    assert sepa_text("Café  Łódź <Straße>", 70) == "Cafe Lodz Straße"
    assert sepa_text("x" * 200, 140) == "x" * 140
