"""Reading tables out of raw sheets: header matching, typed rows and row locations.

The workbook contract (``docs/workbook.md``) says each input sheet is a table with its header in
the first row. Headers match case-insensitively, ignoring spaces, underscores and hyphens; column
order is free; extra columns are left alone; blank rows are skipped. This module turns a
:class:`~sheetbill.sheets.RawSheet` into typed records plus Problems; what each cell means (text,
amounts, dates, ...) is :mod:`sheetbill.cells`', the same for every front end, and a cell that
means nothing becomes a Problem naming its sheet, row and column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from itertools import repeat
from operator import itemgetter
from types import NoneType
from typing import Any, NamedTuple

from .cells import COERCERS, ERROR_VALUES, MAX_TEXT, CellError, check_range, normalize, to_text, with_shortcut
from .i18n import msg
from .problems import ConfigurationError, Problem, error
from .records import builder
from .sheets import CellValue, LazyRows, RawSheet

# --- table specifications ---------------------------------------------------------------------------

#: Kinds whose text cells are taken as they are (trimmed), without calling a coercer.
_TEXT_KINDS = frozenset({"id", "text"})


@dataclass(frozen=True)
class Field:
    """One column of an input table.

    Attributes:
        name: the attribute of the record it fills.
        header: the header as documented (matching ignores case, spaces, ``_`` and ``-``).
        kind: a key of :data:`COERCERS` or ``"choice"``.
        required: the column must exist and every record must have a value.
        choices: for ``choice`` columns, the allowed values (matched case-insensitively and
            returned in this spelling).
        aliases: other headers accepted for the column.
        positive: for numbers, zero or less is an error (quantities).
        nonnegative: for numbers, less than zero is an error (amounts, percentages).
    """

    name: str
    header: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    positive: bool = False
    nonnegative: bool = False
    maximum: int | None = None

    def coerce(self, value: CellValue) -> Any:
        """The typed value of a non-blank cell, or :class:`CellError`."""
        if self.kind == "choice":
            key = normalize(value)
            for choice in self.choices:
                if normalize(choice) == key:
                    return choice
            raise CellError(msg("{value} is not one of: {choices}", value=repr(to_text(value)),
                                choices=", ".join(self.choices)), "not-a-choice")
        result = COERCERS[self.kind](value)
        if self.positive and result <= 0:
            raise CellError(msg("must be greater than zero, found {value}", value=to_text(value)),
                            "out-of-range")
        if self.nonnegative and result < 0:
            raise CellError(msg("must not be negative, found {value}", value=to_text(value)),
                            "out-of-range")
        check_range(result, self.kind, self.maximum)
        return result

    @cached_property
    def read(self) -> Callable[[CellValue], Any]:
        """:meth:`coerce` with a shortcut for plain numbers and dates (:func:`~sheetbill.cells.with_shortcut`),
        what the per-cell loop of :func:`row_outcomes` calls."""
        return with_shortcut(self.kind, self.coerce, self.positive, self.nonnegative)



@dataclass(frozen=True)
class TableSpec:
    """An input table: its sheet name, its fields, and which fields make a record unique."""

    name: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()
    required_sheet: bool = False
    aliases: tuple[str, ...] = ()

    @property
    def required_fields(self) -> list[Field]:
        """The columns that must exist."""
        return [f for f in self.fields if f.required]


class Row(NamedTuple):
    """One parsed record: its typed values by field name and its sheet row (a named tuple: one is
    made per row of every table, and a tuple is made several times faster than a frozen dataclass)."""

    values: dict[str, Any]
    row: int


def find_sheet(sheets: Mapping[str, RawSheet], spec: TableSpec) -> RawSheet | None:
    """The raw sheet for ``spec`` among ``sheets``, matching names like headers.

    Only the matching sheet is looked up, so a mapping that reads sheets on demand reads just it.
    """
    wanted = {normalize(spec.name), *(normalize(a) for a in spec.aliases)}
    for name in sheets:
        if normalize(name) in wanted:
            return sheets[name]
    return None


def column_map(sheet: RawSheet, spec: TableSpec) -> tuple[dict[str, int], list[Problem]]:
    """Map each field to its column index in the header row; missing required columns abort."""
    header = list(sheet.rows[0]) if sheet.rows else []
    positions: dict[str, int] = {}
    contract_keys = {normalize(name) for fld in spec.fields for name in (fld.header, *fld.aliases)}
    repeated: list[Problem] = []
    for index, cell in enumerate(header):
        key = normalize(cell)
        if key and key not in positions:
            positions[key] = index
        elif key in contract_keys:
            first = positions[key]
            repeated.append(error(
                msg("columns {first} ({first_header}) and {second} ({second_header}) have the same header; the "
                    "first is read", first=_letters(sheet.first_col + first), first_header=repr(to_text(header[first])),
                    second=_letters(sheet.first_col + index), second_header=repr(to_text(cell))),
                sheet.location_sheet, sheet.first_row, to_text(cell), code="duplicate-column"))
    problems: list[Problem] = []
    columns: dict[str, int] = {}
    for fld in spec.fields:
        for candidate in (fld.header, *fld.aliases):
            if normalize(candidate) in positions:
                columns[fld.name] = positions[normalize(candidate)]
                break
        else:
            if fld.required:
                problems.append(
                    error(
                        msg("required column {column} is missing from the header row", column=repr(fld.header)),
                        sheet.location_sheet,
                        sheet.first_row,
                        fld.header,
                        code="missing-column",
                    )
                )
    if problems:
        raise ConfigurationError(
            f"sheet {sheet.location_sheet!r} lacks required column(s): "
            + ", ".join(p.column for p in problems),
            problems,
        )
    return columns, repeated


def _letters(number: int) -> str:
    """Column letters of a 1-based column number."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def duplicate_sheets(names: Iterable[str], specs: Iterable[TableSpec]) -> list[Problem]:
    """A Problem for each input table whose name (or alias) two sheets match after normalising
    (``Charges`` and ``charges``, ``Payment Plans`` and ``Payment_Plans``): the first is read."""
    names = list(names)
    problems = []
    for spec in specs:
        wanted = {normalize(spec.name), *(normalize(a) for a in spec.aliases)}
        matching = [name for name in names if normalize(name) in wanted]
        if len(matching) > 1:
            problems.append(error(
                msg("sheets {sheets} all name the {table} table; only {first} is read: rename or remove the others",
                    sheets=", ".join(repr(n) for n in matching), table=spec.name, first=repr(matching[0])),
                matching[1], code="duplicate-sheet"))
    return problems


