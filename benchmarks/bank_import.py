"""Benchmark: importing a bank statement of N entries against M open invoices.

    python benchmarks/bank_import.py [--items 100000] [--entries 10000] [--runs 3]

Builds a workbook in memory with M customers (each with an IBAN) and one issued, unpaid invoice each
(a billing run), and a camt.053 statement with N credits: 40 % quote the RF reference, 30 % the
invoice number written loosely (``inv 12345``), 20 % come from a customer's IBAN with the exact
amount, 10 % from strangers. It then times :func:`sheetbill.bank_import.import_bank` on the sheets
(reading the statement, the workbook's accounts, matching, the two output sheets; an import reads
every row itself, with or without a run memo beside the workbook), and, apart, the matching stage
alone, and prints a Markdown table row (docs/performance.md): the best and the median of the runs'
CPU times (on a shared machine the same work varies by a fifth or more from run to run; the best is
the least disturbed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sheetbill.accounts_book import load_accounts  # noqa: E402
from sheetbill.app import SheetsInMemory  # noqa: E402
from sheetbill.bank.camt_write import camt053  # noqa: E402
from sheetbill.bank.detect import read_statement_file  # noqa: E402
from sheetbill.bank.entries import BankEntry  # noqa: E402
from sheetbill.bank.matching import Matcher  # noqa: E402
from sheetbill.bank.references import creditor_id_check_digits, invoice_rf, mod97  # noqa: E402
from sheetbill.bank_import import StatementFile, import_bank, payers  # noqa: E402
from sheetbill.open_items import OpenItems  # noqa: E402
from sheetbill.run import collector_paused, run_billing  # noqa: E402
from sheetbill.sheets import RawSheet  # noqa: E402

AS_OF = dt.date(2026, 3, 1)
ACCOUNT = "DE89370400440532013000"


def iban(number: int) -> str:
    """A valid German IBAN for account ``number`` at bank code 10010010."""
    bban = f"10010010{number:010d}"
    check = 98 - mod97(bban + "DE00")
    return f"DE{check:02d}{bban}"


def workbook(items: int) -> dict[str, RawSheet]:
    """M customers with one issued invoice each (read back as a front end would)."""
    price = ["Price", *[Decimal(10 + i % 500) for i in range(items)]]
    sheets = {
        "Settings": RawSheet("Settings", [["Setting", "Value"], ["Invoice Prefix", "INV-"], ["Invoice Digits", 6],
                                          ["As Of Date", AS_OF]]),
        "Customers": RawSheet("Customers", [["Customer ID", "Name", "IBAN"],
                                            *[[f"C{i:06d}", f"Customer {i}", iban(i)] for i in range(items)]]),
        "Services": RawSheet("Services", [["Service Code", "Description", "Price"], ["S", "Service", 10]]),
        "Charges": RawSheet("Charges", [["Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Price"],
                                        *[[f"K{i}", dt.date(2026, 2, 1), f"C{i:06d}", "S", 1, price[i + 1]]
                                          for i in range(items)]]),
    }
    result = run_billing(sheets, as_of=AS_OF)
    for output in result.outputs:
        if output.name in ("Invoices", "Invoice Lines"):
            sheets[output.name] = RawSheet(output.name, [output.headers, *[list(r) for r in output.rows]])
    return sheets


def statement(items: int, entries: int) -> bytes:
    """N credits against invoices INV-000001 ... (one per customer, in customer order)."""
    chooser = random.Random(7)
    day = dt.date(2026, 3, 5)
    result = []
    for n in range(entries):
        i = chooser.randrange(items)
        invoice_no, amount = f"INV-{i + 1:06d}", Decimal(10 + i % 500)
        kind = n % 10
        fields: dict = {"counterparty_name": f"Payer {n}"}
        if kind < 4:
            fields["structured_reference"] = invoice_rf(invoice_no)
        elif kind < 7:
            fields["purpose"] = f"Rechnung inv {i + 1} vielen Dank"
        elif kind < 9:
            fields |= {"counterparty_iban": iban(i), "purpose": "Abschlag"}
        else:
            fields |= {"counterparty_iban": iban(items + n), "purpose": "Spende"}
        result.append(BankEntry(amount, "EUR", day, day, bank_reference=f"REF{n:07d}", status="BOOK",
                                transaction_code="PMNT-RCDT-ESCT", **fields))
    return camt053(ACCOUNT, result, statement_id="BENCH", created=dt.datetime(2026, 3, 6))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000, help="open invoices (one customer each)")
    parser.add_argument("--entries", type=int, default=10_000, help="credits on the statement")
    parser.add_argument("--runs", type=int, default=3, help="timed runs (the median is reported)")
    args = parser.parse_args()
    assert creditor_id_check_digits("DE", "0999999999")  # the reference helpers import
    sheets = workbook(args.items)
    data = statement(args.items, args.entries)
    imports, matching = [], []
    outcome = None
    for _ in range(args.runs):
        started = time.process_time()
        outcome = import_bank(SheetsInMemory(sheets), [StatementFile("bench.xml", data)], as_of=AS_OF)
        imports.append(time.process_time() - started)
        with collector_paused():
            book, _ = load_accounts(sheets, as_of=AS_OF)
            entries = [e for s in read_statement_file(data, "bench.xml") for e in s.entries]
            matcher = Matcher(OpenItems(book).all(), payers(book, []))
            started = time.process_time()
            for entry in entries:
                matcher.match(entry)
            matching.append(time.process_time() - started)
    summary = outcome.summary
    def best_and_median(times: list[float]) -> str:
        return f"{min(times):.2f} s / {statistics.median(times):.2f} s"

    print("| open items | entries | import, CPU (best / median) | matching the entries alone, CPU (best / median) "
          "| matched | for review |")
    print("|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.items:,} | {args.entries:,} | {best_and_median(imports)} | {best_and_median(matching)} "
          f"| {summary['matched']:,} | {summary['left_for_review']:,} |")


if __name__ == "__main__":
    sys.exit(main())
