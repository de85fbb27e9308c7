"""Generate benchmark workbooks with a fixed seed: N charges, N/10 customers, half insured, 20 services.

    python benchmarks/generate.py 100000 [--out benchmarks/data/charges-100000.xlsx] [--taxed]

``--taxed`` gives the services a Tax Rate (19 % and 7 % alternately), so the tax stage is measured.

The layout is what Excel writes (shared strings, date-formatted cells), made with XlsxWriter, so
readers are measured on the kind of file offices have. The data also serves in-memory profiling via
:func:`raw_sheets`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path

SEED = 20260101
SERVICES = [(f"S{n:02d}", f"Service {n}", round(20 + n * 17.35, 2)) for n in range(1, 21)]
PAYERS = [("INS1", "Alpha Health", "insurer"), ("INS2", "Beta Care", "insurer"),
          ("GOV", "State Programme", "government")]
START = dt.date(2026, 1, 1)
AS_OF = dt.date(2026, 12, 31)


def tables(charges: int, taxed: bool = False) -> dict[str, list[list[object]]]:
    """The input tables as lists of rows (header first), deterministic for a given size; ``taxed``: the
    services carry a Tax Rate."""
    rng = random.Random(SEED + charges)
    customers = max(1, charges // 10)
    out: dict[str, list[list[object]]] = {}
    out["Settings"] = [["Setting", "Value"], ["Company Name", "Bench Clinic"], ["Currency", "EUR"],
                       ["As Of Date", AS_OF], ["Payment Terms Days", 30], ["Bank IBAN", "DE89370400440532013000"]]
    out["Customers"] = [["Customer ID", "Name", "Street", "Postal Code", "City", "Email"]] + [
        [f"C{n:07d}", f"Customer {n}", f"{n} Main Street", f"{10000 + n % 89999}", "Springfield",
         f"c{n}@example.org"] for n in range(1, customers + 1)]
    out["Payers"] = [["Payer ID", "Name", "Type", "Payment Terms Days"]] + [[p, n, t, 45] for p, n, t in PAYERS]
    out["Services"] = [["Service Code", "Description", "Price"]] + [list(s) for s in SERVICES]
    if taxed:
        out["Services"] = [[*out["Services"][0], "Tax Rate"]] + [
            [*s, 19 if n % 2 else 7] for n, s in enumerate(SERVICES)]
    out["Payer Codes"] = [["Payer ID", "Service Code", "Allowed Amount", "Covered"]] + [
        [p, code, round(price * 0.8, 2), "yes"] for p, _, _ in PAYERS[:2] for code, _, price in SERVICES]
    coverage = [["Customer ID", "Payer ID", "Member ID", "Priority", "Valid From", "Covered Percent",
                 "Annual Deductible", "Out of Pocket Max"]]
    for n in range(1, customers + 1, 2):  # half of the customers are insured
        payer = PAYERS[n % 2][0]
        coverage.append([f"C{n:07d}", payer, f"M{n:08d}", 1, START, 80, 500, 3000])
    out["Coverage"] = coverage
    rows = [["Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Note"]]
    for n in range(1, charges + 1):
        day = START + dt.timedelta(days=rng.randrange(300))
        rows.append([f"X{n:08d}", day, f"C{rng.randrange(1, customers + 1):07d}", rng.choice(SERVICES)[0],
                     rng.choice((1, 1, 1, 2)), None])
    out["Charges"] = rows
    # One payment per customer without an invoice number (the customer's oldest open items first, the
    # rest as credit), so every run books and allocates a payment per ten charges.
    payments = [["Payment ID", "Date", "Invoice No", "Amount", "Type", "Customer ID"]]
    for n in range(1, customers + 1):
        payments.append([f"B{n:07d}", AS_OF, None, rng.choice((20, 50, 80, 150, 400)), "Payment", f"C{n:07d}"])
    out["Payments"] = payments
    return out


def write(path: Path, charges: int, taxed: bool = False) -> Path:
    """Write the workbook for ``charges`` charges to ``path``."""
    import xlsxwriter

    data = tables(charges, taxed)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    workbook.set_properties({"created": dt.datetime(2026, 1, 1)})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    bold = workbook.add_format({"bold": True})
    for name, rows in data.items():
        sheet = workbook.add_worksheet(name)
        sheet.write_row(0, 0, rows[0], bold)
        for r, row in enumerate(rows[1:], start=1):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
                else:
                    sheet.write(r, c, value)
    workbook.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("charges", type=int)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--taxed", action="store_true", help="services with a Tax Rate (19 %% and 7 %%)")
    args = parser.parse_args(argv)
    out = args.out or Path(__file__).parent / "data" / f"charges-{args.charges}.xlsx"
    write(out, args.charges, args.taxed)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
