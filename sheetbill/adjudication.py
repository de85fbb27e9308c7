"""Who pays what of each charge: coverage on the date of service, payer plugins, secondary payers.

:func:`adjudicate_all` walks every charge in date-of-service order (then Charge ID), finds the
coverages active on that date by priority, asks each payer's plugin (through the typed facade in
:mod:`sheetbill.plugins.manager`) for its decision, and keeps the year-to-date accumulators
(deductible, out-of-pocket, paid by payer) per customer and coverage. Every charge of the year is
adjudicated on every run, billed or not, so the accumulators, and therefore the answer for a late
entry, do not depend on when a charge was entered. Only unbilled charges are then invoiced.

The result for a charge is a :class:`Decision`: either the shares (one per paying party, the
customer last) that add up to the charge, or a hold (prior authorization missing, a plugin error,
a code mapping missing), never something in between.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from .book import Book
from .models import Charge, Coverage, Payer
from .money import ZERO, quantize
from .plugins.manager import PluginError, Plugins
from .plugins.types import Claim, YearToDate
from .problems import Problem, error


@dataclass(frozen=True)
class Share:
    """What one party is billed for one charge.

    Attributes:
        bill_to_type: ``Payer`` or ``Customer``.
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


@dataclass
class Decision:
    """The outcome for one charge: shares, or why it is held."""

    charge: Charge
    charge_amount: Decimal
    shares: list[Share] = field(default_factory=list)
    held: str | None = None
    problems: list[Problem] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)


@dataclass
class _Totals:
    deductible: Decimal = ZERO
    out_of_pocket: Decimal = ZERO
    payer_paid: Decimal = ZERO


def charge_amount(book: Book, charge: Charge) -> Decimal:
    """Price (the charge's own, else the catalogue's) x quantity, rounded once: the line amount."""
    price = charge.price if charge.price is not None else book.services[charge.service_code].price
    return quantize(price * charge.quantity, book.settings.currency)


def coverages_by_customer(book: Book) -> dict[str, list[Coverage]]:
    """Coverage rows per customer, by priority then row."""
    result: dict[str, list[Coverage]] = defaultdict(list)
    for coverage in sorted(book.coverage, key=lambda c: (c.priority, c.row)):
        result[coverage.customer_id].append(coverage)
    return result


def adjudicate_all(book: Book, plugins: Plugins, *, until: dt.date) -> dict[str, Decision]:
    """A decision for every charge dated on or before ``until``, by Charge ID."""
    by_customer = coverages_by_customer(book)
    totals: dict[tuple[str, int, int], _Totals] = defaultdict(_Totals)
    decisions: dict[str, Decision] = {}
    payer_problem: dict[str, Problem] = {}
    for payer in book.payers.values():
        if not plugins.has_payer_plugin(payer.plugin):
            payer_problem[payer.payer_id] = error(
                f"no installed plugin handles {payer.plugin!r} (installed: "
                f"{', '.join(plugins.payer_plugin_names())}); charges for this payer are held",
                "Payers", payer.row, "Plugin")
    for charge in sorted(book.charges, key=lambda c: (c.date, c.charge_id)):
        if charge.date > until:
            continue
        decisions[charge.charge_id] = _decide(book, plugins, charge, by_customer.get(charge.customer_id, []),
                                              totals, payer_problem)
    return decisions


