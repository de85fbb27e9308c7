"""The .xlsx file layer: reading with python-calamine and the surgical writer, on real files."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import struct
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from sheetbill.cells import normalize
from sheetbill.io.xlsx import (
    WorkbookFormatError,
    WorkbookLockedError,
    package,
    read_workbook,
    write_output_sheets,
)
from sheetbill.sheets import BarChart, Column, OutputSheet

# The rich workbook's sparkline is an extension openpyxl warns about (and would drop on save).
pytestmark = pytest.mark.filterwarnings("ignore:Sparkline Group extension:UserWarning")

INVOICE_COLUMNS = (
    Column("Invoice"),
    Column("Customer", "int"),
    Column("Amount", "money"),
    Column("Issued", "date"),
    Column("Coverage", "percent"),
    Column("Paid"),
    Column("Rate", "decimal", width=9.5),
)


def raw_entries(path: Path) -> dict[str, tuple[int, int, bytes]]:
    """Each zip entry's (CRC, compression method, stored compressed bytes), read from the local
    headers with plain struct parsing, independently of the code under test."""
    entries = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as stream:
        for info in archive.infolist():
            stream.seek(info.header_offset)
            name_length, extra_length = struct.unpack("<2H", stream.read(30)[26:30])
            stream.seek(info.header_offset + 30 + name_length + extra_length)
            entries[info.filename] = (info.CRC, info.compress_type, stream.read(info.compress_size))
    return entries


def sha256(path: Path) -> str:
    """The file's SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def part_text(path: Path, name: str) -> str:
    """A part of the package, decoded."""
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8")


def invoices(count: int, name: str = "Invoices") -> OutputSheet:
    """An output sheet of `count` invoices with every kind of value."""
    rows = [
        (f"INV-{i:04d}", i, Decimal(i) + Decimal("0.05"), dt.date(2024, 1, 1) + dt.timedelta(days=i),
         Decimal("80"), i % 2 == 0, Decimal("0.125"))
        for i in range(count)
    ]
    return OutputSheet(name, INVOICE_COLUMNS, rows)


def problems() -> OutputSheet:
    """A small output sheet with awkward texts."""
    return OutputSheet(
        "Problems",
        (Column("Where"), Column("Message"), Column("Row", "int")),
        [
            ('=HYPERLINK("http://x","y")', "  padded & <marked> ", 2),
            ("line\nbreak\r\nand tab\t", "literal _x0041_ stays", 3),
            ("bell \x07 and nul \x00", None, None),
            ("émoji 🧾 and ü", "", 4),
        ],
    )


def aging() -> OutputSheet:
    """The small table that gets a chart."""
    return OutputSheet(
        "Aging",
        (Column("Bucket"), Column("Invoices", "int"), Column("Open", "money")),
        [("current", 4, Decimal("100.00")), ("1-30", 2, Decimal("55.50")), ("31-60", 1, Decimal("9.99"))],
        chart=BarChart("Open by age", category_column=0, value_columns=(1, 2), anchor="E2"),
    )


# ------------------------------------------------------------------------------------------
# The surgical writer keeps everything else
# ------------------------------------------------------------------------------------------


def test_untouched_entries_are_byte_identical(rich_workbook: Path) -> None:
    before = raw_entries(rich_workbook)
    assert write_output_sheets(rich_workbook, [invoices(20), problems()]) is True
    after = raw_entries(rich_workbook)

    rewritten = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
                 "xl/worksheets/sheet4.xml"}
    dropped = set(before) - set(after)
    # The replaced "Invoices" sheet loses its table, comment and drawing; the image it shared
    # with "Customers" stays.
    assert dropped == {
        "xl/worksheets/_rels/sheet4.xml.rels", "xl/tables/table3.xml", "xl/comments2.xml",
        "xl/drawings/vmlDrawing2.vml", "xl/drawings/drawing2.xml", "xl/drawings/_rels/drawing2.xml.rels",
    }
    assert set(after) - set(before) == {"xl/worksheets/sheet5.xml"}
    assert "xl/media/image1.png" in after
    for name in set(before) - rewritten - dropped:
        assert after[name] == before[name], name
    for name in rewritten:
        assert after[name] != before[name], name
    assert next(iter(after)) == "[Content_Types].xml"

    content_types = part_text(rich_workbook, "[Content_Types].xml")
    assert "table3.xml" not in content_types and "comments2.xml" not in content_types
    with zipfile.ZipFile(rich_workbook) as archive:
        assert archive.testzip() is None


