"""The adjudication's memory of the last run: each customer's decisions and the keys they were made under.

A customer's decisions depend on two kinds of input (see :func:`sheetbill.adjudication.adjudicate_all`):

* the **context**, which every decision shares: the Settings (a payer plugin is given all of them),
  the Services (prices) and their tax, the Payers, the Payer Codes, the Base Rates, the as-of date
  (which charges are due and which are upcoming; only with an installed payer plugin, see
  :func:`context_key`), sheetbill's version (the rules themselves) and the name, version and payer
  names of every registered plugin (:meth:`Plugins.describe`);
* the **customer's own inputs**: its Customers row, its coverage rows (by priority, with their rows),
  and its charges, due and upcoming, in the order they are decided (date, then Charge ID), each with
  its row; the year-to-date accumulators and the advice on coverage gaps and on upcoming
  authorizations are kept per customer and follow from these.

Each is reduced to a key: BLAKE2b over the ``repr`` of the records, so values of different types or
spellings (``1`` and ``Decimal('1.00')``, a date and its text) give different keys. A
:class:`DecisionMemo` remembers, per customer, its key and its decisions; the next run decides again
only the customers whose key changed, or every customer when the context changed, and takes the
others' decisions from the memo, bound to the charges read in that run.

After issuing, the run drops from the memo the shares of the decisions on charges it has billed
(:func:`without_billed_shares`): the next run needs of them only their charge amounts, problems and
advice, and decides a customer again in the rare case one of them must be billed anew (its lines went
missing). That halves the memory the memo takes once loaded.

Payer plugins are trusted to answer the same claim the same way for as long as their version stays
the same: the memo is keyed by the plugins' versions, not by what their code does. A plugin whose
version is unknown (registered by hand, without a distribution and without ``__version__``) makes
the memo unusable: every customer is decided every run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from functools import cache
from operator import attrgetter
from typing import TYPE_CHECKING

from . import __version__
from .i18n import Msg
from .memo import pack, unpack
from .models import Charge, Coverage, Customer
from .problems import Problem

if TYPE_CHECKING:
    from .book import Book
    from .plugins.manager import Plugins

#: The layout of a memo; a memo of another layout is not used.
MEMO_FORMAT = 1

#: One decision as remembered, without its charge: charge amount, shares (each the tuple of its fields;
#: None when they were not kept, see :func:`without_billed_shares`), held, problems, advice and coverage
#: gap (the fields of :class:`~sheetbill.decisions.Decision` after ``charge``). Plain tuples: a memo of
#: 100,000 decisions pickles and loads in a fraction of a second.
Remembered = tuple[Decimal, tuple[tuple, ...] | None, str | None, tuple[Problem, ...], tuple["Msg | str", ...],
                   Msg | None]


def digest(value: object) -> bytes:
    """BLAKE2b (16 bytes) of ``repr(value)``: equal only for records of equal types, values and spellings."""
    return hashlib.blake2b(repr(value).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def context_key(book: Book, plugins: Plugins, until: dt.date) -> bytes | None:
    """The key of everything all decisions depend on, or ``None`` when a plugin's version is unknown
    (then no memo is used: a plugin cannot be assumed to answer alike without a version).

    The as-of date (``until``, and Settings ``as_of``) is part of it only when a payer plugin that is
    not built in is registered: which charges are due and which upcoming is part of each customer's
    key, and sheetbill's rules and built-in payers decide a charge from its own date alone, so with
    them the memo still serves when the as-of date moves on (a blank As Of Date is today's). An
    installed plugin is given the Settings, as-of date included, and may read it.
    """
    infos = plugins.describe()
    described = [(info.name, info.version, info.payer_names, info.distribution) for info in infos]
    if any(info.version == "?" for info in infos):
        return None
    settings = book.settings
    if all(info.builtin for info in infos if info.payer_names):
        settings, until = replace(settings, as_of=_NO_DATE), _NO_DATE
    return digest((MEMO_FORMAT, __version__, until, settings, book.services, book.taxes, book.payers,
                   book.payer_codes, book.base_rates, described))


#: The as-of date in the context of a run whose decisions do not depend on it.
_NO_DATE = dt.date.min


def customer_key(customer: Customer | None, coverages: Sequence[Coverage], due: Sequence[Charge],
                 upcoming: Sequence[Charge]) -> bytes:
    """The key of one customer's own inputs: its row, its coverage rows, its due and upcoming charges
    (each in the order they are decided).

    Each record is spelled as the tuple of its field values (the ``repr`` of a record without its
    field names: a run keys every charge, and a dataclass's own ``repr`` is twice as slow); the
    records are the Book's, of exactly these types, each in its place of the key.
    """
    return digest((_CUSTOMER_KEY, None if customer is None else _customer_values(customer),
                   list(map(_coverage_values, coverages)), list(map(_charge_values, due)),
                   list(map(_charge_values, upcoming))))


@cache
def field_values(kind: type) -> Callable[[object], tuple]:
    """A function giving the values of a dataclass record's fields, in order, as a tuple."""
    names = [f.name for f in fields(kind)]
    if len(names) == 1:
        return lambda record: (getattr(record, names[0]),)
    return attrgetter(*names)


@dataclass(frozen=True, slots=True)
class CustomerDecisions:
    """One customer's decisions as remembered.

    Attributes:
        key: :func:`customer_key` of the inputs they were made from.
        due: one decision per due charge, in the order the charges are decided.
        upcoming: the advice-only decisions on upcoming charges, as (position among the customer's
            upcoming charges in decided order, decision).
    """

    key: bytes
    due: tuple[Remembered, ...]
    upcoming: tuple[tuple[int, Remembered], ...] = ()


@dataclass(frozen=True, slots=True)
class DecisionMemo:
    """The decisions of a run, per customer, with the keys they were computed under (picklable).

    Attributes:
        context: :func:`context_key` of the run (``None``: nothing in it may be reused).
        customers: by Customer ID (in an adjudication's ``pending`` memo, a customer it decided is a
            :class:`~sheetbill.decisions.Decided` until :func:`without_billed_shares` remembers it).
    """

    context: bytes | None = None
    customers: Mapping[str, CustomerDecisions] = field(default_factory=dict)

    def reusable(self, context: bytes | None) -> Mapping[str, CustomerDecisions]:
        """The customers' decisions that a run with ``context`` may reuse (none when the context differs)."""
        if context is None or self.context != context:
            return {}
        return self.customers


def without_billed_shares(memo: DecisionMemo, due: Mapping[str, Sequence[Charge]],
                          unbilled: Container[str], kept: Container[str] = frozenset()) -> DecisionMemo:
    """``memo`` with the shares of the decisions on billed charges left out: every due charge but the
    ``unbilled`` ones (Charge IDs, :attr:`sheetbill.billing.IssueReport.unbilled`); ``due``: each
    customer's due charges in the order they were decided (the order of its remembered decisions). The
    entries of the customers ``kept`` stay as they are (a run that billed nothing of theirs, see
    :func:`sheetbill.billing.issue`: the run that made them left the shares of what it billed out).

    Issuing asks a billed charge's decision for its charge amount, problems and advice only, which stay:
    the shares (most of a remembered decision's size: half the memory a run holds the memo in) are needed
    only when the charge is billed again, after its lines went missing, and then its customer is decided
    again (:class:`sheetbill.decisions.Decisions`). A customer whose decisions need no change keeps its
    entry, object for object, so its bucket keeps its bytes (:func:`packed`).

    The customers decided in this run (an adjudication's :attr:`~sheetbill.adjudication.Adjudicated.pending`
    holds them as :class:`~sheetbill.decisions.Decided`) are remembered here, the shares of their billed
    decisions never copied.
    """
    customers = dict(memo.customers)
    amount_only: dict[str, Remembered] = {}  # the decisions that are their charge amount alone, by its spelling

    def billed(amount: Decimal, rest: tuple) -> Remembered:
        if rest != _NOTHING_BUT_SHARES:
            return (amount, None, *rest)
        spelling = str(amount)  # 80.0 and 80.00 are equal, but not the same amount to write
        same = amount_only.get(spelling)
        if same is None:
            same = amount_only[spelling] = (amount, None, *_NOTHING_BUT_SHARES)
        return same  # one object: the memo pickles it once per bucket, and a run loads it once

    for customer_id, entry in memo.customers.items():
        if not isinstance(entry, CustomerDecisions):  # decided in this run
            customers[customer_id] = entry.remembered(unbilled, billed)
            continue
        if customer_id in kept:
            continue
        pairs = list(zip(due.get(customer_id, ()), entry.due, strict=True))
        if any(kept[1] is not None and charge.charge_id not in unbilled for charge, kept in pairs):
            customers[customer_id] = replace(entry, due=tuple(
                billed(kept[0], kept[2:]) if kept[1] is not None and charge.charge_id not in unbilled else kept
                for charge, kept in pairs))
    return DecisionMemo(memo.context, customers)


#: A remembered decision's fields after its shares when it has nothing but its amount and shares: not
#: held, no problems, no advice, no coverage gap (most billed charges).
_NOTHING_BUT_SHARES = (None, (), (), None)


_customer_values = field_values(Customer)
_coverage_values = field_values(Coverage)
_charge_values = field_values(Charge)
#: What a customer key is made of, in order (a different layout never gives an equal key).
_CUSTOMER_KEY = ("Customer", "Coverage", "Charge due", "Charge upcoming")


#: The run memo keeps the customers' decisions in this many buckets, by a CRC-32 of the Customer ID: a run
#: that decides a few customers again packs only their buckets anew and keeps the others' bytes.
PACK_BUCKETS = 256


@dataclass(frozen=True, slots=True)
class PackedDecisions:
    """A :class:`DecisionMemo` as the run memo keeps it: its context and, per bucket, the pickled list of
    (Customer ID, :class:`CustomerDecisions`) of the customers in it (:func:`packed`, :func:`unpacked`)."""

    format: int
    context: bytes | None
    buckets: tuple[bytes, ...]


#: What :func:`unpacked` saw, for :func:`packed` to keep a bucket's bytes: per bucket, its bytes and its
#: customers' decisions as unpacked.
Unpacked = tuple[tuple[bytes, dict[str, CustomerDecisions]], ...]


def _bucket(customer_id: str) -> int:
    return zlib.crc32(customer_id.encode("utf-8", "surrogatepass")) % PACK_BUCKETS


def packed(memo: DecisionMemo, earlier: Unpacked | None = None) -> PackedDecisions:
    """``memo`` packed for the run memo; a bucket whose customers are, object for object, those ``earlier``
    unpacked from it (the run reused every one of their decisions) keeps its bytes."""
    buckets: list[list[tuple[str, CustomerDecisions]]] = [[] for _ in range(PACK_BUCKETS)]
    for customer_id, entry in memo.customers.items():
        buckets[_bucket(customer_id)].append((customer_id, entry))
    out = []
    for index, members in enumerate(buckets):
        before = earlier[index] if earlier is not None and len(earlier) == PACK_BUCKETS else None
        if before is not None and len(before[1]) == len(members) and \
                all(before[1].get(customer_id) is entry for customer_id, entry in members):
            out.append(before[0])
        else:
            out.append(pack(members))
    return PackedDecisions(MEMO_FORMAT, memo.context, tuple(out))


def unpacked(kept: object) -> tuple[DecisionMemo, Unpacked] | None:
    """The :class:`DecisionMemo` that :func:`packed` made ``kept`` of, with what :func:`packed` needs to keep
    unchanged buckets; None when ``kept`` is no such thing or a bucket cannot be read."""
    if not isinstance(kept, PackedDecisions) or kept.format != MEMO_FORMAT or len(kept.buckets) != PACK_BUCKETS:
        return None
    customers: dict[str, CustomerDecisions] = {}
    seen = []
    try:
        for data in kept.buckets:
            members = dict(unpack(data))
            if not all(isinstance(key, str) and isinstance(entry, CustomerDecisions) for key, entry in members.items()):
                return None
            customers.update(members)
            seen.append((data, members))
    except Exception:  # noqa: BLE001 - a damaged memo costs the work it would have spared, nothing else
        return None
    return DecisionMemo(kept.context, customers), tuple(seen)
