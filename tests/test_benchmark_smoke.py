"""The benchmark script runs end to end on a small workbook (a smoke test; figures come from full runs),
and its daily click edits a workbook the way another program would."""

import datetime as dt
import subprocess
import sys
import zipfile
from pathlib import Path

import python_calamine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import generate  # noqa: E402  (benchmarks/ is not a package)


def test_benchmark_runs_the_idle_rerun_leaves_the_file_byte_identical_and_the_daily_click_bills(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "1000", "--runs", "1", "--no-write-docs"],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    header = next(line for line in result.stdout.splitlines() if line.startswith("| charges |"))
    row = next(line for line in result.stdout.splitlines() if line.startswith("| 1,000 |"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    cells = dict(zip(columns, (cell.strip() for cell in row.strip("|").split("|")), strict=True))
    assert "file changed" not in row and "!" not in row
    assert cells["(e) daily click"].endswith("MiB") and float(cells["(e) daily click"].split()[0]) > 0
    assert cells["(f) next day"].endswith("MiB") and float(cells["(f) next day"].split()[0]) > 0
    for ratio in ("(c)/(a)", "(c)/(b)", "(e)/(b)", "(f)/(b)"):
        assert float(cells[ratio]) > 0, ratio


def test_the_bank_import_benchmark_runs_and_matches_its_statement():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bank_import.py"), "--items", "300", "--entries", "100",
         "--runs", "2"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    header = next(line for line in result.stdout.splitlines() if line.startswith("| open items |"))
    row = next(line for line in result.stdout.splitlines() if line.startswith("| 300 |"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    cells = dict(zip(columns, (cell.strip() for cell in row.strip("|").split("|")), strict=True))
    best, median = (float(part.split()[0]) for part in cells["import, CPU (best / median)"].split("/"))
    assert 0 < best <= median
    # 90 % of the credits name an invoice or come from its customer's IBAN; the 10 % strangers are left
    assert int(cells["matched"]) + int(cells["for review"]) == 100 and int(cells["for review"]) >= 10


def _sheet(path: Path, name: str) -> list[list[object]]:
    return python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def test_a_day_appends_charges_and_payments_and_copies_every_other_entry_as_stored(tmp_path):
    book = generate.write(tmp_path / "book.xlsx", 200)
    before_charges, before_payments = _sheet(book, "Charges"), _sheet(book, "Payments")
    with zipfile.ZipFile(book) as package:
        stored_before = {info.filename: (info.CRC, info.compress_size) for info in package.infolist()}
        raw_before = book.read_bytes()

    day = generate.append_day(book, 200, 3, seed=5)

    charges, payments = _sheet(book, "Charges"), _sheet(book, "Payments")
    assert charges[:-3] == before_charges and payments[:-3] == before_payments
    assert [row[0] for row in charges[-3:]] == list(day.charge_ids)
    assert {row[2] for row in charges[-3:]} == day.customers
    assert all(row[1] == generate.AS_OF - dt.timedelta(days=1) for row in charges[-3:])  # a date, not a number
    assert [row[0] for row in payments[-3:]] == list(day.payment_ids)
    assert all(row[1] == generate.AS_OF and row[5].startswith("C") for row in payments[-3:])
    assert not set(day.charge_ids) & {row[0] for row in before_charges}
    with zipfile.ZipFile(book) as package:
        assert package.testzip() is None
        changed = set()
        for info in package.infolist():
            if (info.CRC, info.compress_size) != stored_before[info.filename]:
                changed.add(info.filename)
            else:  # the compressed bytes themselves were copied
                start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
                data = book.read_bytes()[start:start + info.compress_size]
                assert data in raw_before
        assert [info.filename for info in package.infolist()] == list(stored_before)
        sheet = package.read(sorted(changed)[0]).decode()
    assert len(changed) == 2
    assert f'<dimension ref="A1:F{len(charges)}"/>' in sheet or f'<dimension ref="A1:F{len(payments)}"/>' in sheet