def test_openpyxl_sees_values_types_and_formats(rich_workbook: Path) -> None:
    write_output_sheets(rich_workbook, [invoices(3), problems()])
    book = openpyxl.load_workbook(rich_workbook)
    assert book.sheetnames == ["Customers", "Data", "Payments", "Invoices", "Problems"]

    sheet = book["Invoices"]
    assert [cell.value for cell in sheet[1]] == [column.header for column in INVOICE_COLUMNS]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:G4"
    assert sheet.column_dimensions["G"].width == 9.5
    invoice, customer, amount, issued, coverage, paid, rate = sheet[3]
    assert (invoice.value, invoice.data_type) == ("INV-0001", "s")
    assert (customer.value, customer.number_format) == (1, "0")
    assert (amount.value, amount.data_type, amount.number_format) == (1.05, "n", "#,##0.00")
    assert issued.value == dt.datetime(2024, 1, 2) and issued.is_date and issued.number_format == "yyyy-mm-dd"
    assert (coverage.value, coverage.number_format) == (80, '0.00"%"')
    assert (paid.value, paid.data_type) == (False, "b")
    assert rate.value == 0.125

    hyperlink = book["Problems"]["A2"]
    assert (hyperlink.value, hyperlink.data_type) == ('=HYPERLINK("http://x","y")', "s")
    assert book["Problems"]["B5"].value is None  # "" is an empty cell

    customers = book["Customers"]
    assert customers["C5"].value == "=SUM(C2:C4)"
    assert [str(rule.sqref) for rule in customers.conditional_formatting] == ["C2:C4"]
    assert customers.data_validations.dataValidation[0].formula1 == '"open,closed"'
    assert [str(merged) for merged in customers.merged_cells.ranges] == ["A7:D7"]
    assert book.defined_names["Rate"].attr_text == "0.19"
    assert "LocalTotal" in customers.defined_names


def test_cached_formula_values_survive(rich_workbook: Path) -> None:
    write_output_sheets(rich_workbook, [invoices(2)])
    assert openpyxl.load_workbook(rich_workbook, data_only=True)["Customers"]["C5"].value == 449.75
    assert read_workbook(rich_workbook, ["Customers"])["Customers"].rows[4][2] == 449.75


def test_calamine_reads_back_what_was_written(rich_workbook: Path) -> None:
    write_output_sheets(rich_workbook, [invoices(3), problems()])
    sheets = read_workbook(rich_workbook, ["invoices", "PROBLEMS"])
    assert sorted(sheets) == ["Invoices", "Problems"]
    assert sheets["Invoices"].rows == [
        [column.header for column in INVOICE_COLUMNS],
        ["INV-0000", 0.0, 0.05, dt.date(2024, 1, 1), 80.0, True, 0.125],
        ["INV-0001", 1.0, 1.05, dt.date(2024, 1, 2), 80.0, False, 0.125],
        ["INV-0002", 2.0, 2.05, dt.date(2024, 1, 3), 80.0, True, 0.125],
    ]
    assert sheets["Problems"].rows[1:] == [
        ['=HYPERLINK("http://x","y")', "  padded & <marked> ", 2.0],
        ["line\nbreak\r\nand tab\t", "literal _x0041_ stays", 3.0],
        ["bell \x07 and nul \x00", None, None],
        ["émoji 🧾 and ü", None, 4.0],
    ]
    assert (sheets["Problems"].first_row, sheets["Problems"].first_col) == (1, 1)


def test_rewriting_identical_content_changes_nothing(rich_workbook: Path) -> None:
    sheets = [invoices(50), problems(), aging()]
    assert write_output_sheets(rich_workbook, sheets) is True
    digest, modified = sha256(rich_workbook), rich_workbook.stat().st_mtime_ns
    backup = rich_workbook.with_name("book.xlsx.bak")
    backup.unlink()

    assert write_output_sheets(rich_workbook, [invoices(50), problems(), aging()]) is False
    assert sha256(rich_workbook) == digest
    assert rich_workbook.stat().st_mtime_ns == modified
    assert not backup.exists()
    # Any difference, however small, is written.
    changed = invoices(50)
    changed.rows[7] = (*changed.rows[7][:2], Decimal("7.06"), *changed.rows[7][3:])
    assert write_output_sheets(rich_workbook, [changed]) is True


