"""Hostile workbooks (tests/robustness/corpus.py) fed to check, bill, documents and send: every run ends
with exit 0, 1 or 2 as documented, no traceback, peak memory under 1 GiB, and the input sheets and
every zip entry sheetbill does not own byte-identical (the whole file when the run wrote nothing)."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sheetbill import contract
from tests.robustness.corpus import CORPUS, _part_of

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "workbooks" / "demo-medical.xlsx"
#: A small cap, so the bombs of the corpus (12 MiB) are caught without inflating much.
ENV = dict(os.environ, PYTHONPATH=str(ROOT), SHEETBILL_MAX_PART_MB="8")
GIB = 1 << 30
COMMANDS = {
    "check": ["check"],
    "bill": ["bill", "--as-of", "2026-06-30"],
    "documents": ["documents", "--as-of", "2026-06-30"],
    "send": ["send", "--as-of", "2026-06-30", "--dry-run"],
}
#: The hostile files every command meets in the quick run; the slow run feeds them all to every command.
QUICK = ["crc-charges", "malformed-workbook-xml", "bomb-in-sheet", "far-cell-xfd", "long-text", "amount-1e300",
         "installments-1e9", "duplicate-sheet-name", "hostile-names", "directory"]


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


def _run(name: str, command: str, tmp_path: Path) -> None:
    target = tmp_path / name / "book.xlsx"
    target.parent.mkdir(parents=True)
    CORPUS[name](DEMO, target)
    before = target.read_bytes() if target.is_file() else None
    inputs = _input_parts(target) if before is not None else {}
    run = subprocess.run([sys.executable, "-m", "sheetbill.cli", *COMMANDS[command][:1], str(target),
                          *COMMANDS[command][1:]], env=ENV, capture_output=True, text=True, timeout=300)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    assert run.returncode in (0, 1, 2), run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    if run.returncode == 2 and command != "send":
        assert run.stderr.strip(), "exit 2 says why"
    assert peak < GIB, f"peak memory {peak >> 20} MiB"
    if before is not None and (run.returncode == 2 or command == "check"):
        assert target.read_bytes() == before
    if inputs:
        after = _input_parts(target)
        assert {part: after.get(part) for part in inputs} == inputs


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", QUICK)
def test_a_hostile_workbook_gets_a_clear_answer(name, command, tmp_path):
    if command in ("documents", "send"):
        pytest.importorskip("fpdf")
    _run(name, command, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("command", ["check", "bill"])
@pytest.mark.parametrize("name", sorted(set(CORPUS) - set(QUICK)))
def test_the_whole_corpus_gets_clear_answers(name, command, tmp_path):
    _run(name, command, tmp_path)
