"""Seals on issued history: how a run notices that an issued invoice or line was edited in the sheet.

Every Invoices and Invoice Lines row carries a **Seal**, computed when the row is issued::

    Seal = <chain: 10 hex>.<link: 4 hex>.<one base32 character per sealed column>

* The *chain* is a short BLAKE2b hash of the row's sealed values, spelled canonically
  (:func:`spell`), keyed with the chain of the row issued before it. Rows are chained in **issue
  order** (:func:`invoice_order`, :func:`line_order`), never in sheet order, so sorting a sheet is
  not an edit.
* The *link* is the first four hex digits of the previous row's chain. A run verifies a row against
  its predecessor in issue order; when that fails (the sheet's rows were reordered, or a key was
  edited), the link finds the stored chain the row was sealed after, so only an edited row itself is
  blamed. A link that names no row any more is a gap: the row before it was deleted.
* The *columns* are a 5-bit fingerprint of each sealed value on its own, so a mismatch names the
  column that changed (a change whose fingerprint happens to collide, 1 in 32, is reported for the
  row as a whole: the chain still catches it).
* The tax columns (Net and Tax of an invoice, Net, Tax Category, Tax Rate and Tax Exemption of a
  line) are sealed only on rows that carry tax (:func:`spell_sealed`): a row without tax is sealed
  over the columns sheetbill always sealed, so history sealed before sheetbill knew tax still
  verifies, and typing a Net into such a row is an edit of that column.

The module is pure: it knows values and seals, not sheets or Problems (``book.py`` reports).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter

from .money import D, plain_number

CHAIN_HEX = 10
LINK_HEX = 4
#: The chain before the first row ever sealed.
GENESIS = "0" * CHAIN_HEX
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

#: The sealed columns of an Invoices row: what was issued, never what is derived every run.
INVOICE_SEALED = (
    ("invoice_no", "Invoice No", "id"), ("kind", "Kind", "text"), ("issue_date", "Issue Date", "date"),
    ("due_date", "Due Date", "date"), ("bill_to_type", "Bill To Type", "text"), ("bill_to_id", "Bill To ID", "id"),
    ("bill_to_name", "Bill To Name", "text"), ("customer_id", "Customer ID", "id"), ("amount", "Amount", "money"),
    ("related", "Related Invoice", "id"),
)
#: The sealed columns of an Invoice Lines row: all of them, every one is issued.
LINE_SEALED = (
    ("invoice_no", "Invoice No", "id"), ("charge_id", "Charge ID", "id"),
    ("date_of_service", "Date of Service", "date"), ("customer_id", "Customer ID", "id"),
    ("service_code", "Service Code", "id"), ("billed_code", "Billed Code", "id"), ("quantity", "Quantity", "decimal"),
    ("charge_amount", "Charge Amount", "money"), ("amount", "Amount", "money"),
    ("adjustment", "Adjustment", "money"), ("reason", "Reason", "text"), ("payment_id", "Payment ID", "id"),
    ("related_invoice", "Related Invoice", "id"),
)

#: Sealed after the columns above on an Invoices row with tax.
INVOICE_TAX_SEALED = (("net", "Net", "money"), ("tax", "Tax", "money"))
#: Sealed after the columns above on an Invoice Lines row with tax.
LINE_TAX_SEALED = (("net", "Net", "money"), ("tax_category", "Tax Category", "id"),
                   ("tax_rate", "Tax Rate", "decimal"), ("tax_exemption", "Tax Exemption", "text"))


def spell(value: object, kind: str, places: int) -> str:
    """One value in its canonical spelling: dates ISO, money with the currency's ``places`` decimals
    (``80.00``, whether it was read back as the float ``80.0`` or computed as ``Decimal('80.00')``),
    other numbers plain (``1``, ``1.5``), None as empty, text as it is."""
    return _spell_column([value], kind, places)[0]


def _spell_column(column: Sequence[object], kind: str, places: int) -> list[str]:
    """Every value of one column spelled (see :func:`spell`). This runs over every row of the largest
    sheets on every run, so each distinct number or date is spelled once (equal values, such as
    ``80.0`` and ``Decimal('80.00')``, spell alike)."""
    if kind not in ("money", "decimal", "date"):
        if set(map(type, column)) == {str}:
            return list(column)  # text as it is: the usual column, taken in one pass in C
        return ["" if v is None else v if type(v) is str else str(v) for v in column]
    spell_one = _money_text(places) if kind == "money" else _plain_text if kind == "decimal" else _date_text
    spelled = {value: spell_one(value) for value in set(column)}
    return list(map(spelled.__getitem__, column))


def _money_text(places: int) -> Callable[[object], str]:
    spec = f".{places}f"
    return lambda v: "" if v is None else format(v if type(v) is Decimal else D(v), spec)


def _plain_text(value: object) -> str:
    return "" if value is None else str(plain_number(value if type(value) is Decimal else D(value)))


def _date_text(value: object) -> str:
    if value is None:
        return ""
    return (value.date() if isinstance(value, dt.datetime) else value).isoformat()


def spell_rows(records: Sequence[object], sealed: Sequence[tuple[str, str, str]],
               places: int) -> list[tuple[str, ...]]:
    """The sealed values of each record (Invoice or InvoiceLine), spelled canonically, column by column."""
    if not records:
        return []
    spelled = [_spell_column(list(map(attrgetter(name), records)), kind, places) for name, _, kind in sealed]
    return list(zip(*spelled, strict=True))


def spell_sealed(records: Sequence[object], sealed: Sequence[tuple[str, str, str]],
                 taxed: Sequence[tuple[str, str, str]], places: int) -> list[tuple[str, ...]]:
    """:func:`spell_rows` over ``sealed``, and over ``taxed`` too for every record that has a value in
    one of those columns (a row with tax); a row without tax is spelled as it always was."""
    rows = spell_rows(records, sealed, places)
    columns = [list(map(attrgetter(name), records)) for name, _, _ in taxed]
    if all(column.count(None) == len(column) for column in columns):
        return rows  # no row with tax (every row of an untaxed workbook): in one pass per column, in C
    with_tax = sorted({i for column in columns for i, value in enumerate(column) if value is not None})
    if with_tax:
        extra = spell_rows([records[i] for i in with_tax], taxed, places)
        for index, values in zip(with_tax, extra, strict=True):
            rows[index] = rows[index] + values
    return rows


def values_of(record: object, sealed: Sequence[tuple[str, str, str]], places: int) -> tuple[str, ...]:
    """The sealed values of one record, spelled canonically (see :func:`spell_rows`)."""
    return spell_rows([record], sealed, places)[0]


_SEP = "\x1f"
_DIGEST = CHAIN_HEX // 2


def _chain(previous: str, values: tuple[str, ...]) -> str:
    return hashlib.blake2b(_SEP.join(values).encode(), digest_size=_DIGEST, key=previous.encode()).hexdigest()


def _columns(values: tuple[str, ...]) -> str:
    return "".join([_BASE32[zlib.crc32(value.encode(), index) & 31] for index, value in enumerate(values)])


def make_seal(previous: str, values: tuple[str, ...]) -> str:
    """The seal of a row with ``values`` issued after the row whose chain is ``previous``."""
    return f"{_chain(previous, values)}.{previous[:LINK_HEX]}.{_columns(values)}"


def parse(seal: str, width: int | tuple[int, ...]) -> tuple[str, str, str] | None:
    """``(chain, link, columns)`` of a seal of a row with ``width`` sealed columns (or one of several
    widths); None if malformed."""
    widths = (width,) if isinstance(width, int) else width
    parts = seal.strip().split(".")
    if len(parts) != 3 or len(parts[0]) != CHAIN_HEX or len(parts[1]) != LINK_HEX or len(parts[2]) not in widths:
        return None
    return parts[0], parts[1], parts[2]


def invoice_order(invoices: Sequence[object]) -> list[int]:
    """Indexes of ``invoices`` in issue order: issue date, then invoice number."""
    never = dt.date.max
    dates = [date or never for date in map(attrgetter("issue_date"), invoices)]
    order = sorted(range(len(invoices)), key=list(map(attrgetter("invoice_no"), invoices)).__getitem__)
    order.sort(key=dates.__getitem__)  # stable: by number within a date (no tuple compared per step)
    return order


def issue_ranks(invoices: Sequence[object]) -> dict[str, int]:
    """Each invoice number's place in issue order (:func:`invoice_order`)."""
    return {invoices[i].invoice_no: n for n, i in enumerate(invoice_order(invoices))}


