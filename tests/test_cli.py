"""The command line on real .xlsx files: the billing run end to end, as a clerk runs it."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from sheetbill.cli import main

ROOT = Path(__file__).resolve().parents[1]
DEMOS = ["demo-medical.xlsx", "demo-utility.xlsx"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    target = tmp_path / "demo-medical.xlsx"
    shutil.copyfile(ROOT / "workbooks" / "demo-medical.xlsx", target)
    return target


@pytest.mark.parametrize("name", DEMOS)
def test_bill_fills_invoices_and_a_second_run_is_a_no_op(tmp_path, capsys, name):
    workbook = tmp_path / name
    shutil.copyfile(ROOT / "workbooks" / name, workbook)
    before_sheets = openpyxl.load_workbook(workbook).sheetnames
    assert main(["bill", str(workbook), "--as-of", "2026-06-30"]) in (0, 1)
    out = capsys.readouterr().out
    assert "invoices issued" in out and "written back" in out
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames[: len(before_sheets)] == before_sheets  # nothing moved, nothing lost
    for sheet in ("Invoices", "Invoice Lines", "Problems", "Advice", "Overdue", "Aging", "Reminders"):
        assert sheet in book.sheetnames
    invoices = book["Invoices"]
    assert [c.value for c in invoices[1]][:3] == ["Invoice No", "Kind", "Issue Date"]
    assert invoices.max_row > 10 and book["Invoice Lines"].max_row > invoices.max_row
    assert (workbook.parent / f"{name}.bak").exists()
    first = digest(workbook)
    assert main(["bill", str(workbook), "--as-of", "2026-06-30"]) in (0, 1)
    assert "nothing changed" in capsys.readouterr().out
    assert digest(workbook) == first


def test_dry_run_and_check_write_nothing(demo, capsys):
    before = digest(demo)
    assert main(["bill", str(demo), "--dry-run"]) == 1  # the demo has one deliberate error
    assert "dry run: nothing was written" in capsys.readouterr().out
    assert main(["check", str(demo)]) == 1
    assert digest(demo) == before and not demo.with_name(demo.name + ".bak").exists()


def test_json_summary_is_machine_readable(demo, capsys):
    assert main(["bill", str(demo), "--json", "--dry-run"]) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary["invoices_issued"] > 0 and summary["errors"] == 1
    error = next(p for p in summary["problems"] if p["severity"] == "error")
    assert error["sheet"] == "Charges" and isinstance(error["row"], int) and error["column"]


def test_a_workbook_open_in_excel_is_refused_unless_forced(demo, capsys):
    lock = demo.with_name("~$" + demo.name)
    lock.write_bytes(b"owner")
    before = digest(demo)
    assert main(["bill", str(demo)]) == 2
    assert "open" in capsys.readouterr().err.lower()
    assert digest(demo) == before
    assert main(["bill", str(demo), "--force"]) == 1
    assert digest(demo) != before


def test_a_missing_required_column_aborts_before_writing(tmp_path, capsys):
    workbook = tmp_path / "broken.xlsx"
    book = openpyxl.load_workbook(ROOT / "workbooks" / "demo-medical.xlsx")
    charges = book["Charges"]
    for cell in charges[1]:
        if cell.value == "Service Code":
            cell.value = "Service"
    book.save(workbook)
    before = digest(workbook)
    assert main(["bill", str(workbook)]) == 2
    err = capsys.readouterr().err
    assert "Charges" in err and "Service Code" in err and "nothing was written" in err
    assert digest(workbook) == before


def test_new_writes_the_template_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "mine.xlsx"
    assert main(["new", str(target)]) == 0
    assert "Charges" in openpyxl.load_workbook(target).sheetnames
    assert main(["new", str(target)]) == 2
    assert main(["bill", str(target)]) == 0  # an empty template bills nothing, without problems
    assert "invoices issued:     0" in capsys.readouterr().out


def test_plugins_lists_the_built_in_payers(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    for name in ("standard", "fee_schedule", "employer_budget"):
        assert name in out


def test_not_a_workbook_is_a_clear_error(tmp_path, capsys):
    bogus = tmp_path / "bogus.xlsx"
    bogus.write_text("not a zip")
    assert main(["bill", str(bogus)]) == 2
    assert "sheetbill:" in capsys.readouterr().err
    assert main(["bill", str(tmp_path / "missing.xlsx")]) == 2


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_the_billed_demo_opens_in_libreoffice(demo, tmp_path):
    assert main(["bill", str(demo), "--as-of", "2026-06-30"]) == 1
    out = tmp_path / "lo"
    result = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
         "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1", "--outdir", str(out),
         str(demo)], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    exported = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.csv")}
    invoices = next(text for name, text in exported.items() if name.endswith("-Invoices.csv"))
    lines = next(text for name, text in exported.items() if name.endswith("-Invoice Lines.csv"))
    assert invoices.splitlines()[0].startswith("Invoice No,Kind,Issue Date")
    assert "INV-000001" in invoices and len(lines.splitlines()) > len(invoices.splitlines())


def test_a_repeated_click_is_recognised_without_recomputing_and_any_change_recomputes(demo, capsys):
    assert main(["bill", str(demo), "--as-of", "2026-06-30"]) == 1
    capsys.readouterr()
    first = digest(demo)
    assert main(["bill", str(demo), "--as-of", "2026-06-30"]) == 1  # the stored exit code
    assert "nothing changed since the last run" in capsys.readouterr().out
    assert digest(demo) == first
    # Another as-of date is another run: computed in full (reminders fall due on later days).
    assert main(["bill", str(demo), "--as-of", "2026-07-31"]) == 1
    assert "invoices issued" in capsys.readouterr().out
    # A workbook saved by another program has lost the stamp: a full run, which bills nothing twice.
    book = openpyxl.load_workbook(demo)
    invoices_before = book["Invoices"].max_row
    charges = book["Charges"]
    charges.cell(row=charges.max_row + 1, column=1, value="M-9999")
    book.save(demo)
    assert main(["bill", str(demo), "--as-of", "2026-07-31"]) == 1
    out = capsys.readouterr().out
    assert "invoices issued:     0" in out and "Charges row" in out  # the half-typed row is a Problem
    assert openpyxl.load_workbook(demo)["Invoices"].max_row == invoices_before


def test_a_missing_optional_part_names_the_extra_to_install(demo, capsys, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def without_fpdf(name, *args, **kwargs):
        if name == "fpdf" or name.startswith("fpdf."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    for module in [m for m in list(__import__("sys").modules) if m.startswith(("sheetbill.documents", "fpdf"))]:
        monkeypatch.delitem(__import__("sys").modules, module)
    monkeypatch.setattr(builtins, "__import__", without_fpdf)
    assert main(["documents", str(demo)]) == 2
    assert "pip install 'sheetbill[documents]'" in capsys.readouterr().err
