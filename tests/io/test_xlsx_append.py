"""Extending a grown sheet part (sheetbill.io.xlsx.append) gives exactly what a full write gives.

The oracle is the full write itself: the same workbook with the entry comments (where the append marks
live) stripped by plain ``zipfile`` is written with the same sheets, which can only take the full path;
both results must hold the same uncompressed parts. Readers (zipfile's CRC check, openpyxl,
python-calamine) must read the extended parts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from sheetbill.io.xlsx import write_output_sheets
from sheetbill.io.xlsx.append import AppendMark, read_mark
from sheetbill.io.xlsx.deflate import FLUSH, RawSegment, crc32_combine, deflate_in_background
from sheetbill.sheets import BarChart, Column, OutputSheet

COLUMNS = (
    Column("Line"),
    Column("Invoice", "int"),
    Column("Amount", "money"),
    Column("Day", "date"),
    Column("Share", "percent"),
    Column("Note"),
    Column("Rate", "decimal"),
)
TEXTS = ["plain", " edge space", "a & b < c > d", "_x0041_ literal", "=1+1", "Ümlaut €", "tab\tin", "", "line\nbreak"]


def random_row(rng: random.Random, number: int) -> list[object]:
    """A data row with the value types the writer handles, some cells empty."""
    row: list[object] = [
        f"L{number:07d}",
        rng.choice([number, None, -number, 2**40]),
        rng.choice([Decimal(rng.randrange(-10**6, 10**6)) / 100, Decimal("80.0"), Decimal("80.00"), None]),
        rng.choice([dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(900)), dt.date(1900, 2, 1),
                    dt.datetime(2024, 5, 6, 7, 8, 9), None]),
        rng.choice([rng.random(), 0.5, 1, True, False, None]),
        rng.choice(TEXTS),
        rng.choice([Decimal("1.5E+3"), Decimal("0.000"), 3.25, None]),
    ]
    return row


def new_workbook(path: Path) -> Path:
    """A small workbook of the user's, with an input sheet and a shared string."""
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("Charges")
    sheet.write_row("A1", ["Charge", "Amount"])
    sheet.write_row("A2", ["C-1", 12.5])
    workbook.close()
    return path


def parts(path: Path) -> dict[str, bytes]:
    """Every entry's uncompressed content, by name."""
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def strip_comments(source: Path, target: Path, level: int = 6) -> Path:
    """A copy of `source` written entry by entry with plain zipfile: same content, recompressed,
    without entry comments -- the workbook as the full path sees it."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            new.writestr(zipfile.ZipInfo(info.filename, info.date_time), old.read(info),
                         compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    return target


def sheet_part_name(path: Path, sheet: str) -> str:
    """The part of sheet `sheet`, found with openpyxl's reader's help (relationships resolved)."""
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    rel_id = re.search(rf'<sheet name="{re.escape(sheet)}" sheetId="\d+" r:id="(rId\d+)"', workbook).group(1)
    target = re.search(rf'Id="{rel_id}" Type="[^"]+" Target="([^"]+)"', rels).group(1)
    return "xl/" + target.lstrip("/").removeprefix("xl/")


def mark_of(path: Path, part: str) -> AppendMark | None:
    """The append mark of `part` in the workbook at `path`."""
    with zipfile.ZipFile(path) as archive:
        return read_mark(archive.getinfo(part))


def compressed(path: Path, part: str) -> bytes:
    """The stored (compressed) bytes of `part`, read from its local header with zipfile's help."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(part)
    data = path.read_bytes()
    start = info.header_offset
    name_length, extra_length = int.from_bytes(data[start + 26:start + 28], "little"), int.from_bytes(
        data[start + 28:start + 30], "little")
    begin = start + 30 + name_length + extra_length
    return data[begin:begin + info.compress_size]


def extended(before: Path, after: Path, part: str) -> bool:
    """Whether `after`'s part reused `before`'s compressed rows: its rows segment starts with them."""
    old, new = mark_of(before, part), mark_of(after, part)
    if old is None or new is None:
        return False
    body = compressed(before, part)[old.head_end:old.body_end]
    return compressed(after, part)[new.head_end:new.head_end + len(body)] == body


