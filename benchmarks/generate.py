"""Generate benchmark workbooks with a fixed seed: N charges, N/10 customers, half insured, 20 services.

    python benchmarks/generate.py 100000 [--out benchmarks/data/charges-100000.xlsx] [--taxed]
    python benchmarks/generate.py 100000 --day BILLED.xlsx [--count K] [--seed S]

``--taxed`` gives the services a Tax Rate (19 % and 7 % alternately), so the tax stage is measured.
``--day`` adds a day's work to a workbook of N charges that was billed already (:func:`append_day`):
K new charges (default 0.1 % of N) and as many payments, appended in place.

The layout is what Excel writes (shared strings, date-formatted cells), made with XlsxWriter, so
readers are measured on the kind of file offices have. The data also serves in-memory profiling via
:func:`raw_sheets`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import struct
import sys
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

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


@dataclass(frozen=True)
class Day:
    """What :func:`append_day` added: the new charges' ids and their customers, and the payments' ids."""

    charge_ids: tuple[str, ...]
    customers: frozenset[str]
    payment_ids: tuple[str, ...]


def day_rows(charges: int, count: int, seed: int) -> dict[str, list[dict[str, object]]]:
    """A day's new rows for the workbook of ``charges`` charges: ``count`` charges dated the day before
    the as-of date and ``count`` payments (by Customer ID) dated the as-of date, for random customers and
    services, as values by column header. Charge ids continue after the generated ones (``seed`` picks the
    customers, services and amounts, and numbers the payments, so several days do not collide)."""
    rng = random.Random(seed)
    customers = max(1, charges // 10)
    new_charges = [{"Charge ID": f"X{charges + seed * count + n:08d}", "Date": AS_OF - dt.timedelta(days=1),
                    "Customer ID": f"C{rng.randrange(1, customers + 1):07d}",
                    "Service Code": rng.choice(SERVICES)[0], "Quantity": rng.choice((1, 1, 1, 2))}
                   for n in range(1, count + 1)]
    payments = [{"Payment ID": f"D{seed:04d}{n:07d}", "Date": AS_OF, "Amount": rng.choice((20, 50, 80)),
                 "Type": "Payment", "Customer ID": f"C{rng.randrange(1, customers + 1):07d}"}
                for n in range(1, count + 1)]
    return {"Charges": new_charges, "Payments": payments}


def append_day(path: Path, charges: int, count: int, seed: int = 1) -> Day:
    """Append a day's charges and payments (:func:`day_rows`) to the Charges and Payments sheets of the
    workbook ``path`` (made by :func:`write` for ``charges`` charges, billed or not), in place.

    It edits the file the way a program that changes two sheets would: those two sheet parts get the new
    rows (inline strings, each column styled like the sheet's last row, the ``<dimension>`` extended), and
    every other zip entry is copied as stored, compressed bytes and all. The sheets must be plain ranges
    (as :func:`write` makes them, no Excel tables).
    """
    rows = day_rows(charges, count, seed)
    path = Path(path)
    with zipfile.ZipFile(path) as package:
        parts = _sheet_parts(package)
        strings = _shared_strings(package)
        new_parts = {parts[name]: _append_rows(package.read(parts[name]), added, strings)
                     for name, added in rows.items()}
    staged = path.with_name(path.name + ".day")
    _rewrite_zip(path, staged, new_parts)
    staged.replace(path)
    return day_of(charges, count, seed)


def day_of(charges: int, count: int, seed: int = 1) -> Day:
    """What :func:`append_day` adds with these arguments (computed, nothing is read)."""
    rows = day_rows(charges, count, seed)
    return Day(tuple(str(row["Charge ID"]) for row in rows["Charges"]),
               frozenset(str(row["Customer ID"]) for row in rows["Charges"]),
               tuple(str(row["Payment ID"]) for row in rows["Payments"]))


def _sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part name, from the workbook part and its relationships."""
    workbook = package.read("xl/workbook.xml").decode()
    rels = package.read("xl/_rels/workbook.xml.rels").decode()
    targets = {}
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        rel_id, target = re.search(r'\bId="([^"]+)"', rel), re.search(r'\bTarget="([^"]+)"', rel)
        if rel_id and target:
            value = target.group(1)
            targets[rel_id.group(1)] = value.lstrip("/") if value.startswith("/") else "xl/" + value
    return {name: targets[rel_id]
            for name, rel_id in re.findall(r'<sheet\b[^>]*?\bname="([^"]+)"[^>]*?\br:id="([^"]+)"', workbook)}


def _shared_strings(package: zipfile.ZipFile) -> list[str]:
    """The shared strings (plain text runs concatenated), to read the header rows."""
    try:
        data = package.read("xl/sharedStrings.xml").decode()
    except KeyError:
        return []
    return ["".join(re.findall(r"<t[^>]*>([^<]*)</t>", item)) for item in re.findall(r"<si>(.*?)</si>", data, re.S)]


_ROW = re.compile(r'<row r="(\d+)"[^>]*>(.*?)</row>', re.S)
_CELL = re.compile(r'<c r="([A-Z]+)\d+"([^>]*?)(?:/>|>(.*?)</c>)', re.S)


def _append_rows(xml_bytes: bytes, added: list[dict[str, object]], strings: list[str]) -> bytes:
    """The sheet part with ``added`` appended after its last row, columns found by their headers."""
    xml = xml_bytes.decode()
    first = _ROW.search(xml)
    last_start = xml.rfind("<row ", 0, xml.index("</sheetData>"))
    last = _ROW.match(xml, last_start)
    if first is None or last is None:
        raise ValueError("a sheet without rows has no header to append under")
    header = {}
    for column, attrs, body in _CELL.findall(first.group(2)):
        value = re.search(r"<v>([^<]*)</v>", body or "")
        if 't="s"' in attrs and value:
            header[strings[int(value.group(1))]] = column
        else:
            text = re.findall(r"<t[^>]*>([^<]*)</t>", body or "")
            header["".join(text)] = column
    styles = {column: style.group(0) for column, attrs, _ in _CELL.findall(last.group(2))
              if (style := re.search(r' s="\d+"', attrs))}
    number = int(last.group(1))
    rendered = []
    for values in added:
        number += 1
        cells = sorted((_column_number(header[name]), header[name], value) for name, value in values.items())
        rendered.append(f'<row r="{number}">' + "".join(_cell(f"{column}{number}", styles.get(column, ""), value)
                                                         for _, column, value in cells) + "</row>")
    xml = xml[:last.end()] + "".join(rendered) + xml[last.end():]
    xml = re.sub(r'(<dimension ref="[A-Z]+\d+:[A-Z]+)\d+"', lambda m: f'{m.group(1)}{number}"', xml, count=1)
    return xml.encode()


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _cell(ref: str, style: str, value: object) -> str:
    if isinstance(value, dt.date):
        return f'<c r="{ref}"{style}><v>{(value - dt.date(1899, 12, 30)).days}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    return f'<c r="{ref}"{style} t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")


def _rewrite_zip(source: Path, target: Path, replaced: dict[str, bytes]) -> None:
    """Write ``target``: ``source``'s entries in order, each copied as stored (local header, compressed
    data and data descriptor byte for byte), except the parts in ``replaced``, deflated anew."""
    with zipfile.ZipFile(source) as package, open(source, "rb") as raw, open(target, "wb") as out:
        entries = package.infolist()
        ends = sorted(info.header_offset for info in entries)[1:] + [package.start_dir]
        central = []
        for info in entries:
            if any(value >= 0xFFFFFFFF for value in (info.file_size, info.compress_size, info.header_offset)):
                raise ValueError(f"{source.name}: Zip64 entries are not supported here")
            offset = out.tell()
            crc, compressed, size, extra = info.CRC, info.compress_size, info.file_size, info.extra
            year, month, day, hour, minute, second = info.date_time
            time_, date_ = (hour << 11) | (minute << 5) | second // 2, ((year - 1980) << 9) | (month << 5) | day
            if info.filename in replaced:
                data = replaced[info.filename]
                deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
                body = deflate.compress(data) + deflate.flush()
                crc, compressed, size, extra = zlib.crc32(data), len(body), len(data), b""
                name = info.filename.encode()
                out.write(_LOCAL.pack(b"PK\x03\x04", 20, 0, zipfile.ZIP_DEFLATED, time_, date_, crc, compressed,
                                      size, len(name), 0) + name + body)
                flags, method = 0, zipfile.ZIP_DEFLATED
            else:
                raw.seek(info.header_offset)
                out.write(raw.read(next(end for end in ends if end > info.header_offset) - info.header_offset))
                flags, method = info.flag_bits, info.compress_type
            name = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
            central.append(_CENTRAL.pack(b"PK\x01\x02", (info.create_system << 8) | info.create_version,
                                         info.extract_version, flags, method, time_, date_, crc, compressed, size,
                                         len(name), len(extra), len(info.comment), 0, info.internal_attr,
                                         info.external_attr, offset) + name + extra + info.comment)
        start = out.tell()
        out.write(b"".join(central))
        out.write(_END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), out.tell() - start, start,
                            len(package.comment)) + package.comment)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("charges", type=int)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--taxed", action="store_true", help="services with a Tax Rate (19 %% and 7 %%)")
    parser.add_argument("--day", type=Path, metavar="BILLED",
                        help="append a day's charges and payments to this workbook of CHARGES charges instead")
    parser.add_argument("--count", type=int, help="with --day: how many charges and payments (default 0.1 %%)")
    parser.add_argument("--seed", type=int, default=1, help="with --day: which day (default 1)")
    args = parser.parse_args(argv)
    if args.day:
        day = append_day(args.day, args.charges, args.count or max(1, args.charges // 1000), args.seed)
        print(f"{args.day}: {len(day.charge_ids)} charges and {len(day.payment_ids)} payments added")
        return 0
    out = args.out or Path(__file__).parent / "data" / f"charges-{args.charges}.xlsx"
    write(out, args.charges, args.taxed)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