def iter_records(sheet: RawSheet | None, spec: TableSpec) -> Iterator[Row | Problem]:
    """Yield a :class:`Row` for each good record and a :class:`Problem` for each bad cell.

    A row with a bad cell yields its problems and no Row: it is skipped whole, never half-read.
    Duplicate keys keep the first row and report the later ones. Blank rows are skipped.
    """
    for row_no, values, problems in _checked_rows(sheet, spec):
        if problems:
            yield from problems
        else:
            yield Row(values, row_no)


def _checked_rows(sheet: RawSheet | None, spec: TableSpec,
                  reads: Mapping[str, Read] | None = None, blocks: bool = False
                  ) -> Iterator[tuple[int, dict[str, Any], Sequence[Problem]] | _Block]:
    """:func:`row_outcomes` of the whole table with what holds across its rows: the header's Problems come
    first (as a row without values), and a row whose key an earlier row has gets the duplicate-key
    Problem instead (the first row is kept). With ``blocks``, a block read column by column whose keys
    are all new comes whole (:class:`_Block`); one with a key met before comes row by row."""
    if sheet is None or not sheet.rows:
        if spec.required_sheet:
            raise ConfigurationError(f"the workbook has no {spec.name!r} sheet")
        return
    columns, repeated = column_map(sheet, spec)
    if repeated:
        yield sheet.first_row, {}, repeated
    first_key = first_key_header(spec)
    name = sheet.location_sheet
    seen: dict[tuple, int] = {}
    for outcome in row_outcomes(sheet, spec, columns, 1, len(sheet.rows), reads, blocks):
        if type(outcome) is _Block:
            if not spec.key:
                yield outcome
                continue
            keys = _block_keys(spec, outcome)
            if seen.keys().isdisjoint(keys) and len(set(keys)) == len(keys):
                seen.update(zip(keys, outcome.rows, strict=True))
                yield outcome
                continue
            outcomes = _block_outcomes(outcome)
        else:
            outcomes = (outcome,)
        for row_no, values, problems in outcomes:
            if not problems:
                key = row_key(spec, values)
                if key is not None:
                    if key in seen:
                        problems = (duplicate_key(key, seen[key], name, row_no, first_key),)
                    else:
                        seen[key] = row_no
            yield row_no, values, problems


