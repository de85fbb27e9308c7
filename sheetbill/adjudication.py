"""Who pays what of each charge: coverage on the date of service, payer plugins, secondary payers.

:func:`adjudicate_all` walks every charge in date-of-service order (then Charge ID), finds the
coverages active on that date by priority, asks each payer's plugin (through the typed facade in
:mod:`sheetbill.plugins.manager`) for its decision, and keeps the year-to-date accumulators
(deductible, out-of-pocket, paid by payer) per customer and coverage. Every charge of the year is
adjudicated on every run, billed or not, so the accumulators, and therefore the answer for a late
entry, do not depend on when a charge was entered. Only unbilled charges are then invoiced.

The result for a charge is a :class:`Decision`: either the shares (one per paying party, the
customer last) that add up to the charge, or a hold (prior authorization missing, a plugin error,
a code mapping missing), never something in between. A charge held for prior authorization is
still counted in the accumulators, so that releasing it later gives it the answer it would have
had and the charges after it, billed meanwhile, have already left it its deductible.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from .book import Book
from .models import BillToType, Charge, Coverage, Payer
from .money import ZERO
from .plugins.manager import PluginError, Plugins
from .plugins.types import Adjudication, Claim, YearToDate
from .problems import Problem, error
from .tax import charge_gross_and_net


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


@dataclass(slots=True)
class Decision:
    """The outcome for one charge: shares, or why it is held.

    Attributes:
        charge: the charge.
        charge_amount: price x quantity, rounded, and with net prices in a taxed workbook its tax
            added: the gross amount the parties split.
        shares: one per paying party, payers by priority, the customer last; they add up (with the
            adjustment) to ``charge_amount``. Empty when held.
        held: why nothing of the charge is billed yet (``prior authorization``, ``plugin error``,
            ``code mapping missing``, ``payer plugin missing``, or ``upcoming`` for a charge dated
            after the as-of date that only carries advice); ``None`` when it can be billed.
        problems: what the clerk must fix before the charge can be billed.
        advice: sentences for the clerk about this customer.
        coverage_gap: for a charge no coverage was active for although the customer has coverage
            rows, what is wrong (``coverage ended 2026-03-31``).
    """

    charge: Charge
    charge_amount: Decimal
    shares: list[Share] = field(default_factory=list)
    held: str | None = None
    problems: list[Problem] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    coverage_gap: str | None = None


@dataclass(slots=True)
class _Totals:
    deductible: Decimal = ZERO
    out_of_pocket: Decimal = ZERO
    payer_paid: Decimal = ZERO


def listed_amount(book: Book, charge: Charge) -> Decimal:
    """Price (the charge's own, else the catalogue's) x quantity, rounded once: the charge as priced."""
    price = charge.price if charge.price is not None else book.services[charge.service_code].price
    return book.amounts.money(price * charge.quantity)


def charge_amount(book: Book, charge: Charge) -> Decimal:
    """What the parties split: the charge as priced, plus its tax when the workbook is taxed and
    prices are net (:func:`sheetbill.tax.charge_gross_and_net`). The split is always on gross amounts."""
    price = charge.price if charge.price is not None else book.services[charge.service_code].price
    listed = book.amounts.money(price * charge.quantity)  # listed_amount(), inline: once per charge
    if not book.taxes:
        return listed
    line_tax = book.taxes.get(charge.service_code)
    if line_tax is None or book.settings.prices_include_tax:
        return listed
    return book.amounts.money(charge_gross_and_net(listed, line_tax, False, book.settings.currency)[0])


def coverages_by_customer(book: Book) -> dict[str, list[Coverage]]:
    """Coverage rows per customer, by priority then row."""
    result: dict[str, list[Coverage]] = defaultdict(list)
    for coverage in sorted(book.coverage, key=lambda c: (c.priority, c.row)):
        result[coverage.customer_id].append(coverage)
    return result


class _PerService:
    """``map_code`` and ``needs_authorization`` answer from payer, service and Payer Codes row alone,
    so each plugin is asked once per payer and service in a run, not once per charge (a million
    charges would otherwise make two million identical plugin calls). A plugin error is remembered
    and raised again for every charge it concerns, so each such charge is still held with a Problem."""

    def __init__(self, plugins: Plugins):
        self.plugins = plugins
        self._answers: dict[tuple[str, str, str], object] = {}

    def _ask(self, hook: str, payer: Payer, service, payer_code):
        key = (hook, payer.payer_id, service.service_code)
        try:
            answer = self._answers[key]
        except KeyError:
            try:
                answer = getattr(self.plugins, hook)(payer.plugin, payer=payer, service=service,
                                                     payer_code=payer_code)
            except PluginError as err:
                answer = err
            self._answers[key] = answer
        if isinstance(answer, PluginError):
            raise answer
        return answer

    def map_code(self, payer: Payer, service, payer_code):
        """The cached :meth:`Plugins.map_code`."""
        return self._ask("map_code", payer, service, payer_code)

    def needs_authorization(self, payer: Payer, service, payer_code) -> bool:
        """The cached :meth:`Plugins.needs_authorization`."""
        return self._ask("needs_authorization", payer, service, payer_code)


def adjudicate_all(book: Book, plugins: Plugins, *, until: dt.date) -> dict[str, Decision]:
    """A decision for every charge dated on or before ``until``, by Charge ID.

    Charges dated after ``until`` are not billed yet. The first upcoming charge of a customer for a
    service whose payer requires prior authorization, and that has no Authorization No yet, gets an
    advice-only decision held as ``upcoming`` ("ask for authorization before the next MRI on ...").
    """
    by_customer = coverages_by_customer(book)
    totals: dict[tuple[str, int, int], _Totals] = defaultdict(_Totals)
    decisions: dict[str, Decision] = {}
    payer_problem: dict[str, Problem] = {}
    for payer in book.payers.values():
        if not plugins.has_payer_plugin(payer.plugin):
            payer_problem[payer.payer_id] = error(
                f"no installed plugin handles {payer.plugin!r} (installed: "
                f"{', '.join(plugins.payer_plugin_names())}); charges for this payer are held",
                "Payers", payer.row, "Plugin", code="payer-plugin-missing")
    upcoming: list[Charge] = []
    per_service = _PerService(plugins)
    for charge in sorted(book.charges, key=lambda c: (c.date, c.charge_id)):
        if charge.date > until:
            upcoming.append(charge)
            continue
        decisions[charge.charge_id] = _decide(book, plugins, per_service, charge,
                                              by_customer.get(charge.customer_id, []), totals, payer_problem)
    _advise_coverage_gaps(decisions.values())
    for decision in _advise_upcoming(book, plugins, upcoming, by_customer, payer_problem):
        decisions.setdefault(decision.charge.charge_id, decision)
    return decisions


def _role(position: int) -> str:
    return "primary" if position == 0 else ("secondary" if position == 1 else f"priority {position + 1}")


def _decide(book: Book, plugins: Plugins, per_service: _PerService, charge: Charge, coverages: list[Coverage],
            totals: dict[tuple[str, int, int], _Totals], payer_problem: dict[str, Problem]) -> Decision:
    """Rules 1-8 for one charge. The accumulators count it unless a payer could not answer."""
    amount = charge_amount(book, charge)
    decision = Decision(charge, amount)
    service = book.services[charge.service_code]
    active = [c for c in coverages if c.active_on(charge.date)]
    if not active:
        reason = "self-pay" if not coverages else "no coverage"
        if coverages:
            decision.coverage_gap = _coverage_gap(charge, coverages)
        decision.shares.append(Share(BillToType.CUSTOMER, charge.customer_id, amount, ZERO, reason,
                                     service.service_code))
        return decision
    left = amount  # what the customer still owes
    answered: list[_Answer] = []
    allowed: Decimal | None = None
    customer_reason = ""
    for position, coverage in enumerate(active):
        result = _ask_payer(book, plugins, per_service, decision, coverage, position, allowed, left, totals,
                            payer_problem)
        if result is None:
            return decision
        adjudication, billed_code = result
        if position == 0:
            allowed = amount - adjudication.adjustment
            pays, adjustment = adjudication.payer_share, adjudication.adjustment
            left = adjudication.customer_share
            customer_reason = adjudication.reason
        else:  # rule 7: what it would pay as primary, at most what the customer still owes
            pays, adjustment = min(adjudication.payer_share, left), ZERO
            left -= pays
        role = _role(position)
        share = Share(BillToType.PAYER, coverage.payer_id, pays, adjustment,
                      f"{role} ({adjudication.reason})" if adjudication.reason else role, billed_code,
                      coverage.member_id)
        answered.append(_Answer(coverage, share, adjudication, pays))
    _count_and_share(decision, answered, totals)
    if decision.held:
        return decision
    if left or not decision.shares:
        reason = customer_reason or "covered"
        if any(answer.pays for answer in answered[1:]):
            reason = f"{reason} (after secondary)"
        decision.shares.append(Share(BillToType.CUSTOMER, charge.customer_id, left, ZERO, reason,
                                     service.service_code))
    if sum((s.amount + s.adjustment for s in decision.shares), ZERO) != amount:  # pragma: no cover - invariant
        raise AssertionError(f"shares of charge {charge.charge_id} do not add up")
    return decision


@dataclass(frozen=True, slots=True)
class _Answer:
    """One payer's answer for a charge, before it is counted."""

    coverage: Coverage
    share: Share
    adjudication: Adjudication
    pays: Decimal


