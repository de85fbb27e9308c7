"""camt.052/.053/.054: the oracle statements, versions, batches, and hostile XML."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from sheetbill.bank.camt import read_camt
from sheetbill.bank.entries import StatementError
from tests.bank.oracle import as_expected, expected, wanted

CAMT_FILES = [
    "camt/oca-test-camt053.xml",
    "camt/oca-test-camt053-txdtls.xml",
    "camt/oca-test-camt054.xml",
    "camt/kedder-camt052-sparkasse-pforzheim-calw.xml",
    "camt/kedder-davider80-camt053v04.xml",
]


@pytest.mark.parametrize("name", CAMT_FILES)
def test_oracle_file_gives_exactly_the_expected_entries(oracles, name):
    sidecar = expected(oracles, name)
    statements = read_camt((oracles / "bank" / name).read_bytes())
    entries = [entry for statement in statements for entry in statement.entries]
    extra = ("structured_reference",) if "structured_reference" in sidecar["entries"][0] else ()
    assert [as_expected(e, extra) for e in entries] == [wanted(e, extra) for e in sidecar["entries"]]
    assert statements[0].format == sidecar["format"]
    assert statements[0].account_iban == sidecar["statement"]["account_iban"]
    assert statements[0].currency in (None, sidecar["statement"]["currency"])


@pytest.mark.parametrize("name", [n for n in CAMT_FILES if "camt054" not in n])
def test_oracle_balances(oracles, name):
    statement = read_camt((oracles / "bank" / name).read_bytes())[0]
    want = expected(oracles, name)["statement"]
    assert str(statement.opening_balance) == want["opening_balance"]
    assert str(statement.closing_balance) == want["closing_balance"]


def test_camt054_has_no_balances(oracles):
    # The sidecar's 0.00 balances are the importing program's defaults; the notification has no Bal.
    statement = read_camt((oracles / "bank" / "camt/oca-test-camt054.xml").read_bytes())[0]
    assert statement.opening_balance is None and statement.closing_balance is None


def test_oracle_returns_and_codes(oracles):
    entries = read_camt((oracles / "bank" / "camt/oca-test-camt053.xml").read_bytes())[0].entries
    assert [e.return_reason for e in entries] == [None, "AC06", "AC06", None]
    assert entries[0].transaction_code == "PMNT-RDDT-ESDD"
    assert entries[0].mandate_id == "1880000341866"
    assert len({e.entry_id for e in entries}) == 4


def test_oracle_batch_split_keeps_the_bank_reference_apart(oracles):
    entries = read_camt((oracles / "bank" / "camt/oca-test-camt053-txdtls.xml").read_bytes())[0].entries
    assert [e.entry_id for e in entries] == [
        "CH1111000000123456789:ref:20170323001234567891234567891234/1",
        "CH1111000000123456789:ref:20170323001234567891234567891234/2",
    ]
    assert sum(e.amount for e in entries) == Decimal("3483.00")


def _document(version: str, body: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}">'
            f"<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr><Stmt><Id>S1</Id>"
            f"<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>{body}</Stmt>"
            f"</BkToCstmrStmt></Document>").encode()


NEW_STYLE_ENTRY = """
<Ntry><NtryRef>1</NtryRef><Amt Ccy="EUR">119.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
 <BookgDt><DtTm>2026-03-02T10:11:12+01:00</DtTm></BookgDt><ValDt><Dt>2026-03-02</Dt></ValDt>
 <AcctSvcrRef>BANK-REF-77</AcctSvcrRef>
 <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
 <NtryDtls><TxDtls>
  <Refs><EndToEndId>RE-2026-0042</EndToEndId></Refs>
  <RltdPties><Dbtr><Pty><Nm>Erika Mustermann</Nm></Pty></Dbtr>
   <DbtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></DbtrAcct></RltdPties>
  <RltdAgts><DbtrAgt><FinInstnId><BICFI>BYLADEM1001</BICFI></FinInstnId></DbtrAgt></RltdAgts>
  <RmtInf><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>
 </TxDtls></NtryDtls>