def row_key(spec: TableSpec, values: Mapping[str, Any]) -> tuple | None:
    """The values of a parsed row that make its record unique (``spec.key``), None for a table without a key."""
    fields = spec.key
    if not fields:
        return None
    return (values.get(fields[0]),) if len(fields) == 1 else tuple(values.get(name) for name in fields)


def first_key_header(spec: TableSpec) -> str:
    """The header of the first key column of ``spec`` (where a duplicate key is reported), "" without a key."""
    return next((f.header for f in spec.fields if f.name == spec.key[0]), "") if spec.key else ""


def duplicate_key(key: tuple, first: int, sheet: str, row: int, header: str) -> Problem:
    """The Problem of a row whose key an earlier row (``first``) already has: it is skipped."""
    label = ", ".join(str(k) for k in key)
    return error(msg("duplicate {key}: already on row {row}; this row is skipped", key=label, row=first),
                 sheet, row, header, code="duplicate-key")


def row_outcomes(sheet: RawSheet, spec: TableSpec, columns: Mapping[str, int], start: int, stop: int,
                 reads: Mapping[str, Read] | None = None, blocks: bool = False
                 ) -> Iterator[tuple[int, dict[str, Any], Sequence[Problem]] | _Block]:
    """``(sheet row, typed values, problems)`` of each non-blank row of ``sheet.rows[start:stop]``, each
    row on its own (keys are compared across rows by the caller); a row with problems has them all.
    ``reads`` replaces the reading of a non-blank cell (:attr:`Field.read`) for the fields it names, as
    history is read back (:func:`sheetbill.book.read_history`: amounts in the run's spelling, each
    distinct amount read once, :class:`ReadsAlike`). With
    ``blocks``, a block read column by column comes as one :class:`_Block` instead of its rows' outcomes.

    Rows are taken in blocks of :data:`COLUMNAR_ROWS`. A block whose every cell reads without a question
    (see :func:`columnar_block`) is read column by column; any other block row by row
    (:func:`_rows_one_by_one`, which says what each cell means). Both give the same outcomes.
    """
    reads = reads or {}
    plan = [_planned(fld, columns[fld.name], reads.get(fld.name)) for fld in spec.fields if fld.name in columns]
    shared: list[dict] = [{} for _ in plan]  # each column's values read so far, shared (see _column_values)
    rows = sheet.rows
    whole = isinstance(rows, (list, tuple, LazyRows))  # sliced as a whole (a LazyRows slices its loaded list)
    for block_start in range(start, stop, COLUMNAR_ROWS):
        block_stop = min(block_start + COLUMNAR_ROWS, stop)
        block = rows[block_start:block_stop] if whole else [rows[i] for i in range(block_start, block_stop)]
        if blocks:
            read = block_columns(block, plan, shared)
            if read is not None:
                first = sheet.first_row + block_start
                yield _Block(range(first, first + len(block)), read)
                continue
            outcomes = None
        else:
            outcomes = columnar_block(block, plan, sheet.first_row + block_start, shared)
        if outcomes is None:
            yield from _rows_one_by_one(sheet, plan, block_start, block_stop)
        else:
            yield from outcomes


