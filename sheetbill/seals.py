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

The module is pure: it knows values and seals, not sheets or Problems (``book.py`` reports).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

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


def spell(value: object, kind: str, places: int) -> str:
    """One value in its canonical spelling: dates ISO, money with the currency's ``places`` decimals
    (``80.00``, whether it was read back as the float ``80.0`` or computed as ``Decimal('80.00')``),
    other numbers plain (``1``, ``1.5``), None as empty, text as it is."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (Decimal, int, float)) and not isinstance(value, bool):
        number = value if isinstance(value, Decimal) else D(value)
        if kind == "money":
            return f"{number:.{places}f}"
        return str(plain_number(number))
    return str(value)


def values_of(record: object, sealed: Sequence[tuple[str, str, str]], places: int) -> tuple[str, ...]:
    """The sealed values of a record (an Invoice or InvoiceLine), spelled canonically."""
    return tuple(spell(getattr(record, name), kind, places) for name, _, kind in sealed)


def _chain(previous: str, values: tuple[str, ...]) -> str:
    data = "\x1f".join(values).encode()
    return hashlib.blake2b(data, digest_size=CHAIN_HEX // 2, key=previous.encode()).hexdigest()


def _columns(values: tuple[str, ...]) -> str:
    return "".join(_BASE32[zlib.crc32(f"{index}\x1f{value}".encode()) & 31] for index, value in enumerate(values))


def make_seal(previous: str, values: tuple[str, ...]) -> str:
    """The seal of a row with ``values`` issued after the row whose chain is ``previous``."""
    return f"{_chain(previous, values)}.{previous[:LINK_HEX]}.{_columns(values)}"


def parse(seal: str, width: int) -> tuple[str, str, str] | None:
    """``(chain, link, columns)`` of a seal of a row with ``width`` sealed columns; None if malformed."""
    parts = seal.strip().split(".")
    if len(parts) != 3 or len(parts[0]) != CHAIN_HEX or len(parts[1]) != LINK_HEX or len(parts[2]) != width:
        return None
    return parts[0], parts[1], parts[2]


def invoice_order(invoices: Sequence[object]) -> list[int]:
    """Indexes of ``invoices`` in issue order: issue date, then invoice number."""
    never = dt.date.max
    return sorted(range(len(invoices)), key=lambda i: (invoices[i].issue_date or never, invoices[i].invoice_no))


def line_order(invoices: Sequence[object], lines: Sequence[object]) -> list[int]:
    """Indexes of ``lines`` in issue order: their invoice's issue order, then their position among that
    invoice's lines (lines of one invoice are issued together, in the order they are listed)."""
    rank = {invoices[i].invoice_no: n for n, i in enumerate(invoice_order(invoices))}
    last = len(rank)
    return sorted(range(len(lines)), key=lambda i: (rank.get(lines[i].invoice_no, last), lines[i].invoice_no, i))


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
           width: int) -> list[Finding]:
    """Check every sealed row (one pass in issue ``order``; rows without a seal are skipped).

    Each row is checked against the *stored* chain of its predecessor, so a row after an edited one
    still verifies; when that fails, against the stored chains its link names (a reordered sheet).
    """
    parsed = [parse(seal, width) if seal else None for seal in seals]
    by_link: dict[str, list[str]] | None = None
    findings: list[Finding] = []
    previous = GENESIS
    for index in order:
        if not seals[index]:
            continue
        stored = parsed[index]
        if stored is None:
            findings.append(Finding(index, "edited", (width,)))
            continue
        chain, link, columns = stored
        row = values[index]
        if _chain(previous, row) != chain:
            if by_link is None:
                by_link = _chains_by_link(parsed)
            candidates = by_link.get(link, [])
            if not any(_chain(candidate, row) == chain for candidate in candidates):
                changed = tuple(i for i, (old, new) in enumerate(zip(columns, _columns(row), strict=True))
                                if old != new)
                kind = "edited" if changed or candidates else "deleted"
                findings.append(Finding(index, kind, changed))
        previous = chain
    return findings


def _chains_by_link(parsed: Sequence[tuple[str, str, str] | None]) -> dict[str, list[str]]:
    """Every stored chain by its first digits (the link a following row stores), and the genesis."""
    chains: dict[str, list[str]] = defaultdict(list)
    chains[GENESIS[:LINK_HEX]].append(GENESIS)
    for stored in parsed:
        if stored is not None:
            chains[stored[0][:LINK_HEX]].append(stored[0])
    return chains


def seal_missing(values: Sequence[tuple[str, ...]], seals: Sequence[str | None], order: Sequence[int],
                 width: int) -> dict[int, str]:
    """Seals for the rows that have none (new rows, or history from before seals), by index.

    They are chained in issue ``order`` after the last sealed row; rows that have a seal keep it,
    also an edited row (so restoring its values makes it verify again).
    """
    tip = GENESIS
    for index in order:
        stored = parse(seals[index], width) if seals[index] else None
        if stored is not None:
            tip = stored[0]
    new: dict[int, str] = {}
    for index in order:
        if not seals[index]:
            new[index] = seal = make_seal(tip, values[index])
            tip = seal[:CHAIN_HEX]
    return new


def seal_records(invoices: Sequence[object], lines: Sequence[object], places: int) -> tuple[list, list]:
    """``invoices`` and ``lines`` (Invoice and InvoiceLine records, history then this run's) with a
    Seal on every row: rows without one are sealed in issue order after the last sealed row."""
    return (_sealed(invoices, INVOICE_SEALED, invoice_order(invoices), places),
            _sealed(lines, LINE_SEALED, line_order(invoices, lines), places))


def _sealed(records: Sequence[object], sealed: Sequence[tuple[str, str, str]], order: list[int],
            places: int) -> list:
    seals = [record.seal for record in records]
    if all(seals):
        return list(records)
    missing = [i for i, seal in enumerate(seals) if not seal]
    values: list[tuple[str, ...]] = [()] * len(records)
    for index in missing:
        values[index] = values_of(records[index], sealed, places)
    new = seal_missing(values, seals, order, len(sealed))
    return [replace(record, seal=new[i]) if i in new else record for i, record in enumerate(records)]