def write_both(book: Path, sheets: list[OutputSheet], tmp_path: Path, **options: object) -> bool:
    """Write `sheets` into `book` in place, and the same into a comment-stripped copy of it (the full
    path); assert both results hold the same parts. Returns what the in-place write returned."""
    reference = strip_comments(book, tmp_path / "reference.xlsx")
    written = write_output_sheets(book, sheets, backup=False, **options)
    write_output_sheets(reference, sheets, backup=False, **options)
    assert parts(book) == parts(reference)
    return written


# ----------------------------------------------------------------------------------------------
# The deflate segments
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size2", [0, 1, 3, 4096, 65537, 1_000_003])
def test_crc32_combine_matches_zlib(size2: int) -> None:
    rng = random.Random(size2)
    first, second = rng.randbytes(rng.randrange(0, 5000)), rng.randbytes(size2)
    assert crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second)) == zlib.crc32(first + second)


def test_segments_inflate_to_the_data_and_copied_segments_fit(tmp_path: Path) -> None:
    rng = random.Random(4)
    head, rows, more, tail = (rng.randbytes(200) + b"x" * 5000 for _ in range(4))
    with open(tmp_path / "first", "w+b") as spool:
        first = deflate_in_background([head, FLUSH, rows, FLUSH, tail], spool)
        spool.seek(0)
        data = spool.read()
    assert zlib.decompress(data, -15) == head + rows + tail
    assert first.crc == zlib.crc32(head + rows + tail) and first.compressed_size == len(data)
    opening, closing = first.flush_points
    assert (opening.size, closing.size, closing.segment_size) == (len(head), len(head + rows), len(rows))
    assert closing.segment_crc == zlib.crc32(rows)
    assert closing.segment_zcrc == zlib.crc32(data[opening.offset:closing.offset])
    reused = RawSegment([data[opening.offset:closing.offset]], closing.segment_crc, closing.segment_size)
    with open(tmp_path / "second", "w+b") as spool:
        second = deflate_in_background([b"new head", FLUSH, reused, more, FLUSH, tail], spool)
        spool.seek(0)
        data = spool.read()
    assert zlib.decompress(data, -15) == b"new head" + rows + more + tail
    assert second.crc == zlib.crc32(b"new head" + rows + more + tail)
    assert second.flush_points[1].segment_crc == zlib.crc32(rows + more)


def test_a_raw_segment_must_follow_a_flush_point(tmp_path: Path) -> None:
    with open(tmp_path / "spool", "w+b") as spool, pytest.raises(ValueError, match="flush point"):
        deflate_in_background([b"head", RawSegment([b""], 0, 0)], spool)


# ----------------------------------------------------------------------------------------------
# Append path == full path
# ----------------------------------------------------------------------------------------------


def _change(rng: random.Random, rows: list[list[object]], columns: tuple[Column, ...], serial: int
            ) -> tuple[str, list[list[object]], tuple[Column, ...]]:
    """One day's change to the lines: mostly appended rows, sometimes an edit elsewhere."""
    kind = rng.choices(["append", "none", "edit", "delete", "reorder", "retype"], [8, 2, 1, 1, 1, 1])[0]
    rows = [list(row) for row in rows]
    if kind == "append":
        rows += [random_row(rng, serial + index) for index in range(rng.choice([1, 7, 150, 4100]))]
    elif kind == "edit" and rows:
        rows[rng.randrange(len(rows))][5] = f"edited {serial}"
    elif kind == "delete" and rows:
        del rows[rng.randrange(len(rows))]
    elif kind == "reorder":
        shift = rng.randrange(1, len(columns))
        order = [(index + shift) % len(columns) for index in range(len(columns))]
        columns = tuple(columns[index] for index in order)
        rows = [[row[index] for index in order] for row in rows]
    elif kind == "retype" and rows:
        row = rows[rng.randrange(len(rows))]
        row[1] = float(row[1]) if isinstance(row[1], int) else 7
    return kind, rows, columns


