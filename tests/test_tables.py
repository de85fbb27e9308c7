"""The workbook contract's cell semantics and header matching."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from sheetbill import contract
from sheetbill.cells import CellError, to_bool, to_date, to_decimal, to_percent, to_text
from sheetbill.money import D, quantize, split_equal
from sheetbill.problems import ConfigurationError
from sheetbill.sheets import RawSheet
from sheetbill.tables import read_table


@pytest.mark.parametrize("raw, expected", [
    ("12.50", "12.50"), ("12,50", "12.50"), (12.5, "12.5"), (0.1, "0.1"), ("1.234,56", "1234.56"),
    ("1,234.56", "1234.56"), ("€ 12,50", "12.50"), ("12.50 EUR", "12.50"), ("(5.00)", "-5.00"),
    ("1.234.567", "1234567"), ("1,234,567", "1234567"), (7, "7"), ("-3", "-3"),
])
def test_amounts_are_read_exactly(raw, expected):
    assert to_decimal(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["abc", "1,500", "12,5,0", "1.2.3", True, dt.date(2026, 1, 1), float("nan")])
def test_bad_or_ambiguous_amounts_are_refused(raw):
    with pytest.raises(CellError):
        to_decimal(raw)


def test_float_goes_through_str_not_binary():
    assert D(0.1) + D(0.2) == Decimal("0.3")
    assert quantize(Decimal("0.125")) == Decimal("0.13")  # half-up, not banker's
    assert quantize(Decimal("2.5"), "JPY") == Decimal("3")


def test_split_equal_foots_to_the_cent():
    parts = split_equal(Decimal("590.00"), 6)
    assert parts == [Decimal("98.33")] * 5 + [Decimal("98.35")]
    assert sum(parts) == Decimal("590.00")


@pytest.mark.parametrize("raw", [
    dt.date(2026, 1, 31), dt.datetime(2026, 1, 31, 15, 30), 46053, 46053.75, "2026-01-31", "31.01.2026",
    "2026-01-31T00:00:00Z", "31.1.2026",
])
def test_dates_in_every_accepted_form(raw):
    assert to_date(raw) == dt.date(2026, 1, 31)


@pytest.mark.parametrize("raw", ["31/01/2026", "yesterday", "2026-02-30", -5, True])
def test_bad_dates_are_refused(raw):
    with pytest.raises(CellError):
        to_date(raw)


def test_ids_stay_text_and_lose_only_a_float_zero():
    assert to_text("00123") == "00123"
    assert to_text(123.0) == "123"
    assert to_text(12.5) == "12.5"


def test_percent_and_yes_no():
    assert to_percent(80) == 80 and to_percent("80%") == 80 and to_percent(0.8) == 80
    with pytest.raises(CellError):
        to_percent(150)
    assert to_bool("Yes") is True and to_bool("nein") is False and to_bool(1) is True
    with pytest.raises(CellError):
        to_bool("maybe")


def test_headers_match_ignoring_case_spaces_underscores_and_order():
    raw = RawSheet("Customers", [
        ["NAME", "extra stuff", "customer_id", "E-Mail"],
        ["Ann", "x", "00123", "ann@example.org"],
        [None, None, None, None],
        ["Bob", "", 7.0, None],
    ])
    records, problems = read_table(raw, contract.CUSTOMERS)
    assert problems == []
    assert [(r.row, r.values["customer_id"], r.values["name"]) for r in records] == [
        (2, "00123", "Ann"), (4, "7", "Bob")]
    assert records[0].values["email"] == "ann@example.org"


def test_rows_are_located_relative_to_where_the_table_starts():
    raw = RawSheet("Services", [["Service Code", "Description", "Price"], ["A", "Visit", "abc"]],
                   first_row=5, first_col=3, sheet="Catalogue")
    _, problems = read_table(raw, contract.SERVICES)
    assert [(p.sheet, p.row, p.column) for p in problems] == [("Catalogue", 6, "Price")]


def test_missing_required_column_aborts_naming_sheet_and_column():
    raw = RawSheet("Charges", [["Charge ID", "Date", "Customer ID"], ["1", "2026-01-01", "C1"]])
    with pytest.raises(ConfigurationError) as caught:
        read_table(raw, contract.CHARGES)
    assert "Charges" in str(caught.value) and "Service Code" in str(caught.value)
    assert caught.value.problems[0].column == "Service Code"


def test_duplicate_ids_keep_the_first_row():
    raw = RawSheet("Services", [["Service Code", "Description", "Price"], ["A", "One", 1], ["A", "Two", 2]])
    records, problems = read_table(raw, contract.SERVICES)
    assert [r.values["description"] for r in records] == ["One"]
    assert problems[0].row == 3 and problems[0].code == "duplicate-key"


def test_error_cells_and_negative_quantities_are_problems():
    raw = RawSheet("Charges", [
        ["Charge ID", "Date", "Customer ID", "Service Code", "Quantity"],
        ["1", "#N/A", "C1", "A", 1], ["2", "2026-01-01", "C1", "A", -1], ["3", "2026-01-01", "C1", "A", 0],
    ])
    records, problems = read_table(raw, contract.CHARGES)
    assert records == []
    assert [(p.row, p.column) for p in problems] == [(2, "Date"), (3, "Quantity"), (4, "Quantity")]


_SHORTCUT_CELLS = [
    12.5, 0.0, -0.0, -3.25, 1e12, 9.99e12, 1e13, -1e13, 1e9, 999999999.5, 1e300, 1e308, float("inf"),
    float("-inf"), float("nan"), 0.1 + 0.2, 7, True, False, "12,50", "",
    Decimal("80.00"), Decimal("0"), Decimal("-0.00"), Decimal("-1"), Decimal("1E+13"), Decimal("9999999999999.99"),
    Decimal("1E+9"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"),
    dt.date(2026, 1, 31), dt.date(1899, 12, 31), dt.date(1900, 1, 1), dt.date(9000, 12, 31), dt.date(9001, 1, 1),
    dt.datetime(2026, 1, 31, 13, 5), dt.datetime(1800, 1, 1), dt.time(12, 0), 46000, 46000.0, "31.01.2026",
]


def _outcome(read, cell):
    try:
        value = read(cell)
    except CellError as err:
        return ("error", err.code, str(err.message))
    return ("value", type(value), str(value))


@pytest.mark.parametrize("field", [f for spec in contract.INPUT_TABLES for f in spec.fields
                                   if f.kind in ("money", "decimal", "date")],
                         ids=lambda f: f"{f.name}-{f.kind}")
def test_the_cell_shortcut_reads_every_cell_as_the_full_check_does(field):
    """A column's shortcut for plain numbers and dates (Field.read) gives what Field.coerce gives, value,
    type and error alike, for cells at and beyond every limit."""
    for cell in _SHORTCUT_CELLS:
        assert _outcome(field.read, cell) == _outcome(field.coerce, cell), cell
    assert field.read is not field.coerce  # the shortcut is in place for these kinds


# --- reading a block column by column gives what reading it row by row gives ------------------------------

_CLEAN_CELLS = {
    "id": ["C1", "C2", "  C3 ", 1001, 1001.0],
    "text": ["Anna Schmidt", "x", "Grüße\n", "  padded  ", 42],
    "date": [dt.date(2026, 1, 31), dt.datetime(2026, 2, 1, 9, 30), "31.01.2026", 46000],
    "money": [12.5, 0.0, Decimal("80.00"), "12,50", 7],
    "decimal": [1.0, 2.5, Decimal("0.5"), "3"],
    "choice": ["Open", "closed", " OPEN "],
    "yesno": [True, False, "yes", "nein"],
}
_QUESTIONABLE_CELLS = ["", "   ", "#N/A", " #REF! ", "x" * 4_001, -1.0, 0, float("nan"), "abc", dt.time(12, 0),
                       Decimal("sNaN"), dt.date(9001, 1, 1), 1e13, True, None]
_BLOCK_SPEC = contract.TableSpec("Block", (
    contract.Field("key", "Key", "id", required=True),
    contract.Field("name", "Name", "text"),
    contract.Field("day", "Day", "date", required=True),
    contract.Field("amount", "Amount", "money", nonnegative=True),
    contract.Field("weight", "Weight", "decimal", positive=True),
    contract.Field("state", "State", "choice", choices=("Open", "Closed")),
    contract.Field("flag", "Flag", "yesno"),
), key=("key",))
#: The same table without a required column: there a row blank in every column must be skipped.
_OPTIONAL_SPEC = contract.TableSpec("Block", tuple(dataclasses.replace(f, required=False) for f in _BLOCK_SPEC.fields),
                                    key=("key",))


def _random_block_sheet(rng) -> RawSheet:
    """A sheet of clean rows with, now and then, one odd row (empty, blank in every column, short, with a
    blank required cell or a questionable cell), so that some blocks are read column by column and others
    row by row, and odd rows also stand alone in otherwise clean blocks."""
    header = ["Flag", "Key", "Name", "Staff", "Day", "Amount", "Weight", "State"]
    kinds = {"Key": "id", "Name": "text", "Day": "date", "Amount": "money", "Weight": "decimal",
             "State": "choice", "Flag": "yesno"}
    rows = [header]
    odd_rate = rng.choice([0.0, 0.002, 0.002, 0.01])
    for _ in range(rng.randrange(1, 1_200)):
        row = [rng.choice(_CLEAN_CELLS[kinds[h]]) if h in kinds else "staff" for h in header]
        for i, h in enumerate(header):
            if h in ("Name", "Amount", "Weight", "Flag") and rng.random() < 0.1:
                row[i] = None  # optional columns are often blank
        if rng.random() < odd_rate:
            odd = rng.choice(["empty", "blank", "short", "no key", "long", "cell", "cell"])
            if odd == "empty":
                row = []
            elif odd == "blank":
                row = [None, None, None, "staff"]  # a staff column shows something
            elif odd == "short":
                row = row[:rng.randrange(0, len(row))]
            elif odd == "no key":
                row[1] = None
            elif odd == "long":
                row[2] = "x" * rng.choice([4_000, 4_001])
            else:
                row[rng.randrange(len(row))] = rng.choice(_QUESTIONABLE_CELLS)
        rows.append(tuple(row) if rng.random() < 0.5 else row)
    return RawSheet("Block", rows, first_row=rng.choice([1, 3]))


def _spelled(outcomes):
    return [(row, [(name, type(value), repr(value)) for name, value in values.items()], list(problems))
            for row, values, problems in outcomes]


def test_blocks_read_column_by_column_give_what_row_by_row_reading_gives():
    """row_outcomes (column by column where a block allows it) gives the same values, value types, key
    order, skipped rows and Problems as the row-by-row reading, on random sheets with every kind of cell."""
    import random

    from sheetbill import tables

    rng = random.Random(20261130)
    taken = {"columns": 0, "rows": 0}
    real_block = tables.columnar_block

    def counting(block, plan, first_row, shared=None):
        result = real_block(block, plan, first_row, shared)
        taken["rows" if result is None else "columns"] += 1
        return result

    for _ in range(80):
        sheet = _random_block_sheet(rng)
        spec = rng.choice([_BLOCK_SPEC, _OPTIONAL_SPEC])
        columns, _ = tables.column_map(sheet, spec)
        plan = [tables._planned(f, columns[f.name], None) for f in spec.fields if f.name in columns]
        tables.columnar_block = counting
        try:
            fast = list(tables.row_outcomes(sheet, spec, columns, 1, len(sheet.rows)))
        finally:
            tables.columnar_block = real_block
        slow = list(tables._rows_one_by_one(sheet, plan, 1, len(sheet.rows)))
        assert _spelled(fast) == _spelled(slow)
    assert taken["columns"] > 20 and taken["rows"] > 20, taken  # both ways were exercised


def test_values_that_repeat_down_a_column_are_one_object_each():
    """A text column that repeats (a service code, an invoice number on its lines) and a date column give
    each distinct cell as one object across all the blocks of a read (the last one shorter), with the
    values of a cell-by-cell read; a column of distinct texts (IDs) keeps them as they are."""
    from sheetbill import tables

    rows = [("Key", "Name", "Day", "Amount")]
    rows += [(f"K{n}", f" code {n % 7}", dt.date(2026, 1, 1 + n % 5), "12.50")
             for n in range(3 * tables.COLUMNAR_ROWS + 70)]
    sheet = RawSheet("Block", rows)
    spec = contract.TableSpec("Block", _BLOCK_SPEC.fields[:4], key=("key",))
    columns, _ = tables.column_map(sheet, spec)
    outcomes = list(tables.row_outcomes(sheet, spec, columns, 1, len(rows)))
    plan = [tables._planned(f, columns[f.name], None) for f in spec.fields]
    assert _spelled(outcomes) == _spelled(tables._rows_one_by_one(sheet, plan, 1, len(rows)))
    values = [row_values for _, row_values, _ in outcomes]
    assert len({id(v["name"]) for v in values}) == 7
    assert len({id(v["day"]) for v in values}) == 5
    assert len({id(v["key"]) for v in values}) == len(values)


def test_a_column_read_once_per_distinct_value_reads_as_cell_by_cell():
    """Dates, and amounts read into an AmountPool (ReadsAlike), are read once per distinct value in a
    block: the same values, types and Problems as every cell read on its own, on random sheets of
    repeated dates, serial numbers, amounts of every spelling (-0.0 and 0.0, 12.5 and Decimal 12.50, 7
    and 7.0), True beside 1, and now and then a cell the column refuses (the block is then read row by
    row)."""
    import random
    from functools import partial

    from sheetbill import tables
    from sheetbill.book import _then
    from sheetbill.money import AmountPool

    rng = random.Random(20261201)
    days = [dt.date(2026, 1, 31), dt.date(2026, 1, 31), dt.datetime(2026, 1, 31, 9, 30), dt.datetime(2026, 2, 1),
            46000, 46000.0, 46000.5]
    amounts = [-0.0, 0.0, 0, Decimal("-0.00"), 12.5, Decimal("12.50"), Decimal("12.5"), 7, 7.0, 1, True, 80.004]
    spec = contract.TableSpec("Block", (contract.Field("key", "Key", "id", required=True),
                                        contract.Field("day", "Day", "date", required=True),
                                        contract.Field("amount", "Amount", "money")), key=("key",))
    amount = spec.fields[2]
    alike_taken = 0
    for _ in range(30):
        refused = rng.choice([None, None, "x", -1e300, dt.time(1, 0)])
        rows = [("Key", "Day", "Amount")]
        spellings = amounts[:10] if rng.random() < 0.7 else amounts  # True beside 1 in some sheets
        for n in range(rng.randrange(60, 700)):
            cells = [f"K{n}", rng.choice(days), rng.choice(spellings)]
            if refused is not None and rng.random() < 0.003:
                cells[rng.choice((1, 2))] = refused
            rows.append(tuple(cells))
        sheet = RawSheet("Block", rows)
        columns, _ = tables.column_map(sheet, spec)
        pooled = partial(_then, amount.read, AmountPool("EUR").money)
        plan = [tables._planned(f, columns[f.name], None) for f in spec.fields]
        one_by_one = _spelled(tables._rows_one_by_one(sheet, plan, 1, len(rows)))
        assert _spelled(tables.row_outcomes(sheet, spec, columns, 1, len(rows))) == one_by_one
        plan[2] = plan[2]._replace(read=pooled)
        pooled_one_by_one = _spelled(tables._rows_one_by_one(sheet, plan, 1, len(rows)))
        alike = _spelled(tables.row_outcomes(sheet, spec, columns, 1, len(rows), {"amount": tables.ReadsAlike(pooled)}))
        assert alike == pooled_one_by_one
        alike_taken += refused is None
    assert alike_taken >= 5


def test_the_amount_pool_rounds_every_spelling_of_an_amount_alike_and_shares_the_result():
    """AmountPool.money gives, for each amount, the amount rounded half-up to the cent (one zero, never
    -0.00) and one object per distinct result, however often and in whatever spelling it is asked."""
    from sheetbill.money import AmountPool

    pool = AmountPool("EUR")
    asked = [Decimal("80"), Decimal("80.0"), Decimal("80.00"), Decimal("80.004"), Decimal("80.005"),
             Decimal("-0.00"), Decimal("0"), Decimal("-0.004"), Decimal("0.005"), Decimal("1E+2"),
             Decimal("80.0"), Decimal("12.345"), Decimal("-12.345"), Decimal("-0.00")]
    expected = ["80.00", "80.00", "80.00", "80.00", "80.01", "0.00", "0.00", "0.00", "0.01", "100.00",
                "80.00", "12.35", "-12.35", "0.00"]
    results = [pool.money(amount) for amount in asked]
    assert [str(r) for r in results] == expected
    by_text: dict[str, Decimal] = {}
    for result in results:
        assert by_text.setdefault(str(result), result) is result  # one object per distinct amount
    yen = AmountPool("JPY")
    assert [str(yen.money(a)) for a in (Decimal("80.5"), Decimal("80"), Decimal("80.50"))] == ["81", "80", "81"]


def test_rounded_amounts_are_quantize_exactly_and_shared():
    """RoundedAmounts gives what quantize gives, spelling and sign of zero included, for amounts in every
    spelling and random ones (half-up at the cent, yen without decimals), and one object per spelling."""
    import random

    from sheetbill.money import RoundedAmounts

    rng = random.Random(20261130)
    asked = [Decimal(text) for text in ("80", "80.0", "80.00", "80.004", "80.005", "-80.005", "0", "0.00", "-0",
                                        "-0.00", "-0.004", "0.004", "1E+2", "-12.345")]
    asked += [Decimal(rng.randrange(-10**7, 10**7)).scaleb(-rng.randrange(0, 4)) for _ in range(2_000)]
    for currency in ("EUR", "JPY"):
        rounded = RoundedAmounts(currency)
        results = [rounded(amount) for amount in asked]
        assert [repr(r) for r in results] == [repr(quantize(a, currency)) for a in asked]
        by_spelling: dict[str, Decimal] = {}
        for result in results:
            assert by_spelling.setdefault(repr(result), result) is result
    assert repr(RoundedAmounts("EUR")(Decimal("-0.001"))) == "Decimal('-0.00')"


@pytest.mark.parametrize("with_memo", [False, True], ids=["read", "read with the run memo"])
def test_history_is_read_back_with_blank_cells_as_none_and_amounts_in_the_runs_spelling(with_memo):
    """Invoices as a front end reads them back: amounts as floats (80.0), a blank Bill To Name; with enough
    rows that the columnar reading takes whole blocks, and a row with a blank amount that it cannot."""
    from sheetbill.book import read_history
    from sheetbill.models import Invoice
    from sheetbill.money import AmountPool
    from sheetbill.rowmemo import TableMemo

    header = ["Invoice No", "Kind", "Issue Date", "Due Date", "Bill To Type", "Bill To ID", "Bill To Name",
              "Customer ID", "Amount", "Related Invoice", "Seal", "Net", "Tax"]
    day = dt.date(2026, 3, 1)
    rows = [[f"INV-{n:06d}", "Invoice", day, day, "Customer", f"C{n}", None if n % 3 else f"Name {n}", f"C{n}",
             80.0 if n % 2 else 12.5, None, None, None, None] for n in range(1, 601)]
    rows[400][8] = None  # a blank amount: that row is an edited-history Problem, its block read row by row
    amounts = AmountPool("EUR")
    memo = TableMemo() if with_memo else None
    records, problems = read_history({"Invoices": RawSheet("Invoices", [header, *rows])}, contract.INVOICES,
                                     Invoice, amounts, memo)
    assert [(p.row, p.column, p.code) for p in problems] == [(402, "Amount", "edited-history")]
    assert len(records) == 599
    by_no = {record.invoice_no: record for record in records}
    first, second, third = by_no["INV-000001"], by_no["INV-000002"], by_no["INV-000003"]
    assert first.bill_to_name is None and third.bill_to_name == "Name 3"
    assert str(first.amount) == "80.00" and str(second.amount) == "12.50"
    assert first.amount is by_no["INV-000599"].amount or with_memo  # one shared Decimal per amount in a run
    assert first.net is None and first.related is None and first.seal is None and first.row == 2


@dataclasses.dataclass(frozen=True, slots=True)
class _WithDefaults:
    key: str | None = None
    name: str | None = None
    day: dt.date | None = None
    amount: Decimal | None = None
    weight: Decimal | None = None
    state: str = "Open"
    flag: bool | None = None
    row: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class _WithRequired:
    key: str
    day: dt.date
    name: str
    amount: Decimal | None = None
    weight: Decimal | None = None
    state: str = "Open"
    flag: bool | None = None
    row: int = 0


def _read_or_refusal(sheet, spec, factory):
    try:
        records, problems = read_table(sheet, spec, factory)
    except TypeError as err:  # a row without a value for a field the record cannot leave out
        return type(err)
    return [(type(r), repr(r), r.row) for r in records], problems


def test_a_record_class_is_built_a_block_at_a_time_as_it_is_built_row_by_row():
    """read_table with a record class builds each block read column by column at once (records.builder's
    columns); a factory function builds row by row. Same records, in the same order, and Problems, on
    random sheets with blank optional cells, duplicate keys, odd rows, fields that default and fields
    that cannot be left out."""
    import random

    from sheetbill.records import builder

    rng = random.Random(20261130)
    built_whole = 0
    for _ in range(60):
        sheet = _random_block_sheet(rng)
        if rng.random() < 0.7:  # mostly unique keys, so that whole blocks are taken
            rows = [row if len(row) < 2 or row[1] is None else [row[0], f"K{n}", *row[2:]]
                    for n, row in enumerate(sheet.rows)]
            if rng.random() < 0.5:  # a later row repeats a key of a block taken whole
                rows.append(list(rows[rng.randrange(1, len(rows))]))
            sheet = RawSheet("Block", [sheet.rows[0], *rows[1:]], first_row=sheet.first_row)
        spec = rng.choice([_BLOCK_SPEC, _OPTIONAL_SPEC])
        for cls in (_WithDefaults, _WithRequired):
            def one_by_one(cls=cls, **values):
                return cls(**values)

            build = builder(cls)
            by_columns = build.columns
            taken = []
            def counted(columns, holes, by_columns=by_columns, taken=taken):
                taken.append(by_columns(columns, holes))
                return taken[-1]

            build.columns = counted
            try:
                assert _read_or_refusal(sheet, spec, cls) == _read_or_refusal(sheet, spec, one_by_one)
            finally:
                build.columns = by_columns
            built_whole += sum(result is not None for result in taken)
    assert built_whole > 50, built_whole  # the block-at-a-time building was exercised
