"""Matching against real statements: the oracle files' credits, each given an invoice of its own.

For every oracle statement, each booked credit becomes a customer (with the payer's IBAN and name when
they pay only once in the file) and one invoice of exactly the credited amount. The real purpose
texts are full of numbers (dates, customer numbers, amounts) and foreign references; none of them
may send money to another customer's invoice, and every credit from a known IBAN or name finds its own.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from sheetbill.app import SheetsInMemory
from sheetbill.bank.detect import read_statement_file
from sheetbill.bank.entries import PENDING
from sheetbill.bank.matching import name_key
from sheetbill.bank.references import iban_is_valid
from sheetbill.bank_import import StatementFile, import_bank
from sheetbill.plugins.manager import Plugins, get_plugin_manager
from sheetbill.run import run_billing
from tests.bank.test_detect import ORACLE_FILES
from tests.helpers import book, rows_of, sheet, with_outputs

AS_OF = dt.date(2000, 1, 1)  # before every statement: each invoice is issued before it is paid


@pytest.mark.parametrize("name", [n for n, _, _ in ORACLE_FILES])
def test_real_credits_go_to_their_own_invoice_and_never_to_another(oracles, name):
    data = (oracles / "bank" / name).read_bytes()
    credits = [e for s in read_statement_file(data, name) for e in s.entries
               if e.amount > 0 and (e.status or "").upper() != PENDING]
    if not credits:
        pytest.skip(f"{name} has no booked credits")
    payers = Counter(e.counterparty_iban for e in credits if e.counterparty_iban)
    names = Counter(name_key(e.counterparty_name) for e in credits if name_key(e.counterparty_name))
    customers, charges, own = [], [], {}
    for index, entry in enumerate(credits, start=1):
        iban = entry.counterparty_iban if entry.counterparty_iban and payers[entry.counterparty_iban] == 1 \
            and iban_is_valid(entry.counterparty_iban) else None
        known_name = names[name_key(entry.counterparty_name)] == 1 and entry.counterparty_name
        customers.append((f"K{index:03d}", entry.counterparty_name.strip() if known_name else f"Oracle payer {index}",
                          iban))
        charges.append((str(index), "1999-12-01", f"K{index:03d}", "S", 1, entry.amount))
        own[entry.entry_id] = (f"K{index:03d}", iban or known_name)
    sheets = book(
        sheet("Settings", ("Setting", "Value"), ("Invoice Prefix", "SB-"), ("Currency", credits[0].currency)),
        sheet("Customers", ("Customer ID", "Name", "IBAN"), *customers),
        sheet("Services", ("Service Code", "Description", "Price"), ("S", "Service", 1)),
        sheet("Charges", ("Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price"), *charges),
    )
    result = run_billing(sheets, as_of=AS_OF, plugins=Plugins(get_plugin_manager(entry_points=False)))
    sheets = with_outputs(sheets, result.outputs)
    invoice_of = {r["Customer ID"]: r["Invoice No"] for r in rows_of(result.outputs, "Invoices")}
    memory = SheetsInMemory(sheets)
    outcome = import_bank(memory, [StatementFile(name, data)], as_of=AS_OF)
    posted = rows_of(outcome.outputs, "Bank Payments")
    for row in posted:
        customer, _ = own[row["Entry ID"]]
        assert row["Invoice No"] == invoice_of[customer], (name, row)
    matched = {row["Entry ID"] for row in posted}
    known = [entry_id for entry_id, (_, iban) in own.items() if iban]
    assert set(known) <= matched, name
