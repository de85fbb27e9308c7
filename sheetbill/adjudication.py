"""Who pays what of each charge: coverage on the date of service, payer plugins, secondary payers.

:func:`adjudicate_all` walks every charge in date-of-service order (then Charge ID), finds the
coverages active on that date by priority, asks each payer's plugin (through the typed facade in
:mod:`sheetbill.plugins.manager`) for its decision, and keeps the year-to-date accumulators
(deductible, out-of-pocket, paid by payer) per customer and coverage. Every charge of the year is
adjudicated on every run, billed or not, so the accumulators, and therefore the answer for a late
entry, do not depend on when a charge was entered. Only unbilled charges are then invoiced. Given
the previous run's :class:`~sheetbill.decision_memo.DecisionMemo`, a customer none of whose inputs
changed keeps its remembered decisions instead of being decided again: the same decisions, cheaper.

The result for a charge is a :class:`Decision`: either the shares (one per paying party, the
customer last) that add up to the charge, or a hold (prior authorization missing, a plugin error,
a code mapping missing), never something in between. A charge held for prior authorization is
still counted in the accumulators, so that releasing it later gives it the answer it would have
had and the charges after it, billed meanwhile, have already left it its deductible.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from operator import attrgetter

from .book import Book
from .decision_memo import CustomerDecisions, DecisionMemo, Remembered, context_key, customer_key
from .decisions import Decided, Decision, Decisions, Share, as_remembered
from .i18n import Msg, msg
from .models import BillToType, Charge, Coverage, Payer, PayerType, SecondaryMethod
from .money import ZERO
from .plugins.manager import PluginError, Plugins, Refused
from .plugins.types import Adjudication, Claim, YearToDate
from .problems import Problem, error
from .tax import charge_gross_and_net

_charge_id = attrgetter("charge_id")
#: The order charges are decided in (Charge IDs are unique among the charges billed).
_date_and_id = attrgetter("date", "charge_id")


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


@dataclass(frozen=True, slots=True)
class Adjudicated:
    """What :func:`adjudicate_all` decided.

    Attributes:
        decisions: by Charge ID: the due charges in date-of-service order (then Charge ID), then the
            advice-only decisions on upcoming charges; in a ``settled`` run, of the customers ``reused``
            only those with problems or advice.
        pending: the decisions per customer with their keys, for the next run (:mod:`sheetbill.decision_memo`):
            those of the customers decided in this run as :class:`~sheetbill.decisions.Decided`, remembered
            by :func:`~sheetbill.decision_memo.without_billed_shares` once the invoices are issued.
        customers_decided: customers decided in this run (the others' decisions came from the memo).
        customers_reused: customers whose decisions came from the memo.
        reused: their Customer IDs.
        due: each customer's due charges in the order they were decided (the order of its decisions in
            the memo), by Customer ID.
    """

    decisions: Decisions
    pending: DecisionMemo
    customers_decided: int = 0
    customers_reused: int = 0
    due: Mapping[str, list[Charge]] = field(default_factory=dict)
    reused: frozenset[str] = frozenset()

    @property
    def memo(self) -> DecisionMemo:
        """The memo with every decision remembered, shares and all (a run keeps :attr:`pending` instead,
        through :func:`~sheetbill.decision_memo.without_billed_shares`)."""
        return DecisionMemo(self.pending.context, {
            customer_id: entry if isinstance(entry, CustomerDecisions) else entry.remembered()
            for customer_id, entry in self.pending.customers.items()})


def adjudicate_all(book: Book, plugins: Plugins, *, until: dt.date, memo: DecisionMemo | None = None,
                   remember: bool = True, settled: bool = False) -> Adjudicated:
    """A decision for every charge dated on or before ``until``, by Charge ID, and the memo for the next run.

    Charges dated after ``until`` are not billed yet. The first upcoming charge of a customer for a
    service whose payer requires prior authorization, and that has no Authorization No yet, gets an
    advice-only decision held as ``upcoming`` ("ask for authorization before the next MRI on ...").

    Every input of a decision is either the customer's own (its row, coverage rows and charges) or
    shared by all (settings, services, payers, plugins, ``until``: see :mod:`sheetbill.decision_memo`),
    so customers are decided one by one. With ``memo`` (the previous run's), a customer whose own
    inputs and the shared ones are unchanged is not decided again: its decisions are the memo's, bound
    to this run's charges. The decisions are the same with or without a memo, provided each payer
    plugin answers the same claim alike while its version stays the same. With ``remember`` False and no
    ``memo`` (nobody keeps the memo), no keys are computed and the memo returned is empty.

    ``settled``: nothing will look at the decisions of the customers whose decisions come from the memo
    but for their problems and advice (their charges are as the run that made them left them, see
    :func:`sheetbill.billing.issue`), so of theirs only the decisions with problems or advice are given,
    in their places (a daily click does not make a million of them).
    """
    by_customer = coverages_by_customer(book)
    payer_problem = _payer_problems(book, plugins)
    due: dict[str, list[Charge]] = defaultdict(list)
    upcoming: dict[str, list[Charge]] = defaultdict(list)
    later_all: list[Charge] = []
    per_service = _PerService(plugins)

    def decide_again(customer_id: str) -> list[Decision]:
        made, _ = _decide_customer(book, plugins, per_service, due.get(customer_id, []),
                                   upcoming.get(customer_id, []), by_customer.get(customer_id, []), payer_problem)
        return made

    decisions = Decisions(decide_again)  # every due charge in the order they are decided, filled in below
    in_order = sorted(book.charges, key=attrgetter("charge_id"))
    in_order.sort(key=attrgetter("date"))  # stable: by Charge ID within a date (no tuple made per charge)
    for charge in in_order:
        if charge.date > until:
            upcoming[charge.customer_id].append(charge)
            later_all.append(charge)
        else:
            due[charge.customer_id].append(charge)
    context = context_key(book, plugins, until) if remember or memo is not None else b""
    previous = memo.reusable(context) if memo is not None else {}
    keys: dict[str, bytes] = {}
    reused: dict[str, CustomerDecisions] = {}
    for customer_id in dict.fromkeys([*due, *upcoming]):
        key = keys[customer_id] = customer_key(book.customers.get(customer_id), by_customer.get(customer_id, []),
                                               due.get(customer_id, []), upcoming.get(customer_id, [])) \
            if context else b""
        entry = previous.get(customer_id)
        if entry is not None and entry.key == key:
            reused[customer_id] = entry
    telling = _with_problems_or_advice(reused, due) if settled else None
    if telling is None:
        decisions.reserve(charge.charge_id for charge in in_order if charge.date <= until)  # their order
    else:  # the few charges given a decision, in the same order
        given = [charge for customer_id, charges in due.items() if customer_id not in reused for charge in charges]
        given += [charge for pairs in telling.values() for _, charge in pairs]
        given.sort(key=_date_and_id)
        decisions.reserve(map(_charge_id, given))
    advised: dict[str, Decision | tuple] = {}
    remembered: dict[str, CustomerDecisions | Decided] = {}
    decided = 0
    for customer_id, key in keys.items():
        charges, later = due.get(customer_id, []), upcoming.get(customer_id, [])
        coverages = by_customer.get(customer_id, [])
        entry = reused.get(customer_id)
        if entry is not None:
            if telling is None:
                decisions.add_kept(entry.due, charges)
            elif telling.get(customer_id):
                decisions.add_kept(*zip(*telling[customer_id], strict=True))
            for position, kept in entry.upcoming:
                advised[later[position].charge_id] = (kept, later[position])
        else:
            decided += 1
            made, advice = _decide_customer(book, plugins, per_service, charges, later, coverages, payer_problem)
            for decision in made:
                decisions.add(decision)
            for decision in advice:
                advised[decision.charge.charge_id] = decision
            if context:
                where = {charge.charge_id: position for position, charge in enumerate(later)}
                entry = Decided(key, made, tuple((where[d.charge.charge_id], as_remembered(d)) for d in advice))
        if context and entry is not None:
            remembered[customer_id] = entry
    for charge in later_all:
        made_or_kept = advised.get(charge.charge_id)
        if made_or_kept is not None and charge.charge_id not in decisions:
            if isinstance(made_or_kept, tuple):
                decisions.add_kept([made_or_kept[0]], [made_or_kept[1]])
            else:
                decisions.add(made_or_kept)
    return Adjudicated(decisions, DecisionMemo(context, remembered), decided, len(reused), due, frozenset(reused))


def _with_problems_or_advice(reused: Mapping[str, CustomerDecisions], due: Mapping[str, list[Charge]]
                             ) -> dict[str, list[tuple[Remembered, Charge]]]:
    """Of each customer ``reused``, its remembered decisions with problems or advice, each with its due charge."""
    found: dict[str, list[tuple[Remembered, Charge]]] = {}
    for customer_id, entry in reused.items():
        pairs = [(kept, charge) for kept, charge in zip(entry.due, due.get(customer_id, ()), strict=True)
                 if kept[3] or kept[4]]
        if pairs:
            found[customer_id] = pairs
    return found


def _payer_problems(book: Book, plugins: Plugins) -> dict[str, Problem]:
    """A Problem for every payer no installed plugin handles, by Payer ID (its charges are held)."""
    payer_problem: dict[str, Problem] = {}
    for payer in book.payers.values():
        if not plugins.has_payer_plugin(payer.plugin):
            payer_problem[payer.payer_id] = error(
                msg("no installed plugin handles {plugin} (installed: {installed}); charges for this payer are held",
                    plugin=repr(payer.plugin), installed=", ".join(plugins.payer_plugin_names())),
                "Payers", payer.row, "Plugin", code="payer-plugin-missing")
    return payer_problem


def _decide_customer(book: Book, plugins: Plugins, per_service: _PerService, due: list[Charge],
                     upcoming: list[Charge], coverages: list[Coverage], payer_problem: dict[str, Problem]
                     ) -> tuple[list[Decision], list[Decision]]:
    """One customer's decisions on its due charges (in the order they are decided, with their own
    year-to-date accumulators) and its advice-only decisions on upcoming ones."""
    totals: dict[tuple[str, int, int], _Totals] = defaultdict(_Totals)
    decisions = [_decide(book, plugins, per_service, charge, coverages, totals, payer_problem) for charge in due]
    if coverages:  # a gap needs coverage rows
        _advise_coverage_gaps(decisions)
    if not upcoming or not coverages:
        return decisions, []
    return decisions, _advise_upcoming(book, plugins, upcoming, {upcoming[0].customer_id: coverages}, payer_problem)


def _role(position: int) -> str:
    return "primary" if position == 0 else ("secondary" if position == 1 else f"priority {position + 1}")


def _decide(book: Book, plugins: Plugins, per_service: _PerService, charge: Charge, coverages: list[Coverage],
            totals: dict[tuple[str, int, int], _Totals], payer_problem: dict[str, Problem]) -> Decision:
    """Rules 1-8 for one charge. The accumulators count it unless a payer could not answer."""
    amount = charge_amount(book, charge)
    decision = Decision(charge, amount)
    service = book.services[charge.service_code]
    active = [c for c in coverages if c.active_on(charge.date)]
    if active and active[0].payer_id not in payer_problem:
        priced = _fee_schedule_amount(book, plugins, decision, active[0])
        if decision.held:
            return decision
        if priced is not None:
            amount = decision.charge_amount = priced
    if not active:
        reason = "self-pay" if not coverages else "no coverage"
        if coverages:
            decision.coverage_gap = _coverage_gap(charge, coverages, book.payers)
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
        payer = book.payers[coverage.payer_id]
        if position == 0:
            allowed = amount - adjudication.adjustment
            pays, adjustment = adjudication.payer_share, adjudication.adjustment
            left = adjudication.customer_share
            customer_reason = adjudication.reason
            if payer.balance_billing and adjustment:  # out of network: the customer owes the rest
                left, adjustment = left + adjustment, ZERO
                customer_reason = f"{customer_reason} + {BALANCE_BILLING}" if customer_reason and \
                    adjudication.customer_share else BALANCE_BILLING
        else:
            paid_before = sum((answer.pays for answer in answered), ZERO)
            pays, left, write_off = _secondary_payment(payer, adjudication, amount, allowed, paid_before, left)
            adjustment = ZERO
            if write_off is not None:  # medicare-secondary: the write-off follows the higher allowed amount
                first = answered[0]
                answered[0] = _Answer(first.coverage, replace(first.share, adjustment=write_off),
                                      first.adjudication, first.pays)
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


#: The customer's reason for the part of a charge above a balance-billing payer's allowed amount.
BALANCE_BILLING = "balance billing (above the allowed amount)"


def _secondary_payment(payer: Payer, own: Adjudication, amount: Decimal, primary_allowed: Decimal,
                       paid_before: Decimal, left: Decimal) -> tuple[Decimal, Decimal, Decimal | None]:
    """What a secondary (or later) payer pays under its Secondary Method, what the customer then owes,
    and the charge's new write-off (``None``: unchanged).

    ``own`` is the payer's answer: for ``standard`` on the primary's allowed amount, for the other
    methods as if it were the primary (its own allowed amount and benefit). ``paid_before`` is what
    the payers before it paid, ``left`` what the customer still owes.

    * ``standard``: its benefit, at most what the customer owes.
    * ``non-duplication``: its benefit minus what was paid before, at most what the customer owes.
    * ``medicare-secondary`` (42 CFR 411.33 (a)): the lowest of the charge minus what was paid
      before, its benefit as primary, and the higher of the two allowed amounts minus what was paid
      before. The customer owes what the higher allowed amount leaves, never more than before; the
      rest of the charge is written off.
    """
    method = payer.secondary_method or SecondaryMethod.STANDARD
    if method == SecondaryMethod.STANDARD:
        pays = min(own.payer_share, left)
        return pays, left - pays, None
    if method == SecondaryMethod.NON_DUPLICATION:
        pays = min(max(ZERO, own.payer_share - paid_before), left)
        return pays, left - pays, None
    highest = max(amount - own.adjustment, primary_allowed)
    pays = max(ZERO, min(amount - paid_before, own.payer_share, highest - paid_before))
    owed = max(ZERO, min(left, highest - paid_before - pays))
    return pays, owed, amount - paid_before - pays - owed


def _fee_schedule_amount(book: Book, plugins: Plugins, decision: Decision, primary: Coverage) -> Decimal | None:
    """The charge's amount under its primary payer's fee schedule (``sheetbill_charge_amount``), or
    ``None`` for price x quantity; a refusal or plugin error holds the decision with a Problem."""
    charge = decision.charge
    payer = book.payers[primary.payer_id]
    service = book.services[charge.service_code]
    try:
        return plugins.charge_amount(payer.plugin, charge=charge, service=service, payer=payer,
                                     payer_code=book.payer_codes.get((payer.payer_id, service.service_code)),
                                     settings=book.settings)
    except PluginError as err:
        _hold_for(decision, err)
        return None


def _hold_for(decision: Decision, err: PluginError) -> None:
    """Hold the decision with the Problem a plugin's refusal or failure makes."""
    charge = decision.charge
    if isinstance(err, Refused):
        decision.held = "refused"
        decision.add_problem(error(msg("charge {charge_id} held: {problem}", charge_id=charge.charge_id,
                                       problem=str(err)), "Charges", charge.row, err.column,
                                   code="claim-refused"))
    else:
        decision.held = "plugin error"
        decision.add_problem(error(msg("charge {charge_id} held: {problem}", charge_id=charge.charge_id,
                                       problem=str(err)), "Charges", charge.row, "Service Code",
                                   code="plugin-error"))


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
        decision.add_problem(error(msg("charge {charge_id} held: {problem}", charge_id=charge.charge_id,
                                       problem=_text(payer_problem[payer.payer_id])),
                                   "Charges", charge.row, "Customer ID", code="payer-plugin-missing"))
        return None
    payer_code = book.payer_codes.get((payer.payer_id, service.service_code))
    try:
        billed = per_service.map_code(payer, service, payer_code)
        if billed is None:
            decision.held = "code mapping missing"
            decision.add_problem(error(
                msg("charge {charge_id} held: payer {payer_id} uses code system {code_system} and has no Payer "
                    "Code for service {service}: add it to Payer Codes", charge_id=charge.charge_id,
                    payer_id=payer.payer_id, code_system=repr(payer.code_system), service=service.service_code),
                "Charges", charge.row, "Service Code", code="payer-code-missing"))
            return None
        if not charge.authorization_no and not decision.held and per_service.needs_authorization(
                payer, service, payer_code):
            # Held, but still adjudicated and counted in the accumulators: once the number is
            # entered the charge gets the answer it would have had, and later charges already
            # billed have counted its deductible (nothing is collected twice).
            decision.held = "prior authorization"
            decision.add_advice(
                msg("charge {charge_id} ({service}, {date}) is held: {payer} requires prior authorization; obtain "
                    "it and enter the Authorization No", charge_id=charge.charge_id, service=service.description,
                    date=charge.date, payer=payer.name))
        running = totals[(coverage.customer_id, coverage.row, charge.date.year)]
        as_primary = position == 0 or (payer.secondary_method or SecondaryMethod.STANDARD) != \
            SecondaryMethod.STANDARD  # the other methods start from the payer's own benefit as primary
        claim = Claim(charge=charge, customer=book.customers[charge.customer_id], service=service, payer=payer,
                      coverage=coverage, payer_code=payer_code, charge_amount=decision.charge_amount,
                      allowed=None if as_primary else allowed, patient_responsibility=None if as_primary else left,
                      year_to_date=YearToDate(running.deductible, running.out_of_pocket, running.payer_paid),
                      currency=book.settings.currency, settings=book.settings)
        return plugins.adjudicate(payer.plugin, claim), billed.code
    except PluginError as err:
        _hold_for(decision, err)
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
        decision.add_advice(*answer.adjudication.advice)
        if answer.share.amount or answer.share.adjustment:
            decision.shares.append(answer.share)