def _ask_payer(book: Book, plugins: Plugins, per_service: _PerService, decision: Decision, coverage: Coverage,
               position: int, allowed: Decimal | None, left: Decimal, totals: dict[tuple[str, int, int], _Totals],
               payer_problem: dict[str, Problem]) -> tuple[Adjudication, str] | None:
    """The payer's adjudication and billed code for the charge; ``None`` (the decision held, with a
    Problem) when the payer cannot answer: no plugin, no code mapping, a plugin error."""
    charge = decision.charge
    payer: Payer = book.payers[coverage.payer_id]
    service = book.services[charge.service_code]
    if payer.payer_id in payer_problem:
        decision.held = "payer plugin missing"
        decision.problems.append(error(f"charge {charge.charge_id} held: {payer_problem[payer.payer_id].message}",
                                       "Charges", charge.row, "Customer ID", code="payer-plugin-missing"))
        return None
    payer_code = book.payer_codes.get((payer.payer_id, service.service_code))
    try:
        billed = per_service.map_code(payer, service, payer_code)
        if billed is None:
            decision.held = "code mapping missing"
            decision.problems.append(error(
                f"charge {charge.charge_id} held: payer {payer.payer_id} uses code system "
                f"{payer.code_system!r} and has no Payer Code for service {service.service_code}: "
                "add it to Payer Codes", "Charges", charge.row, "Service Code", code="payer-code-missing"))
            return None
        if not charge.authorization_no and not decision.held and per_service.needs_authorization(
                payer, service, payer_code):
            # Held, but still adjudicated and counted in the accumulators: once the number is
            # entered the charge gets the answer it would have had, and later charges already
            # billed have counted its deductible (nothing is collected twice).
            decision.held = "prior authorization"
            decision.advice.append(
                f"charge {charge.charge_id} ({service.description}, {charge.date.isoformat()}) is held: "
                f"{payer.name} requires prior authorization; obtain it and enter the Authorization No")
        running = totals[(coverage.customer_id, coverage.row, charge.date.year)]
        claim = Claim(charge=charge, customer=book.customers[charge.customer_id], service=service, payer=payer,
                      coverage=coverage, payer_code=payer_code, charge_amount=decision.charge_amount,
                      allowed=allowed, patient_responsibility=None if position == 0 else left,
                      year_to_date=YearToDate(running.deductible, running.out_of_pocket, running.payer_paid),
                      currency=book.settings.currency, settings=book.settings)
        return plugins.adjudicate(payer.plugin, claim), billed.code
    except PluginError as err:
        decision.held = "plugin error"
        decision.problems.append(error(f"charge {charge.charge_id} held: {err}", "Charges", charge.row,
                                       "Service Code", code="plugin-error"))
        return None


