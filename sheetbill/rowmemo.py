"""Reading a table with the run memo: blocks of rows unchanged since the last run are not parsed again.

A table's data rows are split into blocks of :data:`BLOCK_ROWS` rows. A block's key
(:func:`block_key`) is a BLAKE2b digest of its raw cells in the table's columns (``1``, ``1.0``,
``"1"`` and ``True`` stay distinct; other columns, such as the Paid and Status an Invoices row shows,
or staff's own columns, are not read and do not count), its first row number, and the table's
context (:func:`table_key`: the sheet, which of its columns the table has, the table's
specification, and what the caller's record factory depends on). A block whose key the last run's
memo holds gets that run's outcome of each of its rows (its record, or its Problems); only the
other blocks are parsed. In the daily click that is the last block of each table that grew.

Sealed history is verified the same way (:func:`seal_findings`): the prefix, in issue order, that
the last run verified is not verified again when its rows, seals and cells are the same.

Duplicate keys are found across all rows as before, so :func:`read_table_memo` gives exactly the
records and Problems, in the same order, that :func:`sheetbill.tables.read_table` gives.

A sheet with :class:`~sheetbill.sheets.KnownRows` is read only where it grew since the read the memo
names it by (its token); :func:`remember_written` brings that token up to the sheet as a run just wrote
it, parsing the rows the run appended (:mod:`sheetbill.handover`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import marshal
import operator
import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from . import seals as seals_module
from .memo import StoredBlock, pack, unpack
from .problems import ConfigurationError, Problem
from .records import builder
from .seals import Finding, PrefixDigests, prefix_chain, spell_sealed, verified_prefix, verify
from .sheets import RawSheet
from .tables import Read, TableSpec, column_map, duplicate_key, first_key_header, project, row_records

#: Rows a block holds: small enough that a day's new rows re-parse little, large enough that the keys
#: and the memo's bookkeeping cost little.
BLOCK_ROWS = 2048

#: A row as it is parsed: (sheet row, record, key values, Problems); record and key are None for a row with
#: Problems, the Problems are empty for a good row.
Outcome = tuple[int, Any, tuple | None, Sequence[Problem]]


class Block(NamedTuple):
    """The outcomes of a block of rows as the memo keeps them: column by column, not a tuple per row.

    ``rows`` the sheet rows (a ``range`` when they follow each other, as they mostly do); ``records`` each
    row's record (None for a row with Problems); ``keys`` each row's key values, or None when no row has
    any (history); ``problems`` the Problems of the rows that have some, by index.

    A block taken from the memo makes only its records and their values: a tuple and a row number per row
    beside them, made and let go while a million rows are read, would leave the memory they took
    scattered among the records that stay (measured: 114 MiB of the 1.6 GiB a daily click at 1,000,000
    charges held at its peak).
    """

    rows: Sequence[int]
    records: list[Any]
    keys: list[tuple | None] | None
    problems: dict[int, Sequence[Problem]]

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Block:
        """The block of ``outcomes`` (as :func:`_parse_block` gives them)."""
        rows = [outcome[0] for outcome in outcomes]
        if rows and rows[-1] - rows[0] == len(rows) - 1:  # rows in sheet order, so one after the other
            rows = range(rows[0], rows[-1] + 1)  # type: ignore[assignment]
        keys = [outcome[2] for outcome in outcomes]
        problems = {index: outcome[3] for index, outcome in enumerate(outcomes) if outcome[3]}
        return cls(rows, [outcome[1] for outcome in outcomes], keys if any(k is not None for k in keys) else None,
                   problems)

    def outcomes(self) -> Iterator[Outcome]:
        """The outcome of each row, in order."""
        problems, keys = self.problems, self.keys if self.keys is not None else [None] * len(self.records)
        for index, (row, record, key) in enumerate(zip(self.rows, self.records, keys, strict=True)):
            yield row, record, key, problems.get(index, ())


#: The name under which :attr:`sheetbill.memo.RunMemo.extras` keeps the verified prefixes of sealed history.
SEALS_VERIFIED = "seals-verified"
#: The name under which :attr:`sheetbill.memo.RunMemo.extras` keeps, per table read from a sheet with
#: :class:`~sheetbill.sheets.KnownRows`, what the read saw of it and the keys of its blocks, in order.
KNOWN_SHEETS = "known-sheets"
#: The name under which :attr:`sheetbill.memo.RunMemo.own` keeps this run's :attr:`TableMemo.chains`.
SEAL_CHAINS = "seal-chains"


class TableMemo:
    """The read stage's memo: the parsed blocks of the last run (``previous``) and of this run (``kept``,
    for the next one); the prefixes of sealed history the last run verified (``verified``, by sheet:
    the currency's decimal places and :func:`sheetbill.seals.prefix_digests`) and this run's
    (``verified_now``); the sheet rows this run parsed anew (``fresh``, by table name).

    ``known`` and ``known_now`` hold, by table key, what the last run and this run saw of a sheet with
    :class:`~sheetbill.sheets.KnownRows` (its token) and the keys of the blocks of its rows, in order.

    ``as_left`` names the tables read from a sheet with :class:`~sheetbill.sheets.KnownRows` exactly as the
    last run left it: every row taken from the memo as that run kept it, none added since.

    ``reused`` and ``parsed`` count the blocks taken from the memo and parsed, ``unchecked`` the sealed
    rows not verified again, for measurements and tests; ``released`` names the blocks
    :func:`remember_written` found gone with a sheet written whole. ``chains`` holds, by sheet, the chain
    :func:`seal_findings` computed of a sealed sheet whose rows are in issue order, with the number of its
    rows, for the run to go on from when it hands over what it wrote (:mod:`sheetbill.handover`).
    """

    def __init__(self, previous: Mapping[bytes, object] | None = None, verified: object = None,
                 known: object = None):
        self.previous: Mapping[bytes, object] = previous if isinstance(previous, Mapping) else {}
        self.kept: dict[bytes, object] = {}
        self.verified: Mapping[str, object] = verified if isinstance(verified, Mapping) else {}
        self.verified_now: dict[str, tuple[int, list[bytes]]] = {}
        self.known: Mapping[bytes, object] = known if isinstance(known, Mapping) else {}
        self.known_now: dict[bytes, tuple[object, list[bytes]]] = {}
        self.fresh: dict[str, set[int]] = {}
        self.released: set[bytes] = set()
        self.chains: dict[str, tuple[int, PrefixDigests]] = {}
        self.as_left: set[str] = set()
        self.reused = self.parsed = self.unchecked = 0

    def take(self, key: bytes) -> Block | None:
        """The block ``key`` from the last run (kept for the next run too), None when it has none or it
        cannot be read."""
        block = self.previous.get(key)
        if block is None:
            return None
        try:
            outcomes = unpack(block.read() if isinstance(block, StoredBlock) else block) \
                if isinstance(block, (bytes, StoredBlock)) else block
        except Exception:  # noqa: BLE001 - a damaged block is parsed again
            return None
        if not isinstance(outcomes, Block):
            return None
        self.kept[key] = block
        self.reused += 1
        return outcomes


def table_key(sheet: RawSheet, spec: TableSpec, columns: Mapping[str, int], context: str) -> bytes:
    """What every row of ``sheet`` is parsed with besides its own cells: the sheet's name and first row,
    which of the table's columns it has, the table's specification and ``context`` (the caller's
    factory and currency). Where the columns stand does not count (see :func:`sheetbill.tables.project`)."""
    present = [fld.name for fld in spec.fields if fld.name in columns]
    text = repr((sheet.location_sheet, sheet.first_row, present, spec, context))
    return hashlib.blake2b(text.encode(errors="surrogatepass"), digest_size=16).digest()


def factory_table_key(sheet: RawSheet, spec: TableSpec, columns: Mapping[str, int], factory: Callable[..., Any],
                      context: str) -> bytes:
    """:func:`table_key` of a table read by :func:`read_table_memo` with ``factory`` and ``context``."""
    return table_key(sheet, spec, columns, f"{factory.__module__}.{factory.__qualname__}|{context}")


#: Cell types whose values :mod:`marshal` writes as they are, each type apart (``1``, ``1.0``, ``True``).
_PLAIN = frozenset({str, int, float, bool, type(None)})
#: Date and time cells: a column with them is written as its ``repr``, which, for these types and the
#: plain ones, tells every value and type apart (quoted text, ``1`` and ``1.0``, ``datetime.date(...)``).
_TEMPORAL = frozenset({dt.datetime, dt.date, dt.time, dt.timedelta})
_PLAIN_OR_TEMPORAL = _PLAIN | _TEMPORAL


def block_key(table: bytes, start: int, cells: Sequence[tuple]) -> bytes:
    """The key of the block starting at offset ``start`` of a table with key ``table``, of ``cells`` (rows
    of equal width, as :func:`sheetbill.tables.project` gives them): a digest of their values and types, column by
    column, that tells every value and type apart (``1``, ``1.0``, ``True``, ``"1"``, a date and its
    text) and depends on the values only, never on which objects hold them.

    A column :mod:`marshal` can write (format 2, which has no back-references) is written by it: plain
    cells (text, numbers, yes/no, blanks), each type apart; marshal refuses subclasses (an enum member
    is not taken for its text) and any other type, so it is tried first and costs no look at each
    cell's type. A column with dates and times too is written as its ``repr``; any other column (a type
    a front end rarely gives) is pickled without the pickler's memo.
    """
    digest = hashlib.blake2b(key=table, digest_size=16)
    width = len(cells[0]) if cells else 0
    digest.update(b"%d|%d|%d|" % (start, len(cells), width))
    for column in zip(*cells, strict=True):
        data = _column_bytes(column)
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.digest()


def _column_bytes(column: tuple) -> bytes:
    """One column of a block as :func:`block_key` spells it."""
    try:
        return b"M" + marshal.dumps(column, 2)
    except ValueError:  # a date, a subclass, a type marshal does not write
        pass
    if set(map(type, column)) <= _PLAIN_OR_TEMPORAL:
        return b"T" + repr(column).encode("utf-8", "surrogatepass")
    stream = io.BytesIO()
    pickler = pickle.Pickler(stream, protocol=5)
    pickler.fast = True  # no memo: the bytes depend on the values only
    pickler.dump(column)
    return b"P" + stream.getvalue()


def read_table_memo(sheet: RawSheet | None, spec: TableSpec, factory: Callable[..., Any], memo: TableMemo,
                    context: str, reads: Mapping[str, Read] | None = None
                    ) -> tuple[list[Any], list[Problem]]:
    """:func:`sheetbill.tables.read_table` with ``factory`` (and ``reads``), taking unchanged blocks from ``memo``.

    ``context`` names everything ``factory`` and ``reads`` depend on beyond the row's values (their names,
    the currency), so a block parsed with another factory is never taken for this one.
    """
    if sheet is None or not sheet.rows:
        if spec.required_sheet:
            raise ConfigurationError(f"the workbook has no {spec.name!r} sheet")
        return [], []
    columns, problems = column_map(sheet, spec)
    records: list[Any] = []
    table = factory_table_key(sheet, spec, columns, factory, context)
    name, first_key = sheet.location_sheet, first_key_header(spec)
    seen: dict[tuple, int] = {}
    read = _known_blocks(sheet, spec, columns, factory, reads, memo, table, memo.known.get(table)) \
        if sheet.known is not None else None
    keys, blocks = read or _blocks(sheet, spec, columns, factory, reads, memo, table)
    if sheet.known is not None:
        memo.known_now[table] = (sheet.known.seen(), keys)
    if read is not None and not memo.fresh.get(spec.name):
        memo.as_left.add(spec.name)
    for block in blocks:
        if block.keys is None and not block.problems:
            records.extend(block.records)  # history: no key to check, no row with Problems
            continue
        for row_no, record, values_key, found in block.outcomes():
            if found:
                problems.extend(found)
            elif values_key is not None and values_key in seen:
                problems.append(duplicate_key(values_key, seen[values_key], name, row_no, first_key))
            else:
                if values_key is not None:
                    seen[values_key] = row_no
                records.append(record)
    return records, problems


def _blocks(sheet: RawSheet, spec: TableSpec, columns: Mapping[str, int], factory: Callable[..., Any],
            reads: Mapping[str, Read] | None, memo: TableMemo, table: bytes) -> tuple[list[bytes], list[Block]]:
    """The keys and blocks of every block of ``sheet``'s rows: taken from ``memo`` when its key is there, else
    parsed (and kept for the next run)."""
    indexes = [columns[fld.name] for fld in spec.fields if fld.name in columns]
    rows = sheet.rows
    keys, blocks = [], []
    for start in range(1, len(rows), BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, len(rows))
        key = block_key(table, start, project(rows[start:stop], indexes))
        block = memo.take(key)
        if block is None:
            block = memo.kept[key] = Block.of(_parse_new(sheet, spec, columns, start, stop, factory, reads, memo))
        keys.append(key)
        blocks.append(block)
    return keys, blocks


def remember_written(sheet: RawSheet, spec: TableSpec, factory: Callable[..., Any], memo: TableMemo, context: str,
                     reads: Mapping[str, Read] | None = None,
                     each_block: Callable[[int, list[Outcome]], None] | None = None, whole: bool = False) -> bool:
    """Bring ``memo`` up to the table of ``sheet`` as a front end just wrote it: the blocks of the rows this
    run read (``memo.known``, this run's ``known_now``; kept as they are, not unpacked), and the rows written
    after them, parsed as the front end's :class:`~sheetbill.sheets.KnownRows` gives them (every row, when
    this run read none of them as known); ``memo.known_now`` gets the table's token and blocks. ``factory``
    and ``context`` as for :func:`read_table_memo`. False, with nothing read, when the front end cannot
    prove the rows before them unchanged or give the rows after them. ``each_block`` is given each block of
    the rows written after them as it is parsed: the index of its first row among the data rows, and its
    outcomes.

    ``whole``: for a sheet a run rewrites in place (the Invoices, whose Paid and Status change), whose rows
    cannot be proven to extend those it read: every row written is taken as the front end gives the rows
    of a part it wrote whole, in blocks keyed by their cells (:func:`_written_blocks`): a block whose cells
    are those of a block this run read is that block, unparsed; the others are parsed. The blocks this run
    read of the sheet that are no block of it any more are named in ``memo.released``."""
    if sheet.known is None:
        return False
    columns, problems = column_map(sheet, spec)
    if problems:
        return False
    table = factory_table_key(sheet, spec, columns, factory, context)
    read = memo.known.get(table, (None, []))
    if whole:
        written = _grown(sheet, (None, []))
        if written is None:
            return False
        keys = _written_blocks(sheet, spec, columns, factory, reads, memo, table, written[1], each_block)
        memo.released.update(set(read[1]).difference(keys) if _grown_entry(read) else ())
        memo.known_now[table] = (sheet.known.seen(), keys)
        return True
    grown = _grown(sheet, read)
    if grown is None or any(key not in memo.previous for key in grown[2]):
        return False
    before, added, keys = grown
    for key in keys:
        memo.kept[key] = memo.previous[key]
    new_keys, _ = _parse_added(sheet, spec, columns, factory, reads, memo, table, before, added, packed=True,
                               each_block=each_block)
    memo.known_now[table] = (sheet.known.seen(), keys + new_keys)
    return True


def _written_blocks(sheet: RawSheet, spec: TableSpec, columns: Mapping[str, int], factory: Callable[..., Any],
                    reads: Mapping[str, Read] | None, memo: TableMemo, table: bytes, rows: Sequence[Sequence[Any]],
                    each_block: Callable[[int, list[Outcome]], None] | None) -> list[bytes]:
    """The keys of the blocks of ``rows`` (every data row of a sheet written whole), kept in ``memo``: each
    keyed by its cells as a read of the sheet keys it (:func:`block_key`), so that a block whose cells are
    those of a block this run read is that block, kept as it is (not unpacked); the others are parsed, shown to
    ``each_block`` and kept packed."""
    indexes = [columns[fld.name] for fld in spec.fields if fld.name in columns]
    keys = []
    for offset in range(0, len(rows), BLOCK_ROWS):
        chunk = rows[offset:offset + BLOCK_ROWS]
        key = block_key(table, offset + 1, project(chunk, indexes))
        if key in memo.previous:
            memo.kept[key] = memo.previous[key]
        else:
            tail = RawSheet(sheet.name, [sheet.rows[0], *chunk], sheet.first_row + offset, sheet.first_col,
                            sheet.sheet)
            outcomes = _parse_new(tail, spec, columns, 1, len(chunk) + 1, factory, reads, memo)
            if each_block is not None:
                each_block(offset, outcomes)
            memo.kept[key] = pack(Block.of(outcomes))
        keys.append(key)
    return keys


def _grown_entry(entry: object) -> bool:
    """Whether ``entry`` is what :attr:`TableMemo.known` holds for a table: (token, keys of its blocks)."""
    return isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], list)


def _grown(sheet: RawSheet, entry: object) -> tuple[int, Sequence[Sequence[Any]], list[bytes]] | None:
    """(the rows unchanged since the read that saw ``entry``, the rows added since, the keys of the
    earlier rows' blocks), when ``sheet``'s :class:`~sheetbill.sheets.KnownRows` can prove the first
    unchanged and give the others; else None."""
    known = sheet.known
    if known is None or not _grown_entry(entry):
        return None
    since = known.rows_since(entry[0])
    return None if since is None else (since[0], since[1], list(entry[1]))


def _known_blocks(sheet: RawSheet, spec: TableSpec, columns: Mapping[str, int], factory: Callable[..., Any],
                  reads: Mapping[str, Read] | None, memo: TableMemo, table: bytes, entry: object
                  ) -> tuple[list[bytes], list[Block]] | None:
    """The keys and blocks of the rows of a sheet with :class:`~sheetbill.sheets.KnownRows` whose first
    rows are those a read that saw ``entry`` read (its token and blocks, from ``memo``) and whose rows added
    since are parsed here (:func:`_parse_added`); None when the front end cannot prove that or a block is
    missing (then every row is read)."""
    grown = _grown(sheet, entry)
    if grown is None:
        return None
    before, added, keys = grown
    blocks = []
    for key in keys:
        block = memo.take(key)
        if block is None:
            return None
        blocks.append(block)
    new_keys, new_blocks = _parse_added(sheet, spec, columns, factory, reads, memo, table, before, added)
    return keys + new_keys, blocks + new_blocks


def _parse_added(sheet: RawSheet, spec: TableSpec, columns: Mapping[str, int], factory: Callable[..., Any],
                 reads: Mapping[str, Read] | None, memo: TableMemo, table: bytes, before: int,
                 added: Sequence[Sequence[Any]], packed: bool = False,
                 each_block: Callable[[int, list[Outcome]], None] | None = None
                 ) -> tuple[list[bytes], list[Block]]:
    """The keys and blocks of the ``added`` rows of a known sheet (after its first ``before`` data rows),
    parsed in blocks of :data:`BLOCK_ROWS` and kept in ``memo``; a block's key names the sheet's token
    and the block's place. ``packed``: each block is kept packed as soon as it is parsed, and its outcomes
    are not returned (so a million of them are never held at once); ``each_block`` is shown each block's
    outcomes first, with the index of its first row among the data rows."""
    seen = repr(sheet.known.seen()).encode() if sheet.known is not None else b""
    keys, blocks = [], []
    for offset in range(0, len(added), BLOCK_ROWS):
        chunk = added[offset:offset + BLOCK_ROWS]
        tail = RawSheet(sheet.name, [sheet.rows[0], *chunk], sheet.first_row + before + offset, sheet.first_col,
                        sheet.sheet)
        outcomes = _parse_new(tail, spec, columns, 1, len(chunk) + 1, factory, reads, memo)
        if each_block is not None:
            each_block(before + offset, outcomes)
        key = hashlib.blake2b(table + seen + b"|%d" % offset, digest_size=16).digest()
        block = Block.of(outcomes)
        memo.kept[key] = pack(block) if packed else block
        keys.append(key)
        if not packed:
            blocks.append(block)
    return keys, blocks


def _parse_new(sheet: RawSheet, spec: TableSpec, columns: Mapping[str, int], start: int, stop: int,
               factory: Callable[..., Any], reads: Mapping[str, Read] | None, memo: TableMemo) -> list[Outcome]:
    """:func:`_parse_block`, counted in ``memo`` and its rows noted as parsed anew (their seals are checked)."""
    outcomes = _parse_block(sheet, spec, columns, start, stop, factory, reads)
    memo.parsed += 1
    memo.fresh.setdefault(spec.name, set()).update(outcome[0] for outcome in outcomes)
    return outcomes


def _parse_block(sheet: RawSheet, spec: TableSpec, columns: Mapping[str, int], start: int, stop: int,
                 factory: Callable[..., Any], reads: Mapping[str, Read] | None = None
                 ) -> list[Outcome]:
    """The outcome of each non-blank row of ``sheet.rows[start:stop]``: its record, or its Problems."""
    return list(row_records(sheet, spec, columns, start, stop, builder(factory), reads))


def seal_findings(sheet: str, records: Sequence[Any], sealed: Sequence[tuple[str, str, str]],
                  taxed: Sequence[tuple[str, str, str]], order: list[int], places: int,
                  memo: TableMemo | None) -> list[Finding]:
    """:func:`sheetbill.seals.verify` over the sealed ``records`` of ``sheet`` (Invoices or Invoice Lines)
    in issue ``order``; with ``memo``, the prefix that verified in the last run, with the same rows and
    seals in the same order and every row's cells unchanged, is not spelled or checked again."""
    seals = [record.seal for record in records]
    width, base = len(sealed) + len(taxed), len(sealed)
    if memo is None:
        return verify(spell_sealed(records, sealed, taxed, places), seals, order, width, base)
    chain = prefix_chain([record.row for record in records], seals, order)
    digests = chain.digests
    if all(map(operator.eq, order, range(len(order)))):  # the sheet's rows are in issue order
        memo.chains[sheet] = (len(records), chain)
    skip = 0
    known = memo.verified.get(sheet)
    if isinstance(known, tuple) and len(known) == 2 and known[0] == places and isinstance(known[1], list):
        fresh = memo.fresh.get(sheet, set())
        skip = verified_prefix(digests, known[1], order,
                               (lambda index: records[index].row not in fresh) if fresh else None)
    values: list[tuple[str, ...]] = [()] * len(records)
    rest = order[skip:]
    for index, spelled in zip(rest, spell_sealed([records[i] for i in rest], sealed, taxed, places), strict=True):
        values[index] = spelled
    findings = verify(values, seals, order, width, base, skip)
    clean = skip + rest.index(findings[0].index) if findings else len(order)
    memo.verified_now[sheet] = (places, digests[:clean // seals_module.CHECKPOINT_ROWS])
    memo.unchecked += skip
    return findings