def row_records(sheet: RawSheet, spec: TableSpec, columns: Mapping[str, int], start: int, stop: int,
                build: Callable[..., Any], reads: Mapping[str, Read] | None = None
                ) -> Iterator[tuple[int, Any, tuple | None, Sequence[Problem]]]:
    """``(sheet row, record, key, problems)`` of each non-blank row of ``sheet.rows[start:stop]``, as
    :func:`row_outcomes` reads it: the record ``build(**values, row=...)`` and its :func:`row_key`, or None
    and None for a row with problems. A block read column by column is built in one go when ``build`` has
    ``columns`` (:func:`sheetbill.records.builder`)."""
    by_columns = getattr(build, "columns", None)
    for outcome in row_outcomes(sheet, spec, columns, start, stop, reads, blocks=by_columns is not None):
        if type(outcome) is _Block:
            built = by_columns({**outcome.columns.values, "row": outcome.rows}, outcome.columns.holes)  # type: ignore[misc]
            if built is not None:
                keys = _block_keys(spec, outcome) if spec.key else repeat(None)
                yield from zip(outcome.rows, built, keys, repeat(()))
                continue
            outcomes: Iterable = _block_outcomes(outcome)
        else:
            outcomes = (outcome,)
        for row_no, values, found in outcomes:
            if found:
                yield row_no, None, None, found
            else:
                yield row_no, build(**values, row=row_no), row_key(spec, values), ()


def project(rows: Sequence[Sequence[CellValue]], indexes: Sequence[int]) -> list[tuple]:
    """The cells of ``rows`` in the columns at ``indexes`` (None beyond a short row): all a row's
    outcome depends on (:func:`row_outcomes` reads nothing else)."""
    if not indexes:
        return [() for _ in rows]
    pick, last = itemgetter(*indexes), max(indexes)
    single = len(indexes) == 1
    if rows and not single and min(map(len, rows)) > last:
        return list(map(pick, rows))  # every row is wide enough: one pass in C
    projected = []
    for cells in rows:
        if len(cells) > last:
            projected.append((pick(cells),) if single else pick(cells))
        else:
            width = len(cells)
            projected.append(tuple(cells[i] if i < width else None for i in indexes))
    return projected


#: Rows read together by :func:`columnar_block`; a block with one questionable cell is read row by row.
COLUMNAR_ROWS = 256


class _Planned(NamedTuple):
    """A column of a table as the readers use it (``alike``: see :class:`ReadsAlike`)."""

    name: str
    index: int
    textual: bool
    read: Callable[[CellValue], Any]
    required: bool
    header: str
    alike: bool


class ReadsAlike(NamedTuple):
    """A column's reading of a cell (for ``reads`` of :func:`read_table`) that gives equal values for
    equal cells, as a function of the value alone: the amounts of history, rounded and shared by an
    :class:`sheetbill.money.AmountPool` (``-0.0`` and ``0.0`` both become ``0.00``). A column of
    numbers or dates read so is read once per distinct value (:func:`_column_values`); a date column
    is read so without being told (equal dates are the same date)."""

    read: Callable[[CellValue], Any]


#: A column's reading of a cell, as ``reads`` of :func:`read_table` replaces it.
Read = Callable[[CellValue], Any] | ReadsAlike
#: Cell types whose equal values read alike under a :class:`ReadsAlike` read (not text, not True == 1).
_ALIKE_TYPES = frozenset({float, int, Decimal, dt.date, dt.datetime})
#: Fewer cells than this are read one by one (a dictionary of distinct values would cost more).
_ALIKE_FROM = 64


def _planned(fld: Field, index: int, read: Read | None) -> _Planned:
    """The column of ``fld`` at ``index``, read by ``read`` (default :attr:`Field.read`)."""
    alike = isinstance(read, ReadsAlike) or (read is None and fld.kind == "date")
    if isinstance(read, ReadsAlike):
        read = read.read
    return _Planned(fld.name, index, fld.kind in _TEXT_KINDS, read or fld.read, fld.required, fld.header, alike)


#: Marks a blank cell in a column while a block's values are assembled.
_BLANK = object()


class _Columns(NamedTuple):
    """A block of rows read column by column (:func:`block_columns`): the values of each field with a
    value in some row, by field name in the table's order (:data:`_BLANK` in the rows where its cell is
    blank), and those rows."""

    values: dict[str, list[Any]]
    holes: dict[str, list[int]]


def columnar_block(block: Sequence[Sequence[CellValue]], plan: Sequence[_Planned], first_row: int,
                   shared: Sequence[dict] | None = None) -> list[tuple[int, dict[str, Any], Sequence[Problem]]] | None:
    """The outcomes of ``block`` (rows starting at sheet row ``first_row``), read column by column, or
    None when a cell of it needs :func:`_rows_one_by_one` (see :func:`block_columns`)."""
    columns = block_columns(block, plan, shared)
    if columns is None:
        return None
    return _block_outcomes(_Block(range(first_row, first_row + len(block)), columns))