def line_order(invoices: Sequence[object], lines: Sequence[object]) -> list[int]:
    """Indexes of ``lines`` in issue order: their invoice's issue order, then their position among that
    invoice's lines (lines of one invoice are issued together, in the order they are listed)."""
    rank = issue_ranks(invoices)
    numbers = list(map(attrgetter("invoice_no"), lines))
    last = len(rank)  # lines of an invoice no longer listed come after all others, by invoice number
    rank.update({no: last + n for n, no in enumerate(sorted(set(numbers).difference(rank)))})
    keys = [rank[no] for no in numbers]
    return sorted(range(len(lines)), key=keys.__getitem__)  # stable: a line's position breaks ties


@dataclass(frozen=True)
class Finding:
    """A sealed row that does not verify.

    Attributes:
        index: the row's index in the list verified.
        kind: ``edited`` (its values changed) or ``deleted`` (the row issued before it is gone).
        columns: the indexes of the sealed columns that changed; ``len(sealed)`` stands for the Seal
            itself (malformed); empty when the row changed but no single column can be named.
    """

    index: int
    kind: str
    columns: tuple[int, ...] = ()


def verify(values: Sequence[tuple[str, ...]], seals: Sequence[str | None], order: Sequence[int],
           width: int, base: int | None = None, skip: int = 0) -> list[Finding]:
    """Check every sealed row (one pass in issue ``order``; rows without a seal are skipped).

    Each row is checked against the *stored* chain of its predecessor, so a row after an edited one
    still verifies; when that fails, against the stored chains its link names (a reordered sheet).
    ``width`` is the number of sealed columns of a row with tax, ``base`` of one without (default the
    same): a row sealed without tax that now has some (or the reverse) is an edit of the tax columns.
    The first ``skip`` rows in ``order`` are known to verify (:func:`verified_prefix`): they are not
    checked again, and their ``values`` are not needed.
    """
    base = width if base is None else base
    by_link: dict[str, list[str]] | None = None
    findings: list[Finding] = []
    # the seals of the rows skipped are not looked at, but for the last one's chain
    previous = next((seals[order[i]].split(".")[0] for i in range(skip - 1, -1, -1) if seals[order[i]]), GENESIS)
    blake2b = hashlib.blake2b
    for index in order[skip:]:
        seal = seals[index]
        if not seal:
            continue
        stored = seal.split(".")
        if len(stored) != 3 or len(stored[0]) != CHAIN_HEX or len(stored[1]) != LINK_HEX or \
                len(stored[2]) not in (width, base):
            findings.append(Finding(index, "edited", (width,)))
            continue
        chain, link, columns = stored
        row = values[index]
        if len(columns) != len(row):  # tax typed into a row sealed without, or taken out of one sealed with
            typed = tuple(i for i in range(base, len(row)) if row[i])
            findings.append(Finding(index, "edited", typed or tuple(range(base, width))))
            previous = chain
            continue
        # _chain(previous, row), inlined: this line runs once per row of the largest sheet
        if blake2b(_SEP.join(row).encode(), digest_size=_DIGEST, key=previous.encode()).hexdigest() != chain:
            if by_link is None:
                by_link = _chains_by_link([text.split(".") if text else None for text in seals])
            candidates = by_link.get(link, [])
            if not any(_chain(candidate, row) == chain for candidate in candidates):
                changed = tuple(i for i, (old, new) in enumerate(zip(columns, _columns(row), strict=True))
                                if old != new)
                kind = "edited" if changed or candidates else "deleted"
                findings.append(Finding(index, kind, changed))
        previous = chain
    return findings