def _count_and_share(decision: Decision, answered: list[_Answer], totals: dict[tuple[str, int, int], _Totals]
                     ) -> None:
    """Every payer answered: count the decision in each coverage's accumulators, then bill it unless it
    waits for prior authorization."""
    for answer in answered:
        running = totals[(answer.coverage.customer_id, answer.coverage.row, decision.charge.date.year)]
        running.deductible += answer.adjudication.deductible
        running.out_of_pocket += answer.adjudication.out_of_pocket_counted
        running.payer_paid += answer.pays
        if decision.held:
            continue
        decision.advice.extend(answer.adjudication.advice)
        if answer.share.amount or answer.share.adjustment:
            decision.shares.append(answer.share)


def _coverage_gap(charge: Charge, coverages: list[Coverage]) -> str:
    """What is wrong when none of the customer's coverage rows covers the date of service."""
    ended = [c.valid_to for c in coverages if c.valid_to and c.valid_to < charge.date]
    if ended:
        return f"coverage ended {max(ended).isoformat()}"
    starts = [c.valid_from for c in coverages if c.valid_from and c.valid_from > charge.date]
    return f"coverage starts {min(starts).isoformat()}"


def _advise_coverage_gaps(decisions: Iterable[Decision]) -> None:
    """One advice per customer and gap, listing the charges billed to the customer because of it."""
    groups: dict[tuple[str, str], list[Decision]] = defaultdict(list)
    for decision in decisions:
        if decision.coverage_gap:
            groups[(decision.charge.customer_id, decision.coverage_gap)].append(decision)
    for (_, gap), members in groups.items():
        members.sort(key=lambda d: (d.charge.date, d.charge.charge_id))
        first = members[0].charge
        if len(members) == 1:
            detail = f"charge {first.charge_id} of {first.date.isoformat()} is billed to the customer"
        else:
            ids = ", ".join(d.charge.charge_id for d in members)
            detail = f"charges {ids} from {first.date.isoformat()} on are billed to the customer"
        members[0].advice.append(f"{gap}: check the insurance card ({detail})")