def test_letting_go_of_cached_markup_between_chunks_writes_the_same_bytes(tmp_path: Path, monkeypatch) -> None:
    """The writer makes the markup of each distinct text and amount once and lets go of it between chunks of
    rows when it holds more than ``_MARKUP_KEPT`` (a large sheet's IDs are each written once): a sheet whose
    cache is let go after every chunk is written byte for byte as one whose cache is never let go, texts
    and amounts met again after it was let go (80.0 and 80.00 apart) included."""
    from sheetbill.io.xlsx import render

    rng = random.Random(7)
    rows = [random_row(rng, number) for number in range(3 * render._ROWS_PER_CHUNK + 17)]
    written = {}
    for name, kept in (("never", 10**9), ("every chunk", 0)):
        monkeypatch.setattr(render, "_MARKUP_KEPT", kept)
        book = new_workbook(tmp_path / f"{name}.xlsx")
        assert write_output_sheets(book, [OutputSheet("Lines", COLUMNS, rows)], backup=False)
        written[name] = parts(book)[sheet_part_name(book, "Lines")]
    assert written["every chunk"] == written["never"]
    assert written["never"].count(b"<row ") == 1 + len(rows)  # the header row and every data row


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_append_path_writes_what_the_full_path_writes(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    book = new_workbook(tmp_path / "book.xlsx")
    columns = COLUMNS
    rows = [random_row(rng, number) for number in range(rng.randrange(3000, 4200))]
    small = OutputSheet("Totals", (Column("Day"), Column("Total", "money")), [["Mon", Decimal("1.00")]],
                        chart=BarChart("Totals", 0, (1,), "D2"))
    assert write_both(book, [OutputSheet("Lines", columns, rows), small], tmp_path)
    part = sheet_part_name(book, "Lines")
    kinds = []
    for day in range(8):
        kind, rows, columns = _change(rng, rows, columns, 10_000 * (day + 1))
        before = shutil.copy(book, tmp_path / "before.xlsx")
        stamp = f"run {day}"
        sheets = [OutputSheet("Lines", columns, rows), small,
                  OutputSheet("Problems", (Column("Problem"),), [[f"day {day}"]])]
        assert write_both(book, sheets, tmp_path, stamp=stamp) is True
        grew = kind in ("append", "none")
        assert extended(before, book, part) is grew, kind
        kinds.append(kind)
        # the idle rerun still writes nothing
        assert write_output_sheets(book, sheets, backup=False, stamp=stamp) is False
    assert "append" in kinds


def test_extended_sheets_read_back_in_openpyxl_and_calamine(tmp_path: Path) -> None:
    rng = random.Random(9)
    book = new_workbook(tmp_path / "book.xlsx")
    rows = [random_row(rng, number) for number in range(500)]
    write_output_sheets(book, [OutputSheet("Lines", COLUMNS, rows)], backup=False)
    before = shutil.copy(book, tmp_path / "before.xlsx")
    rows += [random_row(rng, number) for number in range(500, 520)]
    write_output_sheets(book, [OutputSheet("Lines", COLUMNS, rows)], backup=False)
    assert extended(before, book, sheet_part_name(book, "Lines"))
    sheet = openpyxl.load_workbook(book)["Lines"]
    assert sheet.max_row == 521 and sheet.dimensions == "A1:G521"
    assert [cell.value for cell in sheet[521]][0] == "L0000519"
    calamine = CalamineWorkbook.from_path(str(book)).get_sheet_by_name("Lines").to_python()
    assert len(calamine) == 521 and calamine[-1][0] == "L0000519"
    assert [row[0] for row in calamine[1:]] == [row[0] for row in rows]


def test_continuation_sheets_are_extended_or_rewritten_like_a_full_write(tmp_path: Path) -> None:
    rng = random.Random(5)
    book = new_workbook(tmp_path / "book.xlsx")
    rows = [random_row(rng, number) for number in range(30)]
    for grow in (10, 19, 1, 40, 0, 3):
        rows += [random_row(rng, len(rows) + index) for index in range(grow)]
        write_both(book, [OutputSheet("Lines", COLUMNS, rows)], tmp_path, _max_rows=50)
    assert {"Lines", "Lines 2"} <= set(openpyxl.load_workbook(book).sheetnames)


# ----------------------------------------------------------------------------------------------
# Falling back to a full write
# ----------------------------------------------------------------------------------------------


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, list[list[object]], str]:
    """A workbook whose "Lines" sheet sheetbill wrote (with an append mark), its rows and part."""
    rng = random.Random(11)
    book = new_workbook(tmp_path / "book.xlsx")
    rows = [random_row(rng, number) for number in range(300)]
    write_output_sheets(book, [OutputSheet("Lines", COLUMNS, rows)], backup=False)
    part = sheet_part_name(book, "Lines")
    assert mark_of(book, part) is not None
    return book, rows, part