def _text(problem: Problem) -> Msg | str:
    """A Problem's message as a sentence that can be part of another."""
    return problem.text if problem.text is not None else problem.message


#: What the clerk checks when a customer's cover has a gap, by the payer's Type: only an insurer
#: issues an insurance card.
_CHECK_COVER = {
    PayerType.INSURER: msg("check the insurance card"),
    PayerType.GOVERNMENT: msg("check the customer's entitlement with the programme"),
    PayerType.EMPLOYER: msg("check with the employer whether the customer is still covered"),
    PayerType.OTHER: msg("check who pays for the customer now"),
}


def _coverage_gap(charge: Charge, coverages: list[Coverage], payers: Mapping[str, Payer]) -> Msg:
    """What is wrong when none of the customer's coverage rows covers the date of service, and what to
    check (worded for the type of the payer whose cover ended or has not begun)."""
    ended = [c for c in coverages if c.valid_to and c.valid_to < charge.date]
    if ended:
        last = max(ended, key=lambda c: c.valid_to or charge.date)
        gap = msg("coverage ended {date}", date=last.valid_to)
    else:
        last = min((c for c in coverages if c.valid_from and c.valid_from > charge.date),
                   key=lambda c: c.valid_from or charge.date)
        gap = msg("coverage starts {date}", date=last.valid_from)
    payer = payers.get(last.payer_id)
    kind = payer.type if payer is not None and payer.type in _CHECK_COVER else PayerType.OTHER
    return msg("{gap}: {check}", gap=gap, check=_CHECK_COVER[PayerType(kind)])


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
            detail = msg("charge {charge_id} of {date} is billed to the customer", charge_id=first.charge_id,
                         date=first.date)
        else:
            ids = ", ".join(d.charge.charge_id for d in members)
            detail = msg("charges {charge_ids} from {date} on are billed to the customer", charge_ids=ids,
                         date=first.date)
        members[0].add_advice(msg("{gap} ({detail})", gap=gap, detail=detail))


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
            result.append(Decision(charge, charge_amount(book, charge), held="upcoming", advice=(
                msg("ask for authorization before the next {service} on {date} ({payer} requires it; charge "
                    "{charge_id})", service=service.description, date=charge.date, payer=payer.name,
                    charge_id=charge.charge_id),)))
            break
    return result