def _advise_upcoming(book: Book, plugins: Plugins, upcoming: list[Charge],
                     by_customer: dict[str, list[Coverage]], payer_problem: dict[str, Problem]) -> list[Decision]:
    """Advice-only decisions: ask for authorization before the next charge that will need it."""
    seen: set[tuple[str, str, str]] = set()
    result: list[Decision] = []
    for charge in upcoming:  # in date order: the first one per customer, service and payer is "the next"
        if charge.authorization_no:
            continue
        service = book.services[charge.service_code]
        for coverage in by_customer.get(charge.customer_id, []):
            if not coverage.active_on(charge.date) or coverage.payer_id in payer_problem:
                continue
            payer = book.payers[coverage.payer_id]
            key = (charge.customer_id, service.service_code, payer.payer_id)
            if key in seen:
                continue
            payer_code = book.payer_codes.get((payer.payer_id, service.service_code))
            try:
                needed = plugins.needs_authorization(payer.plugin, payer=payer, service=service,
                                                     payer_code=payer_code)
            except PluginError:
                continue  # reported when the charge falls due
            if not needed:
                continue
            seen.add(key)
            result.append(Decision(charge, charge_amount(book, charge), held="upcoming", advice=[
                f"ask for authorization before the next {service.description} on {charge.date.isoformat()} "
                f"({payer.name} requires it; charge {charge.charge_id})"]))
            break
    return result
