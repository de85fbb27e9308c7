"""The run memo: a run that reuses the parsed rows of the last run writes exactly what a full run writes.

Random workbooks (seeded) are billed several times in sequence, each time after edits of the kind a
clerk makes: new rows, cells edited in the middle of a sheet, deleted rows, reordered columns, rows
with problems, and edits of issued history. Each run is made twice, with the memo carried over from
the last run (saved to and loaded from its file) and without any memo, and everything is compared:
the records read, the Problems, and the sheets written.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import pickle
import random
import stat
import zipfile
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import pytest

from sheetbill import app, memo, rowmemo, seals
from sheetbill import book as book_module
from sheetbill.book import load_book
from sheetbill.cli import main
from sheetbill.io.xlsx import XlsxWorkbook
from sheetbill.memo import MemoStore, RunMemo
from sheetbill.problems import error
from sheetbill.run import run_billing
from sheetbill.sheets import RawSheet
from tests.helpers import with_outputs

AS_OF = dt.date(2026, 6, 30)
SERVICES = [("S1", "Consultation", 80.0), ("S2", "Therapy", 45.5), ("S3", "Test", 19.99), ("S4", "Visit", 120)]


def _inputs(rng: random.Random, charges: int) -> dict[str, list[list[object]]]:
    """Input tables as lists of rows (header first): customers, half of them insured, charges and payments."""
    customers = [[f"C{n:03d}", f"Customer {n}", f"{n} Main St", "10115", "Berlin"] for n in range(1, 31)]
    tables: dict[str, list[list[object]]] = {
        "Settings": [["Setting", "Value"], ["Company Name", "Memo Clinic"], ["Currency", "EUR"],
                     ["Payment Terms Days", 14], ["Bank IBAN", "DE89370400440532013000"]],
        "Customers": [["Customer ID", "Name", "Street", "Postal Code", "City"], *customers],
        "Payers": [["Payer ID", "Name", "Type", "Payment Terms Days"], ["INS1", "Alpha Health", "insurer", 30]],
        "Services": [["Service Code", "Description", "Price"], *[list(s) for s in SERVICES]],
        "Payer Codes": [["Payer ID", "Service Code", "Allowed Amount", "Covered"],
                        *[["INS1", code, round(price * 0.8, 2), "yes"] for code, _, price in SERVICES]],
        "Coverage": [["Customer ID", "Payer ID", "Member ID", "Priority", "Valid From", "Covered Percent"],
                     *[[f"C{n:03d}", "INS1", f"M{n}", 1, dt.date(2026, 1, 1), 80] for n in range(1, 31, 2)]],
        "Charges": [["Charge ID", "Date", "Customer ID", "Service Code", "Quantity", "Note"]],
        "Payments": [["Payment ID", "Date", "Invoice No", "Amount", "Type", "Customer ID"]],
    }
    _add_rows(rng, tables, charges, 1)
    return tables


def _add_rows(rng: random.Random, tables: dict[str, list[list[object]]], count: int, first: int) -> None:
    """Append ``count`` charges (a few with problems) and a payment for every third one."""
    for n in range(first, first + count):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randrange(170))
        row: list[object] = [f"X{n:05d}", day, f"C{rng.randrange(1, 31):03d}", rng.choice(SERVICES)[0],
                             rng.choice((1, 1, 2, 1.5)), rng.choice((None, "", "note"))]
        spoiled = rng.random()
        if spoiled < 0.03:
            row[4] = "abc"  # not a number
        elif spoiled < 0.05:
            row[2] = "C999"  # unknown customer
        elif spoiled < 0.06:
            row[0] = f"X{max(1, n - 3):05d}"  # a duplicate Charge ID
        elif spoiled < 0.07:
            row[1] = "#REF!"
        tables["Charges"].append(row)
        if n % 3 == 0:
            tables["Payments"].append([f"P{n:05d}", AS_OF, None, rng.choice((20, 50.5, 80, "12,50")), "Payment",
                                       f"C{rng.randrange(1, 31):03d}"])


def _edit(rng: random.Random, tables: dict[str, list[list[object]]], sheets: dict[str, RawSheet], run: int) -> None:
    """A clerk's day between two runs: new rows, edits and deletions in the middle, reordered columns,
    and now and then an edit of issued history (a changed amount, a deleted line)."""
    charges = tables["Charges"]
    _add_rows(rng, tables, rng.randrange(3, 12), 1000 * run)
    for _ in range(rng.randrange(0, 3)):
        row = charges[rng.randrange(1, len(charges))]
        row[4] = rng.choice((1, 3, "x", 2.0))
    if len(charges) > 20 and rng.random() < 0.6:
        del charges[rng.randrange(1, len(charges) - 5)]
    if rng.random() < 0.4:
        order = list(range(len(charges[0])))
        rng.shuffle(order)
        tables["Charges"] = [[row[i] if i < len(row) else None for i in order] for row in charges]
    if rng.random() < 0.3:
        customers = tables["Customers"]
        customers[rng.randrange(1, len(customers))][1] = f"Renamed {run}"
    lines = sheets.get("Invoice Lines")
    if lines is not None and len(lines.rows) > 10 and rng.random() < 0.5:
        rows = [list(r) for r in lines.rows]
        victim = rng.randrange(1, len(rows))
        if rng.random() < 0.5:
            rows[victim][8] = 999.99  # Amount edited after issue
        else:
            del rows[victim]
        sheets["Invoice Lines"] = RawSheet(lines.name, rows)


def _raw(tables: dict[str, list[list[object]]]) -> dict[str, RawSheet]:
    return {name: RawSheet(name, [list(r) for r in rows]) for name, rows in tables.items()}


def _records(book) -> dict[str, object]:
    """Everything a Book read, for comparing two reads."""
    return {f.name: getattr(book, f.name) for f in fields(book) if f.name != "amounts"}


class _Counted(rowmemo.TableMemo):
    """The read memo, counting what all runs of a test took from it."""

    reused = unchecked = 0

    def __init__(self, *args):
        super().__init__(*args)
        _Counted.last = self

    def take(self, key):
        found = super().take(key)
        _Counted.reused += found is not None
        return found


@pytest.mark.parametrize("seed", range(8))
def test_runs_with_the_memo_read_and_write_exactly_what_full_runs_do(seed, tmp_path, monkeypatch):
    monkeypatch.setattr(rowmemo, "BLOCK_ROWS", 7)  # small tables, many blocks
    monkeypatch.setattr(seals, "CHECKPOINT_ROWS", 3)  # and many checkpoints of verified history
    monkeypatch.setattr(book_module, "TableMemo", _Counted)
    _Counted.reused = _Counted.unchecked = 0
    rng = random.Random(seed)
    tables = _inputs(rng, rng.randrange(20, 90))
    store = MemoStore(tmp_path / "book.xlsx", folder=tmp_path / "cache")
    history: dict[str, RawSheet] = {}
    unchecked = 0
    for run in range(1, 6):
        if run > 1:
            _edit(rng, tables, history, run)
        sheets = {**history, **_raw(tables)}
        plain = run_billing(sheets, as_of=AS_OF + dt.timedelta(days=run))
        remembered = store.load() or RunMemo()
        with_memo = run_billing(sheets, as_of=AS_OF + dt.timedelta(days=run), memo=remembered)
        unchecked += _Counted.last.unchecked
        assert _records(with_memo.book) == _records(plain.book)
        assert with_memo.problems == plain.problems
        assert [(o.name, o.columns, o.rows) for o in with_memo.outputs] == \
            [(o.name, o.columns, o.rows) for o in plain.outputs]
        assert store.save(remembered)
        outputs = with_outputs({}, plain.outputs)
        history = {name: outputs[name] for name in ("Invoices", "Invoice Lines", "Reminders", "Collections")
                   if name in outputs}
    assert _Counted.reused, "no block was taken from the memo"
    assert unchecked, "no verified history was skipped"


def test_the_memo_keeps_only_the_blocks_of_the_last_run(monkeypatch):
    monkeypatch.setattr(rowmemo, "BLOCK_ROWS", 5)
    tables = _inputs(random.Random(1), 40)
    remembered = RunMemo()
    load_book(_raw(tables), as_of=AS_OF, memo=remembered)
    first = set(remembered.tables)
    tables["Charges"][3][4] = 7  # one block of Charges changes
    load_book(_raw(tables), as_of=AS_OF, memo=remembered)
    assert len(remembered.tables) == len(first)
    assert len(set(remembered.tables) - first) == 1


def test_a_value_of_another_type_is_another_block(monkeypatch):
    """``1`` and ``"1"`` and ``True`` parse differently (a Quantity of ``True`` is a Problem)."""
    monkeypatch.setattr(rowmemo, "BLOCK_ROWS", 4)
    tables = _inputs(random.Random(2), 12)
    remembered = RunMemo()
    for quantity in (1, 1.0, "1", True, Decimal(1)):
        tables["Charges"][2][4] = quantity
        plain_book, plain_problems = load_book(_raw(tables), as_of=AS_OF)
        book, problems = load_book(_raw(tables), as_of=AS_OF, memo=remembered)
        assert (_records(book), problems) == (_records(plain_book), plain_problems)


class _Text(str):
    """Text of a type of its own (as an enum member is): never taken for plain text in a key."""


class _Number(int):
    """A whole number of a type of its own."""


def test_a_block_key_tells_every_value_and_type_apart_and_ignores_which_objects_hold_them():
    values = [1, 1.0, True, 0, 0.0, -0.0, False, "1", "", None, 10**30, float("inf"), Decimal("1"),
              dt.date(2026, 1, 1), dt.datetime(2026, 1, 1), dt.time(0), dt.timedelta(days=1), "2026-01-01",
              "datetime.date(2026, 1, 1)", ("date", "2026-01-01"), _Text("1"), _Number(1), b"1"]
    table = b"t" * 16
    alone = {rowmemo.block_key(table, 1, [(value,)]) for value in values}
    beside_a_date = {rowmemo.block_key(table, 1, [(value,), (dt.date(2026, 1, 1),)]) for value in values}
    beside_text = {rowmemo.block_key(table, 1, [(value, "x")]) for value in values}
    assert len(alone) == len(beside_a_date) == len(beside_text) == len(values)
    assert rowmemo.block_key(table, 1, [(1, "a")]) != rowmemo.block_key(table, 1, [("a", 1)])
    assert rowmemo.block_key(table, 1, [(1,)]) != rowmemo.block_key(table, 2, [(1,)])
    assert rowmemo.block_key(table, 1, [(1,)]) != rowmemo.block_key(b"u" * 16, 1, [(1,)])
    shared = "".join(["Cust", "omer"])
    apart = [("".join(["Cust", "omer"]), dt.date(2026, 1, n % 28 + 1), n * 1.5) for n in range(100)]
    together = [(shared, dt.date(2026, 1, n % 28 + 1), n * 1.5) for n in range(100)]
    assert apart[0][0] is not apart[1][0] and together[0][0] is together[1][0]
    assert rowmemo.block_key(table, 1, apart) == rowmemo.block_key(table, 1, together)


def test_a_damaged_block_is_parsed_again(monkeypatch):
    monkeypatch.setattr(rowmemo, "BLOCK_ROWS", 4)
    tables = _inputs(random.Random(3), 20)
    remembered = RunMemo()
    expected = load_book(_raw(tables), as_of=AS_OF, memo=remembered)
    remembered.tables = {key: b"\x80\x05garbage" for key in remembered.tables}
    book, problems = load_book(_raw(tables), as_of=AS_OF, memo=remembered)
    assert (_records(book), problems) == (_records(expected[0]), expected[1])


def test_a_block_is_kept_column_by_column_and_gives_back_every_outcome():
    """Rows with Problems, keys, a blank row skipped; a block taken from the memo makes no tuple per row (a
    million of them, made and let go while the records that stay are made, would leave their memory
    scattered among them)."""
    problem = error("bad", "Charges", 5, "Date", code="bad-date")
    outcomes = [(2, "a", ("K1",), ()), (3, "b", ("K2",), ()), (5, None, None, (problem,)), (6, "d", ("K4",), ())]
    block = rowmemo.Block.of(outcomes)
    assert list(block.outcomes()) == outcomes and list(block.rows) == [2, 3, 5, 6]
    history = rowmemo.Block.of([(row, f"r{row}", None, ()) for row in range(2, 2050)])
    assert history.rows == range(2, 2050) and history.keys is None and history.problems == {}
    assert list(history.outcomes()) == [(row, f"r{row}", None, ()) for row in range(2, 2050)]
    packed = memo.pack(history)
    gc.collect()
    before = sum(type(o) is tuple for o in gc.get_objects())
    back = memo.unpack(packed)
    assert sum(type(o) is tuple for o in gc.get_objects()) - before < 10
    assert back == history and isinstance(back, rowmemo.Block)


# --- the store --------------------------------------------------------------------------------------


def test_the_store_gives_back_what_it_kept(tmp_path):
    store = MemoStore(tmp_path / "a.xlsx", folder=tmp_path / "cache")
    assert store.load() is None
    assert store.save(RunMemo({b"k": [(2, None, None, [])]}, {"adjudication": {"x": 1}}))
    loaded = store.load()
    assert loaded is not None and loaded.extras == {"adjudication": {"x": 1}}
    assert memo.unpack(loaded.tables[b"k"].read()) == [(2, None, None, [])]
    assert pickle.loads(pickle.dumps(loaded)).tables == {b"k": memo.pack([(2, None, None, [])])}  # picklable
    store.close()


def test_kept_and_new_blocks_are_saved_together_and_nothing_else_stays_in_the_folder(tmp_path):
    store = MemoStore(tmp_path / "a.xlsx", folder=tmp_path / "cache")
    assert store.save(RunMemo({b"old": [(2, "a", None, ())], b"gone": [(3, "b", None, ())]}))
    loaded = store.load()
    loaded.tables = {b"old": loaded.tables[b"old"], **{bytes([n]): [(n, "x" * n, None, ())] for n in range(40)}}
    assert store.save(loaded)  # one block copied from the last file, forty packed anew
    again = store.load()
    assert set(again.tables) == {b"old", *(bytes([n]) for n in range(40))}
    assert memo.unpack(again.tables[b"old"].read()) == [(2, "a", None, ())]
    assert all(memo.unpack(again.tables[bytes([n])].read()) == [(n, "x" * n, None, ())] for n in range(40))
    store.close()
    assert [path.name for path in (tmp_path / "cache").iterdir()] == [store.path.name]


class _Held:
    """A value a block may hold that can be watched (weakref) to be let go."""

    def __init__(self, n: int):
        self.n = n

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Held) and other.n == self.n


def test_parked_blocks_let_their_values_go_and_are_saved_as_the_blocks_themselves_would_be(tmp_path):
    """``park`` packs the blocks a memo holds as objects (a run's newly parsed rows) into a temporary file
    at once: the memo no longer holds their values, a block from the last memo stays as it was, and the
    file saved is byte for byte the one saved from the objects; the parked file is closed by the save."""
    import weakref

    def blocks() -> dict[bytes, object]:
        return {bytes([n]): [(n, "x" * n, _Held(n), ())] for n in range(6)}

    folder = tmp_path / "cache"
    as_objects = MemoStore(tmp_path / "objects.xlsx", folder=folder)
    assert as_objects.save(RunMemo(blocks(), {"adjudication": 1}))
    store = MemoStore(tmp_path / "parked.xlsx", folder=folder)
    assert store.save(RunMemo({b"old": [(9, "y", None, ())]}))
    parked = store.load()
    old = parked.tables[b"old"]
    fresh = blocks()
    watched = weakref.ref(fresh[bytes([3])][0][2])
    parked.tables = {**fresh, b"old": old}
    parked.extras = {"adjudication": 1}
    del fresh
    assert memo.park(parked) == 6 and memo.park(parked) == 0
    assert watched() is None  # the value is no longer held by the memo
    assert parked.tables[b"old"] is old and all(isinstance(b, memo.StoredBlock) for b in parked.tables.values())
    assert [memo.unpack(parked.tables[key].read()) for key in blocks()] == list(blocks().values())
    source = parked.tables[bytes([0])].source
    parked.tables.pop(b"old")
    assert store.save(parked)
    assert source.stream.closed
    assert store.path.read_bytes() == as_objects.path.read_bytes()
    store.close()


@pytest.mark.parametrize("damage", [b"", b"garbage", b"sheetbill-run-memo\n{}\n", "half", "longer"])
def test_a_damaged_memo_file_is_ignored(tmp_path, damage):
    store = MemoStore(tmp_path / "a.xlsx", folder=tmp_path / "cache")
    store.save(RunMemo({b"k": [1, 2, 3]}))
    content = store.path.read_bytes()
    damaged = {"half": content[: len(content) // 2], "longer": content + b"\0"}.get(damage, damage)
    store.path.write_bytes(damaged)
    assert store.load() is None


def test_a_damaged_block_in_the_file_is_parsed_again(tmp_path, monkeypatch):
    monkeypatch.setattr(rowmemo, "BLOCK_ROWS", 4)
    tables = _inputs(random.Random(6), 20)
    store = MemoStore(tmp_path / "a.xlsx", folder=tmp_path / "cache")
    first = RunMemo()
    expected = load_book(_raw(tables), as_of=AS_OF, memo=first)
    store.save(first)
    content = bytearray(store.path.read_bytes())
    for offset in range(len(content) - 2000, len(content), 7):  # the last blocks: garbled, same length
        content[offset] ^= 0x5A
    store.path.write_bytes(bytes(content))
    loaded = store.load()
    book, problems = load_book(_raw(tables), as_of=AS_OF, memo=loaded)
    store.close()
    assert (_records(book), problems) == (_records(expected[0]), expected[1])


def test_a_block_whose_bytes_are_another_blocks_is_refused_even_when_copied_into_the_next_memo(tmp_path):
    folder = tmp_path / "cache"
    store = MemoStore(tmp_path / "a.xlsx", folder=folder)
    first, second = memo.pack([(2, "first", None, [])]), memo.pack([(3, "other", None, [])])
    assert len(first) == len(second) and first != second
    store.save(RunMemo({b"a": [(2, "first", None, [])], b"b": [(3, "other", None, [])]}))
    content = store.path.read_bytes()
    at_first, at_second = content.index(first), content.index(second)
    swapped = bytearray(content)
    swapped[at_first:at_first + len(first)], swapped[at_second:at_second + len(second)] = second, first
    store.path.write_bytes(bytes(swapped))  # each block is a good pickle, of the other block's value
    loaded = store.load()
    for key in (b"a", b"b"):
        with pytest.raises(ValueError, match="damaged"):
            loaded.tables[key].read()
    again = MemoStore(tmp_path / "a.xlsx", folder=folder)
    assert again.save(RunMemo(dict(loaded.tables)))  # copied as they are, with the checksums they had
    store.close()
    copied = again.load()
    with pytest.raises(ValueError, match="damaged"):
        copied.tables[b"a"].read()
    again.close()


def test_a_memo_of_other_code_or_other_plugins_is_ignored(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    MemoStore(tmp_path / "a.xlsx", "payer-x=1.0", folder=folder).save(RunMemo({b"k": [1]}))
    same = MemoStore(tmp_path / "a.xlsx", "payer-x=1.0", folder=folder)
    assert same.load() is not None
    same.close()
    assert MemoStore(tmp_path / "a.xlsx", "payer-x=1.1", folder=folder).load() is None
    monkeypatch.setattr(memo, "code_fingerprint", lambda: "0" * 32)
    assert MemoStore(tmp_path / "a.xlsx", "payer-x=1.0", folder=folder).load() is None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file modes")
def test_the_memo_file_is_its_owners_alone_and_a_file_others_may_write_is_ignored(tmp_path):
    store = MemoStore(tmp_path / "a.xlsx", folder=tmp_path / "cache")
    store.save(RunMemo({b"k": [1]}))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.load() is not None
    store.close()
    store.path.chmod(0o620)
    assert store.load() is None


def test_a_memo_that_is_no_run_memo_is_ignored(tmp_path):
    store = MemoStore(tmp_path / "a.xlsx", folder=tmp_path / "cache")
    store.path.parent.mkdir(parents=True)
    index = pickle.dumps({"extras": [], "blocks": []})
    store.path.write_bytes(store._header() + len(index).to_bytes(8, "big") + index)
    assert store.load() is None


def test_the_code_fingerprint_covers_every_source_file():
    root = Path(memo.__file__).parent
    assert len(memo.code_fingerprint()) == 32
    assert (root / "rowmemo.py").exists() and (root / "payers").is_dir()  # files under packages count too


@pytest.mark.parametrize("name", ["book.xlsx", "../../etc/passwd.xlsx", "a b/../c\u00e9.xlsx", "x" * 200 + ".xlsx"])
def test_the_store_writes_only_inside_its_folder(tmp_path, name):
    folder = tmp_path / "cache"
    store = MemoStore(tmp_path / "work" / name, folder=folder)
    assert store.path.parent == folder
    assert name.split("/")[-1].removesuffix(".xlsx") not in store.path.name  # named by a hash, never the path
    store.save(RunMemo())
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [store.path.name]


def test_memos_of_workbooks_not_billed_for_weeks_are_removed(tmp_path):
    folder = tmp_path / "cache"
    old, recent, mine = (MemoStore(tmp_path / name, folder=folder) for name in ("old.xlsx", "new.xlsx", "mine.xlsx"))
    for store in (old, recent, mine):
        store.save(RunMemo())
    stranger = folder / "notes.txt"
    stranger.write_text("not a memo")
    weeks_ago = dt.datetime.now().timestamp() - (memo.KEEP_DAYS + 1) * 86400
    for path in (old.path, stranger, mine.path):
        os.utime(path, (weeks_ago, weeks_ago))
    mine.save(RunMemo())
    assert sorted(p.name for p in folder.iterdir()) == sorted([recent.path.name, mine.path.name, "notes.txt"])


def test_a_cache_folder_that_cannot_be_written_costs_only_the_memo(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    store = MemoStore(tmp_path / "a.xlsx", folder=blocked / "cache")
    assert store.save(RunMemo()) is False
    assert store.load() is None


def test_the_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SHEETBILL_CACHE_DIR", str(tmp_path / "mine"))
    assert memo.cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("SHEETBILL_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert memo.cache_dir() == tmp_path / "xdg" / "sheetbill"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert memo.cache_dir() == tmp_path / "home" / ".cache" / "sheetbill"


# --- the command line on .xlsx files ------------------------------------------------------------------


def _write_xlsx(path: Path, tables: dict[str, list[list[object]]]) -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    workbook.set_properties({"created": dt.datetime(2026, 1, 1)})
    dates = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in tables.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), dates)
                elif value is not None:
                    sheet.write(r, c, value)
    workbook.close()
    return path


def _sheet_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")}


def _type_in(path: Path, tables: dict[str, list[list[object]]]) -> None:
    """Type the rows of Charges and Payments the file lacks in (saved again, as by another program)."""
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    for name in ("Charges", "Payments"):
        sheet = workbook[name]
        for row in tables[name][sheet.max_row:]:
            sheet.append(row)
    workbook.save(path)


def test_the_daily_click_writes_the_same_file_with_and_without_the_memo(tmp_path, monkeypatch):
    monkeypatch.setattr(rowmemo, "BLOCK_ROWS", 16)
    monkeypatch.setattr(seals, "CHECKPOINT_ROWS", 8)
    monkeypatch.setattr(book_module, "TableMemo", _Counted)
    _Counted.reused, unchecked = 0, 0
    rng = random.Random(11)
    tables = _inputs(rng, 120)
    cached, plain = tmp_path / "cached.xlsx", tmp_path / "plain.xlsx"
    _write_xlsx(cached, tables)
    _write_xlsx(plain, tables)
    for run in range(3):
        if run:
            _add_rows(rng, tables, 6, 1000 * run)
            _type_in(cached, tables)
            _type_in(plain, tables)
        as_of = f"2026-07-0{run + 1}"
        assert main(["bill", str(cached), "--as-of", as_of]) in (0, 1)
        unchecked += _Counted.last.unchecked
        assert main(["bill", str(plain), "--as-of", as_of, "--no-cache"]) in (0, 1)
        assert _sheet_parts(cached) == _sheet_parts(plain)
    assert len(list(memo.cache_dir().glob("*.memo"))) == 1  # one memo, of the cached workbook only
    assert _Counted.reused and unchecked  # the memo was used: parsed rows and verified history


def test_no_cache_and_cache_off_keep_no_memo(tmp_path, monkeypatch):
    path = _write_xlsx(tmp_path / "book.xlsx", _inputs(random.Random(4), 10))
    main(["check", str(path), "--as-of", "2026-07-01"])
    main(["check", str(path), "--as-of", "2026-07-01", "--no-cache"])
    main(["overdue", str(path), "--as-of", "2026-07-01", "--no-cache"])
    main(["bill", str(path), "--as-of", "2026-07-01", "--no-cache"])
    monkeypatch.setenv("SHEETBILL_CACHE", "off")
    main(["bill", str(path), "--as-of", "2026-07-02"])
    assert not memo.cache_dir().exists() or not any(memo.cache_dir().iterdir())
    monkeypatch.delenv("SHEETBILL_CACHE")
    main(["bill", str(path), "--as-of", "2026-07-03"])
    assert len(list(memo.cache_dir().glob("*.memo"))) == 1


def test_an_idle_rerun_neither_reads_nor_keeps_the_memo(tmp_path):
    path = _write_xlsx(tmp_path / "book.xlsx", _inputs(random.Random(5), 10))
    assert main(["bill", str(path), "--as-of", "2026-07-01"]) in (0, 1)
    (kept,) = memo.cache_dir().glob("*.memo")
    kept.write_bytes(b"damaged on purpose")  # an idle rerun does not even look at it
    before = path.read_bytes()
    outcome = app.bill(XlsxWorkbook(path), as_of=dt.date(2026, 7, 1))
    assert outcome.unchanged and path.read_bytes() == before and kept.read_bytes() == b"damaged on purpose"