def grown(rows: list[list[object]]) -> list[OutputSheet]:
    """The "Lines" sheet with ten more rows."""
    rng = random.Random(12)
    return [OutputSheet("Lines", COLUMNS, rows + [random_row(rng, 1000 + index) for index in range(10)])]


def test_file_resaved_by_openpyxl_is_written_in_full(written, tmp_path: Path) -> None:
    book, rows, part = written
    openpyxl.load_workbook(book).save(book)
    assert mark_of(book, part) is None
    before = shutil.copy(book, tmp_path / "before.xlsx")
    write_both(book, grown(rows), tmp_path)
    assert not extended(before, book, part) and mark_of(book, part) is not None


def test_recompressed_entries_with_their_comments_are_written_in_full(written, tmp_path: Path) -> None:
    book, rows, part = written
    recompressed = tmp_path / "recompressed.xlsx"
    with zipfile.ZipFile(book) as old, zipfile.ZipFile(recompressed, "w") as new:
        for info in old.infolist():  # zipfile keeps the ZipInfo's comment
            new.writestr(info, old.read(info), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    with zipfile.ZipFile(recompressed) as archive:
        assert archive.getinfo(part).comment.startswith(b"sheetbill-append/")
    assert mark_of(recompressed, part) is None
    before = shutil.copy(recompressed, tmp_path / "before.xlsx")
    write_both(recompressed, grown(rows), tmp_path)
    assert not extended(before, recompressed, part)


def test_edited_prefix_row_is_written_in_full(written, tmp_path: Path) -> None:
    book, rows, part = written
    before = shutil.copy(book, tmp_path / "before.xlsx")
    edited = [list(row) for row in rows]
    edited[150][0] = "changed"
    write_both(book, grown(edited), tmp_path)
    assert not extended(before, book, part)
    assert openpyxl.load_workbook(book)["Lines"]["A152"].value == "changed"


def rebuild(book: Path, target: Path, replace: dict[str, bytes] | None = None, comment=None) -> Path:
    """A copy of `book` built entry by entry from the stored compressed bytes (CRCs and sizes as
    they are), with the entries in `replace` deflated anew and every entry comment passed through
    `comment(name, comment)`: a zip tool that edits what it is told and nothing else."""
    replace = replace or {}
    with zipfile.ZipFile(book) as archive:
        infos = archive.infolist()
    out, directory = bytearray(), bytearray()
    for info in infos:
        if info.filename in replace:
            data = replace[info.filename]
            packer = zlib.compressobj(6, zlib.DEFLATED, -15)
            stored = packer.compress(data) + packer.flush()
            crc, size = zlib.crc32(data), len(data)
        else:
            stored, crc, size = compressed(book, info.filename), info.CRC, info.file_size
        name = info.filename.encode()
        note = comment(info.filename, info.comment) if comment else info.comment
        offset = len(out)
        out += struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 33, crc, len(stored), size, len(name), 0)
        out += name + stored
        directory += struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 33, crc, len(stored), size,
                                 len(name), 0, len(note), 0, 0, 0, offset) + name + note
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(infos), len(infos), len(directory), len(out), 0)
    target.write_bytes(bytes(out + directory + end))
    return target