def test_repeated_writes_do_not_grow_styles(rich_workbook: Path) -> None:
    write_output_sheets(rich_workbook, [invoices(3)])
    styles = part_text(rich_workbook, "xl/styles.xml")
    write_output_sheets(rich_workbook, [invoices(4), problems()])
    assert part_text(rich_workbook, "xl/styles.xml") == styles


def test_shorter_replacement_leaves_no_stale_rows(rich_workbook: Path) -> None:
    write_output_sheets(rich_workbook, [invoices(40)])
    write_output_sheets(rich_workbook, [invoices(2)])
    assert len(read_workbook(rich_workbook, ["Invoices"])["Invoices"].rows) == 3
    sheet = openpyxl.load_workbook(rich_workbook)["Invoices"]
    assert sheet.max_row == 3 and sheet.auto_filter.ref == "A1:G3"


def test_replacement_keeps_position_name_part_and_ids(rich_workbook: Path) -> None:
    workbook_before = part_text(rich_workbook, "xl/workbook.xml")
    write_output_sheets(rich_workbook, [invoices(2, name="INVOICES"), problems()])
    workbook_after = part_text(rich_workbook, "xl/workbook.xml")
    assert '<sheet name="Invoices" sheetId="4" r:id="rId4"/>' in workbook_before
    assert '<sheet name="Invoices" sheetId="4" r:id="rId4"/>' in workbook_after
    assert '<sheet name="Problems" sheetId="5"' in workbook_after
    assert workbook_after.count("_xlnm._FilterDatabase") == 2
    assert 'fullCalcOnLoad="1"' in workbook_after
    with zipfile.ZipFile(rich_workbook) as archive:
        assert "xl/worksheets/sheet5.xml" in archive.namelist()
        assert "xl/worksheets/_rels/sheet4.xml.rels" not in archive.namelist()


def test_calc_chain_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "chain.xlsx"
    with xlsxwriter.Workbook(path) as workbook:
        workbook.add_worksheet("Sheet1").write_formula("A1", "=1+1", None, 2)
    with_chain = tmp_path / "with-chain.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(with_chain, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/calcChain.xml" ContentType='
                                    b'"application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/>'
                                    b"</Types>")
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rId99" Type="http://schemas.'
                                    b'openxmlformats.org/officeDocument/2006/relationships/calcChain" '
                                    b'Target="calcChain.xml"/></Relationships>')
            target.writestr(info, data)
        target.writestr("xl/calcChain.xml", '<calcChain xmlns="http://schemas.openxmlformats.org/'
                        'spreadsheetml/2006/main"><c r="A1" i="1"/></calcChain>')
    write_output_sheets(with_chain, [problems()])
    with zipfile.ZipFile(with_chain) as archive:
        assert "xl/calcChain.xml" not in archive.namelist()
        assert b"calcChain" not in archive.read("[Content_Types].xml")
        assert b"calcChain" not in archive.read("xl/_rels/workbook.xml.rels")
        assert b'fullCalcOnLoad="1"' in archive.read("xl/workbook.xml")


def test_macro_workbook_keeps_vba_and_button(macro_workbook: Path, vba_project: bytes) -> None:
    before = raw_entries(macro_workbook)
    write_output_sheets(macro_workbook, [problems()])
    after = raw_entries(macro_workbook)
    with zipfile.ZipFile(macro_workbook) as archive:
        assert archive.read("xl/vbaProject.bin") == vba_project
        assert b"macroEnabled.main+xml" in archive.read("[Content_Types].xml")
    for name in ("xl/vbaProject.bin", "xl/worksheets/sheet1.xml", "xl/drawings/vmlDrawing1.vml",
                 "xl/worksheets/_rels/sheet1.xml.rels"):
        assert after[name] == before[name]
    book = openpyxl.load_workbook(macro_workbook, keep_vba=True)
    assert book.sheetnames == ["Start", "Problems"]
    assert read_workbook(macro_workbook)["Start"].rows == [["Press the button"]]


