"""The utility demo's bank flow through the command line, as ``make demo`` runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sheetbill.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)


def test_the_utility_collects_by_debit_and_imports_july(tmp_path):
    book = tmp_path / "demo-utility.xlsx"
    shutil.copy(ROOT / "workbooks" / "demo-utility.xlsx", book)
    assert cli("bill", str(book), "--as-of", "2026-06-30").returncode <= 1
    debit = cli("debit", str(book), "--as-of", "2026-06-30", "--json")
    assert debit.returncode == 0, debit.stderr
    summary = json.loads(debit.stdout)
    assert summary["debits"] == 4 and len(summary["files"]) == 2  # one file per scheme (CORE, B2B)
    assert sorted(p.name for p in (tmp_path / "demo-utility debits").iterdir()) == \
        sorted(f["name"] for f in summary["files"])
    statement = str(ROOT / "workbooks" / "demo-utility-statement.xml")
    dry = cli("import-bank", str(book), statement, "--as-of", "2026-07-20", "--dry-run", "--json")
    assert json.loads(dry.stdout)["written"] is False
    imported = cli("import-bank", str(book), statement, "--as-of", "2026-07-20", "--json")
    result = json.loads(imported.stdout)
    assert result["matched_by_rule"] == {"reference": 1, "invoice number": 0, "amount": 1, "several invoices": 1,
                                         "direct debit": 2, "posted from review": 0}
    assert (result["returned_debits"], result["left_for_review"], result["written"]) == (1, 1, True)
    again = json.loads(cli("import-bank", str(book), statement, "--as-of", "2026-07-20", "--json").stdout)
    assert again["already_imported"] == again["entries_read"] == 7 and again["written"] is False
    assert cli("overdue", str(book), "--as-of", "2026-07-20").returncode <= 1
    wb = openpyxl.load_workbook(book, read_only=True)
    statuses = {r[0]: r[16] for r in wb["Invoices"].iter_rows(min_row=2, values_only=True)}
    assert statuses["SWL-00073"] == statuses["SWL-00081"] == statuses["SWL-00084"] == "Paid"
    assert statuses["SWL-00074"] == "Open"  # its debit came back
    debits = {r[1]: r[7] for r in wb["Debits"].iter_rows(min_row=2, values_only=True)}
    assert debits == {"SWL-00073": "collected", "SWL-00074": "returned", "SWL-00078": "collected",
                      "SWL-00082": "collected"}
    advice = [r[3] for r in wb["Advice"].iter_rows(min_row=2, values_only=True) if r[2] == "Returned debit"]
    assert advice and "AM04" in advice[0]


def _sheet_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")}


def test_the_import_with_the_run_memo_writes_what_it_writes_without(tmp_path, monkeypatch):
    from sheetbill import memo
    from sheetbill.cli import main

    cached, plain = tmp_path / "cached.xlsx", tmp_path / "plain.xlsx"
    for book in (cached, plain):
        shutil.copy(ROOT / "workbooks" / "demo-utility.xlsx", book)
    statement = str(ROOT / "workbooks" / "demo-utility-statement.xml")
    steps = [("bill", "--as-of", "2026-06-30"), ("debit", "--as-of", "2026-06-30"),
             ("bill", "--as-of", "2026-07-01"), ("import-bank", statement, "--as-of", "2026-07-20"),
             ("overdue", "--as-of", "2026-07-20"), ("import-bank", statement, "--as-of", "2026-07-21")]
    for command, *args in steps:
        monkeypatch.delenv("SHEETBILL_CACHE", raising=False)
        with_memo = main([command, str(cached), *args])
        monkeypatch.setenv("SHEETBILL_CACHE", "off")
        without = main([command, str(plain), *args])
        assert with_memo == without
        assert _sheet_parts(cached) == _sheet_parts(plain), command
    assert len(list(memo.cache_dir().glob("*.memo"))) == 1  # the cached workbook's, kept by bill and import
