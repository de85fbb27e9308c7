"""Hostile workbooks (tests/robustness/corpus.py) fed to check, bill, documents and send: every run ends
with exit 0, 1 or 2 as documented, no traceback, peak memory under 1 GiB, and the input sheets and
every zip entry sheetbill does not own byte-identical (the whole file when the run wrote nothing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sheetbill import contract
from sheetbill.cli import main
from tests.robustness.corpus import CORPUS, _part_of

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "workbooks" / "demo-medical.xlsx"
#: A small cap, so the bombs of the corpus (12 MiB) are caught without inflating much.


def _env() -> dict[str, str]:
    """The environment of a measured process: this test's (its own cache folder among them), taken when the
    process starts, with the part limit lowered."""
    return dict(os.environ, PYTHONPATH=str(ROOT), SHEETBILL_MAX_PART_MB="8")

GIB = 1 << 30
COMMANDS = {
    "check": ["check"],
    "bill": ["bill", "--as-of", "2026-06-30"],
    "documents": ["documents", "--as-of", "2026-06-30"],
    "send": ["send", "--as-of", "2026-06-30", "--dry-run"],
}
#: The hostile files check and bill meet in the quick run, and those documents and send meet (rendering
#: every PDF of the demo takes most of a minute); the slow run feeds every file to check, bill and send.
QUICK = ["crc-charges", "malformed-workbook-xml", "bomb-in-sheet", "far-cell-xfd", "long-text", "amount-1e300",
         "installments-1e9", "duplicate-sheet-name", "hostile-names", "directory"]
QUICK_DOCUMENTS = ["crc-charges", "bomb-in-sheet", "far-cell-xfd"]


def _input_parts(path: Path) -> dict[str, tuple[int, int]]:
    """CRC and size of the input sheets' parts (None when the file is no readable zip)."""
    try:
        with zipfile.ZipFile(path) as z:
            names = {info.filename: (info.CRC, info.file_size) for info in z.infolist()}
    except (zipfile.BadZipFile, OSError):
        return {}
    parts = {}
    for sheet in contract.INPUT_SHEETS:
        try:
            part = _part_of(path, sheet)
        except (AttributeError, KeyError, OSError, zipfile.BadZipFile):
            continue
        if part in names:
            parts[part] = names[part]
    return parts


#: Runs the command given as its arguments and reports that command's own peak memory on stderr. The
#: command is started from this small process because Linux counts the forking parent's memory in a
#: child's ru_maxrss, and a test session's own process is large.
_MEASURE = ("import os, subprocess, sys\n"
            "child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)\n"
            "_, status, usage = os.wait4(child.pid, 0)\n"
            "sys.stderr.write(f'\\nPEAK {usage.ru_maxrss}\\n')\n"
            "sys.exit(os.waitstatus_to_exitcode(status))\n")


def _measured(args: list[str], log: Path) -> tuple[int, str, int]:
    """Run ``args``; its exit code, its stderr and its own peak memory in bytes."""
    run = subprocess.run([sys.executable, "-c", _MEASURE, *args], env=_env(), capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=600)
    stderr, _, peak = run.stderr.rpartition("\nPEAK ")
    scale = 1 if sys.platform == "darwin" else 1024
    return run.returncode, stderr, int(peak.split()[0]) * scale


def _run(name: str, command: str, tmp_path: Path) -> None:
    target = tmp_path / name / "book.xlsx"
    target.parent.mkdir(parents=True)
    CORPUS[name](DEMO, target)
    before = target.read_bytes() if target.is_file() else None
    inputs = _input_parts(target) if before is not None else {}
    code, stderr, peak = _measured([sys.executable, "-m", "sheetbill.cli", *COMMANDS[command][:1], str(target),
                                    *COMMANDS[command][1:]], tmp_path / f"{name}-{command}")
    assert code in (0, 1, 2), stderr
    assert "Traceback" not in stderr, stderr
    if code == 2 and command != "send":
        assert stderr.strip(), "exit 2 says why"
    assert peak < GIB, f"peak memory {peak >> 20} MiB"
    if before is not None and (code == 2 or command == "check"):
        assert target.read_bytes() == before
    if inputs:
        after = _input_parts(target)
        assert {part: after.get(part) for part in inputs} == inputs


QUICK_RUNS = [(name, command) for name in QUICK for command in ("check", "bill")]
QUICK_RUNS += [(name, command) for name in QUICK_DOCUMENTS for command in ("documents", "send")]


@pytest.mark.parametrize(("name", "command"), QUICK_RUNS)
def test_a_hostile_workbook_gets_a_clear_answer(name, command, tmp_path):
    if command in ("documents", "send"):
        pytest.importorskip("fpdf")
    _run(name, command, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "command"), [(name, command) for name in sorted(CORPUS)
                                               for command in ("check", "bill", "send")
                                               if (name, command) not in QUICK_RUNS])
def test_the_whole_corpus_gets_clear_answers(name, command, tmp_path):
    if command in ("documents", "send"):
        pytest.importorskip("fpdf")
    _run(name, command, tmp_path)


#: The out-of-range values of the corpus, and where the Problem must point (sheet, row, column).
OUT_OF_RANGE = {
    "amount-1e300": ("Charges", 2, "Price"),
    "amount-17-digits": ("Services", 2, "Price"),
    "hold-until-10000": ("Contacts", 2, "Hold Until"),
    "payment-terms-1e9": ("Settings", None, "Value"),
    "payment-terms-negative": ("Settings", None, "Value"),
    "invoice-digits-negative": ("Settings", None, "Value"),
    "invoice-digits-40000": ("Settings", None, "Value"),
    "installments-1e6": ("Payment Plans", 2, "Installments"),
    "installments-1e9": ("Payment Plans", 2, "Installments"),
    "interval-months-1e6": ("Payment Plans", 2, "Interval Months"),
    "as-of-setting-9999": ("Settings", None, "Value"),
    "long-text": ("Charges", 2, "Charge ID"),
}


@pytest.mark.parametrize("name", sorted(OUT_OF_RANGE))
def test_a_value_out_of_its_range_is_a_located_problem(name, tmp_path, capsys):
    book = tmp_path / "book.xlsx"
    CORPUS[name](DEMO, book)
    assert main(["check", str(book), "--json"]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    sheet, row, column = OUT_OF_RANGE[name]
    assert any(p["sheet"] == sheet and p["column"] == column and (row is None or p["row"] == row)
               and p["code"] in ("out-of-range", "bad-setting", "not-a-date") for p in problems), problems