#: Rows in issue order between two checkpoints of a verified prefix (:func:`prefix_digests`).
CHECKPOINT_ROWS = 1024


def prefix_digests(rows: Sequence[int], seals: Sequence[str | None], order: Sequence[int]) -> list[bytes]:
    """A digest of the sheet rows and seals of the first ``k * CHECKPOINT_ROWS`` rows in issue ``order``,
    for each ``k``: what a run keeps of the history it verified, to know the same prefix again."""
    return prefix_chain(rows, seals, order).digests


def prefix_chain(rows: Sequence[int], seals: Sequence[str | None], order: Sequence[int]) -> PrefixDigests:
    """:func:`prefix_digests` as the chain that computed them, which rows issued after these can be added
    to (:meth:`PrefixDigests.add`)."""
    chain = PrefixDigests()
    chain.add([rows[i] for i in order], [seals[i] for i in order])
    return chain


class PrefixDigests:
    """:func:`prefix_digests` of rows given a few at a time, in issue order (:meth:`add`): ``digests``
    holds those of every checkpoint passed so far."""

    def __init__(self) -> None:
        self.digests: list[bytes] = []
        self._digest = hashlib.blake2b(digest_size=16)
        self._pending: list[str] = []

    def add(self, rows: Sequence[int], seals: Sequence[str | None]) -> None:
        """The next rows in issue order: their sheet rows and their seals."""
        pending = self._pending
        pending.extend([f"{row}{_SEP}{seal or ''}" for row, seal in zip(rows, seals, strict=True)])
        size = CHECKPOINT_ROWS
        if len(pending) < size:
            return
        start = 0
        for start in range(0, len(pending) - size + 1, size):
            self._digest.update("\n".join(pending[start:start + size]).encode(errors="surrogatepass") + b"\n")
            self.digests.append(self._digest.digest())
        del pending[:start + size]


