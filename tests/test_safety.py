"""Data safety of the command line on real files (hardening issue, items 1-6, 12, 19-21, 24): one run
per workbook, trustworthy backups, no leftovers, permissions and links, exact amounts, and a damaged
file never reported as unchanged."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import openpyxl
import pytest

from sheetbill import files
from sheetbill.cli import main
from sheetbill.files import NotEnoughSpaceError, workbook_lock, write_atomic
from tests.robustness.corpus import CORPUS

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "workbooks" / "demo-medical.xlsx"


def _env() -> dict[str, str]:
    """The environment of a sheetbill process a test starts: this test's, as the fixtures set it (its own
    cache folder among them), taken when the process starts."""
    return dict(os.environ, PYTHONPATH=str(ROOT))


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    target = tmp_path / "book.xlsx"
    shutil.copyfile(DEMO, target)
    return target


def _cli(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sheetbill.cli", *args], env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


# 1. concurrent runs ----------------------------------------------------------------------------------

def test_a_second_run_on_a_locked_workbook_exits_2_and_writes_nothing(demo, capsys):
    before = demo.read_bytes()
    with workbook_lock(demo):
        assert main(["bill", str(demo), "--as-of", "2026-06-30"]) == 2
        err = capsys.readouterr().err
        assert "another sheetbill run" in err and "--wait" in err
        assert demo.read_bytes() == before
    assert main(["bill", str(demo), "--as-of", "2026-06-30"]) == 1  # free again: the run happens
    assert demo.read_bytes() != before


def test_two_concurrent_runs_exactly_one_writes_and_no_result_is_lost(demo):
    runs = [_cli("bill", str(demo), "--as-of", "2026-06-30"), _cli("overdue", str(demo), "--as-of", "2026-06-30")]
    results = [(run.wait(120), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes[1] in (0, 1, 2) and codes[0] in (0, 1), results
    written = [out for code, out, _ in results if "written back" in out]
    if codes[1] == 2:  # they overlapped: the loser says so and wrote nothing, the winner wrote
        loser = next(r for r in results if r[0] == 2)
        assert "another sheetbill run" in loser[2] and "Traceback" not in loser[2] and loser[1] == ""
        assert len(written) == 1
    winner = written[0]
    # the winner's result is what the workbook holds: had the bill run won, a rerun issues nothing new
    if "invoices issued" in winner and "reminders issued" in winner and results[0][0] != 2:
        assert main(["bill", str(demo), "--as-of", "2026-06-30", "--dry-run", "--json"]) == 1


def test_wait_lets_a_second_run_go_once_the_first_has_finished(demo):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from sheetbill.files import workbook_lock\n"
        f"with workbook_lock({str(demo)!r}):\n    print('held', flush=True); time.sleep(2)")],
        env=_env(), stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    assert main(["bill", str(demo), "--as-of", "2026-06-30", "--wait", "30"]) == 1
    assert time.monotonic() - started > 0.5
    holder.wait()


def test_a_workbook_changed_since_it_was_read_is_not_replaced(demo, monkeypatch, capsys):
    from sheetbill.io.xlsx import file as xlsx_file

    real_read = xlsx_file.XlsxWorkbook.read

    def read_then_someone_saves(self):
        context = real_read(self)
        os.utime(self.path, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))  # saved by Excel meanwhile
        return context

    monkeypatch.setattr(xlsx_file.XlsxWorkbook, "read", read_then_someone_saves)
    before = demo.read_bytes()
    assert main(["bill", str(demo), "--as-of", "2026-06-30"]) == 2
    assert "changed since this run read it" in capsys.readouterr().err
    assert demo.read_bytes() == before and not demo.with_name("book.xlsx.bak").exists()


# 2. backups ------------------------------------------------------------------------------------------

def test_a_failing_backup_copy_keeps_the_previous_backup_whole(tmp_path, monkeypatch):
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"version 1")
    write_atomic(target, b"version 2", backup=True)
    assert (tmp_path / "book.xlsx.bak").read_bytes() == b"version 1"

    def disk_full(path, stream):
        stream.write(b"vers")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "_copy_into", disk_full)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, b"version 3", backup=True)
    assert target.read_bytes() == b"version 2" and (tmp_path / "book.xlsx.bak").read_bytes() == b"version 1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx", "book.xlsx.bak"]


def test_free_space_is_checked_before_anything_is_written(tmp_path, monkeypatch):
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"x" * 4096)
    monkeypatch.setattr(shutil, "disk_usage", lambda folder: shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000))
    with pytest.raises(NotEnoughSpaceError, match="nothing was written"):
        write_atomic(target, b"y" * 4096, backup=True)
    assert target.read_bytes() == b"x" * 4096 and sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


# 3. leftovers ----------------------------------------------------------------------------------------

def test_temporary_files_of_a_killed_save_are_removed_by_the_next_run(demo):
    stale = [demo.with_name(".book.xlsx.ab12_xyz.tmp"), demo.with_name(".book.xlsx.QWERTYUI.tmp")]
    other = demo.with_name(".other.xlsx.ab12_xyz.tmp")
    for path in [*stale, other]:
        path.write_bytes(b"half a zip")
    assert main(["bill", str(demo), "--as-of", "2026-06-30"]) == 1
    assert not any(path.exists() for path in stale) and other.exists()


def test_a_save_killed_with_sigkill_leaves_nothing_after_the_next_run(demo):
    for _ in range(3):
        run = _cli("bill", str(demo), "--as-of", "2026-06-30")
        time.sleep(1.2)
        run.kill()
        run.communicate()
    assert main(["bill", str(demo), "--as-of", "2026-06-30"]) in (0, 1)
    assert not [p for p in demo.parent.iterdir() if p.name.endswith(".tmp")]
    openpyxl.load_workbook(demo)  # and the workbook is whole


# 4. permissions and links ----------------------------------------------------------------------------

def test_a_read_only_workbook_is_refused(demo, capsys):
    demo.chmod(0o444)
    assert main(["bill", str(demo), "--as-of", "2026-06-30"]) == 2
    assert "read-only" in capsys.readouterr().err
    assert demo.stat().st_mode & 0o777 == 0o444 and not demo.with_name("book.xlsx.bak").exists()
    assert main(["check", str(demo)]) == 1  # reading it is fine


@pytest.mark.skipif(not hasattr(os, "chown") or os.geteuid() != 0, reason="changing owners needs root")
def test_owner_and_mode_are_kept(demo):
    os.chown(demo, 1234, 2345)
    demo.chmod(0o640)
    assert main(["bill", str(demo), "--as-of", "2026-06-30"]) == 1
    found = demo.stat()
    assert (found.st_uid, found.st_gid, found.st_mode & 0o777) == (1234, 2345, 0o640)
    backup = demo.with_name("book.xlsx.bak").stat()
    assert (backup.st_uid, backup.st_gid) == (1234, 2345) and backup.st_mode & 0o200


def test_a_symlinked_workbook_is_written_through_to_its_target(demo, tmp_path):
    link = tmp_path / "link.xlsx"
    link.symlink_to(demo)
    assert main(["bill", str(link), "--as-of", "2026-06-30"]) == 1
    assert link.is_symlink() and "Invoices" in openpyxl.load_workbook(demo).sheetnames


# 5. large amounts ------------------------------------------------------------------------------------

def test_an_amount_beyond_15_significant_digits_is_a_problem_not_a_credit_note_loop(tmp_path, capsys):
    book = tmp_path / "book.xlsx"
    CORPUS["amount-17-digits"](DEMO, book)
    assert main(["bill", str(book), "--as-of", "2026-06-30"]) == 1
    out = capsys.readouterr().out
    assert "Services row 2, column Price" in out and "too large" in out
    assert main(["bill", str(book), "--as-of", "2026-06-30"]) == 1
    assert "nothing changed" in capsys.readouterr().out


# 6. the "nothing changed" shortcut -------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["crc-charges", "crc-styles", "malformed-styles-xml", "duplicate-sheet-name"])
def test_a_damaged_file_is_never_reported_as_unchanged(demo, tmp_path, capsys, damage):
    assert main(["bill", str(demo), "--as-of", "2026-06-30"]) == 1
    damaged = tmp_path / "damaged.xlsx"
    CORPUS[damage](demo, damaged)
    capsys.readouterr()
    code = main(["bill", str(damaged), "--as-of", "2026-06-30"])
    out, err = capsys.readouterr()
    assert "nothing changed since the last run" not in out
    if damage == "duplicate-sheet-name":
        assert code == 1 and "all name the Charges table" in out
    else:
        assert code == 2 and "damaged" in err and "Traceback" not in err


# 12, 19-21, 24 ---------------------------------------------------------------------------------------

def test_duplicate_headers_and_negative_payment_terms_are_problems(tmp_path, capsys):
    for name, expected in (("duplicate-header", "columns F ('Price') and H ('Price') have the same header"),
                           ("payment-terms-negative", "Payment Terms Days: -5 is out of range")):
        book = tmp_path / f"{name}.xlsx"
        CORPUS[name](DEMO, book)
        assert main(["check", str(book)]) == 1
        assert expected in capsys.readouterr().out


def test_as_of_accepts_the_workbooks_date_forms(demo, capsys):
    assert main(["check", str(demo), "--as-of", "30.06.2026", "--json"]) == 1
    assert '"as_of": "2026-06-30"' in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["check", str(demo), "--as-of", "9999-12-31"])
    assert "not a date" in capsys.readouterr().err


def test_new_refuses_a_missing_folder_unless_parents(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "book.xlsx"
    assert main(["new", str(target)]) == 2
    assert "--parents" in capsys.readouterr().err and not (tmp_path / "no").exists()
    assert main(["new", str(target), "--parents"]) == 0 and target.exists()


def test_the_excel_lock_message_names_force(demo, capsys):
    demo.with_name("~$book.xlsx").write_bytes(b"owner")
    assert main(["bill", str(demo)]) == 2
    assert "--force" in capsys.readouterr().err


def test_the_license_is_an_spdx_string_and_filelock_is_a_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    assert any(dep.startswith("filelock") and "emscripten" in dep for dep in project["dependencies"])
    assert any(line.startswith("filelock==") for line in (ROOT / "requirements.lock").read_text().splitlines())


def test_corrupt_deflate_data_is_exit_2_with_one_line(tmp_path, capsys):
    book = tmp_path / "book.xlsx"
    CORPUS["deflate-charges"](DEMO, book)
    assert main(["check", str(book)]) == 2
    err = capsys.readouterr().err
    assert "damaged" in err and "Traceback" not in err
    with zipfile.ZipFile(book) as z:  # the corpus really damaged it
        with pytest.raises(Exception):  # noqa: B017 - zlib.error or BadZipFile, whichever zipfile meets first
            [z.read(i) for i in z.infolist()]


def test_a_line_whose_total_no_cell_holds_exactly_is_a_problem(tmp_path, capsys):
    from tests.robustness.corpus import _cells

    book = tmp_path / "book.xlsx"
    _cells({"Charges": {"E2": 4, "F2": 9_000_000_000_000}})(DEMO, book)
    assert main(["check", str(book)]) == 1
    assert "Charges row 2, column Quantity: quantity x price is 36000000000000" in capsys.readouterr().out