def test_chart_parts(rich_workbook: Path) -> None:
    write_output_sheets(rich_workbook, [aging()])
    with zipfile.ZipFile(rich_workbook) as archive:
        names = archive.namelist()
        sheet_rels = archive.read("xl/worksheets/_rels/sheet5.xml.rels").decode()
        drawing = sheet_rels.split('Target="../drawings/')[1].split('"')[0]
        chart_rels = archive.read(f"xl/drawings/_rels/{drawing}.rels").decode()
        chart = archive.read("xl/charts/" + chart_rels.split('Target="../charts/')[1].split('"')[0]).decode()
    assert '<c:barDir val="col"/><c:grouping val="clustered"/>' in chart
    assert chart.count("<c:ser>") == 2
    assert "'Aging'!$A$2:$A$4" in chart and "'Aging'!$C$2:$C$4" in chart and "'Aging'!$B$1" in chart
    assert "<c:v>55.50</c:v>" in chart
    assert len([name for name in names if name.startswith("xl/charts/")]) == 2  # the user's chart stays
    book = openpyxl.load_workbook(rich_workbook)
    assert book["Aging"]["C3"].value == 55.5
    # Replacing the chart sheet reuses the freed part names instead of piling up new ones.
    old = aging()
    write_output_sheets(rich_workbook, [OutputSheet("Aging", old.columns, old.rows[:2], old.chart)])
    with zipfile.ZipFile(rich_workbook) as archive:
        assert sorted(archive.namelist()) == sorted(names)


def test_out_leaves_the_source_alone(rich_workbook: Path, tmp_path: Path) -> None:
    digest = sha256(rich_workbook)
    out = tmp_path / "result.xlsx"
    assert write_output_sheets(rich_workbook, [problems()], out=out) is True
    assert sha256(rich_workbook) == digest
    assert "Problems" in read_workbook(out)
    # Nothing to change: the output becomes a plain copy of the source.
    write_output_sheets(out, [problems()])
    copy = tmp_path / "copy.xlsx"
    assert write_output_sheets(out, [problems()], out=copy) is False
    assert sha256(copy) == sha256(out)


# ------------------------------------------------------------------------------------------
# Writing safely
# ------------------------------------------------------------------------------------------


def test_backup_holds_the_previous_file(rich_workbook: Path) -> None:
    previous = rich_workbook.read_bytes()
    write_output_sheets(rich_workbook, [problems()])
    assert rich_workbook.with_name("book.xlsx.bak").read_bytes() == previous
    rich_workbook.with_name("book.xlsx.bak").unlink()
    write_output_sheets(rich_workbook, [invoices(1)], backup=False)
    assert not rich_workbook.with_name("book.xlsx.bak").exists()


def test_file_mode_is_kept(rich_workbook: Path) -> None:
    rich_workbook.chmod(0o640)
    write_output_sheets(rich_workbook, [problems()])
    assert rich_workbook.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("lock_name", ["~$book.xlsx", ".~lock.book.xlsx#"])
def test_lock_file_refuses_unless_forced(rich_workbook: Path, lock_name: str) -> None:
    digest = sha256(rich_workbook)
    (rich_workbook.parent / lock_name).write_text("someone")
    with pytest.raises(WorkbookLockedError, match="book.xlsx is open in"):
        write_output_sheets(rich_workbook, [problems()])
    assert sha256(rich_workbook) == digest
    assert write_output_sheets(rich_workbook, [problems()], force=True) is True