def _tamper_json(comment: bytes, **changes: object) -> bytes:
    """The comment with JSON fields changed and the checksum recomputed, as a deliberate forger would."""
    magic, rest = comment.split(b" ", 1)
    text = rest.rsplit(b" ", 1)[0].decode()
    fields = json.loads(text)
    fields.update(changes)
    text = json.dumps(fields, separators=(",", ":"), sort_keys=True)
    return magic + b" " + text.encode() + b" " + hashlib.sha256(text.encode()).hexdigest()[:16].encode()


@pytest.mark.parametrize("change", [
    lambda comment: comment.replace(b'"rows":300', b'"rows":290'),  # checksum no longer fits
    lambda comment: comment[:-3],
    lambda comment: b"",
    lambda comment: _tamper_json(comment, rows=290),  # a prefix that is not what the part holds
    lambda comment: _tamper_json(comment, body_zcrc=1),
    lambda comment: _tamper_json(comment, body_end=100),
    lambda comment: _tamper_json(comment, body_crc=7),
    lambda comment: _tamper_json(comment, body_size=5),
    lambda comment: _tamper_json(comment, head_size=3),
    lambda comment: _tamper_json(comment, head_end=20),
    lambda comment: _tamper_json(comment, rows=10**6),
    lambda comment: _tamper_json(comment, rows="300"),
])
def test_tampered_entry_comment_falls_back_or_stays_correct(written, tmp_path: Path, change) -> None:
    book, rows, part = written
    tampered = rebuild(book, tmp_path / "tampered.xlsx",
                       comment=lambda name, comment: change(comment) if name == part else comment)
    assert parts(tampered) == parts(book)
    before = shutil.copy(tampered, tmp_path / "before.xlsx")
    write_both(tampered, grown(rows), tmp_path)
    assert not extended(before, tampered, part)


def test_changed_cell_formats_are_written_in_full(written, tmp_path: Path) -> None:
    book, rows, part = written
    content = parts(book)
    styles = content["xl/styles.xml"].decode()
    # Another cell format at the front of cellXfs moves sheetbill's formats to other indexes.
    count = int(re.search(r'<cellXfs count="(\d+)">', styles).group(1))
    first_xf = re.search(r"<cellXfs count=\"\d+\">(<xf [^>]*?(?:/>|>.*?</xf>))", styles).group(1)
    styles = styles.replace(f'<cellXfs count="{count}">', f'<cellXfs count="{count + 1}">{first_xf}', 1)
    moved = rebuild(book, tmp_path / "moved.xlsx", {"xl/styles.xml": styles.encode()})
    assert mark_of(moved, part) == mark_of(book, part)
    before = shutil.copy(moved, tmp_path / "before.xlsx")
    write_both(moved, grown(rows), tmp_path)
    assert not extended(before, moved, part)


def test_libreoffice_reads_an_extended_sheet(tmp_path: Path) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed")
    book = new_workbook(tmp_path / "book.xlsx")
    rows = [[f"L{number}", number, Decimal(number) / 4] for number in range(20)]
    columns = COLUMNS[:3]
    write_output_sheets(book, [OutputSheet("Lines", columns, rows)], backup=False)
    before = shutil.copy(book, tmp_path / "before.xlsx")
    rows += [[f"L{number}", number, Decimal(number) / 4] for number in range(20, 25)]
    write_output_sheets(book, [OutputSheet("Lines", columns, rows)], backup=False)
    assert extended(before, book, sheet_part_name(book, "Lines"))
    out = tmp_path / "csv"
    export = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--convert-to", export,
         "--outdir", str(out), str(book)],
        check=True, capture_output=True, timeout=180,
    )
    exported = {path.stem.rsplit("-", 1)[-1]: path.read_text("utf-8") for path in out.glob("*.csv")}
    lines = exported["Lines"].splitlines()
    assert lines[0] == "Line,Invoice,Amount" and len(lines) == 26
    assert lines[-2:] == ["L23,23,5.75", "L24,24,6"]
