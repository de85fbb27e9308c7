"""Hostile workbooks built from code: corrupt parts, bombs within a small cap, huge and far-away
cells, out-of-range values, hostile names and prefixes. Each builder takes the demo workbook's path
and a target path and writes one hostile variant."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl

Builder = Callable[[Path, Path], None]


def _rewrite(source: Path, target: Path, change: Callable[[str, bytes], bytes | None],
             compression: int = zipfile.ZIP_DEFLATED) -> None:
    """Copy the zip, passing each part through ``change`` (None drops it)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", compression) as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info))
            if data is not None:
                new.writestr(info.filename, data)


def _corrupt_raw(source: Path, target: Path, part: str, how: str) -> None:
    """Damage ``part``'s stored bytes: flip its deflate data, or its CRC in both headers."""
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as z:
        info = z.getinfo(part)
    offset = info.header_offset
    name_len, extra_len = int.from_bytes(data[offset + 26:offset + 28], "little"), int.from_bytes(
        data[offset + 28:offset + 30], "little")
    start = offset + 30 + name_len + extra_len
    if how == "deflate":
        for i in range(start + 2, min(start + 40, start + info.compress_size)):
            data[i] ^= 0x5A
    else:
        bad = (info.CRC ^ 0xDEADBEEF).to_bytes(4, "little")
        data[offset + 14:offset + 18] = bad
        central = data.rfind(b"PK\x01\x02" + data[data.find(b"PK\x01\x02") + 4:data.find(b"PK\x01\x02") + 4][:0])
        index = 0
        while (index := data.find(b"PK\x01\x02", index)) != -1:
            length = int.from_bytes(data[index + 28:index + 30], "little")
            if data[index + 46:index + 46 + length].decode() == part:
                data[index + 16:index + 20] = bad
            index += 4
        del central
    target.write_bytes(bytes(data))


def _part_of(source: Path, sheet: str) -> str:
    with zipfile.ZipFile(source) as z:
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rel_id = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', workbook).group(1)
    target = re.search(rf'Id="{rel_id}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rel_id}"', rels)
    path = target.group(1) or target.group(2)
    return path.lstrip("/") if path.startswith("/") else "xl/" + path


def _cells(changes: dict[str, dict[str, object]]) -> Builder:
    """Set cells with openpyxl: {sheet: {"A1": value}}."""
    def build(source: Path, target: Path) -> None:
        book = openpyxl.load_workbook(source)
        for sheet, cells in changes.items():
            for ref, value in cells.items():
                book[sheet][ref] = value
        book.save(target)
    return build


def _setting(name: str, value: object) -> Builder:
    def build(source: Path, target: Path) -> None:
        book = openpyxl.load_workbook(source)
        sheet = book["Settings"]
        for row in sheet.iter_rows(min_row=2):
            if row[0].value == name:
                row[1].value = value
        book.save(target)
    return build


def _part_text(part: str, change: Callable[[bytes], bytes]) -> Builder:
    def build(source: Path, target: Path) -> None:
        _rewrite(source, target, lambda name, data: change(data) if name == part else data)
    return build


def _charges_part(change: Callable[[bytes], bytes]) -> Builder:
    def build(source: Path, target: Path) -> None:
        part = _part_of(source, "Charges")
        _rewrite(source, target, lambda name, data: change(data) if name == part else data)
    return build


def _far_cell(ref: str) -> Builder:
    def insert(data: bytes) -> bytes:
        row = re.match(rb"[A-Z]+([0-9]+)", ref.encode()).group(1)
        cell = b'<row r="' + row + b'"><c r="' + ref.encode() + b'"><v>1</v></c></row></sheetData>'
        return data.replace(b"</sheetData>", cell, 1)
    return _charges_part(insert)


def _bomb(megabytes: int) -> Builder:
    """A sheet part that inflates to ``megabytes`` of padding inside its XML (a comment)."""
    def pad(data: bytes) -> bytes:
        return data.replace(b"<sheetData>", b"<!--" + b" " * (megabytes << 20) + b"--><sheetData>", 1)
    return _charges_part(pad)