class _Block(NamedTuple):
    """Sheet rows read column by column, as :func:`row_outcomes` gives them with ``blocks``."""

    rows: range
    columns: _Columns


def _block_outcomes(block: _Block) -> list[tuple[int, dict[str, Any], Sequence[Problem]]]:
    """The outcome of each row of ``block``, as the row-by-row reading gives it."""
    columns = block.columns
    records = list(map(dict, map(zip, repeat(list(columns.values)), zip(*columns.values.values(), strict=True))))
    for name, holes in columns.holes.items():
        for i in holes:
            del records[i][name]
    return list(zip(block.rows, records, repeat(())))


def _block_keys(spec: TableSpec, block: _Block) -> list[tuple]:
    """:func:`row_key` of each row of ``block`` (the table has a key)."""
    columns = block.columns.values
    parts = [[None if value is _BLANK else value for value in columns[name]] if name in columns
             else [None] * len(block.rows) for name in spec.key]
    return list(zip(*parts, strict=True))


def block_columns(block: Sequence[Sequence[CellValue]], plan: Sequence[_Planned],
                  shared: Sequence[dict] | None = None) -> _Columns | None:
    """The values of ``block``, read column by column, or None when a cell of it needs
    :func:`_rows_one_by_one`. ``shared`` holds, per column of ``plan``, the values read so far from the
    blocks before (:func:`_column_values`); default: none.

    This is the bulk of every large sheet: rows with cells in every row, text without surrounding
    blanks or Excel error values, numbers and dates the columns accept. A block qualifies only when
    each cell of it means what the row-by-row reading would make of it without a Problem: no row
    without cells, no blank text, no error value, no text over :data:`MAX_TEXT`, no blank required
    cell, no row blank in every column, and each other cell reads (``read`` raises no CellError).
    The values are then the ones the row-by-row reading gives, in the same order.
    """
    if not block or not plan or not all(block):
        return None
    picked = project(block, [planned.index for planned in plan])
    value_columns: dict[str, list[Any]] = {}
    blanks: dict[str, list[int]] = {}
    blank_everywhere: set[int] | None = None
    pools = shared if shared is not None else [{} for _ in plan]
    for planned, pool, cells in zip(plan, pools, zip(*picked, strict=True), strict=True):
        kinds = set(map(type, cells))
        present: Sequence[CellValue] = cells
        if NoneType in kinds:
            if planned.required:
                return None
            kinds.discard(NoneType)
            holes = [i for i, cell in enumerate(cells) if cell is None]
            blank_everywhere = set(holes) if blank_everywhere is None else blank_everywhere.intersection(holes)
            present = [cell for cell in cells if cell is not None]
        else:
            holes = []
            blank_everywhere = set()
        if not kinds:
            continue
        try:
            values = _column_values(present, kinds, planned, pool)
        except CellError:
            return None
        if values is None:
            return None
        if holes:
            filled = iter(values)
            values = [_BLANK if cell is None else next(filled) for cell in cells]
            blanks[planned.name] = holes
        value_columns[planned.name] = values
    if blank_everywhere:
        return None  # a row blank in every column is skipped: the row-by-row reading says which
    return _Columns(value_columns, blanks)