def _decide(book: Book, plugins: Plugins, charge: Charge, coverages: list[Coverage],
            totals: dict[tuple[str, int, int], _Totals], payer_problem: dict[str, Problem]) -> Decision:
    amount = charge_amount(book, charge)
    decision = Decision(charge, amount)
    customer = book.customers[charge.customer_id]
    service = book.services[charge.service_code]
    active = [c for c in coverages if c.active_on(charge.date)]
    if not active:
        reason = "self-pay" if not coverages else "no coverage"
        if coverages:
            decision.advice.append(_coverage_gap(charge, coverages))
        decision.shares.append(Share("Customer", customer.customer_id, amount, ZERO, reason, service.service_code))
        return decision
    left = amount  # what the customer still owes
    pending: list[tuple[Coverage, Share, Decimal, Decimal, Decimal]] = []
    allowed: Decimal | None = None
    customer_reason = ""
    for position, coverage in enumerate(active):
        payer: Payer = book.payers[coverage.payer_id]
        if payer.payer_id in payer_problem:
            decision.held = "payer plugin missing"
            decision.problems.append(error(f"charge held: {payer_problem[payer.payer_id].message}",
                                           "Charges", charge.row, "Customer ID"))
            return decision
        payer_code = book.payer_codes.get((payer.payer_id, service.service_code))
        try:
            billed = plugins.map_code(payer.plugin, payer=payer, service=service, payer_code=payer_code)
            if billed is None:
                decision.held = "code mapping missing"
                decision.problems.append(error(
                    f"payer {payer.payer_id} uses code system {payer.code_system!r} and has no Payer Code for "
                    f"service {service.service_code}: add it to Payer Codes", "Charges", charge.row, "Service Code"))
                return decision
            if plugins.needs_authorization(payer.plugin, payer=payer, service=service, payer_code=payer_code) \
                    and not charge.authorization_no:
                decision.held = "prior authorization"
                decision.advice.append(
                    f"charge {charge.charge_id} ({service.description}, {charge.date}) is held: payer "
                    f"{payer.name} requires prior authorization; obtain it and enter the Authorization No")
                return decision
            key = (coverage.customer_id, coverage.row, charge.date.year)
            running = totals[key]
            claim = Claim(charge=charge, customer=customer, service=service, payer=payer, coverage=coverage,
                          payer_code=payer_code, charge_amount=amount, allowed=allowed,
                          patient_responsibility=None if position == 0 else left,
                          year_to_date=YearToDate(running.deductible, running.out_of_pocket, running.payer_paid),
                          currency=book.settings.currency, settings=book.settings)
            result = plugins.adjudicate(payer.plugin, claim)
        except PluginError as err:
            decision.held = "plugin error"
            decision.problems.append(error(f"charge held: {err}", "Charges", charge.row, "Service Code"))
            return decision
        decision.advice.extend(result.advice)
        if position == 0:
            allowed = amount - result.adjustment
            pays, adjustment = result.payer_share, result.adjustment
            left = result.customer_share
            customer_reason = result.reason
        else:
            pays, adjustment = min(result.payer_share, left), ZERO
            left -= pays
        role = "primary" if position == 0 else ("secondary" if position == 1 else f"priority {position + 1}")
        pending.append((coverage, Share("Payer", payer.payer_id, pays, adjustment, role, billed.code,
                                        coverage.member_id), result.deductible, result.customer_share, pays))
    for coverage, share, deductible, customer_share, pays in pending:
        running = totals[(coverage.customer_id, coverage.row, charge.date.year)]
        running.deductible += deductible
        running.out_of_pocket += customer_share
        running.payer_paid += pays
        if share.amount or share.adjustment:
            decision.shares.append(share)
    if left or not decision.shares:
        reason = customer_reason if len(pending) == 1 or not customer_reason else \
            f"{customer_reason} (after secondary)"
        decision.shares.append(Share("Customer", customer.customer_id, left, ZERO, reason or "covered",
                                     service.service_code))
    if sum((s.amount + s.adjustment for s in decision.shares), ZERO) != amount:  # pragma: no cover - invariant
        raise AssertionError(f"shares of charge {charge.charge_id} do not add up")
    return decision


def _coverage_gap(charge: Charge, coverages: list[Coverage]) -> str:
    """Advice for a charge outside every coverage period of the customer."""
    ended = [c.valid_to for c in coverages if c.valid_to and c.valid_to < charge.date]
    if ended:
        return (f"coverage ended {max(ended).isoformat()}: check the insurance card "
                f"(charge {charge.charge_id} of {charge.date.isoformat()} is billed to the customer)")
    starts = [c.valid_from for c in coverages if c.valid_from and c.valid_from > charge.date]
    return (f"coverage starts {min(starts).isoformat()}: check the insurance card "
            f"(charge {charge.charge_id} of {charge.date.isoformat()} is billed to the customer)")