def _rename_sheet(old: str, new: str) -> Builder:
    return _part_text("xl/workbook.xml", lambda data: data.replace(f'name="{old}"'.encode(), f'name="{new}"'.encode()))


def _long_text(source: Path, target: Path) -> None:
    book = openpyxl.load_workbook(source)
    book["Charges"]["A2"] = "X" * 32_767
    book["Charges"]["F3"] = "9" * 32_000
    book["Customers"]["B2"] = "N" * 32_767
    book.save(target)


def _directory(source: Path, target: Path) -> None:
    target.mkdir()


def _unreadable(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    target.chmod(0o000)


def _empty(source: Path, target: Path) -> None:
    target.write_bytes(b"")


def _garbage(source: Path, target: Path) -> None:
    target.write_bytes(b"PK\x03\x04" + b"\x00" * 200)


CORPUS: dict[str, Builder] = {
    "crc-charges": lambda s, t: _corrupt_raw(s, t, _part_of(s, "Charges"), "crc"),
    "deflate-charges": lambda s, t: _corrupt_raw(s, t, _part_of(s, "Charges"), "deflate"),
    "crc-styles": lambda s, t: _corrupt_raw(s, t, "xl/styles.xml", "crc"),
    "malformed-workbook-xml": _part_text("xl/workbook.xml", lambda d: d.replace(b"</sheets>", b"<sheets>", 1)),
    "malformed-styles-xml": _part_text("xl/styles.xml", lambda d: d[: len(d) // 2]),
    "malformed-sheet-xml": _charges_part(lambda d: d.replace(b"</sheetData>", b"<row></sheetData>", 1)),
    "bad-sheet-id": _part_text("xl/workbook.xml", lambda d: d.replace(b'sheetId="1"', b'sheetId="x"', 1)),
    "entity-expansion": _charges_part(lambda d: d.replace(
        b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<worksheet", 1)),
    "bomb-in-sheet": _bomb(12),
    "far-cell-cv": _far_cell("CV1048576"),
    "far-cell-xfd": _far_cell("XFD1048576"),
    "far-cell-row": _far_cell("A1048576"),
    "long-text": _long_text,
    "amount-1e300": _cells({"Charges": {"F2": 1e300}, "Payments": {"D2": 1e300}}),
    "amount-17-digits": _cells({"Services": {"C2": 999_999_999_999_999.99}}),
    "hold-until-10000": _cells({"Contacts": {"F2": "10000-01-01"}}),
    "payment-terms-1e9": _setting("Payment Terms Days", 1e9),
    "payment-terms-negative": _setting("Payment Terms Days", -5),
    "invoice-digits-negative": _setting("Invoice Digits", -3),
    "invoice-digits-40000": _setting("Invoice Digits", 40000),
    "installments-1e6": _cells({"Payment Plans": {"C2": 1e6}}),
    "installments-1e9": _cells({"Payment Plans": {"C2": 1e9}}),
    "interval-months-1e6": _cells({"Payment Plans": {"E2": 1e6}}),
    "as-of-setting-9999": _setting("As Of Date", dt.datetime(9999, 12, 31)),
    "duplicate-sheet-name": _rename_sheet("Payments", "charges"),
    "duplicate-header": _cells({"Charges": {"H1": "Price"}}),
    "formula-prefixes": _cells({"Customers": {"B2": "=cmd|' /C calc'!A0", "B3": "+SUM(1)", "B4": "@x", "G2": "-1"}}),
    "hostile-names": _cells({"Charges": {"A2": "../../etc/passwd", "H2": "a\r\nBcc: x@evil.example"},
                             "Customers": {"B2": "\u202eevil\u200b"}}),
    "empty-file": _empty,
    "garbage-zip": _garbage,
    "directory": _directory,
    "unreadable": _unreadable,
}

