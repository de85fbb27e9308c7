"""Timing of the .xlsx file layer alone: write a large output sheet surgically, read it back.

    python benchmarks/xlsx_io_speed.py [--rows N]

Builds a small workbook with XlsxWriter (two input sheets, an Excel table, a formula), then in a
temporary folder measures, each once:

* writing an OutputSheet of N rows (default 100,000) and 11 columns of mixed kinds (text, int,
  money, date, percent, bool) into a copy of it;
* the same write again, which must find nothing to change and leave the file byte-identical;
* reading the written sheet back with :func:`read_workbook`.

It prints wall seconds and the process's peak RSS. This is a quick check of the file layer, not
the project benchmark (``benchmarks/run.py`` measures whole billing runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sheetbill.io.xlsx import read_workbook, write_output_sheets  # noqa: E402
from sheetbill.sheets import Column, OutputSheet  # noqa: E402

COLUMNS = (
    Column("Invoice"), Column("Customer Id", "int"), Column("Customer"), Column("Issued", "date"),
    Column("Due", "date"), Column("Net", "money"), Column("Tax", "money"), Column("Total", "money"),
    Column("Coverage", "percent"), Column("Paid"), Column("Note"),
)


def small_workbook(path: Path) -> None:
    """A workbook of the kind users start from: a couple of input sheets, a table, a formula."""
    with xlsxwriter.Workbook(path) as workbook:
        customers = workbook.add_worksheet("Customers")
        customers.write_row("A1", ["Id", "Name", "Rate"])
        for row in range(1, 51):
            customers.write_row(row, 0, [row, f"Customer {row}", 0.19])
        customers.write_formula("C52", "=SUM(C2:C51)", None, 9.5)
        charges = workbook.add_worksheet("Charges")
        charges.add_table("A1:C11", {"name": "ChargeTable", "columns": [
            {"header": "Charge"}, {"header": "Customer"}, {"header": "Amount"}],
            "data": [[f"C-{i}", i, 10.0 + i] for i in range(10)]})


def output_sheet(rows: int) -> OutputSheet:
    """An Invoices sheet of `rows` rows and 11 columns."""
    start = dt.date(2024, 1, 1)
    data = []
    for i in range(rows):
        net = Decimal(i % 10_000) / 100
        tax = (net * Decimal("0.19")).quantize(Decimal("0.01"))
        issued = start + dt.timedelta(days=i % 365)
        data.append((
            f"INV-{i:08d}", i % 5000, f"Customer {i % 5000}", issued, issued + dt.timedelta(days=30),
            net, tax, net + tax, Decimal("80"), i % 3 == 0, None if i % 4 else "paid late & <partly>",
        ))
    return OutputSheet("Invoices", COLUMNS, data)


def timed(label: str, action: object) -> object:
    began = time.perf_counter()
    result = action()  # type: ignore[operator]
    print(f"{label:<42} {time.perf_counter() - began:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows
    sheet = output_sheet(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.xlsx"
        small_workbook(path)
        print(f"{rows:,} rows x {len(COLUMNS)} columns")
        timed("write (surgical, atomic, with .bak)", lambda: write_output_sheets(path, [sheet]))
        size = path.stat().st_size
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        changed = timed("write again (nothing to change)", lambda: write_output_sheets(path, [sheet]))
        assert changed is False and hashlib.sha256(path.read_bytes()).hexdigest() == before
        read = timed("read back (read_workbook, one sheet)", lambda: read_workbook(path, ["Invoices"]))
        assert len(read["Invoices"].rows) == rows + 1  # type: ignore[index]
        print(f"file size {size / 2**20:.1f} MiB, peak RSS "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