def test_crash_before_the_rename_leaves_the_original(
    rich_workbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = sha256(rich_workbook)

    replace = os.replace

    def crash(source: str, target: str) -> None:
        if Path(target) == rich_workbook:  # the backup is renamed into place first, and gets there
            raise OSError("disk pulled")
        replace(source, target)

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk pulled"):
        write_output_sheets(rich_workbook, [invoices(100)])
    assert sha256(rich_workbook) == digest
    left = sorted(path.name for path in rich_workbook.parent.iterdir())
    assert left == ["book.xlsx", "book.xlsx.bak", "logo.png"]


def test_bad_value_leaves_the_original_and_no_temp_file(rich_workbook: Path) -> None:
    digest = sha256(rich_workbook)
    bad = OutputSheet("Bad", (Column("Amount", "money"),), [(Decimal("1"),), (float("nan"),)])
    with pytest.raises(ValueError, match=r"sheet 'Bad', cell A3 \(column 'Amount'\): cannot write nan"):
        write_output_sheets(rich_workbook, [bad])
    assert sha256(rich_workbook) == digest
    assert sorted(path.name for path in rich_workbook.parent.iterdir()) == ["book.xlsx", "logo.png"]


# ------------------------------------------------------------------------------------------
# Values the writer refuses or escapes
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("inf"), "cannot write inf"),
        (Decimal("NaN"), "cannot write NaN"),
        (Decimal("-Infinity"), "cannot write -Infinity"),
        ("x" * 32_768, "text of 32,768 characters exceeds Excel's limit"),
        ("🧾" * 16_384, "text of 32,768 characters"),
        ("bad \ud800 half", "lone surrogate"),
        (dt.date(1899, 12, 31), "before 1900-01-01"),
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), "no time zones"),
        (dt.time(12, 0), "cannot write a time value"),
        (2**53 + 1, "more digits than Excel keeps"),
    ],
)
def test_refused_values_name_the_cell(rich_workbook: Path, value: object, message: str) -> None:
    sheet = OutputSheet("Out", (Column("A"), Column("B")), [("ok", 1), ("fine", value)])
    with pytest.raises((ValueError, TypeError), match=message) as raised:
        write_output_sheets(rich_workbook, [sheet])
    assert "sheet 'Out', cell B3 (column 'B')" in str(raised.value)


def test_longest_text_is_written(rich_workbook: Path) -> None:
    text = "y" * 32_767
    write_output_sheets(rich_workbook, [OutputSheet("Long", (Column("Text"),), [(text,)])])
    assert read_workbook(rich_workbook, ["Long"])["Long"].rows[1] == [text]


def test_row_longer_than_columns_is_refused(rich_workbook: Path) -> None:
    with pytest.raises(ValueError, match="row 2: 3 values for 2 columns"):
        write_output_sheets(rich_workbook, [OutputSheet("Out", (Column("A"), Column("B")), [(1, 2, 3)])])


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["A" * 32], "1 to 31 characters"),
        (["a/b"], "must not contain"),
        (["'quoted'"], "apostrophe"),
        (["history"], "reserved"),
        (["tab\there"], "control character"),
        (["Out", "OUT"], "unique"),
    ],
)
def test_sheet_names_are_checked(rich_workbook: Path, names: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_output_sheets(rich_workbook, [OutputSheet(name, (Column("A"),)) for name in names])


def test_dates_in_1904_and_before_march_1900(tmp_path: Path) -> None:
    path = tmp_path / "mac.xlsx"
    with xlsxwriter.Workbook(path, {"date_1904": True}) as workbook:
        workbook.add_worksheet("Start")
    dates = [dt.date(1904, 1, 2), dt.date(2024, 2, 29), dt.datetime(2024, 5, 6, 7, 8, 9)]
    write_output_sheets(path, [OutputSheet("Dates", (Column("When", "date"),), [(d,) for d in dates])])
    assert [row[0] for row in read_workbook(path, ["Dates"])["Dates"].rows[1:]] == dates

    path = tmp_path / "win.xlsx"
    with xlsxwriter.Workbook(path) as workbook:
        workbook.add_worksheet("Start")
    dates = [dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1)]
    write_output_sheets(path, [OutputSheet("Dates", (Column("When", "date"),), [(d,) for d in dates])])
    assert "<v>1</v>" in part_text(path, "xl/worksheets/sheet2.xml")
    assert "<v>59</v>" in part_text(path, "xl/worksheets/sheet2.xml")
    assert "<v>61</v>" in part_text(path, "xl/worksheets/sheet2.xml")