def verified_prefix(digests: Sequence[bytes], known: Sequence[bytes], order: Sequence[int],
                    unchanged: Callable[[int], bool] | None) -> int:
    """How many rows at the start of issue ``order`` verify without being checked: the whole checkpoints
    whose :func:`prefix_digests` are those ``known`` to have verified before (the same rows with the
    same seals in the same order) and whose rows are all ``unchanged`` (the same values as then; None:
    every row is).

    A row's check depends only on its values, its seal and the seals before it in issue order, so such
    a prefix verifies now as it did then.
    """
    matching = 0
    for mine, theirs in zip(digests, known, strict=False):
        if mine != theirs:
            break
        matching += 1
    if unchanged is None:
        return matching * CHECKPOINT_ROWS
    for position, index in enumerate(order[:matching * CHECKPOINT_ROWS]):
        if not unchanged(index):
            return position // CHECKPOINT_ROWS * CHECKPOINT_ROWS
    return matching * CHECKPOINT_ROWS


def _chains_by_link(parsed: Sequence[tuple[str, str, str] | None]) -> dict[str, list[str]]:
    """Every stored chain by its first digits (the link a following row stores), and the genesis."""
    chains: dict[str, list[str]] = defaultdict(list)
    chains[GENESIS[:LINK_HEX]].append(GENESIS)
    for stored in parsed:
        if stored is not None and len(stored[0]) == CHAIN_HEX:
            chains[stored[0][:LINK_HEX]].append(stored[0])
    return chains


def seal_missing(spelled: Callable[[Sequence[int]], list[tuple[str, ...]]], seals: list[str | None],
                 order: Sequence[int], width: int | tuple[int, ...]) -> None:
    """Give the rows that have none (new rows, or history from before seals) their Seal, in ``seals``.

    They are chained in issue ``order`` after the last sealed row; rows that have a seal keep it,
    also an edited row (so restoring its values makes it verify again). ``spelled`` gives the sealed
    values of rows by their indexes (:func:`spell_sealed`); it is asked a batch at a time, so that a first
    run sealing a million and a half lines never holds all their spelled values at once.
    """
    tip = GENESIS
    for index in reversed(order):
        stored = parse(seals[index], width) if seals[index] else None
        if stored is not None:
            tip = stored[0]
            break
    missing = [index for index in order if not seals[index]]
    for start in range(0, len(missing), _SEAL_BATCH):
        batch = missing[start:start + _SEAL_BATCH]
        rows = spelled(batch)
        for index, values, columns in zip(batch, rows, _columns_of_rows(rows), strict=True):
            chain = _chain(tip, values)
            seals[index] = f"{chain}.{tip[:LINK_HEX]}.{columns}"
            tip = chain


#: How many rows :func:`seal_missing` spells at a time.
_SEAL_BATCH = 65536


def _columns_of_rows(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """:func:`_columns_of`, for rows of two widths (with and without tax)."""
    widths = {len(row) for row in rows}
    if len(widths) <= 1:
        return _columns_of(rows)
    result: list[str] = [""] * len(rows)
    for width in widths:
        indexes = [i for i, row in enumerate(rows) if len(row) == width]
        for index, columns in zip(indexes, _columns_of([rows[i] for i in indexes]), strict=True):
            result[index] = columns
    return result


def _columns_of(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """:func:`_columns` of many rows at once, column by column (sealing a large first run is cheap)."""
    if not rows:
        return []
    chars = []
    for index, column in enumerate(zip(*rows, strict=True)):
        char = {value: _BASE32[zlib.crc32(value.encode(), index) & 31] for value in set(column)}
        chars.append([char[value] for value in column])
    return ["".join(row) for row in zip(*chars, strict=True)]


def seal_records(invoices: Sequence[object], lines: Sequence[object], places: int) -> tuple[list[str], list[str]]:
    """The Seal of every row of ``invoices`` and ``lines`` (Invoice and InvoiceLine records, history
    then this run's): a row's own, or for a row without one a new one, chained in issue order after
    the last sealed row."""
    return (_sealed(invoices, INVOICE_SEALED, INVOICE_TAX_SEALED, lambda: invoice_order(invoices), places),
            _sealed(lines, LINE_SEALED, LINE_TAX_SEALED, lambda: line_order(invoices, lines), places))


def _sealed(records: Sequence[object], sealed: Sequence[tuple[str, str, str]], taxed: Sequence[tuple[str, str, str]],
            order: Callable[[], list[int]], places: int) -> list[str]:
    seals = [record.seal for record in records]
    if all(seals):
        return seals

    def spelled(indexes: Sequence[int]) -> list[tuple[str, ...]]:
        return spell_sealed([records[i] for i in indexes], sealed, taxed, places)

    seal_missing(spelled, seals, order(), (len(sealed), len(sealed) + len(taxed)))
    return seals
