"""The macro-enabled workbook and its VBA project, checked with independent readers: olefile and
oletools (olevba) for the compound file and the VBA streams, LibreOffice headless for the whole file."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import struct
import subprocess
import zipfile
from collections.abc import Sequence
from pathlib import Path

import olefile
import pytest
from oletools import olevba

from sheetbill import contract, contract_bank, excel
from sheetbill.buttons import BUTTONS, FILE_BUTTONS
from sheetbill.cells import normalize
from sheetbill.vba_project import Module, Node, compress, module_source, write_compound_file
from sheetbill.xlsm import MACROS, build_xlsm, vba_text

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "workbooks" / "demo-medical.xlsx"
RED, BLACK = 0, 1  # MS-CFB 2.6.1 node colours


@pytest.fixture(scope="module")
def xlsm(tmp_path_factory) -> Path:
    source = DEMO if DEMO.exists() else None
    return build_xlsm(tmp_path_factory.mktemp("xlsm") / "sheetbill.xlsm", source)


def bound_macros(path: Path) -> list[str]:
    """The macro names the workbook's form-control buttons are bound to (x:FmlaMacro in the VML)."""
    with zipfile.ZipFile(path) as package:
        vml = "".join(package.read(n).decode() for n in package.namelist() if n.endswith(".vml"))
    return [m.split("!")[-1] for m in re.findall(r"<x:FmlaMacro>([^<]+)</x:FmlaMacro>", vml)]


def test_olevba_finds_every_macro_a_button_is_bound_to(xlsm):
    bound = bound_macros(xlsm)
    assert bound == list(MACROS.values())
    parser = olevba.VBA_Parser(str(xlsm))
    assert parser.detect_vba_macros()
    code = {vba_filename: text for _, _, vba_filename, text in parser.extract_macros()}
    parser.close()
    subs = set(re.findall(r"^Public Sub (\w+)\(\)", code["Sheetbill.bas"], re.M))
    assert set(bound) <= subs
    assert {"ThisWorkbook.cls", "Sheet1.cls", "Sheetbill.bas"} <= set(code)


def test_the_vba_project_streams_are_what_the_format_prescribes(xlsm):
    with zipfile.ZipFile(xlsm) as package:
        names = package.namelist()
        assert "xl/vbaProject.bin" in names
        content_types = package.read("[Content_Types].xml").decode()
        workbook_xml = package.read("xl/workbook.xml").decode()
        data = package.read("xl/vbaProject.bin")
    assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in content_types
    assert 'codeName="ThisWorkbook"' in workbook_xml
    ole = olefile.OleFileIO(data)
    assert ole.openstream("VBA/_VBA_PROJECT").read() == b"\xcc\x61\xff\xff\x00\x01\x00"  # 0xFFFF: no cache
    source = olevba.decompress_stream(bytearray(ole.openstream("VBA/Sheetbill").read()))
    assert bytes(source).decode("cp1252") == module_source(Module("Sheetbill", vba_text()))
    project = ole.openstream("PROJECT").read().decode("cp1252")
    project_id = re.search(r'^ID="(\{[0-9A-F-]+\})"', project, re.M)[1]
    assert "Module=Sheetbill\r\n" in project and "Document=ThisWorkbook/&H00000000\r\n" in project
    protection = dict(re.findall(r'^(CMG|DPB|GC)="([0-9A-F]+)"', project, re.M))
    assert decrypt(project_id, protection["CMG"]) == bytes(4)  # not protected
    assert decrypt(project_id, protection["DPB"]) == b"\x00"  # no password
    assert decrypt(project_id, protection["GC"]) == b"\xff"  # visible
    ole.close()