def _rewrite_parts(source: Path, target: Path, edit: dict[str, object]) -> None:
    """Copy a package, replacing parts by new bytes (or dropping them for None)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = edit.get(info.filename, old.read(info))
            if data is not None:
                new.writestr(info.filename, data)  # type: ignore[arg-type]


def test_prefixed_spreadsheetml_is_edited_in_its_own_prefix(rich_workbook: Path, tmp_path: Path) -> None:
    main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'

    def prefixed(name: str) -> bytes:
        text = part_text(rich_workbook, name).replace(main, main.replace("xmlns", "xmlns:x"))
        return re.sub(r"<(/?)([A-Za-z]\w*)(?=[\s/>])", r"<\1x:\2", text).encode()

    path = tmp_path / "prefixed.xlsx"
    parts = ("xl/workbook.xml", "xl/styles.xml")
    _rewrite_parts(rich_workbook, path, {name: prefixed(name) for name in parts})
    write_output_sheets(path, [invoices(2), problems()])
    workbook_xml, styles_xml = part_text(path, "xl/workbook.xml"), part_text(path, "xl/styles.xml")
    assert '<x:sheet name="Problems"' in workbook_xml and "<x:calcPr" in workbook_xml
    assert "<x:definedName name=\"_xlnm._FilterDatabase\"" in workbook_xml
    assert '<x:numFmt numFmtId="166" formatCode=\'0.00"%"\'/>' in styles_xml
    assert "<xf " not in styles_xml and "<numFmt " not in styles_xml
    sheet = openpyxl.load_workbook(path)["Invoices"]
    assert sheet["C2"].number_format == "#,##0.00" and sheet["A1"].font.b
    assert read_workbook(path, ["Problems"])["Problems"].rows[1][0] == '=HYPERLINK("http://x","y")'
    write_output_sheets(path, [invoices(3)])
    assert part_text(path, "xl/styles.xml") == styles_xml


def test_workbook_without_styles_gets_one(tmp_path: Path) -> None:
    source = tmp_path / "source.xlsx"
    with xlsxwriter.Workbook(source) as workbook:
        workbook.add_worksheet("Start").write("A1", "plain")
    rels = part_text(source, "xl/_rels/workbook.xml.rels")
    rels = re.sub(r'<Relationship Id="rId\d+" Type="[^"]*/styles" Target="styles.xml"/>', "", rels)
    types = part_text(source, "[Content_Types].xml").replace(
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>', "")
    path = tmp_path / "bare.xlsx"
    _rewrite_parts(source, path, {"xl/styles.xml": None, "xl/_rels/workbook.xml.rels": rels.encode(),
                                  "[Content_Types].xml": types.encode()})
    write_output_sheets(path, [invoices(2)])
    with zipfile.ZipFile(path) as archive:
        assert "xl/styles.xml" in archive.namelist()
    sheet = openpyxl.load_workbook(path)["Invoices"]
    assert sheet["A1"].font.b and sheet["D2"].number_format == "yyyy-mm-dd" and sheet["D2"].is_date
    assert read_workbook(path)["Start"].rows == [["plain"]]


def test_error_cells_anywhere_in_a_large_sheet(tmp_path: Path) -> None:
    path = tmp_path / "errors.xlsx"
    with xlsxwriter.Workbook(path) as workbook:
        sheet = workbook.add_worksheet("Big")
        for row in range(40_000):
            sheet.write_row(row, 0, [f"text {row} " * 3, row])
            if row % 9_999 == 0:
                sheet.write_formula(row, 2, "=NA()", None, "#N/A")
    rows = read_workbook(path)["Big"].rows
    assert [index for index, row in enumerate(rows) if row[2] == "#N/A"] == [0, 9_999, 19_998, 29_997, 39_996]
    assert all(row[2] is None for index, row in enumerate(rows) if index % 9_999)


# ------------------------------------------------------------------------------------------
# More rows than the grid
# ------------------------------------------------------------------------------------------


def test_overflow_continues_on_numbered_sheets(rich_workbook: Path) -> None:
    write_output_sheets(rich_workbook, [invoices(7)], _max_rows=4)
    sheets = read_workbook(rich_workbook)
    header = [column.header for column in INVOICE_COLUMNS]
    assert [sheets[name].rows[0] for name in ("Invoices", "Invoices 2", "Invoices 3")] == [header] * 3
    assert [len(sheets[name].rows) for name in ("Invoices", "Invoices 2", "Invoices 3")] == [4, 4, 2]
    assert sheets["Invoices 3"].rows[1][0] == "INV-0006"

    # A shorter table later: the continuation sheets it no longer needs keep only their header.
    write_output_sheets(rich_workbook, [invoices(2)], _max_rows=4)
    sheets = read_workbook(rich_workbook)
    assert len(sheets["Invoices"].rows) == 3
    assert sheets["Invoices 2"].rows == [header] and sheets["Invoices 3"].rows == [header]
    assert write_output_sheets(rich_workbook, [invoices(2)], _max_rows=4) is False


def test_overflow_name_must_fit(rich_workbook: Path) -> None:
    with pytest.raises(ValueError, match="1 to 31 characters"):
        write_output_sheets(rich_workbook, [invoices(3, name="N" * 30)], _max_rows=3)


def test_only_real_continuation_sheets_are_emptied(rich_workbook: Path) -> None:
    # "Notes 2" is an output sheet of its own, not a continuation of "Notes".
    write_output_sheets(rich_workbook, [OutputSheet("Notes 2", (Column("Mine"),), [("keep",)])])
    write_output_sheets(rich_workbook, [OutputSheet("Notes", (Column("A"),), [("x",)])])
    assert read_workbook(rich_workbook, ["Notes 2"])["Notes 2"].rows == [["Mine"], ["keep"]]


# ------------------------------------------------------------------------------------------
# Zip details
# ------------------------------------------------------------------------------------------


def test_zip64_records_are_readable(rich_workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(package, "_ZIP64_LIMIT", 100)
    write_output_sheets(rich_workbook, [invoices(30)])
    with zipfile.ZipFile(rich_workbook) as archive:
        assert archive.testzip() is None
        assert any(info.extract_version >= 45 for info in archive.infolist())
    assert read_workbook(rich_workbook, ["Invoices"])["Invoices"].rows[30][0] == "INV-0029"
    assert openpyxl.load_workbook(rich_workbook)["Invoices"]["A31"].value == "INV-0029"


class _Unseekable(io.RawIOBase):
    """A write-only stream that cannot seek, so zipfile has to use data descriptors."""

    def __init__(self, target: io.BufferedWriter) -> None:
        self._target = target

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        return self._target.write(data)


def test_data_descriptors_are_cleared(tmp_path: Path) -> None:
    path = tmp_path / "streamed.xlsx"
    with xlsxwriter.Workbook(tmp_path / "plain.xlsx") as workbook:
        workbook.add_worksheet("Start").write("A1", "hello")
    with (
        zipfile.ZipFile(tmp_path / "plain.xlsx") as source,
        open(path, "wb") as stream,
        zipfile.ZipFile(_Unseekable(stream), "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
    with zipfile.ZipFile(path) as archive:
        assert all(info.flag_bits & 0x08 for info in archive.infolist())
    write_output_sheets(path, [problems()])
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert not any(info.flag_bits & 0x08 for info in archive.infolist())
    assert read_workbook(path, ["Start"])["Start"].rows == [["hello"]]


# ------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------


def test_tables_are_read_as_their_range(rich_workbook: Path) -> None:
    sheets = read_workbook(rich_workbook)
    data = sheets["Data"]
    assert data.rows == [
        ["Charge Id", "Customer", "Amount", "Date"],
        ["C-1", 1.0, 10.5, dt.date(2024, 3, 1)],
        ["C-2", 2.0, 20.25, dt.date(2024, 3, 2)],
    ]
    assert (data.first_row, data.first_col, data.sheet) == (4, 3, "Data")
    charges = sheets["Charges"]
    assert (charges.name, charges.sheet, charges.rows) == ("Charges", "Data", data.rows)
    # A table named like its sheet is not returned twice.
    assert [name for name in sheets if normalize(name) == "payments"] == ["Payments"]
    assert sheets["Payments"].rows == [["Payment_Id", "Amount"], ["P-1", 5.0], ["P-2", 7.5]]
    assert (sheets["Payments"].first_row, sheets["Payments"].first_col) == (2, 2)


def test_wanted_filters_by_normalized_name(rich_workbook: Path) -> None:
    found = read_workbook(rich_workbook, ["CHARGES", "pay-ments", "no such"])
    assert sorted(found) == ["Charges", "Payments"]
    assert normalize(" Invoice_Lines - 2") == "invoicelines2"


def test_table_header_variants(tmp_path: Path) -> None:
    path = tmp_path / "tables.xlsx"
    with xlsxwriter.Workbook(path) as workbook:
        sheet = workbook.add_worksheet("Lines")
        sheet.add_table("B3:C5", {"name": "Lines", "header_row": False, "data": [["a", 1], ["b", 2]],
                                  "columns": [{"header": "Code"}, {"header": "Qty"}]})
        other = workbook.add_worksheet("Other")
        other.add_table("A1:B4", {"name": "Wide_Header", "columns": [{"header": "Line\nbreak"},
                                                                     {"header": "Amount"}],
                                  "data": [["x", 1]]})
    sheets = read_workbook(path)
    assert sheets["Lines"].rows == [["Code", "Qty"], ["a", 1.0], ["b", 2.0]]
    assert (sheets["Lines"].first_row, sheets["Lines"].first_col) == (2, 2)
    # Blank table rows below the used range are not returned.
    assert sheets["Wide_Header"].rows == [["Line\nbreak", "Amount"], ["x", 1.0]]
    assert sheets["Wide_Header"].sheet == "Other"


def test_plain_sheet_used_range_and_empty_cells(tmp_path: Path) -> None:
    path = tmp_path / "plain.xlsx"
    with xlsxwriter.Workbook(path) as workbook:
        sheet = workbook.add_worksheet("Charges")
        sheet.write_row("C3", ["Id", "Note", "When"])
        sheet.write_row("C4", [7, "", True])
        sheet.write_formula("E5", "=NA()", None, "#N/A")
        sheet.write_formula("C5", "=1/0", None, "#DIV/0!")
        workbook.add_worksheet("Blank")
        chart = workbook.add_chart({"type": "line"})
        chart.add_series({"values": "=Charges!$C$4:$C$4"})
        workbook.add_chartsheet("Chart").set_chart(chart)
    sheets = read_workbook(path)
    assert sorted(sheets) == ["Blank", "Charges"]
    charges = sheets["Charges"]
    assert charges.rows == [["Id", "Note", "When"], [7.0, None, True], ["#DIV/0!", None, "#N/A"]]
    assert (charges.first_row, charges.first_col) == (3, 3)
    assert sheets["Blank"].rows == []


def test_format_errors(tmp_path: Path, rich_workbook: Path) -> None:
    text = tmp_path / "notes.xlsx"
    text.write_text("just text")
    encrypted = tmp_path / "secret.xlsx"
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    other_zip = tmp_path / "other.xlsx"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    binary = tmp_path / "binary.xlsb"
    with zipfile.ZipFile(rich_workbook) as source, zipfile.ZipFile(binary, "w") as archive:
        for info in source.infolist():
            data = source.read(info).replace(b"sheet.main+xml", b"sheet.binary.macroEnabled.main")
            archive.writestr(info.filename.replace("workbook.xml", "workbook.bin"),
                             data.replace(b"workbook.xml", b"workbook.bin"))
    cases = [(text, "not a zip"), (encrypted, "encrypted"), (other_zip, "not an Office document"),
             (binary, "binary workbook")]
    for path, message in cases:
        with pytest.raises(WorkbookFormatError, match=message):
            read_workbook(path)
        with pytest.raises(WorkbookFormatError, match=message):
            write_output_sheets(path, [problems()])


# ------------------------------------------------------------------------------------------
# Other readers
# ------------------------------------------------------------------------------------------


def test_libreoffice_converts_the_result(rich_workbook: Path, tmp_path: Path) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed")
    write_output_sheets(rich_workbook, [problems(), invoices(5)])
    out = tmp_path / "csv"
    # Filter options: comma, quote, UTF-8, ..., and -1 = export every sheet to its own file.
    export = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--convert-to", export,
         "--outdir", str(out), str(rich_workbook)],
        check=True, capture_output=True, timeout=180,
    )
    exported = {path.stem.rsplit("-", 1)[-1]: path.read_text("utf-8") for path in out.glob("*.csv")}
    assert "INV-0004,4,4.05,2024-01-05,80,TRUE,0.125" in exported["Invoices"].splitlines()
    assert '"=HYPERLINK(""http://x"",""y"")"' in exported["Problems"]
    assert ",,449.75," in exported["Customers"]  # the user's formula, recalculated
