"""The utility demo's bank statement (camt.053) for July 2026, made to fit the demo workbook.

``make demo`` bills the utility demo on 2026-06-30, writes the direct-debit file for the June
invoices (``sheetbill debit``), then imports this statement (``sheetbill import-bank``). To fit, the
statement is made here from what those two commands compute on the freshly built workbook: the
bank's batch credit for each debit file on its collection date, one debit returned for insufficient
funds with the bank's charge, and transfers from the customers without a mandate -- by RF reference,
by invoice number typed loosely, by amount from a known payer, and one from a stranger that the
clerk has to look at in Bank Review.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from sheetbill.app import SheetsInMemory
from sheetbill.bank.camt_write import camt053
from sheetbill.bank.entries import BankEntry
from sheetbill.bank.references import invoice_rf
from sheetbill.debits import debit_run
from sheetbill.io.xlsx import XlsxWorkbook
from sheetbill.run import run_billing
from sheetbill.sheets import OutputSheet, RawSheet

ACCOUNT = "DE89370400440532013000"
CREATED = dt.datetime(2026, 7, 20, 6, 0)
RETURNED_CUSTOMER = "0047111"
BANK_CHARGE = Decimal("3.00")


def _read_back(output: OutputSheet) -> RawSheet:
    return RawSheet(output.name, [output.headers, *[list(row) for row in output.rows]])


def demo_statement(workbook: Path, as_of: dt.date) -> bytes:
    """The statement for ``workbook`` (the utility demo as built) billed and debited on ``as_of``."""
    with XlsxWorkbook(workbook).read() as lazy:
        sheets = {name: lazy[name] for name in lazy}
    result = run_billing(sheets, as_of=as_of)
    sheets.update({o.name: _read_back(o) for o in result.outputs})
    memory = SheetsInMemory(sheets)
    debits = debit_run(memory, as_of=as_of)
    entries: list[BankEntry] = []
    for file in debits.files:
        entries.append(BankEntry(file.total, "EUR", file.collection_date, file.collection_date,
                                 "Stadtwerke Lindenau GmbH", None, purpose=f"SEPA-Lastschrift Einzug {file.name[:-4]}",
                                 bank_reference=f"COLL-{file.name[3:-4]}", transaction_code="PMNT-IDDT-ESDD"))
    by_customer = {row[9]: row for row in debits.rows}
    back = by_customer[RETURNED_CUSTOMER]
    returned_on = back[0] + dt.timedelta(days=3)
    entries.append(BankEntry(-(back[4] + BANK_CHARGE), "EUR", returned_on, returned_on,
                             "Lucja Wisniewska", "DE02500105170137075030",
                             purpose=f"Ruecklastschrift {back[5]} AM04 Deckung", end_to_end_id=back[5],
                             bank_reference="RET-0001", transaction_code="PMNT-IDDT-UPDD", return_reason="AM04"))
    open_items: dict[str, list] = defaultdict(list)
    for receivable in result.ledger.receivables.values():
        invoice = receivable.invoice
        if invoice.bill_to_type == "Customer" and receivable.balance > 0 and invoice.kind == "Invoice":
            open_items[invoice.customer_id].append((invoice.due_date, invoice.invoice_no, receivable.balance))
    day = dt.date(2026, 7, 8)
    olga = sorted(open_items["0047118"])[-1]
    entries.append(BankEntry(olga[2], "EUR", day, day, "Olga Petrenko", "DE61370501981929807319",
                             structured_reference=invoice_rf(olga[1]), bank_reference="TRF-0001",
                             transaction_code="PMNT-RCDT-ESCT"))
    ingeborg = sorted(open_items["0047121"])
    loose = " ".join(f"rechnung {no.replace('-', ' ').lower()}" for _, no, _ in ingeborg)
    entries.append(BankEntry(sum((item[2] for item in ingeborg), Decimal("0.00")), "EUR", dt.date(2026, 7, 16),
                             dt.date(2026, 7, 16), "Lars Åström", "SE4550000000058398257466",
                             purpose=f"{loose} fuer Ingeborg Astrom", bank_reference="TRF-0002",
                             transaction_code="PMNT-RCDT-ESCT"))
    plan = sorted(result.overdue.installments.get(sorted(open_items["0047117"])[0][1], []) or [],
                  key=lambda i: i.number)
    due = next((i for i in plan if i.balance > 0), None)
    if due is not None:
        entries.append(BankEntry(due.balance, "EUR", dt.date(2026, 7, 1), dt.date(2026, 7, 1),
                                 "WG Kastanienallee 12 (c/o Kim Berger)", "DE02300209000106531065",
                                 purpose="Rate Juli", bank_reference="TRF-0003", transaction_code="PMNT-RCDT-ESCT"))
    entries.append(BankEntry(Decimal("25.00"), "EUR", dt.date(2026, 7, 17), dt.date(2026, 7, 17), "M. Unbekannt",
                             "DE88100900001234567892", purpose="Zahlung", bank_reference="TRF-0004",
                             transaction_code="PMNT-RCDT-ESCT"))
    entries.sort(key=lambda e: (e.booking_date, e.bank_reference))
    return camt053(ACCOUNT, entries, statement_id="STMT-2026-07", created=CREATED)