def _column_values(present: Sequence[CellValue], kinds: set[type], planned: _Planned, shared: dict
                   ) -> list[Any] | None:
    """The typed values of a column's non-blank cells ``present`` (of the types ``kinds``), or None when
    one of them is text that the row-by-row reading would question (blank, an error value, too long).

    Values that repeat are one object each: the texts of a column once a block of it repeats half its
    values (service codes, invoice numbers on their lines, reasons) and the values read alike (dates,
    history's amounts) are taken from ``shared``, the column's values of the blocks read before, where the
    first block to read one puts it.
    Equal values stay equal either way; a million rows hold twenty service codes instead of a million
    copies, and the memo's pickle of a block writes each of them once.
    """
    if str in kinds:
        texts = present if len(kinds) == 1 else [cell for cell in present if type(cell) is str]
        stripped = set(map(str.strip, texts))
        if "" in stripped or not ERROR_VALUES.isdisjoint(stripped):
            return None
        if planned.textual:
            if max(map(len, stripped)) > MAX_TEXT:
                return None
            if len(kinds) == 1:
                if not shared and 2 * len(stripped) > len(present):
                    return list(map(str.strip, present))  # mostly distinct (IDs, seals): nothing to share
                same = {text: shared.setdefault(text, text) for text in stripped}
                return list(map(same.__getitem__, map(str.strip, present)))
            read = planned.read
            return [cell.strip() if type(cell) is str else read(cell) for cell in present]
    if planned.alike and len(present) >= _ALIKE_FROM and kinds <= _ALIKE_TYPES:
        read = planned.read
        distinct = {cell: shared[cell] if cell in shared else shared.setdefault(cell, read(cell))
                    for cell in set(present)}  # a CellError as from every cell
        return list(map(distinct.__getitem__, present))
    return list(map(planned.read, present))


def _rows_one_by_one(sheet: RawSheet, plan: Sequence[_Planned], start: int, stop: int
                     ) -> Iterator[tuple[int, dict[str, Any], list[Problem]]]:
    """:func:`row_outcomes` of ``sheet.rows[start:stop]``, one row at a time, with every Problem.

    Longer than the house's 60 lines on purpose: it is the per-cell loop that says what each cell
    means, so it stays one function with its lookups hoisted.
    """
    name = sheet.location_sheet
    first_row = sheet.first_row
    rows = sheet.rows
    for offset in range(start, stop):
        cells = rows[offset]
        if not cells:
            continue  # a row without cells (between far-apart cells of a sparse sheet)
        width = len(cells)
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        missing: list[str] = []
        for field_name, index, textual, coerce, required, header, _ in plan:
            cell = cells[index] if index < width else None
            if type(cell) is str:
                text = cell.strip()
                if not text:
                    cell = None
                elif text[0] == "#" and text in ERROR_VALUES:
                    problems.append(error(msg("the cell shows the error {value}", value=text), name,
                                          first_row + offset, header,
                                          code="error-cell"))
                    continue
                elif textual and len(text) <= MAX_TEXT:
                    values[field_name] = text
                    continue
                elif textual:
                    problems.append(error(msg("text of {length} characters is too long (at most {most})",
                                              length=f"{len(text):,}", most=f"{MAX_TEXT:,}"),
                                          name, first_row + offset, header, code="out-of-range"))
                    continue
            if cell is None:
                if required:
                    missing.append(header)
                continue
            try:
                values[field_name] = coerce(cell)
            except CellError as err:
                problems.append(error(err.message, name, first_row + offset, header, code=err.code))
        if not values and not problems:
            continue  # blank as far as the contract's columns go (staff formula columns may still show values)
        row_no = first_row + offset
        problems[:0] = [error(msg("{column} is required", column=header), name, row_no, header,
                              code="required-missing") for header in missing]
        yield row_no, values, problems


def read_table(sheet: RawSheet | None, spec: TableSpec, factory: Callable[..., Any] | None = None,
               reads: Mapping[str, Read] | None = None) -> tuple[list[Any], list[Problem]]:
    """All records of a table (built with ``factory(**values, row=...)`` when given, else as :class:`Row`)
    and its Problems, as :func:`iter_records` gives them (``reads``: see :func:`row_outcomes`)."""
    records: list[Any] = []
    problems: list[Problem] = []
    build = builder(factory) if factory is not None else None
    by_columns = getattr(build, "columns", None)  # a record class: whole blocks at once (records.builder)
    for outcome in _checked_rows(sheet, spec, reads, blocks=by_columns is not None):
        if type(outcome) is _Block:
            built = by_columns({**outcome.columns.values, "row": outcome.rows}, outcome.columns.holes)  # type: ignore[misc]
            records += built if built is not None else \
                [build(**values, row=row_no) for row_no, values, _ in _block_outcomes(outcome)]  # type: ignore[misc]
            continue
        row_no, values, found = outcome
        if found:
            problems.extend(found)
        elif build is None:
            records.append(Row(values, row_no))
        else:
            records.append(build(**values, row=row_no))
    return records, problems

