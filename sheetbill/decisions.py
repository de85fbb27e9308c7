"""A charge's decision (:class:`Decision`: who pays which share of it, or why it is held) and the
decisions of a run (:class:`Decisions`), those remembered from the last run made only when asked for.

The adjudication (:mod:`sheetbill.adjudication`) decides each charge, or takes a customer's decisions
from the last run's memo (:mod:`sheetbill.decision_memo`) when none of its inputs changed. In the daily
click that is nearly every charge of the year, and most of them are billed already: issuing needs of
them only the charge amount (is the billed charge unchanged?) and the problems and advice, which the
memo holds as they are. So :class:`Decisions` keeps a remembered decision as the memo gives it, with
its charge, and makes the :class:`Decision` (its lists and shares) only when someone asks for it:
for the charges not billed yet. Asked for, it is the same decision either way.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter

from .decision_memo import CustomerDecisions, Remembered, field_values
from .i18n import Msg
from .models import Charge
from .problems import Problem


@dataclass(frozen=True, slots=True)
class Share:
    """What one party is billed for one charge.

    Attributes:
        bill_to_type: :class:`~sheetbill.models.BillToType`.
        bill_to_id: the payer's or the customer's ID.
        amount: the party's share.
        adjustment: contractual write-off recorded on this party's line (primary payer only).
        reason: why (see :class:`sheetbill.models.InvoiceLine`).
        billed_code: the code on this party's invoice (the payer's code system for payers).
        member_id: the customer's member ID with this payer.
    """

    bill_to_type: str
    bill_to_id: str
    amount: Decimal
    adjustment: Decimal
    reason: str
    billed_code: str
    member_id: str | None = None


_share_values = field_values(Share)


@dataclass(slots=True)
class Decision:
    """The outcome for one charge: shares, or why it is held.

    Attributes:
        charge: the charge.
        charge_amount: price x quantity, rounded, or the primary payer's fee (``sheetbill_charge_amount``);
            with net prices in a taxed workbook its tax added: the gross amount the parties split.
        shares: one per paying party, payers by priority, the customer last; they add up (with the
            adjustment) to ``charge_amount``. Empty when held.
        held: why nothing of the charge is billed yet (``prior authorization``, ``plugin error``,
            ``refused`` (a plugin refused it with a Problem on the charge's row),
            ``code mapping missing``, ``payer plugin missing``, or ``upcoming`` for a charge dated
            after the as-of date that only carries advice); ``None`` when it can be billed.
        problems: what the clerk must fix before the charge can be billed (:meth:`add_problem`).
        advice: sentences for the clerk about this customer (:meth:`add_advice`). Both are tuples, most
            of them the one empty tuple: two empty lists per decision were 10 MiB of what a first run
            held after issuing at 100,000 charges.
        coverage_gap: for a charge no coverage was active for although the customer has coverage
            rows, what is wrong (``coverage ended 2026-03-31``).
    """

    charge: Charge
    charge_amount: Decimal
    shares: list[Share] = field(default_factory=list)
    held: str | None = None
    problems: tuple[Problem, ...] = ()
    advice: tuple[Msg | str, ...] = ()
    coverage_gap: Msg | None = None

    def add_problem(self, problem: Problem) -> None:
        """Add ``problem`` to the decision's problems."""
        self.problems = (*self.problems, problem)

    def add_advice(self, *texts: Msg | str) -> None:
        """Add ``texts`` to the decision's advice."""
        self.advice = (*self.advice, *texts)


def as_remembered(decision: Decision) -> Remembered:
    """A decision without its charge, as plain immutable tuples (nothing a caller does to it changes the memo)."""
    return (decision.charge_amount, tuple(map(_share_values, decision.shares)), decision.held,
            tuple(decision.problems), tuple(decision.advice), decision.coverage_gap)


@dataclass(frozen=True, slots=True)
class Decided:
    """A customer decided in this run, before the memo remembers it: the key of its inputs, its decisions on
    due charges (the objects themselves, in the order they were decided) and its advice-only decisions on
    upcoming charges (remembered, with their positions).

    Its due decisions are remembered only once the invoices are issued (see
    :func:`sheetbill.decision_memo.without_billed_shares`), and then those on billed charges without their
    shares: made beside the decisions at once, a first run's memo held a copy of every share while it
    issued (at 100,000 charges 27 of the 180 MiB it held after issuing). Nothing changes a decision
    after it is made, so remembering it later remembers the same."""

    key: bytes
    due: Sequence[Decision]
    upcoming: tuple[tuple[int, Remembered], ...] = ()

    def remembered(self, unbilled: Container[str] | None = None,
                   billed: Callable[[Decimal, tuple], Remembered] | None = None) -> CustomerDecisions:
        """The memo's entry: every due decision :func:`as_remembered`; with ``billed``, those on charges not
        ``unbilled`` (Charge IDs) are ``billed(charge amount, the fields after the shares)`` instead."""
        if billed is None or unbilled is None:
            return CustomerDecisions(self.key, tuple(map(as_remembered, self.due)), self.upcoming)
        return CustomerDecisions(self.key, tuple(
            as_remembered(decision) if decision.charge.charge_id in unbilled
            else billed(decision.charge_amount, (decision.held, tuple(decision.problems), tuple(decision.advice),
                                                 decision.coverage_gap))
            for decision in self.due), self.upcoming)


def restore(kept: Remembered, charge: Charge, shares: dict[tuple, Share]) -> Decision:
    """A remembered decision bound to this run's charge (equal to the one it was made for), with a new list of shares.
    ``shares`` holds the Share made of each tuple so far (equal shares are frozen: one object serves all)."""
    amount, values, held, problems, advice, gap = kept
    made = []
    for share in values:
        try:
            made.append(shares[share])
        except KeyError:
            made.append(shares.setdefault(share, Share(*share)))
    return Decision(charge, amount, made, held, problems, advice, gap)


_charge_id = attrgetter("charge_id")


class Decisions(Mapping[str, Decision]):
    """The decisions of a run by Charge ID, in the order they were added (:meth:`add`, :meth:`add_kept`).

    A decision added as remembered (:meth:`add_kept`) is made (:func:`restore`) the first time it is
    looked up, and is that object from then on. :meth:`charge_amount`, :meth:`problems` and
    :meth:`advice` answer without making any. A decision remembered without its shares (its charge was
    billed, see :func:`sheetbill.decision_memo.without_billed_shares`) is made by deciding its customer
    again (``decide``: a Customer ID in, the decisions on its due charges out), as a run without the
    memo would: a billed charge is asked for only when its lines went missing.
    """

    __slots__ = ("_decide", "_entries", "_shares")

    def __init__(self, decide: Callable[[str], list[Decision]] | None = None) -> None:
        self._entries: dict[str, Decision | tuple[Remembered, Charge] | None] = {}
        self._shares: dict[tuple, Share] = {}
        self._decide = decide

    def reserve(self, charge_ids: Iterable[str]) -> None:
        """Give each of ``charge_ids`` its place in the order; their decisions are added later."""
        self._entries.update(dict.fromkeys(charge_ids))

    def add(self, decision: Decision) -> None:
        """``decision``, under its charge's ID (in that ID's place when it has one)."""
        self._entries[decision.charge.charge_id] = decision

    def add_kept(self, kept: Sequence[Remembered], charges: Sequence[Charge]) -> None:
        """The decisions remembered as ``kept`` for ``charges``, one for one (each equal to the one it was
        made for)."""
        if len(kept) != len(charges):
            raise ValueError(f"{len(kept)} decisions remembered for {len(charges)} charges")
        self._entries.update(zip(map(_charge_id, charges), zip(kept, charges, strict=True), strict=True))

    def __getitem__(self, charge_id: str) -> Decision:
        entry = self._entries[charge_id]
        if type(entry) is tuple:
            kept, charge = entry
            if kept[1] is None:
                self._decide_again(charge.customer_id)
                entry = self._entries[charge_id]
                if type(entry) is tuple:
                    raise LookupError(f"deciding {charge.customer_id!r} again gave no decision on {charge_id!r}")
            else:
                entry = self._entries[charge_id] = restore(kept, charge, self._shares)
        if entry is None:
            raise KeyError(charge_id)
        return entry  # type: ignore[return-value]

    def _decide_again(self, customer_id: str) -> None:
        """Decide ``customer_id``'s due charges again, for the decisions whose shares were not kept."""
        if self._decide is None:
            raise LookupError(f"the decisions of {customer_id!r} were kept without their shares and cannot be made")
        for decision in self._decide(customer_id):
            if type(self._entries.get(decision.charge.charge_id)) is tuple:
                self._entries[decision.charge.charge_id] = decision

    def __contains__(self, charge_id: object) -> bool:
        return self._entries.get(charge_id) is not None  # type: ignore[call-overload]

    def __iter__(self) -> Iterator[str]:
        return (charge_id for charge_id, entry in self._entries.items() if entry is not None)

    def __len__(self) -> int:
        return sum(entry is not None for entry in self._entries.values())

    def decided(self, charge_id: str) -> tuple[Charge, Decimal] | None:
        """The charge ``charge_id``'s decision was made for and its charge amount (None when it has no
        decision); one lookup, no decision made."""
        entry = self._entries.get(charge_id)
        if entry is None:
            return None
        return (entry[1], entry[0][0]) if type(entry) is tuple else (entry.charge, entry.charge_amount)

    def problems(self) -> list[Problem]:
        """Every decision's problems, decision by decision."""
        found: list[Problem] = []
        for entry in self._entries.values():
            if type(entry) is tuple:
                if entry[0][3]:  # most have none: nothing is made for them
                    found.extend(entry[0][3])
            elif entry is not None:
                found.extend(entry.problems)
        return found

    def advice(self) -> list[tuple[str, Msg | str]]:
        """Every decision's advice, decision by decision, each with its charge's Customer ID."""
        found: list[tuple[str, Msg | str]] = []
        for entry in self._entries.values():
            if type(entry) is tuple:
                if entry[0][4]:  # most have none: nothing is made for them
                    found.extend((entry[1].customer_id, text) for text in entry[0][4])
            elif entry is not None:
                found.extend((entry.charge.customer_id, text) for text in entry.advice)
        return found