</Ntry>"""


def test_a_newer_version_with_party_wrappers_reads_the_same_way():
    entry = read_camt(_document("camt.053.001.08", NEW_STYLE_ENTRY))[0].entries[0]
    assert entry.amount == Decimal("119.00") and entry.is_credit
    assert entry.booking_date == dt.date(2026, 3, 2)
    assert entry.status == "BOOK"
    assert (entry.counterparty_name, entry.counterparty_iban, entry.counterparty_bic) == (
        "Erika Mustermann", "DE02120300000000202051", "BYLADEM1001")
    assert entry.structured_reference == "RF18539007547034" and entry.purpose is None
    assert entry.end_to_end_id == "RE-2026-0042"
    assert entry.transaction_code == "PMNT-RCDT-ESCT"
    assert entry.entry_id == "DE89370400440532013000:ref:BANK-REF-77"


def test_a_returned_debit_is_negative_and_names_the_creditor():
    body = """<Ntry><Amt Ccy="EUR">50.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><RvslInd>true</RvslInd><Sts>BOOK</Sts>
      <BookgDt><Dt>2026-03-05</Dt></BookgDt><AcctSvcrRef>NONREF</AcctSvcrRef>
      <NtryDtls><TxDtls><Refs><EndToEndId>RE-1</EndToEndId></Refs>
      <RltdPties><Cdtr><Nm>Max Muster</Nm></Cdtr><CdtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></CdtrAcct>
      </RltdPties><RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>"""
    entry = read_camt(_document("camt.053.001.02", body))[0].entries[0]
    assert entry.amount == Decimal("-50.00")
    assert (entry.counterparty_name, entry.return_reason) == ("Max Muster", "AM04")
    assert entry.bank_reference is None and ":h:" in entry.entry_id


def test_a_batch_without_per_transaction_amounts_stays_one_entry():
    body = """<Ntry><Amt Ccy="EUR">30.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-03-05</Dt></BookgDt>
      <NtryDtls><TxDtls><RmtInf><Ustrd>one</Ustrd></RmtInf></TxDtls>
      <TxDtls><RmtInf><Ustrd>two</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
    entries = read_camt(_document("camt.053.001.04", body))[0].entries
    assert [(e.amount, e.purpose) for e in entries] == [(Decimal("30.00"), "one")]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&lol4;</Id>
</Stmt></BkToCstmrStmt></Document>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>&secret;</Id>
</Stmt></BkToCstmrStmt></Document>"""


EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/camt.dtd">
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>S1</Id>
</Stmt></BkToCstmrStmt></Document>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD],
                         ids=["entity-expansion", "external-entity", "external-dtd"])
def test_hostile_xml_is_refused_not_expanded(data):
    with pytest.raises(StatementError, match="refused"):
        read_camt(data)


def test_a_declaration_behind_a_comment_is_refused_and_one_after_the_root_is_no_xml():
    commented = b"<?xml version='1.0'?>\n<!-- statement -->\n<?pi x?>" + EXTERNAL_ENTITY.split(b"?>", 1)[1]
    with pytest.raises(StatementError, match="refused"):
        read_camt(commented)
    trailing = EXTERNAL_DTD.replace(b'<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/camt.dtd">', b"") + \
        b'<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    with pytest.raises(StatementError, match="well-formed"):
        read_camt(trailing)


def test_broken_and_foreign_xml_are_errors():
    with pytest.raises(StatementError, match="well-formed"):
        read_camt(b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>')
    with pytest.raises(StatementError, match="not a camt"):
        read_camt(b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"><CstmrDrctDbtInitn/></Document>')


def test_a_document_with_namespace_prefixes_reads_as_one_with_a_default_namespace():
    plain = _document("camt.053.001.08", NEW_STYLE_ENTRY)
    text = plain.decode()
    prefixed = text.replace('<Document xmlns="', '<c:Document xmlns:c="')
    prefixed = re.sub(r"<(/?)(?!c:Document|\?xml)([A-Za-z])", r"<\1c:\2", prefixed)
    prefixed = prefixed.replace("</Document>", "</c:Document>")
    assert "<c:Ntry>" in prefixed and "<c:Nm>" in prefixed
    assert read_camt(prefixed.encode()) == read_camt(plain)
