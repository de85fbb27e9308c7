"""Daily clicks through ``sheetbill bill``: a workbook whose output sheets were extended (and whose history
was read back only where it grew) is, part for part, the workbook a full write (after a full read) gives.

Each day adds charges and payments to a billed workbook (written with sheetbill's own writer, which copies
the output sheets as they are, append marks included), sometimes with a problem row, an edit in the middle
of the charges, a deleted charge or reordered columns. The same day is billed twice: in place (output
sheets extended where they only grew) and on a copy without entry comments, stored bytes otherwise
the same (every sheet written in full). Both workbooks must hold the same uncompressed parts, every day.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import random
import shutil
import sys
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from sheetbill.cli import main
from sheetbill.io.xlsx import plan, write_output_sheets
from sheetbill.io.xlsx.known import KnownPart
from sheetbill.sheets import Column, OutputSheet
from tests.io.test_xlsx_append import extended, parts, rebuild, sheet_part_name

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "benchmarks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while they are made
    spec.loader.exec_module(module)
    return module


def _table(book: Path, name: str) -> list[list[object]]:
    return CalamineWorkbook.from_path(str(book)).get_sheet_by_name(name).to_python()


def _kind(value: object) -> str:
    return "date" if isinstance(value, dt.date) else "text"


def _as_output(name: str, table: list[list[object]]) -> OutputSheet:
    """An input table written back as a sheet: ids as text, dates as dates, whole numbers as ints."""
    header, rows = table[0], table[1:]
    clean = [[int(value) if isinstance(value, float) and value.is_integer() else (value if value != "" else None)
              for value in row] for row in rows]
    kinds = [next((_kind(row[index]) for row in clean if isinstance(row[index], dt.date)), "text")
             for index in range(len(header))]
    return OutputSheet(name, tuple(Column(str(title), kind) for title, kind in zip(header, kinds, strict=True)), clean)


def _day(rng: random.Random, book: Path, day: int) -> str:
    """Type in a day's charges and payments (and sometimes more) with sheetbill's writer."""
    charges, payments = _table(book, "Charges"), _table(book, "Payments")
    customers = len(_table(book, "Customers")) - 1
    as_of = dt.date(2026, 12, 31)
    for index in range(rng.choice([1, 4, 12])):
        charges.append([f"N{day:02d}{index:04d}", as_of - dt.timedelta(days=1), f"C{rng.randrange(1, customers):07d}",
                        f"S{rng.randrange(1, 21):02d}", 1, None])
        payments.append([f"P{day:02d}{index:04d}", as_of, None, rng.choice([20, 50]), "Payment",
                         f"C{rng.randrange(1, customers):07d}"])
    kind = rng.choice(["grow", "grow", "problem", "edit", "delete", "reorder"])
    if kind == "problem":
        charges.append([f"N{day:02d}BAD", as_of, "C9999999", "S01", 1, None])  # unknown customer
    elif kind == "edit":
        charges[rng.randrange(1, len(charges))][4] = 3
    elif kind == "delete":
        del charges[rng.randrange(1, len(charges))]
    elif kind == "reorder":
        charges = [[row[1], row[0], *row[2:]] for row in charges]
    write_output_sheets(book, [_as_output("Charges", charges), _as_output("Payments", payments)], backup=False)
    return kind


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_daily_clicks_extend_sheets_exactly_as_full_writes(tmp_path: Path, seed: int, capsys, monkeypatch) -> None:
    """The reference workbook has no append marks, so its runs also read every history row (the in-place
    runs read only the rows added since their last read, :mod:`sheetbill.io.xlsx.known`)."""
    known_reads = []
    rows_since = KnownPart.rows_since

    def counted(self, seen):
        since = rows_since(self, seen)
        known_reads.append(since is not None and len(since[1]) > 0)
        return since

    monkeypatch.setattr(KnownPart, "rows_since", counted)
    rng = random.Random(seed)
    book = _generator().write(tmp_path / "book.xlsx", 300)
    assert main(["bill", str(book)]) in (0, 1)
    lines = sheet_part_name(book, "Invoice Lines")
    grew, kinds = 0, []
    for day in range(1, 5):
        kinds.append(_day(rng, book, day))
        before = shutil.copy(book, tmp_path / "before.xlsx")
        # Same stored bytes (the run stamp fingerprints them), no entry comments: no append marks.
        reference = rebuild(book, tmp_path / "reference.xlsx", comment=lambda name, comment: b"")
        first = main(["bill", str(book)])
        assert main(["bill", str(reference)]) == first
        assert parts(book) == parts(reference)
        grew += extended(before, book, lines)
        # the idle rerun leaves the file alone
        unchanged = book.read_bytes()
        main(["bill", str(book)])
        assert book.read_bytes() == unchanged
    capsys.readouterr()  # the runs' summaries
    assert grew >= 1, kinds
    assert any(known_reads), "no run read only the history rows added since the last"


def test_a_taxed_workbooks_lines_are_extended_on_the_next_days(tmp_path: Path) -> None:
    """A new line's Tax Category is plain text, as it reads back: the rows a run writes for the history it
    read are the rows the last run wrote, so the sheet grows by appending instead of being rewritten."""
    generator = _generator()
    book = generator.write(tmp_path / "book.xlsx", 300, True)
    assert main(["bill", str(book), "--as-of", "2026-12-31"]) in (0, 1)
    for seed in (1, 2):
        generator.append_day(book, 300, 9, seed=seed)
        before = shutil.copy(book, tmp_path / "before.xlsx")
        assert main(["bill", str(book), "--as-of", "2026-12-31"]) in (0, 1)
        assert extended(before, book, sheet_part_name(book, "Invoice Lines")), seed


def test_a_click_does_not_look_at_the_lines_it_read_back_again(tmp_path: Path, monkeypatch) -> None:
    """The digest of the grown Invoice Lines goes on from the chain the last write recorded, after the last
    whole batch of the rows it wrote (batches of 64 rows here, so that a small workbook has a few): the
    lines the run read back are not looked at again, and the workbook is what a full write gives."""
    monkeypatch.setattr(plan, "_DIGEST_BATCH", 64)
    digests: list[tuple[int, int]] = []
    digest = plan._digest

    def noted(link, rows, prefix=None, start=0):
        digests.append((len(rows), start))
        return digest(link, rows, prefix, start)

    monkeypatch.setattr(plan, "_digest", noted)
    generator = _generator()
    book = generator.write(tmp_path / "book.xlsx", 300)
    assert main(["bill", str(book), "--as-of", "2026-12-31"]) in (0, 1)
    written = len(_table(book, "Invoice Lines")) - 1
    generator.append_day(book, 300, 9, seed=1)
    reference = rebuild(book, tmp_path / "reference.xlsx", comment=lambda name, comment: b"")
    digests.clear()
    assert main(["bill", str(book), "--as-of", "2026-12-31"]) in (0, 1)
    now = len(_table(book, "Invoice Lines")) - 1
    assert written > 200 and now > written
    assert (now, written - written % 64) in digests
    assert main(["bill", str(reference), "--as-of", "2026-12-31"]) in (0, 1)
    assert parts(book) == parts(reference)
