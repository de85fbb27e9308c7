"""Write a camt.053 bank statement from :class:`~sheetbill.bank.entries.BankEntry` records.

A bank writes statements, not sheetbill; this writer makes the demo workbook's statement and the
benchmark's, in the layout German banks use (camt.053.001.08, one transaction per entry): amount
and credit/debit indicator, status, booking and value date, the bank's reference, the bank
transaction code (``PMNT-RCDT-ESCT`` for a transfer in, ``PMNT-IDDT-ESDD`` for a collection,
``PMNT-IDDT-UPDD`` for a returned direct debit), end-to-end id, mandate id, the other party's name
and IBAN, unstructured purpose or a structured RF reference, and a return reason.
:func:`sheetbill.bank.camt.read_camt` reads it back to the same entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

from .entries import BankEntry

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def camt053(account_iban: str, entries: Sequence[BankEntry], *, statement_id: str, created: dt.datetime,
            opening_balance: Decimal = Decimal("0.00")) -> bytes:
    """A camt.053.001.08 statement of ``account_iban`` with ``entries`` (credits positive)."""
    closing = opening_balance + sum((e.amount for e in entries), Decimal("0"))
    day = max((e.booking_date for e in entries if e.booking_date), default=created.date())
    body = "".join(_entry(e) for e in entries)
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NAMESPACE}"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{escape(statement_id)}</MsgId><CreDtTm>{created.isoformat(timespec='seconds')}</CreDtTm>"
        f"</GrpHdr><Stmt><Id>{escape(statement_id)}</Id><CreDtTm>{created.isoformat(timespec='seconds')}</CreDtTm>"
        f"<Acct><Id><IBAN>{escape(account_iban)}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{_balance('OPBD', opening_balance, day)}{_balance('CLBD', closing, day)}{body}</Stmt></BkToCstmrStmt>"
        "</Document>"
    )
    return xml.encode("utf-8")


def _balance(code: str, amount: Decimal, day: dt.date) -> str:
    indicator = "CRDT" if amount >= 0 else "DBIT"
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">{abs(amount):.2f}</Amt>"
            f"<CdtDbtInd>{indicator}</CdtDbtInd><Dt><Dt>{day.isoformat()}</Dt></Dt></Bal>")


def _entry(entry: BankEntry) -> str:
    credit = entry.amount > 0
    indicator = "CRDT" if credit else "DBIT"
    family, sub = (entry.transaction_code or ("PMNT-RCDT-ESCT" if credit else "PMNT-ICDT-ESCT")).split("-")[1:]
    party = "Dbtr" if credit else "Cdtr"
    refs = ""
    if entry.end_to_end_id or entry.mandate_id:
        refs = "<Refs>" + (f"<EndToEndId>{escape(entry.end_to_end_id)}</EndToEndId>" if entry.end_to_end_id
                           else "<EndToEndId>NOTPROVIDED</EndToEndId>")
        refs += f"<MndtId>{escape(entry.mandate_id)}</MndtId>" if entry.mandate_id else ""
        refs += "</Refs>"
    parties = ""
    if entry.counterparty_name or entry.counterparty_iban:
        parties = f"<RltdPties><{party}><Pty><Nm>{escape(entry.counterparty_name or '')}</Nm></Pty></{party}>"
        if entry.counterparty_iban:
            parties += f"<{party}Acct><Id><IBAN>{escape(entry.counterparty_iban)}</IBAN></Id></{party}Acct>"
        parties += "</RltdPties>"
    remittance = ""
    if entry.purpose or entry.structured_reference:
        remittance = "<RmtInf>"
        if entry.purpose:
            remittance += f"<Ustrd>{escape(entry.purpose)}</Ustrd>"
        if entry.structured_reference:
            remittance += (f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>"
                           f"<Ref>{escape(entry.structured_reference)}</Ref></CdtrRefInf></Strd>")
        remittance += "</RmtInf>"
    returned = (f"<RtrInf><Rsn><Cd>{escape(entry.return_reason)}</Cd></Rsn></RtrInf>"
                if entry.return_reason else "")
    day = entry.booking_date or entry.value_date
    value_day = entry.value_date or day
    return (
        f"<Ntry><Amt Ccy=\"{entry.currency or 'EUR'}\">{abs(entry.amount):.2f}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>"
        f"<Sts><Cd>{entry.status or 'BOOK'}</Cd></Sts><BookgDt><Dt>{day.isoformat()}</Dt></BookgDt>"
        f"<ValDt><Dt>{value_day.isoformat()}</Dt></ValDt>"
        + (f"<AcctSvcrRef>{escape(entry.bank_reference)}</AcctSvcrRef>" if entry.bank_reference else "")
        + f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{family}</Cd><SubFmlyCd>{sub}</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f"<NtryDtls><TxDtls>{refs}<AmtDtls><TxAmt><Amt Ccy=\"EUR\">{abs(entry.amount):.2f}</Amt></TxAmt></AmtDtls>"
        f"{parties}{remittance}{returned}</TxDtls></NtryDtls></Ntry>"
    )