def decrypt(project_id: str, hex_text: str) -> bytes:
    """MS-OVBA 2.4.3.3, written here from the spec independently of the writer."""
    data = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = data[0], data[1], data[2]
    assert seed ^ version_enc == 2 and seed ^ key_enc == sum(project_id.encode()) & 0xFF
    plain, previous_plain, previous_enc, before = [], seed ^ key_enc, key_enc, version_enc
    for byte in data[3:]:
        value = byte ^ ((before + previous_plain) & 0xFF)
        plain.append(value)
        before, previous_enc, previous_plain = previous_enc, byte, value
    body = bytes(plain[(seed & 6) // 2:])
    length = struct.unpack("<I", body[:4])[0]
    assert len(body) == 4 + length
    return body[4:]


def test_the_spec_example_of_the_protection_fields():
    from sheetbill.vba_project import _obfuscate

    assert _obfuscate("{917DED54-440B-4FD1-A5C1-74ACF261E600}", bytes(4), 7) == "0705D8E3D8EDDBF1DBF1DBF1DBF1"


_RANDOM = random.Random(20261130)  # fixed, so that every collection of the tests sees the same cases


@pytest.mark.parametrize("data", [b"", b"x", b"abc" * 3000, _RANDOM.randbytes(4096), _RANDOM.randbytes(5000),
                                  ("Sub A()\r\n  MsgBox 1\r\nEnd Sub\r\n" * 400).encode()],
                         ids=["empty", "one byte", "repeats", "random 4096", "random 5000", "a module"])
def test_compression_round_trips_through_oletools(data):
    assert bytes(olevba.decompress_stream(bytearray(compress(data))))[: len(data)] == data


def test_compound_files_with_big_streams_and_many_siblings_read_back():
    children = [Node(f"S{i:02d}", bytes([i]) * (i * 97)) for i in range(40)]
    children.append(Node("big", os.urandom(70_000)))
    children.append(Node("Store", children=[Node("inner", b"hello"), Node("empty", b"")]))
    data = write_compound_file(children)
    ole = olefile.OleFileIO(data)
    for child in children[:-1]:
        assert ole.openstream(child.name).read() == child.data
    assert ole.openstream("Store/inner").read() == b"hello" and ole.openstream("Store/empty").read() == b""
    entries = {e.sid: e for e in ole.direntries if e is not None}
    check_red_black(entries, ole.root.sid_child)
    ole.close()


def check_red_black(entries, root_sid) -> int:
    """Black height of the sibling tree at ``root_sid``; fails on two reds in a row or unequal heights."""
    if root_sid == olefile.NOSTREAM:
        return 1
    entry = entries[root_sid]
    for side in (entry.sid_left, entry.sid_right):
        if side != olefile.NOSTREAM and entry.color == RED:
            assert entries[side].color == BLACK
    left, right = check_red_black(entries, entry.sid_left), check_red_black(entries, entry.sid_right)
    assert left == right
    if entry.sid_child != olefile.NOSTREAM:
        check_red_black(entries, entry.sid_child)
    return left + (entry.color == BLACK)


def test_the_copy_keeps_every_sheet_and_value(xlsm):
    from python_calamine import CalamineWorkbook

    built = CalamineWorkbook.from_path(str(xlsm))
    source = CalamineWorkbook.from_path(str(DEMO if DEMO.exists() else ROOT / "sheetbill" / "data" / "template.xlsx"))
    assert built.sheet_names == ["Billing", *source.sheet_names]
    for name in source.sheet_names:
        want = source.get_sheet_by_name(name).to_python(skip_empty_area=False)
        got = built.get_sheet_by_name(name).to_python(skip_empty_area=False)
        strip = lambda rows: [r for r in rows if any(v != "" for v in r)]  # noqa: E731
        assert strip(got) == strip(want), name


def test_the_build_is_reproducible_and_refuses_other_names(tmp_path, xlsm):
    again = build_xlsm(tmp_path / "again.xlsm", DEMO if DEMO.exists() else None)
    assert again.read_bytes() == xlsm.read_bytes()
    with pytest.raises(FileExistsError):
        build_xlsm(again)
    with pytest.raises(ValueError, match=".xlsm"):
        build_xlsm(tmp_path / "book.xlsx")
    template = build_xlsm(tmp_path / "new.xlsm")  # sheetbill new --xlsm FILE
    assert bound_macros(template) == list(MACROS.values())


def test_the_macros_call_functions_that_exist_and_read_the_contracts_sheets():
    text = vba_text()
    assert 'RunPython", "import sheetbill.excel; sheetbill.excel." & button & "()"' in text
    for button in BUTTONS:
        assert f'SheetbillRun "{button}"' in text and callable(getattr(excel, button))
    assert 'sheetbill.excel.import_bank(\'" & encoded & "\')"' in text and callable(excel.import_bank)
    assert set(MACROS) == set(BUTTONS) | set(FILE_BUTTONS)
    assert f'FILES_SHEET As String = "{contract_bank.STATEMENT_FILES_SHEET}"' in text
    assert f"FILES_CHUNK As Long = {contract_bank.STATEMENT_FILES_CHUNK}" in text
    assert '"/xlwings/custom-scripts-call/import-bank"' in text
    assert not contract.run_reads(contract_bank.STATEMENT_FILES_SHEET)
    needed = re.search(r'NEEDED_KEYS As String = "\|(.*)\|"', text)[1].split("|")
    assert needed == [normalize(n) for n in
                      (*contract.INPUT_SHEETS, *contract.HISTORY_SHEETS, *contract.IMPORTED_SHEETS)]
    history = re.search(r'HISTORY_KEYS As String = "\|(.*)\|"', text)[1].split("|")
    assert history == [normalize(n) for n in contract.HISTORY_SHEETS]
    assert text.isascii()


def test_the_checked_in_workbook_is_current():
    checked_in = ROOT / "workbooks" / "sheetbill.xlsm"
    if not checked_in.exists() or not DEMO.exists():
        pytest.skip("workbooks/sheetbill.xlsm or the demo workbook is missing")
    assert bound_macros(checked_in) == list(MACROS.values())
    parser = olevba.VBA_Parser(str(checked_in))
    code = {name: text for _, _, name, text in parser.extract_macros()}
    parser.close()
    assert code["Sheetbill.bas"].replace("\r\n", "\n").strip() in vba_text().replace("\r\n", "\n")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_it_with_the_macros_bound_to_the_buttons(xlsm, tmp_path):
    result = subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/profile",
         "--convert-to", "ods", "--outdir", str(tmp_path / "out"), str(xlsm)],
        capture_output=True, text=True, timeout=180)
    converted = tmp_path / "out" / "sheetbill.ods"
    assert converted.exists(), result.stdout + result.stderr
    with zipfile.ZipFile(converted) as ods:
        module = ods.read("Basic/VBAProject/Sheetbill.xml").decode()
        content = ods.read("content.xml").decode()
    assert "Public Sub SheetbillBill()" in module
    for macro in MACROS.values():
        assert f"vnd.sun.star.script:VBAProject.Sheetbill.{macro}?" in content
    for label in ("Bill", "Update overdue", "Check workbook", "Make documents", "Statement", "Import bank statement"):
        assert f'form:label="{label}"' in content


