"""Rows an output sheet keeps (:class:`sheetbill.sheets.KeptRows`): where the parts that hold them are as the
writer left them, it does not look at them again, and the workbook is still exactly what a full write gives.

The oracle is the full write: the same workbook without entry comments (so without append marks) written
with the same rows, which must look at every row. The kept rows handed to the in-place write are an
:class:`Untouchable` view: looking at one of them fails the test, so a write that passes did not. The
digest of a part goes on from the chain after its last whole batch of rows (64 rows here), so the kept rows
after that point, fewer than a batch in each part, are looked at again.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from sheetbill.io.xlsx import plan, write_output_sheets
from sheetbill.sheets import KeptRows, OutputSheet
from tests.io.test_xlsx_append import (
    COLUMNS,
    compressed,
    extended,
    new_workbook,
    parts,
    random_row,
    sheet_part_name,
    strip_comments,
)

CONTEXT = "test|EUR"
#: A small grid: 999 data rows a part, so a few thousand rows continue on two more sheets.
MAX_ROWS = 1000
PER_SHEET = MAX_ROWS - 1
BATCH = 64


@pytest.fixture(autouse=True)
def small_batches(monkeypatch) -> None:
    monkeypatch.setattr(plan, "_DIGEST_BATCH", BATCH)


class LookedAt(AssertionError):
    """A kept row was looked at."""


def before_the_chain(kept: int) -> set[int]:
    """The kept rows before the chain point of the part that holds them: the rows a write must not look at."""
    return {at for at in range(kept) if at % PER_SHEET < min(kept - at // PER_SHEET * PER_SHEET, PER_SHEET)
            // BATCH * BATCH}


class Untouchable(Sequence):
    """``rows`` of which those at ``hidden`` may be counted and sliced but not looked at."""

    def __init__(self, rows: Sequence, hidden: set[int], span: range | None = None):
        self._rows, self._hidden = rows, hidden
        self._span = range(len(rows)) if span is None else span

    def __len__(self) -> int:
        return len(self._span)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Untouchable(self._rows, self._hidden, self._span[index])
        at = self._span[index]
        if at in self._hidden:
            raise LookedAt(f"row {at}")
        return self._rows[at]


def kept_view(rows: Sequence, kept: int) -> Untouchable:
    hidden = before_the_chain(kept)
    assert len(hidden) > kept // 2  # most of them
    return Untouchable(rows, hidden)


@pytest.fixture
def rows() -> list[list[object]]:
    rng = random.Random(7)
    return [random_row(rng, number) for number in range(3200)]


def lines(rows: Sequence, kept: int, context: str = CONTEXT) -> list[OutputSheet]:
    return [OutputSheet("Lines", COLUMNS, rows, kept=KeptRows(kept, context))]


def write_and_compare(book: Path, in_place: Sequence, reference_rows: Sequence, kept: int, tmp_path: Path,
                      context: str = CONTEXT) -> bool:
    """Write ``in_place`` into ``book`` and ``reference_rows`` into a copy without append marks; assert both
    hold the same parts. Returns whether the in-place write wrote."""
    reference = strip_comments(book, tmp_path / "reference.xlsx")
    written = write_output_sheets(book, lines(in_place, kept, context), backup=False, _max_rows=MAX_ROWS)
    write_output_sheets(reference, lines(reference_rows, kept, context), backup=False, _max_rows=MAX_ROWS)
    assert parts(book) == parts(reference)
    return written


@pytest.mark.parametrize(("first", "then"), [(700, 750), (999, 1000), (1500, 3100), (2100, 2101), (1998, 2996)])
def test_kept_rows_are_not_looked_at_and_the_file_is_a_full_writes(tmp_path: Path, rows, first: int,
                                                                   then: int) -> None:
    book = new_workbook(tmp_path / "book.xlsx")
    write_output_sheets(book, lines(rows[:first], 0), backup=False, _max_rows=MAX_ROWS)
    assert write_and_compare(book, kept_view(rows[:then], first), rows[:then], first, tmp_path)
    # the sheet went on growing: the next day keeps what this one wrote
    assert write_and_compare(book, kept_view(rows[:then + 90], then), rows[:then + 90], then, tmp_path)


def test_the_part_that_grew_is_extended_and_full_parts_are_left_alone(tmp_path: Path, rows) -> None:
    book = new_workbook(tmp_path / "book.xlsx")
    write_output_sheets(book, lines(rows[:2500], 0), backup=False, _max_rows=MAX_ROWS)
    before = tmp_path / "before.xlsx"
    before.write_bytes(book.read_bytes())
    assert write_and_compare(book, kept_view(rows[:2600], 2500), rows[:2600], 2500, tmp_path)
    for full in ("Lines", "Lines 2"):
        assert compressed(before, sheet_part_name(before, full)) == compressed(book, sheet_part_name(book, full))
    assert extended(before, book, sheet_part_name(book, "Lines 3"))


def test_kept_rows_that_are_all_the_rows_write_nothing(tmp_path: Path, rows) -> None:
    book = new_workbook(tmp_path / "book.xlsx")
    write_output_sheets(book, lines(rows[:2500], 0), backup=False, _max_rows=MAX_ROWS)
    before = book.read_bytes()
    everything = Untouchable(rows[:2500], set(range(2500)))  # not even the rows after the chain points
    assert not write_output_sheets(book, lines(everything, 2500), backup=False,
                                   _max_rows=MAX_ROWS)
    assert book.read_bytes() == before


@pytest.mark.parametrize("kept", [2499, 2501])
def test_a_count_the_parts_do_not_hold_looks_at_every_row(tmp_path: Path, rows, kept: int) -> None:
    book = new_workbook(tmp_path / "book.xlsx")
    write_output_sheets(book, lines(rows[:2500], 0), backup=False, _max_rows=MAX_ROWS)
    with pytest.raises(LookedAt):
        # hidden: the rows a write that took the parts as they stand would not look at
        write_output_sheets(book, lines(Untouchable(rows[:2600], before_the_chain(2500)), kept), backup=False,
                            _max_rows=MAX_ROWS)


def test_rows_kept_under_another_context_are_written_as_they_are_now(tmp_path: Path, rows) -> None:
    """Another currency spells amounts otherwise: the rows the sheet holds are not the rows made now."""
    book = new_workbook(tmp_path / "book.xlsx")
    write_output_sheets(book, lines(rows[:2500], 0), backup=False, _max_rows=MAX_ROWS)
    with pytest.raises(LookedAt):
        write_output_sheets(book, lines(kept_view(rows[:2600], 2500), 2500, "test|JPY"), backup=False,
                            _max_rows=MAX_ROWS)
    respelled = [[*row[:2], Decimal(3), *row[3:]] for row in rows[:2600]]
    assert write_and_compare(book, respelled, respelled, 2500, tmp_path, "test|JPY")


def test_a_workbook_saved_by_another_program_looks_at_every_row(tmp_path: Path, rows) -> None:
    book = new_workbook(tmp_path / "book.xlsx")
    write_output_sheets(book, lines(rows[:1200], 0), backup=False, _max_rows=MAX_ROWS)
    openpyxl.load_workbook(book).save(book)
    with pytest.raises(LookedAt):
        write_output_sheets(book, lines(kept_view(rows[:1300], 1200), 1200), backup=False, _max_rows=MAX_ROWS)


def test_a_digest_goes_on_from_its_chain_as_it_would_from_the_start(monkeypatch) -> None:
    """The chain after a part's whole batches carries its digest on: for every length written before and
    every length after, the digest from the chain is the digest from the start, and the prefix's digest
    taken on the way is the digest of the prefix alone."""
    monkeypatch.setattr(plan, "_DIGEST_BATCH", 4)  # instead of the module's 64
    rng = random.Random(3)
    rows = [random_row(rng, number) for number in range(23)]
    head = plan._head(("Lines", COLUMNS))
    for before in range(len(rows)):
        digest_before, _, chain = plan._digest(head, rows[:before])
        for after in range(before, len(rows) + 1):
            full, prefix, _ = plan._digest(head, rows[:after], before)
            assert prefix == digest_before
            assert plan._digest(chain, rows[:after], None, before - before % 4)[0] == full
    changed = [*rows[:9], [*rows[9][:-1], "other"], *rows[10:]]
    assert len({plan._digest(head, rows)[0], plan._digest(head, changed)[0], plan._digest(head, rows[:22])[0],
                plan._digest(plan._head(("Lines 2", COLUMNS)), rows)[0]}) == 4


def test_parts_split_on_another_grid_are_not_taken_for_this_ones(tmp_path: Path, rows) -> None:
    """Written 799 rows a part, then 999: the second part's rows are not the rows the second part held."""
    book = new_workbook(tmp_path / "book.xlsx")
    write_output_sheets(book, lines(rows[:2500], 0), backup=False, _max_rows=800)
    reference = strip_comments(book, tmp_path / "reference.xlsx")
    assert write_output_sheets(book, lines(rows[:2600], 2500), backup=False, _max_rows=MAX_ROWS)
    write_output_sheets(reference, lines(rows[:2600], 2500), backup=False, _max_rows=MAX_ROWS)
    assert parts(book) == parts(reference)