HOSTILE_PATHS = ["C:\\Users\\me\\a'); import os #.xml", 'C:\\quote " and \\ backslash.sta',
                 "/Users/me/new\nline & %PATH% | $(x) `y`.csv", "D:\\Umsätze März €.mt940", "emoji \U0001F4B6.txt"]


def run_basic(tmp_path: Path, functions: Sequence[str], body: Sequence[str]) -> list[str]:
    """Run ``functions`` (VBA taken from the macro source) and a ``Main`` with ``body`` in LibreOffice Basic
    in VBA mode; ``body`` writes with ``Print #f``. Returns the lines it printed."""
    from xml.sax.saxutils import escape

    text = vba_text()
    code = [re.search(rf"^Private Function {name}\(.*?^End Function$", text, re.M | re.S)[0]
            for name in functions]
    out = tmp_path / "out.txt"
    main = ["Sub Main", "    Dim f As Integer, s As String", "    f = FreeFile", f'    Open "{out}" For Output As #f',
            *body, "    Close #f", "End Sub"]
    module = "\n".join(["Option VBASupport 1", *code, *main]) + "\n"
    profile = tmp_path / "profile"
    options = ["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{profile}"]
    subprocess.run([*options, "--terminate_after_init"], capture_output=True, timeout=120)
    library = profile / "user" / "basic" / "Standard" / "Module1.xba"
    assert library.exists()
    library.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE script:module PUBLIC '
                       '"-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">\n<script:module xmlns:script='
                       '"http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">'
                       + escape(module, {'"': "&quot;"}) + "</script:module>", encoding="utf-8")
    # its own process group, so that a macro that hangs (a Basic error opens a dialog) leaves no soffice.bin behind
    process = subprocess.Popen([*options, "macro:///Standard.Module1.Main"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail("the Basic macro did not finish (a Basic error?)")
    assert out.exists(), stdout + stderr
    return out.read_text().splitlines()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_the_macros_hex_encoding_runs_in_a_basic_interpreter_as_python_decodes_it(tmp_path):
    """SheetbillHex, taken from the macro source and run by LibreOffice Basic in VBA mode on hostile file
    names, gives exactly the digits sheetbill.excel.decode_paths reads back."""
    body = []
    for path in HOSTILE_PATHS:
        units = path.encode("utf-16-be", "surrogatepass")
        chars = " & ".join(f"ChrW(&H{units[i:i + 2].hex().upper()})" for i in range(0, len(units), 2))
        body.append(f"    Print #f, SheetbillHex({chars})")
    digits = run_basic(tmp_path, ["SheetbillHex"], body)
    assert digits == [excel.encode_paths([path]) for path in HOSTILE_PATHS]
    assert excel.decode_paths(".".join(digits)) == HOSTILE_PATHS
    assert all(set(d) <= set("0123456789ABCDEF") for d in digits)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_the_macros_base64_of_a_file_is_what_the_server_decodes(tmp_path):
    """SheetbillFileBase64 (the server path of the import button) run by LibreOffice Basic on files of every
    length class, all byte values and random bytes, gives the base64 the server reads back."""
    import base64

    from sheetbill.server import statement_files

    contents = [b"", b"A", b"AB", b"ABC", b"ABCD", bytes(range(256)), os.urandom(10_000), b"\xff" * 5]
    body = []
    for index, content in enumerate(contents):
        path = tmp_path / f"statement {index}.xml"
        path.write_bytes(content)
        # LibreOffice Basic cannot open a file inside a Print # statement: read first, then print
        body += [f'    s = SheetbillFileBase64("{path}")', '    Print #f, "[" & s & "]"']
    lines = run_basic(tmp_path, ["SheetbillFileBase64", "SheetbillBase64"], body)
    encoded = [line.removeprefix("[").removesuffix("]") for line in lines]
    assert encoded == [base64.b64encode(content).decode() for content in contents]
    assert [data for _, data in statement_files({"files": [{"name": "x", "content": e} for e in encoded]})] == contents
